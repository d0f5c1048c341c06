//! The `e2e.Echo` test service: echoes requests and metadata, and fails, sleeps or
//! answers large on request. It counts calls dropped before they finished, so tests can
//! check that cancellation reaches handlers, and the unary calls that finished.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use bytes::Bytes;
use rsrpc::codec::Compressed;
use rsrpc::metadata::MetadataValue;
use rsrpc::{BoxStream, Code, MetadataMap, Request, Response, Status, Streaming};
use tokio::sync::{Notify, mpsc};
use tokio::time::Instant;
use tokio_stream::wrappers::ReceiverStream;

use crate::e2e::echo_server::Echo;
use crate::e2e::{EchoReply, EchoRequest};

/// Details attached to every failure the test service returns.
pub const DETAILS: &[u8] = b"\x08\x05\x12\x03why";

/// A typed value an interceptor may put into a call's extensions: the unary handler
/// replies with `"{tag}:{text}"` when it finds one.
#[derive(Debug, Clone)]
pub struct EchoTag(pub String);

/// The test service. Clones share their counters.
#[derive(Debug, Clone, Default)]
pub struct EchoService {
    cancelled: Arc<CancelCount>,
    unary_calls: Arc<AtomicUsize>,
}

#[derive(Debug, Default)]
struct CancelCount {
    count: AtomicUsize,
    changed: Notify,
    /// Unary handlers that ran to their end.
    finished: AtomicUsize,
}

impl EchoService {
    /// How many handlers were dropped before finishing.
    pub fn cancelled(&self) -> usize {
        self.cancelled.count.load(Ordering::SeqCst)
    }

    /// How many unary calls reached the handler.
    pub fn unary_calls(&self) -> usize {
        self.unary_calls.load(Ordering::SeqCst)
    }

    /// How many unary handlers ran to their end (with a reply or the failure asked for).
    pub fn finished_unary(&self) -> usize {
        self.cancelled.finished.load(Ordering::SeqCst)
    }

    /// Waits until at least `count` handlers were dropped before finishing.
    pub async fn wait_cancelled(&self, count: usize) {
        loop {
            let changed = self.cancelled.changed.notified();
            if self.cancelled() >= count {
                return;
            }
            changed.await;
        }
    }

    fn guard(&self) -> CallGuard {
        CallGuard {
            cancelled: Some(Arc::clone(&self.cancelled)),
        }
    }
}

/// Lives as long as a handler: dropped before [`CallGuard::finish`], it counts a
/// cancelled call.
struct CallGuard {
    cancelled: Option<Arc<CancelCount>>,
}

impl CallGuard {
    fn finish(mut self) {
        if let Some(counts) = self.cancelled.take() {
            counts.finished.fetch_add(1, Ordering::SeqCst);
        }
    }
}

impl Drop for CallGuard {
    fn drop(&mut self) {
        if let Some(cancelled) = self.cancelled.take() {
            cancelled.count.fetch_add(1, Ordering::SeqCst);
            cancelled.changed.notify_waiters();
        }
    }
}

/// Copies `x-echo-*` request metadata into `out` under `prefix` + the rest of the name.
fn echo_metadata(from: &MetadataMap, out: &mut MetadataMap, prefix: &str) {
    for (name, value) in from.iter() {
        let Some(rest) = name.strip_prefix("x-echo-") else {
            continue;
        };
        let name = format!("{prefix}{rest}");
        match value {
            MetadataValue::Ascii(text) => out.append(&name, text).unwrap(),
            MetadataValue::Binary(bytes) => out.append_bin(&name, bytes).unwrap(),
        }
    }
}

fn failure(request: &EchoRequest, metadata: &MetadataMap) -> Status {
    let mut trailers = MetadataMap::new();
    echo_metadata(metadata, &mut trailers, "x-trailer-");
    Status::with_details(
        Code::from_i32(request.fail_code),
        request.fail_message.clone(),
        Bytes::from_static(DETAILS),
    )
    .with_metadata(trailers)
}

fn reply(request: &EchoRequest) -> EchoReply {
    let payload = if request.reply_size > 0 {
        vec![7; request.reply_size as usize]
    } else {
        request.payload.clone()
    };
    EchoReply {
        text: request.text.clone(),
        payload,
        ..EchoReply::default()
    }
}

