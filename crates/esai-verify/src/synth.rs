//! Synthesis of stable hyperparameters, re-verified by the kernel.
//!
//! good_lp (microlp) solves the linear programs; its floating-point answers
//! are proposals only. Every reported value has passed the kernel check at
//! exactly the reported point.

use crate::kernel::interval::Interval;
use crate::kernel::m_matrix::m_enclosure;
use crate::spectral::{inf_norm_bound, m_norms, DENSE_MAX};
use esai_core::graph::{Graph, LaplacianKind};
use good_lp::{constraint, microlp, variable, variables, Solution, SolverModel};
use serde::Serialize;

/// Cap on α in the LPs, so that a graph without edges stays bounded.
pub const ALPHA_CAP: f64 = 1_000.0;

/// The largest α for which one sufficient condition holds.
#[derive(Debug, Clone, Serialize)]
pub struct AlphaSup {
    /// The solver's estimate of the supremum (untrusted; not itself
    /// verified); `null` in JSON when unbounded.
    pub supremum: f64,
    /// The largest α tried that the kernel certified (use this one); `None`
    /// (JSON null) only when `unbounded`.
    pub verified: Option<f64>,
    /// True if the condition holds for every α ≥ 0: a graph without edges,
    /// where `M = γ_E I` does not depend on α. Reported as such, not as the
    /// search's cap.
    pub unbounded: bool,
    /// How it was found.
    pub method: String,
}

impl AlphaSup {
    fn found(supremum: f64, verified: f64, method: impl Into<String>) -> Self {
        Self {
            supremum,
            verified: Some(verified),
            unbounded: false,
            method: method.into(),
        }
    }

    /// Every α ≥ 0 works (no edges), the kernel having checked the condition
    /// at α = 0, which stands for all of them.
    fn unbounded() -> Self {
        Self {
            supremum: f64::INFINITY,
            verified: None,
            unbounded: true,
            method: "unbounded: the graph has no edges, so M = γ_E I does not depend on α (kernel check at α = 0)".into(),
        }
    }
}

/// What is fixed when synthesising: the graph, `γ_E` and the Lipschitz constants.
#[derive(Debug, Clone, Copy)]
pub struct Fixed<'a> {
    /// The graph.
    pub graph: &'a Graph,
    /// The Laplacian kind.
    pub kind: LaplacianKind,
    /// Upper bound on `L_E`.
    pub l_e: f64,
    /// Upper bound on `L_g`.
    pub l_g: f64,
    /// Sound upper bound on `λ_max(L)`.
    pub lambda_hi: f64,
}

/// Row profiles `(L_ii, upper Σ_{j≠i}|L_ij|)`, one per distinct kind of row.
pub type Profiles = [(f64, f64)];

fn max_norm_certified(f: &Fixed, gamma: f64, alpha: f64) -> bool {
    let m = m_enclosure(
        f.graph,
        f.kind,
        Interval::around(gamma),
        Interval::around(alpha),
    );
    (Interval::point(inf_norm_bound(&m).upper) + Interval::around(f.l_e)).hi() < 1.0
}

fn spectral_certified(f: &Fixed, gamma: f64, alpha: f64, l: f64) -> bool {
    let m = m_norms(
        f.graph,
        f.kind,
        Interval::around(gamma),
        Interval::around(alpha),
        f.lambda_hi,
    );
    (Interval::point(m.two.upper) + Interval::around(l)).hi() < 1.0
}

/// Shrinks a proposed α until the kernel certifies it (at most 16 tries).
fn verify_down(alpha: f64, ok: impl Fn(f64) -> bool) -> Option<f64> {
    let mut step = alpha.abs() * 1e-12 + 1e-15;
    let mut a = alpha;
    for _ in 0..16 {
        if a >= 0.0 && ok(a) {
            return Some(a);
        }
        a = alpha - step;
        step *= 10.0;
    }
    None
}

