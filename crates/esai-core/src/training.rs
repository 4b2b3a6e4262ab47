//! The training sections of a spec: `[env]`, `[ppo]`, `[esai]`, `[train]`,
//! `[monitor]`.
//!
//! One spec file both certifies and trains: `esai train` reads the shared
//! `[dynamics]` (γ_E, α), `[update]` (the Lipschitz target L_g of g_φ) and
//! `[hebbian]` (η_H, δ_H) sections too. Every field here has a documented
//! default (the reference configuration of spec §6 and paper 001's Table 2),
//! and every value is checked, with all problems reported at once.

use crate::problem::Problem;
use serde::{Deserialize, Serialize};

/// Environment names `[env] name` accepts.
pub const ENVS: [&str; 2] = ["moral-temptation", "graph-dilemma"];

/// `[env]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EnvSection {
    /// One of [`ENVS`]. By default `"moral-temptation"`.
    pub name: String,
    /// Environment copies stepped together. By default 16.
    pub copies: usize,
    /// graph-dilemma: groups of agents. By default 2.
    pub groups: usize,
    /// graph-dilemma: identity feature dimension. By default 4.
    pub feature_dim: usize,
    /// graph-dilemma: feature noise around the group direction. By default 0.3.
    pub feature_noise: f64,
    /// graph-dilemma: kin weight ω (what favouritism pays). By default 1.0.
    pub kin_weight: f32,
    /// graph-dilemma: steps per episode. By default 50.
    pub episode_len: u32,
    /// graph-dilemma: re-draw every agent's identity noise at the start of
    /// each episode (groups and group directions stay), so only the group
    /// part of an identity is stable. By default false.
    pub redraw_identities: bool,
}

impl Default for EnvSection {
    fn default() -> Self {
        Self {
            name: "moral-temptation".into(),
            copies: 16,
            groups: 2,
            feature_dim: 4,
            feature_noise: 0.3,
            kin_weight: 1.0,
            episode_len: 50,
            redraw_identities: false,
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
    /// Weight of the similarity-suppression regulariser
    /// `λ_bias ‖Ã ⊙ S‖_F²` (Eq. 10, 13); used when `graph.similarity = true`.
    /// By default 0.01 (paper 001, Table 2).
    pub lambda_bias: f32,
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
            lambda_bias: 0.01,
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

/// What the runtime monitor does when a rule is broken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Policy {
    /// Stop training, keep the last good state, write an incident report.
    Halt,
    /// Record the finding (metrics, incident list at the end) and go on.
    Warn,
    /// Do not evaluate the rule.
    Ignore,
}

/// `[monitor.policy]`: one [`Policy`] per rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MonitorPolicies {
    /// Per-agent `‖E_{i,t}‖ ≤ B`, B from the live certificate. By default halt.
    pub iae_bound: Policy,
    /// The user thresholds `iae_max` and `iae_mean_max`. By default halt.
    pub iae_threshold: Policy,
    /// Live contraction: some sufficient condition (Proposition 1,
    /// Frobenius, max-norm) holds for the current `g_φ`. By default halt.
    pub contraction: Policy,
    /// Spectral-normalisation drift: the sound `L_g` of the current `g_φ`
    /// exceeds `update.lipschitz` by more than `lipschitz_tolerance`. By default halt.
    pub lipschitz_drift: Policy,
    /// The spec's declared `update.zero_output_norm` no longer holds for the
    /// trained `g_φ`. By default warn (the live bound is enforced instead).
    pub declared_update: Policy,
    /// Per-agent `‖H_{i,t}‖_F ≤ B_H` (deterministic Hebbian bound). By default halt.
    pub hebbian_bound: Policy,
    /// Proposition 2's mean-square condition from running moments
    /// (statistical). By default warn.
    pub hebbian_mean_square: Policy,
    /// NaN or ±∞ in a state, logit, value, reward, loss or gradient. By default halt.
    pub nonfinite: Policy,
    /// Pre-clip gradient norm above `grad_norm_max`. By default warn.
    pub grad_norm: Policy,
    /// Policy entropy below `entropy_floor` before `entropy_floor_until`
    /// environment steps (collapse). By default ignore.
    pub entropy_floor: Policy,
}

impl Default for MonitorPolicies {
    fn default() -> Self {
        Self {
            iae_bound: Policy::Halt,
            iae_threshold: Policy::Halt,
            contraction: Policy::Halt,
            lipschitz_drift: Policy::Halt,
            declared_update: Policy::Warn,
            hebbian_bound: Policy::Halt,
            hebbian_mean_square: Policy::Warn,
            nonfinite: Policy::Halt,
            grad_norm: Policy::Warn,
            entropy_floor: Policy::Ignore,
        }
    }
}

/// `[monitor]`: the runtime monitor's thresholds and check intervals.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MonitorSection {
    /// Re-certify the current `g_φ` every this many updates (and before the
    /// first); 0 only before the first. By default 10.
    pub check_every: usize,
    /// Relative slack of the drift rule: halt when the sound `L_g` exceeds
    /// `update.lipschitz · (1 + tolerance)`. By default 1e-3.
    pub lipschitz_tolerance: f64,
    /// Largest allowed `‖E_{i,t}‖` for any agent. By default none.
    pub iae_max: Option<f64>,
    /// Largest allowed mean over agents of `‖E_{i,t}‖` at a step. By default none.
    pub iae_mean_max: Option<f64>,
    /// Largest allowed pre-clip gradient norm. By default 1000.
    pub grad_norm_max: f64,
    /// Entropy floor (nats) of the collapse rule. By default 0.05.
    pub entropy_floor: f64,
    /// The collapse rule applies before this many environment steps. By default 100 000.
    pub entropy_floor_until: usize,
    /// Metric rows copied into an incident report. By default 20.
    pub incident_rows: usize,
    /// `[monitor.policy]`.
    pub policy: MonitorPolicies,
}

