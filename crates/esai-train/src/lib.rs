//! The ESAI trainer and its baselines on burn.
//!
//! This first slice holds the PPO learner ([`ppo::Trainer`], PPO-Clip + GAE,
//! masked actions, entropy annealing, gradient clipping) and the
//! reward-shaping baseline; the ESAI agent (IAE, forecasts, regret,
//! attention, Hebbian trace, diffusion) builds on it. Generic over burn
//! backends with a fused `tanh` and fast host reads ([`fast_ops::FastOps`]: ndarray and
//! autodiff over it); [`CpuBackend`] is the default.
#![warn(missing_docs)]

pub mod esai;
pub mod fast_ops;
pub mod from_spec;
pub mod policy;
pub mod ppo;

/// The default training backend: autodiff over ndarray on the CPU.
pub type CpuBackend = burn::backend::Autodiff<burn::backend::NdArray>;

/// Makes burn-ndarray's matrix products (matrixmultiply) single-threaded,
/// unless `MATMUL_NUM_THREADS` is already set. matrixmultiply splits every
/// product above a small size across all cores and spins in `sched_yield`
/// while it waits; the trainer's products are 128-row minibatches, where
/// that costs more than it gains (`esai bench`, 2 cores: ESAI 3 885 →
/// 4 140 env-steps/s, 10 % less CPU time). Call it first thing in `main`,
/// before other threads exist (it sets an environment variable, read once
/// at the first product).
pub fn prefer_single_threaded_gemm() {
    if std::env::var_os("MATMUL_NUM_THREADS").is_none() {
        std::env::set_var("MATMUL_NUM_THREADS", "1");
    }
}
