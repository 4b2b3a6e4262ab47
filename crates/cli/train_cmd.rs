//! `esai train SPEC`: train ESAI or a baseline, writing a run directory.
//!
//! `DIR/config.toml` (the resolved configuration), `DIR/certificate.json`,
//! `DIR/monitor_basis.json` (what the runtime monitor checks against),
//! `DIR/metrics.jsonl` (one line per update, flushed as it is written),
//! `DIR/checkpoints/` (burn records + `g_phi.json` + `monitor.json`, each
//! directory written atomically), `DIR/summary.json` (atomically, at the end),
//! and on a halt or a signal `DIR/incident.json` + `DIR/incident.md`.
//!
//! Exit codes: 0 trained (or paused), 2 bad input, 4 halted by the monitor,
//! 130 / 143 stopped cleanly by SIGINT / SIGTERM.

use crate::certify_cmd::load_spec;
use crate::monitor_cmd::{basis_for, write_incident, VerifyOracle, EXIT_HALTED};
use crate::output::{problems_error, write_atomic};
use anyhow::{bail, Context, Result};
use clap::Args;
use esai_core::training::METHODS;
use esai_envs::{AnyEnv, VecEnv};
use esai_monitor::incident::{Incident, INCIDENT_SCHEMA};
use esai_monitor::live::Basis;
use esai_monitor::monitor::{Monitor, MonitorState};
use esai_monitor::rules::{Finding, Place, Rule};
use esai_train::from_spec::configs;
use esai_train::ppo::{Fault, Method, Trainer, UpdateMetrics};
use esai_train::CpuBackend;
use esai_verify::certify::{certify, CertifyOptions, Verdict};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize};
use std::sync::Arc;
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
    /// Train without the runtime monitor's rules (a warning is printed;
    /// SIGINT/SIGTERM still stop cleanly). By default the monitor is on,
    /// with the rules of the spec's `[monitor]` section.
    #[arg(long)]
    no_monitor: bool,
    /// Arm a fault, to check that the monitor catches it (a fire drill):
    /// `nan-iae@U:S` (NaN in agent 0's IAE at rollout step S of update U),
    /// `nan-loss@U` (a NaN loss in update U), `scale-g@U:F` (multiply g_φ's
    /// output weight by F at the end of update U and turn the spectral
    /// projection off: a broken normalisation). Repeatable. By default none.
    #[arg(long, value_name = "FAULT")]
    inject_fault: Vec<String>,
}

/// Parses `--inject-fault`.
fn parse_fault(text: &str) -> Result<Fault> {
    let bad = || {
        anyhow::anyhow!(
            "--inject-fault {text:?}: allowed nan-iae@UPDATE:STEP, nan-loss@UPDATE, scale-g@UPDATE:FACTOR (UPDATE ≥ 1)"
        )
    };
    let (kind, at) = text.split_once('@').ok_or_else(bad)?;
    let (u, rest) = match at.split_once(':') {
        Some((u, r)) => (u, Some(r)),
        None => (at, None),
    };
    let update: usize = u.parse().ok().filter(|&u| u >= 1).ok_or_else(bad)?;
    match (kind, rest) {
        ("nan-iae", Some(r)) => Ok(Fault::NanIae {
            update,
            step: r.parse().map_err(|_| bad())?,
        }),
        ("nan-loss", None) => Ok(Fault::NanLoss { update }),
        ("scale-g", Some(r)) => Ok(Fault::ScaleGPhi {
            update,
            factor: r
                .parse::<f32>()
                .ok()
                .filter(|f| f.is_finite())
                .ok_or_else(bad)?,
        }),
        _ => Err(bad()),
    }
}

/// SIGINT/SIGTERM set the returned flag to the signal number; a second
/// signal of the same kind ends the process at once (exit 130 / 143).
fn register_signals() -> Result<Arc<AtomicUsize>> {
    use signal_hook::consts::{SIGINT, SIGTERM};
    let flag = Arc::new(AtomicUsize::new(0));
    for sig in [SIGINT, SIGTERM] {
        let seen = Arc::new(AtomicBool::new(false));
        signal_hook::flag::register_conditional_shutdown(sig, 128 + sig, seen.clone())
            .and_then(|_| signal_hook::flag::register(sig, seen))
            .and_then(|_| signal_hook::flag::register_usize(sig, flag.clone(), sig as usize))
            .context("cannot install the SIGINT/SIGTERM handlers")?;
    }
    Ok(flag)
}

