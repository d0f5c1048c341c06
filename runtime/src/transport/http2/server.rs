//! The HTTP/2 server, on h2 directly: each stream's call runs in a task of its own that
//! sends the response itself, with no per-stream machinery between them.

use std::future::{Future, poll_fn};
use std::pin::{Pin, pin};
use std::task::Poll;

use bytes::Bytes;
use h2::SendStream;
use h2::server::{Connection, SendResponse};
use http_body::Body as _;
use tokio::io::{AsyncRead, AsyncWrite};

use super::lifetime::{self, Lifetime};
use super::ping_enforcement::PolicedIo;
use super::recv_body::RecvBody;
use super::send_body::{pump_until, send_full};
use crate::transport::body::Body;
use crate::transport::incoming::IncomingBody;
use crate::transport::limits::{ConnectionLimits, PingEnforcement};
use crate::transport::sent::OnSent;
use crate::transport::service::HttpService;
use crate::transport::shutdown::{self, Shutdown};

/// hyper's HTTP/2 server defaults, kept so that clients see the windows they saw before.
const STREAM_WINDOW: u32 = 1024 * 1024;
const CONNECTION_WINDOW: u32 = 1024 * 1024;
const MAX_SEND_BUFFER: usize = 400 * 1024;

/// Serves one HTTP/2 connection with `service`, within `limits` (its lifetime limits
/// included); when the drain begins, sends GOAWAY and lets the streams under way
/// finish; when the shutdown says close, closes at once.
pub(crate) fn serve_connection<I, S>(
    io: I,
    service: S,
    limits: &ConnectionLimits,
    shutdown: Shutdown,
) -> impl Future<Output = Result<(), h2::Error>> + Send + use<I, S>
where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    S: HttpService,
{
    serve(io, service, limits, Lifetime::from_limits(limits), shutdown)
}

/// [`serve_connection`], closing the connection of a client that PINGs more often than
/// `enforcement` allows (see [`ping_enforcement`](super::ping_enforcement)).
pub(crate) fn serve_policed_connection<I, S>(
    io: I,
    service: S,
    limits: &ConnectionLimits,
    enforcement: PingEnforcement,
    shutdown: Shutdown,
) -> impl Future<Output = Result<(), h2::Error>> + Send + use<I, S>
where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    S: HttpService,
{
    // The lifetime's loop counts the open streams the policy asks about.
    let lifetime = Lifetime::new(limits);
    let io = PolicedIo::new(io, enforcement, lifetime.open_streams());
    serve(io, service, limits, Some(lifetime), shutdown)
}

/// What both serve, with `lifetime` if the connection has one.
fn serve<I, S>(
    io: I,
    service: S,
    limits: &ConnectionLimits,
    lifetime: Option<Box<Lifetime>>,
    mut shutdown: Shutdown,
) -> impl Future<Output = Result<(), h2::Error>> + Send + use<I, S>
where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    S: HttpService,
{
    let handshake = h2::server::Builder::new()
        .initial_window_size(STREAM_WINDOW)
        .initial_connection_window_size(CONNECTION_WINDOW)
        .max_send_buffer_size(MAX_SEND_BUFFER)
        .max_concurrent_streams(limits.max_concurrent_streams)
        .max_header_list_size(limits.max_header_list_size)
        .handshake::<_, Bytes>(io);
    // The handshake and the connection are boxed in turn: an idle connection's task then
    // holds a pointer, not room for both (figure 7a).
    let handshake = Box::pin(handshake);
    async move {
        let connection = tokio::select! {
            connection = handshake => connection?,
            () = shutdown.closing() => return Ok(()),
        };
        let mut connection = Box::new(connection);
        match lifetime {
            None => accept_streams(connection, service, shutdown).await,
            Some(lifetime) => {
                let streams_shutdown = shutdown.clone();
                let start = |request, respond, guard| {
                    start_stream(&service, request, respond, &streams_shutdown, guard);
                };
                // Boxed, so that connections without a lifetime do not carry its room.
                Box::pin(lifetime::accept_streams(
                    &mut connection,
                    *lifetime,
                    shutdown,
                    start,
                ))
                .await
            }
        }
    }
}

/// Accepts streams until the connection ends, and starts a task for each. When the
/// drain begins it sends GOAWAY and goes on until the streams under way finish; when
/// the shutdown says close, the streams left end with their final status and the
/// connection closes.
async fn accept_streams<I, S>(
    mut connection: Box<Connection<I, Bytes>>,
    service: S,
    mut shutdown: Shutdown,
) -> Result<(), h2::Error>
where
    I: AsyncRead + AsyncWrite + Unpin,
    S: HttpService,
{
    let streams_shutdown = shutdown.clone();
    let start = |request, respond| start_stream(&service, request, respond, &streams_shutdown, ());
    if accept_until(&mut connection, start, shutdown.draining()).await? {
        // GOAWAY, a PING to learn which streams are in flight, then the final GOAWAY.
        connection.graceful_shutdown();
        if accept_until(&mut connection, start, shutdown.closing()).await? {
            return lifetime::deliver_final_statuses(&mut connection).await;
        }
    }
    Ok(())
}

