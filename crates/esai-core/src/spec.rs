//! The spec file: raw TOML parsed once into checked types ("parse, don't validate").
//!
//! The format is documented in `specs/README.md`. This module does no I/O:
//! files a spec refers to (g_φ weights) are fetched through a caller-given
//! loader, so the CLI decides where paths are resolved.
//!
//! Every invalid field is reported, not only the first, each as a [`Problem`]
//! naming the field, the value and what is allowed.

use crate::graph::{Graph, GraphError, LaplacianKind};
use crate::mlp::Mlp;
use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::Deserialize;
use std::fmt;

/// One problem found in a spec.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    /// Dotted path of the field, e.g. `graph.edges[3]`.
    pub field: String,
    /// The offending value as written (or a summary of it).
    pub value: String,
    /// What is allowed instead.
    pub allowed: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.value.is_empty() {
            write!(f, "{}: {}", self.field, self.allowed)
        } else {
            write!(f, "{} = {}: {}", self.field, self.value, self.allowed)
        }
    }
}

/// Why a spec was rejected: every problem found.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub struct SpecError {
    /// All problems, in file order where possible.
    pub problems: Vec<Problem>,
}

impl fmt::Display for SpecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid spec ({} problem{})",
            self.problems.len(),
            if self.problems.len() == 1 { "" } else { "s" }
        )?;
        for p in &self.problems {
            write!(f, "\n  - {p}")?;
        }
        Ok(())
    }
}

/// A hyperparameter given either as one value or as a closed interval
/// `[lo, hi]` with `lo < hi` (region certification).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Param {
    /// One value.
    Point(f64),
    /// Every value in `[lo, hi]`, `lo < hi`.
    Range {
        /// Lower end.
        lo: f64,
        /// Upper end.
        hi: f64,
    },
}

impl Param {
    /// Smallest value covered.
    pub fn lo(self) -> f64 {
        match self {
            Self::Point(v) => v,
            Self::Range { lo, .. } => lo,
        }
    }
    /// Largest value covered.
    pub fn hi(self) -> f64 {
        match self {
            Self::Point(v) => v,
            Self::Range { hi, .. } => hi,
        }
    }
    /// The value, if this is a point.
    pub fn point(self) -> Option<f64> {
        match self {
            Self::Point(v) => Some(v),
            Self::Range { .. } => None,
        }
    }
}

impl fmt::Display for Param {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Point(v) => write!(f, "{v}"),
            Self::Range { lo, hi } => write!(f, "[{lo}, {hi}]"),
        }
    }
}

/// A number or a two-element array, as written in the TOML.
#[derive(Debug, Clone)]
struct RawParam(Vec<f64>);