fn with_echoed_metadata<T>(message: T, metadata: &MetadataMap) -> Response<T> {
    let mut response = Response::new(message);
    echo_metadata(metadata, response.metadata_mut(), "x-header-");
    echo_metadata(metadata, response.trailers_mut(), "x-trailer-");
    response
}

impl Echo for EchoService {
    async fn unary(&self, request: Request<EchoRequest>) -> Result<Response<EchoReply>, Status> {
        self.unary_calls.fetch_add(1, Ordering::SeqCst);
        let guard = self.guard();
        let metadata = request.metadata().clone();
        let deadline = request.deadline();
        let peer = request.remote_addr();
        let compressed = request.extensions().get::<Compressed>().is_some();
        let tag = request.extensions().get::<EchoTag>().cloned();
        let request = request.into_inner();
        tokio::time::sleep(Duration::from_millis(request.sleep_ms.into())).await;
        guard.finish();
        if request.fail_code != 0 {
            return Err(failure(&request, &metadata));
        }
        let mut reply = reply(&request);
        if let Some(EchoTag(tag)) = tag {
            reply.text = format!("{tag}:{}", reply.text);
        }
        reply.request_compressed = compressed;
        reply.peer = peer.map(|addr| addr.to_string()).unwrap_or_default();
        if request.report_deadline {
            let left = deadline.map(|at| at.saturating_duration_since(Instant::now()));
            reply.text = left.map_or("none".to_owned(), |left| left.as_millis().to_string());
        }
        Ok(with_echoed_metadata(reply, &metadata))
    }

    type ServerStreamStream = BoxStream<EchoReply>;

    async fn server_stream(
        &self,
        request: Request<EchoRequest>,
    ) -> Result<Response<Self::ServerStreamStream>, Status> {
        let metadata = request.metadata().clone();
        let request = request.into_inner();
        let mut response = with_echoed_metadata((), &metadata);
        // Trailers named as the stream runs: decided after the first message is sent.
        let late = response.late_trailers();
        let text = request.text.clone();
        let reply_size = request.reply_size as usize;
        let replies = (0..request.count).map(move |index| {
            late.update(|trailers| trailers.insert("x-late-sent", &index.to_string()))
                .map_err(|error| Status::internal(error.to_string()))?;
            Ok(EchoReply {
                text: format!("{text} {index}"),
                payload: vec![0; reply_size],
                ..EchoReply::default()
            })
        });
        let ending = (request.fail_code != 0).then(|| Err(failure(&request, &metadata)));
        let stream = tokio_stream::iter(replies.chain(ending));
        Ok(response.map(|()| Box::pin(stream) as Self::ServerStreamStream))
    }

    async fn client_stream(
        &self,
        request: Request<Streaming<EchoRequest>>,
    ) -> Result<Response<EchoReply>, Status> {
        let metadata = request.metadata().clone();
        let mut stream = request.into_inner();
        let mut texts = Vec::new();
        while let Some(request) = stream.message().await? {
            if request.fail_code != 0 {
                return Err(failure(&request, &metadata));
            }
            texts.push(request.text);
        }
        let reply = EchoReply {
            text: texts.join(","),
            ..EchoReply::default()
        };
        Ok(with_echoed_metadata(reply, &metadata))
    }

    type BidiStream = ReceiverStream<Result<EchoReply, Status>>;

    async fn bidi(
        &self,
        request: Request<Streaming<EchoRequest>>,
    ) -> Result<Response<Self::BidiStream>, Status> {
        let metadata = request.metadata().clone();
        let mut stream = request.into_inner();
        let (sender, receiver) = mpsc::channel(4);
        let echoed = metadata.clone();
        let guard = self.guard();
        tokio::spawn(async move {
            // The guard lives as long as this task: a reset call ends it early.
            let _guard = guard;
            loop {
                let item = match stream.message().await {
                    Ok(Some(request)) if request.fail_code != 0 => Err(failure(&request, &echoed)),
                    Ok(Some(request)) => Ok(reply(&request)),
                    Ok(None) => break,
                    Err(status) => Err(status),
                };
                let last = item.is_err();
                if sender.send(item).await.is_err() || last {
                    break;
                }
            }
        });
        Ok(with_echoed_metadata(
            ReceiverStream::new(receiver),
            &metadata,
        ))
    }
}
