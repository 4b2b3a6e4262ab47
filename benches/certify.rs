//! Criterion benches for `esai certify` and the sparse spectral-norm bound.
//!
//! Run: `cargo bench --bench certify` (numbers in BENCHMARKS.md).

// criterion_group! generates an undocumented public function.
#![allow(missing_docs)]

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use esai_core::graph::{Graph, LaplacianKind};
use esai_core::spec::Spec;
use esai_verify::certify::{certify, CertifyOptions};
use esai_verify::kernel::interval::Interval;
use esai_verify::kernel::m_matrix::m_enclosure;
use esai_verify::spectral::{sparse_spectral_bound, SparseOptions};
use std::path::Path;
use std::time::Duration;

fn load(path: &str) -> Spec {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join(path);
    let base = p.parent().unwrap().to_path_buf();
    let text = std::fs::read_to_string(&p).unwrap();
    Spec::from_toml(&text, &|rel| {
        std::fs::read_to_string(base.join(rel)).map_err(|e| e.to_string())
    })
    .unwrap()
}

fn bench_certify(c: &mut Criterion) {
    let mut g = c.benchmark_group("certify");
    g.sample_size(20);
    // N = 64 agents, k = 32: trained g_φ (56 → 32 tanh → 32), Erdős–Rényi graph.
    let weights = load("specs/trained-weights.toml");
    g.bench_function("n64_k32_weights", |b| {
        b.iter(|| certify(&weights, CertifyOptions::default()))
    });
    let declared = load("specs/sym-grid.toml");
    g.bench_function("n64_sym_grid_declared", |b| {
        b.iter(|| certify(&declared, CertifyOptions::default()))
    });
    let region = load("specs/region-paper.toml");
    g.bench_function("n32_region_z3", |b| {
        b.iter(|| certify(&region, CertifyOptions::default()))
    });
    g.finish();
}

fn bench_sparse(c: &mut Criterion) {
    let mut g = c.benchmark_group("sparse_spectral_norm");
    g.sample_size(10).measurement_time(Duration::from_secs(20));
    for n in [100_000usize, 1_000_000] {
        let graphs = [
            ("ring", Graph::ring(n)),
            ("grid", Graph::grid(n / 1000, 1000)),
            ("erdos_renyi_deg5", Graph::erdos_renyi(n, 5.0 / n as f64, 1)),
        ];
        for (name, graph) in graphs {
            g.bench_with_input(BenchmarkId::new(name, n), &graph, |b, graph| {
                b.iter(|| {
                    let m = m_enclosure(
                        graph,
                        LaplacianKind::Row,
                        Interval::around(0.9),
                        Interval::around(0.05),
                    );
                    sparse_spectral_bound(&m, SparseOptions::default())
                })
            });
        }
    }
    g.finish();
}

criterion_group!(benches, bench_certify, bench_sparse);
criterion_main!(benches);
