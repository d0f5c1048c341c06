//! The suite's `Error` as an rsrpc [`Status`], and back. gRPC carries error details as
//! a `google.rpc.Status` in `grpc-status-details-bin`; rsrpc hands those bytes over as
//! they are, so they are encoded and decoded here.

use bytes::Bytes;
use prost::Message;
use prost_types::Any;
use rsrpc::{Code, Status};

use crate::proto;

/// `google.rpc.Status`, the message `grpc-status-details-bin` holds.
#[derive(Clone, PartialEq, Message)]
pub struct RpcStatus {
    /// The status code, as in `grpc-status`.
    #[prost(int32, tag = "1")]
    pub code: i32,
    /// The status message, as in `grpc-message`.
    #[prost(string, tag = "2")]
    pub message: String,
    /// The error details.
    #[prost(message, repeated, tag = "3")]
    pub details: Vec<Any>,
}

/// The status a server sends for `error`, with `error`'s details and then `more`, in
/// `grpc-status-details-bin`. The suite's codes are gRPC's, number for number.
pub fn to_status(error: &proto::Error, more: impl IntoIterator<Item = Any>) -> Status {
    let code = Code::from_i32(error.code);
    let message = error.message.clone().unwrap_or_default();
    let details: Vec<Any> = error.details.iter().cloned().chain(more).collect();
    if details.is_empty() {
        return Status::new(code, message);
    }
    let encoded = RpcStatus {
        code: code as i32,
        message: message.clone(),
        details,
    }
    .encode_to_vec();
    Status::with_details(code, message, Bytes::from(encoded))
}

/// The suite's form of a status a client received: its code, message and the details
/// in `grpc-status-details-bin`. Details that do not decode are reported as none: the
/// runner then sees a missing detail, rather than a call that did not happen.
pub fn from_status(status: &Status) -> proto::Error {
    let details = RpcStatus::decode(status.details().clone())
        .map(|decoded| decoded.details)
        .unwrap_or_default();
    proto::Error {
        code: status.code() as i32,
        message: Some(status.message().to_owned()),
        details,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::any::pack;

    #[test]
    fn details_round_trip_after_the_requested_ones() {
        let requested = proto::Error {
            code: proto::Code::ResourceExhausted as i32,
            message: Some("too much".into()),
            details: vec![pack(&proto::UnaryRequest::default())],
        };
        let info = pack(&proto::conformance_payload::RequestInfo::default());
        let status = to_status(&requested, [info.clone()]);
        assert_eq!(status.code(), Code::ResourceExhausted);
        assert_eq!(status.message(), "too much");

        let received = from_status(&status);
        assert_eq!(received.code, requested.code);
        assert_eq!(received.message, requested.message);
        assert_eq!(received.details, [requested.details[0].clone(), info]);
    }

    #[test]
    fn errors_without_details_send_none() {
        let requested = proto::Error {
            code: proto::Code::Unavailable as i32,
            message: None,
            details: vec![],
        };
        let status = to_status(&requested, []);
        assert!(status.details().is_empty());
        assert_eq!(from_status(&status).message.as_deref(), Some(""));
    }
}
