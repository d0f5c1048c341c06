//! What rsrpc speaks of what the suite can ask for, in one place: each function takes a
//! value of a `ClientCompatRequest` or `ServerCompatRequest` and returns its rsrpc
//! setting, or an error saying that rsrpc lacks it. The client and server answer such
//! a case with that error rather than fail in some other way.
//!
//! rsrpc speaks gRPC, gRPC-Web and Connect, in protobuf and JSON, with identity or gzip
//! compression, over HTTP/1.1 and HTTP/2.

use rsrpc::client::Protocol as RsrpcProtocol;
use rsrpc::codec::{Encoding, Format};
use rsrpc::transport::HttpVersion;

use crate::proto::{Codec, Compression, HttpVersion as SuiteHttpVersion, Protocol};

/// The RPC protocol of a case, as a channel speaks it.
pub fn protocol(value: i32) -> Result<RsrpcProtocol, String> {
    match Protocol::try_from(value) {
        Ok(Protocol::Grpc) => Ok(RsrpcProtocol::Grpc),
        Ok(Protocol::GrpcWeb) => Ok(RsrpcProtocol::GrpcWeb),
        Ok(Protocol::Connect) => Ok(RsrpcProtocol::Connect),
        Ok(Protocol::Unspecified) | Err(_) => Err(format!("no protocol given ({value})")),
    }
}

/// The format of a case's messages.
pub fn codec(value: i32) -> Result<Format, String> {
    match Codec::try_from(value) {
        Ok(Codec::Proto) => Ok(Format::Proto),
        Ok(Codec::Json) => Ok(Format::Json),
        Ok(Codec::Unspecified) | Err(_) => Err(format!("no codec given ({value})")),
        Ok(other) => Err(format!(
            "rsrpc has no {} codec: only CODEC_PROTO and CODEC_JSON",
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
    fn every_protocol_and_codec_is_supported() {
        assert_eq!(protocol(Protocol::Grpc as i32), Ok(RsrpcProtocol::Grpc));
        assert_eq!(
            protocol(Protocol::GrpcWeb as i32),
            Ok(RsrpcProtocol::GrpcWeb)
        );
        assert_eq!(
            protocol(Protocol::Connect as i32),
            Ok(RsrpcProtocol::Connect)
        );
        assert_eq!(codec(Codec::Proto as i32), Ok(Format::Proto));
        assert_eq!(codec(Codec::Json as i32), Ok(Format::Json));
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
        #[allow(deprecated)]
        let error = codec(Codec::Text as i32).unwrap_err();
        assert!(error.contains("CODEC_TEXT"), "{error}");
        let error = compression(Compression::Zstd as i32).unwrap_err();
        assert!(error.contains("COMPRESSION_ZSTD"), "{error}");
        assert!(http_version(SuiteHttpVersion::HttpVersion3 as i32).is_err());
        assert!(protocol(99).is_err());
    }
}
