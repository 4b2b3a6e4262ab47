//! `run.json` and the checkpoints of a run directory.
//!
//! `run.json` seals the run-level files: the configuration (`config.toml`,
//! `spec.json`), what was certified and monitored against
//! (`certificate.json`, `monitor_basis.json`) and, once written, the results
//! (`summary.json`, `evaluation.json`). Its `config_sha256` is the hash every
//! checkpoint's manifest must carry. A configuration edited by hand is
//! refused ([`RunError::ConfigChanged`]) until accepted explicitly, and the
//! acceptance is recorded in `accepted_config_changes`.

use crate::manifest::{self, config_hash, Entry, Manifest};
use crate::{atomic, RunError};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The run record's file name.
pub const RUN_RECORD: &str = "run.json";
/// Schema tag of [`RunRecord`].
pub const RUN_SCHEMA: &str = "esai.run/v1";
/// The files that make up a run's configuration, hashed together.
pub const CONFIG_FILES: [&str; 2] = ["config.toml", "spec.json"];
/// Largest run-level file read back (configurations and results are small).
pub const MAX_RUN_FILE_BYTES: u64 = 64 << 20;

/// A configuration change accepted with an explicit override.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfigChange {
    /// The configuration hash before.
    pub previous_sha256: String,
    /// The configuration hash after.
    pub new_sha256: String,
    /// The files that changed.
    pub files: Vec<String>,
    /// Updates done when it was accepted.
    pub at_update: usize,
    /// Why, as the flag that accepted it.
    pub accepted_by: String,
}

/// The content of `run.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunRecord {
    /// Always [`RUN_SCHEMA`].
    pub schema: String,
    /// Hash of [`CONFIG_FILES`] as sealed.
    pub config_sha256: String,
    /// Sealed run-level files.
    pub files: BTreeMap<String, Entry>,
    /// Every accepted configuration change, oldest first.
    #[serde(default)]
    pub accepted_config_changes: Vec<ConfigChange>,
}

impl RunRecord {
    /// Configuration hashes a checkpoint of this run may carry: the current
    /// one and every one accepted before it.
    pub fn accepted_hashes(&self) -> Vec<&str> {
        let mut all = vec![self.config_sha256.as_str()];
        all.extend(
            self.accepted_config_changes
                .iter()
                .map(|c| c.previous_sha256.as_str()),
        );
        all
    }
}

/// A checkpoint: the updates it holds and its directory.
pub type Checkpoint = (usize, PathBuf);

/// A run directory.
#[derive(Debug, Clone)]
pub struct RunDir {
    path: PathBuf,
}

/// Reads a run-level file, refusing non-regular files and oversized ones.
pub fn read_capped(path: &Path, cap: u64) -> Result<Vec<u8>, RunError> {
    let meta = std::fs::metadata(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => RunError::damaged(path, "missing"),
        _ => RunError::io(path, e),
    })?;
    if !meta.is_file() {
        return Err(RunError::damaged(path, "not a regular file"));
    }
    if meta.len() > cap {
        return Err(RunError::damaged(
            path,
            format!("{} bytes, more than the {cap} allowed", meta.len()),
        ));
    }
    std::fs::read(path).map_err(|e| RunError::io(path, e))
}

