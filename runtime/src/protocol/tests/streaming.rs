//! [`Streaming`] over scripted bodies: message framing across chunks, how a request or a
//! response body may end (trailers, error status, no trailers, truncated frame, read
//! error), the receive limit, the deadline, and wakeups from a body that is not ready.

use std::time::Duration;

use bytes::Bytes;
use http_body::Frame;
use tokio::time::Instant;

use super::{
    MockBody, Note, Step, assert_status, byte_by_byte, framed, framed_all, note, ok_trailers,
    status_trailers,
};
use crate::codec::MessageForm;
use crate::protocol::streaming::{Direction, Streaming};
use crate::status::{Code, Status};
use crate::transport::incoming::IncomingBody;

const MAX: usize = 4 * 1024 * 1024;

/// A server's request stream over the scripted body.
fn requests(steps: impl IntoIterator<Item = Step>) -> Streaming<Note> {
    Streaming::new(
        MockBody::incoming(steps),
        Direction::Request,
        MAX,
        None,
        None,
        MessageForm::proto(),
    )
}

/// A client's response stream over the scripted body.
fn responses(steps: impl IntoIterator<Item = Step>) -> Streaming<Note> {
    Streaming::new(
        MockBody::incoming(steps),
        Direction::Response,
        MAX,
        None,
        None,
        MessageForm::proto(),
    )
}

/// Reads messages until the stream ends or fails; returns their texts and the failure.
async fn drain(stream: &mut Streaming<Note>) -> (Vec<String>, Option<Status>) {
    let mut texts = Vec::new();
    loop {
        match stream.message().await {
            Ok(Some(note)) => texts.push(note.text),
            Ok(None) => return (texts, None),
            Err(status) => return (texts, Some(status)),
        }
    }
}

/// Asserts the stream has nothing more to give.
async fn assert_ended(stream: &mut Streaming<Note>) {
    let next = stream.message().await;
    assert!(matches!(next, Ok(None)), "expected the end, got {next:?}");
}

#[tokio::test]
async fn several_messages_in_one_chunk() {
    let chunk = framed_all(&[note("a"), note("bb"), note("")]);
    let mut stream = requests([Step::Data(chunk)]);
    let (texts, error) = drain(&mut stream).await;
    assert_eq!(texts, ["a", "bb", ""]);
    assert!(error.is_none());
    assert!(stream.trailers().is_none(), "requests carry no trailers");
}

#[tokio::test]
async fn a_message_split_byte_by_byte_reassembles() {
    let bytes = framed_all(&[note("split across chunks"), note("and another")]);
    let mut stream = requests(byte_by_byte(&bytes));
    let (texts, error) = drain(&mut stream).await;
    assert_eq!(texts, ["split across chunks", "and another"]);
    assert!(error.is_none());
}

#[tokio::test]
async fn an_empty_request_body_has_no_messages() {
    let mut stream = requests([]);
    assert_ended(&mut stream).await;
    assert_ended(&mut stream).await;
}

#[tokio::test]
async fn request_trailers_end_the_stream() {
    let mut stream = requests([
        Step::Data(framed(&note("x"))),
        Step::Trailers(ok_trailers()),
    ]);
    let (texts, error) = drain(&mut stream).await;
    assert_eq!(texts, ["x"]);
    assert!(error.is_none());
    assert!(stream.trailers().is_none(), "the server keeps no trailers");
}

#[tokio::test]
async fn a_response_ending_with_ok_trailers_keeps_their_metadata() {
    let trailers = status_trailers(Code::Ok, "", &[("x-served-by", "replica-2")]);
    let mut stream = responses([
        Step::Data(framed(&note("one"))),
        Step::Data(framed(&note("two"))),
        Step::Trailers(trailers),
    ]);
    assert!(stream.trailers().is_none(), "no trailers before the end");
    let (texts, error) = drain(&mut stream).await;
    assert_eq!(texts, ["one", "two"]);
    assert!(error.is_none());
    let trailers = stream.trailers().expect("trailers after the end");
    assert_eq!(trailers.get("x-served-by"), Some("replica-2"));
    assert!(
        !trailers.contains_key("grpc-status"),
        "status is not metadata"
    );
}

