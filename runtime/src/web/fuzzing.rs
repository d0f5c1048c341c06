//! Entry points for the fuzz targets of the web protocols' parsers: what a server reads
//! of a gRPC-Web or Connect request, and what a channel reads of their responses.

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::{Bytes, BytesMut};
use http::{HeaderMap, Method};
use http_body::{Body as HttpBody, Frame};

use super::base64::Base64Decode;
use super::connect::error::{read_end_stream, status_from_body};
use super::connect::get::{read_query, write_query};
use super::connect::{END_STREAM_FLAG, parse_timeout};
use super::frames::FrameAsTrailers;
use super::grpc_web::{TRAILER_FLAG, read_trailers};
use super::protocol::WebRequest;
use crate::codec::Format;
use crate::status::Status;

/// Which web protocol, if any, a request with this method and these headers speaks, as
/// a debug string.
pub fn detect(method: &Method, headers: &HeaderMap) -> Option<String> {
    WebRequest::detect(method, headers).map(|web| format!("{web:?}"))
}

/// A Connect GET request's query: its format, compression and message.
pub fn read_connect_query(query: &str) -> Result<(Option<Format>, Option<String>, Bytes), Status> {
    read_query(query).map(|get| (get.format, get.compression, get.message))
}

/// The query a channel writes for a Connect GET.
pub fn write_connect_query(format: Format, compression: Option<&str>, message: &[u8]) -> String {
    write_query(format, compression, message)
}

/// Parses `connect-timeout-ms`.
pub fn parse_connect_timeout(value: &http::HeaderValue) -> Option<std::time::Duration> {
    parse_timeout(value)
}

/// A `grpc-web-text` body arriving in `chunks`, decoded.
pub fn decode_text_body(chunks: Vec<Bytes>) -> Result<Bytes, Status> {
    let (data, _) = drain(Base64Decode::new(body_of(chunks)))?;
    Ok(data)
}

/// A gRPC-Web (or, with `connect`, a Connect stream's) response body arriving in
/// `chunks`: its data frames as they pass, and the trailers its last frame holds.
pub fn split_response(
    chunks: Vec<Bytes>,
    connect: bool,
) -> Result<(Bytes, Option<HeaderMap>), Status> {
    let body = body_of(chunks);
    match connect {
        true => drain(FrameAsTrailers::new(
            body,
            END_STREAM_FLAG,
            read_end_stream,
            None,
        )),
        false => drain(FrameAsTrailers::new(
            body,
            TRAILER_FLAG,
            read_trailers,
            None,
        )),
    }
}

/// The status of a Connect unary error response.
pub fn connect_error(http: http::StatusCode, body: &[u8]) -> Status {
    status_from_body(http, body)
}

/// A body of chunks that are all there.
struct Chunks(std::collections::VecDeque<Bytes>);

impl HttpBody for Chunks {
    type Data = Bytes;
    type Error = Status;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Status>>> {
        Poll::Ready(self.0.pop_front().map(|chunk| Ok(Frame::data(chunk))))
    }
}

fn body_of(chunks: Vec<Bytes>) -> Chunks {
    Chunks(chunks.into())
}

/// Reads a body that is always ready to its end: its data, and its trailers.
fn drain<B>(body: B) -> Result<(Bytes, Option<HeaderMap>), Status>
where
    B: HttpBody<Data = Bytes, Error = Status>,
{
    let mut body = std::pin::pin!(body);
    let mut context = Context::from_waker(std::task::Waker::noop());
    let (mut data, mut trailers) = (BytesMut::new(), None);
    loop {
        match Pin::new(&mut body).as_mut().poll_frame(&mut context) {
            Poll::Ready(None) => return Ok((data.freeze(), trailers)),
            Poll::Ready(Some(Err(status))) => return Err(status),
            Poll::Ready(Some(Ok(frame))) => match frame.into_data() {
                Ok(chunk) => data.extend_from_slice(&chunk),
                Err(frame) => trailers = frame.into_trailers().ok(),
            },
            Poll::Pending => unreachable!("the chunks are all there"),
        }
    }
}
