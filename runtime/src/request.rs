//! [`Request`]: a message (or stream of messages) with its metadata and deadline.

use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use futures_core::Stream;
use tokio::time::Instant;

use crate::codec::{CompressionChoice, CompressionSwitch, Encoding};
use crate::metadata::MetadataMap;

/// A gRPC request: the message (or, for client-streaming calls, the stream of messages),
/// its metadata and its deadline.
#[derive(Debug)]
pub struct Request<T> {
    metadata: MetadataMap,
    message: T,
    timeout: Option<Duration>,
    deadline: Option<Instant>,
    extensions: http::Extensions,
    compression: CompressionChoice,
    wait_for_ready: bool,
    peer: Peer,
}

impl<T> Request<T> {
    /// A request with no metadata and no deadline.
    pub fn new(message: T) -> Request<T> {
        Request {
            metadata: MetadataMap::new(),
            message,
            timeout: None,
            deadline: None,
            extensions: http::Extensions::new(),
            compression: CompressionChoice::default(),
            wait_for_ready: false,
            peer: Peer::default(),
        }
    }

    pub(crate) fn from_parts(
        metadata: MetadataMap,
        message: T,
        deadline: Option<Instant>,
        extensions: http::Extensions,
        peer: Peer,
    ) -> Request<T> {
        Request {
            metadata,
            message,
            timeout: None,
            deadline,
            extensions,
            compression: CompressionChoice::default(),
            wait_for_ready: false,
            peer,
        }
    }

    /// The message.
    pub fn get_ref(&self) -> &T {
        &self.message
    }

    /// The message, mutably.
    pub fn get_mut(&mut self) -> &mut T {
        &mut self.message
    }

    /// Takes the message, dropping metadata.
    pub fn into_inner(self) -> T {
        self.message
    }

    /// The request metadata (custom headers).
    pub fn metadata(&self) -> &MetadataMap {
        &self.metadata
    }

    /// The request metadata, mutably.
    pub fn metadata_mut(&mut self) -> &mut MetadataMap {
        &mut self.metadata
    }

    /// Extensions: per-request values set by the transport or by middleware.
    pub fn extensions(&self) -> &http::Extensions {
        &self.extensions
    }

    /// Extensions, mutably.
    pub fn extensions_mut(&mut self) -> &mut http::Extensions {
        &mut self.extensions
    }

    /// For a request received by [`Server`](crate::Server), the client's address.
    pub fn remote_addr(&self) -> Option<SocketAddr> {
        self.peer.addr()
    }

    /// For a request received by [`Server`](crate::Server) over TLS, the certificate
    /// chain the client presented, its own certificate first. `None` over cleartext, and
    /// over TLS when the client sent no certificate (see
    /// [`ServerTlsConfig::client_auth_optional`](crate::transport::ServerTlsConfig::client_auth_optional)).
    ///
    /// The chain is shared by every call of the connection: this clones an [`Arc`].
    pub fn peer_certs(&self) -> Option<Arc<[Certificate]>> {
        self.peer.certs()
    }

    /// Sets a timeout for an outgoing call, counted from when the call is sent. The peer
    /// learns it through `grpc-timeout`; the call fails with `DEADLINE_EXCEEDED` once it
    /// passes, whether or not the peer answers.
    pub fn set_timeout(&mut self, timeout: Duration) {
        self.timeout = Some(timeout);
    }

    /// Sets an absolute deadline. Passing an incoming request's [`deadline`](Self::deadline)
    /// propagates it to outgoing calls made by a handler.
    pub fn set_deadline(&mut self, deadline: Option<Instant>) {
        self.deadline = deadline;
    }

    /// The deadline: for an incoming request, the one the client sent; for an outgoing one,
    /// the one set with [`set_deadline`](Self::set_deadline).
    pub fn deadline(&self) -> Option<Instant> {
        self.deadline
    }

    /// Chooses the compression of this outgoing request's messages, overriding the
    /// client's: `Some(encoding)` compresses, `None` sends them uncompressed.
    pub fn set_compression(&mut self, encoding: Option<Encoding>) {
        self.compression.encoding = Some(encoding);
    }

    /// A switch that turns compression on and off between the messages of this outgoing request's
    /// stream, when the call compresses.
    pub fn compression_switch(&mut self) -> CompressionSwitch {
        self.compression.switch()
    }

    /// Makes an outgoing call wait for the channel to be ready, until its deadline,
    /// instead of failing at once with `UNAVAILABLE` while the channel is in transient
    /// failure (grpc-go's `WaitForReady`). Off by default: calls fail fast.
    pub fn set_wait_for_ready(&mut self, wait_for_ready: bool) {
        self.wait_for_ready = wait_for_ready;
    }

    /// Whether the call waits for a ready channel: see
    /// [`set_wait_for_ready`](Self::set_wait_for_ready).
    pub fn wait_for_ready(&self) -> bool {
        self.wait_for_ready
    }

    /// The compression chosen with [`set_compression`](Self::set_compression) and
    /// [`compression_switch`](Self::compression_switch).
    pub(crate) fn compression(&self) -> CompressionChoice {
        self.compression.clone()
    }

