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
use crate::problem::Problem;
use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::Deserialize;
use std::fmt;

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
    /// `esai check`'s expectations (`verdict`, `min_margin`, …), read and
    /// validated by `esai_verify::expect`. Allowed here, and ignored by the
    /// spec, so one file can carry a configuration and its regression test;
    /// every other unknown table is still an error.
    #[serde(default, rename = "expect")]
    _expect: Option<serde::de::IgnoredAny>,
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
    /// Raw values, checked one by one: serde's tuple reading would
    /// silently drop extra elements (`[0, 1, 1.0, 2.0]`).
    edges: Option<Vec<toml::Value>>,
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

/// Largest number of agents a spec may declare: twice the largest graph
/// benchmarked (10⁶), far below where the verifier's vectors exhaust memory.
pub const MAX_AGENTS: usize = 2_000_000;
/// Largest number of undirected edges, explicit or generated (a complete
/// graph's `N(N−1)/2`, an Erdős–Rényi graph's expected `p N(N−1)/2`), so
/// every graph is refused before it is allocated, not aborted during.
pub const MAX_EDGES: usize = 10_000_000;
/// Edge weights must lie in `[MIN_EDGE_WEIGHT, MAX_EDGE_WEIGHT]`: the
/// normalised Laplacians divide by degrees, and a subnormal weight or a sum
/// of huge ones would turn the verifier's enclosures infinite.
pub const MIN_EDGE_WEIGHT: f64 = 1e-30;
/// See [`MIN_EDGE_WEIGHT`].
pub const MAX_EDGE_WEIGHT: f64 = 1e30;
/// Largest `dynamics.alpha`, `update.lipschitz` and `update.e_lipschitz`.
/// No condition can hold beyond 1 (each needs `α ≤ 1`, `L < 1`); the cap keeps
/// products such as `α · λ_max` and `K/(1 − ρ)` far from overflow.
pub const MAX_RATE: f64 = 1e6;
/// Largest input bound (`[inputs]`, `update.zero_output_norm`).
pub const MAX_INPUT_BOUND: f64 = 1e12;
/// Largest `hebbian.eta` and `hebbian.delta` (the trace contracts only for δ_H < 2).
pub const MAX_HEBBIAN: f64 = 1e6;
/// Largest `hebbian.e_second_moment` and `hebbian.z_second_moment`.
pub const MAX_MOMENT: f64 = 1e24;
/// Largest `verify.timeout_ms` (one hour per query).
pub const MAX_TIMEOUT_MS: u64 = 3_600_000;

/// A float as a reader wants it: `1e-300`, not 300 zeros; `0.05`, not `5e-2`.
pub fn fmt_num(v: f64) -> String {
    if v != 0.0 && v.is_finite() && !(1e-5..1e16).contains(&v.abs()) {
        format!("{v:e}")
    } else {
        format!("{v}")
    }
}

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
            fmt_num(raw.0[0])
        } else {
            let parts: Vec<String> = raw.0.iter().map(|&v| fmt_num(v)).collect();
            format!("[{}]", parts.join(", "))
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
            self.push(field, fmt_num(v), allowed);
            None
        }
    }
}

/// `0 ≤ v ≤ max` (false for NaN).
fn within(max: f64) -> impl Fn(f64) -> bool {
    move |v| (0.0..=max).contains(&v)
}

