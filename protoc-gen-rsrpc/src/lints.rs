//! Touches to a generated file so that it passes clippy with `-D warnings`, whatever the
//! `.proto` says: its comments' list markdown, and the shapes clippy frowns on that the
//! schema dictates (a oneof with one big variant, a message named like its package).

/// `content` (a generated file of the package whose last component is `module_name`),
/// with list continuation lines in doc comments indented to their item's text and
/// schema-made lints allowed where they fire.
pub fn tidy(content: &str, module_name: &str) -> String {
    let inception = format!("pub mod {module_name} {{");
    let mut out = String::with_capacity(content.len());
    let mut docs: Vec<&str> = Vec::new();
    for line in content.lines() {
        if line.trim_start().starts_with("///") {
            docs.push(line);
            continue;
        }
        push_doc_block(&mut out, &docs);
        docs.clear();
        // Boxing a oneof's big variant is the user's call (`boxed=PATH`), not clippy's.
        if line.trim_end().ends_with("::prost::Oneof)]") {
            let indent = &line[..line.len() - line.trim_start().len()];
            out.push_str(indent);
            out.push_str("#[allow(clippy::large_enum_variant)]\n");
        }
        // prost nests message `ServiceConfig`'s types in `service_config`, even inside
        // package `…service_config`.
        if line == inception {
            out.push_str("#[allow(clippy::module_inception)]\n");
        }
        out.push_str(line);
        out.push('\n');
    }
    push_doc_block(&mut out, &docs);
    out
}

/// Appends a run of `///` lines, list continuations re-indented.
fn push_doc_block(out: &mut String, lines: &[&str]) {
    let Some(first) = lines.first() else { return };
    let prefix_len = first.len() - first.trim_start().len() + "///".len();
    if !lines.iter().all(|line| line.len() >= prefix_len) {
        // Mixed indentation is not prost's output: keep it as it is.
        lines.iter().for_each(|line| push_line(out, line));
        return;
    }
    let texts: Vec<&str> = lines.iter().map(|line| &line[prefix_len..]).collect();
    for (line, text) in lines.iter().zip(indent_list_continuations(&texts)) {
        out.push_str(&line[..prefix_len]);
        out.push_str(&text);
        out.push('\n');
    }
}

fn push_line(out: &mut String, line: &str) {
    out.push_str(line);
    out.push('\n');
}

/// Doc text lines with each continuation line of a list item's paragraph indented to the
/// item's text, as clippy's `doc_lazy_continuation` and `doc_overindented_list_items`
/// want. Markdown ignores a continuation line's indentation, so the rendering is the same.
fn indent_list_continuations(lines: &[&str]) -> Vec<String> {
    let base = lines
        .iter()
        .filter(|line| !line.trim().is_empty())
        .map(|line| indent_of(line))
        .min()
        .unwrap_or(0);
    // The text columns of the open list items, innermost last.
    let mut items: Vec<usize> = Vec::new();
    let mut after_blank = true;
    let mut verbatim = false; // in a fenced or indented code block
    let mut fence = false;
    let mut out = Vec::with_capacity(lines.len());
    for line in lines {
        let trimmed = line.trim_start();
        let indent = indent_of(line);
        if trimmed.starts_with("```") || trimmed.starts_with("~~~") {
            fence = !fence;
            items.clear();
        } else if trimmed.is_empty() {
            after_blank = true;
            verbatim = false;
        } else if fence || verbatim {
            // Code keeps its indentation.
        } else if after_blank && indent >= items.last().copied().unwrap_or(base) + 4 {
            verbatim = true;
        } else if let Some(text_column) = list_item_text_column(line) {
            items.retain(|&column| column <= indent);
            items.push(text_column);
            after_blank = false;
        } else if after_blank {
            items.retain(|&column| column <= indent);
            after_blank = false;
        } else if let Some(&column) = items.last() {
            out.push(format!("{}{trimmed}", " ".repeat(column)));
            continue;
        }
        out.push((*line).to_owned());
    }
    out
}

fn indent_of(line: &str) -> usize {
    line.len() - line.trim_start_matches(' ').len()
}

/// The column where a list item's text starts, if `line` opens one (`- `, `* `, `+ `,
/// `1. `, `1) `).
fn list_item_text_column(line: &str) -> Option<usize> {
    let indent = indent_of(line);
    let rest = &line[indent..];
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    let marker = match rest.as_bytes().get(digits) {
        Some(b'-' | b'*' | b'+') if digits == 0 => 1,
        Some(b'.' | b')') if (1..=9).contains(&digits) => digits + 1,
        _ => return None,
    };
    let after = &rest[marker..];
    let spaces = after.len() - after.trim_start_matches(' ').len();
    if spaces == 0 || after.trim().is_empty() {
        return None;
    }
    // Five or more spaces start an indented code block in the item: its text is one in.
    Some(indent + marker + if spaces > 4 { 1 } else { spaces })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tidy_docs(docs: &str) -> String {
        tidy(docs, "pkg")
    }

    #[test]
    fn indents_lazy_and_overindented_continuations_to_the_item() {
        let docs = concat!(
            "    /// Matches:\n",
            "    ///    - \"*\": any segment.\n",
            "    ///    - \"{x=...}\": a capture, where \"...\" is any\n",
            "    ///       template.\n",
            "    /// A custom method may follow.\n",
            "    ///\n",
            "    /// Next paragraph.\n",
        );
        assert_eq!(
            tidy_docs(docs),
            concat!(
                "    /// Matches:\n",
                "    ///    - \"*\": any segment.\n",
                "    ///    - \"{x=...}\": a capture, where \"...\" is any\n",
                "    ///      template.\n",
                "    ///      A custom method may follow.\n",
                "    ///\n",
                "    /// Next paragraph.\n",
            )
        );
    }

    #[test]
    fn follows_nested_and_numbered_items() {
        let docs = "/// 1. one\n/// two\n///    * inner\n///  more\n";
        assert_eq!(
            tidy_docs(docs),
            "/// 1. one\n///    two\n///    * inner\n///      more\n"
        );
    }

    #[test]
    fn leaves_code_and_text_outside_lists_alone() {
        let docs = concat!(
            "/// Text\n/// more text\n///\n",
            "///     - code, not a list\n///   still code\n///\n",
            "/// ```\n/// - a\n/// b\n/// ```\n",
            "/// *emphasis* is no item\n/// next\n",
        );
        assert_eq!(tidy_docs(docs), docs);
    }

    #[test]
    fn allows_large_oneofs_and_module_inception() {
        let code = concat!(
            "pub mod pkg {\n",
            "    #[derive(Clone, PartialEq, ::prost::Oneof)]\n",
            "    pub enum Kind {}\n",
            "}\n",
            "    pub mod pkg {}\n",
        );
        assert_eq!(
            tidy(code, "pkg"),
            concat!(
                "#[allow(clippy::module_inception)]\n",
                "pub mod pkg {\n",
                "    #[allow(clippy::large_enum_variant)]\n",
                "    #[derive(Clone, PartialEq, ::prost::Oneof)]\n",
                "    pub enum Kind {}\n",
                "}\n",
                "    pub mod pkg {}\n",
            )
        );
    }
}
