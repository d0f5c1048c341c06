//! The `grpc-timeout` header: `timeout::parse` and `timeout::encode`.
//!
//! The whole input is a header value for `parse` (when `http` accepts it as one); its first
//! 12 bytes, zero-padded, are also a duration (seconds, then nanoseconds) for `encode`.
//!
//! Checks: no panic; `parse` accepts exactly 1-8 ASCII digits and a unit (H, M, S, m, u, n)
//! and returns that many units, saturated at `u64::MAX` nanoseconds (the most a parsed
//! timeout holds); `encode` writes the finest unit whose value fits in 8 digits, rounded
//! up by less than one unit (or `99999999H` past that), and its output parses back to at
//! least the original, saturated likewise.

#![no_main]

use std::time::Duration;

use http::HeaderValue;
use libfuzzer_sys::fuzz_target;
use rsrpc::fuzzing::{encode_timeout, parse_timeout};

const UNITS: [(u8, u128); 6] = [
    (b'n', 1),
    (b'u', 1_000),
    (b'm', 1_000_000),
    (b'S', 1_000_000_000),
    (b'M', 60_000_000_000),
    (b'H', 3_600_000_000_000),
];
const MAX_VALUE: u128 = 99_999_999;
/// The longest duration a parsed timeout can hold.
const MAX_PARSED: Duration = Duration::from_nanos(u64::MAX);

fn unit_size(unit: u8) -> Option<u128> {
    UNITS
        .iter()
        .find(|(name, _)| *name == unit)
        .map(|&(_, size)| size)
}

/// What `parse` must return, from the grammar: `(value, unit size)` or `None`.
fn grammar(text: &[u8]) -> Option<(u128, u128)> {
    let (&unit, digits) = text.split_last()?;
    if digits.is_empty() || digits.len() > 8 || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let value = std::str::from_utf8(digits).ok()?.parse().ok()?;
    Some((value, unit_size(unit)?))
}

fn saturated(nanos: u128) -> Duration {
    Duration::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX))
}

fn check_parse(value: &HeaderValue) -> Option<Duration> {
    let parsed = parse_timeout(value);
    let expected = grammar(value.as_bytes()).map(|(value, size)| saturated(value * size));
    assert_eq!(parsed, expected, "parse({value:?})");
    parsed
}

fn check_encode(timeout: Duration) {
    let value = encode_timeout(timeout);
    let (number, size) = grammar(value.as_bytes())
        .unwrap_or_else(|| panic!("encode({timeout:?}) = {value:?} is not a valid grpc-timeout"));
    let nanos = timeout.as_nanos();
    if nanos <= MAX_VALUE * UNITS[5].1 {
        let encoded = number * size;
        assert!(
            encoded >= nanos,
            "encode({timeout:?}) = {value:?} rounds down"
        );
        assert!(
            encoded - nanos < size,
            "encode({timeout:?}) = {value:?} rounds up by a unit or more"
        );
        if let Some(&(_, finer)) = UNITS.iter().rev().find(|&&(_, unit)| unit < size) {
            assert!(
                nanos.div_ceil(finer) > MAX_VALUE,
                "encode({timeout:?}) = {value:?}: a finer unit fits"
            );
        }
    } else {
        assert_eq!(value, "99999999H", "encode({timeout:?})");
    }
    let back = check_parse(&value).expect("encoded timeouts parse");
    assert!(
        back >= timeout.min(MAX_PARSED),
        "encode({timeout:?}) = {value:?} parses back to the shorter {back:?}"
    );
}

fuzz_target!(|data: &[u8]| {
    if let Ok(value) = HeaderValue::from_bytes(data)
        && let Some(timeout) = check_parse(&value)
    {
        check_encode(timeout);
    }
    let mut raw = [0u8; 12];
    let n = data.len().min(12);
    raw[..n].copy_from_slice(&data[..n]);
    let secs = u64::from_le_bytes(raw[..8].try_into().unwrap());
    let nanos = u32::from_le_bytes(raw[8..].try_into().unwrap()) % 1_000_000_000;
    // Small durations matter most: the first byte also picks how many of the seconds'
    // bits to keep.
    let shift = u32::from(data.first().copied().unwrap_or(0) % 65);
    let secs = secs.checked_shr(shift).unwrap_or(0);
    check_encode(Duration::new(secs, nanos));
});
