//! PPO-Clip with GAE (paper 002 Eq. 12) and its reward-shaping baseline.
//!
//! Every update records how many gradient steps it actually took, so a run
//! can never silently train nothing (the reference implementation's short
//! rollouts produced zero minibatches and no update at all).

use crate::esai::{
    alignment_regret, softmin_reference, Collect, EmaBlend, EsaiConfig, EsaiNets, IdentityLayout,
    SpectralProjector,
};
use crate::fast_ops::FastOps;
use crate::policy::{ActorCritic, Mlp};
use burn::grad_clipping::GradientClippingConfig;
use burn::module::{AutodiffModule, Module};
use burn::optim::{AdamConfig, GradientsParams, Optimizer};
use burn::tensor::activation::log_softmax;
use burn::tensor::backend::AutodiffBackend;
use burn::tensor::{Bool, Int, Tensor, TensorData};
use esai_core::rng::SplitMix64;
use esai_core::training::PpoSection;
use esai_core::watch::{Flow, GradProbe, StepProbe, Unwatched, UpdateProbe, Watcher};
use esai_envs::{MoralEvent, StepBatch, VecEnv};
use serde::Serialize;
use std::time::Instant;

thread_local! {
    /// A one-thread rayon pool per training thread. burn-ndarray wraps every
    /// matrix product in `rayon::scope`; called from a thread outside any
    /// pool, that hands the product to a pool worker and sleeps until it is
    /// done — two context switches per product, and idle workers spinning
    /// in `sched_yield` (≈ 20 % of an update's CPU time, `perf`). Run inside
    /// this pool, the scopes execute in place on the calling worker.
    static INLINE_POOL: rayon::ThreadPool = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .expect("a one-thread pool");
}

/// Which objective the agent optimises.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "method", rename_all = "kebab-case")]
pub enum Method {
    /// Plain PPO on the extrinsic reward (λ = 0, no IAE).
    Ppo,
    /// PPO on `r' = r − λ h` (the baseline the paper did not run).
    RewardShaping {
        /// Weight of the harm penalty.
        lambda: f32,
    },
    /// Lagrangian PPO: `r' = r − μ h` with the multiplier `μ ≥ 0` learned by
    /// dual ascent on the per-episode harm against a cost limit (the honest
    /// constrained baseline the paper called "CPO").
    Lagrangian {
        /// Allowed harm per episode.
        cost_limit: f32,
        /// Dual step size for `μ`.
        lr: f32,
    },
    /// The full ESAI agent (or an ablation of it).
    Esai(EsaiConfig),
}
/// PPO hyperparameters: the spec's `[ppo]` section (whose defaults are the
/// reference sizes of spec §6) plus the batch width and the seed.
#[derive(Debug, Clone, Serialize)]
pub struct PpoConfig {
    /// Environment copies stepped together. By default 16.
    pub num_envs: usize,
    /// Seed of weights, sampling and environments. By default 0.
    pub seed: u64,
    /// Rollout, optimiser and loss settings (defaults documented on [`PpoSection`]).
    pub ppo: PpoSection,
}

impl Default for PpoConfig {
    fn default() -> Self {
        Self {
            num_envs: 16,
            seed: 0,
            ppo: PpoSection::default(),
        }
    }
}

/// A configuration that cannot train.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{field} = {value}: {allowed}")]
pub struct ConfigError {
    /// The field.
    pub field: &'static str,
    /// Its value.
    pub value: String,
    /// What is allowed.
    pub allowed: String,
}

impl PpoConfig {
    /// Rejects configurations that would train nothing or diverge at once.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let p = &self.ppo;
        let rollout = self.num_envs * p.rollout_steps;
        let err = |field, value: String, allowed: String| {
            Err(ConfigError {
                field,
                value,
                allowed,
            })
        };
        if self.num_envs == 0 || p.rollout_steps == 0 || p.epochs == 0 || p.hidden == 0 {
            return err(
                "num_envs/rollout_steps/epochs/hidden",
                "0".into(),
                "all ≥ 1".into(),
            );
        }
        if p.minibatch == 0 || p.minibatch > rollout {
            return err(
                "minibatch",
                p.minibatch.to_string(),
                format!("1..={rollout} (num_envs × rollout_steps); a larger one yields zero gradient steps"),
            );
        }
        if !(p.lr.is_finite() && p.lr > 0.0) {
            return err("lr", p.lr.to_string(), "a finite number > 0".into());
        }
        for (field, v) in [
            ("clip", p.clip),
            ("discount", p.discount),
            ("gae_lambda", p.gae_lambda),
        ] {
            if !(v.is_finite() && v > 0.0 && v <= 1.0) {
                return err(field, v.to_string(), "a number in (0, 1]".into());
            }
        }
        Ok(())
    }
}

/// What one update did and measured. Written for every update.
#[derive(Debug, Clone, Serialize)]
pub struct UpdateMetrics {
    /// 1-based update index.
    pub update: usize,
    /// Environment steps so far (all copies).
    pub env_steps: usize,
    /// Episodes that ended during this rollout.
    pub episodes: usize,
    /// Mean extrinsic return of those episodes.
    pub mean_return: Option<f32>,
    /// Mean harm caused per agent and episode.
    pub mean_episode_harm: Option<f32>,
    /// HELP / (HELP + STEAL) in this rollout.
    pub prosocial_rate: Option<f32>,
    /// In-range HELP decisions in this rollout.
    pub helps: usize,
    /// In-range STEAL decisions in this rollout.
    pub steals: usize,
    /// Mean policy entropy over the update's minibatches (nats).
    pub entropy: f32,
    /// Mean clipped policy loss.
    pub policy_loss: f32,
    /// Mean value loss.
    pub value_loss: f32,
    /// Mean approximate KL(old ‖ new).
    pub approx_kl: f32,
    /// Fraction of samples whose ratio was clipped.
    pub clip_fraction: f32,
    /// Mean forecast loss (ESAI).
    pub forecast_loss: Option<f32>,
    /// Mean harm-supervision loss (ESAI).
    pub harm_loss: Option<f32>,
    /// Mean `‖Ã ⊙ S‖_F²` per copy (Eq. 10; ESAI with similarity weighting).
    pub bias_loss: Option<f32>,
    /// Mean `β_ij` over the graph's edges after the update (Eq. 9; ESAI
    /// with similarity weighting).
    pub similarity_mean: Option<f32>,
    /// Mean alignment regret of executed in-range HELPs (ESAI).
    pub ar_help: Option<f32>,
    /// Mean alignment regret of executed in-range STEALs (ESAI).
    pub ar_steal: Option<f32>,
    /// Mean `‖E_i‖` over the rollout (ESAI).
    pub iae_norm_mean: Option<f32>,
    /// Largest `‖E_i‖` in the rollout (ESAI).
    pub iae_norm_max: Option<f32>,
    /// Mean `‖H_i‖_F` over the rollout (ESAI).
    pub hebbian_norm_mean: Option<f32>,
    /// Largest `‖H_i‖_F` in the rollout (ESAI).
    pub hebbian_norm_max: Option<f32>,
    /// Mean pre-clip global gradient norm over the update's gradient steps.
    pub grad_norm_mean: f32,
    /// Largest pre-clip global gradient norm in the update.
    pub grad_norm_max: f32,
    /// `λ_reg` used in this rollout (ESAI, after warm-up).
    pub lambda: Option<f32>,
    /// Softmin temperature `τ` (ESAI).
    pub tau: Option<f32>,
    /// Lagrange multiplier after the update (Lagrangian).
    pub multiplier: Option<f32>,
    /// Gradient steps taken in this update (epochs × minibatches).
    pub gradient_steps: usize,
    /// Entropy coefficient used.
    pub entropy_coef: f32,
    /// Wall time of the update (rollout + learning), seconds.
    pub seconds: f32,
    /// Of which the rollout (acting, environment, IAE and forecasts), seconds.
    pub rollout_seconds: f32,
    /// Of which watching: the start-of-update snapshot and the watcher's
    /// checks (the runtime monitor's overhead), seconds.
    pub watch_seconds: f32,
    /// Of the rollout, the ESAI step (diffusion, g_φ, Hebbian read,
    /// counterfactual forecasts for every action, regret), seconds.
    pub esai_step_seconds: f32,
}

/// Floating-point work per environment step (per agent sample), counting a
/// multiply-add as 2 FLOPs in the dense layers only (activations, softmax
/// and element-wise work are not counted, so these are lower bounds).
#[derive(Debug, Clone, Copy, Serialize)]
pub struct FlopCount {
    /// Acting: policy, value and (ESAI) attention, g_φ, Hebbian read and
    /// the forecast target for every action.
    pub rollout: f64,
    /// Learning: epochs × (forward + backward ≈ 3 × forward) of every
    /// trained network on the sample.
    pub learn: f64,
}

