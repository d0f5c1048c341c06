//! Reading a status from trailers: `Status::from_headers` on arbitrary `grpc-status`,
//! `grpc-message` (percent-decoding) and `grpc-status-details-bin` values, and the round
//! trip `write_to` → `from_headers`.
//!
//! Input: `\n`-separated lines (`\n` never occurs in a header value): `grpc-status`,
//! `grpc-message`, `grpc-status-details-bin`, then metadata lines `name:value`. Byte 0
//! also says which of the three headers are sent (bits 0-2 clear: sent).
//!
//! Checks: no panic; `from_headers` is `None` exactly without `grpc-status`; the code is
//! the decimal value of `grpc-status` (`UNKNOWN` for a non-number); the message is the
//! percent-decoded `grpc-message` when that is UTF-8, else its raw text; the details are
//! the decoded `grpc-status-details-bin` (empty when not base64); the metadata is every
//! other non-reserved header. Round trip: any code, any UTF-8 message, any details and
//! metadata written by `write_to` read back identical, the message sent as visible ASCII
//! with well-formed percent escapes.

#![no_main]

use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue};
use libfuzzer_sys::fuzz_target;
use percent_encoding::percent_decode;
use rsrpc::fuzzing::{decode_base64, status_from_headers, status_write_to};
use rsrpc::{Code, MetadataMap, Status};

/// The spec's reading of `grpc-status`: 1 to 10 ASCII digits, an `i32`.
fn model_code(raw: &[u8]) -> Option<Code> {
    let text = std::str::from_utf8(raw).ok()?;
    let digits = (1..=10).contains(&text.len()) && text.bytes().all(|b| b.is_ascii_digit());
    digits.then(|| text.parse().ok().map(Code::from_i32))?
}

/// The spec's reading of `grpc-message`: percent-decoded UTF-8, else the raw text.
fn model_message(raw: &[u8]) -> String {
    let decoded = percent_decode(raw)
        .decode_utf8()
        .map(|text| text.into_owned());
    decoded.unwrap_or_else(|_| String::from_utf8_lossy(raw).into_owned())
}

fn metadata_from(lines: &[&[u8]]) -> HeaderMap {
    let mut headers = HeaderMap::new();
    for line in lines {
        let (name, value) = match line.iter().position(|&b| b == b':') {
            Some(colon) => (&line[..colon], &line[colon + 1..]),
            None => (*line, &b""[..]),
        };
        if let (Ok(name), Ok(value)) =
            (HeaderName::from_bytes(name), HeaderValue::from_bytes(value))
        {
            headers.append(name, value);
        }
    }
    headers
}

fn check_from_headers(headers: &HeaderMap) {
    let status = status_from_headers(headers);
    let Some(raw_code) = headers.get("grpc-status") else {
        assert!(status.is_none(), "a status without grpc-status");
        return;
    };
    let status = status.expect("grpc-status present");
    let Some(code) = model_code(raw_code.as_bytes()) else {
        assert_eq!(status.code(), Code::Unknown);
        assert!(status.message().starts_with("invalid grpc-status: "));
        return;
    };
    assert_eq!(status.code(), code, "grpc-status {raw_code:?}");
    let message = headers
        .get("grpc-message")
        .map(|raw| model_message(raw.as_bytes()))
        .unwrap_or_default();
    assert_eq!(status.message(), message);
    let details = headers
        .get("grpc-status-details-bin")
        .and_then(|raw| decode_base64(raw.as_bytes()).ok())
        .unwrap_or_default();
    assert_eq!(status.details(), &details);
    assert_eq!(
        status.metadata(),
        &MetadataMap::from_headers(headers.clone())
    );
}

/// Checks a `grpc-message` value as sent: visible ASCII, `%` only in `%XX` escapes.
fn check_sent_message(raw: &[u8]) {
    let mut i = 0;
    while i < raw.len() {
        let b = raw[i];
        assert!(
            (0x20..=0x7e).contains(&b),
            "grpc-message byte {b:#x} sent raw"
        );
        if b == b'%' {
            let escape = raw.get(i + 1..i + 3).expect("truncated percent escape");
            assert!(
                escape.iter().all(u8::is_ascii_hexdigit),
                "bad percent escape in {raw:?}"
            );
            i += 3;
        } else {
            i += 1;
        }
    }
}

fn check_round_trip(code: Code, message: String, details: Bytes, metadata: MetadataMap) {
    let status = Status::with_details(code, message, details).with_metadata(metadata);
    let mut headers = HeaderMap::new();
    status_write_to(&status, &mut headers);
    if let Some(raw) = headers.get("grpc-message") {
        check_sent_message(raw.as_bytes());
    }
    let back = status_from_headers(&headers).expect("write_to sends grpc-status");
    assert_eq!(back.code(), status.code());
    assert_eq!(back.message(), status.message(), "message round trip");
    assert_eq!(back.details(), status.details(), "details round trip");
    assert_eq!(back.metadata(), status.metadata(), "metadata round trip");
    check_from_headers(&headers);
}

fuzz_target!(|data: &[u8]| {
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let mut lines = rest.split(|&b| b == b'\n');
    let code = lines.next().unwrap_or_default();
    let message = lines.next().unwrap_or_default();
    let details = lines.next().unwrap_or_default();
    let extra: Vec<&[u8]> = lines.collect();

    let mut headers = metadata_from(&extra);
    for (bit, name, value) in [
        (1, "grpc-status", code),
        (2, "grpc-message", message),
        (4, "grpc-status-details-bin", details),
    ] {
        if flags & bit == 0
            && let Ok(value) = HeaderValue::from_bytes(value)
        {
            headers.insert(name, value);
        }
    }
    check_from_headers(&headers);

    // Any code (in range or not), UTF-8 message and details survive the trip.
    let code = Code::from_i32(i32::from(flags >> 3) - 8);
    let message = String::from_utf8_lossy(message).into_owned();
    let metadata = MetadataMap::from_headers(metadata_from(&extra));
    check_round_trip(code, message, Bytes::copy_from_slice(details), metadata);
    if let Ok(text) = std::str::from_utf8(rest) {
        check_round_trip(code, text.to_owned(), Bytes::new(), MetadataMap::new());
    }
});
