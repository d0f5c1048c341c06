//! The client side of a call: the request head a call sends, and the checks on the
//! response head and trailers it gets back.

use http::header::{CONTENT_TYPE, HeaderValue, TE, USER_AGENT};
use prost::Message;
use tokio::sync::oneshot;
use tokio::time::Instant;

use super::deadline::{blame_deadline, within_deadline};
use super::streaming::{
    Direction, Streaming, missing_trailers, no_message, read_single_frame, response_trailers,
};
use super::wire::{
    self, GRPC_ACCEPT_ENCODING, GRPC_ENCODING, Pushback, TE_TRAILERS, code_from_http,
    grpc_content_type, insert_timeout, is_grpc_content_type, message_encoding, pushback,
};
use crate::codec::decode::FrameDecoder;
use crate::codec::{CodecSettings, Compressed, Encoding, Format, MessageForm};
use crate::metadata::MetadataMap;
use crate::request::Request;
use crate::response::Response;
use crate::status::{Code, Status};
use crate::transport::body::Body;
use crate::transport::incoming::IncomingBody;

/// What a client call is, as far as a protocol cares: Connect sends unary calls as
/// plain HTTP requests, and may send those without side effects as GETs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CallShape {
    /// A unary call, whose response may be read whole up to `max_receive` bytes; a GET
    /// is allowed when it has no side effects.
    Unary {
        no_side_effects: bool,
        max_receive: usize,
    },
    /// A call with a streamed request or response.
    Streaming,
}

/// A request ready to send: head, encoded body, and the encoding of its messages.
pub(crate) struct Outgoing {
    pub(crate) head: Request<()>,
    pub(crate) body: Body,
    pub(crate) encoding: Option<Encoding>,
    /// The format of the messages both ways.
    pub(crate) format: Format,
    /// What the call is, for protocols that send unary calls their own way.
    pub(crate) shape: CallShape,
    /// For a streamed body: dropping it ends the body, so giving up the call (dropping
    /// its future or its response stream) resets the HTTP/2 stream.
    pub(crate) request_guard: Option<oneshot::Sender<()>>,
}

impl Outgoing {
    /// A copy of a request whose body was built whole, to send again; `None` for a
    /// streamed body.
    pub(crate) fn try_clone(&self) -> Option<Outgoing> {
        Some(Outgoing {
            head: self.head.duplicate(),
            body: self.body.try_clone()?,
            encoding: self.encoding,
            format: self.format,
            shape: self.shape,
            request_guard: None,
        })
    }

    /// The HTTP request of the call — a POST to `uri` with the gRPC headers, the
    /// request's metadata, and the time left until `deadline` — and the request guard.
    pub(crate) fn into_http(
        self,
        uri: http::Uri,
        codec: &CodecSettings,
        deadline: Option<Instant>,
    ) -> (http::Request<Body>, Option<oneshot::Sender<()>>) {
        let (metadata, (), extensions) = self.head.into_parts();
        let mut request = http::Request::new(self.body);
        *request.method_mut() = http::Method::POST;
        *request.uri_mut() = uri;
        *request.extensions_mut() = extensions;
        let headers = request.headers_mut();
        *headers = metadata.into_headers();
        headers.insert(CONTENT_TYPE, grpc_content_type(self.format));
        headers.insert(TE, TE_TRAILERS);
        headers.insert(USER_AGENT, wire::USER_AGENT);
        if let Some(encoding) = self.encoding {
            headers.insert(GRPC_ENCODING, HeaderValue::from_static(encoding.name()));
        }
        headers.insert(GRPC_ACCEPT_ENCODING, codec.accept_compressed.header_value());
        insert_timeout(headers, deadline);
        (request, self.request_guard)
    }
}

/// A response whose head has arrived: what reading its messages takes.
pub(crate) struct ResponseHead {
    metadata: MetadataMap,
    extensions: http::Extensions,
    /// The body; `None` for a Trailers-Only response with status OK.
    body: Option<IncomingBody>,
    /// Encoding of the response messages.
    encoding: Option<Encoding>,
    /// Largest response message accepted.
    max_size: usize,
    deadline: Option<Instant>,
    /// See [`Outgoing::request_guard`]: held until the response ends.
    request_guard: Option<oneshot::Sender<()>>,
}

/// Why a response head was refused.
#[derive(Debug)]
pub(crate) enum HeadFailure {
    /// A Trailers-Only response with an error: the server answered with no response
    /// headers, so a retry policy may try the call again, as the pushback allows.
    TrailersOnly(Status, Pushback),
    /// Response headers arrived, and were wrong: the call is over.
    Headers(Status),
}

impl HeadFailure {
    pub(crate) fn into_status(self) -> Status {
        match self {
            HeadFailure::TrailersOnly(status, _) | HeadFailure::Headers(status) => status,
        }
    }
}

impl ResponseHead {
    /// Checks the head of a call's response: a Trailers-Only status, the HTTP status,
    /// the content type and the encoding of the messages.
    pub(crate) fn check(
        response: http::Response<IncomingBody>,
        codec: &CodecSettings,
        deadline: Option<Instant>,
        request_guard: Option<oneshot::Sender<()>>,
    ) -> Result<ResponseHead, Status> {
        match ResponseHead::check_attempt(response, codec, deadline) {
            Ok(head) => Ok(head.holding(request_guard)),
            Err(failure) => Err(failure.into_status()),
        }
    }

