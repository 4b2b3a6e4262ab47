//! Why a run directory cannot be used: each variant names the file.

use std::path::PathBuf;

/// A run directory that cannot be read or written as asked.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The file system refused (permissions, disk full, missing parent).
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// A file's content does not match what was sealed, or is missing, or
    /// cannot be parsed.
    #[error("{}: {what}", path.display())]
    Damaged {
        /// The damaged (or missing) file.
        path: PathBuf,
        /// What is wrong with it.
        what: String,
    },
    /// Another process holds the directory.
    #[error("{} is in use by process {pid} (it holds {}); wait for it to finish or stop it", dir.display(), lock.display())]
    Locked {
        /// The directory.
        dir: PathBuf,
        /// The lock file.
        lock: PathBuf,
        /// The holder's process id as it wrote it (`?` if unreadable).
        pid: String,
    },
    /// The configuration in the directory differs from the one it was sealed with.
    #[error("{}: {what}", path.display())]
    ConfigChanged {
        /// The changed file.
        path: PathBuf,
        /// What changed and how to proceed.
        what: String,
    },
}

impl RunError {
    /// An I/O error on `path`.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io {
            path: path.into(),
            source,
        }
    }

    /// A damaged file.
    pub fn damaged(path: impl Into<PathBuf>, what: impl Into<String>) -> Self {
        Self::Damaged {
            path: path.into(),
            what: what.into(),
        }
    }

    /// Whether this is a failure of the file system rather than of the content.
    pub fn is_io(&self) -> bool {
        matches!(self, Self::Io { .. })
    }
}
