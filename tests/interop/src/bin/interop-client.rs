//! The rsrpc interop client: runs the interop test cases against a server, with the
//! flags of grpc-go's client, plus `--transport=h2|h1` (default h2).

use std::process::ExitCode;

use interop::client::{CASES, InteropClient};
use interop::flags::Flags;
use rsrpc::Channel;
use rsrpc::transport::{ClientTlsConfig, HttpVersion};

const FLAGS: &[&str] = &[
    "server_host",
    "server_port",
    "test_case",
    "use_tls",
    "use_test_ca",
    "ca_file",
    "server_host_override",
    "transport",
];

#[tokio::main]
async fn main() -> ExitCode {
    match run().await {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(error) => {
            eprintln!("interop-client: {error}");
            ExitCode::from(2)
        }
    }
}

/// Runs the requested cases, printing one line each; `Ok(false)` if any failed.
async fn run() -> Result<bool, String> {
    let flags = Flags::parse(std::env::args().skip(1), FLAGS)?;
    let cases: Vec<&str> = match flags.get("test_case").unwrap_or("large_unary") {
        "all" => CASES.to_vec(),
        list => list.split(',').collect(),
    };
    if let Some(unknown) = cases.iter().find(|case| !CASES.contains(case)) {
        return Err(format!("unknown --test_case {unknown:?}"));
    }
    let client = InteropClient::new(connect(&flags).await?);
    let mut all_passed = true;
    for case in cases {
        match client.run(case).await {
            Ok(()) => println!("PASS {case}"),
            Err(error) => {
                all_passed = false;
                println!("FAIL {case}: {error}");
            }
        }
    }
    Ok(all_passed)
}

async fn connect(flags: &Flags) -> Result<Channel, String> {
    let host = flags.get("server_host").unwrap_or("localhost");
    let port = flags.required("server_port")?;
    let use_tls = flags.bool("use_tls")?;
    let scheme = if use_tls { "https" } else { "http" };
    let version = match flags.get("transport").unwrap_or("h2") {
        "h2" => HttpVersion::Http2,
        "h1" => HttpVersion::Http1,
        other => return Err(format!("--transport takes h2 or h1, not {other:?}")),
    };
    let mut builder = Channel::builder(format!("{scheme}://{host}:{port}"))
        .map_err(|error| error.to_string())?
        .http_version(version);
    if use_tls {
        let mut tls = ClientTlsConfig::new();
        if let Some(path) = flags.get("ca_file") {
            let pem = std::fs::read(path)
                .map_err(|error| format!("cannot read --ca_file {path}: {error}"))?;
            tls = tls
                .ca_certificate_pem(pem)
                .map_err(|error| error.to_string())?;
        } else if flags.bool("use_test_ca")? {
            return Err("--use_test_ca needs --ca_file: rsrpc ships no test CA".to_owned());
        }
        if let Some(name) = flags.get("server_host_override") {
            tls = tls.domain_name(name);
        }
        builder = builder.tls_config(tls);
    }
    builder.connect().await.map_err(|error| error.to_string())
}
