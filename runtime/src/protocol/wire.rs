//! The gRPC wire rules, in one place: the `grpc-*` headers of a call, the content type,
//! the `grpc-timeout` format, encoding negotiation, and the HTTP-status fallback. Server
//! and client calls both follow them from here.
//!
//! The status headers (`grpc-status`, `grpc-message`, `grpc-status-details-bin`) are the
//! one exception: a [`Status`](crate::Status) writes and reads them itself, since the
//! HTTP/1.1 transport must write one when it cannot deliver a response's trailers.

use std::time::Duration;

use http::header::CONTENT_TYPE;
use http::{HeaderMap, HeaderName, HeaderValue};

use crate::codec::{Encoding, EncodingSet, Format};
use crate::status::Code;

/// Header carrying a call's remaining time.
pub(crate) const GRPC_TIMEOUT: HeaderName = HeaderName::from_static("grpc-timeout");
/// Header naming the encoding of the messages of a request or response.
pub(crate) const GRPC_ENCODING: HeaderName = HeaderName::from_static("grpc-encoding");
/// Header listing the encodings a peer can decode.
pub(crate) const GRPC_ACCEPT_ENCODING: HeaderName = HeaderName::from_static("grpc-accept-encoding");
/// Header of a retried request: how many attempts of the call came before it.
pub(crate) const GRPC_PREVIOUS_RPC_ATTEMPTS: HeaderName =
    HeaderName::from_static("grpc-previous-rpc-attempts");

/// Header of a failed response: how long the client should wait before retrying, in
/// milliseconds; a negative or malformed value asks it not to retry.
pub(crate) const GRPC_RETRY_PUSHBACK_MS: HeaderName =
    HeaderName::from_static("grpc-retry-pushback-ms");

/// Content type of gRPC requests and responses.
pub(crate) const GRPC_CONTENT_TYPE: HeaderValue = HeaderValue::from_static("application/grpc");
/// The `te` value a gRPC client sends: it reads trailers.
pub(crate) const TE_TRAILERS: HeaderValue = HeaderValue::from_static("trailers");
/// The `user-agent` rsrpc clients send.
pub(crate) const USER_AGENT: HeaderValue =
    HeaderValue::from_static(concat!("rsrpc/", env!("CARGO_PKG_VERSION")));

/// The request headers a server call reads, found in one pass: on the handful of
/// headers a call carries, cheaper than a hashed lookup for each. The first value of a
/// repeated header counts, as with `HeaderMap::get`.
#[derive(Debug, Default)]
pub(crate) struct CallHeaders<'a> {
    pub(crate) content_type: Option<&'a HeaderValue>,
    pub(crate) timeout: Option<&'a HeaderValue>,
    pub(crate) encoding: Option<&'a HeaderValue>,
    pub(crate) accept_encoding: Option<&'a HeaderValue>,
}

impl<'a> CallHeaders<'a> {
    /// Finds the call's headers in `headers`.
    pub(crate) fn find(headers: &'a HeaderMap) -> CallHeaders<'a> {
        let mut found = CallHeaders::default();
        for (name, value) in headers {
            let slot = if name == CONTENT_TYPE {
                &mut found.content_type
            } else if name == GRPC_TIMEOUT {
                &mut found.timeout
            } else if name == GRPC_ENCODING {
                &mut found.encoding
            } else if name == GRPC_ACCEPT_ENCODING {
                &mut found.accept_encoding
            } else {
                continue;
            };
            slot.get_or_insert(value);
        }
        found
    }
}

/// Whether a content type is `application/grpc` or `application/grpc+<subtype>`
/// (parameters allowed): the one rule for requests and responses alike.
pub(crate) fn is_grpc_content_type(value: Option<&HeaderValue>) -> bool {
    value.is_some_and(|value| {
        // What nearly every request has, checked first.
        value == GRPC_CONTENT_TYPE || media_subtype(value.as_bytes(), b"application/grpc").is_some()
    })
}

/// The subtype of a content type whose type is `base`: `""` for `base` itself,
/// `proto` for `base+proto`; parameters (`; charset=utf-8`) are ignored. `None` when the
/// content type is not `base`.
pub(crate) fn media_subtype<'a>(value: &'a [u8], base: &[u8]) -> Option<&'a [u8]> {
    let rest = strip_prefix_ignore_case(value, base)?;
    let end = rest.iter().position(|&b| b == b';').unwrap_or(rest.len());
    let (subtype, _) = rest.split_at(end);
    let subtype = subtype.trim_ascii_end();
    match subtype.split_first() {
        None => Some(subtype),
        Some((b'+', name)) => Some(name),
        Some(_) => None,
    }
}

