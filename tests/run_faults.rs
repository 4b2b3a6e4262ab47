//! Fault injection on run directories: `kill -9` at chosen and random
//! moments (during checkpoint writes and the final write included), SIGINT
//! and SIGTERM once and twice, on Moral Temptation and the graph dilemma
//! (ESAI with similarity on and off, PPO). After each fault the run is
//! resumed until it finishes; its `metrics.jsonl` and `summary.json` must
//! equal the uninterrupted run's except wall-clock fields.
//!
//! The default test runs a fixed, deterministic set of moments per case.
//! The long version, ≥ 20 random trials per case:
//! `cargo test --release --test run_faults -- --ignored`.

mod common;
use common::*;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The cases: a spec (written into `dir`) and extra `esai train` arguments.
fn cases(dir: &Path) -> Vec<(&'static str, PathBuf, Vec<&'static str>)> {
    std::fs::create_dir_all(dir).unwrap();
    let fast = root().join("tests/monitor/fast.toml");
    let small_dilemma = |name: &str, file: &str| {
        let text = std::fs::read_to_string(root().join("specs").join(file)).unwrap();
        let text = text
            .replace("copies = 4 ", "copies = 2 ")
            .replace("rollout_steps = 64", "rollout_steps = 16")
            .replace("minibatch = 128", "minibatch = 64")
            .replace("epochs = 10", "epochs = 2")
            .replace("hidden = 64", "hidden = 16")
            .replace("k = 16", "k = 8")
            .replace("steps = 200000", "steps = 1536\ncheckpoint_every = 2")
            .replace("steps = 81920", "steps = 1536\ncheckpoint_every = 2");
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path
    };
    vec![
        ("mt-esai", fast.clone(), vec![]),
        ("mt-ppo", fast, vec!["--method", "ppo"]),
        (
            "gd-esai",
            small_dilemma("gd.toml", "graph-dilemma.toml"),
            vec![],
        ),
        (
            "gd-esai-similarity",
            small_dilemma("gd-sim.toml", "graph-dilemma-similarity.toml"),
            vec![],
        ),
    ]
}

