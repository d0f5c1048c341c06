//! The floor: a bare hyper HTTP/2 server that answers every request with its own body
//! and `grpc-status: 0`, without routing or decoding. Its CPU per call is what the
//! shared stack (tokio, hyper, h2) costs; a gRPC server can only add to it.

use std::convert::Infallible;

use http::header::{CONTENT_TYPE, HeaderValue};
use http::{HeaderMap, Request, Response};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use tokio::net::{TcpListener, TcpStream};

use super::BoxError;
use crate::body::OnceBody;

/// Accepts connections on `listener` and serves each over HTTP/2, with the same hyper
/// builder settings as rsrpc (hyper's defaults).
pub async fn serve(listener: TcpListener) -> Result<(), BoxError> {
    loop {
        match listener.accept().await {
            Ok((stream, _)) => drop(tokio::spawn(serve_connection(stream))),
            // Transient (e.g. out of file descriptors): back off as rsrpc does.
            Err(_) => tokio::time::sleep(std::time::Duration::from_millis(50)).await,
        }
    }
}

/// Serves one connection over HTTP/2 until the client leaves.
async fn serve_connection(stream: TcpStream) {
    let _ = stream.set_nodelay(true);
    let _ = hyper::server::conn::http2::Builder::new(TokioExecutor::new())
        .timer(TokioTimer::new())
        .serve_connection(TokioIo::new(stream), service_fn(echo))
        .await;
}

/// Answers with the request body and `grpc-status: 0` trailers.
async fn echo(request: Request<Incoming>) -> Result<Response<OnceBody>, Infallible> {
    let body = match request.into_body().collect().await {
        Ok(collected) => collected.to_bytes(),
        // The client went away; hyper drops the answer anyway.
        Err(_) => bytes::Bytes::new(),
    };
    let mut trailers = HeaderMap::with_capacity(1);
    trailers.insert("grpc-status", HeaderValue::from_static("0"));
    let mut response = Response::new(OnceBody::new(body, Some(trailers)));
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/grpc"));
    Ok(response)
}
