//! Splitting protoc's `--rsrpc_opt` string into `key[=value]` entries.

/// Splits `parameter` on unescaped commas, resolving the escapes `\,` (a
/// literal comma) and `\\` (a literal backslash).
///
/// Any other backslash is kept as written, so attribute values such as
/// `#[doc = "a\nb"]` need no extra escaping. Empty entries are skipped.
pub fn split_entries(parameter: &str) -> Vec<String> {
    let mut entries = Vec::new();
    let mut current = String::new();
    let mut chars = parameter.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.peek() {
                Some(&escaped @ (',' | '\\')) => {
                    current.push(escaped);
                    chars.next();
                }
                _ => current.push('\\'),
            },
            ',' => entries.push(std::mem::take(&mut current)),
            _ => current.push(c),
        }
    }
    entries.push(current);
    entries.retain(|entry| !entry.is_empty());
    entries
}

/// Splits an entry into its key and optional value at the first `=`.
pub fn split_key_value(entry: &str) -> (&str, Option<&str>) {
    match entry.split_once('=') {
        Some((key, value)) => (key, Some(value)),
        None => (entry, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_on_unescaped_commas() {
        assert_eq!(split_entries(""), Vec::<String>::new());
        assert_eq!(split_entries("a,b=1,,"), ["a", "b=1"]);
        assert_eq!(
            split_entries(r"type_attribute=.=#[derive(Eq\, Hash)],server"),
            ["type_attribute=.=#[derive(Eq, Hash)]", "server"]
        );
    }

    #[test]
    fn resolves_backslash_escapes() {
        assert_eq!(split_entries(r"a=x\\,b"), [r"a=x\", "b"]);
        assert_eq!(split_entries(r"a=\n\"), [r"a=\n\"]);
    }

    #[test]
    fn splits_key_value_at_first_equals() {
        assert_eq!(split_key_value("a=b=c"), ("a", Some("b=c")));
        assert_eq!(split_key_value("a"), ("a", None));
        assert_eq!(split_key_value("a="), ("a", Some("")));
    }
}
