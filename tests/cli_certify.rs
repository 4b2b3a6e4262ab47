//! End-to-end tests of `esai certify`: the verdict corpus, the JSON schema,
//! exit codes, bad input, and file-writing rules.
//!
//! The corpus follows creusot's layout: every spec in `tests/should_certify/`
//! and `specs/` (whose header says "Expected verdict: …") is run, and its
//! verdict and exit code compared with the expectation.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn esai(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_esai"))
        .args(args)
        .output()
        .expect("run esai")
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn json_of(spec: &Path) -> (serde_json::Value, i32) {
    let out = esai(&["certify", spec.to_str().unwrap(), "--json"]);
    let code = out.status.code().expect("exit code");
    let v = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{}: bad JSON ({e}); stderr: {}",
            spec.display(),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (v, code)
}

/// Reads "Expected verdict: X" from a spec's header comment.
fn expected_verdict(spec: &Path) -> Option<String> {
    let text = std::fs::read_to_string(spec).unwrap();
    let line = text.lines().find(|l| l.contains("Expected verdict:"))?;
    let word = line
        .split("Expected verdict:")
        .nth(1)?
        .trim()
        .trim_end_matches('.');
    Some(word.split(|c: char| !c.is_alphabetic()).next()?.to_string())
}

fn check_corpus(dir: &Path) -> usize {
    let mut n = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "toml") {
            let want = expected_verdict(&path)
                .unwrap_or_else(|| panic!("{} lacks 'Expected verdict:'", path.display()));
            let (v, code) = json_of(&path);
            assert_eq!(v["verdict"], want, "{}: {}", path.display(), v["reason"]);
            let want_code = match want.as_str() {
                "certified" => 0,
                "violated" => 1,
                _ => 3,
            };
            assert_eq!(code, want_code, "{}", path.display());
            n += 1;
        }
    }
    n
}

#[test]
fn example_specs_give_their_documented_verdicts() {
    assert!(check_corpus(&root().join("specs")) >= 6);
}

#[test]
fn should_certify_corpus_is_certified() {
    assert!(check_corpus(&root().join("tests/should_certify")) >= 3);
}

#[test]
fn should_reject_corpus_is_not_certified() {
    assert!(check_corpus(&root().join("tests/should_reject")) >= 3);
}

#[test]
fn json_has_the_documented_schema() {
    let (v, _) = json_of(&root().join("specs/paper-default.toml"));
    assert_eq!(v["schema"], "esai.certificate/v1");
    for key in ["lower", "upper", "method"] {
        assert!(
            v["spectral_norm"][key].is_number() || v["spectral_norm"][key].is_string(),
            "spectral_norm.{key}"
        );
        assert!(
            v["inf_norm"][key].is_number() || v["inf_norm"][key].is_string(),
            "inf_norm.{key}"
        );
    }
    for key in ["lower", "upper", "method", "e_block_upper"] {
        assert!(!v["lipschitz"][key].is_null(), "lipschitz.{key}");
    }
    assert!(v["lipschitz"].get("product_bound").is_some());
    let checks = v["checks"].as_array().unwrap();
    for c in checks {
        for key in ["name", "holds", "value", "limit", "margin"] {
            assert!(c.get(key).is_some(), "check field {key}");
        }
    }
    assert!(v["bounds"]["iae_norm"].as_f64().unwrap() > 0.0);
    assert!(v["bounds"]["hebbian_norm"].as_f64().unwrap() > 0.0);
    assert!(v["alpha_max"]["max_norm"]["verified"].as_f64().unwrap() > 0.9);
    // The paper's numbers: K = 0.1 + 0.05·√(1+1+25+9) = 0.4; B = K/(1 − 0.95) = 8.
    let b = v["bounds"]["iae_norm"].as_f64().unwrap();
    assert!((b - 8.0).abs() < 1e-6 && b >= 8.0, "B = {b}");
}

#[test]
fn a2_trap_does_not_claim_proposition1() {
    // Row-normalised star: A.2's 0.9 + 0.05 < 1 would "pass"; the true ‖M‖₂ does not.
    let (v, code) = json_of(&root().join("specs/star-a2-trap.toml"));
    let p1 = v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "proposition1")
        .unwrap();
    assert_eq!(p1["holds"], false);
    assert!(
        v["a2_closed_form"]["value"].as_f64().unwrap() + 0.05 < 1.0,
        "the trap must be a trap"
    );
    assert_eq!(v["a2_closed_form"]["applies"], false);
    assert!(v["spectral_norm"]["lower"].as_f64().unwrap() > 0.95);
    assert!(!v["certified_by"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c == "proposition1"));
    assert_eq!(code, 0, "max_norm still certifies");
}

#[test]
fn region_counterexample_is_confirmed_and_inside_the_box() {
    let (v, code) = json_of(&root().join("specs/region-too-wide.toml"));
    assert_eq!(code, 1);
    let cx = &v["counterexample"];
    assert_eq!(cx["confirmed"], true);
    let a = cx["alpha"].as_f64().unwrap();
    assert!((0.0..=1.2).contains(&a) && a > 0.925, "alpha {a}");
}

