//! The ConnectRPC conformance suite against rsrpc's client and server (`suite`), and
//! the check that the protos they are built from are the suite's own (`protos`).

mod protos;
mod suite;
mod support;
