//! The response stream of `Watch`: the watched service's status at once, then each change.

use std::pin::Pin;
use std::task::{Context, Poll, ready};

use futures_core::Stream;
use tokio::sync::watch;

use super::ServingStatus;
use super::generated::HealthCheckResponse;
use super::reporter::Statuses;
use crate::boxed::BoxFuture;
use crate::status::Status;

/// A watcher between two messages: all it holds is a receiver and the name it watches.
struct Watcher {
    service: String,
    statuses: watch::Receiver<Statuses>,
    /// The status last sent; `None` before the first message.
    sent: Option<ServingStatus>,
}

/// A watcher's next message and the watcher to wait for the one after, or the status that
/// ends the call.
type Next = BoxFuture<Result<(HealthCheckResponse, Watcher), Status>>;

impl Watcher {
    /// Waits until the service's status differs from the one last sent. Once the server is
    /// shutting down and its `NOT_SERVING` is sent, ends the call with `UNAVAILABLE`
    /// rather than hold the drain open (clients retry Watch on any status but
    /// `UNIMPLEMENTED`).
    async fn next(mut self) -> Result<(HealthCheckResponse, Watcher), Status> {
        loop {
            let (status, shut_down) = {
                let statuses = self.statuses.borrow_and_update();
                let status = statuses.get(&self.service);
                (
                    status.unwrap_or(ServingStatus::ServiceUnknown),
                    statuses.is_shut_down(),
                )
            };
            if self.sent != Some(status) {
                self.sent = Some(status);
                let response = HealthCheckResponse {
                    status: status.into(),
                };
                return Ok((response, self));
            }
            if shut_down || self.statuses.changed().await.is_err() {
                return Err(Status::unavailable("server shutting down"));
            }
        }
    }
}

/// The response stream of a `Watch` call.
pub(super) struct WatchStream {
    /// `None` once the call has ended.
    next: Option<Next>,
}

impl WatchStream {
    /// Watches `service`'s status in `statuses`.
    pub(super) fn new(service: String, statuses: watch::Receiver<Statuses>) -> WatchStream {
        let watcher = Watcher {
            service,
            statuses,
            sent: None,
        };
        WatchStream {
            next: Some(Box::pin(watcher.next())),
        }
    }
}

impl Stream for WatchStream {
    type Item = Result<HealthCheckResponse, Status>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let Some(next) = self.next.as_mut() else {
            return Poll::Ready(None);
        };
        let step = ready!(next.as_mut().poll(cx));
        self.next = None;
        Poll::Ready(Some(step.map(|(response, watcher)| {
            self.next = Some(Box::pin(watcher.next()));
            response
        })))
    }
}
