//! Creating a run directory (`esai train SPEC`) or reopening one
//! (`esai train --resume DIR`) as a [`Session`]: locked, verified, with the
//! trainer and the monitor in the state of the checkpoint resumed from.

use crate::monitor_cmd::{basis_for, VerifyOracle};
use crate::output::problems_error;
use crate::run_files::{
    build_trainer, load_checkpoint, load_spec_bundle, open_run, read_json, run_spec,
};
use anyhow::{bail, Context, Result};
use esai_core::spec::Spec;
use esai_core::training::METHODS;
use esai_envs::{AnyEnv, VecEnv};
use esai_monitor::live::Basis;
use esai_monitor::monitor::{Monitor, MonitorState};
use esai_runs::bundle::SpecBundle;
use esai_runs::lock::DirLock;
use esai_runs::rundir::{Checkpoint, RunDir, RunRecord};
use esai_runs::RunError;
use esai_train::from_spec::configs;
use esai_train::ppo::{Method, Trainer};
use esai_train::CpuBackend;
use esai_verify::certify::{certify, Certificate, CertifyOptions, Verdict};
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicUsize;
use std::sync::Arc;

use crate::train_cmd::TrainArgs;

/// Everything one invocation of `esai train` works with.
pub(crate) struct Session {
    pub(crate) run: RunDir,
    pub(crate) record: RunRecord,
    pub(crate) _lock: DirLock,
    pub(crate) source: String,
    pub(crate) cert: Certificate,
    pub(crate) basis: Basis,
    pub(crate) trainer: Trainer<CpuBackend, AnyEnv>,
    pub(crate) monitor: Monitor,
    /// `metrics.jsonl` lines of the updates done, exactly as written.
    pub(crate) rows: Vec<String>,
    pub(crate) updates: usize,
    pub(crate) rollout: usize,
    pub(crate) method: String,
    pub(crate) seed: u64,
    pub(crate) checkpoint_every: usize,
}

/// The spec of a new run with the command line's overrides applied.
fn new_spec(args: &TrainArgs, path: &Path) -> Result<(Spec, SpecBundle)> {
    let (mut spec, bundle) = load_spec_bundle(path)?;
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
    Ok((spec, bundle))
}

/// Creates (or with --force replaces) the run directory, locked.
fn claim_new_dir(dir: &Path, force: bool) -> Result<DirLock> {
    std::fs::create_dir_all(dir).map_err(|e| RunError::io(dir, e))?;
    let lock = DirLock::acquire(dir)?;
    let non_empty = std::fs::read_dir(dir)
        .map_err(|e| RunError::io(dir, e))?
        .filter_map(|e| e.ok())
        .any(|e| e.file_name() != esai_runs::lock::LOCK_FILE);
    if non_empty {
        if !force {
            bail!("{} already holds a run; pass --force to replace it, --resume it, or choose another --out", dir.display());
        }
        esai_runs::lock::clear_except_lock(dir)?;
    }
    std::fs::create_dir_all(dir.join("checkpoints")).map_err(|e| RunError::io(dir, e))?;
    Ok(lock)
}

/// `esai train SPEC`: a new run directory, sealed, with its first checkpoint.
pub(crate) fn open_new(
    args: &TrainArgs,
    spec_path: &Path,
    interrupt: Arc<AtomicUsize>,
) -> Result<Session> {
    let (spec, bundle) = new_spec(args, spec_path)?;
    let (ppo, method) = configs(&spec).map_err(|problems| {
        problems_error(
            format!("{}: cannot train this spec", spec_path.display()),
            &problems,
        )
    })?;
    let t = spec.training.clone();
    let (cert, _) = certify(&spec, CertifyOptions::default());
    if matches!(method, Method::Esai(_))
        && cert.verdict != Verdict::Certified
        && !args.allow_uncertified
    {
        bail!(
            "{}: esai certify says {:?} ({}); the IAE may not stay bounded. Fix the spec or pass --allow-uncertified",
            spec_path.display(),
            cert.verdict,
            cert.reason
        );
    }
    let stem = spec_path
        .file_stem()
        .map_or("run".into(), |s| s.to_string_lossy().to_string());
    let dir = args.out.clone().unwrap_or_else(|| {
        PathBuf::from(format!(
            "runs/{stem}-{}-seed{}",
            t.esai.method, t.train.seed
        ))
    });
    let lock = claim_new_dir(&dir, args.force)?;
    let run = RunDir::new(&dir);
    let mut resolved = toml::Table::new();
    resolved.insert("spec".into(), toml::Value::String(bundle.source.clone()));
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
    esai_runs::atomic::write(&run.file("spec.json"), bundle.to_json().as_bytes())?;
    esai_runs::atomic::write(
        &run.file("config.toml"),
        toml::to_string_pretty(&resolved)?.as_bytes(),
    )?;
    let env = esai_envs::from_spec(&spec, ppo.seed).map_err(|problems| {
        problems_error(
            format!("{}: cannot build the environment", spec_path.display()),
            &problems,
        )
    })?;
    let (k, diffusion) = match &method {
        Method::Esai(e) => (e.k, e.mechanisms.diffusion),
        _ => (0, true),
    };
    let basis = basis_for(&spec, &cert, env.graph(), k, diffusion);
    esai_runs::atomic::write(
        &run.file("certificate.json"),
        serde_json::to_string_pretty(&cert)?.as_bytes(),
    )?;
    esai_runs::atomic::write(
        &run.file("monitor_basis.json"),
        serde_json::to_string_pretty(&basis)?.as_bytes(),
    )?;
    esai_runs::atomic::write(&run.file("metrics.jsonl"), b"")?;
    let record = run.seal(&["certificate.json", "monitor_basis.json"])?;
    let trainer = Trainer::<CpuBackend, _>::new(ppo, method, env, Default::default())
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let s = session(
        Parts {
            run,
            record,
            lock,
            source: bundle.source,
            cert,
            basis,
            trainer,
            rows: Vec::new(),
            state: MonitorState::default(),
        },
        &t,
        interrupt,
        args,
    )?;
    s.save_checkpoint(&s.run.checkpoint(0), s.monitor.state())?;
    Ok(s)
}

