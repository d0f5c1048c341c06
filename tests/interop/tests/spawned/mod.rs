//! `interop-server` as a child process on a free port of 127.0.0.1, for the tests that
//! drive the binary itself (`mod spawned;` in each).

// Every test crate compiles its own copy of this module and uses only part of it.
#![allow(dead_code)]

use std::process::Stdio;

use tokio::io::{AsyncBufReadExt, BufReader, Lines};
use tokio::process::{Child, ChildStderr};

/// A running `interop-server`, killed when dropped.
pub struct InteropServer {
    pub process: Child,
    pub port: u16,
    /// What it prints after its `listening on` line.
    pub stderr: Lines<BufReader<ChildStderr>>,
}

/// Starts `interop-server` on a free port and waits until it listens.
pub async fn interop_server() -> InteropServer {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut process = tokio::process::Command::new(env!("CARGO_BIN_EXE_interop-server"))
        .arg(format!("--port={port}"))
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(process.stderr.take().unwrap()).lines();
    let listening = stderr.next_line().await.unwrap().unwrap();
    assert!(listening.contains("listening"), "{listening}");
    InteropServer {
        process,
        port,
        stderr,
    }
}
