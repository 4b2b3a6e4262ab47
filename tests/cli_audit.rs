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
    // Figures inline as markup, not escaped into text (a bug the browser
    // render below found: an SVG's lines after the first became paragraphs).
    assert_eq!(
        html.matches("<figure><svg").count(),
        4,
        "four figures inline"
    );
    assert!(!html.contains("&lt;text") && !html.contains("&lt;/svg"));
    render_in_headless_chromium(&html_path, &dir);
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

/// Screenshots the HTML report with headless Chromium when one is installed
/// (`.ci/run` installs it and sets `ESAI_REQUIRE_BROWSER=1`, so CI cannot
/// skip this): the page must render to a PNG of the window's size, far
/// larger than a blank page's.
fn render_in_headless_chromium(html: &std::path::Path, dir: &std::path::Path) {
    let browser = ["chromium", "chromium-browser", "google-chrome"]
        .into_iter()
        .find(|b| {
            std::process::Command::new(b)
                .arg("--version")
                .output()
                .is_ok_and(|o| o.status.success())
        });
    let Some(browser) = browser else {
        assert!(
            std::env::var_os("ESAI_REQUIRE_BROWSER").is_none(),
            "ESAI_REQUIRE_BROWSER is set but no chromium is installed"
        );
        eprintln!("no chromium on PATH: HTML render check skipped");
        return;
    };
    let shot = |page: &std::path::Path, png: &std::path::Path| -> Vec<u8> {
        let out = std::process::Command::new(browser)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--hide-scrollbars",
                "--window-size=1000,2600",
            ])
            .arg(format!("--screenshot={}", png.display()))
            .arg(format!("file://{}", page.display()))
            .output()
            .expect("chromium runs");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        std::fs::read(png).expect("a screenshot")
    };
    let png = shot(html, &dir.join("report.png"));
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    let be = |i: usize| u32::from_be_bytes(png[i..i + 4].try_into().unwrap());
    assert_eq!((be(16), be(20)), (1000, 2600), "IHDR width × height");
    let blank_html = dir.join("blank.html");
    std::fs::write(&blank_html, "<!DOCTYPE html><html><body></body></html>").unwrap();
    let blank = shot(&blank_html, &dir.join("blank.png"));
    assert!(
        png.len() > 5 * blank.len(),
        "the report renders content: {} bytes vs blank {}",
        png.len(),
        blank.len()
    );
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

#[test]
fn audit_of_a_sweep_reports_the_tradeoff_per_point_and_reuses_run_audits() {
    let dir = tmp("audit-sweep");
    let sweep = dir.join("sweep");
    esai_ok(&[
        "sweep",
        s(&root().join("tests/sweeps/bias-small.toml")),
        "--out",
        s(&sweep),
        "--jobs",
        "2",
    ]);
    let out = esai_ok(&["audit", s(&sweep), "--json", "--resamples", "200"]);
    let t: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(t["schema"], "esai.audit-tradeoff/v1");
    let points = t["points"].as_array().unwrap();
    let labels: Vec<&str> = points
        .iter()
        .map(|p| p["label"].as_str().unwrap())
        .collect();
    assert_eq!(
        labels,
        ["lambda-bias-0_method-esai", "lambda-bias-10_method-esai"]
    );
    for p in points {
        assert_eq!(p["seeds"], 2);
        let g = &p["help_gap"];
        assert!(g["lo"].as_f64().unwrap() <= g["value"].as_f64().unwrap());
        assert!(g["value"].as_f64().unwrap() <= g["hi"].as_f64().unwrap());
        assert!(p["mean_return"]["value"].as_f64().unwrap().is_finite());
    }
    for f in ["tradeoff.md", "tradeoff.json", "tradeoff.svg"] {
        assert!(sweep.join(f).is_file(), "{f} written");
    }
    let svg = std::fs::read_to_string(sweep.join("tradeoff.svg")).unwrap();
    assert!(svg.contains("<svg") && svg.contains("lambda-bias-10_method-esai"));
    // Each run's audit is kept; a second call reuses them (same numbers)
    // and refuses to overwrite the report without --force.
    let run_audit = sweep.join("runs/lambda-bias-0_method-esai_seed-0/audit.json");
    let before = std::fs::metadata(&run_audit).unwrap().modified().unwrap();
    esai_code(2, &["audit", s(&sweep)]);
    let again = esai_ok(&[
        "audit",
        s(&sweep),
        "--json",
        "--format",
        "json",
        "--out",
        s(&dir.join("again.json")),
    ]);
    let t2: serde_json::Value = serde_json::from_slice(&again.stdout).unwrap();
    assert_eq!(t2["points"], t["points"]);
    assert_eq!(
        std::fs::metadata(&run_audit).unwrap().modified().unwrap(),
        before
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
