//! ESAI's multi-agent half: identity embeddings `φ = W_φ f` (Eq. 9), the
//! similarity-weighted diffusion and the similarity-suppression regulariser
//! `λ_bias ‖Ã ⊙ S‖_F²` (Eq. 10, 13).

use burn::backend::NdArray;
use burn::module::Param;
use burn::tensor::{Tensor, TensorData};
use esai_core::graph::Graph;
use esai_core::rng::SplitMix64;
use esai_core::training::PpoSection;
use esai_envs::graph_dilemma::{DilemmaConfig, GraphDilemma};
use esai_envs::VecEnv;
use esai_train::esai::{similarities, EsaiConfig, EsaiNets, IdentityLayout};
use esai_train::ppo::{Method, PpoConfig, Trainer};
use esai_train::CpuBackend;

fn dilemma(copies: usize, seed: u64) -> GraphDilemma {
    let cfg = DilemmaConfig {
        groups: 2,
        feature_dim: 4,
        feature_noise: 0.3,
        kin_weight: 1.0,
        episode_len: 50,
        redraw_identities: false,
    };
    GraphDilemma::new(cfg, Graph::ring(8), copies, seed).expect("valid")
}

#[test]
fn embedding_starts_as_the_identity_and_always_keeps_block_norms() {
    let env = dilemma(2, 3);
    let id = env.identities().expect("identities");
    let layout = IdentityLayout {
        dim: id.dim,
        blocks: id.blocks.clone(),
    };
    let dev = Default::default();
    let cfg = EsaiConfig {
        k: 8,
        hidden: 16,
        ..EsaiConfig::default()
    };
    let (d, a) = (env.obs_dim(), env.num_actions());
    let mut nets = EsaiNets::<NdArray>::new(&cfg, d, a, Some(id.dim), &dev);
    let mut rng = SplitMix64::new(5);
    let m = 6;
    let z: Vec<f32> = (0..m * d).map(|_| rng.next_gaussian() as f32).collect();
    let zt = || Tensor::<NdArray, 2>::from_data(TensorData::new(z.clone(), [m, d]), &dev);
    let same: Vec<f32> = nets
        .embed(zt(), Some(&layout))
        .into_data()
        .to_vec()
        .unwrap();
    for (x, y) in same.iter().zip(&z) {
        assert!((x - y).abs() < 1e-5, "W_φ = I leaves z as it is");
    }
    // A random W_φ rotates and rescales identity blocks, keeps their norms
    // and leaves every other coordinate alone.
    let f = id.dim;
    let w: Vec<f32> = (0..f * f).map(|_| rng.next_gaussian() as f32).collect();
    let mut ident = nets.identity.take().unwrap();
    ident.weight = Param::from_tensor(Tensor::from_data(TensorData::new(w, [f, f]), &dev));
    nets.identity = Some(ident);
    let out: Vec<f32> = nets
        .embed(zt(), Some(&layout))
        .into_data()
        .to_vec()
        .unwrap();
    assert_eq!(out.len(), z.len());
    let mut changed = 0;
    for r in 0..m {
        let row = |v: &[f32]| v[r * d..(r + 1) * d].to_vec();
        let (before, after) = (row(&z), row(&out));
        let mut in_block = vec![false; d];
        for &off in &layout.blocks {
            let n0: f32 = before[off..off + f]
                .iter()
                .map(|x| x * x)
                .sum::<f32>()
                .sqrt();
            let n1: f32 = after[off..off + f]
                .iter()
                .map(|x| x * x)
                .sum::<f32>()
                .sqrt();
            assert!(
                (n0 - n1).abs() < 1e-4 * (1.0 + n0),
                "block norm {n0} → {n1}"
            );
            changed += before[off..off + f]
                .iter()
                .zip(&after[off..off + f])
                .filter(|(x, y)| (*x - *y).abs() > 1e-3)
                .count();
            in_block[off..off + f].iter_mut().for_each(|b| *b = true);
        }
        for c in (0..d).filter(|&c| !in_block[c]) {
            assert_eq!(before[c], after[c], "column {c} is not an identity");
        }
    }
    assert!(changed > 0, "a random W_φ moves the identity blocks");
}

#[test]
fn similarities_are_feature_cosines_at_the_start() {
    let env = dilemma(2, 7);
    let id = env.identities().unwrap();
    let f = id.dim;
    let eye: Vec<f32> = (0..f * f)
        .map(|i| (i % (f + 1) == 0) as u8 as f32)
        .collect();
    let beta = similarities(&eye, f, &id.own, env.graph());
    let edges: Vec<(usize, usize, f64)> = env.graph().edges().collect();
    assert_eq!(beta.len(), 2 * edges.len());
    for c in 0..2 {
        for (e, &(i, j, _)) in edges.iter().enumerate() {
            let (fi, fj) = (env.feature(c, i), env.feature(c, j));
            let cos: f32 = fi.iter().zip(fj).map(|(a, b)| a * b).sum();
            assert!((beta[c * edges.len() + e] - cos.max(0.0) as f64).abs() < 1e-5);
            if env.group(c, i) == env.group(c, j) {
                assert!(
                    beta[c * edges.len() + e] > 0.5,
                    "same group, similar features"
                );
            }
        }
    }
}

/// Trains ESAI with similarity weighting for `updates` updates; returns the
/// mean β at the start and after each update.
fn train(lambda_bias: f32, updates: usize) -> (f32, Vec<f32>) {
    let cfg = PpoConfig {
        num_envs: 16,
        seed: 2,
        ppo: PpoSection {
            rollout_steps: 64,
            hidden: 32,
            ..PpoSection::default()
        },
    };
    let method = Method::Esai(EsaiConfig {
        k: 8,
        hidden: 16,
        lambda: 1.0,
        similarity: true,
        lambda_bias,
        ..EsaiConfig::default()
    });
    let mut t = Trainer::<CpuBackend, _>::new(cfg, method, dilemma(2, 2), Default::default())
        .expect("valid");
    let start = t.similarity_mean().expect("similarity on");
    let after = (0..updates)
        .map(|_| {
            let m = t.update(updates);
            assert!(m.bias_loss.unwrap() >= 0.0);
            m.similarity_mean.unwrap()
        })
        .collect();
    (start, after)
}

#[test]
fn the_bias_regulariser_suppresses_similarity() {
    let (start0, free) = train(0.0, 4);
    let (start1, suppressed) = train(10.0, 4);
    assert_eq!(start0, start1, "same seed, same identities, same W_φ = I");
    let (f, s) = (*free.last().unwrap(), *suppressed.last().unwrap());
    eprintln!("β mean: start {start0:.3}, λ_bias = 0 → {f:.3}, λ_bias = 10 → {s:.3}");
    // Without the regulariser the policy gradient itself moves W_φ (seen:
    // β rises, the policy sharpens the group signal it exploits).
    // Adam's step (lr 3e-4 × 640 gradient steps) limits how fast W_φ moves.
    assert!(
        s < start0 - 0.08 && s < f - 0.1,
        "λ_bias pushes β down: {start0} → {s} (free: {f})"
    );
    assert!(
        suppressed.windows(2).all(|w| w[1] <= w[0] + 0.02),
        "…and keeps it going down: {suppressed:?}"
    );
}
