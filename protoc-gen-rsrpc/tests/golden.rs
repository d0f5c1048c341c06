//! Golden files: the exact code the plugin generates for `examples/proto`
//! (messages, servers and clients), committed under `tests/golden/` so that
//! every change to generated code shows in review. `builder.rs` checks that
//! the build.rs API generates the same, so these are also what the examples
//! crate compiles.
//!
//! After an intended change, rewrite them with
//! `UPDATE_GOLDEN=1 cargo test -p protoc-gen-rsrpc --test golden`.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use common::{example_protos, examples_dir, generate, read_files};

/// Set to `1` to rewrite the golden files instead of comparing with them.
const UPDATE_VAR: &str = "UPDATE_GOLDEN";

/// At most this many changed lines of each side are shown per file.
const SHOWN_LINES: usize = 6;

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
}

#[test]
fn examples_match_the_golden_files() {
    let generated = generate(&example_protos(), &examples_dir(), "");
    if std::env::var(UPDATE_VAR).as_deref() == Ok("1") {
        update(&golden_dir(), &generated);
        return;
    }
    let mismatches = mismatches(&golden_files(&golden_dir()), &generated);
    assert!(
        mismatches.is_empty(),
        "generated code differs from tests/golden/:\n\n{}\n\
         If the change is intended, refresh the golden files with\n    \
         {UPDATE_VAR}=1 cargo test -p protoc-gen-rsrpc --test golden\n\
         and review their diff.",
        mismatches.join("\n")
    );
}

/// The committed golden files; none if `dir` is missing, so that a first
/// run says how to create them.
fn golden_files(dir: &Path) -> BTreeMap<String, String> {
    if dir.exists() {
        read_files(dir)
    } else {
        BTreeMap::new()
    }
}

/// Makes `dir` hold exactly the `generated` files.
fn update(dir: &Path, generated: &BTreeMap<String, String>) {
    std::fs::create_dir_all(dir).unwrap();
    for stale in golden_files(dir)
        .keys()
        .filter(|name| !generated.contains_key(*name))
    {
        std::fs::remove_file(dir.join(stale)).unwrap();
    }
    for (name, content) in generated {
        std::fs::write(dir.join(name), content).unwrap();
    }
}

/// One message per file that is missing, extra or different.
fn mismatches(
    golden: &BTreeMap<String, String>,
    generated: &BTreeMap<String, String>,
) -> Vec<String> {
    let names: BTreeSet<&String> = golden.keys().chain(generated.keys()).collect();
    names
        .into_iter()
        .filter_map(|name| match (golden.get(name), generated.get(name)) {
            (Some(old), Some(new)) if old != new => {
                Some(format!("{name}: {}", describe_difference(old, new)))
            }
            (Some(_), None) => Some(format!(
                "{name}: has a golden file but is no longer generated\n"
            )),
            (None, Some(_)) => Some(format!("{name}: generated but has no golden file\n")),
            _ => None,
        })
        .collect()
}

/// The differing lines of `old` and `new`, numbered, diff-style: what lies
/// between their common first and last lines, enough to see what changed
/// without a diff tool.
fn describe_difference(old: &str, new: &str) -> String {
    // Split on '\n' rather than `lines()`, so that a lost final newline shows.
    let old: Vec<&str> = old.split('\n').collect();
    let new: Vec<&str> = new.split('\n').collect();
    let same_start = old.iter().zip(&new).take_while(|(a, b)| a == b).count();
    let (old, new) = (&old[same_start..], &new[same_start..]);
    let same_end = old
        .iter()
        .rev()
        .zip(new.iter().rev())
        .take_while(|(a, b)| a == b)
        .count();
    format!(
        "first difference at line {} (- golden, + generated):\n{}{}",
        same_start + 1,
        numbered(&old[..old.len() - same_end], same_start, '-'),
        numbered(&new[..new.len() - same_end], same_start, '+')
    )
}

/// Up to [`SHOWN_LINES`] of `lines`, which start at index `first` in their
/// file, each prefixed with `sign` and its line number.
fn numbered(lines: &[&str], first: usize, sign: char) -> String {
    let mut shown: String = lines
        .iter()
        .take(SHOWN_LINES)
        .enumerate()
        .map(|(index, line)| format!("{sign} {:>5} | {line}\n", first + index + 1))
        .collect();
    if lines.len() > SHOWN_LINES {
        shown += &format!("{sign}       ... {} more\n", lines.len() - SHOWN_LINES);
    }
    shown
}

#[test]
fn shows_the_differing_lines() {
    assert_eq!(
        describe_difference("a\nb\nc\n", "a\nB\nB2\nc\n"),
        "first difference at line 2 (- golden, + generated):\n\
         -     2 | b\n+     2 | B\n+     3 | B2\n"
    );
    assert_eq!(
        describe_difference("a\n", "a"),
        "first difference at line 2 (- golden, + generated):\n-     2 | \n"
    );
    let many = "x\n".repeat(SHOWN_LINES + 2);
    assert!(describe_difference("", &many).ends_with("+       ... 2 more\n"));
}
