//! The interop matrix: rsrpc's interop client and server against grpc-go v1.85.0 and
//! Python grpcio over HTTP/2 (plaintext and TLS), against Armeria over HTTP/2 and
//! HTTP/1.1 (plaintext), and against each other over HTTP/1.1, in both directions where
//! there are two peers. Each test is one cell and reports every failing case.
//! `tests/interop/README.md` has the table.

mod support;

use support::cases::{
    ARMERIA_CLIENT_EXCLUDED, ARMERIA_SERVER_EXCLUDED, GRPC_GO_CLIENT_EXCLUDED,
    GRPC_GO_SERVER_EXCLUDED,
};
use support::cell::{Cell, Client};
use support::http::Http;
use support::peers;
use support::tls::Security;

/// Declares a cell module's two tests, `plaintext` and `tls`, from its
/// `cell(Security)` function.
macro_rules! plaintext_and_tls {
    () => {
        #[test]
        fn plaintext() {
            cell(Security::Plaintext);
        }

        #[test]
        fn tls() {
            cell(Security::Tls);
        }
    };
}

/// Declares a cell module's two tests, `h2` and `h1`, from its `cell(Http)` function.
macro_rules! h2_and_h1 {
    () => {
        #[test]
        fn h2() {
            cell(Http::H2);
        }

        #[test]
        fn h1() {
            cell(Http::H1);
        }
    };
}

/// grpc-go's client against rsrpc's server: every case that client has.
mod grpc_go_client_to_rsrpc_server {
    use super::*;

    fn cell(security: Security) {
        Cell {
            client_peer: "grpc-go",
            client: Client::OneCasePerRun(peers::grpc_go().client()),
            server_peer: "rsrpc",
            server: peers::rsrpc_server(),
            http: None,
            excluded: &GRPC_GO_CLIENT_EXCLUDED,
            security,
        }
        .run();
    }

    plaintext_and_tls!();
}

/// rsrpc's client against grpc-go's server: every case that server can serve.
mod rsrpc_client_to_grpc_go_server {
    use super::*;

    fn cell(security: Security) {
        Cell {
            client_peer: "rsrpc",
            client: Client::Reporting(peers::rsrpc_client()),
            server_peer: "grpc-go",
            server: peers::grpc_go().server(),
            http: None,
            excluded: &GRPC_GO_SERVER_EXCLUDED,
            security,
        }
        .run();
    }

    plaintext_and_tls!();
}

/// Python's client against rsrpc's server: all cases.
mod python_client_to_rsrpc_server {
    use super::*;

    fn cell(security: Security) {
        Cell {
            client_peer: "python",
            client: Client::Reporting(peers::python().client()),
            server_peer: "rsrpc",
            server: peers::rsrpc_server(),
            http: None,
            excluded: &[],
            security,
        }
        .run();
    }

    plaintext_and_tls!();
}

/// rsrpc's client against Python's server: all cases.
mod rsrpc_client_to_python_server {
    use super::*;

    fn cell(security: Security) {
        Cell {
            client_peer: "rsrpc",
            client: Client::Reporting(peers::rsrpc_client()),
            server_peer: "python",
            server: peers::python().server(),
            http: None,
            excluded: &[],
            security,
        }
        .run();
    }

    plaintext_and_tls!();
}

/// rsrpc's client over HTTP/1.1 against rsrpc's server, which serves both HTTP
/// versions on one port (and offers ALPN `http/1.1` over TLS): all cases.
mod rsrpc_h1_client_to_rsrpc_server {
    use super::*;

    fn cell(security: Security) {
        Cell {
            client_peer: "rsrpc",
            client: Client::Reporting(peers::rsrpc_client()),
            server_peer: "rsrpc",
            server: peers::rsrpc_server(),
            http: Some(Http::H1),
            excluded: &[],
            security,
        }
        .run();
    }

    plaintext_and_tls!();
}

/// rsrpc's client against Armeria's server (plaintext only: the peer has no TLS):
/// every case that server can serve.
mod rsrpc_client_to_armeria_server {
    use super::*;

    fn cell(http: Http) {
        Cell {
            client_peer: "rsrpc",
            client: Client::Reporting(peers::rsrpc_client()),
            server_peer: "armeria",
            server: peers::armeria().server(),
            http: Some(http),
            excluded: &ARMERIA_SERVER_EXCLUDED,
            security: Security::Plaintext,
        }
        .run();
    }

    h2_and_h1!();
}

/// Armeria's client against rsrpc's server (plaintext only: the peer has no TLS):
/// every case that client has.
mod armeria_client_to_rsrpc_server {
    use super::*;

    fn cell(http: Http) {
        Cell {
            client_peer: "armeria",
            client: Client::Reporting(peers::armeria().client()),
            server_peer: "rsrpc",
            server: peers::rsrpc_server(),
            http: Some(http),
            excluded: &ARMERIA_CLIENT_EXCLUDED,
            security: Security::Plaintext,
        }
        .run();
    }

    h2_and_h1!();
}
