//! Transport security of a cell and the command-line flags that select it, shared by
//! every peer (they all take grpc-go's interop flags).

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use super::process::flag;

/// A name `server1_cert.pem` covers (its only SAN is `*.test.example.com`), so clients
/// connecting to 127.0.0.1 verify the certificate against it.
pub const SERVER_HOST_OVERRIDE: &str = "foo.test.example.com";

/// grpc-go's test server certificate, its key, and the CA that signed it.
#[derive(Clone, Debug)]
pub struct Certs {
    /// `server1_cert.pem`.
    pub cert: PathBuf,
    /// `server1_key.pem` (a PKCS#1 RSA key).
    pub key: PathBuf,
    /// `ca_cert.pem`, a copy of grpc-go's `server_ca_cert.pem`.
    pub ca: PathBuf,
}

impl Certs {
    /// The three files under their names in `dir`.
    pub fn in_dir(dir: &Path) -> Certs {
        Certs {
            cert: dir.join("server1_cert.pem"),
            key: dir.join("server1_key.pem"),
            ca: dir.join("ca_cert.pem"),
        }
    }
}

/// Whether a cell runs in the clear or over TLS.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Security {
    /// No TLS: h2c, or HTTP/1.1 in the clear.
    Plaintext,
    /// TLS with grpc-go's test certificates.
    Tls,
}

impl Security {
    /// "plaintext" or "tls", for cell names.
    pub fn label(self) -> &'static str {
        match self {
            Security::Plaintext => "plaintext",
            Security::Tls => "tls",
        }
    }
}

/// A cell's transport security with the certificates it needs.
#[derive(Clone, Debug)]
pub enum Transport {
    /// No TLS.
    Plaintext,
    /// TLS with these certificates.
    Tls(Certs),
}

impl Transport {
    /// Flags for a server: `--use_tls --tls_cert_file=... --tls_key_file=...` for TLS.
    pub fn server_args(&self) -> Vec<OsString> {
        match self {
            Transport::Plaintext => Vec::new(),
            Transport::Tls(certs) => vec![
                "--use_tls".into(),
                flag("--tls_cert_file", &certs.cert),
                flag("--tls_key_file", &certs.key),
            ],
        }
    }

    /// Flags for a client: `--use_tls --use_test_ca --ca_file=... --server_host_override=...`
    /// for TLS.
    pub fn client_args(&self) -> Vec<OsString> {
        match self {
            Transport::Plaintext => Vec::new(),
            Transport::Tls(certs) => vec![
                "--use_tls".into(),
                "--use_test_ca".into(),
                flag("--ca_file", &certs.ca),
                format!("--server_host_override={SERVER_HOST_OVERRIDE}").into(),
            ],
        }
    }
}
