//! [`Protocol`], and telling which protocol a request speaks from its head.

use http::header::CONTENT_TYPE;
use http::{HeaderMap, Method};

use crate::codec::Format;
use crate::protocol::trace::RpcSystem;
use crate::protocol::wire::media_subtype;

/// The protocol a channel speaks to its servers. A server speaks all of them on one
/// port, telling them apart by each request's method and content type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Protocol {
    /// gRPC (`application/grpc`), over HTTP/2 or HTTP/1.1: the default.
    #[default]
    Grpc,
    /// gRPC-Web (`application/grpc-web`): gRPC with the trailers in the body, for
    /// browsers and proxies that cannot carry HTTP trailers.
    GrpcWeb,
    /// gRPC-Web with base64 bodies (`application/grpc-web-text`).
    GrpcWebText,
    /// The Connect protocol: unary calls as plain HTTP requests (`application/proto`,
    /// `application/json`), streams as `application/connect+proto`.
    Connect,
}

/// A gRPC-Web or Connect request, as told from its head.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum WebRequest {
    /// gRPC-Web, with base64 bodies when `text`.
    GrpcWeb { text: bool, format: Format },
    /// A Connect unary call: a POST with the message as its body, or a GET with the
    /// message in its query.
    ConnectUnary { get: bool, format: ConnectFormat },
    /// A Connect streaming call.
    ConnectStream { format: Format },
}

impl Protocol {
    /// The RPC system its calls' spans name.
    pub(crate) fn rpc_system(self) -> RpcSystem {
        match self {
            Protocol::Connect => RpcSystem::ConnectRpc,
            Protocol::Grpc | Protocol::GrpcWeb | Protocol::GrpcWebText => RpcSystem::Grpc,
        }
    }
}

impl WebRequest {
    /// The RPC system its call's span names.
    pub(crate) fn rpc_system(self) -> RpcSystem {
        match self {
            WebRequest::GrpcWeb { .. } => RpcSystem::Grpc,
            WebRequest::ConnectUnary { .. } | WebRequest::ConnectStream { .. } => {
                RpcSystem::ConnectRpc
            }
        }
    }

    /// Whether only a gRPC-Web or Connect client sends such a request: a Connect unary
    /// call looks like any JSON POST or GET, which a fallback service may be for.
    pub(crate) fn is_unambiguous(self) -> bool {
        !matches!(self, WebRequest::ConnectUnary { .. })
    }
}

/// The message format of a Connect unary request: known, or a codec rsrpc lacks (which
/// Connect answers with `415 Unsupported Media Type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ConnectFormat {
    Known(Format),
    Unknown,
}

impl WebRequest {
    /// The web protocol a request to a service's path speaks, if it is one: gRPC-Web and
    /// Connect streams by their content types, Connect unary calls by an
    /// `application/<codec>` POST or a GET.
    pub(crate) fn detect(method: &Method, headers: &HeaderMap) -> Option<WebRequest> {
        if method == Method::GET {
            // Its format is in the query, read when the request is translated, which
            // then sets the format its response is written in.
            return Some(WebRequest::ConnectUnary {
                get: true,
                format: ConnectFormat::Known(Format::Proto),
            });
        }
        let content_type = headers.get(CONTENT_TYPE)?.as_bytes();
        let known = |subtype: &[u8]| match subtype {
            b"" => Some(Format::Proto),
            name => Format::from_name(name),
        };
        if let Some(subtype) = media_subtype(content_type, b"application/grpc-web-text") {
            let format = known(subtype)?;
            return Some(WebRequest::GrpcWeb { text: true, format });
        }
        if let Some(subtype) = media_subtype(content_type, b"application/grpc-web") {
            let format = known(subtype)?;
            return Some(WebRequest::GrpcWeb {
                text: false,
                format,
            });
        }
        if let Some(subtype) = media_subtype(content_type, b"application/connect") {
            let format = Format::from_name(subtype)?;
            return Some(WebRequest::ConnectStream { format });
        }
        let codec = unary_codec(content_type)?;
        let format = Format::from_name(codec).map_or(ConnectFormat::Unknown, ConnectFormat::Known);
        Some(WebRequest::ConnectUnary { get: false, format })
    }
}

/// The codec of a Connect unary content type, `application/<codec>` (parameters
/// ignored), but never gRPC's own.
fn unary_codec(content_type: &[u8]) -> Option<&[u8]> {
    let rest = content_type.strip_prefix(b"application/")?;
    let end = rest.iter().position(|&b| b == b';').unwrap_or(rest.len());
    let codec = rest[..end].trim_ascii();
    let grpc = codec.starts_with(b"grpc") || codec.starts_with(b"connect");
    (!codec.is_empty() && !grpc).then_some(codec)
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn detect(method: Method, content_type: &'static str) -> Option<WebRequest> {
        let mut headers = HeaderMap::new();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
        WebRequest::detect(&method, &headers)
    }

    #[test]
    fn content_types_name_protocol_and_format() {
        let json = Format::Json;
        let proto = Format::Proto;
        assert_eq!(detect(Method::POST, "application/grpc"), None);
        assert_eq!(detect(Method::POST, "application/grpc+json"), None);
        assert_eq!(
            detect(Method::POST, "application/grpc-web"),
            Some(WebRequest::GrpcWeb {
                text: false,
                format: proto
            })
        );
        assert_eq!(
            detect(Method::POST, "application/grpc-web-text+json"),
            Some(WebRequest::GrpcWeb {
                text: true,
                format: json
            })
        );
        assert_eq!(
            detect(Method::POST, "application/connect+json"),
            Some(WebRequest::ConnectStream { format: json })
        );
        assert_eq!(
            detect(Method::POST, "application/json; charset=utf-8"),
            Some(WebRequest::ConnectUnary {
                get: false,
                format: ConnectFormat::Known(json)
            })
        );
        assert_eq!(
            detect(Method::POST, "application/xml"),
            Some(WebRequest::ConnectUnary {
                get: false,
                format: ConnectFormat::Unknown
            })
        );
        assert_eq!(detect(Method::POST, "text/plain"), None);
        assert_eq!(detect(Method::POST, "application/grpc-web+cbor"), None);
        assert!(matches!(
            detect(Method::GET, "text/html"),
            Some(WebRequest::ConnectUnary { get: true, .. })
        ));
    }
}
