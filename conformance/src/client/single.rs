//! The calls with one response: unary (`Unary`, `IdempotentUnary`, `Unimplemented`) and
//! client stream.

use std::future::Future;

use rsrpc::{Request, Response, Status};

use super::case::{Cancel, Case};
use super::outcome::{Outcome, Reply};
use super::requests::Requests;
use crate::any::{TypeName, unpack};
use crate::proto::ClientStreamRequest;
use crate::proto::conformance_service_client::ConformanceServiceClient;

/// Makes a unary call with `call` (a method of the generated client). A cancellation
/// after close send drops the call that long after it started: the request is sent as
/// the call starts.
pub async fn unary<Req, Res, F, Fut>(case: &Case, call: F) -> Result<Outcome, String>
where
    Req: TypeName,
    Res: Reply,
    F: FnOnce(Request<Req>) -> Fut,
    Fut: Future<Output = Result<Response<Res>, Status>>,
{
    let message: Req = unpack(case.single_message()?)?;
    let call = call(case.request(message));
    let mut outcome = Outcome::default();
    let result = match case.cancel {
        Some(Cancel::AfterCloseSend(after)) => match tokio::time::timeout(after, call).await {
            Ok(result) => result,
            Err(_) => {
                outcome.cancelled();
                return Ok(outcome);
            }
        },
        // The other timings are for streams.
        _ => call.await,
    };
    record(&mut outcome, result);
    Ok(outcome)
}

/// Makes a client-stream call: sends the requests, then closes the stream, or cancels
/// instead or after, as the case says.
pub async fn client_stream(
    case: &Case,
    client: ConformanceServiceClient,
) -> Result<Outcome, String> {
    let messages = case
        .messages
        .iter()
        .map(unpack::<ClientStreamRequest>)
        .collect::<Result<Vec<_>, _>>()?;
    let (mut requests, stream) = Requests::new(messages, case.request_delay);
    let request = case.request(stream);
    // In a task of its own, so that it sends the requests and waits for the response
    // while this one feeds it; aborting the task drops the call, which cancels it.
    let mut call = tokio::spawn(async move { client.client_stream(request).await });
    let mut outcome = Outcome::default();
    if let Err(unsent) = requests.send_all().await {
        outcome.unsent(unsent);
    }
    // `requests` stays open until the call is over: cancelling before close send must
    // not close it.
    let joined = match case.cancel {
        Some(Cancel::BeforeCloseSend) => {
            call.abort();
            call.await
        }
        Some(Cancel::AfterCloseSend(after)) => {
            requests.close();
            match tokio::time::timeout(after, &mut call).await {
                Ok(joined) => joined,
                Err(_) => {
                    call.abort();
                    call.await
                }
            }
        }
        _ => {
            requests.close();
            call.await
        }
    };
    match joined {
        Ok(result) => record(&mut outcome, result),
        // Aborted before it ended: the call was dropped.
        Err(error) if error.is_cancelled() => outcome.cancelled(),
        Err(error) => return Err(format!("the call's task failed: {error}")),
    }
    Ok(outcome)
}

/// Records the result of a call with one response.
fn record<Res: Reply>(outcome: &mut Outcome, result: Result<Response<Res>, Status>) {
    match result {
        Ok(response) => {
            outcome.headers(response.metadata());
            outcome.trailers(response.trailers());
            outcome.payload(response.into_inner().into_payload());
        }
        Err(status) => outcome.fail(&status),
    }
}
