//! The retry settings of a gRPC service config in its JSON form (gRFC A2 and A6):
//! `methodConfig[].name[]` with `retryPolicy`, and `retryThrottling`. Other fields (load
//! balancing, timeouts, …) are left for whoever reads them; errors are one line and
//! name the field at fault, as `methodConfig[0].retryPolicy.maxAttempts`.

use std::time::Duration;

use serde_json::{Map, Value};

use super::retry::{CODE_NAMES, MethodPolicies, RetryPolicy, ThrottlingSettings};
use crate::status::Code;

/// What a service config says about retries.
#[derive(Debug)]
pub(crate) struct RetrySection {
    pub(crate) policies: MethodPolicies,
    pub(crate) throttling: Option<ThrottlingSettings>,
}

/// Reads the retry settings of the service config `json`.
pub(crate) fn parse_retry_section(json: &str) -> Result<RetrySection, String> {
    let value: Value =
        serde_json::from_str(json).map_err(|error| format!("not valid JSON: {error}"))?;
    let root = object(&value, "the service config")?;
    let mut policies = MethodPolicies::default();
    if let Some(configs) = root.get("methodConfig") {
        for (index, config) in array(configs, "methodConfig")?.iter().enumerate() {
            method_config(config, &format!("methodConfig[{index}]"), &mut policies)?;
        }
    }
    let throttling = match root.get("retryThrottling") {
        Some(throttling) => Some(retry_throttling(throttling, "retryThrottling")?),
        None => None,
    };
    Ok(RetrySection {
        policies,
        throttling,
    })
}

/// One `methodConfig` entry: its policy (or none) under each of its names.
fn method_config(value: &Value, path: &str, policies: &mut MethodPolicies) -> Result<(), String> {
    let config = object(value, path)?;
    if config.contains_key("hedgingPolicy") {
        return Err(format!("{path}.hedgingPolicy: hedging is not supported"));
    }
    let policy = match config.get("retryPolicy") {
        Some(policy) => Some(retry_policy(policy, &format!("{path}.retryPolicy"))?),
        None => None,
    };
    let Some(names) = config.get("name") else {
        return Ok(());
    };
    for (index, name) in array(names, &format!("{path}.name"))?.iter().enumerate() {
        let path = format!("{path}.name[{index}]");
        let name = object(name, &path)?;
        let service = optional_string(name, "service", &path)?;
        let method = optional_string(name, "method", &path)?;
        let key = match (service, method) {
            (service, "") => service.to_owned(),
            ("", _) => return Err(format!("{path}.method: a method needs its service")),
            (service, method) => format!("{service}/{method}"),
        };
        if policies.set(&key, policy) {
            return Err(format!("{path}: {key:?} is named twice"));
        }
    }
    Ok(())
}

fn retry_policy(value: &Value, path: &str) -> Result<RetryPolicy, String> {
    let fields = object(value, path)?;
    let field = |name: &str| {
        let path = format!("{path}.{name}");
        match fields.get(name) {
            Some(value) => Ok((value, path)),
            None => Err(format!("{path}: missing")),
        }
    };
    let (value, at) = field("maxAttempts")?;
    let max_attempts = value
        .as_u64()
        .ok_or_else(|| format!("{at}: expected a whole number, got {value}"))?;
    let (value, at) = field("initialBackoff")?;
    let initial_backoff = duration(value, &at)?;
    let (value, at) = field("maxBackoff")?;
    let max_backoff = duration(value, &at)?;
    let (value, at) = field("backoffMultiplier")?;
    let backoff_multiplier = number(value, &at)?;
    let (value, at) = field("retryableStatusCodes")?;
    let codes = array(value, &at)?
        .iter()
        .enumerate()
        .map(|(index, code)| status_code(code, &format!("{at}[{index}]")))
        .collect::<Result<Vec<_>, _>>()?;
    let policy = RetryPolicy::default()
        .max_attempts(u32::try_from(max_attempts).unwrap_or(u32::MAX))
        .initial_backoff(initial_backoff)
        .max_backoff(max_backoff)
        .backoff_multiplier(backoff_multiplier)
        .retryable_status_codes(codes);
    policy
        .validate()
        .map_err(|error| format!("{path}.{error}"))?;
    Ok(policy)
}

