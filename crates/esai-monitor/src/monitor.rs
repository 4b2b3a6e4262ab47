//! The online monitor: a [`Watcher`] that enforces the rules of `[monitor]`
//! while a run trains.
//!
//! Costs, at the defaults: per environment step a pass over the per-agent
//! norms the trainer already computed (a few comparisons per agent); per
//! gradient step two comparisons; every `check_every` updates one live
//! certificate (the oracle's sound Lipschitz bounds of `g_φ`).

use crate::live::{Basis, GBoundOracle, LiveCertificate};
use crate::rules::{over, within, Finding, Place, Rule};
use esai_core::mlp::Mlp;
use esai_core::training::{MonitorSection, Policy};
use esai_core::watch::{Flow, GradProbe, StepProbe, UpdateProbe, Watcher};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// Relative slack of the state-bound rules: the trainer's IAE is computed in
/// f32 while `B` bounds the exact dynamics, so a norm may exceed `B` by
/// rounding alone. 1e-4 is far above f32 rounding of a contracting sum and
/// far below any real excursion.
pub const F32_SLACK: f64 = 1e-4;

/// Findings kept per rule (all are counted).
const KEEP_PER_RULE: usize = 10;

/// What the monitor carries across checkpoints (saved as `monitor.json`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MonitorState {
    /// The latest live certificate and the update it was computed at.
    pub live: Option<(usize, LiveCertificate)>,
    /// Running `Σ ‖E‖²`, `Σ ‖z‖²` and their count (Proposition 2's moments).
    pub moments: (f64, f64, u64),
    /// Findings per rule name.
    pub counts: BTreeMap<String, u64>,
    /// The first findings of each rule.
    pub findings: Vec<Finding>,
    /// Checks done: environment steps, gradient steps, updates, live certificates.
    pub checks: [u64; 4],
}

/// The runtime monitor.
pub struct Monitor {
    cfg: MonitorSection,
    basis: Basis,
    oracle: Box<dyn GBoundOracle + Send>,
    state: MonitorState,
    interrupt: Option<Arc<AtomicUsize>>,
    halt: Option<Finding>,
    rules_on: bool,
    final_update: Option<usize>,
}

impl Monitor {
    /// A monitor enforcing `cfg` on the configuration `basis`.
    pub fn new(cfg: MonitorSection, basis: Basis, oracle: Box<dyn GBoundOracle + Send>) -> Self {
        Self {
            cfg,
            basis,
            oracle,
            state: MonitorState::default(),
            interrupt: None,
            halt: None,
            rules_on: true,
            final_update: None,
        }
    }

    /// Also re-certifies `g_φ` at the end of update `n` (the last), so the
    /// final weights are always checked. By default only every `check_every`.
    pub fn with_final_update(mut self, n: usize) -> Self {
        self.final_update = Some(n);
        self
    }

    /// Turns every rule off (`esai train --no-monitor`); an interruption
    /// still stops cleanly. By default the rules are on.
    pub fn without_rules(mut self) -> Self {
        self.rules_on = false;
        self
    }

    /// Stops cleanly once `flag` holds a non-zero signal number (set by a
    /// SIGINT/SIGTERM handler). By default no flag is watched.
    pub fn with_interrupt(mut self, flag: Arc<AtomicUsize>) -> Self {
        self.interrupt = Some(flag);
        self
    }

    /// Continues from a saved state (resume).
    pub fn with_state(mut self, state: MonitorState) -> Self {
        self.state = state;
        self
    }

    /// The state to save with a checkpoint.
    pub fn state(&self) -> &MonitorState {
        &self.state
    }

    /// The configuration.
    pub fn config(&self) -> &MonitorSection {
        &self.cfg
    }

    /// The configuration it checks against.
    pub fn basis(&self) -> &Basis {
        &self.basis
    }

    /// The finding that halted the run, if any.
    pub fn halted(&self) -> Option<&Finding> {
        self.halt.as_ref()
    }

    /// Clears a halt after the caller has handled it.
    pub fn clear_halt(&mut self) -> Option<Finding> {
        self.halt.take()
    }

