//! `esai sweep SWEEP.toml`: a grid of training runs, each certified first
//! and trained under the monitor by a child `esai train` process (burn's
//! autodiff server is process-wide, so processes — not threads — give real
//! parallelism). Resumable: finished runs are skipped, partial ones resumed.
//! `--shard I/N` runs every N-th point, so a Slurm array or a Kubernetes
//! indexed Job runs one sweep across machines; `--merge` collects shards.
//!
//! Layout of the sweep directory: `sweep.toml` (a copy), `specs/<id>.toml`
//! (each point's full spec), `runs/<id>/` (an `esai train` run directory,
//! plus `evaluation.json`, or `uncertified.json` / `failed.json`),
//! `logs/<id>.log`, `status-<shard>.json`.

use crate::output::{problems_error, write_atomic};
use crate::EXIT_BUSY;
use anyhow::{bail, Context, Result};
use clap::Args;
use esai_core::spec::Spec;
use esai_core::sweep::{apply, Sweep};
use esai_verify::certify::{certify, CertifyOptions, Verdict};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// Arguments of `esai sweep`.
#[derive(Args)]
pub struct SweepArgs {
    /// The sweep file (`[sweep] spec = …` and `[[grid]]` tables; see specs/sweeps/).
    #[arg(required_unless_present = "merge")]
    sweep: Option<PathBuf>,
    /// Sweep directory. By default `runs/sweeps/<sweep file name>`.
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Runs in parallel (each an `esai train` process). By default the number of cores.
    #[arg(long, value_name = "N")]
    jobs: Option<usize>,
    /// Run only points with index ≡ I (mod N), 0 ≤ I < N (e.g. `--shard $SLURM_ARRAY_TASK_ID/8`).
    /// By default all points.
    #[arg(long, value_name = "I/N")]
    shard: Option<String>,
    /// List the points and their status without running anything.
    #[arg(long)]
    dry_run: bool,
    /// Collect the runs of shard directories into --out (instead of running a sweep).
    #[arg(long, value_name = "SHARD_DIR", num_args = 1.., conflicts_with = "sweep")]
    merge: Vec<PathBuf>,
    /// Print the final status as JSON.
    #[arg(long)]
    json: bool,
}

/// Where a point stands, from its files: done, uncertified, failed,
/// interrupted, halted, trained (not yet evaluated), partial or pending.
pub(crate) fn status(dir: &Path) -> &'static str {
    let run = |f: &str| dir.join(f).exists();
    if sealed(dir, &["summary.json", "evaluation.json"]) {
        "done"
    } else if run("uncertified.json") {
        "uncertified"
    } else if run("failed.json") {
        "failed"
    } else if run("incident.json") {
        match std::fs::read_to_string(dir.join("incident.json")) {
            Ok(t) if t.contains("\"interrupted\"") => "interrupted",
            _ => "halted",
        }
    } else if sealed(dir, &["summary.json"]) {
        "trained"
    } else if dir.join("checkpoints").is_dir() {
        "partial"
    } else {
        "pending"
    }
}

/// Parses `I/N`.
fn parse_shard(s: &str) -> Result<(usize, usize)> {
    let bad = || anyhow::anyhow!("--shard {s:?}: allowed I/N with integers 0 ≤ I < N");
    let (i, n) = s.split_once('/').ok_or_else(bad)?;
    let (i, n): (usize, usize) = (i.parse().map_err(|_| bad())?, n.parse().map_err(|_| bad())?);
    if i >= n {
        return Err(bad());
    }
    Ok((i, n))
}

/// One point ready to run.
struct Job {
    id: String,
    spec_path: PathBuf,
    spec: Spec,
}

fn copy_dir(from: &Path, to: &Path) -> Result<()> {
    std::fs::create_dir_all(to).with_context(|| format!("cannot create {}", to.display()))?;
    for entry in
        std::fs::read_dir(from).with_context(|| format!("cannot read {}", from.display()))?
    {
        let entry = entry?;
        let (src, dst) = (entry.path(), to.join(entry.file_name()));
        if src.is_dir() {
            copy_dir(&src, &dst)?;
        } else {
            std::fs::copy(&src, &dst)
                .with_context(|| format!("cannot copy {} to {}", src.display(), dst.display()))?;
        }
    }
    Ok(())
}

