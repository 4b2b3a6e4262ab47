//! The training sections of a spec: `[env]`, `[ppo]`, `[esai]`, `[train]`.
//!
//! One spec file both certifies and trains: `esai train` reads the shared
//! `[dynamics]` (γ_E, α), `[update]` (the Lipschitz target L_g of g_φ) and
//! `[hebbian]` (η_H, δ_H) sections too. Every field here has a documented
//! default (the reference configuration of spec §6 and paper 001's Table 2),
//! and every value is checked, with all problems reported at once.

use crate::spec::Problem;
use serde::{Deserialize, Serialize};

/// `[env]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EnvSection {
    /// Environment name; `"moral-temptation"` is the one available. By default it.
    pub name: String,
    /// Environment copies stepped together. By default 16.
    pub copies: usize,
}

impl Default for EnvSection {
    fn default() -> Self {
        Self {
            name: "moral-temptation".into(),
            copies: 16,
        }
    }
}

/// `[ppo]`: the reference sizes (rollout 16 × 128 = 2048, 10 epochs × 128).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PpoSection {
    /// Steps per copy per rollout. By default 128.
    pub rollout_steps: usize,
    /// Epochs per rollout. By default 10.
    pub epochs: usize,
    /// Minibatch size. By default 128.
    pub minibatch: usize,
    /// Adam learning rate. By default 3e-4.
    pub lr: f64,
    /// Clip ε. By default 0.2.
    pub clip: f32,
    /// Discount γ. By default 0.99.
    pub discount: f32,
    /// GAE λ. By default 0.95.
    pub gae_lambda: f32,
    /// Entropy coefficient at the start. By default 0.02.
    pub entropy_start: f32,
    /// Entropy coefficient at the end. By default 0.005.
    pub entropy_end: f32,
    /// Value-loss weight. By default 0.5.
    pub value_coef: f32,
    /// Gradient-norm clip. By default 1.0.
    pub grad_clip: f32,
    /// Hidden width of policy and value networks. By default 128.
    pub hidden: usize,
}

impl Default for PpoSection {
    fn default() -> Self {
        Self {
            rollout_steps: 128,
            epochs: 10,
            minibatch: 128,
            lr: 3e-4,
            clip: 0.2,
            discount: 0.99,
            gae_lambda: 0.95,
            entropy_start: 0.02,
            entropy_end: 0.005,
            value_coef: 0.5,
            grad_clip: 1.0,
            hidden: 128,
        }
    }
}

/// Training methods: ESAI, its ablations and the baselines.
pub const METHODS: [&str; 8] = [
    "esai",
    "ppo",
    "reward-shaping",
    "lagrangian",
    "esai-no-regret",
    "esai-no-attention",
    "esai-no-hebbian",
    "esai-no-diffusion",
];

/// `[esai]`: the method and its parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EsaiSection {
    /// One of [`METHODS`]. By default `"esai"`.
    pub method: String,
    /// `λ_reg` (ESAI) or the harm weight (reward shaping). By default 0.1.
    pub lambda: f32,
    /// IAE dimension k. By default 32.
    pub k: usize,
    /// λ warm-up in environment steps. By default 20 000.
    pub warmup_steps: usize,
    /// Neighbour weight κ. By default 0.5.
    pub kappa: f32,
    /// Softmin temperature τ₀. By default 1.0.
    pub tau0: f32,
    /// Softmin temperature floor. By default 0.01.
    pub tau_min: f32,
    /// Anneal time-scale T_τ (environment steps). By default 100 000.
    pub tau_steps: f32,
    /// Forecast EMA rate. By default 0.995.
    pub ema: f32,
    /// Hebbian read dimension m. By default 8.
    pub read_dim: usize,
    /// Hidden width of g_φ and h_ψ. By default 64.
    pub hidden: usize,
    /// Lagrangian: allowed harm per episode. By default 0.
    pub cost_limit: f32,
    /// Lagrangian: dual step size. By default 0.05.
    pub dual_lr: f32,
}

impl Default for EsaiSection {
    fn default() -> Self {
        Self {
            method: "esai".into(),
            lambda: 0.1,
            k: 32,
            warmup_steps: 20_000,
            kappa: 0.5,
            tau0: 1.0,
            tau_min: 0.01,
            tau_steps: 100_000.0,
            ema: 0.995,
            read_dim: 8,
            hidden: 64,
            cost_limit: 0.0,
            dual_lr: 0.05,
        }
    }
}

