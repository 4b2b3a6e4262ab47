//! Stability invariants as property tests: a certified configuration's
//! explicit bounds B (IAE) and B_H (Hebbian) are never exceeded by simulated
//! trajectories driven by a worst-case update `g`.
//!
//! The adversary: `g_i(E) = L_E E_i + K u_i`, with `u_i` the unit vector
//! along agent i's current pre-update state, so every agent's norm is pushed
//! outward as hard as the assumptions allow (`g` is `L_E`-Lipschitz in E and
//! `‖g(0, u)‖ ≤ K`; the input u may depend on E, as attention does).

use esai_core::dynamics::{diffuse, hebbian_step, norm2};
use esai_core::spec::Spec;
use esai_verify::certify::{certify, CertifyOptions, Verdict};
use proptest::prelude::*;

const K_DIM: usize = 3;

fn spec_text(
    n: usize,
    edges: &[(usize, usize, f64)],
    kind: &str,
    gamma: f64,
    alpha: f64,
    l: f64,
    z0: f64,
) -> String {
    let edges: Vec<String> = edges
        .iter()
        .map(|(i, j, w)| format!("[{i}, {j}, {w:?}]"))
        .collect();
    format!(
        "[dynamics]\ngamma_e = {gamma:?}\nalpha = {alpha:?}\n[graph]\nagents = {n}\nlaplacian = \"{kind}\"\nedges = [{}]\n\
         [update]\nlipschitz = {l:?}\nzero_output_norm = {z0:?}\n[hebbian]\neta = 0.01\ndelta = 0.3\n\
         [inputs]\nobs_norm = 1.0\naction_norm = 1.0\nreward_abs = 1.0\nharm_abs = 1.0\n",
        edges.join(", ")
    )
}

/// Runs the adversarial trajectory; returns (max_t max_i ‖E_i‖, max_t ‖H_i‖_F).
fn worst_case_run(spec: &Spec, l: f64, k_bound: f64, steps: usize) -> (f64, f64) {
    let g = &spec.graph;
    let n = g.graph.agents();
    let (gamma, alpha) = (spec.gamma_e.point().unwrap(), spec.alpha.point().unwrap());
    let mut e = vec![0.0; n * K_DIM];
    // Start every agent pointing the same way, so diffusion cannot cancel.
    let mut dir = vec![0.0; n * K_DIM];
    for i in 0..n {
        dir[i * K_DIM] = 1.0;
    }
    let z = [1.0, 0.0];
    let mut h = vec![vec![0.0; K_DIM * z.len()]; n];
    let (mut max_e, mut max_h) = (0.0f64, 0.0f64);
    for _ in 0..steps {
        for i in 0..n {
            hebbian_step(
                &mut h[i],
                &e[i * K_DIM..(i + 1) * K_DIM],
                &z,
                spec.hebbian.eta,
                spec.hebbian.delta,
            );
            max_h = max_h.max(norm2(&h[i]));
        }
        let mut next = diffuse(&g.graph, g.laplacian, gamma, alpha, &e, K_DIM);
        for i in 0..n {
            let ei = &e[i * K_DIM..(i + 1) * K_DIM];
            let pre: Vec<f64> = (0..K_DIM)
                .map(|c| next[i * K_DIM + c] + l * ei[c])
                .collect();
            let norm = norm2(&pre);
            let u: Vec<f64> = if norm > 0.0 {
                pre.iter().map(|v| v / norm).collect()
            } else {
                dir[i * K_DIM..(i + 1) * K_DIM].to_vec()
            };
            for c in 0..K_DIM {
                next[i * K_DIM + c] = pre[c] + k_bound * u[c];
            }
        }
        e = next;
        for i in 0..n {
            max_e = max_e.max(norm2(&e[i * K_DIM..(i + 1) * K_DIM]));
        }
        dir.clone_from(&e);
    }
    (max_e, max_h)
}

fn graph_strategy() -> impl Strategy<Value = (usize, Vec<(usize, usize, f64)>)> {
    (2usize..10)
        .prop_flat_map(|n| {
            let pairs: Vec<(usize, usize)> = (0..n)
                .flat_map(|i| (i + 1..n).map(move |j| (i, j)))
                .collect();
            let m = pairs.len();
            (
                Just(n),
                Just(pairs),
                proptest::collection::vec((0u8..3, 0.1f64..3.0), m),
            )
        })
        .prop_map(|(n, pairs, picks)| {
            let edges = pairs
                .iter()
                .zip(&picks)
                .filter(|(_, p)| p.0 == 0)
                .map(|(&(i, j), p)| (i, j, p.1))
                .collect();
            (n, edges)
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, .. ProptestConfig::default() })]

    #[test]
    fn certified_bounds_hold_on_worst_case_trajectories(
        (n, edges) in graph_strategy(),
        sym in any::<bool>(),
        gamma in 0.0f64..0.95,
        alpha in 0.0f64..1.2,
        l in 0.0f64..0.3,
        z0 in 0.0f64..1.0,
    ) {
        let text = spec_text(n, &edges, if sym { "sym" } else { "row" }, gamma, alpha, l, z0);
        let spec = Spec::from_toml(&text, &|_| Err("none".into())).unwrap();
        let (cert, _) = certify(&spec, CertifyOptions::default());
        if cert.verdict == Verdict::Certified {
            let b = cert.bounds.iae_norm.expect("declared K gives a numeric B");
            let b_h = cert.bounds.hebbian_norm.expect("numeric B_H");
            let k = cert.bounds.k.unwrap();
            let (max_e, max_h) = worst_case_run(&spec, l, k, 400);
            prop_assert!(max_e <= b * (1.0 + 1e-9), "IAE {max_e} exceeds B = {b}");
            prop_assert!(max_h <= b_h * (1.0 + 1e-9), "Hebbian {max_h} exceeds B_H = {b_h}");
        }
    }
}

/// The adversary is strong: on the paper's configuration it drives ‖E_i‖ to
/// within 1% of B = 8, so the property above would catch a B too small by 1%.
#[test]
fn worst_case_trajectory_nearly_reaches_b_on_paper_default() {
    let text = spec_text(
        4,
        &[(0, 1, 1.0), (1, 2, 1.0), (2, 3, 1.0), (3, 0, 1.0)],
        "row",
        0.9,
        0.05,
        0.05,
        0.1,
    );
    let spec = Spec::from_toml(&text, &|_| Err("none".into())).unwrap();
    let (cert, _) = certify(&spec, CertifyOptions::default());
    assert_eq!(cert.verdict, Verdict::Certified);
    let b = cert.bounds.iae_norm.unwrap();
    let (max_e, _) = worst_case_run(&spec, 0.05, cert.bounds.k.unwrap(), 2000);
    // K here is 0.1 + 0.05·2 = 0.2 (C_u = 2), so B = 0.2/0.05 = 4.
    assert!((b - 4.0).abs() < 1e-9, "B = {b}");
    assert!(max_e > 0.99 * b && max_e <= b, "max ‖E‖ = {max_e}, B = {b}");
}
