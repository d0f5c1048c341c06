//! Randomised durations, so that clients and connections started together do not all
//! act at once.

use std::hash::{BuildHasher, RandomState};
use std::time::{Duration, Instant};

/// `duration` moved by a uniformly random amount of up to `fraction` of itself either
/// way: `jittered(10 s, 0.2)` lies in [8 s, 12 s).
pub(crate) fn jittered(duration: Duration, fraction: f64) -> Duration {
    // A std hasher with fresh random keys is random enough for spreading timers, and
    // needs no extra dependency.
    let random = RandomState::new().hash_one(Instant::now());
    let unit = (random % 1_000_000) as f64 / 1_000_000.0;
    duration.mul_f64(1.0 + fraction * (2.0 * unit - 1.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stays_within_the_fraction_and_varies() {
        let base = Duration::from_secs(10);
        let samples: Vec<Duration> = (0..200).map(|_| jittered(base, 0.2)).collect();
        for sample in &samples {
            assert!(*sample >= Duration::from_secs(8) && *sample < Duration::from_secs(12));
        }
        assert!(samples.iter().any(|sample| *sample < base));
        assert!(samples.iter().any(|sample| *sample > base));
    }
}