#[tokio::test]
async fn an_error_status_in_trailers_is_the_last_item() {
    let trailers = status_trailers(Code::NotFound, "no such note", &[("x-why", "gone")]);
    let mut stream = responses([Step::Data(framed(&note("one"))), Step::Trailers(trailers)]);
    let (texts, error) = drain(&mut stream).await;
    assert_eq!(texts, ["one"]);
    let status = error.expect("the trailers' status");
    assert_eq!(status.code(), Code::NotFound);
    assert_eq!(status.message(), "no such note");
    assert_eq!(status.metadata().get("x-why"), Some("gone"));
    assert_ended(&mut stream).await;
    assert!(
        stream.trailers().is_none(),
        "a failed stream has no trailers"
    );
}

#[tokio::test]
async fn trailers_without_grpc_status_are_internal() {
    let mut trailers = status_trailers(Code::Ok, "", &[("x-other", "1")]);
    trailers.remove("grpc-status");
    let mut stream = responses([Step::Trailers(trailers)]);
    assert_status(
        stream.message().await,
        Code::Internal,
        "without grpc-status",
    );
}

#[tokio::test]
async fn a_response_without_trailers_is_internal() {
    let mut stream = responses([Step::Data(framed(&note("one")))]);
    let (texts, error) = drain(&mut stream).await;
    assert_eq!(texts, ["one"]);
    assert_status(
        Err::<(), _>(error.unwrap()),
        Code::Internal,
        "without sending trailers",
    );
    assert_ended(&mut stream).await;
}

#[tokio::test]
async fn an_empty_response_body_is_internal() {
    let mut stream = responses([]);
    assert_status(
        stream.message().await,
        Code::Internal,
        "without sending trailers",
    );
}

#[tokio::test]
async fn a_truncated_frame_at_the_end_is_internal() {
    let whole = framed(&note("whole"));
    let cut = framed(&note("cut short"));
    let mut stream = requests([Step::Data(whole), Step::Data(cut.slice(..cut.len() - 3))]);
    let (texts, error) = drain(&mut stream).await;
    assert_eq!(texts, ["whole"]);
    assert_status(
        Err::<(), _>(error.unwrap()),
        Code::Internal,
        "in the middle of a message",
    );
}

#[tokio::test]
async fn a_truncated_frame_before_trailers_is_internal() {
    let cut = framed(&note("cut short"));
    let mut stream = responses([Step::Data(cut.slice(..3)), Step::Trailers(ok_trailers())]);
    assert_status(
        stream.message().await,
        Code::Internal,
        "in the middle of a message",
    );
}

#[tokio::test]
async fn a_body_error_mid_stream_passes_through() {
    let mut stream = responses([
        Step::Data(framed(&note("before"))),
        Step::Error(Status::unavailable("connection lost")),
        Step::Data(framed(&note("never read"))),
    ]);
    let (texts, error) = drain(&mut stream).await;
    assert_eq!(texts, ["before"]);
    let status = error.unwrap();
    assert_eq!(status.code(), Code::Unavailable);
    assert_eq!(status.message(), "connection lost");
    assert_ended(&mut stream).await;
}

#[tokio::test]
async fn a_message_over_the_limit_is_resource_exhausted() {
    let big = note(&"x".repeat(100));
    let body = MockBody::incoming([Step::Data(framed(&big))]);
    let mut stream: Streaming<Note> = Streaming::new(
        body,
        Direction::Request,
        64,
        None,
        None,
        MessageForm::proto(),
    );
    assert_status(
        stream.message().await,
        Code::ResourceExhausted,
        "larger than the receive limit of 64 bytes",
    );
}

/// Once the decoder refuses a frame, the bytes after its header are not frames: the
/// stream must end there rather than read the refused payload as more messages.
#[tokio::test]
async fn an_oversized_message_ends_the_stream() {
    let smuggled = framed(&note("smuggled"));
    let mut chunk = vec![0, 0, 0, 0, 40];
    chunk.extend_from_slice(&smuggled);
    chunk.resize(5 + 40, 0);
    let body = MockBody::incoming([Step::Data(Bytes::from(chunk))]);
    let mut stream: Streaming<Note> = Streaming::new(
        body,
        Direction::Request,
        16,
        None,
        None,
        MessageForm::proto(),
    );
    assert_status(
        stream.message().await,
        Code::ResourceExhausted,
        "receive limit",
    );
    assert_ended(&mut stream).await;
}

#[tokio::test]
async fn a_message_at_the_limit_is_accepted() {
    let text = "x".repeat(62); // tag + length + 62 bytes = 64
    let body = MockBody::incoming([Step::Data(framed(&note(&text)))]);
    let mut stream: Streaming<Note> = Streaming::new(
        body,
        Direction::Request,
        64,
        None,
        None,
        MessageForm::proto(),
    );
    assert_eq!(stream.message().await.unwrap(), Some(note(&text)));
}