    /// The latest live certificate.
    pub fn live(&self) -> Option<&LiveCertificate> {
        self.state.live.as_ref().map(|(_, l)| l)
    }

    /// Numbers for the run's metrics row: the live bounds and finding counts.
    pub fn row_summary(&self) -> serde_json::Value {
        let live = self.live();
        serde_json::json!({
            "iae_bound": live.and_then(|l| l.iae_bound),
            "hebbian_bound": live.and_then(|l| l.hebbian_bound),
            "lipschitz_upper": live.map(|l| l.g.l_g),
            "rho": live.map(|l| l.best_rho()),
            "certified_at_update": self.state.live.as_ref().map(|(u, _)| *u),
            "findings": self.state.counts.values().sum::<u64>(),
        })
    }

    fn record(&mut self, f: Finding) {
        *self
            .state
            .counts
            .entry(f.rule.name().to_string())
            .or_default() += 1;
        let kept = self
            .state
            .findings
            .iter()
            .filter(|g| g.rule == f.rule)
            .count();
        if f.policy == Policy::Halt && self.halt.is_none() {
            self.halt = Some(f.clone());
        }
        if kept < KEEP_PER_RULE || f.policy == Policy::Halt {
            self.state.findings.push(f);
        }
    }

    fn on(&self, rule: Rule) -> bool {
        self.rules_on && rule.policy(&self.cfg) != Policy::Ignore
    }

    fn flow(&self) -> Flow {
        if self.halt.is_some() {
            Flow::Stop
        } else {
            Flow::Continue
        }
    }

    /// The common start of every callback: the interrupt flag first, then
    /// whether the rules run (counting check kind `check`).
    fn begin(&mut self, place: &Place, check: usize) -> bool {
        self.check_interrupt(place);
        if self.rules_on {
            self.state.checks[check] += 1;
        }
        self.rules_on
    }

    fn record_all(&mut self, found: Vec<Finding>) -> Flow {
        for f in found {
            self.record(f);
        }
        self.flow()
    }

    fn check_interrupt(&mut self, place: &Place) {
        let Some(flag) = &self.interrupt else { return };
        let sig = flag.load(Ordering::SeqCst);
        if sig != 0 && self.halt.is_none() {
            let name = match sig {
                2 => "SIGINT",
                15 => "SIGTERM",
                _ => "a signal",
            };
            let f = place.finding(
                &self.cfg,
                Rule::Interrupted,
                None,
                sig as f64,
                None,
                format!("received {name} ({sig}): stopped cleanly at the last good state"),
            );
            self.record(f);
        }
    }

    /// Re-certifies `g` (the current `g_φ`): contraction, drift, declared
    /// `‖g_φ(0)‖`. Also the check before training (update 0).
    pub fn recertify(&mut self, place: &Place, g: &Mlp) -> Flow {
        if !self.rules_on {
            return self.flow();
        }
        self.state.checks[3] += 1;
        let bounds = self.oracle.bounds(g, self.basis.k);
        let live = LiveCertificate::new(&self.basis, bounds);
        for f in certificate_findings(&self.cfg, &self.basis, &live, place) {
            self.record(f);
        }
        self.state.live = Some((place.update, live));
        self.flow()
    }
}