/// Largest α with `‖M‖_∞ + L_E < 1` (LP over the row profiles).
pub fn alpha_max_max_norm(f: &Fixed, gamma: f64, profiles: &Profiles) -> Option<AlphaSup> {
    if f.graph.edge_count() == 0 {
        return max_norm_certified(f, gamma, 0.0).then(AlphaSup::unbounded);
    }
    let mut vars = variables!();
    let a = vars.add(variable().min(0.0).max(ALPHA_CAP));
    let rhs = 1.0 - f.l_e;
    let mut model = vars.maximise(a).using(microlp);
    for &(l, r) in profiles {
        // |γ − α l| + α r ≤ 1 − L_E, split into its two linear halves.
        model = model.with(constraint!((r - l) * a <= rhs - gamma));
        model = model.with(constraint!((r + l) * a <= rhs + gamma));
    }
    let sol = model.solve().ok()?;
    let sup = sol.value(a);
    let verified = verify_down(sup, |x| max_norm_certified(f, gamma, x))?;
    Some(AlphaSup::found(
        sup,
        verified,
        "LP (good_lp/microlp) over |γ−αl|+αr+L_E ≤ 1, kernel re-check",
    ))
}

/// Untrusted `‖γI − αL‖₂` of the float matrix (singular values only).
fn proposed_norm(f: &Fixed, gamma: f64, alpha: f64) -> f64 {
    let m = m_enclosure(
        f.graph,
        f.kind,
        Interval::point(gamma),
        Interval::point(alpha),
    )
    .to_dense();
    let n = m.rows();
    nalgebra::DMatrix::from_row_slice(n, n, &m.mid())
        .singular_values()
        .max()
}

/// Untrusted norms already computed, by α (for one graph and γ): the
/// bisections for `L_E` and for `L_g` walk the same midpoints until their
/// thresholds part, so the second reuses the first's SVDs.
#[derive(Debug, Default)]
pub struct NormMemo {
    seen: std::cell::RefCell<Vec<(f64, f64)>>,
}

impl NormMemo {
    /// How many norms were actually computed.
    pub fn computed(&self) -> usize {
        self.seen.borrow().len()
    }

    fn norm(&self, f: &Fixed, gamma: f64, alpha: f64) -> f64 {
        if let Some(&(_, v)) = self.seen.borrow().iter().find(|(a, _)| *a == alpha) {
            return v;
        }
        let v = proposed_norm(f, gamma, alpha);
        self.seen.borrow_mut().push((alpha, v));
        v
    }
}

