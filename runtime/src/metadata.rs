//! Custom metadata: the user-visible headers and trailers of a call.
//!
//! Names are lowercase `[0-9a-z_.-]`. Names ending in `-bin` carry arbitrary bytes, sent
//! base64-encoded; all others carry printable ASCII. Names starting with `grpc-` and the
//! headers the transport owns are reserved and cannot be set by users.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::{DecodePaddingMode, general_purpose};
use bytes::Bytes;
use http::header::{HeaderMap, HeaderName, HeaderValue};

/// Emits unpadded base64 and accepts padded and unpadded input, as gRPC requires.
const BASE64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_encode_padding(false)
        .with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Headers owned by the transport or the gRPC protocol, never exposed as metadata.
pub(crate) const TRANSPORT_HEADERS: &[&str] = &[
    "content-type",
    "te",
    "connection",
    "keep-alive",
    "proxy-connection",
    "transfer-encoding",
    "upgrade",
    "host",
    "trailer",
    "content-length",
];

/// Above this many reserved entries, [`MetadataMap::from_headers`] collects their names
/// once instead of rescanning after each removal.
const RESCAN_LIMIT: usize = 4;

/// Encodes bytes as unpadded standard base64.
pub(crate) fn encode_base64(bytes: &[u8]) -> String {
    BASE64.encode(bytes)
}

/// Decodes a `-bin` header value: comma-separated base64 values, padded or not, joined.
pub(crate) fn decode_base64(raw: &[u8]) -> Result<Bytes, MetadataError> {
    let mut out = Vec::new();
    for part in raw.split(|&b| b == b',') {
        let part = part.trim_ascii();
        let start = out.len();
        BASE64
            .decode_vec(part, &mut out)
            .or_else(|_| {
                // A failed decode_vec leaves its zero-filled scratch space in `out`.
                out.truncate(start);
                general_purpose::URL_SAFE_NO_PAD.decode_vec(part, &mut out)
            })
            .map_err(|_| MetadataError::InvalidBase64)?;
    }
    Ok(Bytes::from(out))
}

/// Why a metadata entry was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MetadataError {
    /// The name is empty or has characters outside `[0-9a-z_.-]`.
    InvalidName(String),
    /// The name is reserved for the protocol or the transport (`grpc-*`, `content-type`, ...).
    ReservedName(String),
    /// An ASCII value was given for a `-bin` name, or bytes for a name without `-bin`.
    WrongKind(String),
    /// An ASCII value has characters outside 0x20–0x7E.
    InvalidValue(String),
    /// A `-bin` value is not valid base64.
    InvalidBase64,
}

impl fmt::Display for MetadataError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MetadataError::InvalidName(name) => write!(
                f,
                "invalid metadata name {name:?}: expected lowercase [0-9a-z_.-]"
            ),
            MetadataError::ReservedName(name) => write!(f, "metadata name {name:?} is reserved"),
            MetadataError::WrongKind(name) if name.ends_with("-bin") => {
                write!(
                    f,
                    "metadata name {name:?} ends in -bin: use the *_bin methods"
                )
            }
            MetadataError::WrongKind(name) => write!(
                f,
                "metadata name {name:?} does not end in -bin: binary values need a -bin name"
            ),
            MetadataError::InvalidValue(name) => write!(
                f,
                "value of metadata {name:?} must be printable ASCII (0x20-0x7E)"
            ),
            MetadataError::InvalidBase64 => f.write_str("binary metadata is not valid base64"),
        }
    }
}

impl std::error::Error for MetadataError {}

/// A value read from a [`MetadataMap`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MetadataValue<'a> {
    /// A printable-ASCII value.
    Ascii(&'a str),
    /// The decoded bytes of a `-bin` entry.
    Binary(Bytes),
}

/// The metadata of a request, a response or a status: a multimap of names to values.
#[derive(Clone, Default, PartialEq)]
pub struct MetadataMap {
    headers: HeaderMap,
}

impl MetadataMap {
    /// An empty map.
    pub fn new() -> MetadataMap {
        MetadataMap::default()
    }

    /// Wraps received headers, dropping the reserved ones.
    pub fn from_headers(mut headers: HeaderMap) -> MetadataMap {
        // Removing by an already parsed name avoids re-parsing it; a call carries few
        // reserved headers, so rescanning after each removal is cheaper than collecting.
        let reserved = headers
            .keys()
            .filter(|name| is_reserved(name.as_str()))
            .count();
        if reserved == headers.keys_len() {
            // Nothing but protocol headers, as on most calls: drop them wholesale.
            return MetadataMap::new();
        }
        if reserved <= RESCAN_LIMIT {
            for _ in 0..reserved {
                if let Some(name) = headers
                    .keys()
                    .find(|name| is_reserved(name.as_str()))
                    .cloned()
                {
                    headers.remove(name);
                }
            }
        } else {
            let names: Vec<HeaderName> = headers
                .keys()
                .filter(|name| is_reserved(name.as_str()))
                .cloned()
                .collect();
            for name in names {
                headers.remove(name);
            }
        }
        MetadataMap { headers }
    }

