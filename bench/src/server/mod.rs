//! The servers under test. Each serves `helloworld.Greeter` and `bench.Bench` on an
//! accepted listener until its process ends.

mod behavior;
mod connect_server;
mod floor;
mod rsrpc_server;
mod tonic_server;

use tokio::net::TcpListener;

/// A boxed error from any of the stacks.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Which stack serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, clap::ValueEnum)]
pub enum Implementation {
    /// rsrpc's generated servers.
    Rsrpc,
    /// tonic 0.14's generated servers.
    Tonic,
    /// connect-rust (the `connectrpc` crate) 0.9's generated services on its built-in
    /// server.
    Connect,
    /// A bare hyper HTTP/2 server echoing the request body, as the lower bound of
    /// CPU per unary call on hyper (no routing, no decoding).
    Floor,
}

impl Implementation {
    /// The name used on command lines and in tables.
    pub fn name(self) -> &'static str {
        match self {
            Implementation::Rsrpc => "rsrpc",
            Implementation::Tonic => "tonic",
            Implementation::Connect => "connect",
            Implementation::Floor => "floor",
        }
    }
}

/// Serves on `listener` with `implementation` until the process ends.
pub async fn serve(implementation: Implementation, listener: TcpListener) -> Result<(), BoxError> {
    match implementation {
        Implementation::Rsrpc => rsrpc_server::serve(listener).await,
        Implementation::Tonic => tonic_server::serve(listener).await,
        Implementation::Connect => connect_server::serve(listener).await,
        Implementation::Floor => floor::serve(listener).await,
    }
}