fn strip_prefix_ignore_case<'a>(value: &'a [u8], prefix: &[u8]) -> Option<&'a [u8]> {
    (value.len() >= prefix.len() && value[..prefix.len()].eq_ignore_ascii_case(prefix))
        .then(|| &value[prefix.len()..])
}

/// The message format a gRPC content type names: `application/grpc` and `+proto` are
/// protobuf, `+json` JSON; the subtype's name when rsrpc has no such format.
pub(crate) fn grpc_format(value: Option<&HeaderValue>) -> Result<Format, String> {
    if value.is_some_and(|value| value == GRPC_CONTENT_TYPE) {
        return Ok(Format::Proto);
    }
    let subtype = value
        .and_then(|value| media_subtype(value.as_bytes(), b"application/grpc"))
        .unwrap_or_default();
    if subtype.is_empty() {
        return Ok(Format::Proto);
    }
    Format::from_name(subtype).ok_or_else(|| String::from_utf8_lossy(subtype).into_owned())
}

/// The gRPC content type of messages in `format`.
pub(crate) fn grpc_content_type(format: Format) -> HeaderValue {
    match format {
        Format::Proto => GRPC_CONTENT_TYPE,
        Format::Json => HeaderValue::from_static("application/grpc+json"),
    }
}

/// A `grpc-encoding` this side cannot decode: unknown to rsrpc, or not accepted here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct UnsupportedEncoding {
    /// The encoding's name as the peer sent it.
    pub(crate) name: String,
}

/// The encoding of the peer's messages, from its `grpc-encoding` header: `None` for
/// identity, an error for an encoding not in `accepted`.
pub(crate) fn message_encoding(
    header: Option<&HeaderValue>,
    accepted: EncodingSet,
) -> Result<Option<Encoding>, UnsupportedEncoding> {
    match header.map(Encoding::parse) {
        None | Some(Ok(None)) => Ok(None),
        Some(Ok(Some(encoding))) if accepted.contains(encoding) => Ok(Some(encoding)),
        Some(Ok(Some(encoding))) => Err(UnsupportedEncoding {
            name: encoding.name().to_owned(),
        }),
        Some(Err(name)) => Err(UnsupportedEncoding { name }),
    }
}

/// Maps an HTTP status of a response that carries no `grpc-status` to a gRPC code, per
/// the gRPC "HTTP to gRPC status code mapping".
pub(crate) fn code_from_http(status: http::StatusCode) -> Code {
    match status.as_u16() {
        400 | 431 => Code::Internal,
        401 => Code::Unauthenticated,
        403 => Code::PermissionDenied,
        404 => Code::Unimplemented,
        429 | 502..=504 => Code::Unavailable,
        _ => Code::Unknown,
    }
}

// The `grpc-timeout` format: 1–8 ASCII digits and a unit (H, M, S, m, u, n).

/// The largest value the 8 digits of `grpc-timeout` can hold.
const MAX_DIGITS_VALUE: u128 = 99_999_999;

/// Units from finest to coarsest, with their length in nanoseconds.
const UNITS: [(char, u128); 6] = [
    ('n', 1),
    ('u', 1_000),
    ('m', 1_000_000),
    ('S', 1_000_000_000),
    ('M', 60_000_000_000),
    ('H', 3_600_000_000_000),
];

