//! Lipschitz bounds for `g_φ` from its weights.
//!
//! Three numbers, reported together with their gap:
//! - the **product bound** `Π_l ‖W_l‖₂` (Appendix A.3 generalised);
//! - the **averaged-activation bound** (Combettes & Pesquet 2020): every
//!   activation here is monotone with slopes in `[0, 1]`, so between two
//!   inputs it acts as a diagonal `D = ½(I + S)` with `‖S‖₂ ≤ 1`. Expanding
//!   the Jacobian `W_L D_{L−1} ⋯ D_1 W_1` over the `I`/`S` choices and
//!   bounding each `S` by 1 gives `Σ_choices 2^{−#nonlinear} Π ‖merged block‖`,
//!   never larger than the product bound (`‖W₂W₁‖ ≤ ‖W₂‖‖W₁‖`) and often much
//!   smaller. Identity activations are `D = I` exactly and always merge. The
//!   last layer's activation has `‖D‖ ≤ 1` and is dropped.
//! - a **lower bound** from gradient search: a pair of inputs whose output
//!   distance over input distance, evaluated in interval arithmetic, is a
//!   rigorous lower bound on the constant.
//!
//! Every block norm is a kernel-confirmed upper bound; products and sums are
//! rounded up.

use crate::kernel::interval::{down, up, Interval};
use crate::kernel::mlp_eval::{forward_enclosure, norm_upper};
use crate::kernel::norms::IMat;
use crate::spectral::dense_spectral_bound;
use esai_core::mlp::{Activation, Mlp};
use esai_core::rng::SplitMix64;

/// Lipschitz bounds of `g_φ` over all inputs and over blocks of them.
#[derive(Debug, Clone)]
pub struct LipschitzBounds {
    /// Rigorous lower bound on `L_g` (gradient search).
    pub lower: f64,
    /// Best sound upper bound on `L_g`.
    pub upper: f64,
    /// `Π ‖W_l‖₂` (sound upper, usually loose).
    pub product_bound: f64,
    /// Method that gave `upper`.
    pub method: String,
    /// Sound upper bound on `L_E`, the constant in the first `e_inputs` inputs.
    pub e_block_upper: f64,
    /// Rigorous lower bound on `L_E`.
    pub e_block_lower: f64,
    /// Sound upper bound on `L_u`, the constant in the remaining inputs.
    pub input_block_upper: f64,
    /// Sound upper bound on `‖g_φ(0)‖₂`.
    pub zero_output_norm: f64,
}

/// Sound upper bounds only (no lower-bound search): what the runtime
/// monitor needs to re-certify a trained `g_φ` cheaply.
#[derive(Debug, Clone, Copy)]
pub struct UpperBounds {
    /// `Π ‖W_l‖₂`.
    pub product: f64,
    /// Best upper bound on `L_g` (averaged-activation bound, never above `product`).
    pub l_g: f64,
    /// Upper bound on `L_E` (the first `e_inputs` inputs).
    pub l_e: f64,
    /// Upper bound on `L_u` (the other inputs).
    pub l_u: f64,
    /// Upper bound on `‖g_φ(0)‖₂`.
    pub zero_output_norm: f64,
}

/// Computes the sound upper bounds; `e_inputs` leading inputs are `E`.
pub fn lipschitz_upper_bounds(mlp: &Mlp, e_inputs: usize) -> UpperBounds {
    let n_in = mlp.inputs();
    let weights: Vec<IMat> = mlp
        .layers()
        .iter()
        .map(|l| IMat::from_points(l.out(), l.inputs(), l.weight()))
        .collect();
    let shared = SharedBlocks::new(&weights);
    // The three column blocks are independent: the whole input on a second
    // thread, E and u on this one (the monitor recertifies during training,
    // when the second core is otherwise idle).
    let ((product, averaged), (e_block, l_u)) = crate::join(
        || block_bounds(mlp, &weights, &shared, 0..n_in),
        || {
            let e_block = block_bounds(mlp, &weights, &shared, 0..e_inputs);
            let l_u = if e_inputs < n_in {
                block_bounds(mlp, &weights, &shared, e_inputs..n_in).1
            } else {
                0.0
            };
            (e_block, l_u)
        },
    );
    let zero = forward_enclosure(mlp, &vec![Interval::point(0.0); n_in]);
    UpperBounds {
        product,
        l_g: averaged.min(product),
        l_e: e_block.1.min(e_block.0),
        l_u,
        zero_output_norm: norm_upper(&zero),
    }
}

