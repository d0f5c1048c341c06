//! Checks on what a server answered, common to the HTTP/2 and HTTP/1.1 callers.

use http::{HeaderMap, StatusCode};

/// The HTTP status must be 200.
pub fn http_ok(status: StatusCode) -> Result<(), String> {
    if status == StatusCode::OK {
        Ok(())
    } else {
        Err(format!("HTTP status {status}"))
    }
}

/// `Ok(true)` if `headers` hold `grpc-status: 0`, `Ok(false)` if they hold none, and an
/// error naming the status and message otherwise.
pub fn grpc_ok(headers: &HeaderMap) -> Result<bool, String> {
    match headers.get("grpc-status") {
        None => Ok(false),
        Some(status) if status == "0" => Ok(true),
        Some(status) => {
            let message = headers
                .get("grpc-message")
                .and_then(|message| message.to_str().ok())
                .unwrap_or("");
            Err(format!("grpc-status {status:?}: {message}"))
        }
    }
}

/// The call ended well: the trailers (or, for a trailers-only answer, the headers) say
/// `grpc-status: 0`.
pub fn ended_ok(headers: &HeaderMap, trailers: Option<&HeaderMap>) -> Result<(), String> {
    let in_headers = grpc_ok(headers)?;
    let in_trailers = trailers.map(grpc_ok).transpose()?.unwrap_or(false);
    if in_headers || in_trailers {
        Ok(())
    } else {
        Err("no grpc-status".to_owned())
    }
}

/// The answer carried as many bytes as expected.
pub fn length(received: usize, expected: usize) -> Result<(), String> {
    if received == expected {
        Ok(())
    } else {
        Err(format!(
            "received {received} body bytes, expected {expected}"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        pairs
            .iter()
            .map(|(name, value)| (http::HeaderName::from_static(name), value.parse().unwrap()))
            .collect()
    }

    #[test]
    fn status_in_trailers_or_headers() {
        let ok = headers(&[("grpc-status", "0")]);
        let none = HeaderMap::new();
        assert!(ended_ok(&none, Some(&ok)).is_ok());
        assert!(ended_ok(&ok, None).is_ok());
        assert!(ended_ok(&none, None).is_err());
        assert!(ended_ok(&none, Some(&none)).is_err());
    }

    #[test]
    fn failure_names_status_and_message() {
        let failed = headers(&[("grpc-status", "13"), ("grpc-message", "boom")]);
        let error = ended_ok(&HeaderMap::new(), Some(&failed)).unwrap_err();
        assert!(error.contains("13") && error.contains("boom"), "{error}");
    }
}
