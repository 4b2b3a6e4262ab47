//! Expectations over certificates: what `esai check` holds a spec's
//! certificate to, and how a certificate compares with one saved earlier.
//!
//! An expectation is an `[expect]` table, in the spec itself or in a sidecar
//! `NAME.expect.toml`:
//!
//! ```toml
//! [expect]
//! verdict = "certified"          # certified | violated | unknown | not-certified
//! max_iae_bound = 11.1           # B ≤ this
//! max_hebbian_bound = 0.56       # B_H ≤ this
//! [expect.min_margin]            # per check of the certificate: margin ≥ this
//! max_norm = 0.04
//! [expect.min_alpha_max]         # per condition: verified α_max ≥ this (inf: unbounded)
//! max_norm = 0.8
//! ```
//!
//! Everything here is pure: tables in, comparisons out. Reading files,
//! certifying and rendering belong to the CLI.
//!
//! ```
//! use esai_verify::expect::{observed::Observed, Expectation};
//! let table: toml::Table = toml::from_str("[expect]\nverdict = \"not-certified\"").unwrap();
//! let e = Expectation::from_table(&table).unwrap();
//! let seen = Observed::verdict_only(esai_verify::certify::Verdict::Unknown);
//! assert!(e.compare(&seen).iter().all(|o| o.holds));
//! ```

use crate::certify::{decimal_lower, decimal_upper, Verdict};
use esai_core::problem::Problem;
use std::fmt;

pub mod observed;
use observed::Observed;

/// The certificate's check names: the keys `min_margin` accepts.
pub const CHECK_NAMES: [&str; 5] = [
    "proposition1",
    "frobenius",
    "max_norm",
    "hebbian_deterministic",
    "hebbian_mean_square",
];

/// The conditions with a synthesised α_max: the keys `min_alpha_max` accepts.
pub const ALPHA_NAMES: [&str; 3] = ["max_norm", "frobenius", "proposition1"];

/// The keys of an `[expect]` table.
const EXPECT_KEYS: [&str; 5] = [
    "verdict",
    "min_margin",
    "max_iae_bound",
    "max_hebbian_bound",
    "min_alpha_max",
];

/// Significant digits kept by [`Expectation::bless`]: enough to catch a real
/// change, few enough that the file stays readable.
const BLESS_DIGITS: i32 = 3;

/// The verdict a spec is expected to get.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExpectedVerdict {
    /// Exactly this verdict.
    Is(Verdict),
    /// `violated` or `unknown`: what `tests/should_reject` asks, since an
    /// undecidable spec (a strict inequality met with equality) is not a
    /// certified one either.
    NotCertified,
}

impl ExpectedVerdict {
    /// Whether the verdict meets the expectation.
    pub fn admits(self, v: Verdict) -> bool {
        match self {
            Self::Is(w) => w == v,
            Self::NotCertified => v != Verdict::Certified,
        }
    }

    fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "certified" => Self::Is(Verdict::Certified),
            "violated" => Self::Is(Verdict::Violated),
            "unknown" => Self::Is(Verdict::Unknown),
            "not-certified" => Self::NotCertified,
            _ => return None,
        })
    }
}

impl fmt::Display for ExpectedVerdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Is(v) => f.write_str(verdict_name(*v)),
            Self::NotCertified => f.write_str("not-certified"),
        }
    }
}

/// `certified`, `violated` or `unknown`, as in the certificate's JSON.
pub fn verdict_name(v: Verdict) -> &'static str {
    match v {
        Verdict::Certified => "certified",
        Verdict::Violated => "violated",
        Verdict::Unknown => "unknown",
    }
}

/// Why an expectation table was refused: every problem found.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub struct ExpectError {
    /// All problems, each naming the field, the value and what is allowed.
    pub problems: Vec<Problem>,
}

impl fmt::Display for ExpectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.problems.len();
        write!(
            f,
            "invalid expectation ({n} problem{})",
            if n == 1 { "" } else { "s" }
        )?;
        for p in &self.problems {
            write!(f, "\n  - {p}")?;
        }
        Ok(())
    }
}

