//! Child processes with logs, timeouts, and no leaks: every child is killed when its
//! handle is dropped, so a panicking test cannot leave a server behind.

use std::ffi::{OsStr, OsString};
use std::fmt;
use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::thread;
use std::time::{Duration, Instant};

/// How often a running child is checked for exit. Short, so waiting costs little time.
const POLL_INTERVAL: Duration = Duration::from_millis(10);

/// A program with the leading arguments and environment every run of it gets
/// (for example a Python interpreter, its script, and `INTEROP_PYTHON_GEN`).
#[derive(Clone, Debug)]
pub struct Program {
    exe: PathBuf,
    args: Vec<OsString>,
    env: Vec<(OsString, OsString)>,
}

impl Program {
    /// Runs `exe` with no extra arguments or environment.
    pub fn new(exe: impl Into<PathBuf>) -> Program {
        Program {
            exe: exe.into(),
            args: Vec::new(),
            env: Vec::new(),
        }
    }

    /// Adds a leading argument.
    pub fn arg(mut self, arg: impl AsRef<OsStr>) -> Program {
        self.args.push(arg.as_ref().to_owned());
        self
    }

    /// Adds an environment variable.
    pub fn env(mut self, key: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> Program {
        self.env
            .push((key.as_ref().to_owned(), value.as_ref().to_owned()));
        self
    }

    /// A command running the program with its leading arguments and environment.
    pub fn command(&self) -> Command {
        let mut command = Command::new(&self.exe);
        command.args(&self.args).envs(self.env.iter().cloned());
        command
    }
}

/// `--name=value` as one argument, whatever bytes `value` (often a path) holds.
pub fn flag(name: &str, value: impl AsRef<OsStr>) -> OsString {
    let mut flag = OsString::from(format!("{name}="));
    flag.push(value);
    flag
}

/// A running child whose stdout and stderr go to one log file; killed and reaped on drop.
#[derive(Debug)]
pub struct Running {
    child: Child,
    log: PathBuf,
}

impl Running {
    /// Starts `command` with no stdin and both output streams appended, in order, to `log`.
    pub fn spawn(mut command: Command, log: &Path) -> io::Result<Running> {
        let file = File::create(log)?;
        command
            .stdin(Stdio::null())
            .stdout(file.try_clone()?)
            .stderr(file);
        Ok(Running {
            child: command.spawn()?,
            log: log.to_owned(),
        })
    }

    /// The child's exit status if it has exited.
    pub fn exited(&mut self) -> io::Result<Option<ExitStatus>> {
        self.child.try_wait()
    }

    /// Waits up to `timeout` for the child to exit, killing it if it does not.
    pub fn wait(mut self, timeout: Duration) -> io::Result<Finished> {
        let deadline = Instant::now() + timeout;
        let exit = loop {
            if let Some(status) = self.child.try_wait()? {
                break Exit::Status(status);
            }
            if Instant::now() >= deadline {
                self.kill();
                break Exit::TimedOut(timeout);
            }
            thread::sleep(POLL_INTERVAL);
        };
        Ok(Finished {
            exit,
            output: self.output(),
        })
    }

    /// What the child has written so far (lossily decoded).
    pub fn output(&self) -> String {
        read_log(&self.log)
    }

    /// The log file the child writes to.
    pub fn log(&self) -> &Path {
        &self.log
    }

    /// Kills the child and reaps it.
    pub fn kill(&mut self) {
        // Errors mean the child is already gone, which is what we want.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            self.kill();
        }
    }
}

/// Reads a log file, or says why it could not.
pub fn read_log(log: &Path) -> String {
    match std::fs::read(log) {
        Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
        Err(err) => format!("<could not read {}: {err}>", log.display()),
    }
}

/// How a child ended. Displays as a predicate: "ended with exit status: 1".
#[derive(Clone, Copy, Debug)]
pub enum Exit {
    /// It exited by itself.
    Status(ExitStatus),
    /// It ran past its timeout and was killed.
    TimedOut(Duration),
}

impl Exit {
    /// Whether it exited by itself with status 0.
    pub fn success(self) -> bool {
        matches!(self, Exit::Status(status) if status.success())
    }
}

impl fmt::Display for Exit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Exit::Status(status) => write!(f, "ended with {status}"),
            Exit::TimedOut(timeout) => write!(f, "was killed after the {timeout:?} timeout"),
        }
    }
}

/// A child that has ended, with everything it wrote.
#[derive(Debug)]
pub struct Finished {
    /// How it ended.
    pub exit: Exit,
    /// Its stdout and stderr, interleaved as written.
    pub output: String,
}

/// Runs `command` to completion (or `timeout`), logging its output to `log`.
pub fn run(command: Command, log: &Path, timeout: Duration) -> io::Result<Finished> {
    Running::spawn(command, log)?.wait(timeout)
}
