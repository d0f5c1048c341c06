//! The grpc-go peer: its interop client and server binaries and its test certificates,
//! from the grpc-go version pinned by `tests/interop/go/go.mod` (and `go.sum`).

use std::fs;
use std::path::{Path, PathBuf};

use super::go;
use super::paths;
use super::process::Program;
use super::provision::{self, step};
use super::tls::Certs;

/// The module that holds the interop programs and the certificates.
const GRPC_MODULE: &str = "google.golang.org/grpc";
const CLIENT_PACKAGE: &str = "google.golang.org/grpc/interop/client";
const SERVER_PACKAGE: &str = "google.golang.org/grpc/interop/server";

/// The built grpc-go interop programs.
#[derive(Clone, Debug)]
pub struct GrpcGo {
    /// `interop/client`: runs one `--test_case` per process, failing with exit status 1.
    pub client: PathBuf,
    /// `interop/server`.
    pub server: PathBuf,
}

impl GrpcGo {
    /// The client as a program.
    pub fn client(&self) -> Program {
        Program::new(&self.client)
    }

    /// The server as a program.
    pub fn server(&self) -> Program {
        Program::new(&self.server)
    }
}

/// Builds the grpc-go client and server into `target/interop/bin/` unless they are
/// there, built from the current pin.
pub fn provision() -> Result<GrpcGo, String> {
    let bin = paths::interop_dir().join("bin");
    let peer = GrpcGo {
        client: bin.join("grpc-go-interop-client"),
        server: bin.join("grpc-go-interop-server"),
    };
    let outputs = [peer.client.as_path(), &peer.server];
    provision::ensure("grpc-go", &go::pin(&go_dir())?, &outputs, || {
        build(&bin, &peer)
    })?;
    Ok(peer)
}

/// Copies grpc-go's `testdata/x509` server certificate, key and CA into
/// `target/interop/certs/` unless they are there from the current pin.
pub fn certs() -> Result<Certs, String> {
    let certs = Certs::in_dir(&paths::interop_dir().join("certs"));
    let outputs = [certs.cert.as_path(), &certs.key, &certs.ca];
    provision::ensure("grpc-go-certs", &go::pin(&go_dir())?, &outputs, || {
        copy_certs(&certs)
    })?;
    Ok(certs)
}

/// The Go module that pins grpc-go.
fn go_dir() -> PathBuf {
    paths::package_dir().join("go")
}

/// Builds both programs into a staging directory, then moves them into place, so a
/// half-written binary never looks built.
fn build(bin: &Path, peer: &GrpcGo) -> Result<(), String> {
    let staging = bin.join("staging");
    let _ = fs::remove_dir_all(&staging);
    fs::create_dir_all(&staging).map_err(|err| format!("creating {}: {err}", staging.display()))?;
    let mut build = go::in_module(&go_dir(), &["build", "-o"]);
    build.arg(&staging).args([CLIENT_PACKAGE, SERVER_PACKAGE]);
    step(build, "grpc-go-build", go::NOT_FOUND)?;
    // `go build -o DIR` names each binary after its package's last path element.
    provision::move_file(&staging.join("client"), &peer.client)?;
    provision::move_file(&staging.join("server"), &peer.server)
}

/// Copies the certificates out of the downloaded grpc-go module.
fn copy_certs(certs: &Certs) -> Result<(), String> {
    let download = step(
        go::in_module(&go_dir(), &["mod", "download", "-json", GRPC_MODULE]),
        "grpc-go-module",
        go::NOT_FOUND,
    )?;
    let module = module_dir(&download)
        .ok_or_else(|| format!("no \"Dir\" in `go mod download -json` output:\n{download}"))?;
    let x509 = module.join("testdata/x509");
    let dir = certs
        .cert
        .parent()
        .expect("certificates live in a directory");
    fs::create_dir_all(dir).map_err(|err| format!("creating {}: {err}", dir.display()))?;
    // The CA that signed server1_cert.pem is server_ca_cert.pem.
    let sources = [
        ("server1_cert.pem", &certs.cert),
        ("server1_key.pem", &certs.key),
        ("server_ca_cert.pem", &certs.ca),
    ];
    for (source, destination) in sources {
        let source = x509.join(source);
        // Module files are read-only, and so is a copy left by an earlier run.
        let _ = fs::remove_file(destination);
        fs::copy(&source, destination).map_err(|err| {
            format!(
                "copying {} to {}: {err}",
                source.display(),
                destination.display()
            )
        })?;
    }
    Ok(())
}

/// The `"Dir": "..."` field of `go mod download -json` output. The output may be
/// interleaved with `go: downloading` lines, which never contain that field.
fn module_dir(output: &str) -> Option<PathBuf> {
    let line = output
        .lines()
        .find(|line| line.trim_start().starts_with("\"Dir\":"))?;
    let value = line.split('"').nth(3)?;
    Some(PathBuf::from(value))
}
