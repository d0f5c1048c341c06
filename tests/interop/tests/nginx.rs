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
use interop::grpc::testing::Empty;
use interop::grpc::testing::test_service_client::TestServiceClient;
use std::time::Duration;

use rsrpc_tests::nginx::Nginx;
use rsrpc_tests::recovery;
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
    let client = InteropClient::new(channel.clone());
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

    // Killed under load and restarted 2 s later, the back end is reachable through the
    // proxy again; nginx opens a back-end connection per call, so the client's own
    // connection to nginx stays up and heals nothing: the calls in the gap fail with
    // nginx's 502, as UNAVAILABLE.
    const DEADLINE: Duration = Duration::from_millis(500);
    let test = TestServiceClient::new(channel);
    let call = move || {
        let test = test.clone();
        async move {
            let mut request = rsrpc::Request::new(Empty {});
            request.set_timeout(DEADLINE);
            test.empty_call(request).await.map(drop)
        }
    };
    let fault = async move {
        server.kill();
        tokio::time::sleep(recovery::DOWN_FOR).await;
        let restarted = tokio::task::spawn_blocking(move || server.start_again().map(|()| server));
        restarted
            .await
            .unwrap()
            .unwrap_or_else(|err| panic!("{title}: restarting grpc-go: {err}"))
    };
    let (recovery, _server) = recovery::through_fault(call, fault).await;
    let (took, failures) = recovery.check(DEADLINE);
    println!(
        "first success {took:?} after grpc-go listened again; {failures} of {} calls failed",
        recovery::CALLS
    );
}