    /// Splits received headers into metadata and the reserved headers, keeping both:
    /// an interceptor changes the first, the call still needs the second.
    pub(crate) fn split_reserved(headers: HeaderMap) -> (MetadataMap, HeaderMap) {
        let mut metadata = HeaderMap::new();
        let mut reserved = HeaderMap::new();
        let mut name = None;
        for (next_name, value) in headers {
            // `None` repeats the previous name, as HeaderMap iterates its multi-values.
            if next_name.is_some() {
                name = next_name;
            }
            let Some(name) = name.clone() else { continue };
            if is_reserved(name.as_str()) {
                reserved.append(name, value);
            } else {
                metadata.append(name, value);
            }
        }
        (MetadataMap { headers: metadata }, reserved)
    }

    /// The entries as HTTP headers (binary values base64-encoded).
    pub fn into_headers(self) -> HeaderMap {
        self.headers
    }

    /// The entries as HTTP headers.
    pub fn as_headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// Number of values.
    pub fn len(&self) -> usize {
        self.headers.len()
    }

    /// Whether the map has no entries.
    pub fn is_empty(&self) -> bool {
        self.headers.is_empty()
    }

    /// Whether an entry named `name` exists.
    pub fn contains_key(&self, name: &str) -> bool {
        self.headers.contains_key(name)
    }

    /// Sets an ASCII entry, replacing earlier values of that name.
    pub fn insert(&mut self, name: &str, value: &str) -> Result<(), MetadataError> {
        let (name, value) = ascii_entry(name, value)?;
        self.headers.insert(name, value);
        Ok(())
    }

    /// Adds an ASCII value, keeping earlier values of that name.
    pub fn append(&mut self, name: &str, value: &str) -> Result<(), MetadataError> {
        let (name, value) = ascii_entry(name, value)?;
        self.headers.append(name, value);
        Ok(())
    }

    /// Sets a binary entry (the name must end in `-bin`), replacing earlier values.
    pub fn insert_bin(&mut self, name: &str, value: impl AsRef<[u8]>) -> Result<(), MetadataError> {
        let (name, value) = binary_entry(name, value.as_ref())?;
        self.headers.insert(name, value);
        Ok(())
    }

    /// Adds a binary value (the name must end in `-bin`), keeping earlier values.
    pub fn append_bin(&mut self, name: &str, value: impl AsRef<[u8]>) -> Result<(), MetadataError> {
        let (name, value) = binary_entry(name, value.as_ref())?;
        self.headers.append(name, value);
        Ok(())
    }

    /// The first ASCII value of `name`; `None` if absent, binary, or not printable ASCII.
    pub fn get(&self, name: &str) -> Option<&str> {
        if name.ends_with("-bin") {
            return None;
        }
        self.headers.get(name)?.to_str().ok()
    }

    /// Every ASCII value of `name`.
    pub fn get_all<'a>(&'a self, name: &str) -> impl Iterator<Item = &'a str> + 'a {
        let values = if name.ends_with("-bin") {
            None
        } else {
            Some(self.headers.get_all(name).iter())
        };
        values
            .into_iter()
            .flatten()
            .filter_map(|value| value.to_str().ok())
    }

    /// The decoded first value of the binary entry `name`.
    pub fn get_bin(&self, name: &str) -> Option<Result<Bytes, MetadataError>> {
        if !name.ends_with("-bin") {
            return None;
        }
        self.headers
            .get(name)
            .map(|value| decode_base64(value.as_bytes()))
    }

    /// Every decoded value of the binary entry `name`.
    pub fn get_all_bin<'a>(
        &'a self,
        name: &str,
    ) -> impl Iterator<Item = Result<Bytes, MetadataError>> + 'a {
        let values = if name.ends_with("-bin") {
            Some(self.headers.get_all(name).iter())
        } else {
            None
        };
        values
            .into_iter()
            .flatten()
            .map(|value| decode_base64(value.as_bytes()))
    }

    /// Removes every value of `name`, returning whether there were any.
    pub fn remove(&mut self, name: &str) -> bool {
        self.headers.remove(name).is_some()
    }

    /// Every entry, binary ones decoded; entries that fail to decode are skipped.
    pub fn iter(&self) -> impl Iterator<Item = (&str, MetadataValue<'_>)> + '_ {
        self.headers.iter().filter_map(|(name, value)| {
            let name = name.as_str();
            let value = if name.ends_with("-bin") {
                MetadataValue::Binary(decode_base64(value.as_bytes()).ok()?)
            } else {
                MetadataValue::Ascii(value.to_str().ok()?)
            };
            Some((name, value))
        })
    }

    /// Adds every entry of `other`, keeping existing values.
    pub fn extend(&mut self, other: MetadataMap) {
        let mut last_name = None;
        for (name, value) in other.headers {
            // HeaderMap's owned iterator yields a name only for the first of its values.
            let name = match name {
                Some(name) => last_name.insert(name).clone(),
                None => match &last_name {
                    Some(name) => name.clone(),
                    None => continue,
                },
            };
            self.headers.append(name, value);
        }
    }
}

