//! [`Streaming`]: the inbound messages of a call, decoded from an HTTP body.

use std::fmt;
use std::future::poll_fn;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use bytes::Bytes;
use futures_core::Stream;
use http_body::Body as HttpBody;
use prost::Message;
use tokio::sync::oneshot;
use tokio::time::{Instant, Sleep};

use super::deadline;
use super::observe::OnFinish;
use crate::codec::decode::FrameDecoder;
use crate::codec::{Encoding, MessageForm};
use crate::metadata::MetadataMap;
use crate::status::{Code, Status, is_ok};
use crate::transport::incoming::IncomingBody;

/// Which side of the call reads the stream: it decides what the end of the body means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Direction {
    /// A server reading requests: the body simply ends.
    Request,
    /// A client reading responses: the body ends with trailers holding `grpc-status`.
    Response,
}

/// A stream of messages received on a call: the requests of a client-streaming or bidi
/// handler, or the responses of a server-streaming or bidi call.
///
/// Read it with [`message`](Self::message) or as a [`Stream`]. On the client, an error
/// status sent by the server arrives as the stream's last item.
pub struct Streaming<T> {
    body: IncomingBody,
    decoder: FrameDecoder,
    direction: Direction,
    deadline: Option<Pin<Box<Sleep>>>,
    trailers: Option<MetadataMap>,
    finished: bool,
    /// On the client, the guard of the call's streamed request: dropping this stream
    /// ends the request, which resets the call.
    _request_guard: Option<oneshot::Sender<()>>,
    /// On the client, told of the call's final status (interceptors, tracing).
    on_finish: Option<OnFinish>,
    /// How the messages are written: protobuf, or JSON.
    form: MessageForm<T>,
}

impl<T> Streaming<T> {
    /// Wraps a body whose frames are decoded as `T` in `form`, refusing messages over
    /// `max_size`.
    pub(crate) fn new(
        body: IncomingBody,
        direction: Direction,
        max_size: usize,
        encoding: Option<Encoding>,
        deadline: Option<Instant>,
        form: MessageForm<T>,
    ) -> Streaming<T> {
        Streaming {
            body,
            decoder: FrameDecoder::new(max_size, encoding),
            direction,
            deadline: deadline.map(|at| Box::pin(tokio::time::sleep_until(at))),
            trailers: None,
            finished: false,
            _request_guard: None,
            on_finish: None,
            form,
        }
    }

    /// Ties the request body's guard to this stream's lifetime.
    pub(crate) fn ending_request_on_drop(mut self, guard: Option<oneshot::Sender<()>>) -> Self {
        self._request_guard = guard;
        self
    }

    /// Reports the call's final status to `on_finish` once the stream ends (or
    /// `CANCELLED` if it is dropped first).
    pub(crate) fn reporting_end(mut self, on_finish: Option<OnFinish>) -> Self {
        self.on_finish = on_finish;
        self
    }

    /// A stream that already ended successfully with `trailers`: the response to a call
    /// answered Trailers-Only with status OK.
    pub(crate) fn finished(trailers: MetadataMap) -> Streaming<T> {
        let mut stream = Streaming::new(
            IncomingBody::empty(),
            Direction::Response,
            0,
            None,
            None,
            MessageForm::proto(),
        );
        stream.trailers = Some(trailers);
        stream.finished = true;
        stream
    }

    /// The trailing metadata the server sent, once the stream has ended successfully.
    /// Always `None` on the server side.
    pub fn trailers(&self) -> Option<&MetadataMap> {
        self.trailers.as_ref()
    }

    /// Whether the last message read arrived compressed.
    pub fn last_message_compressed(&self) -> bool {
        self.decoder.last_compressed()
    }

    /// The status to report for a failure, given the call's deadline.
    fn blame_deadline(&self, status: Status, from_transport: bool) -> Status {
        let deadline = self.deadline.as_ref().map(|sleep| sleep.deadline());
        deadline::blame_deadline(status, deadline, from_transport)
    }

    /// Ends the stream with `status` as its final item.
    fn fail(&mut self, status: Status) -> Poll<Option<Result<T, Status>>> {
        self.finished = true;
        if let Some(on_finish) = self.on_finish.take() {
            on_finish.finish(&status);
        }
        Poll::Ready(Some(Err(status)))
    }

    /// Handles the trailers that close a response stream.
    fn on_trailers(&mut self, trailers: http::HeaderMap) -> Result<(), Status> {
        self.finished = true;
        self.trailers = Some(response_trailers(trailers)?);
        Ok(())
    }
}

impl<T: Message + Default> Streaming<T> {
    /// Waits for the next message; `Ok(None)` when the stream ended cleanly.
    pub async fn message(&mut self) -> Result<Option<T>, Status> {
        match poll_fn(|cx| Pin::new(&mut *self).poll_next(cx)).await {
            Some(Ok(message)) => Ok(Some(message)),
            Some(Err(status)) => Err(status),
            None => Ok(None),
        }
    }
}

