//! One writer per run directory and per sweep directory: a second writer is
//! refused with exit 6 naming the holder's PID; the lock dies with its
//! holder (`kill -9` included); a killed sweep's children stop too.

mod common;
use common::*;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn spawn(args: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_esai"))
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start esai")
}

/// Waits until `path` exists (panics after a minute).
fn wait_for(path: &Path) {
    let t0 = Instant::now();
    while !path.exists() {
        assert!(
            t0.elapsed() < Duration::from_secs(60),
            "{} never appeared",
            path.display()
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// A longer run of the fast spec (so that it is still training when the
/// second writer arrives).
fn long_spec(dir: &Path) -> std::path::PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    let text = std::fs::read_to_string(root().join("tests/monitor/fast.toml")).unwrap();
    let path = dir.join("long.toml");
    std::fs::write(&path, text.replace("steps = 1536", "steps = 1000000")).unwrap();
    path
}

/// Regression: two `--resume` on one directory both trained (metrics
/// updates [1,2,2,3,4]); `--force` while another run trained there replaced
/// it under the running process; evaluate wrote into a run being trained.
#[test]
fn second_writer_of_a_run_is_refused_with_the_holders_pid() {
    let dir = tmp("lock-run");
    let spec = long_spec(&dir);
    let run = dir.join("run");
    let mut first = spawn(&["train", s(&spec), "--out", s(&run)]);
    wait_for(&run.join("checkpoints/update-000001"));
    let pid = first.id().to_string();
    for args in [
        vec!["train", s(&spec), "--out", s(&run), "--force"],
        vec!["train", "--resume", s(&run)],
        vec!["evaluate", s(&run), "--force"],
    ] {
        let out = esai_code(6, &args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains(&pid) && err.contains("in use"),
            "{args:?}: {err}"
        );
    }
    // The lock dies with its holder, even under kill -9.
    first.kill().unwrap();
    first.wait().unwrap();
    let resumed = esai(&["train", "--resume", s(&run), "--pause-after", "1"]);
    assert_eq!(
        resumed.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&resumed.stderr)
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Regression: two sweeps on one --out trained a point twice; `kill -9` of
/// a sweep left its child training beside a rerun.
#[test]
fn one_sweep_per_directory_and_children_die_with_their_sweep() {
    let dir = tmp("lock-sweep");
    std::fs::create_dir_all(&dir).unwrap();
    let base = long_spec(&dir);
    let sweep = dir.join("sweep.toml");
    std::fs::write(
        &sweep,
        format!(
            "[sweep]\nspec = {:?}\nevaluate_episodes = 1\n\n[[grid]]\n\"esai.method\" = [\"ppo\"]\n\"train.seed\" = [0]\n",
            base.display().to_string()
        ),
    )
    .unwrap();
    let out = dir.join("out");
    let mut first = spawn(&["sweep", s(&sweep), "--out", s(&out), "--jobs", "1"]);
    let point = out.join("runs");
    wait_for(&point);
    let run = std::fs::read_dir(&point)
        .unwrap()
        .next()
        .map(|e| e.unwrap().path());
    let second = esai_code(6, &["sweep", s(&sweep), "--out", s(&out)]);
    assert!(String::from_utf8_lossy(&second.stderr).contains(&first.id().to_string()));
    let run = run.unwrap_or_else(|| {
        let t0 = Instant::now();
        loop {
            if let Some(e) = std::fs::read_dir(&point).unwrap().next() {
                break e.unwrap().path();
            }
            assert!(t0.elapsed() < Duration::from_secs(60));
            std::thread::sleep(Duration::from_millis(10));
        }
    });
    wait_for(&run.join("checkpoints/update-000001"));
    first.kill().unwrap();
    first.wait().unwrap();
    // The orphaned child notices within a second or so and stops cleanly,
    // releasing the run directory's lock.
    let t0 = Instant::now();
    loop {
        let out = esai(&["train", "--resume", s(&run), "--pause-after", "1"]);
        if out.status.code() != Some(6) {
            assert_eq!(
                out.status.code(),
                Some(0),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            break;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(30),
            "the sweep's child kept training after the sweep died"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
