//! gRPC's retry design (gRFC A6), without the sockets: per-method retry policies, the
//! channel's retry throttle, the backoff between attempts, and the head each attempt
//! sends. The request bodies attempts replay are in `replay`; service configs in JSON
//! are read by `retry_json`.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use http::HeaderValue;
use tokio::time::Instant;

use super::wire::{GRPC_PREVIOUS_RPC_ATTEMPTS, Pushback, insert_timeout};
use crate::jitter::jittered;
use crate::status::Code;

/// The most attempts a policy makes; larger settings are capped, as grpc-go does.
pub(crate) const MAX_ATTEMPTS_CAP: u32 = 5;
/// Default size of the request messages a call keeps to replay in a retry: grpc-go's
/// 256 KiB.
pub(crate) const DEFAULT_MAX_RETRY_RPC_BUFFER_SIZE: usize = 256 * 1024;
/// The largest `maxTokens` of retry throttling, per gRFC A6.
const MAX_TOKENS_LIMIT: f64 = 1000.0;

/// The canonical names of the status codes, indexed by code, as service configs write
/// them.
pub(crate) const CODE_NAMES: [&str; 17] = [
    "OK",
    "CANCELLED",
    "UNKNOWN",
    "INVALID_ARGUMENT",
    "DEADLINE_EXCEEDED",
    "NOT_FOUND",
    "ALREADY_EXISTS",
    "PERMISSION_DENIED",
    "RESOURCE_EXHAUSTED",
    "FAILED_PRECONDITION",
    "ABORTED",
    "OUT_OF_RANGE",
    "UNIMPLEMENTED",
    "INTERNAL",
    "UNAVAILABLE",
    "DATA_LOSS",
    "UNAUTHENTICATED",
];

/// How the failed calls of a method are retried: gRPC's `retryPolicy`.
///
/// A call is retried when it fails with one of the
/// [`retryable_status_codes`](Self::retryable_status_codes) before any response header
/// arrived, while it has attempts left and its request messages are still buffered
/// (256 KiB of them by default, as grpc-go's `MaxRetryRPCBufferSize`).
/// Retry number `n` waits a random time in `[0, min(initial_backoff ×
/// backoff_multiplier^(n-1), max_backoff)]`, unless the server's
/// `grpc-retry-pushback-ms` says how long to wait (the count `n` then starts again) or
/// not to retry. The call's deadline covers every attempt.
///
/// The default is the example of gRFC A6: 4 attempts, 0.1 s initial backoff, 1 s at
/// most, multiplier 2, retrying `UNAVAILABLE`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryPolicy {
    max_attempts: u32,
    initial_backoff: Duration,
    max_backoff: Duration,
    backoff_multiplier: f64,
    /// Bit `n` set: code `n` is retried.
    retryable_codes: u32,
}

impl Default for RetryPolicy {
    fn default() -> RetryPolicy {
        RetryPolicy {
            max_attempts: 4,
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(1),
            backoff_multiplier: 2.0,
            retryable_codes: code_bit(Code::Unavailable),
        }
    }
}

