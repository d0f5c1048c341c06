//! grpc-go's interop server behind nginx (`grpc_pass`): rsrpc's interop client runs
//! through the proxy every case that grpc-go's server can serve. The proxy is
//! `rsrpc_tests::nginx::Nginx`, which installs nginx with `tests/install-nginx` when it
//! is missing.

#[allow(
    dead_code,
    reason = "the matrix's harness: this test uses only its grpc-go, server and case parts"
)]
mod support;

use std::net::{Ipv4Addr, SocketAddr};

use interop::client::InteropClient;
use rsrpc_tests::nginx::Nginx;
use support::cases::{GRPC_GO_SERVER_EXCLUDED, all_except};
use support::server::Server;
use support::tls::Transport;
use support::{grpc_go, paths};

#[tokio::test]
async fn rsrpc_client_to_grpc_go_server_through_nginx() {
    let title = "rsrpc client → nginx → grpc-go server";
    // Only grpc-go: the matrix's other peers are not needed here.
    let go = grpc_go::provision().unwrap_or_else(|err| panic!("{title}: grpc-go: {err}"));
    let (logs, _logs_lock) =
        paths::fresh_logs("nginx-grpc-go").unwrap_or_else(|err| panic!("{title}: {err}"));
    let mut server = Server::start(
        &go.server(),
        &Transport::Plaintext,
        &logs.join("server.log"),
    )
    .unwrap_or_else(|err| panic!("{title}: {err}"));
    let nginx = Nginx::start(SocketAddr::from((Ipv4Addr::LOCALHOST, server.port())));
    let channel = rsrpc::Channel::connect(nginx.url()).await.unwrap();
    let client = InteropClient::new(channel);
    let mut failures = Vec::new();
    for case in all_except(&GRPC_GO_SERVER_EXCLUDED) {
        if let Err(error) = client.run(case).await {
            failures.push(format!("{case}: {error}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{title}: {} failed:\n{}\nnginx's error log:\n{}",
        failures.len(),
        failures.join("\n"),
        nginx.error_log()
    );

    // nginx opens a back-end connection per call: once the back end is back on its
    // port, the client's next call through the proxy reaches it.
    server
        .restart()
        .unwrap_or_else(|err| panic!("{title}: restarting grpc-go: {err}"));
    client
        .run("empty_unary")
        .await
        .unwrap_or_else(|err| panic!("{title}: after the back end restarted: {err}"));
}
