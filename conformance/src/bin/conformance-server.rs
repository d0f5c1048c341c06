//! The ConnectRPC conformance server on rsrpc, started by `connectconformance --mode
//! server`: see `conformance::server`.

use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    match conformance::server::run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("conformance-server: {error}");
            ExitCode::FAILURE
        }
    }
}
