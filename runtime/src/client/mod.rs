//! The client side: [`Channel`] carries calls; [`Grpc`] runs the four call kinds on it for
//! generated clients.

mod channel;

use std::time::Duration;

use bytes::BytesMut;
use futures_core::Stream;
use http::header::{CONTENT_TYPE, HeaderValue, TE, USER_AGENT};
use prost::Message;
use tokio::time::Instant;

pub use channel::{Channel, ChannelBuilder};

use crate::codec::encode::encode_frame;
use crate::codec::{DEFAULT_MAX_RECEIVE_SIZE, DEFAULT_MAX_SEND_SIZE};
use crate::status::code_from_http;
use crate::streaming::Direction;
use crate::{Body, Code, MetadataMap, Request, Response, Status, Streaming, timeout};

/// The `user-agent` rsrpc clients send.
const USER_AGENT_VALUE: &str = concat!("rsrpc/", env!("CARGO_PKG_VERSION"));

/// Settings applied to every call of a client.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    max_receive_message_size: usize,
    max_send_message_size: usize,
    timeout: Option<Duration>,
}

impl Default for ClientConfig {
    fn default() -> Self {
        ClientConfig {
            max_receive_message_size: DEFAULT_MAX_RECEIVE_SIZE,
            max_send_message_size: DEFAULT_MAX_SEND_SIZE,
            timeout: None,
        }
    }
}

impl ClientConfig {
    /// Largest response message accepted (default 4 MiB); larger ones fail the call with
    /// `RESOURCE_EXHAUSTED` before they are buffered.
    pub fn max_receive_message_size(mut self, limit: usize) -> Self {
        self.max_receive_message_size = limit;
        self
    }

    /// Largest request message sent; a larger one fails the call with
    /// `RESOURCE_EXHAUSTED` without sending it.
    pub fn max_send_message_size(mut self, limit: usize) -> Self {
        self.max_send_message_size = limit;
        self
    }

    /// Timeout for calls whose request sets none.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }
}

/// Runs calls of the four kinds over a [`Channel`]. Generated clients wrap one; it is
/// cheap to clone, and every method takes `&self`.
#[derive(Debug, Clone)]
pub struct Grpc {
    channel: Channel,
    config: ClientConfig,
}

impl Grpc {
    /// Calls over `channel` with default settings.
    pub fn new(channel: Channel) -> Grpc {
        Grpc {
            channel,
            config: ClientConfig::default(),
        }
    }

    /// Replaces the settings.
    pub fn with_config(self, config: ClientConfig) -> Grpc {
        Grpc { config, ..self }
    }

    /// A unary call.
    pub async fn unary<Req, Res>(
        &self,
        request: Request<Req>,
        path: &'static str,
    ) -> Result<Response<Res>, Status>
    where
        Req: Message,
        Res: Message + Default,
    {
        let (request, body) = self.unary_body(request)?;
        let response = self.start(request, body, path).await?;
        read_single(response).await
    }

    /// A server-streaming call: one request, a stream of responses.
    pub async fn server_streaming<Req, Res>(
        &self,
        request: Request<Req>,
        path: &'static str,
    ) -> Result<Response<Streaming<Res>>, Status>
    where
        Req: Message,
    {
        let (request, body) = self.unary_body(request)?;
        self.start(request, body, path).await
    }

    /// A client-streaming call: a stream of requests, one response.
    pub async fn client_streaming<S, Req, Res>(
        &self,
        request: Request<S>,
        path: &'static str,
    ) -> Result<Response<Res>, Status>
    where
        S: Stream<Item = Req> + Send + 'static,
        Req: Message + 'static,
        Res: Message + Default,
    {
        let (request, body) = self.streaming_body(request);
        let response = self.start(request, body, path).await?;
        read_single(response).await
    }

    /// A bidirectional-streaming call.
    pub async fn bidi_streaming<S, Req, Res>(
        &self,
        request: Request<S>,
        path: &'static str,
    ) -> Result<Response<Streaming<Res>>, Status>
    where
        S: Stream<Item = Req> + Send + 'static,
        Req: Message + 'static,
    {
        let (request, body) = self.streaming_body(request);
        self.start(request, body, path).await
    }