fn mlp_flops(inputs: usize, hidden: usize, outputs: usize) -> f64 {
    2.0 * (inputs * hidden + hidden * hidden + hidden * outputs) as f64
}

/// A fault to inject, for testing that watchers catch it. Each fires once.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Fault {
    /// Overwrite agent 0's IAE with NaN after rollout step `step` of `update`.
    NanIae {
        /// 1-based update.
        update: usize,
        /// 0-based rollout step.
        step: usize,
    },
    /// Make the first minibatch loss of `update` NaN (poisons the gradient
    /// and, after the optimiser step, the weights).
    NanLoss {
        /// 1-based update.
        update: usize,
    },
    /// Multiply `g_φ`'s output weight by `factor` at the end of `update`,
    /// after the last spectral projection, and skip the projection from
    /// then on: a broken spectral normalisation.
    ScaleGPhi {
        /// 1-based update.
        update: usize,
        /// Scale factor.
        factor: f32,
    },
}

/// Why [`Trainer::update_watched`] stopped; the trainer is back at the state
/// it had when that update began.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stopped {
    /// The update that was discarded (1-based).
    pub update: usize,
    /// Where in it the watcher said stop, in words.
    pub at: String,
}

/// The complete state at the start of an update, in memory (burn tensors
/// are reference-counted, so this is cheap).
struct Snapshot<B: AutodiffBackend> {
    agent: Agent<B>,
    optim: burn::optim::adaptor::OptimizerAdaptor<burn::optim::Adam, Agent<B>, B>,
    target: Option<Mlp<B::InnerBackend>>,
    plain: PlainState,
}

/// The networks trained together by one optimiser.
#[derive(burn::module::Module, Debug)]
pub struct Agent<B: burn::tensor::backend::Backend> {
    /// Policy and value.
    pub ac: ActorCritic<B>,
    /// ESAI's IAE, forecast, attention and read networks (None for baselines).
    pub esai: Option<EsaiNets<B>>,
}

#[derive(Default)]
struct Rollout {
    obs: Vec<f32>,
    mask: Vec<bool>,
    actions: Vec<usize>,
    logp: Vec<f32>,
    values: Vec<f32>,
    rewards: Vec<f32>,
    dones: Vec<bool>,
    // ESAI only, per sample:
    raw_reward: Vec<f32>,
    harm: Vec<f32>,
    r_prev: Vec<f32>,
    e: Vec<f32>,
    base: Vec<f32>,
    hebb: Vec<f32>,
}

/// Per-copy ESAI state (IAE, Hebbian trace, previous reward) and the EMA
/// forecast target.
struct EsaiState<B: AutodiffBackend> {
    cfg: EsaiConfig,
    target: Mlp<B::InnerBackend>,
    e: Vec<f32>,
    h: Vec<f32>,
    r_prev: Vec<f32>,
    /// Where identity blocks sit (similarity weighting on).
    identity: Option<IdentityLayout>,
    /// Projects `g_φ`'s weights after each gradient step; holds their
    /// singular vector estimates between steps.
    projector: SpectralProjector,
}

static INIT_LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// A PPO learner (and, with [`Method::Esai`], the ESAI agent) over a
/// vectorised environment.
pub struct Trainer<B: AutodiffBackend, E: VecEnv> {
    cfg: PpoConfig,
    method: Method,
    env: E,
    batch: StepBatch,
    agent: Agent<B>,
    optim: burn::optim::adaptor::OptimizerAdaptor<burn::optim::Adam, Agent<B>, B>,
    esai: Option<EsaiState<B>>,
    rng: SplitMix64,
    device: B::Device,
    env_steps: usize,
    updates: usize,
    mu: f32,
    episode_harm: Vec<f32>,
    faults: Vec<Fault>,
    projection_broken: bool,
}

fn one_hot(actions: &[usize], a: usize) -> Vec<f32> {
    let mut v = vec![0.0; actions.len() * a];
    for (i, &k) in actions.iter().enumerate() {
        v[i * a + k] = 1.0;
    }
    v
}

