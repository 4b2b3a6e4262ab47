//! End-to-end tests of `esai check`: exit codes, the table of misses, the
//! JUnit file (checked against junit-10.xsd's elements and attributes),
//! `--bless`, `--baseline`, bad expectation tables, and the repository's own
//! corpus (`tests/should_certify`, `tests/should_reject`) run through it.

mod common;

use common::{esai, esai_code, root, s, tmp, validate};
use std::path::{Path, PathBuf};

fn stdout(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Copies a corpus spec into `dir` under `name`, with `extra` appended.
fn spec(dir: &Path, from: &str, name: &str, extra: &str) -> PathBuf {
    let text = std::fs::read_to_string(root().join(from)).unwrap();
    let to = dir.join(name);
    std::fs::write(&to, text + extra).unwrap();
    to
}

/// A folder mixing specs that meet and miss their expectations: a sidecar
/// that holds, an in-spec table that misses three ways, a spec that cannot
/// be certified, plus a sidecar and a sweep file that are not specs.
fn mixed_folder(name: &str) -> PathBuf {
    let d = tmp(name);
    std::fs::create_dir_all(d.join("sub")).unwrap();
    spec(
        &d,
        "tests/should_certify/complete-graph.toml",
        "meets.toml",
        "",
    );
    std::fs::write(
        d.join("meets.expect.toml"),
        "[expect]\nverdict = \"certified\"\nmax_iae_bound = 11.1\n[expect.min_margin]\nmax_norm = 0.05\n",
    )
    .unwrap();
    spec(
        &d,
        "tests/should_reject/alpha-too-large.toml",
        "sub/a&b <misses>.toml",
        "\n[expect]\nverdict = \"certified\"\nmax_iae_bound = 5\n[expect.min_margin]\nmax_norm = 0.01\n",
    );
    let broken = spec(
        &d,
        "tests/should_certify/complete-graph.toml",
        "broken.toml",
        "\n[expect]\nverdict = \"certified\"\n",
    );
    let text = std::fs::read_to_string(&broken).unwrap();
    std::fs::write(&broken, text.replace("gamma_e = 0.8", "gamma_e = 1.5")).unwrap();
    std::fs::copy(
        root().join("tests/sweeps/small.toml"),
        d.join("a-sweep.toml"),
    )
    .unwrap();
    d
}

#[test]
fn mixed_folder_exits_1_with_a_table_of_misses_and_a_valid_junit_file() {
    let d = mixed_folder("check-mixed");
    let junit = d.join("report.xml");
    let out = esai_code(1, &["check", s(&d), "--junit", s(&junit)]);
    let text = stdout(&out);
    assert!(
        text.contains("what changed against the expectation"),
        "{text}"
    );
    for row in [
        ["a&b <misses>.toml", "verdict", "certified", "violated"],
        [
            "a&b <misses>.toml",
            "min_margin.max_norm",
            "≥ 0.01",
            "-0.35",
        ],
        ["a&b <misses>.toml", "max_iae_bound", "≤ 5", "absent"],
    ] {
        let line = text
            .lines()
            .find(|l| l.contains(row[0]) && l.contains(row[1]));
        let line = line.unwrap_or_else(|| panic!("no row for {}:\n{text}", row[1]));
        assert!(line.contains(row[2]) && line.contains(row[3]), "{line}");
    }
    let status: Vec<&str> = text
        .lines()
        .filter(|l| ["ok ", "FAIL ", "ERROR "].iter().any(|w| l.starts_with(w)))
        .collect();
    assert_eq!(
        status.len(),
        3,
        "sidecars and sweep files are not specs:\n{text}"
    );
    assert!(status[0].starts_with("ERROR") && status[0].contains("broken.toml"));
    assert!(
        text.contains("dynamics.gamma_e = 1.5"),
        "the spec's error is shown:\n{text}"
    );
    let xml = std::fs::read_to_string(&junit).unwrap();
    let doc = junit_check::parse(&xml).unwrap_or_else(|e| panic!("{e}\n{xml}"));
    junit_check::validate(&doc).unwrap_or_else(|e| panic!("{e}\n{xml}"));
    let suite = &doc.children[0];
    // meets: verdict, max_iae_bound, min_margin.max_norm; misses: 3; broken: 1 error.
    assert_eq!(suite.attr("tests"), Some("7"), "{xml}");
    assert_eq!(suite.attr("failures"), Some("3"), "{xml}");
    assert_eq!(suite.attr("errors"), Some("1"), "{xml}");
    let classes: Vec<_> = suite
        .children
        .iter()
        .filter_map(|c| c.attr("classname"))
        .collect();
    assert!(
        classes.iter().any(|c| c.ends_with("a&b <misses>.toml")),
        "{classes:?}"
    );
    assert!(
        xml.contains("a&amp;b &lt;misses&gt;.toml"),
        "escaped in the file"
    );
    // Without --force the report is not overwritten.
    let again = esai_code(2, &["check", s(&d), "--junit", s(&junit)]);
    assert!(stderr(&again).contains("--force"));
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn folder_that_meets_every_expectation_exits_0() {
    let d = tmp("check-meets");
    std::fs::create_dir_all(&d).unwrap();
    spec(
        &d,
        "tests/should_certify/complete-graph.toml",
        "x.toml",
        "\n[expect]\nverdict = \"certified\"\nmax_hebbian_bound = 0.6\n[expect.min_alpha_max]\nmax_norm = 0.8\n",
    );
    let out = esai_code(0, &["check", s(&d)]);
    assert!(
        stdout(&out).contains("passed: 1 spec, 3 conditions"),
        "{}",
        stdout(&out)
    );
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn bless_writes_every_file_it_changes_says_so_and_round_trips() {
    let d = mixed_folder("check-bless");
    std::fs::remove_file(d.join("broken.toml")).unwrap();
    spec(
        &d,
        "tests/should_certify/isolated-agents.toml",
        "bare.toml",
        "",
    );
    let before = std::fs::read_to_string(d.join("sub/a&b <misses>.toml")).unwrap();
    let out = esai_ok_check(&["check", s(&d), "--bless"]);
    let text = stdout(&out);
    assert!(
        text.contains("bless created") && text.contains("bare.expect.toml"),
        "{text}"
    );
    assert!(
        text.contains("bless updated") && text.contains("meets.expect.toml"),
        "{text}"
    );
    assert!(
        text.contains("verdict \"certified\" → \"violated\""),
        "the in-spec change is named:\n{text}"
    );
    let after = std::fs::read_to_string(d.join("sub/a&b <misses>.toml")).unwrap();
    let spec_part = before.split("\n[expect]").next().unwrap();
    assert!(
        after.starts_with(spec_part.trim_end()),
        "the spec is kept:\n{after}"
    );
    assert_eq!(after.matches("[expect]").count(), 1, "{after}");
    // The blessed expectations hold, and a second bless changes nothing.
    esai_code(0, &["check", s(&d)]);
    let again = stdout(&esai_ok_check(&["check", s(&d), "--bless"]));
    assert_eq!(again.matches("bless unchanged").count(), 3, "{again}");
    std::fs::remove_dir_all(&d).unwrap();
}

fn esai_ok_check(args: &[&str]) -> std::process::Output {
    esai_code(0, args)
}

#[test]
fn retrained_g_phi_whose_margin_shrank_past_the_tolerance_fails_the_baseline() {
    let d = tmp("check-baseline");
    let base = d.join("baseline");
    std::fs::create_dir_all(&d).unwrap();
    for f in ["relu-weights.toml", "relu-weights.json"] {
        std::fs::copy(root().join("tests/should_certify").join(f), d.join(f)).unwrap();
    }
    std::fs::write(
        d.join("relu-weights.expect.toml"),
        "[expect]\nverdict = \"certified\"\n",
    )
    .unwrap();
    esai_code(0, &["check", s(&d), "--save-baseline", s(&base)]);
    let saved: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(base.join("relu-weights.json")).unwrap())
            .unwrap();
    assert_eq!(saved["schema"], "esai.certificate/v1");
    esai_code(0, &["check", s(&d), "--baseline", s(&base)]);
    // "Retrain" g_φ: larger first-layer weights, a larger L_g, smaller margins.
    let w = d.join("relu-weights.json");
    let text = std::fs::read_to_string(&w).unwrap();
    std::fs::write(
        &w,
        text.replacen(
            "[[0.01,0.02,-0.03],[0.0,0.05",
            "[[0.05,0.02,-0.03],[0.0,0.08",
            1,
        ),
    )
    .unwrap();
    let out = esai_code(1, &["check", s(&d), "--baseline", s(&base)]);
    let t = stdout(&out);
    let line = t
        .lines()
        .find(|l| l.contains("baseline.margin.max_norm"))
        .unwrap_or_else(|| panic!("no max_norm row:\n{t}"));
    assert!(line.contains("relu-weights.toml"), "{line}");
    assert!(
        line.contains("0.07305524561") && line.contains("0.05565226497"),
        "{line}"
    );
    // Within a wide tolerance the same change is not a regression.
    esai_code(
        0,
        &[
            "check",
            s(&d),
            "--baseline",
            s(&base),
            "--tolerance",
            "0.05",
        ],
    );
    let j = esai_code(1, &["check", s(&d), "--baseline", s(&base), "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&j.stdout).unwrap();
    let c = v["specs"][0]["conditions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["condition"] == "baseline.margin.max_norm")
        .unwrap()
        .clone();
    assert_eq!(c["status"], "fail");
    assert!((c["expected_value"].as_f64().unwrap() - 0.0730552456).abs() < 1e-9);
    assert!(c["actual_value"].as_f64().unwrap() < 0.06);
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn bad_expectation_tables_exit_2_naming_every_field() {
    let d = tmp("check-bad");
    std::fs::create_dir_all(&d).unwrap();
    spec(
        &d,
        "tests/should_certify/complete-graph.toml",
        "one.toml",
        "",
    );
    std::fs::write(
        d.join("one.expect.toml"),
        "[expect]\nverdict = \"safe\"\nmax_iae_bound = -2\n[expect.min_margin]\nmax_nrom = 0.1\n",
    )
    .unwrap();
    spec(
        &d,
        "tests/should_certify/complete-graph.toml",
        "two.toml",
        "\n[expect]\nverdit = \"certified\"\n[expect.min_alpha_max]\nmax_norm = -1\n",
    );
    spec(
        &d,
        "tests/should_certify/complete-graph.toml",
        "three.toml",
        "",
    );
    let out = esai_code(2, &["check", s(&d)]);
    let err = stderr(&out);
    for needle in [
        "one.expect.toml: expect.verdict = \"safe\": one of \"certified\", \"violated\", \"unknown\", \"not-certified\"",
        "one.expect.toml: expect.max_iae_bound = -2: a finite number > 0",
        "one.expect.toml: expect.min_margin.max_nrom: unknown name; allowed one of proposition1, frobenius, max_norm, hebbian_deterministic, hebbian_mean_square",
        "two.toml: expect.verdit: unknown key; allowed verdict, min_margin",
        "two.toml: expect.verdict: missing",
        "two.toml: expect.min_alpha_max.max_norm = -1: a number ≥ 0",
        "three.toml: no expectation",
        "invalid expectations (7 problems)",
    ] {
        assert!(err.contains(needle), "stderr lacks {needle:?}:\n{err}");
    }
    let missing = esai_code(2, &["check", "/nonexistent/specs"]);
    assert!(stderr(&missing).contains("no such file or directory"));
    assert_eq!(
        esai(&["check", s(&d), "--tolerance", "-1"]).status.code(),
        Some(2)
    );
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn json_report_follows_its_schema() {
    let d = mixed_folder("check-json");
    let out = esai_code(1, &["check", s(&d), "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("docs/schemas/check.schema.json")).unwrap(),
    )
    .unwrap();
    validate(&schema, &v).expect("the report follows docs/schemas/check.schema.json");
    assert_eq!(v["passed"], false);
    assert_eq!(v["summary"]["failures"], 3);
    std::fs::remove_dir_all(&d).unwrap();
}

/// The repository's corpus, run through `esai check` on every CI run (CI
/// runs `cargo test --workspace`): should_certify ⇒ certified,
/// should_reject ⇒ violated or unknown.
#[test]
fn repository_corpus_passes_esai_check() {
    let dirs = [
        root().join("tests/should_certify"),
        root().join("tests/should_reject"),
    ];
    let out = esai_code(0, &["check", s(&dirs[0]), s(&dirs[1]), "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v["summary"]["specs"].as_u64().unwrap() >= 8, "{v}");
    assert_eq!(v["passed"], true);
}

/// A small XML reader and the JUnit schema's structure (Jenkins'
/// junit-10.xsd, which GitHub and GitLab reporters read): which elements
/// may contain which, the allowed and required attributes, and that every
/// count attribute is an integer equal to what the file holds.
mod junit_check {
    /// An element: name, attributes, child elements.
    pub struct Node {
        pub name: String,
        pub attrs: Vec<(String, String)>,
        pub children: Vec<Node>,
    }

    impl Node {
        pub fn attr(&self, k: &str) -> Option<&str> {
            self.attrs
                .iter()
                .find(|(a, _)| a == k)
                .map(|(_, v)| v.as_str())
        }
    }

    fn unescape(s: &str) -> Result<String, String> {
        let mut out = String::new();
        let mut rest = s;
        while let Some(i) = rest.find('&') {
            out.push_str(&rest[..i]);
            let end = rest[i..].find(';').ok_or(format!("bare & in {s:?}"))?;
            out.push(match &rest[i + 1..i + end] {
                "amp" => '&',
                "lt" => '<',
                "gt" => '>',
                "quot" => '"',
                "apos" => '\'',
                e => return Err(format!("unknown entity &{e};")),
            });
            rest = &rest[i + end + 1..];
        }
        out.push_str(rest);
        Ok(out)
    }

    /// Parses a well-formed document (prolog, elements, attributes, text).
    pub fn parse(xml: &str) -> Result<Node, String> {
        let body = xml
            .strip_prefix("<?xml version=\"1.0\" encoding=\"UTF-8\"?>")
            .ok_or("no XML declaration")?;
        let mut stack: Vec<Node> = vec![Node {
            name: String::new(),
            attrs: vec![],
            children: vec![],
        }];
        let mut rest = body;
        while let Some(i) = rest.find('<') {
            unescape(&rest[..i])?; // text must be escaped too
            let end = rest[i..].find('>').ok_or("unclosed tag")? + i;
            let tag = &rest[i + 1..end];
            rest = &rest[end + 1..];
            if let Some(name) = tag.strip_prefix('/') {
                let node = stack.pop().ok_or("unbalanced")?;
                if node.name != name {
                    return Err(format!("</{name}> closes <{}>", node.name));
                }
                stack.last_mut().ok_or("unbalanced")?.children.push(node);
                continue;
            }
            let closed = tag.ends_with('/');
            let tag = tag.trim_end_matches('/');
            let (name, mut attrs_text) = tag.split_once(' ').unwrap_or((tag, ""));
            let mut attrs = Vec::new();
            while let Some(eq) = attrs_text.find("=\"") {
                let key = attrs_text[..eq].trim().to_string();
                let vend = attrs_text[eq + 2..].find('"').ok_or("unclosed attribute")? + eq + 2;
                let value = unescape(&attrs_text[eq + 2..vend])?;
                if value.contains('<') && attrs_text[eq + 2..vend].contains('<') {
                    return Err("unescaped < in an attribute".into());
                }
                attrs.push((key, value));
                attrs_text = &attrs_text[vend + 1..];
            }
            let node = Node {
                name: name.to_string(),
                attrs,
                children: vec![],
            };
            if closed {
                stack.last_mut().ok_or("unbalanced")?.children.push(node);
            } else {
                stack.push(node);
            }
        }
        let mut top = stack.pop().ok_or("unbalanced")?;
        if !stack.is_empty() || top.children.len() != 1 {
            return Err("not one root element".into());
        }
        Ok(top.children.remove(0))
    }

    /// (element, allowed children, required attributes, allowed attributes).
    type Rule = (
        &'static str,
        &'static [&'static str],
        &'static [&'static str],
        &'static [&'static str],
    );

    const RULES: &[Rule] = &[
        (
            "testsuites",
            &["testsuite"],
            &[],
            &["name", "time", "tests", "failures", "disabled", "errors"],
        ),
        (
            "testsuite",
            &["properties", "testcase", "system-out", "system-err"],
            &["name", "tests"],
            &[
                "name",
                "tests",
                "failures",
                "errors",
                "time",
                "disabled",
                "skipped",
                "timestamp",
                "hostname",
                "id",
                "package",
                "file",
                "log",
                "url",
                "version",
            ],
        ),
        (
            "testcase",
            &["skipped", "error", "failure", "system-out", "system-err"],
            &["name"],
            &[
                "name",
                "assertions",
                "time",
                "classname",
                "status",
                "class",
                "file",
                "line",
                "log",
                "group",
                "url",
            ],
        ),
        ("failure", &[], &[], &["type", "message"]),
        ("error", &[], &[], &["type", "message"]),
        ("skipped", &[], &[], &["message"]),
    ];

    pub fn validate(root: &Node) -> Result<(), String> {
        if root.name != "testsuites" {
            return Err(format!("root is <{}>", root.name));
        }
        check(root)?;
        for suite in &root.children {
            let cases = &suite.children;
            let count = |child: &str| {
                cases
                    .iter()
                    .filter(|c| c.children.iter().any(|x| x.name == child))
                    .count()
            };
            for (attr, n) in [
                ("tests", cases.len()),
                ("failures", count("failure")),
                ("errors", count("error")),
                ("skipped", count("skipped")),
            ] {
                if suite.attr(attr) != Some(n.to_string().as_str()) {
                    return Err(format!(
                        "testsuite {attr}={:?}, file has {n}",
                        suite.attr(attr)
                    ));
                }
            }
        }
        Ok(())
    }

    fn check(n: &Node) -> Result<(), String> {
        let (_, children, required, allowed) = RULES
            .iter()
            .find(|r| r.0 == n.name)
            .ok_or(format!("<{}> is not a JUnit element", n.name))?;
        for r in *required {
            n.attr(r)
                .ok_or(format!("<{}> lacks required {r}", n.name))?;
        }
        for (a, v) in &n.attrs {
            if !allowed.contains(&a.as_str()) {
                return Err(format!("<{}> has attribute {a}, not in the schema", n.name));
            }
            let numeric = ["tests", "failures", "errors", "skipped", "disabled"];
            if numeric.contains(&a.as_str()) && v.parse::<u64>().is_err() {
                return Err(format!("<{}> {a}={v:?} is not an integer", n.name));
            }
            if a == "time" && v.parse::<f64>().is_err() {
                return Err(format!("<{}> time={v:?} is not a number", n.name));
            }
        }
        for c in &n.children {
            if !children.contains(&c.name.as_str()) {
                return Err(format!("<{}> inside <{}>", c.name, n.name));
            }
            check(c)?;
        }
        Ok(())
    }
}
