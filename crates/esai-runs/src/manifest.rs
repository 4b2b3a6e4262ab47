//! `MANIFEST.json`: what a checkpoint directory must hold, byte for byte.
//!
//! Written last into the temporary checkpoint directory, just before the
//! rename that publishes it, and verified by every reader before any other
//! file of the checkpoint is opened. A truncated, zeroed, deleted, added or
//! swapped-in file changes a size or a SHA-256 and is refused with the
//! file's name; a checkpoint of another configuration carries another
//! configuration hash.

use crate::{sha256_hex, RunError};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;

/// The manifest's file name inside a checkpoint directory.
pub const MANIFEST: &str = "MANIFEST.json";

/// Schema tag of [`Manifest`].
pub const MANIFEST_SCHEMA: &str = "esai.manifest/v1";

/// Largest manifest accepted (a real one is a few hundred bytes).
const MAX_MANIFEST_BYTES: u64 = 1 << 20;

/// One sealed file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// Size in bytes.
    pub bytes: u64,
    /// Lower-case hex SHA-256 of the content.
    pub sha256: String,
}

/// The content of `MANIFEST.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// Always [`MANIFEST_SCHEMA`].
    pub schema: String,
    /// Hash of the run configuration the checkpoint belongs to
    /// ([`crate::rundir::RunRecord::config_sha256`]).
    pub config_sha256: String,
    /// Every file of the directory but the manifest itself.
    pub files: BTreeMap<String, Entry>,
}

/// Size and SHA-256 of the regular file at `path`, streamed.
pub fn digest(path: &Path) -> Result<Entry, RunError> {
    let meta = std::fs::symlink_metadata(path).map_err(|e| RunError::io(path, e))?;
    if !meta.file_type().is_file() {
        return Err(RunError::damaged(path, "not a regular file"));
    }
    use sha2::{Digest, Sha256};
    let mut f = std::fs::File::open(path).map_err(|e| RunError::io(path, e))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    let mut bytes = 0u64;
    loop {
        let n = f.read(&mut buf).map_err(|e| RunError::io(path, e))?;
        if n == 0 {
            break;
        }
        bytes += n as u64;
        hasher.update(&buf[..n]);
    }
    let sha256 = hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    Ok(Entry { bytes, sha256 })
}

/// Digests of every entry of `dir` except the manifest; anything that is
/// not a regular file is an error (a checkpoint holds only files).
fn digests(dir: &Path) -> Result<BTreeMap<String, Entry>, RunError> {
    let mut files = BTreeMap::new();
    for entry in std::fs::read_dir(dir).map_err(|e| RunError::io(dir, e))? {
        let entry = entry.map_err(|e| RunError::io(dir, e))?;
        let name = entry.file_name().to_string_lossy().to_string();
        if name == MANIFEST {
            continue;
        }
        files.insert(name, digest(&entry.path())?);
    }
    Ok(files)
}

/// Writes `dir/MANIFEST.json` for the files now in `dir` (fsynced). Call it
/// after every other file is written and before publishing the directory.
pub fn seal(dir: &Path, config_sha256: &str) -> Result<Manifest, RunError> {
    let manifest = Manifest {
        schema: MANIFEST_SCHEMA.into(),
        config_sha256: config_sha256.into(),
        files: digests(dir)?,
    };
    let path = dir.join(MANIFEST);
    let json = serde_json::to_vec_pretty(&manifest).expect("plain data serialises");
    std::fs::write(&path, json)
        .and_then(|_| std::fs::File::open(&path)?.sync_all())
        .map_err(|e| RunError::io(&path, e))?;
    Ok(manifest)
}