impl RetryPolicy {
    /// The most attempts of a call, the first included (`maxAttempts`); at least 2,
    /// and capped at 5 as grpc-go does.
    pub fn max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = attempts.min(MAX_ATTEMPTS_CAP);
        self
    }

    /// The longest wait before the first retry (`initialBackoff`); more than zero.
    pub fn initial_backoff(mut self, backoff: Duration) -> Self {
        self.initial_backoff = backoff;
        self
    }

    /// The longest wait before any retry (`maxBackoff`); more than zero.
    pub fn max_backoff(mut self, backoff: Duration) -> Self {
        self.max_backoff = backoff;
        self
    }

    /// How much the longest wait grows after each retry (`backoffMultiplier`); more
    /// than zero.
    pub fn backoff_multiplier(mut self, multiplier: f64) -> Self {
        self.backoff_multiplier = multiplier;
        self
    }

    /// The status codes that are retried (`retryableStatusCodes`), replacing the
    /// previous set; at least one.
    pub fn retryable_status_codes(mut self, codes: impl IntoIterator<Item = Code>) -> Self {
        self.retryable_codes = codes
            .into_iter()
            .map(code_bit)
            .fold(0, |set, bit| set | bit);
        self
    }

    /// Checks the policy as gRFC A6 requires; the error names the offending field.
    pub(crate) fn validate(&self) -> Result<(), String> {
        if self.max_attempts < 2 {
            return Err("maxAttempts must be at least 2".to_owned());
        }
        if self.initial_backoff.is_zero() {
            return Err("initialBackoff must be more than zero".to_owned());
        }
        if self.max_backoff.is_zero() {
            return Err("maxBackoff must be more than zero".to_owned());
        }
        if !(self.backoff_multiplier.is_finite() && self.backoff_multiplier > 0.0) {
            return Err("backoffMultiplier must be a number more than zero".to_owned());
        }
        if self.retryable_codes == 0 {
            return Err("retryableStatusCodes must name a code".to_owned());
        }
        Ok(())
    }

    /// The most attempts of a call.
    pub(crate) fn attempts(&self) -> u32 {
        self.max_attempts
    }

    /// Whether a failure with `code` is retried.
    pub(crate) fn retries(&self, code: Code) -> bool {
        self.retryable_codes & code_bit(code) != 0
    }

    /// The wait before retry number `retry` (1 for the first): random in
    /// `[0, min(initialBackoff × backoffMultiplier^(retry-1), maxBackoff)]`.
    pub(crate) fn backoff(&self, retry: u32) -> Duration {
        let exponent = i32::try_from(retry.saturating_sub(1)).unwrap_or(i32::MAX);
        let longest = self.initial_backoff.as_secs_f64() * self.backoff_multiplier.powi(exponent);
        // An overflowing product is past any maximum.
        let longest = Duration::try_from_secs_f64(longest)
            .unwrap_or(self.max_backoff)
            .min(self.max_backoff);
        // Centred on half the bound, moved by up to all of it either way: [0, bound).
        jittered(longest / 2, 1.0)
    }
}

fn code_bit(code: Code) -> u32 {
    1 << (code as u32)
}

/// gRPC's `retryThrottling`: the channel's retries stop while too many calls fail.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct ThrottlingSettings {
    pub(crate) max_tokens: f64,
    pub(crate) token_ratio: f64,
}

impl ThrottlingSettings {
    /// Checks the settings as gRFC A6 requires; the error names the offending field.
    pub(crate) fn validate(&self) -> Result<(), String> {
        if !(self.max_tokens > 0.0 && self.max_tokens <= MAX_TOKENS_LIMIT) {
            return Err(format!(
                "maxTokens must be more than 0 and at most {MAX_TOKENS_LIMIT}"
            ));
        }
        if !(self.token_ratio.is_finite() && self.token_ratio > 0.0) {
            return Err("tokenRatio must be a number more than zero".to_owned());
        }
        Ok(())
    }
}

/// The token bucket of retry throttling, shared by a channel's calls. Tokens are kept
/// in thousandths, the precision gRFC A6 gives `tokenRatio`.
#[derive(Debug)]
pub(crate) struct Throttle {
    max: u32,
    ratio: u32,
    tokens: AtomicU32,
}

impl Throttle {
    pub(crate) fn new(settings: ThrottlingSettings) -> Throttle {
        let max = (settings.max_tokens * 1000.0).round() as u32;
        Throttle {
            max,
            // A ratio under the precision still earns something back.
            ratio: ((settings.token_ratio * 1000.0) as u32).max(1),
            tokens: AtomicU32::new(max),
        }
    }

    /// Counts a failure with a retryable code; returns whether a retry may follow: the
    /// tokens left must be more than half the maximum.
    pub(crate) fn failed(&self) -> bool {
        let before = self
            .tokens
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |tokens| {
                Some(tokens.saturating_sub(1000))
            })
            .unwrap_or_else(|tokens| tokens);
        before.saturating_sub(1000) > self.max / 2
    }

    /// Counts a call that got its response.
    pub(crate) fn succeeded(&self) {
        let _ = self
            .tokens
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |tokens| {
                Some(tokens.saturating_add(self.ratio).min(self.max))
            });
    }
}