fn merge(args: &SweepArgs) -> Result<u8> {
    let out = args
        .out
        .clone()
        .context("--merge needs --out DIR (where the shards are collected)")?;
    let mut copied = 0usize;
    for shard in &args.merge {
        let sweep_file = shard.join("sweep.toml");
        if !sweep_file.exists() {
            bail!("{}: not a sweep directory (no sweep.toml)", shard.display());
        }
        std::fs::create_dir_all(out.join("runs"))?;
        let dst_sweep = out.join("sweep.toml");
        let text = std::fs::read_to_string(&sweep_file)?;
        match std::fs::read_to_string(&dst_sweep) {
            Ok(existing) if existing != text => bail!(
                "{} and {} hold different sweeps; merge shards of one sweep only",
                sweep_file.display(),
                dst_sweep.display()
            ),
            Ok(_) => {}
            Err(_) => write_atomic(&dst_sweep, text.as_bytes(), true)?,
        }
        for sub in ["specs", "logs"] {
            if shard.join(sub).is_dir() {
                copy_dir(&shard.join(sub), &out.join(sub))?;
            }
        }
        let runs = shard.join("runs");
        if !runs.is_dir() {
            continue;
        }
        for entry in std::fs::read_dir(&runs)? {
            let src = entry?.path();
            let dst = out.join("runs").join(src.file_name().context("run name")?);
            let (s, d) = (status(&src), status(&dst));
            if d == "done" || s == "pending" {
                continue;
            }
            if dst.exists() {
                std::fs::remove_dir_all(&dst)?;
            }
            copy_dir(&src, &dst)?;
            copied += 1;
        }
    }
    println!(
        "merged {} shard(s) into {}: {copied} run(s) copied; report with: esai report {}",
        args.merge.len(),
        out.display(),
        out.display()
    );
    Ok(0)
}

