//! Positive-definiteness by interval Cholesky.
//!
//! Exact Cholesky `A = R Rᵀ` of a symmetric matrix runs to completion with
//! every pivot `a_jj − Σ_k r_jk² > 0` iff `A` is positive definite. Here every
//! quantity is an interval that encloses the exact value for every symmetric
//! matrix inside the interval matrix; if every pivot interval lies strictly
//! above zero, every such matrix (in particular the exact one) is positive
//! definite. If some pivot interval touches zero we answer `false`, which
//! means "not proven", never "proven indefinite".

use super::interval::Interval;

/// True only if every symmetric matrix whose entries lie in the lower
/// triangle of `a` (row-major `n × n`; the upper triangle is ignored) is
/// positive definite.
pub fn is_positive_definite(a: &[Interval], n: usize) -> bool {
    assert_eq!(a.len(), n * n, "a must be n×n");
    // r holds the Cholesky factor's lower triangle, row-major.
    let mut r = vec![Interval::point(0.0); n * n];
    for j in 0..n {
        let mut pivot = a[j * n + j];
        for k in 0..j {
            pivot = pivot - r[j * n + k].sqr();
        }
        if pivot.lo() <= 0.0 {
            return false;
        }
        let Some(rjj) = pivot.sqrt() else {
            return false;
        };
        r[j * n + j] = rjj;
        for i in j + 1..n {
            let mut s = a[i * n + j];
            for k in 0..j {
                s = s - r[i * n + k] * r[j * n + k];
            }
            r[i * n + j] = s / rjj;
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pts(v: &[f64]) -> Vec<Interval> {
        v.iter().copied().map(Interval::point).collect()
    }

    #[test]
    fn identity_is_pd_and_singular_is_not() {
        assert!(is_positive_definite(&pts(&[1.0, 0.0, 0.0, 1.0]), 2));
        assert!(!is_positive_definite(&pts(&[1.0, 1.0, 1.0, 1.0]), 2));
        assert!(!is_positive_definite(&pts(&[1.0, 2.0, 2.0, 1.0]), 2));
    }

    #[test]
    fn nearly_singular_is_not_claimed() {
        // [[1, 1], [1, 1 + 1e-17]]: the (2,2) entry rounds to 1, and the exact
        // matrix of floats is singular; must not be reported PD.
        let a = pts(&[1.0, 1.0, 1.0, 1.0 + 1e-17]);
        assert!(!is_positive_definite(&a, 2));
    }

    #[test]
    fn barely_pd_with_clear_margin_is_proven() {
        let e = 1e-6;
        assert!(is_positive_definite(&pts(&[1.0, 1.0 - e, 1.0 - e, 1.0]), 2));
    }
}
