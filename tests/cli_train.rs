//! End-to-end tests of `esai train`: the run directory, overwrite rules,
//! refusal of uncertified ESAI specs, and clear errors for bad overrides.

mod common;
use common::*;

#[test]
fn short_run_writes_config_metrics_checkpoint_and_summary() {
    let dir = tmp("train-short");
    let spec = root().join("specs/esai-helps.toml");
    let out = esai_ok(&[
        "train",
        spec.to_str().unwrap(),
        "--steps",
        "4096",
        "--out",
        dir.to_str().unwrap(),
        "--json",
    ]);
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["updates"], 2);
    assert_eq!(summary["env_steps"], 4096);
    assert_eq!(
        summary["final"]["gradient_steps"], 160,
        "10 epochs × 16 minibatches"
    );
    let lines = std::fs::read_to_string(dir.join("metrics.jsonl")).unwrap();
    assert_eq!(lines.lines().count(), 2);
    for l in lines.lines() {
        let m: serde_json::Value = serde_json::from_str(l).unwrap();
        for key in [
            "env_steps",
            "mean_return",
            "prosocial_rate",
            "entropy",
            "policy_loss",
            "value_loss",
            "forecast_loss",
            "ar_steal",
            "iae_norm_max",
            "lambda",
            "tau",
            "gradient_steps",
        ] {
            assert!(m.get(key).is_some(), "metrics lack {key}");
        }
    }
    assert!(dir.join("config.toml").exists() && dir.join("summary.json").exists());
    assert!(
        dir.join("checkpoints/final/agent.bin")
            .metadata()
            .unwrap()
            .len()
            > 1000
    );
    assert!(dir.join("checkpoints/final/state.json").exists());
    // The trained g_φ is exported in the verifier's format and certifies.
    let spec_text = std::fs::read_to_string(&spec).unwrap();
    let (head, rest) = spec_text.split_once("[update]").unwrap();
    let (_, rest) = rest.split_once("[hebbian]").unwrap();
    let rest = rest.split("[env]").next().unwrap();
    let trained =
        format!("{head}[update]\nweights = \"g_phi.json\"\ne_inputs = 32\n\n[hebbian]{rest}");
    std::fs::write(dir.join("certify-trained.toml"), trained).unwrap();
    let cert = esai(&[
        "certify",
        dir.join("certify-trained.toml").to_str().unwrap(),
        "--json",
    ]);
    let cert_json: serde_json::Value = serde_json::from_slice(&cert.stdout).unwrap();
    assert_eq!(cert.status.code(), Some(0), "{}", cert_json["reason"]);
    assert!(
        cert_json["lipschitz"]["upper"].as_f64().unwrap()
            <= cert_json["lipschitz"]["product_bound"].as_f64().unwrap()
    );
    // Evaluation from the checkpoint: greedy and stochastic.
    let ev = esai_ok(&[
        "evaluate",
        dir.to_str().unwrap(),
        "--episodes",
        "1",
        "--json",
    ]);
    let ev: serde_json::Value = serde_json::from_slice(&ev.stdout).unwrap();
    assert_eq!(ev.as_array().unwrap().len(), 2);
    assert_eq!(ev[0]["greedy"], true);
    assert_eq!(ev[0]["episodes"], 16, "one episode per copy");
    assert!(dir.join("evaluation.json").exists());
    // Not over an existing run without --force.
    let again = esai(&[
        "train",
        spec.to_str().unwrap(),
        "--steps",
        "2048",
        "--out",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(again.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&again.stderr).contains("--force"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn same_seed_gives_identical_metrics() {
    let spec = root().join("specs/esai-helps.toml");
    let read = |name: &str| {
        let dir = tmp(name);
        esai_ok(&[
            "train",
            spec.to_str().unwrap(),
            "--steps",
            "2048",
            "--out",
            dir.to_str().unwrap(),
        ]);
        let text = std::fs::read_to_string(dir.join("metrics.jsonl")).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        // Drop the wall-time fields.
        let mut v: serde_json::Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
        v.as_object_mut()
            .unwrap()
            .retain(|k, _| !k.contains("seconds"));
        v
    };
    assert_eq!(read("det-a"), read("det-b"));
}

#[test]
fn uncertified_esai_spec_is_refused_and_bad_method_named() {
    let dir = tmp("train-refuse");
    let spec = root().join("specs/not-certified.toml");
    let out = esai(&[
        "train",
        spec.to_str().unwrap(),
        "--steps",
        "2048",
        "--out",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--allow-uncertified"));
    let bad = esai(&["train", spec.to_str().unwrap(), "--method", "cpo"]);
    assert_eq!(bad.status.code(), Some(2));
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(
        err.contains("--method \"cpo\"") && err.contains("lagrangian"),
        "{err}"
    );
}

#[test]
fn paused_and_resumed_run_equals_uninterrupted_run() {
    let spec = root().join("specs/esai-helps.toml");
    let strip = |text: String| -> Vec<serde_json::Value> {
        text.lines()
            .map(|l| {
                let mut v: serde_json::Value = serde_json::from_str(l).unwrap();
                v.as_object_mut()
                    .unwrap()
                    .retain(|k, _| !k.contains("seconds"));
                v
            })
            .collect()
    };
    let full = tmp("train-full");
    esai_ok(&[
        "train",
        spec.to_str().unwrap(),
        "--steps",
        "6144",
        "--out",
        full.to_str().unwrap(),
    ]);
    let split = tmp("train-split");
    let out = esai_ok(&[
        "train",
        spec.to_str().unwrap(),
        "--steps",
        "6144",
        "--out",
        split.to_str().unwrap(),
        "--pause-after",
        "2",
    ]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("--resume"));
    assert!(!split.join("checkpoints/final").exists());
    esai_ok(&[
        "train",
        spec.to_str().unwrap(),
        "--resume",
        split.to_str().unwrap(),
    ]);
    let a = strip(std::fs::read_to_string(full.join("metrics.jsonl")).unwrap());
    let b = strip(std::fs::read_to_string(split.join("metrics.jsonl")).unwrap());
    assert_eq!(a.len(), 3);
    assert_eq!(a, b, "resumed metrics differ from the uninterrupted run");
    // A finished run cannot be resumed.
    let again = esai(&[
        "train",
        spec.to_str().unwrap(),
        "--resume",
        split.to_str().unwrap(),
    ]);
    assert_eq!(again.status.code(), Some(2));
    std::fs::remove_dir_all(&full).unwrap();
    std::fs::remove_dir_all(&split).unwrap();
}

#[test]
fn graph_dilemma_trains_esai_with_diffusion_and_ppo() {
    let spec = root().join("specs/graph-dilemma.toml");
    for method in ["esai", "ppo"] {
        let dir = tmp(&format!("train-gd-{method}"));
        let out = esai_ok(&[
            "train",
            s(&spec),
            "--method",
            method,
            "--steps",
            "4096",
            "--out",
            s(&dir),
            "--json",
        ]);
        let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(
            summary["updates"], 2,
            "8 agents × 4 copies × 64 steps = 2048 per update"
        );
        assert_eq!(summary["final"]["gradient_steps"], 160);
        let helps = summary["final"]["helps"].as_u64().unwrap();
        let steals = summary["final"]["steals"].as_u64().unwrap();
        assert!(helps > 0 && steals > 0, "agents act on their neighbours");
        if method == "esai" {
            let basis: serde_json::Value = serde_json::from_str(
                &std::fs::read_to_string(dir.join("monitor_basis.json")).unwrap(),
            )
            .unwrap();
            assert_eq!(basis["agents"], 8, "the monitor checks the trained graph");
            assert!(summary["final"]["iae_norm_max"].as_f64().unwrap() > 0.0);
        }
        esai_ok(&["evaluate", s(&dir), "--episodes", "1"]);
        std::fs::remove_dir_all(&dir).unwrap();
    }
    // The certificate's input box must contain what the environment produces.
    let dir = tmp("train-gd-box");
    std::fs::create_dir_all(&dir).unwrap();
    let bad = dir.join("spec.toml");
    std::fs::write(
        &bad,
        std::fs::read_to_string(&spec)
            .unwrap()
            .replace("reward_abs = 11.0", "reward_abs = 5.0"),
    )
    .unwrap();
    let out = esai(&["train", s(&bad), "--out", s(&dir.join("run"))]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("inputs.reward_abs") && err.contains("≥ 11"),
        "{err}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn bench_reports_throughput_breakdown_and_flops() {
    let out = esai_ok(&[
        "bench",
        "--spec",
        s(&root().join("tests/monitor/fast.toml")),
        "--updates",
        "1",
        "--json",
    ]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let rows = v["results"].as_array().unwrap();
    assert_eq!(rows.len(), 2, "esai and ppo");
    for r in rows {
        let f = |k: &str| r[k].as_f64().unwrap();
        // The parts are measured separately and nest: ESAI step ⊂ rollout ⊂ update.
        assert!(f("esai_step_seconds") <= f("rollout_seconds"), "{r}");
        assert!(
            f("rollout_seconds") + f("monitor_seconds") <= f("seconds"),
            "{r}"
        );
        assert!(f("learn_seconds") > 0.0 && f("env_steps_per_second") > 0.0);
        assert_eq!(r["env_steps"], 256, "one update of 4 copies × 64 steps");
    }
    assert_eq!(rows[1]["esai_step_seconds"], 0.0, "PPO has no ESAI step");
    // ESAI does strictly more work per step than PPO on the same networks.
    assert!(
        rows[0]["flops_per_env_step_rollout"].as_f64().unwrap()
            > rows[1]["flops_per_env_step_rollout"].as_f64().unwrap()
    );
    let bad = esai(&["bench", "--methods", "cpo"]);
    assert_eq!(bad.status.code(), Some(2));
}

#[test]
fn similarity_weighting_is_certified_over_every_reweighting_and_needs_identities() {
    let spec = root().join("specs/graph-dilemma-similarity.toml");
    let out = esai_ok(&["certify", s(&spec), "--json"]);
    let c: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(c["verdict"], "certified");
    assert_eq!(c["spec"]["similarity"], true);
    assert_eq!(c["certified_by"], serde_json::json!(["max_norm"]));
    // The spectral syntheses speak of fixed weights only.
    assert!(c["alpha_max"]["frobenius"].is_null());
    assert!(c["alpha_max"]["max_norm"].is_object());
    // Without identities there is nothing to weight by.
    let dir = tmp("train-sim-mt");
    std::fs::create_dir_all(&dir).unwrap();
    let bad = dir.join("spec.toml");
    std::fs::write(
        &bad,
        std::fs::read_to_string(root().join("specs/paper-default.toml"))
            .unwrap()
            .replace("[graph]", "[graph]\nsimilarity = true"),
    )
    .unwrap();
    let out = esai(&["train", s(&bad), "--out", s(&dir.join("run"))]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("graph.similarity") && err.contains("graph-dilemma"),
        "{err}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
