//! The body of an HTTP/1.1 request, read straight off the connection: length-delimited
//! or chunked. When it has been read to the end, or dropped before, it hands the
//! connection's reader back, with what is left of the body to skip before the next
//! request; after a malformed body or a read error, the connection is left to close.

use std::pin::Pin;
use std::task::{Context, Poll, ready};

use bytes::{Buf, Bytes, BytesMut};
use http::HeaderMap;
use http_body::{Body as _, Frame, SizeHint};
use tokio::io::{AsyncRead, ReadBuf};
use tokio::sync::oneshot;

use crate::status::Status;
use crate::transport::limits::BodyLimits;

/// How much is read from the socket at a time.
const READ_SIZE: usize = 16 * 1024;

/// The read side of a connection, with the bytes read past what has been consumed.
pub(crate) struct Reader<R> {
    pub(crate) io: R,
    pub(crate) buf: BytesMut,
}

impl<R: AsyncRead + Unpin> Reader<R> {
    /// Reads more bytes into the buffer; `Ok(0)` at end of stream.
    pub(crate) fn poll_fill(&mut self, cx: &mut Context<'_>) -> Poll<std::io::Result<usize>> {
        let start = self.buf.len();
        self.buf.resize(start + READ_SIZE, 0);
        let mut read_buf = ReadBuf::new(&mut self.buf[start..]);
        let result = Pin::new(&mut self.io).poll_read(cx, &mut read_buf);
        let filled = read_buf.filled().len();
        self.buf.truncate(start + filled);
        ready!(result)?;
        Poll::Ready(Ok(filled))
    }
}

/// How the request delimits its body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Framing {
    /// `content-length`, or no body at all (zero).
    Length(u64),
    /// `transfer-encoding: chunked`.
    Chunked,
}

#[derive(Debug)]
enum State {
    /// Bytes left in a length-delimited body.
    Length(u64),
    /// Expecting a chunk-size line.
    ChunkSize,
    /// Bytes left in the current chunk.
    ChunkData(u64),
    /// Expecting the CRLF that closes a chunk.
    ChunkEnd,
    /// Expecting trailer lines after the last chunk; `lines` and `bytes` read so far.
    Trailers { lines: usize, bytes: usize },
    /// The body has been read.
    Done,
}

/// An HTTP/1.1 request body.
pub struct RequestBody<R> {
    reader: Option<Reader<R>>,
    state: State,
    limits: BodyLimits,
    trailers: HeaderMap,
    /// Receives the reader back once the body has been read to its end.
    give_back: Option<oneshot::Sender<Leftover<R>>>,
}

/// The connection's reader, handed back by a request body, and the part of the body it
/// did not read.
pub(crate) struct Leftover<R> {
    reader: Reader<R>,
    state: State,
    limits: BodyLimits,
}

impl<R> Leftover<R> {
    /// Whether the whole body was read.
    pub(crate) fn is_done(&self) -> bool {
        matches!(self.state, State::Done)
    }

    /// Whether what is left of the body is known to be at most `limit` bytes.
    pub(crate) fn fits_skip(&self, limit: u64) -> bool {
        match self.state {
            State::Done => true,
            State::Length(left) => left <= limit,
            _ => false,
        }
    }

    pub(crate) fn into_reader(self) -> Reader<R> {
        self.reader
    }

    pub(crate) fn reader(&self) -> &Reader<R> {
        &self.reader
    }

    pub(crate) fn reader_mut(&mut self) -> &mut Reader<R> {
        &mut self.reader
    }
}

impl<R: AsyncRead + Unpin> Leftover<R> {
    /// The body again, to read the rest of; it gives nothing back.
    fn into_body(self) -> RequestBody<R> {
        RequestBody {
            reader: Some(self.reader),
            state: self.state,
            limits: self.limits,
            trailers: HeaderMap::new(),
            give_back: None,
        }
    }