impl<'de> Deserialize<'de> for RawParam {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RawParam;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a number or an interval [lo, hi]")
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<RawParam, E> {
                Ok(RawParam(vec![v]))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<RawParam, E> {
                Ok(RawParam(vec![v as f64]))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<RawParam, E> {
                Ok(RawParam(vec![v as f64]))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<RawParam, A::Error> {
                let mut out = Vec::new();
                while let Some(v) = seq.next_element::<f64>()? {
                    out.push(v);
                }
                Ok(RawParam(out))
            }
        }
        d.deserialize_any(V)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSpec {
    dynamics: RawDynamics,
    graph: RawGraph,
    update: RawUpdate,
    hebbian: RawHebbian,
    inputs: RawInputs,
    #[serde(default)]
    verify: RawVerify,
    #[serde(default)]
    env: crate::training::EnvSection,
    #[serde(default)]
    ppo: crate::training::PpoSection,
    #[serde(default)]
    esai: crate::training::EsaiSection,
    #[serde(default)]
    train: crate::training::TrainSection,
    #[serde(default)]
    monitor: crate::training::MonitorSection,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDynamics {
    gamma_e: RawParam,
    alpha: RawParam,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGraph {
    agents: usize,
    laplacian: String,
    edges: Option<Vec<(usize, usize, f64)>>,
    topology: Option<String>,
    seed: Option<u64>,
    p: Option<f64>,
    grid_cols: Option<usize>,
    #[serde(default)]
    similarity: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawUpdate {
    lipschitz: Option<RawParam>,
    e_lipschitz: Option<RawParam>,
    zero_output_norm: Option<f64>,
    weights: Option<String>,
    e_inputs: Option<usize>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHebbian {
    eta: f64,
    delta: f64,
    e_second_moment: Option<f64>,
    z_second_moment: Option<f64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawInputs {
    obs_norm: f64,
    action_norm: f64,
    reward_abs: f64,
    harm_abs: f64,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawVerify {
    timeout_ms: Option<u64>,
}

/// How the interaction graph was given.
#[derive(Debug, Clone, PartialEq)]
pub enum GraphSource {
    /// An explicit edge list.
    Edges,
    /// A named generator with its parameters, e.g. `erdos_renyi(p=0.1, seed=3)`.
    Topology(String),
}

/// The checked `[graph]` section.
#[derive(Debug, Clone)]
pub struct GraphSpec {
    /// The graph itself.
    pub graph: Graph,
    /// Which normalised Laplacian the diffusion uses.
    pub laplacian: LaplacianKind,
    /// How it was given (for reports).
    pub source: GraphSource,
    /// Diffusion weights are re-weighted at run time by learned identity
    /// similarities `β_ij ∈ [0, 1]` (Eq. 9): the trained `L` is any row
    /// Laplacian of the graph re-weighted that way, so the verifier bounds
    /// `‖M‖` over all of them. Row Laplacian only.
    pub similarity: bool,
}

/// What is known about `g_φ`'s Lipschitz constants.
#[derive(Debug, Clone)]
pub enum UpdateBound {
    /// Declared constants (trusted as stated by the user).
    Declared {
        /// `L_g`, over all inputs.
        lipschitz: Param,
        /// `L_E`, in the E argument only; by default `L_E = L_g` (always valid).
        e_lipschitz: Option<Param>,
        /// A bound on `‖g_φ(0)‖₂`; without it no numeric IAE bound B is given.
        zero_output_norm: Option<f64>,
    },
    /// Trained weights; the first `e_inputs` inputs are `E`.
    Weights {
        /// The network.
        mlp: Mlp,
        /// How many leading inputs are the IAE `E`.
        e_inputs: usize,
        /// The path as written in the spec.
        path: String,
    },
}

/// The checked `[hebbian]` section (Eq. 8).
#[derive(Debug, Clone, Copy)]
pub struct Hebbian {
    /// Learning rate `η_H ≥ 0`.
    pub eta: f64,
    /// Decay `δ_H > 0`.
    pub delta: f64,
    /// Optional bound on `E‖E‖²` for Proposition 2 (else `B_E²` is used).
    pub e_second_moment: Option<f64>,
    /// Optional bound on `E‖z‖²` for Proposition 2 (else `C_z²` is used).
    pub z_second_moment: Option<f64>,
}

/// The checked `[inputs]` section: Proposition 1's input bounds.
#[derive(Debug, Clone, Copy)]
pub struct InputBounds {
    /// `C_z ≥ ‖z‖₂`.
    pub obs_norm: f64,
    /// `C_a ≥ ‖onehot(a)‖₂` (1 for a one-hot action).
    pub action_norm: f64,
    /// `C_r ≥ |r|`.
    pub reward_abs: f64,
    /// `C_h ≥ |h|`.
    pub harm_abs: f64,
}

/// A fully checked spec.
#[derive(Debug, Clone)]
pub struct Spec {
    /// `γ_E`, in `[0, 1)`.
    pub gamma_e: Param,
    /// `α ≥ 0`.
    pub alpha: Param,
    /// The graph and Laplacian.
    pub graph: GraphSpec,
    /// Knowledge of `g_φ`.
    pub update: UpdateBound,
    /// Hebbian parameters.
    pub hebbian: Hebbian,
    /// Input bounds.
    pub inputs: InputBounds,
    /// Solver time limit in milliseconds. By default 10 000.
    pub timeout_ms: u64,
    /// The training sections (`[env]`, `[ppo]`, `[esai]`, `[train]`), all optional.
    pub training: crate::training::Training,
}

/// Default solver time limit (ms) when `[verify] timeout_ms` is absent.
pub const DEFAULT_TIMEOUT_MS: u64 = 10_000;

/// Largest number of agents a spec may declare (keeps a typo from allocating terabytes).
pub const MAX_AGENTS: usize = 50_000_000;

struct Collector(Vec<Problem>);

impl Collector {
    fn push(
        &mut self,
        field: impl Into<String>,
        value: impl fmt::Display,
        allowed: impl Into<String>,
    ) {
        self.0.push(Problem {
            field: field.into(),
            value: value.to_string(),
            allowed: allowed.into(),
        });
    }

    /// Checks a param: `ok` must hold at every endpoint; intervals need `lo < hi`.
    fn param(
        &mut self,
        field: &str,
        raw: &RawParam,
        ok: impl Fn(f64) -> bool,
        allowed: &str,
    ) -> Option<Param> {
        let shown = if raw.0.len() == 1 {
            raw.0[0].to_string()
        } else {
            format!("{:?}", raw.0)
        };
        let bad_points = raw.0.iter().any(|&v| !ok(v));
        match *raw.0.as_slice() {
            _ if bad_points => {
                self.push(field, shown, allowed);
                None
            }
            [v] => Some(Param::Point(v)),
            [lo, hi] if lo < hi => Some(Param::Range { lo, hi }),
            [lo, hi] if lo == hi => Some(Param::Point(lo)),
            _ => {
                self.push(
                    field,
                    shown,
                    "a number or an interval [lo, hi] with lo ≤ hi",
                );
                None
            }
        }
    }

    fn scalar(
        &mut self,
        field: &str,
        v: f64,
        ok: impl Fn(f64) -> bool,
        allowed: &str,
    ) -> Option<f64> {
        if ok(v) {
            Some(v)
        } else {
            self.push(field, v, allowed);
            None
        }
    }
}

fn nonneg(v: f64) -> bool {
    v.is_finite() && v >= 0.0
}

impl Spec {
    /// Parses a spec from TOML text. `load` fetches a file the spec names
    /// (e.g. `update.weights`) and returns its text or an error message.
    pub fn from_toml(
        text: &str,
        load: &dyn Fn(&str) -> Result<String, String>,
    ) -> Result<Self, SpecError> {
        let raw: RawSpec = toml::from_str(text).map_err(|e| SpecError {
            problems: vec![Problem {
                field: "(toml)".into(),
                value: String::new(),
                allowed: e.to_string().trim().replace('\n', "\n    "),
            }],
        })?;
        let mut c = Collector(Vec::new());
        let gamma_e = c.param(
            "dynamics.gamma_e",
            &raw.dynamics.gamma_e,
            |v| v.is_finite() && (0.0..1.0).contains(&v),
            "a number in [0, 1) or an interval inside it",
        );
        let alpha = c.param(
            "dynamics.alpha",
            &raw.dynamics.alpha,
            nonneg,
            "a finite number ≥ 0 or an interval of them",
        );
        let graph = parse_graph(&mut c, raw.graph);
        let update = parse_update(&mut c, raw.update, load);
        let hebbian = Hebbian {
            eta: c
                .scalar(
                    "hebbian.eta",
                    raw.hebbian.eta,
                    nonneg,
                    "a finite number ≥ 0",
                )
                .unwrap_or(0.0),
            delta: c
                .scalar(
                    "hebbian.delta",
                    raw.hebbian.delta,
                    |v| v.is_finite() && v > 0.0,
                    "a finite number > 0 (a decay rate, usually in (0, 1])",
                )
                .unwrap_or(1.0),
            e_second_moment: raw.hebbian.e_second_moment.and_then(|v| {
                c.scalar("hebbian.e_second_moment", v, nonneg, "a finite number ≥ 0")
            }),
            z_second_moment: raw.hebbian.z_second_moment.and_then(|v| {
                c.scalar("hebbian.z_second_moment", v, nonneg, "a finite number ≥ 0")
            }),
        };
        let i = raw.inputs;
        let inputs = InputBounds {
            obs_norm: c
                .scalar("inputs.obs_norm", i.obs_norm, nonneg, "a finite number ≥ 0")
                .unwrap_or(0.0),
            action_norm: c
                .scalar(
                    "inputs.action_norm",
                    i.action_norm,
                    nonneg,
                    "a finite number ≥ 0",
                )
                .unwrap_or(0.0),
            reward_abs: c
                .scalar(
                    "inputs.reward_abs",
                    i.reward_abs,
                    nonneg,
                    "a finite number ≥ 0",
                )
                .unwrap_or(0.0),
            harm_abs: c
                .scalar("inputs.harm_abs", i.harm_abs, nonneg, "a finite number ≥ 0")
                .unwrap_or(0.0),
        };
        let timeout_ms = match raw.verify.timeout_ms {
            Some(0) => {
                c.push("verify.timeout_ms", 0, "an integer ≥ 1 (milliseconds)");
                DEFAULT_TIMEOUT_MS
            }
            Some(t) => t,
            None => DEFAULT_TIMEOUT_MS,
        };
        let training = crate::training::Training {
            env: raw.env,
            ppo: raw.ppo,
            esai: raw.esai,
            train: raw.train,
            monitor: raw.monitor,
        };
        let graph_agents = graph.as_ref().map_or(1, |g: &GraphSpec| g.graph.agents());
        c.0.extend(training.problems(graph_agents));
        match (gamma_e, alpha, graph, update, c.0.is_empty()) {
            (Some(gamma_e), Some(alpha), Some(graph), Some(update), true) => Ok(Self {
                gamma_e,
                alpha,
                graph,
                update,
                hebbian,
                inputs,
                timeout_ms,
                training,
            }),
            _ => Err(SpecError { problems: c.0 }),
        }
    }

    /// True if any hyperparameter is an interval (region certification).
    pub fn is_region(&self) -> bool {
        let declared_range = matches!(
            &self.update,
            UpdateBound::Declared {
                lipschitz: Param::Range { .. },
                ..
            }
        ) || matches!(
            &self.update,
            UpdateBound::Declared {
                e_lipschitz: Some(Param::Range { .. }),
                ..
            }
        );
        self.gamma_e.point().is_none() || self.alpha.point().is_none() || declared_range
    }
}

fn parse_graph(c: &mut Collector, g: RawGraph) -> Option<GraphSpec> {
    let laplacian = match g.laplacian.as_str() {
        "row" => Some(LaplacianKind::Row),
        "sym" => Some(LaplacianKind::Sym),
        other => {
            c.push(
                "graph.laplacian",
                format!("{other:?}"),
                "\"row\" (I − D⁻¹A, the paper's) or \"sym\" (I − D^-1/2 A D^-1/2)",
            );
            None
        }
    };
    let n = g.agents;
    if n == 0 || n > MAX_AGENTS {
        c.push("graph.agents", n, format!("an integer in 1..={MAX_AGENTS}"));
        return None;
    }
    let topo_only = |c: &mut Collector, name: &str, key: &str, present: bool| {
        if present {
            c.push(
                format!("graph.{key}"),
                "(set)",
                format!("only used with topology = \"{name}\"; remove it"),
            );
        }
    };
    let (graph, source) = match (g.edges, g.topology.as_deref()) {
        (Some(_), Some(_)) => {
            c.push(
                "graph",
                "edges and topology",
                "exactly one of `edges` or `topology`",
            );
            return None;
        }
        (None, None) => {
            c.push("graph", "(neither)", "exactly one of `edges = [[i, j, w], ..]` or `topology = \"ring\" | \"complete\" | \"grid\" | \"erdos_renyi\"`");
            return None;
        }
        (Some(edges), None) => {
            for (key, present) in [
                ("seed", g.seed.is_some()),
                ("p", g.p.is_some()),
                ("grid_cols", g.grid_cols.is_some()),
            ] {
                if present {
                    c.push(
                        format!("graph.{key}"),
                        "(set)",
                        "only used with `topology`; remove it or use a topology",
                    );
                }
            }
            match Graph::from_edges(n, &edges) {
                Ok(graph) => (graph, GraphSource::Edges),
                Err(errs) => {
                    for e in errs {
                        let (idx, msg) = match &e {
                            GraphError::AgentOutOfRange { index, agent, agents } => (*index, format!("agent index {agent}: allowed 0..{agents} (graph.agents = {agents})")),
                            GraphError::BadWeight { index, weight } => (*index, format!("weight {weight}: allowed a finite number > 0")),
                            GraphError::SelfLoop { index, agent } => (*index, format!("self-loop on agent {agent}: not allowed")),
                            GraphError::Duplicate { index, first, .. } => (*index, format!("duplicate of graph.edges[{first}]: merge their weights into one edge")),
                        };
                        let e3 = edges[idx];
                        c.push(
                            format!("graph.edges[{idx}]"),
                            format!("[{}, {}, {}]", e3.0, e3.1, e3.2),
                            msg,
                        );
                    }
                    return None;
                }
            }
        }
        (None, Some(t)) => {
            match t {
                "ring" | "complete" => {
                    topo_only(c, "erdos_renyi", "seed", g.seed.is_some());
                    topo_only(c, "erdos_renyi", "p", g.p.is_some());
                    topo_only(c, "grid", "grid_cols", g.grid_cols.is_some());
                    let graph = if t == "ring" {
                        Graph::ring(n)
                    } else {
                        Graph::complete(n)
                    };
                    (graph, GraphSource::Topology(t.to_string()))
                }
                "grid" => {
                    topo_only(c, "erdos_renyi", "seed", g.seed.is_some());
                    topo_only(c, "erdos_renyi", "p", g.p.is_some());
                    let cols = match g.grid_cols {
                        Some(cols) if cols >= 1 && n % cols == 0 => cols,
                        Some(cols) => {
                            c.push(
                                "graph.grid_cols",
                                cols,
                                format!("a divisor of graph.agents = {n}"),
                            );
                            return None;
                        }
                        None => {
                            let s = (n as f64).sqrt().round() as usize;
                            if s * s != n {
                                c.push("graph.agents", n, "a perfect square for a square grid, or set graph.grid_cols to a divisor of it");
                                return None;
                            }
                            s
                        }
                    };
                    (
                        Graph::grid(n / cols, cols),
                        GraphSource::Topology(format!("grid({}x{cols})", n / cols)),
                    )
                }
                "erdos_renyi" => {
                    topo_only(c, "grid", "grid_cols", g.grid_cols.is_some());
                    let p = match g.p {
                        Some(p) if p.is_finite() && (0.0..=1.0).contains(&p) => p,
                        Some(p) => {
                            c.push("graph.p", p, "an edge probability in [0, 1]");
                            return None;
                        }
                        None => {
                            c.push(
                                "graph.p",
                                "(missing)",
                                "an edge probability in [0, 1] (required by erdos_renyi)",
                            );
                            return None;
                        }
                    };
                    let Some(seed) = g.seed else {
                        c.push("graph.seed", "(missing)", "an integer ≥ 0 (required by erdos_renyi, so the graph is reproducible)");
                        return None;
                    };
                    (
                        Graph::erdos_renyi(n, p, seed),
                        GraphSource::Topology(format!("erdos_renyi(p={p}, seed={seed})")),
                    )
                }
                other => {
                    c.push(
                        "graph.topology",
                        format!("{other:?}"),
                        "\"ring\", \"complete\", \"grid\" or \"erdos_renyi\"",
                    );
                    return None;
                }
            }
        }
    };
    let laplacian = laplacian?;
    if g.similarity && laplacian != LaplacianKind::Row {
        c.push(
            "graph.similarity",
            "true",
            "only with laplacian = \"row\" (the verifier's bound over every similarity re-weighting needs row-normalised weights); set laplacian = \"row\" or similarity = false",
        );
        return None;
    }
    Some(GraphSpec {
        graph,
        laplacian,
        source,
        similarity: g.similarity,
    })
}

fn parse_update(
    c: &mut Collector,
    u: RawUpdate,
    load: &dyn Fn(&str) -> Result<String, String>,
) -> Option<UpdateBound> {
    match (u.lipschitz, u.weights) {
        (Some(_), Some(_)) => {
            c.push(
                "update",
                "lipschitz and weights",
                "exactly one of `lipschitz` (declared) or `weights` (a JSON file)",
            );
            None
        }
        (None, None) => {
            c.push(
                "update",
                "(neither)",
                "exactly one of `lipschitz = 0.05` (declared L_g) or `weights = \"g_phi.json\"`",
            );
            None
        }
        (Some(l), None) => {
            if u.e_inputs.is_some() {
                c.push(
                    "update.e_inputs",
                    "(set)",
                    "only used with `weights`; remove it",
                );
            }
            let lipschitz = c.param(
                "update.lipschitz",
                &l,
                nonneg,
                "a finite number ≥ 0 or an interval of them",
            )?;
            let e_lipschitz = match u.e_lipschitz {
                Some(e) => Some(c.param(
                    "update.e_lipschitz",
                    &e,
                    nonneg,
                    "a finite number ≥ 0 or an interval of them",
                )?),
                None => None,
            };
            if let Some(e) = e_lipschitz {
                if e.hi() > lipschitz.hi() {
                    c.push(
                        "update.e_lipschitz",
                        e,
                        format!("at most update.lipschitz = {lipschitz} (L_E ≤ L_g always)"),
                    );
                }
            }
            let zero_output_norm = match u.zero_output_norm {
                Some(v) => Some(c.scalar(
                    "update.zero_output_norm",
                    v,
                    nonneg,
                    "a finite number ≥ 0 (a bound on ‖g_φ(0)‖₂)",
                )?),
                None => None,
            };
            Some(UpdateBound::Declared {
                lipschitz,
                e_lipschitz,
                zero_output_norm,
            })
        }
        (None, Some(path)) => {
            for (key, present) in [
                ("e_lipschitz", u.e_lipschitz.is_some()),
                ("zero_output_norm", u.zero_output_norm.is_some()),
            ] {
                if present {
                    c.push(
                        format!("update.{key}"),
                        "(set)",
                        "only used with a declared `lipschitz`; with `weights` it is computed",
                    );
                }
            }
            let text = match load(&path) {
                Ok(t) => t,
                Err(msg) => {
                    c.push(
                        "update.weights",
                        format!("{path:?}"),
                        format!("a readable JSON weights file relative to the spec ({msg})"),
                    );
                    return None;
                }
            };
            let mlp = match Mlp::from_json(&text) {
                Ok(m) => m,
                Err(errs) => {
                    for (field, msg) in errs {
                        let field = if field.is_empty() {
                            format!("update.weights ({path})")
                        } else {
                            format!("update.weights ({path}): {field}")
                        };
                        c.push(field, "", msg);
                    }
                    return None;
                }
            };
            let e_inputs = match u.e_inputs {
                Some(e) if e >= 1 && e <= mlp.inputs() => e,
                Some(e) => {
                    c.push(
                        "update.e_inputs",
                        e,
                        format!("an integer in 1..={} (the inputs of g_φ)", mlp.inputs()),
                    );
                    return None;
                }
                None => {
                    c.push(
                        "update.e_inputs",
                        "(missing)",
                        format!(
                            "an integer in 1..={}: how many leading inputs of g_φ are E",
                            mlp.inputs()
                        ),
                    );
                    return None;
                }
            };
            Some(UpdateBound::Weights {
                mlp,
                e_inputs,
                path,
            })
        }
    }
}
