//! The client side: [`Channel`] carries calls; [`Grpc`] runs the four call kinds on it for
//! generated clients.
//!
//! - `channel`: the channel, which picks a connection for each call;
//! - `shared`: what the channel's clones share, and the pick of a connection;
//! - `controller`: its background tasks (state, idleness, name resolution);
//! - `builder`: its settings;
//! - `balancer`, `subchannel`: the per-address connections, and the policy over them;
//! - `resolver`: targets, and DNS resolution;
//! - `backoff`, `state`: reconnection backoff and connectivity states;
//! - `retry`: retries of failed calls under per-method policies.

mod backoff;
mod balancer;
mod builder;
mod channel;
mod controller;
mod intercept;
mod resolver;
mod retry;
mod shared;
mod state;
mod subchannel;

use std::future::Future;
use std::marker::PhantomData;
use std::time::Duration;

use bytes::BytesMut;
use futures_core::Stream;
use prost::Message;
use tokio::sync::oneshot;

pub use crate::protocol::retry::RetryPolicy;
pub use crate::web::Protocol;
pub use backoff::BackoffConfig;
pub use balancer::LoadBalancingPolicy;
pub use builder::ChannelBuilder;
pub use channel::Channel;
pub use resolver::{ResolveFuture, Resolver, Target};
pub use state::ConnectivityState;

use self::intercept::{failed, finish};
use crate::codec::encode::FrameEncoder;
use crate::codec::{Codec, CodecSettings, Encoding, EncodingSet, MessageForm, ProstCodec};
use crate::protocol::client_call::CallShape;
use crate::protocol::client_call::{Outgoing, ResponseHead};
use crate::protocol::deadline::{blame_deadline, within_deadline};
use crate::protocol::encode_body::request_body;
use crate::protocol::observe::OnFinish;
use crate::protocol::streaming::Streaming;
use crate::request::Request;
use crate::response::Response;
use crate::status::Status;
use crate::transport::body::Body;

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

/// `(request, watch)`: the request after the channel's interceptors, and what reports the
/// call's end to them and to its span; the request untouched and `None` when nothing
/// watches. A macro, not a method: the call's future then holds the request only once,
/// and the boxed interceptors' future only when they run.
macro_rules! watched {
    ($grpc:expr, $request:expr, $path:expr) => {
        match intercept::watcher(&$grpc.channel, $path) {
            None => ($request, None),
            Some(span) => {
                let watching = intercept::start_watching(&$grpc.channel, $request, $path, span);
                let (request, on_finish) = Box::pin(watching).await?;
                (request, Some(on_finish))
            }
        }
    };
}

/// Runs calls of the four kinds over a [`Channel`], with messages in the formats of its
/// codec `C` ([`ProstCodec`]: protobuf). Generated clients wrap one; it is cheap to
/// clone, and every method takes `&self`.
#[derive(Debug, Clone)]
pub struct Grpc<C = ProstCodec> {
    channel: Channel,
    config: ClientConfig,
    codec: PhantomData<fn() -> C>,
}

impl Grpc {
    /// Calls over `channel` with default settings, in protobuf.
    pub fn new(channel: Channel) -> Grpc {
        Grpc::with_codec(channel, ProstCodec)
    }
}

impl<C> Grpc<C> {
    /// Calls over `channel` with default settings, with messages in the formats of
    /// `codec`: generated code with the plugin's `json` option passes
    /// `rsrpc::codec::JsonCodec`, so that the channel's [`Format`](crate::codec::Format)
    /// may be JSON.
    pub fn with_codec(channel: Channel, _codec: C) -> Grpc<C> {
        Grpc {
            channel,
            config: ClientConfig::default(),
            codec: PhantomData,
        }
    }

    /// Replaces the settings.
    pub fn with_config(self, config: ClientConfig) -> Grpc<C> {
        Grpc { config, ..self }
    }

