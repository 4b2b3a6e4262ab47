//! Untrusted Krylov proposal for the sparse spectral norm.
//!
//! Nothing here is trusted: it only chooses the positive vector `x` that the
//! kernel's Collatz–Wielandt quotient (outward rounded, on the interval
//! matrix) turns into a sound upper bound on `‖A‖₂`. A bad proposal gives a
//! loose bound, never a wrong one.
//!
//! Why not plain power iteration: on large grids the top of the spectrum of
//! `B = AᵀA` is clustered (relative gaps ~1e-6), so power iteration leaves the
//! Perron vector unconverged in a boundary layer hundreds of nodes wide, and
//! on random graphs it misses the localised top mode for hundreds of steps.
//! Lanczos on `B` finds the top Ritz value `θ` in far fewer steps; the vector
//! proposed is then `x = (σI − B)⁻¹ 1` restricted to the Krylov space
//! (`x = Q (σI − T)⁻¹ e₁`, the CG solution), with `σ = θ(1 + δ)` slightly
//! above `θ`. For `σ > ρ(B)` the exact solution is the positive Neumann series
//! `Σ Bᵗ 1 / σᵗ⁺¹`, for which `(Bx)ᵢ / xᵢ = σ − 1/xᵢ < σ`: the quotient lands
//! just below `σ`. A short ladder of `δ` is tried and the candidate with the
//! smallest (untrusted) quotient is kept.

use std::ops::Range;

/// A sparse matrix in CSR form with 32-bit indices, and its transpose, for
/// fast untrusted products with `B = AᵀA`.
pub(crate) struct GramOp {
    a: Csr,
    at: Csr,
    threads: usize,
}

struct Csr {
    row_start: Vec<u32>,
    col: Vec<u32>,
    val: Vec<f64>,
}

/// Below this dimension products run on one thread.
const PAR_MIN: usize = 1 << 15;

/// Memory allowed for the stored Lanczos basis, in `f64`s (512 MB).
const BASIS_BUDGET: usize = 1 << 26;

impl Csr {
    fn rows(&self) -> usize {
        self.row_start.len() - 1
    }

    fn mul_rows(&self, rows: Range<usize>, x: &[f64], y: &mut [f64]) {
        for (yi, i) in y.iter_mut().zip(rows) {
            let (s, e) = (self.row_start[i] as usize, self.row_start[i + 1] as usize);
            *yi = self.col[s..e]
                .iter()
                .zip(&self.val[s..e])
                .map(|(&j, &v)| v * x[j as usize])
                .sum();
        }
    }

    fn transpose(&self) -> Csr {
        let n = self.rows();
        let mut start = vec![0u32; n + 1];
        for &c in &self.col {
            start[c as usize + 1] += 1;
        }
        for i in 0..n {
            start[i + 1] += start[i];
        }
        let mut next = start.clone();
        let mut col = vec![0u32; self.col.len()];
        let mut val = vec![0.0; self.col.len()];
        for i in 0..n {
            for p in self.row_start[i] as usize..self.row_start[i + 1] as usize {
                let c = self.col[p] as usize;
                let q = next[c] as usize;
                col[q] = i as u32;
                val[q] = self.val[p];
                next[c] += 1;
            }
        }
        Csr {
            row_start: start,
            col,
            val,
        }
    }
}

impl GramOp {
    /// The operator for the square CSR matrix `(row_start, col, val)`, or
    /// `val` back when the indices do not fit in 32 bits.
    pub(crate) fn new(row_start: &[usize], col: &[usize], val: Vec<f64>) -> Result<Self, Vec<f64>> {
        let to32 = |v: &[usize]| -> Option<Vec<u32>> {
            v.iter().map(|&x| u32::try_from(x).ok()).collect()
        };
        let (Some(row_start), Some(col)) = (to32(row_start), to32(col)) else {
            return Err(val);
        };
        let a = Csr {
            row_start,
            col,
            val,
        };
        let at = a.transpose();
        let threads = std::thread::available_parallelism()
            .map(|t| t.get())
            .unwrap_or(1)
            .clamp(1, 8);
        Ok(Self { a, at, threads })
    }

    fn n(&self) -> usize {
        self.a.rows()
    }

    /// `y = m x`, rows split across threads.
    fn mul(&self, m: &Csr, x: &[f64], y: &mut [f64]) {
        self.par_chunks(y, |rows, part| {
            m.mul_rows(rows, x, part);
            0.0
        });
    }

    /// `out = AᵀA x`, using `tmp` for `A x`.
    pub(crate) fn gram(&self, x: &[f64], tmp: &mut [f64], out: &mut [f64]) {
        self.mul(&self.a, x, tmp);
        self.mul(&self.at, tmp, out);
    }

