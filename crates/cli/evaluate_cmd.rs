//! `esai evaluate DIR`: greedy and stochastic evaluation of a trained run.

use crate::certify_cmd::load_spec;
use crate::output::{problems_error, write_atomic};
use anyhow::{bail, Context, Result};
use clap::Args;
use esai_core::spec::Spec;
use esai_core::training::Training;
use esai_envs::AnyEnv;
use esai_train::from_spec::configs;
use esai_train::ppo::Trainer;
use esai_train::CpuBackend;
use std::path::{Path, PathBuf};

/// Arguments of `esai evaluate`.
#[derive(Args)]
pub struct EvaluateArgs {
    /// A run directory written by `esai train`.
    dir: PathBuf,
    /// Episodes per environment copy and mode. By default 4 (64 episodes with 16 copies).
    #[arg(long, default_value_t = 4)]
    episodes: usize,
    /// Print the results as JSON.
    #[arg(long)]
    json: bool,
    /// Replace an existing DIR/evaluation.json. By default it is kept and the command fails.
    #[arg(long)]
    force: bool,
}

/// Runs the command; returns the exit code.
pub fn run(args: &EvaluateArgs) -> Result<u8> {
    if args.episodes == 0 {
        bail!("--episodes 0: allowed an integer ≥ 1");
    }
    let out = args.dir.join("evaluation.json");
    if out.exists() && !args.force {
        bail!(
            "{} already exists; pass --force to overwrite it",
            out.display()
        );
    }
    let (_, mut trainer) = load_trained(&args.dir)?;
    let results = [
        trainer.evaluate(args.episodes, true),
        trainer.evaluate(args.episodes, false),
    ];
    let json = serde_json::to_string_pretty(&results)?;
    write_atomic(&out, json.as_bytes(), true)?;
    if args.json {
        println!("{json}");
    } else {
        println!(
            "{:<11} {:>8} {:>10} {:>10} {:>8} {:>8} {:>10}",
            "policy", "episodes", "return", "prosocial", "helps", "steals", "harm/ep"
        );
        for r in &results {
            println!(
                "{:<11} {:>8} {:>10.2} {:>10} {:>8} {:>8} {:>10.2}",
                if r.greedy { "greedy" } else { "stochastic" },
                r.episodes,
                r.mean_return,
                r.prosocial_rate.map_or("—".into(), |p| format!("{p:.3}")),
                r.helps,
                r.steals,
                r.mean_episode_harm
            );
        }
    }
    Ok(0)
}

/// `DIR/config.toml` of a run and its `[training]` (shared by every command
/// that reads a run directory).
pub fn read_run_config(dir: &Path) -> Result<(toml::Table, Training)> {
    let cfg_path = dir.join("config.toml");
    let text = std::fs::read_to_string(&cfg_path).with_context(|| {
        format!(
            "cannot read {} (is {} a run directory from esai train?)",
            cfg_path.display(),
            dir.display()
        )
    })?;
    let table: toml::Table = toml::from_str(&text)
        .with_context(|| format!("{} is not valid TOML", cfg_path.display()))?;
    let training: Training = table
        .get("training")
        .cloned()
        .with_context(|| format!("{}: missing [training]", cfg_path.display()))?
        .try_into()
        .with_context(|| format!("{}: bad [training]", cfg_path.display()))?;
    Ok((table, training))
}

/// The spec and a trainer holding the final checkpoint of the finished run
/// in `dir` (shared by `esai evaluate` and `esai audit`).
pub fn load_trained(dir: &Path) -> Result<(Spec, Trainer<CpuBackend, AnyEnv>)> {
    let (table, training) = read_run_config(dir)?;
    let cfg_path = dir.join("config.toml");
    let spec_path = table
        .get("spec")
        .and_then(|v| v.as_str())
        .with_context(|| format!("{}: missing `spec`", cfg_path.display()))?;
    let mut spec = load_spec(Path::new(spec_path))?;
    spec.training = training;
    let (ppo, method) =
        configs(&spec).map_err(|p| problems_error("cannot rebuild the run's configuration", &p))?;
    let env = esai_envs::from_spec(&spec, ppo.seed ^ 0xE7A1)
        .map_err(|p| problems_error("cannot rebuild the run's environment", &p))?;
    let mut trainer = Trainer::<CpuBackend, _>::new(ppo, method, env, Default::default())
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let final_dir = dir.join("checkpoints/final");
    if !final_dir.is_dir() {
        bail!(
            "{} has no checkpoints/final: a finished run is needed (resume it with esai train SPEC --resume {})",
            dir.display(),
            dir.display()
        );
    }
    trainer
        .load_checkpoint(&final_dir)
        .map_err(|e| anyhow::anyhow!(e))?;
    Ok((spec, trainer))
}
