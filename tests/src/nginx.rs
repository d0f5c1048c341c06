//! nginx as a real gRPC proxy in front of a test server: `grpc_pass` to one back end,
//! cleartext HTTP/2 (prior knowledge) on a loopback port that stays the same across
//! [`Nginx::restart`], so that a client connected through it can be tested for healing.
//!
//! Everything nginx writes (pid, error log, temp files) goes to a temporary directory;
//! nothing under `/etc` or `/var` is read or written. nginx runs in the foreground, one
//! process (no master), as a child killed when the [`Nginx`] drops.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long nginx may take to start listening, or to exit when stopped.
const STARTUP: Duration = Duration::from_secs(10);
/// How often to try connecting while nginx starts.
const CONNECT_INTERVAL: Duration = Duration::from_millis(20);

/// A running nginx proxying gRPC to a back end; killed when dropped.
pub struct Nginx {
    binary: PathBuf,
    dir: tempfile::TempDir,
    addr: SocketAddr,
    backend: SocketAddr,
    child: Option<Child>,
}

impl Nginx {
    /// Starts nginx (installing it with `tests/install-nginx` if it is missing) on a free
    /// port of 127.0.0.1, proxying every call to `backend`; returns once it accepts
    /// connections. Panics, with nginx's error log, if it does not start.
    pub fn start(backend: SocketAddr) -> Nginx {
        let binary = crate::tools::nginx();
        let dir = tempfile::Builder::new()
            .prefix("rsrpc-nginx-")
            .tempdir()
            .expect("a temporary directory for nginx");
        std::fs::create_dir(dir.path().join("temp")).unwrap();
        let addr = free_port();
        let mut nginx = Nginx {
            binary,
            dir,
            addr,
            backend,
            child: None,
        };
        nginx.spawn();
        nginx
    }

    /// The address clients call: nginx's listening socket.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://` and [`addr`](Self::addr), for `Channel::builder` and generated clients.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The back end nginx proxies to.
    pub fn backend(&self) -> SocketAddr {
        self.backend
    }

    /// Whether nginx is running: not between [`stop`](Self::stop) and
    /// [`start_again`](Self::start_again), nor once it has died.
    pub fn is_running(&mut self) -> bool {
        self.child
            .as_mut()
            .is_some_and(|child| matches!(child.try_wait(), Ok(None)))
    }

    /// Stops nginx at once (SIGKILL, as a crash would): its connections, to clients and
    /// to the back end, are reset, and its port refuses connections until
    /// [`start_again`](Self::start_again).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            // An error means it is already gone.
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts nginx again on the same port and with the same back end; returns once it
    /// accepts connections.
    pub fn start_again(&mut self) {
        assert!(self.child.is_none(), "nginx is running: stop it first");
        self.spawn();
    }

    /// [`stop`](Self::stop), then [`start_again`](Self::start_again): the client-facing
    /// outage a proxy restart causes, as short as nginx allows.
    pub fn restart(&mut self) {
        self.stop();
        self.start_again();
    }

    /// Points nginx at another back end; takes effect at the next start.
    pub fn set_backend(&mut self, backend: SocketAddr) {
        self.backend = backend;
    }

    /// nginx's error log so far.
    pub fn error_log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("error.log")).unwrap_or_default()
    }

    /// Writes the configuration and starts nginx with it, waiting until it listens.
    fn spawn(&mut self) {
        let config = self.dir.path().join("nginx.conf");
        std::fs::write(
            &config,
            config_text(self.dir.path(), self.addr, self.backend),
        )
        .unwrap();
        let mut child = Command::new(&self.binary)
            .arg("-p")
            .arg(self.dir.path())
            .arg("-e")
            .arg(self.dir.path().join("error.log"))
            .arg("-c")
            .arg(&config)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|error| panic!("cannot run {}: {error}", self.binary.display()));
        let deadline = Instant::now() + STARTUP;
        loop {
            if let Ok(Some(status)) = child.try_wait() {
                panic!("nginx exited ({status}):\n{}", self.error_log());
            }
            if TcpStream::connect_timeout(&self.addr, CONNECT_INTERVAL).is_ok() {
                break;
            }
            if Instant::now() >= deadline {
                let _ = child.kill();
                panic!(
                    "nginx did not listen on {} within {STARTUP:?}:\n{}",
                    self.addr,
                    self.error_log()
                );
            }
            std::thread::sleep(CONNECT_INTERVAL);
        }
        self.child = Some(child);
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        self.stop();
    }
}

impl std::fmt::Debug for Nginx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Nginx")
            .field("addr", &self.addr)
            .field("backend", &self.backend)
            .field("dir", &self.dir.path())
            .finish()
    }
}

/// A loopback address whose port was free a moment ago.
fn free_port() -> SocketAddr {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|probe| probe.local_addr())
        .expect("a free loopback port")
}

/// The configuration: one server on `addr` passing every gRPC call to `backend`, with
/// every path nginx writes inside `dir`.
fn config_text(dir: &Path, addr: SocketAddr, backend: SocketAddr) -> String {
    let dir = dir.display();
    format!(
        "\
daemon off;
master_process off;
worker_processes 1;
pid {dir}/nginx.pid;
error_log {dir}/error.log info;
events {{
    worker_connections 1024;
}}
http {{
    access_log off;
    client_body_temp_path {dir}/temp;
    proxy_temp_path {dir}/temp;
    fastcgi_temp_path {dir}/temp;
    uwsgi_temp_path {dir}/temp;
    scgi_temp_path {dir}/temp;
    # Streams of any length, on client connections that live as long as the test:
    # nginx's defaults would refuse bodies over 1 MB and close a connection after
    # 1,000 calls.
    client_max_body_size 0;
    keepalive_requests 1000000;
    server {{
        listen {addr} http2;
        location / {{
            grpc_pass grpc://{backend};
        }}
    }}
}}
"
    )
}