#[test]
fn smt2_file_is_written_and_not_overwritten_without_force() {
    let dir = std::env::temp_dir().join(format!("esai-smt2-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let f = dir.join("q.smt2");
    let spec = root().join("specs/region-paper.toml");
    let out = esai(&[
        "certify",
        spec.to_str().unwrap(),
        "--smt2",
        f.to_str().unwrap(),
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&f).unwrap();
    assert_eq!(text.matches("(check-sat)").count(), 4);
    assert!(text.contains("declare-fun gamma_e"));
    let again = esai(&[
        "certify",
        spec.to_str().unwrap(),
        "--smt2",
        f.to_str().unwrap(),
    ]);
    assert_eq!(again.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&again.stderr).contains("--force"));
    let forced = esai(&[
        "certify",
        spec.to_str().unwrap(),
        "--smt2",
        f.to_str().unwrap(),
        "--force",
    ]);
    assert_eq!(forced.status.code(), Some(0));
    std::fs::remove_dir_all(&dir).unwrap();
}

/// `ESAI_CVC5` names a fake cvc5 that answers `sat` to everything: every
/// region query then has two contradicting answers, and the paper region,
/// certified by z3 alone, must come out unknown (exit 3) naming the
/// disagreement. With the real cvc5 (when installed) it stays certified and
/// each query records cvc5's `unsat`.
#[cfg(unix)]
#[test]
fn z3_and_cvc5_disagreeing_gives_unknown_not_certified() {
    use std::os::unix::fs::PermissionsExt;
    let dir = std::env::temp_dir().join(format!("esai-fake-cvc5-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let fake = dir.join("cvc5");
    std::fs::write(&fake, "#!/bin/sh\ncat >/dev/null; echo sat\n").unwrap();
    std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
    let spec = root().join("specs/region-paper.toml");
    let run = |cvc5: &Path| {
        let out = Command::new(env!("CARGO_BIN_EXE_esai"))
            .args(["certify", spec.to_str().unwrap(), "--json"])
            .env("ESAI_CVC5", cvc5)
            .output()
            .expect("run esai");
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
        (v, out.status.code())
    };
    let (v, code) = run(&fake);
    assert_eq!(v["verdict"], "unknown", "{}", v["reason"]);
    assert_eq!(code, Some(3));
    let reason = v["reason"].as_str().unwrap();
    assert!(
        reason.contains("z3 and cvc5 disagree (z3: unsat, cvc5: sat)"),
        "{reason}"
    );
    for q in v["smt"].as_array().unwrap() {
        assert_eq!(
            (&q["result"], &q["cvc5"]),
            (&"unknown".into(), &"sat".into())
        );
    }
    let (v, code) = run(Path::new("/nonexistent/esai-no-such-cvc5"));
    assert_eq!((v["verdict"].as_str(), code), (Some("certified"), Some(0)));
    for q in v["smt"].as_array().unwrap() {
        assert!(
            q["cvc5"].as_str().unwrap().starts_with("not available: "),
            "{q}"
        );
    }
    if Command::new("cvc5").arg("--version").output().is_ok() {
        let (v, code) = run(Path::new("cvc5"));
        assert_eq!((v["verdict"].as_str(), code), (Some("certified"), Some(0)));
        for q in v["smt"].as_array().unwrap() {
            assert_eq!(
                (&q["result"], &q["cvc5"]),
                (&"unsat".into(), &"unsat".into())
            );
        }
    } else {
        assert!(
            std::env::var_os("ESAI_REQUIRE_CVC5").is_none(),
            "ESAI_REQUIRE_CVC5 is set but no cvc5 is on PATH"
        );
        eprintln!("no cvc5 on PATH: the agreeing run is skipped");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Each invalid spec must exit 2 and name the field and what is allowed.
#[test]
fn invalid_specs_exit_2_naming_field_and_allowed_values() {
    let cases: &[(&str, &[&str])] = &[
        ("unknown-key.toml", &["unknown field `gama_e`", "gamma_e"]),
        (
            "gamma-out-of-range.toml",
            &["dynamics.gamma_e = 1.2", "[0, 1)"],
        ),
        ("nan-alpha.toml", &["dynamics.alpha = NaN", "≥ 0"]),
        (
            "negative-weight.toml",
            &["graph.edges[1]", "weight -0.5", "> 0"],
        ),
        (
            "agent-out-of-range.toml",
            &["graph.edges[0]", "agent index 7", "0..4"],
        ),
        (
            "missing-weights-file.toml",
            &["update.weights", "does-not-exist.json"],
        ),
        (
            "many-problems.toml",
            &[
                "dynamics.gamma_e",
                "hebbian.delta",
                "inputs.obs_norm",
                "4 problems",
            ],
        ),
        ("reversed-interval.toml", &["dynamics.alpha", "lo ≤ hi"]),
        (
            "both-edges-and-topology.toml",
            &["exactly one of `edges` or `topology`"],
        ),
        (
            "bad-weights-shape.toml",
            &["layers[1].weight", "takes 3 inputs"],
        ),
    ];
    for (file, needles) in cases {
        let path = root().join("tests/invalid").join(file);
        let out = esai(&["certify", path.to_str().unwrap()]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{file}: {err}");
        for needle in *needles {
            assert!(
                err.contains(needle),
                "{file}: stderr lacks {needle:?}:\n{err}"
            );
        }
        assert!(!err.contains("panicked"), "{file} panicked");
    }
}

/// A spec that cannot be read is an I/O failure (exit 5), not invalid input.
#[test]
fn missing_spec_file_exits_5_and_bad_usage_exits_2() {
    let out = esai(&["certify", "/nonexistent/spec.toml"]);
    assert_eq!(out.status.code(), Some(5));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read spec"));
    assert_eq!(esai(&["certify"]).status.code(), Some(2));
    assert_eq!(esai(&["frobnicate"]).status.code(), Some(2));
}
