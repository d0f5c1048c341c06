//! Connect unary calls as GET requests: the message, its format and its compression in
//! the query (`?connect=v1&base64=1&compression=gzip&encoding=proto&message=...`), so
//! that calls without side effects can be cached.

use base64::Engine;
use base64::engine::general_purpose::{URL_SAFE, URL_SAFE_NO_PAD};
use bytes::Bytes;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode, utf8_percent_encode};

use crate::codec::Format;
use crate::status::Status;

/// What a GET request's query says of its message.
#[derive(Debug, PartialEq, Eq)]
pub(in crate::web) struct GetMessage {
    /// The `encoding` parameter: `None` when rsrpc has no such format.
    pub(in crate::web) format: Option<Format>,
    /// The `compression` parameter, unless `identity`.
    pub(in crate::web) compression: Option<String>,
    /// The message as sent, still compressed.
    pub(in crate::web) message: Bytes,
}

/// Reads the message of a GET request from its query.
pub(in crate::web) fn read_query(query: &str) -> Result<GetMessage, Status> {
    let (mut format, mut compression, mut message, mut base64) = (None, None, None, false);
    let mut encoding_seen = false;
    for pair in query.split('&').filter(|pair| !pair.is_empty()) {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        let value = decode_component(value);
        match name {
            "connect" if value != b"v1" => {
                return Err(Status::invalid_argument(format!(
                    "connect query parameter {:?} is not v1",
                    String::from_utf8_lossy(&value)
                )));
            }
            "encoding" => {
                encoding_seen = true;
                format = Format::from_name(&value);
            }
            "compression" if value != b"identity" => {
                compression = Some(String::from_utf8_lossy(&value).into_owned());
            }
            "base64" => base64 = value == b"1",
            "message" => message = Some(value),
            _ => {}
        }
    }
    if !encoding_seen {
        return Err(Status::invalid_argument(
            "a GET request needs an encoding query parameter",
        ));
    }
    let message = message.unwrap_or_default();
    let message = match base64 {
        false => message,
        true => URL_SAFE_NO_PAD
            .decode(&message)
            .or_else(|_| URL_SAFE.decode(&message))
            .map_err(|error| {
                Status::invalid_argument(format!("invalid base64 message: {error}"))
            })?,
    };
    Ok(GetMessage {
        format,
        compression,
        message: message.into(),
    })
}

/// A query value, percent-decoded, with `+` standing for a space.
fn decode_component(value: &str) -> Vec<u8> {
    let spaced = value.replace('+', " ");
    percent_decode(spaced.as_bytes()).collect()
}

/// What a query value may hold as it is: RFC 3986's unreserved characters.
const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// The query of a GET request for `message` in `format`, compressed with `compression`.
/// JSON goes as it is, anything compressed or binary in unpadded base64url. The
/// parameters go in the order the protocol recommends (`connect`, `base64`,
/// `compression`, `encoding`, `message`), so that equal calls make equal URLs for caches.
pub(in crate::web) fn write_query(
    format: Format,
    compression: Option<&str>,
    message: &[u8],
) -> String {
    let mut query = String::from("connect=v1");
    let plain_json = match std::str::from_utf8(message) {
        Ok(text) if format == Format::Json && compression.is_none() => Some(text),
        _ => None,
    };
    if plain_json.is_none() {
        query.push_str("&base64=1");
    }
    if let Some(compression) = compression {
        query.push_str("&compression=");
        query.extend(utf8_percent_encode(compression, QUERY_VALUE));
    }
    query.push_str("&encoding=");
    query.push_str(format.name());
    query.push_str("&message=");
    match plain_json {
        Some(text) => query.extend(utf8_percent_encode(text, QUERY_VALUE)),
        None => query.push_str(&URL_SAFE_NO_PAD.encode(message)),
    }
    query
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_round_trip() {
        for (format, compression, message) in [
            (Format::Proto, None, &b"\x08\x96\x01"[..]),
            (Format::Json, None, &br#"{"a b":"c&d=e+f"}"#[..]),
            (Format::Json, Some("gzip"), &b"\x1f\x8b"[..]),
        ] {
            let query = write_query(format, compression, message);
            let names: Vec<&str> = query
                .split('&')
                .filter_map(|pair| pair.split('=').next())
                .collect();
            let recommended = ["connect", "base64", "compression", "encoding", "message"];
            let in_order: Vec<&str> = recommended
                .into_iter()
                .filter(|name| names.contains(name))
                .collect();
            assert_eq!(names, in_order, "{query}");
            let read = read_query(&query).unwrap();
            assert_eq!(read.format, Some(format));
            assert_eq!(read.compression.as_deref(), compression);
            assert_eq!(read.message, message);
        }
    }

    #[test]
    fn bad_queries_are_refused_or_marked() {
        assert!(read_query("message=abc").is_err());
        assert!(read_query("connect=v2&encoding=proto").is_err());
        assert!(read_query("encoding=proto&base64=1&message=***").is_err());
        let unknown = read_query("encoding=xml&message=%3Ca%2F%3E").unwrap();
        assert_eq!(unknown.format, None);
        assert_eq!(unknown.message, &b"<a/>"[..]);
        let padded = read_query("encoding=proto&base64=1&message=YQ==").unwrap();
        assert_eq!(padded.message, &b"a"[..]);
    }
}
