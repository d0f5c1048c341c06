//! What the services do, shared by the servers so that they run the same handler code
//! and only the RPC stack differs. rsrpc and tonic share the prost messages too;
//! connect-rust has its own (buffa) messages and uses what is not tied to them.

use bytes::Bytes;

use crate::proto::bench::{Payload, StreamRequest};
use crate::proto::helloworld::{HelloReply, HelloRequest};

/// `SayHello`: the reply's message is the request's name, moved, not copied.
pub fn greet(request: HelloRequest) -> HelloReply {
    HelloReply {
        message: request.name,
    }
}

/// `ServerStream`: `count` payloads of `payload_size` bytes, all sharing one buffer so
/// that producing a message costs the stack's work only.
pub fn stream_replies<E>(
    request: &StreamRequest,
) -> impl Iterator<Item = Result<Payload, E>> + use<E> {
    repeated_payload(request.count, request.payload_size).map(|data| Ok(Payload { data }))
}

/// The data of [`stream_replies`]: `count` handles on one buffer of `payload_size` bytes.
pub fn repeated_payload(count: u32, payload_size: u32) -> impl Iterator<Item = Bytes> {
    let data = Bytes::from(vec![0xA5; payload_size as usize]);
    (0..count).map(move |_| data.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_count_payloads_of_size() {
        let request = StreamRequest {
            count: 3,
            payload_size: 4,
        };
        let replies: Vec<Result<Payload, ()>> = stream_replies(&request).collect();
        assert_eq!(replies.len(), 3);
        assert!(
            replies
                .iter()
                .all(|reply| reply.as_ref().unwrap().data.len() == 4)
        );
    }
}
