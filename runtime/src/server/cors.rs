//! [`Cors`]: cross-origin requests from browsers, for gRPC-Web and Connect clients on
//! pages served from other origins.
//!
//! A browser asks first (a preflight `OPTIONS` request) whether a page of an origin may
//! call; the server answers for every service at once. On the calls themselves it names
//! the allowed origin, and exposes the response's headers to the page's script: the
//! `grpc-*` and `connect-*` headers, and custom metadata, whichever the response has.

use std::sync::Arc;
use std::time::Duration;

use http::header::{
    ACCESS_CONTROL_ALLOW_CREDENTIALS, ACCESS_CONTROL_ALLOW_HEADERS, ACCESS_CONTROL_ALLOW_METHODS,
    ACCESS_CONTROL_ALLOW_ORIGIN, ACCESS_CONTROL_EXPOSE_HEADERS, ACCESS_CONTROL_MAX_AGE,
    ACCESS_CONTROL_REQUEST_HEADERS, ACCESS_CONTROL_REQUEST_METHOD, ORIGIN, VARY,
};
use http::{HeaderMap, HeaderValue, Method, StatusCode};

use crate::transport::body::Body;

/// Default for [`Cors::max_age`]: how long browsers may keep a preflight's answer.
const DEFAULT_MAX_AGE: Duration = Duration::from_secs(2 * 60 * 60);

/// The response headers a page's script reads without their being exposed.
const SAFELISTED: [&str; 7] = [
    "cache-control",
    "content-language",
    "content-length",
    "content-type",
    "expires",
    "last-modified",
    "pragma",
];

/// Which origins' pages may call the server from a browser: set with
/// [`Server::cors`](crate::Server::cors). Without it, browsers refuse pages of other
/// origins the responses.
#[derive(Debug, Clone)]
pub struct Cors {
    origins: Origins,
    max_age: Duration,
    allow_credentials: bool,
}

#[derive(Debug, Clone)]
enum Origins {
    Any,
    List(Arc<[HeaderValue]>),
}

impl Cors {
    /// Pages of any origin may call.
    pub fn allow_any_origin() -> Cors {
        Cors::new(Origins::Any)
    }

    /// Pages of these origins (`"https://app.example.com"`, scheme, host and port as the
    /// browser sends them in `Origin`) may call; others are refused.
    pub fn allow_origins<I>(origins: I) -> Cors
    where
        I: IntoIterator,
        I::Item: AsRef<str>,
    {
        let origins = origins
            .into_iter()
            .filter_map(|origin| HeaderValue::from_str(origin.as_ref()).ok())
            .collect();
        Cors::new(Origins::List(origins))
    }

    fn new(origins: Origins) -> Cors {
        Cors {
            origins,
            max_age: DEFAULT_MAX_AGE,
            allow_credentials: false,
        }
    }

    /// How long a browser may keep a preflight's answer (default 2 hours; browsers cap
    /// it, Chromium at 2 hours).
    pub fn max_age(mut self, max_age: Duration) -> Cors {
        self.max_age = max_age;
        self
    }

    /// Whether pages may send cookies and HTTP authentication with their calls (default
    /// false). The allowed origin is then always named, never `*`.
    pub fn allow_credentials(mut self, allow: bool) -> Cors {
        self.allow_credentials = allow;
        self
    }

    /// The origin of a cross-origin request this policy allows, as the response must
    /// name it.
    fn allowed(&self, request_headers: &HeaderMap) -> Option<HeaderValue> {
        let origin = request_headers.get(ORIGIN)?;
        match &self.origins {
            Origins::Any if !self.allow_credentials => Some(HeaderValue::from_static("*")),
            Origins::Any => Some(origin.clone()),
            Origins::List(list) => list.contains(origin).then(|| origin.clone()),
        }
    }

    /// What to do with a request: answer it here (a preflight), or serve it and add
    /// headers to its response (a cross-origin call).
    pub(crate) fn check(&self, method: &Method, headers: &HeaderMap) -> CorsCheck {
        if !headers.contains_key(ORIGIN) {
            return CorsCheck::SameOrigin;
        }
        let allowed = self.allowed(headers);
        let preflight =
            method == Method::OPTIONS && headers.contains_key(ACCESS_CONTROL_REQUEST_METHOD);
        match (preflight, allowed) {
            (true, Some(origin)) => CorsCheck::Answer(self.preflight(origin, headers)),
            (true, None) => CorsCheck::Answer(refused()),
            (false, Some(origin)) => CorsCheck::Allowed(origin),
            // The browser withholds the response from the page.
            (false, None) => CorsCheck::SameOrigin,
        }
    }

    /// The answer to a preflight: the methods and the headers asked for are allowed.
    fn preflight(&self, origin: HeaderValue, request: &HeaderMap) -> http::Response<Body> {
        let mut response = http::Response::new(Body::empty());
        *response.status_mut() = StatusCode::NO_CONTENT;
        let headers = response.headers_mut();
        self.name_origin(headers, origin);
        let methods = HeaderValue::from_static("POST, GET");
        headers.insert(ACCESS_CONTROL_ALLOW_METHODS, methods);
        if let Some(asked) = request.get(ACCESS_CONTROL_REQUEST_HEADERS) {
            headers.insert(ACCESS_CONTROL_ALLOW_HEADERS, asked.clone());
        }
        headers.insert(
            ACCESS_CONTROL_MAX_AGE,
            HeaderValue::from(self.max_age.as_secs()),
        );
        let vary = "origin, access-control-request-method, access-control-request-headers";
        headers.insert(VARY, HeaderValue::from_static(vary));
        response
    }

