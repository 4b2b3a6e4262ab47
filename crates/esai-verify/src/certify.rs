//! `certify`: from a checked spec to a certificate (schema `esai.certificate/v1`).
//!
//! "certified" means: some sound sufficient condition for a bounded IAE holds
//! for every configuration the spec describes, and the Hebbian trace is
//! deterministically bounded. "violated" means every sufficient condition is
//! provably false at some configuration (a counterexample is given) — the
//! toolkit cannot then promise boundedness; it does not claim divergence.
//! "unknown" is everything else (a gap between bounds, a solver timeout).
//!
//! The conditions (spec §5.2), with `M = γ_E I − α L`:
//! - `proposition1`: `‖M‖₂ + L_g < 1` (the paper's, as stated);
//! - `frobenius`: `‖M‖₂ + L_E < 1`, giving `‖𝐄_t‖_F ≤ √N K / (1 − ρ)`;
//! - `max_norm`: `‖M‖_∞ + L_E < 1`, giving `max_i ‖E_i‖ ≤ K / (1 − ρ)`;
//!
//! where `K ≥ sup ‖g_φ(0, u)‖` over the input box and `𝐄_0 = 0`.
//! Each condition is convex in `(γ_E, α)` and increasing in `L`, so over a
//! box its worst case sits at a corner with the largest `L`.

use crate::cvc5::{self, Cvc5, NotDecided};
use crate::kernel::interval::{down, up, Interval};
use crate::kernel::m_matrix::m_enclosure;
use crate::lipschitz::lipschitz_bounds;
use crate::smt::{
    self, approx, enclose, exact, QueryOutcome, RatRange, RegionProblem, SpectralModel,
};
use crate::spectral::{lambda_max_upper, m_norms, m_norms_reweighted, MNorms, NormBound};
use crate::synth::{self, AlphaSup, Fixed, RobustPoint};
use esai_core::graph::LaplacianKind;
use esai_core::spec::{GraphSource, Param, Spec, UpdateBound};
use num_rational::BigRational;
use serde::Serialize;
use std::time::Instant;

/// Schema identifier written into every certificate.
pub const SCHEMA: &str = "esai.certificate/v1";

/// The overall answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// A sound sufficient condition holds everywhere in the spec.
    Certified,
    /// Every sufficient condition provably fails somewhere.
    Violated,
    /// Neither could be shown (bound gap, timeout, solver incompleteness).
    Unknown,
}

impl Verdict {
    /// Process exit code: 0 certified, 1 violated, 3 unknown.
    pub fn exit_code(self) -> i32 {
        match self {
            Self::Certified => 0,
            Self::Violated => 1,
            Self::Unknown => 3,
        }
    }
}

/// Options for [`certify`].
#[derive(Debug, Clone, Default)]
pub struct CertifyOptions {
    /// Seed of the Lipschitz lower-bound search. By default 0.
    pub seed: u64,
    /// Also run the z3 queries for a single point (the kernel alone decides a
    /// point; z3 then only cross-checks and yields the SMT-LIB text). By
    /// default false; regions always run z3.
    pub smt_for_points: bool,
    /// The second solver that re-decides every region query z3 answered; a
    /// disagreement makes the query, and the verdict, unknown. By default
    /// [`Cvc5::Auto`] (`$ESAI_CVC5`, else `cvc5` on `PATH`; when missing, z3
    /// alone decides and each query records why cvc5 did not). Points are
    /// decided by the kernel and never sent to cvc5.
    pub cvc5: Cvc5,
}

/// A norm with sound lower and upper bounds.
#[derive(Debug, Clone, Serialize)]
pub struct NormReport {
    /// `≤` the exact value (over a region: `≤` its supremum).
    pub lower: f64,
    /// `≥` the exact value (over a region: `≥` its supremum).
    pub upper: f64,
    /// How the upper bound was obtained.
    pub method: String,
}

/// Appendix A.2's closed form and whether it may be used.
#[derive(Debug, Clone, Serialize)]
pub struct A2Report {
    /// `max(|γ_E|, |γ_E − α λ_hi|)`.
    pub value: f64,
    /// `λ_hi ≥ λ_max(L)` used.
    pub lambda_max_upper: f64,
    /// True only for a symmetric L, where it bounds `‖M‖₂`.
    pub applies: bool,
    /// Why.
    pub note: String,
}

/// Lipschitz constants of `g_φ`.
#[derive(Debug, Clone, Serialize)]
pub struct LipschitzReport {
    /// Lower bound on `L_g` (declared: the declared value).
    pub lower: f64,
    /// Upper bound on `L_g`.
    pub upper: f64,
    /// `Π ‖W_l‖₂` (null when declared).
    pub product_bound: Option<f64>,
    /// Source of `upper`.
    pub method: String,
    /// Upper bound on `L_E` (E-block).
    pub e_block_upper: f64,
    /// Upper bound on the constant in the other inputs (null when declared).
    pub input_block_upper: Option<f64>,
    /// Upper bound on `‖g_φ(0)‖₂` (null when declared without it).
    pub zero_output_norm: Option<f64>,
    /// `upper − lower`.
    pub gap: f64,
}

/// One checked condition.
#[derive(Debug, Clone, Serialize)]
pub struct Check {
    /// Identifier.
    pub name: String,
    /// `sufficient` (counts for the verdict), `paper` (as stated in the paper,
    /// also sufficient), `hebbian`, `statistical` (moment condition), `info`.
    pub kind: String,
    /// true: proven; false: provably fails; null: undecided.
    pub holds: Option<bool>,
    /// Upper bound on the checked quantity (its supremum over a region).
    pub value: Option<f64>,
    /// Lower bound on it.
    pub value_lower: Option<f64>,
    /// The quantity must be `< limit`.
    pub limit: f64,
    /// `limit − value` (positive when it holds).
    pub margin: Option<f64>,
    /// In words.
    pub note: String,
    /// The machine-checked theorem the check rests on (`proofs/*.v`, Coq),
    /// or why there is none.
    pub theorem: String,
}

