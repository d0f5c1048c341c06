//! `google.protobuf.Any`: the runner sends the request messages packed in it, and the
//! server echoes requests and puts error details in it.

use prost::Message;
use prost_types::Any;

use crate::proto;

/// The prefix of the type URLs this crate writes, as protobuf runtimes write them.
const TYPE_URL_PREFIX: &str = "type.googleapis.com/";

/// A message with a fully qualified protobuf name, which its `Any` type URL ends with.
pub trait TypeName: Message + Default {
    /// The message's fully qualified name, `package.Message`.
    const NAME: &'static str;
}

macro_rules! type_names {
    ($($message:ty => $name:literal,)*) => {
        $(impl TypeName for $message {
            const NAME: &'static str = $name;
        })*
    };
}

type_names! {
    proto::UnaryRequest => "connectrpc.conformance.v1.UnaryRequest",
    proto::IdempotentUnaryRequest => "connectrpc.conformance.v1.IdempotentUnaryRequest",
    proto::ServerStreamRequest => "connectrpc.conformance.v1.ServerStreamRequest",
    proto::ClientStreamRequest => "connectrpc.conformance.v1.ClientStreamRequest",
    proto::BidiStreamRequest => "connectrpc.conformance.v1.BidiStreamRequest",
    proto::UnimplementedRequest => "connectrpc.conformance.v1.UnimplementedRequest",
    proto::conformance_payload::RequestInfo => "connectrpc.conformance.v1.ConformancePayload.RequestInfo",
}

/// Packs `message` into an `Any`.
pub fn pack<M: TypeName>(message: &M) -> Any {
    Any {
        type_url: format!("{TYPE_URL_PREFIX}{}", M::NAME),
        value: message.encode_to_vec(),
    }
}

/// Unpacks an `Any` that must hold an `M`: its type URL must end in `/` and `M`'s name,
/// whatever comes before the last `/`.
pub fn unpack<M: TypeName>(any: &Any) -> Result<M, String> {
    let name = any.type_url.rsplit('/').next().unwrap_or_default();
    if name != M::NAME {
        return Err(format!(
            "expected a {} message, got type URL {:?}",
            M::NAME,
            any.type_url
        ));
    }
    M::decode(any.value.as_slice()).map_err(|error| format!("invalid {}: {error}", M::NAME))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packed_messages_unpack_by_name_only() {
        let request = proto::UnaryRequest {
            request_data: b"data".to_vec(),
            ..Default::default()
        };
        let any = pack(&request);
        assert_eq!(
            any.type_url,
            "type.googleapis.com/connectrpc.conformance.v1.UnaryRequest"
        );
        assert_eq!(unpack::<proto::UnaryRequest>(&any).unwrap(), request);

        let elsewhere = Any {
            type_url: "example.com/types/connectrpc.conformance.v1.UnaryRequest".into(),
            ..any.clone()
        };
        assert_eq!(unpack::<proto::UnaryRequest>(&elsewhere).unwrap(), request);

        let error = unpack::<proto::ServerStreamRequest>(&any).unwrap_err();
        assert!(error.contains("ServerStreamRequest"), "{error}");
    }
}
