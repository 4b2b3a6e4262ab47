//! The CLI's reading of run directories: every reader goes through here, so
//! each one verifies `run.json` and the checkpoint manifests before it
//! trusts a byte, and reads only the directory's own files.

use crate::certify_cmd::read_spec_text;
use anyhow::{bail, Context, Result};
use esai_core::spec::Spec;
use esai_core::training::Training;
use esai_envs::AnyEnv;
use esai_runs::bundle::SpecBundle;
use esai_runs::rundir::{read_capped, RunDir, RunRecord, MAX_RUN_FILE_BYTES};
use esai_runs::RunError;
use esai_train::from_spec::configs;
use esai_train::ppo::Trainer;
use esai_train::CpuBackend;
use std::path::Path;

/// Reads a spec file and every file it names, as a [`SpecBundle`].
pub fn load_spec_bundle(path: &Path) -> Result<(Spec, SpecBundle)> {
    let text = read_spec_text(path)?;
    let base = path.parent().map(|p| p.to_path_buf()).unwrap_or_default();
    let loader = move |rel: &str| crate::certify_cmd::read_named_file(&base.join(rel));
    SpecBundle::capture(&path.display().to_string(), &text, &loader)
        .with_context(|| format!("{}", path.display()))
}

/// A run directory's `run.json`, verified; an edited configuration is
/// accepted (and recorded) only when `accept_change` holds.
pub fn open_run(dir: &Path, accept_change: Option<usize>) -> Result<(RunDir, RunRecord)> {
    if !dir.is_dir() {
        bail!(
            "{}: not a directory; pass a run directory written by esai train",
            dir.display()
        );
    }
    let run = RunDir::new(dir);
    let record = match (run.verify(), accept_change) {
        (Ok(r), _) => r,
        (Err(RunError::ConfigChanged { .. }), Some(at)) => {
            let r = run.accept_config_change(at)?;
            eprintln!(
                "warning: {}: the edited configuration is accepted (--accept-config-change) and recorded in run.json",
                dir.display()
            );
            r
        }
        (Err(e), _) => return Err(e.into()),
    };
    Ok((run, record))
}

/// The spec of a run, rebuilt from its own `spec.json` and `config.toml`.
pub fn run_spec(run: &RunDir) -> Result<(Spec, SpecBundle, toml::Table)> {
    let path = run.file("spec.json");
    let text = String::from_utf8(read_capped(&path, MAX_RUN_FILE_BYTES)?)
        .map_err(|_| RunError::damaged(&path, "not UTF-8"))?;
    let bundle = SpecBundle::from_json(&text).map_err(|e| RunError::damaged(&path, e))?;
    let mut spec = bundle
        .spec()
        .with_context(|| format!("{} no longer parses", path.display()))?;
    let (table, training) = read_run_config(run.path())?;
    spec.training = training;
    Ok((spec, bundle, table))
}

/// `DIR/config.toml` of a run and its `[training]`.
pub fn read_run_config(dir: &Path) -> Result<(toml::Table, Training)> {
    let cfg_path = dir.join("config.toml");
    let bytes = read_capped(&cfg_path, MAX_RUN_FILE_BYTES)
        .with_context(|| format!("is {} a run directory from esai train?", dir.display()))?;
    let text = String::from_utf8(bytes).map_err(|_| RunError::damaged(&cfg_path, "not UTF-8"))?;
    let table: toml::Table = toml::from_str(&text)
        .with_context(|| format!("{} is not valid TOML", cfg_path.display()))?;
    let training: Training = table
        .get("training")
        .cloned()
        .with_context(|| format!("{}: missing [training]", cfg_path.display()))?
        .try_into()
        .with_context(|| format!("{}: bad [training]", cfg_path.display()))?;
    let problems = training.monitor.problems();
    if !problems.is_empty() {
        return Err(crate::output::problems_error(
            format!("{}: invalid [training.monitor]", cfg_path.display()),
            &problems,
        ));
    }
    Ok((table, training))
}

/// A JSON file of the run (already verified through `run.json` or a manifest).
pub fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T> {
    let bytes = read_capped(path, MAX_RUN_FILE_BYTES)?;
    serde_json::from_slice(&bytes)
        .map_err(|e| RunError::damaged(path, format!("not what esai wrote: {e}")).into())
}

/// A fresh trainer for the run's configuration.
pub fn build_trainer(spec: &Spec, env_seed_xor: u64) -> Result<Trainer<CpuBackend, AnyEnv>> {
    let (ppo, method) = configs(spec)
        .map_err(|p| crate::output::problems_error("cannot rebuild the run's configuration", &p))?;
    let env = esai_envs::from_spec(spec, ppo.seed ^ env_seed_xor)
        .map_err(|p| crate::output::problems_error("cannot rebuild the run's environment", &p))?;
    Trainer::<CpuBackend, _>::new(ppo, method, env, Default::default())
        .map_err(|e| anyhow::anyhow!("{e}"))
}

/// Loads a verified checkpoint into `trainer`. burn's record reader panics
/// on some malformed content; the manifest makes that unreachable for
/// anything esai wrote, and a forged manifest still gets an error here, not
/// a crash.
pub fn load_checkpoint(trainer: &mut Trainer<CpuBackend, AnyEnv>, dir: &Path) -> Result<()> {
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        trainer.load_checkpoint(dir)
    }));
    std::panic::set_hook(hook);
    match result {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(RunError::damaged(dir, e).into()),
        Err(_) => Err(RunError::damaged(
            dir,
            "the checkpoint's records do not fit this configuration (the reader gave up)",
        )
        .into()),
    }
}

/// The spec and a trainer holding the final checkpoint of the finished run
/// in `dir`, everything verified (shared by `esai evaluate` and `esai audit`).
pub fn load_trained(dir: &Path) -> Result<(Spec, Trainer<CpuBackend, AnyEnv>)> {
    let (run, record) = open_run(dir, None)?;
    let (spec, _, _) = run_spec(&run)?;
    let final_dir = run.checkpoints_dir().join("final");
    if !final_dir.is_dir() || !record.files.contains_key("summary.json") {
        bail!(
            "{} is not a finished run (no sealed summary.json and checkpoints/final): finish it with esai train --resume {}",
            dir.display(),
            dir.display()
        );
    }
    run.verify_checkpoint(&final_dir, &record)?;
    let mut trainer = build_trainer(&spec, 0xE7A1)?;
    load_checkpoint(&mut trainer, &final_dir)?;
    Ok((spec, trainer))
}
