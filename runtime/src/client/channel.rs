//! [`Channel`]: the connections to a target's servers, shared by every call made
//! through it, kept healthy in the background.
//!
//! A channel starts idle. Its first call (or [`Channel::connect_if_idle`]) activates it:
//! the target is resolved, the balancer connects subchannels, and a controller task
//! follows their changes, resolves again from time to time, and returns the channel to
//! idle after its idle timeout. Calls pick a ready connection; with none ready they
//! wait while the channel connects, and fail fast once it is in transient failure.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use http::Uri;
use http::uri::PathAndQuery;

use super::controller;
use super::shared::{Pick, Shared};
use super::state::ConnectivityState;
use super::subchannel::Connection;
use tower_service::Service;

use crate::boxed::BoxFuture;
use crate::codec::Format;
use crate::interceptor::Interceptors;
use crate::protocol::client_call::CallShape;
use crate::protocol::retry::Retries;
use crate::protocol::trace::RpcSystem;
use crate::status::Status;
use crate::transport::body::Body;
use crate::transport::error::SendError;
use crate::transport::incoming::IncomingBody;
use crate::transport::layered::{TowerService, ready_and_call, status_from_service_error};
use crate::web::Protocol;
use crate::web::client::{from_web, to_web};

/// Attempts of one call on connections that did not take it (closed, or going away)
/// before it fails: each such attempt retires the connection, so this only bounds a
/// server that keeps refusing fresh connections.
const MAX_UNSENT_ATTEMPTS: usize = 8;

/// A client's way to a server, or to the servers of a target. Cheap to clone: clones
/// share the connections.
///
/// Over HTTP/2 (the default), calls to one address are multiplexed on one connection.
/// Over HTTP/1.1, each call in flight has a connection of its own, taken from a pool.
/// Either way the channel reconnects with backoff when connections fail, and tells
/// its state through [`state`](Channel::state) and
/// [`wait_for_state_change`](Channel::wait_for_state_change).
///
/// A channel is also a tower [`Service`] of HTTP requests, which is what the layers of
/// [`ChannelBuilder::layer`](super::ChannelBuilder::layer) wrap. Requests sent through
/// it directly go through its layers, but not through its interceptors, nor get a call
/// span: those belong to calls made by [`Grpc`](super::Grpc) and generated clients.
#[derive(Clone)]
pub struct Channel {
    shared: Arc<Shared>,
    /// The layers calls go through, around a clone of this channel without them.
    layered: Option<Arc<dyn ErasedClient>>,
}

impl Channel {
    pub(crate) fn from_shared(shared: Shared) -> Channel {
        Channel {
            shared: Arc::new(shared),
            layered: None,
        }
    }

    /// This channel, sending its calls through `service` (layers around a clone of it).
    pub(super) fn layered(self, service: impl TowerService<http::Request<Body>>) -> Channel {
        Channel {
            layered: Some(Arc::new(Erased(service))),
            ..self
        }
    }

    /// The interceptors run before every call.
    pub(crate) fn interceptors(&self) -> &Interceptors {
        &self.shared.interceptors
    }

    /// The authority every call names.
    pub(crate) fn authority(&self) -> &http::uri::Authority {
        &self.shared.authority
    }

    /// The RPC system its calls' spans name, by the protocol it speaks.
    pub(crate) fn rpc_system(&self) -> RpcSystem {
        self.shared.web.protocol.rpc_system()
    }

    /// The channel's connectivity state. Reading it does not start a connection.
    pub fn state(&self) -> ConnectivityState {
        *self.shared.state.borrow()
    }

    /// Waits until the state differs from `from`, and returns the new state.
    pub async fn wait_for_state_change(&self, from: ConnectivityState) -> ConnectivityState {
        let mut states = self.shared.state.subscribe();
        match states.wait_for(|state| *state != from).await {
            Ok(state) => *state,
            // The sender lives as long as `self`.
            Err(_) => ConnectivityState::Shutdown,
        }
    }