impl<B: AutodiffBackend + FastOps, E: VecEnv> Trainer<B, E>
where
    B::InnerBackend: FastOps,
{
    /// A trainer with fresh networks; `env` must have `num_envs` agents in all.
    pub fn new(
        cfg: PpoConfig,
        method: Method,
        mut env: E,
        device: B::Device,
    ) -> Result<Self, ConfigError> {
        cfg.validate()?;
        if env.num_envs() * env.num_agents() != cfg.num_envs {
            return Err(ConfigError {
                field: "num_envs",
                value: cfg.num_envs.to_string(),
                allowed: format!(
                    "{} (the environment's copies × agents)",
                    env.num_envs() * env.num_agents()
                ),
            });
        }
        // burn initialises parameters from the backend's global generator:
        // seed it and draw every parameter under one lock, so trainers built
        // on parallel threads still get exactly their seed's weights.
        let guard = INIT_LOCK
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        B::seed(cfg.seed);
        let (d, a, n) = (env.obs_dim(), env.num_actions(), cfg.num_envs);
        let ac = ActorCritic::new(d, a, cfg.ppo.hidden, &device);
        let (nets, esai) = match &method {
            Method::Esai(ec) => {
                let identity = match (ec.similarity, env.identities()) {
                    (false, _) => None,
                    (true, Some(id)) => Some(IdentityLayout {
                        dim: id.dim,
                        blocks: id.blocks,
                    }),
                    (true, None) => {
                        return Err(ConfigError {
                            field: "similarity",
                            value: "true".into(),
                            allowed: "false for an environment without identity features".into(),
                        })
                    }
                };
                let nets = EsaiNets::new(ec, d, a, identity.as_ref().map(|l| l.dim), &device);
                let target = nets.forecast.valid();
                let state = EsaiState {
                    cfg: ec.clone(),
                    target,
                    e: vec![0.0; n * ec.k],
                    h: vec![0.0; n * ec.k * d],
                    r_prev: vec![0.0; n],
                    identity,
                    projector: SpectralProjector::new(vec![1.0, 1.0, ec.lipschitz]),
                };
                (Some(nets), Some(state))
            }
            _ => (None, None),
        };
        let agent = Agent { ac, esai: nets };
        // Parameters initialise lazily: touch them all while the seed holds.
        agent.visit(&mut Collect(Vec::new()));
        drop(guard);
        let optim = AdamConfig::new()
            .with_grad_clipping(Some(GradientClippingConfig::Norm(cfg.ppo.grad_clip)))
            .init();
        let mut batch = StepBatch::for_env(&env);
        env.reset(&mut batch);
        let mut t = Self {
            rng: SplitMix64::new(cfg.seed ^ 0x5EED),
            cfg,
            method,
            env,
            batch,
            agent,
            optim,
            esai,
            device,
            env_steps: 0,
            updates: 0,
            mu: 0.0,
            episode_harm: vec![0.0; n],
            faults: Vec::new(),
            projection_broken: false,
        };
        t.project_g();
        Ok(t)
    }

    /// The current networks.
    pub fn agent(&self) -> &Agent<B> {
        &self.agent
    }

    /// Writes a complete checkpoint into the directory `dir`: networks,
    /// optimiser moments, the EMA forecast target (burn binary records, full
    /// precision) and `state.json` (generators, environment, IAE and Hebbian
    /// state, counters), so [`Trainer::load_checkpoint`] resumes exactly.
    /// Atomic: everything is written to `dir.tmp`, then renamed.
    pub fn save_checkpoint(&self, dir: &std::path::Path) -> Result<std::path::PathBuf, String> {
        self.save_checkpoint_with(dir, &[])
    }

    /// [`Trainer::save_checkpoint`] with extra files `(name, contents)` written
    /// into the directory before it is renamed into place (e.g. a watcher's state).
    pub fn save_checkpoint_with(
        &self,
        dir: &std::path::Path,
        extras: &[(&str, &[u8])],
    ) -> Result<std::path::PathBuf, String> {
        self.save_checkpoint_sealed(dir, extras, &|_| Ok(()))
    }

    /// [`Trainer::save_checkpoint_with`], calling `seal` on the finished
    /// temporary directory (every file written and fsynced) just before it
    /// is renamed into place, e.g. to write a manifest of its files.
    pub fn save_checkpoint_sealed(
        &self,
        dir: &std::path::Path,
        extras: &[(&str, &[u8])],
        seal: &dyn Fn(&std::path::Path) -> Result<(), String>,
    ) -> Result<std::path::PathBuf, String> {
        use burn::record::{BinFileRecorder, FullPrecisionSettings, Recorder};
        let tmp = dir.with_extension("tmp");
        let _ = std::fs::remove_dir_all(&tmp);
        std::fs::create_dir_all(&tmp)
            .map_err(|e| format!("cannot create {}: {e}", tmp.display()))?;
        let rec = BinFileRecorder::<FullPrecisionSettings>::new();
        let err = |what: &str, e: &dyn std::fmt::Display| {
            format!("cannot write {what} in {}: {e}", tmp.display())
        };
        self.agent
            .clone()
            .save_file(tmp.join("agent"), &rec)
            .map_err(|e| err("agent", &e))?;
        Recorder::<B>::record(&rec, self.optim.to_record(), tmp.join("optim"))
            .map_err(|e| err("optimiser", &e))?;
        if let Some(s) = &self.esai {
            s.target
                .clone()
                .save_file(tmp.join("target"), &rec)
                .map_err(|e| err("forecast target", &e))?;
        }
        let json = serde_json::to_string(&self.plain_state()).map_err(|e| err("state", &e))?;
        std::fs::write(tmp.join("state.json"), json).map_err(|e| err("state.json", &e))?;
        if let Some(json) = self.g_phi_weights_json() {
            // Readable without burn, for `esai monitor` and `esai certify`.
            std::fs::write(tmp.join("g_phi.json"), json).map_err(|e| err("g_phi.json", &e))?;
        }
        for (name, bytes) in extras {
            std::fs::write(tmp.join(name), bytes).map_err(|e| err(name, &e))?;
        }
        // The files must be on disk before the rename publishes the directory.
        for entry in std::fs::read_dir(&tmp).map_err(|e| err("directory", &e))? {
            let path = entry.map_err(|e| err("directory", &e))?.path();
            std::fs::File::open(&path)
                .and_then(|f| f.sync_all())
                .map_err(|e| err("fsync", &e))?;
        }
        seal(&tmp)?;
        let _ = std::fs::remove_dir_all(dir);
        std::fs::rename(&tmp, dir)
            .map_err(|e| format!("cannot rename {} to {}: {e}", tmp.display(), dir.display()))?;
        Ok(dir.to_path_buf())
    }

    /// Everything but tensors, as written to `state.json`.
    fn plain_state(&self) -> PlainState {
        PlainState {
            rng: self.rng.state(),
            env_steps: self.env_steps,
            updates: self.updates,
            mu: self.mu,
            episode_harm: self.episode_harm.clone(),
            env: self.env.save_state(),
            esai: self
                .esai
                .as_ref()
                .map(|s| (s.e.clone(), s.h.clone(), s.r_prev.clone())),
            projector: self
                .esai
                .as_ref()
                .map(|s| s.projector.vectors().to_vec())
                .unwrap_or_default(),
        }
    }

    /// Restores what [`Trainer::plain_state`] saved.
    fn apply_plain_state(&mut self, state: PlainState) -> Result<(), String> {
        if state.episode_harm.len() != self.episode_harm.len() {
            return Err("a different number of agents".into());
        }
        if let Some(s) = &mut self.esai {
            let Some((e, h, r_prev)) = state.esai else {
                return Err("no ESAI state for an ESAI run".into());
            };
            if e.len() != s.e.len() || h.len() != s.h.len() || r_prev.len() != s.r_prev.len() {
                return Err("IAE sizes differ from the configuration".into());
            }
            (s.e, s.h, s.r_prev) = (e, h, r_prev);
            // Older checkpoints have none: the next projection starts cold.
            s.projector.set_vectors(state.projector);
        }
        self.env
            .load_state(&state.env, &mut self.batch)
            .map_err(|e| format!("environment: {e}"))?;
        self.rng = SplitMix64::new(state.rng);
        self.env_steps = state.env_steps;
        self.updates = state.updates;
        self.mu = state.mu;
        self.episode_harm = state.episode_harm;
        Ok(())
    }

    fn snapshot(&self) -> Snapshot<B> {
        Snapshot {
            agent: self.agent.clone(),
            optim: self.optim.clone(),
            target: self.esai.as_ref().map(|s| s.target.clone()),
            plain: self.plain_state(),
        }
    }

    fn restore(&mut self, snap: Snapshot<B>) {
        self.agent = snap.agent;
        self.optim = snap.optim;
        if let (Some(s), Some(t)) = (&mut self.esai, snap.target) {
            s.target = t;
        }
        self.apply_plain_state(snap.plain)
            .expect("a snapshot of this trainer fits it");
    }

    /// FLOPs per environment step of this configuration (see [`FlopCount`]).
    pub fn flops_per_env_step(&self) -> FlopCount {
        let (d, a, h) = (
            self.env.obs_dim(),
            self.env.num_actions(),
            self.cfg.ppo.hidden,
        );
        let policy = mlp_flops(d, h, a) + mlp_flops(d, h, 1);
        let (mut rollout, mut learn_fwd) = (policy, policy);
        if let Some(s) = &self.esai {
            let (k, he, m) = (s.cfg.k, s.cfg.hidden, s.cfg.read_dim);
            let attention = 2.0 * (k * d) as f64;
            let g = mlp_flops(k + d + a + 2, he, k);
            let forecast = mlp_flops(d + a + 1 + m, he, k);
            let read = 2.0 * (k * d * m) as f64;
            rollout += attention + g + read + a as f64 * forecast;
            learn_fwd += attention + g + read + forecast;
        }
        FlopCount {
            rollout,
            learn: self.cfg.ppo.epochs as f64 * 3.0 * learn_fwd,
        }
    }

    /// Arms a fault for a watcher to catch (tests, `esai train --inject-fault`).
    pub fn inject(&mut self, fault: Fault) {
        self.faults.push(fault);
    }

    fn take_fault(&mut self, pred: impl Fn(&Fault) -> bool) -> Option<Fault> {
        let i = self.faults.iter().position(pred)?;
        Some(self.faults.remove(i))
    }

    /// The current `g_φ` in the verifier's types (ESAI methods; `None` also
    /// when a weight is not finite).
    pub fn g_phi(&self) -> Option<esai_core::mlp::Mlp> {
        self.agent.esai.as_ref().and_then(|n| n.g.to_core())
    }

    /// `g_φ`'s weights in the verifier's JSON format (ESAI methods only), so
    /// `esai certify` can check the trained update network.
    pub fn g_phi_weights_json(&self) -> Option<String> {
        self.agent.esai.as_ref().map(|n| n.g.to_weights_json())
    }

    /// Environment steps per update (agents in all copies × rollout steps).
    pub fn rollout_size(&self) -> usize {
        self.cfg.num_envs * self.cfg.ppo.rollout_steps
    }

    /// Rollout steps per update.
    pub fn rollout_steps(&self) -> usize {
        self.cfg.ppo.rollout_steps
    }

    /// Updates completed so far.
    pub fn updates_done(&self) -> usize {
        self.updates
    }

    /// The current Lagrange multiplier (Lagrangian method; 0 otherwise).
    pub fn multiplier(&self) -> f32 {
        self.mu
    }

    fn tensor<T, const D: usize, K>(&self, v: Vec<T>, shape: [usize; D]) -> Tensor<B, D, K>
    where
        T: burn::tensor::Element,
        K: burn::tensor::TensorKind<B> + burn::tensor::BasicOps<B>,
    {
        Tensor::from_data(TensorData::new(v, shape), &self.device)
    }

    /// Keeps `g_φ` within its Lipschitz target: layer norms ≤ (1, 1, L_g).
    fn project_g(&mut self) {
        let Some(state) = &mut self.esai else { return };
        if self.projection_broken {
            return;
        }
        if let Some(nets) = self.agent.esai.take() {
            let g = state.projector.project(nets.g);
            self.agent.esai = Some(EsaiNets { g, ..nets });
        }
    }

    /// `ψ̄ ← τ ψ̄ + (1 − τ) ψ`.
    fn ema_update(&mut self) {
        let (Some(state), Some(nets)) = (&mut self.esai, &self.agent.esai) else {
            return;
        };
        let online = nets.forecast.valid();
        let mut c = Collect(Vec::new());
        online.visit(&mut c);
        let target = std::mem::replace(&mut state.target, online);
        state.target = target.map(&mut EmaBlend::new(c.0, state.cfg.ema));
    }

    /// Samples actions from the masked policy; returns (actions, log-probs, values).
    fn sample(&mut self, logits: &[f32], a: usize) -> (Vec<usize>, Vec<f32>) {
        let n = logits.len() / a;
        let mut actions = Vec::with_capacity(n);
        let mut logps = Vec::with_capacity(n);
        for i in 0..n {
            let row = &logits[i * a..(i + 1) * a];
            let mask = &self.batch.mask[i * a..(i + 1) * a];
            let max = (0..a)
                .filter(|&k| mask[k])
                .map(|k| row[k])
                .fold(f32::NEG_INFINITY, f32::max);
            let z: f32 = (0..a)
                .filter(|&k| mask[k])
                .map(|k| (row[k] - max).exp())
                .sum();
            let mut u = self.rng.next_f64() as f32 * z;
            let mut pick = (0..a)
                .rev()
                .find(|&k| mask[k])
                .expect("at least one legal action");
            for k in (0..a).filter(|&k| mask[k]) {
                u -= (row[k] - max).exp();
                if u <= 0.0 {
                    pick = k;
                    break;
                }
            }
            actions.push(pick);
            logps.push(row[pick] - max - z.ln());
        }
        (actions, logps)
    }

    /// Policy input (z̃ for ESAI with attention, z otherwise), logits and values, no gradients.
    fn forward_inner(&self, inner: &Agent<B::InnerBackend>) -> (Vec<f32>, Vec<f32>, Vec<f32>) {
        let (n, d) = (self.cfg.num_envs, self.env.obs_dim());
        let dev = &self.device;
        let z: Tensor<B::InnerBackend, 2> =
            Tensor::from_data(TensorData::new(self.batch.obs.clone(), [n, d]), dev);
        let zt = match (&self.esai, &inner.esai) {
            (Some(s), Some(nets)) => {
                let e = Tensor::from_data(TensorData::new(s.e.clone(), [n, s.cfg.k]), dev);
                let z = nets.embed(z, s.identity.as_ref());
                nets.attend(e, z, s.cfg.mechanisms.attention)
            }
            _ => z,
        };
        let logits = inner
            .ac
            .actor
            .forward(zt.clone())
            .into_data()
            .into_vec()
            .expect("f32");
        let values = inner
            .ac
            .critic
            .forward(zt.clone())
            .into_data()
            .into_vec()
            .expect("f32");
        (zt.into_data().into_vec().expect("f32"), logits, values)
    }

    /// Restores a checkpoint written by [`Trainer::save_checkpoint`] into a
    /// trainer built with the same configuration.
    pub fn load_checkpoint(&mut self, dir: &std::path::Path) -> Result<(), String> {
        use burn::record::{BinFileRecorder, FullPrecisionSettings, Recorder};
        let rec = BinFileRecorder::<FullPrecisionSettings>::new();
        let err = |what: &str, e: &dyn std::fmt::Display| {
            format!("cannot load {what} from {}: {e}", dir.display())
        };
        self.agent = self
            .agent
            .clone()
            .load_file(dir.join("agent"), &rec, &self.device)
            .map_err(|e| err("agent", &e))?;
        let optim_record = Recorder::<B>::load(&rec, dir.join("optim"), &self.device)
            .map_err(|e| err("optimiser", &e))?;
        self.optim = self.optim.clone().load_record(optim_record);
        let text =
            std::fs::read_to_string(dir.join("state.json")).map_err(|e| err("state.json", &e))?;
        let state: PlainState = serde_json::from_str(&text).map_err(|e| err("state.json", &e))?;
        if let Some(s) = &mut self.esai {
            let device = self.device.clone();
            s.target = s
                .target
                .clone()
                .load_file(dir.join("target"), &rec, &device)
                .map_err(|e| err("forecast target", &e))?;
        }
        self.apply_plain_state(state)
            .map_err(|e| err("state.json", &e))
    }

    /// Runs `episodes` full episodes per copy without learning, from fresh
    /// episodes; `greedy` picks the most probable legal action, otherwise
    /// actions are sampled. The IAE and Hebbian state evolve as in training.
    pub fn evaluate(&mut self, episodes: usize, greedy: bool) -> Evaluation {
        self.evaluate_observed(episodes, greedy, &mut |_| {})
    }

    /// The environment (e.g. to inspect or alter identities for a probe).
    pub fn env_mut(&mut self) -> &mut E {
        &mut self.env
    }

    /// [`Trainer::evaluate`], showing every step's batch (after the
    /// environment stepped) to `observe` — e.g. to count who helped whom.
    pub fn evaluate_observed(
        &mut self,
        episodes: usize,
        greedy: bool,
        observe: &mut dyn FnMut(&StepBatch),
    ) -> Evaluation {
        let a = self.env.num_actions();
        let agents = self.env.num_agents();
        self.env.reset(&mut self.batch);
        if let Some(s) = &mut self.esai {
            s.e.fill(0.0);
            s.h.fill(0.0);
            s.r_prev.fill(0.0);
        }
        let inner = self.agent.valid();
        let mut st = RolloutStats::default();
        let mut scratch = Rollout::default();
        let mut returns = Vec::new();
        let (lambda_t, tau_t) = match &self.esai {
            Some(s) => (
                s.cfg.lambda_at(self.env_steps),
                s.cfg.tau_at(self.env_steps),
            ),
            None => (0.0, 0.0),
        };
        let target = episodes * self.env.num_envs();
        while returns.len() < target {
            let (zt, logits, _) = self.forward_inner(&inner);
            let actions: Vec<usize> = if greedy {
                (0..logits.len() / a)
                    .map(|i| {
                        let mask = &self.batch.mask[i * a..(i + 1) * a];
                        (0..a)
                            .filter(|&k| mask[k])
                            .max_by(|&x, &y| logits[i * a + x].total_cmp(&logits[i * a + y]))
                            .expect("a legal action")
                    })
                    .collect()
            } else {
                self.sample(&logits, a).0
            };
            let obs_t = self.batch.obs.clone();
            self.env
                .step(&actions, &mut self.batch)
                .expect("legal actions");
            observe(&self.batch);
            if self.esai.is_some() {
                let mut shaped = self.batch.reward.clone();
                let _ = self.esai_step(
                    &inner,
                    &obs_t,
                    &zt,
                    &actions,
                    lambda_t,
                    tau_t,
                    &mut shaped,
                    &mut scratch,
                    &mut st,
                );
                scratch = Rollout::default();
            }
            for (i, m) in self.batch.moral.iter().enumerate() {
                match m {
                    MoralEvent::Help => st.helps += 1,
                    MoralEvent::Steal => st.steals += 1,
                    MoralEvent::None => {}
                }
                st.episode_harm += self.batch.harm[i];
            }
            for e in 0..self.env.num_envs() {
                if self.batch.done[e] {
                    returns.push(self.batch.episode_return[e]);
                }
            }
        }
        self.env.reset(&mut self.batch);
        let n = returns.len() as f32;
        Evaluation {
            greedy,
            episodes: returns.len(),
            mean_return: returns.iter().sum::<f32>() / n,
            prosocial_rate: (st.helps + st.steals > 0)
                .then(|| st.helps as f32 / (st.helps + st.steals) as f32),
            helps: st.helps,
            steals: st.steals,
            mean_episode_harm: st.episode_harm / (n * agents as f32),
            ar_help: (st.n_ar_help > 0).then(|| st.ar_help / st.n_ar_help as f32),
            ar_steal: (st.n_ar_steal > 0).then(|| st.ar_steal / st.n_ar_steal as f32),
        }
    }

    /// One rollout and one learning phase; `total_updates` drives the entropy anneal.
    pub fn update(&mut self, total_updates: usize) -> UpdateMetrics
    where
        E: Send,
    {
        self.update_watched(total_updates, &mut Unwatched)
            .expect("an unwatched update never stops")
    }

    /// [`Trainer::update`] under a watcher, which sees every environment
    /// step, every gradient step and the end of the update. If it answers
    /// [`Flow::Stop`], the update is discarded: the trainer returns to the
    /// state it had when the update began (networks, optimiser, target,
    /// environment, IAE, generators), ready to checkpoint or continue.
    pub fn update_watched(
        &mut self,
        total_updates: usize,
        watcher: &mut (dyn Watcher + Send),
    ) -> Result<UpdateMetrics, Stopped>
    where
        E: Send,
    {
        INLINE_POOL.with(|pool| pool.install(|| self.update_inline(total_updates, watcher)))
    }

    /// [`Trainer::update_watched`]'s body, on [`INLINE_POOL`]'s worker.
    fn update_inline(
        &mut self,
        total_updates: usize,
        watcher: &mut (dyn Watcher + Send),
    ) -> Result<UpdateMetrics, Stopped> {
        let start = Instant::now();
        let snap = self.snapshot();
        let mut watch_seconds = start.elapsed().as_secs_f32();
        let update_no = self.updates + 1;
        let stop = |trainer: &mut Self, snap: Snapshot<B>, at: String| {
            trainer.restore(snap);
            Err(Stopped {
                update: update_no,
                at,
            })
        };
        let (n, t_len, a) = (
            self.cfg.num_envs,
            self.cfg.ppo.rollout_steps,
            self.env.num_actions(),
        );
        let agents = self.env.num_agents();
        let inner = self.agent.valid();
        let mut ro = Rollout::default();
        let mut st = RolloutStats::default();
        let (lambda_t, tau_t) = match &self.esai {
            Some(s) => (
                s.cfg.lambda_at(self.env_steps),
                s.cfg.tau_at(self.env_steps),
            ),
            None => (0.0, 0.0),
        };
        let mut esai_seconds = 0.0f32;
        for step in 0..t_len {
            let (zt, logits, values) = self.forward_inner(&inner);
            let nonfinite = if !logits.iter().all(|v| v.is_finite()) {
                Some("logits")
            } else if !values.iter().all(|v| v.is_finite()) {
                Some("values")
            } else {
                None
            };
            let (actions, logp) = self.sample(&logits, a);
            let obs_t = self.batch.obs.clone();
            ro.obs.extend_from_slice(&obs_t);
            ro.mask.extend_from_slice(&self.batch.mask);
            self.env
                .step(&actions, &mut self.batch)
                .expect("actions are sampled from the legal set");
            let mut shaped: Vec<f32> = match &self.method {
                Method::Ppo | Method::Esai(_) => self.batch.reward.clone(),
                Method::RewardShaping { lambda } => self
                    .batch
                    .reward
                    .iter()
                    .zip(&self.batch.harm)
                    .map(|(r, h)| r - lambda * h)
                    .collect(),
                Method::Lagrangian { .. } => self
                    .batch
                    .reward
                    .iter()
                    .zip(&self.batch.harm)
                    .map(|(r, h)| r - self.mu * h)
                    .collect(),
            };
            let nonfinite = nonfinite
                .or_else(|| (!self.batch.reward.iter().all(|v| v.is_finite())).then_some("reward"));
            let mut norms = StepNorms::default();
            if self.esai.is_some() {
                let t_esai = Instant::now();
                norms = self.esai_step(
                    &inner,
                    &obs_t,
                    &zt,
                    &actions,
                    lambda_t,
                    tau_t,
                    &mut shaped,
                    &mut ro,
                    &mut st,
                );
                if self
                    .take_fault(|f| {
                        *f == Fault::NanIae {
                            update: update_no,
                            step,
                        }
                    })
                    .is_some()
                {
                    let s = self.esai.as_mut().expect("ESAI state");
                    s.e[0] = f32::NAN;
                    norms.e[0] = f32::NAN;
                }
                esai_seconds += t_esai.elapsed().as_secs_f32();
            }
            let t0 = Instant::now();
            let flow = watcher.on_step(&StepProbe {
                update: update_no,
                step,
                env_steps: self.env_steps + step * n,
                agents,
                iae_norms: &norms.e,
                hebbian_norms: &norms.h,
                obs_norms: &norms.z,
                nonfinite,
            });
            watch_seconds += t0.elapsed().as_secs_f32();
            if flow == Flow::Stop {
                return stop(self, snap, format!("rollout step {step}"));
            }
            for i in 0..n {
                ro.dones.push(self.batch.done[i / agents]);
                self.episode_harm[i] += self.batch.harm[i];
                match self.batch.moral[i] {
                    MoralEvent::Help => st.helps += 1,
                    MoralEvent::Steal => st.steals += 1,
                    MoralEvent::None => {}
                }
                if self.batch.done[i / agents] {
                    st.episode_harm += self.episode_harm[i];
                    self.episode_harm[i] = 0.0;
                }
            }
            for e in 0..self.env.num_envs() {
                if self.batch.done[e] {
                    st.episodes += 1;
                    st.ret_sum += self.batch.episode_return[e];
                }
            }
            ro.rewards.extend(shaped);
            ro.actions.extend(actions);
            ro.logp.extend(logp);
            ro.values.extend(values);
        }
        self.env_steps += n * t_len;
        let rollout_seconds = start.elapsed().as_secs_f32();
        let (_, _, last_values) = self.forward_inner(&inner);
        let (advantages, returns) = gae(
            &ro,
            &last_values,
            n,
            self.cfg.ppo.discount,
            self.cfg.ppo.gae_lambda,
        );

        let frac = if total_updates > 1 {
            self.updates as f32 / (total_updates - 1) as f32
        } else {
            0.0
        };
        let ent_coef = self.cfg.ppo.entropy_start
            + (self.cfg.ppo.entropy_end - self.cfg.ppo.entropy_start) * frac.min(1.0);
        let total = n * t_len;
        let mb = self.cfg.ppo.minibatch;
        let mut idx: Vec<usize> = (0..total).collect();
        let mut steps = 0usize;
        let mut acc = [0.0f32; 8];
        let (mut grad_sum, mut grad_max) = (0.0f32, 0.0f32);
        for _ in 0..self.cfg.ppo.epochs {
            for k in (1..total).rev() {
                let j = (self.rng.next_u64() % (k as u64 + 1)) as usize;
                idx.swap(k, j);
            }
            for chunk in idx.chunks(mb).filter(|c| c.len() == mb) {
                let poison = steps == 0
                    && self
                        .take_fault(|f| *f == Fault::NanLoss { update: update_no })
                        .is_some();
                let (stats, loss, grad_norm) =
                    self.learn(&ro, &advantages, &returns, chunk, ent_coef, poison);
                acc.iter_mut().zip(stats).for_each(|(x, y)| *x += y);
                grad_sum += grad_norm;
                grad_max = grad_max.max(grad_norm);
                self.project_g();
                self.ema_update();
                let t0 = Instant::now();
                let flow = watcher.on_gradient_step(&GradProbe {
                    update: update_no,
                    step: steps,
                    loss,
                    grad_norm,
                });
                watch_seconds += t0.elapsed().as_secs_f32();
                if flow == Flow::Stop {
                    return stop(self, snap, format!("gradient step {steps}"));
                }
                steps += 1;
            }
        }
        if let Some(Fault::ScaleGPhi { factor, .. }) = self
            .take_fault(|f| matches!(f, Fault::ScaleGPhi { update, .. } if *update == update_no))
        {
            if let Some(nets) = self.agent.esai.take() {
                let g = nets.g.scale_output(factor);
                self.agent.esai = Some(EsaiNets { g, ..nets });
            }
            self.projection_broken = true;
        }
        self.updates += 1;
        let mean_cost = if st.episodes > 0 {
            st.episode_harm / (st.episodes * agents) as f32
        } else {
            0.0
        };
        if let Method::Lagrangian { cost_limit, lr } = self.method {
            if st.episodes > 0 {
                self.mu = (self.mu + lr * (mean_cost - cost_limit)).max(0.0);
            }
        }
        let s = steps.max(1) as f32;
        let mean = |sum: f32, count: usize| (count > 0).then(|| sum / count as f32);
        let t0 = Instant::now();
        let losses = [
            ("entropy", acc[0] / s),
            ("policy_loss", acc[1] / s),
            ("value_loss", acc[2] / s),
            ("forecast_loss", acc[5] / s),
            ("harm_loss", acc[6] / s),
            ("bias_loss", acc[7] / s),
        ];
        let g_phi = self
            .agent
            .esai
            .as_ref()
            .filter(|_| watcher.wants_g_phi(self.updates))
            .map(|n| n.g.to_core());
        let nonfinite = if let Some((name, _)) = losses.iter().find(|(_, v)| !v.is_finite()) {
            Some(*name)
        } else if matches!(g_phi, Some(None)) {
            Some("g_phi weights")
        } else {
            None
        };
        let flow = watcher.on_update(&UpdateProbe {
            update: self.updates,
            env_steps: self.env_steps,
            entropy: acc[0] / s,
            losses: &losses,
            g_phi: g_phi.as_ref().and_then(|g| g.as_ref()),
            nonfinite,
        });
        watch_seconds += t0.elapsed().as_secs_f32();
        if flow == Flow::Stop {
            return stop(self, snap, "end of update".into());
        }
        Ok(UpdateMetrics {
            update: self.updates,
            env_steps: self.env_steps,
            episodes: st.episodes,
            mean_return: mean(st.ret_sum, st.episodes),
            mean_episode_harm: mean(st.episode_harm, st.episodes * agents),
            prosocial_rate: (st.helps + st.steals > 0)
                .then(|| st.helps as f32 / (st.helps + st.steals) as f32),
            helps: st.helps,
            steals: st.steals,
            entropy: acc[0] / s,
            policy_loss: acc[1] / s,
            value_loss: acc[2] / s,
            approx_kl: acc[3] / s,
            clip_fraction: acc[4] / s,
            forecast_loss: self.esai.as_ref().map(|_| acc[5] / s),
            harm_loss: self.esai.as_ref().map(|_| acc[6] / s),
            bias_loss: self.similarity_on().then_some(acc[7] / s),
            similarity_mean: self.similarity_mean(),
            ar_help: mean(st.ar_help, st.n_ar_help),
            ar_steal: mean(st.ar_steal, st.n_ar_steal),
            iae_norm_mean: mean(st.e_norm_sum, st.e_count),
            iae_norm_max: self.esai.as_ref().map(|_| st.e_norm_max),
            hebbian_norm_mean: mean(st.h_norm_sum, st.e_count),
            hebbian_norm_max: self.esai.as_ref().map(|_| st.h_norm_max),
            grad_norm_mean: grad_sum / s,
            grad_norm_max: grad_max,
            lambda: self.esai.as_ref().map(|_| lambda_t),
            tau: self.esai.as_ref().map(|_| tau_t),
            multiplier: matches!(self.method, Method::Lagrangian { .. }).then_some(self.mu),
            gradient_steps: steps,
            entropy_coef: ent_coef,
            seconds: start.elapsed().as_secs_f32(),
            rollout_seconds,
            watch_seconds,
            esai_step_seconds: esai_seconds,
        })
    }

    /// The ESAI part of one environment step: IAE update (Eq. 3), forecasts
    /// and softmin reference (Eq. 4–5), regret shaping (Eq. 6, 11), Hebbian
    /// trace (Eq. 8); records what training needs.
    #[allow(clippy::too_many_arguments)]
    fn esai_step(
        &mut self,
        inner: &Agent<B::InnerBackend>,
        obs_t: &[f32],
        zt: &[f32],
        actions: &[usize],
        lambda_t: f32,
        tau_t: f32,
        shaped: &mut [f32],
        ro: &mut Rollout,
        st: &mut RolloutStats,
    ) -> StepNorms {
        let (n, d, a) = (
            self.cfg.num_envs,
            self.env.obs_dim(),
            self.env.num_actions(),
        );
        let agents = self.env.num_agents();
        let dev = self.device.clone();
        let nets = inner
            .esai
            .as_ref()
            .expect("ESAI nets exist with ESAI state");
        let s = self.esai.as_mut().expect("ESAI state");
        let (k, mech) = (s.cfg.k, s.cfg.mechanisms);
        // Diffusion part of Eq. 3 per copy: (γ_E I − αL) E over the copy's agents.
        let mut base = vec![0.0f32; n * k];
        let graph = self.env.graph();
        let alpha = if mech.diffusion {
            s.cfg.alpha as f64
        } else {
            0.0
        };
        // Eq. 9: β from the current identity embeddings, per copy and edge
        // (the environment's identities are only fetched when they are used).
        let beta = match nets.identity {
            Some(_) => self
                .env
                .identities()
                .and_then(|id| nets.edge_similarities(&id, graph)),
            None => None,
        };
        let edges = graph.edge_count() * 2;
        let mut col = vec![0.0f64; agents];
        let mut out = vec![0.0f64; agents];
        for c in 0..n / agents {
            for dim in 0..k {
                for (i, v) in col.iter_mut().enumerate() {
                    *v = s.e[(c * agents + i) * k + dim] as f64;
                }
                match &beta {
                    Some(b) => graph.apply_m_row_reweighted(
                        &b[c * edges..(c + 1) * edges],
                        s.cfg.gamma_e as f64,
                        alpha,
                        &col,
                        &mut out,
                    ),
                    None => graph.apply_m(
                        esai_core::graph::LaplacianKind::Row,
                        s.cfg.gamma_e as f64,
                        alpha,
                        &col,
                        &mut out,
                    ),
                }
                for (i, v) in out.iter().enumerate() {
                    base[(c * agents + i) * k + dim] = *v as f32;
                }
            }
        }
        // g_φ(E, z̃, onehot(a), r, h).
        let mut g_in = Vec::with_capacity(n * (k + d + a + 2));
        let oh = one_hot(actions, a);
        for i in 0..n {
            g_in.extend_from_slice(&s.e[i * k..(i + 1) * k]);
            g_in.extend_from_slice(&zt[i * d..(i + 1) * d]);
            g_in.extend_from_slice(&oh[i * a..(i + 1) * a]);
            g_in.push(self.batch.reward[i]);
            g_in.push(self.batch.harm[i]);
        }
        let g_out: Vec<f32> = nets
            .g
            .forward(Tensor::from_data(
                TensorData::new(g_in, [n, k + d + a + 2]),
                &dev,
            ))
            .into_data()
            .into_vec()
            .expect("f32");
        let e_next: Vec<f32> = base.iter().zip(&g_out).map(|(b, g)| b + g).collect();
        // Counterfactual forecasts for every action with the EMA target.
        let m = s.cfg.read_dim;
        let read: Vec<f32> = if mech.hebbian {
            nets.read
                .forward(Tensor::<B::InnerBackend, 2>::from_data(
                    TensorData::new(s.h.clone(), [n, k * d]),
                    &dev,
                ))
                .into_data()
                .into_vec()
                .expect("f32")
        } else {
            vec![0.0; n * m]
        };
        let width = d + a + 1 + m;
        let mut f_in = Vec::with_capacity(n * a * width);
        for i in 0..n {
            for act in 0..a {
                f_in.extend_from_slice(&obs_t[i * d..(i + 1) * d]);
                f_in.extend((0..a).map(|j| if j == act { 1.0 } else { 0.0 }));
                f_in.push(s.r_prev[i]);
                f_in.extend_from_slice(&read[i * m..(i + 1) * m]);
            }
        }
        let fc: Vec<f32> = s
            .target
            .forward(Tensor::from_data(
                TensorData::new(f_in, [n * a, width]),
                &dev,
            ))
            .into_data()
            .into_vec()
            .expect("f32");
        for i in 0..n {
            let (_, reference) = softmin_reference(&fc[i * a * k..(i + 1) * a * k], k, tau_t);
            let c = i / agents;
            let nb: Vec<f32> = graph
                .neighbours(i % agents)
                .map(|(j, _)| {
                    s.e[(c * agents + j) * k..(c * agents + j + 1) * k]
                        .iter()
                        .map(|v| v * v)
                        .sum::<f32>()
                        .sqrt()
                })
                .collect();
            let ar = alignment_regret(&e_next[i * k..(i + 1) * k], &reference, s.cfg.kappa, &nb);
            if mech.regret {
                shaped[i] -= lambda_t * ar;
            }
            match self.batch.moral[i] {
                MoralEvent::Help => {
                    st.ar_help += ar;
                    st.n_ar_help += 1;
                }
                MoralEvent::Steal => {
                    st.ar_steal += ar;
                    st.n_ar_steal += 1;
                }
                MoralEvent::None => {}
            }
        }
        // Record, then advance the state (Hebbian uses E_t and z_t).
        ro.e.extend_from_slice(&s.e);
        ro.base.extend_from_slice(&base);
        ro.hebb.extend_from_slice(&s.h);
        ro.raw_reward.extend_from_slice(&self.batch.reward);
        ro.harm.extend_from_slice(&self.batch.harm);
        ro.r_prev.extend_from_slice(&s.r_prev);
        let (eta, delta) = (s.cfg.eta_h, s.cfg.delta_h);
        let mut norms = StepNorms {
            e: Vec::with_capacity(n),
            h: Vec::with_capacity(if mech.hebbian { n } else { 0 }),
            z: Vec::with_capacity(if mech.hebbian { n } else { 0 }),
        };
        for i in 0..n {
            if mech.hebbian {
                hebbian_update(
                    &mut s.h[i * k * d..(i + 1) * k * d],
                    &s.e[i * k..(i + 1) * k],
                    &obs_t[i * d..(i + 1) * d],
                    eta,
                    delta,
                );
            }
            let norm = e_next[i * k..(i + 1) * k]
                .iter()
                .map(|v| v * v)
                .sum::<f32>()
                .sqrt();
            let hn = s.h[i * k * d..(i + 1) * k * d]
                .iter()
                .map(|v| v * v)
                .sum::<f32>()
                .sqrt();
            st.e_norm_sum += norm;
            st.e_norm_max = st.e_norm_max.max(norm);
            st.h_norm_sum += hn;
            st.h_norm_max = st.h_norm_max.max(hn);
            st.e_count += 1;
            norms.e.push(norm);
            if mech.hebbian {
                norms.h.push(hn);
                norms.z.push(
                    obs_t[i * d..(i + 1) * d]
                        .iter()
                        .map(|v| v * v)
                        .sum::<f32>()
                        .sqrt(),
                );
            }
        }
        s.e = e_next;
        s.r_prev.copy_from_slice(&self.batch.reward);
        for i in 0..n {
            if self.batch.done[i / agents] {
                s.e[i * k..(i + 1) * k].fill(0.0);
                s.h[i * k * d..(i + 1) * k * d].fill(0.0);
                s.r_prev[i] = 0.0;
            }
        }
        norms
    }

    fn similarity_on(&self) -> bool {
        self.esai.as_ref().is_some_and(|s| s.identity.is_some())
    }

    /// Mean `β_ij` over every copy's edges for the current embeddings.
    pub fn similarity_mean(&self) -> Option<f32> {
        let id = self.env.identities()?;
        let beta = self
            .agent
            .esai
            .as_ref()?
            .edge_similarities(&id, self.env.graph())?;
        Some((beta.iter().sum::<f64>() / beta.len().max(1) as f64) as f32)
    }

    /// Eq. 10: `‖Ã ⊙ S‖_F² = Σ_edges (A_ij β_ij²)²` with `β` from the
    /// current identity embeddings, averaged over the environment copies.
    /// None without similarity weighting.
    fn bias_loss(&self, nets: &EsaiNets<B>) -> Option<Tensor<B, 1>> {
        nets.identity.as_ref()?;
        let id = self.env.identities()?;
        let graph = self.env.graph();
        let n = graph.agents();
        let copies = id.own.len() / (id.dim * n);
        let phi = nets.unit_embeddings(self.tensor(id.own, [copies * n, id.dim]))?;
        let (mut from, mut to, mut weight) = (Vec::new(), Vec::new(), Vec::new());
        for c in 0..copies {
            for (i, j, w) in graph.edges() {
                from.push((c * n + i) as i64);
                to.push((c * n + j) as i64);
                weight.push(w as f32);
            }
        }
        let e = from.len();
        let pi = phi.clone().select(0, self.tensor::<i64, 1, Int>(from, [e]));
        let pj = phi.select(0, self.tensor::<i64, 1, Int>(to, [e]));
        let beta = burn::tensor::activation::relu((pi * pj).sum_dim(1).squeeze::<1>(1));
        let w: Tensor<B, 1> = self.tensor(weight, [e]);
        let term = (w * beta.powf_scalar(2.0)).powf_scalar(2.0).sum() / copies as f32;
        Some(term)
    }

    /// One gradient step on a minibatch; returns
    /// ([entropy, policy loss, value loss, kl, clip fraction, forecast loss,
    /// harm loss, bias loss], total loss, pre-clip gradient norm). `poison` makes the
    /// loss NaN (fault injection).
    fn learn(
        &mut self,
        ro: &Rollout,
        adv: &[f32],
        ret: &[f32],
        chunk: &[usize],
        ent_coef: f32,
        poison: bool,
    ) -> ([f32; 8], f32, f32) {
        // burn 0.18's autodiff graph lives in one process-wide server; two
        // threads building and back-propagating graphs at once can corrupt
        // each other's steps (seen as a panic in backward). Gradient steps of
        // trainers in one process are therefore serialised.
        let _graph = INIT_LOCK
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let (d, a, m) = (self.env.obs_dim(), self.env.num_actions(), chunk.len());
        let pick = |v: &[f32], w: usize| -> Vec<f32> {
            chunk
                .iter()
                .flat_map(|&i| v[i * w..(i + 1) * w].iter().copied())
                .collect()
        };
        let obs = pick(&ro.obs, d);
        let illegal: Vec<bool> = chunk
            .iter()
            .flat_map(|&i| ro.mask[i * a..(i + 1) * a].iter().map(|&ok| !ok))
            .collect();
        let acts: Vec<usize> = chunk.iter().map(|&i| ro.actions[i]).collect();
        let actions: Vec<i64> = acts.iter().map(|&x| x as i64).collect();
        let old_logp = pick(&ro.logp, 1);
        let mut mb_adv = pick(adv, 1);
        let mean = mb_adv.iter().sum::<f32>() / m as f32;
        let std = (mb_adv.iter().map(|x| (x - mean).powi(2)).sum::<f32>() / m as f32).sqrt() + 1e-8;
        mb_adv.iter_mut().for_each(|x| *x = (*x - mean) / std);
        let mb_ret = pick(ret, 1);

        let obs_t: Tensor<B, 2> = self.tensor(obs, [m, d]);
        let illegal_t: Tensor<B, 2, Bool> = self.tensor(illegal, [m, a]);
        let act_t: Tensor<B, 2, Int> = self.tensor(actions, [m, 1]);
        let old_t: Tensor<B, 1> = self.tensor(old_logp, [m]);
        let adv_t: Tensor<B, 1> = self.tensor(mb_adv, [m]);
        let ret_t: Tensor<B, 1> = self.tensor(mb_ret, [m]);

        // ESAI: the policy sees z̃; g_φ and h_ψ get their own losses.
        let mut aux: Option<(Tensor<B, 1>, Tensor<B, 1>)> = None;
        let mut bias: Option<Tensor<B, 1>> = None;
        let policy_in = match (&self.esai, &self.agent.esai) {
            (Some(s), Some(nets)) => {
                let k = s.cfg.k;
                let e_t: Tensor<B, 2> = self.tensor(pick(&ro.e, k), [m, k]);
                let embedded = nets.embed(obs_t.clone(), s.identity.as_ref());
                let zt = nets.attend(e_t.clone(), embedded, s.cfg.mechanisms.attention);
                bias = self.bias_loss(nets);
                let oh: Tensor<B, 2> = self.tensor(one_hot(&acts, a), [m, a]);
                let r: Tensor<B, 2> = self.tensor(pick(&ro.raw_reward, 1), [m, 1]);
                let h1 = pick(&ro.harm, 1);
                let h: Tensor<B, 2> = self.tensor(h1.clone(), [m, 1]);
                let base: Tensor<B, 2> = self.tensor(pick(&ro.base, k), [m, k]);
                let g_in = Tensor::cat(vec![e_t, zt.clone().detach(), oh.clone(), r, h], 1);
                let innovation = nets.g.forward(g_in);
                let e_next = base + innovation.clone();
                // Harm supervision on the innovation: ‖g_φ‖ ≈ L_g · h (see module docs).
                let norm = (innovation.powf_scalar(2.0).sum_dim(1) + 1e-8).sqrt();
                let h_t: Tensor<B, 2> = self.tensor(h1, [m, 1]);
                let harm_loss = (norm - h_t * s.cfg.lipschitz).powf_scalar(2.0).mean();
                let read = if s.cfg.mechanisms.hebbian {
                    nets.read
                        .forward(self.tensor(pick(&ro.hebb, k * d), [m, k * d]))
                } else {
                    Tensor::zeros([m, s.cfg.read_dim], &self.device)
                };
                let r_prev: Tensor<B, 2> = self.tensor(pick(&ro.r_prev, 1), [m, 1]);
                let f_in = Tensor::cat(vec![obs_t.clone(), oh, r_prev, read], 1);
                let forecast_loss = (nets.forecast.forward(f_in) - e_next.detach())
                    .powf_scalar(2.0)
                    .sum_dim(1)
                    .mean();
                aux = Some((forecast_loss.reshape([1]), harm_loss.reshape([1])));
                zt
            }
            _ => obs_t,
        };

        let logits = self
            .agent
            .ac
            .actor
            .forward(policy_in.clone())
            .mask_fill(illegal_t, -1e9);
        let logp_all = log_softmax(logits, 1);
        let logp: Tensor<B, 1> = logp_all.clone().gather(1, act_t).squeeze(1);
        let log_ratio = logp - old_t;
        let ratio = log_ratio.clone().exp();
        let clip = self.cfg.ppo.clip;
        let policy_loss = clipped_surrogate_loss(ratio.clone(), adv_t, clip);
        let entropy = (logp_all.clone().exp() * logp_all).sum_dim(1).mean().neg();
        let values: Tensor<B, 1> = self.agent.ac.critic.forward(policy_in).squeeze(1);
        let value_loss = (values - ret_t).powf_scalar(2.0).mean();
        let mut loss = policy_loss.clone() + value_loss.clone() * self.cfg.ppo.value_coef
            - entropy.clone() * ent_coef;
        let scalar = |t: Tensor<B, 1>| -> f32 { t.into_data().into_vec::<f32>().expect("f32")[0] };
        let (mut fl, mut hl) = (0.0, 0.0);
        if let (Some((f, h)), Some(s)) = (aux, &self.esai) {
            fl = scalar(f.clone());
            hl = scalar(h.clone());
            loss = loss + f * s.cfg.forecast_coef + h * s.cfg.harm_coef;
        }
        let mut bl = 0.0;
        if let (Some(b), Some(s)) = (bias, &self.esai) {
            bl = scalar(b.clone());
            loss = loss + b * s.cfg.lambda_bias;
        }

        let kl_v: Vec<f32> = ((ratio.clone() - 1.0) - log_ratio)
            .mean()
            .into_data()
            .into_vec()
            .expect("f32");
        let ratios: Vec<f32> = ratio.into_data().into_vec().expect("f32");
        let clipped = ratios.iter().filter(|r| (**r - 1.0).abs() > clip).count() as f32 / m as f32;
        let stats = [
            scalar(entropy.clone()),
            scalar(policy_loss.clone()),
            scalar(value_loss.clone()),
            kl_v[0],
            clipped,
            fl,
            hl,
            bl,
        ];

        if poison {
            loss = loss * f32::NAN;
        }
        let total = scalar(loss.clone());
        let grads = GradientsParams::from_grads(loss.backward(), &self.agent);
        let mut norm = GradNorm {
            grads: &grads,
            sum: 0.0,
        };
        self.agent.visit(&mut norm);
        let norm = norm.sum.sqrt() as f32;
        let agent = self.agent.clone();
        self.agent = self.optim.step(self.cfg.ppo.lr, agent, grads);
        (stats, total, norm)
    }
}