#[tokio::test]
async fn a_malformed_message_is_internal() {
    // Field 1 as a string claiming 10 bytes, with only 1 present.
    let payload = [0x0a, 10, b'x'];
    let mut frame = vec![0, 0, 0, 0, payload.len() as u8];
    frame.extend_from_slice(&payload);
    let mut stream = requests([Step::Data(Bytes::from(frame))]);
    assert_status(
        stream.message().await,
        Code::Internal,
        "failed to decode message",
    );
}

/// After a message fails to decode the stream is broken: like every other failure, the
/// status should be its last item.
#[tokio::test]
async fn a_malformed_message_ends_the_stream() {
    let mut chunk = vec![0, 0, 0, 0, 3, 0x0a, 10, b'x'];
    chunk.extend_from_slice(&framed(&note("after")));
    let mut stream = requests([Step::Data(Bytes::from(chunk))]);
    assert_status(
        stream.message().await,
        Code::Internal,
        "failed to decode message",
    );
    assert_ended(&mut stream).await;
}

#[tokio::test]
async fn an_invalid_compressed_flag_is_internal() {
    let mut frame = framed(&note("x")).to_vec();
    frame[0] = 7;
    let mut stream = requests([Step::Data(Bytes::from(frame))]);
    assert_status(
        stream.message().await,
        Code::Internal,
        "invalid compressed flag 7",
    );
}

#[tokio::test]
async fn a_deadline_in_the_past_is_deadline_exceeded() {
    // Long past, so the timer fires on its first poll: a deadline within the timer's
    // current millisecond tick would only fire once the timer driver next turns.
    let past = Instant::now() - Duration::from_secs(1);
    let body = MockBody::incoming([Step::Data(framed(&note("late")))]);
    let mut stream: Streaming<Note> = Streaming::new(
        body,
        Direction::Response,
        MAX,
        None,
        Some(past),
        MessageForm::proto(),
    );
    assert_status(
        stream.message().await,
        Code::DeadlineExceeded,
        "deadline exceeded",
    );
    assert_ended(&mut stream).await;
}

#[tokio::test]
async fn a_deadline_passing_while_the_body_is_silent_is_deadline_exceeded() {
    let start = Instant::now();
    let body = MockBody::incoming([Step::Data(framed(&note("first"))), Step::Stall]);
    let deadline = start + Duration::from_millis(50);
    let mut stream: Streaming<Note> = Streaming::new(
        body,
        Direction::Response,
        MAX,
        None,
        Some(deadline),
        MessageForm::proto(),
    );
    assert_eq!(stream.message().await.unwrap(), Some(note("first")));
    assert_status(
        stream.message().await,
        Code::DeadlineExceeded,
        "deadline exceeded",
    );
    assert!(Instant::now() >= deadline, "failed before the deadline");
}

#[tokio::test]
async fn messages_sent_later_wake_the_reader() {
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Frame<Bytes>, Status>>(1);
    let body = http_body_util::StreamBody::new(tokio_stream::wrappers::ReceiverStream::new(rx));
    let mut stream: Streaming<Note> = Streaming::new(
        IncomingBody::boxed(body),
        Direction::Response,
        MAX,
        None,
        None,
        MessageForm::proto(),
    );
    let reader = tokio::spawn(async move {
        let result = drain(&mut stream).await;
        (
            result,
            stream
                .trailers()
                .and_then(|t| t.get("x-n"))
                .map(str::to_owned),
        )
    });
    let bytes = framed_all(&[note("late one"), note("late two")]);
    for chunk in bytes.chunks(4) {
        tokio::task::yield_now().await;
        tx.send(Ok(Frame::data(Bytes::copy_from_slice(chunk))))
            .await
            .unwrap();
    }
    let trailers = status_trailers(Code::Ok, "", &[("x-n", "2")]);
    tx.send(Ok(Frame::trailers(trailers))).await.unwrap();
    drop(tx);
    let ((texts, error), n) = reader.await.unwrap();
    assert_eq!(texts, ["late one", "late two"]);
    assert!(error.is_none(), "{error:?}");
    assert_eq!(n.as_deref(), Some("2"));
}

#[tokio::test]
async fn a_finished_stream_yields_nothing_and_keeps_its_trailers() {
    let mut trailers = crate::metadata::MetadataMap::new();
    trailers.insert("x-only", "headers").unwrap();
    let mut stream = Streaming::<Note>::finished(trailers);
    assert_ended(&mut stream).await;
    assert_eq!(stream.trailers().unwrap().get("x-only"), Some("headers"));
}