    /// A unary call.
    //
    // Not an `async fn`: it returns the call's own future, which would otherwise be moved
    // into a second one around it.
    pub fn unary<Req, Res>(
        &self,
        request: Request<Req>,
        path: &'static str,
    ) -> impl Future<Output = Result<Response<Res>, Status>>
    where
        C: Codec<Req> + Codec<Res>,
        Req: Message + Default,
        Res: Message + Default,
    {
        self.unary_call(request, path, false)
    }

    /// A unary call to a method without side effects (its proto says `option
    /// idempotency_level = NO_SIDE_EFFECTS`): over Connect, with
    /// [`connect_get`](ChannelBuilder::connect_get), it goes as an HTTP GET. Generated
    /// clients call this for the methods so marked.
    pub fn unary_without_side_effects<Req, Res>(
        &self,
        request: Request<Req>,
        path: &'static str,
    ) -> impl Future<Output = Result<Response<Res>, Status>>
    where
        C: Codec<Req> + Codec<Res>,
        Req: Message + Default,
        Res: Message + Default,
    {
        self.unary_call(request, path, true)
    }

    async fn unary_call<Req, Res>(
        &self,
        request: Request<Req>,
        path: &'static str,
        no_side_effects: bool,
    ) -> Result<Response<Res>, Status>
    where
        C: Codec<Req> + Codec<Res>,
        Req: Message + Default,
        Res: Message + Default,
    {
        let (request, mut watch) = watched!(self, request, path);
        let shape = CallShape::Unary {
            no_side_effects,
            max_receive: self.config.codec.max_receive_message_size,
        };
        let outgoing = self.unary_body(request, shape)?;
        // Not a `match` on the head: its binding would hold the head across the read.
        let response = self
            .start(outgoing, path)
            .await
            .map_err(|status| failed(&mut watch, status))?
            .read_single(
                self.form::<Res>()
                    .map_err(|status| failed(&mut watch, status))?,
            )
            .await;
        self.credit_success(&response);
        finish(watch, &response);
        response
    }

    /// A server-streaming call: one request, a stream of responses.
    pub async fn server_streaming<Req, Res>(
        &self,
        request: Request<Req>,
        path: &'static str,
    ) -> Result<Response<Streaming<Res>>, Status>
    where
        C: Codec<Req> + Codec<Res>,
        Req: Message + Default,
    {
        let (request, mut watch) = watched!(self, request, path);
        let outgoing = self.unary_body(request, CallShape::Streaming)?;
        let head = self.start(outgoing, path).await;
        let head = head.map_err(|status| failed(&mut watch, status))?;
        let form = self
            .form::<Res>()
            .map_err(|status| failed(&mut watch, status))?;
        Ok(self.streaming_response(head, watch, form))
    }

    /// A client-streaming call: a stream of requests, one response.
    pub async fn client_streaming<S, Req, Res>(
        &self,
        request: Request<S>,
        path: &'static str,
    ) -> Result<Response<Res>, Status>
    where
        C: Codec<Req> + Codec<Res>,
        S: Stream<Item = Req> + Send + 'static,
        Req: Message + Default + 'static,
        Res: Message + Default,
    {
        let (request, mut watch) = watched!(self, request, path);
        let outgoing = self.streaming_body(request)?;
        // Not a `match` on the head: its binding would hold the head across the read.
        let response = self
            .start(outgoing, path)
            .await
            .map_err(|status| failed(&mut watch, status))?
            .read_single(
                self.form::<Res>()
                    .map_err(|status| failed(&mut watch, status))?,
            )
            .await;
        self.credit_success(&response);
        finish(watch, &response);
        response
    }

    /// A bidirectional-streaming call.
    pub async fn bidi_streaming<S, Req, Res>(
        &self,
        request: Request<S>,
        path: &'static str,
    ) -> Result<Response<Streaming<Res>>, Status>
    where
        C: Codec<Req> + Codec<Res>,
        S: Stream<Item = Req> + Send + 'static,
        Req: Message + Default + 'static,
    {
        let (request, mut watch) = watched!(self, request, path);
        let outgoing = self.streaming_body(request)?;
        let head = self.start(outgoing, path).await;
        let head = head.map_err(|status| failed(&mut watch, status))?;
        let form = self
            .form::<Res>()
            .map_err(|status| failed(&mut watch, status))?;
        Ok(self.streaming_response(head, watch, form))
    }

