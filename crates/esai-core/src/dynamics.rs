//! Plain-f64 ESAI state dynamics (Eq. 3 and Eq. 8 of paper 002).
//!
//! These are the reference semantics the verifier's bounds speak about and
//! that simulations and property tests run. They are untrusted numerics:
//! nothing here is rounded outward.

use crate::graph::{Graph, LaplacianKind};

/// The diffusion part of the IAE update (Eq. 3): returns `(γ_E I − α L) 𝐄`
/// for `𝐄 ∈ R^{N×k}` stored row-major (one row per agent).
pub fn diffuse(
    graph: &Graph,
    kind: LaplacianKind,
    gamma_e: f64,
    alpha: f64,
    e: &[f64],
    k: usize,
) -> Vec<f64> {
    let n = graph.agents();
    assert_eq!(e.len(), n * k, "𝐄 must be N×k");
    let mut out = vec![0.0; n * k];
    let mut col = vec![0.0; n];
    let mut res = vec![0.0; n];
    for c in 0..k {
        for i in 0..n {
            col[i] = e[i * k + c];
        }
        graph.apply_m(kind, gamma_e, alpha, &col, &mut res);
        for i in 0..n {
            out[i * k + c] = res[i];
        }
    }
    out
}

/// One full IAE step (Eq. 3): `𝐄_{t+1} = (γ_E I − α L) 𝐄_t + G_t`, where row
/// `i` of `G_t` is `g(i, E_i)` (the closure carries the other inputs).
pub fn iae_step(
    graph: &Graph,
    kind: LaplacianKind,
    gamma_e: f64,
    alpha: f64,
    e: &[f64],
    k: usize,
    mut g: impl FnMut(usize, &[f64]) -> Vec<f64>,
) -> Vec<f64> {
    let mut next = diffuse(graph, kind, gamma_e, alpha, e, k);
    for i in 0..graph.agents() {
        let gi = g(i, &e[i * k..(i + 1) * k]);
        for (dst, v) in next[i * k..(i + 1) * k].iter_mut().zip(gi) {
            *dst += v;
        }
    }
    next
}

/// One Hebbian step (Eq. 8): `H ← (1 − δ_H) H + η_H E zᵀ`, `H` row-major `k × d`.
pub fn hebbian_step(h: &mut [f64], e: &[f64], z: &[f64], eta: f64, delta: f64) {
    let d = z.len();
    assert_eq!(h.len(), e.len() * d, "H must be k×d");
    for (r, er) in e.iter().enumerate() {
        for (c, zc) in z.iter().enumerate() {
            let cell = &mut h[r * d + c];
            *cell = (1.0 - delta) * *cell + eta * er * zc;
        }
    }
}

/// Euclidean norm of a slice.
pub fn norm2(x: &[f64]) -> f64 {
    x.iter().map(|v| v * v).sum::<f64>().sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn isolated_agent_decays_by_gamma() {
        let g = Graph::from_edges(3, &[(0, 1, 1.0)]).unwrap();
        let e = vec![1.0, 0.0, 0.0, 1.0, 2.0, 2.0];
        let next = diffuse(&g, LaplacianKind::Row, 0.5, 0.1, &e, 2);
        assert!((next[4] - 1.0).abs() < 1e-15 && (next[5] - 1.0).abs() < 1e-15);
        // agents 0 and 1 average towards each other: (γ−α)E_0 + α E_1
        assert!((next[0] - 0.4).abs() < 1e-12 && (next[1] - 0.1).abs() < 1e-12);
    }

    #[test]
    fn hebbian_trace_converges_to_fixed_point() {
        let (eta, delta) = (0.1, 0.5);
        let mut h = vec![0.0; 2];
        for _ in 0..200 {
            hebbian_step(&mut h, &[1.0], &[1.0, -2.0], eta, delta);
        }
        assert!((h[0] - eta / delta).abs() < 1e-9 && (h[1] + 2.0 * eta / delta).abs() < 1e-9);
    }
}
