//! The four call kinds on the server: decode the request, run the handler under the call's
//! deadline, encode the response. Generated services call these.

use std::convert::Infallible;
use std::future::Future;

use futures_core::Stream;
use http::header::{CONTENT_TYPE, HeaderValue};
use http::{HeaderMap, StatusCode};
use prost::Message;
use tokio::time::Instant;

use super::ServiceConfig;
use crate::codec::encode::encode_frame;
use crate::codegen::BoxError;
use crate::streaming::Direction;
use crate::{Body, MetadataMap, Request, Response, Status, Streaming, timeout};

/// Content type of gRPC responses.
const GRPC_CONTENT_TYPE: HeaderValue = HeaderValue::from_static("application/grpc");

/// The parts of an HTTP request that every call kind reads before the body.
struct CallHead {
    metadata: MetadataMap,
    deadline: Option<Instant>,
    extensions: http::Extensions,
}

/// Why a request was refused before reaching its handler.
enum Rejection {
    /// Not a gRPC request at all: a plain HTTP error.
    Http(StatusCode, &'static str),
    /// A gRPC request with an invalid header.
    Grpc(Status),
}

impl Rejection {
    fn into_response(self) -> http::Response<Body> {
        match self {
            Rejection::Http(status, text) => plain_response(status, text),
            Rejection::Grpc(status) => status_response(status),
        }
    }
}

impl CallHead {
    /// Validates method and content type and reads metadata and deadline.
    fn parse(parts: http::request::Parts) -> Result<CallHead, Rejection> {
        if parts.method != http::Method::POST {
            return Err(Rejection::Http(
                StatusCode::METHOD_NOT_ALLOWED,
                "gRPC requests must use POST",
            ));
        }
        if !is_grpc_content_type(parts.headers.get(CONTENT_TYPE)) {
            return Err(Rejection::Http(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "invalid gRPC request content-type",
            ));
        }
        let deadline = match parts.headers.get(timeout::GRPC_TIMEOUT) {
            None => None,
            Some(value) => match timeout::parse(value) {
                Some(timeout) => Some(Instant::now() + timeout),
                None => {
                    return Err(Rejection::Grpc(Status::invalid_argument(format!(
                        "invalid grpc-timeout: {value:?}"
                    ))));
                }
            },
        };
        Ok(CallHead {
            metadata: MetadataMap::from_headers(parts.headers),
            deadline,
            extensions: parts.extensions,
        })
    }

