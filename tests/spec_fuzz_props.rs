//! Spec parsing and certification never panic, whatever the TOML: a
//! property test over generated TOML trees (a valid spec with fields set to
//! extreme numbers, wrong types, extra array elements, unknown keys and
//! whole sections replaced).
//!
//! Invariants, for every generated spec:
//! - `Spec::from_toml` returns `Ok` or `Err` with at least one problem, each
//!   naming a field and what is allowed — it never panics (checked with
//!   `catch_unwind`) and never allocates beyond the spec limits (so no abort);
//! - an accepted spec small enough to certify here certifies without a
//!   panic, and "certified" comes only with finite bounds B, K and B_H.
//!
//! The default run is fast (256 cases); the long run is
//! `cargo test --test spec_fuzz_props -- --ignored` (10 000 cases).

use esai_core::spec::Spec;
use esai_verify::certify::{certify, CertifyOptions, Verdict};
use proptest::prelude::*;
use toml::Value;

const BASE: &str = r#"
[dynamics]
gamma_e = 0.9
alpha = 0.05
[graph]
agents = 4
laplacian = "row"
edges = [[0, 1, 1.0], [1, 2, 1.0], [2, 3, 1.0], [3, 0, 1.0]]
[update]
lipschitz = 0.05
zero_output_norm = 0.1
[hebbian]
eta = 0.001
delta = 0.02
[inputs]
obs_norm = 1.0
action_norm = 1.0
reward_abs = 5.0
harm_abs = 3.0
"#;

/// Every field path a spec may have (and a few it may not).
const PATHS: &[&str] = &[
    "dynamics.gamma_e",
    "dynamics.alpha",
    "graph.agents",
    "graph.laplacian",
    "graph.edges",
    "graph.topology",
    "graph.seed",
    "graph.p",
    "graph.grid_cols",
    "graph.similarity",
    "update.lipschitz",
    "update.e_lipschitz",
    "update.zero_output_norm",
    "update.weights",
    "update.e_inputs",
    "hebbian.eta",
    "hebbian.delta",
    "hebbian.e_second_moment",
    "hebbian.z_second_moment",
    "inputs.obs_norm",
    "inputs.action_norm",
    "inputs.reward_abs",
    "inputs.harm_abs",
    "verify.timeout_ms",
    "env.name",
    "env.copies",
    "env.groups",
    "env.feature_dim",
    "env.feature_noise",
    "env.kin_weight",
    "env.episode_len",
    "ppo.rollout_steps",
    "ppo.epochs",
    "ppo.minibatch",
    "ppo.lr",
    "ppo.clip",
    "ppo.discount",
    "ppo.hidden",
    "ppo.grad_clip",
    "esai.k",
    "esai.hidden",
    "esai.read_dim",
    "esai.tau_steps",
    "esai.tau0",
    "esai.warmup_steps",
    "esai.lambda",
    "esai.ema",
    "train.steps",
    "train.checkpoint_every",
    "monitor.check_every",
    "monitor.iae_max",
    "monitor.incident_rows",
    "monitor.lipschitz_tolerance",
    "graph.bogus",
];

/// Floats where arithmetic breaks: subnormals, overflow thresholds, NaN, ∞.
const FLOATS: &[f64] = &[
    0.0,
    -0.0,
    5e-324,
    2.2250738585072014e-308,
    1e-300,
    1e-45,
    1e-17,
    1e-12,
    0.3,
    0.5,
    0.9,
    0.999_999_999_999,
    1.0,
    2.0,
    1e6,
    1e12,
    3.5e38,
    1e154,
    1e200,
    1e300,
    1e308,
    f64::MAX,
    -1.0,
    -1e308,
    f64::NAN,
    f64::INFINITY,
    f64::NEG_INFINITY,
];

const INTS: &[i64] = &[
    0,
    1,
    2,
    3,
    4,
    7,
    64,
    4097,
    65_537,
    2_000_001,
    1 << 31,
    1 << 62,
    i64::MAX,
    -1,
    i64::MIN,
];

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        4 => prop::sample::select(FLOATS).prop_map(Value::Float),
        4 => prop::sample::select(INTS).prop_map(Value::Integer),
        1 => any::<f64>().prop_map(Value::Float),
        1 => any::<i64>().prop_map(Value::Integer),
        1 => prop::sample::select(&["row", "sym", "ring", "complete", "grid", "erdos_renyi", "graph-dilemma", "esai", "", "/dev/zero", "missing.json"][..])
            .prop_map(|s| Value::String(s.to_string())),
        1 => any::<bool>().prop_map(Value::Boolean),
    ]
}

