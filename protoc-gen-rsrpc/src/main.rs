//! The `protoc-gen-rsrpc` protoc plugin: reads a `CodeGeneratorRequest` on
//! stdin and writes a `CodeGeneratorResponse` to stdout.

use std::io::{self, Read, Write};
use std::process::ExitCode;

use prost::Message;
use prost_types::compiler::CodeGeneratorRequest;

fn main() -> ExitCode {
    if std::env::args().nth(1).as_deref() == Some("--version") {
        println!("protoc-gen-rsrpc {}", env!("CARGO_PKG_VERSION"));
        return ExitCode::SUCCESS;
    }
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("protoc-gen-rsrpc: {message}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), String> {
    let mut input = Vec::new();
    io::stdin()
        .read_to_end(&mut input)
        .map_err(|error| format!("cannot read stdin: {error}"))?;
    let request = CodeGeneratorRequest::decode(input.as_slice())
        .map_err(|error| format!("stdin is not a CodeGeneratorRequest: {error}"))?;
    let response = protoc_gen_rsrpc::plugin(&request);
    io::stdout()
        .write_all(&response.encode_to_vec())
        .map_err(|error| format!("cannot write stdout: {error}"))
}
