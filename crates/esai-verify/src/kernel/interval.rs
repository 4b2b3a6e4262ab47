//! Outward-rounded interval arithmetic on `f64`.
//!
//! Each operation computes the round-to-nearest result and widens it by one
//! ulp in each direction, so the exact real result of the operation applied
//! to any reals inside the operands lies inside the returned interval. NaN
//! anywhere yields the whole real line, which makes every check fail (sound).

use std::ops::{Add, Div, Mul, Neg, Sub};

/// Largest float `≤ x`, treating NaN as `−∞` (no information).
pub fn down(x: f64) -> f64 {
    if x.is_nan() {
        f64::NEG_INFINITY
    } else {
        x.next_down()
    }
}

/// Smallest float `≥ x` (one ulp above), treating NaN as `+∞`.
pub fn up(x: f64) -> f64 {
    if x.is_nan() {
        f64::INFINITY
    } else {
        x.next_up()
    }
}

/// A closed interval `[lo, hi]` of reals, `lo ≤ hi` (possibly infinite ends).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Interval {
    lo: f64,
    hi: f64,
}

impl Interval {
    /// The whole real line.
    pub const ENTIRE: Self = Self {
        lo: f64::NEG_INFINITY,
        hi: f64::INFINITY,
    };

    /// Exactly the float `x` (a float is an exact real).
    pub fn point(x: f64) -> Self {
        if x.is_nan() {
            Self::ENTIRE
        } else {
            Self { lo: x, hi: x }
        }
    }

    /// `[down(x), up(x)]`: encloses any real that rounds to `x`, such as the
    /// decimal a user wrote in a spec file.
    pub fn around(x: f64) -> Self {
        Self {
            lo: down(x),
            hi: up(x),
        }
    }

    /// `[lo, hi]`; `None` unless `lo ≤ hi` and neither is NaN.
    pub fn new(lo: f64, hi: f64) -> Option<Self> {
        (lo <= hi).then_some(Self { lo, hi })
    }

    /// Lower end.
    pub fn lo(self) -> f64 {
        self.lo
    }
    /// Upper end.
    pub fn hi(self) -> f64 {
        self.hi
    }
    /// Largest absolute value in the interval.
    pub fn mag(self) -> f64 {
        self.lo.abs().max(self.hi.abs())
    }
    /// Smallest absolute value in the interval (0 if it contains 0).
    pub fn mig(self) -> f64 {
        if self.lo <= 0.0 && self.hi >= 0.0 {
            0.0
        } else {
            self.lo.abs().min(self.hi.abs())
        }
    }
    /// Midpoint (untrusted, for proposals).
    pub fn mid(self) -> f64 {
        if self.lo.is_finite() && self.hi.is_finite() {
            self.lo * 0.5 + self.hi * 0.5
        } else {
            0.0
        }
    }
    /// True if `x` lies in the interval.
    pub fn contains(self, x: f64) -> bool {
        self.lo <= x && x <= self.hi
    }

    fn from_bounds(lo: f64, hi: f64) -> Self {
        if lo.is_nan() || hi.is_nan() {
            Self::ENTIRE
        } else {
            Self { lo, hi }
        }
    }

    /// Encloses `x²` (tighter than `x * x` when `x` contains 0).
    pub fn sqr(self) -> Self {
        let (a, b) = (self.lo * self.lo, self.hi * self.hi);
        if self.lo <= 0.0 && self.hi >= 0.0 {
            Self::from_bounds(0.0, up(a.max(b)))
        } else {
            Self::from_bounds(down(a.min(b)).max(0.0), up(a.max(b)))
        }
    }

    /// Encloses `|x|`.
    pub fn abs(self) -> Self {
        Self::from_bounds(self.mig(), self.mag())
    }

    /// Encloses `√x` over the nonnegative part; `None` if the interval has no
    /// nonnegative part.
    pub fn sqrt(self) -> Option<Self> {
        if self.hi < 0.0 || self.hi.is_nan() {
            return None;
        }
        let lo = if self.lo <= 0.0 {
            0.0
        } else {
            down(self.lo.sqrt()).max(0.0)
        };
        Some(Self::from_bounds(lo, up(self.hi.sqrt())))
    }

    /// Encloses `max(x, y)`.
    pub fn max(self, y: Self) -> Self {
        Self::from_bounds(self.lo.max(y.lo), self.hi.max(y.hi))
    }

