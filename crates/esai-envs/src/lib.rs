//! Vectorised multi-agent environments for ESAI.
//!
//! Every environment implements [`VecEnv`]: `E` independent copies, each with
//! `N` learning agents on a neighbour [`Graph`], stepped as one batch. Buffers
//! are flat and row-major (`[env][agent][..]`) so a trainer can hand them to
//! a tensor library without copying element by element.
//!
//! Per agent and step an environment reports the observation, the action
//! mask, the extrinsic reward, the exogenous harm `h ≥ 0` (ESAI learns to
//! predict harm, never what harm is) and the moral event, if any.
//! Episodes reset automatically: the step that ends an episode reports
//! `done` and already returns the first observation of the next one.
//!
//! burn's `burn-rl` `Environment` trait models one single-agent copy; the
//! trainer needs batched copies with masks, harm and a graph, hence this trait.
//!
//! ```
//! use esai_envs::{moral_temptation::MoralTemptation, StepBatch, VecEnv};
//! let mut env = MoralTemptation::new(4, 7);
//! let mut batch = StepBatch::for_env(&env);
//! env.reset(&mut batch);
//! let actions = vec![0usize; env.num_envs() * env.num_agents()];
//! env.step(&actions, &mut batch).unwrap();
//! assert_eq!(batch.obs.len(), 4 * 16);
//! ```
#![warn(missing_docs)]

pub mod graph_dilemma;
pub mod moral_temptation;

use esai_core::graph::Graph;

/// What an agent's action meant morally this step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MoralEvent {
    /// No moral decision.
    #[default]
    None,
    /// A prosocial decision (e.g. an in-range HELP).
    Help,
    /// A harmful decision (e.g. an in-range STEAL).
    Steal,
}

/// Why an action batch was rejected.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum EnvError {
    /// Wrong number of actions.
    #[error("actions: got {got}, expected {expected} (num_envs × num_agents)")]
    ActionCount {
        /// Actions given.
        got: usize,
        /// Actions expected.
        expected: usize,
    },
    /// A saved state that does not fit this environment.
    #[error("environment state: {0}")]
    State(String),
    /// An action index outside the action space.
    #[error("actions[{index}] = {action}: allowed 0..{num_actions}")]
    ActionOutOfRange {
        /// Position in the batch.
        index: usize,
        /// The action.
        action: usize,
        /// Size of the action space.
        num_actions: usize,
    },
}

/// Output buffers of [`VecEnv::reset`] and [`VecEnv::step`], reused across steps.
#[derive(Debug, Clone, Default)]
pub struct StepBatch {
    /// Observations, `[E][N][obs_dim]`.
    pub obs: Vec<f32>,
    /// Legal actions, `[E][N][num_actions]`.
    pub mask: Vec<bool>,
    /// Extrinsic rewards of the step, `[E][N]`.
    pub reward: Vec<f32>,
    /// Exogenous harm caused by each agent's action, `[E][N]`, `≥ 0`.
    pub harm: Vec<f32>,
    /// Moral event of each agent's action, `[E][N]`.
    pub moral: Vec<MoralEvent>,
    /// The agent (index within the copy) each agent's action was aimed at,
    /// if any, `[E][N]` (multi-agent environments; `None` otherwise).
    pub target: Vec<Option<usize>>,
    /// Whether the step ended the copy's episode, `[E]`.
    pub done: Vec<bool>,
    /// Return of each episode that ended this step (`NaN` where none ended), `[E]`.
    pub episode_return: Vec<f32>,
}

impl StepBatch {
    /// Buffers sized for `env`.
    pub fn for_env(env: &impl VecEnv) -> Self {
        let (e, n) = (env.num_envs(), env.num_agents());
        Self {
            obs: vec![0.0; e * n * env.obs_dim()],
            mask: vec![false; e * n * env.num_actions()],
            reward: vec![0.0; e * n],
            harm: vec![0.0; e * n],
            moral: vec![MoralEvent::None; e * n],
            target: vec![None; e * n],
            done: vec![false; e],
            episode_return: vec![f32::NAN; e],
        }
    }
}

/// Where an environment's identity features sit in the observations, and
/// every learner's own feature: what ESAI's identity embeddings `φ` (Eq. 9)
/// are computed from.
#[derive(Debug, Clone, PartialEq)]
pub struct Identities {
    /// Feature dimension `F`.
    pub dim: usize,
    /// Offsets in one learner's observation where an `F`-long identity block
    /// starts: its own first, then one per neighbour slot (the block of an
    /// absent neighbour is zero).
    pub blocks: Vec<usize>,
    /// Every block holds `scale · f` with `‖f‖ = 1` (or 0 when absent).
    pub scale: f32,
    /// Every learner's own unit feature, `[E·N][F]` row-major.
    pub own: Vec<f32>,
}

