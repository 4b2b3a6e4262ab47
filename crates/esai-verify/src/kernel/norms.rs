//! Sound bounds on matrix norms from interval matrices.
//!
//! An [`IMat`] (dense) or [`ISparse`] (CSR) holds an interval per entry and
//! stands for every real matrix inside it; the bounds here hold for all of
//! them, hence for the exact matrix the caller enclosed.

use super::interval::{down, up, Interval};
use super::psd::is_positive_definite;

/// A dense interval matrix, row-major.
#[derive(Debug, Clone)]
pub struct IMat {
    rows: usize,
    cols: usize,
    data: Vec<Interval>,
}

impl IMat {
    /// A `rows × cols` matrix from row-major entries.
    pub fn new(rows: usize, cols: usize, data: Vec<Interval>) -> Self {
        assert_eq!(data.len(), rows * cols, "IMat shape mismatch");
        Self { rows, cols, data }
    }
    /// The exact float matrix (each entry a point interval).
    pub fn from_points(rows: usize, cols: usize, data: &[f64]) -> Self {
        Self::new(
            rows,
            cols,
            data.iter().copied().map(Interval::point).collect(),
        )
    }
    /// Rows.
    pub fn rows(&self) -> usize {
        self.rows
    }
    /// Columns.
    pub fn cols(&self) -> usize {
        self.cols
    }
    /// Entry `(i, j)`.
    pub fn get(&self, i: usize, j: usize) -> Interval {
        self.data[i * self.cols + j]
    }
    /// Midpoint matrix, row-major (for untrusted proposals).
    pub fn mid(&self) -> Vec<f64> {
        self.data.iter().map(|v| v.mid()).collect()
    }
    /// Encloses the product `self · other`.
    pub fn matmul(&self, other: &IMat) -> IMat {
        assert_eq!(self.cols, other.rows, "matmul shape mismatch");
        let mut out = vec![Interval::point(0.0); self.rows * other.cols];
        for i in 0..self.rows {
            for k in 0..self.cols {
                let a = self.get(i, k);
                for j in 0..other.cols {
                    out[i * other.cols + j] = out[i * other.cols + j] + a * other.get(k, j);
                }
            }
        }
        IMat::new(self.rows, other.cols, out)
    }
    /// The transpose.
    pub fn transpose(&self) -> IMat {
        let data = (0..self.cols)
            .flat_map(|j| (0..self.rows).map(move |i| (i, j)))
            .map(|(i, j)| self.get(i, j))
            .collect();
        IMat::new(self.cols, self.rows, data)
    }
    /// The sub-matrix of the given columns.
    pub fn columns(&self, cols: std::ops::Range<usize>) -> IMat {
        let data = (0..self.rows)
            .flat_map(|i| cols.clone().map(move |j| (i, j)))
            .map(|(i, j)| self.get(i, j))
            .collect();
        IMat::new(self.rows, cols.len(), data)
    }
}

/// Proves `‖A‖₂ < c` for every `A` in the interval matrix by checking that
/// `c² I − G` is positive definite, where `G` encloses the smaller Gram
/// matrix (`AᵀA` or `AAᵀ`, which share their largest eigenvalue `‖A‖₂²`).
/// `false` means "not proven".
pub fn spectral_norm_below(a: &IMat, c: f64) -> bool {
    if !(c > 0.0 && c.is_finite()) {
        return false;
    }
    // ‖A‖₂ = ‖Aᵀ‖₂: work with the orientation whose Gram matrix is smaller.
    let t;
    let a = if a.cols <= a.rows {
        a
    } else {
        t = a.transpose();
        &t
    };
    let (n, inner) = (a.cols, a.rows);
    let get = |k: usize, i: usize| a.get(k, i);
    let c2 = Interval::point(c).sqr();
    let mut m = vec![Interval::point(0.0); n * n];
    for i in 0..n {
        for j in 0..=i {
            let mut g = Interval::point(0.0);
            for k in 0..inner {
                g = g + get(k, i) * get(k, j);
            }
            m[i * n + j] = if i == j { c2 - g } else { -g };
        }
    }
    is_positive_definite(&m, n)
}

/// Upper bound on `‖A‖_∞` (largest absolute row sum).
pub fn inf_norm_upper(a: &IMat) -> f64 {
    (0..a.rows)
        .map(|i| (0..a.cols).fold(0.0, |s, j| up(s + a.get(i, j).mag())))
        .fold(0.0, f64::max)
}