/// A TOML tree: leaves, intervals, edge lists (with extra or missing
/// elements) and small tables.
fn tree() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(3, 24, 5, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::vec(
                prop::collection::vec(leaf(), 2..5).prop_map(Value::Array),
                0..5
            )
            .prop_map(Value::Array),
            prop::collection::btree_map("[a-z_]{1,8}", inner, 0..3)
                .prop_map(|m| Value::Table(m.into_iter().collect())),
        ]
    })
}

fn mutated_spec() -> impl Strategy<Value = String> {
    prop::collection::vec((prop::sample::select(PATHS), tree()), 1..6).prop_map(|muts| {
        let mut table: toml::Table = toml::from_str(BASE).expect("base spec is TOML");
        for (path, value) in muts {
            let (section, key) = path.split_once('.').expect("dotted path");
            let sec = table
                .entry(section.to_string())
                .or_insert_with(|| Value::Table(toml::Table::new()));
            if let Value::Table(t) = sec {
                t.insert(key.to_string(), value);
            }
        }
        // NaN and ∞ are valid TOML (`nan`, `inf`); the serialiser writes them.
        toml::to_string(&table).unwrap_or_else(|_| BASE.to_string())
    })
}

/// Parses and (when small) certifies; `Err` describes an invariant broken.
fn check(text: &str) -> Result<(), String> {
    let loader = |_: &str| -> Result<String, String> { Err("no files in this test".into()) };
    let outcome = std::panic::catch_unwind(|| {
        let spec = match Spec::from_toml(text, &loader) {
            Ok(spec) => spec,
            Err(e) => {
                if e.problems.is_empty() {
                    return Err("rejected with no problem listed".to_string());
                }
                if let Some(p) = e
                    .problems
                    .iter()
                    .find(|p| p.field.is_empty() || p.allowed.is_empty())
                {
                    return Err(format!("problem without field or allowed: {p:?}"));
                }
                return Ok(());
            }
        };
        let g = &spec.graph.graph;
        if g.agents() > 2_000 || g.edge_count() > 20_000 {
            return Ok(()); // parsed within the limits; too large to certify here
        }
        let (cert, _) = certify(&spec, CertifyOptions::default());
        if cert.verdict == Verdict::Certified {
            let b = &cert.bounds;
            for (name, v) in [("B", b.iae_norm), ("K", b.k), ("B_H", b.hebbian_norm)] {
                if v.is_some_and(|v| !v.is_finite()) {
                    return Err(format!("certified with {name} = {v:?}"));
                }
            }
        }
        Ok(())
    });
    match outcome {
        Ok(r) => r,
        Err(panic) => {
            let msg = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            Err(format!("panicked: {msg}"))
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, .. ProptestConfig::default() })]

    #[test]
    fn parse_and_certify_never_panic(text in mutated_spec()) {
        prop_assert_eq!(check(&text), Ok(()), "spec:\n{}", text);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 10_000, .. ProptestConfig::default() })]

    /// The long run: `cargo test --test spec_fuzz_props -- --ignored`.
    #[test]
    #[ignore]
    fn parse_and_certify_never_panic_10k(text in mutated_spec()) {
        prop_assert_eq!(check(&text), Ok(()), "spec:\n{}", text);
    }
}

/// The fuzzing corpus's panics, pinned: each parses to an error or a sound
/// certificate, without a panic.
#[test]
fn fuzz_corpus_panics_are_gone() {
    let subs: &[(&str, &str)] = &[
        ("alpha = 0.05", "alpha = 1e154"),
        ("alpha = 0.05", "alpha = 1.7976931348623157e308"),
        ("lipschitz = 0.05", "lipschitz = 1.7976931348623157e308"),
        ("alpha = 0.05", "alpha = [0.0, 1e200]"),
        ("[3, 0, 1.0]", "[3, 0, 5e-324]"),
        ("obs_norm = 1.0", "obs_norm = 1e308"),
        ("eta = 0.001", "eta = 1e308"),
        (
            "edges = [[0, 1, 1.0], [1, 2, 1.0], [2, 3, 1.0], [3, 0, 1.0]]",
            "topology = \"erdos_renyi\"\np = 1e-17\nseed = 1",
        ),
        (
            "edges = [[0, 1, 1.0], [1, 2, 1.0], [2, 3, 1.0], [3, 0, 1.0]]",
            "topology = \"erdos_renyi\"\np = 5e-324\nseed = 1",
        ),
    ];
    for (from, to) in subs {
        let text = BASE.replacen(from, to, 1);
        assert_eq!(check(&text), Ok(()), "{to}");
    }
}