/// The Coq theorem behind each certificate check (see `proofs/README.md`).
/// The norms that feed the checks rest on T5 (dense ‖M‖₂, interval
/// Cholesky), T4 (sparse ‖M‖₂, Collatz–Wielandt), T7 (similarity
/// re-weighting) and, for regions, T8.
pub fn theorem_of(check: &str) -> &'static str {
    match check {
        "proposition1" => "proofs/T2_frobenius.v: T2_frobenius (with L_E ≤ L_g)",
        "frobenius" => "proofs/T2_frobenius.v: T2_frobenius",
        "max_norm" => "proofs/T1_maxnorm.v: T1_maxnorm",
        "hebbian_deterministic" => "proofs/T3_hebbian.v: T3_hebbian",
        _ => "none: a statistical (mean-square) statement, not machine-checked",
    }
}

/// Explicit state bounds.
#[derive(Debug, Clone, Serialize)]
pub struct Bounds {
    /// `B ≥ sup_t max_i ‖E_{i,t}‖₂` from `𝐄_0 = 0` (null if no numeric K).
    pub iae_norm: Option<f64>,
    /// Which condition gave `iae_norm`.
    pub iae_source: Option<String>,
    /// `K ≥ sup ‖g_φ(0, u)‖` over the input box.
    pub k: Option<f64>,
    /// `B_H ≥ sup_t ‖H_{i,t}‖_F` from `H_0 = 0`.
    pub hebbian_norm: Option<f64>,
}

/// Largest stable α per condition (for the spec's `γ_E`; point specs only).
#[derive(Debug, Clone, Serialize)]
pub struct AlphaMax {
    /// Under `max_norm`.
    pub max_norm: Option<AlphaSup>,
    /// Under `frobenius`.
    pub frobenius: Option<AlphaSup>,
    /// Under `proposition1`.
    pub proposition1: Option<AlphaSup>,
    /// The largest verified finite value among them (null when none, or
    /// when every answer is unbounded).
    pub best_verified: Option<f64>,
    /// True if some condition holds for every α ≥ 0 (a graph without
    /// edges: α does not enter M); that answer then has `unbounded: true`
    /// and null `supremum`/`verified`, never a cap.
    pub unbounded: bool,
}

/// One z3 query and its answer.
#[derive(Debug, Clone, Serialize)]
pub struct SmtReport {
    /// Query name.
    pub name: String,
    /// What `unsat` proves.
    pub proves: String,
    /// `unsat`, `sat` or `unknown`.
    pub result: String,
    /// For `sat`: the model point; for `unknown`: z3's reason, or the
    /// disagreement with cvc5 that made the query unknown.
    pub detail: Option<String>,
    /// cvc5's answer to the same query: `unsat`, `sat`, `unknown`, or
    /// `not run: …` / `not available: …` / `not decided: …` with the reason
    /// (added within v1; readers of older certificates see no field).
    pub cvc5: String,
}

/// A configuration where every sufficient condition fails.
#[derive(Debug, Clone, Serialize)]
pub struct Counterexample {
    /// `γ_E` (nearest float).
    pub gamma_e: f64,
    /// `α`.
    pub alpha: f64,
    /// `L_g`.
    pub lipschitz: f64,
    /// `L_E`.
    pub e_lipschitz: f64,
    /// The exact rationals, as `num/den` strings.
    pub exact: [String; 4],
    /// Whether the kernel confirmed at this point that all conditions fail.
    pub confirmed: bool,
}

/// What the certificate was computed for.
#[derive(Debug, Clone, Serialize)]
pub struct SpecSummary {
    /// Number of agents.
    pub agents: usize,
    /// Number of undirected edges.
    pub edges: usize,
    /// `row` or `sym`.
    pub laplacian: String,
    /// `edges` or the generator.
    pub graph: String,
    /// `[lo, hi]` of `γ_E`.
    pub gamma_e: [f64; 2],
    /// `[lo, hi]` of `α`.
    pub alpha: [f64; 2],
    /// `declared` or the weights path.
    pub update: String,
    /// True if any parameter is an interval.
    pub region: bool,
    /// True if the diffusion weights are re-weighted by learned identity
    /// similarities (`graph.similarity`): norms of M hold for every such
    /// re-weighting.
    pub similarity: bool,
}

/// Wall time of one phase of `certify`.
#[derive(Debug, Clone, Serialize)]
pub struct PhaseTiming {
    /// Phase name.
    pub phase: String,
    /// Milliseconds.
    pub ms: f64,
}

/// The machine-readable certificate.
#[derive(Debug, Clone, Serialize)]
pub struct Certificate {
    /// Always [`SCHEMA`].
    pub schema: &'static str,
    /// The answer.
    pub verdict: Verdict,
    /// Why, in one sentence.
    pub reason: String,
    /// Names of the sufficient conditions that hold (everywhere).
    pub certified_by: Vec<String>,
    /// What was checked.
    pub spec: SpecSummary,
    /// `‖M‖₂`.
    pub spectral_norm: NormReport,
    /// `‖M‖_∞`.
    pub inf_norm: NormReport,
    /// Appendix A.2.
    pub a2_closed_form: A2Report,
    /// `g_φ`.
    pub lipschitz: LipschitzReport,
    /// Every condition.
    pub checks: Vec<Check>,
    /// Explicit bounds for the runtime monitor.
    pub bounds: Bounds,
    /// Stable-α synthesis.
    pub alpha_max: Option<AlphaMax>,
    /// Most robust `(γ_E, α)`.
    pub robust_point: Option<RobustPoint>,
    /// z3 queries.
    pub smt: Vec<SmtReport>,
    /// A violating configuration, when one was found.
    pub counterexample: Option<Counterexample>,
    /// Wall time in milliseconds.
    pub elapsed_ms: f64,
    /// Wall time per phase, in order, in milliseconds.
    pub timings_ms: Vec<PhaseTiming>,
}

/// What we know of `g_φ` as intervals: `[refute, certify]` ends.
struct Lips {
    /// `L_g`: lo is used to refute, hi to certify.
    l_g: Interval,
    l_e: Interval,
    /// Upper bound on K, if available.
    k: Option<f64>,
    report: LipschitzReport,
}

