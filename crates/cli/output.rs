//! Writing results: atomically, and never over existing files without `--force`.

use anyhow::{bail, Context, Result};
use std::io::Write;
use std::path::Path;

/// One error listing every problem of an input, one per line under `context`
/// (each problem already names its field, value and what is allowed).
pub fn problems_error<P: std::fmt::Display>(
    context: impl std::fmt::Display,
    problems: &[P],
) -> anyhow::Error {
    let lines: Vec<String> = problems.iter().map(|p| format!("  - {p}")).collect();
    anyhow::anyhow!("{context}\n{}", lines.join("\n"))
}

/// Writes `bytes` to `path` via a temporary file in the same directory and a
/// rename, so a reader never sees a half-written file. Refuses to replace an
/// existing file unless `force`.
pub fn write_atomic(path: &Path, bytes: &[u8], force: bool) -> Result<()> {
    if path.exists() && !force {
        bail!(
            "{} already exists; pass --force to overwrite it",
            path.display()
        );
    }
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let name = path
        .file_name()
        .with_context(|| format!("{} is not a file path", path.display()))?;
    let tmp = dir.join(format!(
        ".{}.{}.tmp",
        name.to_string_lossy(),
        std::process::id()
    ));
    let mut f =
        std::fs::File::create(&tmp).with_context(|| format!("cannot create {}", tmp.display()))?;
    f.write_all(bytes)
        .and_then(|_| f.sync_all())
        .with_context(|| format!("cannot write {}", tmp.display()))?;
    drop(f);
    std::fs::rename(&tmp, path)
        .with_context(|| format!("cannot rename {} to {}", tmp.display(), path.display()))?;
    Ok(())
}
