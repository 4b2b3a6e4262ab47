//! `esai train SPEC`: train ESAI or a baseline, writing a run directory.
//!
//! `DIR/config.toml` (the resolved configuration), `DIR/metrics.jsonl` (one
//! line per update, flushed as it is written), `DIR/checkpoints/` (burn
//! records, written atomically), `DIR/summary.json` (atomically, at the end).

use crate::certify_cmd::load_spec;
use crate::output::write_atomic;
use anyhow::{bail, Context, Result};
use clap::Args;
use esai_core::training::METHODS;
use esai_envs::moral_temptation::MoralTemptation;
use esai_train::from_spec::configs;
use esai_train::ppo::{Method, Trainer, UpdateMetrics};
use esai_train::CpuBackend;
use esai_verify::certify::{certify, CertifyOptions, Verdict};
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::time::Instant;

/// Arguments of `esai train`.
#[derive(Args)]
pub struct TrainArgs {
    /// The spec file (the same TOML `esai certify` reads, with `[env]`, `[ppo]`, `[esai]`, `[train]`).
    spec: PathBuf,
    /// Run directory. By default `runs/<spec name>-<method>-seed<seed>`.
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Override `[train] seed`.
    #[arg(long)]
    seed: Option<u64>,
    /// Override `[train] steps` (environment steps, rounded up to whole rollouts).
    #[arg(long)]
    steps: Option<usize>,
    /// Override `[esai] method`: esai, ppo, reward-shaping, lagrangian,
    /// esai-no-regret, esai-no-attention, esai-no-hebbian, esai-no-diffusion.
    #[arg(long)]
    method: Option<String>,
    /// Replace an existing run directory. By default an existing non-empty DIR is an error.
    #[arg(long)]
    force: bool,
    /// Train an ESAI method even if `esai certify` does not certify the spec.
    /// By default training refuses.
    #[arg(long)]
    allow_uncertified: bool,
    /// Print the final summary as JSON.
    #[arg(long)]
    json: bool,
    /// Continue the run in DIR from its last checkpoint, with the configuration
    /// stored in DIR/config.toml; the result equals an uninterrupted run.
    #[arg(long, value_name = "DIR", conflicts_with_all = ["out", "seed", "steps", "method", "force"])]
    resume: Option<PathBuf>,
    /// Stop after this many updates in this invocation, leaving a checkpoint
    /// to `--resume` from (e.g. for time-limited cluster jobs). By default run to the end.
    #[arg(long, value_name = "N")]
    pause_after: Option<usize>,
}

