//! Ensemble statistics: means with Student-t confidence intervals and
//! least-squares exponential-rate fits.
use serde::{Deserialize, Serialize};
use statrs::distribution::{ContinuousCDF, StudentsT};

/// Mean of a sample with its two-sided 95% confidence interval
/// `mean +- t_{0.975, n-1} s / sqrt(n)`.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq)]
pub struct Estimate {
    pub mean: f64,
    pub ci95: [f64; 2],
    pub n: usize,
}

impl Estimate {
    /// Half-width of the interval.
    pub fn half_width(&self) -> f64 {
        0.5 * (self.ci95[1] - self.ci95[0])
    }
    /// Whether `v` lies inside the interval widened by `slack` on both sides.
    pub fn contains(&self, v: f64, slack: f64) -> bool {
        v >= self.ci95[0] - slack && v <= self.ci95[1] + slack
    }
}

/// Mean and Student-t 95% interval; a single value gets a zero-width interval.
pub fn estimate(values: &[f64]) -> Estimate {
    let n = values.len();
    let mean = values.iter().sum::<f64>() / n.max(1) as f64;
    if n < 2 {
        return Estimate { mean, ci95: [mean, mean], n };
    }
    let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
    let t = StudentsT::new(0.0, 1.0, (n - 1) as f64).expect("n >= 2 gives valid dof").inverse_cdf(0.975);
    let h = t * (var / n as f64).sqrt();
    Estimate { mean, ci95: [mean - h, mean + h], n }
}

/// Decay rate `lambda` of `y ~ C exp(-lambda t)` by least squares on `ln y`
/// over the points with `t` in `[t_from, t_to]` and `y > 0`. `None` with
/// fewer than three usable points.
/// Whether a separation series collapsed: its last value is below 1% of its
/// peak over the run, or not finite (scale-free; used for every model's
/// `collapsed` verdict: gradient noise contracts the spread with the
/// geometry, so separation/spread alone would not detect a collapse).
pub fn collapsed_by_peak(seps: &[f64]) -> bool {
    collapsed_below(seps, 0.01)
}

/// [`collapsed_by_peak`] with threshold `frac` of the peak (for finite-D
/// SGD, whose label distance has a noise floor of ~1% of its peak at
/// `D ~ 100`).
pub fn collapsed_below(seps: &[f64], frac: f64) -> bool {
    let peak = seps.iter().copied().fold(0.0, f64::max);
    seps.last().is_some_and(|s| !s.is_finite() || *s < frac * peak)
}

pub fn fit_decay_rate(t: &[f64], y: &[f64], t_from: f64, t_to: f64) -> Option<f64> {
    let pts: Vec<(f64, f64)> = t
        .iter()
        .zip(y)
        .filter(|(tt, yy)| **tt >= t_from && **tt <= t_to && **yy > 0.0 && yy.is_finite())
        .map(|(tt, yy)| (*tt, yy.ln()))
        .collect();
    if pts.len() < 3 {
        return None;
    }
    let n = pts.len() as f64;
    let mt = pts.iter().map(|p| p.0).sum::<f64>() / n;
    let my = pts.iter().map(|p| p.1).sum::<f64>() / n;
    let sxy: f64 = pts.iter().map(|p| (p.0 - mt) * (p.1 - my)).sum();
    let sxx: f64 = pts.iter().map(|p| (p.0 - mt).powi(2)).sum();
    (sxx > 0.0).then(|| -sxy / sxx)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn t_interval_matches_table_value() {
        // t_{0.975, 4} = 2.776445 (standard table); sample 1..5 has s = sqrt(2.5).
        let e = estimate(&[1.0, 2.0, 3.0, 4.0, 5.0]);
        assert!((e.half_width() - 2.776445 * (2.5f64 / 5.0).sqrt()).abs() < 1e-5);
    }

    #[test]
    fn fit_recovers_exponential_rate() {
        let t: Vec<f64> = (0..50).map(|k| k as f64 * 0.3).collect();
        let y: Vec<f64> = t.iter().map(|t| 3.0 * (-0.37 * t).exp()).collect();
        assert!((fit_decay_rate(&t, &y, 1.0, 12.0).unwrap() - 0.37).abs() < 1e-12);
        assert!(fit_decay_rate(&t, &y, 100.0, 200.0).is_none());
    }
}