/// Checks the `f32` training fields as written: a value the `f32` field
/// cannot hold (it would read as 0 or ∞) is named with its written value.
/// Returns the fields flagged, so the later `f32` checks do not report them
/// again with the converted value.
fn f32_range_problems(table: &toml::Table, c: &mut Collector) -> Vec<String> {
    let mut flagged = Vec::new();
    for path in crate::training::F32_FIELDS {
        let Some((section, key)) = path.split_once('.') else {
            continue;
        };
        let v = match table.get(section).and_then(|t| t.get(key)) {
            Some(toml::Value::Float(v)) => *v,
            Some(toml::Value::Integer(i)) => *i as f64,
            _ => continue,
        };
        let a = v.abs();
        if v.is_finite()
            && v != 0.0
            && !((f32::MIN_POSITIVE as f64)..=(f32::MAX as f64)).contains(&a)
        {
            c.push(
                path,
                fmt_num(v),
                format!(
                    "a number an f32 holds: 0 or a magnitude in [{:e}, {:e}] (this one would be read as {})",
                    f32::MIN_POSITIVE,
                    f32::MAX,
                    if a < 1.0 { "0" } else { "infinity" }
                ),
            );
            flagged.push(path.to_string());
        }
    }
    flagged
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
        // The same text as a plain table, for checks on values as written.
        let f32_flagged = match toml::from_str::<toml::Table>(text) {
            Ok(table) => f32_range_problems(&table, &mut c),
            Err(_) => Vec::new(),
        };
        let gamma_e = c.param(
            "dynamics.gamma_e",
            &raw.dynamics.gamma_e,
            |v| v.is_finite() && (0.0..1.0).contains(&v),
            "a number in [0, 1) or an interval inside it",
        );
        let rate = format!("a finite number ≥ 0 and ≤ {MAX_RATE:e}, or an interval of them (no condition holds beyond 1)");
        let alpha = c.param(
            "dynamics.alpha",
            &raw.dynamics.alpha,
            within(MAX_RATE),
            &rate,
        );
        let agents_ok = (1..=MAX_AGENTS).contains(&raw.graph.agents);
        let agents_known = agents_ok.then_some(raw.graph.agents);
        let graph = parse_graph(&mut c, raw.graph);
        let update = parse_update(&mut c, raw.update, load);
        let heb = format!("a finite number in [0, {MAX_HEBBIAN:e}]");
        let moment = format!("a finite number in [0, {MAX_MOMENT:e}]");
        let hebbian =
            Hebbian {
                eta: c
                    .scalar("hebbian.eta", raw.hebbian.eta, within(MAX_HEBBIAN), &heb)
                    .unwrap_or(0.0),
                delta: c
                    .scalar(
                        "hebbian.delta",
                        raw.hebbian.delta,
                        |v| v > 0.0 && v <= MAX_HEBBIAN,
                        &format!(
                        "a finite number in (0, {MAX_HEBBIAN:e}] (a decay rate, usually in (0, 1])"
                    ),
                    )
                    .unwrap_or(1.0),
                e_second_moment: raw.hebbian.e_second_moment.and_then(|v| {
                    c.scalar("hebbian.e_second_moment", v, within(MAX_MOMENT), &moment)
                }),
                z_second_moment: raw.hebbian.z_second_moment.and_then(|v| {
                    c.scalar("hebbian.z_second_moment", v, within(MAX_MOMENT), &moment)
                }),
            };
        let i = raw.inputs;
        let bound = format!("a finite number in [0, {MAX_INPUT_BOUND:e}]");
        let mut input = |field: &str, v: f64| {
            c.scalar(field, v, within(MAX_INPUT_BOUND), &bound)
                .unwrap_or(0.0)
        };
        let inputs = InputBounds {
            obs_norm: input("inputs.obs_norm", i.obs_norm),
            action_norm: input("inputs.action_norm", i.action_norm),
            reward_abs: input("inputs.reward_abs", i.reward_abs),
            harm_abs: input("inputs.harm_abs", i.harm_abs),
        };
        let timeout_ms = match raw.verify.timeout_ms {
            Some(t) if (1..=MAX_TIMEOUT_MS).contains(&t) => t,
            Some(t) => {
                c.push(
                    "verify.timeout_ms",
                    t,
                    format!("an integer in 1..={MAX_TIMEOUT_MS} (milliseconds)"),
                );
                DEFAULT_TIMEOUT_MS
            }
            None => DEFAULT_TIMEOUT_MS,
        };
        let training = crate::training::Training {
            env: raw.env,
            ppo: raw.ppo,
            esai: raw.esai,
            train: raw.train,
            monitor: raw.monitor,
        };
        // The size as declared, even when the graph itself was refused (a
        // missing seed must not make the rollout look one agent wide).
        c.0.extend(
            training
                .problems(agents_known)
                .into_iter()
                .filter(|p| !f32_flagged.contains(&p.field)),
        );
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
        (Some(raw_edges), None) => {
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
            if raw_edges.len() > MAX_EDGES {
                c.push(
                    "graph.edges",
                    format!("({} edges)", raw_edges.len()),
                    format!("at most {MAX_EDGES} edges"),
                );
                return None;
            }
            let (edges, origin, shape_ok) = parse_edges(c, &raw_edges);
            match Graph::from_edges(n, &edges) {
                Ok(graph) if shape_ok => (graph, GraphSource::Edges),
                Ok(_) => return None,
                Err(errs) => {
                    for e in errs {
                        let (idx, msg) = match &e {
                            GraphError::AgentOutOfRange { index, agent, agents } => (*index, format!("agent index {agent}: allowed 0..{agents} (graph.agents = {agents})")),
                            GraphError::BadWeight { index, weight } => (*index, format!("weight {}: allowed a finite number > 0 in [{MIN_EDGE_WEIGHT:e}, {MAX_EDGE_WEIGHT:e}]", fmt_num(*weight))),
                            GraphError::SelfLoop { index, agent } => (*index, format!("self-loop on agent {agent}: not allowed")),
                            GraphError::Duplicate { index, first, .. } => (*index, format!("duplicate of graph.edges[{}]: merge their weights into one edge", origin[*first])),
                        };
                        let e3 = edges[idx];
                        c.push(
                            format!("graph.edges[{}]", origin[idx]),
                            format!("[{}, {}, {}]", e3.0, e3.1, fmt_num(e3.2)),
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
                    let pairs = n as u128 * (n as u128 - 1) / 2;
                    if t == "complete" && pairs > MAX_EDGES as u128 {
                        c.push(
                            "graph.agents",
                            n,
                            format!("at most {} for topology = \"complete\" (N(N−1)/2 = {pairs} edges; at most {MAX_EDGES})", max_complete_agents()),
                        );
                        return None;
                    }
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
                        Some(cols) if cols >= 1 && n.is_multiple_of(cols) => cols,
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
                        Some(p) if (0.0..=1.0).contains(&p) => p,
                        Some(p) => {
                            c.push("graph.p", fmt_num(p), "an edge probability in [0, 1]");
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
                    let expected = p * (n as f64) * (n as f64 - 1.0) / 2.0;
                    if expected > MAX_EDGES as f64 {
                        c.push(
                            "graph.p",
                            fmt_num(p),
                            format!("at most {} for graph.agents = {n} (expected p·N(N−1)/2 = {expected:.0} edges; at most {MAX_EDGES})", fmt_num(2.0 * MAX_EDGES as f64 / (n as f64 * (n as f64 - 1.0)))),
                        );
                        return None;
                    }
                    // The expected count is ≤ MAX_EDGES; a draw 10% above it
                    // (hundreds of standard deviations) is refused, not allocated.
                    let Some(graph) =
                        Graph::erdos_renyi_capped(n, p, seed, MAX_EDGES + MAX_EDGES / 10)
                    else {
                        c.push(
                            "graph.seed",
                            seed,
                            format!(
                                "a seed whose draw has at most {} edges",
                                MAX_EDGES + MAX_EDGES / 10
                            ),
                        );
                        return None;
                    };
                    (
                        graph,
                        GraphSource::Topology(format!(
                            "erdos_renyi(p={}, seed={seed})",
                            fmt_num(p)
                        )),
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

/// A TOML value as written, floats compact (`5e-324`, not 324 digits).
fn show_value(v: &toml::Value) -> String {
    match v {
        toml::Value::Float(f) => fmt_num(*f),
        toml::Value::Array(items) => {
            let parts: Vec<String> = items.iter().map(show_value).collect();
            format!("[{}]", parts.join(", "))
        }
        other => other.to_string(),
    }
}

/// The largest complete graph within [`MAX_EDGES`].
fn max_complete_agents() -> usize {
    // n(n−1)/2 ≤ MAX_EDGES; start from the real root and step to the integer.
    let mut n = ((2.0 * MAX_EDGES as f64).sqrt() as usize).max(1);
    while n * (n - 1) / 2 > MAX_EDGES {
        n -= 1;
    }
    while (n + 1) * n / 2 <= MAX_EDGES {
        n += 1;
    }
    n
}

/// Reads `graph.edges` element by element: each must be exactly
/// `[i, j, w]`, two integers ≥ 0 and a number, so nothing is dropped
/// silently; weights outside `[MIN_EDGE_WEIGHT, MAX_EDGE_WEIGHT]` (NaN,
/// negative, subnormal) are refused here. Returns the well-formed triples,
/// the position in the spec of each (so the graph's own checks name the
/// right edge) and whether every edge was well-formed.
fn parse_edges(
    c: &mut Collector,
    raw: &[toml::Value],
) -> (Vec<(usize, usize, f64)>, Vec<usize>, bool) {
    let shown = |v: &toml::Value| {
        let s = show_value(v);
        match s.char_indices().nth(80) {
            Some((cut, _)) => format!("{}…", &s[..cut]),
            None => s,
        }
    };
    let mut out = Vec::with_capacity(raw.len());
    let mut origin = Vec::with_capacity(raw.len());
    let before = c.0.len();
    for (k, v) in raw.iter().enumerate() {
        let field = format!("graph.edges[{k}]");
        let items = match v.as_array() {
            Some(items) if items.len() == 3 => items,
            _ => {
                c.push(field, shown(v), "an array [i, j, w] of exactly three elements: agent indices i, j and a weight w > 0");
                continue;
            }
        };
        let agent = |x: &toml::Value| x.as_integer().and_then(|i| usize::try_from(i).ok());
        let weight = match &items[2] {
            toml::Value::Float(w) => Some(*w),
            toml::Value::Integer(w) => Some(*w as f64),
            _ => None,
        };
        match (agent(&items[0]), agent(&items[1]), weight) {
            (Some(i), Some(j), Some(w)) if (MIN_EDGE_WEIGHT..=MAX_EDGE_WEIGHT).contains(&w) => {
                out.push((i, j, w));
                origin.push(k);
            }
            (Some(_), Some(_), Some(w)) => c.push(
                field,
                shown(v),
                format!("weight {}: allowed a finite number > 0 in [{MIN_EDGE_WEIGHT:e}, {MAX_EDGE_WEIGHT:e}]", fmt_num(w)),
            ),
            _ => c.push(field, shown(v), "[i, j, w] with agent indices i, j integers ≥ 0 and a number w > 0"),
        }
    }
    let ok = c.0.len() == before;
    (out, origin, ok)
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
            let rate = format!(
                "a finite number ≥ 0 and ≤ {MAX_RATE:e}, or an interval of them (no condition holds beyond 1)"
            );
            let lipschitz = c.param("update.lipschitz", &l, within(MAX_RATE), &rate);
            let e_lipschitz = u
                .e_lipschitz
                .map(|e| c.param("update.e_lipschitz", &e, within(MAX_RATE), &rate));
            let zero_output_norm = u.zero_output_norm.map(|v| {
                c.scalar(
                    "update.zero_output_norm",
                    v,
                    within(MAX_INPUT_BOUND),
                    &format!("a finite number in [0, {MAX_INPUT_BOUND:e}] (a bound on ‖g_φ(0)‖₂)"),
                )
            });
            // Every field above is checked before any early return, so all
            // of their problems are reported together.
            let lipschitz = lipschitz?;
            let e_lipschitz = match e_lipschitz {
                Some(e) => Some(e?),
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
            let zero_output_norm = match zero_output_norm {
                Some(z) => Some(z?),
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
            // g_φ's output is added to E (Eq. 3), so it has E's dimension.
            if mlp.outputs() != e_inputs {
                c.push(
                    format!("update.weights ({path})"),
                    format!("{} outputs", mlp.outputs()),
                    format!("exactly update.e_inputs = {e_inputs} outputs: g_φ's output updates the IAE E, which has e_inputs components"),
                );
                return None;
            }
            Some(UpdateBound::Weights {
                mlp,
                e_inputs,
                path,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = "[dynamics]\ngamma_e = 0.9\nalpha = 0.05\n[graph]\nagents = 4\nlaplacian = \"row\"\ntopology = \"ring\"\n[update]\nlipschitz = 0.05\n[hebbian]\neta = 0.001\ndelta = 0.02\n[inputs]\nobs_norm = 1.0\naction_norm = 1.0\nreward_abs = 5.0\nharm_abs = 3.0\n";

    fn no_files(_: &str) -> Result<String, String> {
        Err("no files".into())
    }

    /// The problems of `BASE` with `from` replaced by `to`, as `field = value: allowed` lines.
    fn problems(subs: &[(&str, &str)]) -> Vec<String> {
        let mut t = BASE.to_string();
        for (from, to) in subs {
            assert!(t.contains(from), "{from}");
            t = t.replacen(from, to, 1);
        }
        match Spec::from_toml(&t, &no_files) {
            Ok(_) => Vec::new(),
            Err(e) => e.problems.iter().map(|p| p.to_string()).collect(),
        }
    }

    #[test]
    fn base_spec_is_valid() {
        assert!(problems(&[]).is_empty());
    }

    /// `esai check`'s `[expect]` table rides along in a spec and is ignored;
    /// a misspelt table is still an unknown field.
    #[test]
    fn expect_table_is_ignored_and_other_unknown_tables_are_not() {
        let with = format!(
            "{BASE}[expect]\nverdict = \"certified\"\n[expect.min_margin]\nmax_norm = 0.1\n"
        );
        assert!(Spec::from_toml(&with, &no_files).is_ok());
        let typo = format!("{BASE}[expectt]\nverdict = \"certified\"\n");
        let err = Spec::from_toml(&typo, &no_files).unwrap_err().to_string();
        assert!(err.contains("unknown field `expectt`"), "{err}");
    }

    #[test]
    fn edges_with_extra_elements_are_refused_not_truncated() {
        let p = problems(&[(
            "topology = \"ring\"",
            "edges = [[0, 1, 1.0, 2.0], [1, 2, 0.5, nan], [2, 3, 1.0]]",
        )]);
        assert_eq!(p.len(), 2, "{p:?}");
        assert!(
            p[0].starts_with("graph.edges[0] = [0, 1, 1, 2]: an array [i, j, w] of exactly three")
        );
        assert!(
            p[1].starts_with("graph.edges[1] = [1, 2, 0.5, NaN]"),
            "{p:?}"
        );
    }

    #[test]
    fn bad_edges_are_all_reported_with_their_spec_positions() {
        // The malformed edge 0 must not shift the index of edge 2's problem.
        let p = problems(&[(
            "topology = \"ring\"",
            "edges = [[0, 1], [1, 2, 1.0], [2, 9, 1.0], [3, 0, nan]]",
        )]);
        assert!(
            p.iter().any(|x| x.starts_with("graph.edges[0] = [0, 1]")),
            "{p:?}"
        );
        assert!(
            p.iter()
                .any(|x| x.starts_with("graph.edges[2] = [2, 9, 1]: agent index 9")),
            "{p:?}"
        );
        assert!(
            p.iter()
                .any(|x| x.starts_with("graph.edges[3] = [3, 0, NaN]: weight NaN")),
            "{p:?}"
        );
    }

    #[test]
    fn tau_steps_1e_300_is_named_as_written() {
        let p = problems(&[(
            "harm_abs = 3.0",
            "harm_abs = 3.0\n[esai]\ntau_steps = 1e-300\ntau0 = 1e39",
        )]);
        assert_eq!(p.len(), 2, "{p:?}");
        assert!(
            p[0].starts_with("esai.tau0 = 1e39: a number an f32 holds"),
            "{p:?}"
        );
        assert!(
            p[1].starts_with("esai.tau_steps = 1e-300: a number an f32 holds"),
            "{p:?}"
        );
    }

    #[test]
    fn missing_seed_does_not_report_a_false_minibatch_problem() {
        let p = problems(&[
            ("agents = 4", "agents = 10000"),
            ("topology = \"ring\"", "topology = \"erdos_renyi\"\np = 0.0001"),
            ("harm_abs = 3.0", "harm_abs = 3.0\n[env]\nname = \"graph-dilemma\"\ncopies = 1\n[ppo]\nrollout_steps = 2"),
        ]);
        assert_eq!(p.len(), 1, "{p:?}");
        assert!(p[0].starts_with("graph.seed"));
    }

    #[test]
    fn sizes_are_bounded_and_products_do_not_wrap() {
        let p = problems(&[(
            "harm_abs = 3.0",
            "harm_abs = 3.0\n[env]\ncopies = 4611686018427387904\n[ppo]\nrollout_steps = 4\nminibatch = 1",
        )]);
        assert_eq!(
            p,
            ["env.copies = 4611686018427387904: an integer in 1..=4096"]
        );
        let p = problems(&[
            ("agents = 4", "agents = 5000"),
            ("topology = \"ring\"", "topology = \"complete\""),
        ]);
        assert!(p[0].contains("at most 4472"), "{p:?}");
    }

    #[test]
    fn gphi_output_must_have_the_iae_dimension() {
        let t = BASE.replacen("lipschitz = 0.05", "weights = \"w.json\"\ne_inputs = 2", 1);
        let load = |_: &str| -> Result<String, String> {
            Ok(
                r#"{"layers":[{"weight":[[0.1,0.2,0.3]],"bias":[0],"activation":"identity"}]}"#
                    .into(),
            )
        };
        let e = Spec::from_toml(&t, &load).unwrap_err();
        assert_eq!(e.problems.len(), 1);
        assert!(
            e.problems[0]
                .to_string()
                .contains("exactly update.e_inputs = 2 outputs"),
            "{e}"
        );
    }

    #[test]
    fn numbers_are_shown_compactly() {
        assert_eq!(fmt_num(1e-300), "1e-300");
        assert_eq!(fmt_num(0.05), "0.05");
        assert_eq!(fmt_num(1e154), "1e154");
        assert_eq!(fmt_num(100000.0), "100000");
    }
}