/// The retry policies of a channel's methods, found as a service config's
/// `methodConfig` names them: the method's own, else its service's, else the default.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct MethodPolicies {
    /// Keyed by `service/method` or by `service`; `None`: those calls are not retried.
    by_name: HashMap<String, Option<RetryPolicy>>,
    /// The policy of every other method, if set.
    default: Option<Option<RetryPolicy>>,
}

impl MethodPolicies {
    /// Sets the policy of `name`: `"package.Service/Method"` (a leading `/` is
    /// allowed), `"package.Service"`, or `""` for every method not named otherwise.
    /// Returns whether `name` had one already.
    pub(crate) fn set(&mut self, name: &str, policy: Option<RetryPolicy>) -> bool {
        let name = name.strip_prefix('/').unwrap_or(name);
        if name.is_empty() {
            return self.default.replace(policy).is_some();
        }
        self.by_name.insert(name.to_owned(), policy).is_some()
    }

    /// The policy of calls to `path` (`/package.Service/Method`), if they are retried.
    pub(crate) fn find(&self, path: &str) -> Option<&RetryPolicy> {
        let method = path.strip_prefix('/').unwrap_or(path);
        let service = method
            .split_once('/')
            .map_or(method, |(service, _)| service);
        self.by_name
            .get(method)
            .or_else(|| self.by_name.get(service))
            .or(self.default.as_ref())?
            .as_ref()
    }

    fn policies(&self) -> impl Iterator<Item = (&str, &RetryPolicy)> {
        let named = self.by_name.iter().map(|(name, policy)| (&**name, policy));
        let default = self.default.iter().map(|policy| ("", policy));
        named
            .chain(default)
            .filter_map(|(name, policy)| Some((name, policy.as_ref()?)))
    }

    fn is_empty(&self) -> bool {
        self.policies().next().is_none()
    }
}

/// A channel's retry settings as they are set: checked when the channel is built.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RetryConfig {
    pub(crate) policies: MethodPolicies,
    pub(crate) throttling: Option<ThrottlingSettings>,
    pub(crate) max_buffer_size: usize,
}

impl Default for RetryConfig {
    fn default() -> RetryConfig {
        RetryConfig {
            policies: MethodPolicies::default(),
            throttling: None,
            max_buffer_size: DEFAULT_MAX_RETRY_RPC_BUFFER_SIZE,
        }
    }
}

impl RetryConfig {
    /// The retries of a channel; `None` when no method is retried, so that calls do
    /// not look. The error names the method and field at fault.
    pub(crate) fn build(&self) -> Result<Option<Retries>, String> {
        for (name, policy) in self.policies.policies() {
            policy
                .validate()
                .map_err(|error| format!("retry policy of {name:?}: {error}"))?;
        }
        if let Some(throttling) = &self.throttling {
            throttling
                .validate()
                .map_err(|error| format!("retryThrottling.{error}"))?;
        }
        if self.policies.is_empty() {
            return Ok(None);
        }
        Ok(Some(Retries {
            policies: self.policies.clone(),
            throttle: self.throttling.map(Throttle::new),
            max_buffer_size: self.max_buffer_size,
        }))
    }
}

/// The retries of a channel: its policies, and its throttle.
#[derive(Debug)]
pub(crate) struct Retries {
    policies: MethodPolicies,
    throttle: Option<Throttle>,
    max_buffer_size: usize,
}

impl Retries {
    /// The policy of calls to `path`, if they are retried.
    pub(crate) fn policy(&self, path: &str) -> Option<&RetryPolicy> {
        self.policies.find(path)
    }

    /// The most bytes of request messages a call keeps for its retries.
    pub(crate) fn max_buffer_size(&self) -> usize {
        self.max_buffer_size
    }

