//! Code generation for rsrpc: prost messages plus rsrpc gRPC servers and
//! clients, from `.proto` files.
//!
//! Two front ends share one generator, so they produce identical files:
//!
//! * the `protoc-gen-rsrpc` protoc plugin
//!   (`protoc --rsrpc_out=DIR --rsrpc_opt=server=false,include_file=protos.rs ...`),
//!   whose options are parsed by [`Options::parse`];
//! * the [`Builder`] for `build.rs` scripts, which runs protoc itself
//!   (vendored by default).
//!
//! Each protobuf package becomes one `<package>.rs` file (`_.rs` for the
//! empty package). Messages and enums come from prost-build; each service
//! adds a `<service>_server` module (a trait to implement and a router) and
//! a `<service>_client` module, which refer to the runtime by absolute
//! paths (`::rsrpc::...`), so that no item named `rsrpc` can shadow it.

mod builder;
mod generator;
mod include_file;
mod lints;
mod names;
mod options;
mod params;
mod proto_path;
mod protoc;
mod service;

pub use builder::{Builder, configure};
pub use generator::{generate, plugin};
pub use options::{Options, OptionsError};
