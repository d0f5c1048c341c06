//! What rsrpc speaks of what the suite can ask for, in one place: each function takes a
//! value of a `ClientCompatRequest` or `ServerCompatRequest` and returns its rsrpc
//! setting, or an error saying that rsrpc lacks it. The client and server answer such
//! a case with that error rather than fail in some other way.
//!
//! gRPC with the proto codec, identity or gzip compression, over HTTP/2 (and HTTP/1.1,
//! which the suite does not ask of gRPC) is all rsrpc has today; gRPC-Web, Connect and
//! JSON extend the matches below.

use rsrpc::codec::Encoding;
use rsrpc::transport::HttpVersion;

use crate::proto::{Codec, Compression, HttpVersion as SuiteHttpVersion, Protocol};

/// The RPC protocol of a case: one rsrpc speaks.
pub fn protocol(value: i32) -> Result<Protocol, String> {
    match Protocol::try_from(value) {
        Ok(Protocol::Grpc) => Ok(Protocol::Grpc),
        Ok(other @ (Protocol::Connect | Protocol::GrpcWeb)) => Err(format!(
            "rsrpc does not speak {} yet: only PROTOCOL_GRPC",
            other.as_str_name()
        )),
        Ok(Protocol::Unspecified) | Err(_) => Err(format!("no protocol given ({value})")),
    }
}

/// The codec of a case's messages: one rsrpc has.
pub fn codec(value: i32) -> Result<Codec, String> {
    match Codec::try_from(value) {
        Ok(Codec::Proto) => Ok(Codec::Proto),
        Ok(Codec::Unspecified) | Err(_) => Err(format!("no codec given ({value})")),
        Ok(other) => Err(format!(
            "rsrpc has no {} codec yet: only CODEC_PROTO",
            other.as_str_name()
        )),
    }
}

/// The compression a client sends its requests with: `None` for identity.
pub fn compression(value: i32) -> Result<Option<Encoding>, String> {
    match Compression::try_from(value) {
        // Unset means no compression, as the runner fills it in only to ask for one.
        Ok(Compression::Identity | Compression::Unspecified) => Ok(None),
        Ok(Compression::Gzip) => Ok(Some(Encoding::Gzip)),
        Ok(other) => Err(format!(
            "rsrpc does not implement {}: only identity and gzip",
            other.as_str_name()
        )),
        Err(_) => Err(format!("unknown compression {value}")),
    }
}

/// The HTTP version a client speaks. rsrpc's servers serve HTTP/1.1 and HTTP/2 on every
/// port, so a server only checks it with this.
pub fn http_version(value: i32) -> Result<HttpVersion, String> {
    match SuiteHttpVersion::try_from(value) {
        Ok(SuiteHttpVersion::HttpVersion1) => Ok(HttpVersion::Http1),
        Ok(SuiteHttpVersion::HttpVersion2) => Ok(HttpVersion::Http2),
        Ok(SuiteHttpVersion::HttpVersion3) => Err("rsrpc does not speak HTTP/3".into()),
        Ok(SuiteHttpVersion::Unspecified) | Err(_) => {
            Err(format!("no HTTP version given ({value})"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grpc_proto_gzip_h2_are_supported() {
        assert_eq!(protocol(Protocol::Grpc as i32), Ok(Protocol::Grpc));
        assert_eq!(codec(Codec::Proto as i32), Ok(Codec::Proto));
        assert_eq!(
            compression(Compression::Gzip as i32),
            Ok(Some(Encoding::Gzip))
        );
        assert_eq!(compression(Compression::Identity as i32), Ok(None));
        assert_eq!(
            http_version(SuiteHttpVersion::HttpVersion2 as i32),
            Ok(HttpVersion::Http2)
        );
    }

    #[test]
    fn what_rsrpc_lacks_is_named() {
        let error = protocol(Protocol::Connect as i32).unwrap_err();
        assert!(error.contains("PROTOCOL_CONNECT"), "{error}");
        let error = codec(Codec::Json as i32).unwrap_err();
        assert!(error.contains("CODEC_JSON"), "{error}");
        let error = compression(Compression::Zstd as i32).unwrap_err();
        assert!(error.contains("COMPRESSION_ZSTD"), "{error}");
        assert!(http_version(SuiteHttpVersion::HttpVersion3 as i32).is_err());
        assert!(protocol(99).is_err());
    }
}
