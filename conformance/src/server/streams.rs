//! The response streams of server-stream and bidi calls, from their
//! `StreamResponseDefinition`: each is produced by a task that sends the messages with
//! their delays, then the error, if one is asked for.

use std::time::Duration;

use prost_types::Any;
use rsrpc::codec::Encoding;
use rsrpc::{BoxStream, Response, Status, Streaming};
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;

use super::info::{Observed, requests_only};
use crate::any::pack;
use crate::errors::to_status;
use crate::headers::to_metadata;
use crate::proto::conformance_payload::RequestInfo;
use crate::proto::{
    BidiStreamRequest, BidiStreamResponse, ConformancePayload, ServerStreamRequest,
    ServerStreamResponse, StreamResponseDefinition,
};

/// The sending end of a response stream.
type Sender<T> = mpsc::Sender<Result<T, Status>>;

/// The response to a server-stream call: its headers at once, then the messages and
/// the error of its definition; the first message, or else the error, echoes the
/// request.
pub fn server_stream(
    observed: Observed,
    request: ServerStreamRequest,
    compression: Option<Encoding>,
) -> Result<Response<BoxStream<ServerStreamResponse>>, Status> {
    let requests = vec![pack(&request)];
    let Some(definition) = request.response_definition else {
        return Ok(Response::new(Box::pin(tokio_stream::empty())));
    };
    let (response, sender) = start(&definition, compression)?;
    tokio::spawn(async move {
        let mut plan = Plan::new(definition, wrap_server_stream);
        plan.send_rest(&sender, Some(observed.info(requests))).await;
    });
    Ok(response)
}

/// The response to a bidi call, after its first request, which says how to respond and
/// whether the call is full duplex.
///
/// Half duplex: all requests are read before the headers go out, then the messages
/// follow, the first echoing every request. Full duplex: the headers go out at once,
/// and each request read is answered by the next message, which echoes the requests
/// since the last one; once the messages run out, the next request gets the error.
/// Messages left when the client stops sending go out after the last request.
pub async fn bidi_stream(
    observed: Observed,
    mut requests: Streaming<BidiStreamRequest>,
    compression: impl FnOnce(&Streaming<BidiStreamRequest>) -> Option<Encoding>,
) -> Result<Response<BoxStream<BidiStreamResponse>>, Status> {
    let Some(first) = requests.message().await? else {
        return Ok(Response::new(Box::pin(tokio_stream::empty())));
    };
    let mut received = vec![pack(&first)];
    if !first.full_duplex {
        while let Some(request) = requests.message().await? {
            received.push(pack(&request));
        }
    }
    let compression = compression(&requests);
    let Some(definition) = first.response_definition else {
        return Ok(Response::new(Box::pin(tokio_stream::empty())));
    };
    let (response, sender) = start(&definition, compression)?;
    let plan = Plan::new(definition, wrap_bidi_stream);
    if first.full_duplex {
        tokio::spawn(full_duplex(plan, sender, observed, received, requests));
    } else {
        tokio::spawn(async move {
            let mut plan = plan;
            plan.send_rest(&sender, Some(observed.info(received))).await;
        });
    }
    Ok(response)
}

/// Answers each request of a full-duplex call as it arrives, then sends what is left.
async fn full_duplex(
    mut plan: Plan<BidiStreamResponse>,
    sender: Sender<BidiStreamResponse>,
    observed: Observed,
    mut since_last: Vec<Any>,
    mut requests: Streaming<BidiStreamRequest>,
) {
    loop {
        if plan.is_out_of_messages() {
            // A request with no message left to answer it: the error is the answer.
            break;
        }
        let info = if plan.sent == 0 {
            observed.info(std::mem::take(&mut since_last))
        } else {
            requests_only(std::mem::take(&mut since_last))
        };
        if !plan.send_next(&sender, Some(info)).await {
            return;
        }
        match requests.message().await {
            Ok(Some(request)) => since_last.push(pack(&request)),
            Ok(None) => break,
            Err(status) => {
                let _ = sender.send(Err(status)).await;
                return;
            }
        }
    }
    let info = (plan.sent == 0).then(|| observed.info(since_last));
    plan.send_rest(&sender, info).await;
}

/// The response with the definition's headers and trailers, and the sender of its
/// stream.
fn start<T: Send + 'static>(
    definition: &StreamResponseDefinition,
    compression: Option<Encoding>,
) -> Result<(Response<BoxStream<T>>, Sender<T>), Status> {
    let headers = to_metadata(&definition.response_headers).map_err(Status::invalid_argument)?;
    let trailers = to_metadata(&definition.response_trailers).map_err(Status::invalid_argument)?;
    let (sender, receiver) = mpsc::channel(1);
    let stream: BoxStream<T> = Box::pin(ReceiverStream::new(receiver));
    let mut response = Response::new(stream);
    *response.metadata_mut() = headers;
    *response.trailers_mut() = trailers;
    if compression.is_some() {
        response.set_compression(compression);
    }
    Ok((response, sender))
}

/// What is left to send of a response stream's definition.
struct Plan<T> {
    data: std::vec::IntoIter<Vec<u8>>,
    delay: Duration,
    error: Option<crate::proto::Error>,
    /// Messages sent so far.
    sent: usize,
    wrap: fn(ConformancePayload) -> T,
}

impl<T> Plan<T> {
    fn new(definition: StreamResponseDefinition, wrap: fn(ConformancePayload) -> T) -> Plan<T> {
        Plan {
            data: definition.response_data.into_iter(),
            delay: Duration::from_millis(definition.response_delay_ms.into()),
            error: definition.error,
            sent: 0,
            wrap,
        }
    }

    fn is_out_of_messages(&self) -> bool {
        self.data.len() == 0
    }

    /// Sends the next message after the delay, with `info`; false once the call is
    /// gone (its deadline passed, or the client cancelled), or nothing was left.
    async fn send_next(&mut self, sender: &Sender<T>, info: Option<RequestInfo>) -> bool {
        let Some(data) = self.data.next() else {
            return false;
        };
        // The call may end while this waits: stop then, rather than sleep on.
        tokio::select! {
            () = tokio::time::sleep(self.delay) => {}
            () = sender.closed() => return false,
        }
        let payload = ConformancePayload {
            data,
            request_info: info,
        };
        self.sent += 1;
        sender.send(Ok((self.wrap)(payload))).await.is_ok()
    }

    /// Sends the messages left, the first with `info` if given, then the error, which
    /// carries `info` as its last detail if no message did.
    async fn send_rest(&mut self, sender: &Sender<T>, mut info: Option<RequestInfo>) {
        while !self.is_out_of_messages() {
            if !self.send_next(sender, info.take()).await {
                return;
            }
        }
        if let Some(error) = self.error.take() {
            let status = to_status(&error, info.as_ref().map(pack));
            let _ = sender.send(Err(status)).await;
        }
    }
}

fn wrap_server_stream(payload: ConformancePayload) -> ServerStreamResponse {
    ServerStreamResponse {
        payload: Some(payload),
    }
}

fn wrap_bidi_stream(payload: ConformancePayload) -> BidiStreamResponse {
    BidiStreamResponse {
        payload: Some(payload),
    }
}
