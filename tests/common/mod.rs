//! Helpers shared by the end-to-end tests: run the `esai` binary, check its
//! exit code, find the repository, make a fresh temporary directory.
#![allow(dead_code)] // each test file uses a subset

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Runs `esai` with `args`.
pub fn esai(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_esai"))
        .args(args)
        .output()
        .expect("run esai")
}

/// Runs `esai` and requires the exit code, showing its stderr otherwise.
pub fn esai_code(code: i32, args: &[&str]) -> Output {
    let out = esai(args);
    assert_eq!(
        out.status.code(),
        Some(code),
        "esai {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Runs `esai` and requires success.
pub fn esai_ok(args: &[&str]) -> Output {
    esai_code(0, args)
}

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A fresh, empty path in the temporary directory, unique per test process.
pub fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("esai-test-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

/// A path as `&str` for command lines.
pub fn s(p: &Path) -> &str {
    p.to_str().expect("UTF-8 path")
}

/// Checks `value` against the subset of JSON Schema our schemas use
/// (`type`, `const`, `required`, `properties`, `items`, `anyOf`, local
/// `$ref`s); returns the first violation with its path.
pub fn validate(schema: &serde_json::Value, value: &serde_json::Value) -> Result<(), String> {
    fn check(
        root: &serde_json::Value,
        s: &serde_json::Value,
        v: &serde_json::Value,
        path: &str,
    ) -> Result<(), String> {
        if let Some(r) = s.get("$ref").and_then(|r| r.as_str()) {
            let target = r
                .strip_prefix("#/")
                .ok_or(format!("{path}: only local $ref"))?
                .split('/')
                .try_fold(root, |node, key| node.get(key))
                .ok_or(format!("{path}: dangling $ref {r}"))?;
            return check(root, target, v, path);
        }
        if let Some(any) = s.get("anyOf").and_then(|a| a.as_array()) {
            if !any.iter().any(|alt| check(root, alt, v, path).is_ok()) {
                return Err(format!("{path}: matches no anyOf alternative"));
            }
        }
        if let Some(c) = s.get("const") {
            if c != v {
                return Err(format!("{path}: {v} ≠ const {c}"));
            }
        }
        if let Some(t) = s.get("type") {
            let types: Vec<&str> = match t {
                serde_json::Value::String(x) => vec![x.as_str()],
                serde_json::Value::Array(xs) => xs.iter().filter_map(|x| x.as_str()).collect(),
                _ => vec![],
            };
            let ok = types.iter().any(|ty| match *ty {
                "object" => v.is_object(),
                "array" => v.is_array(),
                "string" => v.is_string(),
                "boolean" => v.is_boolean(),
                "null" => v.is_null(),
                "number" => v.is_number(),
                "integer" => v.is_u64() || v.is_i64(),
                _ => false,
            });
            if !ok {
                return Err(format!("{path}: {v} is not of type {t}"));
            }
        }
        if let Some(req) = s.get("required").and_then(|r| r.as_array()) {
            for k in req.iter().filter_map(|k| k.as_str()) {
                if v.get(k).is_none() {
                    return Err(format!("{path}: missing required {k}"));
                }
            }
        }
        if let (Some(props), Some(obj)) = (
            s.get("properties").and_then(|p| p.as_object()),
            v.as_object(),
        ) {
            for (k, sub) in props {
                if let Some(x) = obj.get(k) {
                    check(root, sub, x, &format!("{path}.{k}"))?;
                }
            }
        }
        if let (Some(items), Some(arr)) = (s.get("items"), v.as_array()) {
            for (i, x) in arr.iter().enumerate() {
                check(root, items, x, &format!("{path}[{i}]"))?;
            }
        }
        Ok(())
    }
    check(schema, schema, value, "$")
}

/// The wall-clock fields of a run's records: the only ones a resumed run
/// may differ in from the uninterrupted one.
pub fn is_wall_clock(key: &str) -> bool {
    key.contains("seconds")
        || matches!(
            key,
            "env_steps_per_second" | "rollout_fraction" | "overhead_fraction"
        )
}

/// `value` with every wall-clock field removed, recursively.
pub fn without_wall_clock(mut value: serde_json::Value) -> serde_json::Value {
    fn strip(v: &mut serde_json::Value) {
        if let Some(o) = v.as_object_mut() {
            o.retain(|k, _| !is_wall_clock(k));
            o.values_mut().for_each(strip);
        } else if let Some(a) = v.as_array_mut() {
            a.iter_mut().for_each(strip);
        }
    }
    strip(&mut value);
    value
}

/// A run directory's metrics rows and summary without wall-clock fields:
/// what must be equal between a resumed and an uninterrupted run.
pub fn run_record(dir: &Path) -> (Vec<serde_json::Value>, serde_json::Value) {
    let rows = std::fs::read_to_string(dir.join("metrics.jsonl"))
        .unwrap_or_default()
        .lines()
        .map(|l| without_wall_clock(serde_json::from_str(l).expect("a JSON row")))
        .collect();
    let summary = std::fs::read_to_string(dir.join("summary.json"))
        .map(|t| without_wall_clock(serde_json::from_str(&t).expect("summary JSON")))
        .unwrap_or(serde_json::Value::Null);
    (rows, summary)
}
