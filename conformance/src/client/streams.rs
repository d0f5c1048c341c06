//! The calls with a response stream: server stream, and bidi in half and full duplex.

use std::future::Future;
use std::time::Duration;

use prost::Message;
use rsrpc::{Response, Status, Streaming};
use tokio::task::JoinHandle;

use super::case::{Cancel, Case};
use super::outcome::{Outcome, Reply};
use super::requests::Requests;
use crate::any::unpack;
use crate::proto::conformance_service_client::ConformanceServiceClient;
use crate::proto::{BidiStreamRequest, ServerStreamRequest};

/// Makes a server-stream call and reads every response, or cancels it as the case says.
pub async fn server_stream(
    case: &Case,
    client: ConformanceServiceClient,
) -> Result<Outcome, String> {
    let message: ServerStreamRequest = unpack(case.single_message()?)?;
    let request = case.request(message);
    let mut call = StreamCall::start(case, async move { client.server_stream(request).await });
    let mut outcome = Outcome::default();
    match case.cancel {
        // The request is sent as the call starts: that is its close send.
        Some(Cancel::AfterCloseSend(after)) => call.receive_within(after, &mut outcome).await,
        _ => call.receive(&mut outcome, None).await,
    }
    Ok(outcome)
}

/// Makes a bidi call: in half duplex, sends every request, then reads the responses; in
/// full duplex, reads a response after each request sent, then the rest.
pub async fn bidi_stream(
    case: &Case,
    client: ConformanceServiceClient,
    full_duplex: bool,
) -> Result<Outcome, String> {
    let messages = case
        .messages
        .iter()
        .map(unpack::<BidiStreamRequest>)
        .collect::<Result<Vec<_>, _>>()?;
    let (mut requests, stream) = Requests::new(messages, case.request_delay);
    let request = case.request(stream);
    let mut call = StreamCall::start(case, async move { client.bidi_stream(request).await });
    let mut outcome = Outcome::default();
    loop {
        match requests.send_next().await {
            Ok(true) => {}
            Ok(false) => break,
            Err(unsent) => {
                outcome.unsent(unsent);
                break;
            }
        }
        if full_duplex {
            call.receive(&mut outcome, Some(1)).await;
            if call.is_over() {
                // It failed, ended or was cancelled: the rest cannot be sent.
                outcome.unsent(requests.left());
                break;
            }
        }
    }
    // The requests stay open until the call is over: cancelling before close send must
    // not close them.
    match case.cancel {
        Some(Cancel::BeforeCloseSend) => call.cancel(&mut outcome).await,
        Some(Cancel::AfterCloseSend(after)) => {
            requests.close();
            call.receive_within(after, &mut outcome).await;
        }
        _ => {
            requests.close();
            call.receive(&mut outcome, None).await;
        }
    }
    drop(requests);
    Ok(outcome)
}

/// How far a streaming call has got.
enum Stage<Res> {
    /// Waiting for the response head, in a task of its own, so that requests go out
    /// meanwhile (a half-duplex server answers only once they are all in).
    Starting(JoinHandle<Result<Response<Streaming<Res>>, Status>>),
    /// Reading the responses (boxed: a stream is large, the other stages small).
    Open(Box<Streaming<Res>>),
    /// Ended, failed or cancelled.
    Over,
}

/// A call with a response stream, which records what it receives in an [`Outcome`].
struct StreamCall<Res> {
    stage: Stage<Res>,
    /// Cancel right after this many responses.
    cancel_after: Option<usize>,
}

/// What ended a read of the response stream.
enum Read {
    /// As many responses were read as asked for.
    Enough,
    /// The stream ended, cleanly or not: the call is over.
    Over,
    /// The responses to cancel after were read.
    CancelNow,
}

impl<Res> StreamCall<Res>
where
    Res: Message + Default + Reply + Send + 'static,
{
    /// Starts the call `call` makes.
    fn start<F>(case: &Case, call: F) -> StreamCall<Res>
    where
        F: Future<Output = Result<Response<Streaming<Res>>, Status>> + Send + 'static,
    {
        let cancel_after = match case.cancel {
            Some(Cancel::AfterResponses(count)) => Some(count as usize),
            _ => None,
        };
        StreamCall {
            stage: Stage::Starting(tokio::spawn(call)),
            cancel_after,
        }
    }

    fn is_over(&self) -> bool {
        matches!(self.stage, Stage::Over)
    }

    /// Waits for the response head and records it; false if the call failed instead.
    async fn open(&mut self, outcome: &mut Outcome) -> bool {
        if let Stage::Starting(task) = &mut self.stage {
            let joined = task.await;
            self.stage = Self::opened(joined, outcome);
        }
        matches!(self.stage, Stage::Open(_))
    }

    /// The stage after the start of the call ended with `joined`.
    fn opened(
        joined: Result<Result<Response<Streaming<Res>>, Status>, tokio::task::JoinError>,
        outcome: &mut Outcome,
    ) -> Stage<Res> {
        match joined {
            Ok(Ok(response)) => {
                outcome.headers(response.metadata());
                Stage::Open(Box::new(response.into_inner()))
            }
            Ok(Err(status)) => {
                outcome.fail(&status);
                Stage::Over
            }
            Err(error) => {
                outcome.fail(&Status::internal(format!(
                    "the call's task failed: {error}"
                )));
                Stage::Over
            }
        }
    }

    /// Reads responses, at most `limit` (all if `None`), and records them; cancels the
    /// call right after the response the case cancels after.
    async fn receive(&mut self, outcome: &mut Outcome, limit: Option<usize>) {
        if !self.open(outcome).await {
            return;
        }
        let Stage::Open(stream) = &mut self.stage else {
            return;
        };
        let read = Self::read(stream, outcome, limit, self.cancel_after).await;
        match read {
            Read::Enough => {}
            Read::Over => self.stage = Stage::Over,
            Read::CancelNow => self.cancel(outcome).await,
        }
    }

    async fn read(
        stream: &mut Streaming<Res>,
        outcome: &mut Outcome,
        limit: Option<usize>,
        cancel_after: Option<usize>,
    ) -> Read {
        let mut read = 0;
        while limit.is_none_or(|limit| read < limit) {
            match stream.message().await {
                Ok(Some(reply)) => {
                    outcome.payload(reply.into_payload());
                    read += 1;
                    if cancel_after == Some(outcome.payloads()) {
                        return Read::CancelNow;
                    }
                }
                Ok(None) => {
                    if let Some(trailers) = stream.trailers() {
                        outcome.trailers(trailers);
                    }
                    return Read::Over;
                }
                Err(status) => {
                    outcome.fail(&status);
                    return Read::Over;
                }
            }
        }
        Read::Enough
    }

    /// Reads every response, but cancels the call if it has not ended `after` from now.
    async fn receive_within(&mut self, after: Duration, outcome: &mut Outcome) {
        let ended = tokio::time::timeout(after, self.receive(outcome, None)).await;
        if ended.is_err() {
            self.cancel(outcome).await;
        }
    }

    /// Cancels the call by dropping it, rsrpc's way to cancel: the task still waiting
    /// for the response head (after recording the head, if it has just arrived), or the
    /// response stream. A call already over stays as it ended.
    async fn cancel(&mut self, outcome: &mut Outcome) {
        match std::mem::replace(&mut self.stage, Stage::Over) {
            Stage::Starting(task) if task.is_finished() => {
                let opened = Self::opened(task.await, outcome);
                drop(opened);
            }
            Stage::Starting(task) => task.abort(),
            Stage::Open(stream) => drop(stream),
            Stage::Over => return,
        }
        outcome.cancelled();
    }
}
