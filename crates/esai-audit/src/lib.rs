//! Similarity–cooperation bias audits (`esai audit RUN_DIR`).
//!
//! Input: evaluation rollouts of a trained multi-agent policy, counted per
//! **unit** (one episode of one environment copy) and per directed edge
//! `i → j` of the interaction graph: how often `i` helped and robbed `j`,
//! out of how many steps. Agents' groups and identity features are known
//! per copy. Output ([`Audit`], schema `esai.audit/v1`):
//!
//! - HELP and STEAL rates per (actor group, target group), and in-group vs
//!   out-group, with the **gap** (in − out);
//! - the OLS **slope** of an edge's HELP rate on the identity similarity
//!   `β_ij = max(0, cos(f_i, f_j))` of its ends (Eq. 9's form);
//! - fairness metrics in Fairlearn's vocabulary (a metric by group; its
//!   `difference` = max − min and `ratio` = min / max), with the thresholds
//!   used for pass/fail;
//! - optionally a **counterfactual identity probe**: the same policy with
//!   identities swapped across groups; a gap that follows the identities
//!   rather than the groups is favouritism caused by identity alone.
//!
//! Every interval is a percentile bootstrap over units (seeded: the same
//! data gives the same report), 95% by default.
#![warn(missing_docs)]

pub mod plots;

use esai_core::rng::SplitMix64;
use serde::Serialize;

/// Schema identifier of the JSON report.
pub const SCHEMA: &str = "esai.audit/v1";

/// The population of one environment copy.
#[derive(Debug, Clone, PartialEq)]
pub struct Population {
    /// Group of each agent.
    pub groups: Vec<usize>,
    /// Identity feature of each agent.
    pub features: Vec<Vec<f32>>,
}

/// Counts of one episode of one copy, per directed edge.
#[derive(Debug, Clone, PartialEq)]
pub struct Unit {
    /// The copy (index into [`Rollouts::populations`]).
    pub copy: usize,
    /// Steps in the episode.
    pub steps: u32,
    /// `(helps, steals)` per directed edge, in [`Rollouts::edges`] order.
    pub counts: Vec<(u32, u32)>,
}

/// Everything an audit reads.
#[derive(Debug, Clone, PartialEq)]
pub struct Rollouts {
    /// Directed edges `(actor, target)` of the graph.
    pub edges: Vec<(usize, usize)>,
    /// One population per copy.
    pub populations: Vec<Population>,
    /// Episodes.
    pub units: Vec<Unit>,
}

/// An estimate with its bootstrap interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Ci {
    /// Point estimate on all units.
    pub value: f64,
    /// 2.5% bootstrap quantile.
    pub lo: f64,
    /// 97.5% bootstrap quantile.
    pub hi: f64,
}

impl Ci {
    /// Whether the interval excludes 0.
    pub fn excludes_zero(&self) -> bool {
        self.lo > 0.0 || self.hi < 0.0
    }
}

/// Rates between two groups.
#[derive(Debug, Clone, Serialize)]
pub struct PairRates {
    /// Actor group.
    pub actor_group: usize,
    /// Target group.
    pub target_group: usize,
    /// HELPs per edge-step.
    pub help_rate: f64,
    /// STEALs per edge-step.
    pub steal_rate: f64,
    /// Edge-steps observed.
    pub opportunities: u64,
}

/// One directed edge of one copy (the graph view).
#[derive(Debug, Clone, Serialize)]
pub struct EdgeView {
    /// Copy.
    pub copy: usize,
    /// Actor.
    pub actor: usize,
    /// Target.
    pub target: usize,
    /// Same group.
    pub in_group: bool,
    /// `β_ij = max(0, cos(f_i, f_j))`.
    pub similarity: f64,
    /// HELPs per step on this edge.
    pub help_rate: f64,
    /// STEALs per step.
    pub steal_rate: f64,
}

/// A metric by group with Fairlearn's `difference` and `ratio`.
#[derive(Debug, Clone, Serialize)]
pub struct Fairness {
    /// What is measured.
    pub metric: String,
    /// `(group label, value)`.
    pub by_group: Vec<(String, f64)>,
    /// max − min.
    pub difference: f64,
    /// min / max (1 when max = 0).
    pub ratio: f64,
    /// `difference ≤ max_difference` and `ratio ≥ min_ratio`.
    pub pass: bool,
}

