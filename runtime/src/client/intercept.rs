//! What watches a call on the client: the channel's interceptors, which run before it is
//! sent, and its `tracing` span. Both learn how it ended through one [`OnFinish`].

use http::uri::PathAndQuery;
use tokio::time::Instant;

use super::channel::Channel;
use crate::interceptor::GrpcMethod;
use crate::protocol::client_call::Outgoing;
use crate::protocol::observe::OnFinish;
use crate::protocol::trace::{client_span, record_end};
use crate::request::Request;
use crate::status::Status;

/// Runs the channel's interceptors on `outgoing`'s head and opens the call's span.
/// Returns what reports the call's end, `None` when nothing listens (the common case,
/// which costs a check of each), or the status an interceptor refused the call with.
pub(super) async fn start_watching(
    channel: &Channel,
    outgoing: &mut Outgoing,
    path: &'static str,
) -> Result<Option<OnFinish>, Status> {
    let interceptors = channel.interceptors();
    let span = client_span(path, channel.authority());
    if interceptors.is_empty() && span.is_disabled() {
        return Ok(None);
    }
    let started = Instant::now();
    let head = std::mem::replace(&mut outgoing.head, Request::new(()));
    let method = GrpcMethod::new(PathAndQuery::from_static(path));
    let mut intercepted = interceptors.start(method);
    let head = intercepted.run(head).await;
    let on_finish = OnFinish::new(move |status| {
        intercepted.finish(status);
        record_end(&span, status, started, false);
    });
    match head {
        Ok(head) => {
            outgoing.head = head;
            Ok(Some(on_finish))
        }
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