/// How a run is interrupted.
#[derive(Debug, Clone, Copy)]
enum Fault {
    /// SIGKILL once the path below `checkpoints/` named by the pattern
    /// appears (e.g. `.tmp`: during a checkpoint write; `final.tmp`: during
    /// the final write), or after the delay if it never does.
    KillAt(&'static str, Duration),
    /// SIGKILL after a delay.
    KillAfter(Duration),
    /// A signal (`INT` or `TERM`) after a delay, sent `times` times.
    Signal(&'static str, Duration, usize),
}

fn start(spec: &Path, run: &Path, extra: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_esai"))
        .arg("train")
        .arg(spec)
        .arg("--out")
        .arg(run)
        .args(extra)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start esai train")
}

fn signal(child: &Child, sig: &str) {
    let _ = Command::new("kill")
        .arg(format!("-{sig}"))
        .arg(child.id().to_string())
        .status();
}

/// Whether a checkpoint entry whose name contains `pattern` exists.
fn checkpoint_entry(run: &Path, pattern: &str) -> bool {
    std::fs::read_dir(run.join("checkpoints"))
        .map(|d| {
            d.filter_map(|e| e.ok())
                .any(|e| e.file_name().to_string_lossy().contains(pattern))
        })
        .unwrap_or(false)
}

/// Applies `fault` to a fresh run; returns how the process ended.
fn interrupt(spec: &Path, run: &Path, extra: &[&str], fault: Fault) -> Option<i32> {
    let mut child = start(spec, run, extra);
    let t0 = Instant::now();
    match fault {
        Fault::KillAt(pattern, limit) => {
            while t0.elapsed() < limit && child.try_wait().unwrap().is_none() {
                if checkpoint_entry(run, pattern) {
                    break;
                }
                std::hint::spin_loop();
            }
            let _ = child.kill();
        }
        Fault::KillAfter(d) => {
            std::thread::sleep(d);
            let _ = child.kill();
        }
        Fault::Signal(sig, d, times) => {
            std::thread::sleep(d);
            for _ in 0..times {
                signal(&child, sig);
            }
        }
    }
    child.wait().unwrap().code()
}

/// Resumes `run` to the end (one resume must do: no fault is armed).
fn resume_to_end(run: &Path) {
    let out = esai(&["train", "--resume", s(run)]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() || err.contains("finished run"),
        "resume of {} exited {:?}: {err}",
        run.display(),
        out.status.code()
    );
}

/// One trial: the faulted run, resumed, equals the reference.
fn trial(
    case: &str,
    spec: &Path,
    extra: &[&str],
    fault: Fault,
    reference: &Path,
    dir: &Path,
    i: usize,
) -> Option<i32> {
    let run = dir.join(format!("{case}-{i}"));
    let code = interrupt(spec, &run, extra, fault);
    if !run.join("run.json").exists() {
        // Killed while the directory was being created: a fresh start must
        // be possible (only with --force: the directory is not empty).
        esai_ok(&[&["train", s(spec), "--out", s(&run), "--force"][..], extra].concat());
    } else {
        resume_to_end(&run);
    }
    let (want_rows, want_summary) = run_record(reference);
    let (rows, summary) = run_record(&run);
    assert_eq!(
        rows.len(),
        want_rows.len(),
        "{case} {fault:?} (exit {code:?}): row count"
    );
    for (k, (a, b)) in rows.iter().zip(&want_rows).enumerate() {
        assert_eq!(a, b, "{case} {fault:?} (exit {code:?}): row {}", k + 1);
    }
    assert_eq!(
        summary, want_summary,
        "{case} {fault:?} (exit {code:?}): summary"
    );
    std::fs::remove_dir_all(&run).unwrap();
    code
}

fn reference(case: &str, spec: &Path, extra: &[&str], dir: &Path) -> (PathBuf, Duration) {
    let run = dir.join(format!("{case}-reference"));
    let t0 = Instant::now();
    esai_ok(&[&["train", s(spec), "--out", s(&run)][..], extra].concat());
    (run, t0.elapsed())
}

fn suite(faults: impl Fn(Duration, usize) -> Vec<Fault>, tag: &str) {
    let dir = tmp(tag);
    for (case, spec, extra) in cases(&dir) {
        let (reference, wall) = reference(case, &spec, &extra, &dir);
        let mut ends = std::collections::BTreeMap::new();
        for (i, fault) in faults(wall, case.len()).into_iter().enumerate() {
            let code = trial(case, &spec, &extra, fault, &reference, &dir, i);
            *ends.entry(format!("{code:?}")).or_insert(0) += 1;
        }
        // How the faulted processes ended (None: killed), for the record.
        eprintln!("{case}: {ends:?}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn killed_and_signalled_runs_resume_to_the_uninterrupted_result() {
    suite(
        |wall, _| {
            let at = |f: f64| wall.mul_f64(f);
            vec![
                Fault::KillAt("update-000000.tmp", at(1.0)),
                Fault::KillAt(".tmp", at(1.0)),
                Fault::KillAt("final.tmp", at(2.0)),
                Fault::KillAfter(at(0.5)),
                Fault::Signal("TERM", at(0.4), 1),
                Fault::Signal("INT", at(0.6), 2),
            ]
        },
        "faults",
    );
}

/// ≥ 20 random trials per case: `cargo test --release --test run_faults -- --ignored`.
#[test]
#[ignore]
fn random_faults_twenty_trials_per_case() {
    suite(
        |wall, salt| {
            let mut x = 0x9E37_79B9_7F4A_7C15u64 ^ salt as u64;
            let mut next = || {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                (x % 1000) as f64 / 1000.0
            };
            (0..24)
                .map(|i| {
                    let d = wall.mul_f64(1.2 * next());
                    match i % 6 {
                        0 => Fault::KillAt(".tmp", wall.mul_f64(1.5)),
                        1 => Fault::KillAt("final.tmp", wall.mul_f64(2.0)),
                        2 => Fault::Signal("TERM", d, 1),
                        3 => Fault::Signal("INT", d, 2),
                        _ => Fault::KillAfter(d),
                    }
                })
                .collect()
        },
        "faults-random",
    );
}
