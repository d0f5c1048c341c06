//! Sending a body on an h2 stream: a request on the client, a response on the server.

use std::future::{Future, poll_fn};
use std::pin::{Pin, pin};
use std::task::{Context, Poll, ready};

use bytes::Bytes;
use h2::SendStream;
use http::HeaderMap;
use http_body::Body as _;

use crate::transport::body::Body;
use crate::transport::sent::OnSent;

/// Sends a body built whole at once, without waiting: its data, then its trailers or
/// the end of the stream, reported to `on_sent`. A body that streams is given back, for
/// [`pump`].
pub(super) fn send_full(
    mut body: Body,
    stream: &mut SendStream<Bytes>,
    on_sent: &mut Option<OnSent>,
) -> Result<Option<Body>, h2::Error> {
    match body.take_full() {
        Some((data, None)) => {
            stream.send_data(data.unwrap_or_default(), true)?;
            report(on_sent, HeaderMap::new());
        }
        Some((data, Some(trailers))) => {
            if let Some(data) = data {
                stream.send_data(data, false)?;
            }
            send_trailers(stream, trailers, on_sent)?;
        }
        None => return Ok(Some(body)),
    }
    Ok(None)
}

/// Sends the trailers that end a stream, and reports them to `on_sent`.
fn send_trailers(
    stream: &mut SendStream<Bytes>,
    trailers: HeaderMap,
    on_sent: &mut Option<OnSent>,
) -> Result<(), h2::Error> {
    // A copy only when someone listens.
    let copy = on_sent.as_ref().map(|_| trailers.clone());
    stream.send_trailers(trailers)?;
    if let Some(trailers) = copy {
        report(on_sent, trailers);
    }
    Ok(())
}

fn report(on_sent: &mut Option<OnSent>, headers: HeaderMap) {
    if let Some(on_sent) = on_sent.take() {
        on_sent.sent(&headers);
    }
}

/// Sends a streaming body until it ends, the peer resets the stream, or the connection
/// fails.
pub(super) async fn pump(body: Body, stream: SendStream<Bytes>) {
    pump_until(body, stream, std::future::pending(), None).await;
}

/// Like [`pump`], but if `cut` completes first, the body is cut short with the trailers
/// `cut` gives: one that ends itself goes on with its last frames; any other is dropped,
/// and the stream ends with those trailers. The trailers sent go to `on_sent`.
pub(super) async fn pump_until(
    mut body: Body,
    mut stream: SendStream<Bytes>,
    cut: impl Future<Output = HeaderMap>,
    mut on_sent: Option<OnSent>,
) {
    let mut cut = pin!(cut);
    let mut was_cut = false;
    let result = poll_fn(|cx| {
        if !was_cut {
            if let Poll::Ready(trailers) = cut.as_mut().poll(cx) {
                was_cut = true;
                // A body that ends itself goes on with its last frames.
                if let Some(trailers) = body.cut(trailers) {
                    return Poll::Ready(send_trailers(&mut stream, trailers, &mut on_sent));
                }
            }
        }
        poll_pump(Pin::new(&mut body), &mut stream, &mut on_sent, cx)
    })
    .await;
    if let Err(error) = result {
        tracing::debug!(%error, "body not sent to its end");
    }
}

fn poll_pump(
    mut body: Pin<&mut Body>,
    stream: &mut SendStream<Bytes>,
    on_sent: &mut Option<OnSent>,
    cx: &mut Context<'_>,
) -> Poll<Result<(), h2::Error>> {
    loop {
        // A reset from the peer ends the call: stop producing messages.
        if let Poll::Ready(reset) = stream.poll_reset(cx) {
            return Poll::Ready(reset.map(drop));
        }
        // Take the next frame only once the window has room, so that a fast producer
        // waits for a slow peer instead of filling memory.
        stream.reserve_capacity(1);
        while stream.capacity() == 0 {
            match ready!(stream.poll_capacity(cx)) {
                Some(Ok(_)) => {}
                Some(Err(error)) => return Poll::Ready(Err(error)),
                // The stream closed.
                None => return Poll::Ready(Ok(())),
            }
        }
        match ready!(body.as_mut().poll_frame(cx)) {
            None => {
                stream.send_data(Bytes::new(), true)?;
                report(on_sent, HeaderMap::new());
                return Poll::Ready(Ok(()));
            }
            Some(Ok(frame)) => match frame.into_data() {
                Ok(data) => stream.send_data(data, false)?,
                Err(frame) => {
                    if let Ok(trailers) = frame.into_trailers() {
                        return Poll::Ready(send_trailers(stream, trailers, on_sent));
                    }
                }
            },
            Some(Err(_)) => {
                // The body failed (a message could not be encoded): the call cannot go on,
                // and the reset tells the peer so.
                stream.send_reset(h2::Reason::INTERNAL_ERROR);
                return Poll::Ready(Ok(()));
            }
        }
    }
}
