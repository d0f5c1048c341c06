//! The HTTP/2 client connection, driven by h2, which every call to one server address
//! multiplexes on. Opening, watching and replacing connections is the channel's job.
//!
//! h2 is used directly rather than through hyper's client, which hands each request to
//! the connection's task over a channel and spawns two tasks per call (one sends the
//! body, one waits for the response). Here a call sends its request and a body built
//! whole from its own task, and waits for the response there.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use bytes::Bytes;
use h2::Ping;
use h2::client::SendRequest;
use http_body::Body as _;
use tokio::sync::{Notify, oneshot};

use super::keepalive::{self, CallsInFlight, Keepalive};
use super::recv_body::RecvBody;
use super::send_body::{pump, send_full};
use crate::status::Status;
use crate::transport::body::Body;
use crate::transport::error::{SendError, is_unprocessed_h2, status_from_h2};
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

/// An open HTTP/2 connection. Cheap to clone: clones share it.
#[derive(Clone)]
pub(crate) struct Http2Connection {
    sender: SendRequest<Bytes>,
    /// The calls under way, which keepalive PINGs for and idleness waits on.
    calls: CallsInFlight,
    ended: Arc<Ended>,
}

/// Whether a connection still takes new calls, and a way to wait until it does not.
#[derive(Default)]
struct Ended {
    /// Set when the connection's task ends, or the server sent GOAWAY.
    flag: AtomicBool,
    notify: Notify,
}

impl Ended {
    fn set(&self) {
        self.flag.store(true, Ordering::Release);
        self.notify.notify_waiters();
    }
}

impl Http2Connection {
    /// Performs the client handshake on `io` and spawns the task driving the
    /// connection, with `keepalive` if set.
    pub(crate) async fn handshake(
        io: BoxedIo,
        keepalive: Option<Keepalive>,
    ) -> Result<Http2Connection, Status> {
        let (sender, mut connection) = h2::client::Builder::new()
            .initial_window_size(STREAM_WINDOW)
            .initial_connection_window_size(CONNECTION_WINDOW)
            .max_send_buffer_size(MAX_SEND_BUFFER)
            .max_header_list_size(MAX_HEADER_LIST)
            .initial_max_send_streams(INITIAL_MAX_SEND_STREAMS)
            .enable_push(false)
            .handshake(io)
            .await
            .map_err(|error| Status::unavailable(format!("HTTP/2 handshake failed: {error}")))?;
        let ended = Arc::new(Ended::default());
        let calls = CallsInFlight::default();
        let Some(mut ping_pong) = connection.ping_pong() else {
            return Err(Status::internal(
                "h2 gave no PING handle for a new connection",
            ));
        };
        let (on_end, counted) = (Arc::clone(&ended), calls.clone());
        let (answered, answer) = oneshot::channel();
        tokio::spawn(async move {
            // Boxed: driven in two phases, first beside the PING, then on its own.
            let mut connection = Box::pin(connection);
            // A server that accepts and closes, or does not speak HTTP/2, must fail the
            // attempt (and so back off) rather than count as connected: the connection
            // is ready once the server answers a PING, as grpc-go waits for its SETTINGS.
            let first = tokio::select! {
                result = &mut connection => Err(match result {
                    Ok(()) => Status::unavailable("the server closed the connection at once"),
                    Err(error) => status_from_h2(error),
                }),
                pong = ping_pong.ping(Ping::opaque()) => pong.map_err(status_from_h2),
            };
            let proved = first.is_ok();
            if answered.send(first).is_err() || !proved {
                on_end.set();
                return;
            }
            let result = match keepalive {
                None => connection.await.map_err(keepalive::Ended::Connection),
                Some(keepalive) => {
                    keepalive::drive(connection, ping_pong, keepalive, counted).await
                }
            };
            if let Err(ended) = result {
                tracing::debug!(%ended, "client connection ended with an error");
            }
            on_end.set();
        });
        match answer.await {
            Ok(Ok(_)) => Ok(Http2Connection {
                sender,
                calls,
                ended,
            }),
            Ok(Err(status)) => Err(Status::unavailable(format!(
                "HTTP/2 handshake failed: {}",
                status.message()
            ))),
            Err(_) => Err(Status::unavailable("HTTP/2 handshake failed")),
        }
    }

    /// Whether `other` is a handle on the same connection.
    pub(crate) fn same_as(&self, other: &Http2Connection) -> bool {
        Arc::ptr_eq(&self.ended, &other.ended)
    }

    /// Whether new calls may go on this connection.
    pub(crate) fn is_usable(&self) -> bool {
        !self.ended.flag.load(Ordering::Acquire)
    }

    /// Completes once the connection takes no more calls: it closed, or the server
    /// sent GOAWAY.
    pub(crate) async fn unusable(&self) {
        loop {
            let notified = self.ended.notify.notified();
            if !self.is_usable() {
                return;
            }
            notified.await;
        }
    }

    /// Whether a call is under way on this connection.
    pub(crate) fn has_calls(&self) -> bool {
        self.calls.any()
    }

    /// Whether the connection ever carried a call.
    pub(crate) fn carried_calls(&self) -> bool {
        self.calls.carried()
    }

    /// Sends a request and waits for the response head. Takes the connection by value:
    /// cloning h2's sender takes a lock, and a call's handle is its own clone already.
    pub(crate) async fn send(
        self,
        request: http::Request<Body>,
    ) -> Result<http::Response<IncomingBody>, SendError> {
        let Http2Connection {
            sender,
            calls,
            ended,
        } = self;
        // `ready` waits while the server's limit on concurrent streams is reached, and
        // fails once the server has sent GOAWAY: the request is still whole then.
        let mut sender = match sender.ready().await {
            Ok(sender) => sender,
            Err(error) => {
                ended.set();
                return Err(SendError::unsent(status_from_h2(error), request));
            }
        };
        let guard = calls.start();
        let (parts, body) = request.into_parts();
        let end_of_stream = body.is_end_stream();
        let (response, mut stream) = sender
            .send_request(http::Request::from_parts(parts, ()), end_of_stream)
            // No stream was opened: the server cannot have seen the request.
            .map_err(|error| ended.failure(error, true))?;
        let incoming = |response: http::Response<h2::RecvStream>| {
            response.map(|stream| IncomingBody::http2(RecvBody::new(stream).holding(guard)))
        };
        if !end_of_stream {
            match send_full(body, &mut stream, &mut None) {
                Ok(None) => {}
                // A streamed body goes out from a task of its own, as the call reads
                // responses.
                Ok(Some(body)) => drop(tokio::spawn(pump(body, stream))),
                // The server may have answered and closed the stream before the body
                // went out (a Trailers-Only refusal can, while this task waits for a
                // core): then its response says why, not the closed stream.
                Err(send_error) => {
                    return match response.await {
                        Ok(response) => Ok(incoming(response)),
                        Err(_) => Err(ended.failure(send_error, false)),
                    };
                }
            }
        }
        let response = response
            .await
            .map_err(|error| ended.failure(error, false))?;
        Ok(incoming(response))
    }
}

impl Ended {
    /// The failure of a request the connection took: unprocessed when it never left,
    /// or h2 says the server never saw it; a GOAWAY retires the connection.
    fn failure(&self, error: h2::Error, unsent: bool) -> SendError {
        if error.is_go_away() {
            self.set();
        }
        SendError {
            unprocessed: unsent || is_unprocessed_h2(&error),
            status: status_from_h2(error),
            request: None,
        }
    }
}
