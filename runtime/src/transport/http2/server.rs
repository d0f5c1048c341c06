//! The HTTP/2 server, on h2 directly: each stream's call runs in a task of its own that
//! sends the response itself, with no per-stream machinery between them.

use std::future::{Future, poll_fn};
use std::pin::pin;
use std::task::Poll;

use bytes::Bytes;
use h2::server::{Handshake, SendResponse};
use http_body::Body as _;
use tokio::io::{AsyncRead, AsyncWrite};

use super::recv_body::RecvBody;
use super::send_body::{pump, send_full};
use crate::transport::body::Body;
use crate::transport::incoming::IncomingBody;
use crate::transport::limits::ConnectionLimits;
use crate::transport::service::HttpService;
use crate::transport::shutdown::{Phase, Shutdown};

/// hyper's HTTP/2 server defaults, kept so that clients see the windows they saw before.
const STREAM_WINDOW: u32 = 1024 * 1024;
const CONNECTION_WINDOW: u32 = 1024 * 1024;
const MAX_SEND_BUFFER: usize = 400 * 1024;

/// Serves one HTTP/2 connection with `service`, within `limits`; when the drain begins,
/// sends GOAWAY and lets the streams under way finish; when the shutdown says close,
/// closes at once.
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
    let handshake = h2::server::Builder::new()
        .initial_window_size(STREAM_WINDOW)
        .initial_connection_window_size(CONNECTION_WINDOW)
        .max_send_buffer_size(MAX_SEND_BUFFER)
        .max_concurrent_streams(limits.max_concurrent_streams)
        .max_header_list_size(limits.max_header_list_size)
        .handshake::<_, Bytes>(io);
    serve(handshake, service, shutdown)
}

/// Completes the handshake, then accepts streams until the connection ends.
async fn serve<I, S>(
    handshake: Handshake<I, Bytes>,
    service: S,
    mut shutdown: Shutdown,
) -> Result<(), h2::Error>
where
    I: AsyncRead + AsyncWrite + Unpin,
    S: HttpService,
{
    let mut connection = tokio::select! {
        connection = handshake => connection?,
        () = shutdown.closing() => return Ok(()),
    };
    let mut next_phase = Phase::Draining;
    loop {
        let accepted = tokio::select! {
            accepted = connection.accept() => accepted,
            () = shutdown.reached(next_phase) => {
                if next_phase == Phase::Closing {
                    return Ok(());
                }
                // GOAWAY, a PING to learn which streams are in flight, then the final
                // GOAWAY; `accept` ends once the streams under way have finished.
                connection.graceful_shutdown();
                next_phase = Phase::Closing;
                continue;
            }
        };
        match accepted {
            Some(Ok((request, respond))) => {
                let request = request.map(|body| IncomingBody::http2(RecvBody::new(body)));
                drop(tokio::spawn(serve_stream(service.call(request), respond)));
            }
            Some(Err(error)) => return Err(error),
            None => return Ok(()),
        }
    }
}

/// Runs one stream's call and sends its response. A client that resets the stream first
/// abandons the call: its future is dropped.
async fn serve_stream<F>(call: F, mut respond: SendResponse<Bytes>)
where
    F: Future<Output = http::Response<Body>>,
{
    let mut call = pin!(call);
    let response = poll_fn(|cx| {
        if let Poll::Ready(response) = call.as_mut().poll(cx) {
            return Poll::Ready(Some(response));
        }
        respond.poll_reset(cx).map(|_| None)
    })
    .await;
    let Some(response) = response else { return };
    if let Err(error) = send_response(response, &mut respond).await {
        tracing::debug!(%error, "response not sent to its end");
    }
}

/// Sends the response head, then its body.
async fn send_response(
    response: http::Response<Body>,
    respond: &mut SendResponse<Bytes>,
) -> Result<(), h2::Error> {
    let (parts, body) = response.into_parts();
    let end_of_stream = body.is_end_stream();
    let mut stream = respond.send_response(http::Response::from_parts(parts, ()), end_of_stream)?;
    if end_of_stream {
        return Ok(());
    }
    if let Some(body) = send_full(body, &mut stream)? {
        pump(body, stream).await;
    }
    Ok(())
}
