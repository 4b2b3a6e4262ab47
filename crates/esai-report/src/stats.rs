//! Small statistics: Student-t confidence intervals and a seeded bootstrap.

use esai_core::rng::SplitMix64;
use serde::Serialize;

/// Mean with a two-sided 95% confidence interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Estimate {
    /// Number of values.
    pub n: usize,
    /// Sample mean.
    pub mean: f64,
    /// Sample standard deviation (n − 1); 0 for n = 1.
    pub std: f64,
    /// Lower end of the 95% interval (t, n − 1 degrees of freedom); the mean for n = 1.
    pub lo: f64,
    /// Upper end.
    pub hi: f64,
}

/// `t_{0.975, df}` for df = 1…30 (standard tables); 1.96 above.
pub fn t975(df: usize) -> f64 {
    const T: [f64; 30] = [
        12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160,
        2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056,
        2.052, 2.048, 2.045, 2.042,
    ];
    match df {
        0 => f64::NAN,
        d if d <= 30 => T[d - 1],
        _ => 1.96,
    }
}

/// Mean and t-interval of the finite values (`None` if there are none).
pub fn estimate(values: &[f64]) -> Option<Estimate> {
    let v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    let n = v.len();
    if n == 0 {
        return None;
    }
    let mean = v.iter().sum::<f64>() / n as f64;
    if n == 1 {
        return Some(Estimate {
            n,
            mean,
            std: 0.0,
            lo: mean,
            hi: mean,
        });
    }
    let std = (v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt();
    let half = t975(n - 1) * std / (n as f64).sqrt();
    Some(Estimate {
        n,
        mean,
        std,
        lo: mean - half,
        hi: mean + half,
    })
}

/// The `q`-quantile (0…1) of sorted values, linear interpolation.
pub fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let pos = q * (sorted.len() - 1) as f64;
    let (i, frac) = (pos.floor() as usize, pos - pos.floor());
    let next = sorted[(i + 1).min(sorted.len() - 1)];
    sorted[i] + frac * (next - sorted[i])
}

/// Where a curve `(x, mean y)` first reaches `level`, interpolating
/// linearly in `log x` (in `x` when the segment starts at 0).
pub fn crossing(points: &[(f64, f64)], level: f64) -> Option<f64> {
    if let Some(&(x, y)) = points.first() {
        if y >= level {
            return Some(x);
        }
    }
    for w in points.windows(2) {
        let ((x0, y0), (x1, y1)) = (w[0], w[1]);
        if y0 < level && y1 >= level {
            let t = (level - y0) / (y1 - y0);
            return Some(if x0 > 0.0 {
                (x0.ln() + t * (x1.ln() - x0.ln())).exp()
            } else {
                x0 + t * (x1 - x0)
            });
        }
    }
    None
}

/// The transition point `λ*` (first crossing of `level` by the mean over
/// seeds) with a bootstrap 95% interval: seeds are resampled within each
/// `x`. `samples[i]` are the per-seed values at `xs[i]` (ascending).
#[derive(Debug, Clone, Serialize)]
pub struct Transition {
    /// The crossing of the mean curve (`None`: never reached).
    pub point: Option<f64>,
    /// 2.5% and 97.5% bootstrap quantiles over resamples that cross.
    pub ci: Option<(f64, f64)>,
    /// Resamples whose curve never reached the level.
    pub resamples_without_crossing: usize,
    /// Resamples drawn.
    pub resamples: usize,
    /// The level (e.g. prosocial rate 0.5).
    pub level: f64,
}

/// Bootstrap of [`crossing`], seeded (same data ⇒ same interval).
pub fn transition(xs: &[f64], samples: &[Vec<f64>], level: f64, resamples: usize) -> Transition {
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len().max(1) as f64;
    let curve: Vec<(f64, f64)> = xs
        .iter()
        .zip(samples)
        .filter(|(_, s)| !s.is_empty())
        .map(|(&x, s)| (x, mean(s)))
        .collect();
    let point = crossing(&curve, level);
    let mut rng = SplitMix64::new(0x5eed);
    let mut hits = Vec::new();
    for _ in 0..resamples {
        let c: Vec<(f64, f64)> = xs
            .iter()
            .zip(samples)
            .filter(|(_, s)| !s.is_empty())
            .map(|(&x, s)| {
                let r: Vec<f64> = (0..s.len())
                    .map(|_| s[(rng.next_u64() % s.len() as u64) as usize])
                    .collect();
                (x, mean(&r))
            })
            .collect();
        if let Some(x) = crossing(&c, level) {
            hits.push(x);
        }
    }
    hits.sort_by(f64::total_cmp);
    Transition {
        point,
        ci: (!hits.is_empty()).then(|| (quantile(&hits, 0.025), quantile(&hits, 0.975))),
        resamples_without_crossing: resamples - hits.len(),
        resamples,
        level,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn t_interval_matches_hand_computation() {
        // 1, 2, 3: mean 2, s = 1, half-width 4.303 / √3.
        let e = estimate(&[1.0, 2.0, 3.0, f64::NAN]).expect("values");
        assert_eq!(e.n, 3);
        assert!((e.mean - 2.0).abs() < 1e-12 && (e.std - 1.0).abs() < 1e-12);
        assert!((e.hi - (2.0 + 4.303 / 3f64.sqrt())).abs() < 1e-9);
        assert_eq!(estimate(&[]), None);
    }

    #[test]
    fn crossing_interpolates_in_log_lambda() {
        let c = [(0.0, 0.1), (0.1, 0.2), (10.0, 0.8)];
        // Halfway in y between 0.1 and 10 is halfway in log: λ = 1.
        let x = crossing(&c, 0.5).expect("crosses");
        assert!((x - 1.0).abs() < 1e-9, "{x}");
        assert_eq!(crossing(&c, 0.9), None);
        assert_eq!(crossing(&[(0.0, 0.0), (1.0, 1.0)], 0.5), Some(0.5));
    }

    #[test]
    fn bootstrap_interval_brackets_a_clean_transition() {
        let xs = [0.1, 1.0, 10.0];
        let s = vec![
            vec![0.0, 0.05, 0.1],
            vec![0.4, 0.5, 0.6],
            vec![1.0, 0.95, 0.9],
        ];
        let t = transition(&xs, &s, 0.5, 500);
        let p = t.point.expect("crosses");
        let (lo, hi) = t.ci.expect("ci");
        assert!(lo <= p && p <= hi && lo >= 0.1 && hi <= 10.0);
        assert_eq!(t.resamples_without_crossing, 0);
    }
}
