//! What a certificate says that `esai check` looks at, from a fresh
//! certificate or from its saved JSON, and the comparison of two of them
//! across commits (`esai check --baseline`).

use super::{lookup, show, verdict_name, Outcome};
use crate::certify::{Certificate, Verdict, SCHEMA};
use serde::Deserialize;

/// What a certificate says that expectations and baselines look at. Built
/// from a fresh [`Certificate`], or read back from its JSON (schema
/// `esai.certificate/v1`, as `esai certify --json` prints it).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(try_from = "RawCertificate")]
pub struct Observed {
    /// The verdict.
    pub verdict: Verdict,
    /// `(check name, margin)` in the certificate's order.
    pub margins: Vec<(String, Option<f64>)>,
    /// B.
    pub iae_bound: Option<f64>,
    /// B_H.
    pub hebbian_bound: Option<f64>,
    /// `(condition, verified α_max)` for [`super::ALPHA_NAMES`]; `+∞` when unbounded.
    pub alpha_max: Vec<(String, Option<f64>)>,
}

impl Observed {
    /// The parts of `c` that expectations look at.
    pub fn from_certificate(c: &Certificate) -> Self {
        let alpha_max = c.alpha_max.as_ref().map_or(Vec::new(), |a| {
            let pick = |s: &Option<crate::synth::AlphaSup>| {
                s.as_ref().and_then(|s| {
                    if s.unbounded {
                        Some(f64::INFINITY)
                    } else {
                        s.verified
                    }
                })
            };
            vec![
                ("max_norm".into(), pick(&a.max_norm)),
                ("frobenius".into(), pick(&a.frobenius)),
                ("proposition1".into(), pick(&a.proposition1)),
            ]
        });
        Self {
            verdict: c.verdict,
            margins: c
                .checks
                .iter()
                .map(|k| (k.name.clone(), k.margin))
                .collect(),
            iae_bound: c.bounds.iae_norm,
            hebbian_bound: c.bounds.hebbian_norm,
            alpha_max,
        }
    }

    /// A certificate known only by its verdict (examples and tests).
    pub fn verdict_only(verdict: Verdict) -> Self {
        Self {
            verdict,
            margins: Vec::new(),
            iae_bound: None,
            hebbian_bound: None,
            alpha_max: Vec::new(),
        }
    }

    /// Compares with a certificate saved earlier: the verdict must not get
    /// worse (certified > unknown > violated) and no margin the old one had
    /// may fall by more than `tolerance` (absolute) or disappear.
    pub fn regressions_from(&self, old: &Observed, tolerance: f64) -> Vec<Outcome> {
        let rank = |v: Verdict| match v {
            Verdict::Certified => 2,
            Verdict::Unknown => 1,
            Verdict::Violated => 0,
        };
        let mut out = vec![Outcome {
            condition: "baseline.verdict".into(),
            expected: format!("{} or better", verdict_name(old.verdict)),
            actual: verdict_name(self.verdict).into(),
            expected_value: None,
            actual_value: None,
            holds: rank(self.verdict) >= rank(old.verdict),
        }];
        for (name, was) in &old.margins {
            let Some(was) = *was else { continue };
            let now = lookup(&self.margins, name);
            out.push(Outcome {
                condition: format!("baseline.margin.{name}"),
                expected: format!("≥ {} − {tolerance:e}", show(Some(was))),
                actual: show(now),
                expected_value: Some(was),
                actual_value: now,
                holds: now.is_some_and(|n| n >= was - tolerance),
            });
        }
        out
    }
}

#[derive(Deserialize)]
struct RawCertificate {
    schema: String,
    verdict: Verdict,
    checks: Vec<RawCheck>,
    bounds: RawBounds,
    alpha_max: Option<RawAlphaMax>,
}

#[derive(Deserialize)]
struct RawCheck {
    name: String,
    margin: Option<f64>,
}

#[derive(Deserialize)]
struct RawBounds {
    iae_norm: Option<f64>,
    hebbian_norm: Option<f64>,
}

#[derive(Deserialize)]
struct RawAlphaMax {
    max_norm: Option<RawAlpha>,
    frobenius: Option<RawAlpha>,
    proposition1: Option<RawAlpha>,
}

#[derive(Deserialize)]
struct RawAlpha {
    verified: Option<f64>,
    unbounded: bool,
}

impl TryFrom<RawCertificate> for Observed {
    type Error = String;

    fn try_from(r: RawCertificate) -> Result<Self, String> {
        if r.schema != SCHEMA {
            return Err(format!(
                "schema = {:?}: allowed {SCHEMA:?} (a certificate from `esai certify --json`)",
                r.schema
            ));
        }
        let pick = |a: Option<RawAlpha>| {
            a.and_then(|a| {
                if a.unbounded {
                    Some(f64::INFINITY)
                } else {
                    a.verified
                }
            })
        };
        let alpha_max = r.alpha_max.map_or(Vec::new(), |a| {
            vec![
                ("max_norm".into(), pick(a.max_norm)),
                ("frobenius".into(), pick(a.frobenius)),
                ("proposition1".into(), pick(a.proposition1)),
            ]
        });
        Ok(Self {
            verdict: r.verdict,
            margins: r.checks.into_iter().map(|c| (c.name, c.margin)).collect(),
            iae_bound: r.bounds.iae_norm,
            hebbian_bound: r.bounds.hebbian_norm,
            alpha_max,
        })
    }
}