/// `C_u ≥ ‖(z̃, a, r, h)‖₂` over the spec's input box, rounded up.
pub fn input_norm_upper(spec: &Spec) -> f64 {
    let i = spec.inputs;
    [i.obs_norm, i.action_norm, i.reward_abs, i.harm_abs]
        .iter()
        .fold(Interval::point(0.0), |s, &v| s + Interval::around(v).sqr())
        .sqrt()
        .expect("sum of squares is nonnegative")
        .hi()
}

fn lips(spec: &Spec, seed: u64) -> Lips {
    let c_u = input_norm_upper(spec);
    match &spec.update {
        UpdateBound::Declared {
            lipschitz,
            e_lipschitz,
            zero_output_norm,
        } => {
            // For a region the refuting value is the largest L (worst corner).
            // The enclosure of the decimal written (next_down, next_up of its
            // float); the report gives its outward ends, so a declared 0.3 is
            // reported as an upper bound ≥ the decimal 0.3.
            let l_g = Interval::around(lipschitz.hi());
            let l_e_param = e_lipschitz.unwrap_or(*lipschitz);
            let l_e = Interval::around(l_e_param.hi());
            let k = zero_output_norm.map(|z| up(Interval::around(z).hi() + up(l_g.hi() * c_u)));
            let lower = Interval::around(lipschitz.lo()).lo().max(0.0);
            let report = LipschitzReport {
                lower,
                upper: l_g.hi(),
                product_bound: None,
                method: "declared in the spec (trusted as stated)".into(),
                e_block_upper: l_e.hi(),
                input_block_upper: None,
                zero_output_norm: zero_output_norm.map(|z| Interval::around(z).hi()),
                gap: up(l_g.hi() - lower),
            };
            Lips {
                l_g,
                l_e,
                k,
                report,
            }
        }
        UpdateBound::Weights { mlp, e_inputs, .. } => {
            let b = lipschitz_bounds(mlp, *e_inputs, seed);
            let e_upper = b.e_block_upper.min(b.upper);
            let k = up(b.zero_output_norm + up(b.input_block_upper * c_u));
            let report = LipschitzReport {
                lower: b.lower,
                upper: b.upper,
                product_bound: Some(b.product_bound),
                method: b.method.clone(),
                e_block_upper: e_upper,
                input_block_upper: Some(b.input_block_upper),
                zero_output_norm: Some(b.zero_output_norm),
                gap: b.upper - b.lower,
            };
            // A NaN from an overflowed bound must not panic: the whole line
            // is then the enclosure, which certifies and refutes nothing.
            Lips {
                l_g: Interval::new(b.lower, b.upper).unwrap_or(Interval::ENTIRE),
                l_e: Interval::new(b.e_block_lower.min(e_upper), e_upper)
                    .unwrap_or(Interval::ENTIRE),
                k: Some(k),
                report,
            }
        }
    }
}

/// `ρ = norm + L` as `[lower, upper]` and the verdict on `ρ < 1`.
fn condition(norm: &NormBound, l: Interval) -> (f64, f64, Option<bool>) {
    let lo = down(norm.lower + l.lo());
    let hi = up(norm.upper + l.hi());
    let holds = if hi < 1.0 {
        Some(true)
    } else if lo >= 1.0 {
        Some(false)
    } else {
        None
    };
    (lo, hi, holds)
}

fn corners(p: Param) -> Vec<f64> {
    match p {
        Param::Point(v) => vec![v],
        Param::Range { lo, hi } => vec![lo, hi],
    }
}

/// Norm bounds over the corners: sound bounds on the supremum over the box.
fn corner_norms(spec: &Spec, lambda_hi: f64) -> (Vec<(f64, f64, MNorms)>, MNorms) {
    let g = &spec.graph;
    let mut all = Vec::new();
    for gm in corners(spec.gamma_e) {
        for al in corners(spec.alpha) {
            let (gi, ai) = (Interval::around(gm), Interval::around(al));
            let plain = m_norms(&g.graph, g.laplacian, gi, ai, lambda_hi);
            let norms = if g.similarity {
                m_norms_reweighted(&g.graph, gi, ai, &plain)
            } else {
                plain
            };
            all.push((gm, al, norms));
        }
    }
    let worst = all
        .iter()
        .map(|c| c.2.clone())
        .reduce(|a, b| {
            let pick = |x: NormBound, y: NormBound| NormBound {
                lower: x.lower.max(y.lower),
                upper: x.upper.max(y.upper),
                method: if y.upper > x.upper {
                    y.method
                } else {
                    x.method
                },
            };
            MNorms {
                two: pick(a.two, b.two),
                inf: pick(a.inf, b.inf),
                a2_closed_form: a.a2_closed_form.max(b.a2_closed_form),
                lambda_max_upper: lambda_hi,
            }
        })
        .expect("at least one corner");
    (all, worst)
}

/// Distinct row profiles `(L_ii, Σ_{j≠i} |L_ij|)`, upper-rounded, as floats.
fn row_profiles(spec: &Spec) -> Vec<(f64, f64)> {
    let g = &spec.graph.graph;
    let mut profiles = Vec::new();
    // Learned similarities can zero a whole row.
    if spec.graph.similarity || (0..g.agents()).any(|i| g.neighbours(i).next().is_none()) {
        profiles.push((0.0, 0.0));
    }
    if g.edge_count() > 0 {
        let r = match spec.graph.laplacian {
            // Σ_j w_ij / d_i = 1 exactly for every non-isolated row.
            LaplacianKind::Row => 1.0,
            LaplacianKind::Sym => {
                let s = m_enclosure(
                    g,
                    LaplacianKind::Sym,
                    Interval::point(0.0),
                    Interval::point(1.0),
                );
                (0..g.agents())
                    .map(|i| {
                        s.row(i)
                            .filter(|&(j, _)| j != i)
                            .fold(0.0, |acc, (_, v)| up(acc + v.mag()))
                    })
                    .fold(0.0, f64::max)
            }
        };
        profiles.push((1.0, r));
    }
    profiles
}

