//! Atomic replacement of files: write a temporary file beside the target,
//! fsync it, rename it over the target, fsync the directory. A reader sees
//! the old file or the new one, never a mixture; a failure leaves no
//! temporary file behind.

use crate::RunError;
use std::io::Write;
use std::path::{Path, PathBuf};

/// The directory holding `path` (`.` for a bare file name).
pub fn parent_of(path: &Path) -> PathBuf {
    match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Replaces `path` with `bytes` atomically (see the module docs).
pub fn write(path: &Path, bytes: &[u8]) -> Result<(), RunError> {
    let dir = parent_of(path);
    let name = path
        .file_name()
        .ok_or_else(|| RunError::damaged(path, "not a file path"))?;
    let tmp = dir.join(format!(
        ".{}.{}.tmp",
        name.to_string_lossy(),
        std::process::id()
    ));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp).map_err(|e| RunError::io(&tmp, e))?;
        f.write_all(bytes)
            .and_then(|_| f.sync_all())
            .map_err(|e| RunError::io(&tmp, e))?;
        drop(f);
        std::fs::rename(&tmp, path).map_err(|e| RunError::io(path, e))?;
        sync_dir(&dir)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// Flushes a directory's entries (a rename is durable only then).
pub fn sync_dir(dir: &Path) -> Result<(), RunError> {
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| RunError::io(dir, e))
}