impl fmt::Debug for MetadataMap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.headers.iter()).finish()
    }
}

/// Whether a header name is reserved: protocol (`grpc-*`), pseudo or transport headers.
fn is_reserved(name: &str) -> bool {
    name.starts_with("grpc-") || name.starts_with(':') || TRANSPORT_HEADERS.contains(&name)
}

/// Validates a user-supplied name.
fn checked_name(name: &str) -> Result<HeaderName, MetadataError> {
    let valid = !name.is_empty()
        && name
            .bytes()
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'z' | b'_' | b'.' | b'-'));
    if !valid {
        return Err(MetadataError::InvalidName(name.to_owned()));
    }
    if is_reserved(name) {
        return Err(MetadataError::ReservedName(name.to_owned()));
    }
    HeaderName::from_bytes(name.as_bytes()).map_err(|_| MetadataError::InvalidName(name.to_owned()))
}

fn ascii_entry(name: &str, value: &str) -> Result<(HeaderName, HeaderValue), MetadataError> {
    let header = checked_name(name)?;
    if name.ends_with("-bin") {
        return Err(MetadataError::WrongKind(name.to_owned()));
    }
    if !value.bytes().all(|b| (0x20..=0x7e).contains(&b)) {
        return Err(MetadataError::InvalidValue(name.to_owned()));
    }
    let value =
        HeaderValue::from_str(value).map_err(|_| MetadataError::InvalidValue(name.to_owned()))?;
    Ok((header, value))
}

fn binary_entry(name: &str, value: &[u8]) -> Result<(HeaderName, HeaderValue), MetadataError> {
    let header = checked_name(name)?;
    if !name.ends_with("-bin") {
        return Err(MetadataError::WrongKind(name.to_owned()));
    }
    let value = HeaderValue::try_from(encode_base64(value))
        .map_err(|_| MetadataError::InvalidValue(name.to_owned()))?;
    Ok((header, value))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binary_values_round_trip_any_bytes() {
        let bytes: Vec<u8> = (0..=255).collect();
        let mut map = MetadataMap::new();
        map.insert_bin("x-all-bin", &bytes).unwrap();
        assert_eq!(map.get_bin("x-all-bin").unwrap().unwrap(), bytes);
        let raw = map.as_headers().get("x-all-bin").unwrap().as_bytes();
        assert!(!raw.ends_with(b"="), "binary values are sent unpadded");
    }

    #[test]
    fn padded_and_comma_separated_binary_values_decode() {
        assert_eq!(decode_base64(b"q6ur").unwrap(), &b"\xab\xab\xab"[..]);
        assert_eq!(decode_base64(b"AQ==").unwrap(), &b"\x01"[..]);
        assert_eq!(decode_base64(b"AQ, Ag==").unwrap(), &b"\x01\x02"[..]);
        assert_eq!(decode_base64(b"!!"), Err(MetadataError::InvalidBase64));
    }

    #[test]
    fn url_safe_binary_values_decode_without_leftovers() {
        // Found by fuzz/fuzz_targets/metadata.rs: the failed standard decode left zeros.
        assert_eq!(decode_base64(b"__8").unwrap(), &b"\xff\xff"[..]);
        assert_eq!(decode_base64(b"AQ,-_8").unwrap(), &b"\x01\xfb\xff"[..]);
    }

    #[test]
    fn reserved_and_invalid_names_are_refused() {
        let mut map = MetadataMap::new();
        assert!(matches!(
            map.insert("grpc-status", "0"),
            Err(MetadataError::ReservedName(_))
        ));
        assert!(matches!(
            map.insert("content-type", "x"),
            Err(MetadataError::ReservedName(_))
        ));
        assert!(matches!(
            map.insert("Upper", "x"),
            Err(MetadataError::InvalidName(_))
        ));
        assert!(matches!(
            map.insert("x-bin", "x"),
            Err(MetadataError::WrongKind(_))
        ));
        assert!(matches!(
            map.insert_bin("x-text", b"x"),
            Err(MetadataError::WrongKind(_))
        ));
        assert!(matches!(
            map.insert("x-ok", "tab\there"),
            Err(MetadataError::InvalidValue(_))
        ));
        assert!(map.is_empty());
    }

    #[test]
    fn received_headers_lose_reserved_entries() {
        let mut headers = HeaderMap::new();
        headers.insert("grpc-timeout", HeaderValue::from_static("1S"));
        headers.insert("content-type", HeaderValue::from_static("application/grpc"));
        headers.insert("x-user", HeaderValue::from_static("v"));
        let map = MetadataMap::from_headers(headers);
        assert_eq!(map.len(), 1);
        assert_eq!(map.get("x-user"), Some("v"));
    }

    #[test]
    fn extend_keeps_every_value() {
        let mut a = MetadataMap::new();
        a.insert("x-a", "1").unwrap();
        let mut b = MetadataMap::new();
        b.append("x-b", "2").unwrap();
        b.append("x-b", "3").unwrap();
        a.extend(b);
        assert_eq!(a.get_all("x-b").collect::<Vec<_>>(), ["2", "3"]);
        assert_eq!(a.len(), 3);
    }
}