    /// Starts connecting if the channel is idle, as a call would (grpc-go's `Connect`):
    /// an idle channel becomes active, and a pick-first channel whose connection ended
    /// reconnects.
    pub fn connect_if_idle(&self) {
        let mut activity = self.shared.lock();
        let Some(active) = activity.as_mut() else {
            self.shared.activate(&mut activity);
            drop(activity);
            controller::start(&self.shared);
            return;
        };
        active.balancer.request_connection();
        let state = active.balancer.refresh(false);
        drop(activity);
        self.shared.state.send_replace(state);
    }

    /// Waits until the channel is ready; fails with the last error when it is in
    /// transient failure instead.
    pub(crate) async fn ready(&self) -> Result<(), Status> {
        self.connection(false).await.map(drop)
    }

    /// The format of calls' messages.
    pub(crate) fn format(&self) -> Format {
        self.shared.format
    }

    /// The channel's retry policies and throttle, if any call is retried.
    pub(crate) fn retries(&self) -> Option<&Retries> {
        self.shared.retries.as_ref()
    }

    /// The URI of a call to `path` on this channel's target.
    pub(crate) fn uri(&self, path: &'static str) -> Uri {
        let mut parts = http::uri::Parts::default();
        parts.scheme = Some(self.shared.scheme.clone());
        parts.authority = Some(self.shared.authority.clone());
        parts.path_and_query = Some(PathAndQuery::from_static(path));
        Uri::from_parts(parts).unwrap_or_default()
    }

    /// Sends a request on a ready connection and waits for the response head. Without
    /// `wait_for_ready`, a call made while the channel is in transient failure fails at
    /// once with `UNAVAILABLE`; with it, the call waits for a connection (until its
    /// deadline, which the caller enforces).
    ///
    /// A request that never left (its connection had closed or received GOAWAY) goes
    /// out again on another connection. One the server refused, or excluded by GOAWAY,
    /// goes out once more if `resend` can build it again (gRPC's transparent retry);
    /// otherwise it fails with [`SendError::unprocessed`] set.
    ///
    /// Over gRPC-Web or Connect, the request of shape `shape` goes in that protocol, and
    /// its response comes back as gRPC.
    ///
    /// Not an `async fn`: a gRPC call gets the HTTP exchange's own future, which would
    /// otherwise be moved into a second one around it; the translated ones are boxed.
    pub(crate) fn send<'a>(
        &'a self,
        request: http::Request<Body>,
        shape: CallShape,
        wait_for_ready: bool,
        resend: impl FnOnce() -> Option<http::Request<Body>> + Send + 'a,
    ) -> impl Future<Output = Result<http::Response<IncomingBody>, SendError>> + Send + 'a {
        let web = self.shared.web;
        if web.protocol == Protocol::Grpc {
            return Sending::Grpc {
                exchange: self.send_http(request, wait_for_ready, resend),
            };
        }
        let translated = async move {
            let request = to_web(web, shape, request).map_err(SendError::from)?;
            let resend = || resend().and_then(|again| to_web(web, shape, again).ok());
            let response = self.send_http(request, wait_for_ready, resend).await?;
            from_web(web.protocol, shape, response)
                .await
                .map_err(SendError::from)
        };
        Sending::Web {
            exchange: Box::pin(translated),
        }
    }

    /// Sends an HTTP request as [`send`](Self::send) describes.
    async fn send_http(
        &self,
        mut request: http::Request<Body>,
        wait_for_ready: bool,
        resend: impl FnOnce() -> Option<http::Request<Body>>,
    ) -> Result<http::Response<IncomingBody>, SendError> {
        if let Some(layered) = &self.layered {
            if wait_for_ready {
                request.extensions_mut().insert(WaitForReady);
            }
            return layered.call(request).await.map_err(SendError::from);
        }
        let mut resend = Some(resend);
        let mut unsent_attempts = 0;
        loop {
            let connection = match self.pick() {
                Pick::Ready(connection) => connection,
                _ => self
                    .connection(wait_for_ready)
                    .await
                    .map_err(SendError::from)?,
            };
            let sent = match connection {
                Connection::Http2(connection) => connection.send(request).await,
                Connection::Http1(pool) => pool.send(request).await,
            };
            let error = match sent {
                Ok(response) => return Ok(response),
                Err(error) => error,
            };
            // The connection may be gone: let the balancer look.
            self.shared.changed.notify_one();
            request = match error.request {
                Some(unsent) if unsent_attempts < MAX_UNSENT_ATTEMPTS => {
                    unsent_attempts += 1;
                    unsent
                }
                None if error.unprocessed => match resend.take().and_then(|resend| resend()) {
                    Some(again) => again,
                    None => return Err(error),
                },
                _ => return Err(error),
            };
        }
    }

    /// The shared pick, which starts the controller of a channel it activated.
    fn pick(&self) -> Pick {
        let pick = self.shared.pick();
        if let Pick::Activated = pick {
            controller::start(&self.shared);
        }
        pick
    }

    /// A ready connection, waiting for one as `send` describes.
    async fn connection(&self, wait_for_ready: bool) -> Result<Connection, Status> {
        let mut states = self.shared.state.subscribe();
        loop {
            match self.pick() {
                Pick::Ready(connection) => return Ok(connection),
                Pick::Failed(status) if !wait_for_ready => return Err(status),
                Pick::Failed(_) | Pick::Wait | Pick::Activated => {}
            }
            if states.changed().await.is_err() {
                return Err(Status::unavailable("the channel is shut down"));
            }
        }
    }
}

