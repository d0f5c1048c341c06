//! Server reflection: the real grpcurl and ghz list, describe and call the test service
//! through reflection alone, with no `.proto` files; and the answers' details, checked
//! with the generated reflection client.

use std::path::PathBuf;

use rsrpc::reflection::v1::server_reflection_client::ServerReflectionClient;
use rsrpc::reflection::v1::server_reflection_request::MessageRequest;
use rsrpc::reflection::v1::server_reflection_response::MessageResponse;
use rsrpc::reflection::v1::{ExtensionRequest, ServerReflectionRequest};
use rsrpc::reflection::{Builder, Error};
use rsrpc::{Code, Server};
use rsrpc_tests::echo::EchoService;
use rsrpc_tests::harness::{Serving, TestServer};
use rsrpc_tests::{corpus, e2e, tools};
use serde_json::Value;

mod pki;

use pki::TestPki;

/// Reflection of the test service, which is all that is listed.
fn reflection() -> Builder {
    Builder::configure()
        .register_encoded_file_descriptor_set(e2e::FILE_DESCRIPTOR_SET)
        .with_service_name("e2e.Echo")
}

/// The test service with v1 reflection, on `server`.
async fn reflected(server: Server) -> TestServer {
    let server = server.add_service(reflection().build_v1().unwrap());
    TestServer::start_with(server, EchoService::default(), Default::default()).await
}

/// Runs `program` with `args`; its stdout, or the test fails with its stderr.
async fn run(program: PathBuf, args: &[&str]) -> String {
    let output = tokio::process::Command::new(&program)
        .args(args)
        .output()
        .await
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{program:?} {args:?}: {stderr}");
    String::from_utf8(output.stdout).unwrap()
}

/// grpcurl without TLS against `server`, `args` before the address and `after` behind it.
async fn grpcurl(server: &TestServer, args: &[&str], after: &[&str]) -> String {
    let addr = server.addr.to_string();
    let args: Vec<&str> = ["-plaintext"]
        .iter()
        .chain(args)
        .chain([&addr.as_str()])
        .chain(after)
        .copied()
        .collect();
    run(tools::grpcurl(), &args).await
}

/// The JSON values printed one after another.
fn json_values(printed: &str) -> Vec<Value> {
    let values = serde_json::Deserializer::from_str(printed).into_iter::<Value>();
    values.map(Result::unwrap).collect()
}

#[tokio::test]
async fn grpcurl_lists_the_services() {
    let server = reflected(Server::builder()).await;
    let listed = grpcurl(&server, &[], &["list"]).await;
    assert_eq!(listed, "e2e.Echo\ngrpc.reflection.v1.ServerReflection\n");
}

#[tokio::test]
async fn grpcurl_describes_a_service_and_a_message_with_their_comments() {
    let server = reflected(Server::builder()).await;
    let service = grpcurl(&server, &[], &["describe", "e2e.Echo"]).await;
    assert!(service.starts_with("e2e.Echo is a service:\n"), "{service}");
    assert!(service.contains("// Echoes what it receives"), "{service}");
    let unary = "rpc Unary ( .e2e.EchoRequest ) returns ( .e2e.EchoReply ) {\n    option idempotency_level = NO_SIDE_EFFECTS;";
    assert!(service.contains(unary), "{service}");
    let stream = "rpc ServerStream ( .e2e.EchoRequest ) returns ( stream .e2e.EchoReply );";
    assert!(service.contains(stream), "{service}");

    let message = grpcurl(&server, &[], &["describe", "e2e.EchoRequest"]).await;
    assert!(
        message.starts_with("e2e.EchoRequest is a message:\n"),
        "{message}"
    );
    assert!(
        message.contains("// Text to echo.\n  string text = 1;"),
        "{message}"
    );
}

