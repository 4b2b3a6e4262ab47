//! `esai report SWEEP_DIR`: tables (Markdown, CSV, JSON) and SVG figures of
//! a sweep directory written by `esai sweep` (or merged from shards).

use crate::output::write_atomic;
use anyhow::{bail, Context, Result};
use clap::Args;
use esai_core::sweep::Sweep;
use esai_core::training::Training;
use esai_report::{CurvePoint, FinalMetrics, Report, RunRecord};
use std::path::{Path, PathBuf};

/// Arguments of `esai report`.
#[derive(Args)]
pub struct ReportArgs {
    /// A sweep directory (holds sweep.toml, specs/, runs/).
    dir: PathBuf,
    /// Where to write report.md, report.csv, report.json and figures/*.svg.
    /// By default SWEEP_DIR/report.
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Replace an existing report. By default existing files are kept and the command fails.
    #[arg(long)]
    force: bool,
    /// Print report.json to stdout.
    #[arg(long)]
    json: bool,
}

fn f(v: &serde_json::Value, k: &str) -> Option<f64> {
    v.get(k).and_then(|x| x.as_f64())
}

/// Reads one run directory into a record.
fn record(dir: &Path, id: &str, settings: Vec<(String, toml::Value)>) -> Result<RunRecord> {
    let spec_path = dir.join("specs").join(format!("{id}.toml"));
    let run = dir.join("runs").join(id);
    let training: Training = match std::fs::read_to_string(&spec_path) {
        Ok(text) => {
            let t: toml::Table = toml::from_str(&text)
                .with_context(|| format!("{} is corrupt", spec_path.display()))?;
            let mut tr = toml::Table::new();
            for k in ["env", "ppo", "esai", "train", "monitor"] {
                if let Some(v) = t.get(k) {
                    tr.insert(k.into(), v.clone());
                }
            }
            toml::Value::Table(tr)
                .try_into()
                .with_context(|| format!("{}: bad training sections", spec_path.display()))?
        }
        Err(_) => Training::default(),
    };
    // The sweep's own reading of a run directory; a report knows no
    // "trained" (not yet evaluated) or "partial" run: both are pending.
    let status = match crate::sweep_cmd::status(&run) {
        "trained" | "partial" => "pending",
        s => s,
    };
    let mut metrics = None;
    let mut curve = Vec::new();
    // A finished run is read only once verified: its results through
    // run.json, its rows from the copy sealed in checkpoints/final.
    let rows_path = if status == "done" {
        let (dir, record) = crate::run_files::open_run(&run, None)?;
        let fin = dir.checkpoints_dir().join("final");
        dir.verify_checkpoint(&fin, &record)?;
        fin.join("metrics.jsonl")
    } else {
        run.join("metrics.jsonl")
    };
    if rows_path.exists() {
        let text = std::fs::read_to_string(&rows_path)?;
        for line in text.lines() {
            let Ok(v) = serde_json::from_str::<serde_json::Value>(line) else {
                continue; // a partial last line of a killed run
            };
            curve.push(CurvePoint {
                env_steps: f(&v, "env_steps").unwrap_or(0.0),
                prosocial_rate: f(&v, "prosocial_rate"),
                mean_return: f(&v, "mean_return"),
            });
        }
    }
    if status == "done" {
        let path = run.join("evaluation.json");
        let ev: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&path)?)
            .with_context(|| format!("{} is corrupt", path.display()))?;
        let stochastic = ev
            .as_array()
            .and_then(|a| a.iter().find(|e| e["greedy"] == false))
            .with_context(|| format!("{}: no stochastic evaluation", path.display()))?;
        let last: serde_json::Value = std::fs::read_to_string(&rows_path)?
            .lines()
            .rev()
            .find_map(|l| serde_json::from_str(l).ok())
            .unwrap_or_default();
        metrics = Some(FinalMetrics {
            prosocial_rate: f(stochastic, "prosocial_rate"),
            mean_return: f(stochastic, "mean_return"),
            entropy: f(&last, "entropy"),
            ar_help: f(stochastic, "ar_help"),
            ar_steal: f(stochastic, "ar_steal"),
            mean_episode_harm: f(stochastic, "mean_episode_harm"),
        });
    }
    Ok(RunRecord {
        id: id.to_string(),
        settings: settings
            .into_iter()
            .map(|(k, v)| {
                let text = match v {
                    toml::Value::String(s) => s,
                    other => other.to_string(),
                };
                (k, text)
            })
            .collect(),
        method: training.esai.method.clone(),
        // Through the f32's shortest decimal, so 0.3 reads 0.3, not 0.30000001….
        lambda: training
            .esai
            .lambda
            .to_string()
            .parse()
            .unwrap_or(training.esai.lambda as f64),
        seed: training.train.seed,
        status: status.into(),
        metrics,
        curve,
    })
}

/// Runs the command.
pub fn run(args: &ReportArgs) -> Result<u8> {
    let sweep_path = args.dir.join("sweep.toml");
    let text = std::fs::read_to_string(&sweep_path).with_context(|| {
        format!(
            "{}: not a sweep directory (cannot read sweep.toml)",
            args.dir.display()
        )
    })?;
    let sweep = Sweep::from_toml(&text).map_err(|p| {
        anyhow::anyhow!(
            "{} is invalid: {}",
            sweep_path.display(),
            p.iter()
                .map(|x| x.to_string())
                .collect::<Vec<_>>()
                .join("; ")
        )
    })?;
    let records = sweep
        .points
        .iter()
        .map(|p| record(&args.dir, &p.id, p.overrides.clone()))
        .collect::<Result<Vec<_>>>()?;
    let report = Report::build(&records);
    let out = args.out.clone().unwrap_or_else(|| args.dir.join("report"));
    if out.join("report.json").exists() && !args.force {
        bail!(
            "{} already holds a report; pass --force to replace it",
            out.display()
        );
    }
    std::fs::create_dir_all(out.join("figures"))
        .with_context(|| format!("cannot create {}", out.display()))?;
    let figures = esai_report::plots::figures(&report).map_err(|e| anyhow::anyhow!(e))?;
    for (name, svg) in &figures {
        write_atomic(&out.join("figures").join(name), svg.as_bytes(), true)?;
    }
    let mut md = format!(
        "# Sweep report: {}\n\nRuns: {}.\n\nEach point: final evaluation of the stochastic policy (`esai evaluate`, {} episodes per copy), entropy from the last training update.\n\n",
        args.dir.display(),
        report
            .runs
            .iter()
            .map(|(k, v)| format!("{v} {k}"))
            .collect::<Vec<_>>()
            .join(", "),
        sweep.section.evaluate_episodes
    );
    md.push_str(&report.markdown());
    md.push_str("\n## Figures\n\n");
    for (name, _) in &figures {
        md.push_str(&format!("![{name}](figures/{name})\n\n"));
    }
    write_atomic(&out.join("report.md"), md.as_bytes(), true)?;
    write_atomic(&out.join("report.csv"), report.csv().as_bytes(), true)?;
    let json = serde_json::to_string_pretty(&report)?;
    write_atomic(&out.join("report.json"), json.as_bytes(), true)?;
    if args.json {
        println!("{json}");
    } else {
        println!(
            "report of {} points ({} runs) in {}",
            report.points.len(),
            records.len(),
            out.display()
        );
    }
    Ok(0)
}