    /// Encodes the single request message of a unary or server-streaming call.
    fn unary_body<Req: Message>(
        &self,
        request: Request<Req>,
    ) -> Result<(Request<()>, Body), Status> {
        let (request, message) = request.split();
        let mut data = BytesMut::new();
        encode_frame(&message, &mut data, self.config.max_send_message_size)?;
        Ok((request, Body::full(Some(data.freeze()), None)))
    }

    /// Wraps a request stream into a body that encodes messages as they come.
    fn streaming_body<S, Req>(&self, request: Request<S>) -> (Request<()>, Body)
    where
        S: Stream<Item = Req> + Send + 'static,
        Req: Message + 'static,
    {
        let (request, source) = request.split();
        let source = crate::body::OkItems::new(source);
        let body = Body::streaming(source, self.config.max_send_message_size, None, None);
        (request, body)
    }

    /// Sends the request head and body, and waits for the response head.
    async fn start<Res>(
        &self,
        request: Request<()>,
        body: Body,
        path: &'static str,
    ) -> Result<Response<Streaming<Res>>, Status> {
        let deadline = request.effective_deadline(self.config.timeout);
        let (metadata, (), extensions) = request.into_parts();
        let mut http_request = http::Request::new(body);
        *http_request.method_mut() = http::Method::POST;
        *http_request.uri_mut() = self.channel.uri(path);
        *http_request.extensions_mut() = extensions;
        let headers = http_request.headers_mut();
        *headers = metadata.into_headers();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/grpc"));
        headers.insert(TE, HeaderValue::from_static("trailers"));
        headers.insert(USER_AGENT, HeaderValue::from_static(USER_AGENT_VALUE));
        if let Some(deadline) = deadline {
            let remaining = deadline.saturating_duration_since(Instant::now());
            headers.insert(timeout::GRPC_TIMEOUT, timeout::encode(remaining));
        }

        let send = self.channel.send(http_request);
        let response = match deadline {
            Some(deadline) => tokio::time::timeout_at(deadline, send)
                .await
                .map_err(|_| Status::deadline_exceeded("deadline exceeded"))??,
            None => send.await?,
        };
        let (parts, body) = response.into_parts();
        if let Some(status) = Status::from_headers(&parts.headers) {
            // Trailers-Only: the status arrived in the headers and there is no body.
            if status.code() != Code::Ok {
                return Err(status);
            }
            let metadata = MetadataMap::from_headers(parts.headers);
            let stream = Streaming::finished(metadata.clone());
            return Ok(Response::from_parts(
                metadata,
                stream,
                MetadataMap::new(),
                parts.extensions,
            ));
        }
        if parts.status != http::StatusCode::OK {
            return Err(Status::new(
                code_from_http(parts.status),
                format!("unexpected HTTP status {}", parts.status),
            ));
        }
        let content_type = parts.headers.get(CONTENT_TYPE).map(HeaderValue::as_bytes);
        if !content_type.is_some_and(|value| value.starts_with(b"application/grpc")) {
            return Err(Status::unknown(format!(
                "unexpected content-type {:?}",
                content_type.map(String::from_utf8_lossy)
            )));
        }
        let stream = Streaming::new(
            body,
            Direction::Response,
            self.config.max_receive_message_size,
            deadline,
        );
        Ok(Response::from_parts(
            MetadataMap::from_headers(parts.headers),
            stream,
            MetadataMap::new(),
            parts.extensions,
        ))
    }
}

/// Reads the only response message of a unary or client-streaming call, and its trailers.
async fn read_single<Res: Message + Default>(
    response: Response<Streaming<Res>>,
) -> Result<Response<Res>, Status> {
    let (metadata, mut stream, _, extensions) = response.into_parts();
    let message = stream
        .message()
        .await?
        .ok_or_else(|| Status::internal("the server sent no response message"))?;
    if stream.message().await?.is_some() {
        return Err(Status::internal(
            "the server sent more than one response message for a unary method",
        ));
    }
    let trailers = stream.trailers().cloned().unwrap_or_default();
    Ok(Response::from_parts(
        metadata, message, trailers, extensions,
    ))
}