/// A checked expectation: a verdict and optional limits.
#[derive(Debug, Clone, PartialEq)]
pub struct Expectation {
    verdict: ExpectedVerdict,
    /// In [`CHECK_NAMES`] order.
    min_margin: Vec<(String, f64)>,
    max_iae_bound: Option<f64>,
    max_hebbian_bound: Option<f64>,
    /// In [`ALPHA_NAMES`] order; `+∞` asks for an unbounded α.
    min_alpha_max: Vec<(String, f64)>,
}

/// One compared condition: what was expected, what the certificate says.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// `verdict`, `min_margin.max_norm`, `baseline.margin.max_norm`, …
    pub condition: String,
    /// The expectation in words, e.g. `≥ 0.04` or `certified`.
    pub expected: String,
    /// What the certificate says, e.g. `0.0999` or `violated` (`absent`
    /// when it has no such number).
    pub actual: String,
    /// The expected number (margins, bounds, α, a baseline's margin).
    pub expected_value: Option<f64>,
    /// The certificate's number, when it has one.
    pub actual_value: Option<f64>,
    /// Whether the expectation holds.
    pub holds: bool,
}

fn number(v: &toml::Value) -> Option<f64> {
    match v {
        toml::Value::Float(x) => Some(*x),
        toml::Value::Integer(i) => Some(*i as f64),
        _ => None,
    }
}

/// Collects problems of one table, so all are reported at once.
struct Problems(Vec<Problem>);

impl Problems {
    fn push(&mut self, field: &str, value: impl fmt::Display, allowed: impl Into<String>) {
        self.0.push(Problem {
            field: field.into(),
            value: value.to_string(),
            allowed: allowed.into(),
        });
    }

    /// A number at `field` that `ok` accepts, or a problem naming `allowed`.
    fn number(
        &mut self,
        field: &str,
        v: &toml::Value,
        ok: fn(f64) -> bool,
        allowed: &str,
    ) -> Option<f64> {
        match number(v) {
            Some(x) if ok(x) => Some(x),
            _ => {
                self.push(field, v, allowed);
                None
            }
        }
    }

    /// A sub-table of names (in `names`) to numbers that `ok` accepts,
    /// returned in `names` order.
    fn named_numbers(
        &mut self,
        field: &str,
        v: &toml::Value,
        names: &[&str],
        ok: fn(f64) -> bool,
        allowed: &str,
    ) -> Vec<(String, f64)> {
        let Some(t) = v.as_table() else {
            self.push(field, v, format!("a table of {}", names.join(", ")));
            return Vec::new();
        };
        for k in t.keys().filter(|k| !names.contains(&k.as_str())) {
            self.push(
                &format!("{field}.{k}"),
                "",
                format!("unknown name; allowed one of {}", names.join(", ")),
            );
        }
        names
            .iter()
            .filter_map(|n| {
                let x = t.get(*n)?;
                Some((
                    n.to_string(),
                    self.number(&format!("{field}.{n}"), x, ok, allowed)?,
                ))
            })
            .collect()
    }
}