/// Sums the squared gradients of a module's parameters.
struct GradNorm<'a> {
    grads: &'a GradientsParams,
    sum: f64,
}

impl<B: AutodiffBackend> burn::module::ModuleVisitor<B> for GradNorm<'_> {
    fn visit_float<const D: usize>(&mut self, id: burn::module::ParamId, _t: &Tensor<B, D>) {
        if let Some(g) = self.grads.get::<B::InnerBackend, D>(id) {
            let sq: f32 =
                burn::tensor::ElementConversion::elem(g.powf_scalar(2.0).sum().into_scalar());
            self.sum += sq as f64;
        }
    }
}

/// Everything but tensors that a checkpoint must hold to resume exactly.
#[derive(Serialize, serde::Deserialize)]
struct PlainState {
    rng: u64,
    env_steps: usize,
    updates: usize,
    mu: f32,
    episode_harm: Vec<f32>,
    env: String,
    esai: Option<(Vec<f32>, Vec<f32>, Vec<f32>)>,
    /// `g_φ`'s projection singular vectors (ESAI only).
    #[serde(default)]
    projector: Vec<Vec<f32>>,
}

/// Result of [`Trainer::evaluate`].
#[derive(Debug, Clone, Serialize)]
pub struct Evaluation {
    /// Greedy (true) or sampled (false) actions.
    pub greedy: bool,
    /// Episodes run.
    pub episodes: usize,
    /// Mean extrinsic return.
    pub mean_return: f32,
    /// HELP / (HELP + STEAL).
    pub prosocial_rate: Option<f32>,
    /// In-range HELPs.
    pub helps: usize,
    /// In-range STEALs.
    pub steals: usize,
    /// Mean harm per agent and episode.
    pub mean_episode_harm: f32,
    /// Mean alignment regret of HELPs (ESAI).
    pub ar_help: Option<f32>,
    /// Mean alignment regret of STEALs (ESAI).
    pub ar_steal: Option<f32>,
}

