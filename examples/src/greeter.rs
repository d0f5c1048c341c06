//! An implementation of `helloworld.Greeter`.

use prost::Message;
use rsrpc::{Code, Request, Response, Status};

use crate::helloworld::greeter_server::Greeter;
use crate::helloworld::{HelloReply, HelloRequest, NameTooLong};

/// The longest name the greeter accepts, in characters.
pub const MAX_NAME_CHARS: u32 = 16;

/// Greets whoever calls.
///
/// Replies carry the header `x-greeter: rsrpc` and the trailer `x-name-chars` (the
/// name's length), so that clients can show metadata. An empty name is
/// `INVALID_ARGUMENT`; a name longer than [`MAX_NAME_CHARS`] is too, with a
/// [`NameTooLong`] in the status's details.
#[derive(Debug, Default)]
pub struct MyGreeter;

impl Greeter for MyGreeter {
    async fn say_hello(
        &self,
        request: Request<HelloRequest>,
    ) -> Result<Response<HelloReply>, Status> {
        let name = request.into_inner().name;
        if name.is_empty() {
            return Err(Status::invalid_argument("name must not be empty"));
        }
        let chars = u32::try_from(name.chars().count()).unwrap_or(u32::MAX);
        if chars > MAX_NAME_CHARS {
            let detail = NameTooLong {
                max_chars: MAX_NAME_CHARS,
                chars,
            };
            let message = format!("name must be at most {MAX_NAME_CHARS} characters");
            return Err(status_with_detail(Code::InvalidArgument, message, &detail));
        }
        let mut response = Response::new(HelloReply {
            message: format!("Hello {name}!"),
        });
        response
            .metadata_mut()
            .insert("x-greeter", "rsrpc")
            .map_err(|error| Status::internal(error.to_string()))?;
        response
            .trailers_mut()
            .insert("x-name-chars", &chars.to_string())
            .map_err(|error| Status::internal(error.to_string()))?;
        Ok(response)
    }
}

/// `google.rpc.Status`, the form of a status's details on the wire (declared here rather
/// than generated, so the examples need no Google API protos).
#[derive(Clone, PartialEq, prost::Message)]
struct RpcStatus {
    #[prost(int32, tag = "1")]
    code: i32,
    #[prost(string, tag = "2")]
    message: String,
    #[prost(message, repeated, tag = "3")]
    details: Vec<prost_types::Any>,
}

/// A status whose details hold one message, packed in an `Any` under its full name.
fn status_with_detail(code: Code, message: String, detail: &NameTooLong) -> Status {
    let details = RpcStatus {
        code: code as i32,
        message: message.clone(),
        details: vec![prost_types::Any {
            type_url: "type.googleapis.com/helloworld.NameTooLong".into(),
            value: detail.encode_to_vec(),
        }],
    };
    Status::with_details(code, message, details.encode_to_vec().into())
}
