//! Deadlines: racing a call's work against its deadline, and blaming the deadline for
//! the failures it causes.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::time::{Instant, Sleep};

use crate::status::{Code, Status};

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

impl<F, T, E> Future for WithinDeadline<F>
where
    F: Future<Output = Result<T, E>>,
    E: From<Status>,
{
    type Output = Result<T, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        if let Poll::Ready(result) = this.work.poll(cx) {
            return Poll::Ready(result);
        }
        match this.sleep.as_pin_mut().map(|sleep| sleep.poll(cx)) {
            Some(Poll::Ready(())) => {
                Poll::Ready(Err(Status::deadline_exceeded("deadline exceeded").into()))
            }
            _ => Poll::Pending,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

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
}
