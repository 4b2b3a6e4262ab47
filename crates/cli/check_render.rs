//! Renderings of an `esai check` report: the terminal table, JSON (schema
//! `esai.check/v1`, documented in `docs/schemas/check.schema.json`) and
//! JUnit XML (one `<testcase>` per spec and condition, as CI servers read it).

use esai_verify::certify::Verdict;
use esai_verify::expect::{verdict_name, Outcome};
use serde_json::json;
use std::fmt::Write as _;
use std::path::Path;

/// Schema identifier of the JSON report.
pub const SCHEMA: &str = "esai.check/v1";

/// What checking one spec gave.
pub struct SpecResult {
    /// The spec's path as given or found.
    pub spec: String,
    /// Where its expectation came from, in words.
    pub expectation: String,
    /// The certificate's verdict (None when the spec could not be certified).
    pub verdict: Option<Verdict>,
    /// Why the spec could not be certified (an invalid spec, a missing weights file).
    pub error: Option<String>,
    /// Every compared condition.
    pub outcomes: Vec<Outcome>,
    /// `(condition, why)` for conditions not compared (no saved certificate).
    pub skipped: Vec<(String, String)>,
    /// Wall time to load, certify and compare, in seconds.
    pub seconds: f64,
}

impl SpecResult {
    fn passed(&self) -> bool {
        self.error.is_none() && self.outcomes.iter().all(|o| o.holds)
    }
}

/// One expectation file written by `--bless`.
pub struct Blessed {
    /// The file (the spec itself, or its sidecar).
    pub target: String,
    /// `created`, `updated` or `unchanged`.
    pub action: &'static str,
    /// What changed, one item per line.
    pub changes: Vec<String>,
}

/// The whole report.
pub struct Report<'a> {
    /// One per spec, in the order checked.
    pub results: &'a [SpecResult],
    /// Files `--bless` wrote (empty without it).
    pub blessed: &'a [Blessed],
    /// The `--baseline` directory, if any.
    pub baseline: Option<&'a Path>,
    /// `--tolerance`.
    pub tolerance: f64,
}

/// Test counts, as JUnit reports them.
struct Counts {
    tests: usize,
    failures: usize,
    errors: usize,
    skipped: usize,
}

impl Report<'_> {
    /// True when every expectation holds and every spec was certified.
    pub fn passed(&self) -> bool {
        self.results.iter().all(SpecResult::passed)
    }

    fn counts(&self) -> Counts {
        let r = self.results;
        let failures = r
            .iter()
            .flat_map(|s| &s.outcomes)
            .filter(|o| !o.holds)
            .count();
        let errors = r.iter().filter(|s| s.error.is_some()).count();
        let skipped = r.iter().map(|s| s.skipped.len()).sum();
        let compared: usize = r.iter().map(|s| s.outcomes.len()).sum();
        Counts {
            tests: compared + errors + skipped,
            failures,
            errors,
            skipped,
        }
    }
}

/// The terminal report: a line per spec, then a table of every condition
/// that does not hold (expected against actual), then the totals.
pub fn human(r: &Report) -> String {
    let mut s = String::new();
    for b in r.blessed {
        let what = if b.changes.is_empty() {
            String::new()
        } else {
            format!(": {}", b.changes.join("; "))
        };
        let _ = writeln!(s, "bless {} {}{what}", b.action, b.target);
    }
    if !r.blessed.is_empty() {
        s.push('\n');
    }
    for x in r.results {
        let (word, detail) = match (&x.error, x.passed()) {
            (Some(_), _) => ("ERROR", "cannot certify".to_string()),
            (None, ok) => (
                if ok { "ok" } else { "FAIL" },
                format!(
                    "{}, {} condition{}, expectation from {}",
                    x.verdict.map_or("—", verdict_name),
                    x.outcomes.len(),
                    if x.outcomes.len() == 1 { "" } else { "s" },
                    x.expectation
                ),
            ),
        };
        let _ = writeln!(s, "{word:<6}{}  ({detail})", x.spec);
        if let Some(e) = &x.error {
            for line in e.lines() {
                let _ = writeln!(s, "        {line}");
            }
        }
    }
    let misses: Vec<(&str, &Outcome)> = r
        .results
        .iter()
        .flat_map(|x| {
            x.outcomes
                .iter()
                .filter(|o| !o.holds)
                .map(|o| (x.spec.as_str(), o))
        })
        .collect();
    if !misses.is_empty() {
        let w = misses
            .iter()
            .map(|(p, _)| p.chars().count())
            .max()
            .unwrap_or(4);
        let _ = writeln!(s, "\nwhat changed against the expectation:");
        let _ = writeln!(
            s,
            "  {:<w$}  {:<36} {:<26} actual",
            "spec", "condition", "expected"
        );
        for (spec, o) in misses {
            let _ = writeln!(
                s,
                "  {spec:<w$}  {:<36} {:<26} {}",
                o.condition, o.expected, o.actual
            );
        }
    }
    let c = r.counts();
    let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
    let _ = writeln!(
        s,
        "\n{}: {}, {}, {} failed, {} not certifiable, {} skipped",
        if r.passed() { "passed" } else { "FAILED" },
        plural(r.results.len(), "spec"),
        plural(c.tests - c.errors - c.skipped, "condition"),
        c.failures,
        c.errors,
        c.skipped
    );
    s
}

