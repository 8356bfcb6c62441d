//! Figures from samples, as every bench reports them: a quantile of
//! sorted samples, the median, and the best of N rounds.

use std::time::{Duration, Instant};

use anyhow::Result;

/// The `q` quantile of `sorted` (0.5: the median, 0.99: the 99th
/// percentile), by nearest rank below; `None` without samples.
pub fn quantile<T: Copy>(sorted: &[T], q: f64) -> Option<T> {
    let last = sorted.len().checked_sub(1)?;
    Some(sorted[((sorted.len() as f64 * q) as usize).min(last)])
}

/// The median of `values`, in any order; NaN without any.
pub fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    quantile(&sorted, 0.5).unwrap_or(f64::NAN)
}

/// The least of the figures `round` gives in `rounds` rounds: a time or
/// any other cost, best of N.
pub fn best_of(rounds: usize, mut round: impl FnMut() -> Result<f64>) -> Result<f64> {
    let mut best = f64::INFINITY;
    for _ in 0..rounds {
        best = best.min(round()?);
    }
    Ok(best)
}

/// How long `work` takes, best of `rounds`.
pub fn best_time(rounds: usize, mut work: impl FnMut() -> Result<()>) -> Result<Duration> {
    let secs = best_of(rounds, || {
        let started = Instant::now();
        work()?;
        Ok(started.elapsed().as_secs_f64())
    })?;
    Ok(Duration::from_secs_f64(secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_take_the_nearest_rank_below() {
        let hundred: Vec<u32> = (1..=100).collect();
        assert_eq!(quantile(&hundred, 0.5), Some(51));
        assert_eq!(quantile(&hundred, 0.99), Some(100));
        assert_eq!(quantile(&hundred, 1.0), Some(100));
        assert_eq!(quantile::<u32>(&[], 0.5), None);
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert!(median(&[]).is_nan());
    }

    #[test]
    fn the_best_is_the_least() {
        let mut figures = [3.0, 1.0, 2.0].into_iter();
        let best = best_of(3, || Ok(figures.next().unwrap())).unwrap();
        assert_eq!(best, 1.0);
        assert!(best_of(1, || anyhow::bail!("no figure")).is_err());
        let slept = best_time(2, || {
            std::thread::sleep(Duration::from_millis(5));
            Ok(())
        })
        .unwrap();
        assert!(slept >= Duration::from_millis(5));
    }
}
