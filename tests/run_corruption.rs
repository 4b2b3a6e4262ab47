//! The corruption matrix: every file of a run directory truncated, zeroed,
//! deleted or swapped for another run's, then every reader run on it
//! (`esai train --resume`, `esai evaluate`, `esai monitor`). Each reader
//! must either refuse with exit 2 (or 5) and an error naming the file, or
//! behave exactly as on the intact directory (a resume must then reach the
//! uninterrupted result). Never a panic, never a silently different result.

mod common;
use common::*;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Copy)]
enum Damage {
    Truncate,
    Zero,
    Delete,
    Swap,
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let (src, dst) = (e.path(), to.join(e.file_name()));
        if src.is_dir() {
            copy_dir(&src, &dst);
        } else if e.file_name() != ".lock" {
            std::fs::copy(&src, &dst).unwrap();
        }
    }
}

fn damage(dir: &Path, rel: &Path, how: Damage, other: &Path) {
    let path = dir.join(rel);
    let bytes = std::fs::read(&path).unwrap();
    match how {
        Damage::Truncate => std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap(),
        Damage::Zero => std::fs::write(&path, vec![0u8; bytes.len()]).unwrap(),
        Damage::Delete => std::fs::remove_file(&path).unwrap(),
        Damage::Swap => {
            std::fs::copy(other.join(rel), &path).unwrap();
        }
    }
}

/// Files of `dir` to damage: the run-level ones and those of the named checkpoints.
fn targets(dir: &Path, checkpoints: &[&str]) -> Vec<PathBuf> {
    let mut all = Vec::new();
    let list = |sub: &Path, all: &mut Vec<PathBuf>| {
        let mut names: Vec<PathBuf> = std::fs::read_dir(dir.join(sub))
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.path().is_file() && e.file_name() != ".lock")
            .map(|e| sub.join(e.file_name()))
            .collect();
        names.sort();
        all.extend(names);
    };
    list(Path::new(""), &mut all);
    for c in checkpoints {
        list(&Path::new("checkpoints").join(c), &mut all);
    }
    all
}

/// A reader's outcome with the directory's path replaced, for comparison.
fn outcome(dir: &Path, args: &[&str]) -> (Option<i32>, String, String) {
    let out = esai(args);
    let norm = |b: &[u8]| String::from_utf8_lossy(b).replace(s(dir), "DIR");
    (out.status.code(), norm(&out.stdout), norm(&out.stderr))
}

/// Runs the readers on a damaged copy and checks each outcome.
fn check_readers(
    case: &str,
    dir: &Path,
    readers: &[&[&str]],
    intact: &[(Option<i32>, String, String)],
    reference: &Path,
) {
    for (reader, want) in readers.iter().zip(intact) {
        let args: Vec<&str> = reader
            .iter()
            .map(|a| if *a == "DIR" { s(dir) } else { a })
            .collect();
        let got = outcome(dir, &args);
        assert!(
            !got.2.contains("panicked") && got.0 != Some(101),
            "{case} {reader:?}: panic\n{}",
            got.2
        );
        let file = case.split(' ').next().unwrap();
        let name = Path::new(file)
            .file_name()
            .unwrap()
            .to_string_lossy()
            .to_string();
        let refused = matches!(got.0, Some(2) | Some(5)) && got.2.contains(&name);
        let same = got == *want;
        let recovered = reader[1] == "--resume" && got.0 == Some(0) && {
            let (rows, summary) = run_record(dir);
            (rows, summary) == run_record(reference)
        };
        assert!(
            refused || same || recovered,
            "{case} {reader:?}: neither refused naming {name} nor as on the intact run\n got {got:?}\nwant {want:?}"
        );
    }
}

fn matrix(
    base: &Path,
    other: &Path,
    checkpoints: &[&str],
    readers: &[&[&str]],
    reference: &Path,
    work: &Path,
) {
    let probe = work.join("intact");
    copy_dir(base, &probe);
    let intact: Vec<_> = readers
        .iter()
        .map(|r| {
            let args: Vec<&str> = r
                .iter()
                .map(|a| if *a == "DIR" { s(&probe) } else { a })
                .collect();
            let o = outcome(&probe, &args);
            std::fs::remove_dir_all(&probe).unwrap();
            copy_dir(base, &probe);
            o
        })
        .collect();
    std::fs::remove_dir_all(&probe).unwrap();
    for rel in targets(base, checkpoints) {
        for how in [Damage::Truncate, Damage::Zero, Damage::Delete, Damage::Swap] {
            if matches!(how, Damage::Swap) && !other.join(&rel).exists() {
                continue;
            }
            let case = format!("{} {how:?}", rel.display());
            for (i, reader) in readers.iter().enumerate() {
                let dir = work.join(format!("case-{i}"));
                copy_dir(base, &dir);
                damage(&dir, &rel, how, other);
                check_readers(&case, &dir, &[reader], &intact[i..=i], reference);
                std::fs::remove_dir_all(&dir).unwrap();
            }
        }
    }
}

#[test]
fn every_damaged_file_is_refused_by_name_or_recovered_exactly() {
    let work = tmp("corruption");
    let spec = root().join("tests/monitor/fast.toml");
    let finished = work.join("finished");
    let other = work.join("other");
    let paused = work.join("paused");
    esai_ok(&["train", s(&spec), "--out", s(&finished)]);
    esai_ok(&["train", s(&spec), "--out", s(&other), "--seed", "9"]);
    esai_ok(&["train", s(&spec), "--out", s(&paused), "--pause-after", "3"]);
    // A finished run: evaluation and the offline audit read it.
    let finished_readers: &[&[&str]] = &[
        &["evaluate", "DIR", "--episodes", "1", "--force", "--json"],
        &["monitor", "DIR", "--json"],
    ];
    matrix(
        &finished,
        &other,
        &["final", "update-000006"],
        finished_readers,
        &finished,
        &work,
    );
    // A paused run: resume reads it (and must reach the uninterrupted result).
    let paused_readers: &[&[&str]] =
        &[&["train", "--resume", "DIR"], &["monitor", "DIR", "--json"]];
    matrix(
        &paused,
        &other,
        &["update-000003"],
        paused_readers,
        &finished,
        &work,
    );
    std::fs::remove_dir_all(&work).unwrap();
}
