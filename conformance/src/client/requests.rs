//! The request stream of a client-stream or bidi call: the case's messages, each sent
//! after the case's delay, through a channel the call reads as its request stream.

use std::time::Duration;

use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;

/// The sending side of a call's request stream.
#[derive(Debug)]
pub struct Requests<T> {
    sender: Option<mpsc::Sender<T>>,
    left: std::vec::IntoIter<T>,
    delay: Duration,
}

impl<T> Requests<T> {
    /// The sender of `messages`, and the stream the call reads them from.
    pub fn new(messages: Vec<T>, delay: Duration) -> (Requests<T>, ReceiverStream<T>) {
        // One message in flight: the next is sent once the call has taken the last.
        let (sender, receiver) = mpsc::channel(1);
        let requests = Requests {
            sender: Some(sender),
            left: messages.into_iter(),
            delay,
        };
        (requests, ReceiverStream::new(receiver))
    }

    /// Sends the next message after the delay: `Ok(true)` once sent, `Ok(false)` when
    /// none is left, `Err(unsent)` when the call no longer takes requests (it ended, or
    /// the stream was closed), with the messages that were not sent, this one included.
    pub async fn send_next(&mut self) -> Result<bool, usize> {
        let Some(message) = self.left.next() else {
            return Ok(false);
        };
        tokio::time::sleep(self.delay).await;
        let Some(sender) = &self.sender else {
            return Err(self.left.len() + 1);
        };
        match sender.send(message).await {
            Ok(()) => Ok(true),
            Err(_) => Err(self.left.len() + 1),
        }
    }

    /// Sends every message left, as [`send_next`](Self::send_next) does.
    pub async fn send_all(&mut self) -> Result<(), usize> {
        while self.send_next().await? {}
        Ok(())
    }

    /// How many messages are left to send.
    pub fn left(&self) -> usize {
        self.left.len()
    }

    /// Closes the request stream: the call sends the end of its requests.
    pub fn close(&mut self) {
        self.sender = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio_stream::StreamExt;

    #[tokio::test]
    async fn messages_go_out_in_order_then_the_stream_ends() {
        let (mut requests, mut stream) = Requests::new(vec![1, 2], Duration::ZERO);
        let reader = tokio::spawn(async move {
            let mut seen = Vec::new();
            while let Some(message) = stream.next().await {
                seen.push(message);
            }
            seen
        });
        requests.send_all().await.unwrap();
        requests.close();
        assert_eq!(reader.await.unwrap(), [1, 2]);
    }

    #[tokio::test]
    async fn a_call_that_stopped_reading_counts_the_unsent() {
        let (mut requests, stream) = Requests::new(vec![1, 2, 3], Duration::ZERO);
        drop(stream);
        assert_eq!(requests.send_all().await, Err(3));
    }
}
