//! The interop matrix: rsrpc's interop client and server against grpc-go v1.85.0 and
//! Python grpcio, in both directions, over plaintext and TLS. Each test is one cell
//! and reports every failing case. `tests/interop/README.md` has the table.

mod support;

use support::cases::{GRPC_GO_CLIENT_EXCLUDED, GRPC_GO_SERVER_EXCLUDED};
use support::cell::{Cell, Client};
use support::peers;
use support::tls::Security;

/// Declares a cell module's two tests, `plaintext` and `tls`, from its `cell` function.
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

/// grpc-go's client against rsrpc's server: every case that client has.
mod grpc_go_client_to_rsrpc_server {
    use super::*;

    fn cell(security: Security) {
        Cell {
            client_peer: "grpc-go",
            client: Client::OneCasePerRun(peers::grpc_go().client()),
            server_peer: "rsrpc",
            server: peers::rsrpc_server(),
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
            excluded: &[],
            security,
        }
        .run();
    }

    plaintext_and_tls!();
}