/// Certifies a checked spec.
pub fn certify(spec: &Spec, opts: CertifyOptions) -> (Certificate, String) {
    let start = Instant::now();
    let g = &spec.graph;
    let n = g.graph.agents();
    let region = spec.is_region();
    let mut timings: Vec<PhaseTiming> = Vec::new();
    let mut lap = Instant::now();
    let mut t = |what: &str| {
        timings.push(PhaseTiming {
            phase: what.to_string(),
            ms: lap.elapsed().as_secs_f64() * 1e3,
        });
        lap = Instant::now();
    };
    let lips = lips(spec, opts.seed);
    t("lipschitz bounds");
    let lambda_hi = lambda_max_upper(&g.graph);
    let (corner_list, worst) = corner_norms(spec, lambda_hi);
    t("norms of M");

    // Point / corner conditions from the kernel.
    let (p1_lo, p1_hi, p1) = condition(&worst.two, lips.l_g);
    let (fr_lo, fr_hi, fr) = condition(&worst.two, lips.l_e);
    let (mx_lo, mx_hi, mx) = condition(&worst.inf, lips.l_e);

    // z3 over the (possibly degenerate) box.
    let profiles = row_profiles(spec);
    let run_z3 = region || opts.smt_for_points;
    // The problem is only built when z3 runs, and never from a non-finite
    // number: then every query is unknown, which never certifies.
    let problem = run_z3
        .then(|| region_problem(spec, &lips, &corner_list, lambda_hi, &profiles))
        .flatten();
    let not_run = |why: &str| smt::Queries {
        outcomes: vec![QueryOutcome::Unknown(why.into()); smt::QUERIES.len()],
        scripts: Vec::new(),
        smt2: String::new(),
    };
    let smt::Queries {
        mut outcomes,
        scripts,
        smt2,
    } = match (&problem, run_z3) {
        (Some(problem), _) => smt::run_queries(problem, spec.timeout_ms),
        (None, true) => {
            not_run("not run: a norm or constant of the region is not finite (overflow)")
        }
        (None, false) => not_run("not run: a point is decided by the kernel"),
    };
    t("z3");
    // cvc5 re-decides every region query z3 was asked; a disagreement of
    // two decided answers turns z3's answer into unknown, which never
    // certifies (and blocks the verdict below).
    let cvc5_runs = if region && !scripts.is_empty() {
        cvc5::check_all(&opts.cvc5, &scripts, spec.timeout_ms)
    } else {
        let why = if region {
            "z3 did not run either (a number of the region is not finite)"
        } else {
            "a point is decided by the kernel"
        };
        vec![Err(NotDecided::NotRun(why.into())); outcomes.len()]
    };
    let mut disagreements = Vec::new();
    for ((name, _), (o, c)) in smt::QUERIES.iter().zip(outcomes.iter_mut().zip(&cvc5_runs)) {
        if let Some(d) = cvc5::disagreement(o, c) {
            *o = QueryOutcome::Unknown(d.to_string());
            disagreements.push(format!("{name}: {d}"));
        }
    }
    t("cvc5");
    let smt_reports: Vec<SmtReport> = smt::QUERIES
        .iter()
        .take(if run_z3 { smt::QUERIES.len() } else { 0 })
        .zip(outcomes.iter().zip(&cvc5_runs))
        .map(|((name, proves), (o, c))| SmtReport {
            name: (*name).into(),
            proves: (*proves).into(),
            result: match o {
                QueryOutcome::Unsat => "unsat",
                QueryOutcome::Sat(_) => "sat",
                QueryOutcome::Unknown(_) => "unknown",
            }
            .into(),
            detail: match o {
                QueryOutcome::Unsat => None,
                QueryOutcome::Sat(p) => Some(format!(
                    "gamma_e={} alpha={} lipschitz={} e_lipschitz={}",
                    approx(&p.gamma),
                    approx(&p.alpha),
                    approx(&p.l_g),
                    approx(&p.l_e)
                )),
                QueryOutcome::Unknown(r) => Some(r.clone()),
            },
            cvc5: cvc5::record(c),
        })
        .collect();

    // Per-condition verdicts: for a region, z3's unsat is the proof; the
    // corner refutation is the disproof (the worst case sits at a corner).
    // After a disagreement on any query neither solver is trusted on any:
    // no condition is proven by them, so no bound is derived from them.
    // (The records above still show what each said.)
    let trusted: Vec<QueryOutcome> = if disagreements.is_empty() {
        outcomes.clone()
    } else {
        let why = format!("not trusted: {}", disagreements.join("; "));
        vec![QueryOutcome::Unknown(why); outcomes.len()]
    };
    let mx = decide(region, mx, &trusted[0]);
    let fr = decide(region, fr, &trusted[1]);
    let p1 = decide(region, p1, &trusted[2]);

    let k = lips.k;
    let sqrt_n = Interval::point(n as f64).sqrt().expect("n ≥ 0").hi();
    let b_inf = (mx == Some(true))
        .then(|| k.map(|k| up(k / down(1.0 - mx_hi))))
        .flatten();
    let b_fro = (fr == Some(true))
        .then(|| k.map(|k| up(up(sqrt_n * k) / down(1.0 - fr_hi))))
        .flatten();
    let (iae_norm, iae_source) = match (b_inf, b_fro) {
        (Some(a), Some(b)) if a <= b => (Some(a), Some("max_norm".to_string())),
        (_, Some(b)) => (Some(b), Some("frobenius".to_string())),
        (Some(a), None) => (Some(a), Some("max_norm".to_string())),
        (None, None) => (None, None),
    };

    let h = spec.hebbian;
    let delta = Interval::around(h.delta);
    let contraction = (Interval::point(1.0) - delta).abs();
    let heb_det = if contraction.hi() < 1.0 {
        Some(true)
    } else if contraction.lo() >= 1.0 {
        Some(false)
    } else {
        None
    };
    let c_z = Interval::around(spec.inputs.obs_norm);
    let hebbian_norm = match (heb_det, iae_norm) {
        (Some(true), Some(b)) => Some(up(
            up(up(Interval::around(h.eta).hi() * b) * c_z.hi()) / down(1.0 - contraction.hi())
        )),
        _ => None,
    };
    let m_e = h.e_second_moment.or(iae_norm.map(|b| up(b * b)));
    let m_z = h.z_second_moment.unwrap_or(up(c_z.hi() * c_z.hi()));
    let ms_value = m_e.map(|m_e| up(Interval::around(h.eta).hi() * up(up(m_e * m_z).sqrt())));

    let mut checks = vec![
        check("proposition1", "paper", p1, p1_lo, p1_hi, "‖γ_E I − αL‖₂ + L_g < 1 (Proposition 1 as stated; sufficient, via the Frobenius argument)"),
        check("frobenius", "sufficient", fr, fr_lo, fr_hi, "‖M‖₂ + L_E < 1 ⇒ ‖𝐄_t‖_F ≤ √N K/(1−ρ)"),
        check("max_norm", "sufficient", mx, mx_lo, mx_hi, "‖M‖∞ + L_E < 1 ⇒ max_i ‖E_i,t‖ ≤ K/(1−ρ)"),
        check("hebbian_deterministic", "hebbian", heb_det, contraction.lo(), contraction.hi(), "|1 − δ_H| < 1 ⇒ ‖H_t‖_F ≤ η_H B C_z/(1 − |1 − δ_H|)"),
    ];
    // Only explicit moment bounds can refute; B² and C_z² are mere upper bounds.
    let ms_holds = match ms_value {
        Some(v) if v < delta.lo() => Some(true),
        Some(v)
            if v >= delta.hi() && h.e_second_moment.is_some() && h.z_second_moment.is_some() =>
        {
            Some(false)
        }
        _ => None,
    };
    checks.push(Check {
        name: "hebbian_mean_square".into(),
        kind: "statistical".into(),
        holds: ms_holds,
        value: ms_value,
        value_lower: None,
        limit: h.delta,
        margin: ms_value.map(|v| down(delta.lo() - v)),
        note: "Proposition 2: δ_H > η_H √(E‖E‖² E‖z‖²), with moment bounds from the spec or B², C_z²; a mean-square statement".into(),
        theorem: theorem_of("hebbian_mean_square").into(),
    });

    let sufficient = [("proposition1", p1), ("frobenius", fr), ("max_norm", mx)];
    let mut certified_by: Vec<String> = sufficient
        .iter()
        .filter(|c| c.1 == Some(true))
        .map(|c| c.0.to_string())
        .collect();
    let any_unsat = matches!(trusted[3], QueryOutcome::Unsat);
    if region && certified_by.is_empty() && any_unsat {
        certified_by.push("any_sufficient (pointwise: some condition holds at every point)".into());
    }
    let iae_ok = !certified_by.is_empty();
    let iae_refuted_at_point = !region && sufficient.iter().all(|c| c.1 == Some(false));

    // A counterexample: the point itself, else a box corner (each condition's
    // worst case sits at one), else z3's candidate re-checked by the kernel.
    let mut counterexample = None;
    if !region && iae_refuted_at_point {
        counterexample = Some(Counterexample::confirmed_at(
            spec.gamma_e.lo(),
            spec.alpha.lo(),
            lips.l_g.lo(),
            lips.l_e.lo(),
        ));
    }
    if region && !iae_ok {
        counterexample = corner_list
            .iter()
            .find(|(_, _, m)| all_fail(m, lips.l_g, lips.l_e))
            .map(|&(gm, al, _)| Counterexample::confirmed_at(gm, al, lips.l_g.lo(), lips.l_e.lo()));
        if counterexample.is_none() {
            if let QueryOutcome::Sat(p) = &outcomes[3] {
                counterexample = Some(confirm_point(spec, &lips, p, lambda_hi));
            }
        }
    }
    let region_refuted = counterexample.as_ref().is_some_and(|c| c.confirmed) && region;

    // An infinite (overflowed) bound is no bound: certify only with finite
    // B, K and B_H wherever they were computed.
    let overflowed: Vec<&str> = [
        ("K", k),
        ("the IAE bound B", iae_norm),
        ("the Hebbian bound B_H", hebbian_norm),
    ]
    .iter()
    .filter(|(_, v)| v.is_some_and(|v| !v.is_finite()))
    .map(|(name, _)| *name)
    .collect();
    let refuted = iae_refuted_at_point || region_refuted;
    let (verdict, reason) = if heb_det == Some(false) {
        (
            Verdict::Violated,
            format!(
                "hebbian.delta = {}: |1 − δ_H| ≥ 1, the Hebbian trace is not contracted",
                h.delta
            ),
        )
    } else if !disagreements.is_empty() && !refuted {
        // Two solvers contradict each other on the same text: one of them
        // (or the encoding) is wrong, so no answer of either is trusted.
        // A kernel-confirmed counterexample still stands (branch below).
        (
            Verdict::Unknown,
            format!("{}; not certified", disagreements.join("; ")),
        )
    } else if iae_ok && heb_det == Some(true) && !overflowed.is_empty() {
        (
            Verdict::Unknown,
            format!(
                "{} {} not finite (overflow): an infinite bound is no bound; not certified",
                overflowed.join(" and "),
                if overflowed.len() == 1 { "is" } else { "are" }
            ),
        )
    } else if iae_ok && heb_det == Some(true) {
        (
            Verdict::Certified,
            format!(
                "bounded IAE by {} and bounded Hebbian trace",
                certified_by.join(", ")
            ),
        )
    } else if refuted {
        (
            Verdict::Violated,
            "every sufficient condition provably fails (see counterexample)".into(),
        )
    } else if let (true, QueryOutcome::Unknown(why)) = (region, &outcomes[3]) {
        (
            Verdict::Unknown,
            format!("z3 returned unknown ({why}); not certified"),
        )
    } else {
        (
            Verdict::Unknown,
            "the bounds straddle the limit: neither proven nor refuted".into(),
        )
    };

    // The LPs take floats as coefficients: only finite constants go in.
    let finite_consts =
        lips.l_e.hi().is_finite() && lips.l_g.hi().is_finite() && lambda_hi.is_finite();
    let alpha_max = spec.gamma_e.point().filter(|_| finite_consts).map(|gamma| {
        let f = Fixed {
            graph: &g.graph,
            kind: g.laplacian,
            l_e: lips.l_e.hi(),
            l_g: lips.l_g.hi(),
            lambda_hi,
        };
        let max_norm = synth::alpha_max_max_norm(&f, gamma, &profiles);
        // The spectral syntheses speak of the given weights only; with
        // learned similarities only the max-norm answer (weight-invariant
        // for the row Laplacian) holds for the trained L.
        let memo = synth::NormMemo::default();
        let frobenius = (!g.similarity)
            .then(|| synth::alpha_max_spectral(&f, gamma, f.l_e, &memo))
            .flatten();
        // With L_E = L_g (declared without e_lipschitz) both answers coincide.
        let proposition1 = if g.similarity {
            None
        } else if f.l_g == f.l_e {
            frobenius.clone()
        } else {
            synth::alpha_max_spectral(&f, gamma, f.l_g, &memo)
        };
        let sups = [&max_norm, &frobenius, &proposition1];
        let unbounded = sups.iter().any(|s| s.as_ref().is_some_and(|s| s.unbounded));
        let best_verified = sups
            .iter()
            .filter_map(|s| s.as_ref().and_then(|s| s.verified))
            .reduce(f64::max);
        AlphaMax {
            max_norm,
            frobenius,
            proposition1,
            best_verified,
            unbounded,
        }
    });
    t("alpha_max synthesis");
    let robust = finite_consts
        .then(|| {
            let f = Fixed {
                graph: &g.graph,
                kind: g.laplacian,
                l_e: lips.l_e.hi(),
                l_g: lips.l_g.hi(),
                lambda_hi,
            };
            synth::robust_point(&f, &profiles)
        })
        .flatten();
    t("robust point");

    let symmetric = g.laplacian == LaplacianKind::Sym;
    let cert = Certificate {
        schema: SCHEMA,
        verdict,
        reason,
        certified_by,
        spec: SpecSummary {
            agents: n,
            edges: g.graph.edge_count(),
            laplacian: g.laplacian.name().into(),
            graph: match &g.source {
                GraphSource::Edges => "edges".into(),
                GraphSource::Topology(t) => t.clone(),
            },
            gamma_e: [spec.gamma_e.lo(), spec.gamma_e.hi()],
            alpha: [spec.alpha.lo(), spec.alpha.hi()],
            update: match &spec.update {
                UpdateBound::Declared { .. } => "declared".into(),
                UpdateBound::Weights { path, .. } => format!("weights: {path}"),
            },
            region,
            similarity: g.similarity,
        },
        spectral_norm: NormReport {
            lower: worst.two.lower,
            upper: worst.two.upper,
            method: worst.two.method.clone(),
        },
        inf_norm: NormReport {
            lower: worst.inf.lower,
            upper: worst.inf.upper,
            method: worst.inf.method.clone(),
        },
        a2_closed_form: A2Report {
            value: worst.a2_closed_form,
            lambda_max_upper: lambda_hi,
            applies: symmetric,
            note: if symmetric {
                "L is symmetric: A.2 bounds ‖M‖₂".into()
            } else {
                "L is row-normalised, not symmetric: this is the spectral radius of M, NOT a bound on ‖M‖₂; not used".into()
            },
        },
        lipschitz: lips.report.clone(),
        checks,
        bounds: Bounds {
            iae_norm,
            iae_source,
            k,
            hebbian_norm,
        },
        alpha_max,
        robust_point: robust,
        smt: smt_reports,
        counterexample,
        elapsed_ms: start.elapsed().as_secs_f64() * 1e3,
        timings_ms: timings,
    };
    (cert, smt2)
}