/// Pass/fail thresholds.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Thresholds {
    /// Largest allowed difference. By default 0.1.
    pub max_difference: f64,
    /// Smallest allowed ratio (the four-fifths rule). By default 0.8.
    pub min_ratio: f64,
}

impl Default for Thresholds {
    fn default() -> Self {
        Self {
            max_difference: 0.1,
            min_ratio: 0.8,
        }
    }
}

/// The analysis of one set of rollouts.
#[derive(Debug, Clone, Serialize)]
pub struct Analysis {
    /// Units (episodes × copies).
    pub units: usize,
    /// Per group pair.
    pub pairs: Vec<PairRates>,
    /// In-group HELP rate.
    pub help_in: Ci,
    /// Out-group HELP rate.
    pub help_out: Ci,
    /// In-group minus out-group HELP rate.
    pub help_gap: Ci,
    /// In-group STEAL rate.
    pub steal_in: Ci,
    /// Out-group STEAL rate.
    pub steal_out: Ci,
    /// Out-group minus in-group STEAL rate (harm aimed outward).
    pub steal_gap: Ci,
    /// OLS slope of an edge's HELP rate on its similarity.
    pub help_similarity_slope: Ci,
    /// Intercept of that fit (point estimate).
    pub help_similarity_intercept: f64,
    /// Per-edge view.
    pub edges: Vec<EdgeView>,
}

/// The full audit.
#[derive(Debug, Clone, Serialize)]
pub struct Audit {
    /// Always [`SCHEMA`].
    pub schema: &'static str,
    /// Groups.
    pub groups: usize,
    /// The policy as trained.
    pub observed: Analysis,
    /// The same policy with identities swapped across groups, if probed.
    pub counterfactual: Option<Analysis>,
    /// `counterfactual.help_gap − observed.help_gap` with a bootstrap interval.
    pub identity_effect_on_help_gap: Option<Ci>,
    /// Fairness metrics with pass/fail.
    pub fairness: Vec<Fairness>,
    /// The thresholds.
    pub thresholds: Thresholds,
    /// Bootstrap resamples.
    pub resamples: usize,
    /// True when every fairness metric passes and the HELP gap's interval contains 0.
    pub pass: bool,
}

fn cosine(a: &[f32], b: &[f32]) -> f64 {
    let dot: f64 = a
        .iter()
        .zip(b)
        .map(|(x, y)| (*x as f64) * (*y as f64))
        .sum();
    let na: f64 = a.iter().map(|x| (*x as f64).powi(2)).sum::<f64>().sqrt();
    let nb: f64 = b.iter().map(|x| (*x as f64).powi(2)).sum::<f64>().sqrt();
    if na == 0.0 || nb == 0.0 {
        0.0
    } else {
        dot / (na * nb)
    }
}

/// Point statistics of a multiset of units (given as indices).
struct Stats {
    help_in: f64,
    help_out: f64,
    steal_in: f64,
    steal_out: f64,
    slope: f64,
    intercept: f64,
}

fn ratio(a: u64, b: u64) -> f64 {
    if b == 0 {
        f64::NAN
    } else {
        a as f64 / b as f64
    }
}

impl Rollouts {
    fn in_group(&self, copy: usize, e: usize) -> bool {
        let (i, j) = self.edges[e];
        let g = &self.populations[copy].groups;
        g[i] == g[j]
    }

    fn similarity(&self, copy: usize, e: usize) -> f64 {
        let (i, j) = self.edges[e];
        let f = &self.populations[copy].features;
        cosine(&f[i], &f[j]).max(0.0)
    }

