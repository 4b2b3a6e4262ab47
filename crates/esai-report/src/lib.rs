//! Sweep reports: runs grouped by their settings (seeds pooled), mean and
//! 95% confidence interval per metric, the λ transition, tables (Markdown,
//! CSV, JSON schema `esai.report/v1`) and SVG figures.
//!
//! The crate reads nothing from disk: the CLI turns run directories into
//! [`RunRecord`]s.
//!
//! ```
//! use esai_report::{Report, RunRecord, FinalMetrics};
//! let run = |lambda: f64, seed: u64, pr: f64| RunRecord {
//!     id: format!("l{lambda}-s{seed}"),
//!     settings: [("esai.lambda".to_string(), lambda.to_string())].into(),
//!     method: "esai".into(),
//!     lambda,
//!     seed,
//!     status: "done".into(),
//!     metrics: Some(FinalMetrics { prosocial_rate: Some(pr), mean_return: Some(100.0),
//!         entropy: Some(1.0), ar_help: None, ar_steal: None, mean_episode_harm: Some(0.0) }),
//!     curve: vec![],
//! };
//! let report = Report::build(&[run(0.1, 0, 0.1), run(0.1, 1, 0.2), run(1.0, 0, 0.9), run(1.0, 1, 0.8)]);
//! assert_eq!(report.points.len(), 2);
//! assert!(report.transitions[0].transition.point.is_some());
//! ```
#![warn(missing_docs)]

pub mod plots;
pub mod stats;

use serde::Serialize;
use stats::{estimate, transition, Estimate, Transition};
use std::collections::BTreeMap;

/// Schema identifier of `report.json`.
pub const SCHEMA: &str = "esai.report/v1";

/// The final numbers of one run (from its evaluation).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct FinalMetrics {
    /// HELP / (HELP + STEAL).
    pub prosocial_rate: Option<f64>,
    /// Mean episode return.
    pub mean_return: Option<f64>,
    /// Policy entropy (nats), last training update.
    pub entropy: Option<f64>,
    /// Alignment regret of HELP.
    pub ar_help: Option<f64>,
    /// Alignment regret of STEAL.
    pub ar_steal: Option<f64>,
    /// Harm caused per agent and episode.
    pub mean_episode_harm: Option<f64>,
}

/// One training-curve point.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct CurvePoint {
    /// Environment steps.
    pub env_steps: f64,
    /// Prosocial rate of that update's rollout.
    pub prosocial_rate: Option<f64>,
    /// Mean return of that update's episodes.
    pub mean_return: Option<f64>,
}

/// One run of a sweep.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunRecord {
    /// The point's name.
    pub id: String,
    /// The sweep settings of the point (`"section.key" → value`), seed included.
    pub settings: BTreeMap<String, String>,
    /// Training method (resolved).
    pub method: String,
    /// `esai.lambda` (resolved).
    pub lambda: f64,
    /// Seed (resolved).
    pub seed: u64,
    /// `done`, `halted`, `interrupted`, `uncertified`, `failed` or `pending`.
    pub status: String,
    /// Final metrics when done.
    pub metrics: Option<FinalMetrics>,
    /// Training curve.
    pub curve: Vec<CurvePoint>,
}

/// Methods whose objective uses `esai.lambda`.
pub fn uses_lambda(method: &str) -> bool {
    method.starts_with("esai") || method == "reward-shaping"
}

/// A group of runs that differ only in the seed.
#[derive(Debug, Clone, Serialize)]
pub struct PointSummary {
    /// The settings other than the seed, as `key=value` joined by `, `.
    pub label: String,
    /// Method.
    pub method: String,
    /// λ (meaningful when the method uses it).
    pub lambda: f64,
    /// The settings other than the seed.
    pub settings: BTreeMap<String, String>,
    /// Seeds done / in the sweep.
    pub seeds_done: usize,
    /// Seeds planned.
    pub seeds: usize,
    /// Runs not done, by status.
    pub not_done: BTreeMap<String, usize>,
    /// Metric name → estimate over the done seeds.
    pub metrics: BTreeMap<String, Estimate>,
    /// Mean training curve over seeds (per update index).
    pub curve: Vec<CurvePoint>,
}

/// λ transition of one family (same settings except λ and seed).
#[derive(Debug, Clone, Serialize)]
pub struct FamilyTransition {
    /// The family's fixed settings.
    pub family: String,
    /// λ values of the family, ascending.
    pub lambdas: Vec<f64>,
    /// Where the mean prosocial rate first reaches 0.5.
    pub transition: Transition,
}

