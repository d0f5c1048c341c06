//! The optional `FILE_DESCRIPTOR_SET` constant of a package's file: its
//! descriptors, encoded, for server reflection.

use std::collections::HashSet;

use prost::Message;
use prost_types::{FileDescriptorProto, FileDescriptorSet, SourceCodeInfo};

/// Lines of the byte string are broken after about this many columns.
const LINE_WIDTH: usize = 96;

/// The Rust item declaring the encoded set of `files` (the files of one
/// package) and everything they import, taken from `all` (a request's
/// `proto_file`, dependencies first), in `all`'s order.
pub fn render(files: &[&FileDescriptorProto], all: &[FileDescriptorProto]) -> String {
    let set = FileDescriptorSet {
        file: with_imports(files, all)
            .into_iter()
            .map(without_uncommented_locations)
            .collect(),
    };
    format!(
        "/// The encoded `google.protobuf.FileDescriptorSet` of this package's files and\n\
         /// all they import, to register with server reflection.\n\
         pub const FILE_DESCRIPTOR_SET: &[u8] = {};\n",
        byte_string(&set.encode_to_vec())
    )
}

/// `files` and their transitive imports, walked without recursion, in the
/// order of `all`. Imports missing from `all` are left out: protoc always
/// sends them, and reflection reports what it cannot find.
fn with_imports<'a>(
    files: &[&FileDescriptorProto],
    all: &'a [FileDescriptorProto],
) -> Vec<&'a FileDescriptorProto> {
    let mut wanted: HashSet<&str> = files.iter().map(|file| file.name()).collect();
    let mut pending: Vec<&str> = wanted.iter().copied().collect();
    while let Some(name) = pending.pop() {
        let Some(file) = all.iter().find(|file| file.name() == name) else {
            continue;
        };
        for import in &file.dependency {
            if wanted.insert(import) {
                pending.push(import);
            }
        }
    }
    all.iter()
        .filter(|file| wanted.contains(file.name()))
        .collect()
}

/// `file` with only the source locations that carry comments (what
/// `grpcurl describe` shows): the others only locate text in the `.proto`,
/// and would make the set several times larger.
fn without_uncommented_locations(file: &FileDescriptorProto) -> FileDescriptorProto {
    let mut file = file.clone();
    file.source_code_info = file.source_code_info.take().and_then(|info| {
        let location: Vec<_> = info
            .location
            .into_iter()
            .filter(|location| {
                location.leading_comments.is_some()
                    || location.trailing_comments.is_some()
                    || !location.leading_detached_comments.is_empty()
            })
            .collect();
        (!location.is_empty()).then_some(SourceCodeInfo { location })
    });
    file
}

/// `bytes` as a Rust byte string literal, printable ASCII as itself, broken
/// into lines with `\` continuations.
fn byte_string(bytes: &[u8]) -> String {
    let mut out = String::from("b\"\\\n");
    let mut line = 0;
    for &byte in bytes {
        if line >= LINE_WIDTH {
            out.push_str("\\\n");
            line = 0;
        }
        let escaped = match byte {
            // A continuation swallows the next line's leading spaces.
            b' ' if line == 0 => "\\x20".to_owned(),
            b'"' => "\\\"".to_owned(),
            b'\\' => "\\\\".to_owned(),
            b' '..=b'~' => char::from(byte).to_string(),
            _ => format!("\\x{byte:02x}"),
        };
        out.push_str(&escaped);
        line += escaped.len();
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use prost_types::source_code_info::Location;

    use super::*;

    fn file(name: &str, imports: &[&str]) -> FileDescriptorProto {
        FileDescriptorProto {
            name: Some(name.to_owned()),
            dependency: imports.iter().map(|import| import.to_string()).collect(),
            ..FileDescriptorProto::default()
        }
    }

    #[test]
    fn takes_transitive_imports_in_request_order() {
        let all = [
            file("base.proto", &[]),
            file("unrelated.proto", &[]),
            file("mid.proto", &["base.proto"]),
            file("top.proto", &["mid.proto", "missing.proto"]),
        ];
        let names: Vec<&str> = with_imports(&[&all[3]], &all)
            .iter()
            .map(|file| file.name())
            .collect();
        assert_eq!(names, ["base.proto", "mid.proto", "top.proto"]);
    }

    #[test]
    fn keeps_only_commented_locations() {
        let located = |comment: Option<&str>| Location {
            span: vec![1, 2, 3],
            leading_comments: comment.map(str::to_owned),
            ..Location::default()
        };
        let mut proto = file("a.proto", &[]);
        proto.source_code_info = Some(SourceCodeInfo {
            location: vec![located(None), located(Some(" Doc.\n")), located(None)],
        });
        let kept = without_uncommented_locations(&proto)
            .source_code_info
            .unwrap();
        assert_eq!(kept.location, [located(Some(" Doc.\n"))]);
        proto.source_code_info = Some(SourceCodeInfo {
            location: vec![located(None)],
        });
        assert_eq!(without_uncommented_locations(&proto).source_code_info, None);
    }

    #[test]
    fn escapes_bytes_and_leading_spaces() {
        assert_eq!(
            byte_string(b"a \"\\\n\xff"),
            "b\"\\\na \\\"\\\\\\x0a\\xff\""
        );
        assert_eq!(byte_string(b" x"), "b\"\\\n\\x20x\"");
        let long = [b' '; LINE_WIDTH + 1];
        let rendered = byte_string(&long);
        let lines: Vec<&str> = rendered.lines().collect();
        assert_eq!(lines.len(), 3, "{rendered}");
        assert!(lines[2].starts_with("\\x20"), "{rendered}");
    }
}