    fn stats(&self, units: &[usize]) -> Stats {
        let (mut hi, mut ho, mut si, mut so, mut ni, mut no) = (0u64, 0u64, 0u64, 0u64, 0u64, 0u64);
        // Per (copy, edge): helps and steps, for the slope.
        let mut per_edge: std::collections::BTreeMap<(usize, usize), (u64, u64)> =
            std::collections::BTreeMap::new();
        for &u in units {
            let unit = &self.units[u];
            for (e, &(h, s)) in unit.counts.iter().enumerate() {
                let steps = unit.steps as u64;
                if self.in_group(unit.copy, e) {
                    (hi, si, ni) = (hi + h as u64, si + s as u64, ni + steps);
                } else {
                    (ho, so, no) = (ho + h as u64, so + s as u64, no + steps);
                }
                let pe = per_edge.entry((unit.copy, e)).or_default();
                pe.0 += h as u64;
                pe.1 += steps;
            }
        }
        let pts: Vec<(f64, f64)> = per_edge
            .iter()
            .filter(|(_, (_, n))| *n > 0)
            .map(|(&(c, e), &(h, n))| (self.similarity(c, e), h as f64 / n as f64))
            .collect();
        let n = pts.len() as f64;
        let (mx, my) = (
            pts.iter().map(|p| p.0).sum::<f64>() / n,
            pts.iter().map(|p| p.1).sum::<f64>() / n,
        );
        let sxx: f64 = pts.iter().map(|p| (p.0 - mx).powi(2)).sum();
        let sxy: f64 = pts.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
        let slope = if sxx > 0.0 { sxy / sxx } else { f64::NAN };
        Stats {
            help_in: ratio(hi, ni),
            help_out: ratio(ho, no),
            steal_in: ratio(si, ni),
            steal_out: ratio(so, no),
            slope,
            intercept: my - slope * mx,
        }
    }

    /// Analyses the rollouts with `resamples` bootstrap resamples from `seed`.
    pub fn analyse(&self, resamples: usize, seed: u64) -> Analysis {
        let all: Vec<usize> = (0..self.units.len()).collect();
        let point = self.stats(&all);
        let mut rng = SplitMix64::new(seed);
        let mut boots: Vec<Stats> = Vec::with_capacity(resamples);
        for _ in 0..resamples {
            let pick: Vec<usize> = (0..all.len())
                .map(|_| (rng.next_u64() % all.len().max(1) as u64) as usize)
                .collect();
            boots.push(self.stats(&pick));
        }
        let ci = |f: &dyn Fn(&Stats) -> f64| {
            let mut v: Vec<f64> = boots.iter().map(f).filter(|x| x.is_finite()).collect();
            v.sort_by(f64::total_cmp);
            let q = |p: f64| {
                if v.is_empty() {
                    f64::NAN
                } else {
                    v[((p * (v.len() - 1) as f64).round() as usize).min(v.len() - 1)]
                }
            };
            Ci {
                value: f(&point),
                lo: q(0.025),
                hi: q(0.975),
            }
        };
        let groups = self
            .populations
            .iter()
            .flat_map(|p| p.groups.iter().copied())
            .max()
            .map_or(0, |g| g + 1);
        let mut pairs = Vec::new();
        for ga in 0..groups {
            for gb in 0..groups {
                let (mut h, mut s, mut n) = (0u64, 0u64, 0u64);
                for unit in &self.units {
                    let g = &self.populations[unit.copy].groups;
                    for (e, &(hh, ss)) in unit.counts.iter().enumerate() {
                        let (i, j) = self.edges[e];
                        if g[i] == ga && g[j] == gb {
                            (h, s, n) = (h + hh as u64, s + ss as u64, n + unit.steps as u64);
                        }
                    }
                }
                pairs.push(PairRates {
                    actor_group: ga,
                    target_group: gb,
                    help_rate: ratio(h, n),
                    steal_rate: ratio(s, n),
                    opportunities: n,
                });
            }
        }
        let mut edges = Vec::new();
        for (c, _) in self.populations.iter().enumerate() {
            for (e, &(i, j)) in self.edges.iter().enumerate() {
                let (mut h, mut s, mut n) = (0u64, 0u64, 0u64);
                for unit in self.units.iter().filter(|u| u.copy == c) {
                    let (hh, ss) = unit.counts[e];
                    (h, s, n) = (h + hh as u64, s + ss as u64, n + unit.steps as u64);
                }
                if n > 0 {
                    edges.push(EdgeView {
                        copy: c,
                        actor: i,
                        target: j,
                        in_group: self.in_group(c, e),
                        similarity: self.similarity(c, e),
                        help_rate: ratio(h, n),
                        steal_rate: ratio(s, n),
                    });
                }
            }
        }
        Analysis {
            units: self.units.len(),
            pairs,
            help_in: ci(&|s| s.help_in),
            help_out: ci(&|s| s.help_out),
            help_gap: ci(&|s| s.help_in - s.help_out),
            steal_in: ci(&|s| s.steal_in),
            steal_out: ci(&|s| s.steal_out),
            steal_gap: ci(&|s| s.steal_out - s.steal_in),
            help_similarity_slope: ci(&|s| s.slope),
            help_similarity_intercept: point.intercept,
            edges,
        }
    }
}

