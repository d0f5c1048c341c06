//! Benchmarks of rsrpc against tonic, connect-rust and a bare hyper "floor" server.
//!
//! Binaries: `bench-server` serves one implementation, `bench-load` drives it and reports
//! what it measured as JSON, `bench-run` runs every figure and writes `bench/RESULTS.md`,
//! `bench-corpus` writes the code-generation corpus. See `bench/README.md`.

pub mod body;
pub mod codegen;
pub mod grpc_frame;
pub mod latency;
pub mod load;
pub mod procfs;
pub mod proto;
pub mod report;
pub mod run;
pub mod server;
pub mod setup;
