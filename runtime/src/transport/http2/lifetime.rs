//! How long an HTTP/2 server connection may live: GOAWAY after `max_connection_idle`
//! without an open stream, GOAWAY after `max_connection_age` and a close once its grace
//! has passed, and a close when a keepalive PING goes unanswered — grpc-go's server
//! options of the same names. A connection with none of them set never runs this loop.
//! Every connection, limited or not, ends in [`deliver_final_statuses`] once a shutdown's
//! drain deadline has passed.

use std::future::poll_fn;
use std::pin::pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use bytes::Bytes;
use h2::server::{Connection, SendResponse};
use h2::{Ping, PingPong, RecvStream};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::Notify;
use tokio::time::{Instant, sleep_until};

use crate::jitter::jittered;
use crate::transport::limits::ConnectionLimits;
use crate::transport::shutdown::{FINAL_STATUS_GRACE, Shutdown};

/// A connection's lifetime settings, and its open streams.
#[derive(Debug)]
pub(crate) struct Lifetime {
    max_idle: Option<Duration>,
    max_age: Option<Duration>,
    age_grace: Option<Duration>,
    /// PING interval and how long its answer may take.
    keepalive: Option<(Duration, Duration)>,
    /// How long a PING may go unanswered: the keepalive's, and the one h2 sends with a
    /// GOAWAY, whose answer it waits for before closing.
    ping_timeout: Duration,
    streams: Arc<OpenStreams>,
}

impl Lifetime {
    /// The settings of `limits`, boxed so that a connection's task holds a pointer.
    pub(crate) fn new(limits: &ConnectionLimits) -> Box<Lifetime> {
        Box::new(Lifetime {
            max_idle: limits.max_connection_idle,
            max_age: limits.max_connection_age,
            age_grace: limits.max_connection_age_grace,
            keepalive: limits
                .http2_keepalive_interval
                .map(|interval| (interval, limits.http2_keepalive_timeout)),
            ping_timeout: limits.http2_keepalive_timeout,
            streams: Arc::default(),
        })
    }

    /// [`new`](Self::new), or `None` when `limits` set none of the lifetime's settings.
    pub(crate) fn from_limits(limits: &ConnectionLimits) -> Option<Box<Lifetime>> {
        let unlimited = limits.max_connection_idle.is_none()
            && limits.max_connection_age.is_none()
            && limits.http2_keepalive_interval.is_none();
        (!unlimited).then(|| Lifetime::new(limits))
    }

    /// The connection's open streams, counted by the guards handed to its streams.
    pub(crate) fn open_streams(&self) -> Arc<OpenStreams> {
        Arc::clone(&self.streams)
    }
}

/// Counts a connection's open streams, and wakes the connection when the last one ends.
#[derive(Debug, Default)]
pub(crate) struct OpenStreams {
    count: AtomicUsize,
    last_ended: Notify,
}

/// Held by a stream's task while it runs.
#[derive(Debug)]
pub(crate) struct StreamGuard(Arc<OpenStreams>);

impl OpenStreams {
    fn open(self: &Arc<Self>) -> StreamGuard {
        self.count.fetch_add(1, Ordering::AcqRel);
        StreamGuard(Arc::clone(self))
    }

    /// Whether no stream is open.
    pub(crate) fn is_idle(&self) -> bool {
        self.count.load(Ordering::Acquire) == 0
    }
}

impl Drop for StreamGuard {
    fn drop(&mut self) {
        if self.0.count.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.0.last_ended.notify_one();
        }
    }
}

/// When each lifetime event is due.
#[derive(Debug)]
struct Deadlines {
    /// When the connection goes away for idleness, while no stream is open.
    idle_at: Option<Instant>,
    age_at: Option<Instant>,
    /// When the age's grace ends and the connection closes.
    close_at: Option<Instant>,
    ping_at: Option<Instant>,
    /// When the PING sent must have been answered.
    pong_by: Option<Instant>,
}

impl Deadlines {
    fn new(lifetime: &Lifetime, now: Instant) -> Deadlines {
        Deadlines {
            idle_at: lifetime.max_idle.map(|idle| now + idle),
            // ±10%, as grpc-go, so that connections opened together do not all go at once.
            age_at: lifetime.max_age.map(|age| now + jittered(age, 0.1)),
            close_at: None,
            ping_at: lifetime.keepalive.map(|(interval, _)| now + interval),
            pong_by: None,
        }
    }

    /// Closes the connection at `at`, or earlier if already due earlier.
    fn close_by(&mut self, at: Instant) {
        self.close_at = Some(self.close_at.map_or(at, |close_at| close_at.min(at)));
    }

    fn next(&self) -> Option<Instant> {
        [
            self.idle_at,
            self.age_at,
            self.close_at,
            self.ping_at,
            self.pong_by,
        ]
        .into_iter()
        .flatten()
        .min()
    }
}

/// What the connection does next, decided by a lifetime event.
enum Next {
    GoAway,
    Close,
    Carry,
}

