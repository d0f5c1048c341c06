//! The rsrpc interop server: `grpc.testing.TestService` with the flags of grpc-go's,
//! `grpc.health.v1.Health` reporting it `SERVING`, and server reflection listing both.

use std::net::SocketAddr;
use std::process::ExitCode;

use interop::flags::Flags;
use interop::grpc::testing::test_service_server::TestServiceServer;
use interop::server::InteropService;
use rsrpc::Server;
use rsrpc::server::NamedService;
use rsrpc::transport::ServerTlsConfig;

const FLAGS: &[&str] = &["port", "use_tls", "tls_cert_file", "tls_key_file"];

#[tokio::main]
async fn main() -> ExitCode {
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("interop-server: {error}");
            ExitCode::FAILURE
        }
    }
}

/// Server reflection listing the services served, in both versions, as grpc-go's server.
fn reflection() -> rsrpc::reflection::Builder {
    rsrpc::reflection::Builder::configure()
        .register_encoded_file_descriptor_set(interop::grpc::testing::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(rsrpc::health::FILE_DESCRIPTOR_SET)
        .with_service_name(<TestServiceServer<InteropService> as NamedService>::NAME)
        .with_service_name("grpc.health.v1.Health")
}

async fn run() -> Result<(), String> {
    let flags = Flags::parse(std::env::args().skip(1), FLAGS)?;
    let port: u16 = flags
        .get("port")
        .unwrap_or("10000")
        .parse()
        .map_err(|error| format!("invalid --port: {error}"))?;
    let mut server = Server::builder();
    if flags.bool("use_tls")? {
        let read = |flag: &str| {
            let path = flags.required(flag)?;
            std::fs::read(path).map_err(|error| format!("cannot read --{flag} {path}: {error}"))
        };
        let tls = ServerTlsConfig::from_pem(read("tls_cert_file")?, read("tls_key_file")?)
            .map_err(|error| error.to_string())?;
        server = server.tls_config(tls);
    }
    let addr = SocketAddr::from(([0, 0, 0, 0], port));
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|error| format!("cannot listen on {addr}: {error}"))?;
    eprintln!(
        "interop-server: listening on {}",
        listener.local_addr().map_err(|e| e.to_string())?
    );
    let (health, health_server) = rsrpc::health::health_reporter();
    health.set_serving::<TestServiceServer<InteropService>>();
    server
        .add_service(TestServiceServer::new(InteropService))
        .add_service(health_server)
        .add_service(reflection().build_v1().map_err(|error| error.to_string())?)
        .add_service(
            reflection()
                .build_v1alpha()
                .map_err(|error| error.to_string())?,
        )
        .serve_with_listener(listener, rsrpc::server::shutdown_signal())
        .await
        .map_err(|error| error.to_string())?;
    eprintln!("interop-server: shut down");
    Ok(())
}
