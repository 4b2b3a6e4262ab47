//! The interface between a trainer and whoever watches it (the runtime
//! monitor, a signal handler, a test).
//!
//! The trainer reports plain numbers at three moments — after every
//! environment step, after every gradient step, at the end of every update —
//! and asks whether to go on. It knows nothing of the rules: a watcher that
//! answers [`Flow::Stop`] makes the trainer discard the update in progress
//! and restore the state it had when the update began (the last good state).
//! The interface lives in core so that neither the trainer (burn) nor the
//! monitor (no burn, no solvers) depends on the other.

use crate::mlp::Mlp;

/// Whether the trainer goes on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    /// Go on.
    Continue,
    /// Stop now: discard the update in progress, restore its start state.
    Stop,
}

/// What the trainer reports after each environment step of a rollout.
#[derive(Debug, Clone, Copy)]
pub struct StepProbe<'a> {
    /// The update in progress (1-based).
    pub update: usize,
    /// The step within the rollout (0-based).
    pub step: usize,
    /// Environment steps taken before this step, all agents counted.
    pub env_steps: usize,
    /// Agents per environment copy: entry `i` is agent `i % agents` of copy `i / agents`.
    pub agents: usize,
    /// `‖E_{i,t+1}‖₂` per agent after the step (ESAI methods; empty otherwise).
    pub iae_norms: &'a [f32],
    /// `‖H_{i,t+1}‖_F` per agent (ESAI with the Hebbian trace; empty otherwise).
    pub hebbian_norms: &'a [f32],
    /// `‖z_{i,t}‖₂` per agent, the observation the Hebbian trace saw (empty when it is off).
    pub obs_norms: &'a [f32],
    /// The first non-finite quantity of the step, by name (`"logits"`,
    /// `"values"`, `"reward"`), if any. States are covered by their norms.
    pub nonfinite: Option<&'static str>,
}

/// What the trainer reports after each gradient step.
#[derive(Debug, Clone, Copy)]
pub struct GradProbe {
    /// The update in progress (1-based).
    pub update: usize,
    /// The gradient step within the update (0-based).
    pub step: usize,
    /// The total loss of the minibatch.
    pub loss: f32,
    /// The gradient's global `ℓ₂` norm before clipping.
    pub grad_norm: f32,
}

/// What the trainer reports at the end of each update.
#[derive(Debug, Clone, Copy)]
pub struct UpdateProbe<'a> {
    /// The update just finished (1-based; 0 for the check before training).
    pub update: usize,
    /// Environment steps so far.
    pub env_steps: usize,
    /// Mean policy entropy of the update (nats).
    pub entropy: f32,
    /// Mean losses by name.
    pub losses: &'a [(&'static str, f32)],
    /// The current `g_φ` in the verifier's format, when the watcher asked for
    /// it with [`Watcher::wants_g_phi`] (ESAI methods only).
    pub g_phi: Option<&'a Mlp>,
    /// The first non-finite quantity of the update by name (a mean loss,
    /// `"g_phi weights"`, `"parameters"`), if any.
    pub nonfinite: Option<&'static str>,
}

/// Watches a training run. Every method's default is to go on.
pub trait Watcher {
    /// After each environment step.
    fn on_step(&mut self, _probe: &StepProbe) -> Flow {
        Flow::Continue
    }
    /// After each gradient step.
    fn on_gradient_step(&mut self, _probe: &GradProbe) -> Flow {
        Flow::Continue
    }
    /// Whether [`UpdateProbe::g_phi`] should be filled at the end of `update`
    /// (exporting the weights costs a copy).
    fn wants_g_phi(&self, _update: usize) -> bool {
        false
    }
    /// At the end of each update.
    fn on_update(&mut self, _probe: &UpdateProbe) -> Flow {
        Flow::Continue
    }
}

/// A watcher that never stops anything.
#[derive(Debug, Clone, Copy, Default)]
pub struct Unwatched;

impl Watcher for Unwatched {}