    /// The effective deadline of an outgoing call sent now: the earlier of timeout and
    /// deadline.
    pub(crate) fn effective_deadline(&self, default_timeout: Option<Duration>) -> Option<Instant> {
        let from_timeout = self
            .timeout
            .or(default_timeout)
            .and_then(|timeout| Instant::now().checked_add(timeout));
        match (from_timeout, self.deadline) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Splits into metadata, message and extensions.
    pub(crate) fn into_parts(self) -> (MetadataMap, T, http::Extensions) {
        (self.metadata, self.message, self.extensions)
    }

    /// Takes the message out, keeping everything else.
    pub(crate) fn split(self) -> (Request<()>, T) {
        let message = self.message;
        let rest = Request {
            metadata: self.metadata,
            message: (),
            timeout: self.timeout,
            deadline: self.deadline,
            extensions: self.extensions,
            compression: self.compression,
            wait_for_ready: self.wait_for_ready,
            peer: self.peer,
        };
        (rest, message)
    }

    /// Replaces the message, keeping metadata, timeout and deadline.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Request<U> {
        Request {
            metadata: self.metadata,
            message: f(self.message),
            timeout: self.timeout,
            deadline: self.deadline,
            extensions: self.extensions,
            compression: self.compression,
            wait_for_ready: self.wait_for_ready,
            peer: self.peer,
        }
    }
}

impl Request<()> {
    /// A copy of an outgoing request's head, to send it again.
    pub(crate) fn duplicate(&self) -> Request<()> {
        Request {
            metadata: self.metadata.clone(),
            message: (),
            timeout: self.timeout,
            deadline: self.deadline,
            extensions: self.extensions.clone(),
            compression: self.compression.clone(),
            wait_for_ready: self.wait_for_ready,
            peer: self.peer.clone(),
        }
    }
}

/// Who sent a request received by the server: the address and TLS certificates of its
/// connection. Router, body and request carry it from the accept loop to the handler.
///
/// One pointer, shared by the connection's calls: every call's future holds it, and a
/// wider value there costs more than a reference count.
#[derive(Debug, Clone, Default)]
pub(crate) struct Peer(Option<Arc<PeerInfo>>);

#[derive(Debug)]
struct PeerInfo {
    addr: SocketAddr,
    /// `None` when the connection is cleartext or the client sent no certificate.
    certs: Option<Arc<[Certificate]>>,
}

impl Peer {
    /// The client at `addr`, with the certificate chain it presented, if any.
    pub(crate) fn new(addr: SocketAddr, certs: Option<Arc<[Certificate]>>) -> Peer {
        Peer(Some(Arc::new(PeerInfo { addr, certs })))
    }

    /// The client's address.
    pub(crate) fn addr(&self) -> Option<SocketAddr> {
        self.0.as_ref().map(|info| info.addr)
    }

    /// The client's certificate chain.
    pub(crate) fn certs(&self) -> Option<Arc<[Certificate]>> {
        self.0.as_ref()?.certs.clone()
    }
}

/// An X.509 certificate in DER, as a TLS peer presented it.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Certificate {
    der: Vec<u8>,
}

impl Certificate {
    /// A certificate from its DER encoding.
    pub(crate) fn from_der(der: impl Into<Vec<u8>>) -> Certificate {
        Certificate { der: der.into() }
    }

    /// The DER encoding.
    pub fn as_der(&self) -> &[u8] {
        &self.der
    }

    /// Takes the DER encoding.
    pub fn into_der(self) -> Vec<u8> {
        self.der
    }
}

impl AsRef<[u8]> for Certificate {
    fn as_ref(&self) -> &[u8] {
        &self.der
    }
}

impl fmt::Debug for Certificate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Certificate")
            .field("der_len", &self.der.len())
            .finish()
    }
}

/// Converts a message, or an already built [`Request`], into a request. Lets client
/// methods take either.
pub trait IntoRequest<T> {
    /// Wraps the message if needed.
    fn into_request(self) -> Request<T>;
}

impl<T: prost::Message> IntoRequest<T> for T {
    fn into_request(self) -> Request<T> {
        Request::new(self)
    }
}

impl<T> IntoRequest<T> for Request<T> {
    fn into_request(self) -> Request<T> {
        self
    }
}

/// Converts a stream of messages, or a [`Request`] wrapping one, into a streaming request.
pub trait IntoStreamingRequest {
    /// The message type.
    type Message;
    /// The stream type.
    type Stream: Stream<Item = Self::Message> + Send + 'static;
    /// Wraps the stream if needed.
    fn into_streaming_request(self) -> Request<Self::Stream>;
}

impl<S> IntoStreamingRequest for S
where
    S: Stream + Send + 'static,
{
    type Message = S::Item;
    type Stream = S;

    fn into_streaming_request(self) -> Request<S> {
        Request::new(self)
    }
}

impl<S> IntoStreamingRequest for Request<S>
where
    S: Stream + Send + 'static,
{
    type Message = S::Item;
    type Stream = S;

    fn into_streaming_request(self) -> Request<S> {
        self
    }
}
