//! The suite's header lists (`Header`: a name and its values, as text) as rsrpc metadata,
//! and back.
//!
//! Values are the text on the wire. A `-bin` entry's text is base64: it is decoded into
//! the bytes rsrpc's metadata holds (rsrpc sends it again unpadded), and reported back
//! as the base64 that arrived.

use base64::Engine as _;
use base64::engine::DecodePaddingMode;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use rsrpc::MetadataMap;

use crate::proto::Header;

/// Standard base64, padded or not, as gRPC sends binary metadata.
const BASE64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Adds every value of `headers` to `metadata`, in order. Names are lowercased, as
/// HTTP/2 sends them; a name or value rsrpc refuses is an error naming it.
pub fn append(metadata: &mut MetadataMap, headers: &[Header]) -> Result<(), String> {
    for header in headers {
        let name = header.name.to_ascii_lowercase();
        for value in &header.value {
            let added = if name.ends_with("-bin") {
                let bytes = BASE64
                    .decode(value)
                    .map_err(|error| format!("header {name}: invalid base64 {value:?}: {error}"))?;
                metadata.append_bin(&name, bytes)
            } else {
                metadata.append(&name, value)
            };
            added.map_err(|error| format!("header {name}: {error}"))?;
        }
    }
    Ok(())
}

/// `headers` as metadata, as [`append`] adds them.
pub fn to_metadata(headers: &[Header]) -> Result<MetadataMap, String> {
    let mut metadata = MetadataMap::new();
    append(&mut metadata, headers)?;
    Ok(metadata)
}

/// The entries of `metadata` as the suite's header list: one `Header` per name, in the
/// order names first appear, with every value in order, as sent on the wire.
pub fn from_metadata(metadata: &MetadataMap) -> Vec<Header> {
    let mut headers: Vec<Header> = Vec::new();
    for (name, value) in metadata.as_headers() {
        let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
        match headers
            .iter_mut()
            .find(|header| header.name == name.as_str())
        {
            Some(header) => header.value.push(value),
            None => headers.push(Header {
                name: name.as_str().to_owned(),
                value: vec![value],
            }),
        }
    }
    headers
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(name: &str, values: &[&str]) -> Header {
        Header {
            name: name.into(),
            value: values.iter().map(|value| value.to_string()).collect(),
        }
    }

    #[test]
    fn repeated_names_keep_every_value_in_order() {
        let sent = [
            header("X-Custom", &["a", "b"]),
            header("x-other", &["c"]),
            header("x-custom", &["d"]),
        ];
        let metadata = to_metadata(&sent).unwrap();
        assert_eq!(
            from_metadata(&metadata),
            [
                header("x-custom", &["a", "b", "d"]),
                header("x-other", &["c"])
            ]
        );
    }

    #[test]
    fn binary_values_travel_as_base64() {
        let metadata = to_metadata(&[header("x-data-bin", &["AAH/", "AQ=="])]).unwrap();
        let bytes: Vec<_> = metadata
            .get_all_bin("x-data-bin")
            .map(Result::unwrap)
            .collect();
        assert_eq!(bytes, [&[0, 1, 255][..], &[1][..]]);
        // rsrpc sends binary values unpadded.
        assert_eq!(
            from_metadata(&metadata),
            [header("x-data-bin", &["AAH/", "AQ"])]
        );
    }

    #[test]
    fn refused_entries_are_named() {
        let error = to_metadata(&[header("grpc-status", &["0"])]).unwrap_err();
        assert!(error.contains("grpc-status"), "{error}");
        let error = to_metadata(&[header("x-bin", &["not base64!"])]).unwrap_err();
        assert!(error.contains("x-bin"), "{error}");
    }
}
