//! The trusted kernel: the only code whose correctness "certified" rests on.
//!
//! Everything outside this module (SVD, power iteration, the LP solver, the
//! choice of candidate bounds) is an untrusted *proposer*: a wrong proposal
//! can make a check fail, never make a false claim pass, because every claim
//! is confirmed here.
//!
//! What the kernel trusts, and why:
//! - IEEE-754 binary64 `+ − × ÷ sqrt` are correctly rounded to nearest (Rust
//!   guarantees this and never contracts `a*b+c` into an FMA), so the exact
//!   result lies within one ulp of the computed one; widening it with
//!   `next_down`/`next_up` gives a rigorous enclosure ([`interval`]).
//! - `f64::tanh` (the platform libm) is within 1e-12 relative of the true
//!   value; glibc documents ≤ 2 ulp (≈ 4.4e-16), so the margin is a factor
//!   of about 2 000. It is used only to enclose `g_φ(0)` for tanh networks.
//! - Exact Cholesky of a symmetric matrix completes with positive pivots iff
//!   the matrix is positive definite; run in interval arithmetic, every
//!   member of the interval matrix (in particular the exact one) then has
//!   positive pivots ([`psd`]).
//! - `ρ(B) ≤ max_i (B x)_i / x_i` for entrywise nonnegative `B` and `x > 0`
//!   (Collatz–Wielandt), and `ρ(MᵀM) ≤ ρ(|M|ᵀ|M|)` ([`norms`]).
//!
//! Each submodule carries its own tests, including comparisons with exact
//! rational arithmetic in `tests/kernel_exact.rs` of this crate.

pub mod interval;
pub mod m_matrix;
pub mod mlp_eval;
pub mod norms;
pub mod psd;
