//! Doc attributes for generated items.

use proc_macro2::TokenStream;
use prost_build::Comments;
use quote::quote;

/// Renders protobuf comments as doc lines (the text after `///`).
///
/// Rendering goes through prost's own `Comments::append_with_indent`, so
/// service docs get the same sanitizing (URLs, brackets) as message docs.
/// Detached comments are dropped: prost emits them as plain `//` comments,
/// which have no place in a token stream.
pub fn comment_lines(comments: &Comments) -> Vec<String> {
    let mut rendered = String::new();
    comments.append_with_indent(0, &mut rendered);
    rendered
        .lines()
        .filter_map(|line| line.strip_prefix("///"))
        .map(str::to_owned)
        .collect()
}

/// Turns doc lines into `#[doc = "..."]` attributes.
pub fn attributes(lines: &[String]) -> TokenStream {
    quote! { #( #[doc = #lines] )* }
}

/// `lines`, or the single line `fallback` if there are none, so generated
/// items are documented even when the `.proto` is not.
pub fn lines_or(lines: &[String], fallback: &str) -> Vec<String> {
    if lines.is_empty() {
        vec![format!(" {fallback}")]
    } else {
        lines.to_vec()
    }
}

/// A single-line doc attribute; `text` gets the usual leading space.
pub fn line(text: &str) -> TokenStream {
    let text = format!(" {text}");
    quote! { #[doc = #text] }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_doc_comments_and_drops_detached_ones() {
        let comments = Comments {
            leading_detached: vec![vec!["detached".to_owned()]],
            leading: vec!["Gets a [feature].".to_owned(), String::new()],
            trailing: vec!["See https://example.com".to_owned()],
        };
        assert_eq!(
            comment_lines(&comments),
            [
                " Gets a \\[feature\\].",
                "",
                "",
                " See <https://example.com>"
            ]
        );
    }

    #[test]
    fn renders_doc_attributes() {
        let lines = [" a".to_owned(), String::new()];
        assert_eq!(
            attributes(&lines).to_string(),
            r#"# [doc = " a"] # [doc = ""]"#
        );
        assert_eq!(line("b").to_string(), r#"# [doc = " b"]"#);
    }

    #[test]
    fn falls_back_only_without_lines() {
        assert_eq!(lines_or(&[], "Default."), [" Default."]);
        assert_eq!(lines_or(&[" Given.".to_owned()], "Default."), [" Given."]);
    }
}
