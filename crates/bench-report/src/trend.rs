//! A series of samples, one per step of a long run (the soak's memory per broker restart): its
//! first, largest and last value and its slope after warm-up.

/// Least-squares slope of `values` against their index: units per step when there is one value
/// per step. `None` for fewer than two values.
pub fn slope(values: &[u64]) -> Option<f64> {
    if values.len() < 2 {
        return None;
    }
    let n = values.len() as f64;
    let mean_x = (n - 1.0) / 2.0;
    let mean_y = values.iter().map(|&v| v as f64).sum::<f64>() / n;
    let (mut num, mut den) = (0.0, 0.0);
    for (i, &v) in values.iter().enumerate() {
        let dx = i as f64 - mean_x;
        num += dx * (v as f64 - mean_y);
        den += dx * dx;
    }
    Some(num / den)
}

/// One figure over a run: first, max and last sample, and the slope over the second half of the
/// samples (the first half holds the warm-up).
#[derive(Debug, Clone, PartialEq)]
pub struct Trend {
    /// The first sample.
    pub first: u64,
    /// The largest sample.
    pub max: u64,
    /// The last sample.
    pub last: u64,
    /// [`slope`] of the second half of the samples.
    pub second_half_slope: Option<f64>,
}

impl Trend {
    /// The trend of `values`, one sample per step; `None` without samples (a run that sampled
    /// nothing has no first, largest or last value, and 0 would read as a measurement).
    pub fn of(values: &[u64]) -> Option<Self> {
        Some(Self {
            first: *values.first()?,
            max: *values.iter().max()?,
            last: *values.last()?,
            second_half_slope: slope(&values[values.len() / 2..]),
        })
    }

    /// The second-half slope with its sign and three decimals, or `n/a`.
    pub fn slope_text(&self) -> String {
        self.second_half_slope
            .map_or_else(|| "n/a".to_owned(), |s| format!("{s:+.3}"))
    }
}

#[cfg(test)]
mod tests {
    use super::{Trend, slope};

    #[test]
    fn slope_is_the_least_squares_fit_per_sample() {
        assert_eq!(slope(&[]), None);
        assert_eq!(slope(&[7]), None);
        assert_eq!(slope(&[5, 5, 5, 5]), Some(0.0));
        assert_eq!(slope(&[10, 12, 14, 16]), Some(2.0));
        assert_eq!(slope(&[16, 14, 12, 10]), Some(-2.0));
        // One 4 kB page step in the middle of 4 samples: sum(dx * dy) / sum(dx²) = 8 / 5.
        assert_eq!(slope(&[100, 100, 104, 104]), Some(1.6));
    }

    #[test]
    fn the_trend_ignores_the_warm_up_half() {
        // Steep warm-up, then flat: the slope comes from the last 3 of 6 samples only.
        let t = Trend::of(&[1000, 1400, 1440, 1444, 1444, 1444]).unwrap();
        assert_eq!((t.first, t.max, t.last), (1000, 1444, 1444));
        assert_eq!(t.second_half_slope, Some(0.0));
        assert_eq!(t.slope_text(), "+0.000");
        assert_eq!(Trend::of(&[5]).unwrap().slope_text(), "n/a");
    }

    #[test]
    fn no_samples_is_no_trend() {
        assert_eq!(Trend::of(&[]), None);
        let one = Trend::of(&[7]).unwrap();
        assert_eq!((one.first, one.max, one.last), (7, 7, 7));
    }
}