/// Runs the command.
pub fn run(args: &SweepArgs) -> Result<u8> {
    if !args.merge.is_empty() {
        return merge(args);
    }
    let sweep_path = args.sweep.as_ref().context("a sweep file is required")?;
    let text = std::fs::read_to_string(sweep_path)
        .with_context(|| format!("cannot read {}", sweep_path.display()))?;
    let sweep = Sweep::from_toml(&text).map_err(|problems| {
        problems_error(
            format!("{}: invalid sweep", sweep_path.display()),
            &problems,
        )
    })?;
    let base_dir = sweep_path
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    let base_path = base_dir.join(&sweep.section.spec);
    let base_text = std::fs::read_to_string(&base_path).with_context(|| {
        format!(
            "{}: sweep.spec = {:?}: cannot read {}",
            sweep_path.display(),
            sweep.section.spec,
            base_path.display()
        )
    })?;
    let base: toml::Table = toml::from_str(&base_text)
        .with_context(|| format!("{} is not valid TOML", base_path.display()))?;
    let spec_dir = base_path
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    let stem = sweep_path
        .file_stem()
        .map_or("sweep".into(), |s| s.to_string_lossy().to_string());
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from(format!("runs/sweeps/{stem}")));
    let (shard_i, shard_n) = match &args.shard {
        Some(s) => parse_shard(s)?,
        None => (0, 1),
    };
    // Every point's spec, checked up front: all problems at once.
    let mut jobs = Vec::new();
    let mut problems = Vec::new();
    for (i, p) in sweep.points.iter().enumerate() {
        let mut t = base.clone();
        for (k, v) in &p.overrides {
            apply(&mut t, k, v);
        }
        if let Some(steps) = sweep.section.steps {
            apply(&mut t, "train.steps", &toml::Value::Integer(steps as i64));
        }
        let text = toml::to_string_pretty(&t)?;
        let loader = |rel: &str| -> std::result::Result<String, String> {
            crate::certify_cmd::read_named_file(&spec_dir.join(rel))
        };
        match Spec::from_toml(&text, &loader) {
            Ok(spec) if i % shard_n == shard_i => jobs.push((p.id.clone(), text, spec)),
            Ok(_) => {}
            Err(e) => problems.extend(e.problems.iter().map(|q| format!("  - {}: {q}", p.id))),
        }
    }
    if !problems.is_empty() {
        bail!(
            "{}: {} point(s) have invalid specs\n{}",
            sweep_path.display(),
            problems.len(),
            problems.join("\n")
        );
    }
    if args.dry_run {
        for (id, _, _) in &jobs {
            println!("{id}\t{}", status(&out.join("runs").join(id)));
        }
        println!(
            "{} point(s) in this shard ({} in the sweep)",
            jobs.len(),
            sweep.points.len()
        );
        return Ok(0);
    }
    for sub in ["specs", "runs", "logs"] {
        std::fs::create_dir_all(out.join(sub))
            .with_context(|| format!("cannot create {}", out.join(sub).display()))?;
    }
    // One sweep per directory: a second one would train points twice.
    let _lock = esai_runs::lock::DirLock::acquire(&out)?;
    match std::fs::read_to_string(out.join("sweep.toml")) {
        Ok(existing) if existing != text => bail!(
            "{} holds a different sweep (sweep.toml differs); choose another --out",
            out.display()
        ),
        Ok(_) => {}
        Err(_) => write_atomic(&out.join("sweep.toml"), text.as_bytes(), true)?,
    }
    let mut todo = Vec::new();
    for (id, spec_text, spec) in jobs {
        let spec_path = out.join("specs").join(format!("{id}.toml"));
        // Relative paths in the base spec (weights files) resolve from its directory.
        write_atomic(&spec_path, spec_text.as_bytes(), true)?;
        todo.push(Job {
            id,
            spec_path,
            spec,
        });
    }
    let jobs_n = args
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        .max(1);
    let interrupt = Arc::new(AtomicUsize::new(0));
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register_usize(sig, interrupt.clone(), sig as usize)
            .context("cannot install signal handlers")?;
    }
    let exe = std::env::current_exe().context("cannot find the esai executable")?;
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<(String, String)>> = Mutex::new(Vec::new());
    let bar = std::io::stderr().is_terminal().then(|| {
        let b = indicatif::ProgressBar::new(todo.len() as u64);
        b.set_style(
            indicatif::ProgressStyle::with_template(
                "{bar:30} {pos}/{len} runs {elapsed_precise} eta {eta} {msg}",
            )
            .expect("valid template"),
        );
        b
    });
    let episodes = sweep.section.evaluate_episodes.to_string();
    std::thread::scope(|scope| {
        for _ in 0..jobs_n.min(todo.len()) {
            scope.spawn(|| loop {
                if interrupt.load(Ordering::SeqCst) != 0 {
                    return;
                }
                let i = next.fetch_add(1, Ordering::SeqCst);
                let Some(job) = todo.get(i) else { return };
                let outcome = run_point(&exe, &out, job, &episodes);
                let line = format!("{}: {}", job.id, outcome);
                match &bar {
                    Some(b) => {
                        b.println(&line);
                        b.inc(1);
                    }
                    None => eprintln!("{line}"),
                }
                results
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .push((job.id.clone(), outcome));
            });
        }
    });
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    let mut results = results.into_inner().unwrap_or_else(|p| p.into_inner());
    results.sort();
    let mut counts = std::collections::BTreeMap::new();
    for (_, s) in &results {
        *counts.entry(s.clone()).or_insert(0usize) += 1;
    }
    let status_json = serde_json::json!({
        "shard": format!("{shard_i}/{shard_n}"),
        "counts": counts,
        "runs": results.iter().map(|(id, s)| serde_json::json!({"id": id, "status": s})).collect::<Vec<_>>(),
    });
    write_atomic(
        &out.join(format!("status-{shard_i}-of-{shard_n}.json")),
        serde_json::to_string_pretty(&status_json)?.as_bytes(),
        true,
    )?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&status_json)?);
    } else {
        println!(
            "sweep {} shard {shard_i}/{shard_n}: {}; report with: esai report {}",
            out.display(),
            counts
                .iter()
                .map(|(k, v)| format!("{v} {k}"))
                .collect::<Vec<_>>()
                .join(", "),
            out.display()
        );
    }
    if interrupt.load(Ordering::SeqCst) != 0 {
        println!("interrupted: run the same command again to continue");
        return Ok(130);
    }
    let bad: Vec<&str> = ["failed", "interrupted", "busy"]
        .into_iter()
        .filter(|k| counts.contains_key(*k))
        .collect();
    if !bad.is_empty() {
        println!(
            "not every point finished ({}): see {}/logs; run the same command again to retry interrupted ones",
            bad.join(", "),
            out.display()
        );
        return Ok(1);
    }
    Ok(0)
}