/// Accepts streams, handing each to `start`, until the connection ends (`false`) or
/// `stop` completes (`true`).
///
/// `stop` is made once, not at every turn of the loop: the connection's task polls
/// this at every frame.
async fn accept_until<I>(
    connection: &mut Connection<I, Bytes>,
    mut start: impl FnMut(http::Request<h2::RecvStream>, SendResponse<Bytes>),
    stop: impl Future<Output = ()>,
) -> Result<bool, h2::Error>
where
    I: AsyncRead + AsyncWrite + Unpin,
{
    let mut stop = pin!(stop);
    loop {
        tokio::select! {
            biased;
            accepted = connection.accept() => match accepted {
                Some(Ok((request, respond))) => start(request, respond),
                Some(Err(error)) => return Err(error),
                None => return Ok(false),
            },
            () = &mut stop => return Ok(true),
        }
    }
}

/// Starts the task serving one stream; it holds `guard` until it ends.
fn start_stream<S: HttpService>(
    service: &S,
    request: http::Request<h2::RecvStream>,
    respond: SendResponse<Bytes>,
    shutdown: &Shutdown,
    guard: impl Send + 'static,
) {
    let request = request.map(|body| IncomingBody::http2(RecvBody::new(body)));
    drop(tokio::spawn(serve_stream::<S>(
        service.call(request),
        respond,
        shutdown.clone(),
        guard,
    )));
}

/// Runs one stream's call and sends its response. A client that resets the stream first
/// abandons the call: its future is dropped. So does the drain deadline, and the stream
/// then ends with the service's [`cut_response`](HttpService::cut_response) or, once its
/// response has started, with the body [cut](Body::cut) by
/// [`cut_trailers`](shutdown::cut_trailers).
///
/// This future is what each stream's task holds, and tokio copies it in and out of the
/// task: it keeps only the call's (boxed) future, the stream's handle and the
/// shutdown's, and a response that streams is sent from a boxed future of its own.
async fn serve_stream<S: HttpService>(
    call: S::Future,
    mut respond: SendResponse<Bytes>,
    mut shutdown: Shutdown,
    _guard: impl Send,
) {
    let mut closing = pin!(shutdown.closing());
    let answer = call_or_reset::<S>(call, &mut respond, closing.as_mut());
    let Some((response, answered_cut)) = answer.await else {
        return;
    };
    match start_response(response, &mut respond) {
        Ok(None) => {}
        Ok(Some((body, stream, on_sent))) => {
            let cut = async move {
                // A cut answer ends by itself; `closing` has completed, and must not be
                // polled again.
                match answered_cut {
                    true => std::future::pending().await,
                    false => closing.await,
                }
                shutdown::cut_trailers()
            };
            Box::pin(pump_until(body, stream, cut, on_sent)).await;
        }
        Err(error) => tracing::debug!(%error, "response not sent"),
    }
}

/// The call's response, or the service's cut answer if `closing` completes first, and
/// whether it is the cut answer; `None` if the client resets the stream first.
async fn call_or_reset<S: HttpService>(
    call: S::Future,
    respond: &mut SendResponse<Bytes>,
    mut closing: Pin<&mut impl Future<Output = ()>>,
) -> Option<(http::Response<Body>, bool)> {
    let mut call = pin!(call);
    poll_fn(|cx| {
        if let Poll::Ready(response) = call.as_mut().poll(cx) {
            return Poll::Ready(Some((response, false)));
        }
        if closing.as_mut().poll(cx).is_ready() {
            return Poll::Ready(Some((S::cut_response(&call), true)));
        }
        respond.poll_reset(cx).map(|_| None)
    })
    .await
}

/// A response whose body streams: what pumping it takes.
type StreamingResponse = (Body, SendStream<Bytes>, Option<OnSent>);

/// Sends the response head and, without waiting, a body built whole. A body that
/// streams is given back with its stream and the response's [`OnSent`], to be pumped.
fn start_response(
    response: http::Response<Body>,
    respond: &mut SendResponse<Bytes>,
) -> Result<Option<StreamingResponse>, h2::Error> {
    let (mut parts, body) = response.into_parts();
    let mut on_sent = OnSent::take(&mut parts.extensions);
    let end_of_stream = body.is_end_stream();
    // Trailers-Only: the headers end the response. A copy only when someone listens.
    let headers = on_sent
        .as_ref()
        .filter(|_| end_of_stream)
        .map(|_| parts.headers.clone());
    let mut stream = respond.send_response(http::Response::from_parts(parts, ()), end_of_stream)?;
    if end_of_stream {
        if let (Some(on_sent), Some(headers)) = (on_sent, headers) {
            on_sent.sent(&headers);
        }
        return Ok(None);
    }
    let body = send_full(body, &mut stream, &mut on_sent)?;
    Ok(body.map(|body| (body, stream, on_sent)))
}
