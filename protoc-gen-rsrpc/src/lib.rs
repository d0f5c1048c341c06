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
//! With [`Options::file_descriptor_set`], the file also declares
//! `FILE_DESCRIPTOR_SET`, the package's encoded descriptors, for
//! `rsrpc::reflection`.
//!
//! # In `build.rs`
//!
//! The [`Builder`] writes `<package>.rs` files to `$OUT_DIR`, which
//! `rsrpc::include_proto!("<package>")` includes. Here it writes to a
//! directory of its own:
//!
//! ```
//! # fn main() -> std::io::Result<()> {
//! let protos = tempfile::tempdir()?;
//! let proto = protos.path().join("greet.proto");
//! std::fs::write(
//!     &proto,
//!     r#"syntax = "proto3";
//!        package greet;
//!        message Hello { string text = 1; }
//!        service Greeter { rpc Greet(Hello) returns (Hello); }"#,
//! )?;
//! let out = tempfile::tempdir()?;
//! protoc_gen_rsrpc::configure()
//!     .client(false)
//!     .out_dir(out.path())
//!     .compile(&[&proto], &[protos.path()])?;
//!
//! let code = std::fs::read_to_string(out.path().join("greet.rs"))?;
//! assert!(code.contains("pub struct Hello {"));
//! assert!(code.contains("pub trait Greeter: Send + Sync + 'static {"));
//! assert!(!code.contains("pub struct GreeterClient"));
//! # Ok(())
//! # }
//! ```
//!
//! # With protoc or buf
//!
//! `cargo install protoc-gen-rsrpc` puts the plugin on `PATH`; then
//! `protoc --rsrpc_out=src/gen --rsrpc_opt=include_file=protos.rs -I proto
//! proto/greet.proto` or `buf generate` with the repository's
//! `examples/buf.gen.yaml` writes the same files.

#![deny(missing_docs)]

mod builder;
mod descriptor_set;
mod generator;
mod include_file;
mod json;
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