/// The whole report.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// Always [`SCHEMA`].
    pub schema: &'static str,
    /// Runs by status.
    pub runs: BTreeMap<String, usize>,
    /// One row per group of seeds.
    pub points: Vec<PointSummary>,
    /// λ* per family of λ-using methods with at least two λ values.
    pub transitions: Vec<FamilyTransition>,
}

/// The metrics reported, in table order.
pub const METRICS: [&str; 6] = [
    "prosocial_rate",
    "mean_return",
    "entropy",
    "ar_help",
    "ar_steal",
    "mean_episode_harm",
];

fn metric(m: &FinalMetrics, name: &str) -> Option<f64> {
    match name {
        "prosocial_rate" => m.prosocial_rate,
        "mean_return" => m.mean_return,
        "entropy" => m.entropy,
        "ar_help" => m.ar_help,
        "ar_steal" => m.ar_steal,
        _ => m.mean_episode_harm,
    }
}

fn label(settings: &BTreeMap<String, String>, skip: &[&str]) -> String {
    settings
        .iter()
        .filter(|(k, _)| !skip.contains(&k.as_str()))
        .map(|(k, v)| format!("{}={v}", k.rsplit('.').next().unwrap_or(k)))
        .collect::<Vec<_>>()
        .join(", ")
}

