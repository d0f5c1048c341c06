//! A TCP proxy for tests that can stop forwarding without closing anything: the peer
//! behind its connections turns into a black hole, as when a network path dies silently.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::{JoinHandle, JoinSet};

/// Forwards connections to a target; [`black_hole`](Self::black_hole) silences those
/// open at the time. Stops everything when dropped.
pub struct BlackHoleProxy {
    /// The address clients connect to.
    pub addr: SocketAddr,
    /// One flag per connection accepted so far.
    connections: Arc<Mutex<Vec<Arc<AtomicBool>>>>,
    accepting: JoinHandle<()>,
}

impl BlackHoleProxy {
    /// A proxy on an ephemeral loopback port to `target`.
    pub async fn start(target: SocketAddr) -> BlackHoleProxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let connections = Arc::default();
        let accepting = tokio::spawn(accept(listener, target, Arc::clone(&connections)));
        BlackHoleProxy {
            addr,
            connections,
            accepting,
        }
    }

    /// From now on the connections open so far forward nothing more, either way, and
    /// nothing is closed. Later connections are forwarded as usual.
    pub fn black_hole(&self) {
        for holed in lock(&self.connections).iter() {
            holed.store(true, Ordering::Release);
        }
    }

    /// How many connections the proxy has accepted.
    pub fn connections(&self) -> usize {
        lock(&self.connections).len()
    }
}

impl Drop for BlackHoleProxy {
    fn drop(&mut self) {
        // The accept task owns the forwarding tasks: aborting it drops them all.
        self.accepting.abort();
    }
}

/// Accepts clients and forwards each, both ways, to a connection of its own to `target`.
async fn accept(
    listener: TcpListener,
    target: SocketAddr,
    connections: Arc<Mutex<Vec<Arc<AtomicBool>>>>,
) {
    let mut forwarding = JoinSet::new();
    while let Ok((client, _)) = listener.accept().await {
        let Ok(server) = TcpStream::connect(target).await else {
            continue;
        };
        let holed = Arc::new(AtomicBool::new(false));
        lock(&connections).push(Arc::clone(&holed));
        let (client_read, client_write) = client.into_split();
        let (server_read, server_write) = server.into_split();
        forwarding.spawn(forward(client_read, server_write, Arc::clone(&holed)));
        forwarding.spawn(forward(server_read, client_write, Arc::clone(&holed)));
    }
}

/// The connections' flags; a panic elsewhere cannot leave a list of flags torn.
fn lock(connections: &Mutex<Vec<Arc<AtomicBool>>>) -> MutexGuard<'_, Vec<Arc<AtomicBool>>> {
    connections
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Copies `from` to `to` until `from` ends, or forever holds what it read once holed.
async fn forward(
    mut from: impl AsyncReadExt + Unpin,
    mut to: impl AsyncWriteExt + Unpin,
    holed: Arc<AtomicBool>,
) {
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let read = match from.read(&mut buf).await {
            Ok(0) | Err(_) => return drop(to.shutdown().await),
            Ok(read) => read,
        };
        if holed.load(Ordering::Acquire) {
            // Neither forward nor close: the connection stays open and silent.
            return std::future::pending().await;
        }
        if to.write_all(&buf[..read]).await.is_err() {
            return;
        }
    }
}
