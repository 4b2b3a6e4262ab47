//! Helpers shared by the end-to-end tests: run the `esai` binary, check its
//! exit code, find the repository, make a fresh temporary directory.
#![allow(dead_code)] // each test file uses a subset

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Runs `esai` with `args`.
pub fn esai(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_esai"))
        .args(args)
        .output()
        .expect("run esai")
}

/// Runs `esai` and requires the exit code, showing its stderr otherwise.
pub fn esai_code(code: i32, args: &[&str]) -> Output {
    let out = esai(args);
    assert_eq!(
        out.status.code(),
        Some(code),
        "esai {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Runs `esai` and requires success.
pub fn esai_ok(args: &[&str]) -> Output {
    esai_code(0, args)
}

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A fresh, empty path in the temporary directory, unique per test process.
pub fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("esai-test-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

/// A path as `&str` for command lines.
pub fn s(p: &Path) -> &str {
    p.to_str().expect("UTF-8 path")
}
