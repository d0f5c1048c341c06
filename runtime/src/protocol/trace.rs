//! `tracing` spans per call, with OpenTelemetry's names for RPC attributes, so that
//! `tracing-opentelemetry` exports them as RPC spans and any subscriber can read them.
//!
//! A span is made at the `INFO` level under the target `rsrpc::server` or
//! `rsrpc::client`. Its fields:
//!
//! | field | value |
//! | --- | --- |
//! | `otel.name` | `package.Service/Method` |
//! | `otel.kind` | `server` or `client` |
//! | `rpc.system` | `grpc` (gRPC and gRPC-Web), `connect_rpc` (Connect) |
//! | `rpc.service`, `rpc.method` | `package.Service`, `Method` |
//! | `rpc.grpc.status_code` | a gRPC call's final code, as a number |
//! | `rpc.connect_rpc.error_code` | a failed Connect call's code, by its name (`not_found`, `cancelled`) |
//! | `otel.status_code` | `ERROR` when the code is an error for this side, as OpenTelemetry defines it |
//! | `network.peer.address`, `network.peer.port` | the client's address (server spans) |
//! | `server.address`, `server.port` | the target's host and port (client spans) |
//! | `duration_ms` | from the start of the call to its final status, in milliseconds |
//!
//! When no subscriber wants these spans, making one costs a check of the level filter:
//! nothing else is done for the call.

use std::net::SocketAddr;

use tokio::time::Instant;
use tracing::Span;
use tracing::field::Empty;

use crate::interceptor::split_path;
use crate::status::{Code, Status};

/// The RPC system a call's span names: OpenTelemetry's `rpc.system`, which decides how
/// the span reports the call's code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RpcSystem {
    /// gRPC, and gRPC-Web.
    Grpc,
    /// The Connect protocol.
    ConnectRpc,
}

impl RpcSystem {
    fn name(self) -> &'static str {
        match self {
            RpcSystem::Grpc => "grpc",
            RpcSystem::ConnectRpc => "connect_rpc",
        }
    }
}

/// The span of a call in `system` served for the client at `peer`, on `path`.
pub(crate) fn server_span(path: &str, peer: Option<SocketAddr>, system: RpcSystem) -> Span {
    let span = tracing::info_span!(
        target: "rsrpc::server",
        "grpc.server",
        otel.name = path.trim_start_matches('/'),
        otel.kind = "server",
        rpc.system = system.name(),
        rpc.service = service_of(path),
        rpc.method = method_of(path),
        rpc.grpc.status_code = Empty,
        rpc.connect_rpc.error_code = Empty,
        otel.status_code = Empty,
        network.peer.address = Empty,
        network.peer.port = Empty,
        duration_ms = Empty,
    );
    if let Some(peer) = peer {
        span.record("network.peer.address", tracing::field::display(peer.ip()));
        span.record("network.peer.port", peer.port());
    }
    span
}

/// The span of a call in `system` made to `authority`, on `path`.
pub(crate) fn client_span(path: &str, authority: &http::uri::Authority, system: RpcSystem) -> Span {
    tracing::info_span!(
        target: "rsrpc::client",
        "grpc.client",
        otel.name = path.trim_start_matches('/'),
        otel.kind = "client",
        rpc.system = system.name(),
        rpc.service = service_of(path),
        rpc.method = method_of(path),
        rpc.grpc.status_code = Empty,
        rpc.connect_rpc.error_code = Empty,
        otel.status_code = Empty,
        server.address = authority.host(),
        server.port = authority.port_u16(),
        duration_ms = Empty,
    )
}

/// Records how a call in `system` ended on `span`, started at `started`.
pub(crate) fn record_end(
    span: &Span,
    system: RpcSystem,
    status: &Status,
    started: Instant,
    server: bool,
) {
    match system {
        RpcSystem::Grpc => {
            span.record("rpc.grpc.status_code", status.code() as i32);
        }
        RpcSystem::ConnectRpc if status.code() != Code::Ok => {
            span.record(
                "rpc.connect_rpc.error_code",
                connect_error_code(status.code()),
            );
        }
        RpcSystem::ConnectRpc => {}
    }
    if is_error(status.code(), server) {
        span.record("otel.status_code", "ERROR");
    }
    span.record("duration_ms", started.elapsed().as_secs_f64() * 1000.0);
}

/// OpenTelemetry's `rpc.connect_rpc.error_code` for `code`: Connect's name of it, but for
/// one spelled as gRPC spells it.
fn connect_error_code(code: Code) -> &'static str {
    match code {
        Code::Cancelled => "cancelled",
        code => code.connect_name(),
    }
}

/// Whether OpenTelemetry counts `code` as an error: every code but OK on a client, only
/// those that point at the server on a server.
fn is_error(code: Code, server: bool) -> bool {
    match code {
        Code::Ok => false,
        Code::Unknown
        | Code::DeadlineExceeded
        | Code::Unimplemented
        | Code::Internal
        | Code::Unavailable
        | Code::DataLoss => true,
        _ => !server,
    }
}

fn service_of(path: &str) -> &str {
    split_path(path).0
}

fn method_of(path: &str) -> &str {
    split_path(path).1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connect_error_codes_are_opentelemetrys() {
        assert_eq!(connect_error_code(Code::NotFound), "not_found");
        assert_eq!(connect_error_code(Code::Cancelled), "cancelled");
        assert_eq!(Code::Cancelled.connect_name(), "canceled");
    }
}
