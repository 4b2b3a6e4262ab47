//! Regression tests for run-directory defects, each named after what it
//! pins (the fault suite, corruption matrix and lock tests are in
//! run_faults.rs, run_corruption.rs and run_locks.rs).

mod common;
use common::*;
use std::path::{Path, PathBuf};

fn fast() -> PathBuf {
    root().join("tests/monitor/fast.toml")
}

fn copy_of_fast(dir: &Path) -> PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    let p = dir.join("spec.toml");
    std::fs::copy(fast(), &p).unwrap();
    p
}

/// Item 5: `--resume` with another spec trained on with that spec's dynamics.
#[test]
fn resume_with_another_spec_is_refused() {
    let dir = tmp("rd-other-spec");
    let run = dir.join("run");
    esai_ok(&["train", s(&fast()), "--out", s(&run), "--pause-after", "1"]);
    let other = root().join("specs/esai-helps.toml");
    let out = esai_code(2, &["train", s(&other), "--resume", s(&run)]);
    assert!(String::from_utf8_lossy(&out.stderr)
        .contains("differs from the spec this run was created from"));
    // The same spec (even from another path) is accepted.
    let same = copy_of_fast(&dir);
    esai_ok(&["train", s(&same), "--resume", s(&run), "--pause-after", "1"]);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Item 5: an edited config.toml (seed 5 → 7) was accepted and reported as
/// the run's seed; now refused until accepted explicitly, and recorded.
#[test]
fn edited_config_is_refused_and_an_accepted_change_is_recorded() {
    let run = tmp("rd-edited");
    esai_ok(&["train", s(&fast()), "--out", s(&run), "--pause-after", "1"]);
    let cfg = run.join("config.toml");
    let text = std::fs::read_to_string(&cfg).unwrap();
    assert!(text.contains("seed = 5"));
    std::fs::write(&cfg, text.replace("seed = 5", "seed = 7")).unwrap();
    let out = esai_code(2, &["train", "--resume", s(&run)]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("config.toml") && err.contains("--accept-config-change"),
        "{err}"
    );
    esai_ok(&[
        "train",
        "--resume",
        s(&run),
        "--accept-config-change",
        "--pause-after",
        "1",
    ]);
    let record: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("run.json")).unwrap()).unwrap();
    let changes = record["accepted_config_changes"].as_array().unwrap();
    assert_eq!(changes.len(), 1);
    assert_eq!(changes[0]["files"][0], "config.toml");
    std::fs::remove_dir_all(&run).unwrap();
}

/// Item 5: evaluate re-read the spec from its original path: editing that
/// file changed evaluation.json and deleting it broke evaluate.
#[test]
fn evaluate_reads_only_the_runs_own_files() {
    let dir = tmp("rd-own-files");
    let spec = copy_of_fast(&dir);
    let run = dir.join("run");
    esai_ok(&["train", s(&spec), "--out", s(&run)]);
    let args = ["evaluate", s(&run), "--episodes", "1", "--force", "--json"];
    let before = esai_ok(&args).stdout;
    std::fs::write(&spec, "this is not a spec").unwrap();
    assert_eq!(
        esai_ok(&args).stdout,
        before,
        "an edited original changes nothing"
    );
    std::fs::remove_file(&spec).unwrap();
    assert_eq!(
        esai_ok(&args).stdout,
        before,
        "a deleted original changes nothing"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Item 7: `esai monitor` passed (exit 0) on duplicated or missing rows.
#[test]
fn monitor_flags_duplicated_and_missing_rows() {
    let run = tmp("rd-rows");
    esai_ok(&["train", s(&fast()), "--out", s(&run)]);
    let metrics = run.join("metrics.jsonl");
    let text = std::fs::read_to_string(&metrics).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let dup = format!("{}\n{}\n{}\n", lines[0], lines[0], lines[1..].join("\n"));
    std::fs::write(&metrics, dup).unwrap();
    let out = esai_code(2, &["monitor", s(&run)]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("duplicated"));
    let missing = format!("{}\n{}\n", lines[0], lines[2..].join("\n"));
    std::fs::write(&metrics, missing).unwrap();
    esai_code(2, &["monitor", s(&run)]);
    std::fs::write(&metrics, "").unwrap();
    let out = esai_code(2, &["monitor", s(&run)]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("metrics.jsonl"));
    std::fs::remove_dir_all(&run).unwrap();
}

/// Item 7: a resume after metrics.jsonl was deleted wrote only the rows
/// after the checkpoint; now they come back from the checkpoint.
#[test]
fn resume_restores_deleted_metrics_rows_from_the_checkpoint() {
    let dir = tmp("rd-metrics");
    let (whole, part) = (dir.join("whole"), dir.join("part"));
    esai_ok(&["train", s(&fast()), "--out", s(&whole)]);
    esai_ok(&["train", s(&fast()), "--out", s(&part), "--pause-after", "3"]);
    std::fs::remove_file(part.join("metrics.jsonl")).unwrap();
    esai_ok(&["train", "--resume", s(&part)]);
    assert_eq!(run_record(&part), run_record(&whole));
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Item 11: fire drills that could never fire were accepted.
#[test]
fn fire_drills_that_cannot_fire_are_refused() {
    let run = tmp("rd-drills");
    let spec = fast();
    for (fault, extra, says) in [
        ("nan-loss@999", "", "never runs"),
        ("nan-iae@2:999999", "", "never happens"),
        ("nan-iae@2:0", "ppo", "needs an ESAI method"),
    ] {
        let mut args = vec![
            "train",
            s(&spec),
            "--out",
            s(&run),
            "--force",
            "--inject-fault",
            fault,
        ];
        if !extra.is_empty() {
            args.extend(["--method", extra]);
        }
        let out = esai_code(2, &args);
        assert!(
            String::from_utf8_lossy(&out.stderr).contains(says),
            "{fault}"
        );
    }
    let _ = std::fs::remove_dir_all(&run);
}

/// Item 3: `--out` on a directory killed during its final write pointed
/// nowhere; the error now says to resume.
#[test]
fn out_on_an_existing_run_says_how_to_continue() {
    let run = tmp("rd-out");
    esai_ok(&["train", s(&fast()), "--out", s(&run), "--pause-after", "1"]);
    let out = esai_code(2, &["train", s(&fast()), "--out", s(&run)]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("--resume"));
    std::fs::remove_dir_all(&run).unwrap();
}
