//! Region certification with z3 in exact rational arithmetic.
//!
//! A region is a box of `(γ_E, α, L_g, L_E)`. The sufficient conditions are
//! encoded over the reals; we assert that the region contains a point where
//! a condition FAILS and ask z3 for a model. `unsat` proves the condition at
//! every point of the box; `sat` yields a candidate counterexample that the
//! caller re-checks with the kernel; `unknown` (including a timeout) is never
//! read as safe.
//!
//! Encodings (all linear over the reals):
//! - max-norm: `|γ − α l_i| + α r_i + L_E < 1` for each row profile `(l_i, r_i)`
//!   of L (diagonal and off-diagonal absolute row sum; `r_i` an exact or
//!   upper rational, the condition being monotone in it since `α ≥ 0`).
//! - spectral, symmetric L: `‖M‖₂ = max(|γ|, |γ − αλ_max|)` with a sound
//!   rational `λ_hi ≥ λ_max` (Appendix A.2; see `proofs/a2_lemma.smt2`).
//! - spectral, row L: `(γ, α) ↦ ‖γI − αL‖₂` is convex (a norm of an affine
//!   map), so at any convex combination `Σ λ_v v` of the box corners it is at
//!   most `Σ λ_v s_v`, where `s_v` are kernel-confirmed corner upper bounds.

use crate::kernel::interval::{down, up, Interval};
use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::{Signed, ToPrimitive, Zero};
use z3::ast::{Ast, Bool, Real};
use z3::{Config, Context, SatResult, Solver};

/// A closed rational interval `[lo, hi]` for one parameter.
#[derive(Debug, Clone)]
pub struct RatRange {
    /// Lower end.
    pub lo: BigRational,
    /// Upper end.
    pub hi: BigRational,
}

impl RatRange {
    /// `[down(lo), up(hi)]` as exact rationals: encloses the decimals a user
    /// wrote for the two ends. `None` if an end is not finite (or rounds
    /// outward to infinity): z3 gets no problem built from one.
    pub fn widened(lo: f64, hi: f64) -> Option<Self> {
        Some(Self {
            lo: exact(down(lo).max(0.0))?,
            hi: exact(up(hi))?,
        })
    }
    /// Exactly `[lo, hi]` (the ends are already sound bounds); `None` if an
    /// end is not finite.
    pub fn exact(lo: f64, hi: f64) -> Option<Self> {
        Some(Self {
            lo: exact(lo)?,
            hi: exact(hi)?,
        })
    }
}

/// The exact rational value of a float; `None` for ±∞ and NaN, which have
/// none (a bound that overflowed is no bound, so no query may use it).
pub fn exact(x: f64) -> Option<BigRational> {
    BigRational::from_float(x)
}

/// How the spectral norm of M is bounded over the box.
#[derive(Debug, Clone)]
pub enum SpectralModel {
    /// Symmetric L with spectrum in `[0, lambda_hi]`.
    Symmetric {
        /// Sound upper bound on `λ_max(L)`.
        lambda_hi: BigRational,
    },
    /// Corners `(γ_v, α_v, s_v)` with `s_v ≥ ‖γ_v I − α_v L‖₂` (kernel-confirmed).
    Corners(Vec<(BigRational, BigRational, BigRational)>),
}

/// The region problem: parameter boxes and the graph's data.
#[derive(Debug, Clone)]
pub struct RegionProblem {
    /// `γ_E`.
    pub gamma: RatRange,
    /// `α`.
    pub alpha: RatRange,
    /// `L_g` (whole-input Lipschitz constant).
    pub l_g: RatRange,
    /// `L_E` (E-block constant).
    pub l_e: RatRange,
    /// Distinct `(L_ii, upper Σ_{j≠i} |L_ij|)` row profiles.
    pub row_profiles: Vec<(BigRational, BigRational)>,
    /// Spectral-norm model.
    pub spectral: SpectralModel,
}

/// One point of parameter space found by z3, exactly.
#[derive(Debug, Clone)]
pub struct CounterPoint {
    /// `γ_E`.
    pub gamma: BigRational,
    /// `α`.
    pub alpha: BigRational,
    /// `L_g`.
    pub l_g: BigRational,
    /// `L_E`.
    pub l_e: BigRational,
}

