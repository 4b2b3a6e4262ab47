//! Criterion benches for the runtime monitor: the per-step and per-gradient
//! checks, and the live certificate of a reference-size `g_φ`
//! (k = 32, d = 16 + 6 actions + r + h = 56 inputs, hidden 64, tanh).
//!
//! Run: `cargo bench --bench monitor` (numbers in BENCHMARKS.md).

// criterion_group! generates an undocumented public function.
#![allow(missing_docs)]

use criterion::{criterion_group, criterion_main, Criterion};
use esai_core::mlp::{Activation, Mlp};
use esai_core::rng::SplitMix64;
use esai_core::training::MonitorSection;
use esai_core::watch::{GradProbe, StepProbe, Watcher};
use esai_monitor::live::{Basis, GBoundOracle, GBounds, LiveCertificate};
use esai_monitor::monitor::Monitor;
use esai_verify::lipschitz::{lipschitz_bounds, lipschitz_upper_bounds};

struct Verify;
impl GBoundOracle for Verify {
    fn bounds(&self, g: &Mlp, e: usize) -> GBounds {
        let u = lipschitz_upper_bounds(g, e);
        GBounds {
            l_g: u.l_g,
            l_e: u.l_e,
            l_u: u.l_u,
            zero_output_norm: u.zero_output_norm,
        }
    }
}

/// A random net of the trainer's g_φ shape, layers scaled like its projection.
fn reference_g_phi() -> Mlp {
    let mut rng = SplitMix64::new(7);
    let mut layer = |out: usize, inp: usize, scale: f64, act| {
        let w = (0..out * inp)
            .map(|_| scale * rng.next_gaussian() / (inp as f64).sqrt())
            .collect();
        let b = (0..out).map(|_| 0.1 * rng.next_gaussian()).collect();
        (out, inp, w, b, act)
    };
    Mlp::new(vec![
        layer(64, 56, 0.5, Activation::Tanh),
        layer(64, 64, 0.5, Activation::Tanh),
        layer(32, 64, 0.02, Activation::Identity),
    ])
    .expect("finite weights")
}

fn basis() -> Basis {
    Basis {
        m2_upper: 0.9,
        minf_upper: 0.9,
        agents: 1,
        k: 32,
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

fn bench_monitor(c: &mut Criterion) {
    let g = reference_g_phi();
    let mut grp = c.benchmark_group("monitor");
    grp.sample_size(20);
    grp.bench_function("live_certificate_ref_g_phi", |b| {
        b.iter(|| LiveCertificate::new(&basis(), Verify.bounds(&g, 32)))
    });
    grp.bench_function("lipschitz_upper_bounds_ref_g_phi", |b| {
        b.iter(|| lipschitz_upper_bounds(&g, 32))
    });
    grp.bench_function("lipschitz_bounds_with_lower_ref_g_phi", |b| {
        b.iter(|| lipschitz_bounds(&g, 32, 0))
    });
    // The reference configuration: 16 copies × 1 agent.
    let mut m = Monitor::new(MonitorSection::default(), basis(), Box::new(Verify));
    m.recertify(
        &esai_monitor::rules::Place {
            update: 0,
            at: "bench".into(),
            env_steps: 0,
        },
        &g,
    );
    let e: Vec<f32> = (0..16).map(|i| 0.1 * i as f32).collect();
    let h: Vec<f32> = (0..16).map(|i| 0.01 * i as f32).collect();
    let z = vec![1.0f32; 16];
    grp.bench_function("on_step_16_agents", |b| {
        b.iter(|| {
            m.on_step(&StepProbe {
                update: 1,
                step: 0,
                env_steps: 0,
                agents: 1,
                iae_norms: &e,
                hebbian_norms: &h,
                obs_norms: &z,
                nonfinite: None,
            })
        })
    });
    grp.bench_function("on_gradient_step", |b| {
        b.iter(|| {
            m.on_gradient_step(&GradProbe {
                update: 1,
                step: 0,
                loss: 1.0,
                grad_norm: 10.0,
            })
        })
    });
    grp.finish();
}

criterion_group!(benches, bench_monitor);
criterion_main!(benches);