#[derive(Default)]
struct RolloutStats {
    helps: usize,
    steals: usize,
    episodes: usize,
    ret_sum: f32,
    episode_harm: f32,
    ar_help: f32,
    n_ar_help: usize,
    ar_steal: f32,
    n_ar_steal: usize,
    e_norm_sum: f32,
    e_norm_max: f32,
    h_norm_sum: f32,
    h_norm_max: f32,
    e_count: usize,
}

/// Per-agent norms of one ESAI step, for the watcher.
#[derive(Default)]
struct StepNorms {
    e: Vec<f32>,
    h: Vec<f32>,
    z: Vec<f32>,
}

/// Eq. 8 for one agent in f32: `H ← (1 − δ_H) H + η_H E zᵀ`, `H` row-major `k × d`.
pub fn hebbian_update(h: &mut [f32], e: &[f32], z: &[f32], eta: f32, delta: f32) {
    let d = z.len();
    for (r, er) in e.iter().enumerate() {
        for (cell, zc) in h[r * d..(r + 1) * d].iter_mut().zip(z) {
            *cell = (1.0 - delta) * *cell + eta * er * zc;
        }
    }
}

/// PPO-Clip loss (Eq. 12): `−mean(min(ρ A, clip(ρ, 1 − ε, 1 + ε) A))`.
pub fn clipped_surrogate_loss<B: burn::tensor::backend::Backend>(
    ratio: Tensor<B, 1>,
    adv: Tensor<B, 1>,
    clip: f32,
) -> Tensor<B, 1> {
    let surr1 = ratio.clone() * adv.clone();
    let surr2 = ratio.clamp(1.0 - clip, 1.0 + clip) * adv;
    surr1.min_pair(surr2).mean().neg()
}