/// The findings of one live certificate: contraction, drift, declared
/// `‖g_φ(0)‖` (rules that are not ignored).
pub fn certificate_findings(
    cfg: &MonitorSection,
    basis: &Basis,
    live: &LiveCertificate,
    place: &Place,
) -> Vec<Finding> {
    let mut out = Vec::new();
    let on = |r: Rule| r.policy(cfg) != Policy::Ignore;
    if on(Rule::Contraction) && !live.contracts() {
        let rho = live.best_rho();
        out.push(place.finding(
            cfg,
            Rule::Contraction,
            None,
            rho,
            Some(1.0),
            format!(
                "no sufficient condition holds for the current g_φ: best contraction factor {rho:.6} ≥ 1 (sound L_g ≤ {:.6}, L_E ≤ {:.6}); the IAE is no longer guaranteed bounded. Lower γ_E, α or update.lipschitz",
                live.g.l_g, live.g.l_e
            ),
        ));
    }
    let allowed = basis.lipschitz_target * (1.0 + cfg.lipschitz_tolerance);
    if on(Rule::LipschitzDrift) && !within(live.g.l_g, allowed) {
        out.push(place.finding(
            cfg,
            Rule::LipschitzDrift,
            None,
            live.g.l_g,
            Some(allowed),
            format!(
                "spectral normalisation drifted: the sound L_g of g_φ is {:.6}, above update.lipschitz = {} (+{} tolerance)",
                live.g.l_g, basis.lipschitz_target, cfg.lipschitz_tolerance
            ),
        ));
    }
    if let Some(declared) = basis.declared_zero_output_norm {
        if on(Rule::DeclaredUpdate) && !within(live.g.zero_output_norm, declared) {
            out.push(place.finding(
                cfg,
                Rule::DeclaredUpdate,
                None,
                live.g.zero_output_norm,
                Some(declared),
                format!(
                    "the spec declares ‖g_φ(0)‖ ≤ {declared} but the trained g_φ has ‖g_φ(0)‖ ≤ {:.6}: the spec certificate's B no longer applies; the live B = {} is enforced instead",
                    live.g.zero_output_norm,
                    live.iae_bound.map_or("none".into(), |b| format!("{b:.6}"))
                ),
            ));
        }
    }
    out
}

impl Watcher for Monitor {
    fn on_step(&mut self, p: &StepProbe) -> Flow {
        let place = Place {
            update: p.update,
            at: format!("rollout step {}", p.step),
            env_steps: p.env_steps,
        };
        if !self.begin(&place, 0) {
            return self.flow();
        }
        let cfg = self.cfg.clone();
        let mut found = Vec::new();
        if self.on(Rule::Nonfinite) {
            let bad_state = [("IAE E", p.iae_norms), ("Hebbian trace H", p.hebbian_norms)]
                .into_iter()
                .find_map(|(name, v)| v.iter().position(|x| !x.is_finite()).map(|i| (name, i)));
            if let Some(what) = p.nonfinite {
                found.push(place.finding(
                    &cfg,
                    Rule::Nonfinite,
                    None,
                    f64::NAN,
                    None,
                    format!("non-finite {what}"),
                ));
            } else if let Some((name, i)) = bad_state {
                found.push(place.finding(
                    &cfg,
                    Rule::Nonfinite,
                    Some(i),
                    f64::NAN,
                    None,
                    format!("non-finite {name} of agent {i}"),
                ));
            }
        }
        // A NaN is the nonfinite rule's finding; the bound rules judge numbers
        // (and catch NaNs only when that rule is ignored).
        let live = self
            .state
            .live
            .as_ref()
            .map(|(_, l)| l)
            .filter(|_| found.is_empty());
        for (rule, norms, bound, what, name) in [
            (
                Rule::IaeBound,
                p.iae_norms,
                live.and_then(|l| l.iae_bound),
                "‖E‖",
                "B",
            ),
            (
                Rule::HebbianBound,
                p.hebbian_norms,
                live.and_then(|l| l.hebbian_bound),
                "‖H‖_F",
                "B_H",
            ),
        ] {
            let Some(b) = bound.filter(|_| self.on(rule)) else {
                continue;
            };
            if let Some((i, v)) = over(norms, b * (1.0 + F32_SLACK)) {
                found.push(place.finding(
                    &cfg,
                    rule,
                    Some(i),
                    v as f64,
                    Some(b),
                    format!("{what} of agent {i} is {v} > {name} = {b:.6}, the certified bound of the current configuration"),
                ));
            }
        }
        if self.on(Rule::IaeThreshold) && found.is_empty() {
            if let Some(max) = cfg.iae_max {
                if let Some((i, v)) = over(p.iae_norms, max) {
                    found.push(place.finding(
                        &cfg,
                        Rule::IaeThreshold,
                        Some(i),
                        v as f64,
                        Some(max),
                        format!("‖E‖ of agent {i} is {v} > monitor.iae_max = {max}"),
                    ));
                }
            }
            if let (Some(max), false) = (cfg.iae_mean_max, p.iae_norms.is_empty()) {
                let mean =
                    p.iae_norms.iter().map(|&v| v as f64).sum::<f64>() / p.iae_norms.len() as f64;
                if !within(mean, max) {
                    found.push(place.finding(
                        &cfg,
                        Rule::IaeThreshold,
                        None,
                        mean,
                        Some(max),
                        format!("mean ‖E‖ over agents is {mean} > monitor.iae_mean_max = {max}"),
                    ));
                }
            }
        }
        if !p.hebbian_norms.is_empty() {
            let m = &mut self.state.moments;
            for (e, z) in p.iae_norms.iter().zip(p.obs_norms) {
                if e.is_finite() && z.is_finite() {
                    m.0 += (*e as f64).powi(2);
                    m.1 += (*z as f64).powi(2);
                    m.2 += 1;
                }
            }
        }
        self.record_all(found)
    }

