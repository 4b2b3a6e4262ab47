//! Core types of the ESAI toolkit: the checked spec, interaction graphs and
//! Laplacians, `g_φ` weights, and plain-f64 dynamics.
//!
//! Architecture invariant: this crate does no I/O and knows nothing of burn,
//! z3 or output formats. Everything here is plain data and plain arithmetic;
//! soundness lives in `esai-verify`.
//!
//! ```
//! use esai_core::spec::Spec;
//! let toml = r#"
//! [dynamics]
//! gamma_e = 0.9
//! alpha = 0.05
//! [graph]
//! agents = 4
//! laplacian = "row"
//! topology = "ring"
//! [update]
//! lipschitz = 0.05
//! [hebbian]
//! eta = 0.001
//! delta = 0.02
//! [inputs]
//! obs_norm = 1.0
//! action_norm = 1.0
//! reward_abs = 5.0
//! harm_abs = 3.0
//! "#;
//! let spec = Spec::from_toml(toml, &|_| Err("no files".into())).unwrap();
//! assert_eq!(spec.graph.graph.agents(), 4);
//! ```
#![warn(missing_docs)]

pub mod dynamics;
pub mod graph;
pub mod mlp;
pub mod problem;
pub mod rng;
pub mod spec;
pub mod sweep;
pub mod training;
pub mod watch;