/// Generalised advantage estimation over `[T][n]` rollouts (auto-reset aware).
fn gae(
    ro: &Rollout,
    last_values: &[f32],
    n: usize,
    gamma: f32,
    lambda: f32,
) -> (Vec<f32>, Vec<f32>) {
    let total = ro.rewards.len();
    let t_len = total / n;
    let mut adv = vec![0.0; total];
    for (e, &bootstrap) in last_values.iter().enumerate().take(n) {
        let mut next_adv = 0.0;
        let mut next_value = bootstrap;
        for t in (0..t_len).rev() {
            let i = t * n + e;
            let nonterminal = if ro.dones[i] { 0.0 } else { 1.0 };
            let delta = ro.rewards[i] + gamma * next_value * nonterminal - ro.values[i];
            next_adv = delta + gamma * lambda * nonterminal * next_adv;
            adv[i] = next_adv;
            next_value = ro.values[i];
        }
    }
    let returns = adv.iter().zip(&ro.values).map(|(a, v)| a + v).collect();
    (adv, returns)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gae_matches_hand_computation() {
        // One env, two steps, no terminal: δ1 = 1 + 0.5·3 − 2 = 0.5, A1 = 0.5;
        // δ0 = 0 + 0.5·2 − 1 = 0, A0 = 0 + 0.5·0.5·0.5 = 0.125.
        let ro = Rollout {
            values: vec![1.0, 2.0],
            rewards: vec![0.0, 1.0],
            dones: vec![false, false],
            ..Rollout::default()
        };
        let (adv, ret) = gae(&ro, &[3.0], 1, 0.5, 0.5);
        assert!(
            (adv[1] - 0.5).abs() < 1e-6 && (adv[0] - 0.125).abs() < 1e-6,
            "{adv:?}"
        );
        assert!((ret[0] - 1.125).abs() < 1e-6);
        // A terminal step does not bootstrap.
        let ro2 = Rollout {
            dones: vec![false, true],
            ..ro
        };
        let (adv2, _) = gae(&ro2, &[100.0], 1, 0.5, 0.5);
        assert!((adv2[1] - (1.0 - 2.0)).abs() < 1e-6);
    }

    #[test]
    fn clipped_surrogate_matches_hand_computation() {
        type B = burn::backend::NdArray;
        let dev = Default::default();
        // ρ = (0.5, 1.5, 1.1), A = (1, 1, −2), ε = 0.2:
        // min(0.5, 0.8)=0.5; min(1.5, 1.2)=1.2; min(−2.2, −2.2)=−2.2 → −mean = −(−0.5/3).
        let ratio = Tensor::<B, 1>::from_data(TensorData::new(vec![0.5f32, 1.5, 1.1], [3]), &dev);
        let adv = Tensor::<B, 1>::from_data(TensorData::new(vec![1.0f32, 1.0, -2.0], [3]), &dev);
        let loss: Vec<f32> = clipped_surrogate_loss(ratio, adv, 0.2)
            .into_data()
            .into_vec()
            .unwrap();
        assert!((loss[0] - 0.5 / 3.0).abs() < 1e-6, "{loss:?}");
    }

    #[test]
    fn hebbian_update_matches_core_plain_version() {
        let (e, z) = ([0.5f32, -1.0], [2.0f32, 0.25, -1.0]);
        let mut h32 = vec![0.1f32; 6];
        let mut h64 = vec![0.1f64; 6];
        for _ in 0..5 {
            hebbian_update(&mut h32, &e, &z, 0.01, 0.02);
            esai_core::dynamics::hebbian_step(
                &mut h64,
                &[0.5, -1.0],
                &[2.0, 0.25, -1.0],
                0.01,
                0.02,
            );
        }
        for (a, b) in h32.iter().zip(&h64) {
            assert!((*a as f64 - b).abs() < 1e-6);
        }
    }

    #[test]
    fn diffusion_on_three_agents_matches_hand_computation() {
        // Path 0 — 1 — 2 with unit weights, row L; γ = 0.9, α = 0.1; E = (1, 0, 0) (k = 1):
        // row 0: (γ − α)·1 + α·E_1 = 0.8; row 1: α·(E_0 + E_2)/2 = 0.05; row 2: α·E_1 = 0.
        let g = esai_core::graph::Graph::from_edges(3, &[(0, 1, 1.0), (1, 2, 1.0)]).unwrap();
        let out = esai_core::dynamics::diffuse(
            &g,
            esai_core::graph::LaplacianKind::Row,
            0.9,
            0.1,
            &[1.0, 0.0, 0.0],
            1,
        );
        assert!(
            (out[0] - 0.8).abs() < 1e-12 && (out[1] - 0.05).abs() < 1e-12 && out[2].abs() < 1e-12,
            "{out:?}"
        );
    }

    #[test]
    fn minibatch_larger_than_rollout_is_rejected() {
        let cfg = PpoConfig {
            num_envs: 1,
            ppo: PpoSection {
                rollout_steps: 100,
                minibatch: 128,
                ..PpoSection::default()
            },
            ..PpoConfig::default()
        };
        let e = cfg.validate().unwrap_err();
        assert_eq!(e.field, "minibatch");
        assert!(e.to_string().contains("zero gradient steps"));
    }
}
