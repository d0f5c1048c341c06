//! Retries of failed calls under per-method policies (gRFC A6): the channel's settings
//! for them, and the attempts of a call. The policies, throttle and replayed request
//! bodies themselves are in `protocol`.

use tokio::time::Instant;

use super::Grpc;
use super::builder::ChannelBuilder;
use crate::error::Error;
use crate::protocol::client_call::{HeadFailure, Outgoing, ResponseHead};
use crate::protocol::deadline::{blame_deadline, within_deadline};
use crate::protocol::replay::Replay;
use crate::protocol::retry::{Retries, RetryPolicy, ThrottlingSettings, attempt_head};
use crate::protocol::retry_json::parse_retry_section;
use crate::protocol::wire::Pushback;
use crate::status::Status;
use crate::transport::body::Body;

impl ChannelBuilder {
    /// Takes the retry settings of a gRPC service config in its JSON form, as grpc-go's
    /// `WithDefaultServiceConfig` does: `retryPolicy` per `methodConfig[].name[]` entry
    /// (`{"service", "method"}` for a method, `{"service"}` for every method of a
    /// service, `{}` for every method named nowhere else) and `retryThrottling`. Other
    /// fields are ignored. Replaces the retry policies and throttling set before.
    ///
    /// ```
    /// # fn main() -> Result<(), rsrpc::Error> {
    /// let builder = rsrpc::Channel::builder("http://127.0.0.1:50051")?
    ///     .default_service_config(r#"{
    ///         "methodConfig": [{
    ///             "name": [{"service": "helloworld.Greeter"}],
    ///             "retryPolicy": {
    ///                 "maxAttempts": 4,
    ///                 "initialBackoff": "0.1s",
    ///                 "maxBackoff": "1s",
    ///                 "backoffMultiplier": 2,
    ///                 "retryableStatusCodes": ["UNAVAILABLE"]
    ///             }
    ///         }],
    ///         "retryThrottling": {"maxTokens": 10, "tokenRatio": 0.1}
    ///     }"#)?;
    /// # drop(builder);
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// An invalid config is refused with a one-line error naming the field at fault,
    /// such as `methodConfig[0].retryPolicy.maxAttempts must be at least 2`.
    pub fn default_service_config(mut self, json: &str) -> Result<Self, Error> {
        let section = parse_retry_section(json)
            .map_err(|error| Error::new("invalid service config", error))?;
        self.retry.policies = section.policies;
        self.retry.throttling = section.throttling;
        Ok(self)
    }

    /// Retries the calls `name` designates under `policy`: `"package.Service/Method"`
    /// (a leading `/` is allowed), `"package.Service"` for every method of the service,
    /// or `""` for every method named nowhere else; the most specific name wins, as in
    /// a service config. An invalid policy makes [`connect`](Self::connect) and
    /// [`connect_lazy`](Self::connect_lazy) fail.
    pub fn retry_policy(mut self, name: &str, policy: RetryPolicy) -> Self {
        self.retry.policies.set(name, Some(policy));
        self
    }

    /// Throttles the channel's retries as gRPC's `retryThrottling` does: the channel
    /// holds `max_tokens` tokens (at most 1000); each failure with a retryable code
    /// costs one, each call on the channel that succeeds earns `token_ratio` back (a
    /// streaming response counts once its headers arrive), and calls are retried only
    /// while more than half the tokens are left.
    pub fn retry_throttling(mut self, max_tokens: u32, token_ratio: f64) -> Self {
        self.retry.throttling = Some(ThrottlingSettings {
            max_tokens: f64::from(max_tokens),
            token_ratio,
        });
        self
    }

    /// The most bytes of request messages a call keeps to send again in a retry
    /// (default 256 KiB, as grpc-go's `MaxRetryRPCBufferSize`). A call whose request
    /// outgrows it is no longer retried.
    pub fn max_retry_rpc_buffer_size(mut self, bytes: usize) -> Self {
        self.retry.max_buffer_size = bytes;
        self
    }
}

impl<C> Grpc<C> {
    /// Starts a call that `policy` retries: attempts follow one another, each after a
    /// backoff (or the wait the server's `grpc-retry-pushback-ms` asks for), until one
    /// gets response headers (or a Trailers-Only success), fails in a way that is not
    /// retried, or the deadline passes.
    pub(super) async fn start_retrying(
        &self,
        mut outgoing: Outgoing,
        path: &'static str,
        retries: &Retries,
        policy: RetryPolicy,
        deadline: Option<Instant>,
        wait_for_ready: bool,
    ) -> Result<ResponseHead, Status> {
        let body = std::mem::replace(&mut outgoing.body, Body::empty());
        let shape = outgoing.shape;
        let (first, request_guard) =
            outgoing.into_http(self.channel.uri(path), &self.config.codec, deadline);
        let (first, _) = first.into_parts();
        let (mut replay, mut body) = Replay::start(body, retries.max_buffer_size());
        let attempts = async {
            let (mut made, mut backoffs) = (0, 0);
            let mut transparent_retry_left = true;
            loop {
                let request = http::Request::from_parts(attempt_head(&first, made, deadline), body);
                made += 1;
                // Unprocessed attempts come back here, where the replay can send them.
                let sent = self
                    .channel
                    .send(request, shape, wait_for_ready, || None)
                    .await;
                let (status, pushback) = match sent {
                    Ok(response) => {
                        match ResponseHead::check_attempt(response, &self.config.codec, deadline) {
                            Ok(head) => {
                                replay.commit();
                                return Ok(head);
                            }
                            Err(HeadFailure::TrailersOnly(status, pushback)) => (status, pushback),
                            Err(HeadFailure::Headers(status)) => return Err(status),
                        }
                    }
                    Err(error) if error.unprocessed && transparent_retry_left => {
                        // Not processed by the server: sent once more, outside the
                        // policy's count, as gRPC's transparent retry.
                        transparent_retry_left = false;
                        match replay.next_attempt() {
                            Some(next) => {
                                made -= 1;
                                body = next;
                                continue;
                            }
                            None => return Err(error.status),
                        }
                    }
                    Err(error) => (
                        blame_deadline(error.status, deadline, true),
                        Pushback::Unset,
                    ),
                };
                // A request no longer kept whole ends the retries before the throttle
                // counts the failure, as in grpc-go.
                let Some(next) = replay.next_attempt() else {
                    return Err(status);
                };
                let code = status.code();
                let Some(wait) = retries.retry_after(&policy, code, pushback, made, &mut backoffs)
                else {
                    return Err(status);
                };
                body = next;
                tokio::time::sleep(wait).await;
            }
        };
        let head = within_deadline(deadline, attempts)
            .await
            .map_err(|status| blame_deadline(status, deadline, true))?;
        Ok(head.holding(request_guard))
    }
}