    /// Skips what of the body is already buffered, up to `limit` bytes, without waiting
    /// for more; `None` if the body turns out broken.
    pub(crate) fn skip_buffered(self, limit: u64) -> Option<Leftover<R>> {
        let mut body = self.into_body();
        let mut skipped = 0u64;
        while !matches!(body.state, State::Done) && skipped <= limit {
            match body.step() {
                Ok(Some(frame)) => {
                    skipped += frame.data_ref().map_or(0, |data| data.len() as u64);
                }
                Ok(None) => break,
                Err(_) => return None,
            }
        }
        Some(Leftover {
            reader: body.reader.take()?,
            state: std::mem::replace(&mut body.state, State::Done),
            limits: body.limits,
        })
    }

    /// The reader, once the rest of the body has been skipped; `Err` if that is more
    /// than `limit` bytes (with the reader, mid-body) or the body turns out broken
    /// (`Err(None)`), and the connection must close.
    pub(crate) async fn skip_rest(self, limit: u64) -> Result<Reader<R>, Option<Reader<R>>> {
        let mut body = self.into_body();
        let mut skipped = 0u64;
        while !matches!(body.state, State::Done) {
            let frame = std::future::poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await;
            match frame {
                Some(Ok(frame)) => {
                    skipped += frame.data_ref().map_or(0, |data| data.len() as u64);
                    if skipped > limit {
                        return Err(body.reader.take());
                    }
                }
                Some(Err(_)) => return Err(None),
                None => break,
            }
        }
        body.reader.take().ok_or(None)
    }
}

impl<R> std::fmt::Debug for RequestBody<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RequestBody")
            .field("state", &self.state)
            .finish_non_exhaustive()
    }
}

impl<R> RequestBody<R> {
    /// A body read from `reader` as `framing` says, within `limits`; the reader comes
    /// back through the returned receiver when the body ends.
    pub(crate) fn new(
        reader: Reader<R>,
        framing: Framing,
        limits: BodyLimits,
    ) -> (RequestBody<R>, oneshot::Receiver<Leftover<R>>) {
        let (give_back, returned) = oneshot::channel();
        let state = match framing {
            Framing::Length(0) => State::Done,
            Framing::Length(len) => State::Length(len),
            Framing::Chunked => State::ChunkSize,
        };
        let mut body = RequestBody {
            reader: Some(reader),
            state,
            limits,
            trailers: HeaderMap::new(),
            give_back: Some(give_back),
        };
        if matches!(body.state, State::Done) {
            body.finish();
        }
        (body, returned)
    }

    /// Marks the body read, and gives the reader back if anyone waits for it.
    fn finish(&mut self) {
        self.state = State::Done;
        self.give_back_reader();
    }

    /// Sends the reader back with whatever of the body is left.
    fn give_back_reader(&mut self) {
        if let Some(give_back) = self.give_back.take() {
            if let Some(reader) = self.reader.take() {
                let state = std::mem::replace(&mut self.state, State::Done);
                let limits = self.limits;
                let _ = give_back.send(Leftover {
                    reader,
                    state,
                    limits,
                });
            }
        }
    }
}

