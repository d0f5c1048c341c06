//! Connect's errors: a JSON object with the code's name, the message and the details,
//! sent as a unary response's body with an HTTP status that matches the code, or in a
//! stream's end message with the trailing metadata.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use serde_json::{Map, Value, json};

use super::END_STREAM_FLAG;
use crate::metadata::MetadataMap;
use crate::status::{Code, Status};
use crate::web::frames::{MAX_TRAILER_ENTRIES, frame};

/// The HTTP status a unary error response has.
pub(in crate::web) fn http_status(code: Code) -> StatusCode {
    match code {
        Code::Ok => StatusCode::OK,
        Code::Cancelled => StatusCode::from_u16(499).unwrap_or(StatusCode::BAD_REQUEST),
        Code::InvalidArgument | Code::FailedPrecondition | Code::OutOfRange => {
            StatusCode::BAD_REQUEST
        }
        Code::DeadlineExceeded => StatusCode::GATEWAY_TIMEOUT,
        Code::NotFound => StatusCode::NOT_FOUND,
        Code::AlreadyExists | Code::Aborted => StatusCode::CONFLICT,
        Code::PermissionDenied => StatusCode::FORBIDDEN,
        Code::ResourceExhausted => StatusCode::TOO_MANY_REQUESTS,
        Code::Unimplemented => StatusCode::NOT_IMPLEMENTED,
        Code::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        Code::Unauthenticated => StatusCode::UNAUTHORIZED,
        Code::Unknown | Code::Internal | Code::DataLoss => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// The code of an error response whose body is not a Connect error.
pub(in crate::web) fn code_from_http(status: StatusCode) -> Code {
    match status.as_u16() {
        400 => Code::Internal,
        401 => Code::Unauthenticated,
        403 => Code::PermissionDenied,
        404 => Code::Unimplemented,
        408 => Code::DeadlineExceeded,
        429 | 502..=504 => Code::Unavailable,
        _ => Code::Unknown,
    }
}

/// `google.rpc.Status`, the form of a status's binary details.
#[derive(Clone, PartialEq, prost::Message)]
struct RpcStatus {
    #[prost(int32, tag = "1")]
    code: i32,
    #[prost(string, tag = "2")]
    message: String,
    #[prost(message, repeated, tag = "3")]
    details: Vec<Any>,
}

/// `google.protobuf.Any`.
#[derive(Clone, PartialEq, prost::Message)]
struct Any {
    #[prost(string, tag = "1")]
    type_url: String,
    #[prost(bytes = "bytes", tag = "2")]
    value: Bytes,
}

/// The JSON form of an error.
pub(in crate::web) fn error_json(status: &Status) -> Value {
    let mut error = Map::new();
    error.insert("code".into(), status.code().connect_name().into());
    if !status.message().is_empty() {
        error.insert("message".into(), status.message().into());
    }
    let details = <RpcStatus as prost::Message>::decode(status.details().clone())
        .map(|rpc| rpc.details)
        .unwrap_or_default();
    if !details.is_empty() {
        let details = details.iter().map(|any| {
            let name = any.type_url.rsplit('/').next().unwrap_or_default();
            json!({ "type": name, "value": STANDARD_NO_PAD.encode(&any.value) })
        });
        error.insert("details".into(), Value::Array(details.collect()));
    }
    Value::Object(error)
}

/// The body of a unary error response.
pub(in crate::web) fn error_body(status: &Status) -> Bytes {
    Bytes::from(error_json(status).to_string())
}

/// The status an error's JSON form stands for; `None` when it is not a JSON object. A
/// missing, null or unknown code is `code_otherwise`.
pub(in crate::web) fn status_from_json(error: &Value, code_otherwise: Code) -> Option<Status> {
    let error = error.as_object()?;
    let code = error
        .get("code")
        .and_then(Value::as_str)
        .and_then(Code::from_connect_name)
        .unwrap_or(code_otherwise);
    let message = error
        .get("message")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let details = error.get("details").and_then(Value::as_array);
    let details: Vec<Any> = details
        .into_iter()
        .flatten()
        .filter_map(|detail| {
            let name = detail.get("type")?.as_str()?;
            let value = detail.get("value")?.as_str()?;
            let value = STANDARD_NO_PAD
                .decode(value)
                .or_else(|_| STANDARD.decode(value))
                .ok()?;
            Some(Any {
                type_url: format!("type.googleapis.com/{name}"),
                value: value.into(),
            })
        })
        .collect();
    if details.is_empty() {
        return Some(Status::new(code, message));
    }
    let rpc = RpcStatus {
        code: code as i32,
        message: message.to_owned(),
        details,
    };
    let encoded = prost::Message::encode_to_vec(&rpc);
    Some(Status::with_details(code, message, encoded.into()))
}

/// The status of a unary error response's body: its JSON error, whose code defaults to
/// the HTTP status's, or a status made from the HTTP status alone.
pub(in crate::web) fn status_from_body(http: StatusCode, body: &[u8]) -> Status {
    let code = code_from_http(http);
    serde_json::from_slice::<Value>(body)
        .ok()
        .and_then(|error| status_from_json(&error, code))
        .unwrap_or_else(|| Status::new(code, format!("unexpected HTTP status {http}")))
}

/// A stream's end message for the trailers of a gRPC response: its error, if any, and
/// its metadata.
pub(in crate::web) fn end_stream_frame(trailers: &HeaderMap) -> Bytes {
    let mut end = Map::new();
    let status = Status::from_headers(trailers)
        .unwrap_or_else(|| Status::internal("the response ended without a status"));
    if status.code() != Code::Ok {
        end.insert("error".into(), error_json(&status));
    }
    let metadata = MetadataMap::from_headers(trailers.clone()).into_headers();
    if !metadata.is_empty() {
        end.insert("metadata".into(), metadata_json(&metadata));
    }
    frame(END_STREAM_FLAG, Value::Object(end).to_string().as_bytes())
}

/// Metadata as Connect's JSON: each name with the list of its values.
fn metadata_json(headers: &HeaderMap) -> Value {
    let mut metadata = Map::new();
    for name in headers.keys() {
        let values = headers
            .get_all(name)
            .iter()
            .map(|value| Value::from(String::from_utf8_lossy(value.as_bytes())))
            .collect();
        metadata.insert(name.as_str().to_owned(), Value::Array(values));
    }
    Value::Object(metadata)
}

/// The gRPC trailers a stream's end message stands for: `grpc-status` and the rest of
/// the status, and the metadata.
pub(in crate::web) fn read_end_stream(payload: &[u8]) -> Result<HeaderMap, Status> {
    let invalid = || Status::internal("invalid Connect end-of-stream message");
    let end: Value = serde_json::from_slice(payload).map_err(|_| invalid())?;
    let end = end.as_object().ok_or_else(invalid)?;
    let mut trailers = HeaderMap::new();
    if let Some(metadata) = end.get("metadata") {
        let metadata = metadata.as_object().ok_or_else(invalid)?;
        for (name, values) in metadata {
            let name = HeaderName::from_bytes(name.as_bytes()).map_err(|_| invalid())?;
            for value in values.as_array().ok_or_else(invalid)? {
                let value = value.as_str().ok_or_else(invalid)?;
                let value = HeaderValue::from_str(value).map_err(|_| invalid())?;
                // More entries than a header map holds would panic: refused.
                if trailers.len() >= MAX_TRAILER_ENTRIES {
                    return Err(invalid());
                }
                trailers.append(name.clone(), value);
            }
        }
    }
    let status = match end.get("error") {
        None | Some(Value::Null) => Status::new(Code::Ok, ""),
        Some(error) => status_from_json(error, Code::Unknown).ok_or_else(invalid)?,
    };
    status.write_to(&mut trailers);
    Ok(trailers)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_round_trip_through_json_with_their_details() {
        let rpc = RpcStatus {
            code: 5,
            message: "gone".into(),
            details: vec![Any {
                type_url: "type.googleapis.com/pkg.Info".into(),
                value: Bytes::from_static(b"\x08\x01"),
            }],
        };
        let details = prost::Message::encode_to_vec(&rpc);
        let status = Status::with_details(Code::NotFound, "gone", details.into());
        let json = error_json(&status);
        assert_eq!(json["code"], "not_found");
        assert_eq!(json["details"][0]["type"], "pkg.Info");
        assert_eq!(json["details"][0]["value"], "CAE");
        let back = status_from_json(&json, Code::Unknown).unwrap();
        assert_eq!(back.code(), Code::NotFound);
        assert_eq!(back.message(), "gone");
        assert_eq!(back.details(), status.details());
    }

    #[test]
    fn every_code_has_a_name_and_an_http_status() {
        for number in 1..=16 {
            let code = Code::from_i32(number);
            assert_eq!(Code::from_connect_name(code.connect_name()), Some(code));
            assert_ne!(http_status(code), StatusCode::OK);
        }
        assert_eq!(http_status(Code::Cancelled).as_u16(), 499);
        assert_eq!(Code::Cancelled.connect_name(), "canceled");
    }

    #[test]
    fn bodies_that_are_not_errors_fall_back_on_the_http_status() {
        let status = status_from_body(StatusCode::SERVICE_UNAVAILABLE, b"<html>");
        assert_eq!(status.code(), Code::Unavailable);
        let status = status_from_body(StatusCode::TOO_MANY_REQUESTS, br#"{"code":"nope"}"#);
        assert_eq!(
            status.code(),
            Code::Unavailable,
            "an unknown code is the HTTP status's"
        );
        let status = status_from_body(StatusCode::UNAUTHORIZED, br#"{"message":"oops"}"#);
        assert_eq!(
            (status.code(), status.message()),
            (Code::Unauthenticated, "oops")
        );
    }

    #[test]
    fn end_messages_carry_status_and_metadata_both_ways() {
        let mut trailers = HeaderMap::new();
        Status::invalid_argument("no").write_to(&mut trailers);
        trailers.append("x-tag", HeaderValue::from_static("a"));
        trailers.append("x-tag", HeaderValue::from_static("b"));
        let frame = end_stream_frame(&trailers);
        assert_eq!(frame[0], END_STREAM_FLAG);
        let back = read_end_stream(&frame[5..]).unwrap();
        assert_eq!(back["grpc-status"], "3");
        assert_eq!(back["grpc-message"], "no");
        let tags: Vec<_> = back.get_all("x-tag").iter().collect();
        assert_eq!(tags, ["a", "b"]);
        let missing = read_end_stream(br#"{"error":{"code":null,"message":"oops"}}"#).unwrap();
        assert_eq!(missing["grpc-status"], "2", "a missing code is unknown");
        let ok = read_end_stream(br#"{"error":null}"#).unwrap();
        assert_eq!(ok["grpc-status"], "0");
        let ok = read_end_stream(b"{}").unwrap();
        assert_eq!(ok["grpc-status"], "0");
        assert!(read_end_stream(b"[1]").is_err());
    }
}
