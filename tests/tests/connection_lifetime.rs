//! How long the server keeps an HTTP/2 connection: `max_connection_idle`,
//! `max_connection_age` with its grace, and keepalive PINGs. Bounds like "within 10 s"
//! only check that something happens at all; no test asserts how fast.

use std::time::{Duration, Instant};

use prost::Message;
use rsrpc::{Code, Server};
use rsrpc_tests::h2_client;
use rsrpc_tests::h2_raw::{self, RawConnection};
use rsrpc_tests::harness::{frame, server_with, slow, text};

/// Long enough for anything that should happen at all.
const PATIENCE: Duration = Duration::from_secs(10);
/// A limit short enough for tests to wait out.
const SHORT: Duration = Duration::from_millis(300);

/// Waits until the server has sent GOAWAY and closed `connection`.
async fn wait_gone(connection: &mut RawConnection) -> rsrpc_tests::h2_raw::Observed {
    connection
        .wait_for(PATIENCE, |seen| seen.goaway().is_some() && seen.closed)
        .await
}

#[tokio::test]
async fn an_idle_connection_gets_goaway_after_max_connection_idle() {
    // The raw connection never answers the PING that comes with the GOAWAY: the keepalive
    // timeout bounds the wait for it.
    let server = server_with(
        Server::builder()
            .max_connection_idle(SHORT)
            .http2_keepalive_timeout(SHORT),
    )
    .await;
    let opened = Instant::now();
    let mut connection = RawConnection::open(server.addr, &[]).await;
    let seen = wait_gone(&mut connection).await;
    assert!(
        opened.elapsed() >= SHORT,
        "gone after {:?}",
        opened.elapsed()
    );
    assert_eq!(seen.goaway().unwrap().code, 0, "NO_ERROR: {seen:?}");
}

#[tokio::test]
async fn a_call_under_way_is_not_idleness_and_the_next_call_reconnects() {
    let server = server_with(
        Server::builder()
            .max_connection_idle(SHORT)
            .http2_keepalive_timeout(SHORT),
    )
    .await;
    // A call that lasts three idle limits: no GOAWAY until it has ended, then one.
    let mut connection = RawConnection::open(server.addr, &[]).await;
    let request = slow(SHORT * 3).into_inner().encode_to_vec();
    let body = frame(false, &request);
    connection
        .send(&h2_raw::grpc_request(1, "/e2e.Echo/Unary", &body))
        .await
        .unwrap();
    let answered = connection
        .wait_for(PATIENCE, |seen| seen.stream_ended(1) || seen.closed)
        .await;
    assert!(answered.stream_ended(1), "the call was cut: {answered:?}");
    assert!(
        answered.goaways.is_empty(),
        "GOAWAY during the call: {answered:?}"
    );
    wait_gone(&mut connection).await;

    // Through a channel: the server sends the idle connection away, the next call
    // reconnects.
    let client = server.client().await;
    client.unary(text("first")).await.unwrap();
    tokio::time::sleep(SHORT * 3).await;
    client.unary(text("again")).await.unwrap();
}

#[tokio::test]
async fn max_connection_age_sends_goaway_and_its_grace_ends_the_calls_left() {
    let grace = SHORT;
    let server = server_with(
        Server::builder()
            .max_connection_age(SHORT)
            .max_connection_age_grace(grace),
    )
    .await;
    let client = server.client().await;
    let started = Instant::now();
    // Finishes within the grace: it completes.
    let short_call = client.unary(slow(SHORT / 3));
    // Outlives age and grace: the connection closes under it.
    let long_call = client.unary(slow(PATIENCE));
    let (short_call, long_call) = tokio::join!(short_call, long_call);
    short_call.unwrap();
    let status = long_call.unwrap_err();
    assert_eq!(status.code(), Code::Unavailable, "{status:?}");
    assert!(
        started.elapsed() < PATIENCE,
        "cut after {:?}",
        started.elapsed()
    );

    // A connection with no call goes at its age, whatever it does.
    let mut connection = RawConnection::open(server.addr, &[]).await;
    connection.assert_alive(1).await;
    let seen = wait_gone(&mut connection).await;
    assert_eq!(seen.goaway().unwrap().code, 0, "NO_ERROR: {seen:?}");
}

#[tokio::test]
async fn a_connection_that_leaves_keepalive_pings_unanswered_is_closed() {
    let server = server_with(
        Server::builder()
            .http2_keepalive_interval(SHORT)
            .http2_keepalive_timeout(SHORT),
    )
    .await;
    // The raw connection reads frames but never answers the server's PINGs.
    let mut silent = RawConnection::open(server.addr, &[]).await;
    let seen = silent.wait_for(PATIENCE, |seen| seen.closed).await;
    assert!(seen.pings >= 1, "closed without a PING: {seen:?}");

    // An h2 client answers them, and its connection lives on past several intervals.
    let (mut sender, connection) =
        h2_client::connect(server.addr, &h2::client::Builder::new()).await;
    tokio::time::sleep(SHORT * 5).await;
    assert!(
        !connection.is_finished(),
        "the answering connection was closed"
    );
    let head = h2_client::grpc_head("/e2e.Echo/Unary");
    let (status, _) = h2_client::unary(&mut sender, head, frame(false, &[]))
        .await
        .expect("the connection is open");
    assert_eq!(status, 200);
}
