//! Sound stability verification for ESAI (see `docs/architecture.md`).
#![warn(missing_docs)]

pub mod kernel;
pub mod lipschitz;
pub mod spectral;
