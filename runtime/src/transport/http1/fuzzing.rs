//! Entry points for the HTTP/1.1 fuzz targets in `fuzz/`, compiled only under
//! `--cfg fuzzing`: the head parser, the chunked body decoder, and the whole connection
//! loop, each fed bytes from memory.

use std::collections::VecDeque;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::{Buf, Bytes, BytesMut};
use http_body_util::BodyExt;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::Instant;

use super::request_body::{Framing, Reader, RequestBody};
use crate::status::Status;
use crate::transport::body::Body;
use crate::transport::incoming::IncomingBody;
use crate::transport::limits::{BodyLimits, ConnectionLimits};
use crate::transport::shutdown;

/// Parses an HTTP/1.1 request head with the default limits: the head's length once it
/// is complete, `Ok(None)` while it is not, or the HTTP status it is refused with.
pub fn parse_head(raw: &[u8]) -> Result<Option<usize>, u16> {
    match super::server::parse_head(raw, &ConnectionLimits::default()) {
        Ok(head) => Ok(head.map(|(_, len)| len)),
        Err(refused) => Err(refused.0.as_u16()),
    }
}

/// What a chunked body decoded to.
#[derive(Debug)]
pub struct Decoded {
    /// The body's data, in order.
    pub data: Bytes,
    /// How many trailers ended it.
    pub trailers: usize,
}

/// Decodes a chunked request body arriving in `pieces`, within the given limits, then
/// skips what a handler left unread as the server does; at most `read_first` frames are
/// read before the rest is skipped.
pub async fn decode_chunked(
    pieces: Vec<Bytes>,
    max_chunk_line: usize,
    max_trailers: usize,
    max_trailer_bytes: usize,
    read_first: usize,
) -> Result<Decoded, Status> {
    let limits = BodyLimits {
        max_chunk_line,
        max_trailers,
        max_trailer_bytes,
    };
    let reader = Reader {
        io: Pieces::new(pieces),
        buf: BytesMut::new(),
    };
    let (mut body, returned) = RequestBody::new(reader, Framing::Chunked, limits);
    let mut data = BytesMut::new();
    let mut trailers = 0;
    for _ in 0..read_first {
        let Some(frame) = body.frame().await else {
            break;
        };
        let frame = frame?;
        if let Some(chunk) = frame.data_ref() {
            data.extend_from_slice(chunk);
        }
        trailers += frame.trailers_ref().map_or(0, |trailers| trailers.len());
    }
    drop(body);
    if let Ok(leftover) = returned.await {
        let _ = leftover.skip_rest(super::server::MAX_SKIPPED_BODY).await;
    }
    Ok(Decoded {
        data: data.freeze(),
        trailers,
    })
}

/// Serves one HTTP/1.1 connection whose client sends `pieces` and then closes, in front
/// of a route that echoes request bodies. Returns what the server wrote. Run it on a
/// runtime with paused time, so that the server's timeouts pass at once.
pub async fn serve(pieces: Vec<Bytes>) -> Vec<u8> {
    let (_trigger, shutdown) = shutdown::channel();
    let limits = ConnectionLimits::default();
    let io = Pieces::new(pieces);
    let written = io.written.clone();
    let deadline = Instant::now() + limits.header_read_timeout;
    let served = super::server::serve_connection(
        Box::new(io),
        Bytes::new(),
        echo,
        &limits,
        deadline,
        shutdown,
    );
    let _ = served.await;
    let written = written
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    written.clone()
}

/// A connection whose peer sends fixed pieces, then closes; what is written to it is kept.
struct Pieces {
    pieces: VecDeque<Bytes>,
    written: std::sync::Arc<std::sync::Mutex<Vec<u8>>>,
}

impl Pieces {
    fn new(pieces: Vec<Bytes>) -> Pieces {
        Pieces {
            pieces: pieces.into(),
            written: Default::default(),
        }
    }
}

impl AsyncRead for Pieces {
    fn poll_read(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if let Some(piece) = self.pieces.front_mut() {
            let len = piece.len().min(buf.remaining());
            buf.put_slice(&piece[..len]);
            piece.advance(len);
            if piece.is_empty() {
                self.pieces.pop_front();
            }
        }
        Poll::Ready(Ok(()))
    }
}

impl AsyncWrite for Pieces {
    fn poll_write(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let mut written = self
            .written
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        written.extend_from_slice(buf);
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

/// Answers every request with its own body.
async fn echo(request: http::Request<IncomingBody>) -> http::Response<Body> {
    let body = match request.into_body().collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(_) => Bytes::new(),
    };
    http::Response::new(Body::full(Some(body), None))
}
