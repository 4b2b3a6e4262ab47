//! The kernel against exact rational arithmetic.
//!
//! The oracle: a symmetric rational matrix is positive definite iff its
//! Gaussian elimination (LDLᵀ) has only positive pivots, computed exactly
//! with `BigRational`. "upper ≥ exact" is checked as `upper² I − AᵀA ≻ 0`
//! exactly; "lower ≤ exact" as `lower² I − AᵀA ⊁ 0` exactly.

use esai_core::graph::{Graph, LaplacianKind};
use esai_core::mlp::{Activation, Mlp};
use esai_verify::kernel::interval::Interval;
use esai_verify::kernel::norms::{IMat, ISparse};
use esai_verify::lipschitz::lipschitz_bounds;
use esai_verify::spectral::{dense_spectral_bound, m_norms, sparse_spectral_bound, SparseOptions};
use num_rational::BigRational;
use num_traits::{One, Signed, Zero};
use proptest::prelude::*;

type Q = BigRational;

fn q(x: f64) -> Q {
    Q::from_float(x).expect("finite")
}

/// Exact positive definiteness of a symmetric rational matrix.
fn is_pd_exact(mut a: Vec<Vec<Q>>) -> bool {
    let n = a.len();
    for k in 0..n {
        if !a[k][k].is_positive() {
            return false;
        }
        for i in k + 1..n {
            let f = &a[i][k] / &a[k][k];
            let (top, bottom) = a.split_at_mut(i);
            for (x, y) in bottom[0][k..].iter_mut().zip(&top[k][k..]) {
                *x -= &f * y;
            }
        }
    }
    true
}

/// `c² I − AᵀA` for a rational `rows × cols` matrix.
fn shifted_gram(a: &[Vec<Q>], c: &Q) -> Vec<Vec<Q>> {
    let cols = a[0].len();
    (0..cols)
        .map(|i| {
            (0..cols)
                .map(|j| {
                    let g: Q = a
                        .iter()
                        .map(|row| &row[i] * &row[j])
                        .fold(Q::zero(), |s, x| s + x);
                    if i == j {
                        c * c - g
                    } else {
                        -g
                    }
                })
                .collect()
        })
        .collect()
}

/// Asserts `lower ≤ ‖A‖₂ ≤ upper` exactly.
fn assert_brackets(a: &[Vec<Q>], lower: f64, upper: f64) {
    assert!(lower <= upper, "lower {lower} > upper {upper}");
    assert!(
        is_pd_exact(shifted_gram(a, &q(upper))),
        "upper {upper} is below the exact norm"
    );
    if lower > 0.0 {
        assert!(
            !is_pd_exact(shifted_gram(a, &q(lower))),
            "lower {lower} is above the exact norm"
        );
    }
}

fn rational(rows: usize, cols: usize, v: &[f64]) -> Vec<Vec<Q>> {
    (0..rows)
        .map(|i| (0..cols).map(|j| q(v[i * cols + j])).collect())
        .collect()
}

/// The exact rational M = γI − αL for the row Laplacian (all entries rational).
fn exact_row_m(g: &Graph, gamma: f64, alpha: f64) -> Vec<Vec<Q>> {
    let n = g.agents();
    let (gq, aq) = (q(gamma), q(alpha));
    (0..n)
        .map(|i| {
            let d: Q = g
                .neighbours(i)
                .map(|(_, w)| q(w))
                .fold(Q::zero(), |s, x| s + x);
            (0..n)
                .map(|j| {
                    let diag = if i == j {
                        if d.is_zero() {
                            gq.clone()
                        } else {
                            &gq - &aq
                        }
                    } else {
                        Q::zero()
                    };
                    let off = g
                        .neighbours(i)
                        .find(|&(k, _)| k == j)
                        .map_or(Q::zero(), |(_, w)| &aq * q(w) / &d);
                    diag + off
                })
                .collect()
        })
        .collect()
}