    /// Untrusted Collatz–Wielandt quotient `max (Bx)ᵢ / xᵢ` (infinite when
    /// some `xᵢ ≤ 0`).
    fn quotient(&self, x: &[f64], tmp: &mut [f64], bx: &mut [f64]) -> f64 {
        if x.iter().any(|&v| v <= 0.0 || !v.is_finite()) {
            return f64::INFINITY;
        }
        self.gram(x, tmp, bx);
        bx.iter().zip(x).fold(0.0, |m, (b, v)| m.max(b / v))
    }
}

impl GramOp {
    /// Runs `f(range, out[range])` on disjoint chunks of `out`, one per
    /// thread, and sums what the calls return.
    fn par_chunks<F>(&self, out: &mut [f64], f: F) -> f64
    where
        F: Fn(Range<usize>, &mut [f64]) -> f64 + Sync,
    {
        let n = out.len();
        if n < PAR_MIN || self.threads == 1 {
            return f(0..n, out);
        }
        let chunk = n.div_ceil(self.threads);
        let f = &f;
        std::thread::scope(|s| {
            let parts: Vec<_> = out
                .chunks_mut(chunk)
                .enumerate()
                .map(|(k, part)| {
                    let range = k * chunk..k * chunk + part.len();
                    s.spawn(move || f(range, part))
                })
                .collect();
            parts
                .into_iter()
                .map(|h| h.join().unwrap_or(f64::NAN))
                .sum()
        })
    }

    /// `a · b`, split across threads.
    fn dot(&self, a: &[f64], b: &[f64]) -> f64 {
        if a.len() < PAR_MIN || self.threads == 1 {
            return dot(a, b);
        }
        let chunk = a.len().div_ceil(self.threads);
        std::thread::scope(|s| {
            let parts: Vec<_> = a
                .chunks(chunk)
                .zip(b.chunks(chunk))
                .map(|(x, y)| s.spawn(move || dot(x, y)))
                .collect();
            parts
                .into_iter()
                .map(|h| h.join().unwrap_or(f64::NAN))
                .sum()
        })
    }
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Largest eigenvalue of the symmetric tridiagonal matrix with diagonal `a`
/// and off-diagonal `b` (`b.len() + 1 == a.len()`), by Sturm bisection.
pub(crate) fn tridiagonal_top(a: &[f64], b: &[f64]) -> f64 {
    let k = a.len();
    let radius = |i: usize| {
        let left = if i > 0 { b[i - 1].abs() } else { 0.0 };
        let right = if i + 1 < k { b[i].abs() } else { 0.0 };
        left + right
    };
    let (mut lo, mut hi) = (0..k).fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), i| {
        (l.min(a[i] - radius(i)), h.max(a[i] + radius(i)))
    });
    // Eigenvalues above x = positive pivots of the LDLᵀ of T − x I.
    let above = |x: f64| {
        let mut d = 1.0f64;
        let mut count = 0;
        for i in 0..k {
            let coupling = if i > 0 { b[i - 1] * b[i - 1] / d } else { 0.0 };
            d = a[i] - x - coupling;
            if d == 0.0 {
                d = -f64::MIN_POSITIVE;
            }
            count += usize::from(d > 0.0);
        }
        count
    };
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if mid <= lo || mid >= hi {
            break;
        }
        if above(mid) >= 1 {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    hi
}

/// Solves `(σI − T) y = e₁` for the tridiagonal `T` (Thomas algorithm);
/// `None` when a pivot is not positive (`σ` not above `T`'s spectrum).
fn shifted_solve(a: &[f64], b: &[f64], sigma: f64) -> Option<Vec<f64>> {
    let k = a.len();
    let mut diag = vec![0.0; k];
    let mut rhs = vec![0.0; k];
    rhs[0] = 1.0;
    for i in 0..k {
        let mut d = sigma - a[i];
        if i > 0 {
            let l = -b[i - 1] / diag[i - 1];
            d -= l * -b[i - 1];
            rhs[i] -= l * rhs[i - 1];
        }
        if d.is_nan() || d <= 0.0 {
            return None;
        }
        diag[i] = d;
    }
    let mut y = vec![0.0; k];
    for i in (0..k).rev() {
        let next = if i + 1 < k { -b[i] * y[i + 1] } else { 0.0 };
        y[i] = (rhs[i] - next) / diag[i];
    }
    Some(y)
}

/// Coordinates in the Lanczos basis of `T`'s top eigenvector (inverse
/// iteration with a tiny shift above `θ`), unnormalised.
fn ritz_coefficients(a: &[f64], b: &[f64], theta: f64) -> Option<Vec<f64>> {
    shifted_solve(a, b, theta * (1.0 + 1e-12) + f64::MIN_POSITIVE)
}

