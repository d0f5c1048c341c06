//! Starting and stopping the benchmark processes, each pinned to its own CPU.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant};

use super::cpu_cap::CpuCap;
use super::h2load::H2load;
use crate::report::Report;
use crate::server::Implementation;

/// How long a server may take to print its address.
const START_TIMEOUT: Duration = Duration::from_secs(15);
/// How long a server may take to exit after SIGTERM before it is killed.
const STOP_TIMEOUT: Duration = Duration::from_secs(5);
/// The same two under a wrapper such as valgrind, which starts and exits slowly.
const WRAPPED_TIMEOUT: Duration = Duration::from_secs(60);

/// Where the binaries are and which CPUs the server and the load generator get.
#[derive(Debug, Clone)]
pub struct Launcher {
    /// Directory holding `bench-server` and `bench-load`.
    pub bin_dir: PathBuf,
    /// h2load, the other load generator (figure 1h).
    pub h2load: H2load,
    /// CPU for the server and CPU for the load generator, when `taskset` is there.
    pub cpus: Option<(usize, usize)>,
    /// Tokio worker threads of the server.
    pub server_threads: usize,
    /// The CPU cap servers can be placed under, or why there is none.
    pub cap: Result<Arc<CpuCap>, String>,
}

impl Launcher {
    /// Runs the release binaries of the workspace at `root`, pinned to separate CPUs when
    /// `taskset` exists and there are two CPUs or more: the server on the last CPU, the
    /// load generator on the first. Capped servers get `cap_share` of a CPU.
    pub fn new(root: &Path, server_threads: usize, cap_share: f64) -> Launcher {
        let cpus = std::thread::available_parallelism().map_or(1, usize::from);
        let taskset = Command::new("taskset")
            .arg("-V")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|status| status.success());
        Launcher {
            bin_dir: root.join("target/release"),
            h2load: H2load::under(root),
            cpus: (taskset && cpus >= 2).then_some((cpus - 1, 0)),
            server_threads,
            cap: CpuCap::create(cap_share)
                .map(Arc::new)
                .map_err(|e| format!("cannot create a CPU-capped cgroup: {e}")),
        }
    }

    /// The command line that starts `program` with `args` under `wrapper` (a command
    /// that runs the rest of the line, such as valgrind; may be empty), pinned to `cpu`
    /// if pinning.
    fn command(
        &self,
        cpu: Option<usize>,
        wrapper: &[String],
        program: &Path,
        args: &[String],
    ) -> Vec<String> {
        let mut line = Vec::new();
        if let Some(cpu) = cpu {
            line.extend(["taskset".to_owned(), "-c".to_owned(), cpu.to_string()]);
        }
        line.extend(wrapper.iter().cloned());
        line.push(program.display().to_string());
        line.extend(args.iter().cloned());
        line
    }

    /// The server's command line.
    pub fn server_command(&self, implementation: Implementation) -> Vec<String> {
        self.server_command_under(implementation, &[])
    }

    /// The server's command line under `wrapper` (see [`Launcher::start_server_under`]).
    pub fn server_command_under(
        &self,
        implementation: Implementation,
        wrapper: &[String],
    ) -> Vec<String> {
        let args = [
            "--impl",
            implementation.name(),
            "--addr",
            "127.0.0.1:0",
            "--threads",
            &self.server_threads.to_string(),
        ];
        let args: Vec<String> = args.iter().map(|arg| (*arg).to_owned()).collect();
        let cpu = self.cpus.map(|(server, _)| server);
        self.command(cpu, wrapper, &self.bin_dir.join("bench-server"), &args)
    }

    /// The load generator's command line against `addr` and `pid`, with `mode_args`.
    pub fn load_command(&self, addr: &str, pid: &str, mode_args: &[String]) -> Vec<String> {
        self.load_command_under(addr, pid, mode_args, &[])
    }

    /// The load generator's command line under `wrapper` (see [`Launcher::run_load_under`]).
    pub fn load_command_under(
        &self,
        addr: &str,
        pid: &str,
        mode_args: &[String],
        wrapper: &[String],
    ) -> Vec<String> {
        let mut args = vec![
            "--addr".to_owned(),
            addr.to_owned(),
            "--server-pid".to_owned(),
            pid.to_owned(),
        ];
        args.extend(mode_args.iter().cloned());
        let cpu = self.cpus.map(|(_, load)| load);
        self.command(cpu, wrapper, &self.bin_dir.join("bench-load"), &args)
    }

    /// h2load's command line with `args`, on the load generator's CPU.
    pub fn h2load_command(&self, args: &[String]) -> Vec<String> {
        let cpu = self.cpus.map(|(_, load)| load);
        self.command(cpu, &[], &self.h2load.binary, args)
    }

    /// Starts a server, under the CPU cap if `capped`, and waits for its address.
    pub fn start_server(
        &self,
        implementation: Implementation,
        capped: bool,
    ) -> Result<RunningServer, String> {
        self.start(self.server_command(implementation), capped, START_TIMEOUT)
    }

    /// Starts a server under `wrapper`, a command that runs the rest of the line (such
    /// as valgrind), and waits for its address, allowing for a slow start.
    pub fn start_server_under(
        &self,
        implementation: Implementation,
        wrapper: &[String],
    ) -> Result<RunningServer, String> {
        let line = self.server_command_under(implementation, wrapper);
        self.start(line, false, WRAPPED_TIMEOUT)
    }

    /// Starts the server `line`, under the CPU cap if `capped`, and waits up to
    /// `timeout` for its address.
    fn start(
        &self,
        line: Vec<String>,
        capped: bool,
        timeout: Duration,
    ) -> Result<RunningServer, String> {
        // The server's stderr goes to ours: it only writes there when something fails.
        let mut child = spawn(&line, Stdio::inherit())?;
        if capped {
            let placed = self.cap.clone().and_then(|cap| {
                cap.place(child.id())
                    .map_err(|e| format!("cannot cap the server's CPU: {e}"))
            });
            if let Err(error) = placed {
                stop(&mut child, STOP_TIMEOUT);
                return Err(error);
            }
        }
        let stdout = child.stdout.take().expect("stdout is piped");
        // Read on a thread, so that a server that never prints cannot hang the run.
        let (sender, receiver) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(addr) = line.strip_prefix("listening on ") {
                    let _ = sender.send(addr.trim().to_owned());
                }
            }
        });
        let addr = receiver
            .recv_timeout(timeout)
            .map_err(|_| format!("{} printed no address", line.join(" ")))
            .and_then(|addr| addr.parse().map_err(|e| format!("address {addr}: {e}")));
        match addr {
            Ok(addr) => Ok(RunningServer { child, addr }),
            Err(error) => {
                stop(&mut child, STOP_TIMEOUT);
                Err(error)
            }
        }
    }

    /// Runs the load generator against `server` and reads its report. A load that
    /// outlives `timeout` is killed.
    pub fn run_load(
        &self,
        server: &RunningServer,
        mode_args: &[String],
        timeout: Duration,
    ) -> Result<Report, String> {
        self.run_load_under(server, mode_args, &[], timeout)
    }

    /// Runs the load generator under `wrapper`, a command that runs the rest of the line
    /// (such as valgrind; may be empty), as [`Launcher::run_load`] does.
    pub fn run_load_under(
        &self,
        server: &RunningServer,
        mode_args: &[String],
        wrapper: &[String],
        timeout: Duration,
    ) -> Result<Report, String> {
        let line = self.load_command_under(
            &server.addr.to_string(),
            &server.pid().to_string(),
            mode_args,
            wrapper,
        );
        let output = run_to_end("bench-load", &line, timeout)?;
        let stdout = String::from_utf8_lossy(&output.stdout);
        let last = stdout.lines().last().unwrap_or("");
        serde_json::from_str(last).map_err(|_| {
            format!(
                "bench-load printed no report: {}",
                String::from_utf8_lossy(&output.stderr).trim()
            )
        })
    }
}

