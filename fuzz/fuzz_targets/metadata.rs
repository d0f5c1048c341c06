//! Received metadata: `MetadataMap::from_headers` and the readers over it (`get`,
//! `get_all`, `get_bin`, `get_all_bin`, `iter`), and `metadata::decode_base64`.
//!
//! Input: `\n`-separated header lines `name:value` (split at the first `:`; lines that
//! `http` refuses as a name or value are skipped), appended in order to a `HeaderMap`.
//! The whole input is also a `-bin` value for `decode_base64`, and the bytes for
//! base64 round trips.
//!
//! Checks: no panic; `from_headers` drops exactly the reserved headers (`grpc-*` and the
//! transport's) and keeps every other value in order; each reader agrees with the raw
//! headers; `decode_base64` agrees with a plain model (each comma-separated part, trimmed,
//! as standard base64, padded or not, else unpadded URL-safe base64, joined) and decodes
//! what standard (padded or not) and URL-safe base64 encoders write.

#![no_main]

use base64::Engine as _;
use base64::engine::DecodePaddingMode;
use base64::engine::general_purpose::{
    GeneralPurpose, GeneralPurposeConfig, STANDARD, STANDARD_NO_PAD, URL_SAFE_NO_PAD,
};
use http::{HeaderMap, HeaderName, HeaderValue};
use libfuzzer_sys::fuzz_target;
use rsrpc::MetadataMap;
use rsrpc::fuzzing::{TRANSPORT_HEADERS, decode_base64, encode_base64};
use rsrpc::metadata::{MetadataError, MetadataValue};

const STANDARD_ANY_PADDING: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

fn reserved(name: &str) -> bool {
    name.starts_with("grpc-") || TRANSPORT_HEADERS.contains(&name)
}

/// The model of a `-bin` value's decoding.
fn model_base64(raw: &[u8]) -> Result<Vec<u8>, MetadataError> {
    let mut out = Vec::new();
    for part in raw.split(|&b| b == b',') {
        let part = part.trim_ascii();
        let decoded = STANDARD_ANY_PADDING
            .decode(part)
            .or_else(|_| URL_SAFE_NO_PAD.decode(part))
            .map_err(|_| MetadataError::InvalidBase64)?;
        out.extend_from_slice(&decoded);
    }
    Ok(out)
}

fn check_base64(raw: &[u8]) {
    let decoded = decode_base64(raw).map(|bytes| bytes.to_vec());
    assert_eq!(decoded, model_base64(raw), "decode_base64({raw:?})");
}

fn headers_from(data: &[u8]) -> HeaderMap {
    let mut headers = HeaderMap::new();
    for line in data.split(|&b| b == b'\n') {
        let (name, value) = match line.iter().position(|&b| b == b':') {
            Some(colon) => (&line[..colon], &line[colon + 1..]),
            None => (line, &b""[..]),
        };
        if let (Ok(name), Ok(value)) =
            (HeaderName::from_bytes(name), HeaderValue::from_bytes(value))
        {
            headers.append(name, value);
        }
    }
    headers
}

fn check_map(headers: &HeaderMap) {
    let map = MetadataMap::from_headers(headers.clone());

    let mut expected = HeaderMap::new();
    for (name, value) in headers {
        if !reserved(name.as_str()) {
            expected.append(name.clone(), value.clone());
        }
    }
    assert_eq!(map.as_headers(), &expected, "from_headers({headers:?})");
    assert_eq!(map.len(), expected.len());
    assert_eq!(map.is_empty(), expected.is_empty());

    for name in headers.keys() {
        let name = name.as_str();
        let raw: Vec<&HeaderValue> = expected.get_all(name).iter().collect();
        assert_eq!(map.contains_key(name), !raw.is_empty());
        if name.ends_with("-bin") {
            assert_eq!(map.get(name), None);
            assert_eq!(map.get_all(name).count(), 0);
            for value in &raw {
                check_base64(value.as_bytes());
            }
            let first = raw.first().map(|value| decode_base64(value.as_bytes()));
            assert_eq!(map.get_bin(name), first);
            let all: Vec<_> = raw
                .iter()
                .map(|value| decode_base64(value.as_bytes()))
                .collect();
            assert_eq!(map.get_all_bin(name).collect::<Vec<_>>(), all);
        } else {
            assert!(map.get_bin(name).is_none());
            assert_eq!(map.get_all_bin(name).count(), 0);
            let first = raw.first().and_then(|value| value.to_str().ok());
            assert_eq!(map.get(name), first);
            let all: Vec<&str> = raw.iter().filter_map(|value| value.to_str().ok()).collect();
            assert_eq!(map.get_all(name).collect::<Vec<_>>(), all);
        }
    }

    // `iter` yields every entry that reads as its kind, and skips the rest.
    let mut expected_entries = Vec::new();
    for (name, value) in &expected {
        let name = name.as_str();
        if name.ends_with("-bin") {
            if let Ok(bytes) = decode_base64(value.as_bytes()) {
                expected_entries.push((name, MetadataValue::Binary(bytes)));
            }
        } else if let Ok(text) = value.to_str() {
            expected_entries.push((name, MetadataValue::Ascii(text)));
        }
    }
    // The order between names is unspecified (removing headers reorders a HeaderMap);
    // a stable sort by name keeps the order of each name's values.
    let mut entries: Vec<_> = map.iter().collect();
    entries.sort_by_key(|&(name, _)| name);
    expected_entries.sort_by_key(|&(name, _)| name);
    assert_eq!(entries, expected_entries);

    // Binary values read back can be sent again under the same name, and read the same.
    let mut resent = MetadataMap::new();
    for (name, value) in map.iter() {
        if let MetadataValue::Binary(bytes) = value
            && resent.append_bin(name, &bytes).is_ok()
        {
            let back: Vec<_> = resent.get_all_bin(name).collect();
            assert_eq!(
                back.last(),
                Some(&Ok(bytes)),
                "append_bin/get_all_bin {name}"
            );
        }
    }
}

fuzz_target!(|data: &[u8]| {
    check_base64(data);
    for encoded in [
        encode_base64(data),
        STANDARD.encode(data),
        STANDARD_NO_PAD.encode(data),
        URL_SAFE_NO_PAD.encode(data),
    ] {
        assert_eq!(
            decode_base64(encoded.as_bytes()).as_deref(),
            Ok(data),
            "decode_base64({encoded:?})"
        );
    }
    let (a, b) = data.split_at(data.len() / 2);
    let joined = format!("{}, {}", encode_base64(a), URL_SAFE_NO_PAD.encode(b));
    assert_eq!(decode_base64(joined.as_bytes()).as_deref(), Ok(data));

    check_map(&headers_from(data));
});
