//! Sweep files (`esai sweep SWEEP.toml`): a base spec and grids of spec
//! keys, expanded into named points.
//!
//! ```toml
//! [sweep]
//! spec = "../paper-default.toml"   # relative to the sweep file
//! steps = 200000                   # optional: overrides train.steps everywhere
//! evaluate_episodes = 2            # evaluation episodes per copy after training
//!
//! [[grid]]                         # each grid is a Cartesian product;
//! "esai.method" = ["esai"]         # the sweep is the union of its grids
//! "esai.lambda" = [0.0, 0.1, 1.0]
//! "train.seed" = [0, 1, 2]
//! ```
//!
//! A point's name lists its values in key order (`method-esai_lambda-0.1_seed-2`),
//! so names are stable and identical points in two grids are run once.

use crate::problem::Problem;
use serde::Deserialize;
use std::collections::BTreeMap;

/// Spec sections a grid key may name.
pub const SECTIONS: [&str; 10] = [
    "dynamics", "graph", "update", "hebbian", "inputs", "env", "ppo", "esai", "train", "monitor",
];

/// `[sweep]`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SweepSection {
    /// The base spec, relative to the sweep file.
    pub spec: String,
    /// Overrides `train.steps` for every point. By default the spec's.
    #[serde(default)]
    pub steps: Option<usize>,
    /// Evaluation episodes per environment copy after training. By default 2.
    #[serde(default = "default_episodes")]
    pub evaluate_episodes: usize,
}

