//! grpc-go's keepalive enforcement policy on the server (`http2_keepalive_min_time`,
//! `http2_keepalive_permit_without_stream`): a client that PINGs too often gets GOAWAY
//! `ENHANCE_YOUR_CALM` "too_many_pings" on its third strike and is closed; one that
//! keeps to the policy is left alone. Bounds like "within 10 s" only check that
//! something happens at all; no test asserts how fast.

use std::time::Duration;

use prost::Message;
use rsrpc::{Code, Server};
use rsrpc_tests::e2e::echo_client::EchoClient;
use rsrpc_tests::h2_raw::{self, GoAway, Observed, RawConnection};
use rsrpc_tests::harness::{frame, server_with, slow};

/// Long enough for anything that should happen at all.
const PATIENCE: Duration = Duration::from_secs(10);
/// A `min_time` short enough for tests to wait out.
const SHORT: Duration = Duration::from_millis(300);
/// Comfortably more than [`SHORT`] between two PINGs.
const SLOWER: Duration = Duration::from_millis(450);

/// The GOAWAY a client that PINGed too often gets.
fn too_many_pings(last_stream: u32) -> GoAway {
    GoAway {
        last_stream,
        code: h2_raw::error::ENHANCE_YOUR_CALM,
        debug: "too_many_pings".to_owned(),
    }
}

/// Sends PINGs `data`, each once the one before was answered and `gap` has passed.
async fn answered_pings(connection: &mut RawConnection, data: std::ops::Range<u64>, gap: Duration) {
    for data in data {
        tokio::time::sleep(gap).await;
        connection.assert_alive(data).await;
    }
}

/// Sends one more PING and waits for the connection to be closed.
async fn last_ping(connection: &mut RawConnection, data: u64) -> Observed {
    // The server may have closed before this write lands.
    let _ = connection.send(&h2_raw::ping(data)).await;
    connection.wait_for(PATIENCE, |seen| seen.closed).await
}

/// Starts a unary call on `stream` whose handler answers after `sleep`.
async fn start_call(connection: &mut RawConnection, stream: u32, sleep: Duration) {
    let body = frame(false, &slow(sleep).into_inner().encode_to_vec());
    let request = h2_raw::grpc_request(stream, "/e2e.Echo/Unary", &body);
    connection.send(&request).await.unwrap();
}

#[tokio::test]
async fn the_third_ping_sooner_than_min_time_gets_goaway_too_many_pings() {
    let server = server_with(
        Server::builder()
            .http2_keepalive_min_time(PATIENCE)
            .http2_keepalive_permit_without_stream(true),
    )
    .await;
    let mut connection = RawConnection::open(server.addr, &[]).await;
    // The first PING has none before it; the second and third are strikes.
    answered_pings(&mut connection, 1..4, Duration::ZERO).await;
    let seen = last_ping(&mut connection, 4).await;
    assert_eq!(seen.goaways, [too_many_pings(0)], "{seen:?}");
    assert_eq!(seen.ping_acks, 3, "the PING that ends it goes unanswered");
}

#[tokio::test]
async fn pings_min_time_apart_are_left_alone() {
    let server = server_with(
        Server::builder()
            .http2_keepalive_min_time(SHORT)
            .http2_keepalive_permit_without_stream(true),
    )
    .await;
    let mut connection = RawConnection::open(server.addr, &[]).await;
    answered_pings(&mut connection, 1..7, SLOWER).await;
    assert!(connection.observed().goaways.is_empty());
}

#[tokio::test]
async fn with_no_call_open_pings_are_strikes_unless_permit_without_stream() {
    let server = server_with(Server::builder().http2_keepalive_min_time(SHORT)).await;
    // Slower than min_time, but with no call open: two hours apart are needed.
    let mut idle = RawConnection::open(server.addr, &[]).await;
    answered_pings(&mut idle, 1..4, SLOWER).await;
    let seen = last_ping(&mut idle, 4).await;
    assert_eq!(seen.goaways, [too_many_pings(0)], "{seen:?}");

    // The same PINGs while a call is under way (the handler answers only after them).
    let mut busy = RawConnection::open(server.addr, &[]).await;
    start_call(&mut busy, 1, SLOWER * 8).await;
    answered_pings(&mut busy, 1..6, SLOWER).await;
    let seen = busy
        .wait_for(PATIENCE, |seen| seen.stream_ended(1) || seen.closed)
        .await;
    assert!(seen.stream_ended(1) && seen.goaways.is_empty(), "{seen:?}");
}

#[tokio::test]
async fn a_response_sent_wipes_the_strikes() {
    let server = server_with(
        Server::builder()
            .http2_keepalive_min_time(PATIENCE)
            .http2_keepalive_permit_without_stream(true),
    )
    .await;
    let mut connection = RawConnection::open(server.addr, &[]).await;
    // Two strikes, then a response.
    answered_pings(&mut connection, 1..4, Duration::ZERO).await;
    start_call(&mut connection, 1, Duration::ZERO).await;
    connection
        .wait_for(PATIENCE, |seen| seen.stream_ended(1) || seen.closed)
        .await;
    // Forgiven, then two new strikes; the third ends the connection.
    answered_pings(&mut connection, 4..7, Duration::ZERO).await;
    let seen = last_ping(&mut connection, 7).await;
    assert_eq!(seen.goaways, [too_many_pings(1)], "{seen:?}");
}

#[tokio::test]
async fn without_the_policy_a_client_may_ping_as_often_as_it_likes() {
    let server = server_with(Server::builder()).await;
    let mut connection = RawConnection::open(server.addr, &[]).await;
    answered_pings(&mut connection, 1..21, Duration::ZERO).await;
    assert!(connection.observed().goaways.is_empty());
}

#[tokio::test]
async fn an_rsrpc_client_keeping_alive_less_often_than_min_time_is_left_alone() {
    let server = server_with(Server::builder().http2_keepalive_min_time(SHORT)).await;
    let channel = |interval| {
        rsrpc::Channel::builder(server.url())
            .unwrap()
            .http2_keep_alive_interval(interval)
            .connect_lazy()
            .unwrap()
    };
    // Keepalive PINGs every SLOWER during a call of about eight of them.
    let calm = EchoClient::new(channel(SLOWER));
    calm.unary(slow(SLOWER * 8)).await.unwrap();

    // Every SHORT / 3: the third strike comes within the call, which loses its
    // connection.
    let eager = EchoClient::new(channel(SHORT / 3));
    let status = eager.unary(slow(PATIENCE)).await.unwrap_err();
    assert_eq!(status.code(), Code::Unavailable, "{status:?}");
}