impl<R: AsyncRead + Unpin> RequestBody<R> {
    /// Advances the state machine over the buffered bytes: the next frame, or `None`
    /// when more bytes are needed (or the body is done: it does not give the reader back). A loop, not recursion: a peer decides how many lines
    /// come in a row.
    fn step(&mut self) -> Result<Option<Frame<Bytes>>, Status> {
        loop {
            let Some(reader) = self.reader.as_mut() else {
                return Ok(None);
            };
            let buf = &mut reader.buf;
            match &mut self.state {
                State::Length(left) | State::ChunkData(left) => {
                    if buf.is_empty() {
                        return Ok(None);
                    }
                    let take = usize::try_from(*left).unwrap_or(usize::MAX).min(buf.len());
                    *left -= take as u64;
                    let data = buf.split_to(take).freeze();
                    if *left == 0 {
                        match self.state {
                            State::Length(_) => self.state = State::Done,
                            _ => self.state = State::ChunkEnd,
                        }
                    }
                    return Ok(Some(Frame::data(data)));
                }
                State::ChunkSize => {
                    let max = self.limits.max_chunk_line;
                    let line = take_line(buf, max).map_err(|error| {
                        error.into_status(format!("chunk-size line exceeds {max} bytes"))
                    })?;
                    let Some(line) = line else {
                        return Ok(None);
                    };
                    let size =
                        parse_chunk_size(&line).ok_or_else(|| malformed("bad chunk size"))?;
                    self.state = match size {
                        0 => State::Trailers { lines: 0, bytes: 0 },
                        size => State::ChunkData(size),
                    };
                }
                State::ChunkEnd => {
                    if buf.len() < 2 {
                        return Ok(None);
                    }
                    if &buf[..2] != b"\r\n" {
                        return Err(malformed("chunk not followed by CRLF"));
                    }
                    buf.advance(2);
                    self.state = State::ChunkSize;
                }
                State::Trailers { lines, bytes } => {
                    let budget = self.limits.max_trailer_bytes.saturating_sub(*bytes + 2);
                    let line = take_line(buf, budget).map_err(|error| {
                        let max = self.limits.max_trailer_bytes;
                        error.into_status(format!("request trailers exceed {max} bytes"))
                    })?;
                    let Some(line) = line else {
                        return Ok(None);
                    };
                    if line.is_empty() {
                        self.state = State::Done;
                        let trailers = std::mem::take(&mut self.trailers);
                        return Ok((!trailers.is_empty()).then(|| Frame::trailers(trailers)));
                    }
                    *lines += 1;
                    *bytes += line.len() + 2;
                    if *lines > self.limits.max_trailers {
                        let max = self.limits.max_trailers;
                        let text = format!("HTTP/1.1 request trailers exceed {max} lines");
                        return Err(Status::resource_exhausted(text));
                    }
                    let (name, value) =
                        parse_trailer(&line).ok_or_else(|| malformed("bad trailer"))?;
                    self.trailers.append(name, value);
                }
                State::Done => return Ok(None),
            }
        }
    }
}

/// Parses a chunk-size line: hex digits, optional whitespace, then optional
/// `;extensions`, as hyper accepts it.
fn parse_chunk_size(line: &[u8]) -> Option<u64> {
    let digits = line
        .iter()
        .position(|b| !b.is_ascii_hexdigit())
        .unwrap_or(line.len());
    let rest = trim_whitespace(&line[digits..]);
    if digits == 0 || !(rest.is_empty() || rest[0] == b';') {
        return None;
    }
    let mut size = 0u64;
    for &digit in &line[..digits] {
        let value = (digit as char).to_digit(16)?;
        size = size.checked_mul(16)?.checked_add(u64::from(value))?;
    }
    Some(size)
}

/// Why a line could not be taken.
enum LineError {
    /// It is longer than allowed.
    TooLong,
    /// It ends with a bare LF.
    BareLf,
}

impl LineError {
    /// The status a body fails with; `too_long` says which limit was passed.
    fn into_status(self, too_long: String) -> Status {
        match self {
            LineError::TooLong => Status::resource_exhausted(format!("HTTP/1.1 {too_long}")),
            LineError::BareLf => malformed("line not ended by CRLF"),
        }
    }
}

/// Takes one CRLF-terminated line, of at most `max` bytes, off the front of `buf`,
/// without the CRLF; `None` until the whole line has arrived. A bare LF is an error, as
/// it is to hyper.
fn take_line(buf: &mut BytesMut, max: usize) -> Result<Option<BytesMut>, LineError> {
    let window = &buf[..buf.len().min(max.saturating_add(2))];
    let Some(end) = window.iter().position(|&b| b == b'\n') else {
        return if buf.len() > max.saturating_add(1) {
            Err(LineError::TooLong)
        } else {
            Ok(None)
        };
    };
    if end == 0 || buf[end - 1] != b'\r' {
        return Err(LineError::BareLf);
    }
    let line = buf.split_to(end - 1);
    buf.advance(2);
    Ok(Some(line))
}

/// `bytes` without the optional whitespace (spaces and tabs) around it.
pub(super) fn trim_whitespace(bytes: &[u8]) -> &[u8] {
    let is_space = |b: &u8| *b == b' ' || *b == b'\t';
    let start = bytes
        .iter()
        .position(|b| !is_space(b))
        .unwrap_or(bytes.len());
    let end = bytes
        .iter()
        .rposition(|b| !is_space(b))
        .map_or(start, |at| at + 1);
    &bytes[start..end]
}