fn retry_throttling(value: &Value, path: &str) -> Result<ThrottlingSettings, String> {
    let fields = object(value, path)?;
    let field = |name: &str| {
        let path = format!("{path}.{name}");
        match fields.get(name) {
            Some(value) => number(value, &path),
            None => Err(format!("{path}: missing")),
        }
    };
    let settings = ThrottlingSettings {
        max_tokens: field("maxTokens")?,
        token_ratio: field("tokenRatio")?,
    };
    settings
        .validate()
        .map_err(|error| format!("{path}.{error}"))?;
    Ok(settings)
}

fn object<'a>(value: &'a Value, path: &str) -> Result<&'a Map<String, Value>, String> {
    value
        .as_object()
        .ok_or_else(|| format!("{path}: expected an object, got {value}"))
}

fn array<'a>(value: &'a Value, path: &str) -> Result<&'a Vec<Value>, String> {
    value
        .as_array()
        .ok_or_else(|| format!("{path}: expected a list, got {value}"))
}

fn number(value: &Value, path: &str) -> Result<f64, String> {
    value
        .as_f64()
        .ok_or_else(|| format!("{path}: expected a number, got {value}"))
}

/// A string field that may be absent (empty then).
fn optional_string<'a>(
    fields: &'a Map<String, Value>,
    name: &str,
    path: &str,
) -> Result<&'a str, String> {
    match fields.get(name) {
        None => Ok(""),
        Some(value) => value
            .as_str()
            .ok_or_else(|| format!("{path}.{name}: expected a string, got {value}")),
    }
}

/// A duration in protobuf's JSON form: seconds with up to 9 decimals, then `s`.
fn duration(value: &Value, path: &str) -> Result<Duration, String> {
    value
        .as_str()
        .and_then(parse_duration)
        .ok_or_else(|| format!("{path}: expected a duration such as \"0.5s\", got {value}"))
}

fn parse_duration(text: &str) -> Option<Duration> {
    let number = text.strip_suffix('s')?;
    let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
    let digits = |part: &str| part.bytes().all(|byte| byte.is_ascii_digit());
    if (whole.is_empty() && fraction.is_empty()) || fraction.len() > 9 {
        return None;
    }
    if !digits(whole) || !digits(fraction) {
        return None;
    }
    let seconds = if whole.is_empty() {
        0
    } else {
        whole.parse().ok()?
    };
    let nanos = if fraction.is_empty() {
        0
    } else {
        format!("{fraction:0<9}").parse().ok()?
    };
    Some(Duration::new(seconds, nanos))
}

