//! The Connect protocol's rules: its headers, timeouts, error codes and error bodies.
//!
//! - `error`: errors as JSON, in a unary response's body or a stream's end message, and
//!   the HTTP statuses they travel with;
//! - `get`: unary calls as GET requests, the message in the query.

pub(super) mod error;
pub(super) mod get;

use std::time::Duration;

use http::{HeaderName, HeaderValue};

use crate::codec::Format;

/// The protocol version a request names; Connect has one.
pub(super) const PROTOCOL_VERSION: HeaderName = HeaderName::from_static("connect-protocol-version");
/// The call's timeout, in milliseconds.
pub(super) const TIMEOUT_MS: HeaderName = HeaderName::from_static("connect-timeout-ms");
/// The compression of a stream's messages.
pub(super) const CONTENT_ENCODING: HeaderName = HeaderName::from_static("connect-content-encoding");
/// The compressions a stream's peer can read.
pub(super) const ACCEPT_ENCODING: HeaderName = HeaderName::from_static("connect-accept-encoding");
/// Unary responses carry their trailers as headers with this prefix.
pub(super) const TRAILER_PREFIX: &str = "trailer-";
/// The flag of a stream's end message.
pub(super) const END_STREAM_FLAG: u8 = 0x02;

/// The content type of a unary call's message in `format`.
pub(super) fn unary_content_type(format: Format) -> HeaderValue {
    HeaderValue::from_static(match format {
        Format::Proto => "application/proto",
        Format::Json => "application/json",
    })
}

/// The content type of a stream's messages in `format`.
pub(super) fn stream_content_type(format: Format) -> HeaderValue {
    HeaderValue::from_static(match format {
        Format::Proto => "application/connect+proto",
        Format::Json => "application/connect+json",
    })
}

/// Reads `connect-timeout-ms`: at most 10 digits.
pub(super) fn parse_timeout(value: &HeaderValue) -> Option<Duration> {
    let digits = value.as_bytes();
    if digits.is_empty() || digits.len() > 10 || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let millis = std::str::from_utf8(digits).ok()?.parse().ok()?;
    Some(Duration::from_millis(millis))
}

/// Writes `connect-timeout-ms`, rounded up to the millisecond and capped at 10 digits.
pub(super) fn encode_timeout(timeout: Duration) -> HeaderValue {
    let millis = timeout.as_nanos().div_ceil(1_000_000).min(9_999_999_999);
    HeaderValue::from(u64::try_from(millis).unwrap_or(u64::MAX))
}

/// Whether a request names a protocol version other than Connect's one (`1`).
pub(super) fn wrong_version(value: Option<&HeaderValue>) -> bool {
    value.is_some_and(|value| value != "1")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeouts_are_milliseconds_of_up_to_ten_digits() {
        let parse = |text: &'static str| parse_timeout(&HeaderValue::from_static(text));
        assert_eq!(parse("1500"), Some(Duration::from_millis(1500)));
        assert_eq!(
            parse("9999999999"),
            Some(Duration::from_millis(9_999_999_999))
        );
        assert_eq!(parse("12345678901"), None);
        assert_eq!(parse("-1"), None);
        assert_eq!(parse(""), None);
        assert_eq!(encode_timeout(Duration::from_micros(1500)), "2");
        assert_eq!(encode_timeout(Duration::from_secs(u64::MAX)), "9999999999");
    }
}
