//! The `tracing` span of each call the server serves (fields in `protocol::trace`).

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;

use http::header::CONTENT_TYPE;
use tokio::time::Instant;
use tracing::{Instrument, Span};

use crate::boxed::BoxFuture;
use crate::protocol::observe::{OnFinish, observe_response};
use crate::protocol::trace::{RpcSystem, record_end, server_span};
use crate::protocol::wire::is_grpc_content_type;
use crate::transport::body::Body;
use crate::transport::incoming::IncomingBody;

/// The span of `request`, a call in `system` from the client at `peer`: disabled (and
/// free) when no subscriber wants it, and for requests that are not gRPC (those of a
/// fallback service, and gRPC-Web and Connect ones, whose span starts once they are
/// translated).
pub(super) fn call_span(
    request: &http::Request<IncomingBody>,
    peer: Option<SocketAddr>,
    system: RpcSystem,
) -> Span {
    let wanted = tracing::span_enabled!(target: "rsrpc::server", tracing::Level::INFO);
    if !wanted || !is_grpc_content_type(request.headers().get(CONTENT_TYPE)) {
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
