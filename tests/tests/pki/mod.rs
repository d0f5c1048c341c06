//! A test PKI for the TLS tests (`mod pki;` in each test crate that needs it).

// Every test crate compiles its own copy of this module and uses only part of it.
#![allow(dead_code)]

use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
use rsrpc::transport::{ClientTlsConfig, ServerTlsConfig};

/// A test CA, and a server certificate it signed for `localhost` and `*.test.example.com`.
pub struct TestPki {
    pub ca_pem: String,
    server_cert_pem: String,
    server_key_pem: String,
}

impl TestPki {
    pub fn new() -> TestPki {
        let ca_key = KeyPair::generate().unwrap();
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let ca_cert = ca_params.self_signed(&ca_key).unwrap();
        let issuer = Issuer::new(ca_params, ca_key);
        let server_key = KeyPair::generate().unwrap();
        let names = vec!["localhost".to_owned(), "*.test.example.com".to_owned()];
        let server_cert = CertificateParams::new(names)
            .unwrap()
            .signed_by(&server_key, &issuer)
            .unwrap();
        TestPki {
            ca_pem: ca_cert.pem(),
            server_cert_pem: server_cert.pem(),
            server_key_pem: server_key.serialize_pem(),
        }
    }

    pub fn server_tls(&self) -> ServerTlsConfig {
        ServerTlsConfig::from_pem(&self.server_cert_pem, &self.server_key_pem).unwrap()
    }

    pub fn client_tls(&self) -> ClientTlsConfig {
        ClientTlsConfig::new()
            .ca_certificate_pem(&self.ca_pem)
            .unwrap()
    }
}
