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

use crate::monitor_cmd::{basis_for, write_incident, VerifyOracle, EXIT_HALTED};
use crate::output::problems_error;
use crate::run_files::{
    build_trainer, load_checkpoint, load_spec_bundle, open_run, read_json, run_spec,
};
use anyhow::{bail, Context, Result};
use clap::Args;
use esai_core::spec::Spec;
use esai_core::training::METHODS;
use esai_envs::{AnyEnv, VecEnv};
use esai_monitor::incident::{Incident, INCIDENT_SCHEMA};
use esai_monitor::live::Basis;
use esai_monitor::monitor::{Monitor, MonitorState};
use esai_monitor::rules::{Finding, Place, Rule};
use esai_runs::bundle::SpecBundle;
use esai_runs::lock::DirLock;
use esai_runs::rundir::{RunDir, RunRecord};
use esai_runs::RunError;
use esai_train::from_spec::configs;
use esai_train::ppo::{Fault, Method, Trainer, UpdateMetrics};
use esai_train::CpuBackend;
use esai_verify::certify::{certify, Certificate, CertifyOptions, Verdict};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

/// Arguments of `esai train`.
#[derive(Args)]
pub struct TrainArgs {
    /// The spec file (the same TOML `esai certify` reads, with `[env]`, `[ppo]`,
    /// `[esai]`, `[train]`). Not needed with --resume; if given there, it must
    /// be the spec the run was created from.
    #[arg(required_unless_present = "resume")]
    spec: Option<PathBuf>,
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
    /// Replace an existing run directory (refused while another process
    /// trains there). By default an existing non-empty DIR is an error.
    #[arg(long)]
    force: bool,
    /// Train an ESAI method even if `esai certify` does not certify the spec.
    /// By default training refuses.
    #[arg(long)]
    allow_uncertified: bool,
    /// Print the final summary as JSON.
    #[arg(long)]
    json: bool,
    /// Continue the run in DIR from its newest intact checkpoint, with the
    /// configuration stored in DIR (spec.json, config.toml); the result
    /// equals an uninterrupted run.
    #[arg(long, value_name = "DIR", conflicts_with_all = ["out", "seed", "steps", "method", "force", "allow_uncertified"])]
    resume: Option<PathBuf>,
    /// With --resume: continue from this checkpoint (e.g. `update-000010`)
    /// when a newer one is damaged; newer ones are set aside as
    /// `checkpoints/discarded-*`. By default the newest checkpoint, and a
    /// damaged one is an error naming the newest intact one.
    #[arg(long, value_name = "NAME", requires = "resume")]
    from_checkpoint: Option<String>,
    /// With --resume: accept a config.toml or spec.json edited after the run
    /// was created, and record that in DIR/run.json. By default an edited
    /// configuration is refused.
    #[arg(long, requires = "resume")]
    accept_config_change: bool,
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
    /// projection off: a broken normalisation). Repeatable; a drill that
    /// cannot fire in this run is refused. By default none.
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

/// Refuses a fire drill that can never fire in this run (it would pass
/// silently and prove nothing).
fn check_fault(
    f: &Fault,
    first: usize,
    updates: usize,
    rollout_steps: usize,
    esai: bool,
) -> Result<()> {
    let (update, what) = match f {
        Fault::NanIae { update, step } => {
            if *step >= rollout_steps {
                bail!("--inject-fault nan-iae@{update}:{step}: step {step} never happens; allowed 0 ≤ STEP < ppo.rollout_steps = {rollout_steps}");
            }
            (*update, "nan-iae")
        }
        Fault::NanLoss { update } => (*update, "nan-loss"),
        Fault::ScaleGPhi { update, .. } => (*update, "scale-g"),
    };
    if update < first || update > updates {
        bail!("--inject-fault {what}@{update}: update {update} never runs in this invocation; allowed {first} ≤ UPDATE ≤ {updates}");
    }
    if !esai && what != "nan-loss" {
        bail!("--inject-fault {what}: needs an ESAI method (there is no IAE or g_φ in this run); allowed for this method: nan-loss@UPDATE");
    }
    Ok(())
}

/// When `ESAI_PARENT_PID` is set (by `esai sweep` for its children), stop
/// cleanly as on SIGTERM once that process is gone, so a killed sweep
/// leaves no orphan training beside a rerun.
fn watch_parent(flag: &Arc<AtomicUsize>) {
    let Some(parent) = std::env::var("ESAI_PARENT_PID")
        .ok()
        .and_then(|p| p.parse::<u32>().ok())
    else {
        return;
    };
    let flag = flag.clone();
    std::thread::spawn(move || loop {
        if std::os::unix::process::parent_id() != parent {
            flag.store(15, Ordering::SeqCst);
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    });
}

/// Everything one invocation of `esai train` works with.
struct Session {
    run: RunDir,
    record: RunRecord,
    _lock: DirLock,
    source: String,
    cert: Certificate,
    basis: Basis,
    trainer: Trainer<CpuBackend, AnyEnv>,
    monitor: Monitor,
    /// `metrics.jsonl` lines of the updates done, exactly as written.
    rows: Vec<String>,
    updates: usize,
    rollout: usize,
    method: String,
    seed: u64,
    checkpoint_every: usize,
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
fn open_new(args: &TrainArgs, spec_path: &Path, interrupt: Arc<AtomicUsize>) -> Result<Session> {
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
        run,
        record,
        lock,
        bundle.source,
        cert,
        basis,
        trainer,
        &t,
        interrupt,
        args,
        Vec::new(),
        MonitorState::default(),
    )?;
    s.save_checkpoint(&s.run.checkpoint(0), s.monitor.state())?;
    Ok(s)
}

/// Builds the monitor and the rest of a [`Session`].
#[allow(clippy::too_many_arguments)]
fn session(
    run: RunDir,
    record: RunRecord,
    lock: DirLock,
    source: String,
    cert: Certificate,
    basis: Basis,
    trainer: Trainer<CpuBackend, AnyEnv>,
    t: &esai_core::training::Training,
    interrupt: Arc<AtomicUsize>,
    args: &TrainArgs,
    rows: Vec<String>,
    state: MonitorState,
) -> Result<Session> {
    let rollout = trainer.rollout_size();
    let updates = t.train.steps.div_ceil(rollout);
    let mut monitor = Monitor::new(t.monitor.clone(), basis.clone(), Box::new(VerifyOracle))
        .with_interrupt(interrupt)
        .with_final_update(updates)
        .with_state(state);
    if args.no_monitor {
        eprintln!("warning: --no-monitor: the runtime monitor's rules are off; certified bounds, NaNs and drift will not stop this run");
        monitor = monitor.without_rules();
    }
    Ok(Session {
        run,
        record,
        _lock: lock,
        source,
        cert,
        basis,
        trainer,
        monitor,
        rows,
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
fn resume_point(run: &RunDir, record: &RunRecord, from: Option<&str>) -> Result<(usize, PathBuf)> {
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
        return Ok((n, path));
    }
    let (best, damaged) = run.newest_intact(record)?;
    match (best, damaged.first()) {
        (Some((n, path)), None) => Ok((n, path)),
        (Some((_, path)), Some(e)) => bail!(
            "{e}\nthe newest intact checkpoint is {}: pass --from-checkpoint {} to resume from it",
            path.display(),
            path.file_name().unwrap_or_default().to_string_lossy()
        ),
        (None, Some(e)) => bail!(
            "{e}\nno intact checkpoint is left in {}: start the run again",
            run.checkpoints_dir().display()
        ),
        (None, None) => Ok((0, PathBuf::new())),
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
fn open_resume(
    args: &TrainArgs,
    dir: &Path,
    interrupt: Arc<AtomicUsize>,
) -> Result<Option<Session>> {
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
    let (n, ckpt) = resume_point(&run, &record, args.from_checkpoint.as_deref())?;
    let mut trainer = build_trainer(&spec, 0)?;
    let fresh = ckpt.as_os_str().is_empty();
    let (rows, state) = if fresh {
        // Killed after the directory was sealed but before the checkpoint of
        // update 0: nothing was trained, and update 0 is the seed's state.
        (Vec::new(), MonitorState::default())
    } else {
        load_checkpoint(&mut trainer, &ckpt)?;
        let state: MonitorState = read_json(&ckpt.join("monitor.json"))?;
        (checkpoint_rows(&ckpt, n)?, state)
    };
    if trainer.updates_done() != n {
        return Err(RunError::damaged(
            ckpt.join("state.json"),
            format!(
                "{} updates in a checkpoint named after {n}",
                trainer.updates_done()
            ),
        )
        .into());
    }
    let t = spec.training.clone();
    let s = session(
        run,
        record,
        lock,
        bundle.source,
        cert,
        basis,
        trainer,
        &t,
        interrupt,
        args,
        rows,
        state,
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
    let text: String = s.rows.iter().map(|l| format!("{l}\n")).collect();
    esai_runs::atomic::write(&s.run.file("metrics.jsonl"), text.as_bytes())?;
    if fresh {
        s.save_checkpoint(&s.run.checkpoint(0), s.monitor.state())?;
        eprintln!(
            "resuming {} from the start (no checkpoint yet)",
            dir.display()
        );
    } else {
        eprintln!(
            "resuming {} from {} (update {n})",
            dir.display(),
            ckpt.display()
        );
    }
    Ok(Some(s))
}

impl Session {
    /// Writes a sealed checkpoint: the trainer's files, the monitor state
    /// `state`, the metrics rows so far, and the manifest last.
    fn save_checkpoint(&self, dir: &Path, state: &MonitorState) -> Result<PathBuf> {
        let monitor = serde_json::to_vec(state)?;
        let rows: String = self.rows.iter().map(|l| format!("{l}\n")).collect();
        let hash = self.record.config_sha256.clone();
        let seal = move |tmp: &Path| {
            esai_runs::manifest::seal(tmp, &hash)
                .map(|_| ())
                .map_err(|e| e.to_string())
        };
        self.trainer
            .save_checkpoint_sealed(
                dir,
                &[
                    ("monitor.json", &monitor),
                    ("metrics.jsonl", rows.as_bytes()),
                ],
                &seal,
            )
            .map_err(|e| anyhow::anyhow!(e))
    }

    /// Re-certifies the current g_φ before the first update. On a resume the
    /// check runs on a copy of the monitor: a checkpoint kept as last good
    /// may hold weights the monitor had not checked yet, but the check must
    /// not change the state the uninterrupted run would have had. Some
    /// finding when the check halts.
    fn recertify(&mut self, args: &TrainArgs) -> Option<Finding> {
        let g = self.trainer.g_phi()?;
        let done = self.trainer.updates_done();
        let at = if done == 0 {
            "before training"
        } else {
            "on resume"
        };
        let place = Place {
            update: done,
            at: at.into(),
            env_steps: 0,
        };
        if done == 0 {
            self.monitor.recertify(&place, &g);
            return self.monitor.clear_halt();
        }
        let mut probe = Monitor::new(
            self.monitor.config().clone(),
            self.basis.clone(),
            Box::new(VerifyOracle),
        )
        .with_state(self.monitor.state().clone());
        if args.no_monitor {
            probe = probe.without_rules();
        }
        probe.recertify(&place, &g);
        probe.clear_halt()
    }
}

impl Session {
    /// Saves the last good state (monitor state `kept`, as it was when the
    /// discarded update began, so a resume repeats exactly what the
    /// uninterrupted run would do), writes the incident report, returns the
    /// exit code.
    fn stop(&self, cause: Finding, discarded_update: usize, kept: &MonitorState) -> Result<u8> {
        let done = self.trainer.updates_done();
        let ck = self.run.checkpoint(done);
        // An intact checkpoint of this very state is kept as it is: rewriting
        // it would open a window in which neither copy exists.
        if self.run.verify_checkpoint(&ck, &self.record).is_err() {
            self.save_checkpoint(&ck, kept)?;
        }
        let interrupted = cause.rule == Rule::Interrupted;
        let exit_code = if interrupted {
            128 + cause.value.unwrap_or(0.0) as u8
        } else {
            EXIT_HALTED
        };
        let resume = format!("esai train --resume {}", self.run.path().display());
        let state = self.monitor.state();
        let tail = self.monitor.config().incident_rows;
        let incident = Incident {
            schema: INCIDENT_SCHEMA,
            kind: if interrupted { "interrupted" } else { "halted" }.into(),
            cause: cause.clone(),
            discarded_update,
            checkpoint: ck.display().to_string(),
            last_good_update: done,
            findings: state
                .findings
                .iter()
                .filter(|f| (f.rule, f.update, &f.at) != (cause.rule, cause.update, &cause.at))
                .cloned()
                .collect(),
            counts: state.counts.clone(),
            live_certificate: self.monitor.live().cloned(),
            basis: self.basis.clone(),
            last_metrics: self.rows[self.rows.len().saturating_sub(tail)..]
                .iter()
                .filter_map(|l| serde_json::from_str(l).ok())
                .collect(),
            resume: resume.clone(),
            exit_code,
        };
        write_incident(self.run.path(), &incident)?;
        eprintln!(
            "{} at update {} ({}): {}\nlast good state: {} ({done} updates); report: {}\nresume with: {resume}",
            if interrupted { "stopped" } else { "HALTED by the monitor" },
            cause.update,
            cause.at,
            cause.message,
            ck.display(),
            self.run.file("incident.md").display(),
        );
        Ok(exit_code)
    }

    /// Trains the remaining updates, checkpointing every `checkpoint_every`,
    /// at a pause and always after the last update; then finishes the run.
    fn train(&mut self, args: &TrainArgs, interrupt: &AtomicUsize) -> Result<u8> {
        let first = self.trainer.updates_done() + 1;
        if let Some(cause) = self.recertify(args) {
            let kept = self.monitor.state().clone();
            return self.stop(cause, first, &kept);
        }
        let bar = progress_bar(self.updates, first);
        let mut metrics = std::fs::OpenOptions::new()
            .append(true)
            .open(self.run.file("metrics.jsonl"))
            .map_err(|e| RunError::io(self.run.file("metrics.jsonl"), e))?;
        let mut clock = Clock {
            start: Instant::now(),
            rollout_s: 0.0,
            watch_s: 0.0,
            done: 0,
        };
        let mut shown = self.monitor.state().findings.len();
        for u in first..=self.updates {
            let before = self.monitor.state().clone();
            let result = self.trainer.update_watched(self.updates, &mut self.monitor);
            for f in &self.monitor.state().findings[shown..] {
                if f.rule != Rule::Interrupted {
                    let line = format!("monitor {}: {}", f.rule.name(), f.message);
                    match &bar {
                        Some(b) => b.println(line),
                        None => eprintln!("{line}"),
                    }
                }
            }
            shown = self.monitor.state().findings.len();
            let m = match result {
                Ok(m) => m,
                Err(stopped) => {
                    if let Some(b) = &bar {
                        b.finish_and_clear();
                    }
                    let cause = self
                        .monitor
                        .clear_halt()
                        .unwrap_or_else(|| interrupted_at(&stopped.at, stopped.update));
                    return self.stop(cause, stopped.update, &before);
                }
            };
            clock.rollout_s += m.rollout_seconds as f64;
            clock.watch_s += m.watch_seconds as f64;
            let mut row = serde_json::to_value(&m)?;
            row["monitor"] = self.monitor.row_summary();
            let line = serde_json::to_string(&row)?;
            writeln!(metrics, "{line}")
                .and_then(|_| metrics.flush())
                .map_err(|e| RunError::io(self.run.file("metrics.jsonl"), e))?;
            self.rows.push(line);
            report_update(&bar, &m, u, self.updates);
            clock.done += 1;
            let pause = args.pause_after.is_some_and(|p| clock.done >= p) && u < self.updates;
            let every = self.checkpoint_every > 0 && u.is_multiple_of(self.checkpoint_every);
            if pause || every || u == self.updates {
                self.save_checkpoint(&self.run.checkpoint(u), self.monitor.state())?;
            }
            if pause {
                if let Some(b) = &bar {
                    b.finish_and_clear();
                }
                println!(
                    "paused after update {u}/{}; continue with: esai train --resume {}",
                    self.updates,
                    self.run.path().display()
                );
                return Ok(0);
            }
        }
        if let Some(b) = bar {
            b.finish_and_clear();
        }
        let sig = interrupt.load(Ordering::SeqCst);
        if sig != 0 {
            // Stopped during the last update's write-out: the final
            // checkpoint is on disk; a resume writes the results.
            let mut cause = interrupted_at("before the final write", self.updates);
            cause.value = Some(sig as f64);
            let kept = self.monitor.state().clone();
            return self.stop(cause, self.updates, &kept);
        }
        self.finish(args, &clock)
    }

    /// Writes `checkpoints/final`, `g_phi.json` and `summary.json`, and seals
    /// them in `run.json` (a kill before that is finished by a resume).
    fn finish(&mut self, args: &TrainArgs, clock: &Clock) -> Result<u8> {
        let Some(last_line) = self.rows.last() else {
            bail!("{}: no update was run", self.run.path().display());
        };
        let mut last: serde_json::Value = serde_json::from_str(last_line)?;
        if let Some(o) = last.as_object_mut() {
            o.remove("monitor");
        }
        self.save_checkpoint(
            &self.run.checkpoints_dir().join("final"),
            self.monitor.state(),
        )?;
        let mut sealed = vec!["summary.json"];
        if let Some(json) = self.trainer.g_phi_weights_json() {
            esai_runs::atomic::write(&self.run.file("g_phi.json"), json.as_bytes())?;
            sealed.push("g_phi.json");
        }
        let wall = clock.start.elapsed().as_secs_f64();
        let state = self.monitor.state();
        let summary = serde_json::json!({
            "spec": self.source,
            "method": self.method,
            "seed": self.seed,
            "updates": self.updates,
            "env_steps": last.get("env_steps"),
            "wall_seconds_this_invocation": wall,
            "env_steps_per_second": (clock.done * self.rollout) as f64 / wall,
            "rollout_fraction": clock.rollout_s / wall,
            "monitor": {
                "on": !args.no_monitor,
                "overhead_fraction": clock.watch_s / wall,
                "checks": {
                    "environment_steps": state.checks[0],
                    "gradient_steps": state.checks[1],
                    "updates": state.checks[2],
                    "live_certificates": state.checks[3],
                },
                "findings": state.counts,
                "live_certificate": self.monitor.live(),
            },
            "final": last,
            "checkpoint": "checkpoints/final",
            "certificate_verdict": format!("{:?}", self.cert.verdict).to_lowercase(),
        });
        let text = serde_json::to_string_pretty(&summary)?;
        esai_runs::atomic::write(&self.run.file("summary.json"), text.as_bytes())?;
        for name in sealed {
            self.run.add_sealed(&mut self.record, name)?;
        }
        if args.json {
            println!("{text}");
        } else {
            self.print_summary(&summary, clock, wall);
        }
        Ok(0)
    }

    fn print_summary(&self, summary: &serde_json::Value, clock: &Clock, wall: f64) {
        let counts = &self.monitor.state().counts;
        let findings = if counts.is_empty() {
            "none".to_string()
        } else {
            counts
                .iter()
                .map(|(k, v)| format!("{k} ×{v}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let f = &summary["final"];
        let num = |k: &str, digits: usize| {
            f.get(k)
                .and_then(|v| v.as_f64())
                .map_or("—".into(), |x| format!("{x:.digits$}"))
        };
        println!(
            "trained {} ({} updates, {} env steps) in {wall:.1} s = {:.0} env-steps/s ({:.0}% rollout, {:.2}% monitor)\nmonitor findings: {findings}\nfinal: return {}, prosocial rate {}, entropy {}\nrun directory: {}",
            self.method,
            self.updates,
            f.get("env_steps").map_or("—".into(), |v| v.to_string()),
            (clock.done * self.rollout) as f64 / wall,
            100.0 * clock.rollout_s / wall,
            100.0 * clock.watch_s / wall,
            num("mean_return", 2),
            num("prosocial_rate", 3),
            num("entropy", 3),
            self.run.path().display()
        );
    }
}

/// Wall-clock accounting of this invocation (the only numbers of a run
/// that differ between a resumed and an uninterrupted run).
struct Clock {
    start: Instant,
    rollout_s: f64,
    watch_s: f64,
    done: usize,
}

/// A stop that no rule asked for: a signal (or a watcher's own stop).
fn interrupted_at(at: &str, update: usize) -> Finding {
    Finding {
        rule: Rule::Interrupted,
        policy: esai_core::training::Policy::Halt,
        update,
        at: at.into(),
        env_steps: 0,
        agent: None,
        value: None,
        limit: None,
        statistical: false,
        message: "stopped by a signal".into(),
    }
}

fn progress_bar(updates: usize, first: usize) -> Option<indicatif::ProgressBar> {
    if !std::io::stderr().is_terminal() {
        return None;
    }
    let b = indicatif::ProgressBar::new(updates as u64);
    b.set_style(
        indicatif::ProgressStyle::with_template(
            "{bar:30} {pos}/{len} updates {elapsed_precise} eta {eta} {msg}",
        )
        .expect("valid template"),
    );
    b.set_position((first - 1) as u64);
    Some(b)
}

fn report_update(
    bar: &Option<indicatif::ProgressBar>,
    m: &UpdateMetrics,
    u: usize,
    updates: usize,
) {
    let line = format!(
        "return {} PR {} entropy {:.3}",
        m.mean_return.map_or("—".into(), |r| format!("{r:.1}")),
        m.prosocial_rate.map_or("—".into(), |p| format!("{p:.3}")),
        m.entropy
    );
    match bar {
        Some(b) => {
            b.set_message(line);
            b.inc(1);
        }
        None => eprintln!(
            "update {u}/{updates} env_steps {} {line} ({:.2}s)",
            m.env_steps, m.seconds
        ),
    }
}

/// Runs the command; returns the exit code.
pub fn run(args: &TrainArgs) -> Result<u8> {
    let interrupt = register_signals()?;
    watch_parent(&interrupt);
    let faults = args
        .inject_fault
        .iter()
        .map(|f| parse_fault(f))
        .collect::<Result<Vec<_>>>()?;
    let mut s = match (&args.resume, &args.spec) {
        (Some(dir), _) => match open_resume(args, dir, interrupt.clone())? {
            Some(s) => s,
            None => return Ok(0),
        },
        (None, Some(spec)) => open_new(args, spec, interrupt.clone())?,
        (None, None) => bail!("a SPEC file is needed (or --resume DIR)"),
    };
    let first = s.trainer.updates_done() + 1;
    let esai = s.trainer.g_phi_weights_json().is_some();
    for f in faults {
        check_fault(&f, first, s.updates, s.trainer.rollout_steps(), esai)?;
        s.trainer.inject(f);
    }
    s.train(args, &interrupt)
}