fn default_episodes() -> usize {
    2
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSweep {
    sweep: SweepSection,
    #[serde(default)]
    grid: Vec<BTreeMap<String, toml::Value>>,
}

/// One point of a sweep: a name and the spec keys it sets.
#[derive(Debug, Clone, PartialEq)]
pub struct Point {
    /// Stable, filesystem-safe name.
    pub id: String,
    /// `(dotted key, value)` in key order.
    pub overrides: Vec<(String, toml::Value)>,
}

/// A checked sweep file.
#[derive(Debug, Clone, PartialEq)]
pub struct Sweep {
    /// `[sweep]`.
    pub section: SweepSection,
    /// Every point, in grid order, duplicates removed.
    pub points: Vec<Point>,
}

fn value_text(v: &toml::Value) -> String {
    match v {
        toml::Value::String(s) => s.clone(),
        toml::Value::Float(f) => format!("{f}"),
        other => other.to_string(),
    }
}

fn safe(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect()
}

impl Sweep {
    /// Parses and expands a sweep file, reporting every problem.
    pub fn from_toml(text: &str) -> Result<Self, Vec<Problem>> {
        let raw: RawSweep = toml::from_str(text).map_err(|e| {
            vec![Problem {
                field: "sweep file".into(),
                value: e.message().to_string(),
                allowed:
                    "a [sweep] table with `spec` and [[grid]] tables of \"section.key\" = [values]"
                        .into(),
            }]
        })?;
        let mut problems = Vec::new();
        let mut bad = |field: String, value: String, allowed: &str| {
            problems.push(Problem {
                field,
                value,
                allowed: allowed.into(),
            })
        };
        if raw.sweep.evaluate_episodes == 0 {
            bad(
                "sweep.evaluate_episodes".into(),
                "0".into(),
                "an integer ≥ 1",
            );
        }
        if raw.sweep.steps == Some(0) {
            bad("sweep.steps".into(), "0".into(), "an integer ≥ 1");
        }
        if raw.grid.is_empty() {
            bad(
                "grid".into(),
                "(none)".into(),
                "at least one [[grid]] table",
            );
        }
        let mut points: Vec<Point> = Vec::new();
        for (g, grid) in raw.grid.iter().enumerate() {
            let mut axes: Vec<(&String, &Vec<toml::Value>)> = Vec::new();
            for (key, values) in grid {
                let field = format!("grid[{g}].\"{key}\"");
                let section_ok = key
                    .split_once('.')
                    .is_some_and(|(s, f)| SECTIONS.contains(&s) && !f.is_empty());
                if !section_ok {
                    bad(
                        field.clone(),
                        key.clone(),
                        &format!(
                            "\"section.key\" with section one of {}",
                            SECTIONS.join(", ")
                        ),
                    );
                    continue;
                }
                match values {
                    toml::Value::Array(vs)
                        if !vs.is_empty()
                            && vs.iter().all(|v| {
                                !matches!(v, toml::Value::Array(_) | toml::Value::Table(_))
                            }) =>
                    {
                        axes.push((key, vs))
                    }
                    other => bad(field, other.to_string(), "a non-empty array of scalars"),
                }
            }
            // Cartesian product in key order (BTreeMap: sorted keys).
            let mut combos: Vec<Vec<(String, toml::Value)>> = vec![Vec::new()];
            for (key, values) in &axes {
                combos = combos
                    .into_iter()
                    .flat_map(|c| {
                        values.iter().map(move |v| {
                            let mut c = c.clone();
                            c.push(((*key).clone(), v.clone()));
                            c
                        })
                    })
                    .collect();
            }
            for overrides in combos {
                let id = overrides
                    .iter()
                    .map(|(k, v)| {
                        let last = k.rsplit('.').next().unwrap_or(k);
                        format!("{}-{}", safe(last), safe(&value_text(v)))
                    })
                    .collect::<Vec<_>>()
                    .join("_");
                if !points.iter().any(|p| p.id == id) {
                    points.push(Point { id, overrides });
                }
            }
        }
        if problems.is_empty() {
            Ok(Self {
                section: raw.sweep,
                points,
            })
        } else {
            Err(problems)
        }
    }
}

/// Sets `key` (`"section.field"`) to `value` in a spec's TOML table.
pub fn apply(spec: &mut toml::Table, key: &str, value: &toml::Value) {
    let (section, field) = key.split_once('.').unwrap_or(("", key));
    let entry = spec
        .entry(section.to_string())
        .or_insert_with(|| toml::Value::Table(toml::Table::new()));
    if let toml::Value::Table(t) = entry {
        // A nested key like monitor.policy.nonfinite.
        match field.split_once('.') {
            Some((sub, rest)) => {
                let inner = t
                    .entry(sub.to_string())
                    .or_insert_with(|| toml::Value::Table(toml::Table::new()));
                if let toml::Value::Table(it) = inner {
                    it.insert(rest.to_string(), value.clone());
                }
            }
            None => {
                t.insert(field.to_string(), value.clone());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grids_expand_to_named_unique_points() {
        let s = Sweep::from_toml(
            r#"
[sweep]
spec = "base.toml"
[[grid]]
"esai.method" = ["esai"]
"esai.lambda" = [0.0, 0.5]
"train.seed" = [0, 1]
[[grid]]
"esai.method" = ["ppo", "esai"]
"esai.lambda" = [0.5]
"train.seed" = [1]
"#,
        )
        .expect("valid");
        let ids: Vec<&str> = s.points.iter().map(|p| p.id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "lambda-0_method-esai_seed-0",
                "lambda-0_method-esai_seed-1",
                "lambda-0.5_method-esai_seed-0",
                "lambda-0.5_method-esai_seed-1",
                "lambda-0.5_method-ppo_seed-1",
            ]
        );
        assert_eq!(s.section.evaluate_episodes, 2);
    }

    #[test]
    fn bad_keys_and_values_are_all_named() {
        let e = Sweep::from_toml(
            r#"
[sweep]
spec = "base.toml"
evaluate_episodes = 0
[[grid]]
"lambda" = [1.0]
"esai.k" = []
"#,
        )
        .expect_err("invalid");
        let fields: Vec<&str> = e.iter().map(|p| p.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "sweep.evaluate_episodes",
                "grid[0].\"esai.k\"",
                "grid[0].\"lambda\""
            ]
        );
    }

    #[test]
    fn apply_sets_nested_keys() {
        let mut t: toml::Table = toml::from_str("[esai]\nlambda = 0.1\n").expect("toml");
        apply(&mut t, "esai.lambda", &toml::Value::Float(2.0));
        apply(
            &mut t,
            "monitor.policy.nonfinite",
            &toml::Value::String("warn".into()),
        );
        assert_eq!(t["esai"]["lambda"].as_float(), Some(2.0));
        assert_eq!(t["monitor"]["policy"]["nonfinite"].as_str(), Some("warn"));
    }
}