/// What a new or reopened run brings to its [`Session`].
struct Parts {
    run: RunDir,
    record: RunRecord,
    lock: DirLock,
    source: String,
    cert: Certificate,
    basis: Basis,
    trainer: Trainer<CpuBackend, AnyEnv>,
    /// Metrics rows of the updates done.
    rows: Vec<String>,
    /// The monitor's state at the checkpoint resumed from.
    state: MonitorState,
}

/// Builds the monitor and the rest of a [`Session`].
fn session(
    p: Parts,
    t: &esai_core::training::Training,
    interrupt: Arc<AtomicUsize>,
    args: &TrainArgs,
) -> Result<Session> {
    let rollout = p.trainer.rollout_size();
    let updates = t.train.steps.div_ceil(rollout);
    let mut monitor = Monitor::new(t.monitor.clone(), p.basis.clone(), Box::new(VerifyOracle))
        .with_interrupt(interrupt)
        .with_final_update(updates)
        .with_state(p.state);
    if args.no_monitor {
        eprintln!("warning: --no-monitor: the runtime monitor's rules are off; certified bounds, NaNs and drift will not stop this run");
        monitor = monitor.without_rules();
    }
    Ok(Session {
        run: p.run,
        record: p.record,
        _lock: p.lock,
        source: p.source,
        cert: p.cert,
        basis: p.basis,
        trainer: p.trainer,
        monitor,
        rows: p.rows,
        updates,
        rollout,
        method: t.esai.method.clone(),
        seed: t.train.seed,
        checkpoint_every: t.train.checkpoint_every,
    })
}