pin_project_lite::pin_project! {
    /// The future of [`Channel::send`]: a gRPC exchange as it is, or a translated one.
    #[project = SendingProjection]
    enum Sending<G, W> {
        Grpc {
            #[pin]
            exchange: G,
        },
        Web {
            exchange: Pin<Box<W>>,
        },
    }
}

impl<G, W, T> Future for Sending<G, W>
where
    G: Future<Output = T>,
    W: Future<Output = T>,
{
    type Output = T;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        match self.project() {
            SendingProjection::Grpc { exchange } => exchange.poll(cx),
            SendingProjection::Web { exchange } => exchange.as_mut().poll(cx),
        }
    }
}

/// Marks a request sent through layers as waiting for a ready connection.
#[derive(Clone, Copy)]
struct WaitForReady;

impl Service<http::Request<Body>> for Channel {
    type Response = http::Response<IncomingBody>;
    type Error = Status;
    type Future = BoxFuture<Result<http::Response<IncomingBody>, Status>>;

    /// Always ready: a call waits for a connection once sent, until its deadline.
    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Status>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<Body>) -> Self::Future {
        let channel = self.clone();
        Box::pin(async move {
            let wait_for_ready = request.extensions().get::<WaitForReady>().is_some();
            let sent = channel.send_http(request, wait_for_ready, || None).await;
            sent.map_err(|error| error.status)
        })
    }
}

/// Layers around a channel, with their types erased.
trait ErasedClient: Send + Sync {
    fn call(
        &self,
        request: http::Request<Body>,
    ) -> BoxFuture<Result<http::Response<IncomingBody>, Status>>;
}

struct Erased<S>(S);

impl<S: TowerService<http::Request<Body>>> ErasedClient for Erased<S> {
    fn call(
        &self,
        request: http::Request<Body>,
    ) -> BoxFuture<Result<http::Response<IncomingBody>, Status>> {
        let service = self.0.clone();
        Box::pin(async move {
            match ready_and_call(service, request).await {
                Ok(response) => Ok(response.map(IncomingBody::from_body)),
                Err(error) => Err(status_from_service_error(error.into())),
            }
        })
    }
}

impl std::fmt::Debug for Channel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Channel")
            .field("authority", &self.shared.authority)
            .field("version", &self.shared.connect_settings.version)
            .field("state", &self.state())
            .finish_non_exhaustive()
    }
}
