//! gRPC call semantics over any HTTP exchange, with no sockets: the wire rules, deadlines,
//! the message stream a call reads, the bodies that encode the messages it sends, and
//! the server and client sides of a call, and the retry policies of calls.

pub(crate) mod client_call;
pub(crate) mod deadline;
pub(crate) mod encode_body;
pub(crate) mod observe;
pub(crate) mod replay;
pub(crate) mod retry;
pub(crate) mod retry_json;
pub(crate) mod server_call;
pub(crate) mod service_config;
pub(crate) mod streaming;
#[cfg(test)]
mod tests;
pub(crate) mod trace;
pub(crate) mod wire;