impl Expectation {
    /// Checks the `expect` table of `doc` (a spec or a sidecar read as
    /// TOML), reporting every problem at once. Other keys of `doc` are not
    /// looked at: in a spec they are the spec's.
    pub fn from_table(doc: &toml::Table) -> Result<Self, ExpectError> {
        let mut p = Problems(Vec::new());
        let Some(item) = doc.get("expect") else {
            p.push(
                "expect",
                "",
                "missing; allowed a table with at least `verdict`",
            );
            return Err(ExpectError { problems: p.0 });
        };
        let Some(t) = item.as_table() else {
            p.push("expect", item, "a table ([expect])");
            return Err(ExpectError { problems: p.0 });
        };
        for k in t.keys().filter(|k| !EXPECT_KEYS.contains(&k.as_str())) {
            p.push(
                &format!("expect.{k}"),
                "",
                format!("unknown key; allowed {}", EXPECT_KEYS.join(", ")),
            );
        }
        let verdicts = "one of \"certified\", \"violated\", \"unknown\", \"not-certified\"";
        let verdict = match t.get("verdict") {
            None => {
                p.push("expect.verdict", "", format!("missing; allowed {verdicts}"));
                None
            }
            Some(v) => {
                let parsed = v.as_str().and_then(ExpectedVerdict::parse);
                if parsed.is_none() {
                    p.push("expect.verdict", v, verdicts);
                }
                parsed
            }
        };
        let min_margin = t.get("min_margin").map_or(Vec::new(), |v| {
            p.named_numbers(
                "expect.min_margin",
                v,
                &CHECK_NAMES,
                f64::is_finite,
                "a finite number (a margin; negative when the check fails)",
            )
        });
        let bound = |p: &mut Problems, key: &str| {
            t.get(key).and_then(|v| {
                p.number(
                    &format!("expect.{key}"),
                    v,
                    |x| x.is_finite() && x > 0.0,
                    "a finite number > 0 (an upper limit on the bound)",
                )
            })
        };
        let max_iae_bound = bound(&mut p, "max_iae_bound");
        let max_hebbian_bound = bound(&mut p, "max_hebbian_bound");
        let min_alpha_max = t.get("min_alpha_max").map_or(Vec::new(), |v| {
            p.named_numbers(
                "expect.min_alpha_max",
                v,
                &ALPHA_NAMES,
                |x| x >= 0.0,
                "a number ≥ 0, or inf for an unbounded α",
            )
        });
        match verdict {
            Some(verdict) if p.0.is_empty() => Ok(Self {
                verdict,
                min_margin,
                max_iae_bound,
                max_hebbian_bound,
                min_alpha_max,
            }),
            _ => Err(ExpectError { problems: p.0 }),
        }
    }

    /// Only a verdict, as a folder name implies (`tests/should_certify`).
    pub fn verdict_only(verdict: ExpectedVerdict) -> Self {
        Self {
            verdict,
            min_margin: Vec::new(),
            max_iae_bound: None,
            max_hebbian_bound: None,
            min_alpha_max: Vec::new(),
        }
    }

    /// The expected verdict.
    pub fn verdict(&self) -> ExpectedVerdict {
        self.verdict
    }

    /// Compares with a certificate: one [`Outcome`] per expected item,
    /// verdict first.
    pub fn compare(&self, seen: &Observed) -> Vec<Outcome> {
        let mut out = vec![Outcome {
            condition: "verdict".into(),
            expected: self.verdict.to_string(),
            actual: verdict_name(seen.verdict).into(),
            expected_value: None,
            actual_value: None,
            holds: self.verdict.admits(seen.verdict),
        }];
        for (name, min) in &self.min_margin {
            let got = lookup(&seen.margins, name);
            out.push(at_least(format!("min_margin.{name}"), *min, got));
        }
        if let Some(max) = self.max_iae_bound {
            out.push(at_most("max_iae_bound".into(), max, seen.iae_bound));
        }
        if let Some(max) = self.max_hebbian_bound {
            out.push(at_most("max_hebbian_bound".into(), max, seen.hebbian_bound));
        }
        for (name, min) in &self.min_alpha_max {
            let got = lookup(&seen.alpha_max, name);
            out.push(at_least(format!("min_alpha_max.{name}"), *min, got));
        }
        out
    }

    /// The expectation a certificate meets as it stands, as a snapshot tool
    /// records one: its exact verdict, every margin and α_max rounded down
    /// and every bound rounded up to three significant digits, so the
    /// certificate it came from always meets it.
    pub fn bless(seen: &Observed) -> Self {
        let down = |v: &[(String, Option<f64>)]| {
            v.iter()
                .filter_map(|(n, x)| Some((n.clone(), round_sig((*x)?, false))))
                .collect()
        };
        Self {
            verdict: ExpectedVerdict::Is(seen.verdict),
            min_margin: down(&seen.margins),
            max_iae_bound: seen.iae_bound.map(|b| round_sig(b, true)),
            max_hebbian_bound: seen.hebbian_bound.map(|b| round_sig(b, true)),
            min_alpha_max: down(&seen.alpha_max),
        }
    }

