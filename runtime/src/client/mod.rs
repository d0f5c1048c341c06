//! The client side: [`Channel`] carries calls; [`Grpc`] runs the four call kinds on it for
//! generated clients.

mod channel;

use std::time::Duration;

use bytes::BytesMut;
use futures_core::Stream;
use http::header::{CONTENT_TYPE, HeaderValue, TE, USER_AGENT};
use prost::Message;
use tokio::sync::oneshot;
use tokio::time::Instant;

pub use channel::{Channel, ChannelBuilder};

use crate::codec::decode::{FrameDecoder, decode_message};
use crate::codec::encode::FrameEncoder;
use crate::codec::{
    CodecSettings, Compressed, Encoding, EncodingSet, GRPC_ACCEPT_ENCODING, GRPC_ENCODING,
};
use crate::status::code_from_http;
use crate::streaming::{
    Direction, InboundBody, missing_trailers, read_single_frame, response_trailers,
};
use crate::{Body, Code, MetadataMap, Request, Response, Status, Streaming, timeout};

/// The `user-agent` rsrpc clients send.
const USER_AGENT_VALUE: &str = concat!("rsrpc/", env!("CARGO_PKG_VERSION"));

/// Settings applied to every call of a client.
#[derive(Debug, Clone, Copy, Default)]
pub struct ClientConfig {
    codec: CodecSettings,
    timeout: Option<Duration>,
}

impl ClientConfig {
    /// Largest response message accepted (default 4 MiB); larger ones fail the call with
    /// `RESOURCE_EXHAUSTED` before they are buffered or decompressed past the limit.
    pub fn max_receive_message_size(mut self, limit: usize) -> Self {
        self.codec.max_receive_message_size = limit;
        self
    }

    /// Largest request message sent; a larger one fails the call with
    /// `RESOURCE_EXHAUSTED` without sending it.
    pub fn max_send_message_size(mut self, limit: usize) -> Self {
        self.codec.max_send_message_size = limit;
        self
    }

    /// Compresses request messages with `encoding` (sent as `grpc-encoding`).
    pub fn send_compressed(mut self, encoding: Encoding) -> Self {
        self.codec.send_compressed = Some(encoding);
        self
    }

    /// The encodings accepted for responses, advertised in `grpc-accept-encoding`
    /// (default: every implemented one).
    pub fn accept_compressed(mut self, encodings: EncodingSet) -> Self {
        self.codec.accept_compressed = encodings;
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
        let outgoing = self.unary_body(request)?;
        self.start(outgoing, path).await?.read_single().await
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
        let outgoing = self.unary_body(request)?;
        Ok(self.start(outgoing, path).await?.into_streaming())
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
        let outgoing = self.streaming_body(request);
        self.start(outgoing, path).await?.read_single().await
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
        let outgoing = self.streaming_body(request);
        Ok(self.start(outgoing, path).await?.into_streaming())
    }

    /// Encodes the single request message of a unary or server-streaming call.
    fn unary_body<Req: Message>(&self, request: Request<Req>) -> Result<Outgoing, Status> {
        let encoder = self.encoder(&request);
        let (head, message) = request.split();
        let mut data = BytesMut::new();
        encoder.encode(&message, &mut data)?;
        Ok(Outgoing {
            head,
            body: Body::full(Some(data.freeze()), None),
            encoding: encoder.encoding,
            request_guard: None,
        })
    }

    /// Wraps a request stream into a body that encodes messages as they come.
    fn streaming_body<S, Req>(&self, request: Request<S>) -> Outgoing
    where
        S: Stream<Item = Req> + Send + 'static,
        Req: Message + 'static,
    {
        let encoder = self.encoder(&request);
        let (head, source) = request.split();
        let (request_guard, abandoned) = oneshot::channel();
        Outgoing {
            head,
            encoding: encoder.encoding,
            body: Body::request_stream(source, encoder, abandoned),
            request_guard: Some(request_guard),
        }
    }

    /// The encoder for a request's messages: its own compression choice, else the
    /// client's.
    fn encoder<T>(&self, request: &Request<T>) -> FrameEncoder {
        let codec = &self.config.codec;
        FrameEncoder::new(
            codec.max_send_message_size,
            codec.send_compressed,
            request.compression(),
        )
    }

