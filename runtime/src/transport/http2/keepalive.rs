//! Client keepalive: PINGs every `http2_keep_alive_interval` on an HTTP/2 connection,
//! and the connection closed when one goes unanswered for `keep_alive_timeout`, so that
//! the calls on a dead or black-holed connection fail with `UNAVAILABLE` instead of
//! hanging. With `keep_alive_while_idle` off (the default, as tonic and grpc-go), only a
//! connection with a call under way is PINGed.

use std::future::{Future, poll_fn};
use std::pin::pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use h2::{Ping, PingPong};

/// Default for [`Keepalive::timeout`]: tonic's and grpc-go's.
pub(crate) const DEFAULT_KEEP_ALIVE_TIMEOUT: Duration = Duration::from_secs(20);

/// A channel's keepalive settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Keepalive {
    /// How often to PING.
    pub(crate) interval: Duration,
    /// How long an answer may take.
    pub(crate) timeout: Duration,
    /// Whether to PING with no call under way.
    pub(crate) while_idle: bool,
}

/// Counts the calls under way on a connection, for keepalive and the channel's idleness.
#[derive(Debug, Clone, Default)]
pub(crate) struct CallsInFlight(Arc<Counts>);

#[derive(Debug, Default)]
struct Counts {
    under_way: AtomicUsize,
    /// Whether any call ever started: a connection that carried one counted as made.
    carried: AtomicBool,
}

/// Held by a call from its request until its response ends.
#[derive(Debug)]
pub(crate) struct CallGuard(Arc<Counts>);

impl CallsInFlight {
    pub(crate) fn start(&self) -> CallGuard {
        self.0.under_way.fetch_add(1, Ordering::AcqRel);
        self.0.carried.store(true, Ordering::Relaxed);
        CallGuard(Arc::clone(&self.0))
    }

    /// Whether any call is under way.
    pub(crate) fn any(&self) -> bool {
        self.0.under_way.load(Ordering::Acquire) > 0
    }

    /// Whether any call ever started.
    pub(crate) fn carried(&self) -> bool {
        self.0.carried.load(Ordering::Relaxed)
    }
}

impl Drop for CallGuard {
    fn drop(&mut self) {
        self.0.under_way.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Why a connection driven with keepalive ended.
#[derive(Debug)]
pub(crate) enum Ended {
    /// The connection failed.
    Connection(h2::Error),
    /// A PING went unanswered.
    Unanswered(Duration),
}

impl std::fmt::Display for Ended {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Ended::Connection(error) => error.fmt(f),
            Ended::Unanswered(timeout) => write!(f, "keepalive PING unanswered for {timeout:?}"),
        }
    }
}

/// Drives `connection` until it ends, PINGing it as `keepalive` says; ends it when a
/// PING goes unanswered.
pub(crate) async fn drive(
    connection: impl Future<Output = Result<(), h2::Error>>,
    mut ping_pong: PingPong,
    keepalive: Keepalive,
    calls: CallsInFlight,
) -> Result<(), Ended> {
    let mut connection = pin!(connection);
    loop {
        tokio::select! {
            result = &mut connection => return result.map_err(Ended::Connection),
            () = tokio::time::sleep(keepalive.interval) => {}
        }
        if !keepalive.while_idle && !calls.any() {
            continue;
        }
        if ping_pong.send_ping(Ping::opaque()).is_err() {
            // A PING is still outstanding or the connection is closing: the connection
            // future says which on its next poll.
            continue;
        }
        let deadline = tokio::time::sleep(keepalive.timeout);
        tokio::select! {
            result = &mut connection => return result.map_err(Ended::Connection),
            pong = poll_fn(|cx| ping_pong.poll_pong(cx)) => {
                pong.map_err(Ended::Connection)?;
            }
            () = deadline => return Err(Ended::Unanswered(keepalive.timeout)),
        }
    }
}
