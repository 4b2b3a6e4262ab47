//! Sound stability verification for ESAI (see `docs/architecture.md`).
#![warn(missing_docs)]

pub mod certify;
pub mod cvc5;
pub mod expect;
pub mod kernel;
mod krylov;
pub mod lipschitz;
pub mod smt;
pub mod spectral;
pub mod synth;

/// Runs `a` on a second thread while `b` runs on this one; a panic in `a`
/// is re-raised here. For independent computations only (each closure's
/// kernel calls stay single-threaded, so nothing trusted changes).
pub(crate) fn join<A: Send, B>(a: impl FnOnce() -> A + Send, b: impl FnOnce() -> B) -> (A, B) {
    std::thread::scope(|s| {
        let a = s.spawn(a);
        let b = b();
        let a = a
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (a, b)
    })
}
