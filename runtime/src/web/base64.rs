//! The bodies of `application/grpc-web-text`: the binary body in base64, which a body
//! may send in pieces, each padded on its own.

use std::pin::Pin;
use std::task::{Context, Poll, ready};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use bytes::{Bytes, BytesMut};
use http::HeaderMap;
use http_body::{Body as HttpBody, Frame};

use crate::status::Status;
use crate::transport::body::EndsItself;

pin_project_lite::pin_project! {
    /// Writes the data of `inner` in base64, carrying the bytes that do not fill a group
    /// of three over to the next chunk, so that only the very end is padded.
    pub(super) struct Base64Encode<B> {
        #[pin]
        inner: B,
        // At most two bytes waiting for a full group.
        carry: BytesMut,
        // Trailers held back while the carry goes out.
        trailers: Option<HeaderMap>,
        ended: bool,
    }
}

impl<B> Base64Encode<B> {
    pub(super) fn new(inner: B) -> Self {
        Base64Encode {
            inner,
            carry: BytesMut::new(),
            trailers: None,
            ended: false,
        }
    }
}

impl<B: HttpBody<Data = Bytes, Error = Status>> HttpBody for Base64Encode<B> {
    type Data = Bytes;
    type Error = Status;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Status>>> {
        let mut this = self.project();
        loop {
            if let Some(trailers) = this.trailers.take() {
                return Poll::Ready(Some(Ok(Frame::trailers(trailers))));
            }
            if *this.ended {
                return Poll::Ready(None);
            }
            match ready!(this.inner.as_mut().poll_frame(cx)) {
                Some(Ok(frame)) => match frame.into_data() {
                    Ok(data) => {
                        this.carry.extend_from_slice(&data);
                        let whole = this.carry.len() / 3 * 3;
                        if whole == 0 {
                            continue;
                        }
                        let group = this.carry.split_to(whole);
                        return Poll::Ready(Some(Ok(Frame::data(encode(&group)))));
                    }
                    // Trailers follow the data, which must be complete first.
                    Err(trailers) => {
                        if this.carry.is_empty() {
                            return Poll::Ready(Some(Ok(trailers)));
                        }
                        *this.trailers = trailers.into_trailers().ok();
                        let rest = this.carry.split();
                        return Poll::Ready(Some(Ok(Frame::data(encode(&rest)))));
                    }
                },
                Some(Err(status)) => return Poll::Ready(Some(Err(status))),
                None => {
                    *this.ended = true;
                    if !this.carry.is_empty() {
                        let rest = this.carry.split();
                        return Poll::Ready(Some(Ok(Frame::data(encode(&rest)))));
                    }
                }
            }
        }
    }
}

impl<B: EndsItself> EndsItself for Base64Encode<B> {
    fn cut(self: Pin<&mut Self>, trailers: HeaderMap) {
        // The inner body's last frame follows what is carried, then the carry is flushed.
        self.project().inner.cut(trailers);
    }
}

fn encode(bytes: &[u8]) -> Bytes {
    Bytes::from(STANDARD.encode(bytes))
}

pin_project_lite::pin_project! {
    /// Reads the base64 data of `inner` back into bytes: in groups of four characters,
    /// each piece of the body padded or not.
    pub(super) struct Base64Decode<B> {
        #[pin]
        inner: B,
        // Characters waiting for a full group of four.
        carry: BytesMut,
    }
}

impl<B> Base64Decode<B> {
    pub(super) fn new(inner: B) -> Self {
        Base64Decode {
            inner,
            carry: BytesMut::new(),
        }
    }
}

