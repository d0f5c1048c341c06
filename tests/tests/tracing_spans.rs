//! The `tracing` spans of calls on both sides, captured by a subscriber: OpenTelemetry's
//! RPC fields for a successful, a failed and a cancelled call.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rsrpc::{Code, Server};
use rsrpc_tests::e2e::EchoRequest;
use rsrpc_tests::harness::{TestServer, http1_exchange, server_with, slow, text};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};

/// The fields of a span, as text.
type Fields = HashMap<String, String>;

/// Collects the fields of every span; a span moves to `closed` when it closes.
#[derive(Clone, Default)]
struct Capture {
    open: Arc<Mutex<HashMap<u64, Fields>>>,
    closed: Arc<Mutex<Vec<Fields>>>,
}

struct FieldText<'a>(&'a mut Fields);

impl Visit for FieldText<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0.insert(field.name().to_owned(), format!("{value:?}"));
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_owned(), value.to_owned());
    }
}

impl<S: tracing::Subscriber> Layer<S> for Capture {
    fn on_new_span(&self, attributes: &Attributes<'_>, id: &Id, _: Context<'_, S>) {
        let mut fields = Fields::new();
        fields.insert("name".to_owned(), attributes.metadata().name().to_owned());
        attributes.record(&mut FieldText(&mut fields));
        self.open.lock().unwrap().insert(id.into_u64(), fields);
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, _: Context<'_, S>) {
        if let Some(fields) = self.open.lock().unwrap().get_mut(&id.into_u64()) {
            values.record(&mut FieldText(fields));
        }
    }

    fn on_close(&self, id: Id, _: Context<'_, S>) {
        if let Some(fields) = self.open.lock().unwrap().remove(&id.into_u64()) {
            self.closed.lock().unwrap().push(fields);
        }
    }
}

impl Capture {
    /// Installs the capture for this thread (the test's current-thread runtime runs the
    /// server and the client on it).
    fn install() -> (Capture, tracing::subscriber::DefaultGuard) {
        let capture = Capture::default();
        let subscriber = tracing_subscriber::registry().with(capture.clone());
        (capture, tracing::subscriber::set_default(subscriber))
    }