/// Encodes a timeout in the finest unit that fits in 8 digits, rounding up so the peer
/// never sees a shorter deadline than ours.
pub(crate) fn encode_timeout(timeout: Duration) -> HeaderValue {
    let nanos = timeout.as_nanos();
    let (unit, value) = UNITS
        .iter()
        .map(|&(unit, size)| (unit, nanos.div_ceil(size)))
        .find(|&(_, value)| value <= MAX_DIGITS_VALUE)
        .unwrap_or(('H', MAX_DIGITS_VALUE));
    HeaderValue::try_from(format!("{value}{unit}")).expect("digits and a unit letter")
}

/// Sets `grpc-timeout` to the time left until `deadline`, if there is one.
pub(crate) fn insert_timeout(headers: &mut HeaderMap, deadline: Option<tokio::time::Instant>) {
    if let Some(deadline) = deadline {
        let remaining = deadline.saturating_duration_since(tokio::time::Instant::now());
        headers.insert(GRPC_TIMEOUT, encode_timeout(remaining));
    }
}

/// What a server said of retrying a failed call, in `grpc-retry-pushback-ms`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Pushback {
    /// Nothing: the retry policy's backoff applies.
    Unset,
    /// Retry after this long.
    After(Duration),
    /// Do not retry: a negative or malformed value, or several, as grpc-go reads them.
    Stop,
}

/// Reads `grpc-retry-pushback-ms` from a response's headers or trailers.
pub(crate) fn pushback(headers: &HeaderMap) -> Pushback {
    let mut values = headers.get_all(GRPC_RETRY_PUSHBACK_MS).iter();
    let (Some(value), None) = (values.next(), values.next()) else {
        return match headers.contains_key(GRPC_RETRY_PUSHBACK_MS) {
            true => Pushback::Stop,
            false => Pushback::Unset,
        };
    };
    let millis = value
        .to_str()
        .ok()
        .and_then(|text| text.parse::<u64>().ok());
    millis.map_or(Pushback::Stop, |millis| {
        Pushback::After(Duration::from_millis(millis))
    })
}

