//! A synthetic proto corpus for timing code generators: many files, each a package with
//! messages of every common field kind, an enum, and a service with all four call kinds.

use std::fmt::Write as _;
use std::io;
use std::path::Path;

/// How big a corpus to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shape {
    /// `.proto` files, one package and one service each.
    pub files: usize,
    /// Messages per file, at least [`MIN_MESSAGES`].
    pub messages_per_file: usize,
}

/// The services use messages `M0` to `M7`.
pub const MIN_MESSAGES: usize = 8;

impl Shape {
    /// The corpus the full figure uses: 500 files, 5,000 messages, 500 services.
    pub const FULL: Shape = Shape {
        files: 500,
        messages_per_file: 10,
    };

    /// Messages in the whole corpus.
    pub fn messages(&self) -> usize {
        self.files * self.messages_per_file
    }
}

/// Writes the corpus into `dir` (created if missing) and returns the file names,
/// relative to `dir`.
pub fn write(dir: &Path, shape: Shape) -> io::Result<Vec<String>> {
    std::fs::create_dir_all(dir)?;
    (0..shape.files)
        .map(|index| {
            let name = file_name(index);
            std::fs::write(dir.join(&name), proto_file(index, shape.messages_per_file))?;
            Ok(name)
        })
        .collect()
}

/// The name of file number `index`.
fn file_name(index: usize) -> String {
    format!("f{index:03}.proto")
}

/// One file: package `corpus.fNNN`, importing the file before it.
fn proto_file(index: usize, messages: usize) -> String {
    let messages = messages.max(MIN_MESSAGES);
    let mut out = String::new();
    let _ = writeln!(out, "// Generated benchmark corpus, file {index}.");
    out.push_str("syntax = \"proto3\";\n\n");
    let _ = writeln!(out, "package corpus.f{index:03};\n");
    if index > 0 {
        let _ = writeln!(out, "import \"{}\";\n", file_name(index - 1));
    }
    out.push_str("// A kind of thing.\nenum Kind {\n  KIND_UNSPECIFIED = 0;\n  KIND_SMALL = 1;\n  KIND_LARGE = 2;\n}\n\n");
    for message in 0..messages {
        push_message(&mut out, index, message, messages);
    }
    let _ = writeln!(out, "// Service {index}: one method of each kind.");
    let _ = writeln!(out, "service Service{index:03} {{");
    out.push_str("  // Unary.\n  rpc Get(M0) returns (M1);\n");
    out.push_str("  // Server streaming.\n  rpc List(M2) returns (stream M3);\n");
    out.push_str("  // Client streaming.\n  rpc Record(stream M4) returns (M5);\n");
    out.push_str("  // Bidirectional streaming.\n  rpc Chat(stream M6) returns (stream M7);\n");
    out.push_str("}\n");
    out
}

/// Message `M<message>`: scalars, strings, bytes, a map, a oneof, an optional, an enum,
/// and, but for the last message, a reference to the next message (a chain, never a
/// cycle) and one to the previous file's last message.
///
/// The last message refers to no other, so types nest at most one file deep: a chain
/// through all 500 files is no realistic schema, and rustc's recursion limits (layout,
/// auto traits) overflow on it with either generator.
fn push_message(out: &mut String, index: usize, message: usize, messages: usize) {
    let _ = writeln!(out, "// Message {message} of file {index}.");
    let _ = writeln!(out, "message M{message} {{");
    out.push_str("  string name = 1;\n  int64 id = 2;\n  repeated string tags = 3;\n");
    out.push_str("  map<string, int32> counts = 4;\n  bytes blob = 5;\n  double score = 6;\n");
    out.push_str("  optional uint32 maybe = 7;\n  Kind kind = 8;\n");
    let last = messages - 1;
    if message < last {
        let next = message + 1;
        let _ = writeln!(out, "  M{next} next = 9;\n  repeated M{next} items = 10;");
        if index > 0 {
            let _ = writeln!(out, "  corpus.f{:03}.M{last} previous = 11;", index - 1);
        }
    }
    out.push_str("  oneof choice {\n    string text = 12;\n    int32 number = 13;\n  }\n");
    if message == 0 {
        out.push_str(
            "  // Nested.\n  message Inner {\n    sint32 a = 1;\n    fixed64 b = 2;\n  }\n",
        );
        out.push_str("  Inner inner = 14;\n");
    }
    out.push_str("}\n\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_file_imports_nothing_later_ones_import_the_previous() {
        let first = proto_file(0, 10);
        assert!(!first.contains("import"));
        assert!(!first.contains("previous"));
        let second = proto_file(1, 10);
        assert!(second.contains("import \"f000.proto\";"));
        assert!(second.contains("corpus.f000.M9 previous = 11;"));
        assert_eq!(second.matches("previous").count(), 9);
        assert_eq!(second.matches("\nmessage M").count(), 10);
        assert!(second.contains("service Service001 {"));
    }

    #[test]
    fn full_shape_counts() {
        assert_eq!(Shape::FULL.messages(), 5000);
    }
}
