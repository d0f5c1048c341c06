//! Bodies that carry a response's trailers as its last length-prefixed frame, as gRPC-Web
//! and Connect streams do, and that turn such a frame back into trailers.

use std::pin::Pin;
use std::task::{Context, Poll, ready};

use bytes::{Buf, BufMut, Bytes, BytesMut};
use http::HeaderMap;
use http_body::{Body as HttpBody, Frame};

use crate::codec::{DEFAULT_MAX_RECEIVE_SIZE, Encoding};
use crate::status::Status;
use crate::transport::body::EndsItself;
use crate::transport::sent::OnSent;

/// Size of a frame header: flags and length.
const HEADER_SIZE: usize = 5;

/// Most entries a response's last frame may hold. An `http::HeaderMap` panics past
/// 24,576 names, and the trailers are copied and added to after they are read: a last
/// frame of 4 MiB could otherwise hold far more.
pub(super) const MAX_TRAILER_ENTRIES: usize = 8192;

/// A frame of `flags` holding `payload`.
pub(super) fn frame(flags: u8, payload: &[u8]) -> Bytes {
    let len = u32::try_from(payload.len()).unwrap_or(u32::MAX);
    let mut frame = BytesMut::with_capacity(HEADER_SIZE + payload.len());
    frame.put_slice(&header(flags, len));
    frame.put_slice(payload);
    frame.freeze()
}

/// The header of a frame of `flags` and `len` bytes.
fn header(flags: u8, len: u32) -> [u8; HEADER_SIZE] {
    let [a, b, c, d] = len.to_be_bytes();
    [flags, a, b, c, d]
}

pin_project_lite::pin_project! {
    /// The data of a gRPC response body as it is, then its trailers as one last frame
    /// that `last_frame` writes; the trailers are reported to `on_sent` as they go.
    pub(super) struct TrailersAsFrame<B> {
        #[pin]
        inner: B,
        last_frame: fn(&HeaderMap) -> Bytes,
        // Trailers known before the body: those of a Trailers-Only response, or the cut's.
        pending: Option<HeaderMap>,
        on_sent: Option<OnSent>,
        // Frame boundaries in the data, so that a cut does not land inside a message.
        scan: Scan,
        done: bool,
    }
}

impl<B> TrailersAsFrame<B> {
    pub(super) fn new(
        inner: B,
        last_frame: fn(&HeaderMap) -> Bytes,
        pending: Option<HeaderMap>,
        on_sent: Option<OnSent>,
    ) -> Self {
        TrailersAsFrame {
            inner,
            last_frame,
            pending,
            on_sent,
            scan: Scan::Header { seen: 0, len: 0 },
            done: false,
        }
    }
}

impl<B: HttpBody<Data = Bytes, Error = Status>> HttpBody for TrailersAsFrame<B> {
    type Data = Bytes;
    type Error = Status;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Status>>> {
        let this = self.project();
        if *this.done {
            return Poll::Ready(None);
        }
        let trailers = match this.pending.take() {
            // Cut inside a message, which the last frame cannot follow: the stream breaks.
            Some(_) if !this.scan.at_boundary() => {
                *this.done = true;
                let broken = Status::unavailable("the stream was cut inside a message");
                return Poll::Ready(Some(Err(broken)));
            }
            Some(trailers) => trailers,
            None => match ready!(this.inner.poll_frame(cx)) {
                Some(Ok(frame)) => match frame.into_trailers() {
                    Ok(trailers) => trailers,
                    Err(data) => {
                        if let Some(data) = data.data_ref() {
                            this.scan.find_last(data, 0);
                        }
                        return Poll::Ready(Some(Ok(data)));
                    }
                },
                Some(Err(status)) => return Poll::Ready(Some(Err(status))),
                // A body that ends without trailers still ends with the last frame.
                None => HeaderMap::new(),
            },
        };
        *this.done = true;
        let last = (this.last_frame)(&trailers);
        if let Some(on_sent) = this.on_sent.take() {
            on_sent.sent(&trailers);
        }
        Poll::Ready(Some(Ok(Frame::data(last))))
    }

    fn is_end_stream(&self) -> bool {
        self.done
    }
}

