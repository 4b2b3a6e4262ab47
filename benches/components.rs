//! Criterion benches of the building blocks (issue 7): the sound dense
//! spectral bound for N = 64 … 1024, one IAE step and one Hebbian step for
//! N = 64 agents, the softmin reference + alignment regret for a batch, and
//! one full PPO / ESAI update at the reference configuration.
//!
//! Run: `cargo bench --bench components` (numbers in BENCHMARKS.md).

// criterion_group! generates an undocumented public function.
#![allow(missing_docs)]

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use esai_core::dynamics::{hebbian_step, iae_step};
use esai_core::graph::{Graph, LaplacianKind};
use esai_core::spec::Spec;
use esai_train::esai::{alignment_regret, softmin_reference};
use esai_train::from_spec::configs;
use esai_train::ppo::Trainer;
use esai_train::CpuBackend;
use esai_verify::kernel::interval::Interval;
use esai_verify::kernel::m_matrix::m_enclosure;
use esai_verify::spectral::dense_spectral_bound;
use std::time::Duration;

fn bench_dense(c: &mut Criterion) {
    // As `esai` does; first thing in the first group, before any product
    // (matrixmultiply reads the setting once).
    esai_train::prefer_single_threaded_gemm();
    let mut g = c.benchmark_group("dense_spectral_bound");
    g.sample_size(10).measurement_time(Duration::from_secs(10));
    for n in [64usize, 256, 1024] {
        let graph = Graph::erdos_renyi(n, 8.0 / n as f64, 3);
        let m = m_enclosure(
            &graph,
            LaplacianKind::Row,
            Interval::around(0.9),
            Interval::around(0.05),
        )
        .to_dense();
        g.bench_with_input(BenchmarkId::new("erdos_renyi_deg8", n), &m, |b, m| {
            b.iter(|| dense_spectral_bound(m))
        });
    }
    g.finish();
}

fn bench_steps(c: &mut Criterion) {
    let mut g = c.benchmark_group("dynamics");
    let (n, k, d) = (64usize, 32usize, 16usize);
    let graph = Graph::erdos_renyi(n, 8.0 / n as f64, 3);
    let e: Vec<f64> = (0..n * k).map(|i| ((i % 17) as f64 - 8.0) / 10.0).collect();
    g.bench_function("iae_step_n64_k32", |b| {
        b.iter(|| {
            iae_step(&graph, LaplacianKind::Row, 0.9, 0.05, &e, k, |_, ei| {
                ei.iter().map(|x| 0.05 * x.tanh()).collect()
            })
        })
    });
    let z: Vec<f64> = (0..d).map(|i| i as f64 / d as f64).collect();
    let mut h = vec![0.0f64; k * d];
    g.bench_function("hebbian_step_k32_d16", |b| {
        b.iter(|| hebbian_step(&mut h, &e[..k], &z, 1e-3, 0.02))
    });
    // 16 agents × 6 actions × k = 32 forecasts, as in one rollout step.
    let forecasts: Vec<f32> = (0..16 * 6 * 32).map(|i| (i % 13) as f32 / 13.0).collect();
    let e_next: Vec<f32> = (0..16 * 32).map(|i| (i % 7) as f32 / 7.0).collect();
    g.bench_function("softmin_and_regret_16x6x32", |b| {
        b.iter(|| {
            (0..16)
                .map(|i| {
                    let (_, r) = softmin_reference(&forecasts[i * 192..(i + 1) * 192], 32, 0.5);
                    alignment_regret(&e_next[i * 32..(i + 1) * 32], &r, 0.5, &[1.0, 2.0])
                })
                .sum::<f32>()
        })
    });
    g.finish();
}

fn bench_update(c: &mut Criterion) {
    let mut g = c.benchmark_group("update_reference");
    g.sample_size(10).measurement_time(Duration::from_secs(20));
    let text = include_str!("../specs/paper-default.toml");
    let spec = Spec::from_toml(text, &|_| Err("no files".into())).expect("reference spec");
    for method in ["ppo", "esai"] {
        let mut s = spec.clone();
        s.training.esai.method = method.into();
        let (ppo, m) = configs(&s).expect("valid");
        let env = esai_envs::from_spec(&s, 0).expect("valid");
        let mut trainer =
            Trainer::<CpuBackend, _>::new(ppo, m, env, Default::default()).expect("valid");
        g.bench_function(method, |b| b.iter(|| trainer.update(100)));
    }
    g.finish();
}

criterion_group!(benches, bench_dense, bench_steps, bench_update);
criterion_main!(benches);