fn graph_strategy() -> impl Strategy<Value = Graph> {
    (2usize..7)
        .prop_flat_map(|n| {
            let pairs: Vec<(usize, usize)> = (0..n)
                .flat_map(|i| (i + 1..n).map(move |j| (i, j)))
                .collect();
            let m = pairs.len();
            (
                Just(n),
                Just(pairs),
                proptest::collection::vec((any::<bool>(), 0.05f64..4.0), m),
            )
        })
        .prop_map(|(n, pairs, picks)| {
            let edges: Vec<_> = pairs
                .iter()
                .zip(&picks)
                .filter(|(_, p)| p.0)
                .map(|(&(i, j), p)| (i, j, p.1))
                .collect();
            Graph::from_edges(n, &edges).expect("valid by construction")
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, .. ProptestConfig::default() })]

    #[test]
    fn dense_bound_brackets_exact_norm(rows in 1usize..5, cols in 1usize..5, seed in proptest::collection::vec(-3.0f64..3.0, 16)) {
        let v: Vec<f64> = seed[..rows * cols].to_vec();
        let b = dense_spectral_bound(&IMat::from_points(rows, cols, &v));
        assert_brackets(&rational(rows, cols, &v), b.lower, b.upper);
    }

    #[test]
    fn m_norms_bracket_exact_for_random_row_graphs(g in graph_strategy(), gamma in 0.0f64..0.999, alpha in 0.0f64..1.5) {
        let exact = exact_row_m(&g, gamma, alpha);
        let m = m_norms(&g, LaplacianKind::Row, Interval::around(gamma), Interval::around(alpha), 2.0);
        assert_brackets(&exact, m.two.lower, m.two.upper);
        // ‖M‖∞ exactly: the largest absolute row sum.
        let inf = exact.iter().map(|r| r.iter().map(|x| x.abs()).fold(Q::zero(), |s, x| s + x)).max().unwrap();
        prop_assert!(q(m.inf.lower) <= inf && inf <= q(m.inf.upper));
        // Tightness: the dense path is within 1e-9 relative.
        prop_assert!(m.two.upper - m.two.lower <= 1e-9 * m.two.upper.max(1e-300));
    }

    #[test]
    fn sparse_bound_brackets_exact_even_when_unconverged(g in graph_strategy(), gamma in 0.0f64..0.999, alpha in 0.0f64..1.5, iters in 1usize..6) {
        let exact = exact_row_m(&g, gamma, alpha);
        let enc = esai_verify::kernel::m_matrix::m_enclosure(&g, LaplacianKind::Row, Interval::around(gamma), Interval::around(alpha));
        let b = sparse_spectral_bound(&enc, SparseOptions { max_iter: iters, tol: 0.0 });
        assert_brackets(&exact, b.lower, b.upper);
    }

    #[test]
    fn linear_net_lipschitz_brackets_exact(w1 in proptest::collection::vec(-1.0f64..1.0, 6), w2 in proptest::collection::vec(-1.0f64..1.0, 6)) {
        // Identity activations: g(x) = W2 W1 x + c, so L_g = ‖W2 W1‖₂ exactly.
        let mlp = Mlp::new(vec![(3, 2, w1.clone(), vec![0.0; 3], Activation::Identity), (2, 3, w2.clone(), vec![0.0; 2], Activation::Identity)]).unwrap();
        let b = lipschitz_bounds(&mlp, 1, 3);
        let (a1, a2) = (rational(3, 2, &w1), rational(2, 3, &w2));
        let prod: Vec<Vec<Q>> = (0..2).map(|i| (0..2).map(|j| (0..3).map(|k| &a2[i][k] * &a1[k][j]).fold(Q::zero(), |s, x| s + x)).collect()).collect();
        assert_brackets(&prod, b.lower, b.upper);
        prop_assert!(b.upper <= b.product_bound);
    }

    #[test]
    fn nonlinear_net_bounds_are_ordered(w1 in proptest::collection::vec(-1.0f64..1.0, 12), w2 in proptest::collection::vec(-1.0f64..1.0, 8), tanh in any::<bool>()) {
        let act = if tanh { Activation::Tanh } else { Activation::Relu };
        let mlp = Mlp::new(vec![(4, 3, w1, vec![0.1; 4], act), (2, 4, w2, vec![0.0; 2], Activation::Identity)]).unwrap();
        let b = lipschitz_bounds(&mlp, 2, 5);
        prop_assert!(b.lower <= b.upper && b.upper <= b.product_bound);
        prop_assert!(b.e_block_upper <= b.product_bound && b.e_block_lower <= b.lower + 1e-12);
    }
}

/// One untrusted step under-estimates; the kernel's bound does not.
#[test]
fn one_proposal_step_underestimates_but_bound_holds() {
    // A = diag(1, 1 + 2⁻²⁰): from the all-ones start, one Krylov step only
    // sees the Rayleigh quotient, below ‖A‖₂ = 1 + 2⁻²⁰.
    let top = 1.0 + 2f64.powi(-20);
    let a = ISparse::new(
        2,
        vec![0, 1, 2],
        vec![0, 1],
        vec![Interval::point(1.0), Interval::point(top)],
    );
    let b = sparse_spectral_bound(
        &a,
        SparseOptions {
            max_iter: 1,
            tol: 0.0,
        },
    );
    assert!(b.lower < top, "one proposal step must under-estimate here");
    assert!(b.upper >= top);
    assert_brackets(&rational(2, 2, &[1.0, 0.0, 0.0, top]), b.lower, b.upper);
}

/// The oracle itself must be able to fail.
#[test]
fn exact_oracle_rejects_wrong_bounds() {
    let a = rational(2, 2, &[3.0, 0.0, 0.0, 1.0]);
    assert!(is_pd_exact(shifted_gram(&a, &q(3.0 + 1e-9))));
    assert!(!is_pd_exact(shifted_gram(&a, &q(3.0))));
    assert!(!is_pd_exact(shifted_gram(&a, &q(2.9))));
    let _ = Q::one();
}