/// Computes all bounds; `e_inputs` leading inputs are `E`.
pub fn lipschitz_bounds(mlp: &Mlp, e_inputs: usize, seed: u64) -> LipschitzBounds {
    let n_in = mlp.inputs();
    let u = lipschitz_upper_bounds(mlp, e_inputs);
    let mut rng = SplitMix64::new(seed);
    let lower = lower_bound(mlp, 0..n_in, &mut rng).min(u.l_g);
    let e_block_lower = lower_bound(mlp, 0..e_inputs, &mut rng).min(u.l_e);
    // L_E ≤ L_g, so a lower bound on L_E is one on L_g too.
    let lower = lower.max(e_block_lower);
    let method = if u.l_g < u.product {
        "averaged-activation bound (Combettes–Pesquet), kernel-confirmed block norms"
    } else {
        "product of kernel-confirmed layer norms"
    };
    LipschitzBounds {
        lower,
        upper: u.l_g,
        product_bound: u.product,
        method: method.into(),
        e_block_upper: u.l_e,
        e_block_lower,
        input_block_upper: u.l_u,
        zero_output_norm: u.zero_output_norm,
    }
}

/// Norm bounds of the merged blocks `W_{j−1} ⋯ W_i` that do not touch the
/// first layer (`1 ≤ i < j ≤ L`), and the products `W_{j−1} ⋯ W_1`: the
/// same for every column block, so computed once.
struct SharedBlocks {
    /// `norm[i][j]` ≥ `‖W_{j−1} ⋯ W_i‖₂` (0-based layers), for `1 ≤ i < j`.
    norm: Vec<Vec<f64>>,
    /// `tail[j]` = enclosure of `W_{j−1} ⋯ W_1`, for `j ≥ 2`.
    tail: Vec<Option<IMat>>,
}

impl SharedBlocks {
    fn new(weights: &[IMat]) -> Self {
        let l = weights.len();
        let mut norm = vec![vec![f64::NAN; l + 1]; l + 1];
        for j in 2..=l {
            let mut block = weights[j - 1].clone();
            for i in (1..j).rev() {
                if i < j - 1 {
                    block = block.matmul(&weights[i]);
                }
                norm[i][j] = dense_spectral_bound(&block).upper;
            }
        }
        let mut tail = vec![None; l + 1];
        for j in 2..=l {
            tail[j] = Some(match &tail[j - 1] {
                None => weights[j - 1].clone(),
                Some(t) => weights[j - 1].matmul(t),
            });
        }
        Self { norm, tail }
    }
}

/// `(product bound, averaged bound)` for the Jacobian restricted to `cols`.
fn block_bounds(
    mlp: &Mlp,
    weights: &[IMat],
    shared: &SharedBlocks,
    cols: std::ops::Range<usize>,
) -> (f64, f64) {
    let l = weights.len();
    let first = weights[0].columns(cols);
    // head[j] ≥ ‖W_{j−1} ⋯ W_1 · W_0[:, cols]‖₂.
    let head: Vec<f64> = shared
        .tail
        .iter()
        .enumerate()
        .map(|(j, tail)| match (j, tail) {
            (0, _) => f64::NAN, // no block ends before layer 0
            (_, None) => dense_spectral_bound(&first).upper,
            (_, Some(t)) => dense_spectral_bound(&t.matmul(&first)).upper,
        })
        .collect();
    let norm = |i: usize, j: usize| if i == 0 { head[j] } else { shared.norm[i][j] };
    let product = (0..l).fold(1.0, |p, i| up(p * norm(i, i + 1)));
    // nonlinear[i] is true if the activation after layer i (0-based) is not identity.
    let nonlinear: Vec<bool> = mlp
        .layers()
        .iter()
        .map(|l| l.activation() != Activation::Identity)
        .collect();
    // t[j] bounds the first j layers; block (i..j) = W_{j-1} ⋯ W_i (0-based).
    let mut t = vec![0.0; l + 1];
    t[0] = 1.0;
    for j in 1..=l {
        let mut acc = 0.0;
        for i in (0..j).rev() {
            // merges at the activation points after layers i .. j−2, split at i−1.
            let merge_weight = (i..j - 1)
                .filter(|&p| nonlinear[p])
                .fold(1.0, |m, _| m * 0.5);
            let split_weight = match i {
                0 => 1.0,
                _ if nonlinear[i - 1] => 0.5,
                _ => continue, // an identity activation cannot be split
            };
            acc = up(acc + up(up(up(merge_weight * split_weight) * norm(i, j)) * t[i]));
        }
        t[j] = acc;
    }
    (product, t[l].min(product))
}

