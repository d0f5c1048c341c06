//! The server side of an HTTP/1.1 connection, written for gRPC.
//!
//! hyper's HTTP/1.1 server writes only the trailers a response declares up front in a
//! `Trailer:` header, and only to clients that sent `TE: trailers`; gRPC decides trailing
//! metadata (and the status) at the very end of a call. So this module writes responses
//! itself: chunked, with every trailer the body ends with, always. Requests are parsed with
//! `httparse`, and their bodies read as the handler asks for them, so a bidi call streams
//! both ways at once.

use std::io;

use bytes::{Buf, BufMut, Bytes, BytesMut};
use http::header::{CONNECTION, CONTENT_LENGTH, EXPECT, TE, TRANSFER_ENCODING};
use http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use http_body::Body as _;
use http_body_util::BodyExt;
use tokio::io::{AsyncWrite, AsyncWriteExt, ReadHalf, WriteHalf};
use tokio::sync::oneshot;
use tokio::time::Instant;

use super::request_body::{Framing, Leftover, Reader, RequestBody, trim_whitespace};
use crate::status::Status;
use crate::transport::body::{Body, WithoutTrailers};
use crate::transport::incoming::IncomingBody;
use crate::transport::io::BoxedIo;
use crate::transport::limits::ConnectionLimits;
use crate::transport::sent::OnSent;
use crate::transport::service::HttpService;
use crate::transport::shutdown::{self, Shutdown};

/// Most of an unread request body skipped to keep a connection open; past that it closes.
pub(super) const MAX_SKIPPED_BODY: u64 = 64 * 1024;
/// How long skipping an unread request body may take.
const SKIP_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(1);
/// How long a connection closed under a request body it did not read waits for the
/// client to read the response: see `close_lingering`.
const LINGER_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(2);
/// Header lines parsed without allocating; a higher limit parses into the heap.
const INLINE_HEADERS: usize = crate::transport::limits::DEFAULT_HTTP1_MAX_HEADERS;

