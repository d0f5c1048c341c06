//! gRPC server reflection (`grpc.reflection.v1` and `v1alpha`): lets tools such as
//! `grpcurl` and `ghz` list a server's services and learn their messages without
//! `.proto` files. Behind the `reflection` feature.
//!
//! Generate the descriptors with `protoc-gen-rsrpc`'s `file_descriptor_set` option
//! (`.file_descriptor_set(true)` in build.rs), which gives each package's generated file a
//! `FILE_DESCRIPTOR_SET` constant, and register those of the services served:
//!
//! ```
//! # mod helloworld { pub use rsrpc::reflection::v1alpha::FILE_DESCRIPTOR_SET; }
//! # fn main() -> Result<(), rsrpc::reflection::Error> {
//! let reflection = rsrpc::reflection::Builder::configure()
//!     .register_encoded_file_descriptor_set(helloworld::FILE_DESCRIPTOR_SET)
//!     .build_v1()?;
//! let server = rsrpc::Server::builder().add_service(reflection);
//! # let _ = server;
//! # Ok(())
//! # }
//! ```
//!
//! Answers carry each requested file with the files it imports that the stream has not
//! sent yet; what is not registered is answered with a `NOT_FOUND` error response.

mod builder;
mod error;
mod index;
mod service;

pub use builder::Builder;
pub use error::Error;
pub use service::ReflectionService;

/// The `grpc.reflection.v1` messages, server and client, generated from
/// `proto/grpc/reflection/v1/reflection.proto`.
#[allow(missing_docs, clippy::all, rustdoc::invalid_html_tags)]
pub mod v1 {
    include!("grpc.reflection.v1.rs");
}

/// The `grpc.reflection.v1alpha` messages, server and client: v1's, under the name older
/// clients use.
#[allow(missing_docs, clippy::all, rustdoc::invalid_html_tags)]
pub mod v1alpha {
    include!("grpc.reflection.v1alpha.rs");
}
