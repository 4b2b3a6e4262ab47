//! Fault-injection tests of the runtime monitor through `esai train` and
//! `esai monitor`: uncertified specs, injected NaNs, a broken spectral
//! normalisation, SIGTERM and kill -9 — each must stop at the right place
//! and leave a run that resumes.

mod common;
use common::*;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

fn fast_spec() -> PathBuf {
    root().join("tests/monitor/fast.toml")
}

/// The fast spec with `edit` applied, written into `dir`.
fn variant(dir: &Path, edit: impl Fn(String) -> String) -> PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    let text = std::fs::read_to_string(fast_spec()).unwrap();
    let path = dir.join("spec.toml");
    std::fs::write(&path, edit(text)).unwrap();
    path
}

fn json(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// Metrics rows without wall-time fields and the monitor's record.
fn rows(dir: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(dir.join("metrics.jsonl"))
        .unwrap()
        .lines()
        .map(|l| {
            let mut v: serde_json::Value = serde_json::from_str(l).unwrap();
            v.as_object_mut()
                .unwrap()
                .retain(|k, _| !k.contains("seconds") && k != "monitor");
            v
        })
        .collect()
}

/// Trains `spec` into `run` with `fault` armed; requires the monitor's halt (exit 4).
fn halt_with_fault(spec: &Path, run: &Path, fault: &str) {
    esai_code(
        4,
        &["train", s(spec), "--out", s(run), "--inject-fault", fault],
    );
}

/// 6 updates of the fast spec, uninterrupted: the reference for resumes.
fn reference_rows() -> Vec<serde_json::Value> {
    let dir = tmp("monitor-reference");
    esai_code(0, &["train", s(&fast_spec()), "--out", s(&dir)]);
    let r = rows(&dir);
    assert_eq!(r.len(), 6);
    std::fs::remove_dir_all(&dir).unwrap();
    r
}

#[test]
fn uncertified_spec_is_refused_and_a_forced_run_halts_before_training() {
    let dir = tmp("monitor-uncertified");
    let spec = variant(&dir, |t| t.replace("gamma_e = 0.9", "gamma_e = 0.999"));
    let run = dir.join("run");
    let out = esai_code(2, &["train", s(&spec), "--out", s(&run)]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("--allow-uncertified"));
    esai_code(
        4,
        &["train", s(&spec), "--out", s(&run), "--allow-uncertified"],
    );
    let inc = json(&run.join("incident.json"));
    assert_eq!(inc["schema"], "esai.incident/v1");
    assert_eq!(inc["cause"]["rule"], "contraction");
    assert_eq!(inc["cause"]["update"], 0);
    assert!(inc["cause"]["value"].as_f64().unwrap() >= 1.0, "ρ ≥ 1");
    assert!(run.join("checkpoints/update-000000/agent.bin").exists());
    assert!(std::fs::read_to_string(run.join("incident.md"))
        .unwrap()
        .contains("--resume"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn forced_run_with_contraction_warned_halts_at_the_iae_threshold() {
    let dir = tmp("monitor-threshold");
    let spec = variant(&dir, |t| {
        t.replace("gamma_e = 0.9", "gamma_e = 0.999")
            .replace("lipschitz = 0.05", "lipschitz = 0.5")
            + "\n[monitor]\niae_max = 2.0\n[monitor.policy]\ncontraction = \"warn\"\nlipschitz_drift = \"warn\"\n"
    });
    let run = dir.join("run");
    esai_code(
        4,
        &["train", s(&spec), "--out", s(&run), "--allow-uncertified"],
    );
    let inc = json(&run.join("incident.json"));
    assert_eq!(inc["cause"]["rule"], "iae_threshold");
    assert!(inc["cause"]["value"].as_f64().unwrap() > 2.0);
    assert!(inc["cause"]["at"]
        .as_str()
        .unwrap()
        .starts_with("rollout step"));
    // The contraction warning before training is listed.
    assert!(inc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["rule"] == "contraction" && f["policy"] == "warn"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn injected_nan_halts_within_one_step_and_the_checkpoint_resumes_cleanly() {
    let reference = reference_rows();
    let run = tmp("monitor-nan");
    halt_with_fault(&fast_spec(), &run, "nan-iae@3:7");
    let inc = json(&run.join("incident.json"));
    assert_eq!(inc["cause"]["rule"], "nonfinite");
    assert_eq!(inc["cause"]["update"], 3);
    assert_eq!(inc["cause"]["at"], "rollout step 7", "the very step");
    assert_eq!(inc["cause"]["agent"], 0);
    assert_eq!(inc["last_good_update"], 2);
    assert_eq!(inc["exit_code"], 4);
    assert!(run.join("checkpoints/update-000002/monitor.json").exists());
    assert_eq!(
        rows(&run).len(),
        2,
        "the discarded update is not in the metrics"
    );
    // Resuming from the last good state gives exactly the uninterrupted run.
    esai_code(0, &["train", s(&fast_spec()), "--resume", s(&run)]);
    assert_eq!(rows(&run), reference);
    assert!(run.join("incident-before-update-000003.json").exists());
    std::fs::remove_dir_all(&run).unwrap();
}

#[test]
fn nan_loss_halts_at_the_first_gradient_step() {
    let run = tmp("monitor-nanloss");
    halt_with_fault(&fast_spec(), &run, "nan-loss@2");
    let inc = json(&run.join("incident.json"));
    assert_eq!(inc["cause"]["rule"], "nonfinite");
    assert_eq!(
        (inc["cause"]["update"].as_u64(), inc["cause"]["at"].as_str()),
        (Some(2), Some("gradient step 0"))
    );
    // The saved state is the good one: its g_φ is finite and certifies live.
    let g = std::fs::read_to_string(run.join("checkpoints/update-000001/g_phi.json")).unwrap();
    assert!(!g.contains("null"), "finite weights");
    std::fs::remove_dir_all(&run).unwrap();
}

#[test]
fn broken_spectral_normalisation_is_caught() {
    let dir = tmp("monitor-drift");
    let spec = variant(&dir, |t| t + "\n[monitor]\ncheck_every = 1\n");
    let run = dir.join("run");
    halt_with_fault(&spec, &run, "scale-g@2:3");
    let inc = json(&run.join("incident.json"));
    assert_eq!(inc["cause"]["rule"], "lipschitz_drift");
    assert_eq!(inc["cause"]["update"], 2);
    assert_eq!(inc["cause"]["at"], "end of update");
    let l = inc["cause"]["value"].as_f64().unwrap();
    assert!(l > 0.05 * 1.001, "sound L_g {l} above the target");
    // With the default interval the drift is still caught, later (its
    // consequences on the state bounds may halt the run even earlier).
    let run2 = dir.join("run2");
    halt_with_fault(&fast_spec(), &run2, "scale-g@2:3");
    let rule = json(&run2.join("incident.json"))["cause"]["rule"].clone();
    assert!(
        [
            "lipschitz_drift",
            "contraction",
            "iae_bound",
            "hebbian_bound"
        ]
        .contains(&rule.as_str().unwrap()),
        "{rule}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Waits until `path` exists (or panics after a minute).
fn wait_for(path: &Path) {
    let start = Instant::now();
    while !path.exists() {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "{} never appeared",
            path.display()
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// A longer fast run for the signal tests (60 updates).
fn long_spec(dir: &Path) -> PathBuf {
    variant(dir, |t| t.replace("steps = 1536", "steps = 15360"))
}

#[test]
fn kill_9_leaves_a_resumable_run_losing_at_most_one_checkpoint_interval() {
    let dir = tmp("monitor-kill9");
    let spec = long_spec(&dir);
    let run = dir.join("run");
    let mut child = Command::new(env!("CARGO_BIN_EXE_esai"))
        .args(["train", s(&spec), "--out", s(&run)])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn esai");
    wait_for(&run.join("checkpoints/update-000003"));
    child.kill().expect("SIGKILL"); // std's kill is SIGKILL on Unix
    let status = child.wait().unwrap();
    assert_eq!(status.code(), None, "killed by a signal");
    assert!(
        !run.join("checkpoints/final").exists(),
        "killed before the end"
    );
    let before = rows(&run).len();
    let out = esai_code(0, &["train", s(&spec), "--resume", s(&run)]);
    let msg = String::from_utf8_lossy(&out.stderr);
    let resumed_at: usize = msg
        .split("(update ")
        .nth(1)
        .and_then(|r| r.split(')').next())
        .and_then(|n| n.parse().ok())
        .expect("resume message names the update");
    assert!(
        before <= resumed_at + 1,
        "lost more than one checkpoint interval: {before} rows, resumed at {resumed_at}"
    );
    let all = rows(&run);
    assert_eq!(all.len(), 60);
    let updates: Vec<u64> = all.iter().map(|r| r["update"].as_u64().unwrap()).collect();
    assert_eq!(updates, (1..=60).collect::<Vec<u64>>());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn sigterm_stops_cleanly_with_an_incident_and_resumes() {
    let dir = tmp("monitor-sigterm");
    let spec = long_spec(&dir);
    let run = dir.join("run");
    let child = Command::new(env!("CARGO_BIN_EXE_esai"))
        .args(["train", s(&spec), "--out", s(&run)])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn esai");
    wait_for(&run.join("checkpoints/update-000002"));
    let kill = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(143),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let inc = json(&run.join("incident.json"));
    assert_eq!(inc["kind"], "interrupted");
    assert_eq!(inc["cause"]["rule"], "interrupted");
    let good = inc["last_good_update"].as_u64().unwrap() as usize;
    assert_eq!(rows(&run).len(), good);
    esai_code(0, &["train", s(&spec), "--resume", s(&run)]);
    assert_eq!(rows(&run).len(), 60);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn no_monitor_warns() {
    let run = tmp("monitor-nomon");
    let out = esai_code(
        0,
        &[
            "train",
            s(&fast_spec()),
            "--out",
            s(&run),
            "--no-monitor",
            "--inject-fault",
            "scale-g@2:3",
        ],
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("warning: --no-monitor"));
    // The offline audit finds what the disabled monitor let through.
    let audit = esai_code(4, &["monitor", s(&run), "--json"]);
    let a: serde_json::Value = serde_json::from_slice(&audit.stdout).unwrap();
    assert_eq!(a["would_halt"], true);
    assert!(a["audit"]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["rule"] == "lipschitz_drift"));
    std::fs::remove_dir_all(&run).unwrap();
}

#[test]
fn offline_audit_applies_new_rules_and_refuses_broken_runs() {
    let dir = tmp("monitor-audit");
    let run = dir.join("run");
    esai_code(0, &["train", s(&fast_spec()), "--out", s(&run)]);
    let clean = esai_code(0, &["monitor", s(&run), "--json"]);
    let a: serde_json::Value = serde_json::from_slice(&clean.stdout).unwrap();
    assert_eq!(a["audit"]["rows"], 6);
    assert_eq!(a["audit"]["checkpoints"], 8, "update-000000..6 and final");
    assert_eq!(a["would_halt"], false);
    // A rule added after the run: a tight IAE threshold.
    let rules = dir.join("rules.toml");
    std::fs::write(&rules, "[monitor]\niae_max = 1e-6\n").unwrap();
    let tight = esai_code(4, &["monitor", s(&run), "--rules", s(&rules)]);
    assert!(String::from_utf8_lossy(&tight.stdout).contains("iae_threshold"));
    // Bad rules name the field.
    std::fs::write(&rules, "[monitor]\niae_max = -1\n").unwrap();
    let bad = esai_code(2, &["monitor", s(&run), "--rules", s(&rules)]);
    assert!(String::from_utf8_lossy(&bad.stderr).contains("monitor.iae_max"));
    // Corrupt or missing files: a clear error, exit 2.
    let metrics = run.join("metrics.jsonl");
    let text = std::fs::read_to_string(&metrics).unwrap();
    std::fs::write(&metrics, text.replacen('{', "#", 1)).unwrap();
    let corrupt = esai_code(2, &["monitor", s(&run)]);
    assert!(String::from_utf8_lossy(&corrupt.stderr).contains("line 1"));
    std::fs::write(&metrics, &text).unwrap();
    std::fs::remove_file(run.join("monitor_basis.json")).unwrap();
    let missing = esai_code(2, &["monitor", s(&run)]);
    assert!(String::from_utf8_lossy(&missing.stderr).contains("monitor_basis.json"));
    let nodir = esai_code(2, &["monitor", s(&dir.join("nope"))]);
    assert!(String::from_utf8_lossy(&nodir.stderr).contains("not a directory"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn alpha_too_large_on_a_multi_agent_graph_is_refused_then_halted() {
    let dir = tmp("monitor-alpha");
    std::fs::create_dir_all(&dir).unwrap();
    let text = std::fs::read_to_string(root().join("specs/graph-dilemma.toml")).unwrap();
    let spec = dir.join("spec.toml");
    std::fs::write(
        &spec,
        text.replace("alpha = 0.05", "alpha = 1.5")
            .replace("rollout_steps = 64", "rollout_steps = 8")
            .replace("minibatch = 128", "minibatch = 64"),
    )
    .unwrap();
    let run = dir.join("run");
    let out = esai_code(2, &["train", s(&spec), "--out", s(&run)]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("--allow-uncertified"));
    esai_code(
        4,
        &["train", s(&spec), "--out", s(&run), "--allow-uncertified"],
    );
    let inc = json(&run.join("incident.json"));
    assert_eq!(inc["cause"]["rule"], "contraction");
    // The live certificate used the 8-agent ring: ‖γI − αL‖ > 1 for α = 1.5.
    let basis = json(&run.join("monitor_basis.json"));
    assert_eq!(basis["agents"], 8);
    assert!(basis["m2_upper"].as_f64().unwrap() > 1.0);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Regression: after `scale-g@2:10` halted, the checkpoint kept as last
/// good held the broken g_φ (L_g far above its target) and `--resume`
/// trained on from it to exit 0. A resume now re-certifies the
/// checkpoint's g_φ first.
#[test]
fn resume_recertifies_the_last_good_checkpoint() {
    let run = tmp("monitor-recertify");
    halt_with_fault(&fast_spec(), &run, "scale-g@2:10");
    let out = esai_code(4, &["train", "--resume", s(&run)]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("HALTED"), "{err}");
    let inc = json(&run.join("incident.json"));
    assert_eq!(inc["cause"]["at"], "on resume", "{inc}");
    std::fs::remove_dir_all(&run).unwrap();
}
