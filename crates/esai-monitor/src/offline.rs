//! The offline audit behind `esai monitor DIR`: the rules applied to a run's
//! metrics rows and to the `g_φ` of each of its checkpoints, so a rule added
//! later can be checked on old runs.
//!
//! Per-update rows hold maxima over the rollout (`iae_norm_max`,
//! `hebbian_norm_max`, `grad_norm_max`), so per-agent rules are checked on
//! the worst agent of each update; `iae_mean_max` is checked on the
//! rollout's mean. The mean-square Hebbian rule needs the online moments and
//! is not re-checked.

use crate::live::{Basis, GBoundOracle, LiveCertificate};
use crate::monitor::{certificate_findings, F32_SLACK};
use crate::rules::{Finding, Place, Rule};
use esai_core::mlp::Mlp;
use esai_core::training::{MonitorSection, Policy};
use serde::Serialize;

/// A checkpoint's `g_φ` to re-certify.
pub struct CheckpointWeights {
    /// Its name (`update-000010`, `final`).
    pub name: String,
    /// Updates done when it was written.
    pub update: usize,
    /// The network.
    pub g_phi: Mlp,
}

/// The audit's result.
#[derive(Debug, Clone, Serialize)]
pub struct Audit {
    /// Metrics rows checked.
    pub rows: usize,
    /// Checkpoints re-certified.
    pub checkpoints: usize,
    /// Every finding, in run order (rows, then checkpoints).
    pub findings: Vec<Finding>,
    /// What could not be checked, and why.
    pub not_checked: Vec<String>,
}

impl Audit {
    /// Whether a finding has the `halt` policy (the run would have halted).
    pub fn would_halt(&self) -> bool {
        self.findings.iter().any(|f| f.policy == Policy::Halt)
    }
}

fn num(row: &serde_json::Value, key: &str) -> Option<f64> {
    row.get(key).and_then(|v| v.as_f64())
}

/// Audits `rows` (the lines of `metrics.jsonl`) and `checkpoints` under `cfg`.
/// `esai` says whether the run trained an ESAI method (IAE fields expected).
pub fn audit(
    cfg: &MonitorSection,
    basis: &Basis,
    oracle: &dyn GBoundOracle,
    rows: &[serde_json::Value],
    checkpoints: &[CheckpointWeights],
    esai: bool,
) -> Audit {
    let on = |r: Rule| r.policy(cfg) != Policy::Ignore;
    let mut findings = Vec::new();
    let mut not_checked = Vec::new();
    let mut certs: Vec<(usize, LiveCertificate)> = Vec::new();
    let mut ckpt_findings = Vec::new();
    for c in checkpoints {
        let live = LiveCertificate::new(basis, oracle.bounds(&c.g_phi, basis.k));
        let place = Place {
            update: c.update,
            at: format!("checkpoint {}", c.name),
            env_steps: 0,
        };
        ckpt_findings.extend(certificate_findings(cfg, basis, &live, &place));
        certs.push((c.update, live));
    }
    certs.sort_by_key(|(u, _)| *u);
    let mut always = vec!["entropy", "policy_loss", "value_loss", "grad_norm_max"];
    if esai {
        always.extend([
            "iae_norm_max",
            "iae_norm_mean",
            "forecast_loss",
            "harm_loss",
        ]);
    }
    let mut unbounded_rows = 0usize;
    for (i, row) in rows.iter().enumerate() {
        let update = row
            .get("update")
            .and_then(|v| v.as_u64())
            .map_or(i + 1, |u| u as usize);
        let place = Place {
            update,
            at: "metrics row".into(),
            env_steps: row.get("env_steps").and_then(|v| v.as_u64()).unwrap_or(0) as usize,
        };
        let mut push = |rule: Rule, value: f64, limit: Option<f64>, message: String| {
            findings.push(place.finding(cfg, rule, None, value, limit, message));
        };
        if on(Rule::Nonfinite) {
            if let Some(key) = always.iter().find(|k| num(row, k).is_none()) {
                push(
                    Rule::Nonfinite,
                    f64::NAN,
                    None,
                    format!("{key} is missing or not finite"),
                );
            }
        }
        // The bound in force during update u: the live certificate recorded
        // in the row, else the latest checkpoint written before it.
        let recorded = row.get("monitor");
        let bound = |key: &str, pick: fn(&LiveCertificate) -> Option<f64>| {
            recorded
                .and_then(|m| m.get(key))
                .and_then(|v| v.as_f64())
                .or_else(|| {
                    certs
                        .iter()
                        .rev()
                        .find(|(u, _)| *u < update)
                        .and_then(|(_, l)| pick(l))
                })
        };
        let iae_max = num(row, "iae_norm_max");
        match (iae_max, bound("iae_bound", |l| l.iae_bound)) {
            (Some(v), Some(b)) if on(Rule::IaeBound) && v > b * (1.0 + F32_SLACK) => push(
                Rule::IaeBound,
                v,
                Some(b),
                format!("largest ‖E‖ of the update is {v} > B = {b:.6}"),
            ),
            (Some(_), None) => unbounded_rows += 1,
            _ => {}
        }
        if let (Some(v), Some(bh)) = (
            num(row, "hebbian_norm_max"),
            bound("hebbian_bound", |l| l.hebbian_bound),
        ) {
            if on(Rule::HebbianBound) && v > bh * (1.0 + F32_SLACK) {
                push(
                    Rule::HebbianBound,
                    v,
                    Some(bh),
                    format!("largest ‖H‖_F of the update is {v} > B_H = {bh:.6}"),
                );
            }
        }
        if on(Rule::IaeThreshold) {
            if let (Some(v), Some(max)) = (iae_max, cfg.iae_max) {
                if v > max {
                    push(
                        Rule::IaeThreshold,
                        v,
                        Some(max),
                        format!("largest ‖E‖ of the update is {v} > monitor.iae_max = {max}"),
                    );
                }
            }
            if let (Some(v), Some(max)) = (num(row, "iae_norm_mean"), cfg.iae_mean_max) {
                if v > max {
                    push(
                        Rule::IaeThreshold,
                        v,
                        Some(max),
                        format!("mean ‖E‖ of the update is {v} > monitor.iae_mean_max = {max}"),
                    );
                }
            }
        }
        if let Some(v) = num(row, "grad_norm_max") {
            if on(Rule::GradNorm) && v > cfg.grad_norm_max {
                push(
                    Rule::GradNorm,
                    v,
                    Some(cfg.grad_norm_max),
                    format!("pre-clip gradient norm {v} > monitor.grad_norm_max"),
                );
            }
        }
        if let Some(v) = num(row, "entropy") {
            if on(Rule::EntropyFloor)
                && place.env_steps < cfg.entropy_floor_until
                && v < cfg.entropy_floor
            {
                push(
                    Rule::EntropyFloor,
                    v,
                    Some(cfg.entropy_floor),
                    format!(
                        "entropy {v} < monitor.entropy_floor before {} steps",
                        cfg.entropy_floor_until
                    ),
                );
            }
        }
    }
    if unbounded_rows > 0 {
        not_checked.push(format!(
            "iae_bound: {unbounded_rows} row(s) have no live bound (no monitor record and no earlier checkpoint)"
        ));
    }
    if esai {
        not_checked.push(
            "hebbian_mean_square: needs the online moments (kept in checkpoints/*/monitor.json)"
                .into(),
        );
    }
    findings.extend(ckpt_findings);
    Audit {
        rows: rows.len(),
        checkpoints: checkpoints.len(),
        findings,
        not_checked,
    }
}
