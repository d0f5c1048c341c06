//! Starting a peer's interop server on a free loopback port and waiting until it
//! accepts connections.

use std::collections::BTreeSet;
use std::ffi::OsString;
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
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
    /// The command line, without the port, to start it again.
    program: Program,
    transport_args: Vec<OsString>,
    log: PathBuf,
    /// How many times it was started again.
    restarts: usize,
}

impl Server {
    /// Starts `program --port=P` plus the transport's flags on a free port, logging to
    /// `log`, and returns once the port accepts connections.
    pub fn start(program: &Program, transport: &Transport, log: &Path) -> Result<Server, String> {
        let transport_args = transport.server_args();
        let mut failures = String::new();
        for _ in 0..ATTEMPTS {
            let port = free_port()?;
            match spawn_on(program, &transport_args, port, log)? {
                (process, Startup::Listening, _) => {
                    return Ok(Server {
                        process,
                        port,
                        program: program.clone(),
                        transport_args,
                        log: log.to_owned(),
                        restarts: 0,
                    });
                }
                (process, Startup::Exited(why), shown) => {
                    failures.push_str(&format!("{shown} {why}:\n{}\n", process.output()));
                }
                (process, Startup::TimedOut, shown) => {
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

    /// Kills the server, as a crash would; [`start_again`](Self::start_again) brings it
    /// back on the same port.
    #[allow(
        dead_code,
        reason = "the matrix does not restart servers; the proxy tests do"
    )]
    pub fn kill(&mut self) {
        self.process.kill();
    }

    /// Starts a killed server again on the same port (a restart, as a back end behind a
    /// proxy sees one), logging to `<log>.<n>` for the n-th restart; returns once the
    /// port accepts connections again.
    #[allow(
        dead_code,
        reason = "the matrix does not restart servers; the proxy tests do"
    )]
    pub fn start_again(&mut self) -> Result<(), String> {
        self.restarts += 1;
        let mut log = self.log.clone().into_os_string();
        log.push(format!(".{}", self.restarts));
        let (process, startup, shown) = spawn_on(
            &self.program,
            &self.transport_args,
            self.port,
            Path::new(&log),
        )?;
        self.process = process;
        match startup {
            Startup::Listening => Ok(()),
            Startup::Exited(why) => Err(format!("{shown} {why}:\n{}", self.process.output())),
            Startup::TimedOut => Err(format!(
                "{shown}, restarted, did not accept connections on port {} within \
                 {STARTUP_TIMEOUT:?}:\n{}",
                self.port,
                self.process.output()
            )),
        }
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

/// Starts `program --port=port` plus `transport_args`, logging to `log`, and waits
/// until it listens, exits or runs out of time; also returns the command line, shown.
fn spawn_on(
    program: &Program,
    transport_args: &[OsString],
    port: u16,
    log: &Path,
) -> Result<(Running, Startup, String), String> {
    let mut command = program.command();
    command
        .arg(flag("--port", port.to_string()))
        .args(transport_args);
    let shown = format!("{command:?}");
    let mut process =
        Running::spawn(command, log).map_err(|err| format!("starting {shown}: {err}"))?;
    let startup = wait_until_listening(&mut process, port)?;
    Ok((process, startup, shown))
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