#[tokio::test]
async fn grpcurl_calls_unary_and_server_streaming_methods_with_json() {
    let server = reflected(Server::builder()).await;
    let reply = grpcurl(&server, &["-d", r#"{"text": "hi"}"#], &["e2e.Echo/Unary"]).await;
    let reply = &json_values(&reply)[..];
    assert_eq!(reply.len(), 1);
    assert_eq!(reply[0]["text"], "hi");
    assert!(reply[0]["peer"].as_str().unwrap().starts_with("127.0.0.1:"));

    let request = r#"{"text": "s", "count": 3}"#;
    let replies = grpcurl(&server, &["-d", request], &["e2e.Echo/ServerStream"]).await;
    assert_eq!(json_values(&replies).len(), 3, "{replies}");
}

#[tokio::test]
async fn grpcurl_calls_over_tls() {
    let pki = TestPki::new();
    let server = reflected(Server::builder().tls_config(pki.server_tls())).await;
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, &pki.ca_pem).unwrap();
    let args = [
        "-cacert",
        ca.to_str().unwrap(),
        "-authority",
        "localhost",
        "-d",
        r#"{"text": "secret"}"#,
        &server.addr.to_string(),
        "e2e.Echo/Unary",
    ];
    let reply = run(tools::grpcurl(), &args).await;
    assert_eq!(json_values(&reply)[0]["text"], "secret");
}

#[tokio::test]
async fn grpcurl_falls_back_to_v1alpha() {
    let server = Server::builder().add_service(reflection().build_v1alpha().unwrap());
    let server = TestServer::start_with(server, EchoService::default(), Default::default()).await;
    let listed = grpcurl(&server, &[], &["list"]).await;
    assert_eq!(
        listed,
        "e2e.Echo\ngrpc.reflection.v1alpha.ServerReflection\n"
    );
    let reply = grpcurl(&server, &["-d", r#"{"text": "old"}"#], &["e2e.Echo/Unary"]).await;
    assert_eq!(json_values(&reply)[0]["text"], "old");
}

#[tokio::test]
async fn ghz_runs_a_short_load_through_reflection() {
    let server = reflected(Server::builder()).await;
    let addr = server.addr.to_string();
    let args = [
        "--insecure",
        "--call",
        "e2e.Echo/Unary",
        "-d",
        r#"{"text": "load"}"#,
        "-n",
        "200",
        "--format",
        "json",
        &addr,
    ];
    let report: Value = serde_json::from_str(&run(tools::ghz(), &args).await).unwrap();
    assert_eq!(report["count"], 200, "{report}");
    assert_eq!(report["statusCodeDistribution"]["OK"], 200, "{report}");
}

/// A v1 reflection client of a server reflecting the `corpus.a` and `corpus.legacy`
/// packages (not served: reflection only describes them).
async fn corpus_reflection() -> (Serving, ServerReflectionClient) {
    let reflection = Builder::configure()
        .register_encoded_file_descriptor_set(corpus::a::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(corpus::legacy::FILE_DESCRIPTOR_SET)
        .build_v1()
        .unwrap();
    let serving = Serving::start(Server::builder().add_service(reflection)).await;
    let client = ServerReflectionClient::connect(format!("http://{}", serving.addr))
        .await
        .unwrap();
    (serving, client)
}

/// Sends `requests` on one stream; the answer to each.
async fn ask(
    client: &ServerReflectionClient,
    requests: Vec<MessageRequest>,
) -> Vec<MessageResponse> {
    let requests = requests.into_iter().map(|request| ServerReflectionRequest {
        host: String::new(),
        message_request: Some(request),
    });
    let mut responses = client
        .server_reflection_info(tokio_stream::iter(requests))
        .await
        .unwrap()
        .into_inner();
    let mut answers = Vec::new();
    while let Some(response) = responses.message().await.unwrap() {
        answers.push(response.message_response.unwrap());
    }
    answers
}

/// The names of the files of a file answer.
fn file_names(answer: &MessageResponse) -> Vec<String> {
    use prost::Message;
    let MessageResponse::FileDescriptorResponse(files) = answer else {
        panic!("not a file answer: {answer:?}");
    };
    let decode = |bytes: &Vec<u8>| prost_types::FileDescriptorProto::decode(&bytes[..]).unwrap();
    files
        .file_descriptor_proto
        .iter()
        .map(|bytes| decode(bytes).name().to_owned())
        .collect()
}

fn error_code(answer: &MessageResponse) -> Code {
    let MessageResponse::ErrorResponse(error) = answer else {
        panic!("not an error: {answer:?}");
    };
    Code::from_i32(error.error_code)
}

#[tokio::test]
async fn answers_with_the_imports_not_yet_sent_on_the_stream() {
    let (_serving, client) = corpus_reflection().await;
    let answers = ask(
        &client,
        vec![
            MessageRequest::FileContainingSymbol("corpus.a.Relay.Watch".into()),
            MessageRequest::FileByFilename("corpus/b/more.proto".into()),
            MessageRequest::FileContainingSymbol("corpus.b.Item".into()),
        ],
    )
    .await;
    let a = [
        "corpus/a/a.proto",
        "corpus/b/b.proto",
        "corpus/b/more.proto",
    ];
    assert_eq!(file_names(&answers[0]), a);
    assert_eq!(file_names(&answers[1]), ["corpus/b/more.proto"]);
    assert_eq!(file_names(&answers[2]), ["corpus/b/b.proto"]);
}

#[tokio::test]
async fn finds_nested_symbols_and_extensions() {
    let (_serving, client) = corpus_reflection().await;
    let legacy = "corpus.legacy.Record";
    let extension = |number| ExtensionRequest {
        containing_type: legacy.into(),
        extension_number: number,
    };
    let answers = ask(
        &client,
        vec![
            MessageRequest::FileContainingSymbol("corpus.legacy.Record.Extra".into()),
            MessageRequest::FileContainingSymbol("corpus.legacy.BLUE".into()),
            MessageRequest::FileContainingSymbol("corpus.legacy.tag".into()),
            MessageRequest::FileContainingExtension(extension(100)),
            MessageRequest::AllExtensionNumbersOfType(legacy.into()),
        ],
    )
    .await;
    for answer in &answers[..4] {
        assert_eq!(file_names(answer), ["corpus/legacy.proto"]);
    }
    let MessageResponse::AllExtensionNumbersResponse(numbers) = &answers[4] else {
        panic!("{:?}", answers[4]);
    };
    assert_eq!(
        (
            numbers.base_type_name.as_str(),
            &numbers.extension_number[..]
        ),
        (legacy, &[100][..])
    );
}

#[tokio::test]
async fn answers_unknown_names_with_not_found_and_keeps_the_stream() {
    let (_serving, client) = corpus_reflection().await;
    let answers = ask(
        &client,
        vec![
            MessageRequest::FileByFilename("nowhere.proto".into()),
            MessageRequest::FileContainingSymbol("corpus.a.Nothing".into()),
            MessageRequest::FileContainingExtension(ExtensionRequest {
                containing_type: "corpus.legacy.Record".into(),
                extension_number: 101,
            }),
            MessageRequest::AllExtensionNumbersOfType("corpus.Nothing".into()),
            MessageRequest::ListServices(String::new()),
        ],
    )
    .await;
    for answer in &answers[..4] {
        assert_eq!(error_code(answer), Code::NotFound);
    }
    let MessageResponse::ListServicesResponse(list) = &answers[4] else {
        panic!("{:?}", answers[4]);
    };
    let names: Vec<&str> = list
        .service
        .iter()
        .map(|service| service.name.as_str())
        .collect();
    let expected = [
        "corpus.a.Relay",
        "corpus.b.Catalog",
        "corpus.legacy.LegacyService",
        "grpc.reflection.v1.ServerReflection",
    ];
    assert_eq!(names, expected);
}

#[tokio::test]
async fn refuses_broken_descriptor_sets() {
    let garbage = Builder::configure().register_encoded_file_descriptor_set(b"\x0a\xff");
    assert!(garbage.build_v1().is_err());
    // corpus.a's set without what its files import.
    let mut set =
        <prost_types::FileDescriptorSet as prost::Message>::decode(corpus::a::FILE_DESCRIPTOR_SET)
            .unwrap();
    set.file.retain(|file| file.name() == "corpus/a/a.proto");
    let encoded: &'static [u8] = prost::Message::encode_to_vec(&set).leak();
    let error: Error = Builder::configure()
        .register_encoded_file_descriptor_set(encoded)
        .build_v1()
        .unwrap_err();
    assert!(
        error.to_string().contains("imports `corpus/b/b.proto`"),
        "{error}"
    );
}
