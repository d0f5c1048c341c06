//! The server side of a call, for the four call kinds: check the request head, decode the
//! request, run the handler under the call's deadline, encode the response. Generated
//! services call these.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures_core::Stream;
use http::header::{CONTENT_TYPE, HeaderValue};
use http::{HeaderMap, StatusCode};
use prost::Message;
use tokio::time::Instant;

use super::deadline::{WithinDeadline, within_deadline};
use super::encode_body::{StreamTrailers, response_body};
use super::service_config::ServiceConfig;
use super::streaming::{Direction, Streaming, no_message, read_single_frame};
use super::wire::{
    CallHeaders, GRPC_ACCEPT_ENCODING, GRPC_CONTENT_TYPE, GRPC_ENCODING, grpc_content_type,
    grpc_format, is_grpc_content_type, message_encoding, parse_timeout,
};
use crate::boxed::BoxError;
use crate::codec::decode::FrameDecoder;
use crate::codec::encode::FrameEncoder;
use crate::codec::{
    Codec, CodecSettings, Compressed, CompressionChoice, Encoding, EncodingSet, Format,
    MessageForm, unsupported_format,
};
use crate::metadata::MetadataMap;
use crate::request::{Peer, Request};
use crate::response::Response;
use crate::status::{Code, Status};
use crate::transport::body::Body;
use crate::transport::incoming::IncomingBody;

/// A request body a generated service can serve: any HTTP body whose errors box. The
/// server's own [`IncomingBody`] is read as it is; any other is boxed into one.
pub trait CallBody: http_body::Body<Error: Into<BoxError>> + Send + 'static {}

impl<B> CallBody for B where B: http_body::Body<Error: Into<BoxError>> + Send + 'static {}

/// Marks a request that came as an HTTP GET (a Connect unary call in the query), allowed
/// only for methods without side effects.
#[derive(Debug, Clone, Copy)]
pub(crate) struct GetRequest;

/// What every call kind reads from the request head before the body.
struct CallHead {
    metadata: MetadataMap,
    deadline: Option<Instant>,
    extensions: http::Extensions,
    settings: CodecSettings,
    /// Encoding of the request messages.
    request_encoding: Option<Encoding>,
    /// Encodings the client accepts for responses.
    client_accepts: EncodingSet,
    /// The format of the messages both ways.
    format: Format,
    peer: Peer,
}

/// Why a request was refused before reaching its handler.
enum Rejection {
    /// Not a gRPC request at all: a plain HTTP error.
    Http(StatusCode, &'static str),
    /// A gRPC request with an invalid header.
    Grpc(Status),
    /// Messages in an encoding this service does not accept.
    Encoding(String, EncodingSet),
}

impl Rejection {
    fn into_response(self) -> http::Response<Body> {
        match self {
            Rejection::Http(status, text) => plain_response(status, text),
            Rejection::Grpc(status) => status_response(status),
            Rejection::Encoding(name, accepted) => {
                let message = format!("grpc-encoding {name:?} is not supported");
                let mut response = status_response(Status::unimplemented(message));
                let headers = response.headers_mut();
                headers.insert(GRPC_ACCEPT_ENCODING, accepted.header_value());
                response
            }
        }
    }
}

impl CallHead {
    /// Validates method, content type, timeout and encoding.
    fn parse(
        parts: http::request::Parts,
        peer: Peer,
        config: &ServiceConfig,
    ) -> Result<CallHead, Rejection> {
        if parts.extensions.get::<GetRequest>().is_some() && !config.allows_get() {
            return Err(Rejection::Http(
                StatusCode::METHOD_NOT_ALLOWED,
                "this method has side effects: call it with POST",
            ));
        }
        if parts.method != http::Method::POST {
            return Err(Rejection::Http(
                StatusCode::METHOD_NOT_ALLOWED,
                "gRPC requests must use POST",
            ));
        }
        let headers = CallHeaders::find(&parts.headers);
        if !is_grpc_content_type(headers.content_type) {
            return Err(Rejection::Http(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "invalid gRPC request content-type",
            ));
        }
        let format = grpc_format(headers.content_type).map_err(|subtype| {
            Rejection::Grpc(Status::internal(format!(
                "no codec for content-subtype {subtype:?}"
            )))
        })?;
        let deadline = match headers.timeout {
            None => None,
            Some(value) => match parse_timeout(value) {
                Some(timeout) => Some(Instant::now() + timeout),
                None => {
                    return Err(Rejection::Grpc(Status::invalid_argument(format!(
                        "invalid grpc-timeout: {value:?}"
                    ))));
                }
            },
        };
        let settings = config.settings();
        let accepted = settings.accept_compressed;
        let request_encoding = message_encoding(headers.encoding, accepted)
            .map_err(|unsupported| Rejection::Encoding(unsupported.name, accepted))?;
        let client_accepts = EncodingSet::from_header(headers.accept_encoding);
        Ok(CallHead {
            metadata: MetadataMap::from_headers(parts.headers),
            deadline,
            extensions: parts.extensions,
            settings,
            request_encoding,
            client_accepts,
            format,
            peer,
        })
    }

