//! The ESAI trainer and its baselines on burn.
//!
//! This first slice holds the PPO learner ([`ppo::Trainer`], PPO-Clip + GAE,
//! masked actions, entropy annealing, gradient clipping) and the
//! reward-shaping baseline; the ESAI agent (IAE, forecasts, regret,
//! attention, Hebbian trace, diffusion) builds on it. Generic over burn
//! backends with a fused `tanh` ([`activation::FusedTanh`]: ndarray and
//! autodiff over it); [`CpuBackend`] is the default.
#![warn(missing_docs)]

pub mod activation;
pub mod esai;
pub mod from_spec;
pub mod policy;
pub mod ppo;

/// The default training backend: autodiff over ndarray on the CPU.
pub type CpuBackend = burn::backend::Autodiff<burn::backend::NdArray>;