/// Largest α with `‖M‖₂ + l < 1`. `α ↦ ‖γI − αL‖₂` is convex, so the set
/// of good α is an interval: bisection on the untrusted SVD norm finds its
/// end, then the kernel certifies the reported value (shrinking it if
/// needed). Only for graphs small enough for the dense path. `memo` must
/// only be shared between calls with the same `f` and `gamma`.
pub fn alpha_max_spectral(f: &Fixed, gamma: f64, l: f64, memo: &NormMemo) -> Option<AlphaSup> {
    if f.graph.agents() > DENSE_MAX || !spectral_certified(f, gamma, 0.0, l) {
        return None;
    }
    if f.graph.edge_count() == 0 {
        return Some(AlphaSup::unbounded());
    }
    let good = |a: f64| memo.norm(f, gamma, a) + l < 1.0;
    let (mut lo, mut hi) = (0.0, 1.0);
    while good(hi) {
        lo = hi;
        hi *= 2.0;
        if hi > ALPHA_CAP {
            let verified = verify_down(lo, |a| spectral_certified(f, gamma, a, l))?;
            let method = format!(
                "bisection on the SVD norm, kernel re-check; good up to the cap {ALPHA_CAP}"
            );
            return Some(AlphaSup::found(f64::INFINITY, verified, method));
        }
    }
    // 26 halvings leave a bracket 1.5e-8 of its start wide: α is a
    // hyperparameter, and each halving costs a dense SVD.
    for _ in 0..26 {
        let mid = 0.5 * (lo + hi);
        if good(mid) {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    let verified = verify_down(lo, |a| spectral_certified(f, gamma, a, l))?;
    let method = "bisection on the SVD norm (‖γI − αL‖₂ is convex in α), kernel re-check";
    Some(AlphaSup::found(hi, verified, method))
}

/// The most robust stable `(γ_E, α)`: the Chebyshev centre of the max-norm
/// stability polytope, re-verified by the kernel.
#[derive(Debug, Clone, Serialize)]
pub struct RobustPoint {
    /// `γ_E` at the centre.
    pub gamma_e: f64,
    /// `α` at the centre.
    pub alpha: f64,
    /// Radius of the largest Euclidean ball in the polytope around it.
    pub radius: f64,
    /// Whether the kernel certified the max-norm condition at the centre.
    pub verified: bool,
}

/// Chebyshev centre of `{(γ, α): 0 ≤ γ < 1, α ≥ 0, |γ − α l| + α r + L_E ≤ 1}`.
pub fn robust_point(f: &Fixed, profiles: &Profiles) -> Option<RobustPoint> {
    let mut vars = variables!();
    let g = vars.add(variable().min(0.0).max(1.0));
    let a = vars.add(variable().min(0.0).max(ALPHA_CAP));
    let r = vars.add(variable().min(0.0));
    let rhs = 1.0 - f.l_e;
    let mut model = vars.maximise(r).using(microlp);
    model = model
        .with(constraint!(r - g <= 0.0))
        .with(constraint!(r - a <= 0.0))
        .with(constraint!(g + r <= 1.0));
    for &(l, rr) in profiles {
        let (c1, c2) = (rr - l, rr + l);
        model = model.with(constraint!(g + c1 * a + (1.0 + c1 * c1).sqrt() * r <= rhs));
        model = model.with(constraint!(
            -1.0 * g + c2 * a + (1.0 + c2 * c2).sqrt() * r <= rhs
        ));
    }
    let sol = model.solve().ok()?;
    let (gamma_e, alpha, radius) = (sol.value(g), sol.value(a), sol.value(r));
    Some(RobustPoint {
        gamma_e,
        alpha,
        radius,
        verified: max_norm_certified(f, gamma_e, alpha),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn row_laplacian_alpha_max_matches_closed_form() {
        // For a row-normalised L every non-isolated row has (l, r) = (1, 1):
        // |γ − α| + α + L_E < 1 ⇔ α < (1 + γ − L_E)/2 when γ + L_E < 1.
        let graph = Graph::ring(8);
        let f = Fixed {
            graph: &graph,
            kind: LaplacianKind::Row,
            l_e: 0.05,
            l_g: 0.05,
            lambda_hi: 2.0,
        };
        let s = alpha_max_max_norm(&f, 0.9, &[(1.0, 1.0)]).unwrap();
        assert!((s.supremum - 0.925).abs() < 1e-9, "{s:?}");
        let v = s.verified.unwrap();
        assert!(v <= 0.925 && v > 0.925 - 1e-9);
        // The ring's row L is symmetric with λ_max = 2: the spectral supremum is also 0.925.
        let memo = NormMemo::default();
        let sp = alpha_max_spectral(&f, 0.9, 0.05, &memo).unwrap();
        assert!((sp.verified.unwrap() - 0.925).abs() < 1e-6, "{sp:?}");
        // A second threshold on the same memo: the same answer as alone,
        // with fewer new SVDs than a fresh bisection needs.
        let before = memo.computed();
        let shared = alpha_max_spectral(&f, 0.9, 0.06, &memo).unwrap();
        let fresh_memo = NormMemo::default();
        let fresh = alpha_max_spectral(&f, 0.9, 0.06, &fresh_memo).unwrap();
        assert_eq!(
            (shared.verified, shared.supremum),
            (fresh.verified, fresh.supremum)
        );
        assert!(
            memo.computed() - before < fresh_memo.computed(),
            "{} new vs {} fresh",
            memo.computed() - before,
            fresh_memo.computed()
        );
    }

    #[test]
    fn robust_point_is_inside_and_verified() {
        let graph = Graph::complete(4);
        let f = Fixed {
            graph: &graph,
            kind: LaplacianKind::Row,
            l_e: 0.05,
            l_g: 0.05,
            lambda_hi: 2.0,
        };
        let p = robust_point(&f, &[(1.0, 1.0)]).unwrap();
        assert!(p.verified && p.radius > 0.1, "{p:?}");
    }
}