/// Runs the command; returns the exit code.
pub fn run(args: &TrainArgs) -> Result<u8> {
    let mut spec = load_spec(&args.spec)?;
    if let Some(dir) = &args.resume {
        let cfg_path = dir.join("config.toml");
        let text = std::fs::read_to_string(&cfg_path).with_context(|| {
            format!(
                "--resume {}: cannot read {}",
                dir.display(),
                cfg_path.display()
            )
        })?;
        let table: toml::Table = toml::from_str(&text)
            .with_context(|| format!("{} is not valid TOML", cfg_path.display()))?;
        spec.training = table
            .get("training")
            .cloned()
            .with_context(|| format!("{}: missing [training]", cfg_path.display()))?
            .try_into()
            .with_context(|| format!("{}: bad [training]", cfg_path.display()))?;
    }
    let t = &mut spec.training;
    if let Some(m) = &args.method {
        if !METHODS.contains(&m.as_str()) {
            bail!("--method {m:?}: allowed {}", METHODS.join(", "));
        }
        t.esai.method = m.clone();
    }
    if let Some(s) = args.seed {
        t.train.seed = s;
    }
    if let Some(s) = args.steps {
        if s == 0 {
            bail!("--steps 0: allowed an integer ≥ 1");
        }
        t.train.steps = s;
    }
    let (ppo, method) = configs(&spec).map_err(|problems| {
        let lines: Vec<String> = problems.iter().map(|p| format!("  - {p}")).collect();
        anyhow::anyhow!(
            "{}: cannot train this spec\n{}",
            args.spec.display(),
            lines.join("\n")
        )
    })?;
    let t = spec.training.clone();
    let is_esai = matches!(method, Method::Esai(_));
    let (cert, _) = certify(&spec, CertifyOptions::default());
    if is_esai && cert.verdict != Verdict::Certified && !args.allow_uncertified {
        bail!(
            "{}: esai certify says {:?} ({}); the IAE may not stay bounded. Fix the spec or pass --allow-uncertified",
            args.spec.display(),
            cert.verdict,
            cert.reason
        );
    }
    let stem = args
        .spec
        .file_stem()
        .map_or("run".into(), |s| s.to_string_lossy().to_string());
    let dir = match (&args.resume, &args.out) {
        (Some(d), _) => d.clone(),
        (None, Some(o)) => o.clone(),
        (None, None) => PathBuf::from(format!(
            "runs/{stem}-{}-seed{}",
            t.esai.method, t.train.seed
        )),
    };
    if args.resume.is_none() {
        if dir.exists()
            && std::fs::read_dir(&dir)
                .map(|mut d| d.next().is_some())
                .unwrap_or(false)
        {
            if !args.force {
                bail!("{} already holds a run; pass --force to replace it, --resume it, or choose another --out", dir.display());
            }
            std::fs::remove_dir_all(&dir)
                .with_context(|| format!("cannot clear {}", dir.display()))?;
        }
        std::fs::create_dir_all(dir.join("checkpoints"))
            .with_context(|| format!("cannot create {}", dir.display()))?;
        let mut resolved = toml::Table::new();
        let spec_abs = std::fs::canonicalize(&args.spec).unwrap_or_else(|_| args.spec.clone());
        resolved.insert(
            "spec".into(),
            toml::Value::String(spec_abs.display().to_string()),
        );
        resolved.insert(
            "certificate_verdict".into(),
            toml::Value::String(format!("{:?}", cert.verdict).to_lowercase()),
        );
        resolved.insert(
            "training".into(),
            toml::Value::try_from(&t).context("serialising the training config")?,
        );
        resolved.insert(
            "ppo_resolved".into(),
            toml::Value::try_from(&ppo).context("serialising PPO config")?,
        );
        if let Method::Esai(e) = &method {
            resolved.insert(
                "esai_resolved".into(),
                toml::Value::try_from(e).context("serialising ESAI config")?,
            );
        }
        write_atomic(
            &dir.join("config.toml"),
            toml::to_string_pretty(&resolved)?.as_bytes(),
            true,
        )?;
    }

    let rollout = ppo.num_envs * ppo.ppo.rollout_steps;
    let updates = t.train.steps.div_ceil(rollout);
    let env = MoralTemptation::new(ppo.num_envs, ppo.seed);
    let mut trainer = Trainer::<CpuBackend, _>::new(ppo, method, env, Default::default())
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let metrics_path = dir.join("metrics.jsonl");
    if args.resume.is_some() {
        if dir.join("checkpoints/final").exists() {
            bail!(
                "{} is a finished run (checkpoints/final exists); nothing to resume",
                dir.display()
            );
        }
        let latest = latest_checkpoint(&dir.join("checkpoints"))?
            .with_context(|| format!("{} has no checkpoint to resume from", dir.display()))?;
        trainer
            .load_checkpoint(&latest)
            .map_err(|e| anyhow::anyhow!(e))?;
        // Lines written after that checkpoint belong to the lost segment.
        let text = std::fs::read_to_string(&metrics_path).unwrap_or_default();
        let kept: String = text
            .lines()
            .take(trainer.updates_done())
            .map(|l| format!("{l}\n"))
            .collect();
        write_atomic(&metrics_path, kept.as_bytes(), true)?;
        eprintln!(
            "resuming {} from {} (update {})",
            dir.display(),
            latest.display(),
            trainer.updates_done()
        );
    }
    let mut metrics = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&metrics_path)
        .with_context(|| format!("cannot open {}", metrics_path.display()))?;
    let first = trainer.updates_done() + 1;
    let bar = if std::io::stderr().is_terminal() {
        let b = indicatif::ProgressBar::new(updates as u64);
        b.set_style(
            indicatif::ProgressStyle::with_template(
                "{bar:30} {pos}/{len} updates {elapsed_precise} eta {eta} {msg}",
            )
            .expect("valid template"),
        );
        b.set_position((first - 1) as u64);
        Some(b)
    } else {
        None
    };
    let start = Instant::now();
    let mut last: Option<UpdateMetrics> = None;
    let mut rollout_s = 0.0;
    let mut done_here = 0usize;
    for u in first..=updates {
        let m = trainer.update(updates);
        rollout_s += m.rollout_seconds;
        writeln!(metrics, "{}", serde_json::to_string(&m)?)
            .and_then(|_| metrics.flush())
            .context("writing metrics.jsonl")?;
        let line = format!(
            "return {:.1} PR {} entropy {:.3}",
            m.mean_return.unwrap_or(f32::NAN),
            m.prosocial_rate.map_or("—".into(), |p| format!("{p:.3}")),
            m.entropy
        );
        match &bar {
            Some(b) => {
                b.set_message(line);
                b.inc(1);
            }
            None => eprintln!(
                "update {u}/{updates} env_steps {} {line} ({:.2}s)",
                m.env_steps, m.seconds
            ),
        }
        done_here += 1;
        let pause = args.pause_after.is_some_and(|p| done_here >= p) && u < updates;
        if pause || (t.train.checkpoint_every > 0 && u % t.train.checkpoint_every == 0) {
            trainer
                .save_checkpoint(&dir.join(format!("checkpoints/update-{u:06}")))
                .map_err(|e| anyhow::anyhow!(e))?;
        }
        last = Some(m);
        if pause {
            if let Some(b) = &bar {
                b.finish_and_clear();
            }
            println!(
                "paused after update {u}/{updates}; continue with: esai train {} --resume {}",
                args.spec.display(),
                dir.display()
            );
            return Ok(0);
        }
    }
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    let Some(last) = last else {
        bail!("{}: no update left to run", dir.display());
    };
    if let Some(json) = trainer.g_phi_weights_json() {
        write_atomic(&dir.join("g_phi.json"), json.as_bytes(), true)?;
    }
    let final_ckpt = trainer
        .save_checkpoint(&dir.join("checkpoints/final"))
        .map_err(|e| anyhow::anyhow!(e))?;
    let wall = start.elapsed().as_secs_f64();
    let speed = (done_here * rollout) as f64 / wall;
    let summary = serde_json::json!({
        "spec": args.spec.display().to_string(),
        "method": t.esai.method,
        "seed": t.train.seed,
        "updates": updates,
        "env_steps": last.env_steps,
        "wall_seconds_this_invocation": wall,
        "env_steps_per_second": speed,
        "rollout_fraction": rollout_s as f64 / wall,
        "final": last,
        "checkpoint": final_ckpt.display().to_string(),
        "certificate_verdict": format!("{:?}", cert.verdict).to_lowercase(),
    });
    write_atomic(
        &dir.join("summary.json"),
        serde_json::to_string_pretty(&summary)?.as_bytes(),
        true,
    )?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&summary)?);
    } else {
        println!(
            "trained {} ({} updates, {} env steps) in {:.1} s = {:.0} env-steps/s ({:.0}% rollout)\nfinal: return {:.2}, prosocial rate {}, entropy {:.3}\nrun directory: {}",
            t.esai.method,
            updates,
            last.env_steps,
            wall,
            speed,
            100.0 * rollout_s as f64 / wall,
            last.mean_return.unwrap_or(f32::NAN),
            last.prosocial_rate.map_or("—".into(), |p| format!("{p:.3}")),
            last.entropy,
            dir.display()
        );
    }
    Ok(0)
}

/// The `update-NNNNNN` checkpoint with the highest number, if any.
fn latest_checkpoint(dir: &std::path::Path) -> Result<Option<PathBuf>> {
    let mut best: Option<(usize, PathBuf)> = None;
    for entry in std::fs::read_dir(dir).with_context(|| format!("cannot read {}", dir.display()))? {
        let path = entry?.path();
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_default();
        if let Some(n) = name
            .strip_prefix("update-")
            .and_then(|n| n.parse::<usize>().ok())
        {
            if path.is_dir() && best.as_ref().is_none_or(|(b, _)| n > *b) {
                best = Some((n, path));
            }
        }
    }
    Ok(best.map(|(_, p)| p))
}
