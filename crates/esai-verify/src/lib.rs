//! Sound stability verification for ESAI (see `docs/architecture.md`).
#![warn(missing_docs)]

pub mod certify;
pub mod kernel;
mod krylov;
pub mod lipschitz;
pub mod smt;
pub mod spectral;
pub mod synth;
