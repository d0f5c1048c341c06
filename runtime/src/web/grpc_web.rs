//! gRPC-Web's rules: gRPC with its own content types, and the trailers in a last frame
//! whose flags have the high bit set, written as HTTP/1.1 header lines.

use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue};

use super::frames::{MAX_TRAILER_ENTRIES, frame};
use crate::codec::Format;
use crate::status::Status;

/// The flag bit of the frame that holds the trailers.
pub(super) const TRAILER_FLAG: u8 = 0x80;

/// The content type of gRPC-Web messages in `format`, base64 when `text`.
pub(super) fn content_type(text: bool, format: Format) -> HeaderValue {
    HeaderValue::from_static(match (text, format) {
        (false, Format::Proto) => "application/grpc-web+proto",
        (false, Format::Json) => "application/grpc-web+json",
        (true, Format::Proto) => "application/grpc-web-text+proto",
        (true, Format::Json) => "application/grpc-web-text+json",
    })
}

/// The last frame of a response, holding `trailers`.
pub(super) fn trailer_frame(trailers: &HeaderMap) -> Bytes {
    let mut block = Vec::new();
    for (name, value) in trailers {
        block.extend_from_slice(name.as_str().as_bytes());
        block.extend_from_slice(b": ");
        block.extend_from_slice(value.as_bytes());
        block.extend_from_slice(b"\r\n");
    }
    frame(TRAILER_FLAG, &block)
}

/// The trailers held by a last frame's payload.
pub(super) fn read_trailers(block: &[u8]) -> Result<HeaderMap, Status> {
    let mut trailers = HeaderMap::new();
    for line in block.split(|&b| b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() {
            continue;
        }
        let invalid = || Status::internal("invalid gRPC-Web trailer line in the response");
        let colon = line.iter().position(|&b| b == b':').ok_or_else(invalid)?;
        let name = HeaderName::from_bytes(line[..colon].trim_ascii()).map_err(|_| invalid())?;
        let value =
            HeaderValue::from_bytes(line[colon + 1..].trim_ascii()).map_err(|_| invalid())?;
        // More entries than a header map holds would panic: refused.
        if trailers.len() >= MAX_TRAILER_ENTRIES {
            return Err(invalid());
        }
        trailers.append(name, value);
    }
    Ok(trailers)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trailers_round_trip_through_their_frame() {
        let mut trailers = HeaderMap::new();
        trailers.insert("grpc-status", HeaderValue::from_static("3"));
        trailers.insert("grpc-message", HeaderValue::from_static("bad%20input"));
        trailers.append("x-tag", HeaderValue::from_static("a"));
        trailers.append("x-tag", HeaderValue::from_static("b"));
        let frame = trailer_frame(&trailers);
        assert_eq!(frame[0], TRAILER_FLAG);
        assert_eq!(read_trailers(&frame[5..]).unwrap(), trailers);
    }

    #[test]
    fn trailer_lines_are_read_leniently_but_not_blindly() {
        let read = read_trailers(b"Grpc-Status:0\nx-a:  1 \r\n\r\n").unwrap();
        assert_eq!(read["grpc-status"], "0");
        assert_eq!(read["x-a"], "1");
        assert!(read_trailers(b"no colon here\r\n").is_err());
    }
}
