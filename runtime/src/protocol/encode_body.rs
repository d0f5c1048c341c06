//! The bodies that encode a stream of messages as the call runs: a streamed response on
//! the server, a streamed request on the client.

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::{Bytes, BytesMut};
use futures_core::Stream;
use http_body::Frame;
use prost::Message;
use tokio::sync::oneshot;
use tokio::time::{Instant, Sleep};

use crate::codec::MessageForm;
use crate::codec::encode::FrameEncoder;
use crate::metadata::MetadataMap;
use crate::response::LateTrailers;
use crate::status::{Code, Status};
use crate::transport::body::Body;

/// How many encoded bytes a streaming body gathers from ready messages before handing
/// them to the transport as one DATA frame.
const BATCH_SIZE: usize = 32 * 1024;

/// The body of a streamed server response: the messages of `source`, encoded as they
/// come, then status trailers: `OK` plus `trailers` when the stream ends, the stream's
/// error, or `DEADLINE_EXCEEDED` once `deadline` passes.
pub(crate) fn response_body<S, M>(
    source: S,
    encoder: FrameEncoder,
    form: MessageForm<M>,
    trailers: StreamTrailers,
    deadline: Option<Instant>,
) -> Body
where
    S: Stream<Item = Result<M, Status>> + Send + 'static,
    M: Message + Default + 'static,
{
    let end = End::Trailers {
        metadata: Some(trailers),
        deadline: deadline.map(|at| Box::pin(tokio::time::sleep_until(at))),
    };
    encoding(source, encoder, form, end)
}

/// The body of a streamed client request: it encodes the messages of `source` as they come. It ends
/// with the source, or early once the sender of `abandoned` is dropped: the caller
/// gave up the call, and ending the body lets the transport reset the stream.
pub(crate) fn request_body<S, M>(
    source: S,
    encoder: FrameEncoder,
    form: MessageForm<M>,
    abandoned: oneshot::Receiver<()>,
) -> Body
where
    S: Stream<Item = M> + Send + 'static,
    M: Message + Default + 'static,
{
    encoding(OkItems { source }, encoder, form, End::Plain { abandoned })
}

/// A body encoding `source` in `form` with `encoder`, ending as `end` says.
fn encoding<S, M>(source: S, encoder: FrameEncoder, form: MessageForm<M>, end: End) -> Body
where
    S: Stream<Item = Result<M, Status>> + Send + 'static,
    M: Message + Default + 'static,
{
    Body::streaming(EncodeBody {
        source,
        buf: BytesMut::new(),
        last_batch: 0,
        encoder,
        form,
        end,
        state: EncodeState::Messages,
    })
}

#[derive(Debug)]
enum EncodeState {
    /// Pulling messages from the source.
    Messages,
    /// The source ended with this status; it goes out once buffered messages are sent.
    Ending(Status),
    /// Everything has been sent.
    Done,
}

/// The trailing metadata of a response stream: set up front, and set while it ran.
pub(crate) struct StreamTrailers {
    pub(crate) trailers: MetadataMap,
    pub(crate) late: Option<LateTrailers>,
}

impl StreamTrailers {
    fn into_map(self) -> MetadataMap {
        let mut trailers = self.trailers;
        if let Some(late) = self.late {
            trailers.extend(late.take());
        }
        trailers
    }
}

/// How an encoding body ends.
enum End {
    /// A server response: status trailers, early when the call's deadline passes.
    Trailers {
        metadata: Option<StreamTrailers>,
        deadline: Option<Pin<Box<Sleep>>>,
    },
    /// A client request: the end of the body, early when the caller gives up the call.
    Plain { abandoned: oneshot::Receiver<()> },
}