    fn on_gradient_step(&mut self, p: &GradProbe) -> Flow {
        let place = Place {
            update: p.update,
            at: format!("gradient step {}", p.step),
            env_steps: 0,
        };
        if !self.begin(&place, 1) {
            return self.flow();
        }
        let cfg = &self.cfg;
        let mut found = None;
        if self.on(Rule::Nonfinite) && !(p.loss.is_finite() && p.grad_norm.is_finite()) {
            found = Some(place.finding(
                cfg,
                Rule::Nonfinite,
                None,
                if p.loss.is_finite() {
                    p.grad_norm as f64
                } else {
                    p.loss as f64
                },
                None,
                format!(
                    "non-finite {} (loss {}, gradient norm {})",
                    if p.loss.is_finite() {
                        "gradient"
                    } else {
                        "loss"
                    },
                    p.loss,
                    p.grad_norm
                ),
            ));
        } else if self.on(Rule::GradNorm) && p.grad_norm as f64 > cfg.grad_norm_max {
            found = Some(place.finding(
                cfg,
                Rule::GradNorm,
                None,
                p.grad_norm as f64,
                Some(cfg.grad_norm_max),
                format!(
                    "pre-clip gradient norm {} > monitor.grad_norm_max = {}",
                    p.grad_norm, cfg.grad_norm_max
                ),
            ));
        }
        self.record_all(found.into_iter().collect())
    }

    fn wants_g_phi(&self, update: usize) -> bool {
        self.rules_on
            && ((self.cfg.check_every > 0 && update.is_multiple_of(self.cfg.check_every))
                || self.final_update == Some(update))
    }