fn outcome_json(o: &Outcome) -> serde_json::Value {
    json!({
        "condition": o.condition,
        "status": if o.holds { "pass" } else { "fail" },
        "expected": o.expected,
        "actual": o.actual,
        "expected_value": o.expected_value,
        "actual_value": o.actual_value,
    })
}

/// The JSON report (schema [`SCHEMA`]).
pub fn json(r: &Report) -> serde_json::Value {
    let c = r.counts();
    let specs: Vec<_> = r
        .results
        .iter()
        .map(|x| {
            let mut conditions: Vec<_> = x.outcomes.iter().map(outcome_json).collect();
            conditions.extend(x.skipped.iter().map(|(name, why)| {
                json!({"condition": name, "status": "skipped", "expected": null,
                       "actual": null, "expected_value": null, "actual_value": null,
                       "reason": why})
            }));
            json!({
                "spec": x.spec,
                "expectation": x.expectation,
                "verdict": x.verdict.map(verdict_name),
                "error": x.error,
                "passed": x.passed(),
                "seconds": x.seconds,
                "conditions": conditions,
            })
        })
        .collect();
    let blessed: Vec<_> = r
        .blessed
        .iter()
        .map(|b| json!({"file": b.target, "action": b.action, "changes": b.changes}))
        .collect();
    json!({
        "schema": SCHEMA,
        "passed": r.passed(),
        "summary": {"specs": r.results.len(), "tests": c.tests, "failures": c.failures,
                    "errors": c.errors, "skipped": c.skipped},
        "baseline": r.baseline.map(|p| p.display().to_string()),
        "tolerance": r.baseline.map(|_| r.tolerance),
        "blessed": blessed,
        "specs": specs,
    })
}

/// `text` escaped for XML attribute values and text: `& < > " '`, and
/// control characters (not allowed in XML 1.0) replaced by U+FFFD.
fn xml_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' | '\t' | '\r' => out.push(ch),
            c if (c as u32) < 0x20 => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

/// One `<testcase>` per spec and condition (an uncertifiable spec is one
/// case with an `<error>`), in a single `<testsuite name="esai check">`:
/// the elements and attributes of the common JUnit schema (Jenkins'
/// junit-10.xsd, read by GitHub Actions reporters and GitLab).
pub fn junit(r: &Report) -> String {
    let c = r.counts();
    let total: f64 = r.results.iter().map(|x| x.seconds).sum();
    let mut s = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let counts = format!(
        "tests=\"{}\" failures=\"{}\" errors=\"{}\"",
        c.tests, c.failures, c.errors
    );
    // junit-10.xsd allows `skipped` on <testsuite> only.
    let _ = writeln!(
        s,
        "<testsuites name=\"esai check\" {counts} time=\"{total:.3}\">"
    );
    let _ = writeln!(
        s,
        "  <testsuite name=\"esai check\" {counts} skipped=\"{}\" time=\"{total:.3}\">",
        c.skipped
    );
    for x in r.results {
        let class = xml_escape(&x.spec);
        let case = |name: &str, time: f64| {
            format!(
                "    <testcase classname=\"{class}\" name=\"{}\" time=\"{time:.3}\"",
                xml_escape(name)
            )
        };
        if let Some(e) = &x.error {
            let _ = writeln!(
                s,
                "{}>\n      <error message=\"cannot certify the spec\" type=\"invalid-spec\">{}</error>\n    </testcase>",
                case("certify", x.seconds),
                xml_escape(e)
            );
        }
        for (i, o) in x.outcomes.iter().enumerate() {
            // The certify time is the first condition's; the others are comparisons.
            let time = if i == 0 { x.seconds } else { 0.0 };
            if o.holds {
                let _ = writeln!(s, "{}/>", case(&o.condition, time));
            } else {
                let msg = format!("expected {}, got {}", o.expected, o.actual);
                let _ = writeln!(
                    s,
                    "{}>\n      <failure message=\"{}\" type=\"expectation\">{}: {}</failure>\n    </testcase>",
                    case(&o.condition, time),
                    xml_escape(&msg),
                    xml_escape(&x.spec),
                    xml_escape(&msg)
                );
            }
        }
        for (name, why) in &x.skipped {
            let _ = writeln!(
                s,
                "{}>\n      <skipped message=\"{}\"/>\n    </testcase>",
                case(name, 0.0),
                xml_escape(why)
            );
        }
    }
    s.push_str("  </testsuite>\n</testsuites>\n");
    s
}