/// Rigorous lower bound on the Lipschitz constant in the inputs `cols`:
/// random restarts, the top right singular vector of the Jacobian block, and
/// a finite-difference pair evaluated in interval arithmetic.
fn lower_bound(mlp: &Mlp, cols: std::ops::Range<usize>, rng: &mut SplitMix64) -> f64 {
    let n_in = mlp.inputs();
    let mut best = 0.0f64;
    for sample in 0..24 {
        let scale = [0.1, 1.0, 3.0][sample % 3];
        let x: Vec<f64> = (0..n_in).map(|_| scale * rng.next_gaussian()).collect();
        let j = mlp.jacobian(&x);
        let m = mlp.outputs();
        let block: Vec<f64> = (0..m)
            .flat_map(|r| cols.clone().map(move |c| (r, c)))
            .map(|(r, c)| j[r * n_in + c])
            .collect();
        let Some(v) = top_right_singular_vector(&block, m, cols.len()) else {
            continue;
        };
        let mut dir = vec![0.0; n_in];
        for (k, c) in cols.clone().enumerate() {
            dir[c] = v[k];
        }
        let h = 1e-6 * (1.0 + x.iter().map(|v| v.abs()).fold(0.0, f64::max));
        let y: Vec<f64> = x.iter().zip(&dir).map(|(a, d)| a + h * d).collect();
        best = best.max(pair_ratio_lower(mlp, &x, &y));
    }
    best
}

/// The top right singular vector of the row-major `m × n` matrix `a`, by
/// power iteration on `aᵀa` (untrusted: it only proposes a direction, the
/// bound itself is [`pair_ratio_lower`]). Started from `a`'s largest row,
/// which already has a large component along it. None for a zero matrix.
fn top_right_singular_vector(a: &[f64], m: usize, n: usize) -> Option<Vec<f64>> {
    let row = |r: usize| &a[r * n..(r + 1) * n];
    let sq = |v: &[f64]| v.iter().map(|x| x * x).sum::<f64>();
    let start = (0..m).max_by(|&i, &j| sq(row(i)).total_cmp(&sq(row(j))))?;
    let mut v = row(start).to_vec();
    let mut av = vec![0.0; m];
    for _ in 0..60 {
        let norm = sq(&v).sqrt();
        if norm == 0.0 || !norm.is_finite() {
            return None;
        }
        v.iter_mut().for_each(|x| *x /= norm);
        for (r, out) in av.iter_mut().enumerate() {
            *out = row(r).iter().zip(&v).map(|(x, y)| x * y).sum();
        }
        v.iter_mut().for_each(|x| *x = 0.0);
        for (r, &s) in av.iter().enumerate() {
            for (x, y) in v.iter_mut().zip(row(r)) {
                *x += s * y;
            }
        }
    }
    let norm = sq(&v).sqrt();
    (norm > 0.0 && norm.is_finite()).then(|| v.into_iter().map(|x| x / norm).collect())
}

/// `‖g(x) − g(y)‖₂ / ‖x − y‖₂`, rounded down: a rigorous lower bound.
fn pair_ratio_lower(mlp: &Mlp, x: &[f64], y: &[f64]) -> f64 {
    let gx = forward_enclosure(
        mlp,
        &x.iter().copied().map(Interval::point).collect::<Vec<_>>(),
    );
    let gy = forward_enclosure(
        mlp,
        &y.iter().copied().map(Interval::point).collect::<Vec<_>>(),
    );
    let num = gx.iter().zip(&gy).fold(0.0, |s, (a, b)| {
        let d = *a - *b;
        down(s + down(d.mig() * d.mig()))
    });
    let diff: Vec<Interval> = x
        .iter()
        .zip(y)
        .map(|(a, b)| Interval::point(*a) - Interval::point(*b))
        .collect();
    let den = norm_upper(&diff);
    if den == 0.0 {
        return 0.0;
    }
    down(down(num.max(0.0).sqrt()) / den).max(0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn net(w1: Vec<f64>, w2: Vec<f64>, act: Activation) -> Mlp {
        Mlp::new(vec![
            (2, 2, w1, vec![0.1, -0.1], act),
            (2, 2, w2, vec![0.0, 0.2], Activation::Identity),
        ])
        .unwrap()
    }

    #[test]
    fn linear_net_bounds_are_tight() {
        // Identity activations: g is linear, L = ‖W2 W1‖₂ exactly.
        let m = net(
            vec![1.0, 2.0, 0.0, 1.0],
            vec![0.5, 0.0, 0.0, 0.5],
            Activation::Identity,
        );
        let b = lipschitz_bounds(&m, 1, 1);
        let exact = 0.5 * (3.0 + 8f64.sqrt()).sqrt(); // ‖[[1,2],[0,1]]‖ = 1+√2
        assert!(b.lower <= exact && exact <= b.upper, "{b:?}");
        assert!(b.upper - b.lower < 1e-6, "{b:?}");
    }

    #[test]
    fn averaged_bound_beats_product_when_layers_cancel() {
        // W2 W1 = 0 while ‖W2‖‖W1‖ = 1: the averaged bound is half the product.
        let m = net(
            vec![1.0, 0.0, 0.0, 0.0],
            vec![0.0, 1.0, 0.0, 0.0],
            Activation::Relu,
        );
        let b = lipschitz_bounds(&m, 2, 1);
        assert!((b.product_bound - 1.0).abs() < 1e-6);
        assert!(b.upper <= 0.5 + 1e-6 && b.upper >= 0.5);
    }
}
