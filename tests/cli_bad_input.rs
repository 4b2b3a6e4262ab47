//! End-to-end regression tests for bad input found by fuzzing `esai certify`
//! and `esai train`: each must give a clear error naming the field, the value
//! and what is allowed, with a non-zero exit — never a panic, an abort, a
//! hang or a silent default — and "certified" only with finite bounds.
//!
//! Exit codes: 2 invalid input, 5 I/O failure.

mod common;

use common::{esai, root, s, tmp};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// A valid point spec (ring of 4) with `(from, to)` text substitutions.
fn spec_with(subs: &[(&str, &str)]) -> String {
    let mut t = String::from(
        "[dynamics]\ngamma_e = 0.9\nalpha = 0.05\n\
         [graph]\nagents = 4\nlaplacian = \"row\"\nedges = [[0, 1, 1.0], [1, 2, 1.0], [2, 3, 1.0], [3, 0, 1.0]]\n\
         [update]\nlipschitz = 0.05\nzero_output_norm = 0.1\n\
         [hebbian]\neta = 0.001\ndelta = 0.02\n\
         [inputs]\nobs_norm = 1.0\naction_norm = 1.0\nreward_abs = 5.0\nharm_abs = 3.0\n",
    );
    for (from, to) in subs {
        assert!(t.contains(from), "base spec lacks {from:?}");
        t = t.replacen(from, to, 1);
    }
    t
}

/// Writes `text` as `name` in a fresh directory named after the test.
fn write_spec(test: &str, name: &str, text: &str) -> (PathBuf, PathBuf) {
    let dir = tmp(test);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    (dir, path)
}

