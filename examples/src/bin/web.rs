//! The browser example's server: the example services over gRPC-Web and Connect, and
//! next to them, through the server's fallback, the page that `examples/web/install`
//! builds (TypeScript on connect-web). It starts three servers on 127.0.0.1:
//!
//! - the page's: the page and the services, so the page calls its own origin;
//! - an API server whose CORS policy allows the page's origin, for calls across origins;
//! - an API server that allows only another origin (the page's host named `localhost`),
//!   whose calls the browser must refuse.
//!
//! It prints their addresses and serves until Ctrl-C or SIGTERM:
//!
//! ```sh
//! examples/web/install && cargo run -p examples --bin web -- --port 8080
//! ```

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::extract::State;
use axum::http::{StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use examples::greeter::MyGreeter;
use examples::helloworld::greeter_server::GreeterServer;
use examples::route_guide::RouteGuideService;
use examples::routeguide::route_guide_server::RouteGuideServer;
use rsrpc::Server;
use rsrpc::server::Cors;
use tokio::net::TcpListener;
use tokio::sync::watch;

const USAGE: &str = "usage: web [--port PORT] [--dir DIR]
  --port PORT  the page's port on 127.0.0.1 (default: any free port)
  --dir DIR    the built page (default: target/web/dist, written by examples/web/install)";

/// The page's files by path (`/`, `/main.js`), with their content types.
type Files = Arc<HashMap<String, (&'static str, Vec<u8>)>>;

struct Options {
    port: u16,
    dir: PathBuf,
}

fn options() -> Result<Options, String> {
    let mut options = Options {
        port: 0,
        dir: Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/web/dist"),
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or_else(|| format!("{arg} needs a value"));
        match arg.as_str() {
            "--port" => {
                let port = value()?;
                options.port = port.parse().map_err(|_| format!("bad port {port}"))?;
            }
            "--dir" => options.dir = value()?.into(),
            _ => return Err(format!("unknown argument {arg}")),
        }
    }
    Ok(options)
}

/// Reads the built page: every file of `dir`, with `index.html` also at `/`.
fn read_page(dir: &Path) -> Result<Files, String> {
    let missing = || {
        format!(
            "no page at {}/index.html: build it with examples/web/install",
            dir.display()
        )
    };
    let entries = std::fs::read_dir(dir).map_err(|_| missing())?;
    let mut files = HashMap::new();
    for entry in entries {
        let path = entry.map_err(|error| error.to_string())?.path();
        let Some(name) = path.file_name().and_then(|name| name.to_str()) else {
            continue;
        };
        let content_type = match path.extension().and_then(|ext| ext.to_str()) {
            Some("html") => "text/html; charset=utf-8",
            Some("js") => "text/javascript; charset=utf-8",
            Some("map") => "application/json",
            _ => continue,
        };
        let bytes = std::fs::read(&path).map_err(|error| format!("{}: {error}", path.display()))?;
        if name == "index.html" {
            files.insert("/".to_owned(), (content_type, bytes.clone()));
        }
        files.insert(format!("/{name}"), (content_type, bytes));
    }
    if !files.contains_key("/") {
        return Err(missing());
    }
    Ok(Arc::new(files))
}

/// The fallback: what is not a call is a request for one of the page's files.
async fn serve_file(State(files): State<Files>, uri: Uri) -> Response {
    match files.get(uri.path()) {
        Some((content_type, bytes)) => {
            ([(header::CONTENT_TYPE, *content_type)], bytes.clone()).into_response()
        }
        None => (StatusCode::NOT_FOUND, "not found").into_response(),
    }
}

/// The example services, as every one of the three servers has them.
fn services() -> Server {
    Server::builder()
        .add_service(GreeterServer::new(MyGreeter))
        .add_service(RouteGuideServer::new(RouteGuideService::new()))
}

async fn bind(port: u16) -> std::io::Result<(TcpListener, SocketAddr)> {
    let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], port))).await?;
    let addr = listener.local_addr()?;
    Ok((listener, addr))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let options = options().map_err(|error| format!("{error}\n{USAGE}"))?;
    let files = read_page(&options.dir)?;

    let (page_listener, page) = bind(options.port).await?;
    let (api_listener, api) = bind(0).await?;
    let (other_listener, other) = bind(0).await?;
    let page_origin = format!("http://{page}");
    // The same page named by host name is another origin to a browser.
    let other_origin = format!("http://localhost:{}", page.port());

    let page_server =
        services().fallback_service(axum::Router::new().fallback(serve_file).with_state(files));
    let api_server = services().cors(Cors::allow_origins([&page_origin]));
    let other_server = services().cors(Cors::allow_origins([&other_origin]));

    let (stop, stopped) = watch::channel(());
    let serve = |server: Server, listener| {
        let mut stopped = stopped.clone();
        tokio::spawn(server.serve_with_listener(listener, async move {
            let _ = stopped.changed().await;
        }))
    };
    let servers = [
        serve(page_server, page_listener),
        serve(api_server, api_listener),
        serve(other_server, other_listener),
    ];

    println!("page and services: {page_origin}/");
    println!("services allowing {page_origin}: http://{api}");
    println!("services allowing only {other_origin}: http://{other}");
    println!("open {page_origin}/ (same origin), {page_origin}/?api=http://{api} (across origins)");
    println!("or {page_origin}/?api=http://{other} (refused by the browser)");

    rsrpc::server::shutdown_signal().await;
    let _ = stop.send(());
    for server in servers {
        server.await??;
    }
    Ok(())
}