/// `[train]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TrainSection {
    /// Environment steps to train for (rounded up to whole rollouts). By default 200 000.
    pub steps: usize,
    /// Seed of weights, sampling and environments. By default 0.
    pub seed: u64,
    /// Write a checkpoint every this many updates (0: only the final one). By default 10.
    pub checkpoint_every: usize,
}

impl Default for TrainSection {
    fn default() -> Self {
        Self {
            steps: 200_000,
            seed: 0,
            checkpoint_every: 10,
        }
    }
}

/// All training sections, checked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Training {
    /// `[env]`.
    pub env: EnvSection,
    /// `[ppo]`.
    pub ppo: PpoSection,
    /// `[esai]`.
    pub esai: EsaiSection,
    /// `[train]`.
    pub train: TrainSection,
}

impl Training {
    /// Every problem with the values, each naming field, value and what is allowed.
    pub fn problems(&self) -> Vec<Problem> {
        let mut out = Vec::new();
        let mut bad = |field: &str, value: String, allowed: &str| {
            out.push(Problem {
                field: field.into(),
                value,
                allowed: allowed.into(),
            })
        };
        if self.env.name != "moral-temptation" {
            bad(
                "env.name",
                format!("{:?}", self.env.name),
                "\"moral-temptation\"",
            );
        }
        for (field, v) in [
            ("env.copies", self.env.copies),
            ("ppo.rollout_steps", self.ppo.rollout_steps),
            ("ppo.epochs", self.ppo.epochs),
            ("ppo.minibatch", self.ppo.minibatch),
            ("ppo.hidden", self.ppo.hidden),
            ("esai.k", self.esai.k),
            ("esai.read_dim", self.esai.read_dim),
            ("esai.hidden", self.esai.hidden),
            ("train.steps", self.train.steps),
        ] {
            if v == 0 {
                bad(field, "0".into(), "an integer ≥ 1");
            }
        }
        let rollout = self.env.copies * self.ppo.rollout_steps;
        if self.ppo.minibatch > rollout && rollout > 0 {
            bad(
                "ppo.minibatch",
                self.ppo.minibatch.to_string(),
                "at most env.copies × ppo.rollout_steps, or no gradient step is ever taken",
            );
        }
        if !(self.ppo.lr.is_finite() && self.ppo.lr > 0.0) {
            bad("ppo.lr", self.ppo.lr.to_string(), "a finite number > 0");
        }
        for (field, v) in [
            ("ppo.clip", self.ppo.clip),
            ("ppo.discount", self.ppo.discount),
            ("ppo.gae_lambda", self.ppo.gae_lambda),
            ("esai.ema", self.esai.ema),
        ] {
            if !(v.is_finite() && v > 0.0 && v <= 1.0) {
                bad(field, v.to_string(), "a number in (0, 1]");
            }
        }
        for (field, v) in [
            ("ppo.entropy_start", self.ppo.entropy_start),
            ("ppo.entropy_end", self.ppo.entropy_end),
            ("ppo.value_coef", self.ppo.value_coef),
            ("esai.lambda", self.esai.lambda),
            ("esai.kappa", self.esai.kappa),
            ("esai.cost_limit", self.esai.cost_limit),
            ("esai.dual_lr", self.esai.dual_lr),
        ] {
            if !(v.is_finite() && v >= 0.0) {
                bad(field, v.to_string(), "a finite number ≥ 0");
            }
        }
        for (field, v) in [
            ("ppo.grad_clip", self.ppo.grad_clip),
            ("esai.tau0", self.esai.tau0),
            ("esai.tau_min", self.esai.tau_min),
            ("esai.tau_steps", self.esai.tau_steps),
        ] {
            if !(v.is_finite() && v > 0.0) {
                bad(field, v.to_string(), "a finite number > 0");
            }
        }
        if !METHODS.contains(&self.esai.method.as_str()) {
            bad(
                "esai.method",
                format!("{:?}", self.esai.method),
                &format!("one of {}", METHODS.join(", ")),
            );
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_bad_values_are_named() {
        assert!(Training::default().problems().is_empty());
        let mut t = Training::default();
        t.ppo.minibatch = 4096;
        t.esai.method = "cpo".into();
        t.ppo.clip = 0.0;
        let p = t.problems();
        let fields: Vec<&str> = p.iter().map(|x| x.field.as_str()).collect();
        assert_eq!(fields, ["ppo.minibatch", "ppo.clip", "esai.method"]);
    }
}