impl RunDir {
    /// The run directory at `path` (nothing is read yet).
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self { path: path.into() }
    }

    /// Its path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A file of the directory.
    pub fn file(&self, name: &str) -> PathBuf {
        self.path.join(name)
    }

    /// `DIR/checkpoints`.
    pub fn checkpoints_dir(&self) -> PathBuf {
        self.path.join("checkpoints")
    }

    /// The checkpoint directory after `update` updates.
    pub fn checkpoint(&self, update: usize) -> PathBuf {
        self.checkpoints_dir().join(format!("update-{update:06}"))
    }

    /// The configuration hash of [`CONFIG_FILES`] as they are on disk now.
    pub fn config_hash_on_disk(&self) -> Result<String, RunError> {
        let parts = CONFIG_FILES
            .iter()
            .map(|n| read_capped(&self.file(n), MAX_RUN_FILE_BYTES))
            .collect::<Result<Vec<_>, _>>()?;
        let refs: Vec<&[u8]> = parts.iter().map(|p| p.as_slice()).collect();
        Ok(config_hash(&refs))
    }

    /// Writes `run.json` sealing `files` (which must exist; the
    /// configuration files are always included).
    pub fn seal(&self, files: &[&str]) -> Result<RunRecord, RunError> {
        let mut record = RunRecord {
            schema: RUN_SCHEMA.into(),
            config_sha256: self.config_hash_on_disk()?,
            files: BTreeMap::new(),
            accepted_config_changes: Vec::new(),
        };
        for name in CONFIG_FILES.iter().chain(files) {
            record
                .files
                .insert((*name).into(), manifest::digest(&self.file(name))?);
        }
        self.write_record(&record)?;
        Ok(record)
    }

    /// Adds (or re-seals) one file in `run.json`, e.g. `summary.json`.
    pub fn add_sealed(&self, record: &mut RunRecord, name: &str) -> Result<(), RunError> {
        record
            .files
            .insert(name.into(), manifest::digest(&self.file(name))?);
        self.write_record(record)
    }

    /// Drops a file from `run.json` (it is about to be replaced or removed).
    pub fn unseal(&self, record: &mut RunRecord, name: &str) -> Result<(), RunError> {
        if record.files.remove(name).is_some() {
            self.write_record(record)?;
        }
        Ok(())
    }

    fn write_record(&self, record: &RunRecord) -> Result<(), RunError> {
        let json = serde_json::to_vec_pretty(record).expect("plain data serialises");
        atomic::write(&self.file(RUN_RECORD), &json)
    }

    /// Reads `run.json` without checking the files.
    pub fn read_record(&self) -> Result<RunRecord, RunError> {
        let path = self.file(RUN_RECORD);
        if !path.exists() {
            return Err(RunError::damaged(
                &path,
                format!(
                    "missing: {} is not a run directory written by this version of esai train",
                    self.path.display()
                ),
            ));
        }
        let bytes = read_capped(&path, MAX_RUN_FILE_BYTES)?;
        let record: RunRecord = serde_json::from_slice(&bytes)
            .map_err(|e| RunError::damaged(&path, format!("not a run record: {e}")))?;
        if record.schema != RUN_SCHEMA {
            return Err(RunError::damaged(
                &path,
                format!("schema {:?}, expected {RUN_SCHEMA:?}", record.schema),
            ));
        }
        Ok(record)
    }

    /// Reads `run.json` and checks every file it seals. A changed
    /// configuration file is [`RunError::ConfigChanged`]; any other
    /// difference is [`RunError::Damaged`].
    pub fn verify(&self) -> Result<RunRecord, RunError> {
        let record = self.read_record()?;
        for (name, want) in &record.files {
            let path = self.file(name);
            let got = if path.exists() {
                Some(manifest::digest(&path)?)
            } else {
                None
            };
            if got.as_ref() == Some(want) {
                continue;
            }
            let what = match &got {
                None => "missing (run.json seals it)".to_string(),
                Some(g) => format!(
                    "changed after it was written, or run.json was replaced ({} bytes, sha256 {}…; run.json seals {} bytes, {}…)",
                    g.bytes,
                    &g.sha256[..12],
                    want.bytes,
                    &want.sha256[..12.min(want.sha256.len())]
                ),
            };
            if CONFIG_FILES.contains(&name.as_str()) && got.is_some() {
                return Err(RunError::ConfigChanged {
                    path,
                    what: format!(
                        "{what}; restore it, or pass --accept-config-change to continue with the edited configuration (recorded in run.json)"
                    ),
                });
            }
            return Err(RunError::damaged(path, what));
        }
        Ok(record)
    }

    /// Accepts the configuration files as they are now (after a refused
    /// [`RunDir::verify`]), recording the change; other sealed files must
    /// still be intact.
    pub fn accept_config_change(&self, at_update: usize) -> Result<RunRecord, RunError> {
        let mut record = self.read_record()?;
        let mut changed = Vec::new();
        for name in CONFIG_FILES {
            let got = manifest::digest(&self.file(name))?;
            if record.files.get(name) != Some(&got) {
                changed.push(name.to_string());
                record.files.insert(name.into(), got);
            }
        }
        if !changed.is_empty() {
            let new = self.config_hash_on_disk()?;
            record.accepted_config_changes.push(ConfigChange {
                previous_sha256: std::mem::replace(&mut record.config_sha256, new.clone()),
                new_sha256: new,
                files: changed,
                at_update,
                accepted_by: "--accept-config-change".into(),
            });
            self.write_record(&record)?;
        }
        self.verify()
    }

    /// The `update-NNNNNN` checkpoints, oldest first (unfinished `*.tmp`
    /// directories are not checkpoints).
    pub fn checkpoints(&self) -> Result<Vec<(usize, PathBuf)>, RunError> {
        let dir = self.checkpoints_dir();
        let mut all = Vec::new();
        let entries = match std::fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(all),
            Err(e) => return Err(RunError::io(&dir, e)),
        };
        for entry in entries {
            let entry = entry.map_err(|e| RunError::io(&dir, e))?;
            let name = entry.file_name().to_string_lossy().to_string();
            let Some(n) = name
                .strip_prefix("update-")
                .filter(|n| n.len() == 6)
                .and_then(|n| n.parse::<usize>().ok())
            else {
                continue;
            };
            if entry.path().is_dir() {
                all.push((n, entry.path()));
            }
        }
        all.sort();
        Ok(all)
    }

    /// Verifies a checkpoint directory: its manifest, and that it belongs
    /// to this run's configuration.
    pub fn verify_checkpoint(&self, dir: &Path, record: &RunRecord) -> Result<Manifest, RunError> {
        let m = manifest::verify(dir)?;
        if !record.accepted_hashes().contains(&m.config_sha256.as_str()) {
            return Err(RunError::damaged(
                dir.join(manifest::MANIFEST),
                "written for another configuration (its config_sha256 is not this run's): a checkpoint of another run",
            ));
        }
        Ok(m)
    }

    /// The newest checkpoint that verifies, and every newer one that does
    /// not (with why).
    pub fn newest_intact(
        &self,
        record: &RunRecord,
    ) -> Result<(Option<Checkpoint>, Vec<RunError>), RunError> {
        let mut damaged = Vec::new();
        for (n, path) in self.checkpoints()?.into_iter().rev() {
            match self.verify_checkpoint(&path, record) {
                Ok(_) => return Ok((Some((n, path)), damaged)),
                Err(e) if e.is_io() => return Err(e),
                Err(e) => damaged.push(e),
            }
        }
        Ok((None, damaged))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(tag: &str) -> RunDir {
        let d = std::env::temp_dir().join(format!("esai-rundir-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(d.join("checkpoints")).unwrap();
        std::fs::write(d.join("config.toml"), "x = 1\n").unwrap();
        std::fs::write(d.join("spec.json"), "{}").unwrap();
        std::fs::write(d.join("certificate.json"), "{}").unwrap();
        RunDir::new(d)
    }

    #[test]
    fn edited_config_is_refused_until_accepted_and_the_acceptance_is_recorded() {
        let r = run("cfg");
        let sealed = r.seal(&["certificate.json"]).unwrap();
        r.verify().unwrap();
        std::fs::write(r.file("config.toml"), "x = 2\n").unwrap();
        let err = r.verify().unwrap_err();
        assert!(matches!(err, RunError::ConfigChanged { .. }), "{err}");
        let after = r.accept_config_change(3).unwrap();
        assert_eq!(after.accepted_config_changes.len(), 1);
        assert_eq!(
            after.accepted_config_changes[0].previous_sha256,
            sealed.config_sha256
        );
        assert_eq!(after.accepted_hashes().len(), 2);
    }

    #[test]
    fn damaged_result_file_is_named() {
        let r = run("res");
        r.seal(&["certificate.json"]).unwrap();
        std::fs::write(r.file("certificate.json"), "{ }").unwrap();
        let err = r.verify().unwrap_err().to_string();
        assert!(err.contains("certificate.json"), "{err}");
    }

    #[test]
    fn newest_intact_skips_a_damaged_newer_checkpoint() {
        let r = run("ckpt");
        let record = r.seal(&[]).unwrap();
        for u in [0, 10] {
            let c = r.checkpoint(u);
            std::fs::create_dir_all(&c).unwrap();
            std::fs::write(c.join("state.json"), format!("{u}")).unwrap();
            manifest::seal(&c, &record.config_sha256).unwrap();
        }
        std::fs::write(r.checkpoint(10).join("state.json"), "0").unwrap();
        let (best, damaged) = r.newest_intact(&record).unwrap();
        assert_eq!(best.unwrap().0, 0);
        assert_eq!(damaged.len(), 1);
    }
}