fn mean_curve(runs: &[&RunRecord]) -> Vec<CurvePoint> {
    let len = runs.iter().map(|r| r.curve.len()).max().unwrap_or(0);
    (0..len)
        .map(|i| {
            let pts: Vec<&CurvePoint> = runs.iter().filter_map(|r| r.curve.get(i)).collect();
            let avg = |f: fn(&CurvePoint) -> Option<f64>| {
                let v: Vec<f64> = pts.iter().filter_map(|p| f(p)).collect();
                (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
            };
            CurvePoint {
                env_steps: pts.first().map_or(0.0, |p| p.env_steps),
                prosocial_rate: avg(|p| p.prosocial_rate),
                mean_return: avg(|p| p.mean_return),
            }
        })
        .collect()
}

impl Report {
    /// Groups `runs` by their settings without the seed and summarises them.
    pub fn build(runs: &[RunRecord]) -> Self {
        let mut by_status = BTreeMap::new();
        let mut groups: BTreeMap<String, Vec<&RunRecord>> = BTreeMap::new();
        for r in runs {
            *by_status.entry(r.status.clone()).or_insert(0) += 1;
            let key = format!(
                "{}|{}",
                r.method,
                label(&r.settings, &["train.seed", "esai.method"])
            );
            groups.entry(key).or_default().push(r);
        }
        let mut points: Vec<PointSummary> = groups
            .values()
            .map(|rs| {
                let first = rs[0];
                let done: Vec<&RunRecord> = rs
                    .iter()
                    .copied()
                    .filter(|r| r.status == "done" && r.metrics.is_some())
                    .collect();
                let mut not_done = BTreeMap::new();
                for r in rs.iter().filter(|r| r.status != "done") {
                    *not_done.entry(r.status.clone()).or_insert(0) += 1;
                }
                let metrics = METRICS
                    .iter()
                    .filter_map(|&name| {
                        let v: Vec<f64> = done
                            .iter()
                            .filter_map(|r| r.metrics.as_ref().and_then(|m| metric(m, name)))
                            .collect();
                        estimate(&v).map(|e| (name.to_string(), e))
                    })
                    .collect();
                let mut settings = first.settings.clone();
                settings.remove("train.seed");
                PointSummary {
                    label: format!(
                        "{}{}",
                        first.method,
                        match label(&settings, &["esai.method"]) {
                            s if s.is_empty() => String::new(),
                            s => format!(" ({s})"),
                        }
                    ),
                    method: first.method.clone(),
                    lambda: first.lambda,
                    settings,
                    seeds_done: done.len(),
                    seeds: rs.len(),
                    not_done,
                    metrics,
                    curve: mean_curve(&done),
                }
            })
            .collect();
        points.sort_by(|a, b| {
            (a.method.as_str(), a.lambda)
                .partial_cmp(&(b.method.as_str(), b.lambda))
                .unwrap_or(std::cmp::Ordering::Equal)
                .then(a.label.cmp(&b.label))
        });
        // Families: same settings except λ and seed, λ-using methods.
        let mut families: BTreeMap<String, Vec<(f64, Vec<f64>)>> = BTreeMap::new();
        for r in runs
            .iter()
            .filter(|r| uses_lambda(&r.method) && r.status == "done")
        {
            let fam = format!(
                "{}{}",
                r.method,
                match label(&r.settings, &["train.seed", "esai.lambda", "esai.method"]) {
                    s if s.is_empty() => String::new(),
                    s => format!(" ({s})"),
                }
            );
            let Some(pr) = r.metrics.as_ref().and_then(|m| m.prosocial_rate) else {
                continue;
            };
            let list = families.entry(fam).or_default();
            match list.iter_mut().find(|(l, _)| *l == r.lambda) {
                Some((_, v)) => v.push(pr),
                None => list.push((r.lambda, vec![pr])),
            }
        }
        let transitions = families
            .into_iter()
            .filter(|(_, l)| l.len() >= 2)
            .map(|(family, mut list)| {
                list.sort_by(|a, b| a.0.total_cmp(&b.0));
                let xs: Vec<f64> = list.iter().map(|(l, _)| *l).collect();
                let samples: Vec<Vec<f64>> = list.into_iter().map(|(_, v)| v).collect();
                FamilyTransition {
                    family,
                    transition: transition(&xs, &samples, 0.5, 2000),
                    lambdas: xs,
                }
            })
            .collect();
        Self {
            schema: SCHEMA,
            runs: by_status,
            points,
            transitions,
        }
    }

    /// The table as CSV (one row per point, mean/lo/hi per metric).
    pub fn csv(&self) -> String {
        let mut out = String::from("point,method,lambda,seeds_done,seeds");
        for m in METRICS {
            out.push_str(&format!(",{m}_mean,{m}_ci_lo,{m}_ci_hi"));
        }
        out.push('\n');
        for p in &self.points {
            out.push_str(&format!(
                "\"{}\",{},{},{},{}",
                p.label.replace('"', "'"),
                p.method,
                p.lambda,
                p.seeds_done,
                p.seeds
            ));
            for m in METRICS {
                match p.metrics.get(m) {
                    Some(e) => out.push_str(&format!(",{},{},{}", e.mean, e.lo, e.hi)),
                    None => out.push_str(",,,"),
                }
            }
            out.push('\n');
        }
        out
    }

    /// The table and transitions as Markdown.
    pub fn markdown(&self) -> String {
        let cell = |e: Option<&Estimate>, digits: usize| match e {
            Some(e) if e.n > 1 => {
                format!("{:.d$} [{:.d$}, {:.d$}]", e.mean, e.lo, e.hi, d = digits)
            }
            Some(e) => format!("{:.d$} (1 seed)", e.mean, d = digits),
            None => "—".into(),
        };
        let mut md = String::from(
            "| point | seeds | prosocial rate | return | entropy | AR(HELP) | AR(STEAL) |\n|---|---|---|---|---|---|---|\n",
        );
        for p in &self.points {
            let seeds = if p.not_done.is_empty() {
                format!("{}/{}", p.seeds_done, p.seeds)
            } else {
                let nd: Vec<String> = p.not_done.iter().map(|(k, v)| format!("{v} {k}")).collect();
                format!("{}/{} ({})", p.seeds_done, p.seeds, nd.join(", "))
            };
            md.push_str(&format!(
                "| {} | {} | {} | {} | {} | {} | {} |\n",
                p.label,
                seeds,
                cell(p.metrics.get("prosocial_rate"), 3),
                cell(p.metrics.get("mean_return"), 1),
                cell(p.metrics.get("entropy"), 3),
                cell(p.metrics.get("ar_help"), 4),
                cell(p.metrics.get("ar_steal"), 4),
            ));
        }
        md.push_str("\nMean over seeds with a 95% Student-t interval [lo, hi].\n");
        if !self.transitions.is_empty() {
            md.push_str("\n## λ* (mean prosocial rate first reaches 0.5)\n\n| family | λ grid | λ* | 95% bootstrap interval | resamples without a crossing |\n|---|---|---|---|---|\n");
            for f in &self.transitions {
                let t = &f.transition;
                md.push_str(&format!(
                    "| {} | {} | {} | {} | {} / {} |\n",
                    f.family,
                    f.lambdas
                        .iter()
                        .map(|l| l.to_string())
                        .collect::<Vec<_>>()
                        .join(", "),
                    t.point.map_or("not reached".into(), |p| format!("{p:.4}")),
                    t.ci.map_or("—".into(), |(a, b)| format!("[{a:.4}, {b:.4}]")),
                    t.resamples_without_crossing,
                    t.resamples
                ));
            }
        }
        md
    }
}