    /// Sends the request head and body, and waits for the response head.
    async fn start(&self, outgoing: Outgoing, path: &'static str) -> Result<ResponseHead, Status> {
        let Outgoing {
            head,
            body,
            encoding,
            request_guard,
        } = outgoing;
        let deadline = head.effective_deadline(self.config.timeout);
        let (metadata, (), extensions) = head.into_parts();
        let mut http_request = http::Request::new(body);
        *http_request.method_mut() = http::Method::POST;
        *http_request.uri_mut() = self.channel.uri(path);
        *http_request.extensions_mut() = extensions;
        let headers = http_request.headers_mut();
        *headers = metadata.into_headers();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/grpc"));
        headers.insert(TE, HeaderValue::from_static("trailers"));
        headers.insert(USER_AGENT, HeaderValue::from_static(USER_AGENT_VALUE));
        if let Some(encoding) = encoding {
            headers.insert(GRPC_ENCODING, HeaderValue::from_static(encoding.name()));
        }
        headers.insert(
            GRPC_ACCEPT_ENCODING,
            self.config.codec.accept_compressed.header_value(),
        );
        if let Some(deadline) = deadline {
            let remaining = deadline.saturating_duration_since(Instant::now());
            headers.insert(timeout::GRPC_TIMEOUT, timeout::encode(remaining));
        }

        // A transport failure after the deadline is the deadline's doing.
        let response = timeout::within_deadline(deadline, self.channel.send(http_request))
            .await
            .map_err(|status| timeout::blame_deadline(status, deadline, true))?;
        let (parts, body) = response.into_parts();
        if let Some(status) = Status::from_headers(&parts.headers) {
            // Trailers-Only: the status arrived in the headers and there is no body.
            if status.code() != Code::Ok {
                return Err(timeout::blame_deadline(status, deadline, false));
            }
            return Ok(ResponseHead {
                metadata: MetadataMap::from_headers(parts.headers),
                extensions: parts.extensions,
                body: None,
                encoding: None,
                max_size: 0,
                deadline,
                request_guard,
            });
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
        let response_encoding = match parts.headers.get(GRPC_ENCODING).map(Encoding::parse) {
            None | Some(Ok(None)) => None,
            Some(Ok(Some(encoding))) if self.config.codec.accept_compressed.contains(encoding) => {
                Some(encoding)
            }
            Some(Ok(Some(encoding))) => {
                return Err(Status::internal(format!(
                    "the server used grpc-encoding {encoding}, which this client does not accept"
                )));
            }
            Some(Err(name)) => {
                return Err(Status::internal(format!(
                    "the server used unsupported grpc-encoding {name:?}"
                )));
            }
        };
        Ok(ResponseHead {
            metadata: MetadataMap::from_headers(parts.headers),
            extensions: parts.extensions,
            body: Some(body),
            encoding: response_encoding,
            max_size: self.config.codec.max_receive_message_size,
            deadline,
            request_guard,
        })
    }
}

/// A request ready to send: head, encoded body, and the encoding of its messages.
struct Outgoing {
    head: Request<()>,
    body: Body,
    encoding: Option<Encoding>,
    /// For a streamed body: dropping it ends the body, so giving up the call (dropping
    /// its future or its response stream) resets the HTTP/2 stream.
    request_guard: Option<oneshot::Sender<()>>,
}

/// A response whose head has arrived: what reading its messages takes.
struct ResponseHead {
    metadata: MetadataMap,
    extensions: http::Extensions,
    /// The body; `None` for a Trailers-Only response with status OK.
    body: Option<InboundBody>,
    /// Encoding of the response messages.
    encoding: Option<Encoding>,
    /// Largest response message accepted.
    max_size: usize,
    deadline: Option<Instant>,
    /// See [`Outgoing::request_guard`]: held until the response ends.
    request_guard: Option<oneshot::Sender<()>>,
}

impl ResponseHead {
    /// The response messages as a stream, for the streaming-response kinds.
    fn into_streaming<Res>(self) -> Response<Streaming<Res>> {
        let stream = match self.body {
            Some(body) => Streaming::new(
                body,
                Direction::Response,
                self.max_size,
                self.encoding,
                self.deadline,
            )
            .ending_request_on_drop(self.request_guard),
            // The headers were the trailers.
            None => Streaming::finished(self.metadata.clone()),
        };
        Response::from_parts(self.metadata, stream, MetadataMap::new(), self.extensions)
    }

    /// Reads the only response message of a unary or client-streaming call, and the
    /// trailers, straight from the body.
    async fn read_single<Res: Message + Default>(self) -> Result<Response<Res>, Status> {
        let ResponseHead {
            metadata,
            mut extensions,
            body,
            encoding,
            max_size,
            deadline,
            request_guard: _request_guard,
        } = self;
        let Some(body) = body else {
            return Err(Status::internal("the response has no message"));
        };
        let mut decoder = FrameDecoder::new(max_size, encoding);
        let read = read_single_frame(body, &mut decoder, "the response");
        let (payload, trailers) = timeout::within_deadline(deadline, read)
            .await
            .map_err(|status| timeout::blame_deadline(status, deadline, true))?;
        let trailers = response_trailers(trailers.ok_or_else(missing_trailers)?)
            .map_err(|status| timeout::blame_deadline(status, deadline, false))?;
        let payload = payload.ok_or_else(|| Status::internal("the response has no message"))?;
        if decoder.last_compressed() {
            extensions.insert(Compressed);
        }
        Ok(Response::from_parts(
            metadata,
            decode_message(payload)?,
            trailers,
            extensions,
        ))
    }
}