    /// Every item as `(field path, value as written)`, in file order.
    pub fn entries(&self) -> Vec<(String, String)> {
        let mut e = vec![("verdict".to_string(), format!("\"{}\"", self.verdict))];
        let num = |x: f64| toml::Value::Float(x).to_string();
        e.extend(self.max_iae_bound.map(|b| ("max_iae_bound".into(), num(b))));
        e.extend(
            self.max_hebbian_bound
                .map(|b| ("max_hebbian_bound".into(), num(b))),
        );
        for (n, x) in &self.min_margin {
            e.push((format!("min_margin.{n}"), num(*x)));
        }
        for (n, x) in &self.min_alpha_max {
            e.push((format!("min_alpha_max.{n}"), num(*x)));
        }
        e
    }

    /// The `[expect]` table as TOML text (a sidecar's whole content).
    pub fn to_toml(&self) -> String {
        let mut top = String::from("[expect]\n");
        let mut tables: Vec<(String, Vec<String>)> = Vec::new();
        for (field, value) in self.entries() {
            match field.split_once('.') {
                None => top.push_str(&format!("{field} = {value}\n")),
                Some((table, key)) => {
                    let line = format!("{key} = {value}");
                    match tables.iter_mut().find(|(t, _)| t == table) {
                        Some((_, lines)) => lines.push(line),
                        None => tables.push((table.to_string(), vec![line])),
                    }
                }
            }
        }
        for (table, lines) in tables {
            top.push_str(&format!("\n[expect.{table}]\n{}\n", lines.join("\n")));
        }
        top
    }

    /// What changes from `old` (absent: a new expectation) to `self`, one
    /// line per item, e.g. `min_margin.max_norm 0.04 → 0.0999`.
    pub fn changes_from(&self, old: Option<&Expectation>) -> Vec<String> {
        let before = old.map(|o| o.entries()).unwrap_or_default();
        let after = self.entries();
        let mut lines = Vec::new();
        for (f, v) in &after {
            match before.iter().find(|(g, _)| g == f) {
                Some((_, w)) if w == v => {}
                Some((_, w)) => lines.push(format!("{f} {w} → {v}")),
                None => lines.push(format!("{f} = {v} (new)")),
            }
        }
        for (f, w) in &before {
            if !after.iter().any(|(g, _)| g == f) {
                lines.push(format!("{f} = {w} (removed)"));
            }
        }
        lines
    }
}

pub(crate) fn lookup(v: &[(String, Option<f64>)], name: &str) -> Option<f64> {
    v.iter().find(|(n, _)| n == name).and_then(|(_, x)| *x)
}

/// Prints a number for a table cell: short, and `absent` when missing.
pub(crate) fn show(x: Option<f64>) -> String {
    match x {
        Some(x) if x.is_infinite() && x > 0.0 => "unbounded".into(),
        Some(x) => format!("{x:.9e}")
            .parse::<f64>()
            .map_or(x.to_string(), |y| y.to_string()),
        None => "absent".into(),
    }
}

fn at_least(condition: String, min: f64, got: Option<f64>) -> Outcome {
    Outcome {
        condition,
        expected: format!("≥ {}", show(Some(min))),
        actual: show(got),
        expected_value: Some(min),
        actual_value: got,
        holds: got.is_some_and(|g| g >= min),
    }
}

fn at_most(condition: String, max: f64, got: Option<f64>) -> Outcome {
    Outcome {
        condition,
        expected: format!("≤ {}", show(Some(max))),
        actual: show(got),
        expected_value: Some(max),
        actual_value: got,
        holds: got.is_some_and(|g| g <= max),
    }
}

/// `x` to [`BLESS_DIGITS`] significant digits, rounded up if `upward`, else
/// down, via the outward decimal printers: the decimal is on the right side
/// of `x`, and reading it back rounds to nearest, which is monotone, so the
/// returned float is on the right side too. Infinities stay as they are.
fn round_sig(x: f64, upward: bool) -> f64 {
    if !x.is_finite() || x == 0.0 {
        return x;
    }
    let exponent = x.abs().log10().floor() as i32;
    let places = (BLESS_DIGITS - 1 - exponent).max(0) as usize;
    let text = if upward {
        decimal_upper(x, places)
    } else {
        decimal_lower(x, places)
    };
    // The printers write plain decimals, which always parse.
    text.parse().unwrap_or(x)
}

#[cfg(test)]
mod tests;
