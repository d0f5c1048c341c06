//! The peers of the matrix, provisioned once per test process: grpc-go, Python and
//! Armeria are set up concurrently by whichever test needs a peer first, and every
//! other test waits for that instead of provisioning again.

use std::sync::LazyLock;
use std::thread;

use super::armeria::{self, Armeria};
use super::grpc_go::{self, GrpcGo};
use super::process::Program;
use super::python::{self, Python};
use super::tls::Certs;

/// Everything provisioned, or why it could not be.
struct Peers {
    grpc_go: Result<GrpcGo, String>,
    certs: Result<Certs, String>,
    python: Result<Python, String>,
    armeria: Result<Armeria, String>,
}

static PEERS: LazyLock<Peers> = LazyLock::new(|| {
    thread::scope(|scope| {
        let grpc_go = scope.spawn(grpc_go::provision);
        let python = scope.spawn(python::provision);
        let armeria = scope.spawn(armeria::provision);
        let certs = grpc_go::certs();
        Peers {
            grpc_go: joined(grpc_go),
            certs,
            python: joined(python),
            armeria: joined(armeria),
        }
    })
});

/// A provisioning thread's result; a panic in it counts as a failure to provision.
fn joined<T>(thread: thread::ScopedJoinHandle<'_, Result<T, String>>) -> Result<T, String> {
    thread
        .join()
        .unwrap_or_else(|_| Err("provisioning panicked (see the test output above)".into()))
}

/// The grpc-go interop programs; panics with what to fix if they could not be built.
pub fn grpc_go() -> &'static GrpcGo {
    required(&PEERS.grpc_go, "the grpc-go peer is not available")
}

/// The Python peer; panics with what to fix if it could not be set up.
pub fn python() -> &'static Python {
    required(&PEERS.python, "the Python grpcio peer is not available")
}

/// The Armeria jar; panics with what to fix if it could not be built.
pub fn armeria() -> &'static Armeria {
    required(&PEERS.armeria, "the Armeria peer is not available")
}

/// grpc-go's test certificates; panics with what to fix if they could not be found.
pub fn certs() -> &'static Certs {
    required(
        &PEERS.certs,
        "grpc-go's test certificates are not available",
    )
}

/// rsrpc's interop server, built by cargo with this test.
pub fn rsrpc_server() -> Program {
    Program::new(env!("CARGO_BIN_EXE_interop-server"))
}

/// rsrpc's interop client, built by cargo with this test.
pub fn rsrpc_client() -> Program {
    Program::new(env!("CARGO_BIN_EXE_interop-client"))
}

fn required<'a, T>(peer: &'a Result<T, String>, unavailable: &str) -> &'a T {
    peer.as_ref()
        .unwrap_or_else(|err| panic!("{unavailable}: {err}"))
}
