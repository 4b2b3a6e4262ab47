//! The live certificate: the spec's sufficient conditions (spec §5.2)
//! re-evaluated for the current `g_φ`.
//!
//! The monitor never links a solver or the verifier's kernel: the sound
//! numbers come in from outside — `‖M‖₂`, `‖M‖_∞` upper bounds in the
//! [`Basis`] (from `esai certify`), and `L_g`, `L_E`, `L_u`, `‖g_φ(0)‖`
//! upper bounds from a [`GBoundOracle`] (the CLI plugs in `esai-verify`).
//! What is computed here is a handful of sums, products and one division,
//! each rounded outward (`next_up`/`next_down`), so a bound that is sound on
//! its inputs stays sound.

use esai_core::mlp::Mlp;
use serde::{Deserialize, Serialize};

/// What the monitor needs to know of the certified configuration. Stored in
/// the run directory so `esai monitor` can re-check a run offline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Basis {
    /// Upper bound on `‖γ_E I − αL‖₂` for the graph the trainer diffuses on.
    pub m2_upper: f64,
    /// Upper bound on `‖γ_E I − αL‖_∞` for that graph.
    pub minf_upper: f64,
    /// Agents per environment copy (`N` of the Frobenius bound).
    pub agents: usize,
    /// IAE dimension k (the leading `k` inputs of `g_φ` are `E`).
    pub k: usize,
    /// The Lipschitz target `L_g` the trainer projects `g_φ` to (`update.lipschitz`).
    pub lipschitz_target: f64,
    /// The spec's declared `‖g_φ(0)‖` bound, if any (`update.zero_output_norm`).
    pub declared_zero_output_norm: Option<f64>,
    /// Upper bound on `‖(z̃, a, r, h)‖₂` over the input box (`C_u`).
    pub input_norm: f64,
    /// `C_z`, the observation norm bound.
    pub obs_norm: f64,
    /// `η_H`.
    pub eta_h: f64,
    /// `δ_H`.
    pub delta_h: f64,
    /// The spec certificate's verdict (`certified`, `violated`, `unknown`).
    pub verdict: String,
    /// The spec certificate's `B` (if it had one).
    pub certified_iae_bound: Option<f64>,
}

/// Sound upper bounds on the constants of one `g_φ`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct GBounds {
    /// `L_g` (all inputs).
    pub l_g: f64,
    /// `L_E` (the `E` block).
    pub l_e: f64,
    /// `L_u` (the other inputs).
    pub l_u: f64,
    /// `‖g_φ(0)‖₂`.
    pub zero_output_norm: f64,
}

/// Computes sound upper bounds for a `g_φ` (implemented with the verifier's
/// kernel by the CLI; tests may plug in exact values for linear nets).
pub trait GBoundOracle {
    /// Bounds for `g`, whose first `e_inputs` inputs are `E`.
    fn bounds(&self, g: &Mlp, e_inputs: usize) -> GBounds;
}

/// One sufficient condition evaluated for the current `g_φ`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LiveCondition {
    /// `proposition1`, `frobenius` or `max_norm`.
    pub name: String,
    /// Upper bound on the contraction factor ρ.
    pub rho: f64,
    /// Whether `ρ < 1` is proven.
    pub holds: bool,
    /// The per-agent IAE bound it gives, if any.
    pub iae_bound: Option<f64>,
}

/// The spec's conditions for the current `g_φ`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LiveCertificate {
    /// The oracle's bounds.
    pub g: GBounds,
    /// `K ≥ sup ‖g_φ(0, u)‖` over the input box: `‖g(0)‖ + L_u C_u`, rounded up.
    pub k: f64,
    /// Each condition.
    pub conditions: Vec<LiveCondition>,
    /// Smallest per-agent `B ≥ sup_t max_i ‖E_{i,t}‖` among the holding
    /// conditions (from `𝐄_0 = 0`); `None` when none holds.
    pub iae_bound: Option<f64>,
    /// `B_H = η_H B C_z / (1 − |1 − δ_H|)` (spec §5.5 corrected), when `B` exists and `0 < δ_H < 2`.
    pub hebbian_bound: Option<f64>,
}

fn up(x: f64) -> f64 {
    if x.is_nan() {
        f64::INFINITY
    } else {
        x.next_up()
    }
}

fn down(x: f64) -> f64 {
    if x.is_nan() {
        f64::NEG_INFINITY
    } else {
        x.next_down()
    }
}

