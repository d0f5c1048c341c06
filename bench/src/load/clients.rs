//! Callers on the generated clients, for the client-cost figure: the same `SayHello`
//! through rsrpc's `GreeterClient` and through tonic's.

use std::net::SocketAddr;

use super::check;
use super::driver::Caller;
use crate::proto::helloworld::HelloRequest;
use crate::proto::helloworld::greeter_client::GreeterClient as RsrpcClient;
use crate::proto::tonic::helloworld::greeter_client::GreeterClient as TonicClient;

/// Which generated client calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ClientImpl {
    /// rsrpc's `GreeterClient` on an rsrpc `Channel`.
    Rsrpc,
    /// tonic's `GreeterClient` on a tonic `Channel`.
    Tonic,
}

/// `connections` channels to `addr`, each shared by `streams` callers sending `name`.
pub async fn callers(
    client: ClientImpl,
    addr: SocketAddr,
    connections: usize,
    streams: usize,
    name: &str,
) -> Result<Vec<GeneratedCaller>, String> {
    let url = format!("http://{addr}");
    let mut callers = Vec::with_capacity(connections * streams);
    for _ in 0..connections {
        let channel = match client {
            ClientImpl::Rsrpc => Client::Rsrpc(rsrpc_channel(&url).await?),
            ClientImpl::Tonic => Client::Tonic(tonic_channel(&url).await?),
        };
        callers.extend((0..streams).map(|_| GeneratedCaller {
            client: channel.clone(),
            name: name.to_owned(),
        }));
    }
    Ok(callers)
}

/// An rsrpc client on a new channel (one HTTP/2 connection).
async fn rsrpc_channel(url: &str) -> Result<RsrpcClient, String> {
    let builder = rsrpc::Channel::builder(url).map_err(|e| e.to_string())?;
    let channel = builder
        .connect()
        .await
        .map_err(|e| format!("rsrpc connect: {e}"))?;
    Ok(RsrpcClient::new(channel))
}

/// A tonic client on a new channel (one HTTP/2 connection), TCP_NODELAY as rsrpc.
async fn tonic_channel(url: &str) -> Result<TonicClient<tonic::transport::Channel>, String> {
    let channel = tonic::transport::Endpoint::from_shared(url.to_owned())
        .map_err(|e| e.to_string())?
        .tcp_nodelay(true)
        .connect()
        .await
        .map_err(|e| format!("tonic connect: {e}"))?;
    Ok(TonicClient::new(channel))
}

/// A client of either stack; clones share the connection.
#[derive(Clone)]
enum Client {
    Rsrpc(RsrpcClient),
    Tonic(TonicClient<tonic::transport::Channel>),
}

/// Calls `SayHello` through a generated client.
pub struct GeneratedCaller {
    client: Client,
    name: String,
}

impl Caller for GeneratedCaller {
    async fn call(&mut self) -> Result<(), String> {
        let request = HelloRequest {
            name: self.name.clone(),
        };
        let reply = match &mut self.client {
            Client::Rsrpc(client) => client
                .say_hello(request)
                .await
                .map_err(|status| status.to_string())?
                .into_inner(),
            Client::Tonic(client) => client
                .say_hello(request)
                .await
                .map_err(|status| status.to_string())?
                .into_inner(),
        };
        check::length(reply.message.len(), self.name.len())
    }
}
