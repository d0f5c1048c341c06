//! The check that the protos the conformance programs are built from are the suite's
//! own (`protos`).

mod protos;
mod support;
