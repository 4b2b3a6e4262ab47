//! `esai evaluate DIR`: greedy and stochastic evaluation of a trained run.

use crate::run_files::load_trained;
use anyhow::{bail, Result};
use clap::Args;
use esai_runs::lock::DirLock;
use esai_runs::rundir::RunDir;
use std::path::PathBuf;

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
    // evaluation.json is sealed into run.json: one writer at a time.
    let _lock = DirLock::acquire(&args.dir)?;
    let (_, mut trainer) = load_trained(&args.dir)?;
    let results = [
        trainer.evaluate(args.episodes, true),
        trainer.evaluate(args.episodes, false),
    ];
    let json = serde_json::to_string_pretty(&results)?;
    let run = RunDir::new(&args.dir);
    let mut record = run.read_record()?;
    run.unseal(&mut record, "evaluation.json")?;
    esai_runs::atomic::write(&out, json.as_bytes())?;
    run.add_sealed(&mut record, "evaluation.json")?;
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