/// Parses a `grpc-timeout` value; `None` when malformed.
pub(crate) fn parse_timeout(value: &HeaderValue) -> Option<Duration> {
    let text = value.to_str().ok()?;
    let unit = text.chars().last()?;
    let digits = &text[..text.len() - unit.len_utf8()];
    if digits.is_empty() || digits.len() > 8 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let value: u64 = digits.parse().ok()?;
    let (_, size) = UNITS.iter().find(|(name, _)| *name == unit)?;
    let nanos = u128::from(value) * size;
    Some(Duration::from_nanos(
        u64::try_from(nanos).unwrap_or(u64::MAX),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_in_the_finest_unit_that_fits() {
        assert_eq!(encode_timeout(Duration::from_millis(1500)), "1500000u");
        assert_eq!(encode_timeout(Duration::from_nanos(7)), "7n");
        assert_eq!(encode_timeout(Duration::from_secs(3600 * 24)), "86400000m");
        assert_eq!(encode_timeout(Duration::from_secs(u64::MAX)), "99999999H");
    }

    #[test]
    fn parses_every_unit_and_rejects_garbage() {
        let parse_str = |s: &'static str| parse_timeout(&HeaderValue::from_static(s));
        assert_eq!(parse_str("3S"), Some(Duration::from_secs(3)));
        assert_eq!(parse_str("2M"), Some(Duration::from_secs(120)));
        assert_eq!(parse_str("1H"), Some(Duration::from_secs(3600)));
        assert_eq!(parse_str("10m"), Some(Duration::from_millis(10)));
        assert_eq!(parse_str("10u"), Some(Duration::from_micros(10)));
        assert_eq!(parse_str("10n"), Some(Duration::from_nanos(10)));
        assert_eq!(parse_str("123456789S"), None);
        assert_eq!(parse_str("S"), None);
        assert_eq!(parse_str("1x"), None);
        assert_eq!(parse_str("-1S"), None);
    }

    #[test]
    fn call_headers_are_found_in_one_pass_first_value_first() {
        let mut headers = HeaderMap::new();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/grpc"));
        headers.insert("x-custom", HeaderValue::from_static("1"));
        headers.append(GRPC_TIMEOUT, HeaderValue::from_static("1S"));
        headers.append(GRPC_TIMEOUT, HeaderValue::from_static("2S"));
        headers.insert(GRPC_ACCEPT_ENCODING, HeaderValue::from_static("gzip"));
        let found = CallHeaders::find(&headers);
        assert_eq!(found.content_type.unwrap(), "application/grpc");
        assert_eq!(found.timeout.unwrap(), "1S");
        assert!(found.encoding.is_none());
        assert_eq!(found.accept_encoding.unwrap(), "gzip");
    }

    #[test]
    fn grpc_content_types_are_recognised() {
        let check =
            |value: &'static str| is_grpc_content_type(Some(&HeaderValue::from_static(value)));
        assert!(check("application/grpc"));
        assert!(check("application/grpc+proto"));
        assert!(check("application/grpc;charset=utf-8"));
        assert!(!check("application/grpcx"));
        assert!(check("Application/GRPC+json ; charset=utf-8"));
        assert!(!check("application/grpc-web"));
        assert!(!check("application/json"));
        assert!(!is_grpc_content_type(None));
    }

    #[test]
    fn grpc_content_types_name_their_format() {
        let format = |value: &'static str| grpc_format(Some(&HeaderValue::from_static(value)));
        assert_eq!(format("application/grpc"), Ok(Format::Proto));
        assert_eq!(format("application/grpc+proto"), Ok(Format::Proto));
        assert_eq!(
            format("application/grpc+json;charset=utf-8"),
            Ok(Format::Json)
        );
        assert_eq!(format("application/grpc+cbor"), Err("cbor".to_owned()));
        assert_eq!(
            format("application/grpc+PROTO; charset=utf-8"),
            Ok(Format::Proto)
        );
        assert_eq!(grpc_format(None), Ok(Format::Proto));
    }

    #[test]
    fn encodings_are_negotiated_against_the_accepted_set() {
        let gzip = HeaderValue::from_static("gzip");
        let all = EncodingSet::all();
        assert_eq!(message_encoding(None, all), Ok(None));
        let identity = HeaderValue::from_static("identity");
        assert_eq!(message_encoding(Some(&identity), all), Ok(None));
        assert_eq!(message_encoding(Some(&gzip), all), Ok(Some(Encoding::Gzip)));
        let refused = message_encoding(Some(&gzip), EncodingSet::identity_only());
        assert_eq!(refused.unwrap_err().name, "gzip");
        let unknown = message_encoding(Some(&HeaderValue::from_static("br")), all);
        assert_eq!(unknown.unwrap_err().name, "br");
    }

    #[test]
    fn pushback_is_a_wait_or_a_refusal() {
        let with = |values: &[&'static str]| {
            let mut headers = HeaderMap::new();
            for value in values {
                headers.append(GRPC_RETRY_PUSHBACK_MS, HeaderValue::from_static(value));
            }
            pushback(&headers)
        };
        assert_eq!(with(&[]), Pushback::Unset);
        assert_eq!(with(&["250"]), Pushback::After(Duration::from_millis(250)));
        assert_eq!(with(&["0"]), Pushback::After(Duration::ZERO));
        assert_eq!(with(&["-1"]), Pushback::Stop);
        assert_eq!(with(&["soon"]), Pushback::Stop);
        assert_eq!(with(&["1", "2"]), Pushback::Stop);
    }

    #[test]
    fn http_statuses_map_to_grpc_codes() {
        let http = |code: u16| code_from_http(http::StatusCode::from_u16(code).unwrap());
        assert_eq!(http(400), Code::Internal);
        assert_eq!(http(401), Code::Unauthenticated);
        assert_eq!(http(403), Code::PermissionDenied);
        assert_eq!(http(404), Code::Unimplemented);
        assert_eq!(http(429), Code::Unavailable);
        assert_eq!(http(503), Code::Unavailable);
        assert_eq!(http(500), Code::Unknown);
    }
}
