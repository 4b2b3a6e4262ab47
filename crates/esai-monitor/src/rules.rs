//! Rules, findings, and the checks shared by the online monitor and the
//! offline audit (`esai monitor DIR`), so both judge a number the same way.

use esai_core::training::{MonitorSection, Policy};
use serde::{Deserialize, Serialize};

/// A rule of the monitor (`[monitor.policy]` names them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Rule {
    /// `‖E_{i,t}‖ ≤ B` of the live certificate.
    IaeBound,
    /// The user thresholds `iae_max`, `iae_mean_max`.
    IaeThreshold,
    /// Some sufficient condition holds for the current `g_φ`.
    Contraction,
    /// Sound `L_g` within `lipschitz_target · (1 + tolerance)`.
    LipschitzDrift,
    /// The spec's declared `‖g_φ(0)‖` still holds.
    DeclaredUpdate,
    /// `‖H_{i,t}‖_F ≤ B_H`.
    HebbianBound,
    /// Proposition 2's moment condition (statistical).
    HebbianMeanSquare,
    /// NaN or ±∞ anywhere.
    Nonfinite,
    /// Pre-clip gradient norm ≤ `grad_norm_max`.
    GradNorm,
    /// Entropy ≥ floor before the given step count.
    EntropyFloor,
    /// SIGINT or SIGTERM: a clean stop, not a violation.
    Interrupted,
}

impl Rule {
    /// Every configurable rule, in report order.
    pub const ALL: [Rule; 10] = [
        Rule::IaeBound,
        Rule::IaeThreshold,
        Rule::Contraction,
        Rule::LipschitzDrift,
        Rule::DeclaredUpdate,
        Rule::HebbianBound,
        Rule::HebbianMeanSquare,
        Rule::Nonfinite,
        Rule::GradNorm,
        Rule::EntropyFloor,
    ];

    /// The name used in specs and reports.
    pub fn name(self) -> &'static str {
        match self {
            Rule::IaeBound => "iae_bound",
            Rule::IaeThreshold => "iae_threshold",
            Rule::Contraction => "contraction",
            Rule::LipschitzDrift => "lipschitz_drift",
            Rule::DeclaredUpdate => "declared_update",
            Rule::HebbianBound => "hebbian_bound",
            Rule::HebbianMeanSquare => "hebbian_mean_square",
            Rule::Nonfinite => "nonfinite",
            Rule::GradNorm => "grad_norm",
            Rule::EntropyFloor => "entropy_floor",
            Rule::Interrupted => "interrupted",
        }
    }

    /// The configured policy (an interruption always halts).
    pub fn policy(self, cfg: &MonitorSection) -> Policy {
        let p = &cfg.policy;
        match self {
            Rule::IaeBound => p.iae_bound,
            Rule::IaeThreshold => p.iae_threshold,
            Rule::Contraction => p.contraction,
            Rule::LipschitzDrift => p.lipschitz_drift,
            Rule::DeclaredUpdate => p.declared_update,
            Rule::HebbianBound => p.hebbian_bound,
            Rule::HebbianMeanSquare => p.hebbian_mean_square,
            Rule::Nonfinite => p.nonfinite,
            Rule::GradNorm => p.grad_norm,
            Rule::EntropyFloor => p.entropy_floor,
            Rule::Interrupted => Policy::Halt,
        }
    }
}

/// One broken rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// The rule.
    pub rule: Rule,
    /// What the monitor did (`halt` or `warn`).
    pub policy: Policy,
    /// The update in which it happened (0: before training).
    pub update: usize,
    /// Where in the update, in words (`rollout step 17`, `gradient step 3`,
    /// `end of update`, `before training`, `checkpoint update-000010`).
    pub at: String,
    /// Environment steps at that point.
    pub env_steps: usize,
    /// The agent (flat index `copy × agents + agent`), for per-agent rules.
    pub agent: Option<usize>,
    /// The observed value (NaN is written as null).
    pub value: Option<f64>,
    /// The limit it broke.
    pub limit: Option<f64>,
    /// True for statistical rules (estimates, not proofs).
    pub statistical: bool,
    /// In words, with what to do.
    pub message: String,
}

/// Where a check happens, for findings.
#[derive(Debug, Clone)]
pub struct Place {
    /// Update (0: before training).
    pub update: usize,
    /// In words.
    pub at: String,
    /// Environment steps.
    pub env_steps: usize,
}

impl Place {
    /// A finding of `rule` here.
    #[allow(clippy::too_many_arguments)]
    pub fn finding(
        &self,
        cfg: &MonitorSection,
        rule: Rule,
        agent: Option<usize>,
        value: f64,
        limit: Option<f64>,
        message: String,
    ) -> Finding {
        Finding {
            rule,
            policy: rule.policy(cfg),
            update: self.update,
            at: self.at.clone(),
            env_steps: self.env_steps,
            agent,
            value: Some(value),
            limit,
            statistical: rule == Rule::HebbianMeanSquare,
            message,
        }
    }
}

/// The largest entry and its index, NaN first: a NaN anywhere is reported
/// as the worst value.
pub fn worst(values: &[f32]) -> Option<(usize, f32)> {
    let mut best: Option<(usize, f32)> = None;
    for (i, &v) in values.iter().enumerate() {
        if v.is_nan() {
            return Some((i, v));
        }
        if best.is_none_or(|(_, b)| v > b) {
            best = Some((i, v));
        }
    }
    best
}

/// `value ≤ limit`, false for NaN: a rule holds only on a number that
/// provably meets it.
pub fn within(value: f64, limit: f64) -> bool {
    value <= limit
}

/// Per-agent norms against a bound: the worst agent if over (or not finite).
pub fn over(values: &[f32], limit: f64) -> Option<(usize, f32)> {
    worst(values).filter(|&(_, v)| !within(v as f64, limit))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nan_is_the_worst_value_and_always_over() {
        assert_eq!(worst(&[1.0, 3.0, 2.0]), Some((1, 3.0)));
        let (i, v) = worst(&[1.0, f32::NAN, 9.0]).expect("non-empty");
        assert!(i == 1 && v.is_nan());
        assert!(over(&[1.0, f32::NAN], 100.0).is_some());
        assert!(over(&[1.0, f32::INFINITY], 100.0).is_some());
        assert_eq!(over(&[1.0, 2.0], 2.0), None);
        assert_eq!(over(&[], 2.0), None);
    }

    #[test]
    fn rule_names_match_the_spec_keys() {
        // Every configurable rule's name is a key of [monitor.policy].
        let keys = serde_json::to_value(esai_core::training::MonitorPolicies::default())
            .expect("serialisable");
        for r in Rule::ALL {
            assert!(keys.get(r.name()).is_some(), "{}", r.name());
        }
        assert_eq!(keys.as_object().map(|o| o.len()), Some(Rule::ALL.len()));
    }
}