    fn on_update(&mut self, p: &UpdateProbe) -> Flow {
        let place = Place {
            update: p.update,
            at: "end of update".into(),
            env_steps: p.env_steps,
        };
        if !self.begin(&place, 2) {
            return self.flow();
        }
        let cfg = self.cfg.clone();
        let mut found = Vec::new();
        if let (Some(what), true) = (p.nonfinite, self.on(Rule::Nonfinite)) {
            found.push(place.finding(
                &cfg,
                Rule::Nonfinite,
                None,
                f64::NAN,
                None,
                format!("non-finite {what}"),
            ));
        }
        if self.on(Rule::EntropyFloor)
            && p.env_steps < cfg.entropy_floor_until
            && !within(cfg.entropy_floor, p.entropy as f64)
        {
            found.push(place.finding(
                &cfg,
                Rule::EntropyFloor,
                None,
                p.entropy as f64,
                Some(cfg.entropy_floor),
                format!(
                    "policy entropy {} < monitor.entropy_floor = {} before {} environment steps: the policy collapsed early",
                    p.entropy, cfg.entropy_floor, cfg.entropy_floor_until
                ),
            ));
        }
        let (se, sz, n) = self.state.moments;
        if self.on(Rule::HebbianMeanSquare) && n > 0 {
            let need = self.basis.eta_h * ((se / n as f64) * (sz / n as f64)).sqrt();
            if need.partial_cmp(&self.basis.delta_h) != Some(std::cmp::Ordering::Less) {
                found.push(place.finding(
                    &cfg,
                    Rule::HebbianMeanSquare,
                    None,
                    need,
                    Some(self.basis.delta_h),
                    format!(
                        "statistical: η_H·sqrt(E‖E‖²·E‖z‖²) ≈ {need:.6} ≥ δ_H = {} (estimated from {n} samples): Proposition 2's mean-square condition does not hold on the data seen",
                        self.basis.delta_h
                    ),
                ));
            }
        }
        self.record_all(found);
        if let Some(g) = p.g_phi {
            return self.recertify(&place, g);
        }
        self.flow()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::live::GBounds;
    use esai_core::mlp::Activation;

    /// Exact bounds for a single linear layer `W = diag(w)` (k = 1 input block).
    struct Diagonal;
    impl GBoundOracle for Diagonal {
        fn bounds(&self, g: &Mlp, _e: usize) -> GBounds {
            let l = &g.layers()[0];
            let max = l.weight().iter().fold(0.0f64, |m, v| m.max(v.abs()));
            let z0 = l.bias().iter().map(|b| b * b).sum::<f64>().sqrt();
            GBounds {
                l_g: max,
                l_e: max,
                l_u: max,
                zero_output_norm: z0,
            }
        }
    }

    fn basis() -> Basis {
        crate::live::tests::paper_basis(1, 1)
    }

    fn net(w: f64, b: f64) -> Mlp {
        Mlp::new(vec![(1, 1, vec![w], vec![b], Activation::Identity)]).expect("valid")
    }

    fn place() -> Place {
        Place {
            update: 1,
            at: "test".into(),
            env_steps: 0,
        }
    }

    fn step<'a>(e: &'a [f32], h: &'a [f32], z: &'a [f32]) -> StepProbe<'a> {
        StepProbe {
            update: 1,
            step: 0,
            env_steps: 0,
            agents: 1,
            iae_norms: e,
            hebbian_norms: h,
            obs_norms: z,
            nonfinite: None,
        }
    }

    #[test]
    fn iae_bound_halts_only_above_b() {
        let mut m = Monitor::new(MonitorSection::default(), basis(), Box::new(Diagonal));
        assert_eq!(m.recertify(&place(), &net(0.05, 0.1)), Flow::Continue);
        let b = m.live().and_then(|l| l.iae_bound).expect("B");
        assert!((b - 8.0).abs() < 1e-9);
        assert_eq!(m.on_step(&step(&[7.9], &[], &[])), Flow::Continue);
        assert_eq!(m.on_step(&step(&[8.1], &[], &[])), Flow::Stop);
        let f = m.halted().expect("halted");
        assert_eq!((f.rule, f.agent), (Rule::IaeBound, Some(0)));
    }

    #[test]
    fn nan_state_halts_and_warn_policy_does_not() {
        let mut m = Monitor::new(MonitorSection::default(), basis(), Box::new(Diagonal));
        assert_eq!(m.on_step(&step(&[1.0, f32::NAN], &[], &[])), Flow::Stop);
        assert_eq!(m.halted().map(|f| f.rule), Some(Rule::Nonfinite));
        let mut cfg = MonitorSection::default();
        cfg.policy.nonfinite = Policy::Warn;
        let mut m = Monitor::new(cfg, basis(), Box::new(Diagonal));
        assert_eq!(m.on_step(&step(&[f32::NAN], &[], &[])), Flow::Continue);
        assert_eq!(m.state().counts.get("nonfinite"), Some(&1));
    }

    #[test]
    fn drift_contraction_and_declared_update() {
        let mut m = Monitor::new(MonitorSection::default(), basis(), Box::new(Diagonal));
        // Slightly above the target, within tolerance: fine.
        assert_eq!(
            m.recertify(&place(), &net(0.05 * (1.0 + 5e-4), 0.1)),
            Flow::Continue
        );
        // Above tolerance: drift halts (still contracting: 0.9 + 0.06 < 1).
        assert_eq!(m.recertify(&place(), &net(0.06, 0.1)), Flow::Stop);
        assert_eq!(m.halted().map(|f| f.rule), Some(Rule::LipschitzDrift));
        let mut cfg = MonitorSection::default();
        cfg.policy.lipschitz_drift = Policy::Warn;
        let mut m = Monitor::new(cfg, basis(), Box::new(Diagonal));
        assert_eq!(m.recertify(&place(), &net(0.2, 0.1)), Flow::Stop);
        assert_eq!(m.halted().map(|f| f.rule), Some(Rule::Contraction));
        // A larger bias breaks the declaration: warned by default, B grows.
        let mut m = Monitor::new(MonitorSection::default(), basis(), Box::new(Diagonal));
        assert_eq!(m.recertify(&place(), &net(0.05, 0.3)), Flow::Continue);
        assert_eq!(m.state().counts.get("declared_update"), Some(&1));
        let b = m.live().and_then(|l| l.iae_bound).expect("B");
        assert!((b - 12.0).abs() < 1e-9, "{b}");
    }

    #[test]
    fn hebbian_rules() {
        let mut m = Monitor::new(MonitorSection::default(), basis(), Box::new(Diagonal));
        m.recertify(&place(), &net(0.05, 0.1));
        // B_H = 0.4.
        assert_eq!(m.on_step(&step(&[1.0], &[0.39], &[1.0])), Flow::Continue);
        assert_eq!(m.on_step(&step(&[1.0], &[0.41], &[1.0])), Flow::Stop);
        assert_eq!(m.halted().map(|f| f.rule), Some(Rule::HebbianBound));
        // Moments: η sqrt(E‖E‖² E‖z‖²) = 0.001·sqrt(25·1) = 0.005 < 0.02 holds;
        // with ‖E‖ = 7.9 and ‖z‖ = 3 it is 0.0237 ≥ 0.02: a statistical warning.
        let mut m = Monitor::new(MonitorSection::default(), basis(), Box::new(Diagonal));
        m.on_step(&step(&[5.0], &[0.1], &[1.0]));
        let end = UpdateProbe {
            update: 1,
            env_steps: 1,
            entropy: 1.0,
            losses: &[],
            g_phi: None,
            nonfinite: None,
        };
        assert_eq!(m.on_update(&end), Flow::Continue);
        assert!(m.state().findings.is_empty());
        let mut m = Monitor::new(MonitorSection::default(), basis(), Box::new(Diagonal));
        m.on_step(&step(&[7.9], &[0.1], &[3.0]));
        assert_eq!(m.on_update(&end), Flow::Continue);
        let f = &m.state().findings[0];
        assert!(f.rule == Rule::HebbianMeanSquare && f.statistical);
    }

    #[test]
    fn interrupt_stops_even_without_rules() {
        let flag = Arc::new(AtomicUsize::new(0));
        let mut m = Monitor::new(MonitorSection::default(), basis(), Box::new(Diagonal))
            .without_rules()
            .with_interrupt(flag.clone());
        assert_eq!(m.on_step(&step(&[f32::NAN], &[], &[])), Flow::Continue);
        flag.store(15, Ordering::SeqCst);
        assert_eq!(m.on_step(&step(&[1.0], &[], &[])), Flow::Stop);
        assert_eq!(m.halted().map(|f| f.rule), Some(Rule::Interrupted));
    }

    #[test]
    fn gradient_rules() {
        let mut m = Monitor::new(MonitorSection::default(), basis(), Box::new(Diagonal));
        let g = |loss: f32, grad_norm: f32| GradProbe {
            update: 1,
            step: 0,
            loss,
            grad_norm,
        };
        assert_eq!(m.on_gradient_step(&g(1.0, 5000.0)), Flow::Continue);
        assert_eq!(m.state().counts.get("grad_norm"), Some(&1));
        assert_eq!(m.on_gradient_step(&g(f32::NAN, 1.0)), Flow::Stop);
        assert_eq!(m.halted().map(|f| f.rule), Some(Rule::Nonfinite));
    }
}
