//! Example services built with rsrpc: the `helloworld` greeter and the `routeguide`
//! service, which has all four kinds of call.

pub mod greeter;
pub mod route_guide;

/// Messages, server and client generated from `proto/helloworld.proto`.
pub mod helloworld {
    rsrpc::include_proto!("helloworld");
}

/// Messages, server and client generated from `proto/route_guide.proto`.
pub mod routeguide {
    rsrpc::include_proto!("routeguide");
}