/// Picks the checkpoint to resume from: the newest, or `--from-checkpoint`
/// (setting newer ones aside); a damaged newest one is an error naming the
/// newest intact one.
fn resume_point(
    run: &RunDir,
    record: &RunRecord,
    from: Option<&str>,
) -> Result<Option<Checkpoint>> {
    let all = run.checkpoints()?;
    if let Some(name) = from {
        let Some((n, path)) = all
            .iter()
            .find(|(_, p)| p.file_name().is_some_and(|f| f == name))
            .cloned()
        else {
            bail!(
                "--from-checkpoint {name}: no such checkpoint in {}; allowed: {}",
                run.checkpoints_dir().display(),
                all.iter()
                    .map(|(_, p)| p
                        .file_name()
                        .unwrap_or_default()
                        .to_string_lossy()
                        .to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        };
        run.verify_checkpoint(&path, record)?;
        for (m, newer) in all.iter().filter(|(m, _)| *m > n) {
            let aside = run
                .checkpoints_dir()
                .join(format!("discarded-update-{m:06}-{}", std::process::id()));
            std::fs::rename(newer, &aside).map_err(|e| RunError::io(newer, e))?;
            eprintln!("set aside {} as {}", newer.display(), aside.display());
        }
        return Ok(Some((n, path)));
    }
    let (best, damaged) = run.newest_intact(record)?;
    match (best, damaged.first()) {
        (Some(best), None) => Ok(Some(best)),
        (Some((_, path)), Some(e)) => bail!(
            "{e}\nthe newest intact checkpoint is {}: pass --from-checkpoint {} to resume from it",
            path.display(),
            path.file_name().unwrap_or_default().to_string_lossy()
        ),
        (None, Some(e)) => bail!(
            "{e}\nno intact checkpoint is left in {}: start the run again",
            run.checkpoints_dir().display()
        ),
        // Killed after the directory was sealed, before the checkpoint of
        // update 0: nothing was trained yet.
        (None, None) => Ok(None),
    }
}

/// The metrics rows sealed in a checkpoint: exactly updates 1..=n, in order.
fn checkpoint_rows(ckpt: &Path, n: usize) -> Result<Vec<String>> {
    let path = ckpt.join("metrics.jsonl");
    let bytes = esai_runs::rundir::read_capped(&path, esai_runs::rundir::MAX_RUN_FILE_BYTES)?;
    let text = String::from_utf8(bytes).map_err(|_| RunError::damaged(&path, "not UTF-8"))?;
    let rows: Vec<String> = text.lines().map(str::to_string).collect();
    for (i, row) in rows.iter().enumerate() {
        let update = serde_json::from_str::<serde_json::Value>(row)
            .ok()
            .and_then(|v| v.get("update").and_then(|u| u.as_u64()));
        if update != Some(i as u64 + 1) {
            return Err(RunError::damaged(
                &path,
                format!("line {} is not the row of update {}", i + 1, i + 1),
            )
            .into());
        }
    }
    if rows.len() != n {
        return Err(RunError::damaged(
            &path,
            format!("{} rows for a checkpoint after {n} updates", rows.len()),
        )
        .into());
    }
    Ok(rows)
}

/// `esai train --resume DIR`: the run's own configuration, its newest
/// intact checkpoint (verified), metrics and monitor state from it.
pub(crate) fn open_resume(
    args: &TrainArgs,
    dir: &Path,
    interrupt: Arc<AtomicUsize>,
) -> Result<Session> {
    if !dir.is_dir() {
        bail!("--resume {}: not a directory", dir.display());
    }
    let lock = DirLock::acquire(dir)?;
    let newest = RunDir::new(dir)
        .checkpoints()?
        .last()
        .map_or(0, |(n, _)| *n);
    let (run, record) = open_run(dir, args.accept_config_change.then_some(newest))?;
    let (spec, bundle, _) = run_spec(&run)?;
    if let Some(p) = &args.spec {
        let (_, given) = load_spec_bundle(p)?;
        if !given.same_config(&bundle) {
            bail!("{}: differs from the spec this run was created from ({}, stored in {}); --resume continues with the run's own configuration: drop SPEC, or start a new run with --out",
                p.display(), bundle.source, run.file("spec.json").display());
        }
    }
    if record.files.contains_key("summary.json") && run.checkpoints_dir().join("final").is_dir() {
        bail!(
            "{} is a finished run (summary.json and checkpoints/final); nothing to resume",
            dir.display()
        );
    }
    // The certificate is derived again from the run's own spec (sealed, so
    // the same); only its verdict and reason are reported.
    let (cert, _) = certify(&spec, CertifyOptions::default());
    let basis: Basis = read_json(&run.file("monitor_basis.json"))?;
    let point = resume_point(&run, &record, args.from_checkpoint.as_deref())?;
    let mut trainer = build_trainer(&spec, 0)?;
    // Without a checkpoint, update 0 is the seed's state: a fresh trainer.
    let (n, rows, state) = match &point {
        None => (0, Vec::new(), MonitorState::default()),
        Some((n, ckpt)) => {
            load_checkpoint(&mut trainer, ckpt)?;
            let state: MonitorState = read_json(&ckpt.join("monitor.json"))?;
            (*n, checkpoint_rows(ckpt, *n)?, state)
        }
    };
    if trainer.updates_done() != n {
        return Err(RunError::damaged(
            run.checkpoint(n).join("state.json"),
            format!(
                "{} updates in a checkpoint named after {n}",
                trainer.updates_done()
            ),
        )
        .into());
    }
    let t = spec.training.clone();
    let s = session(
        Parts {
            run,
            record,
            lock,
            source: bundle.source,
            cert,
            basis,
            trainer,
            rows,
            state,
        },
        &t,
        interrupt,
        args,
    )?;
    // Earlier incident reports are kept: a resumed run may stop again.
    for ext in ["json", "md"] {
        let old = s.run.file(&format!("incident.{ext}"));
        if old.exists() {
            let kept = s
                .run
                .file(&format!("incident-before-update-{:06}.{ext}", n + 1));
            std::fs::rename(&old, &kept).map_err(|e| RunError::io(&old, e))?;
        }
    }
    esai_runs::atomic::write(&s.run.file("metrics.jsonl"), rows_text(&s.rows).as_bytes())?;
    let Some((_, ckpt)) = point else {
        s.save_checkpoint(&s.run.checkpoint(0), s.monitor.state())?;
        eprintln!(
            "resuming {} from the start (no checkpoint yet)",
            dir.display()
        );
        return Ok(s);
    };
    eprintln!(
        "resuming {} from {} (update {n})",
        dir.display(),
        ckpt.display()
    );
    Ok(s)
}

/// Metrics rows as the lines of `metrics.jsonl`.
pub(crate) fn rows_text(rows: &[String]) -> String {
    rows.iter().map(|l| format!("{l}\n")).collect()
}