    /// Whether an attempt that failed with `code` is tried again, and after how long.
    /// `attempts` counts those made so far; `backoffs`, the retries since the last
    /// server pushback, which restarts the policy's backoff. The order is grpc-go's: a
    /// pushback refusing retries, or a retryable code, costs the throttle a token, even
    /// when no attempt is left.
    pub(crate) fn retry_after(
        &self,
        policy: &RetryPolicy,
        code: Code,
        pushback: Pushback,
        attempts: u32,
        backoffs: &mut u32,
    ) -> Option<Duration> {
        if pushback == Pushback::Stop {
            self.throttle_failure();
            return None;
        }
        if !policy.retries(code) || !self.throttle_failure() || attempts >= policy.attempts() {
            return None;
        }
        Some(match pushback {
            Pushback::After(wait) => {
                *backoffs = 0;
                wait
            }
            Pushback::Unset | Pushback::Stop => {
                *backoffs += 1;
                policy.backoff(*backoffs)
            }
        })
    }

    /// Counts a failure against the throttle; returns whether retries may go on.
    fn throttle_failure(&self) -> bool {
        self.throttle.as_ref().is_none_or(Throttle::failed)
    }

    /// Counts a call that got its response.
    pub(crate) fn succeeded(&self) {
        if let Some(throttle) = &self.throttle {
            throttle.succeeded();
        }
    }
}

