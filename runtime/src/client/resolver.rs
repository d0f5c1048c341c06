//! Where a channel's calls go: its target, parsed, and the name resolution that turns a
//! `dns:///host:port` target into addresses.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;

use http::Uri;
use http::uri::{Authority, Scheme};

use crate::error::Error;

/// The addresses a host name resolves to, as a future.
pub type ResolveFuture = Pin<Box<dyn Future<Output = io::Result<Vec<SocketAddr>>> + Send>>;

/// Resolves the host of a `dns:///host:port` target into the addresses of its
/// servers. The default uses the system's resolver (`getaddrinfo`); tests and service
/// registries can supply their own with
/// [`ChannelBuilder::resolver`](crate::client::ChannelBuilder::resolver).
pub trait Resolver: Send + Sync + 'static {
    /// Every address of `host`, with `port`.
    fn resolve(&self, host: &str, port: u16) -> ResolveFuture;
}

/// The system's resolver, through tokio.
#[derive(Debug, Default)]
pub(crate) struct SystemResolver;

impl Resolver for SystemResolver {
    fn resolve(&self, host: &str, port: u16) -> ResolveFuture {
        let host = host.to_owned();
        Box::pin(async move { Ok(tokio::net::lookup_host((host, port)).await?.collect()) })
    }
}

/// A server the channel may connect to: its name, and its address when resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Endpoint {
    /// Sent as `:authority`, and verified by TLS.
    pub(crate) authority: Authority,
    /// Where to connect; `None` to let the connection resolve `authority` itself.
    pub(crate) address: Option<SocketAddr>,
}

/// Where a channel's calls go, parsed from `"http://host:port"`, `"https://host:port"`
/// or `"dns:///host:port"` (also from an [`http::Uri`]). The `dns` scheme resolves the
/// name to every address it has, and balances over them; its optional DNS-server
/// authority (`dns://8.8.8.8/host:port`) is not supported.
#[derive(Debug, Clone)]
pub struct Target {
    /// `http` or `https`, when the target named one.
    pub(crate) scheme: Option<Scheme>,
    pub(crate) kind: TargetKind,
}

#[derive(Debug, Clone)]
pub(crate) enum TargetKind {
    /// Fixed servers: one URI, or the endpoints of a balanced list.
    Static(Vec<Endpoint>),
    /// `dns:///host:port`: every address `host` resolves to, resolved again from time
    /// to time and after connection failures.
    Dns { authority: Authority, port: u16 },
}

impl Target {
    /// The authority every call names: the name's, or a list's first server's.
    pub(crate) fn authority(&self) -> &Authority {
        match &self.kind {
            TargetKind::Static(endpoints) => &endpoints[0].authority,
            TargetKind::Dns { authority, .. } => authority,
        }
    }
}

fn invalid(reason: String) -> Error {
    Error::new("invalid destination", reason)
}

impl TryFrom<&str> for Target {
    type Error = Error;

    fn try_from(text: &str) -> Result<Target, Error> {
        let Some(rest) = text.strip_prefix("dns:") else {
            let uri: Uri = text
                .parse()
                .map_err(|error| invalid(format!("{text}: {error}")))?;
            return Target::try_from(uri);
        };
        let name = match rest.strip_prefix("//") {
            Some(rest) => rest.strip_prefix('/').ok_or_else(|| {
                invalid(format!(
                    "{text}: a DNS server in the target is not supported; use dns:///host:port"
                ))
            })?,
            None => rest,
        };
        let authority: Authority = name
            .parse()
            .map_err(|_| invalid(format!("{text}: expected dns:///host:port")))?;
        let port = authority
            .port_u16()
            .ok_or_else(|| invalid(format!("{text}: the port is missing")))?;
        Ok(Target {
            scheme: None,
            kind: TargetKind::Dns { authority, port },
        })
    }
}

impl TryFrom<String> for Target {
    type Error = Error;

    fn try_from(text: String) -> Result<Target, Error> {
        Target::try_from(text.as_str())
    }
}

impl TryFrom<&String> for Target {
    type Error = Error;

    fn try_from(text: &String) -> Result<Target, Error> {
        Target::try_from(text.as_str())
    }
}

impl TryFrom<Uri> for Target {
    type Error = Error;

    fn try_from(uri: Uri) -> Result<Target, Error> {
        let text = uri.to_string();
        let parts = uri.into_parts();
        let authority = parts
            .authority
            .ok_or_else(|| invalid(format!("{text}: missing host and port")))?;
        match &parts.scheme {
            Some(scheme) if *scheme != Scheme::HTTP && *scheme != Scheme::HTTPS => {
                return Err(invalid(format!(
                    "unsupported scheme {scheme}: use http, https or dns"
                )));
            }
            _ => {}
        }
        Ok(Target {
            scheme: parts.scheme,
            kind: TargetKind::Static(vec![Endpoint {
                authority,
                address: None,
            }]),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Target, Error> {
        Target::try_from(text)
    }

    #[test]
    fn dns_targets_name_a_host_and_port() {
        for text in ["dns:///backend.example:50051", "dns:backend.example:50051"] {
            match parse(text).unwrap().kind {
                TargetKind::Dns { authority, port } => {
                    assert_eq!(authority.as_str(), "backend.example:50051");
                    assert_eq!(port, 50051);
                }
                TargetKind::Static(_) => panic!("expected a DNS target"),
            }
        }
    }

    #[test]
    fn bad_targets_are_refused_with_the_reason() {
        let no_port = parse("dns:///backend.example").err().unwrap();
        assert!(no_port.to_string().contains("port is missing"), "{no_port}");
        let server = parse("dns://8.8.8.8/backend.example:1").err().unwrap();
        assert!(server.to_string().contains("not supported"), "{server}");
        let scheme = parse("ftp://host:1").err().unwrap();
        assert!(
            scheme.to_string().contains("unsupported scheme"),
            "{scheme}"
        );
    }

    #[test]
    fn http_targets_keep_their_scheme() {
        let target = parse("https://host:443").unwrap();
        assert_eq!(target.scheme, Some(Scheme::HTTPS));
        assert!(matches!(target.kind, TargetKind::Static(ref e) if e.len() == 1));
    }
}