/// A batch of `E` environment copies with `N` learning agents each.
pub trait VecEnv {
    /// Number of copies `E`.
    fn num_envs(&self) -> usize;
    /// Learning agents per copy `N`.
    fn num_agents(&self) -> usize;
    /// Observation length per agent.
    fn obs_dim(&self) -> usize;
    /// Size of the discrete action space.
    fn num_actions(&self) -> usize;
    /// The neighbour graph among the `N` agents of a copy.
    fn graph(&self) -> &Graph;
    /// Starts new episodes in every copy; fills `obs` and `mask`.
    fn reset(&mut self, out: &mut StepBatch);
    /// Applies one action per agent (`[E][N]`), fills every buffer of `out`.
    fn step(&mut self, actions: &[usize], out: &mut StepBatch) -> Result<(), EnvError>;
    /// The complete state of every copy (positions, clocks, generators) as
    /// JSON, so a run can resume exactly.
    fn save_state(&self) -> String;
    /// Restores a state written by [`VecEnv::save_state`] and refills `out`'s
    /// observations and masks.
    fn load_state(&mut self, state: &str, out: &mut StepBatch) -> Result<(), EnvError>;
    /// The identity features, for environments whose agents have them.
    fn identities(&self) -> Option<Identities> {
        None
    }
}

/// Every environment of this crate behind one type, chosen by name at run
/// time (`[env] name` in a spec), so the trainer and the CLI are written once.
pub enum AnyEnv {
    /// `moral-temptation`.
    MoralTemptation(moral_temptation::MoralTemptation),
    /// `graph-dilemma`.
    GraphDilemma(graph_dilemma::GraphDilemma),
}

macro_rules! delegate {
    ($self:ident, $e:ident => $body:expr) => {
        match $self {
            AnyEnv::MoralTemptation($e) => $body,
            AnyEnv::GraphDilemma($e) => $body,
        }
    };
}

impl VecEnv for AnyEnv {
    fn num_envs(&self) -> usize {
        delegate!(self, e => e.num_envs())
    }
    fn num_agents(&self) -> usize {
        delegate!(self, e => e.num_agents())
    }
    fn obs_dim(&self) -> usize {
        delegate!(self, e => e.obs_dim())
    }
    fn num_actions(&self) -> usize {
        delegate!(self, e => e.num_actions())
    }
    fn graph(&self) -> &Graph {
        delegate!(self, e => e.graph())
    }
    fn reset(&mut self, out: &mut StepBatch) {
        delegate!(self, e => e.reset(out))
    }
    fn step(&mut self, actions: &[usize], out: &mut StepBatch) -> Result<(), EnvError> {
        delegate!(self, e => e.step(actions, out))
    }
    fn save_state(&self) -> String {
        delegate!(self, e => e.save_state())
    }
    fn load_state(&mut self, state: &str, out: &mut StepBatch) -> Result<(), EnvError> {
        delegate!(self, e => e.load_state(state, out))
    }
    fn identities(&self) -> Option<Identities> {
        delegate!(self, e => e.identities())
    }
}

/// The environment a spec's `[env]` names, with `[env] copies` copies.
/// `seed` drives Moral Temptation's spawns; the graph dilemma's identities
/// always come from `[train] seed`, so evaluation meets the trained
/// population. Every problem (including an input box of `[inputs]` that does not
/// contain what the environment produces, which would void the certificate)
/// is reported at once.
pub fn from_spec(
    spec: &esai_core::spec::Spec,
    seed: u64,
) -> Result<AnyEnv, Vec<esai_core::problem::Problem>> {
    use esai_core::problem::Problem;
    let t = &spec.training;
    let problem = |field: &str, value: String, allowed: String| Problem {
        field: field.into(),
        value,
        allowed,
    };
    match t.env.name.as_str() {
        "graph-dilemma" => {
            let mut problems = Vec::new();
            if spec.graph.laplacian != esai_core::graph::LaplacianKind::Row {
                problems.push(problem(
                    "graph.laplacian",
                    "\"sym\"".into(),
                    "\"row\" to train (the trainer diffuses with Eq. 3's row-normalised L)".into(),
                ));
            }
            let cfg = graph_dilemma::DilemmaConfig {
                groups: t.env.groups,
                feature_dim: t.env.feature_dim,
                feature_noise: t.env.feature_noise,
                kin_weight: t.env.kin_weight,
                episode_len: t.env.episode_len,
                redraw_identities: t.env.redraw_identities,
            };
            let env = graph_dilemma::GraphDilemma::new(
                cfg,
                spec.graph.graph.clone(),
                t.env.copies,
                t.train.seed,
            )
            .map_err(|e| vec![problem(&format!("env.{}", e.field), e.value, e.allowed)])?;
            let i = spec.inputs;
            for (field, have, need) in [
                ("inputs.obs_norm", i.obs_norm, 1.0),
                ("inputs.action_norm", i.action_norm, 1.0),
                ("inputs.reward_abs", i.reward_abs, env.reward_bound() as f64),
                (
                    "inputs.harm_abs",
                    i.harm_abs,
                    graph_dilemma::STEAL_HARM as f64,
                ),
            ] {
                if have < need {
                    problems.push(problem(
                        field,
                        have.to_string(),
                        format!("≥ {need}: the graph dilemma on this graph produces values up to {need}, and the certificate's input box must contain them"),
                    ));
                }
            }
            if problems.is_empty() {
                Ok(AnyEnv::GraphDilemma(env))
            } else {
                Err(problems)
            }
        }
        _ if spec.graph.similarity => Err(vec![problem(
            "graph.similarity",
            "true".into(),
            format!(
                "false for env.name = {:?}: similarity weighting needs agents with identity features (env.name = \"graph-dilemma\")",
                t.env.name
            ),
        )]),
        _ => Ok(AnyEnv::MoralTemptation(
            moral_temptation::MoralTemptation::new(t.env.copies, seed),
        )),
    }
}
