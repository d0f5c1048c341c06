//! In-memory tests of the gRPC call semantics in `protocol`: no sockets, only scripted
//! HTTP bodies. This module holds what the test files share: a mock body that yields a
//! scripted list of frames, two small messages, and helpers to frame messages and build
//! trailers by hand (not through the codec under test).

mod client_call;
mod replay;
mod server_call;
mod streaming;

use std::collections::VecDeque;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::{BufMut, Bytes, BytesMut};
use http::{HeaderMap, HeaderValue};
use http_body::Frame;
use prost::Message;

use crate::status::{Code, Status};
use crate::transport::incoming::IncomingBody;

/// A message with one string field.
#[derive(Clone, PartialEq, prost::Message)]
pub(super) struct Note {
    #[prost(string, tag = "1")]
    pub(super) text: String,
}

/// A message with one integer field.
#[derive(Clone, PartialEq, prost::Message)]
pub(super) struct Num {
    #[prost(int64, tag = "1")]
    pub(super) value: i64,
}

pub(super) fn note(text: &str) -> Note {
    Note {
        text: text.to_owned(),
    }
}

/// One step of a [`MockBody`] script.
pub(super) enum Step {
    /// A DATA frame.
    Data(Bytes),
    /// The trailers.
    Trailers(HeaderMap),
    /// A read error.
    Error(Status),
    /// `Pending` once, after waking the task: the reader must poll again.
    Pending,
    /// `Pending` for ever, without waking: the peer went silent.
    Stall,
}

/// A body that plays its script, then ends.
pub(super) struct MockBody {
    steps: VecDeque<Step>,
}

impl MockBody {
    pub(super) fn new(steps: impl IntoIterator<Item = Step>) -> MockBody {
        MockBody {
            steps: steps.into_iter().collect(),
        }
    }

    /// The body as the [`IncomingBody`] the protocol reads.
    pub(super) fn incoming(steps: impl IntoIterator<Item = Step>) -> IncomingBody {
        IncomingBody::boxed(MockBody::new(steps))
    }
}

impl http_body::Body for MockBody {
    type Data = Bytes;
    type Error = Status;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Status>>> {
        if matches!(self.steps.front(), Some(Step::Stall)) {
            return Poll::Pending;
        }
        match self.steps.pop_front() {
            None => Poll::Ready(None),
            Some(Step::Data(data)) => Poll::Ready(Some(Ok(Frame::data(data)))),
            Some(Step::Trailers(trailers)) => Poll::Ready(Some(Ok(Frame::trailers(trailers)))),
            Some(Step::Error(status)) => Poll::Ready(Some(Err(status))),
            Some(Step::Pending) => {
                cx.waker().wake_by_ref();
                Poll::Pending
            }
            Some(Step::Stall) => unreachable!("handled above"),
        }
    }

    /// A body with nothing left to play has ended, as a stream whose headers carried
    /// END_STREAM has.
    fn is_end_stream(&self) -> bool {
        self.steps.is_empty()
    }
}

/// `message` as one uncompressed gRPC frame: flag 0, big-endian length, payload.
pub(super) fn framed(message: &impl Message) -> Bytes {
    let payload = message.encode_to_vec();
    let mut frame = BytesMut::new();
    frame.put_u8(0);
    frame.put_u32(u32::try_from(payload.len()).unwrap());
    frame.put_slice(&payload);
    frame.freeze()
}

/// Several messages framed back to back in one chunk.
pub(super) fn framed_all<'a, M: Message + 'a>(messages: impl IntoIterator<Item = &'a M>) -> Bytes {
    messages.into_iter().flat_map(|m| framed(m)).collect()
}

/// `bytes` as one DATA step per byte, with a `Pending` between bytes.
pub(super) fn byte_by_byte(bytes: &[u8]) -> Vec<Step> {
    bytes
        .iter()
        .flat_map(|&byte| [Step::Data(Bytes::copy_from_slice(&[byte])), Step::Pending])
        .collect()
}

/// Trailers carrying `code` and `message`, plus the `extra` custom entries.
pub(super) fn status_trailers(code: Code, message: &str, extra: &[(&str, &str)]) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert("grpc-status", HeaderValue::from(code as i32));
    if !message.is_empty() {
        headers.insert("grpc-message", HeaderValue::from_str(message).unwrap());
    }
    for (name, value) in extra {
        headers.insert(
            http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
            HeaderValue::from_str(value).unwrap(),
        );
    }
    headers
}

/// `grpc-status: 0` trailers.
pub(super) fn ok_trailers() -> HeaderMap {
    status_trailers(Code::Ok, "", &[])
}

/// Asserts `result` failed with `code` and a message containing `text`.
#[track_caller]
pub(super) fn assert_status<T>(result: Result<T, Status>, code: Code, text: &str) {
    match result {
        Ok(_) => panic!("expected {code:?} containing {text:?}, got a success"),
        Err(status) => {
            assert_eq!(status.code(), code, "status: {status:?}");
            assert!(
                status.message().contains(text),
                "message {:?} does not contain {text:?}",
                status.message()
            );
        }
    }
}
