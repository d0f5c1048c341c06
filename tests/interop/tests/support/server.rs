//! Starting a peer's interop server on a free loopback port and waiting until it
//! accepts connections.

use std::collections::BTreeSet;
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::sync::Mutex;
use std::thread;
use std::time::{Duration, Instant};

use super::process::{Program, Running, flag};
use super::tls::Transport;

/// How long a server may take to start listening (the Python one imports grpcio first).
const STARTUP_TIMEOUT: Duration = Duration::from_secs(30);

/// How often to try connecting while a server starts.
const CONNECT_INTERVAL: Duration = Duration::from_millis(20);

/// Starts to try: a server that exits at once probably lost its port to another process
/// between our probe and its bind, so it gets a new port.
const ATTEMPTS: usize = 3;

/// A running interop server, killed when dropped.
#[derive(Debug)]
pub struct Server {
    process: Running,
    port: u16,
}

impl Server {
    /// Starts `program --port=P` plus the transport's flags on a free port, logging to
    /// `log`, and returns once the port accepts connections.
    pub fn start(program: &Program, transport: &Transport, log: &Path) -> Result<Server, String> {
        let mut failures = String::new();
        for _ in 0..ATTEMPTS {
            let port = free_port()?;
            let mut command = program.command();
            command
                .arg(flag("--port", port.to_string()))
                .args(transport.server_args());
            let shown = format!("{command:?}");
            let mut process =
                Running::spawn(command, log).map_err(|err| format!("starting {shown}: {err}"))?;
            match wait_until_listening(&mut process, port)? {
                Startup::Listening => return Ok(Server { process, port }),
                Startup::Exited(why) => {
                    failures.push_str(&format!("{shown} {why}:\n{}\n", process.output()));
                }
                Startup::TimedOut => {
                    return Err(format!(
                        "{shown} did not accept connections on port {port} within \
                         {STARTUP_TIMEOUT:?}:\n{}",
                        process.output()
                    ));
                }
            }
        }
        Err(format!("the server never started:\n{failures}"))
    }

    /// The port the server listens on (at 127.0.0.1).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Why the server is no longer running, if it is not.
    pub fn exited(&mut self) -> Option<String> {
        match self.process.exited() {
            Ok(None) => None,
            Ok(Some(status)) => Some(format!("the server exited ({status})")),
            Err(err) => Some(format!("the server's state is unknown: {err}")),
        }
    }

    /// Everything the server has written so far.
    pub fn output(&self) -> String {
        self.process.output()
    }

    /// The server's log file.
    pub fn log(&self) -> &Path {
        self.process.log()
    }
}

/// How a server start went.
enum Startup {
    Listening,
    Exited(String),
    TimedOut,
}

/// Polls until `port` accepts a TCP connection or the server exits.
fn wait_until_listening(process: &mut Running, port: u16) -> Result<Startup, String> {
    let address = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let deadline = Instant::now() + STARTUP_TIMEOUT;
    loop {
        match process.exited() {
            Ok(Some(status)) => return Ok(Startup::Exited(format!("exited ({status})"))),
            Ok(None) => {}
            Err(err) => return Err(format!("checking the server process: {err}")),
        }
        if TcpStream::connect_timeout(&address, CONNECT_INTERVAL).is_ok() {
            return Ok(Startup::Listening);
        }
        if Instant::now() >= deadline {
            return Ok(Startup::TimedOut);
        }
        thread::sleep(CONNECT_INTERVAL);
    }
}

/// A loopback port that was free a moment ago and that this process has not handed
/// out before. Remembering handed-out ports keeps two concurrently starting servers
/// off the same port: gRPC C core (the Python peer) sets SO_REUSEPORT, so both would
/// bind it and share connections.
fn free_port() -> Result<u16, String> {
    static HANDED_OUT: Mutex<BTreeSet<u16>> = Mutex::new(BTreeSet::new());
    let mut handed_out = HANDED_OUT
        .lock()
        .unwrap_or_else(|poison| poison.into_inner());
    // Holding every probe listener until one is picked keeps the OS from handing
    // back a port we have already refused.
    let mut probes = Vec::new();
    loop {
        let probe = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .map_err(|err| format!("finding a free port: {err}"))?;
        let port = probe
            .local_addr()
            .map_err(|err| format!("finding a free port: {err}"))?
            .port();
        if handed_out.insert(port) {
            return Ok(port);
        }
        probes.push(probe);
    }
}
