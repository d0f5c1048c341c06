//! The HTTP/2 client: one connection that every call multiplexes on, driven by h2.
//!
//! h2 is used directly rather than through hyper's client, which hands each request to
//! the connection's task over a channel and spawns two tasks per call (one sends the
//! body, one waits for the response). Here a call sends its request and a body built
//! whole from its own task, and waits for the response there.

use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use bytes::Bytes;
use h2::client::SendRequest;
use http_body::Body as _;

use super::keepalive::{self, CallGuard, CallsInFlight, Keepalive};
use super::recv_body::RecvBody;
use super::send_body::{pump, send_full};
use crate::status::Status;
use crate::transport::body::Body;
use crate::transport::connect::Connector;
use crate::transport::error::status_from_h2;
use crate::transport::incoming::IncomingBody;
use crate::transport::io::BoxedIo;

/// hyper's client defaults, kept so that large messages flow as they did over hyper.
const STREAM_WINDOW: u32 = 2 * 1024 * 1024;
const CONNECTION_WINDOW: u32 = 5 * 1024 * 1024;
const MAX_SEND_BUFFER: usize = 1024 * 1024;
const MAX_HEADER_LIST: u32 = 16 * 1024;
/// Streams opened before the server's SETTINGS say how many it allows (hyper's value).
/// Without it, a burst of calls on a new connection opens more streams than the server
/// accepts, and its refusals close the connection.
const INITIAL_MAX_SEND_STREAMS: usize = 100;

/// One HTTP/2 connection, opened on first use and re-opened by the call after it breaks.
pub(crate) struct Http2Client {
    connector: Connector,
    /// Boxed: rarely set, and the channel's variants stay alike in size.
    keepalive: Option<Box<Keepalive>>,
    /// The live connection, if any.
    live: Mutex<Option<Live>>,
    /// Serialises reconnection so that concurrent calls open one connection, not many.
    connecting: tokio::sync::Mutex<()>,
}

/// A connection calls can be sent on.
struct Live {
    sender: SendRequest<Bytes>,
    /// Set by the connection's task when it ends.
    closed: Arc<AtomicBool>,
    /// With keepalive, the calls under way, which it PINGs for.
    calls: Option<CallsInFlight>,
}

impl Live {
    fn is_open(&self) -> bool {
        !self.closed.load(Ordering::Acquire)
    }

    /// What a call takes: the sender, and with keepalive, its guard.
    fn handles(&self) -> (SendRequest<Bytes>, Option<CallGuard>) {
        let guard = self.calls.as_ref().map(CallsInFlight::start);
        (self.sender.clone(), guard)
    }
}

impl Http2Client {
    /// A client of the server `connector` reaches, PINGing its connection as
    /// `keepalive` says, if set.
    pub(crate) fn new(connector: Connector, keepalive: Option<Keepalive>) -> Http2Client {
        Http2Client {
            connector,
            keepalive: keepalive.map(Box::new),
            live: Mutex::new(None),
            connecting: tokio::sync::Mutex::new(()),
        }
    }

    /// Sends a request and waits for the response head.
    pub(crate) async fn send(
        &self,
        request: http::Request<Body>,
    ) -> Result<http::Response<IncomingBody>, Status> {
        let (sender, guard) = self.connection().await?;
        // `ready` waits while the server's limit on concurrent streams is reached.
        let mut sender = sender.ready().await.map_err(status_from_h2)?;
        let (parts, body) = request.into_parts();
        let end_of_stream = body.is_end_stream();
        let (response, mut stream) = sender
            .send_request(http::Request::from_parts(parts, ()), end_of_stream)
            .map_err(status_from_h2)?;
        if !end_of_stream {
            // A streamed body goes out from a task of its own, as the call reads responses.
            if let Some(body) = send_full(body, &mut stream).map_err(status_from_h2)? {
                drop(tokio::spawn(pump(body, stream)));
            }
        }
        let response = response.await.map_err(status_from_h2)?;
        Ok(response.map(|stream| IncomingBody::http2(RecvBody::new(stream).holding(guard))))
    }

    /// A handle on the live connection, connecting first if there is none, and with
    /// keepalive, the guard that counts a call on it as under way.
    pub(crate) async fn connection(
        &self,
    ) -> Result<(SendRequest<Bytes>, Option<CallGuard>), Status> {
        if let Some(handles) = self.live() {
            return Ok(handles);
        }
        let _connecting = self.connecting.lock().await;
        if let Some(handles) = self.live() {
            return Ok(handles);
        }
        let io = self.connector.connect().await?;
        let live = handshake(io, self.keepalive.as_deref().copied())
            .await
            .map_err(|error| Status::unavailable(format!("HTTP/2 handshake failed: {error}")))?;
        let handles = live.handles();
        *self.lock_live() = Some(live);
        Ok(handles)
    }

    fn live(&self) -> Option<(SendRequest<Bytes>, Option<CallGuard>)> {
        self.lock_live()
            .as_ref()
            .filter(|live| live.is_open())
            .map(Live::handles)
    }

    fn lock_live(&self) -> std::sync::MutexGuard<'_, Option<Live>> {
        // The guarded value is a plain handle; a panic elsewhere cannot leave it torn.
        self.live
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Performs the client handshake on `io` and spawns the task driving the connection,
/// with `keepalive` if set.
async fn handshake(io: BoxedIo, keepalive: Option<Keepalive>) -> Result<Live, h2::Error> {
    let (sender, mut connection) = h2::client::Builder::new()
        .initial_window_size(STREAM_WINDOW)
        .initial_connection_window_size(CONNECTION_WINDOW)
        .max_send_buffer_size(MAX_SEND_BUFFER)
        .max_header_list_size(MAX_HEADER_LIST)
        .initial_max_send_streams(INITIAL_MAX_SEND_STREAMS)
        .enable_push(false)
        .handshake(io)
        .await?;
    let closed = Arc::new(AtomicBool::new(false));
    let on_close = Arc::clone(&closed);
    let pinged = keepalive.zip(connection.ping_pong());
    let calls = pinged.as_ref().map(|_| CallsInFlight::default());
    let counted = calls.clone();
    tokio::spawn(async move {
        let ended = match pinged.zip(counted) {
            None => connection.await.map_err(keepalive::Ended::Connection),
            Some(((keepalive, ping_pong), counted)) => {
                keepalive::drive(connection, ping_pong, keepalive, counted).await
            }
        };
        if let Err(ended) = ended {
            tracing::debug!(%ended, "client connection ended with an error");
        }
        on_close.store(true, Ordering::Release);
    });
    Ok(Live {
        sender,
        closed,
        calls,
    })
}
