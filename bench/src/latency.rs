//! Latency histograms (HDR, nanosecond resolution with three significant digits).

use std::time::Duration;

use hdrhistogram::Histogram;

/// The slowest latency a histogram records exactly; slower ones are clamped to it.
const MAX_NANOS: u64 = 120_000_000_000;

/// Latencies of completed calls.
#[derive(Debug, Clone)]
pub struct Latencies {
    histogram: Histogram<u64>,
}

impl Default for Latencies {
    fn default() -> Self {
        Latencies {
            histogram: Histogram::new_with_bounds(1, MAX_NANOS, 3)
                .expect("bounds and precision are valid"),
        }
    }
}

impl Latencies {
    /// Records one call's latency.
    pub fn record(&mut self, latency: Duration) {
        let nanos = u64::try_from(latency.as_nanos()).unwrap_or(MAX_NANOS);
        self.histogram.saturating_record(nanos.clamp(1, MAX_NANOS));
    }

    /// Adds every latency `other` recorded.
    pub fn merge(&mut self, other: &Latencies) {
        self.histogram
            .add(&other.histogram)
            .expect("histograms share their bounds");
    }

    /// How many latencies were recorded.
    pub fn count(&self) -> u64 {
        self.histogram.len()
    }

    /// The latency at `quantile` (0.5 for the median), in microseconds; 0 when empty.
    pub fn quantile_micros(&self, quantile: f64) -> f64 {
        self.histogram.value_at_quantile(quantile) as f64 / 1_000.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_of_merged_histograms() {
        let mut fast = Latencies::default();
        let mut slow = Latencies::default();
        for _ in 0..99 {
            fast.record(Duration::from_micros(100));
        }
        slow.record(Duration::from_millis(10));
        fast.merge(&slow);
        assert_eq!(fast.count(), 100);
        assert!((fast.quantile_micros(0.5) - 100.0).abs() < 0.5);
        assert!((fast.quantile_micros(1.0) - 10_000.0).abs() < 10.0);
    }
}
