//! The client under test: reads `ClientCompatRequest`s from stdin until it ends, makes
//! each call through an rsrpc [`Channel`](rsrpc::Channel) and the generated
//! `ConformanceServiceClient`, and writes a `ClientCompatResponse` for each to stdout,
//! as each call ends. Calls run concurrently (up to `MAX_CONCURRENT_CASES`); whole
//! responses are written one at a time.
//!
//! - this module: the loop, and each case from request to response;
//! - `case`: the request read into the call to make;
//! - `channels`: the channels, one per connection setting;
//! - `requests`: the request stream of client-stream and bidi calls;
//! - `single`: unary and client-stream calls;
//! - `streams`: server-stream and bidi calls;
//! - `outcome`: what a call showed, as the runner's `ClientResponseResult`.

mod case;
mod channels;
mod outcome;
mod requests;
mod single;
mod streams;

use std::sync::Arc;

use tokio::io::Stdout;
use tokio::sync::{Mutex, Semaphore};
use tokio::task::JoinSet;

use self::case::{Case, Method};
use self::channels::Channels;
use self::outcome::Outcome;
use crate::framing::{read_message, write_message};
use crate::proto::client_compat_response::Result as CaseResult;
use crate::proto::{ClientCompatRequest, ClientCompatResponse, ClientErrorResult};

/// How many cases run at once. The runner sends thousands at a time; on two cores, all
/// of them at once would leave the timing cases (a cancellation 5 ms after close send,
/// a response delayed 200 ms) at the mercy of the scheduler rather than of rsrpc.
const MAX_CONCURRENT_CASES: usize = 32;

/// Runs every case on stdin, then waits for the calls under way. The runner's SIGTERM
/// ends the process at once, as it asks, by the signal's default action.
pub async fn run() -> Result<(), String> {
    let mut input = tokio::io::stdin();
    let output = Arc::new(Mutex::new(tokio::io::stdout()));
    let channels = Channels::default();
    let slots = Arc::new(Semaphore::new(MAX_CONCURRENT_CASES));
    let mut calls = JoinSet::new();
    while let Some(request) = read_message::<ClientCompatRequest, _>(&mut input)
        .await
        .map_err(|error| format!("cannot read a ClientCompatRequest: {error}"))?
    {
        let slot = Arc::clone(&slots)
            .acquire_owned()
            .await
            .map_err(|error| format!("the case slots closed: {error}"))?;
        let channels = channels.clone();
        let output = Arc::clone(&output);
        calls.spawn(async move {
            let response = run_case(&channels, request).await;
            drop(slot);
            write(&output, &response).await
        });
    }
    while let Some(joined) = calls.join_next().await {
        joined.map_err(|error| format!("a case's task failed: {error}"))??;
    }
    Ok(())
}

/// Writes one response, whole, before any other.
async fn write(output: &Mutex<Stdout>, response: &ClientCompatResponse) -> Result<(), String> {
    let mut output = output.lock().await;
    write_message(&mut *output, response)
        .await
        .map_err(|error| format!("cannot write a ClientCompatResponse: {error}"))
}

/// Makes the call `request` asks for; a request the client cannot make is answered
/// with an error result saying why.
async fn run_case(channels: &Channels, request: ClientCompatRequest) -> ClientCompatResponse {
    let result = match call(channels, &request).await {
        Ok(outcome) => CaseResult::Response(outcome.into_result()),
        Err(message) => CaseResult::Error(ClientErrorResult { message }),
    };
    ClientCompatResponse {
        test_name: request.test_name,
        result: Some(result),
    }
}

async fn call(channels: &Channels, request: &ClientCompatRequest) -> Result<Outcome, String> {
    let case = Case::from_request(request)?;
    let client = channels.client(request).await?;
    match case.method {
        Method::Unary => single::unary(&case, |request| client.unary(request)).await,
        Method::IdempotentUnary => {
            single::unary(&case, |request| client.idempotent_unary(request)).await
        }
        Method::Unimplemented => {
            single::unary(&case, |request| client.unimplemented(request)).await
        }
        Method::ClientStream => single::client_stream(&case, client).await,
        Method::ServerStream => streams::server_stream(&case, client).await,
        Method::HalfDuplexBidi => streams::bidi_stream(&case, client, false).await,
        Method::FullDuplexBidi => streams::bidi_stream(&case, client, true).await,
    }
}