fn malformed(what: &str) -> Status {
    Status::internal(format!("malformed HTTP/1.1 request body: {what}"))
}

/// Parses a trailer line: a field name, a colon, and a value with optional whitespace
/// around it. Folded lines and whitespace before the colon are malformed (RFC 9112).
fn parse_trailer(line: &[u8]) -> Option<(http::HeaderName, http::HeaderValue)> {
    let colon = line.iter().position(|&b| b == b':')?;
    let name = http::HeaderName::from_bytes(&line[..colon]).ok()?;
    let value = http::HeaderValue::from_bytes(trim_whitespace(&line[colon + 1..])).ok()?;
    Some((name, value))
}

impl<R> Drop for RequestBody<R> {
    fn drop(&mut self) {
        // A handler that answers without reading the whole body leaves the rest to be
        // skipped, so the connection can still serve the next request.
        self.give_back_reader();
    }
}

impl<R: AsyncRead + Unpin> http_body::Body for RequestBody<R> {
    type Data = Bytes;
    type Error = Status;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Status>>> {
        let this = &mut *self;
        loop {
            match this.step() {
                // The reader goes back with the body's last frame, or at its end.
                Ok(Some(frame)) => {
                    if matches!(this.state, State::Done) {
                        this.finish();
                    }
                    return Poll::Ready(Some(Ok(frame)));
                }
                Ok(None) if matches!(this.state, State::Done) => {
                    this.finish();
                    return Poll::Ready(None);
                }
                Ok(None) => {}
                Err(status) => {
                    // A broken body leaves the connection unusable: it is not given back.
                    this.give_back = None;
                    this.state = State::Done;
                    return Poll::Ready(Some(Err(status)));
                }
            }
            let Some(reader) = this.reader.as_mut() else {
                return Poll::Ready(None);
            };
            match ready!(reader.poll_fill(cx)) {
                Ok(0) => {
                    this.give_back = None;
                    this.state = State::Done;
                    let status = Status::cancelled("the client closed the connection mid-request");
                    return Poll::Ready(Some(Err(status)));
                }
                Ok(_) => {}
                Err(error) => {
                    this.give_back = None;
                    this.state = State::Done;
                    let status = Status::cancelled(format!("error reading the request: {error}"));
                    return Poll::Ready(Some(Err(status)));
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        matches!(self.state, State::Done)
    }

    fn size_hint(&self) -> SizeHint {
        match self.state {
            State::Length(left) => SizeHint::with_exact(left),
            State::Done => SizeHint::with_exact(0),
            _ => SizeHint::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;

    async fn read_all(input: &'static [u8], framing: Framing) -> (Result<Vec<u8>, Status>, bool) {
        let reader = Reader {
            io: input,
            buf: BytesMut::new(),
        };
        let (body, returned) = RequestBody::new(reader, framing, BodyLimits::default());
        let collected = body.collect().await.map(|body| body.to_bytes().to_vec());
        let returned = returned
            .await
            .is_ok_and(|leftover| matches!(leftover.state, State::Done));
        (collected, returned)
    }

    #[tokio::test]
    async fn what_is_buffered_of_a_body_is_skipped_without_reading() {
        let leftover = |buffered: &'static [u8]| {
            let reader = Reader {
                // Nothing more would come: skipping must not read.
                io: &b""[..],
                buf: BytesMut::from(buffered),
            };
            let (body, mut returned) =
                RequestBody::new(reader, Framing::Chunked, BodyLimits::default());
            drop(body);
            returned.try_recv().unwrap()
        };
        let whole = leftover(b"5\r\nhello\r\n0\r\n\r\nNEXT").skip_buffered(1024);
        let whole = whole.unwrap();
        assert!(whole.is_done());
        assert_eq!(&whole.reader().buf[..], b"NEXT");
        let partial = leftover(b"5\r\nhello\r\n3\r\nab").skip_buffered(1024);
        assert!(!partial.unwrap().is_done());
        let over = leftover(b"5\r\nhello\r\n0\r\n\r\n").skip_buffered(2);
        assert!(!over.unwrap().is_done(), "stops past the limit");
        assert!(leftover(b"zz\r\n").skip_buffered(1024).is_none(), "broken");
    }

    #[tokio::test]
    async fn an_unread_body_is_skipped_so_the_connection_lives_on() {
        let reader = Reader {
            io: &b"5\r\nhello\r\n0\r\n\r\nNEXT"[..],
            buf: BytesMut::new(),
        };
        let (body, returned) = RequestBody::new(reader, Framing::Chunked, BodyLimits::default());
        drop(body);
        let reader = returned.await.unwrap().skip_rest(1024).await.ok().unwrap();
        assert!(reader.buf.is_empty() || reader.buf.starts_with(b"NEXT"));

        let reader = Reader {
            io: &b"400\r\n"[..],
            buf: BytesMut::new(),
        };
        let (body, returned) = RequestBody::new(reader, Framing::Chunked, BodyLimits::default());
        drop(body);
        assert!(
            returned.await.unwrap().skip_rest(16).await.is_err(),
            "over the limit"
        );
    }

    #[tokio::test]
    async fn chunked_bodies_decode_and_give_the_reader_back() {
        let (body, returned) = read_all(
            b"5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nx-t: 1\r\n\r\nNEXT",
            Framing::Chunked,
        )
        .await;
        assert_eq!(body.unwrap(), b"hello world");
        assert!(returned);
    }

    #[tokio::test]
    async fn trailer_sections_are_read_in_a_loop_within_their_limits() {
        let decode = |trailers: String, limits: BodyLimits| async move {
            let input = format!("1\r\na\r\n0\r\n{trailers}\r\n").into_bytes();
            let reader = Reader {
                io: &input[..],
                buf: BytesMut::new(),
            };
            let (body, _) = RequestBody::new(reader, Framing::Chunked, limits);
            body.collect()
                .await
                .map(|body| body.trailers().map_or(0, HeaderMap::len))
        };
        let lines = |count| "x: 1\r\n".repeat(count);
        // Far more lines than recursion could survive, with the limits lifted.
        let unlimited = BodyLimits {
            max_trailers: usize::MAX,
            max_trailer_bytes: usize::MAX,
            ..BodyLimits::default()
        };
        assert_eq!(decode(lines(100_000), unlimited).await.unwrap(), 100_000);
        let limits = BodyLimits::default();
        assert_eq!(decode(lines(100), limits).await.unwrap(), 100);
        let status = decode(lines(101), limits).await.unwrap_err();
        assert_eq!(status.code(), crate::status::Code::ResourceExhausted);
        let long = format!("x: {}\r\n", "v".repeat(limits.max_trailer_bytes));
        let status = decode(long, limits).await.unwrap_err();
        assert_eq!(status.code(), crate::status::Code::ResourceExhausted);
    }

    #[test]
    fn chunk_size_lines_parse_as_hyper_reads_them() {
        assert_eq!(parse_chunk_size(b"1f"), Some(31));
        assert_eq!(parse_chunk_size(b"00A \t;ext=1"), Some(10));
        assert_eq!(parse_chunk_size(b";ext"), None);
        assert_eq!(parse_chunk_size(b"5 5"), None);
        assert_eq!(parse_chunk_size(b"-5"), None);
        assert_eq!(parse_chunk_size(b"fffffffffffffffff"), None);
    }

    #[tokio::test]
    async fn length_bodies_decode() {
        let (body, returned) = read_all(b"abcdef", Framing::Length(4)).await;
        assert_eq!(body.unwrap(), b"abcd");
        assert!(returned);
    }

    #[tokio::test]
    async fn truncated_and_malformed_chunks_are_errors() {
        let (body, returned) = read_all(b"5\r\nhel", Framing::Chunked).await;
        assert_eq!(body.unwrap_err().code(), crate::status::Code::Cancelled);
        assert!(!returned);
        let (body, _) = read_all(b"zz\r\nhello\r\n", Framing::Chunked).await;
        assert_eq!(body.unwrap_err().code(), crate::status::Code::Internal);
        let (body, _) = read_all(b"5\r\nhelloXX0\r\n\r\n", Framing::Chunked).await;
        assert_eq!(body.unwrap_err().code(), crate::status::Code::Internal);
    }
}