/// `num / (1 − ρ)` rounded up, or `None` unless `ρ < 1` is certain.
fn over_gap(num: f64, rho: f64) -> Option<f64> {
    let gap = down(1.0 - rho);
    (gap > 0.0 && num.is_finite()).then(|| up(num / gap))
}

impl LiveCertificate {
    /// Evaluates the conditions for bounds `g` on the configuration `basis`.
    /// Every inequality is decided on outward-rounded values, so `holds`
    /// is proven when the inputs are sound upper bounds.
    pub fn new(basis: &Basis, g: GBounds) -> Self {
        let k = up(g.zero_output_norm + up(g.l_u * basis.input_norm));
        let cond = |name: &str, rho: f64, bound: Option<f64>| LiveCondition {
            name: name.into(),
            rho,
            holds: rho < 1.0,
            iae_bound: if rho < 1.0 { bound } else { None },
        };
        let p1 = up(basis.m2_upper + g.l_g);
        let fro = up(basis.m2_upper + g.l_e);
        let maxn = up(basis.minf_upper + g.l_e);
        let sqrt_n = up((basis.agents as f64).sqrt());
        let conditions = vec![
            // The paper's condition gives no explicit per-agent bound (§5.2).
            cond("proposition1", p1, None),
            cond("frobenius", fro, over_gap(up(sqrt_n * k), fro)),
            cond("max_norm", maxn, over_gap(k, maxn)),
        ];
        let iae_bound = conditions
            .iter()
            .filter_map(|c| c.iae_bound)
            .min_by(f64::total_cmp);
        let d = basis.delta_h;
        let hebbian_bound = iae_bound.filter(|_| d > 0.0 && d < 2.0).and_then(|b| {
            let contraction = up((1.0 - d).abs());
            over_gap(up(up(basis.eta_h * b) * basis.obs_norm), contraction)
        });
        Self {
            g,
            k,
            conditions,
            iae_bound,
            hebbian_bound,
        }
    }

    /// Whether some sufficient condition holds.
    pub fn contracts(&self) -> bool {
        self.conditions.iter().any(|c| c.holds)
    }

    /// The smallest contraction factor among the conditions.
    pub fn best_rho(&self) -> f64 {
        self.conditions
            .iter()
            .map(|c| c.rho)
            .fold(f64::INFINITY, f64::min)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// The paper's configuration (‖M‖ = 0.9, L_g = 0.05, ‖g_φ(0)‖ ≤ 0.1,
    /// C_u = 6) for `agents` agents and IAE dimension `k`.
    pub(crate) fn paper_basis(agents: usize, k: usize) -> Basis {
        Basis {
            m2_upper: 0.9,
            minf_upper: 0.9,
            agents,
            k,
            lipschitz_target: 0.05,
            declared_zero_output_norm: Some(0.1),
            input_norm: 6.0,
            obs_norm: 1.0,
            eta_h: 0.001,
            delta_h: 0.02,
            verdict: "certified".into(),
            certified_iae_bound: Some(8.0),
        }
    }

    fn basis() -> Basis {
        paper_basis(4, 2)
    }

    #[test]
    fn paper_numbers_reproduce_the_certificate() {
        // K = 0.1 + 0.05·6 = 0.4; ρ∞ = 0.95; B = 0.4 / 0.05 = 8; B_H = 0.001·8·1/0.02 = 0.4.
        let live = LiveCertificate::new(
            &basis(),
            GBounds {
                l_g: 0.05,
                l_e: 0.05,
                l_u: 0.05,
                zero_output_norm: 0.1,
            },
        );
        assert!(live.contracts());
        let b = live.iae_bound.expect("max_norm holds");
        assert!((8.0..8.0 + 1e-9).contains(&b), "{b}");
        let bh = live.hebbian_bound.expect("δ in (0, 2)");
        assert!((0.4..0.4 + 1e-9).contains(&bh), "{bh}");
    }

    #[test]
    fn no_condition_no_bound() {
        let live = LiveCertificate::new(
            &basis(),
            GBounds {
                l_g: 0.1,
                l_e: 0.1,
                l_u: 0.1,
                zero_output_norm: 0.0,
            },
        );
        assert!(!live.contracts());
        assert_eq!(live.iae_bound, None);
        assert_eq!(live.hebbian_bound, None);
    }

    #[test]
    fn a_nan_bound_never_certifies() {
        let live = LiveCertificate::new(
            &basis(),
            GBounds {
                l_g: f64::NAN,
                l_e: f64::NAN,
                l_u: 0.0,
                zero_output_norm: 0.0,
            },
        );
        assert!(!live.contracts());
    }
}