/// Accepts streams until the connection ends, within `lifetime`, and hands each to
/// `start` with a guard to hold while it runs. The shutdown's drain sends GOAWAY, and
/// its close ends the streams left and closes, as on a connection without a lifetime.
pub(super) async fn accept_streams<I>(
    connection: &mut Connection<I, Bytes>,
    lifetime: Lifetime,
    shutdown: Shutdown,
    mut start: impl FnMut(http::Request<RecvStream>, SendResponse<Bytes>, StreamGuard),
) -> Result<(), h2::Error>
where
    I: AsyncRead + AsyncWrite + Unpin,
{
    let streams = lifetime.open_streams();
    let mut deadlines = Deadlines::new(&lifetime, Instant::now());
    let mut ping_pong = lifetime.keepalive.and_then(|_| connection.ping_pong());
    let (mut drain_watch, mut close_watch) = (shutdown.clone(), shutdown);
    let mut draining = pin!(drain_watch.draining());
    let mut closing = pin!(close_watch.closing());
    let mut timer = pin!(sleep_until(Instant::now()));
    let mut gone_away = false;
    loop {
        let next = deadlines.next();
        if let Some(at) = next {
            timer.as_mut().reset(at);
        }
        let decision = tokio::select! {
            biased;
            accepted = connection.accept() => match accepted {
                Some(Ok((request, respond))) => {
                    deadlines.idle_at = None;
                    start(request, respond, streams.open());
                    Next::Carry
                }
                Some(Err(error)) => return Err(error),
                None => return Ok(()),
            },
            () = &mut closing => return deliver_final_statuses(connection).await,
            () = &mut draining, if !gone_away => Next::GoAway,
            () = streams.last_ended.notified() => {
                if streams.is_idle() {
                    let now = Instant::now();
                    deadlines.idle_at = lifetime.max_idle.map(|idle| now + idle);
                    if gone_away {
                        deadlines.close_by(now + lifetime.ping_timeout);
                    }
                }
                Next::Carry
            }
            pong = poll_fn(|cx| poll_pong(&mut ping_pong, cx)), if deadlines.pong_by.is_some() => {
                if pong.is_err() {
                    return Ok(());
                }
                deadlines.pong_by = None;
                deadlines.ping_at = lifetime.keepalive.map(|(interval, _)| Instant::now() + interval);
                Next::Carry
            }
            () = &mut timer, if next.is_some() => {
                on_deadline(&mut deadlines, &lifetime, &streams, &mut ping_pong, Instant::now())
            }
        };
        match decision {
            Next::GoAway if !gone_away => {
                // GOAWAY, a PING to learn which streams are in flight, then the final
                // GOAWAY; `accept` ends once the streams under way have finished.
                connection.graceful_shutdown();
                gone_away = true;
            }
            Next::Close => return Ok(()),
            Next::GoAway | Next::Carry => {}
        }
    }
}

/// Once the drain deadline has passed: drives the connection while the streams cut
/// there send their final status (see `server::serve_stream`), for at most
/// [`FINAL_STATUS_GRACE`], refusing any stream opened meanwhile. The GOAWAY (sent when
/// the drain began, or now) lets the connection close as soon as its last stream ends.
pub(super) async fn deliver_final_statuses<I>(
    connection: &mut Connection<I, Bytes>,
) -> Result<(), h2::Error>
where
    I: AsyncRead + AsyncWrite + Unpin,
{
    connection.graceful_shutdown();
    let delivered = async {
        while let Some((_, mut respond)) = connection.accept().await.transpose()? {
            // Never processed: the client may retry it elsewhere.
            respond.send_reset(h2::Reason::REFUSED_STREAM);
        }
        Ok(())
    };
    tokio::time::timeout(FINAL_STATUS_GRACE, delivered)
        .await
        .unwrap_or(Ok(()))
}

/// Handles the deadlines that have passed at `now`.
fn on_deadline(
    deadlines: &mut Deadlines,
    lifetime: &Lifetime,
    streams: &OpenStreams,
    ping_pong: &mut Option<PingPong>,
    now: Instant,
) -> Next {
    let due = |at: Option<Instant>| at.is_some_and(|at| at <= now);
    if due(deadlines.pong_by) {
        tracing::debug!("closing an HTTP/2 connection whose keepalive PING went unanswered");
        return Next::Close;
    }
    if due(deadlines.close_at) {
        return Next::Close;
    }
    if due(deadlines.ping_at) {
        deadlines.ping_at = None;
        let sent = ping_pong
            .as_mut()
            .is_some_and(|ping_pong| ping_pong.send_ping(Ping::opaque()).is_ok());
        if sent {
            deadlines.pong_by = lifetime.keepalive.map(|(_, timeout)| now + timeout);
        }
    }
    let mut next = Next::Carry;
    if due(deadlines.age_at) {
        deadlines.age_at = None;
        if let Some(grace) = lifetime.age_grace {
            deadlines.close_by(now + grace);
        }
        next = Next::GoAway;
    }
    if due(deadlines.idle_at) {
        deadlines.idle_at = None;
        if streams.is_idle() {
            next = Next::GoAway;
        }
    }
    if matches!(next, Next::GoAway) && streams.is_idle() {
        // With no stream left, the connection only waits for the answer to the GOAWAY's
        // PING: a peer that never answers must not hold it.
        deadlines.close_by(now + lifetime.ping_timeout);
    }
    next
}

/// Polls for the answer to the PING sent.
fn poll_pong(
    ping_pong: &mut Option<PingPong>,
    cx: &mut std::task::Context<'_>,
) -> std::task::Poll<Result<(), h2::Error>> {
    match ping_pong {
        Some(ping_pong) => ping_pong.poll_pong(cx).map_ok(drop),
        None => std::task::Poll::Pending,
    }
}