    fn into_request<T>(self, message: T) -> Request<T> {
        Request::from_parts(
            self.metadata,
            message,
            self.deadline,
            self.extensions,
            self.peer,
        )
    }

    /// The inbound messages of the call.
    fn request_stream<T>(&self, body: IncomingBody, form: MessageForm<T>) -> Streaming<T> {
        Streaming::new(
            body,
            Direction::Request,
            self.settings.max_receive_message_size,
            self.request_encoding,
            None,
            form,
        )
    }

    /// A decoder for the request messages.
    ///
    /// Unary and server-streaming calls read their request in their own future rather than
    /// through a helper future: the read then shares space with the handler's future,
    /// which keeps the boxed call future small.
    fn decoder(&self) -> FrameDecoder {
        FrameDecoder::new(
            self.settings.max_receive_message_size,
            self.request_encoding,
        )
    }

    /// The request of a unary or server-streaming call, from its only message; marked
    /// [`Compressed`] if the message was.
    fn single_request<C: Codec<T>, T: Message + Default>(
        mut self,
        payload: Option<Bytes>,
        compressed: bool,
    ) -> Result<Request<T>, Status> {
        let payload = payload.ok_or_else(|| no_message("the request"))?;
        if compressed {
            self.extensions.insert(Compressed);
        }
        let form = MessageForm::of::<C>(self.format)?;
        Ok(self.into_request(form.decode(payload)?))
    }

    /// What the response head and encoder need once the request has been consumed.
    fn response_plan(&self) -> ResponsePlan {
        ResponsePlan {
            settings: self.settings,
            client_accepts: self.client_accepts,
            deadline: self.deadline,
            format: self.format,
        }
    }
}

/// How to send the response of a call.
struct ResponsePlan {
    settings: CodecSettings,
    client_accepts: EncodingSet,
    deadline: Option<Instant>,
    format: Format,
}

impl ResponsePlan {
    /// The encoder for the response: the handler's choice of compression, else the
    /// service's, used only when the client accepts it.
    fn encoder(&self, choice: CompressionChoice) -> FrameEncoder {
        let settings = &self.settings;
        let mut encoder = FrameEncoder::new(
            settings.max_send_message_size,
            settings.send_compressed,
            choice,
        );
        encoder.encoding = encoder
            .encoding
            .filter(|encoding| self.client_accepts.contains(*encoding));
        encoder
    }

    /// The response: status 200 with the content type, encodings and initial metadata.
    fn response(
        &self,
        metadata: MetadataMap,
        encoding: Option<Encoding>,
        body: Body,
        extensions: http::Extensions,
    ) -> http::Response<Body> {
        let mut headers = metadata.into_headers();
        headers.insert(CONTENT_TYPE, grpc_content_type(self.format));
        if let Some(encoding) = encoding {
            headers.insert(GRPC_ENCODING, HeaderValue::from_static(encoding.name()));
        }
        headers.insert(
            GRPC_ACCEPT_ENCODING,
            self.settings.accept_compressed.header_value(),
        );
        let mut response = http::Response::new(body);
        *response.headers_mut() = headers;
        *response.extensions_mut() = extensions;
        response
    }

    /// A unary response: one DATA frame with the message, then the OK status trailers.
    fn unary<C: Codec<T>, T: Message + Default>(
        &self,
        mut response: Response<T>,
    ) -> Result<http::Response<Body>, Status> {
        let form = MessageForm::of::<C>(self.format)?;
        let encoder = self.encoder(response.compression());
        let late = response.take_late_trailers();
        let (metadata, message, mut trailers, extensions) = response.into_parts();
        if let Some(late) = late {
            trailers.extend(late.take());
        }
        let mut data = bytes::BytesMut::new();
        form.encode(&encoder, &message, &mut data)?;
        let mut trailer_headers = trailers.into_headers();
        Status::new(Code::Ok, "").write_to(&mut trailer_headers);
        let body = Body::full(Some(data.freeze()), Some(trailer_headers));
        Ok(self.response(metadata, encoder.encoding, body, extensions))
    }

