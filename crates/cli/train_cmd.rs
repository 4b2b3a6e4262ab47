//! `esai train SPEC`: train ESAI or a baseline, writing a run directory.
//!
//! A run directory (see `esai_runs`): `spec.json` (the spec and the files it
//! names), `config.toml` (the resolved configuration), `certificate.json`,
//! `monitor_basis.json`, sealed by `run.json`; `metrics.jsonl` (one line per
//! update, flushed as it is written); `checkpoints/update-NNNNNN/` and
//! `checkpoints/final/` (each with its MANIFEST.json); at the end
//! `summary.json` and `g_phi.json`; on a halt or a signal `incident.json` +
//! `incident.md`. This file holds the command line; `train_open.rs` creates
//! or reopens a run, `train_session.rs` trains, stops and finishes it.
//!
//! Exit codes: 0 trained (or paused), 2 bad input or a damaged run
//! directory, 4 halted by the monitor, 5 a file-system failure, 6 the
//! directory is in use, 130 / 143 stopped cleanly by SIGINT / SIGTERM.

use crate::train_open::{open_new, open_resume};
use anyhow::{bail, Context, Result};
use clap::Args;
use esai_train::ppo::Fault;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

/// Arguments of `esai train`.
#[derive(Args)]
pub struct TrainArgs {
    /// The spec file (the same TOML `esai certify` reads, with `[env]`, `[ppo]`,
    /// `[esai]`, `[train]`). Not needed with --resume; if given there, it must
    /// be the spec the run was created from.
    #[arg(required_unless_present = "resume")]
    pub(crate) spec: Option<PathBuf>,
    /// Run directory. By default `runs/<spec name>-<method>-seed<seed>`.
    #[arg(long, value_name = "DIR")]
    pub(crate) out: Option<PathBuf>,
    /// Override `[train] seed`.
    #[arg(long)]
    pub(crate) seed: Option<u64>,
    /// Override `[train] steps` (environment steps, rounded up to whole rollouts).
    #[arg(long)]
    pub(crate) steps: Option<usize>,
    /// Override `[esai] method`: esai, ppo, reward-shaping, lagrangian,
    /// esai-no-regret, esai-no-attention, esai-no-hebbian, esai-no-diffusion.
    #[arg(long)]
    pub(crate) method: Option<String>,
    /// Replace an existing run directory (refused while another process
    /// trains there). By default an existing non-empty DIR is an error.
    #[arg(long)]
    pub(crate) force: bool,
    /// Train an ESAI method even if `esai certify` does not certify the spec.
    /// By default training refuses.
    #[arg(long)]
    pub(crate) allow_uncertified: bool,
    /// Print the final summary as JSON.
    #[arg(long)]
    pub(crate) json: bool,
    /// Continue the run in DIR from its newest intact checkpoint, with the
    /// configuration stored in DIR (spec.json, config.toml); the result
    /// equals an uninterrupted run.
    #[arg(long, value_name = "DIR", conflicts_with_all = ["out", "seed", "steps", "method", "force", "allow_uncertified"])]
    pub(crate) resume: Option<PathBuf>,
    /// With --resume: continue from this checkpoint (e.g. `update-000010`)
    /// when a newer one is damaged; newer ones are set aside as
    /// `checkpoints/discarded-*`. By default the newest checkpoint, and a
    /// damaged one is an error naming the newest intact one.
    #[arg(long, value_name = "NAME", requires = "resume")]
    pub(crate) from_checkpoint: Option<String>,
    /// With --resume: accept a config.toml or spec.json edited after the run
    /// was created, and record that in DIR/run.json. By default an edited
    /// configuration is refused.
    #[arg(long, requires = "resume")]
    pub(crate) accept_config_change: bool,
    /// Stop after this many updates in this invocation, leaving a checkpoint
    /// to `--resume` from (e.g. for time-limited cluster jobs). By default run to the end.
    #[arg(long, value_name = "N")]
    pub(crate) pause_after: Option<usize>,
    /// Train without the runtime monitor's rules (a warning is printed;
    /// SIGINT/SIGTERM still stop cleanly). By default the monitor is on,
    /// with the rules of the spec's `[monitor]` section.
    #[arg(long)]
    pub(crate) no_monitor: bool,
    /// Arm a fault, to check that the monitor catches it (a fire drill):
    /// `nan-iae@U:S` (NaN in agent 0's IAE at rollout step S of update U),
    /// `nan-loss@U` (a NaN loss in update U), `scale-g@U:F` (multiply g_φ's
    /// output weight by F at the end of update U and turn the spectral
    /// projection off: a broken normalisation). Repeatable; a drill that
    /// cannot fire in this run is refused. By default none.
    #[arg(long, value_name = "FAULT")]
    pub(crate) inject_fault: Vec<String>,
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
        (Some(dir), _) => open_resume(args, dir, interrupt.clone())?,
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
