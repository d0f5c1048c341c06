//! What a call showed, gathered as it runs, and reported as a `ClientResponseResult`:
//! what was gathered before a cancellation or a failure is kept.

use rsrpc::{MetadataMap, Status};

use crate::errors::from_status;
use crate::headers::from_metadata;
use crate::proto::{ClientResponseResult, ConformancePayload, Error, Header};

/// The result of a call so far.
#[derive(Debug, Default)]
pub struct Outcome {
    headers: Vec<Header>,
    payloads: Vec<ConformancePayload>,
    trailers: Vec<Header>,
    error: Option<Error>,
    unsent: usize,
}

impl Outcome {
    /// Records the response headers.
    pub fn headers(&mut self, metadata: &MetadataMap) {
        self.headers = from_metadata(metadata);
    }

    /// Records a response message's payload; a response without one counts as an empty
    /// payload, as the suite asks.
    pub fn payload(&mut self, payload: Option<ConformancePayload>) {
        self.payloads.push(payload.unwrap_or_default());
    }

    /// How many payloads were received.
    pub fn payloads(&self) -> usize {
        self.payloads.len()
    }

    /// Records the response trailers.
    pub fn trailers(&mut self, metadata: &MetadataMap) {
        self.trailers = from_metadata(metadata);
    }

    /// Records the call's failure. rsrpc gives a failed call's trailing metadata (or,
    /// for a Trailers-Only response, its only header block) with the status: they are
    /// the trailers.
    pub fn fail(&mut self, status: &Status) {
        self.error = Some(from_status(status));
        self.trailers = from_metadata(status.metadata());
    }

    /// Records that the client cancelled the call, by dropping it (how rsrpc cancels a
    /// call), unless it had already failed.
    pub fn cancelled(&mut self) {
        if self.error.is_none() {
            self.fail(&Status::cancelled("cancelled by the client"));
        }
    }

    /// Records that the last `count` request messages were never sent.
    pub fn unsent(&mut self, count: usize) {
        self.unsent = count;
    }

    /// The result for the runner.
    pub fn into_result(self) -> ClientResponseResult {
        ClientResponseResult {
            response_headers: self.headers,
            payloads: self.payloads,
            error: self.error,
            response_trailers: self.trailers,
            num_unsent_requests: i32::try_from(self.unsent).unwrap_or(i32::MAX),
            ..ClientResponseResult::default()
        }
    }
}

/// A response message of the service, which carries a payload (all but
/// `UnimplementedResponse`).
pub trait Reply {
    /// The payload, if the message has one.
    fn into_payload(self) -> Option<ConformancePayload>;
}

macro_rules! replies {
    ($($reply:ty),*) => {
        $(impl Reply for $reply {
            fn into_payload(self) -> Option<ConformancePayload> {
                self.payload
            }
        })*
    };
}

replies!(
    crate::proto::UnaryResponse,
    crate::proto::IdempotentUnaryResponse,
    crate::proto::ClientStreamResponse,
    crate::proto::ServerStreamResponse,
    crate::proto::BidiStreamResponse
);

impl Reply for crate::proto::UnimplementedResponse {
    fn into_payload(self) -> Option<ConformancePayload> {
        None
    }
}