/// The answer to one query.
#[derive(Debug, Clone)]
pub enum QueryOutcome {
    /// No point of the box violates the condition: it holds everywhere.
    Unsat,
    /// A point where the encoded condition fails.
    Sat(Box<CounterPoint>),
    /// z3 gave up (timeout or incompleteness); the reason.
    Unknown(String),
}

/// The queries asked, by name.
pub const QUERIES: [(&str, &str); 4] = [
    ("max_norm", "‖M‖∞ + L_E < 1 at every point of the region"),
    ("frobenius", "‖M‖₂ + L_E < 1 at every point of the region"),
    (
        "proposition1",
        "‖M‖₂ + L_g < 1 at every point of the region",
    ),
    (
        "any_sufficient",
        "at every point some sufficient condition holds",
    ),
];

/// The queries asked of z3 and its answers.
#[derive(Debug, Clone)]
pub struct Queries {
    /// z3's answers, in [`QUERIES`] order.
    pub outcomes: Vec<QueryOutcome>,
    /// Each query as a standalone SMT-LIB 2 script, in [`QUERIES`] order:
    /// `(set-logic QF_LRA)` (every encoding is linear), the declarations and
    /// assertions exactly as z3 got them, and one `(check-sat)`. This is what
    /// a second solver (`cvc5.rs`) re-decides.
    pub scripts: Vec<String>,
    /// All queries in one file for `--smt2`, each in a `(push 1)` … `(pop 1)`
    /// block with `(get-model)`, re-checkable with `z3 FILE`.
    pub smt2: String,
}

/// Runs all queries with z3; returns its answers and their SMT-LIB 2 text.
pub fn run_queries(p: &RegionProblem, timeout_ms: u64) -> Queries {
    let mut cfg = Config::new();
    cfg.set_timeout_msec(timeout_ms);
    cfg.set_model_generation(true);
    let ctx = Context::new(&cfg);
    let v = Vars::new(&ctx);
    let in_box = v.in_box(&ctx, p);
    let fail_max = v.max_norm_fails(&ctx, p);
    let (spec_extra, s_bound) = v.spectral_bound(&ctx, p);
    let one = Real::from_real(&ctx, 1, 1);
    let fail_frob = (&s_bound + &v.l_e).ge(&one);
    let fail_prop1 = (&s_bound + &v.l_g).ge(&one);
    let fail_all = Bool::and(&ctx, &[&fail_max, &fail_frob, &fail_prop1]);
    let mut outcomes = Vec::new();
    let mut scripts = Vec::new();
    let mut smt2 = String::new();
    for ((name, meaning), fail) in
        QUERIES
            .iter()
            .zip([&fail_max, &fail_frob, &fail_prop1, &fail_all])
    {
        let solver = Solver::new(&ctx);
        solver.assert(&in_box);
        solver.assert(&spec_extra);
        solver.assert(fail);
        smt2.push_str(&format!(
            "; query {name}: unsat proves {meaning}\n(push 1)\n{solver}(check-sat)\n(get-model)\n(pop 1)\n\n"
        ));
        scripts.push(format!(
            "; query {name}: unsat proves {meaning}\n(set-logic QF_LRA)\n{solver}(check-sat)\n"
        ));
        let outcome = match solver.check() {
            SatResult::Unsat => QueryOutcome::Unsat,
            SatResult::Unknown => QueryOutcome::Unknown(
                solver
                    .get_reason_unknown()
                    .unwrap_or_else(|| "unknown".into()),
            ),
            SatResult::Sat => match solver.get_model().and_then(|m| v.read(&m)) {
                Some(point) => QueryOutcome::Sat(Box::new(point)),
                None => QueryOutcome::Unknown("sat, but the model could not be read".into()),
            },
        };
        outcomes.push(outcome);
    }
    Queries {
        outcomes,
        scripts,
        smt2,
    }
}

struct Vars<'c> {
    gamma: Real<'c>,
    alpha: Real<'c>,
    l_g: Real<'c>,
    l_e: Real<'c>,
}

fn num<'c>(ctx: &'c Context, q: &BigRational) -> Real<'c> {
    let r = Real::from_real_str(ctx, &q.numer().abs().to_string(), &q.denom().to_string())
        .expect("z3 accepts decimal numerals");
    if q.is_negative() {
        r.unary_minus()
    } else {
        r
    }
}

fn abs<'c>(ctx: &'c Context, x: &Real<'c>) -> Real<'c> {
    x.ge(&Real::from_real(ctx, 0, 1)).ite(x, &x.unary_minus())
}