    /// Encloses `tanh(x)`, trusting libm to 1e-12 relative (see the kernel header).
    pub fn tanh(self) -> Self {
        let widen = |v: f64, dir: f64| v + dir * (v.abs() * 1e-12 + f64::MIN_POSITIVE);
        Self::from_bounds(
            widen(self.lo.tanh(), -1.0).max(-1.0),
            widen(self.hi.tanh(), 1.0).min(1.0),
        )
    }

    /// Encloses `max(0, x)`.
    pub fn relu(self) -> Self {
        Self::from_bounds(self.lo.max(0.0), self.hi.max(0.0))
    }
}

fn min4(c: [f64; 4]) -> f64 {
    if c.iter().any(|v| v.is_nan()) {
        return f64::NAN;
    }
    c.into_iter().fold(f64::INFINITY, f64::min)
}

fn max4(c: [f64; 4]) -> f64 {
    if c.iter().any(|v| v.is_nan()) {
        return f64::NAN;
    }
    c.into_iter().fold(f64::NEG_INFINITY, f64::max)
}

impl Add for Interval {
    type Output = Self;
    fn add(self, y: Self) -> Self {
        Self::from_bounds(down(self.lo + y.lo), up(self.hi + y.hi))
    }
}

impl Sub for Interval {
    type Output = Self;
    fn sub(self, y: Self) -> Self {
        Self::from_bounds(down(self.lo - y.hi), up(self.hi - y.lo))
    }
}

impl Div for Interval {
    type Output = Self;
    /// Encloses `x / y`; the whole line if `y` contains 0.
    fn div(self, y: Self) -> Self {
        if y.lo <= 0.0 && y.hi >= 0.0 {
            return Self::ENTIRE;
        }
        let c = [
            self.lo / y.lo,
            self.lo / y.hi,
            self.hi / y.lo,
            self.hi / y.hi,
        ];
        Self::from_bounds(down(min4(c)), up(max4(c)))
    }
}

impl Neg for Interval {
    type Output = Self;
    fn neg(self) -> Self {
        Self {
            lo: -self.hi,
            hi: -self.lo,
        }
    }
}

impl Mul for Interval {
    type Output = Self;
    fn mul(self, y: Self) -> Self {
        if self.lo == self.hi && y.lo == y.hi {
            let p = self.lo * y.lo;
            return Self::from_bounds(down(p), up(p));
        }
        let c = [
            self.lo * y.lo,
            self.lo * y.hi,
            self.hi * y.lo,
            self.hi * y.hi,
        ];
        Self::from_bounds(down(min4(c)), up(max4(c)))
    }
}

/// `Σ xᵢ yᵢ` enclosed.
pub fn dot(
    x: impl IntoIterator<Item = Interval>,
    y: impl IntoIterator<Item = Interval>,
) -> Interval {
    x.into_iter()
        .zip(y)
        .fold(Interval::point(0.0), |acc, (a, b)| acc + a * b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_tenth_sum_is_enclosed() {
        // 0.1 + 0.2 is not 0.3 in floating point; the enclosure must contain the
        // exact sum of the two floats, which lies strictly between neighbours.
        let s = Interval::point(0.1) + Interval::point(0.2);
        assert!(s.lo() < 0.1 + 0.2 && 0.1 + 0.2 < s.hi());
    }

    #[test]
    fn sqrt_of_two_brackets_the_true_root() {
        let r = Interval::point(2.0).sqrt().unwrap();
        // (lo)² < 2 < (hi)² checked in exact-ish terms: both squares rounded the
        // safe way round.
        assert!(r.lo() * r.lo() <= 2.0 && r.hi() * r.hi() >= 2.0);
    }

    #[test]
    fn division_by_interval_containing_zero_is_entire() {
        let q = Interval::point(1.0) / Interval::new(-1.0, 1.0).unwrap();
        assert_eq!(q, Interval::ENTIRE);
    }

    #[test]
    fn nan_poisons_to_entire() {
        let x = Interval::point(f64::NAN);
        assert_eq!(x, Interval::ENTIRE);
        let y = Interval::point(f64::INFINITY) * Interval::point(0.0);
        assert_eq!(y, Interval::ENTIRE);
    }

    #[test]
    fn sqr_of_straddling_interval_starts_at_zero() {
        let s = Interval::new(-2.0, 1.0).unwrap().sqr();
        assert!(s.lo() == 0.0 && s.hi() >= 4.0);
    }

    #[test]
    fn tanh_encloses_and_stays_in_unit_band() {
        let t = Interval::new(-30.0, 0.5).unwrap().tanh();
        assert!(t.lo() >= -1.0 && t.hi() >= 0.5f64.tanh() && t.hi() <= 1.0);
    }
}
