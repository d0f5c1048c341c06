//! Rust names for protobuf services and methods.
//!
//! Casing follows prost (heck), and keywords are escaped the way prost
//! escapes them, so generated services sit comfortably next to prost's
//! messages: raw identifiers (`r#type`) where Rust allows them, an `_` suffix
//! (`self_`) where it does not.

use heck::{ToSnakeCase, ToUpperCamelCase};
use proc_macro2::{Ident, Span};

/// Names the generated client defines itself; an rpc with one of these
/// snake-case names is renamed on the client (see [`client_method`]).
const CLIENT_HELPERS: &[&str] = &["new", "connect", "with_config", "into_inner"];

/// Keywords usable as raw identifiers (`r#match`), across editions 2015–2024.
const RAW_KEYWORDS: &[&str] = &[
    "abstract", "as", "async", "await", "become", "box", "break", "const", "continue", "do", "dyn",
    "else", "enum", "false", "final", "fn", "for", "gen", "if", "impl", "in", "let", "loop",
    "macro", "match", "mod", "move", "mut", "override", "priv", "pub", "ref", "return", "static",
    "struct", "trait", "true", "try", "type", "typeof", "unsafe", "unsized", "use", "virtual",
    "where", "while", "yield",
];

/// Keywords that cannot be raw identifiers, so they get an `_` suffix.
const SUFFIXED_KEYWORDS: &[&str] = &["_", "crate", "extern", "self", "Self", "super"];

/// Converts a protobuf name to an escaped `snake_case` Rust identifier string.
pub fn snake(name: &str) -> String {
    escape(name.to_snake_case())
}

/// Converts a protobuf name to an escaped `UpperCamelCase` Rust identifier string.
pub fn upper_camel(name: &str) -> String {
    escape(name.to_upper_camel_case())
}

/// Converts a protobuf name to `UpperCamelCase` with `suffix` appended.
///
/// No escaping is needed: no keyword ends in an upper-case suffix.
pub fn upper_camel_with_suffix(name: &str, suffix: &str) -> String {
    format!("{}{suffix}", name.to_upper_camel_case())
}

/// Converts a protobuf name to `snake_case` with `suffix` appended (e.g. `_server`).
///
/// No escaping is needed: no keyword ends in an `_`-prefixed suffix.
pub fn snake_with_suffix(name: &str, suffix: &str) -> String {
    format!("{}{suffix}", name.to_snake_case())
}

/// The client method name for an rpc whose server-side name is `snake`.
///
/// Returns the name and whether it was renamed: an rpc named like one of the
/// client's own helpers gets an `_rpc` suffix so both stay reachable.
pub fn client_method(snake: &str) -> (String, bool) {
    if CLIENT_HELPERS.contains(&snake) {
        (format!("{snake}_rpc"), true)
    } else {
        (snake.to_owned(), false)
    }
}

/// Escapes a cased name that may be a Rust keyword.
fn escape(name: String) -> String {
    if RAW_KEYWORDS.contains(&name.as_str()) {
        format!("r#{name}")
    } else if SUFFIXED_KEYWORDS.contains(&name.as_str()) {
        format!("{name}_")
    } else {
        name
    }
}

/// Turns an (escaped) identifier string into an [`Ident`].
///
/// Returns `None` instead of panicking when `name` is not a valid identifier,
/// e.g. a name made only of underscores, which cases to the empty string.
pub fn ident(name: &str) -> Option<Ident> {
    let (raw, bare) = match name.strip_prefix("r#") {
        Some(bare) => (true, bare),
        None => (false, name),
    };
    let mut chars = bare.chars();
    let starts_well = chars
        .next()
        .is_some_and(|c| c == '_' || c.is_ascii_alphabetic());
    let valid = starts_well
        && chars.all(|c| c == '_' || c.is_ascii_alphanumeric())
        && bare != "_"
        && !(raw && SUFFIXED_KEYWORDS.contains(&bare));
    if !valid {
        return None;
    }
    Some(if raw {
        Ident::new_raw(bare, Span::call_site())
    } else {
        Ident::new(bare, Span::call_site())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cases_and_escapes_like_prost() {
        assert_eq!(snake("GetFeature"), "get_feature");
        assert_eq!(snake("Type"), "r#type");
        assert_eq!(snake("Self"), "self_");
        assert_eq!(snake("XMLHttpRequest"), "xml_http_request");
        assert_eq!(upper_camel("route_guide"), "RouteGuide");
        assert_eq!(upper_camel("self"), "Self_");
        assert_eq!(
            upper_camel_with_suffix("list_features", "Stream"),
            "ListFeaturesStream"
        );
        assert_eq!(snake_with_suffix("Self", "_server"), "self_server");
    }

    #[test]
    fn renames_client_helpers_only() {
        assert_eq!(client_method("new"), ("new_rpc".to_owned(), true));
        assert_eq!(
            client_method("into_inner"),
            ("into_inner_rpc".to_owned(), true)
        );
        assert_eq!(client_method("newer"), ("newer".to_owned(), false));
    }

    #[test]
    fn ident_accepts_escaped_names_and_rejects_invalid_ones() {
        assert_eq!(
            ident("r#type").map(|i| i.to_string()).as_deref(),
            Some("r#type")
        );
        assert_eq!(
            ident("self_").map(|i| i.to_string()).as_deref(),
            Some("self_")
        );
        for bad in ["", "_", "r#", "r#self", "1abc", "a-b", "a b", "é"] {
            assert!(ident(bad).is_none(), "{bad:?} should be rejected");
        }
    }
}