    /// Says on every response that it depends on the request's origin (so that caches
    /// keep one per origin); on a cross-origin call's, names the allowed origin and
    /// exposes the response's headers to the page.
    pub(crate) fn decorate(&self, headers: &mut HeaderMap, origin: Option<HeaderValue>) {
        let Some(origin) = origin else {
            headers.append(VARY, HeaderValue::from_static("origin"));
            return;
        };
        let exposed: Vec<&str> = headers
            .keys()
            .map(http::HeaderName::as_str)
            .filter(|name| !SAFELISTED.contains(name) && !name.starts_with("access-control-"))
            .collect();
        if !exposed.is_empty() {
            if let Ok(value) = HeaderValue::from_str(&exposed.join(", ")) {
                headers.insert(ACCESS_CONTROL_EXPOSE_HEADERS, value);
            }
        }
        self.name_origin(headers, origin);
        headers.append(VARY, HeaderValue::from_static("origin"));
    }

    fn name_origin(&self, headers: &mut HeaderMap, origin: HeaderValue) {
        headers.insert(ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        if self.allow_credentials {
            headers.insert(
                ACCESS_CONTROL_ALLOW_CREDENTIALS,
                HeaderValue::from_static("true"),
            );
        }
    }
}

/// What [`Cors::check`] found.
pub(crate) enum CorsCheck {
    /// Not a cross-origin request this policy allows: served as it is.
    SameOrigin,
    /// A preflight, answered without the services.
    Answer(http::Response<Body>),
    /// A cross-origin call from this allowed origin.
    Allowed(HeaderValue),
}

/// The answer to a preflight from an origin that is not allowed: without CORS headers,
/// which the browser reads as a refusal.
fn refused() -> http::Response<Body> {
    let mut response = http::Response::new(Body::empty());
    *response.status_mut() = StatusCode::FORBIDDEN;
    let vary = "origin, access-control-request-method, access-control-request-headers";
    response
        .headers_mut()
        .insert(VARY, HeaderValue::from_static(vary));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        pairs
            .iter()
            .map(|(name, value)| {
                let name = http::HeaderName::from_static(name);
                (name, HeaderValue::from_static(value))
            })
            .collect()
    }

    #[test]
    fn preflights_of_listed_origins_are_answered_with_what_they_asked() {
        let cors = Cors::allow_origins(["https://app.example"]);
        let asked = headers(&[
            ("origin", "https://app.example"),
            ("access-control-request-method", "POST"),
            (
                "access-control-request-headers",
                "content-type, x-grpc-web, x-user-agent",
            ),
        ]);
        let CorsCheck::Answer(response) = cors.check(&Method::OPTIONS, &asked) else {
            panic!("a preflight is answered");
        };
        assert_eq!(response.status(), StatusCode::NO_CONTENT);
        let answer = response.headers();
        assert_eq!(answer[ACCESS_CONTROL_ALLOW_ORIGIN], "https://app.example");
        assert_eq!(
            answer[ACCESS_CONTROL_ALLOW_HEADERS],
            "content-type, x-grpc-web, x-user-agent"
        );
        let mut other = asked.clone();
        other.insert(ORIGIN, HeaderValue::from_static("https://evil.example"));
        let CorsCheck::Answer(response) = cors.check(&Method::OPTIONS, &other) else {
            panic!("a preflight is answered");
        };
        assert_eq!(response.status(), StatusCode::FORBIDDEN);
        assert!(!response.headers().contains_key(ACCESS_CONTROL_ALLOW_ORIGIN));
    }

    #[test]
    fn calls_expose_every_header_the_response_has() {
        let cors = Cors::allow_any_origin();
        let request = headers(&[("origin", "http://localhost:8080")]);
        let CorsCheck::Allowed(origin) = cors.check(&Method::POST, &request) else {
            panic!("an allowed call");
        };
        assert_eq!(origin, "*");
        let mut response = headers(&[
            ("content-type", "application/grpc-web+proto"),
            ("grpc-status", "5"),
            ("x-custom", "1"),
        ]);
        cors.decorate(&mut response, Some(origin));
        assert_eq!(
            response[ACCESS_CONTROL_EXPOSE_HEADERS],
            "grpc-status, x-custom"
        );
        let mut same_origin = HeaderMap::new();
        cors.decorate(&mut same_origin, None);
        assert_eq!(same_origin[VARY], "origin");
        assert!(matches!(
            cors.check(&Method::POST, &HeaderMap::new()),
            CorsCheck::SameOrigin
        ));
    }

    #[test]
    fn credentials_name_the_origin_instead_of_a_wildcard() {
        let cors = Cors::allow_any_origin().allow_credentials(true);
        let request = headers(&[("origin", "https://a.example")]);
        let CorsCheck::Allowed(origin) = cors.check(&Method::POST, &request) else {
            panic!("an allowed call");
        };
        assert_eq!(origin, "https://a.example");
    }
}