/// One condition's verdict. At a point the kernel decides. Over a region
/// only z3's `unsat` proves it (a `sat` or `unknown`, timeouts included,
/// never does), and a kernel refutation at a corner disproves it.
fn decide(region: bool, kernel: Option<bool>, z3: &QueryOutcome) -> Option<bool> {
    match (region, kernel, z3) {
        (_, Some(false), _) => Some(false),
        (true, _, QueryOutcome::Unsat) => Some(true),
        (true, _, _) => None,
        (false, k, _) => k,
    }
}

/// True if every sufficient condition provably fails for these norms and constants.
fn all_fail(m: &MNorms, l_g: Interval, l_e: Interval) -> bool {
    [
        condition(&m.two, l_g),
        condition(&m.two, l_e),
        condition(&m.inf, l_e),
    ]
    .iter()
    .all(|c| c.2 == Some(false))
}

/// `x` as a decimal with `digits` places, rounded up (toward +∞): the
/// printed number is never below `x`, so an upper bound stays one when it
/// is printed. Non-finite values print as `inf`, `-inf`, `NaN`.
pub fn decimal_upper(x: f64, digits: usize) -> String {
    decimal_outward(x, digits, true)
}

/// `x` as a decimal with `digits` places, rounded down (toward −∞), for
/// lower bounds and margins.
pub fn decimal_lower(x: f64, digits: usize) -> String {
    decimal_outward(x, digits, false)
}

