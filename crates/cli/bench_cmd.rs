//! `esai bench`: end-to-end training throughput at the reference
//! configuration (spec §6: k = 32, hidden 128, rollout 16 × 128 = 2048,
//! 10 epochs × minibatch 128), with the runtime monitor on at its default
//! intervals, a time breakdown, the FLOPs per environment step and the
//! achieved FLOP/s — so the distance to the machine's compute limit is a number.

use crate::certify_cmd::load_spec;
use crate::monitor_cmd::{basis_for, VerifyOracle};
use crate::output::problems_error;
use anyhow::{bail, Result};
use clap::Args;
use esai_core::spec::Spec;
use esai_envs::VecEnv;
use esai_monitor::monitor::Monitor;
use esai_train::from_spec::configs;
use esai_train::ppo::{Method, Trainer};
use esai_train::CpuBackend;
use esai_verify::certify::{certify, CertifyOptions};
use std::path::PathBuf;
use std::time::Instant;

/// The reference configuration, built in so `esai bench` runs anywhere.
const REFERENCE: &str = include_str!("../../specs/paper-default.toml");

/// Arguments of `esai bench`.
#[derive(Args)]
pub struct BenchArgs {
    /// A spec to measure instead of the built-in reference (specs/paper-default.toml).
    #[arg(long, value_name = "SPEC")]
    spec: Option<PathBuf>,
    /// Methods to measure, comma-separated. By default esai,ppo.
    #[arg(long, default_value = "esai,ppo")]
    methods: String,
    /// Timed updates per method (after one warm-up update). By default 5.
    #[arg(long, default_value_t = 5)]
    updates: usize,
    /// Print the results as JSON.
    #[arg(long)]
    json: bool,
}

/// One method's measurement.
#[derive(serde::Serialize)]
struct Row {
    method: String,
    updates: usize,
    env_steps: usize,
    seconds: f64,
    env_steps_per_second: f64,
    rollout_seconds: f64,
    esai_step_seconds: f64,
    learn_seconds: f64,
    monitor_seconds: f64,
    monitor_fraction: f64,
    flops_per_env_step_rollout: f64,
    flops_per_env_step_learn: f64,
    achieved_gflops: f64,
}

fn measure(spec: &Spec, method: &str, updates: usize) -> Result<Row> {
    let mut spec = spec.clone();
    spec.training.esai.method = method.into();
    let (ppo, m) = configs(&spec).map_err(|p| problems_error("cannot bench this spec", &p))?;
    let (k, diffusion) = match &m {
        Method::Esai(e) => (e.k, e.mechanisms.diffusion),
        _ => (0, true),
    };
    let env = esai_envs::from_spec(&spec, ppo.seed)
        .map_err(|p| problems_error("cannot build the environment", &p))?;
    let (cert, _) = certify(&spec, CertifyOptions::default());
    let basis = basis_for(&spec, &cert, env.graph(), k, diffusion);
    let rollout = ppo.num_envs * ppo.ppo.rollout_steps;
    let mut trainer = Trainer::<CpuBackend, _>::new(ppo, m, env, Default::default())
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut monitor = Monitor::new(spec.training.monitor.clone(), basis, Box::new(VerifyOracle));
    let total = updates + 1;
    let _ = trainer.update_watched(total, &mut monitor); // warm-up
    let (mut roll, mut esai, mut watch) = (0.0, 0.0, 0.0);
    let start = Instant::now();
    for _ in 0..updates {
        let u = trainer
            .update_watched(total, &mut monitor)
            .map_err(|s| anyhow::anyhow!("the monitor stopped the bench at {}", s.at))?;
        roll += u.rollout_seconds as f64;
        esai += u.esai_step_seconds as f64;
        watch += u.watch_seconds as f64;
    }
    let seconds = start.elapsed().as_secs_f64();
    let steps = updates * rollout;
    let flops = trainer.flops_per_env_step();
    Ok(Row {
        method: method.into(),
        updates,
        env_steps: steps,
        seconds,
        env_steps_per_second: steps as f64 / seconds,
        rollout_seconds: roll,
        esai_step_seconds: esai,
        learn_seconds: seconds - roll - watch,
        monitor_seconds: watch,
        monitor_fraction: watch / seconds,
        flops_per_env_step_rollout: flops.rollout,
        flops_per_env_step_learn: flops.learn,
        achieved_gflops: (flops.rollout + flops.learn) * steps as f64 / seconds / 1e9,
    })
}

/// Runs the command.
pub fn run(args: &BenchArgs) -> Result<u8> {
    if args.updates == 0 {
        bail!("--updates 0: allowed an integer ≥ 1");
    }
    let spec = match &args.spec {
        Some(p) => load_spec(p)?,
        None => Spec::from_toml(REFERENCE, &|_| Err("the reference names no files".into()))
            .map_err(|e| anyhow::anyhow!("built-in reference spec: {e}"))?,
    };
    let mut rows = Vec::new();
    for method in args.methods.split(',').map(str::trim) {
        if !esai_core::training::METHODS.contains(&method) {
            bail!(
                "--methods {method:?}: allowed a comma-separated list of {}",
                esai_core::training::METHODS.join(", ")
            );
        }
        rows.push(measure(&spec, method, args.updates)?);
    }
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({
                "cores": threads,
                "results": rows,
            }))?
        );
        return Ok(0);
    }
    println!(
        "{:<18} {:>10} {:>9} {:>9} {:>9} {:>9} {:>12} {:>9}",
        "method", "steps/s", "rollout", "esai", "learn", "monitor", "kFLOP/step", "GFLOP/s"
    );
    for r in &rows {
        println!(
            "{:<18} {:>10.0} {:>8.1}% {:>8.1}% {:>8.1}% {:>8.2}% {:>12.1} {:>9.2}",
            r.method,
            r.env_steps_per_second,
            100.0 * r.rollout_seconds / r.seconds,
            100.0 * r.esai_step_seconds / r.seconds,
            100.0 * r.learn_seconds / r.seconds,
            100.0 * r.monitor_fraction,
            (r.flops_per_env_step_rollout + r.flops_per_env_step_learn) / 1e3,
            r.achieved_gflops
        );
    }
    println!(
        "({threads} cores; FLOPs count dense-layer multiply-adds only; the ESAI step is part of the rollout)"
    );
    Ok(0)
}
