//! The interop harness: provisions the grpc-go, Python and Armeria peers into
//! `target/interop/` and runs matrix cells against rsrpc's interop binaries.

pub mod armeria;
pub mod cases;
pub mod cell;
pub mod go;
pub mod grpc_go;
pub mod http;
pub mod paths;
pub mod peers;
pub mod process;
pub mod protos;
pub mod provision;
pub mod python;
pub mod report;
pub mod server;
pub mod tls;