    /// Checks the head as [`check`](Self::check) does, telling a Trailers-Only failure
    /// apart from the others; the request guard is given once the call is sure to use
    /// this response, with [`holding`](Self::holding).
    pub(crate) fn check_attempt(
        response: http::Response<IncomingBody>,
        codec: &CodecSettings,
        deadline: Option<Instant>,
    ) -> Result<ResponseHead, HeadFailure> {
        let (parts, body) = response.into_parts();
        let mut head = ResponseHead {
            metadata: MetadataMap::new(),
            extensions: parts.extensions,
            body: None,
            encoding: None,
            max_size: codec.max_receive_message_size,
            deadline,
            request_guard: None,
        };
        if let Some(status) = trailers_only_status(parts.version, &parts.headers, &body) {
            // Trailers-Only: the status arrived in the headers and there is no body.
            if status.code() != Code::Ok {
                let status = blame_deadline(status, deadline, false);
                return Err(HeadFailure::TrailersOnly(status, pushback(&parts.headers)));
            }
            head.metadata = MetadataMap::from_headers(parts.headers);
            return Ok(head);
        }
        if parts.status != http::StatusCode::OK {
            return Err(HeadFailure::Headers(Status::new(
                code_from_http(parts.status),
                format!("unexpected HTTP status {}", parts.status),
            )));
        }
        let content_type = parts.headers.get(CONTENT_TYPE);
        if !is_grpc_content_type(content_type) {
            return Err(HeadFailure::Headers(Status::unknown(format!(
                "unexpected content-type {:?}",
                content_type.map(|value| String::from_utf8_lossy(value.as_bytes()))
            ))));
        }
        head.encoding = message_encoding(parts.headers.get(GRPC_ENCODING), codec.accept_compressed)
            .map_err(|unsupported| {
                HeadFailure::Headers(Status::internal(format!(
                    "the server used grpc-encoding {:?}, which this client does not accept",
                    unsupported.name
                )))
            })?;
        head.metadata = MetadataMap::from_headers(parts.headers);
        head.body = Some(body);
        Ok(head)
    }

    /// The head, holding the request guard until the response ends.
    pub(crate) fn holding(self, request_guard: Option<oneshot::Sender<()>>) -> ResponseHead {
        ResponseHead {
            request_guard,
            ..self
        }
    }

    /// The response messages as a stream, for the streaming-response kinds.
    pub(crate) fn into_streaming<Res>(self, form: MessageForm<Res>) -> Response<Streaming<Res>> {
        let stream = match self.body {
            Some(body) => Streaming::new(
                body,
                Direction::Response,
                self.max_size,
                self.encoding,
                self.deadline,
                form,
            )
            .ending_request_on_drop(self.request_guard),
            // The headers were the trailers.
            None => Streaming::finished(self.metadata.clone()),
        };
        Response::from_parts(self.metadata, stream, MetadataMap::new(), self.extensions)
    }

    /// Reads the only response message of a unary or client-streaming call, and the
    /// trailers, straight from the body.
    ///
    /// A failure carries the response headers, then its own metadata (the trailers), as
    /// its metadata: the caller has no other way to see the headers of a failed call.
    pub(crate) async fn read_single<Res: Message + Default>(
        self,
        form: MessageForm<Res>,
    ) -> Result<Response<Res>, Status> {
        let ResponseHead {
            metadata,
            mut extensions,
            body,
            encoding,
            max_size,
            deadline,
            request_guard: _request_guard,
        } = self;
        // Straight-line, not an inner `async` block: that block's future would be moved
        // into this one, at the cost of a copy of its whole size.
        let Some(body) = body else {
            return Err(after_headers(metadata, no_message("the response")));
        };
        let mut decoder = FrameDecoder::new(max_size, encoding);
        let read = read_single_frame(body, &mut decoder, "the response");
        let read = within_deadline(deadline, read)
            .await
            .map_err(|status| blame_deadline(status, deadline, true));
        let reply = read.and_then(|(payload, trailers)| {
            let trailers = response_trailers(trailers.ok_or_else(missing_trailers)?)
                .map_err(|status| blame_deadline(status, deadline, false))?;
            let payload = payload.ok_or_else(|| no_message("the response"))?;
            Ok((form.decode(payload)?, trailers))
        });
        match reply {
            Ok((message, trailers)) => {
                if decoder.last_compressed() {
                    extensions.insert(Compressed);
                }
                Ok(Response::from_parts(
                    metadata, message, trailers, extensions,
                ))
            }
            Err(status) => Err(after_headers(metadata, status)),
        }
    }
}

/// The status of a Trailers-Only response: the `grpc-status` of its one header block.
/// Over HTTP/2 that block must end the stream: a status in headers that a body follows
/// is not the call's, its trailers will say (PROTOCOL-HTTP2.md). Over HTTP/1.1 a body of
/// unknown length may end empty after such headers, so there they count as they come.
fn trailers_only_status(
    version: http::Version,
    headers: &http::HeaderMap,
    body: &IncomingBody,
) -> Option<Status> {
    if version == http::Version::HTTP_2 && !http_body::Body::is_end_stream(body) {
        return None;
    }
    Status::from_headers(headers)
}

/// `status` with `headers` before its own metadata.
fn after_headers(headers: MetadataMap, status: Status) -> Status {
    if headers.is_empty() {
        return status;
    }
    let mut metadata = headers;
    metadata.extend(status.metadata().clone());
    status.with_metadata(metadata)
}
