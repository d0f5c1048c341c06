//! What watches a call on the client: the channel's interceptors, which run before it is
//! sent, and its `tracing` span. Both learn how it ended through one [`OnFinish`].

use http::uri::PathAndQuery;
use tokio::time::Instant;
use tracing::Span;

use super::channel::Channel;
use crate::interceptor::GrpcMethod;
use crate::protocol::observe::OnFinish;
use crate::protocol::trace::{client_span, record_end};
use crate::request::Request;
use crate::status::Status;

/// The span of a call to `path`, if anything watches the channel's calls: its
/// interceptors, or a subscriber that wants the span. `None` in the common case, found
/// without building any future, so that unwatched calls pay one check of each.
pub(super) fn watcher(channel: &Channel, path: &'static str) -> Option<Span> {
    let span = client_span(path, channel.authority(), channel.rpc_system());
    if channel.interceptors().is_empty() && span.is_disabled() {
        return None;
    }
    Some(span)
}

/// Runs the channel's interceptors on `request`'s head. Returns the request, changed or
/// not, with what reports the call's end to them and to `span`; or the status an
/// interceptor refused the call with.
pub(super) async fn start_watching<T>(
    channel: &Channel,
    request: Request<T>,
    path: &'static str,
    span: Span,
) -> Result<(Request<T>, OnFinish), Status> {
    let started = Instant::now();
    let system = channel.rpc_system();
    let (head, message) = request.split();
    let method = GrpcMethod::new(PathAndQuery::from_static(path));
    let mut intercepted = channel.interceptors().start(method);
    let head = intercepted.run(head).await;
    let on_finish = OnFinish::new(move |status| {
        intercepted.finish(status);
        record_end(&span, system, status, started, false);
    });
    match head {
        Ok(head) => Ok((head.map(|()| message), on_finish)),
        Err(status) => {
            on_finish.finish(&status);
            Err(status)
        }
    }
}

/// Reports the end of a call whose result is known.
pub(super) fn finish<T>(on_finish: Option<OnFinish>, result: &Result<T, Status>) {
    if let Some(on_finish) = on_finish {
        match result {
            Ok(_) => on_finish.finish(&Status::new(crate::status::Code::Ok, "")),
            Err(status) => on_finish.finish(status),
        }
    }
}

/// Reports a call that failed with `status` before its response, and gives the status
/// back.
pub(super) fn failed(watch: &mut Option<OnFinish>, status: Status) -> Status {
    if let Some(watch) = watch.take() {
        watch.finish(&status);
    }
    status
}