/// Reads `dir/MANIFEST.json` without checking the files.
pub fn read(dir: &Path) -> Result<Manifest, RunError> {
    let path = dir.join(MANIFEST);
    let meta = std::fs::metadata(&path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => RunError::damaged(
            &path,
            "missing: the checkpoint was never finished or was edited",
        ),
        _ => RunError::io(&path, e),
    })?;
    if !meta.is_file() || meta.len() > MAX_MANIFEST_BYTES {
        return Err(RunError::damaged(&path, "not a manifest file"));
    }
    let text = std::fs::read(&path).map_err(|e| RunError::io(&path, e))?;
    let manifest: Manifest = serde_json::from_slice(&text)
        .map_err(|e| RunError::damaged(&path, format!("not a manifest: {e}")))?;
    if manifest.schema != MANIFEST_SCHEMA {
        return Err(RunError::damaged(
            &path,
            format!("schema {:?}, expected {MANIFEST_SCHEMA:?}", manifest.schema),
        ));
    }
    Ok(manifest)
}

/// Checks every file of `dir` against its manifest: the same names, sizes
/// and hashes, nothing missing, nothing added. Returns the manifest (the
/// caller checks its configuration hash).
pub fn verify(dir: &Path) -> Result<Manifest, RunError> {
    let manifest = read(dir)?;
    let on_disk: Vec<String> = std::fs::read_dir(dir)
        .map_err(|e| RunError::io(dir, e))?
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().to_string())
        .filter(|n| n != MANIFEST)
        .collect();
    if let Some(extra) = on_disk.iter().find(|n| !manifest.files.contains_key(*n)) {
        return Err(RunError::damaged(
            dir.join(extra),
            "not listed in the checkpoint's MANIFEST.json (added after it was written)",
        ));
    }
    for (name, want) in &manifest.files {
        let path = dir.join(name);
        if !path.exists() {
            return Err(RunError::damaged(
                &path,
                "missing (listed in MANIFEST.json)",
            ));
        }
        let got = digest(&path)?;
        if got.bytes != want.bytes {
            return Err(RunError::damaged(
                &path,
                format!("{} bytes, MANIFEST.json seals {}", got.bytes, want.bytes),
            ));
        }
        if got.sha256 != want.sha256 {
            return Err(RunError::damaged(
                &path,
                format!(
                    "content changed (sha256 {}…, MANIFEST.json seals {}…)",
                    &got.sha256[..12],
                    &want.sha256[..12.min(want.sha256.len())]
                ),
            ));
        }
    }
    Ok(manifest)
}

/// The hash of a configuration made of several byte strings (length-prefixed,
/// so no two different lists collide by concatenation).
pub fn config_hash(parts: &[&[u8]]) -> String {
    let mut all = Vec::new();
    for p in parts {
        all.extend_from_slice(&(p.len() as u64).to_le_bytes());
        all.extend_from_slice(p);
    }
    sha256_hex(&all)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir(tag: &str) -> std::path::PathBuf {
        let d = std::env::temp_dir().join(format!("esai-manifest-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(d.join("a.bin"), [1u8, 2, 3]).unwrap();
        std::fs::write(d.join("b.json"), b"{\"x\":1}").unwrap();
        seal(&d, "h").unwrap();
        d
    }

    #[test]
    fn intact_directory_verifies() {
        let d = dir("ok");
        assert_eq!(verify(&d).unwrap().files.len(), 2);
    }

    #[test]
    fn every_kind_of_damage_is_named() {
        type Damage = (&'static str, fn(&Path));
        let cases: [Damage; 5] = [
            ("truncated", |d| {
                std::fs::write(d.join("a.bin"), [1u8]).unwrap()
            }),
            ("zeroed", |d| {
                std::fs::write(d.join("a.bin"), [0u8; 3]).unwrap()
            }),
            ("deleted", |d| {
                std::fs::remove_file(d.join("b.json")).unwrap()
            }),
            ("added", |d| std::fs::write(d.join("c"), b"").unwrap()),
            ("no manifest", |d| {
                std::fs::remove_file(d.join(MANIFEST)).unwrap()
            }),
        ];
        for (tag, damage) in cases {
            let d = dir(&tag.replace(' ', "-"));
            damage(&d);
            let err = verify(&d).expect_err(tag).to_string();
            assert!(err.contains(&d.display().to_string()), "{tag}: {err}");
        }
    }

    #[test]
    fn config_hash_separates_parts() {
        assert_ne!(config_hash(&[b"ab", b"c"]), config_hash(&[b"a", b"bc"]));
    }
}