impl<B: HttpBody<Data = Bytes, Error = Status> + Send> EndsItself for TrailersAsFrame<B> {
    fn cut(self: Pin<&mut Self>, trailers: HeaderMap) {
        // A Trailers-Only answer keeps its own status.
        let pending = self.project().pending;
        if pending.is_none() {
            *pending = Some(trailers);
        }
    }
}

pin_project_lite::pin_project! {
    /// A body of known length as one frame: `header` (its flags and length), then the
    /// body as it arrives. A Connect unary request becomes a gRPC one this way without
    /// being read first: the service's limit and the call's deadline apply to its read.
    pub(super) struct Prefixed<B> {
        #[pin]
        inner: B,
        header: Option<Bytes>,
    }
}

impl<B> Prefixed<B> {
    pub(super) fn new(inner: B, flags: u8, len: u32) -> Self {
        Prefixed {
            inner,
            header: Some(Bytes::copy_from_slice(&header(flags, len))),
        }
    }
}

impl<B: HttpBody<Data = Bytes, Error = Status>> HttpBody for Prefixed<B> {
    type Data = Bytes;
    type Error = Status;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Status>>> {
        let this = self.project();
        match this.header.take() {
            Some(header) => Poll::Ready(Some(Ok(Frame::data(header)))),
            None => this.inner.poll_frame(cx),
        }
    }

    fn is_end_stream(&self) -> bool {
        self.header.is_none() && self.inner.is_end_stream()
    }
}

/// Reads the trailers out of the payload of a last frame.
pub(super) type ReadTrailers = fn(&[u8]) -> Result<HeaderMap, Status>;

pin_project_lite::pin_project! {
    /// The data frames of a web response as they are, until the frame whose flags have
    /// `trailer_flag`: that one is read by `read_trailers` and ends the body as trailers.
    pub(super) struct FrameAsTrailers<B> {
        #[pin]
        inner: B,
        trailer_flag: u8,
        read_trailers: ReadTrailers,
        // Decompresses a compressed last frame.
        encoding: Option<Encoding>,
        scan: Scan,
        // The last frame as it arrives, header included.
        last: BytesMut,
        // Ends a body that turns out empty.
        fallback: Option<HeaderMap>,
        done: bool,
    }
}

/// Where the scan of the data stands.
#[derive(Debug, Clone, Copy)]
enum Scan {
    /// Inside a frame header, `seen` bytes of it read, the length so far in `len`.
    Header { seen: usize, len: usize },
    /// Inside a data frame's payload, with `left` bytes to go.
    Payload { left: usize },
    /// Inside the last frame.
    Last,
}

impl<B> FrameAsTrailers<B> {
    pub(super) fn new(
        inner: B,
        trailer_flag: u8,
        read_trailers: ReadTrailers,
        encoding: Option<Encoding>,
    ) -> Self {
        FrameAsTrailers {
            inner,
            trailer_flag,
            read_trailers,
            encoding,
            scan: Scan::Header { seen: 0, len: 0 },
            last: BytesMut::new(),
            fallback: None,
            done: false,
        }
    }

    /// Ends the body with `trailers` if it turns out empty: those of a gRPC-Web
    /// Trailers-Only response, sent in its headers.
    pub(super) fn or_trailers(self, trailers: Option<HeaderMap>) -> Self {
        FrameAsTrailers {
            fallback: trailers,
            ..self
        }
    }
}

impl Scan {
    /// Whether the data so far ends at a frame boundary.
    fn at_boundary(&self) -> bool {
        matches!(self, Scan::Header { seen: 0, .. })
    }

    /// Follows frame boundaries through `chunk`; returns where the last frame starts in
    /// it, if it does (never, with a `trailer_flag` of 0).
    fn find_last(&mut self, chunk: &[u8], trailer_flag: u8) -> Option<usize> {
        let mut at = 0;
        while at < chunk.len() {
            match self {
                Scan::Header { seen: 0, .. } if chunk[at] & trailer_flag != 0 => {
                    *self = Scan::Last;
                    return Some(at);
                }
                Scan::Header { seen, len } => {
                    if *seen > 0 {
                        *len = (*len << 8) | usize::from(chunk[at]);
                    }
                    *seen += 1;
                    at += 1;
                    if *seen == HEADER_SIZE {
                        *self = Scan::Payload { left: *len };
                    }
                }
                Scan::Payload { left } => {
                    let step = (*left).min(chunk.len() - at);
                    *left -= step;
                    at += step;
                }
                Scan::Last => return Some(at),
            }
            if let Scan::Payload { left: 0 } = self {
                *self = Scan::Header { seen: 0, len: 0 };
            }
        }
        None
    }
}

