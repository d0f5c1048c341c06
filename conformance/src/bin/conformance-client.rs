//! The ConnectRPC conformance client on rsrpc, started by `connectconformance --mode
//! client`: see `conformance::client`.

use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    match conformance::client::run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("conformance-client: {error}");
            ExitCode::FAILURE
        }
    }
}