/// A status code, by name (`"UNAVAILABLE"`) or number (`14`); not `OK`.
fn status_code(value: &Value, path: &str) -> Result<Code, String> {
    let number = match value {
        Value::String(name) => CODE_NAMES.iter().position(|known| known == name),
        Value::Number(number) => number
            .as_u64()
            .and_then(|number| usize::try_from(number).ok())
            .filter(|number| *number < CODE_NAMES.len()),
        _ => None,
    };
    match number.and_then(|number| i32::try_from(number).ok()) {
        Some(0) => Err(format!("{path}: OK is not a failure to retry")),
        Some(number) => Ok(Code::from_i32(number)),
        None => Err(format!("{path}: expected a status code, got {value}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RETRY_POLICY: &str = r#""retryPolicy": {
        "maxAttempts": 9,
        "initialBackoff": ".25s",
        "maxBackoff": "2s",
        "backoffMultiplier": 1.5,
        "retryableStatusCodes": ["UNAVAILABLE", 10]
    }"#;

    #[test]
    fn reads_policies_and_throttling() {
        let json = format!(
            r#"{{
                "loadBalancingConfig": [{{"round_robin": {{}}}}],
                "methodConfig": [
                    {{"name": [{{"service": "pkg.Svc"}}], {RETRY_POLICY}}},
                    {{"name": [{{"service": "pkg.Svc", "method": "Once"}}]}},
                    {{"name": [{{}}], {RETRY_POLICY}}}
                ],
                "retryThrottling": {{"maxTokens": 10, "tokenRatio": 0.1}}
            }}"#
        );
        let section = parse_retry_section(&json).unwrap();
        let expected = RetryPolicy::default()
            .max_attempts(5)
            .initial_backoff(Duration::from_millis(250))
            .max_backoff(Duration::from_secs(2))
            .backoff_multiplier(1.5)
            .retryable_status_codes([Code::Unavailable, Code::Aborted]);
        let policies = &section.policies;
        assert_eq!(policies.find("/pkg.Svc/Call"), Some(&expected));
        assert_eq!(policies.find("/pkg.Svc/Once"), None);
        assert_eq!(policies.find("/other.Svc/Call"), Some(&expected));
        assert_eq!(
            section.throttling,
            Some(ThrottlingSettings {
                max_tokens: 10.0,
                token_ratio: 0.1
            })
        );
    }

    #[test]
    fn errors_are_one_line_and_name_the_field() {
        let policy = |body: &str| {
            format!(
                r#"{{"methodConfig": [{{"name": [{{"service": "s"}}], "retryPolicy": {body}}}]}}"#
            )
        };
        let valid = r#""initialBackoff": "1s", "maxBackoff": "1s", "backoffMultiplier": 2, "retryableStatusCodes": ["UNAVAILABLE"]"#;
        let cases = [
            ("[1", "not valid JSON"),
            ("[]", "the service config: expected an object"),
            (r#"{"methodConfig": {}}"#, "methodConfig: expected a list"),
            (
                &policy(&format!(r#"{{"maxAttempts": 1, {valid}}}"#)),
                "methodConfig[0].retryPolicy.maxAttempts must be at least 2",
            ),
            (
                &policy(&format!(r#"{{"maxAttempts": "3", {valid}}}"#)),
                "methodConfig[0].retryPolicy.maxAttempts: expected a whole number",
            ),
            (
                &policy(r#"{"maxAttempts": 3}"#),
                "methodConfig[0].retryPolicy.initialBackoff: missing",
            ),
            (
                &policy(
                    r#"{"maxAttempts": 3, "initialBackoff": "1m", "maxBackoff": "1s", "backoffMultiplier": 2, "retryableStatusCodes": []}"#,
                ),
                "methodConfig[0].retryPolicy.initialBackoff: expected a duration",
            ),
            (
                &policy(
                    r#"{"maxAttempts": 3, "initialBackoff": "1s", "maxBackoff": "1s", "backoffMultiplier": 2, "retryableStatusCodes": []}"#,
                ),
                "methodConfig[0].retryPolicy.retryableStatusCodes must name a code",
            ),
            (
                &policy(
                    r#"{"maxAttempts": 3, "initialBackoff": "1s", "maxBackoff": "1s", "backoffMultiplier": 2, "retryableStatusCodes": ["UNAVAILABLE", "unavailable"]}"#,
                ),
                "methodConfig[0].retryPolicy.retryableStatusCodes[1]: expected a status code",
            ),
            (
                &policy(
                    r#"{"maxAttempts": 3, "initialBackoff": "1s", "maxBackoff": "0s", "backoffMultiplier": 2, "retryableStatusCodes": [14]}"#,
                ),
                "methodConfig[0].retryPolicy.maxBackoff must be more than zero",
            ),
            (
                r#"{"methodConfig": [{"name": [{"method": "M"}]}]}"#,
                "methodConfig[0].name[0].method: a method needs its service",
            ),
            (
                r#"{"methodConfig": [{"name": [{"service": "s"}]}, {"name": [{"service": "s"}]}]}"#,
                "methodConfig[1].name[0]: \"s\" is named twice",
            ),
            (
                r#"{"methodConfig": [{"name": [{}], "hedgingPolicy": {}}]}"#,
                "methodConfig[0].hedgingPolicy: hedging is not supported",
            ),
            (
                r#"{"retryThrottling": {"maxTokens": 10}}"#,
                "retryThrottling.tokenRatio: missing",
            ),
            (
                r#"{"retryThrottling": {"maxTokens": 1001, "tokenRatio": 1}}"#,
                "retryThrottling.maxTokens must be more than 0 and at most 1000",
            ),
        ];
        for (json, expected) in cases {
            let error = parse_retry_section(json).unwrap_err();
            assert!(error.starts_with(expected), "{json}: {error}");
            assert!(!error.contains('\n'), "{error}");
        }
    }

    #[test]
    fn durations_follow_protobuf_json() {
        assert_eq!(parse_duration("1s"), Some(Duration::from_secs(1)));
        assert_eq!(parse_duration("0.5s"), Some(Duration::from_millis(500)));
        assert_eq!(parse_duration(".01s"), Some(Duration::from_millis(10)));
        assert_eq!(parse_duration("1.000000001s"), Some(Duration::new(1, 1)));
        for invalid in ["1", "s", ".s", "-1s", "1.0000000001s", "1e3s", "1ms"] {
            assert_eq!(parse_duration(invalid), None, "{invalid}");
        }
    }
}