impl<B: HttpBody<Data = Bytes, Error = Status>> HttpBody for FrameAsTrailers<B> {
    type Data = Bytes;
    type Error = Status;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Status>>> {
        let mut this = self.project();
        loop {
            if *this.done {
                return Poll::Ready(None);
            }
            if let Scan::Last = this.scan {
                let read = read_last(this.last, *this.encoding, *this.read_trailers);
                match read.transpose() {
                    None => {}
                    Some(trailers) => {
                        *this.done = true;
                        return Poll::Ready(Some(trailers.map(Frame::trailers)));
                    }
                }
            }
            let mut data = match ready!(this.inner.as_mut().poll_frame(cx)) {
                Some(Ok(frame)) => match frame.into_data() {
                    Ok(data) => data,
                    // HTTP trailers (gRPC-Web over HTTP/2 may have them) end it as they are.
                    Err(trailers) => {
                        *this.done = true;
                        return Poll::Ready(Some(Ok(trailers)));
                    }
                },
                Some(Err(status)) => return Poll::Ready(Some(Err(status))),
                None => {
                    *this.done = true;
                    if this.last.is_empty() {
                        let fallback = this.fallback.take();
                        return Poll::Ready(fallback.map(|trailers| Ok(Frame::trailers(trailers))));
                    }
                    let error = Status::internal("the response ended inside its last frame");
                    return Poll::Ready(Some(Err(error)));
                }
            };
            if !data.is_empty() {
                // A body with data or trailers of its own: the headers' are not its.
                *this.fallback = None;
            }
            if let Scan::Last = this.scan {
                this.last.extend_from_slice(&data);
                continue;
            }
            let Some(start) = this.scan.find_last(&data, *this.trailer_flag) else {
                return Poll::Ready(Some(Ok(Frame::data(data))));
            };
            let before = data.split_to(start);
            this.last.extend_from_slice(&data);
            if !before.is_empty() {
                return Poll::Ready(Some(Ok(Frame::data(before))));
            }
        }
    }
}

