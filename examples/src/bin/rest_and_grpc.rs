//! gRPC and REST on one port: the greeter, and an axum router as the server's fallback
//! for requests that are not gRPC, behind one tower layer (`tower_http::trace`) and with
//! rsrpc's own `tracing` span for each gRPC call printed as it closes. Runs on an
//! ephemeral port of 127.0.0.1, calls both, and prints what comes back.

use std::time::Duration;

use axum::extract::Path;
use axum::routing::get;
use examples::greeter::MyGreeter;
use examples::helloworld::HelloRequest;
use examples::helloworld::greeter_client::GreeterClient;
use examples::helloworld::greeter_server::GreeterServer;
use rsrpc::Server;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tower::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;
use tracing_subscriber::fmt::format::FmtSpan;

/// The REST side: plain axum routes.
fn rest_routes() -> axum::Router {
    axum::Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route(
            "/greet/{name}",
            get(|Path(name): Path<String>| async move { format!("Hello {name}, over REST!") }),
        )
}

/// Sends `GET path` over HTTP/1.1 and returns the response as text.
async fn http_get(addr: std::net::SocketAddr, path: &str) -> std::io::Result<String> {
    let mut stream = TcpStream::connect(addr).await?;
    let request = format!("GET {path} HTTP/1.1\r\nhost: {addr}\r\nconnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await?;
    let mut response = String::new();
    stream.read_to_string(&mut response).await?;
    Ok(response)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // rsrpc's spans (target `rsrpc::server`, `rsrpc::client`) print with their fields
    // when they close; tower-http's print too.
    tracing_subscriber::fmt()
        .with_span_events(FmtSpan::CLOSE)
        .with_target(true)
        .init();

    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(
        Server::builder()
            .layer(TraceLayer::new_for_http())
            .layer(TimeoutLayer::new(Duration::from_secs(10)))
            .add_service(GreeterServer::new(MyGreeter))
            .fallback_service(rest_routes())
            .serve_with_listener(listener, async {
                let _ = stopped.await;
            }),
    );

    let client = GreeterClient::connect(format!("http://{addr}")).await?;
    let request = HelloRequest {
        name: "world".into(),
    };
    let reply = client.say_hello(request).await?;
    println!("gRPC: {}", reply.get_ref().message);

    for path in ["/healthz", "/greet/world"] {
        let response = http_get(addr, path).await?;
        let status = response.lines().next().unwrap_or_default();
        let body = response.split("\r\n\r\n").nth(1).unwrap_or_default();
        println!("REST {path}: {status} {body}");
        if !status.starts_with("HTTP/1.1 200") {
            return Err(format!("GET {path} failed: {response}").into());
        }
    }

    let _ = stop.send(());
    server.await??;
    Ok(())
}