impl Default for MonitorSection {
    fn default() -> Self {
        Self {
            check_every: 10,
            lipschitz_tolerance: 1e-3,
            iae_max: None,
            iae_mean_max: None,
            grad_norm_max: 1000.0,
            entropy_floor: 0.05,
            entropy_floor_until: 100_000,
            incident_rows: 20,
            policy: MonitorPolicies::default(),
        }
    }
}

impl MonitorSection {
    /// Every problem with the values.
    pub fn problems(&self) -> Vec<Problem> {
        let mut out = Vec::new();
        let mut bad = |field: &str, value: f64, allowed: &str| {
            out.push(Problem {
                field: field.into(),
                value: value.to_string(),
                allowed: allowed.into(),
            })
        };
        if !(self.lipschitz_tolerance.is_finite() && self.lipschitz_tolerance >= 0.0) {
            bad(
                "monitor.lipschitz_tolerance",
                self.lipschitz_tolerance,
                "a finite number ≥ 0",
            );
        }
        for (field, v) in [
            ("monitor.iae_max", self.iae_max),
            ("monitor.iae_mean_max", self.iae_mean_max),
            ("monitor.grad_norm_max", Some(self.grad_norm_max)),
        ] {
            if let Some(v) = v.filter(|v| !(v.is_finite() && *v > 0.0)) {
                bad(field, v, "a finite number > 0");
            }
        }
        if !(self.entropy_floor.is_finite() && self.entropy_floor >= 0.0) {
            bad(
                "monitor.entropy_floor",
                self.entropy_floor,
                "a finite number ≥ 0 (nats)",
            );
        }
        if self.incident_rows == 0 || self.incident_rows > MAX_INCIDENT_ROWS {
            out.push(Problem {
                field: "monitor.incident_rows".into(),
                value: self.incident_rows.to_string(),
                allowed: format!("an integer in 1..={MAX_INCIDENT_ROWS}"),
            });
        }
        out
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
    /// `[monitor]`.
    #[serde(default)]
    pub monitor: MonitorSection,
}

/// Largest `env.copies`.
pub const MAX_COPIES: usize = 4_096;
/// Largest number of learners `env.copies × agents` (agents = `graph.agents`
/// for the graph dilemma, else 1): each carries its own IAE and Hebbian state.
pub const MAX_LEARNERS: usize = 65_536;
/// Largest `ppo.rollout_steps`.
pub const MAX_ROLLOUT_STEPS: usize = 1_000_000;
/// Largest rollout `env.copies × agents × ppo.rollout_steps` (samples kept
/// in memory per update; the reference is 2 048).
pub const MAX_ROLLOUT_SAMPLES: usize = 1 << 22;
/// Largest `rollout × max(ppo.hidden, esai.hidden, esai.k)`: activations of a
/// rollout (2^28 f32 = 1 GiB; the reference is 2^18).
pub const MAX_ROLLOUT_WIDTH: u128 = 1 << 28;
/// Largest network width (`ppo.hidden`, `esai.hidden`).
pub const MAX_HIDDEN: usize = 4_096;
/// Largest `esai.k`, `esai.read_dim` and `env.feature_dim`.
pub const MAX_DIM: usize = 1_024;
/// Largest `ppo.epochs`.
pub const MAX_EPOCHS: usize = 1_000;
/// Largest `train.steps` (environment steps).
pub const MAX_TRAIN_STEPS: usize = 1_000_000_000;
/// Largest number of gradient steps of a run,
/// `⌈train.steps / rollout⌉ × ppo.epochs × ⌈rollout / ppo.minibatch⌉`
/// (the reference run takes 15 680).
pub const MAX_GRADIENT_STEPS: u128 = 100_000_000;
/// Largest step counts that are only compared with a counter
/// (`esai.warmup_steps`, `monitor.entropy_floor_until`, `checkpoint_every`, `check_every`).
pub const MAX_COUNTER: usize = 1_000_000_000_000;
/// Largest `env.episode_len`.
pub const MAX_EPISODE_LEN: u32 = 1_000_000;
/// Largest `monitor.incident_rows`.
pub const MAX_INCIDENT_ROWS: usize = 1_000_000;
/// Largest magnitude of a real-valued training parameter (learning rates,
/// coefficients, temperatures, thresholds): far above any meaningful value,
/// far below where products of them overflow.
pub const MAX_REAL: f64 = 1e30;

/// Real-valued training fields stored as `f32`, by TOML path. The spec parser
/// checks their values as written (an `f64`) against the `f32` range first,
/// so `tau_steps = 1e-300` is reported as written, not as the 0 it becomes.
pub const F32_FIELDS: [&str; 17] = [
    "env.kin_weight",
    "ppo.clip",
    "ppo.discount",
    "ppo.gae_lambda",
    "ppo.entropy_start",
    "ppo.entropy_end",
    "ppo.value_coef",
    "ppo.grad_clip",
    "esai.lambda",
    "esai.kappa",
    "esai.tau0",
    "esai.tau_min",
    "esai.tau_steps",
    "esai.ema",
    "esai.cost_limit",
    "esai.dual_lr",
    "esai.lambda_bias",
];

impl Training {
    /// Every problem with the values, each naming field, value and what is
    /// allowed; `graph_agents` is the spec graph's size (the graph dilemma
    /// has that many learners per copy), `None` when `graph.agents` itself is
    /// invalid: the checks that combine it with other fields are then
    /// skipped rather than run on a made-up size.
    ///
    /// Every size is bounded (the `MAX_*` constants, documented in
    /// `specs/README.md`), so a spec that passes can be allocated and trained
    /// in finite time, and no product of sizes overflows.
    pub fn problems(&self, graph_agents: Option<usize>) -> Vec<Problem> {
        let mut out = Vec::new();
        let mut bad = |field: &str, value: String, allowed: &str| {
            out.push(Problem {
                field: field.into(),
                value,
                allowed: allowed.into(),
            })
        };
        let graph_dilemma = self.env.name == "graph-dilemma";
        if !ENVS.contains(&self.env.name.as_str()) {
            bad(
                "env.name",
                format!("{:?}", self.env.name),
                &format!("one of {}", ENVS.join(", ")),
            );
        }
        for (field, v, max) in [
            ("env.copies", self.env.copies, MAX_COPIES),
            (
                "ppo.rollout_steps",
                self.ppo.rollout_steps,
                MAX_ROLLOUT_STEPS,
            ),
            ("ppo.epochs", self.ppo.epochs, MAX_EPOCHS),
            ("ppo.minibatch", self.ppo.minibatch, MAX_ROLLOUT_SAMPLES),
            ("ppo.hidden", self.ppo.hidden, MAX_HIDDEN),
            ("esai.k", self.esai.k, MAX_DIM),
            ("esai.read_dim", self.esai.read_dim, MAX_DIM),
            ("esai.hidden", self.esai.hidden, MAX_HIDDEN),
            ("train.steps", self.train.steps, MAX_TRAIN_STEPS),
        ] {
            if v == 0 || v > max {
                bad(field, v.to_string(), &format!("an integer in 1..={max}"));
            }
        }
        for (field, v) in [
            ("esai.warmup_steps", self.esai.warmup_steps),
            ("train.checkpoint_every", self.train.checkpoint_every),
            ("monitor.check_every", self.monitor.check_every),
            (
                "monitor.entropy_floor_until",
                self.monitor.entropy_floor_until,
            ),
        ] {
            if v > MAX_COUNTER {
                bad(
                    field,
                    v.to_string(),
                    &format!("an integer in 0..={MAX_COUNTER}"),
                );
            }
        }
        if graph_dilemma {
            let e = &self.env;
            if e.feature_dim == 0 || e.feature_dim > MAX_DIM {
                bad(
                    "env.feature_dim",
                    e.feature_dim.to_string(),
                    &format!("an integer in 1..={MAX_DIM}"),
                );
            }
            if e.episode_len == 0 || e.episode_len > MAX_EPISODE_LEN {
                bad(
                    "env.episode_len",
                    e.episode_len.to_string(),
                    &format!("an integer in 1..={MAX_EPISODE_LEN}"),
                );
            }
            let max_groups = graph_agents.unwrap_or(usize::MAX);
            if e.groups == 0 || e.groups > max_groups {
                bad(
                    "env.groups",
                    e.groups.to_string(),
                    &format!("an integer in 1..=graph.agents ({max_groups})"),
                );
            }
            if !(e.feature_noise.is_finite() && (0.0..=MAX_REAL).contains(&e.feature_noise)) {
                bad(
                    "env.feature_noise",
                    e.feature_noise.to_string(),
                    &format!("a finite number in [0, {MAX_REAL:e}]"),
                );
            }
        }
        // Cross-field sizes, in u128 so no product of checked sizes wraps.
        // Only with a known graph size, and only on fields that passed their
        // own checks, so no message rests on a made-up or defaulted value.
        let sizes_ok = (1..=MAX_COPIES).contains(&self.env.copies)
            && (1..=MAX_ROLLOUT_STEPS).contains(&self.ppo.rollout_steps);
        let agents = if graph_dilemma { graph_agents } else { Some(1) };
        if let (Some(agents), true) = (agents, sizes_ok) {
            let learners = self.env.copies as u128 * agents as u128;
            let rollout = learners * self.ppo.rollout_steps as u128;
            let shown = format!(
                "{} × {agents} × {} = {rollout}",
                self.env.copies, self.ppo.rollout_steps
            );
            if learners > MAX_LEARNERS as u128 {
                bad(
                    "env.copies",
                    format!(
                        "{} (× {agents} agents = {learners} learners)",
                        self.env.copies
                    ),
                    &format!("at most {MAX_LEARNERS} learners (env.copies × agents)"),
                );
            } else if rollout > MAX_ROLLOUT_SAMPLES as u128 {
                bad(
                    "env.copies × agents × ppo.rollout_steps",
                    shown,
                    &format!("at most {MAX_ROLLOUT_SAMPLES} samples per rollout"),
                );
            } else {
                let width = [self.ppo.hidden, self.esai.hidden, self.esai.k]
                    .into_iter()
                    .max()
                    .unwrap_or(1) as u128;
                if rollout * width > MAX_ROLLOUT_WIDTH && width <= MAX_HIDDEN as u128 {
                    bad(
                        "env.copies × agents × ppo.rollout_steps × max(ppo.hidden, esai.hidden, esai.k)",
                        format!("{rollout} × {width} = {}", rollout * width),
                        &format!("at most {MAX_ROLLOUT_WIDTH} (activations of one rollout)"),
                    );
                }
                let mb = self.ppo.minibatch as u128;
                if mb > rollout {
                    bad(
                        "ppo.minibatch",
                        self.ppo.minibatch.to_string(),
                        &format!("at most env.copies × agents × ppo.rollout_steps = {shown}, or no gradient step is ever taken"),
                    );
                } else if mb >= 1
                    && (1..=MAX_EPOCHS).contains(&self.ppo.epochs)
                    && (1..=MAX_TRAIN_STEPS).contains(&self.train.steps)
                {
                    let updates = (self.train.steps as u128).div_ceil(rollout);
                    let grad_steps = updates * self.ppo.epochs as u128 * rollout.div_ceil(mb);
                    if grad_steps > MAX_GRADIENT_STEPS {
                        bad(
                            "train.steps, ppo.epochs, ppo.minibatch",
                            format!(
                                "{updates} updates × {} epochs × {} minibatches = {grad_steps} gradient steps",
                                self.ppo.epochs,
                                rollout.div_ceil(mb)
                            ),
                            &format!("at most {MAX_GRADIENT_STEPS} gradient steps per run"),
                        );
                    }
                }
            }
        }
        let real_range = |v: f64, lo_open: bool| {
            v.is_finite() && v <= MAX_REAL && if lo_open { v > 0.0 } else { v >= 0.0 }
        };
        if !real_range(self.ppo.lr, true) {
            bad(
                "ppo.lr",
                self.ppo.lr.to_string(),
                &format!("a finite number in (0, {MAX_REAL:e}]"),
            );
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
        let mut nonneg: Vec<(&str, f32)> = vec![
            ("ppo.entropy_start", self.ppo.entropy_start),
            ("ppo.entropy_end", self.ppo.entropy_end),
            ("ppo.value_coef", self.ppo.value_coef),
            ("esai.lambda", self.esai.lambda),
            ("esai.kappa", self.esai.kappa),
            ("esai.cost_limit", self.esai.cost_limit),
            ("esai.dual_lr", self.esai.dual_lr),
            ("esai.lambda_bias", self.esai.lambda_bias),
        ];
        if graph_dilemma {
            nonneg.push(("env.kin_weight", self.env.kin_weight));
        }
        for (field, v) in nonneg {
            if !real_range(v.into(), false) {
                bad(
                    field,
                    v.to_string(),
                    &format!("a finite number in [0, {MAX_REAL:e}]"),
                );
            }
        }
        for (field, v) in [
            ("ppo.grad_clip", self.ppo.grad_clip),
            ("esai.tau0", self.esai.tau0),
            ("esai.tau_min", self.esai.tau_min),
            ("esai.tau_steps", self.esai.tau_steps),
        ] {
            if !real_range(v.into(), true) {
                bad(
                    field,
                    v.to_string(),
                    &format!("a finite number in (0, {MAX_REAL:e}]"),
                );
            }
        }
        if !METHODS.contains(&self.esai.method.as_str()) {
            bad(
                "esai.method",
                format!("{:?}", self.esai.method),
                &format!("one of {}", METHODS.join(", ")),
            );
        }
        out.extend(self.monitor.problems());
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_bad_values_are_named() {
        assert!(Training::default().problems(Some(1)).is_empty());
        let mut t = Training::default();
        t.ppo.minibatch = 4096;
        t.esai.method = "cpo".into();
        t.ppo.clip = 0.0;
        let p = t.problems(Some(1));
        let fields: Vec<&str> = p.iter().map(|x| x.field.as_str()).collect();
        assert_eq!(fields, ["ppo.minibatch", "ppo.clip", "esai.method"]);
        let mut t = Training::default();
        t.monitor.iae_max = Some(-1.0);
        t.monitor.incident_rows = 0;
        let p = t.problems(Some(1));
        let fields: Vec<&str> = p.iter().map(|x| x.field.as_str()).collect();
        assert_eq!(fields, ["monitor.iae_max", "monitor.incident_rows"]);
    }
}
