//! End-to-end tests of `esai sweep` and `esai report`: a small sweep
//! (2 λ × 2 seeds of ESAI + PPO × 2 seeds, short runs), resumability, and
//! shard + merge giving the same report as an unsharded run.

mod common;
use common::*;

use std::path::Path;

/// Writes the report of `dir` and returns report.json.
fn report(dir: &Path) -> serde_json::Value {
    esai_code(0, &["report", s(dir), "--force"]);
    serde_json::from_str(&std::fs::read_to_string(dir.join("report/report.json")).unwrap()).unwrap()
}

#[test]
fn small_sweep_reports_and_shards_merge_to_the_same_report() {
    let sweep = root().join("tests/sweeps/small.toml");
    let whole = tmp("sweep-whole");
    let out = esai_code(
        0,
        &[
            "sweep",
            s(&sweep),
            "--out",
            s(&whole),
            "--jobs",
            "2",
            "--json",
        ],
    );
    let status: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(status["counts"]["done"], 6, "{status}");
    for id in ["lambda-0_method-esai_seed-0", "method-ppo_seed-1"] {
        let run = whole.join("runs").join(id);
        assert!(run.join("evaluation.json").exists() && run.join("summary.json").exists());
        assert!(whole.join("specs").join(format!("{id}.toml")).exists());
    }
    // Resumable: a second invocation trains nothing.
    let again = esai_code(0, &["sweep", s(&sweep), "--out", s(&whole), "--json"]);
    let again: serde_json::Value = serde_json::from_slice(&again.stdout).unwrap();
    assert_eq!(again["counts"]["done"], 6);
    let r = report(&whole);
    assert_eq!(r["schema"], "esai.report/v1");
    let points = r["points"].as_array().unwrap();
    assert_eq!(points.len(), 3, "esai λ=0, esai λ=10, ppo");
    for p in points {
        assert_eq!(p["seeds_done"], 2);
        let pr = &p["metrics"]["prosocial_rate"];
        assert!(pr["lo"].as_f64().unwrap() <= pr["mean"].as_f64().unwrap());
        assert!(pr["mean"].as_f64().unwrap() <= pr["hi"].as_f64().unwrap());
    }
    assert_eq!(r["transitions"].as_array().unwrap().len(), 1);
    for f in [
        "report.md",
        "report.csv",
        "figures/pr_vs_lambda.svg",
        "figures/pareto.svg",
        "figures/curves.svg",
        "figures/ablations.svg",
    ] {
        let text = std::fs::read_to_string(whole.join("report").join(f)).unwrap();
        assert!(text.len() > 200, "{f} is empty");
    }
    let svg = std::fs::read_to_string(whole.join("report/figures/pr_vs_lambda.svg")).unwrap();
    assert!(svg.starts_with("<svg") && (svg.contains("<polyline") || svg.contains("<path")));
    // Not over an existing report without --force.
    esai_code(2, &["report", s(&whole)]);

    // Two shards, merged: the same report.
    let (a, b, merged) = (
        tmp("sweep-shard-a"),
        tmp("sweep-shard-b"),
        tmp("sweep-merged"),
    );
    esai_code(0, &["sweep", s(&sweep), "--out", s(&a), "--shard", "0/2"]);
    esai_code(0, &["sweep", s(&sweep), "--out", s(&b), "--shard", "1/2"]);
    let na = std::fs::read_dir(a.join("runs")).unwrap().count();
    let nb = std::fs::read_dir(b.join("runs")).unwrap().count();
    assert_eq!((na, nb), (3, 3));
    esai_code(0, &["sweep", "--merge", s(&a), s(&b), "--out", s(&merged)]);
    assert_eq!(report(&merged)["points"], r["points"]);
    assert_eq!(report(&merged)["transitions"], r["transitions"]);
    for d in [whole, a, b, merged] {
        std::fs::remove_dir_all(d).unwrap();
    }
}

#[test]
fn invalid_sweeps_are_refused_with_the_field_named() {
    let dir = tmp("sweep-invalid");
    std::fs::create_dir_all(&dir).unwrap();
    let bad = dir.join("bad.toml");
    std::fs::write(
        &bad,
        "[sweep]\nspec = \"../nope.toml\"\n[[grid]]\n\"lambda\" = [1.0]\n",
    )
    .unwrap();
    let out = esai_code(2, &["sweep", s(&bad)]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("grid[0].\"lambda\""));
    let spec = root().join("tests/monitor/fast.toml");
    std::fs::write(
        &bad,
        format!(
            "[sweep]\nspec = {:?}\n[[grid]]\n\"esai.k\" = [0, 8]\n",
            spec.to_str().unwrap()
        ),
    )
    .unwrap();
    let out = esai_code(2, &["sweep", s(&bad), "--out", s(&dir.join("o"))]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("k-0") && err.contains("esai.k"), "{err}");
    let out = esai_code(2, &["sweep", s(&bad), "--shard", "2/2"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("0 ≤ I < N"));
    std::fs::remove_dir_all(&dir).unwrap();
}