fn decimal_outward(x: f64, digits: usize, upward: bool) -> String {
    use num_bigint::BigInt;
    use num_traits::{Signed, Zero};
    let Some(exact_x) = exact(x) else {
        return fmt_float(x);
    };
    // Rust prints the correctly rounded decimal; read it back exactly as
    // m / 10^digits and step one unit outward if it fell on the wrong side.
    let printed = format!("{x:.digits$}");
    let Ok(mut m) = printed.replace('.', "").parse::<BigInt>() else {
        return printed;
    };
    // "-0.000000" is a zero: print it without the sign.
    let printed = if m.is_zero() {
        printed.trim_start_matches('-').to_string()
    } else {
        printed
    };
    let scale = BigInt::from(10u32).pow(digits as u32);
    let q = BigRational::new(m.clone(), scale.clone());
    if upward && q < exact_x {
        m += 1;
    } else if !upward && q > exact_x {
        m -= 1;
    } else {
        return printed;
    }
    let sign = if m.is_negative() { "-" } else { "" };
    let mut abs = m.abs().to_string();
    if abs.len() <= digits {
        abs = format!("{}{abs}", "0".repeat(digits + 1 - abs.len()));
    }
    let (int, frac) = abs.split_at(abs.len() - digits);
    let sign = if m.is_zero() { "" } else { sign };
    if digits == 0 {
        format!("{sign}{int}")
    } else {
        format!("{sign}{int}.{frac}")
    }
}

