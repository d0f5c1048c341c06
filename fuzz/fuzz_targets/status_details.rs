//! Status details: `grpc-status-details-bin` decoded into the details bytes, which are a
//! serialized `google.rpc.Status`, decoded with prost; and the round trip
//! `Status::with_details` → headers → `from_headers`.
//!
//! Input: byte 0 is a status code; the rest is, at once, a received
//! `grpc-status-details-bin` value, the raw details bytes of a status to send, and the
//! `\n`-separated fields of a `google.rpc.Status` to send (message, then `type_url`,
//! `value` pairs of its `Any` details).
//!
//! Checks: no panic; received details are the base64-decoded header, or empty when it is
//! not base64, and decode as a `google.rpc.Status` when they are one; any details bytes
//! round-trip exactly; a `google.rpc.Status` sent as details decodes back equal.

#![no_main]

use bytes::Bytes;
use http::{HeaderMap, HeaderValue};
use libfuzzer_sys::fuzz_target;
use prost::Message;
use rsrpc::fuzzing::{decode_base64, status_from_headers, status_write_to};
use rsrpc::{Code, Status};

/// `google.rpc.Status`, the message gRPC status details carry.
#[derive(Clone, PartialEq, Message)]
struct RpcStatus {
    /// The status code, as in `grpc-status`.
    #[prost(int32, tag = "1")]
    code: i32,
    /// A developer-facing message.
    #[prost(string, tag = "2")]
    message: String,
    /// Error details, each a packed message.
    #[prost(message, repeated, tag = "3")]
    details: Vec<prost_types::Any>,
}

/// Sends `details` in a status's headers and returns what the receiver reads.
fn send(code: Code, details: Bytes) -> Bytes {
    let status = Status::with_details(code, "details", details.clone());
    let mut headers = HeaderMap::new();
    status_write_to(&status, &mut headers);
    assert_eq!(
        headers.contains_key("grpc-status-details-bin"),
        !details.is_empty(),
        "details header sent iff there are details"
    );
    let back = status_from_headers(&headers).expect("write_to sends grpc-status");
    assert_eq!(back.code(), code);
    let received = back.details().clone();
    assert_eq!(received, details, "details round trip");
    received
}

fn receive(raw: &[u8]) {
    let Ok(value) = HeaderValue::from_bytes(raw) else {
        return;
    };
    let mut headers = HeaderMap::new();
    headers.insert("grpc-status", HeaderValue::from_static("3"));
    headers.insert("grpc-status-details-bin", value);
    let status = status_from_headers(&headers).expect("grpc-status present");
    let expected = decode_base64(raw).unwrap_or_default();
    assert_eq!(status.details(), &expected);
    if let Ok(decoded) = RpcStatus::decode(status.details().clone()) {
        // What decodes re-encodes to something that decodes the same.
        let again = RpcStatus::decode(decoded.encode_to_vec().as_slice()).expect("re-decodes");
        assert_eq!(again, decoded);
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&code, rest)) = data.split_first() else {
        return;
    };
    let code = Code::from_i32(i32::from(code % 17));

    receive(rest);

    // Arbitrary details bytes, whether or not they are a google.rpc.Status.
    let received = send(code, Bytes::copy_from_slice(rest));
    let _ = RpcStatus::decode(received);

    // A google.rpc.Status built from the input.
    let mut fields = rest.split(|&b| b == b'\n');
    let message = String::from_utf8_lossy(fields.next().unwrap_or_default()).into_owned();
    let mut details = Vec::new();
    while let Some(type_url) = fields.next() {
        details.push(prost_types::Any {
            type_url: String::from_utf8_lossy(type_url).into_owned(),
            value: fields.next().unwrap_or_default().to_vec(),
        });
    }
    let sent = RpcStatus {
        code: code as i32,
        message,
        details,
    };
    let received = send(code, Bytes::from(sent.encode_to_vec()));
    let decoded = RpcStatus::decode(received).expect("sent google.rpc.Status decodes");
    assert_eq!(decoded, sent);
});
