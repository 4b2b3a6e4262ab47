//! End-to-end tests of `esai audit`: a PPO policy trained on the graph
//! dilemma (where favouritism pays, by design) shows an in-group gap whose
//! interval excludes 0, the identity probe attributes it to identities, all
//! three formats are written, and broken run directories are refused.

mod common;
use common::*;

#[test]
fn audit_detects_favouritism_in_every_format_and_refuses_bad_runs() {
    let dir = tmp("audit");
    let run = dir.join("run");
    let spec = root().join("specs/graph-dilemma.toml");
    esai_ok(&[
        "train",
        s(&spec),
        "--method",
        "ppo",
        "--steps",
        "40960",
        "--out",
        s(&run),
    ]);
    let out = esai_ok(&[
        "audit",
        s(&run),
        "--format",
        "json",
        "--json",
        "--resamples",
        "500",
    ]);
    let a: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(a["schema"], "esai.audit/v1");
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("docs/schemas/audit.schema.json")).unwrap(),
    )
    .unwrap();
    validate(&schema, &a).expect("the report follows docs/schemas/audit.schema.json");
    let mut broken = a.clone();
    broken["observed"]["help_gap"]["lo"] = serde_json::json!("low");
    assert!(
        validate(&schema, &broken).is_err(),
        "the validator can fail"
    );
    let gap = &a["observed"]["help_gap"];
    assert!(
        gap["lo"].as_f64().unwrap() > 0.0,
        "in-group HELP gap excludes 0: {gap}"
    );
    assert!(
        a["observed"]["steal_gap"]["lo"].as_f64().unwrap() > 0.0,
        "theft aimed outward"
    );
    let effect = &a["identity_effect_on_help_gap"];
    assert!(
        effect["hi"].as_f64().unwrap() < 0.0,
        "swapping identities shrinks the gap: {effect}"
    );
    assert_eq!(a["pass"], false);
    assert_eq!(a["observed"]["pairs"].as_array().unwrap().len(), 4);
    assert!(run.join("audit.json").exists());
    // Markdown with figures beside it; self-contained HTML.
    esai_ok(&["audit", s(&run), "--resamples", "200"]);
    let md = std::fs::read_to_string(run.join("audit.md")).unwrap();
    assert!(
        md.contains("Counterfactual identity probe") && md.contains("audit-figures/heatmap.svg")
    );
    for f in [
        "heatmap.svg",
        "similarity.svg",
        "rates.svg",
        "heatmap_swapped.svg",
    ] {
        let svg = std::fs::read_to_string(run.join("audit-figures").join(f)).unwrap();
        assert!(svg.starts_with("<svg"), "{f}");
    }
    let html_path = dir.join("report.html");
    esai_ok(&[
        "audit",
        s(&run),
        "--format",
        "html",
        "--out",
        s(&html_path),
        "--resamples",
        "200",
    ]);
    let html = std::fs::read_to_string(&html_path).unwrap();
    assert!(
        html.starts_with("<!DOCTYPE html>") && html.contains("<svg") && html.contains("<table>")
    );
    // Not over an existing report without --force.
    let again = esai(&["audit", s(&run), "--format", "html", "--out", s(&html_path)]);
    assert_eq!(again.status.code(), Some(2));
    // Broken run directories: clear errors, exit 2.
    std::fs::rename(run.join("checkpoints/final"), run.join("final-moved")).unwrap();
    let err = esai(&["audit", s(&run), "--force"]);
    assert_eq!(err.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&err.stderr).contains("checkpoints/final"));
    std::fs::rename(run.join("final-moved"), run.join("checkpoints/final")).unwrap();
    std::fs::write(run.join("config.toml"), "not toml [").unwrap();
    let err = esai(&["audit", s(&run), "--force"]);
    assert_eq!(err.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&err.stderr).contains("config.toml"));
    let err = esai(&["audit", s(&dir.join("nope"))]);
    assert_eq!(err.status.code(), Some(2));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn audit_refuses_a_single_agent_run() {
    let run = tmp("audit-mt");
    esai_ok(&[
        "train",
        s(&root().join("tests/monitor/fast.toml")),
        "--out",
        s(&run),
    ]);
    let err = esai(&["audit", s(&run)]);
    assert_eq!(err.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&err.stderr).contains("graph-dilemma"));
    std::fs::remove_dir_all(&run).unwrap();
}
