//! Run directories you can trust.
//!
//! A run directory (`esai train --out DIR`) is the only record of a training
//! run, so every reader must be able to tell an intact directory from a
//! damaged or edited one, and two processes must never write one at once.
//! This crate owns those guarantees; the CLI and (later) the Python package
//! use them instead of touching files directly.
//!
//! - [`manifest`]: every checkpoint directory carries `MANIFEST.json`, the
//!   size and SHA-256 of each of its files and the hash of the run's
//!   configuration, written last (a checkpoint without one is unfinished).
//! - [`rundir`]: `run.json` seals the run-level files (`config.toml`,
//!   `spec.json`, `certificate.json`, `monitor_basis.json`, and at the end
//!   `summary.json`), records accepted configuration changes, and finds the
//!   newest intact checkpoint.
//! - [`bundle`]: `spec.json` holds the spec's text and every file it names
//!   (weights), so a run never re-reads anything outside its directory.
//! - [`lock`]: one writer per directory (an advisory `flock`, released by
//!   the kernel when the holder dies).
//! - [`atomic`]: files are replaced by rename, never half-written.
//!
//! ```
//! use esai_runs::manifest;
//! let dir = std::env::temp_dir().join(format!("esai-runs-doc-{}", std::process::id()));
//! std::fs::create_dir_all(&dir).unwrap();
//! std::fs::write(dir.join("state.json"), b"{}").unwrap();
//! manifest::seal(&dir, "cfg-hash").unwrap();
//! assert_eq!(manifest::verify(&dir).unwrap().config_sha256, "cfg-hash");
//! std::fs::write(dir.join("state.json"), b"{ }").unwrap();
//! assert!(manifest::verify(&dir).is_err());
//! # std::fs::remove_dir_all(&dir).unwrap();
//! ```
#![warn(missing_docs)]

pub mod atomic;
pub mod bundle;
pub mod lock;
pub mod manifest;
pub mod rundir;

mod error;
pub use error::RunError;

/// Lower-case hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(bytes);
    digest.iter().map(|b| format!("{b:02x}")).collect()
}