impl<B: HttpBody<Data = Bytes, Error = Status>> HttpBody for Base64Decode<B> {
    type Data = Bytes;
    type Error = Status;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Status>>> {
        let mut this = self.project();
        loop {
            let frame = match ready!(this.inner.as_mut().poll_frame(cx)) {
                Some(Ok(frame)) => frame,
                Some(Err(status)) => return Poll::Ready(Some(Err(status))),
                None if this.carry.is_empty() => return Poll::Ready(None),
                None => {
                    this.carry.clear();
                    return Poll::Ready(Some(Err(invalid("the body ends inside a group"))));
                }
            };
            let data = match frame.into_data() {
                Ok(data) => data,
                Err(trailers) => return Poll::Ready(Some(Ok(trailers))),
            };
            this.carry
                .extend(data.iter().filter(|b| !b.is_ascii_whitespace()));
            let whole = this.carry.len() / 4 * 4;
            if whole == 0 {
                continue;
            }
            let groups = this.carry.split_to(whole);
            return Poll::Ready(Some(decode_groups(&groups).map(Frame::data)));
        }
    }
}

/// Decodes whole groups of four characters, where any group may end padded.
pub(super) fn decode_groups(groups: &[u8]) -> Result<Bytes, Status> {
    let mut out = Vec::with_capacity(groups.len() / 4 * 3);
    let mut rest = groups;
    while !rest.is_empty() {
        // A run of groups up to and including the first padded one decodes at once.
        let end = rest
            .iter()
            .position(|&b| b == b'=')
            .map_or(rest.len(), |padding| (padding / 4 + 1) * 4)
            .min(rest.len());
        let (run, tail) = rest.split_at(end);
        STANDARD
            .decode_vec(run, &mut out)
            .map_err(|error| invalid(&error.to_string()))?;
        rest = tail;
    }
    Ok(Bytes::from(out))
}

fn invalid(detail: &str) -> Status {
    Status::internal(format!("invalid grpc-web-text body: {detail}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::{BodyExt, StreamBody};

    fn body_of(chunks: &[&'static [u8]]) -> impl HttpBody<Data = Bytes, Error = Status> {
        let frames = chunks
            .iter()
            .map(|chunk| Ok::<_, Status>(Frame::data(Bytes::from_static(chunk))))
            .collect::<Vec<_>>();
        StreamBody::new(tokio_stream::iter(frames))
    }

    async fn collect(body: impl HttpBody<Data = Bytes, Error = Status>) -> Vec<u8> {
        body.collect().await.unwrap().to_bytes().to_vec()
    }

    #[tokio::test]
    async fn encodes_chunks_into_one_base64_text() {
        let encoded = collect(Base64Encode::new(body_of(&[b"a", b"bcd", b"", b"e"]))).await;
        assert_eq!(encoded, STANDARD.encode(b"abcde").as_bytes());
    }

    #[tokio::test]
    async fn trailers_follow_the_last_partial_group() {
        let mut trailers = HeaderMap::new();
        trailers.insert("grpc-status", http::HeaderValue::from_static("0"));
        let frames = vec![
            Ok::<_, Status>(Frame::data(Bytes::from_static(b"abcd"))),
            Ok(Frame::trailers(trailers.clone())),
        ];
        let body = Base64Encode::new(StreamBody::new(tokio_stream::iter(frames)));
        let collected = body.collect().await.unwrap();
        assert_eq!(collected.trailers(), Some(&trailers));
        assert_eq!(collected.to_bytes(), STANDARD.encode(b"abcd").as_bytes());
    }

    #[tokio::test]
    async fn decodes_pieces_padded_on_their_own() {
        let body = body_of(&[b"YW", b"E=YmM", b"=\r\nZGVm", b"Zw=="]);
        assert_eq!(collect(Base64Decode::new(body)).await, b"aabcdefg");
    }

    #[tokio::test]
    async fn refuses_a_broken_group() {
        let body = body_of(&[b"YWJ"]);
        let error = Base64Decode::new(body).collect().await.unwrap_err();
        assert_eq!(error.code(), crate::Code::Internal);
        let body = body_of(&[b"Y!Jj"]);
        assert!(Base64Decode::new(body).collect().await.is_err());
    }
}