impl<'c> Vars<'c> {
    fn new(ctx: &'c Context) -> Self {
        Self {
            gamma: Real::new_const(ctx, "gamma_e"),
            alpha: Real::new_const(ctx, "alpha"),
            l_g: Real::new_const(ctx, "lipschitz"),
            l_e: Real::new_const(ctx, "e_lipschitz"),
        }
    }

    fn in_box(&self, ctx: &'c Context, p: &RegionProblem) -> Bool<'c> {
        let within = |x: &Real<'c>, r: &RatRange| {
            Bool::and(ctx, &[&x.ge(&num(ctx, &r.lo)), &x.le(&num(ctx, &r.hi))])
        };
        Bool::and(
            ctx,
            &[
                &within(&self.gamma, &p.gamma),
                &within(&self.alpha, &p.alpha),
                &within(&self.l_g, &p.l_g),
                &within(&self.l_e, &p.l_e),
                &self.l_e.le(&self.l_g),
            ],
        )
    }

    fn max_norm_fails(&self, ctx: &'c Context, p: &RegionProblem) -> Bool<'c> {
        let one = Real::from_real(ctx, 1, 1);
        let fails: Vec<Bool<'c>> = p
            .row_profiles
            .iter()
            .map(|(l, r)| {
                let diag = &self.gamma - &(&self.alpha * &num(ctx, l));
                (&abs(ctx, &diag) + &(&self.alpha * &num(ctx, r)) + self.l_e.clone()).ge(&one)
            })
            .collect();
        Bool::or(ctx, &fails.iter().collect::<Vec<_>>())
    }

    /// Constraints on auxiliary variables and the bound expression on ‖M‖₂.
    fn spectral_bound(&self, ctx: &'c Context, p: &RegionProblem) -> (Bool<'c>, Real<'c>) {
        match &p.spectral {
            SpectralModel::Symmetric { lambda_hi } => {
                let top = &self.gamma - &(&self.alpha * &num(ctx, lambda_hi));
                let a = abs(ctx, &self.gamma);
                let b = abs(ctx, &top);
                (Bool::from_bool(ctx, true), a.ge(&b).ite(&a, &b))
            }
            SpectralModel::Corners(corners) => {
                let zero = Real::from_real(ctx, 0, 1);
                let lams: Vec<Real<'c>> = (0..corners.len())
                    .map(|i| Real::new_const(ctx, format!("corner_weight_{i}")))
                    .collect();
                let mut cons: Vec<Bool<'c>> = lams.iter().map(|l| l.ge(&zero)).collect();
                let sum = |f: &dyn Fn(&(BigRational, BigRational, BigRational)) -> &BigRational| {
                    lams.iter()
                        .zip(corners)
                        .fold(zero.clone(), |acc, (l, c)| &acc + &(l * &num(ctx, f(c))))
                };
                let total = lams.iter().fold(zero.clone(), |acc, l| &acc + l);
                cons.push(total._eq(&Real::from_real(ctx, 1, 1)));
                cons.push(self.gamma._eq(&sum(&|c| &c.0)));
                cons.push(self.alpha._eq(&sum(&|c| &c.1)));
                let bound = sum(&|c| &c.2);
                (Bool::and(ctx, &cons.iter().collect::<Vec<_>>()), bound)
            }
        }
    }

    fn read(&self, m: &z3::Model<'c>) -> Option<CounterPoint> {
        let get = |x: &Real<'c>| m.eval(x, true).and_then(|v| rational_of(&v));
        Some(CounterPoint {
            gamma: get(&self.gamma)?,
            alpha: get(&self.alpha)?,
            l_g: get(&self.l_g)?,
            l_e: get(&self.l_e)?,
        })
    }
}

/// Reads a z3 rational numeral, small or big.
fn rational_of(v: &Real) -> Option<BigRational> {
    if let Some((n, d)) = v.as_real() {
        return (d != 0).then(|| BigRational::new(BigInt::from(n), BigInt::from(d)));
    }
    parse_numeral(&v.to_string())
}

/// Parses z3's printed numerals: `3.0`, `(/ 3.0 4.0)`, `(- 3.0)`, `(- (/ 3.0 4.0))`.
fn parse_numeral(s: &str) -> Option<BigRational> {
    let s = s.trim();
    if let Some(inner) = s.strip_prefix("(-").and_then(|t| t.strip_suffix(')')) {
        return parse_numeral(inner).map(|q| -q);
    }
    if let Some(inner) = s.strip_prefix("(/").and_then(|t| t.strip_suffix(')')) {
        let mut parts = inner.split_whitespace();
        let (a, b) = (parse_numeral(parts.next()?)?, parse_numeral(parts.next()?)?);
        return (!b.is_zero()).then(|| a / b);
    }
    let digits = s.strip_suffix(".0").unwrap_or(s);
    digits.parse::<BigInt>().ok().map(BigRational::from_integer)
}

/// A float interval that encloses the rational `q`.
pub fn enclose(q: &BigRational) -> Interval {
    let f = |x: &BigInt| {
        let v = x.to_f64().unwrap_or(f64::NAN);
        if BigInt::from_signed_float(v) == Some(x.clone()) {
            Interval::point(v)
        } else {
            Interval::new(down(down(v)), up(up(v))).unwrap_or(Interval::ENTIRE)
        }
    };
    f(q.numer()) / f(q.denom())
}

/// The nearest float to `q` (for display).
pub fn approx(q: &BigRational) -> f64 {
    enclose(q).mid()
}

trait FromSignedFloat: Sized {
    fn from_signed_float(v: f64) -> Option<Self>;
}

impl FromSignedFloat for BigInt {
    fn from_signed_float(v: f64) -> Option<Self> {
        num_traits::FromPrimitive::from_f64(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(n: i64, d: i64) -> BigRational {
        BigRational::new(n.into(), d.into())
    }

    fn problem(gamma: (f64, f64), alpha: (f64, f64), lg: f64) -> RegionProblem {
        RegionProblem {
            gamma: RatRange::exact(gamma.0, gamma.1).unwrap(),
            alpha: RatRange::exact(alpha.0, alpha.1).unwrap(),
            l_g: RatRange::exact(lg, lg).unwrap(),
            l_e: RatRange::exact(lg, lg).unwrap(),
            row_profiles: vec![(q(1, 1), q(1, 1))],
            spectral: SpectralModel::Symmetric { lambda_hi: q(2, 1) },
        }
    }

    #[test]
    fn paper_region_is_certified_and_too_large_alpha_is_refuted() {
        let ok = run_queries(&problem((0.8, 0.9), (0.0, 0.2), 0.05), 10_000).outcomes;
        assert!(matches!(ok[3], QueryOutcome::Unsat), "{ok:?}");
        // α up to 0.99 with γ = 0.9: 2α − γ + L = 1.13 ≥ 1 somewhere.
        let Queries {
            outcomes: bad,
            scripts,
            smt2: smt,
        } = run_queries(&problem((0.9, 0.9), (0.0, 0.99), 0.05), 10_000);
        match &bad[3] {
            QueryOutcome::Sat(p) => {
                let a = approx(&p.alpha);
                assert!(2.0 * a - 0.9 + 0.05 >= 1.0 - 1e-12, "alpha {a}");
            }
            other => panic!("expected a counterexample, got {other:?}"),
        }
        assert!(smt.contains("(check-sat)") && smt.contains("gamma_e"));
        assert_eq!(scripts.len(), QUERIES.len());
        for s in &scripts {
            assert_eq!(s.matches("(check-sat)").count(), 1);
            assert!(s.contains("(set-logic QF_LRA)") && !s.contains("(push"));
        }
    }

    #[test]
    fn non_finite_ends_give_no_range_instead_of_panicking() {
        assert!(exact(f64::INFINITY).is_none() && exact(f64::NAN).is_none());
        // up(MAX) is +∞: the widened range has no rational end.
        assert!(RatRange::widened(0.0, f64::MAX).is_none());
        assert!(RatRange::widened(0.0, 0.3).is_some());
    }

    #[test]
    fn numerals_parse() {
        assert_eq!(parse_numeral("(/ 3.0 4.0)"), Some(q(3, 4)));
        assert_eq!(parse_numeral("(- (/ 1.0 8.0))"), Some(q(-1, 8)));
        assert_eq!(parse_numeral("12.0"), Some(q(12, 1)));
        let e = enclose(&q(1, 3));
        assert!(e.lo() <= 1.0 / 3.0 && 1.0 / 3.0 <= e.hi());
    }
}
