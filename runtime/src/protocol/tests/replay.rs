//! The request bodies of retried calls: each attempt sends the request from its start,
//! a streamed one goes on with its source after the replay, and the recording stops past
//! its limit or when the call commits.

use bytes::Bytes;
use http_body::Body as _;

use super::{MockBody, Step};
use crate::protocol::replay::Replay;
use crate::status::{Code, Status};
use crate::transport::body::Body;

/// What one poll of `body` gives: `Some(data)`, `None` at the end; panics otherwise.
enum Polled {
    Data(Bytes),
    End,
    Pending,
    Failed(Code),
}

fn poll(body: &mut Body) -> Polled {
    let waker = std::task::Waker::noop();
    let mut cx = std::task::Context::from_waker(waker);
    match std::pin::Pin::new(body).poll_frame(&mut cx) {
        std::task::Poll::Pending => Polled::Pending,
        std::task::Poll::Ready(None) => Polled::End,
        std::task::Poll::Ready(Some(Ok(frame))) => Polled::Data(frame.into_data().unwrap()),
        std::task::Poll::Ready(Some(Err(status))) => Polled::Failed(status.code()),
    }
}

/// Reads `body` until it ends or waits: its data, and whether it ended.
fn drain(body: &mut Body) -> (Vec<&'static str>, bool) {
    let mut read = Vec::new();
    loop {
        match poll(body) {
            Polled::Data(data) => read.push(&*String::from_utf8(data.to_vec()).unwrap().leak()),
            Polled::End => return (read, true),
            Polled::Pending => return (read, false),
            Polled::Failed(code) => panic!("the body failed with {code:?}"),
        }
    }
}

fn data(text: &'static str) -> Step {
    Step::Data(Bytes::from_static(text.as_bytes()))
}

fn streamed(steps: Vec<Step>) -> Body {
    Body::streaming(MockBody::new(steps))
}

#[test]
fn a_whole_body_is_copied_for_each_attempt_until_committed() {
    let (mut replay, mut first) = Replay::start(Body::full(Some("abc".into()), None), 3);
    assert_eq!(drain(&mut first), (vec!["abc"], true));
    let mut second = replay.next_attempt().unwrap();
    assert_eq!(drain(&mut second), (vec!["abc"], true));
    replay.commit();
    assert!(replay.next_attempt().is_none());
}

#[test]
fn a_whole_body_over_the_limit_is_sent_once() {
    let (mut replay, mut first) = Replay::start(Body::full(Some("abcd".into()), None), 3);
    assert!(replay.next_attempt().is_none());
    assert_eq!(drain(&mut first), (vec!["abcd"], true));
}

#[test]
fn a_later_attempt_replays_what_was_sent_then_goes_on_with_the_source() {
    let source = streamed(vec![data("a"), data("b"), Step::Pending, data("c")]);
    let (mut replay, mut first) = Replay::start(source, 100);
    assert_eq!(drain(&mut first), (vec!["a", "b"], false));
    let mut second = replay.next_attempt().unwrap();
    // The first attempt is over: its transport reading on gets an error.
    assert!(matches!(poll(&mut first), Polled::Failed(Code::Cancelled)));
    assert_eq!(drain(&mut second), (vec!["a", "b", "c"], true));
    assert!(second.is_end_stream());
    let mut third = replay.next_attempt().unwrap();
    assert!(!third.is_end_stream());
    assert_eq!(drain(&mut third), (vec!["a", "b", "c"], true));
}

#[test]
fn past_the_limit_the_current_attempt_goes_on_and_no_other_follows() {
    let source = streamed(vec![data("abc"), data("defg"), data("h")]);
    let (mut replay, mut first) = Replay::start(source, 5);
    assert_eq!(drain(&mut first), (vec!["abc", "defg", "h"], true));
    assert!(replay.next_attempt().is_none());
}

#[test]
fn committing_mid_replay_still_sends_the_rest_once() {
    let source = streamed(vec![data("a"), data("b"), Step::Pending, data("c")]);
    let (mut replay, mut first) = Replay::start(source, 100);
    assert_eq!(drain(&mut first), (vec!["a", "b"], false));
    let mut second = replay.next_attempt().unwrap();
    assert!(matches!(poll(&mut second), Polled::Data(_)));
    replay.commit();
    assert_eq!(drain(&mut second), (vec!["b", "c"], true));
    assert!(replay.next_attempt().is_none());
}

#[test]
fn a_failed_source_cannot_be_replayed() {
    let source = streamed(vec![
        data("a"),
        Step::Error(Status::resource_exhausted("too big")),
    ]);
    let (mut replay, mut first) = Replay::start(source, 100);
    assert!(matches!(poll(&mut first), Polled::Data(_)));
    assert!(matches!(
        poll(&mut first),
        Polled::Failed(Code::ResourceExhausted)
    ));
    assert!(replay.next_attempt().is_none());
}
