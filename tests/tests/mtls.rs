//! Mutual TLS: servers that require (or accept) client certificates, over HTTP/2 and
//! HTTP/1.1, and handlers that read the certificate the client presented.

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
};
use rsrpc::transport::{ClientTlsConfig, HttpVersion, ServerTlsConfig};
use rsrpc::{Channel, Code, Request, Response, Server, Status, Streaming};
use rsrpc_tests::e2e::echo_client::EchoClient;
use rsrpc_tests::e2e::echo_server::{Echo, EchoServer};
use rsrpc_tests::e2e::{EchoReply, EchoRequest};
use rsrpc_tests::harness::{Serving, text};

const VERSIONS: [HttpVersion; 2] = [HttpVersion::Http2, HttpVersion::Http1];

/// A CA: what signs certificates, and its own certificate.
struct Ca {
    issuer: Issuer<'static, KeyPair>,
    pem: String,
}

impl Ca {
    /// A CA named `name`: CAs with one name would pass for each other until their
    /// signatures are checked.
    fn new(name: &str) -> Ca {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.distinguished_name.push(DnType::CommonName, name);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let pem = params.self_signed(&key).unwrap().pem();
        Ca {
            issuer: Issuer::new(params, key),
            pem,
        }
    }

    /// A certificate for `name`, good for `usage`.
    fn issue(&self, name: &str, usage: ExtendedKeyUsagePurpose) -> Identity {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(vec![name.to_owned()]).unwrap();
        params.extended_key_usages = vec![usage];
        let cert = params.signed_by(&key, &self.issuer).unwrap();
        Identity {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
            der: cert.der().to_vec(),
        }
    }
}

/// A certificate and its key.
struct Identity {
    cert_pem: String,
    key_pem: String,
    der: Vec<u8>,
}

/// A CA that signed the server's certificate and a client's, and a client certificate
/// signed by another CA.
struct Pki {
    ca: Ca,
    server: Identity,
    client: Identity,
    stranger: Identity,
}

impl Pki {
    fn new() -> Pki {
        let ca = Ca::new("rsrpc test CA");
        let server = ca.issue("localhost", ExtendedKeyUsagePurpose::ServerAuth);
        let client = ca.issue("client", ExtendedKeyUsagePurpose::ClientAuth);
        let stranger = Ca::new("another CA").issue("client", ExtendedKeyUsagePurpose::ClientAuth);
        Pki {
            ca,
            server,
            client,
            stranger,
        }
    }

    /// The server's TLS, trusting the CA for client certificates.
    fn server_tls(&self) -> ServerTlsConfig {
        ServerTlsConfig::from_pem(&self.server.cert_pem, &self.server.key_pem)
            .unwrap()
            .client_ca_root(&self.ca.pem)
            .unwrap()
    }

    /// A client's TLS, trusting the CA, presenting `identity` if any.
    fn client_tls(&self, identity: Option<&Identity>) -> ClientTlsConfig {
        let tls = ClientTlsConfig::new()
            .ca_certificate_pem(&self.ca.pem)
            .unwrap();
        match identity {
            Some(identity) => tls.identity(&identity.cert_pem, &identity.key_pem).unwrap(),
            None => tls,
        }
    }
}

/// Answers with what the server knows of the client: `text` is the length of its
/// certificate chain ("none" without one), `payload` the DER of its certificate, `peer`
/// its address.
struct PeerReport;

fn report<T>(request: &Request<T>) -> Response<EchoReply> {
    let certs = request.peer_certs();
    Response::new(EchoReply {
        text: certs
            .as_ref()
            .map_or("none".to_owned(), |certs| certs.len().to_string()),
        payload: certs.map_or_else(Vec::new, |certs| certs[0].as_der().to_vec()),
        peer: request
            .remote_addr()
            .map(|addr| addr.to_string())
            .unwrap_or_default(),
        ..EchoReply::default()
    })
}

impl Echo for PeerReport {
    async fn unary(&self, request: Request<EchoRequest>) -> Result<Response<EchoReply>, Status> {
        Ok(report(&request))
    }

    type ServerStreamStream = tokio_stream::Empty<Result<EchoReply, Status>>;

    async fn server_stream(
        &self,
        _: Request<EchoRequest>,
    ) -> Result<Response<Self::ServerStreamStream>, Status> {
        Err(Status::unimplemented("not a test subject"))
    }

    async fn client_stream(
        &self,
        request: Request<Streaming<EchoRequest>>,
    ) -> Result<Response<EchoReply>, Status> {
        let response = report(&request);
        let mut stream = request.into_inner();
        while stream.message().await?.is_some() {}
        Ok(response)
    }

    type BidiStream = tokio_stream::Empty<Result<EchoReply, Status>>;

    async fn bidi(
        &self,
        _: Request<Streaming<EchoRequest>>,
    ) -> Result<Response<Self::BidiStream>, Status> {
        Err(Status::unimplemented("not a test subject"))
    }
}

/// A running [`PeerReport`] server; it shuts down when dropped.
struct ReportServer(Serving);

impl ReportServer {
    async fn start(tls: Option<ServerTlsConfig>) -> ReportServer {
        let mut server = Server::builder();
        if let Some(tls) = tls {
            server = server.tls_config(tls);
        }
        ReportServer(Serving::start(server.add_service(EchoServer::new(PeerReport))).await)
    }