    fn into_request<T>(self, message: T) -> Request<T> {
        Request::from_parts(self.metadata, message, self.deadline, self.extensions)
    }
}

/// Whether a content type is `application/grpc` or `application/grpc+<subtype>`.
fn is_grpc_content_type(value: Option<&HeaderValue>) -> bool {
    let Some(value) = value else { return false };
    let bytes = value.as_bytes();
    let rest = match bytes.strip_prefix(b"application/grpc") {
        Some(rest) => rest,
        None => return false,
    };
    rest.is_empty() || rest.starts_with(b"+") || rest.starts_with(b";")
}

/// Serves a unary call.
pub async fn unary<B, Req, Res, F, Fut>(
    request: http::Request<B>,
    config: ServiceConfig,
    handler: F,
) -> Result<http::Response<Body>, Infallible>
where
    B: http_body::Body + Send + 'static,
    B::Error: Into<BoxError>,
    Req: Message + Default + 'static,
    Res: Message + 'static,
    F: FnOnce(Request<Req>) -> Fut,
    Fut: Future<Output = Result<Response<Res>, Status>>,
{
    serve(request, async |head, body| {
        let message = single_message(body, &config).await?;
        let response = handler(head.into_request(message)).await?;
        unary_response(response, &config)
    })
    .await
}

/// Serves a server-streaming call.
pub async fn server_streaming<B, Req, Res, S, F, Fut>(
    request: http::Request<B>,
    config: ServiceConfig,
    handler: F,
) -> Result<http::Response<Body>, Infallible>
where
    B: http_body::Body + Send + 'static,
    B::Error: Into<BoxError>,
    Req: Message + Default + 'static,
    Res: Message + 'static,
    S: Stream<Item = Result<Res, Status>> + Send + 'static,
    F: FnOnce(Request<Req>) -> Fut,
    Fut: Future<Output = Result<Response<S>, Status>>,
{
    serve(request, async |head, body| {
        let deadline = head.deadline;
        let message = single_message(body, &config).await?;
        let response = handler(head.into_request(message)).await?;
        Ok(streaming_response(response, &config, deadline))
    })
    .await
}

/// Serves a client-streaming call.
pub async fn client_streaming<B, Req, Res, F, Fut>(
    request: http::Request<B>,
    config: ServiceConfig,
    handler: F,
) -> Result<http::Response<Body>, Infallible>
where
    B: http_body::Body + Send + 'static,
    B::Error: Into<BoxError>,
    Req: Message + Default + 'static,
    Res: Message + 'static,
    F: FnOnce(Request<Streaming<Req>>) -> Fut,
    Fut: Future<Output = Result<Response<Res>, Status>>,
{
    serve(request, async |head, body| {
        let stream = request_stream(body, &config);
        let response = handler(head.into_request(stream)).await?;
        unary_response(response, &config)
    })
    .await
}

/// Serves a bidirectional-streaming call.
pub async fn bidi_streaming<B, Req, Res, S, F, Fut>(
    request: http::Request<B>,
    config: ServiceConfig,
    handler: F,
) -> Result<http::Response<Body>, Infallible>
where
    B: http_body::Body + Send + 'static,
    B::Error: Into<BoxError>,
    Req: Message + Default + 'static,
    Res: Message + 'static,
    S: Stream<Item = Result<Res, Status>> + Send + 'static,
    F: FnOnce(Request<Streaming<Req>>) -> Fut,
    Fut: Future<Output = Result<Response<S>, Status>>,
{
    serve(request, async |head, body| {
        let deadline = head.deadline;
        let stream = request_stream(body, &config);
        let response = handler(head.into_request(stream)).await?;
        Ok(streaming_response(response, &config, deadline))
    })
    .await
}

/// Answers a path no service method matches with `UNIMPLEMENTED`.
pub async fn unimplemented<B>(
    request: http::Request<B>,
) -> Result<http::Response<Body>, Infallible> {
    Ok(unimplemented_response(request.uri().path()))
}

/// The `UNIMPLEMENTED` Trailers-Only response for an unknown path.
pub(crate) fn unimplemented_response(path: &str) -> http::Response<Body> {
    status_response(Status::unimplemented(format!("method not found: {path}")))
}

/// Validates the request head, then runs `call` until the deadline; a failure anywhere
/// becomes a Trailers-Only response.
async fn serve<B>(
    request: http::Request<B>,
    call: impl AsyncFnOnce(CallHead, B) -> Result<http::Response<Body>, Status>,
) -> Result<http::Response<Body>, Infallible> {
    let (parts, body) = request.into_parts();
    let head = match CallHead::parse(parts) {
        Ok(head) => head,
        Err(rejection) => return Ok(rejection.into_response()),
    };
    let result = match head.deadline {
        Some(deadline) => match tokio::time::timeout_at(deadline, call(head, body)).await {
            Ok(result) => result,
            Err(_) => Err(Status::deadline_exceeded("deadline exceeded")),
        },
        None => call(head, body).await,
    };
    Ok(result.unwrap_or_else(status_response))
}

/// Reads the single request message of a unary or server-streaming call.
async fn single_message<B, T>(body: B, config: &ServiceConfig) -> Result<T, Status>
where
    B: http_body::Body + Send + 'static,
    B::Error: Into<BoxError>,
    T: Message + Default,
{
    let mut stream = request_stream::<B, T>(body, config);
    let message = stream
        .message()
        .await?
        .ok_or_else(|| Status::internal("the request has no message"))?;
    if stream.message().await?.is_some() {
        return Err(Status::internal(
            "the request has more than one message for a unary method",
        ));
    }
    Ok(message)
}

fn request_stream<B, T>(body: B, config: &ServiceConfig) -> Streaming<T>
where
    B: http_body::Body + Send + 'static,
    B::Error: Into<BoxError>,
{
    Streaming::new(
        body,
        Direction::Request,
        config.max_receive_message_size,
        None,
    )
}

/// Response headers: status 200, gRPC content type and the initial metadata.
fn response_head(metadata: MetadataMap) -> http::response::Builder {
    let mut headers = metadata.into_headers();
    headers.insert(CONTENT_TYPE, GRPC_CONTENT_TYPE);
    let mut builder = http::Response::builder().status(StatusCode::OK);
    if let Some(slot) = builder.headers_mut() {
        *slot = headers;
    }
    builder
}

/// A unary response: one DATA frame with the message, then the OK status trailers.
fn unary_response<T: Message>(
    response: Response<T>,
    config: &ServiceConfig,
) -> Result<http::Response<Body>, Status> {
    let (metadata, message, trailers, extensions) = response.into_parts();
    let mut data = bytes::BytesMut::new();
    encode_frame(&message, &mut data, config.max_send_message_size)?;
    let mut trailer_headers = trailers.into_headers();
    Status::new(crate::Code::Ok, "").write_to(&mut trailer_headers);
    let body = Body::full(Some(data.freeze()), Some(trailer_headers));
    Ok(with_extensions(
        response_head(metadata).body(body),
        extensions,
    ))
}

/// A streaming response: messages as the handler's stream yields them, then trailers.
fn streaming_response<S, T>(
    response: Response<S>,
    config: &ServiceConfig,
    deadline: Option<Instant>,
) -> http::Response<Body>
where
    S: Stream<Item = Result<T, Status>> + Send + 'static,
    T: Message + 'static,
{
    let (metadata, stream, trailers, extensions) = response.into_parts();
    let body = Body::streaming(
        stream,
        config.max_send_message_size,
        Some(trailers),
        deadline,
    );
    with_extensions(response_head(metadata).body(body), extensions)
}

fn with_extensions(
    response: http::Result<http::Response<Body>>,
    extensions: http::Extensions,
) -> http::Response<Body> {
    match response {
        Ok(mut response) => {
            response.extensions_mut().extend(extensions);
            response
        }
        Err(error) => status_response(Status::internal(format!("invalid response: {error}"))),
    }
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
fn plain_response(status: StatusCode, text: &'static str) -> http::Response<Body> {
    let mut response = http::Response::new(Body::full(
        Some(bytes::Bytes::from_static(text.as_bytes())),
        None,
    ));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("text/plain"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grpc_content_types_are_recognised() {
        let check =
            |value: &'static str| is_grpc_content_type(Some(&HeaderValue::from_static(value)));
        assert!(check("application/grpc"));
        assert!(check("application/grpc+proto"));
        assert!(check("application/grpc;charset=utf-8"));
        assert!(!check("application/grpcx"));
        assert!(!check("application/json"));
        assert!(!is_grpc_content_type(None));
    }
}
