//! The head of a gRPC request, built once and stamped onto every call.

use std::net::SocketAddr;

use http::header::{CONTENT_TYPE, HOST, HeaderValue, TE};
use http::{HeaderMap, Method, Request, Uri};

/// Method, URI and headers of a gRPC call.
#[derive(Debug, Clone)]
pub struct RequestHead {
    uri: Uri,
    headers: HeaderMap,
}

impl RequestHead {
    /// A call to `path` on `addr` over HTTP/2: an absolute URI (h2 derives `:scheme`
    /// and `:authority` from it).
    pub fn http2(addr: SocketAddr, path: &str) -> RequestHead {
        let uri = format!("http://{addr}{path}").parse().expect("valid URI");
        RequestHead {
            uri,
            headers: grpc_headers(),
        }
    }

    /// A call to `path` on `addr` over HTTP/1.1: an origin-form URI and a `host` header.
    pub fn http1(addr: SocketAddr, path: &str) -> RequestHead {
        let mut headers = grpc_headers();
        headers.insert(
            HOST,
            HeaderValue::from_str(&addr.to_string()).expect("valid host"),
        );
        RequestHead {
            uri: path.parse().expect("valid path"),
            headers,
        }
    }

    /// A request with this head and `body`.
    pub fn request<B>(&self, body: B) -> Request<B> {
        let mut request = Request::new(body);
        *request.method_mut() = Method::POST;
        *request.uri_mut() = self.uri.clone();
        *request.headers_mut() = self.headers.clone();
        request
    }
}

/// The headers every gRPC call sends.
fn grpc_headers() -> HeaderMap {
    let mut headers = HeaderMap::with_capacity(3);
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/grpc"));
    headers.insert(TE, HeaderValue::from_static("trailers"));
    headers
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heads_per_version() {
        let addr: SocketAddr = "127.0.0.1:5".parse().unwrap();
        let h2 = RequestHead::http2(addr, "/a.B/C").request(());
        assert_eq!(h2.uri().to_string(), "http://127.0.0.1:5/a.B/C");
        assert_eq!(h2.method(), Method::POST);
        assert_eq!(h2.headers()[TE], "trailers");
        let h1 = RequestHead::http1(addr, "/a.B/C").request(());
        assert_eq!(h1.uri().to_string(), "/a.B/C");
        assert_eq!(h1.headers()[HOST], "127.0.0.1:5");
    }
}