/// Runs `line`, the command line of `what`, to its end and returns what it printed; it
/// is killed if it outlives `timeout`.
pub fn run_to_end(what: &str, line: &[String], timeout: Duration) -> Result<Output, String> {
    let mut child = spawn(line, Stdio::piped())?;
    let deadline = Instant::now() + timeout;
    while child.try_wait().map_err(|e| e.to_string())?.is_none() {
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!("{what} took longer than {timeout:?}"));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().map_err(|e| e.to_string())
}

/// Starts `line` with stdout piped and stderr as given.
fn spawn(line: &[String], stderr: Stdio) -> Result<Child, String> {
    Command::new(&line[0])
        .args(&line[1..])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(stderr)
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", line[0]))
}

/// A server that printed its address. Stopped when dropped.
pub struct RunningServer {
    child: Child,
    /// Where it listens.
    pub addr: SocketAddr,
}

impl RunningServer {
    /// Its process id (taskset execs the server, so the id is the server's).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Stops it with SIGTERM and waits for it to exit by itself, allowing for a slow
    /// exit (a wrapper such as valgrind writes its results then); an error if it had to
    /// be killed.
    pub fn stop_slowly(mut self) -> Result<(), String> {
        if stop(&mut self.child, WRAPPED_TIMEOUT) {
            Ok(())
        } else {
            Err(format!(
                "the server did not exit within {WRAPPED_TIMEOUT:?} of SIGTERM"
            ))
        }
    }
}

impl Drop for RunningServer {
    fn drop(&mut self) {
        stop(&mut self.child, STOP_TIMEOUT);
    }
}

/// Sends SIGTERM, then kills the process if it has not exited within `timeout`; returns
/// whether it exited by itself.
fn stop(child: &mut Child, timeout: Duration) -> bool {
    if let Ok(Some(_)) = child.try_wait() {
        return true;
    }
    if let Ok(pid) = i32::try_from(child.id()) {
        // SAFETY: kill only sends a signal, to our own child process.
        unsafe { libc::kill(pid, libc::SIGTERM) };
    }
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
    false
}

/// `root`-relative display of a command line, for the results file, quoted for a shell.
pub fn display(line: &[String], root: &Path) -> String {
    let root = format!("{}/", root.display());
    line.iter()
        .map(|word| shell_word(word.strip_prefix(&root).unwrap_or(word)))
        .collect::<Vec<_>>()
        .join(" ")
}

/// `word` as a shell reads it back: in single quotes if it holds anything but plain
/// characters.
fn shell_word(word: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "-_./:=@%+,".contains(c);
    if !word.is_empty() && word.chars().all(plain) {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn displays_relative_quoted_words() {
        let line = [
            "/r/target/x",
            "-H",
            "te: trailers",
            "it's",
            "127.0.0.1:PORT",
        ]
        .map(str::to_owned);
        assert_eq!(
            display(&line, Path::new("/r")),
            r"target/x -H 'te: trailers' 'it'\''s' 127.0.0.1:PORT"
        );
    }
}
