//! TLS: one port serves HTTP/2 and HTTP/1.1 clients, told apart by ALPN, and clients
//! verify the server against their trusted roots and the expected name.

use rsrpc::transport::{ClientTlsConfig, HttpVersion, ServerTlsConfig};
use rsrpc::{Channel, Code, Server};
use rsrpc_tests::e2e::echo_client::EchoClient;
use rsrpc_tests::echo::EchoService;
use rsrpc_tests::harness::{TestServer, text};

mod pki;

use pki::TestPki;

async fn tls_server(pki: &TestPki) -> TestServer {
    let server = Server::builder().tls_config(pki.server_tls());
    TestServer::start_with(server, EchoService::default(), Default::default()).await
}

async fn client(server: &TestServer, tls: ClientTlsConfig, version: HttpVersion) -> EchoClient {
    let url = format!("https://localhost:{}", server.addr.port());
    let channel = Channel::builder(url)
        .unwrap()
        .tls_config(tls)
        .http_version(version)
        .connect()
        .await
        .unwrap();
    EchoClient::new(channel)
}

#[tokio::test]
async fn one_tls_port_serves_both_http_versions() {
    let pki = TestPki::new();
    let server = tls_server(&pki).await;
    for version in [HttpVersion::Http2, HttpVersion::Http1] {
        let client = client(&server, pki.client_tls(), version).await;
        let reply = client.unary(text("secret")).await.unwrap();
        assert_eq!(reply.get_ref().text, "secret", "{version:?}");
        let stream = rsrpc_tests::e2e::EchoRequest {
            count: 3,
            ..text("s")
        };
        let mut replies = client.server_stream(stream).await.unwrap().into_inner();
        let mut count = 0;
        while replies.message().await.unwrap().is_some() {
            count += 1;
        }
        assert_eq!(count, 3, "{version:?}");
    }
}

#[tokio::test]
async fn server_name_override_is_checked() {
    let pki = TestPki::new();
    let server = tls_server(&pki).await;
    let good = pki.client_tls().domain_name("foo.test.example.com");
    let client = client(&server, good, HttpVersion::Http2).await;
    assert!(client.unary(text("x")).await.is_ok());

    let wrong = pki.client_tls().domain_name("elsewhere.example.org");
    let url = format!("https://localhost:{}", server.addr.port());
    let error = Channel::builder(url)
        .unwrap()
        .tls_config(wrong)
        .connect()
        .await
        .unwrap_err();
    assert!(error.to_string().contains("TLS"), "{error}");
}

#[tokio::test]
async fn untrusted_server_is_unavailable() {
    let pki = TestPki::new();
    let other = TestPki::new();
    let server = tls_server(&pki).await;
    let url = format!("https://localhost:{}", server.addr.port());
    let channel = Channel::builder(url)
        .unwrap()
        .tls_config(other.client_tls())
        .connect_lazy()
        .unwrap();
    let status = EchoClient::new(channel).unary(text("x")).await.unwrap_err();
    assert_eq!(status.code(), Code::Unavailable);
    assert!(status.message().contains("TLS"), "{status:?}");
}

#[tokio::test]
async fn invalid_pem_is_a_clear_error() {
    let error = ServerTlsConfig::from_pem("not a cert", "not a key").unwrap_err();
    assert!(error.to_string().contains("certificate"), "{error}");
    let error = ClientTlsConfig::new()
        .ca_certificate_pem("junk")
        .unwrap_err();
    assert!(error.to_string().contains("CA certificate"), "{error}");
}