/// The head of an attempt made after `previous` others: the first attempt's, with the
/// count of attempts before it and the time left until `deadline`.
pub(crate) fn attempt_head(
    first: &http::request::Parts,
    previous: u32,
    deadline: Option<Instant>,
) -> http::request::Parts {
    let mut head = first.clone();
    if previous > 0 {
        head.headers
            .insert(GRPC_PREVIOUS_RPC_ATTEMPTS, HeaderValue::from(previous));
        insert_timeout(&mut head.headers, deadline);
    }
    head
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_stays_under_the_growing_bound_and_the_maximum() {
        let policy = RetryPolicy::default()
            .initial_backoff(Duration::from_millis(100))
            .backoff_multiplier(3.0)
            .max_backoff(Duration::from_millis(500));
        for (retry, bound) in [(1, 100), (2, 300), (3, 500), (40, 500), (u32::MAX, 500)] {
            let waits: Vec<Duration> = (0..200).map(|_| policy.backoff(retry)).collect();
            let bound = Duration::from_millis(bound);
            assert!(waits.iter().all(|wait| *wait <= bound), "retry {retry}");
            // Spread over the range, not pinned to either end.
            assert!(waits.iter().any(|wait| *wait < bound / 3), "retry {retry}");
            assert!(
                waits.iter().any(|wait| *wait > bound * 2 / 3),
                "retry {retry}"
            );
        }
    }

    #[test]
    fn max_attempts_is_capped_at_five() {
        assert_eq!(RetryPolicy::default().max_attempts(9).attempts(), 5);
        assert_eq!(RetryPolicy::default().max_attempts(3).attempts(), 3);
    }

    #[test]
    fn invalid_policies_name_their_field() {
        let invalid = [
            (RetryPolicy::default().max_attempts(1), "maxAttempts"),
            (
                RetryPolicy::default().initial_backoff(Duration::ZERO),
                "initialBackoff",
            ),
            (
                RetryPolicy::default().max_backoff(Duration::ZERO),
                "maxBackoff",
            ),
            (
                RetryPolicy::default().backoff_multiplier(f64::NAN),
                "backoffMultiplier",
            ),
            (
                RetryPolicy::default().retryable_status_codes([]),
                "retryableStatusCodes",
            ),
        ];
        for (policy, field) in invalid {
            let error = policy.validate().unwrap_err();
            assert!(error.starts_with(field), "{error}");
        }
        assert_eq!(RetryPolicy::default().validate(), Ok(()));
    }

    #[test]
    fn the_most_specific_name_wins() {
        let mut policies = MethodPolicies::default();
        let service = RetryPolicy::default().max_attempts(2);
        let method = RetryPolicy::default().max_attempts(3);
        let default = RetryPolicy::default().max_attempts(4);
        policies.set("pkg.Svc", Some(service));
        policies.set("/pkg.Svc/Special", Some(method));
        policies.set("pkg.Svc/Never", None);
        assert_eq!(policies.find("/pkg.Svc/Other"), Some(&service));
        assert_eq!(policies.find("/pkg.Svc/Special"), Some(&method));
        assert_eq!(policies.find("/pkg.Svc/Never"), None);
        assert_eq!(policies.find("/pkg.Other/Call"), None);
        assert!(!policies.set("", Some(default)));
        assert_eq!(policies.find("/pkg.Other/Call"), Some(&default));
        assert!(policies.set("pkg.Svc", None));
        assert_eq!(policies.find("/pkg.Svc/Other"), None);
    }

    #[test]
    fn throttling_allows_retries_above_half_the_tokens() {
        let throttle = Throttle::new(ThrottlingSettings {
            max_tokens: 10.0,
            token_ratio: 0.5,
        });
        // 10 → 9, 8, 7, 6: retries allowed; 5 is not more than half.
        for _ in 0..4 {
            assert!(throttle.failed());
        }
        assert!(!throttle.failed());
        // Two successes earn one token back: 6 again.
        throttle.succeeded();
        throttle.succeeded();
        assert!(!throttle.failed());
        for _ in 0..20 {
            throttle.succeeded();
        }
        // Capped at the maximum: 10 → 9.
        assert!(throttle.failed());
        assert_eq!(throttle.tokens.load(Ordering::Relaxed), 9000);
    }

    #[test]
    fn pushback_sets_the_wait_or_stops_at_the_cost_of_a_token() {
        let config = RetryConfig {
            policies: MethodPolicies::default(),
            throttling: Some(ThrottlingSettings {
                max_tokens: 6.0,
                token_ratio: 1.0,
            }),
            max_buffer_size: 0,
        };
        let mut config = config;
        let policy = RetryPolicy::default().max_attempts(5);
        config.policies.set("", Some(policy));
        let retries = config.build().unwrap().unwrap();
        let wait = Duration::from_secs(7);
        let mut backoffs = 3;
        let after = Pushback::After(wait);
        // Retries need more than 3 tokens left: 6 → 5, then 4.
        let retry = retries.retry_after(&policy, Code::Unavailable, after, 1, &mut backoffs);
        assert_eq!((retry, backoffs), (Some(wait), 0));
        let retry = retries.retry_after(
            &policy,
            Code::Unavailable,
            Pushback::Unset,
            2,
            &mut backoffs,
        );
        assert!(retry.is_some_and(|wait| wait <= Duration::from_millis(100)));
        assert_eq!(backoffs, 1);
        // Back to 5; a refusal spends a token all the same (4), so the next retry (3)
        // is throttled.
        retries.succeeded();
        let retry =
            retries.retry_after(&policy, Code::Unavailable, Pushback::Stop, 1, &mut backoffs);
        assert_eq!(retry, None);
        let retry = retries.retry_after(&policy, Code::Unavailable, after, 1, &mut backoffs);
        assert_eq!(retry, None);
    }

    #[test]
    fn attempts_after_the_first_carry_their_count_and_the_time_left() {
        let mut first = http::Request::new(()).into_parts().0;
        first
            .headers
            .insert("x-custom", HeaderValue::from_static("1"));
        let deadline = Instant::now() + Duration::from_secs(5);
        let head = attempt_head(&first, 0, Some(deadline));
        assert!(head.headers.get(GRPC_PREVIOUS_RPC_ATTEMPTS).is_none());
        let head = attempt_head(&first, 2, Some(deadline));
        assert_eq!(head.headers[GRPC_PREVIOUS_RPC_ATTEMPTS], "2");
        assert_eq!(head.headers["x-custom"], "1");
        assert!(head.headers.contains_key("grpc-timeout"));
    }
}