/// A non-finite float as text (JSON has no ∞): `inf`, `-inf`, `NaN`.
fn fmt_float(x: f64) -> String {
    format!("{x}")
}

impl Counterexample {
    /// A kernel-confirmed counterexample at float parameters.
    fn confirmed_at(gamma_e: f64, alpha: f64, lipschitz: f64, e_lipschitz: f64) -> Self {
        Self {
            gamma_e,
            alpha,
            lipschitz,
            e_lipschitz,
            exact: [gamma_e, alpha, lipschitz, e_lipschitz]
                .map(|x| exact(x).map_or_else(|| fmt_float(x), |q| q.to_string())),
            confirmed: true,
        }
    }
}

fn check(name: &str, kind: &str, holds: Option<bool>, lo: f64, hi: f64, note: &str) -> Check {
    Check {
        name: name.into(),
        kind: kind.into(),
        holds,
        value: Some(hi),
        value_lower: Some(lo),
        limit: 1.0,
        margin: Some(down(1.0 - hi)),
        note: note.into(),
        theorem: theorem_of(name).into(),
    }
}

/// The z3 problem of the spec's box; `None` if any number it needs is not
/// finite (an overflowed norm or constant has no rational value, and a
/// condition on an infinite bound can only fail, so nothing is lost).
fn region_problem(
    spec: &Spec,
    lips: &Lips,
    corner_list: &[(f64, f64, MNorms)],
    lambda_hi: f64,
    profiles: &[(f64, f64)],
) -> Option<RegionProblem> {
    let l_range = |declared: Option<Param>, kernel: Interval| match declared {
        Some(p) => RatRange::widened(p.lo(), p.hi()),
        None => RatRange::exact(kernel.hi(), kernel.hi()),
    };
    let (dl_g, dl_e) = match &spec.update {
        UpdateBound::Declared {
            lipschitz,
            e_lipschitz,
            ..
        } => (Some(*lipschitz), Some(e_lipschitz.unwrap_or(*lipschitz))),
        UpdateBound::Weights { .. } => (None, None),
    };
    Some(RegionProblem {
        gamma: RatRange::widened(spec.gamma_e.lo(), spec.gamma_e.hi())?,
        alpha: RatRange::widened(spec.alpha.lo(), spec.alpha.hi())?,
        l_g: l_range(dl_g, lips.l_g)?,
        l_e: l_range(dl_e, lips.l_e)?,
        row_profiles: profiles
            .iter()
            .map(|&(l, r)| Some((exact(l)?, exact(r)?)))
            .collect::<Option<Vec<_>>>()?,
        spectral: if spec.graph.laplacian == LaplacianKind::Sym {
            SpectralModel::Symmetric {
                lambda_hi: exact(lambda_hi)?,
            }
        } else {
            // Corners of the widened box: the kernel bound at each corner
            // encloses ‖M‖₂ for the widened corner values too.
            let gw = [down(spec.gamma_e.lo()).max(0.0), up(spec.gamma_e.hi())];
            let aw = [down(spec.alpha.lo()).max(0.0), up(spec.alpha.hi())];
            let g = &spec.graph;
            let mut out = Vec::new();
            for (gi, &gm) in gw.iter().enumerate() {
                for (ai, &al) in aw.iter().enumerate() {
                    // Reuse a computed corner when the spec's corner rounds to it.
                    let s = corner_list
                        .iter()
                        .find(|c| {
                            c.0 == [spec.gamma_e.lo(), spec.gamma_e.hi()][gi]
                                && c.1 == [spec.alpha.lo(), spec.alpha.hi()][ai]
                        })
                        .map(|c| c.2.two.upper)
                        .unwrap_or_else(|| {
                            m_norms(
                                &g.graph,
                                g.laplacian,
                                Interval::around(gm),
                                Interval::around(al),
                                lambda_hi,
                            )
                            .two
                            .upper
                        });
                    out.push((exact(gm)?, exact(al)?, exact(s)?));
                }
            }
            SpectralModel::Corners(out)
        },
    })
}

/// Re-checks z3's candidate with the kernel: does every condition fail there?
fn confirm_point(
    spec: &Spec,
    lips: &Lips,
    p: &smt::CounterPoint,
    lambda_hi: f64,
) -> Counterexample {
    let g = &spec.graph;
    let m = m_norms(
        &g.graph,
        g.laplacian,
        enclose(&p.gamma),
        enclose(&p.alpha),
        lambda_hi,
    );
    let (l_g, l_e) = (enclose(&p.l_g), enclose(&p.l_e));
    // With weights the refuting constants are the kernel lower bounds.
    let (l_g, l_e) = match spec.update {
        UpdateBound::Declared { .. } => (l_g, l_e),
        UpdateBound::Weights { .. } => (
            Interval::point(lips.l_g.lo()),
            Interval::point(lips.l_e.lo()),
        ),
    };
    let confirmed = all_fail(&m, l_g, l_e);
    let s = |q: &BigRational| q.to_string();
    Counterexample {
        gamma_e: approx(&p.gamma),
        alpha: approx(&p.alpha),
        lipschitz: approx(&p.l_g),
        e_lipschitz: approx(&p.l_e),
        exact: [s(&p.gamma), s(&p.alpha), s(&p.l_g), s(&p.l_e)],
        confirmed,
    }
}

