//! The runtime safety monitor of ESAI training.
//!
//! Certification covers a configuration; training moves the weights. The
//! monitor enforces the certified invariants while a run trains: it
//! implements `esai_core::watch::Watcher`, so the trainer reports numbers
//! (IAE and Hebbian norms, losses, gradient norms, `g_φ` every
//! `check_every` updates) and the monitor answers go on or stop.
//!
//! Architecture invariant: this crate links neither burn nor a solver. It
//! consumes a [`live::Basis`] (numbers from the certificate) and a
//! [`live::GBoundOracle`] (sound Lipschitz bounds, provided by the caller);
//! its own arithmetic is rounded outward.
//!
//! ```
//! use esai_core::training::MonitorSection;
//! use esai_core::watch::{Flow, StepProbe, Watcher};
//! use esai_monitor::live::{Basis, GBoundOracle, GBounds};
//! use esai_monitor::monitor::Monitor;
//!
//! struct Declared; // an oracle that trusts the declared constants
//! impl GBoundOracle for Declared {
//!     fn bounds(&self, _g: &esai_core::mlp::Mlp, _k: usize) -> GBounds {
//!         GBounds { l_g: 0.05, l_e: 0.05, l_u: 0.05, zero_output_norm: 0.1 }
//!     }
//! }
//! let basis = Basis {
//!     m2_upper: 0.9, minf_upper: 0.9, agents: 1, k: 1, lipschitz_target: 0.05,
//!     declared_zero_output_norm: Some(0.1), input_norm: 6.0, obs_norm: 1.0,
//!     eta_h: 0.001, delta_h: 0.02, verdict: "certified".into(),
//!     certified_iae_bound: Some(8.0),
//! };
//! let mut m = Monitor::new(MonitorSection::default(), basis, Box::new(Declared));
//! let probe = StepProbe { update: 1, step: 0, env_steps: 0, agents: 1,
//!     iae_norms: &[f32::NAN], hebbian_norms: &[], obs_norms: &[], nonfinite: None };
//! assert_eq!(m.on_step(&probe), Flow::Stop);
//! assert_eq!(m.halted().unwrap().rule.name(), "nonfinite");
//! ```
#![warn(missing_docs)]

pub mod incident;
pub mod live;
pub mod monitor;
pub mod offline;
pub mod rules;