/// The last `n` lines of `metrics.jsonl` as JSON values.
fn metrics_tail(path: &Path, n: usize) -> Vec<serde_json::Value> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let rows: Vec<serde_json::Value> = text
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    rows[rows.len().saturating_sub(n)..].to_vec()
}

/// What a stop needs to know of the run.
struct RunFiles<'a> {
    dir: &'a Path,
    spec: &'a Path,
    basis: &'a Basis,
}

/// Saves the last good state, writes the incident report, returns the exit code.
fn stop_run(
    files: &RunFiles,
    trainer: &Trainer<CpuBackend, AnyEnv>,
    monitor: &Monitor,
    cause: Finding,
    discarded_update: usize,
) -> Result<u8> {
    let done = trainer.updates_done();
    let ck = files.dir.join(format!("checkpoints/update-{done:06}"));
    let state = serde_json::to_vec(monitor.state())?;
    trainer
        .save_checkpoint_with(&ck, &[("monitor.json", &state)])
        .map_err(|e| anyhow::anyhow!(e))?;
    let interrupted = cause.rule == Rule::Interrupted;
    let exit_code = if interrupted {
        128 + cause.value.unwrap_or(0.0) as u8
    } else {
        EXIT_HALTED
    };
    let resume = format!(
        "esai train {} --resume {}",
        files.spec.display(),
        files.dir.display()
    );
    let incident = Incident {
        schema: INCIDENT_SCHEMA,
        kind: if interrupted { "interrupted" } else { "halted" }.into(),
        cause: cause.clone(),
        discarded_update,
        checkpoint: ck.display().to_string(),
        last_good_update: done,
        findings: monitor
            .state()
            .findings
            .iter()
            .filter(|f| (f.rule, f.update, &f.at) != (cause.rule, cause.update, &cause.at))
            .cloned()
            .collect(),
        counts: monitor.state().counts.clone(),
        live_certificate: monitor.live().cloned(),
        basis: files.basis.clone(),
        last_metrics: metrics_tail(
            &files.dir.join("metrics.jsonl"),
            monitor.config().incident_rows,
        ),
        resume: resume.clone(),
        exit_code,
    };
    write_incident(files.dir, &incident)?;
    eprintln!(
        "{} at update {} ({}): {}
last good state: {} ({} updates); report: {}
resume with: {}",
        if interrupted {
            "stopped"
        } else {
            "HALTED by the monitor"
        },
        cause.update,
        cause.at,
        cause.message,
        ck.display(),
        done,
        files.dir.join("incident.md").display(),
        resume
    );
    Ok(exit_code)
}