/// Runs `esai args`, killing it after `secs` seconds (a hang fails the test
/// instead of blocking the suite).
fn esai_within(secs: u64, args: &[&str]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_esai"))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run esai");
    let start = Instant::now();
    loop {
        if child.try_wait().expect("wait").is_some() {
            return child.wait_with_output().expect("output");
        }
        if start.elapsed() > Duration::from_secs(secs) {
            let _ = child.kill();
            let out = child.wait_with_output().expect("output");
            panic!(
                "esai {args:?} still running after {secs} s (a hang); stderr: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Requires exit `code` and every needle in stderr, and no panic.
fn refused(code: i32, out: &Output, needles: &[&str]) -> String {
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!err.contains("panicked"), "panicked: {err}");
    assert_eq!(out.status.code(), Some(code), "stderr: {err}");
    for n in needles {
        assert!(err.contains(n), "stderr lacks {n:?}:\n{err}");
    }
    err
}

/// Certifies `text`; requires exit 2 naming every needle.
fn certify_refuses(test: &str, text: &str, needles: &[&str]) -> String {
    let (dir, path) = write_spec(test, "spec.toml", text);
    let out = esai_within(60, &["certify", s(&path)]);
    let err = refused(2, &out, needles);
    std::fs::remove_dir_all(&dir).unwrap();
    err
}

fn certify_json(test: &str, text: &str) -> (serde_json::Value, i32) {
    let (dir, path) = write_spec(test, "spec.toml", text);
    let out = esai_within(60, &["certify", s(&path), "--json"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("panicked"), "{err}");
    let v = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {err}"));
    std::fs::remove_dir_all(&dir).unwrap();
    (v, out.status.code().unwrap())
}

#[test]
fn certify_alpha_1e154_is_refused_not_panicking() {
    certify_refuses(
        "alpha-1e154",
        &spec_with(&[("alpha = 0.05", "alpha = 1e154")]),
        &["dynamics.alpha = 1e154", "≤ 1e6"],
    );
}

#[test]
fn certify_largest_float_alpha_and_lipschitz_are_refused_not_panicking() {
    certify_refuses(
        "alpha-max",
        &spec_with(&[
            ("alpha = 0.05", "alpha = 1.7976931348623157e308"),
            ("lipschitz = 0.05", "lipschitz = 1.7976931348623157e308"),
        ]),
        &[
            "dynamics.alpha = 1.7976931348623157e308",
            "update.lipschitz = 1.7976931348623157e308",
            "2 problems",
        ],
    );
}

#[test]
fn certify_region_up_to_1e200_is_refused_not_panicking() {
    certify_refuses(
        "region-1e200",
        &spec_with(&[("alpha = 0.05", "alpha = [0.0, 1e200]")]),
        &["dynamics.alpha = [0, 1e200]"],
    );
}

fn weights_spec(test: &str, layers: serde_json::Value, e_inputs: usize) -> (PathBuf, PathBuf) {
    let (dir, path) = write_spec(
        test,
        "spec.toml",
        &spec_with(&[(
            "lipschitz = 0.05\nzero_output_norm = 0.1",
            &format!("weights = \"w.json\"\ne_inputs = {e_inputs}"),
        )]),
    );
    std::fs::write(
        dir.join("w.json"),
        serde_json::json!({ "layers": layers }).to_string(),
    )
    .unwrap();
    (dir, path)
}

#[test]
fn certify_gphi_weight_1e308_is_refused_not_panicking() {
    let layers = serde_json::json!([
        {"weight": [[1e308, 0.5], [0.1, 0.2]], "bias": [0.0, 0.0], "activation": "tanh"},
        {"weight": [[1e-300, 1.0], [0.5, 1e200]], "bias": [0.0, 0.0], "activation": "identity"}
    ]);
    let (dir, path) = weights_spec("w-1e308", layers, 2);
    let out = esai_within(60, &["certify", s(&path)]);
    refused(
        2,
        &out,
        &[
            "layers[0].weight[0][0]: 1e308",
            "layers[1].weight[1][1]: 1e200",
            "magnitude ≤ 1e6",
        ],
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn certify_gphi_output_dimension_must_match_e_inputs() {
    let layers = serde_json::json!([
        {"weight": [[0.1, 0.2, 0.3]], "bias": [0.0], "activation": "identity"}
    ]);
    let (dir, path) = weights_spec("w-outputs", layers, 2);
    let out = esai_within(60, &["certify", s(&path)]);
    refused(
        2,
        &out,
        &["update.weights (w.json) = 1 outputs", "update.e_inputs = 2"],
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn certify_too_wide_weights_file_is_refused_quickly() {
    // 64-1024-1024-32 took 157 s; now refused from its shape.
    let wide: Vec<Vec<f64>> = vec![vec![0.0; 64]; 1024];
    let layers = serde_json::json!([
        {"weight": wide, "bias": vec![0.0; 1024], "activation": "tanh"},
        {"weight": [vec![0.1; 1024]], "bias": [0.0], "activation": "identity"}
    ]);
    let (dir, path) = weights_spec("w-wide", layers, 1);
    let start = Instant::now();
    let out = esai_within(60, &["certify", s(&path)]);
    refused(2, &out, &["layers[0].weight", "at most 512 × 512"]);
    assert!(start.elapsed() < Duration::from_secs(20));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn certify_edges_with_extra_elements_are_refused_not_truncated() {
    certify_refuses(
        "edge-extra",
        &spec_with(&[(
            "edges = [[0, 1, 1.0], [1, 2, 1.0], [2, 3, 1.0], [3, 0, 1.0]]",
            "edges = [[0, 1, 1.0, 2.0], [1, 2, 1.0, \"junk\", {x = 1}], [2, 3, 0.5, nan], [1, 3, -7.0]]",
        )]),
        &[
            "graph.edges[0] = [0, 1, 1, 2]",
            "graph.edges[1]",
            "graph.edges[2]",
            "exactly three elements",
            "graph.edges[3] = [1, 3, -7]: weight -7",
            "4 problems",
        ],
    );
}

#[test]
fn certify_subnormal_edge_weight_is_refused_not_panicking() {
    certify_refuses(
        "edge-subnormal",
        &spec_with(&[("[3, 0, 1.0]", "[3, 0, 5e-324]")]),
        &["graph.edges[3] = [3, 0, 5e-324]", "[1e-30, 1e30]"],
    );
}

#[test]
fn certify_erdos_renyi_with_tiny_p_does_not_panic() {
    for p in ["1e-17", "5e-324"] {
        let text = spec_with(&[(
            "edges = [[0, 1, 1.0], [1, 2, 1.0], [2, 3, 1.0], [3, 0, 1.0]]",
            &format!("topology = \"erdos_renyi\"\np = {p}\nseed = 3"),
        )]);
        let (v, code) = certify_json("er-tiny", &text);
        // No edge is drawn: M = γ_E I, which the paper's γ_E certifies.
        assert_eq!(code, 0, "p = {p}: {}", v["reason"]);
        assert_eq!(v["spec"]["edges"], 0);
    }
}

#[test]
fn certify_refuses_huge_graphs_up_front_instead_of_aborting() {
    let cases = [
        ("complete", "100000", "", "at most 4472"),
        (
            "erdos_renyi",
            "200000",
            "p = 1.0\nseed = 1\n",
            "graph.p = 1",
        ),
        ("ring", "50000000", "", "1..=2000000"),
    ];
    for (topo, n, extra, needle) in cases {
        let text = spec_with(&[
            ("agents = 4", &format!("agents = {n}")),
            (
                "edges = [[0, 1, 1.0], [1, 2, 1.0], [2, 3, 1.0], [3, 0, 1.0]]",
                &format!("topology = \"{topo}\"\n{extra}"),
            ),
        ]);
        let start = Instant::now();
        certify_refuses("huge-graph", &text, &[needle]);
        assert!(start.elapsed() < Duration::from_secs(20), "{topo}");
    }
}

#[test]
fn certify_infinite_input_bounds_are_refused_never_certified() {
    // obs_norm = 1e308 printed "IAE bound ≤ inf" and CERTIFIED; eta = 1e308 "Hebbian ≤ inf".
    certify_refuses(
        "inf-bounds",
        &spec_with(&[
            ("obs_norm = 1.0", "obs_norm = 1e308"),
            ("eta = 0.001", "eta = 1e308"),
        ]),
        &[
            "inputs.obs_norm = 1e308",
            "hebbian.eta = 1e308",
            "[0, 1e12]",
        ],
    );
}

#[test]
fn certify_largest_allowed_inputs_give_finite_bounds_or_no_certificate() {
    let text = spec_with(&[
        ("obs_norm = 1.0", "obs_norm = 1e12"),
        ("eta = 0.001", "eta = 1e6"),
        ("zero_output_norm = 0.1", "zero_output_norm = 1e12"),
    ]);
    let (v, code) = certify_json("max-bounds", &text);
    if code == 0 {
        for key in ["iae_norm", "hebbian_norm", "k"] {
            let b = v["bounds"][key].as_f64();
            assert!(b.is_some_and(f64::is_finite), "{key}: {}", v["bounds"]);
        }
    } else {
        assert_eq!(code, 3, "{}", v["reason"]);
    }
}

#[test]
fn train_huge_sizes_are_refused_not_overflowing_or_allocating() {
    let cases: [(&str, &[&str]); 4] = [
        (
            "[env]\ncopies = 4611686018427387904\n[ppo]\nrollout_steps = 4\nminibatch = 1\n",
            &["env.copies = 4611686018427387904", "1..=4096"],
        ),
        (
            "[esai]\nhidden = 9223372036854775807\n",
            &["esai.hidden = 9223372036854775807", "1..=4096"],
        ),
        (
            "[env]\ncopies = 1000000000000\n",
            &["env.copies = 1000000000000"],
        ),
        (
            "[ppo]\nepochs = 1000000000000000\n",
            &["ppo.epochs = 1000000000000000", "1..=1000"],
        ),
    ];
    for (i, (extra, needles)) in cases.iter().enumerate() {
        let (dir, path) = write_spec("train-huge", "spec.toml", &(spec_with(&[]) + extra));
        for cmd in ["certify", "train"] {
            let run = dir.join(format!("run{i}"));
            let out = esai_within(60, &[cmd, s(&path), "--out", s(&run)]);
            refused(2, &out, needles);
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

#[test]
fn train_too_many_gradient_steps_is_refused() {
    let text =
        spec_with(&[]) + "[train]\nsteps = 1000000000\n[ppo]\nepochs = 1000\nminibatch = 1\n";
    certify_refuses(
        "grad-steps",
        &text,
        &[
            "train.steps, ppo.epochs, ppo.minibatch",
            "at most 100000000 gradient steps",
        ],
    );
}

#[test]
fn tau_steps_1e_300_is_reported_as_written_not_as_zero() {
    let err = certify_refuses(
        "tau-steps",
        &(spec_with(&[]) + "[esai]\ntau_steps = 1e-300\n"),
        &["esai.tau_steps = 1e-300", "would be read as 0"],
    );
    assert!(!err.contains("tau_steps = 0"), "{err}");
}

#[test]
fn missing_erdos_renyi_seed_does_not_report_a_false_minibatch_problem() {
    let text = spec_with(&[
        ("agents = 4", "agents = 10000"),
        (
            "edges = [[0, 1, 1.0], [1, 2, 1.0], [2, 3, 1.0], [3, 0, 1.0]]",
            "topology = \"erdos_renyi\"\np = 0.0001",
        ),
    ]) + "[env]\nname = \"graph-dilemma\"\ncopies = 1\n[ppo]\nrollout_steps = 2\n";
    let err = certify_refuses("er-seed", &text, &["graph.seed = (missing)"]);
    assert!(!err.contains("ppo.minibatch"), "{err}");
}

#[test]
fn non_regular_spec_and_weights_files_are_refused_not_read() {
    let err = refused(
        2,
        &esai_within(20, &["certify", "/dev/zero"]),
        &["not a regular file"],
    );
    assert!(err.contains("/dev/zero"));
    let (dir, path) = weights_spec("w-fifo", serde_json::json!([]), 1);
    let fifo = dir.join("fifo.json");
    let made = Command::new("mkfifo").arg(&fifo).status();
    let text = std::fs::read_to_string(&path).unwrap();
    if made.is_ok_and(|st| st.success()) {
        std::fs::write(&path, text.replace("w.json", "fifo.json")).unwrap();
        let out = esai_within(20, &["certify", s(&path)]);
        refused(2, &out, &["update.weights", "not a regular file"]);
        let out = esai_within(20, &["certify", s(&fifo)]);
        refused(2, &out, &["not a regular file"]);
    }
    std::fs::write(&path, text.replace("w.json", "/dev/urandom")).unwrap();
    let out = esai_within(20, &["certify", s(&path)]);
    refused(2, &out, &["/dev/urandom", "not a regular file"]);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn unreadable_spec_is_an_io_failure_exit_5() {
    let out = esai_within(20, &["certify", "/nonexistent/spec.toml"]);
    refused(5, &out, &["cannot read spec /nonexistent/spec.toml"]);
}

fn tmp_files(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tmp"))
        .collect()
}

#[test]
fn smt2_and_out_are_both_checked_before_either_is_written() {
    let (dir, path) = write_spec("both-dest", "spec.toml", &spec_with(&[]));
    let smt2 = dir.join("q.smt2");
    let out_file = dir.join("c.json");
    std::fs::write(&out_file, "keep").unwrap();
    let out = esai_within(
        60,
        &[
            "certify",
            s(&path),
            "--smt2",
            s(&smt2),
            "--out",
            s(&out_file),
        ],
    );
    refused(2, &out, &["c.json already exists", "--force"]);
    assert!(
        !smt2.exists(),
        "--smt2 was written although --out was refused"
    );
    assert_eq!(std::fs::read_to_string(&out_file).unwrap(), "keep");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn out_directory_or_trailing_slash_is_refused_and_leaves_no_tmp_file() {
    let (dir, path) = write_spec("out-dir", "spec.toml", &spec_with(&[]));
    let sub = dir.join("sub");
    std::fs::create_dir(&sub).unwrap();
    std::fs::write(sub.join("x"), "x").unwrap();
    let out = esai_within(60, &["certify", s(&path), "--out", s(&sub), "--force"]);
    refused(2, &out, &["is a directory"]);
    let newdir = format!("{}/newdir/", dir.display());
    let out = esai_within(60, &["certify", s(&path), "--out", &newdir]);
    refused(2, &out, &["is a directory"]);
    assert!(tmp_files(&dir).is_empty(), "{:?}", tmp_files(&dir));
    assert!(tmp_files(Path::new(".")).is_empty());
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Disk full, simulated with a 512-byte file-size limit (`ulimit -f 1`,
/// SIGXFSZ ignored so the write fails with EFBIG instead of killing esai).
#[test]
fn failed_write_exits_5_and_leaves_no_tmp_file() {
    let (dir, path) = write_spec("disk-full", "spec.toml", &spec_with(&[]));
    let target = dir.join("cert.json");
    let script = format!(
        "trap '' XFSZ; ulimit -f 1; exec '{}' certify '{}' --out '{}'",
        env!("CARGO_BIN_EXE_esai"),
        s(&path),
        s(&target)
    );
    let out = Command::new("sh").arg("-c").arg(&script).output().unwrap();
    refused(5, &out, &["cannot write", "cert.json"]);
    assert!(!target.exists());
    assert!(tmp_files(&dir).is_empty(), "{:?}", tmp_files(&dir));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn alpha_max_without_edges_is_unbounded_not_a_cap() {
    let text = spec_with(&[(
        "edges = [[0, 1, 1.0], [1, 2, 1.0], [2, 3, 1.0], [3, 0, 1.0]]",
        "edges = []",
    )]);
    let (v, code) = certify_json("no-edges", &text);
    assert_eq!(code, 0, "{}", v["reason"]);
    let a = &v["alpha_max"];
    assert_eq!(a["unbounded"], true, "{a}");
    for cond in ["max_norm", "frobenius", "proposition1"] {
        assert_eq!(a[cond]["unbounded"], true, "{cond}: {a}");
        assert!(a[cond]["verified"].is_null() && a[cond]["supremum"].is_null());
    }
    let (dir, path) = write_spec("no-edges-text", "spec.toml", &text);
    let out = esai(&["certify", s(&path)]);
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(
        table.contains("max_norm unbounded, frobenius unbounded"),
        "{table}"
    );
    assert!(
        !table.contains("1000.0") && !table.contains("512.0"),
        "{table}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn declared_lipschitz_upper_bound_is_rounded_up_not_the_float_below() {
    let text = spec_with(&[("lipschitz = 0.05", "lipschitz = 0.3")]);
    let (v, _) = certify_json("round-up", &text);
    // The float nearest 0.3 lies below the decimal 0.3: the reported upper
    // bound must be the enclosure's upper end, above it.
    let upper = v["lipschitz"]["upper"].as_f64().unwrap();
    assert!(upper > 0.3, "upper {upper} is not above the float 0.3");
    assert!(v["lipschitz"]["lower"].as_f64().unwrap() < 0.3);
    let (dir, path) = write_spec("round-up-text", "spec.toml", &text);
    let table = String::from_utf8_lossy(&esai(&["certify", s(&path)]).stdout).into_owned();
    assert!(
        table.contains("L_g        ∈ [0.299999, 0.300001]"),
        "{table}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn invalid_corpus_gives_exit_2_and_names_fields() {
    // tests/invalid/ also holds the fuzzing finds; each names its field.
    let cases: &[(&str, &[&str])] = &[
        ("alpha-1e154.toml", &["dynamics.alpha = 1e154"]),
        (
            "edge-extra-elements.toml",
            &["graph.edges[0]", "exactly three elements"],
        ),
        ("complete-too-large.toml", &["graph.agents = 100000"]),
        ("tau-steps-tiny.toml", &["esai.tau_steps = 1e-300"]),
        ("copies-overflow.toml", &["env.copies", "1..=4096"]),
        (
            "weights-wrong-outputs.toml",
            &["update.e_inputs = 2 outputs"],
        ),
    ];
    for (file, needles) in cases {
        let path = root().join("tests/invalid").join(file);
        let out = esai_within(60, &["certify", s(&path)]);
        refused(2, &out, needles);
    }
}
