//! The request body of a call that may be retried: each attempt sends the request from
//! its start. A body built whole is copied; a streamed one is recorded as the attempts
//! send it, so that a later attempt replays what was sent, then goes on with the
//! messages still to come. Past a size limit, or once the call commits to an attempt,
//! the recording stops and no further attempt can be made.

use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, ready};

use bytes::Bytes;
use http_body::{Body as _, Frame};

use crate::status::Status;
use crate::transport::body::Body;

/// The request of a call, kept for its attempts.
pub(crate) struct Replay {
    kind: Kind,
}

enum Kind {
    /// A body built whole: each attempt sends a copy of this one.
    Whole(Body),
    /// A streamed body: the attempts share its recording.
    Recorded(Arc<Mutex<Recording>>),
    /// Nothing kept: no further attempt can be made.
    Committed,
}

impl Replay {
    /// Keeps `body` for a call's attempts, up to `limit` bytes of it; returns the body
    /// of the first attempt.
    pub(crate) fn start(body: Body, limit: usize) -> (Replay, Body) {
        let kind = match body.try_clone() {
            Some(copy) if copy.size_hint().lower() <= limit as u64 => Kind::Whole(copy),
            Some(_) => Kind::Committed,
            None => {
                let recording = Arc::new(Mutex::new(Recording {
                    source: body,
                    frames: VecDeque::new(),
                    sent: 0,
                    size: 0,
                    limit,
                    ended: false,
                    committed: false,
                    attempt: 0,
                }));
                let first = Body::streaming(AttemptBody {
                    recording: Arc::clone(&recording),
                    attempt: 0,
                });
                return (
                    Replay {
                        kind: Kind::Recorded(recording),
                    },
                    first,
                );
            }
        };
        (Replay { kind }, body)
    }

    /// The body of the next attempt; `None` once the request is no longer kept whole.
    /// The body of the previous attempt fails from now on, should its transport still
    /// read it.
    pub(crate) fn next_attempt(&mut self) -> Option<Body> {
        match &self.kind {
            Kind::Whole(body) => body.try_clone(),
            Kind::Recorded(shared) => {
                let mut recording = lock(shared);
                if recording.committed {
                    return None;
                }
                recording.attempt += 1;
                recording.sent = 0;
                let attempt = recording.attempt;
                drop(recording);
                Some(Body::streaming(AttemptBody {
                    recording: Arc::clone(shared),
                    attempt,
                }))
            }
            Kind::Committed => None,
        }
    }

    /// Commits the call to its current attempt: the request is no longer kept, and
    /// the rest of it streams straight through.
    pub(crate) fn commit(&mut self) {
        if let Kind::Recorded(recording) = &self.kind {
            lock(recording).commit();
        }
        self.kind = Kind::Committed;
    }
}

fn lock(recording: &Mutex<Recording>) -> MutexGuard<'_, Recording> {
    // Every change to a recording is complete between statements: a panic cannot tear it.
    recording
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A streamed request and what its attempts have sent of it.
struct Recording {
    source: Body,
    /// The source's data frames, in order: all of them while the recording goes on;
    /// once committed, only those the current attempt has yet to send.
    frames: VecDeque<Bytes>,
    /// How many of `frames` the current attempt has sent.
    sent: usize,
    /// Bytes in `frames`.
    size: usize,
    limit: usize,
    /// Whether the source has ended.
    ended: bool,
    /// Whether the recording stopped.
    committed: bool,
    /// The attempt that may read: earlier ones are over.
    attempt: u32,
}

impl Recording {
    fn poll_frame(
        &mut self,
        attempt: u32,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Status>>> {
        if attempt != self.attempt {
            return Poll::Ready(Some(Err(Status::cancelled(
                "a later attempt of the call replaced this one",
            ))));
        }
        if let Some(frame) = self.frames.get(self.sent).cloned() {
            if self.committed {
                self.frames.pop_front();
            } else {
                self.sent += 1;
            }
            return Poll::Ready(Some(Ok(Frame::data(frame))));
        }
        if self.ended {
            return Poll::Ready(None);
        }
        match ready!(Pin::new(&mut self.source).poll_frame(cx)) {
            None => {
                self.ended = true;
                Poll::Ready(None)
            }
            Some(Ok(frame)) => {
                if !self.committed {
                    match frame.data_ref() {
                        Some(data) if self.size + data.len() <= self.limit => {
                            self.size += data.len();
                            self.frames.push_back(data.clone());
                            self.sent += 1;
                        }
                        // Past the limit; or trailers, which request bodies never carry.
                        _ => self.commit(),
                    }
                }
                Poll::Ready(Some(Ok(frame)))
            }
            Some(Err(status)) => {
                // A replay could not send the same request again.
                self.commit();
                Poll::Ready(Some(Err(status)))
            }
        }
    }

    /// Stops recording; the current attempt still sends the frames it has not sent.
    fn commit(&mut self) {
        self.committed = true;
        self.frames.drain(..self.sent);
        self.sent = 0;
        self.size = 0;
    }
}

/// The body of one attempt: the recording, replayed then continued.
struct AttemptBody {
    recording: Arc<Mutex<Recording>>,
    attempt: u32,
}

impl http_body::Body for AttemptBody {
    type Data = Bytes;
    type Error = Status;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Status>>> {
        lock(&self.recording).poll_frame(self.attempt, cx)
    }

    fn is_end_stream(&self) -> bool {
        let recording = lock(&self.recording);
        recording.attempt == self.attempt
            && recording.ended
            && recording.sent == recording.frames.len()
    }
}
