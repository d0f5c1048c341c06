//! A `ClientCompatRequest` read into what the call runners need: the method, the
//! request's metadata and timeout, the pacing and cancellation of the call, and the
//! request messages.

use std::time::Duration;

use prost_types::Any;
use rsrpc::{MetadataMap, Request};

use crate::headers::to_metadata;
use crate::proto::client_compat_request::cancel::CancelTiming;
use crate::proto::{ClientCompatRequest, StreamType};

/// The service the client calls.
const SERVICE: &str = "connectrpc.conformance.v1.ConformanceService";

/// A method of the service, with how a bidi call is driven.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// `Unary`.
    Unary,
    /// `IdempotentUnary`, a unary call.
    IdempotentUnary,
    /// `Unimplemented`, a unary call the server must refuse.
    Unimplemented,
    /// `ClientStream`.
    ClientStream,
    /// `ServerStream`.
    ServerStream,
    /// `BidiStream`, every request sent before the first response is read.
    HalfDuplexBidi,
    /// `BidiStream`, each request followed by reading a response.
    FullDuplexBidi,
}

/// When the client cancels the call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cancel {
    /// Instead of closing the request stream, once every request is sent.
    BeforeCloseSend,
    /// This long after closing the request stream (for unary and server-stream calls,
    /// after starting the call).
    AfterCloseSend(Duration),
    /// Right after reading this many responses.
    AfterResponses(u32),
}

/// One call to make.
#[derive(Debug)]
pub struct Case {
    /// The method to call.
    pub method: Method,
    /// The request headers.
    pub metadata: MetadataMap,
    /// The call's timeout.
    pub timeout: Option<Duration>,
    /// The wait before each request message of a client or bidi stream.
    pub request_delay: Duration,
    /// When to cancel the call, if it is cancelled.
    pub cancel: Option<Cancel>,
    /// The request messages, packed.
    pub messages: Vec<Any>,
}

impl Case {
    /// The call `request` describes; an error for a request the client cannot make.
    pub fn from_request(request: &ClientCompatRequest) -> Result<Case, String> {
        if request.raw_request.is_some() {
            return Err("raw_request is for the reference client only".into());
        }
        let cancel = request
            .cancel
            .as_ref()
            .map(|cancel| match cancel.cancel_timing {
                Some(CancelTiming::BeforeCloseSend(())) => Cancel::BeforeCloseSend,
                Some(CancelTiming::AfterCloseSendMs(ms)) => {
                    Cancel::AfterCloseSend(Duration::from_millis(ms.into()))
                }
                Some(CancelTiming::AfterNumResponses(count)) => Cancel::AfterResponses(count),
                // No timing: right after closing the request stream.
                None => Cancel::AfterCloseSend(Duration::ZERO),
            });
        Ok(Case {
            method: method(request)?,
            metadata: to_metadata(&request.request_headers)?,
            timeout: request
                .timeout_ms
                .map(|ms| Duration::from_millis(ms.into())),
            request_delay: Duration::from_millis(request.request_delay_ms.into()),
            cancel,
            messages: request.request_messages.clone(),
        })
    }

    /// A request carrying `message` (or stream of messages), the case's headers and its
    /// timeout.
    pub fn request<T>(&self, message: T) -> Request<T> {
        let mut request = Request::new(message);
        *request.metadata_mut() = self.metadata.clone();
        if let Some(timeout) = self.timeout {
            request.set_timeout(timeout);
        }
        request
    }

    /// The only request message of a unary or server-stream call.
    pub fn single_message(&self) -> Result<&Any, String> {
        match self.messages.as_slice() {
            [message] => Ok(message),
            messages => Err(format!(
                "{:?} takes one request message, not {}",
                self.method,
                messages.len()
            )),
        }
    }
}

/// The method a request names, or the one its stream type implies.
fn method(request: &ClientCompatRequest) -> Result<Method, String> {
    let stream_type = StreamType::try_from(request.stream_type)
        .map_err(|_| format!("unknown stream type {}", request.stream_type))?;
    if let Some(service) = &request.service {
        if service != SERVICE {
            return Err(format!("unknown service {service:?}: only {SERVICE}"));
        }
    }
    let name = match (&request.method, stream_type) {
        (Some(name), _) => name.as_str(),
        (None, StreamType::Unary) => "Unary",
        (None, StreamType::ClientStream) => "ClientStream",
        (None, StreamType::ServerStream) => "ServerStream",
        (None, StreamType::HalfDuplexBidiStream | StreamType::FullDuplexBidiStream) => "BidiStream",
        (None, StreamType::Unspecified) => return Err("no method and no stream type".into()),
    };
    Ok(match (name, stream_type) {
        ("Unary", _) => Method::Unary,
        ("IdempotentUnary", _) => Method::IdempotentUnary,
        ("Unimplemented", _) => Method::Unimplemented,
        ("ClientStream", _) => Method::ClientStream,
        ("ServerStream", _) => Method::ServerStream,
        ("BidiStream", StreamType::FullDuplexBidiStream) => Method::FullDuplexBidi,
        ("BidiStream", StreamType::HalfDuplexBidiStream) => Method::HalfDuplexBidi,
        ("BidiStream", other) => {
            return Err(format!(
                "BidiStream needs a bidi stream type, not {}",
                other.as_str_name()
            ));
        }
        (other, _) => return Err(format!("unknown method {other:?} of {SERVICE}")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::client_compat_request::Cancel as SuiteCancel;

    fn request(method: Option<&str>, stream_type: StreamType) -> ClientCompatRequest {
        ClientCompatRequest {
            method: method.map(str::to_owned),
            stream_type: stream_type as i32,
            ..Default::default()
        }
    }

    #[test]
    fn bidi_calls_take_their_duplex_from_the_stream_type() {
        let full = request(Some("BidiStream"), StreamType::FullDuplexBidiStream);
        assert_eq!(method(&full), Ok(Method::FullDuplexBidi));
        let half = request(None, StreamType::HalfDuplexBidiStream);
        assert_eq!(method(&half), Ok(Method::HalfDuplexBidi));
        assert!(method(&request(Some("BidiStream"), StreamType::Unary)).is_err());
        assert!(method(&request(Some("Nope"), StreamType::Unary)).is_err());
    }

    #[test]
    fn a_cancel_without_timing_cancels_right_after_close_send() {
        let mut request = request(Some("Unary"), StreamType::Unary);
        request.cancel = Some(SuiteCancel {
            cancel_timing: None,
        });
        let case = Case::from_request(&request).unwrap();
        assert_eq!(case.cancel, Some(Cancel::AfterCloseSend(Duration::ZERO)));
    }
}