/// What the proposal found.
pub(crate) struct Proposal {
    /// The vector for the upper bound (positive when the proposal succeeded).
    pub x: Vec<f64>,
    /// The top Ritz vector, for the lower bound.
    pub ritz: Vec<f64>,
    /// Lanczos steps taken.
    pub steps: usize,
}

/// Relative shifts `δ` tried above the top Ritz value, smallest first.
const SHIFTS: [f64; 8] = [1e-9, 1e-7, 1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1];

/// Lanczos on `B = AᵀA` from the all-ones vector, at most `max_steps` steps
/// (fewer when the memory budget for the basis says so, or once the top
/// Ritz pair's residual `‖B u − θ u‖` is below `tol · θ`), then the best of
/// the shifted solves `x = Q (σI − T)⁻¹ e₁`, `σ = θ(1 + δ)`.
pub(crate) fn propose(op: &GramOp, max_steps: usize, tol: f64) -> Proposal {
    let n = op.n();
    let max_steps = max_steps.clamp(1, (BASIS_BUDGET / n.max(1)).max(8));
    let mut basis: Vec<Vec<f64>> = Vec::with_capacity(max_steps);
    let (mut alphas, mut betas) = (Vec::new(), Vec::new());
    let mut theta = 0.0;
    let mut last_resid = f64::INFINITY;
    let mut tmp = vec![0.0; n];
    let mut w = vec![0.0; n];
    let mut v = vec![1.0; n];
    let s0 = op.dot(&v, &v).sqrt();
    v.iter_mut().for_each(|x| *x /= s0);
    for _ in 0..max_steps {
        op.gram(&v, &mut tmp, &mut w);
        let a = op.dot(&w, &v);
        let beta_prev = betas.last().copied().unwrap_or(0.0);
        let prev = basis.last().map(Vec::as_slice);
        let norm2 = op.par_chunks(&mut w, |range, part| {
            let vr = &v[range.clone()];
            match prev {
                Some(p) => part
                    .iter_mut()
                    .zip(vr)
                    .zip(&p[range])
                    .map(|((wi, vi), pi)| {
                        *wi -= a * vi + beta_prev * pi;
                        *wi * *wi
                    })
                    .sum(),
                None => part
                    .iter_mut()
                    .zip(vr)
                    .map(|(wi, vi)| {
                        *wi -= a * vi;
                        *wi * *wi
                    })
                    .sum(),
            }
        });
        alphas.push(a);
        let b = norm2.sqrt();
        theta = tridiagonal_top(&alphas, &betas);
        // Residual of the top Ritz pair: b times the last entry of its
        // normalised coordinates.
        let resid = ritz_coefficients(&alphas, &betas, theta)
            .map(|y| {
                let norm = dot(&y, &y).sqrt();
                b * y[y.len() - 1].abs() / norm
            })
            .unwrap_or(f64::INFINITY);
        last_resid = resid;
        let next: Vec<f64> = if b > 0.0 && b.is_finite() {
            let mut next = vec![0.0; n];
            op.par_chunks(&mut next, |range, part| {
                part.iter_mut()
                    .zip(&w[range])
                    .for_each(|(x, wi)| *x = wi / b);
                0.0
            });
            next
        } else {
            Vec::new()
        };
        basis.push(std::mem::replace(&mut v, next));
        // An invariant subspace (b = 0) means T already holds θ exactly.
        if v.is_empty() || resid <= tol * theta {
            break;
        }
        betas.push(b);
    }
    betas.truncate(alphas.len() - 1);
    let steps = alphas.len();
    let combine = |y: &[f64]| -> Vec<f64> {
        let mut x = vec![0.0; n];
        op.par_chunks(&mut x, |range, part| {
            for (q, &c) in basis.iter().zip(y) {
                part.iter_mut()
                    .zip(&q[range.clone()])
                    .for_each(|(xi, qi)| *xi += c * qi);
            }
            0.0
        });
        let top = x.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        if top > 0.0 {
            x.iter_mut().for_each(|v| *v /= top);
        }
        x
    };
    let mut bx = vec![0.0; n];
    let mut best = (f64::INFINITY, vec![1.0; n]);
    // The top Ritz vector first (for the lower bound), then shifts no
    // smaller than a tenth of the residual's bound on θ's error.
    let ritz = ritz_coefficients(&alphas, &betas, theta).map(|y| combine(&y));
    let floor = 0.1 * last_resid / theta.max(f64::MIN_POSITIVE);
    for delta in SHIFTS
        .into_iter()
        .filter(|&d| d >= floor || d == SHIFTS[SHIFTS.len() - 1])
    {
        let sigma = theta * (1.0 + delta) + f64::MIN_POSITIVE;
        let Some(y) = shifted_solve(&alphas, &betas, sigma) else {
            continue;
        };
        let x = combine(&y);
        let q = op.quotient(&x, &mut tmp, &mut bx);
        if q < best.0 {
            best = (q, x);
        }
        // Below σ: the Neumann picture holds; larger shifts only loosen it.
        if q <= sigma {
            break;
        }
    }
    Proposal {
        ritz: ritz.unwrap_or_else(|| best.1.clone()),
        x: best.1,
        steps,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tridiagonal_top_matches_known_spectrum() {
        // T = tridiag(1, 2, 1) of size 4: eigenvalues 2 + 2 cos(kπ/5).
        let top = tridiagonal_top(&[2.0; 4], &[1.0; 3]);
        let want = 2.0 + 2.0 * (std::f64::consts::PI / 5.0).cos();
        assert!((top - want).abs() < 1e-12, "{top} vs {want}");
        assert_eq!(tridiagonal_top(&[3.5], &[]), 3.5);
    }

    #[test]
    fn shifted_solve_solves_and_refuses_below_the_spectrum() {
        let (a, b) = ([2.0, 1.0, 3.0], [0.5, -0.25]);
        let sigma = 5.0;
        let y = shifted_solve(&a, &b, sigma).unwrap();
        // Residual of (σI − T) y = e₁.
        let r0 = (sigma - a[0]) * y[0] - b[0] * y[1] - 1.0;
        let r1 = -b[0] * y[0] + (sigma - a[1]) * y[1] - b[1] * y[2];
        let r2 = -b[1] * y[1] + (sigma - a[2]) * y[2];
        assert!(r0.abs() < 1e-14 && r1.abs() < 1e-14 && r2.abs() < 1e-14);
        assert!(shifted_solve(&a, &b, 2.5).is_none());
    }

    #[test]
    fn proposal_finds_a_localised_top_mode() {
        // Diagonal 1 everywhere except one entry 2: the ones start has
        // overlap 1/√n with the top mode; a good proposal still puts the
        // quotient near 4 = 2², where power iteration from ones would need
        // many steps.
        let n = 200;
        let row_start: Vec<usize> = (0..=n).collect();
        let col: Vec<usize> = (0..n).collect();
        let mut val = vec![1.0; n];
        val[137] = 2.0;
        let op = GramOp::new(&row_start, &col, val).ok().unwrap();
        let p = propose(&op, 50, 1e-12);
        let (mut tmp, mut bx) = (vec![0.0; n], vec![0.0; n]);
        let q = op.quotient(&p.x, &mut tmp, &mut bx);
        assert!((4.0..4.0 * (1.0 + 1e-6)).contains(&q), "quotient {q}");
    }

    #[test]
    fn split_products_match_one_thread() {
        // Above PAR_MIN, products, dots and vector updates split across
        // threads (two here, whatever the machine has): same results as on
        // one thread, up to the order of a sum.
        let n = PAR_MIN + 7_001;
        let mut rng = esai_core::rng::SplitMix64::new(5);
        let (mut row_start, mut col, mut val) = (vec![0usize], Vec::new(), Vec::new());
        for i in 0..n {
            col.push(i);
            val.push(0.5);
            for _ in 0..4 {
                col.push((rng.next_u64() % n as u64) as usize);
                val.push(rng.next_f64());
            }
            row_start.push(col.len());
        }
        let split = GramOp::new(&row_start, &col, val.clone()).ok().unwrap();
        let split = GramOp {
            threads: 2,
            ..split
        };
        let single = GramOp::new(&row_start, &col, val).ok().unwrap();
        let single = GramOp {
            threads: 1,
            ..single
        };
        let x: Vec<f64> = (0..n).map(|_| rng.next_f64() + 0.1).collect();
        let (mut tmp, mut bs, mut b1) = (vec![0.0; n], vec![0.0; n], vec![0.0; n]);
        split.gram(&x, &mut tmp, &mut bs);
        single.gram(&x, &mut tmp, &mut b1);
        assert_eq!(bs, b1, "row-split products are exact row by row");
        let (ds, d1) = (split.dot(&x, &bs), single.dot(&x, &b1));
        assert!((ds - d1).abs() <= 1e-12 * d1.abs(), "{ds} vs {d1}");
        let (ps, p1) = (propose(&split, 30, 1e-9), propose(&single, 30, 1e-9));
        assert_eq!(ps.steps, p1.steps);
        let (qs, q1) = (
            split.quotient(&ps.x, &mut tmp, &mut bs),
            single.quotient(&p1.x, &mut tmp, &mut b1),
        );
        assert!((qs - q1).abs() <= 1e-9 * q1, "{qs} vs {q1}");
    }
}
