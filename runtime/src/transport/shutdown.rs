//! The server's shutdown, as each connection sees it: first a drain, in which calls under
//! way finish and idle connections close; then, if the drain outlasts its deadline, a
//! forced close of whatever is left. A call that is still under way at the close ends
//! with [`cut_status`], so that its client knows why.

use std::time::Duration;

use http::HeaderMap;
use tokio::sync::watch;

use crate::status::Status;
use crate::transport::body::Body;

/// How long a connection may take, once the drain deadline has passed, to deliver the
/// final status of the calls cut there: a peer that does not read cannot hold the
/// shutdown longer.
pub(crate) const FINAL_STATUS_GRACE: Duration = Duration::from_secs(1);

/// The status of a call still under way when the drain deadline passes: `UNAVAILABLE`,
/// the code a client may retry elsewhere (as grpc-go's clients see a closing transport).
pub(crate) fn cut_status() -> Status {
    Status::unavailable(CUT_MESSAGE)
}

/// Why a call still under way when the drain deadline passes was cut.
pub(crate) const CUT_MESSAGE: &str = "server shutting down: drain deadline passed";

/// [`cut_status`] as the trailers of a response already started.
pub(crate) fn cut_trailers() -> HeaderMap {
    cut_status().to_header_map()
}

/// [`cut_status`] as a Trailers-Only response, for a call that had not answered yet.
pub(crate) fn cut_response() -> http::Response<Body> {
    let mut response = http::Response::new(Body::empty());
    *response.headers_mut() = cut_trailers();
    // gRPC clients check the content type before they read a status.
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/grpc"),
    );
    response
}

/// How far the server's shutdown has gone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Phase {
    /// Serving as usual.
    Serving,
    /// No new calls: finish the ones under way, then close.
    Draining,
    /// Close now, calls under way or not.
    Closing,
}

/// Starts a shutdown: the server's side of [`Shutdown`].
#[derive(Debug)]
pub(crate) struct ShutdownTrigger(watch::Sender<Phase>);

/// A connection's view of the server's shutdown. A server that goes away without a
/// shutdown counts as [`Phase::Closing`].
#[derive(Debug, Clone)]
pub(crate) struct Shutdown(watch::Receiver<Phase>);

/// A trigger and the view it moves.
pub(crate) fn channel() -> (ShutdownTrigger, Shutdown) {
    let (sender, receiver) = watch::channel(Phase::Serving);
    (ShutdownTrigger(sender), Shutdown(receiver))
}

impl ShutdownTrigger {
    /// Moves every connection on to `phase`.
    pub(crate) fn advance(&self, phase: Phase) {
        self.0.send_replace(phase);
    }
}

impl Shutdown {
    /// Whether the drain has begun.
    pub(crate) fn is_draining(&self) -> bool {
        *self.0.borrow() >= Phase::Draining
    }

    /// Completes once the drain begins.
    pub(crate) async fn draining(&mut self) {
        self.reached(Phase::Draining).await;
    }

    /// Completes once connections must close: the drain deadline has passed, or the
    /// server is gone.
    pub(crate) async fn closing(&mut self) {
        self.reached(Phase::Closing).await;
    }

    /// Completes once the shutdown has reached `phase`.
    async fn reached(&mut self, phase: Phase) {
        // An error means the server is gone: nothing is left to wait for.
        let _ = self.0.wait_for(|now| *now >= phase).await;
    }
}