/// Whether every one of `names` is sealed in the run's `run.json` (a run
/// killed between writing a result and sealing it is finished again by a
/// resume or a new evaluation, not trusted).
fn sealed(dir: &Path, names: &[&str]) -> bool {
    esai_runs::rundir::RunDir::new(dir)
        .read_record()
        .is_ok_and(|r| {
            names
                .iter()
                .all(|n| r.files.contains_key(*n) && dir.join(n).exists())
        })
}

/// Certifies, trains (or resumes) and evaluates one point; returns its status.
fn run_point(exe: &Path, out: &Path, job: &Job, episodes: &str) -> String {
    let dir = out.join("runs").join(&job.id);
    let st = status(&dir);
    if matches!(st, "done" | "uncertified" | "halted" | "failed") {
        return st.to_string();
    }
    let log_path = out.join("logs").join(format!("{}.log", job.id));
    let log = || {
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log_path)
    };
    let fail = |why: String| {
        let _ = std::fs::create_dir_all(&dir);
        let _ = write_atomic(
            &dir.join("failed.json"),
            serde_json::json!({"reason": why, "log": log_path.display().to_string()})
                .to_string()
                .as_bytes(),
            true,
        );
        "failed".to_string()
    };
    let is_esai = job.spec.training.esai.method.starts_with("esai");
    if st == "pending" && is_esai {
        let (cert, _) = certify(&job.spec, CertifyOptions::default());
        if cert.verdict != Verdict::Certified {
            let _ = std::fs::create_dir_all(&dir);
            let _ = write_atomic(
                &dir.join("uncertified.json"),
                serde_json::json!({
                    "verdict": format!("{:?}", cert.verdict).to_lowercase(),
                    "reason": cert.reason,
                })
                .to_string()
                .as_bytes(),
                true,
            );
            return "uncertified".into();
        }
    }
    if st != "trained" {
        let resume = st == "partial" || st == "interrupted";
        // A run directory still locked by a child of an earlier, killed
        // sweep: that child stops within a second (it watches its parent).
        let mut code: std::io::Result<Option<i32>> = Ok(Some(EXIT_BUSY as i32));
        for attempt in 0..20 {
            if attempt > 0 {
                std::thread::sleep(std::time::Duration::from_millis(500));
            }
            let mut cmd = Command::new(exe);
            cmd.env("ESAI_PARENT_PID", std::process::id().to_string());
            if resume {
                cmd.arg("train").arg("--resume").arg(&dir);
            } else {
                cmd.arg("train")
                    .arg(&job.spec_path)
                    .arg("--out")
                    .arg(&dir)
                    .arg("--force");
            }
            let (Ok(o), Ok(e)) = (log(), log()) else {
                return fail(format!("cannot open {}", log_path.display()));
            };
            code = cmd
                .stdin(Stdio::null())
                .stdout(Stdio::from(o))
                .stderr(Stdio::from(e))
                .status()
                .map(|s| s.code());
            if !matches!(code, Ok(Some(c)) if c == EXIT_BUSY as i32) {
                break;
            }
        }
        match code {
            Ok(Some(0)) => {}
            Ok(Some(4)) => return "halted".into(),
            Ok(Some(c)) if c == EXIT_BUSY as i32 => return "busy".into(),
            Ok(Some(130 | 143)) | Ok(None) => return "interrupted".into(),
            Ok(Some(c)) => return fail(format!("esai train exited with {c}")),
            Err(e) => return fail(format!("cannot start esai train: {e}")),
        }
    }
    let (Ok(o), Ok(e)) = (log(), log()) else {
        return fail(format!("cannot open {}", log_path.display()));
    };
    let code = Command::new(exe)
        .env("ESAI_PARENT_PID", std::process::id().to_string())
        .args(["evaluate"])
        .arg(&dir)
        .args(["--episodes", episodes, "--force"])
        .stdin(Stdio::null())
        .stdout(Stdio::from(o))
        .stderr(Stdio::from(e))
        .status();
    match code.map(|s| s.code()) {
        Ok(Some(0)) => "done".into(),
        Ok(c) => fail(format!("esai evaluate exited with {c:?}")),
        Err(e) => fail(format!("cannot start esai evaluate: {e}")),
    }
}