impl End {
    /// A status that ends the body before its source does, if one is due.
    fn poll_cut_short(&mut self, cx: &mut Context<'_>) -> Option<Status> {
        match self {
            End::Trailers {
                deadline: Some(deadline),
                ..
            } => deadline
                .as_mut()
                .poll(cx)
                .is_ready()
                .then(|| Status::deadline_exceeded("deadline exceeded")),
            End::Trailers { deadline: None, .. } => None,
            End::Plain { abandoned } => Pin::new(abandoned)
                .poll(cx)
                .is_ready()
                .then(|| Status::cancelled("the call was dropped")),
        }
    }

    /// The last frame: status trailers on a server response; on a client request,
    /// nothing — or an error, which makes the transport reset the stream.
    fn finish(&mut self, status: Status) -> Option<Result<Frame<Bytes>, Status>> {
        match self {
            End::Trailers { metadata, .. } => {
                let trailers = metadata.take().map(StreamTrailers::into_map);
                let mut headers = trailers.unwrap_or_default().into_headers();
                status.write_to(&mut headers);
                Some(Ok(Frame::trailers(headers)))
            }
            End::Plain { .. } if matches!(status.code(), Code::Ok | Code::Cancelled) => None,
            End::Plain { .. } => Some(Err(status)),
        }
    }
}

pin_project_lite::pin_project! {
    /// Encodes a stream of messages into DATA frames, batching messages that are ready
    /// together, and ends as its [`End`] says.
    struct EncodeBody<S, M> {
        #[pin]
        source: S,
        buf: BytesMut,
        // Bytes of the last batch: the next one starts with room for as many, instead of
        // growing from nothing through a string of reallocations.
        last_batch: usize,
        encoder: FrameEncoder,
        form: MessageForm<M>,
        end: End,
        state: EncodeState,
    }
}

impl<S, M> http_body::Body for EncodeBody<S, M>
where
    S: Stream<Item = Result<M, Status>>,
    M: Message + Default,
{
    type Data = Bytes;
    type Error = Status;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Status>>> {
        let mut this = self.project();
        let finish = |end: &mut End, state: &mut EncodeState, status| {
            *state = EncodeState::Done;
            Poll::Ready(end.finish(status))
        };
        match std::mem::replace(this.state, EncodeState::Messages) {
            EncodeState::Done => {
                *this.state = EncodeState::Done;
                return Poll::Ready(None);
            }
            EncodeState::Ending(status) => return finish(this.end, this.state, status),
            EncodeState::Messages => {}
        }
        if let Some(status) = this.end.poll_cut_short(cx) {
            this.buf.clear();
            return finish(this.end, this.state, status);
        }
        if this.buf.is_empty() {
            this.buf.reserve(*this.last_batch);
        }
        while this.buf.len() < BATCH_SIZE {
            let status = match this.source.as_mut().poll_next(cx) {
                Poll::Ready(Some(Ok(message))) => {
                    match this.form.encode(this.encoder, &message, this.buf) {
                        Ok(()) => continue,
                        Err(status) => status,
                    }
                }
                Poll::Ready(Some(Err(status))) => status,
                Poll::Ready(None) => Status::new(Code::Ok, ""),
                Poll::Pending if this.buf.is_empty() => return Poll::Pending,
                Poll::Pending => break,
            };
            // Messages already produced are still delivered before the status.
            if this.buf.is_empty() {
                return finish(this.end, this.state, status);
            }
            *this.state = EncodeState::Ending(status);
            break;
        }
        *this.last_batch = this.buf.len();
        Poll::Ready(Some(Ok(Frame::data(this.buf.split().freeze()))))
    }

    fn is_end_stream(&self) -> bool {
        matches!(self.state, EncodeState::Done)
    }
}

pin_project_lite::pin_project! {
    /// Adapts a stream of messages into a stream of `Ok` messages, the form
    /// [`EncodeBody`] takes.
    struct OkItems<S> {
        #[pin]
        source: S,
    }
}

impl<S: Stream> Stream for OkItems<S> {
    type Item = Result<S::Item, Status>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.project().source.poll_next(cx).map(|item| item.map(Ok))
    }
}