/// Upper bound on `‖A‖₁` (largest absolute column sum).
pub fn one_norm_upper(a: &IMat) -> f64 {
    (0..a.cols)
        .map(|j| (0..a.rows).fold(0.0, |s, i| up(s + a.get(i, j).mag())))
        .fold(0.0, f64::max)
}

/// Upper bound on the Frobenius norm, itself `≥ ‖A‖₂`.
pub fn frobenius_upper(a: &IMat) -> f64 {
    let s = a
        .data
        .iter()
        .fold(0.0, |s, v| up(s + up(v.mag() * v.mag())));
    up(s.sqrt())
}

/// Upper bound on `‖A‖₂` from `‖A‖₂ ≤ √(‖A‖₁ ‖A‖_∞)` (Hölder).
pub fn holder_upper(a: &IMat) -> f64 {
    up(up(one_norm_upper(a) * inf_norm_upper(a)).sqrt())
}

/// Lower bound on `‖A‖₂` over the interval matrix: `‖A x‖₂ / ‖x‖₂` with the
/// numerator rounded down and the denominator up. Any nonzero `x` is valid.
pub fn spectral_norm_lower_dense(a: &IMat, x: &[f64]) -> f64 {
    assert_eq!(x.len(), a.cols, "x must have one entry per column");
    let num = (0..a.rows).fold(0.0, |s, i| {
        let yi = (0..a.cols).fold(Interval::point(0.0), |acc, j| {
            acc + a.get(i, j) * Interval::point(x[j])
        });
        down(s + down(yi.mig() * yi.mig()))
    });
    ratio_lower(num, x)
}

fn ratio_lower(num_sq_lower: f64, x: &[f64]) -> f64 {
    let den = x.iter().fold(0.0, |s, v| up(s + up(v * v)));
    if den == 0.0 || !den.is_finite() {
        return 0.0;
    }
    down(down(num_sq_lower.max(0.0).sqrt()) / up(den.sqrt())).max(0.0)
}

/// A square interval matrix in compressed sparse row form.
#[derive(Debug, Clone)]
pub struct ISparse {
    n: usize,
    row_start: Vec<usize>,
    col: Vec<usize>,
    val: Vec<Interval>,
}

impl ISparse {
    /// An `n × n` matrix from CSR arrays; `row_start` has `n + 1` entries.
    pub fn new(n: usize, row_start: Vec<usize>, col: Vec<usize>, val: Vec<Interval>) -> Self {
        assert_eq!(row_start.len(), n + 1, "row_start must have n + 1 entries");
        assert_eq!(col.len(), val.len(), "col and val lengths differ");
        assert!(col.iter().all(|&c| c < n), "column index out of range");
        Self {
            n,
            row_start,
            col,
            val,
        }
    }
    /// Dimension.
    pub fn n(&self) -> usize {
        self.n
    }
    /// Row `i` as `(column, entry)` pairs.
    pub fn row(&self, i: usize) -> impl Iterator<Item = (usize, Interval)> + '_ {
        let r = self.row_start[i]..self.row_start[i + 1];
        self.col[r.clone()]
            .iter()
            .copied()
            .zip(self.val[r].iter().copied())
    }
    /// The CSR arrays `(row_start, col, val)`.
    pub fn csr(&self) -> (&[usize], &[usize], &[Interval]) {
        (&self.row_start, &self.col, &self.val)
    }
    /// True if every entry is provably `≥ 0`.
    pub fn is_nonnegative(&self) -> bool {
        self.val.iter().all(|v| v.lo() >= 0.0)
    }
    /// Dense copy (for small `n`).
    pub fn to_dense(&self) -> IMat {
        let mut data = vec![Interval::point(0.0); self.n * self.n];
        for i in 0..self.n {
            for (j, v) in self.row(i) {
                data[i * self.n + j] = v;
            }
        }
        IMat::new(self.n, self.n, data)
    }
    /// Upper bound on `‖A‖_∞` (largest absolute row sum).
    pub fn inf_norm_upper(&self) -> f64 {
        (0..self.n)
            .map(|i| self.row(i).fold(0.0, |s, (_, v)| up(s + v.mag())))
            .fold(0.0, f64::max)
    }
}