impl<T: Message + Default> Stream for Streaming<T> {
    type Item = Result<T, Status>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        loop {
            // A stream ends for good at its end or its first failure: the bytes behind a
            // refused frame header must never be read as messages. At the end, every
            // complete frame has already been taken from the decoder.
            if this.finished {
                if let Some(on_finish) = this.on_finish.take() {
                    on_finish.finish(&Status::new(Code::Ok, ""));
                }
                return Poll::Ready(None);
            }
            match this
                .decoder
                .next_frame()
                .and_then(|frame| frame.map(|frame| this.form.decode(frame)).transpose())
            {
                Ok(Some(message)) => return Poll::Ready(Some(Ok(message))),
                Ok(None) => {}
                Err(status) => return this.fail(status),
            }
            if let Some(deadline) = &mut this.deadline {
                if deadline.as_mut().poll(cx).is_ready() {
                    return this.fail(Status::deadline_exceeded("deadline exceeded"));
                }
            }
            match ready!(poll_body(Pin::new(&mut this.body), &mut this.decoder, cx)) {
                Ok(BodyEvent::Data) => {}
                Ok(BodyEvent::Trailers(trailers)) => {
                    if let Err(status) = this.decoder.finish() {
                        return this.fail(status);
                    }
                    if this.direction == Direction::Response {
                        if let Err(status) = this.on_trailers(trailers) {
                            let status = this.blame_deadline(status, false);
                            return this.fail(status);
                        }
                    }
                }
                Err(status) => {
                    let status = this.blame_deadline(status, true);
                    return this.fail(status);
                }
                Ok(BodyEvent::End) => {
                    if let Err(status) = this.decoder.finish() {
                        return this.fail(status);
                    }
                    if this.direction == Direction::Response && this.trailers.is_none() {
                        return this.fail(missing_trailers());
                    }
                    this.finished = true;
                }
            }
        }
    }
}

impl<T> fmt::Debug for Streaming<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Streaming")
            .field("direction", &self.direction)
            .field("finished", &self.finished)
            .finish_non_exhaustive()
    }
}

/// The trailers ending a response: their metadata if they carry status OK, else the
/// status they carry.
pub(crate) fn response_trailers(trailers: http::HeaderMap) -> Result<MetadataMap, Status> {
    if is_ok(&trailers) {
        return Ok(MetadataMap::from_headers(trailers));
    }
    Err(Status::from_headers(&trailers)
        .unwrap_or_else(|| Status::internal("the server sent trailers without grpc-status")))
}

/// The failure of a response whose stream ended without trailers.
pub(crate) fn missing_trailers() -> Status {
    Status::internal("the server closed the stream without sending trailers")
}

/// What one poll of a body gave.
pub(crate) enum BodyEvent {
    /// A chunk of data, now in the decoder.
    Data,
    /// The trailers ending the body.
    Trailers(http::HeaderMap),
    /// The end of the body, without trailers.
    End,
}

/// Polls `body` for its next frame, feeding data to `decoder`.
pub(crate) fn poll_body(
    body: Pin<&mut IncomingBody>,
    decoder: &mut FrameDecoder,
    cx: &mut Context<'_>,
) -> Poll<Result<BodyEvent, Status>> {
    let event = match ready!(body.poll_frame(cx)) {
        None => BodyEvent::End,
        Some(Err(status)) => return Poll::Ready(Err(status)),
        Some(Ok(frame)) => match frame.into_data() {
            Ok(data) => {
                decoder.push(data);
                BodyEvent::Data
            }
            // Frames that are neither data nor trailers carry nothing for gRPC.
            Err(frame) => frame
                .into_trailers()
                .map_or(BodyEvent::Data, BodyEvent::Trailers),
        },
    };
    Poll::Ready(Ok(event))
}

/// The failure of a unary message (`what`: "the request", "the response") that never
/// came: a cardinality violation, which gRPC's status codes make `UNIMPLEMENTED`.
pub(crate) fn no_message(what: &str) -> Status {
    Status::unimplemented(format!("{what} has no message"))
}

/// Reads a body that carries at most one message, such as the request of a unary or
/// server-streaming call; returns its payload, if any, and the body's trailers.
pub(crate) async fn read_single_frame(
    body: IncomingBody,
    decoder: &mut FrameDecoder,
    what: &str,
) -> Result<(Option<Bytes>, Option<http::HeaderMap>), Status> {
    let mut body = std::pin::pin!(body);
    let mut payload = None;
    let trailers = loop {
        while let Some(frame) = decoder.next_frame()? {
            if payload.replace(frame).is_some() {
                // A cardinality violation: UNIMPLEMENTED, as gRPC's status codes say.
                return Err(Status::unimplemented(format!(
                    "{what} has more than one message for a unary method"
                )));
            }
        }
        match poll_fn(|cx| poll_body(body.as_mut(), decoder, cx)).await? {
            BodyEvent::Data => {}
            BodyEvent::Trailers(trailers) => break Some(trailers),
            BodyEvent::End => break None,
        }
    };
    decoder.finish()?;
    Ok((payload, trailers))
}
