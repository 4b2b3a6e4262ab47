//! Reading inputs and writing results: inputs only from regular files of
//! bounded size; results atomically, never over existing files without
//! `--force`, and never leaving a temporary file behind.
//!
//! A failure of the file system itself (a file that cannot be opened, read,
//! created, written or renamed: missing, permissions, disk full) is an
//! [`IoFailure`] in the error chain, which `main` turns into exit code 5;
//! every refusal of the input itself stays exit code 2.

use anyhow::{bail, Result};
use std::io::Read;
use std::path::Path;

/// Largest spec file read (32 MiB): about a million explicit edges, far
/// above every spec in `specs/` and `tests/`.
pub const MAX_SPEC_BYTES: u64 = 32 << 20;
/// Largest g_φ weights file read (64 MiB): the largest network the
/// verifier accepts (8 layers of at most 512 × 512) written as JSON.
pub const MAX_WEIGHTS_BYTES: u64 = 64 << 20;

/// The file system failed (not the input's fault): exit code 5.
#[derive(Debug)]
pub struct IoFailure {
    /// What was being done, e.g. `cannot read spec specs/x.toml`.
    what: String,
    source: std::io::Error,
}

impl IoFailure {
    /// `what` failed with `source`.
    pub fn new(what: impl Into<String>, source: std::io::Error) -> Self {
        Self {
            what: what.into(),
            source,
        }
    }
}

impl std::fmt::Display for IoFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The io::Error follows as the source in `{:#}`; not repeated here.
        f.write_str(&self.what)
    }
}

impl std::error::Error for IoFailure {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.source)
    }
}

/// Why an input file was not read.
#[derive(Debug)]
pub enum ReadError {
    /// The file system failed (missing file, permissions, read error).
    Io(IoFailure),
    /// The file is not acceptable input: not a regular file, too large or
    /// not UTF-8.
    Refused(String),
}

impl std::fmt::Display for ReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Io(e) => write!(f, "{e}: {}", e.source),
            Self::Refused(msg) => f.write_str(msg),
        }
    }
}

impl From<ReadError> for anyhow::Error {
    fn from(e: ReadError) -> Self {
        match e {
            ReadError::Io(io) => io.into(),
            ReadError::Refused(msg) => anyhow::anyhow!(msg),
        }
    }
}

/// Reads a text input of at most `cap` bytes. Only regular files are
/// opened: a FIFO would block for ever and `/dev/zero` never ends, so both
/// are refused from their metadata, before any read. `what` names the file
/// in messages (`spec`, `weights`).
pub fn read_text(path: &Path, what: &str, cap: u64) -> Result<String, ReadError> {
    let shown = path.display();
    let meta = std::fs::metadata(path)
        .map_err(|e| ReadError::Io(IoFailure::new(format!("cannot read {what} {shown}"), e)))?;
    if !meta.is_file() {
        let kind = if meta.is_dir() {
            "a directory"
        } else {
            "not a regular file (a FIFO, socket or device)"
        };
        return Err(ReadError::Refused(format!(
            "{what} {shown} is {kind}: allowed a regular file"
        )));
    }
    if meta.len() > cap {
        return Err(ReadError::Refused(format!(
            "{what} {shown} has {} bytes: allowed at most {cap} ({} MiB)",
            meta.len(),
            cap >> 20
        )));
    }
    let file = std::fs::File::open(path)
        .map_err(|e| ReadError::Io(IoFailure::new(format!("cannot read {what} {shown}"), e)))?;
    // The cap holds even if the file grows after the metadata was read.
    let mut bytes = Vec::new();
    file.take(cap + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| ReadError::Io(IoFailure::new(format!("cannot read {what} {shown}"), e)))?;
    if bytes.len() as u64 > cap {
        return Err(ReadError::Refused(format!(
            "{what} {shown} has more than {cap} bytes: allowed at most {cap} ({} MiB)",
            cap >> 20
        )));
    }
    String::from_utf8(bytes)
        .map_err(|e| ReadError::Refused(format!("{what} {shown} is not UTF-8 text ({e})")))
}