/// Collatz–Wielandt upper bound on `‖A‖₂` for every `A` in the interval
/// matrix: with `U = mag(A) ≥ |A|` entrywise and any `x > 0`,
/// `‖A‖₂² = ρ(AᵀA) ≤ ρ(UᵀU) ≤ max_i (UᵀU x)_i / x_i`. Every operation on
/// these nonnegative quantities is rounded up. Tight when `A ≥ 0` and `x` is
/// close to the Perron vector of `AᵀA`. Entries of `x` that are not `> 0`
/// give `+∞` (no bound).
pub fn collatz_wielandt_upper(a: &ISparse, x: &[f64]) -> f64 {
    assert_eq!(x.len(), a.n, "x must have n entries");
    if x.iter().any(|&v| !(v > 0.0 && v.is_finite())) {
        return f64::INFINITY;
    }
    let y: Vec<f64> = (0..a.n)
        .map(|i| a.row(i).fold(0.0, |s, (j, v)| up(s + up(v.mag() * x[j]))))
        .collect();
    let mut z = vec![0.0; a.n];
    for (i, yi) in y.iter().enumerate() {
        for (j, v) in a.row(i) {
            z[j] = up(z[j] + up(v.mag() * yi));
        }
    }
    let ratio = z
        .iter()
        .zip(x)
        .fold(0.0, |m: f64, (zi, xi)| m.max(up(zi / xi)));
    up(ratio.sqrt())
}

/// Lower bound on `‖A‖₂` over the sparse interval matrix from any nonzero `x`.
pub fn spectral_norm_lower_sparse(a: &ISparse, x: &[f64]) -> f64 {
    let num = (0..a.n).fold(0.0, |s, i| {
        let yi = a.row(i).fold(Interval::point(0.0), |acc, (j, v)| {
            acc + v * Interval::point(x[j])
        });
        down(s + down(yi.mig() * yi.mig()))
    });
    ratio_lower(num, x)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diagonal_norm_is_bracketed_tightly() {
        let a = IMat::from_points(2, 2, &[3.0, 0.0, 0.0, -2.0]);
        assert!(spectral_norm_below(&a, 3.0 * (1.0 + 1e-12)));
        assert!(!spectral_norm_below(&a, 3.0));
        assert!(!spectral_norm_below(&a, 2.9));
        assert!((spectral_norm_lower_dense(&a, &[1.0, 0.0]) - 3.0).abs() < 1e-12);
        assert!(spectral_norm_lower_dense(&a, &[1.0, 0.0]) <= 3.0);
    }

    #[test]
    fn rectangular_uses_the_smaller_gram() {
        // ‖[1 1 1]‖₂ = √3
        let a = IMat::from_points(1, 3, &[1.0, 1.0, 1.0]);
        assert!(spectral_norm_below(&a, 3f64.sqrt() * (1.0 + 1e-12)));
        assert!(!spectral_norm_below(&a, 3f64.sqrt() * (1.0 - 1e-12)));
    }

    #[test]
    fn collatz_wielandt_is_exact_for_perron_vector() {
        // A = [[0.5, 0.5], [0.5, 0.5]]: ‖A‖₂ = 1, Perron vector (1, 1).
        let a = ISparse::new(
            2,
            vec![0, 2, 4],
            vec![0, 1, 0, 1],
            vec![Interval::point(0.5); 4],
        );
        let ub = collatz_wielandt_upper(&a, &[1.0, 1.0]);
        assert!((1.0..1.0 + 1e-14).contains(&ub));
        assert!(collatz_wielandt_upper(&a, &[1.0, 2.0]) > 1.0);
        assert_eq!(collatz_wielandt_upper(&a, &[1.0, 0.0]), f64::INFINITY);
    }

    #[test]
    fn cheap_norms_dominate_the_two_norm() {
        let a = IMat::from_points(2, 2, &[1.0, -2.0, 0.5, 3.0]);
        assert!((inf_norm_upper(&a) - 3.5).abs() < 1e-12 && inf_norm_upper(&a) >= 3.5);
        assert!(one_norm_upper(&a) >= 5.0);
        let fro = frobenius_upper(&a);
        assert!(fro >= (1.0f64 + 4.0 + 0.25 + 9.0).sqrt());
        assert!(spectral_norm_below(&a, fro));
        assert!(spectral_norm_below(&a, holder_upper(&a)));
    }
}
