//! Reconnection backoff, as gRPC's connection-backoff spec (`connection-backoff.md`)
//! describes it.

use std::time::Duration;

use tokio::time::Instant;

use crate::jitter::jittered;

/// How long a channel waits between attempts to connect to an address: the first
/// retry after [`base_delay`](Self::base_delay), each next one
/// [`multiplier`](Self::multiplier) times longer up to [`max_delay`](Self::max_delay),
/// each moved at random by up to [`jitter`](Self::jitter) of itself. The defaults are
/// the spec's and grpc-go's: 1 s, ×1.6, 0.2, 120 s. The wait starts over after a
/// successful connection.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BackoffConfig {
    base_delay: Duration,
    multiplier: f64,
    jitter: f64,
    max_delay: Duration,
}

impl Default for BackoffConfig {
    fn default() -> Self {
        BackoffConfig {
            base_delay: Duration::from_secs(1),
            multiplier: 1.6,
            jitter: 0.2,
            max_delay: Duration::from_secs(120),
        }
    }
}

impl BackoffConfig {
    /// The wait after the first failed attempt (default 1 s).
    pub fn base_delay(mut self, delay: Duration) -> Self {
        self.base_delay = delay;
        self
    }

    /// How much longer each next wait is (default 1.6; values below 1 count as 1).
    pub fn multiplier(mut self, multiplier: f64) -> Self {
        self.multiplier = multiplier.max(1.0);
        self
    }

    /// The largest random share of a wait added or taken away (default 0.2, clamped to
    /// 0–1).
    pub fn jitter(mut self, jitter: f64) -> Self {
        self.jitter = jitter.clamp(0.0, 1.0);
        self
    }

    /// The longest wait, before jitter (default 120 s).
    pub fn max_delay(mut self, delay: Duration) -> Self {
        self.max_delay = delay;
        self
    }
}

/// The attempts of one address's reconnection: when the next may start.
#[derive(Debug)]
pub(crate) struct Backoff {
    config: BackoffConfig,
    /// The current wait, before jitter.
    current: Duration,
    /// When the next attempt may start.
    next_attempt: Instant,
}

impl Backoff {
    /// The schedule of attempts starting now: the spec lets the first retry come
    /// `base_delay` after the first attempt began.
    pub(crate) fn start(config: BackoffConfig) -> Backoff {
        let first = config.base_delay.min(config.max_delay);
        Backoff {
            config,
            current: first,
            next_attempt: Instant::now() + first,
        }
    }

    /// How long the attempt starting now may take: until the next attempt is due, but
    /// at least `min_connect_timeout`.
    pub(crate) fn attempt_timeout(&self, min_connect_timeout: Duration) -> Duration {
        self.next_attempt
            .saturating_duration_since(Instant::now())
            .max(min_connect_timeout)
    }

    /// Whether a connection that carried no call and lasted `lived` counts as a success,
    /// after which the backoff starts over: one that ends within the first wait does
    /// not, so that a server that accepts and then closes is retried with backoff, not
    /// in a loop. (A connection that carried a call always counts.)
    pub(crate) fn counts_as_success(&self, lived: Duration) -> bool {
        lived >= self.config.base_delay.min(self.config.max_delay)
    }

    /// Waits until the next attempt is due, then schedules the one after it.
    pub(crate) async fn wait(&mut self) {
        tokio::time::sleep_until(self.next_attempt).await;
        let grown = self.current.mul_f64(self.config.multiplier);
        self.current = grown.min(self.config.max_delay);
        self.next_attempt = Instant::now() + jittered(self.current, self.config.jitter);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn waits_grow_by_the_multiplier_up_to_the_cap_within_jitter() {
        let config = BackoffConfig::default().max_delay(Duration::from_secs(5));
        let mut backoff = Backoff::start(config);
        let started = Instant::now();
        backoff.wait().await;
        assert_eq!(started.elapsed(), Duration::from_secs(1));
        // 1.6 s, 2.56 s, 4.096 s, then 5 s (capped), each ±20%.
        for expected in [1.6, 2.56, 4.096, 5.0, 5.0] {
            let before = Instant::now();
            backoff.wait().await;
            let waited = before.elapsed().as_secs_f64();
            assert!(
                waited >= expected * 0.8 - 0.001 && waited <= expected * 1.2 + 0.001,
                "waited {waited} s, expected {expected} s ±20%"
            );
        }
    }

    #[tokio::test(start_paused = true)]
    async fn an_attempt_may_take_the_min_connect_timeout_or_until_the_next_is_due() {
        let backoff = Backoff::start(BackoffConfig::default());
        assert_eq!(
            backoff.attempt_timeout(Duration::from_secs(20)),
            Duration::from_secs(20)
        );
        assert_eq!(
            backoff.attempt_timeout(Duration::from_millis(100)),
            Duration::from_secs(1)
        );
    }
}