/// A request head that could not be served, and the status to answer it with.
#[derive(Debug)]
pub(super) struct BadRequest(pub(super) StatusCode, &'static str);

/// A parsed request head.
#[derive(Debug)]
pub(super) struct Head {
    request: http::request::Parts,
    framing: Framing,
    /// Whether the client accepts trailers (`TE: trailers`).
    accepts_trailers: bool,
    keep_alive: bool,
    /// Whether the client waits for `100 Continue` before sending its body.
    expects_continue: bool,
}

/// Serves HTTP/1.1 requests on a connection until the client closes it, a request asks
/// to close, something goes wrong, a limit or timeout of `limits` is passed, or the
/// drain begins between requests. The first request's head must be complete by
/// `first_head_deadline`.
pub(crate) async fn serve_connection<S: HttpService>(
    io: BoxedIo,
    initial: Bytes,
    service: S,
    limits: &ConnectionLimits,
    first_head_deadline: Instant,
    mut shutdown: Shutdown,
) -> io::Result<()> {
    let limits = *limits;
    let (read, write) = tokio::io::split(io);
    let mut reader = Reader {
        io: read,
        buf: BytesMut::from(&initial[..]),
    };
    let mut writer = tokio::io::BufWriter::new(write);
    let mut head_deadline = Some(first_head_deadline);
    loop {
        let head = tokio::select! {
            head = read_head(&mut reader, &limits, head_deadline.take()) => head?,
            () = shutdown.draining() => return Ok(()),
        };
        let head = match head {
            Ok(Some(head)) => head,
            Ok(None) => return Ok(()),
            Err(BadRequest(status, text)) => {
                write_plain(&mut writer, status, text).await?;
                return Ok(());
            }
        };
        if head.expects_continue && head.framing != Framing::Length(0) {
            writer.write_all(b"HTTP/1.1 100 Continue\r\n\r\n").await?;
            writer.flush().await?;
        }
        let (body, returned) = RequestBody::new(reader, head.framing, limits.body());
        let request = http::Request::from_parts(head.request, IncomingBody::http1(body));
        let mut lent = LentReader::Lent(returned);
        // The handler is dropped if the client hangs up before the response is written,
        // or when the drain deadline passes: the call then ends with the cut status.
        let mut response = {
            let mut call = std::pin::pin!(service.call(request));
            let answered = tokio::select! {
                biased;
                response = &mut call => Some(response),
                () = shutdown.closing() => None,
                () = lent.hang_up() => return Ok(()),
            };
            answered.unwrap_or_else(|| S::cut_response(&call))
        };
        // Decided before the head is written, so the client learns it there and does
        // not send its next request into a connection that is closing: a drain that
        // began while the call ran, or a body the handler gave up with more left than
        // the server skips.
        let closing = !head.keep_alive || shutdown.is_draining() || lent.body_unskippable();
        if closing {
            let close = HeaderValue::from_static("close");
            response.headers_mut().insert(CONNECTION, close);
        }
        let buffer_limit = (!head.accepts_trailers).then_some(limits.http1_max_buffered_response);
        tokio::select! {
            written = write_response(&mut writer, response, buffer_limit, &mut shutdown) => written?,
            () = lent.hang_up() => return Ok(()),
        }
        // The reader comes back only if the handler read the body to its end.
        reader = match lent.take(closing).await {
            Ok(reader) => reader,
            Err(None) => return writer.shutdown().await,
            Err(Some(unread)) => return close_lingering(writer, unread).await,
        };
    }
}

/// The connection's reader while a request body has it.
enum LentReader {
    /// The body still reads from it.
    Lent(oneshot::Receiver<Leftover<ReadHalf<BoxedIo>>>),
    /// The body handed it back, possibly with part of itself left unread.
    Back(Leftover<ReadHalf<BoxedIo>>),
    /// The body broke: the connection cannot be reused.
    Lost,
}

impl LentReader {
    /// Completes when the client closes the connection while its call runs. Bytes of a
    /// pipelined next request stay buffered, and end the watch.
    async fn hang_up(&mut self) {
        loop {
            match self {
                LentReader::Lent(returned) => {
                    *self = match returned.await {
                        Ok(leftover) => LentReader::Back(leftover),
                        Err(_) => LentReader::Lost,
                    };
                }
                LentReader::Back(leftover)
                    if leftover.is_done() && leftover.reader().buf.is_empty() =>
                {
                    let reader = leftover.reader_mut();
                    match std::future::poll_fn(|cx| reader.poll_fill(cx)).await {
                        Ok(0) | Err(_) => return,
                        Ok(_) => {}
                    }
                }
                LentReader::Back(_) | LentReader::Lost => std::future::pending().await,
            }
        }
    }

    /// Whether the handler has given the body up with more left than is skipped to keep
    /// the connection (or broken): the connection then closes after the response.
    fn body_unskippable(&mut self) -> bool {
        if let LentReader::Lent(returned) = self {
            match returned.try_recv() {
                Ok(leftover) => *self = LentReader::Back(leftover),
                Err(oneshot::error::TryRecvError::Empty) => return false,
                Err(oneshot::error::TryRecvError::Closed) => *self = LentReader::Lost,
            }
        }
        *self = match std::mem::replace(self, LentReader::Lost) {
            // A chunked rest may be here already: whole, it need not close anything.
            LentReader::Back(leftover) if !leftover.fits_skip(MAX_SKIPPED_BODY) => leftover
                .skip_buffered(MAX_SKIPPED_BODY)
                .map_or(LentReader::Lost, LentReader::Back),
            unchanged => unchanged,
        };
        match self {
            LentReader::Lent(_) => false,
            LentReader::Back(leftover) => !leftover.fits_skip(MAX_SKIPPED_BODY),
            LentReader::Lost => true,
        }
    }

    /// The reader, ready for the next request: once the body has given it back and what
    /// it left unread has been skipped, unless the connection is `closing`. `Err` when
    /// the connection must close, with the reader if the client may still be sending
    /// the body.
    async fn take(
        self,
        closing: bool,
    ) -> Result<Reader<ReadHalf<BoxedIo>>, Option<Reader<ReadHalf<BoxedIo>>>> {
        let leftover = match self {
            LentReader::Lent(returned) => returned.await.map_err(|_| None)?,
            LentReader::Back(leftover) => leftover,
            LentReader::Lost => return Err(None),
        };
        if closing {
            let unread = !leftover.is_done();
            return Err(unread.then(|| leftover.into_reader()));
        }
        let skip = leftover.skip_rest(MAX_SKIPPED_BODY);
        tokio::time::timeout(SKIP_TIMEOUT, skip)
            .await
            .unwrap_or(Err(None))
    }
}

/// Closes a connection whose client may still be sending a request body that was
/// answered early (refused, too large): the response is followed by the end of the
/// write side, then what the client sends is read and dropped for up to
/// `LINGER_TIMEOUT`, or until it closes. Closing at once, with its bytes unread, would
/// reset the connection, and the client could lose the response it has not read yet
/// (RFC 9112 §9.6).
async fn close_lingering(
    mut writer: tokio::io::BufWriter<WriteHalf<BoxedIo>>,
    mut unread: Reader<ReadHalf<BoxedIo>>,
) -> io::Result<()> {
    writer.shutdown().await?;
    let drain = async {
        loop {
            unread.buf.clear();
            match std::future::poll_fn(|cx| unread.poll_fill(cx)).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    };
    let _ = tokio::time::timeout(LINGER_TIMEOUT, drain).await;
    Ok(())
}

/// Reads a request head within `limits`. `Ok(None)` when the client closed the
/// connection between requests, or left it idle too long. Without a `deadline` (every
/// request but the first), the head's time starts with its first byte.
async fn read_head(
    reader: &mut Reader<ReadHalf<BoxedIo>>,
    limits: &ConnectionLimits,
    deadline: Option<Instant>,
) -> io::Result<Result<Option<Head>, BadRequest>> {
    let deadline = match deadline {
        Some(deadline) => deadline,
        None => {
            if reader.buf.is_empty() {
                let next = std::future::poll_fn(|cx| reader.poll_fill(cx));
                match tokio::time::timeout(limits.http1_idle_timeout, next).await {
                    Ok(Ok(read)) if read > 0 => {}
                    Ok(Err(error)) => return Err(error),
                    // Closed, or idle too long.
                    _ => return Ok(Ok(None)),
                }
            }
            Instant::now() + limits.header_read_timeout
        }
    };
    let max_size = limits.max_header_list_size as usize;
    loop {
        // Parsed again as bytes arrive, as hyper does: garbage is refused at once, and
        // the size limit bounds the work.
        if let Some(head) = parse_head(&reader.buf, limits).transpose() {
            return Ok(head.map(|(head, len)| {
                reader.buf.advance(len);
                Some(head)
            }));
        }
        if reader.buf.len() > max_size {
            let too_large = BadRequest(
                StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
                "request head too large",
            );
            return Ok(Err(too_large));
        }
        let next = std::future::poll_fn(|cx| reader.poll_fill(cx));
        let Ok(read) = tokio::time::timeout_at(deadline, next).await else {
            let late = BadRequest(
                StatusCode::REQUEST_TIMEOUT,
                "request head not received in time",
            );
            return Ok(Err(late));
        };
        if read? == 0 {
            if reader.buf.iter().all(u8::is_ascii_whitespace) {
                return Ok(Ok(None));
            }
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
    }
}

/// Parses a request head at the start of `raw`: the head and its length, `None` while
/// it is incomplete, or why it cannot be served.
pub(super) fn parse_head(
    raw: &[u8],
    limits: &ConnectionLimits,
) -> Result<Option<(Head, usize)>, BadRequest> {
    let bad = |text| BadRequest(StatusCode::BAD_REQUEST, text);
    let too_large = |text| BadRequest(StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE, text);
    let mut inline = [httparse::EMPTY_HEADER; INLINE_HEADERS];
    let mut heap = Vec::new();
    let headers = if limits.http1_max_headers <= INLINE_HEADERS {
        &mut inline[..limits.http1_max_headers]
    } else {
        heap.resize(limits.http1_max_headers, httparse::EMPTY_HEADER);
        &mut heap[..]
    };
    let mut parsed = httparse::Request::new(headers);
    let len = match parsed.parse(raw) {
        Ok(httparse::Status::Complete(len)) => len,
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(httparse::Error::TooManyHeaders) => return Err(too_large("too many headers")),
        Err(_) => return Err(bad("malformed request head")),
    };
    if len > limits.max_header_list_size as usize {
        return Err(too_large("request head too large"));
    }
    if parsed.version != Some(1) {
        return Err(BadRequest(
            StatusCode::HTTP_VERSION_NOT_SUPPORTED,
            "HTTP/1.1 is required",
        ));
    }
    let method = Method::from_bytes(parsed.method.unwrap_or_default().as_bytes())
        .map_err(|_| bad("invalid method"))?;
    let uri: http::Uri = parsed
        .path
        .unwrap_or_default()
        .parse()
        .map_err(|_| bad("invalid request target"))?;
    let mut header_map = HeaderMap::with_capacity(parsed.headers.len());
    for header in parsed.headers.iter() {
        let name = HeaderName::from_bytes(header.name.as_bytes())
            .map_err(|_| bad("invalid header name"))?;
        let value =
            HeaderValue::from_bytes(header.value).map_err(|_| bad("invalid header value"))?;
        header_map.append(name, value);
    }
    let framing = framing(&header_map).map_err(bad)?;
    let accepts_trailers = header_map
        .get_all(TE)
        .iter()
        .any(|value| has_token(value, "trailers"));
    let keep_alive = !header_map
        .get_all(CONNECTION)
        .iter()
        .any(|value| has_token(value, "close"));
    let expects_continue = header_map
        .get(EXPECT)
        .is_some_and(|value| value.as_bytes().eq_ignore_ascii_case(b"100-continue"));
    let mut request = http::Request::new(());
    *request.method_mut() = method;
    *request.uri_mut() = uri;
    *request.version_mut() = http::Version::HTTP_11;
    *request.headers_mut() = header_map;
    let head = Head {
        request: request.into_parts().0,
        framing,
        accepts_trailers,
        keep_alive,
        expects_continue,
    };
    Ok(Some((head, len)))
}

/// Whether a comma-separated header value lists `token` (case-insensitively).
fn has_token(value: &HeaderValue, token: &str) -> bool {
    value
        .as_bytes()
        .split(|&b| b == b',')
        .any(|part| trim_whitespace(part).eq_ignore_ascii_case(token.as_bytes()))
}

/// The body framing of a request (RFC 9112, section 6): chunked, a content length, or
/// none. Anything that could be read two ways is refused: both framings at once,
/// differing lengths, a length that is not all digits, and any transfer coding but a
/// single `chunked` (stricter than hyper, which also accepts `gzip, chunked`).
fn framing(headers: &HeaderMap) -> Result<Framing, &'static str> {
    if headers.contains_key(TRANSFER_ENCODING) {
        if headers.contains_key(CONTENT_LENGTH) {
            return Err("both content-length and transfer-encoding");
        }
        let mut codings = headers
            .get_all(TRANSFER_ENCODING)
            .iter()
            .flat_map(|value| value.as_bytes().split(|&b| b == b','))
            .map(trim_whitespace);
        return match (codings.next(), codings.next()) {
            (Some(coding), None) if coding.eq_ignore_ascii_case(b"chunked") => Ok(Framing::Chunked),
            _ => Err("unsupported transfer-encoding: only chunked is accepted"),
        };
    }
    let mut length = None;
    for value in headers.get_all(CONTENT_LENGTH) {
        let parsed = parse_digits(value.as_bytes()).ok_or("invalid content-length")?;
        if length.is_some_and(|length| length != parsed) {
            return Err("differing content-length values");
        }
        length = Some(parsed);
    }
    Ok(Framing::Length(length.unwrap_or(0)))
}

/// A decimal number of ASCII digits only: no sign, no whitespace, no overflow.
fn parse_digits(digits: &[u8]) -> Option<u64> {
    if digits.is_empty() {
        return None;
    }
    digits.iter().try_fold(0u64, |number, &digit| {
        let digit = char::from(digit).to_digit(10)?;
        number.checked_mul(10)?.checked_add(u64::from(digit))
    })
}

/// Writes a response: chunked, ending with the body's trailers, when the client accepts
/// trailers (`buffer_limit` is `None`); otherwise buffered up to `buffer_limit` bytes,
/// with the trailers folded into the headers and a content length, so the status is
/// never lost. If the drain deadline passes first, the body is [cut](Body::cut): it ends
/// itself, or is dropped and the response ends with the cut status instead.
async fn write_response<W: AsyncWrite + Unpin>(
    writer: &mut W,
    response: http::Response<Body>,
    buffer_limit: Option<usize>,
    shutdown: &mut Shutdown,
) -> io::Result<()> {
    let (mut parts, body) = response.into_parts();
    let on_sent = OnSent::take(&mut parts.extensions);
    let buffer_limit = match parts.extensions.remove::<WithoutTrailers>() {
        Some(WithoutTrailers) => None,
        None => buffer_limit,
    };
    // A body of known size (a Trailers-Only or plain HTTP answer) has nothing to stream.
    let exact_size = body.size_hint().exact();
    let fold_limit = match (buffer_limit, exact_size) {
        (Some(limit), _) => Some(limit),
        (None, Some(size)) => Some(usize::try_from(size).unwrap_or(usize::MAX)),
        (None, None) => None,
    };
    // The header block that ends the response: folded headers, or trailers.
    let ended = match fold_limit {
        Some(limit) => write_folded(writer, parts, body, limit, shutdown).await?,
        None => {
            write_head(writer, parts.status, &parts.headers, None).await?;
            write_chunks(writer, body, shutdown).await?
        }
    };
    if let Some(on_sent) = on_sent {
        on_sent.sent(&ended);
    }
    Ok(())
}

/// Writes a body in chunks, then the trailers that end it, which it returns: the body's,
/// or the cut status's if the drain deadline passes first (unless the body ends itself).
async fn write_chunks<W: AsyncWrite + Unpin>(
    writer: &mut W,
    mut body: Body,
    shutdown: &mut Shutdown,
) -> io::Result<HeaderMap> {
    let mut cut = false;
    loop {
        // Frames that are ready go out in one write; the writer is flushed only when the
        // body has to wait, so a unary response costs one write, and a stream's messages
        // still leave as soon as they are produced.
        let frame = match poll_now(&mut body) {
            Some(frame) => frame,
            None if cut => body.frame().await,
            None => {
                writer.flush().await?;
                tokio::select! {
                    biased;
                    frame = body.frame() => frame,
                    () = shutdown.closing() => {
                        cut = true;
                        match body.cut(shutdown::cut_trailers()) {
                            Some(trailers) => return write_last_chunk(writer, trailers).await,
                            None => continue,
                        }
                    }
                }
            }
        };
        match frame {
            Some(Ok(frame)) => match frame.into_data() {
                Ok(data) if data.is_empty() => {}
                Ok(data) => {
                    writer
                        .write_all(format!("{:x}\r\n", data.len()).as_bytes())
                        .await?;
                    writer.write_all(&data).await?;
                    writer.write_all(b"\r\n").await?;
                }
                Err(frame) => {
                    let trailers = frame.into_trailers().unwrap_or_default();
                    return write_last_chunk(writer, trailers).await;
                }
            },
            None => return write_last_chunk(writer, HeaderMap::new()).await,
            // The response cannot be completed: the connection must close.
            Some(Err(status)) => return Err(io::Error::other(status)),
        }
    }
}

/// The body's next frame if it is ready now, without waiting.
fn poll_now(body: &mut Body) -> Option<Option<Result<http_body::Frame<Bytes>, Status>>> {
    let waker = std::task::Waker::noop();
    let mut cx = std::task::Context::from_waker(waker);
    match std::pin::Pin::new(body).poll_frame(&mut cx) {
        std::task::Poll::Ready(frame) => Some(frame),
        std::task::Poll::Pending => None,
    }
}

/// Writes the zero-length chunk, the trailers and the closing blank line; returns the
/// trailers.
async fn write_last_chunk<W: AsyncWrite + Unpin>(
    writer: &mut W,
    trailers: HeaderMap,
) -> io::Result<HeaderMap> {
    let mut out = BytesMut::from(&b"0\r\n"[..]);
    put_headers(&mut out, &trailers);
    out.put_slice(b"\r\n");
    writer.write_all(&out).await?;
    writer.flush().await?;
    Ok(trailers)
}

/// Buffers the whole body, then writes it with its trailers folded into the headers,
/// which it returns. A body longer than `limit` is dropped, and the call fails with
/// `RESOURCE_EXHAUSTED`; one still buffering when the drain deadline passes, with the
/// cut status.
async fn write_folded<W: AsyncWrite + Unpin>(
    writer: &mut W,
    mut parts: http::response::Parts,
    body: Body,
    limit: usize,
    shutdown: &mut Shutdown,
) -> io::Result<HeaderMap> {
    let collected = tokio::select! {
        biased;
        collected = http_body_util::Limited::new(body, limit).collect() => Some(collected),
        () = shutdown.closing() => None,
    };
    let Some(collected) = collected else {
        shutdown::cut_status().write_to(&mut parts.headers);
        write_head(writer, parts.status, &parts.headers, Some(0)).await?;
        writer.flush().await?;
        return Ok(parts.headers);
    };
    let data = match collected {
        Ok(collected) => {
            for (name, value) in collected.trailers().into_iter().flatten() {
                parts.headers.append(name, value.clone());
            }
            collected.to_bytes()
        }
        Err(error) if error.is::<http_body_util::LengthLimitError>() => {
            let message = format!(
                "the response exceeds {limit} bytes, the most buffered for a client \
                 that does not send `te: trailers`"
            );
            Status::resource_exhausted(message).write_to(&mut parts.headers);
            Bytes::new()
        }
        Err(error) => return Err(io::Error::other(error)),
    };
    write_head(
        writer,
        parts.status,
        &parts.headers,
        Some(data.len() as u64),
    )
    .await?;
    writer.write_all(&data).await?;
    writer.flush().await?;
    Ok(parts.headers)
}

/// Writes the status line and headers, with `content-length` or chunked framing.
async fn write_head<W: AsyncWrite + Unpin>(
    writer: &mut W,
    status: StatusCode,
    headers: &HeaderMap,
    content_length: Option<u64>,
) -> io::Result<()> {
    let mut out = BytesMut::with_capacity(256);
    out.put_slice(b"HTTP/1.1 ");
    out.put_slice(status.as_str().as_bytes());
    out.put_u8(b' ');
    out.put_slice(status.canonical_reason().unwrap_or("").as_bytes());
    out.put_slice(b"\r\n");
    put_headers(&mut out, headers);
    match content_length {
        Some(len) => out.put_slice(format!("content-length: {len}\r\n").as_bytes()),
        None => out.put_slice(b"transfer-encoding: chunked\r\n"),
    }
    out.put_slice(b"\r\n");
    writer.write_all(&out).await
}

/// Appends `name: value` lines, leaving out the framing headers this module owns.
fn put_headers(out: &mut BytesMut, headers: &HeaderMap) {
    for (name, value) in headers {
        if name == CONTENT_LENGTH || name == TRANSFER_ENCODING {
            continue;
        }
        out.put_slice(name.as_str().as_bytes());
        out.put_slice(b": ");
        out.put_slice(value.as_bytes());
        out.put_slice(b"\r\n");
    }
}

/// Answers a request that could not be parsed, before closing the connection.
async fn write_plain(
    writer: &mut tokio::io::BufWriter<WriteHalf<BoxedIo>>,
    status: StatusCode,
    text: &str,
) -> io::Result<()> {
    let mut headers = HeaderMap::new();
    headers.insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain"),
    );
    headers.insert(CONNECTION, HeaderValue::from_static("close"));
    write_head(writer, status, &headers, Some(text.len() as u64)).await?;
    writer.write_all(text.as_bytes()).await?;
    writer.flush().await?;
    writer.shutdown().await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heads_parse_with_framing_and_trailer_support() {
        let raw = b"POST /a.B/C HTTP/1.1\r\nhost: x\r\ncontent-type: application/grpc\r\nte: trailers\r\ntransfer-encoding: chunked\r\n\r\n";
        let (head, len) = parse_head(raw, &ConnectionLimits::default())
            .unwrap()
            .unwrap();
        assert_eq!(len, raw.len());
        assert_eq!(head.request.uri.path(), "/a.B/C");
        assert_eq!(head.framing, Framing::Chunked);
        assert!(head.accepts_trailers);
        assert!(head.keep_alive);
    }

    #[test]
    fn bad_heads_get_the_right_status() {
        let limits = ConnectionLimits::default();
        let status = |raw: &[u8]| {
            parse_head(raw, &limits)
                .err()
                .map(|BadRequest(status, _)| status)
        };
        assert_eq!(status(b"garbage\r\n\r\n"), Some(StatusCode::BAD_REQUEST));
        assert_eq!(
            status(b"POST / HTTP/1.0\r\n\r\n"),
            Some(StatusCode::HTTP_VERSION_NOT_SUPPORTED)
        );
        assert_eq!(
            status(b"POST / HTTP/1.1\r\ntransfer-encoding: gzip\r\n\r\n"),
            Some(StatusCode::BAD_REQUEST)
        );
        assert_eq!(
            status(b"POST / HTTP/1.1\r\ncontent-length: x\r\n\r\n"),
            Some(StatusCode::BAD_REQUEST)
        );
    }
}