    /// The form of messages of type `T` in the channel's format; a failure when the
    /// codec has no such form.
    fn form<T>(&self) -> Result<MessageForm<T>, Status>
    where
        C: Codec<T>,
    {
        MessageForm::of::<C>(self.channel.format())
    }

    /// The response of a call whose responses stream, once its head has arrived, which
    /// reports the call's end to `watch` when the stream ends.
    fn streaming_response<Res>(
        &self,
        head: ResponseHead,
        watch: Option<OnFinish>,
        form: MessageForm<Res>,
    ) -> Response<Streaming<Res>> {
        // A stream's end is the caller's to read: its response head counts here.
        self.credit_success(&Ok(()));
        head.into_streaming(form)
            .map(|stream| stream.reporting_end(watch))
    }

    /// Gives the retry throttle its credit for a call that succeeded (gRFC A6: every
    /// successful call on the channel earns `tokenRatio`).
    fn credit_success<T>(&self, result: &Result<T, Status>) {
        if let (Some(retries), Ok(_)) = (self.channel.retries(), result) {
            retries.succeeded();
        }
    }

    /// Encodes the single request message of a unary or server-streaming call.
    fn unary_body<Req>(&self, request: Request<Req>, shape: CallShape) -> Result<Outgoing, Status>
    where
        C: Codec<Req>,
        Req: Message + Default,
    {
        let form = self.form::<Req>()?;
        let encoder = self.encoder(&request);
        let (head, message) = request.split();
        let mut data = BytesMut::new();
        form.encode(&encoder, &message, &mut data)?;
        Ok(Outgoing {
            head,
            body: Body::full(Some(data.freeze()), None),
            encoding: encoder.encoding,
            format: self.channel.format(),
            shape,
            request_guard: None,
        })
    }

    /// Wraps a request stream into a body that encodes messages as they come.
    fn streaming_body<S, Req>(&self, request: Request<S>) -> Result<Outgoing, Status>
    where
        C: Codec<Req>,
        S: Stream<Item = Req> + Send + 'static,
        Req: Message + Default + 'static,
    {
        let form = self.form::<Req>()?;
        let encoder = self.encoder(&request);
        let (head, source) = request.split();
        let (request_guard, abandoned) = oneshot::channel();
        Ok(Outgoing {
            head,
            encoding: encoder.encoding,
            body: request_body(source, encoder, form, abandoned),
            format: self.channel.format(),
            shape: CallShape::Streaming,
            request_guard: Some(request_guard),
        })
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
        let deadline = outgoing.head.effective_deadline(self.config.timeout);
        let wait_for_ready = outgoing.head.wait_for_ready();
        let outgoing_shape = outgoing.shape;
        let retry = self
            .channel
            .retries()
            .and_then(|retries| Some((retries, *retries.policy(path)?)));
        if let Some((retries, policy)) = retry {
            let retrying =
                self.start_retrying(outgoing, path, retries, policy, deadline, wait_for_ready);
            // Boxed, so that calls without retries keep their smaller future.
            return Box::pin(retrying).await;
        }
        // A copy to send again if the server refuses the request unprocessed: the head
        // is rebuilt from it, cheaper than copying the request's headers up front.
        let resend = outgoing.try_clone();
        let (request, request_guard) =
            outgoing.into_http(self.channel.uri(path), &self.config.codec, deadline);
        let rebuild = || {
            let (request, _) =
                resend?.into_http(self.channel.uri(path), &self.config.codec, deadline);
            Some(request)
        };
        let sent = self
            .channel
            .send(request, outgoing_shape, wait_for_ready, rebuild);
        // A transport failure after the deadline is the deadline's doing.
        let response = within_deadline(deadline, sent)
            .await
            .map_err(|error| blame_deadline(error.status, deadline, true))?;
        ResponseHead::check(response, &self.config.codec, deadline, request_guard)
    }
}
