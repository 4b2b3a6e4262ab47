//! One writer per directory.
//!
//! An exclusive advisory lock (`flock(2)` through `std::fs::File::try_lock`,
//! the same lock Cargo takes on its build directory) on `DIR/.lock`, held
//! for as long as the [`DirLock`] lives. The kernel releases it when the
//! holder exits for any reason, `kill -9` included, so a stale lock never
//! blocks a later run; the holder writes its process id into the file so a
//! refused writer can say who holds it. std's lock is used instead of a
//! crate (fs2, fs4): it is the same system call with no dependency.

use crate::RunError;
use std::io::Write;
use std::path::{Path, PathBuf};

/// The lock file's name inside a locked directory.
pub const LOCK_FILE: &str = ".lock";

/// A held lock; released on drop (or by the kernel if the process dies).
#[derive(Debug)]
pub struct DirLock {
    _file: std::fs::File,
    path: PathBuf,
}

impl DirLock {
    /// Takes the lock of `dir` (which must exist) without waiting. A second
    /// writer gets [`RunError::Locked`] naming the holder's process id.
    pub fn acquire(dir: &Path) -> Result<Self, RunError> {
        let path = dir.join(LOCK_FILE);
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .open(&path)
            .map_err(|e| RunError::io(&path, e))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                let pid = std::fs::read_to_string(&path)
                    .ok()
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty())
                    .unwrap_or_else(|| "?".into());
                return Err(RunError::Locked {
                    dir: dir.to_path_buf(),
                    lock: path,
                    pid,
                });
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(RunError::io(&path, e)),
        }
        file.set_len(0)
            .and_then(|_| writeln!(file, "{}", std::process::id()))
            .and_then(|_| file.flush())
            .map_err(|e| RunError::io(&path, e))?;
        Ok(Self { _file: file, path })
    }

    /// The lock file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// Removes everything in `dir` but its lock file (what `--force` does to a
/// directory it has locked: deleting the lock file too would let a second
/// writer lock a fresh one while this one still writes).
pub fn clear_except_lock(dir: &Path) -> Result<(), RunError> {
    for entry in std::fs::read_dir(dir).map_err(|e| RunError::io(dir, e))? {
        let entry = entry.map_err(|e| RunError::io(dir, e))?;
        if entry.file_name() == LOCK_FILE {
            continue;
        }
        let path = entry.path();
        let is_dir = entry
            .file_type()
            .map_err(|e| RunError::io(&path, e))?
            .is_dir();
        if is_dir {
            std::fs::remove_dir_all(&path)
        } else {
            std::fs::remove_file(&path)
        }
        .map_err(|e| RunError::io(&path, e))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_writer_is_refused_with_the_holders_pid() {
        let d = std::env::temp_dir().join(format!("esai-lock-{}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        let held = DirLock::acquire(&d).unwrap();
        let err = DirLock::acquire(&d).unwrap_err();
        match &err {
            RunError::Locked { pid, .. } => assert_eq!(pid, &std::process::id().to_string()),
            other => panic!("expected Locked, got {other}"),
        }
        drop(held);
        DirLock::acquire(&d).expect("released on drop");
        let _ = std::fs::remove_dir_all(&d);
    }
}