/// One error listing every problem of an input, one per line under `context`
/// (each problem already names its field, value and what is allowed).
pub fn problems_error<P: std::fmt::Display>(
    context: impl std::fmt::Display,
    problems: &[P],
) -> anyhow::Error {
    let lines: Vec<String> = problems.iter().map(|p| format!("  - {p}")).collect();
    anyhow::anyhow!("{context}\n{}", lines.join("\n"))
}

/// Checks that `write_atomic(path, _, force)` can be attempted: `path`
/// names a file (not a directory, no trailing `/`), is absent unless
/// `force`, and its directory exists. Lets a command check every
/// destination before it writes any.
pub fn check_destination(path: &Path, force: bool) -> Result<()> {
    let text = path.as_os_str().to_string_lossy();
    if text.ends_with('/') || path.is_dir() {
        bail!(
            "{} is a directory: allowed a file path (e.g. {}/certificate.json)",
            path.display(),
            text.trim_end_matches('/')
        );
    }
    if path.file_name().is_none() {
        bail!("{} is not a file path", path.display());
    }
    if path.exists() && !force {
        bail!(
            "{} already exists; pass --force to overwrite it",
            path.display()
        );
    }
    let dir = parent_dir(path);
    if !dir.is_dir() {
        return Err(IoFailure::new(
            format!("cannot write {}", path.display()),
            std::io::Error::new(
                std::io::ErrorKind::NotFound,
                format!("directory {} does not exist", dir.display()),
            ),
        )
        .into());
    }
    Ok(())
}

fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    }
}

/// Writes `bytes` to `path` via a temporary file in the same directory and a
/// rename (`esai_runs::atomic::write`, the one implementation), so a reader
/// never sees a half-written file. Refuses to replace an existing file
/// unless `force`, and a directory always. On any failure the temporary
/// file is removed and the error carries an [`IoFailure`].
pub fn write_atomic(path: &Path, bytes: &[u8], force: bool) -> Result<()> {
    check_destination(path, force)?;
    esai_runs::atomic::write(path, bytes).map_err(|e| match e {
        esai_runs::RunError::Io { path: p, source } => {
            IoFailure::new(format!("cannot write {}", p.display()), source).into()
        }
        other => anyhow::Error::from(other),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    use std::path::PathBuf;

    fn tmp_dir(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("esai-output-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    fn leftovers(dir: &Path) -> Vec<String> {
        std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".tmp"))
            .collect()
    }

    #[test]
    fn write_atomic_over_a_directory_is_refused_and_leaves_no_tmp_file() {
        let d = tmp_dir("dir");
        let target = d.join("sub");
        std::fs::create_dir(&target).unwrap();
        std::fs::write(target.join("x"), "x").unwrap();
        let err = write_atomic(&target, b"{}", true).unwrap_err();
        assert!(format!("{err:#}").contains("is a directory"), "{err:#}");
        let slash = PathBuf::from(format!("{}/newdir/", d.display()));
        assert!(write_atomic(&slash, b"{}", false).is_err());
        assert!(leftovers(&d).is_empty(), "{:?}", leftovers(&d));
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn write_atomic_failure_in_a_missing_directory_is_an_io_failure() {
        let d = tmp_dir("missing");
        let err = write_atomic(&d.join("no/such/file.json"), b"{}", false).unwrap_err();
        assert!(err.chain().any(|c| c.is::<IoFailure>()), "{err:#}");
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn read_text_refuses_devices_directories_and_large_files() {
        let err = read_text(Path::new("/dev/zero"), "spec", 1024).unwrap_err();
        assert!(matches!(err, ReadError::Refused(_)), "{err}");
        assert!(err.to_string().contains("not a regular file"), "{err}");
        let d = tmp_dir("read");
        assert!(read_text(&d, "spec", 1024)
            .unwrap_err()
            .to_string()
            .contains("a directory"));
        let big = d.join("big.toml");
        std::fs::write(&big, vec![b'#'; 2048]).unwrap();
        let err = read_text(&big, "spec", 1024).unwrap_err();
        assert!(err.to_string().contains("at most 1024"), "{err}");
        let missing = read_text(&d.join("none"), "spec", 1024).unwrap_err();
        assert!(matches!(missing, ReadError::Io(_)), "{missing}");
        std::fs::remove_dir_all(&d).unwrap();
    }
}
