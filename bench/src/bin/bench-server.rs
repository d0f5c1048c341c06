//! Serves `helloworld.Greeter` and `bench.Bench` with one implementation until SIGTERM
//! or SIGINT. Prints `listening on ADDR` once it accepts connections.

use std::io::Write;
use std::net::SocketAddr;
use std::process::ExitCode;

use bench::server::{self, Implementation};
use bench::setup;
use clap::Parser;
use tokio::net::TcpListener;

/// Command line of `bench-server`.
#[derive(Debug, Parser)]
#[command(about = "Serves the benchmark services with one implementation")]
struct Args {
    /// The implementation to serve.
    #[arg(long = "impl", value_enum)]
    implementation: Implementation,
    /// Address to listen on (port 0 picks a free port; see the printed address).
    #[arg(long, default_value = "127.0.0.1:0")]
    addr: SocketAddr,
    /// Tokio worker threads.
    #[arg(long, default_value_t = 1)]
    threads: usize,
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("bench-server: {error}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: &Args) -> Result<(), server::BoxError> {
    setup::raise_open_files_limit()?;
    setup::runtime(args.threads)?.block_on(async {
        let listener = TcpListener::bind(args.addr).await?;
        println!("listening on {}", listener.local_addr()?);
        std::io::stdout().flush()?;
        // No graceful shutdown: the runner signals only once the load has finished.
        tokio::select! {
            served = server::serve(args.implementation, listener) => served,
            () = rsrpc::server::shutdown_signal() => Ok(()),
        }
    })
}