fn fairness(metric: &str, by_group: Vec<(String, f64)>, t: Thresholds) -> Fairness {
    let vals: Vec<f64> = by_group
        .iter()
        .map(|g| g.1)
        .filter(|v| v.is_finite())
        .collect();
    let (min, max) = vals
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| {
            (a.min(v), b.max(v))
        });
    let difference = if vals.is_empty() { 0.0 } else { max - min };
    let ratio = if vals.is_empty() || max <= 0.0 {
        1.0
    } else {
        min / max
    };
    Fairness {
        metric: metric.into(),
        by_group,
        difference,
        ratio,
        pass: difference <= t.max_difference && ratio >= t.min_ratio,
    }
}

/// Audits `observed` (and `counterfactual`, the same policy with identities
/// swapped across groups) with `resamples` bootstrap resamples.
pub fn audit(
    observed: &Rollouts,
    counterfactual: Option<&Rollouts>,
    thresholds: Thresholds,
    resamples: usize,
) -> Audit {
    let obs = observed.analyse(resamples, 1);
    let cf = counterfactual.map(|c| c.analyse(resamples, 2));
    let identity_effect = counterfactual.map(|c| {
        // Independent resamples of both sets of units.
        let mut r1 = SplitMix64::new(3);
        let mut diffs = Vec::with_capacity(resamples);
        let pick = |r: &mut SplitMix64, n: usize| -> Vec<usize> {
            (0..n)
                .map(|_| (r.next_u64() % n.max(1) as u64) as usize)
                .collect()
        };
        for _ in 0..resamples {
            let a = observed.stats(&pick(&mut r1, observed.units.len()));
            let b = c.stats(&pick(&mut r1, c.units.len()));
            let d = (b.help_in - b.help_out) - (a.help_in - a.help_out);
            if d.is_finite() {
                diffs.push(d);
            }
        }
        diffs.sort_by(f64::total_cmp);
        let q = |p: f64| {
            diffs
                .get(((p * diffs.len().saturating_sub(1) as f64).round()) as usize)
                .copied()
                .unwrap_or(f64::NAN)
        };
        Ci {
            value: cf.as_ref().map_or(f64::NAN, |c| c.help_gap.value) - obs.help_gap.value,
            lo: q(0.025),
            hi: q(0.975),
        }
    });
    let groups = obs
        .pairs
        .iter()
        .map(|p| p.actor_group + 1)
        .max()
        .unwrap_or(0);
    // HELP received by target group (demographic parity of help), STEAL
    // suffered by target group, and HELP given in vs out.
    let by_target = |f: fn(&PairRates) -> f64| -> Vec<(String, f64)> {
        (0..groups)
            .map(|g| {
                let (mut num, mut den) = (0.0, 0.0);
                for p in obs.pairs.iter().filter(|p| p.target_group == g) {
                    if p.opportunities > 0 {
                        num += f(p) * p.opportunities as f64;
                        den += p.opportunities as f64;
                    }
                }
                (
                    format!("group {g}"),
                    if den > 0.0 { num / den } else { f64::NAN },
                )
            })
            .collect()
    };
    let fairness = vec![
        fairness(
            "help received, by target group",
            by_target(|p| p.help_rate),
            thresholds,
        ),
        fairness(
            "theft suffered, by target group",
            by_target(|p| p.steal_rate),
            thresholds,
        ),
        fairness(
            "help given, in-group vs out-group target",
            vec![
                ("in-group".into(), obs.help_in.value),
                ("out-group".into(), obs.help_out.value),
            ],
            thresholds,
        ),
    ];
    let pass = fairness.iter().all(|f| f.pass) && !obs.help_gap.excludes_zero();
    Audit {
        schema: SCHEMA,
        groups,
        observed: obs,
        counterfactual: cf,
        identity_effect_on_help_gap: identity_effect,
        fairness,
        thresholds,
        resamples,
        pass,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two agents per group on a 4-cycle 0–1–2–3–0; groups [0, 0, 1, 1].
    fn rollouts(help_in: u32, help_out: u32, units: usize) -> Rollouts {
        let edges = vec![
            (0, 1),
            (1, 0),
            (1, 2),
            (2, 1),
            (2, 3),
            (3, 2),
            (3, 0),
            (0, 3),
        ];
        let pop = Population {
            groups: vec![0, 0, 1, 1],
            features: vec![
                vec![1.0, 0.0],
                vec![0.9, 0.1],
                vec![0.0, 1.0],
                vec![0.1, 0.9],
            ],
        };
        let groups = pop.groups.clone();
        let counts = |k: usize| -> Vec<(u32, u32)> {
            edges
                .iter()
                .map(|&(i, j)| {
                    // A little unit-to-unit variation.
                    let jitter = (k % 3) as u32;
                    if groups[i] == groups[j] {
                        (help_in + jitter, 0)
                    } else {
                        (help_out + jitter, 5)
                    }
                })
                .collect()
        };
        Rollouts {
            edges: edges.clone(),
            populations: vec![pop],
            units: (0..units)
                .map(|k| Unit {
                    copy: 0,
                    steps: 50,
                    counts: counts(k),
                })
                .collect(),
        }
    }

    #[test]
    fn favouritism_is_detected_with_an_interval_excluding_zero() {
        let a = audit(&rollouts(30, 5, 20), None, Thresholds::default(), 500);
        let gap = a.observed.help_gap;
        // In: (30 + mean jitter 0.95)/50; out: (5 + 0.95)/50 → gap 0.5.
        assert!((gap.value - 0.5).abs() < 1e-9, "{gap:?}");
        assert!(gap.excludes_zero() && gap.lo <= gap.value && gap.value <= gap.hi);
        assert!(a.observed.help_similarity_slope.value > 0.0);
        assert!((a.observed.steal_gap.value - 0.1).abs() < 1e-9);
        assert!(!a.pass, "a 0.5 gap fails the 0.1 difference threshold");
        let in_out = &a.fairness[2];
        assert!((in_out.difference - 0.5).abs() < 1e-9 && in_out.ratio < 0.8 && !in_out.pass);
    }

    #[test]
    fn an_unbiased_policy_passes_and_the_probe_measures_identity_effects() {
        let fair = rollouts(10, 10, 20);
        let a = audit(&fair, None, Thresholds::default(), 500);
        assert!(a.observed.help_gap.value.abs() < 1e-12 && !a.observed.help_gap.excludes_zero());
        // Theft is aimed only at the other group, so theft suffered is equal
        // by group and the steal gap is what shows it.
        assert!(a.fairness[0].pass);
        // Probe: the biased policy's gap vanishes when identities are swapped.
        let biased = rollouts(30, 5, 20);
        let a = audit(&biased, Some(&fair), Thresholds::default(), 500);
        let eff = a.identity_effect_on_help_gap.expect("probed");
        assert!((eff.value + 0.5).abs() < 1e-9 && eff.hi < 0.0, "{eff:?}");
    }

    #[test]
    fn group_pair_rates_count_opportunities() {
        let a = rollouts(30, 5, 2).analyse(10, 0);
        let p00 = &a.pairs[0];
        assert_eq!((p00.actor_group, p00.target_group), (0, 0));
        assert_eq!(
            p00.opportunities,
            2 * 2 * 50,
            "two directed in-group edges, two units"
        );
        assert_eq!(a.edges.len(), 8);
    }
}

/// One point of a fairness–performance trade-off: a sweep point's in-group
/// HELP gap and its return, each as a mean over seeds with a 95% interval.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TradeoffPoint {
    /// The point's settings other than the seed.
    pub label: String,
    /// Seeds audited.
    pub seeds: usize,
    /// In-group minus out-group HELP rate.
    pub help_gap: Ci,
    /// Out-group minus in-group STEAL rate.
    pub steal_gap: Ci,
    /// Mean episode return (stochastic evaluation).
    pub mean_return: Ci,
    /// Mean prosocial rate (stochastic evaluation).
    pub prosocial_rate: Ci,
    /// Mean identity similarity `β` over the graph's edges at the end of
    /// training (ESAI with `graph.similarity`; NaN otherwise).
    pub similarity: Ci,
}
