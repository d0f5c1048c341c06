//! The `tracing` span of each call the server serves (fields in `protocol::trace`).

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;

use tokio::time::Instant;
use tracing::{Instrument, Span};

use crate::boxed::BoxFuture;
use crate::protocol::observe::{OnFinish, observe_response};
use crate::protocol::trace::{RpcSystem, record_end, server_span};
use crate::transport::body::Body;
use crate::transport::incoming::IncomingBody;

/// The span of `request`, a gRPC call in `system` from the client at `peer`: disabled
/// (and free) when no subscriber wants it. Other requests (those of a fallback service)
/// have none; gRPC-Web and Connect ones get theirs once translated to gRPC.
pub(super) fn call_span(
    request: &http::Request<IncomingBody>,
    peer: Option<SocketAddr>,
    system: RpcSystem,
) -> Span {
    if !tracing::span_enabled!(target: "rsrpc::server", tracing::Level::INFO) {
        return Span::none();
    }
    server_span(request.uri().path(), peer, system)
}

/// `call`, in `system`, run inside `span`, which records the call's final status and
/// duration.
pub(super) fn traced<F>(span: Span, system: RpcSystem, call: F) -> BoxFuture<F::Output>
where
    F: Future<Output = Result<http::Response<Body>, Infallible>> + Send + 'static,
{
    let started = Instant::now();
    let ended = span.clone();
    // Made before the call runs, so that a call dropped before it answers is reported.
    let on_finish = OnFinish::new(move |status| record_end(&ended, system, status, started, true));
    let call = async move {
        let response = call.await?;
        Ok(observe_response(response, on_finish))
    };
    Box::pin(call.instrument(span))
}