/// The trailers in `last`, once the whole frame has arrived.
fn read_last(
    last: &BytesMut,
    encoding: Option<Encoding>,
    read_trailers: ReadTrailers,
) -> Result<Option<HeaderMap>, Status> {
    let Some(mut header) = last.get(..HEADER_SIZE) else {
        return Ok(None);
    };
    let flags = header.get_u8();
    let len = header.get_u32() as usize;
    if len > DEFAULT_MAX_RECEIVE_SIZE {
        return Err(Status::resource_exhausted(format!(
            "the response's last frame of {len} bytes is too large"
        )));
    }
    let Some(payload) = last.get(HEADER_SIZE..HEADER_SIZE + len) else {
        return Ok(None);
    };
    if flags & 1 == 0 {
        return read_trailers(payload).map(Some);
    }
    let Some(encoding) = encoding else {
        return Err(Status::internal(
            "the response's last frame is compressed without an encoding",
        ));
    };
    let plain = encoding.decompress(payload, DEFAULT_MAX_RECEIVE_SIZE)?;
    read_trailers(&plain).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;
    use http_body_util::{BodyExt, StreamBody};

    fn body_of(chunks: Vec<Bytes>) -> impl HttpBody<Data = Bytes, Error = Status> {
        let frames = chunks
            .into_iter()
            .map(|chunk| Ok::<_, Status>(Frame::data(chunk)))
            .collect::<Vec<_>>();
        StreamBody::new(tokio_stream::iter(frames))
    }

    fn read_status(payload: &[u8]) -> Result<HeaderMap, Status> {
        let mut trailers = HeaderMap::new();
        let value = HeaderValue::from_bytes(payload).map_err(|_| Status::internal("bad"))?;
        trailers.insert("grpc-status", value);
        Ok(trailers)
    }

    /// A last frame holding the `grpc-status` of `trailers`.
    fn status_frame(trailers: &HeaderMap) -> Bytes {
        frame(0x80, trailers["grpc-status"].as_bytes())
    }

    fn status(code: &'static str) -> HeaderMap {
        let mut trailers = HeaderMap::new();
        trailers.insert("grpc-status", HeaderValue::from_static(code));
        trailers
    }

    #[tokio::test]
    async fn a_cut_ends_with_its_status_at_a_frame_boundary_and_breaks_inside_one() {
        let message = frame(0, b"message");
        for (sent, whole) in [(message.len(), true), (3, false), (6, false)] {
            let chunks = vec![message.slice(..sent), message.slice(sent..)];
            let mut body = std::pin::pin!(TrailersAsFrame::new(
                body_of(chunks),
                status_frame,
                None,
                None
            ));
            let first = body.frame().await.unwrap().unwrap().into_data().unwrap();
            assert_eq!(first, message.slice(..sent));
            body.as_mut().cut(status("14"));
            let last = body.frame().await.unwrap();
            match whole {
                true => assert_eq!(last.unwrap().into_data().unwrap(), frame(0x80, b"14")),
                false => assert_eq!(last.unwrap_err().code(), crate::Code::Unavailable),
            }
            assert!(body.frame().await.is_none());
        }
    }

    #[tokio::test]
    async fn a_cut_keeps_the_status_of_a_trailers_only_answer() {
        let mut body = std::pin::pin!(TrailersAsFrame::new(
            body_of(Vec::new()),
            status_frame,
            Some(status("3")),
            None
        ));
        body.as_mut().cut(status("14"));
        let last = body.frame().await.unwrap().unwrap().into_data().unwrap();
        assert_eq!(last, frame(0x80, b"3"));
    }

    #[tokio::test]
    async fn data_passes_and_the_last_frame_becomes_trailers_wherever_chunks_split() {
        let mut wire = Vec::new();
        wire.extend_from_slice(&frame(0, b"one"));
        wire.extend_from_slice(&frame(1, &[0x80; 7]));
        wire.extend_from_slice(&frame(0x80, b"5"));
        for split in 1..wire.len() {
            for step in [1, 2, 3, 7, split] {
                let chunks = wire
                    .chunks(step)
                    .map(Bytes::copy_from_slice)
                    .collect::<Vec<_>>();
                let body = FrameAsTrailers::new(body_of(chunks), 0x80, read_status, None);
                let collected = body.collect().await.unwrap();
                assert_eq!(collected.trailers().unwrap()["grpc-status"], "5");
                assert_eq!(collected.to_bytes(), wire[..wire.len() - 6]);
            }
        }
    }

    #[tokio::test]
    async fn a_body_cut_inside_the_last_frame_fails() {
        let mut wire = frame(0x80, b"12345").to_vec();
        wire.truncate(7);
        let body = FrameAsTrailers::new(body_of(vec![wire.into()]), 0x80, read_status, None);
        assert!(body.collect().await.is_err());
    }

    #[tokio::test]
    async fn trailers_become_the_last_frame_and_are_reported() {
        let mut trailers = HeaderMap::new();
        trailers.insert("grpc-status", HeaderValue::from_static("0"));
        let inner = http_body_util::Full::new(Bytes::from_static(b"data"))
            .map_err(|never| match never {})
            .with_trailers(std::future::ready(Some(Ok(trailers))));
        let (sent, seen) = std::sync::mpsc::channel();
        let on_sent = OnSent::new(move |headers| {
            let _ = sent.send(headers.map(|headers| headers.len()));
        });
        let last = |trailers: &HeaderMap| frame(0x80, trailers["grpc-status"].as_bytes());
        let body = TrailersAsFrame::new(inner, last, None, Some(on_sent));
        let bytes = body.collect().await.unwrap().to_bytes();
        assert_eq!(&bytes[..4], b"data");
        assert_eq!(bytes[4..], frame(0x80, b"0"));
        assert_eq!(seen.recv().unwrap(), Some(1));
    }
}
