//! Bearer-token authentication as an interceptor: the server refuses calls without a
//! valid `authorization: Bearer <token>` with `UNAUTHENTICATED`, and hands the caller's
//! name to the handler through the request's extensions; the client adds its token with
//! a channel interceptor. Runs on an ephemeral port of 127.0.0.1 and prints each outcome.

use std::collections::HashMap;
use std::sync::Arc;

use examples::helloworld::greeter_client::GreeterClient;
use examples::helloworld::greeter_server::{Greeter, GreeterServer};
use examples::helloworld::{HelloReply, HelloRequest};
use rsrpc::interceptor::Interceptor;
use rsrpc::{Channel, Code, Request, Response, Server, Status};
use tokio::net::TcpListener;

/// Who made a call: put into its extensions by [`BearerAuth`], read by the handler.
#[derive(Debug, Clone)]
struct User(String);

/// Checks `authorization: Bearer <token>` against the tokens it knows.
struct BearerAuth {
    users_by_token: HashMap<String, String>,
}

impl BearerAuth {
    fn user(&self, token: &str) -> Option<&String> {
        // Compared in constant time, so that timing does not leak how much of a token
        // matched.
        self.users_by_token
            .iter()
            .find(|(known, _)| constant_time_eq(known.as_bytes(), token.as_bytes()))
            .map(|(_, user)| user)
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0, |diff, (x, y)| diff | (x ^ y)) == 0
}

impl Interceptor for BearerAuth {
    async fn intercept(&self, mut request: Request<()>) -> Result<Request<()>, Status> {
        let header = request.metadata().get("authorization");
        let token = header
            .and_then(|value| value.strip_prefix("Bearer "))
            .ok_or_else(|| Status::unauthenticated("missing bearer token"))?;
        let user = self
            .user(token)
            .ok_or_else(|| Status::unauthenticated("invalid bearer token"))?
            .clone();
        request.extensions_mut().insert(User(user));
        Ok(request)
    }
}

/// Greets the signed-in caller.
struct SignedInGreeter;

impl Greeter for SignedInGreeter {
    async fn say_hello(
        &self,
        request: Request<HelloRequest>,
    ) -> Result<Response<HelloReply>, Status> {
        let User(user) = request
            .extensions()
            .get::<User>()
            .cloned()
            .ok_or_else(|| Status::internal("the auth interceptor did not run"))?;
        let name = request.into_inner().name;
        Ok(Response::new(HelloReply {
            message: format!("Hello {name}, signed in as {user}!"),
        }))
    }
}

/// A client whose channel sends `token` (if any) with every call.
async fn client(url: &str, token: Option<&'static str>) -> Result<GreeterClient, rsrpc::Error> {
    let mut builder = Channel::builder(url)?;
    if let Some(token) = token {
        let bearer: Arc<str> = format!("Bearer {token}").into();
        builder = builder.interceptor(move |mut request: Request<()>| {
            let bearer = Arc::clone(&bearer);
            async move {
                request
                    .metadata_mut()
                    .insert("authorization", &bearer)
                    .map_err(|error| Status::internal(error.to_string()))?;
                Ok(request)
            }
        });
    }
    Ok(GreeterClient::new(builder.connect().await?))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let auth = BearerAuth {
        users_by_token: HashMap::from([("s3cret-alice".to_owned(), "alice".to_owned())]),
    };
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}", listener.local_addr()?);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(
        Server::builder()
            .interceptor(auth)
            .add_service(GreeterServer::new(SignedInGreeter))
            .serve_with_listener(listener, async {
                let _ = stopped.await;
            }),
    );

    let cases = [
        ("no token", None, Code::Unauthenticated),
        ("a wrong token", Some("guess"), Code::Unauthenticated),
        ("alice's token", Some("s3cret-alice"), Code::Ok),
    ];
    for (what, token, expected) in cases {
        let request = HelloRequest {
            name: "world".into(),
        };
        let outcome = client(&url, token).await?.say_hello(request).await;
        let code = outcome.as_ref().map_or_else(Status::code, |_| Code::Ok);
        match &outcome {
            Ok(reply) => println!("with {what}: {}", reply.get_ref().message),
            Err(status) => println!("with {what}: {:?} ({})", status.code(), status.message()),
        }
        if code != expected {
            return Err(format!("with {what}: expected {expected:?}, got {code:?}").into());
        }
    }
    let _ = stop.send(());
    server.await??;
    Ok(())
}