#[cfg(test)]
mod tests {

    /// Every check that names a theorem names one that exists: the file is
    /// in proofs/ and declares a `Theorem` of that name.
    #[test]
    fn every_check_names_an_existing_coq_theorem() {
        let proofs = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../proofs");
        for name in [
            "proposition1",
            "frobenius",
            "max_norm",
            "hebbian_deterministic",
        ] {
            let cite = theorem_of(name);
            let (file, rest) = cite.split_once(": ").expect("FILE: THEOREM");
            let theorem = rest.split_whitespace().next().unwrap();
            let text = std::fs::read_to_string(proofs.join(file.trim_start_matches("proofs/")))
                .unwrap_or_else(|e| panic!("{name}: {file}: {e}"));
            assert!(
                text.contains(&format!("Theorem {theorem} ")),
                "{name}: {file} has no Theorem {theorem}"
            );
        }
        assert!(theorem_of("hebbian_mean_square").starts_with("none"));
    }

    use super::*;

    #[test]
    fn printed_bounds_round_outward_from_the_float() {
        // The float 0.3 is just below the decimal 0.3; its next_up is above.
        let up3 = up(0.3);
        assert_eq!(decimal_upper(up3, 6), "0.300001");
        assert_eq!(decimal_lower(down(0.3), 6), "0.299999");
        assert_eq!(decimal_upper(0.5, 6), "0.500000", "exact values stay");
        assert_eq!(decimal_upper(8.0000000001, 6), "8.000001");
        assert_eq!(decimal_lower(-1e-9, 6), "-0.000001");
        assert_eq!(decimal_upper(-1e-9, 6), "0.000000");
        assert_eq!(decimal_upper(f64::INFINITY, 6), "inf");
        assert_eq!(decimal_lower(1.0 - 1e-12, 9), "0.999999999");
    }

    /// `specs/region-paper.toml` (certified by z3 alone), checked.
    fn region_paper() -> Spec {
        let path =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../specs/region-paper.toml");
        let text = std::fs::read_to_string(path).expect("specs/region-paper.toml exists");
        Spec::from_toml(&text, &|_| Err("no weights".into())).expect("a valid spec")
    }

    /// A second solver that contradicts z3 on every query (a fake cvc5 that
    /// always prints `sat`) makes the region unknown, naming the
    /// disagreement, where z3 alone certifies it; a fake that agrees
    /// (`unsat`), no cvc5 and a missing one leave z3's verdict, and the
    /// certificate records what cvc5 said or why it said nothing.
    #[cfg(unix)]
    #[test]
    fn z3_and_cvc5_disagreeing_never_certifies_a_region() {
        let spec = region_paper();
        let with = |cvc5: Cvc5| {
            certify(
                &spec,
                CertifyOptions {
                    cvc5,
                    ..CertifyOptions::default()
                },
            )
            .0
        };
        let always = |answer: &str| {
            Cvc5::Binary(crate::cvc5::tests::fake(
                &format!("always-{answer}"),
                &format!("cat >/dev/null; echo {answer}"),
            ))
        };
        let lying = with(always("sat"));
        assert_eq!(lying.verdict, Verdict::Unknown, "{}", lying.reason);
        assert!(
            lying
                .reason
                .contains("any_sufficient: z3 and cvc5 disagree (z3: unsat, cvc5: sat)"),
            "{}",
            lying.reason
        );
        for q in &lying.smt {
            assert_eq!((q.result.as_str(), q.cvc5.as_str()), ("unknown", "sat"));
            assert_eq!(
                q.detail.as_deref(),
                Some("z3 and cvc5 disagree (z3: unsat, cvc5: sat)")
            );
        }
        // One contradicted query is enough, though the other three agree
        // and would certify on their own.
        let one = with(Cvc5::Binary(crate::cvc5::tests::fake(
            "one-sat",
            "if grep -q 'query max_norm:'; then echo sat; else echo unsat; fi",
        )));
        assert_eq!(one.verdict, Verdict::Unknown, "{}", one.reason);
        assert_eq!(
            one.reason,
            "max_norm: z3 and cvc5 disagree (z3: unsat, cvc5: sat); not certified"
        );
        let results: Vec<&str> = one.smt.iter().map(|q| q.result.as_str()).collect();
        assert_eq!(results, ["unknown", "unsat", "unsat", "unsat"]);
        // Nothing rests on the three agreeing answers either.
        assert!(one.certified_by.is_empty(), "{:?}", one.certified_by);
        assert!(one.bounds.iae_norm.is_none() && one.bounds.hebbian_norm.is_none());
        let agreeing = with(always("unsat"));
        assert_eq!(agreeing.verdict, Verdict::Certified, "{}", agreeing.reason);
        assert!(agreeing.smt.iter().all(|q| q.cvc5 == "unsat"));
        let off = with(Cvc5::Off);
        assert_eq!(off.verdict, Verdict::Certified);
        assert!(off
            .smt
            .iter()
            .all(|q| q.result == "unsat" && q.cvc5 == "not run: cross-check with cvc5 is off"));
        let missing = with(Cvc5::Binary("/nonexistent/esai-no-such-cvc5".into()));
        assert_eq!(missing.verdict, Verdict::Certified);
        assert!(missing
            .smt
            .iter()
            .all(|q| q.cvc5.starts_with("not available: ")));
    }

    #[test]
    fn z3_unknown_or_timeout_never_certifies_a_region() {
        let timeout = QueryOutcome::Unknown("timeout".into());
        for kernel in [Some(true), None] {
            assert_eq!(
                decide(true, kernel, &timeout),
                None,
                "timeout must stay unknown"
            );
        }
        assert_eq!(decide(true, None, &QueryOutcome::Unsat), Some(true));
        assert_eq!(
            decide(true, Some(false), &QueryOutcome::Unsat),
            Some(false),
            "a kernel refutation wins"
        );
        assert_eq!(
            decide(false, Some(true), &timeout),
            Some(true),
            "at a point the kernel decides"
        );
    }
}