    /// Waits for the closed span named `name` (`grpc.server` or `grpc.client`).
    async fn closed(&self, name: &str) -> Fields {
        for _ in 0..500 {
            let found = (self.closed.lock().unwrap())
                .iter()
                .find(|fields| fields["name"] == name)
                .cloned();
            if let Some(fields) = found {
                return fields;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("no {name} span closed: {:?}", self.closed.lock().unwrap());
    }
}

/// Checks the fields both sides' spans share, for a call to `method` ending with `code`.
fn assert_call(fields: &Fields, method: &str, code: Code) {
    assert_eq!(fields["rpc.system"], "grpc", "{fields:?}");
    assert_eq!(fields["rpc.service"], "e2e.Echo", "{fields:?}");
    assert_eq!(fields["rpc.method"], method, "{fields:?}");
    assert_eq!(
        fields["otel.name"],
        format!("e2e.Echo/{method}"),
        "{fields:?}"
    );
    assert_eq!(
        fields["rpc.grpc.status_code"],
        (code as i32).to_string(),
        "{fields:?}"
    );
    let duration: f64 = fields["duration_ms"].parse().unwrap();
    assert!(duration >= 0.0, "{fields:?}");
}

fn assert_peers(server: &TestServer, server_span: &Fields, client_span: &Fields) {
    assert_eq!(server_span["otel.kind"], "server");
    assert_eq!(server_span["network.peer.address"], "127.0.0.1");
    let client_port: u16 = server_span["network.peer.port"].parse().unwrap();
    assert_ne!(client_port, server.addr.port());
    assert_eq!(client_span["otel.kind"], "client");
    assert_eq!(client_span["server.address"], "127.0.0.1");
    assert_eq!(client_span["server.port"], server.addr.port().to_string());
}

#[tokio::test]
async fn a_successful_call_has_a_span_on_each_side() {
    let (capture, _guard) = Capture::install();
    let server = server_with(Server::builder()).await;
    let request = EchoRequest {
        sleep_ms: 20,
        ..text("hi")
    };
    server.client().await.unary(request).await.unwrap();
    let (server_span, client_span) = (
        capture.closed("grpc.server").await,
        capture.closed("grpc.client").await,
    );
    assert_call(&server_span, "Unary", Code::Ok);
    assert_call(&client_span, "Unary", Code::Ok);
    assert_peers(&server, &server_span, &client_span);
    let duration: f64 = server_span["duration_ms"].parse().unwrap();
    assert!(duration >= 20.0, "the handler slept 20 ms: {server_span:?}");
    assert!(!server_span.contains_key("otel.status_code"));
    assert!(!client_span.contains_key("otel.status_code"));
}

#[tokio::test]
async fn a_failed_call_records_its_code_and_an_error_status() {
    let (capture, _guard) = Capture::install();
    let server = server_with(Server::builder()).await;
    let request = EchoRequest {
        fail_code: Code::Internal as i32,
        count: 2,
        ..text("boom")
    };
    let mut stream = server
        .client()
        .await
        .server_stream(request)
        .await
        .unwrap()
        .into_inner();
    while let Ok(Some(_)) = stream.message().await {}
    let (server_span, client_span) = (
        capture.closed("grpc.server").await,
        capture.closed("grpc.client").await,
    );
    assert_call(&server_span, "ServerStream", Code::Internal);
    assert_call(&client_span, "ServerStream", Code::Internal);
    assert_peers(&server, &server_span, &client_span);
    assert_eq!(server_span["otel.status_code"], "ERROR");
    assert_eq!(client_span["otel.status_code"], "ERROR");
}

#[tokio::test]
async fn a_client_error_is_an_error_only_on_the_client_span() {
    let (capture, _guard) = Capture::install();
    let server = server_with(Server::builder()).await;
    let request = EchoRequest {
        fail_code: Code::NotFound as i32,
        ..text("missing")
    };
    server.client().await.unary(request).await.unwrap_err();
    let server_span = capture.closed("grpc.server").await;
    let client_span = capture.closed("grpc.client").await;
    assert_call(&server_span, "Unary", Code::NotFound);
    assert!(
        !server_span.contains_key("otel.status_code"),
        "{server_span:?}"
    );
    assert_eq!(client_span["otel.status_code"], "ERROR");
}

#[tokio::test]
async fn a_cancelled_call_is_cancelled_on_both_sides() {
    let (capture, _guard) = Capture::install();
    let server = server_with(Server::builder()).await;
    let client = server.client().await;
    let (sender, receiver) = tokio::sync::mpsc::channel(1);
    let requests = tokio_stream::wrappers::ReceiverStream::new(receiver);
    let mut replies = client.bidi(requests).await.unwrap().into_inner();
    sender.send(text("one")).await.unwrap();
    replies.message().await.unwrap().unwrap();
    drop((replies, sender));
    let (server_span, client_span) = (
        capture.closed("grpc.server").await,
        capture.closed("grpc.client").await,
    );
    assert_call(&server_span, "Bidi", Code::Cancelled);
    assert_call(&client_span, "Bidi", Code::Cancelled);
    assert_peers(&server, &server_span, &client_span);
}

#[tokio::test]
async fn handlers_run_inside_the_server_span() {
    let (capture, _guard) = Capture::install();
    let seen_inside = Arc::new(Mutex::new(None));
    let probe = Arc::clone(&seen_inside);
    let interceptor = move |request: rsrpc::Request<()>| {
        let probe = Arc::clone(&probe);
        async move {
            let current = tracing::Span::current();
            *probe.lock().unwrap() = current.metadata().map(|metadata| metadata.name());
            Ok(request)
        }
    };
    let server = server_with(Server::builder().interceptor(interceptor)).await;
    server.client().await.unary(text("hi")).await.unwrap();
    capture.closed("grpc.server").await;
    assert_eq!(*seen_inside.lock().unwrap(), Some("grpc.server"));
}

#[tokio::test]
async fn a_unary_call_the_client_abandons_is_cancelled_in_the_server_span() {
    let (capture, _guard) = Capture::install();
    let server = server_with(Server::builder()).await;
    let client = server.client().await;
    let call = client.unary(slow(Duration::from_secs(2)));
    assert!(
        tokio::time::timeout(Duration::from_millis(100), call)
            .await
            .is_err()
    );
    let server_span = capture.closed("grpc.server").await;
    assert_call(&server_span, "Unary", Code::Cancelled);
}

#[tokio::test]
async fn requests_for_the_fallback_service_have_no_grpc_span() {
    let (capture, _guard) = Capture::install();
    let rest = axum::Router::new().route("/hello", axum::routing::get(|| async { "hello" }));
    let server = server_with(Server::builder().fallback_service(rest)).await;
    let http1 = http1_exchange(
        server.addr,
        b"GET /hello HTTP/1.1\r\nhost: test\r\nconnection: close\r\n\r\n",
    )
    .await;
    assert!(http1.starts_with("HTTP/1.1 200"), "{http1}");
    server.client().await.unary(text("grpc")).await.unwrap();
    let server_span = capture.closed("grpc.server").await;
    assert_call(&server_span, "Unary", Code::Ok);
    let closed = capture.closed.lock().unwrap();
    let servers = closed
        .iter()
        .filter(|fields| fields["name"] == "grpc.server");
    assert_eq!(servers.count(), 1, "{closed:?}");
}

#[tokio::test]
async fn grpc_web_and_connect_calls_have_spans_in_their_rpc_system() {
    use rsrpc::Channel;
    use rsrpc::client::Protocol;
    use rsrpc_tests::e2e::echo_client::EchoClient;

    for protocol in [Protocol::GrpcWeb, Protocol::Connect] {
        let (capture, _guard) = Capture::install();
        let server = server_with(Server::builder()).await;
        let channel = Channel::builder(server.url())
            .unwrap()
            .protocol(protocol)
            .connect()
            .await
            .unwrap();
        let request = EchoRequest {
            fail_code: Code::NotFound as i32,
            count: 1,
            ..text("web")
        };
        let mut stream = EchoClient::new(channel)
            .server_stream(request)
            .await
            .unwrap()
            .into_inner();
        while let Ok(Some(_)) = stream.message().await {}
        let server_span = capture.closed("grpc.server").await;
        let client_span = capture.closed("grpc.client").await;
        for span in [&server_span, &client_span] {
            match protocol {
                Protocol::Connect => {
                    // OpenTelemetry's Connect attributes: the code by its Connect name.
                    assert_eq!(span["rpc.system"], "connect_rpc", "{span:?}");
                    assert_eq!(span["rpc.connect_rpc.error_code"], "not_found", "{span:?}");
                    assert!(!span.contains_key("rpc.grpc.status_code"), "{span:?}");
                }
                _ => assert_call(span, "ServerStream", Code::NotFound),
            }
        }
        assert_eq!(
            server_span["network.peer.address"], "127.0.0.1",
            "{protocol:?}"
        );
    }
}