    /// A client over TLS with `tls`, speaking `version`; it connects on its first call.
    fn client(&self, tls: ClientTlsConfig, version: HttpVersion) -> EchoClient {
        let url = format!("https://localhost:{}", self.0.addr.port());
        let channel = Channel::builder(url)
            .unwrap()
            .http_version(version)
            .tls_config(tls)
            .connect_lazy()
            .unwrap();
        EchoClient::new(channel)
    }
}

/// Checks that both a unary and a client-streaming call see `identity`'s certificate.
async fn assert_sees(client: &EchoClient, identity: &Identity, version: HttpVersion) {
    let reply = client.unary(text("who")).await.unwrap().into_inner();
    assert_eq!(reply.text, "1", "{version:?}");
    assert_eq!(reply.payload, identity.der, "{version:?}");
    assert!(
        reply.peer.starts_with("127.0.0.1:"),
        "{version:?}: {reply:?}"
    );
    let requests = tokio_stream::iter([text("a"), text("b")]);
    let reply = client.client_stream(requests).await.unwrap().into_inner();
    assert_eq!(reply.payload, identity.der, "{version:?}");
}

/// Checks that a call fails as the server refuses the handshake.
async fn assert_refused(client: &EchoClient, version: HttpVersion) {
    let status = client.unary(text("who")).await.unwrap_err();
    assert_eq!(status.code(), Code::Unavailable, "{version:?}: {status:?}");
}

#[tokio::test]
async fn handlers_see_a_trusted_client_certificate() {
    let pki = Pki::new();
    let server = ReportServer::start(Some(pki.server_tls())).await;
    for version in VERSIONS {
        let client = server.client(pki.client_tls(Some(&pki.client)), version);
        assert_sees(&client, &pki.client, version).await;
    }
}

#[tokio::test]
async fn a_required_certificate_cannot_be_left_out() {
    let pki = Pki::new();
    let server = ReportServer::start(Some(pki.server_tls())).await;
    for version in VERSIONS {
        assert_refused(&server.client(pki.client_tls(None), version), version).await;
    }
}

#[tokio::test]
async fn a_certificate_from_another_ca_is_refused() {
    let pki = Pki::new();
    for tls in [
        pki.server_tls(),
        pki.server_tls().client_auth_optional(true),
    ] {
        let server = ReportServer::start(Some(tls)).await;
        for version in VERSIONS {
            let client = server.client(pki.client_tls(Some(&pki.stranger)), version);
            assert_refused(&client, version).await;
        }
    }
}

#[tokio::test]
async fn optional_client_auth_accepts_clients_without_certificate() {
    let pki = Pki::new();
    let tls = pki.server_tls().client_auth_optional(true);
    let server = ReportServer::start(Some(tls)).await;
    for version in VERSIONS {
        let anonymous = server.client(pki.client_tls(None), version);
        let reply = anonymous.unary(text("who")).await.unwrap().into_inner();
        assert_eq!(reply.text, "none", "{version:?}");
        let client = server.client(pki.client_tls(Some(&pki.client)), version);
        assert_sees(&client, &pki.client, version).await;
    }
}

#[tokio::test]
async fn without_client_ca_certificates_are_not_asked_for() {
    let pki = Pki::new();
    let tls = ServerTlsConfig::from_pem(&pki.server.cert_pem, &pki.server.key_pem).unwrap();
    let server = ReportServer::start(Some(tls)).await;
    for version in VERSIONS {
        let client = server.client(pki.client_tls(Some(&pki.client)), version);
        let reply = client.unary(text("who")).await.unwrap().into_inner();
        assert_eq!(reply.text, "none", "{version:?}");
    }
}

#[tokio::test]
async fn cleartext_calls_have_no_certificate() {
    let server = ReportServer::start(None).await;
    let url = format!("http://{}", server.0.addr);
    for version in VERSIONS {
        let channel = Channel::builder(url.as_str())
            .unwrap()
            .http_version(version)
            .connect()
            .await
            .unwrap();
        let reply = EchoClient::new(channel)
            .unary(text("who"))
            .await
            .unwrap()
            .into_inner();
        assert_eq!(reply.text, "none", "{version:?}");
        assert!(!reply.peer.is_empty(), "{version:?}");
    }
}

#[tokio::test]
async fn invalid_mtls_pem_is_a_clear_error() {
    let pki = Pki::new();
    let error = ServerTlsConfig::from_pem(&pki.server.cert_pem, &pki.server.key_pem)
        .unwrap()
        .client_ca_root("junk")
        .unwrap_err();
    assert!(
        error.to_string().contains("client CA certificate"),
        "{error}"
    );
    let error = ClientTlsConfig::new()
        .identity(&pki.client.cert_pem, "junk")
        .unwrap_err();
    assert!(error.to_string().contains("private key"), "{error}");
    // A key that does not match the certificate.
    let error = ClientTlsConfig::new()
        .identity(&pki.client.cert_pem, &pki.stranger.key_pem)
        .unwrap_err();
    assert!(error.to_string().contains("certificate or key"), "{error}");
}