/// Runs the command; returns the exit code.
pub fn run(args: &TrainArgs) -> Result<u8> {
    let mut spec = load_spec(&args.spec)?;
    if let Some(dir) = &args.resume {
        spec.training = crate::evaluate_cmd::read_run_config(dir)
            .with_context(|| format!("--resume {}", dir.display()))?
            .1;
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
        problems_error(
            format!("{}: cannot train this spec", args.spec.display()),
            &problems,
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
    let faults = args
        .inject_fault
        .iter()
        .map(|f| parse_fault(f))
        .collect::<Result<Vec<_>>>()?;
    let env = esai_envs::from_spec(&spec, ppo.seed).map_err(|problems| {
        problems_error(
            format!("{}: cannot build the environment", args.spec.display()),
            &problems,
        )
    })?;
    let basis_path = dir.join("monitor_basis.json");
    let basis: Basis = if args.resume.is_some() {
        serde_json::from_str(
            &std::fs::read_to_string(&basis_path)
                .with_context(|| format!("cannot read {}", basis_path.display()))?,
        )
        .with_context(|| format!("{} is corrupt", basis_path.display()))?
    } else {
        let (k, diffusion) = match &method {
            Method::Esai(e) => (e.k, e.mechanisms.diffusion),
            _ => (0, true),
        };
        let basis = basis_for(&spec, &cert, env.graph(), k, diffusion);
        write_atomic(
            &dir.join("certificate.json"),
            serde_json::to_string_pretty(&cert)?.as_bytes(),
            true,
        )?;
        write_atomic(
            &basis_path,
            serde_json::to_string_pretty(&basis)?.as_bytes(),
            true,
        )?;
        basis
    };
    let mut trainer = Trainer::<CpuBackend, _>::new(ppo, method, env, Default::default())
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    for f in faults {
        trainer.inject(f);
    }
    let interrupt = register_signals()?;
    let mut monitor = Monitor::new(t.monitor.clone(), basis.clone(), Box::new(VerifyOracle))
        .with_interrupt(interrupt)
        .with_final_update(updates);
    if args.no_monitor {
        eprintln!("warning: --no-monitor: the runtime monitor's rules are off; certified bounds, NaNs and drift will not stop this run");
        monitor = monitor.without_rules();
    }
    let files = RunFiles {
        dir: &dir,
        spec: &args.spec,
        basis: &basis,
    };
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
        let state_path = latest.join("monitor.json");
        if state_path.exists() {
            let state: MonitorState = serde_json::from_str(
                &std::fs::read_to_string(&state_path)
                    .with_context(|| format!("cannot read {}", state_path.display()))?,
            )
            .with_context(|| format!("{} is corrupt", state_path.display()))?;
            monitor = monitor.with_state(state);
        }
        // Keep earlier incident reports: a resumed run may stop again.
        for ext in ["json", "md"] {
            let old = dir.join(format!("incident.{ext}"));
            if old.exists() {
                let kept = dir.join(format!(
                    "incident-before-update-{:06}.{ext}",
                    trainer.updates_done() + 1
                ));
                std::fs::rename(&old, &kept)
                    .with_context(|| format!("cannot move {}", old.display()))?;
            }
        }
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
    if first == 1 {
        if let Some(g) = trainer.g_phi() {
            let place = Place {
                update: 0,
                at: "before training".into(),
                env_steps: 0,
            };
            monitor.recertify(&place, &g);
            if let Some(cause) = monitor.clear_halt() {
                return stop_run(&files, &trainer, &monitor, cause, 1);
            }
        }
    }
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
    let mut watch_s = 0.0;
    let mut done_here = 0usize;
    let mut shown = monitor.state().findings.len();
    for u in first..=updates {
        let result = trainer.update_watched(updates, &mut monitor);
        for f in &monitor.state().findings[shown..] {
            let line = format!("monitor {}: {}", f.rule.name(), f.message);
            match &bar {
                Some(b) if f.rule != Rule::Interrupted => b.println(line),
                None if f.rule != Rule::Interrupted => eprintln!("{line}"),
                _ => {}
            }
        }
        shown = monitor.state().findings.len();
        let m = match result {
            Ok(m) => m,
            Err(stopped) => {
                if let Some(b) = &bar {
                    b.finish_and_clear();
                }
                let cause = monitor.clear_halt().unwrap_or_else(|| Finding {
                    rule: Rule::Interrupted,
                    policy: esai_core::training::Policy::Halt,
                    update: stopped.update,
                    at: stopped.at.clone(),
                    env_steps: 0,
                    agent: None,
                    value: None,
                    limit: None,
                    statistical: false,
                    message: "stopped by the watcher".into(),
                });
                return stop_run(&files, &trainer, &monitor, cause, stopped.update);
            }
        };
        rollout_s += m.rollout_seconds;
        watch_s += m.watch_seconds;
        let mut row = serde_json::to_value(&m)?;
        row["monitor"] = monitor.row_summary();
        writeln!(metrics, "{}", serde_json::to_string(&row)?)
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
            let state = serde_json::to_vec(monitor.state())?;
            trainer
                .save_checkpoint_with(
                    &dir.join(format!("checkpoints/update-{u:06}")),
                    &[("monitor.json", &state)],
                )
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
    let state = serde_json::to_vec(monitor.state())?;
    let final_ckpt = trainer
        .save_checkpoint_with(&dir.join("checkpoints/final"), &[("monitor.json", &state)])
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
        "monitor": {
            "on": !args.no_monitor,
            "overhead_fraction": watch_s as f64 / wall,
            "checks": {
                "environment_steps": monitor.state().checks[0],
                "gradient_steps": monitor.state().checks[1],
                "updates": monitor.state().checks[2],
                "live_certificates": monitor.state().checks[3],
            },
            "findings": monitor.state().counts,
            "live_certificate": monitor.live(),
        },
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
            "trained {} ({} updates, {} env steps) in {:.1} s = {:.0} env-steps/s ({:.0}% rollout, {:.2}% monitor)\nmonitor findings: {}\nfinal: return {:.2}, prosocial rate {}, entropy {:.3}\nrun directory: {}",
            t.esai.method,
            updates,
            last.env_steps,
            wall,
            speed,
            100.0 * rollout_s as f64 / wall,
            100.0 * watch_s as f64 / wall,
            if monitor.state().counts.is_empty() {
                "none".to_string()
            } else {
                monitor
                    .state()
                    .counts
                    .iter()
                    .map(|(k, v)| format!("{k} ×{v}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            },
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