    /// A streaming response: messages as the handler's stream yields them, then trailers.
    fn streaming<C, S, T>(&self, mut response: Response<S>) -> Result<http::Response<Body>, Status>
    where
        C: Codec<T>,
        S: Stream<Item = Result<T, Status>> + Send + 'static,
        T: Message + Default + 'static,
    {
        let form = MessageForm::of::<C>(self.format)?;
        let encoder = self.encoder(response.compression());
        let late = response.take_late_trailers();
        let (metadata, stream, trailers, extensions) = response.into_parts();
        let trailers = StreamTrailers { trailers, late };
        let encoding = encoder.encoding;
        let body = response_body(stream, encoder, form, trailers, self.deadline);
        Ok(self.response(metadata, encoding, body, extensions))
    }
}

/// The future serving one call, which generated services box.
pub trait CallFuture: Future<Output = Result<http::Response<Body>, Infallible>> {}

impl<F> CallFuture for F where F: Future<Output = Result<http::Response<Body>, Infallible>> {}

/// Serves a unary call, with messages in the formats of `codec`.
pub fn unary<C, B, Req, Res, F, Fut>(
    request: http::Request<B>,
    config: ServiceConfig,
    _codec: C,
    handler: F,
) -> impl CallFuture
where
    C: Codec<Req> + Codec<Res>,
    B: CallBody,
    Req: Message + Default + 'static,
    Res: Message + Default + 'static,
    F: FnOnce(Request<Req>) -> Fut,
    Fut: Future<Output = Result<Response<Res>, Status>>,
{
    serve(
        request,
        &config,
        has_json::<C, Req, Res>(),
        move |head, body| {
            let plan = head.response_plan();
            let mut decoder = head.decoder();
            async move {
                let (payload, _) = read_single_frame(body, &mut decoder, "the request").await?;
                let request = head.single_request::<C, _>(payload, decoder.last_compressed())?;
                plan.unary::<C, _>(handler(request).await?)
            }
        },
    )
}

/// Serves a server-streaming call, with messages in the formats of `codec`.
pub fn server_streaming<C, B, Req, Res, S, F, Fut>(
    request: http::Request<B>,
    config: ServiceConfig,
    _codec: C,
    handler: F,
) -> impl CallFuture
where
    C: Codec<Req> + Codec<Res>,
    B: CallBody,
    Req: Message + Default + 'static,
    Res: Message + Default + 'static,
    S: Stream<Item = Result<Res, Status>> + Send + 'static,
    F: FnOnce(Request<Req>) -> Fut,
    Fut: Future<Output = Result<Response<S>, Status>>,
{
    serve(
        request,
        &config,
        has_json::<C, Req, Res>(),
        move |head, body| {
            let plan = head.response_plan();
            let mut decoder = head.decoder();
            async move {
                let (payload, _) = read_single_frame(body, &mut decoder, "the request").await?;
                let request = head.single_request::<C, _>(payload, decoder.last_compressed())?;
                plan.streaming::<C, _, _>(handler(request).await?)
            }
        },
    )
}

/// Serves a client-streaming call, with messages in the formats of `codec`.
pub fn client_streaming<C, B, Req, Res, F, Fut>(
    request: http::Request<B>,
    config: ServiceConfig,
    _codec: C,
    handler: F,
) -> impl CallFuture
where
    C: Codec<Req> + Codec<Res>,
    B: CallBody,
    Req: Message + Default + 'static,
    Res: Message + Default + 'static,
    F: FnOnce(Request<Streaming<Req>>) -> Fut,
    Fut: Future<Output = Result<Response<Res>, Status>>,
{
    serve(
        request,
        &config,
        has_json::<C, Req, Res>(),
        move |head, body| {
            let plan = head.response_plan();
            let started = MessageForm::of::<C>(head.format).map(|form| {
                let stream = head.request_stream(body, form);
                head.into_request(stream)
            });
            async move { plan.unary::<C, _>(handler(started?).await?) }
        },
    )
}

/// Serves a bidirectional-streaming call, with messages in the formats of `codec`.
pub fn bidi_streaming<C, B, Req, Res, S, F, Fut>(
    request: http::Request<B>,
    config: ServiceConfig,
    _codec: C,
    handler: F,
) -> impl CallFuture
where
    C: Codec<Req> + Codec<Res>,
    B: CallBody,
    Req: Message + Default + 'static,
    Res: Message + Default + 'static,
    S: Stream<Item = Result<Res, Status>> + Send + 'static,
    F: FnOnce(Request<Streaming<Req>>) -> Fut,
    Fut: Future<Output = Result<Response<S>, Status>>,
{
    serve(
        request,
        &config,
        has_json::<C, Req, Res>(),
        move |head, body| {
            let plan = head.response_plan();
            let started = MessageForm::of::<C>(head.format).map(|form| {
                let stream = head.request_stream(body, form);
                head.into_request(stream)
            });
            async move { plan.streaming::<C, _, _>(handler(started?).await?) }
        },
    )
}

/// Answers a path no service method matches with `UNIMPLEMENTED`.
pub fn unimplemented<B>(request: http::Request<B>) -> impl CallFuture {
    std::future::ready(Ok(unimplemented_response(&request)))
}

/// Marks the `UNIMPLEMENTED` answer to a path that no service method serves, which
/// Connect sends as `404 Not Found` (a handler's own `UNIMPLEMENTED` is a `501`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct UnknownMethod;

/// The `UNIMPLEMENTED` Trailers-Only response for a request to an unknown path.
pub(crate) fn unimplemented_response<B>(request: &http::Request<B>) -> http::Response<Body> {
    let path = request.uri().path();
    let status = Status::unimplemented(format!("method not found: {path}"));
    let mut response = status_response_in(status, request_format(request.headers()));
    response.extensions_mut().insert(UnknownMethod);
    response
}

/// The format of a gRPC request's messages, protobuf when its content type names none
/// rsrpc has.
pub(crate) fn request_format(headers: &HeaderMap) -> Format {
    grpc_format(headers.get(CONTENT_TYPE)).unwrap_or_default()
}

/// Validates the request head, then starts `call`, to run until the call's deadline.
///
/// The head is parsed before the future is built, so that the future holds only what the
/// call still needs: every call's future is boxed and moved while it is built.
/// Whether codec `C` has a JSON form for both message types.
fn has_json<C: Codec<Req> + Codec<Res>, Req, Res>() -> bool {
    <C as Codec<Req>>::json().is_some() && <C as Codec<Res>>::json().is_some()
}

/// A call in a format its codec lacks (JSON, generated without it) is refused here, before
/// its body is read.
fn serve<B, C, Fut>(
    request: http::Request<B>,
    config: &ServiceConfig,
    json: bool,
    call: C,
) -> ServeCall<Fut>
where
    B: CallBody,
    C: FnOnce(CallHead, IncomingBody) -> Fut,
    Fut: Future<Output = Result<http::Response<Body>, Status>>,
{
    let (parts, body) = request.into_parts();
    let mut body = IncomingBody::from_body(body);
    // The peer moves from the server's body to the handler's request.
    let peer = body.take_peer();
    let head = CallHead::parse(parts, peer, config).and_then(|head| match head.format {
        Format::Json if !json => Err(Rejection::Grpc(unsupported_format(Format::Json))),
        _ => Ok(head),
    });
    match head {
        Ok(head) => ServeCall::Running {
            format: head.format,
            call: within_deadline(head.deadline, call(head, body)),
        },
        Err(rejection) => ServeCall::Refused {
            response: Some(rejection.into_response()),
        },
    }
}

pin_project_lite::pin_project! {
    /// A call's future: its handler, raced against its deadline; failures become
    /// Trailers-Only responses.
    #[project = ServeCallProjection]
    enum ServeCall<F> {
        /// Refused before reaching the handler.
        Refused { response: Option<http::Response<Body>> },
        /// Running the handler, whose messages are in `format`.
        Running {
            format: Format,
            #[pin]
            call: WithinDeadline<F>,
        },
    }
}

impl<F> Future for ServeCall<F>
where
    F: Future<Output = Result<http::Response<Body>, Status>>,
{
    type Output = Result<http::Response<Body>, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let response = match self.project() {
            ServeCallProjection::Refused { response } => response
                .take()
                .unwrap_or_else(|| status_response(Status::internal("call polled after its end"))),
            ServeCallProjection::Running { format, call } => {
                let format = *format;
                std::task::ready!(call.poll(cx))
                    .unwrap_or_else(|status| status_response_in(status, format))
            }
        };
        Poll::Ready(Ok(response))
    }
}

/// A Trailers-Only response to a call whose messages are in `format`.
pub(crate) fn status_response_in(status: Status, format: Format) -> http::Response<Body> {
    let mut response = status_response(status);
    if format != Format::Proto {
        let headers = response.headers_mut();
        headers.insert(CONTENT_TYPE, grpc_content_type(format));
    }
    response
}

/// A Trailers-Only response: one header block holding the status, and no body.
pub(crate) fn status_response(status: Status) -> http::Response<Body> {
    let mut headers: HeaderMap = status.to_header_map();
    headers.insert(CONTENT_TYPE, GRPC_CONTENT_TYPE);
    let mut response = http::Response::new(Body::empty());
    *response.headers_mut() = headers;
    response
}

/// A non-gRPC HTTP error with a short text body.
pub(crate) fn plain_response(status: StatusCode, text: &'static str) -> http::Response<Body> {
    let mut response = http::Response::new(Body::full(
        Some(bytes::Bytes::from_static(text.as_bytes())),
        None,
    ));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("text/plain"));
    if status == StatusCode::METHOD_NOT_ALLOWED {
        headers.insert(http::header::ALLOW, HeaderValue::from_static("POST"));
    }
    response
}
