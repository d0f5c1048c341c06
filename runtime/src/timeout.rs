//! The `grpc-timeout` header: 1–8 ASCII digits and a unit (H, M, S, m, u, n).

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use http::{HeaderName, HeaderValue};
use tokio::time::{Instant, Sleep};

use crate::{Code, Status};

/// What a client reports for a call that failed with `status` once its deadline passed:
/// a transport failure, or a `CANCELLED` from a server that gave up at the deadline
/// (Armeria and grpc-go reset or cancel the call then), is the deadline's doing.
pub(crate) fn blame_deadline(
    status: Status,
    deadline: Option<Instant>,
    from_transport: bool,
) -> Status {
    let expired = deadline.is_some_and(|deadline| Instant::now() >= deadline);
    if expired && (from_transport || status.code() == Code::Cancelled) {
        return Status::deadline_exceeded("deadline exceeded");
    }
    status
}

/// Races `work` against `deadline`, if there is one: past it, the result is
/// `DEADLINE_EXCEEDED`. Servers run handlers in it, clients their transport work.
pub(crate) fn within_deadline<F>(deadline: Option<Instant>, work: F) -> WithinDeadline<F> {
    WithinDeadline {
        work,
        sleep: deadline.map(tokio::time::sleep_until),
    }
}

pin_project_lite::pin_project! {
    /// The future of [`within_deadline`]: the timer sits beside the work, not in a box.
    pub(crate) struct WithinDeadline<F> {
        #[pin]
        work: F,
        #[pin]
        sleep: Option<Sleep>,
    }
}

impl<F, T> Future for WithinDeadline<F>
where
    F: Future<Output = Result<T, Status>>,
{
    type Output = Result<T, Status>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        if let Poll::Ready(result) = this.work.poll(cx) {
            return Poll::Ready(result);
        }
        match this.sleep.as_pin_mut().map(|sleep| sleep.poll(cx)) {
            Some(Poll::Ready(())) => {
                Poll::Ready(Err(Status::deadline_exceeded("deadline exceeded")))
            }
            _ => Poll::Pending,
        }
    }
}

/// Name of the header carrying a call's remaining time.
pub(crate) const GRPC_TIMEOUT: HeaderName = HeaderName::from_static("grpc-timeout");

/// The largest value the 8 digits of `grpc-timeout` can hold.
const MAX_DIGITS_VALUE: u128 = 99_999_999;

/// Units from finest to coarsest, with their length in nanoseconds.
const UNITS: [(char, u128); 6] = [
    ('n', 1),
    ('u', 1_000),
    ('m', 1_000_000),
    ('S', 1_000_000_000),
    ('M', 60_000_000_000),
    ('H', 3_600_000_000_000),
];

/// Encodes a timeout in the finest unit that fits in 8 digits, rounding up so the peer
/// never sees a shorter deadline than ours.
pub(crate) fn encode(timeout: Duration) -> HeaderValue {
    let nanos = timeout.as_nanos();
    let (unit, value) = UNITS
        .iter()
        .map(|&(unit, size)| (unit, nanos.div_ceil(size)))
        .find(|&(_, value)| value <= MAX_DIGITS_VALUE)
        .unwrap_or(('H', MAX_DIGITS_VALUE));
    HeaderValue::try_from(format!("{value}{unit}")).expect("digits and a unit letter")
}

/// Parses a `grpc-timeout` value; `None` when malformed.
pub(crate) fn parse(value: &HeaderValue) -> Option<Duration> {
    let text = value.to_str().ok()?;
    let unit = text.chars().last()?;
    let digits = &text[..text.len() - unit.len_utf8()];
    if digits.is_empty() || digits.len() > 8 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let value: u64 = digits.parse().ok()?;
    let (_, size) = UNITS.iter().find(|(name, _)| *name == unit)?;
    let nanos = u128::from(value) * size;
    Some(Duration::from_nanos(
        u64::try_from(nanos).unwrap_or(u64::MAX),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_in_the_finest_unit_that_fits() {
        assert_eq!(encode(Duration::from_millis(1500)), "1500000u");
        assert_eq!(encode(Duration::from_nanos(7)), "7n");
        assert_eq!(encode(Duration::from_secs(3600 * 24)), "86400000m");
        assert_eq!(encode(Duration::from_secs(u64::MAX)), "99999999H");
    }

    #[test]
    fn failures_after_the_deadline_are_blamed_on_it() {
        let past = Some(Instant::now() - Duration::from_millis(1));
        let future = Some(Instant::now() + Duration::from_secs(60));
        let blame = |status: Status, deadline, transport| {
            blame_deadline(status, deadline, transport).code()
        };
        assert_eq!(
            blame(Status::cancelled(""), past, false),
            Code::DeadlineExceeded
        );
        assert_eq!(
            blame(Status::internal("reset"), past, true),
            Code::DeadlineExceeded
        );
        assert_eq!(
            blame(Status::internal("server"), past, false),
            Code::Internal
        );
        assert_eq!(blame(Status::cancelled(""), future, false), Code::Cancelled);
        assert_eq!(blame(Status::cancelled(""), None, true), Code::Cancelled);
    }

    #[test]
    fn parses_every_unit_and_rejects_garbage() {
        let parse_str = |s: &'static str| parse(&HeaderValue::from_static(s));
        assert_eq!(parse_str("3S"), Some(Duration::from_secs(3)));
        assert_eq!(parse_str("2M"), Some(Duration::from_secs(120)));
        assert_eq!(parse_str("1H"), Some(Duration::from_secs(3600)));
        assert_eq!(parse_str("10m"), Some(Duration::from_millis(10)));
        assert_eq!(parse_str("10u"), Some(Duration::from_micros(10)));
        assert_eq!(parse_str("10n"), Some(Duration::from_nanos(10)));
        assert_eq!(parse_str("123456789S"), None);
        assert_eq!(parse_str("S"), None);
        assert_eq!(parse_str("1x"), None);
        assert_eq!(parse_str("-1S"), None);
    }
}
