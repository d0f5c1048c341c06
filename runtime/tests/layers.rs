//! Enforces the layer map at the top of `src/lib.rs` (core values, then `transport`, then
//! `protocol`, then `web`, then `server` and `client`, each using only the layers below
//! it) and that
//! no files import each other in a cycle.
//!
//! The check reads the sources as text. It skips comments and literals, collects every
//! path written in code (`use` trees and expressions alike), resolves each to the file
//! that defines what it names (following `use` re-exports), and checks the file graph.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;

/// A module's path from the crate root, e.g. `["transport", "http1", "server"]`.
type ModPath = Vec<String>;

/// The layers of the map, bottom to top. Façade files (`lib.rs`, `codegen`, `fuzzing`)
/// re-export things: they may use anything, and using them is checked where they lead.
#[derive(Clone, Copy, Debug, PartialEq, PartialOrd)]
enum Layer {
    Core,
    Transport,
    Protocol,
    Web,
    ServerAndClient,
    Facade,
}

/// The layer of a top-level module; `None` if `name` is not one.
fn layer_of_module(name: &str) -> Option<Layer> {
    Some(match name {
        "status" | "metadata" | "request" | "response" | "error" | "boxed" | "codec" | "jitter"
        | "interceptor" => Layer::Core,
        "transport" => Layer::Transport,
        "protocol" => Layer::Protocol,
        "web" => Layer::Web,
        "server" | "client" | "health" | "reflection" => Layer::ServerAndClient,
        "lib" | "codegen" | "fuzzing" => Layer::Facade,
        _ => return None,
    })
}

/// The layer of a file, named by its path under `src/`.
fn layer_of_file(file: &str) -> Option<Layer> {
    layer_of_module(file.split('/').next()?.trim_end_matches(".rs"))
}

/// Whether code in layer `from` may not use layer `to`.
fn breaks_layering(from: Layer, to: Layer) -> bool {
    from != Layer::Facade && to != Layer::Facade && from < to
}

/// The module a file defines: `lib.rs` is the root, `a/mod.rs` and `a.rs` are `a`.
fn module_of(file: &str) -> ModPath {
    let mut path: ModPath = file
        .trim_end_matches(".rs")
        .split('/')
        .map(String::from)
        .collect();
    if path == ["lib"] || path.last().is_some_and(|last| last == "mod") {
        path.pop();
    }
    path
}

fn is_ident_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_' || c == '$'
}

/// A token of code: an identifier (`$crate` included), `::`, or one punctuation character.
struct Token {
    text: String,
    line: usize,
}

/// The tokens of `source`, leaving out comments (doc comments too) and literals.
fn tokenize(source: &str) -> Vec<Token> {
    let chars: Vec<char> = source.chars().collect();
    let (mut tokens, mut line, mut i) = (Vec::new(), 1, 0);
    while i < chars.len() {
        let skipped = skip_comment_or_literal(&chars, i);
        let end = match chars[i] {
            _ if skipped > i => skipped,
            c if is_ident_char(c) => {
                i + chars[i..].iter().take_while(|&&c| is_ident_char(c)).count()
            }
            ':' if chars.get(i + 1) == Some(&':') => i + 2,
            _ => i + 1,
        };
        let text: String = chars[i..end].iter().collect();
        let newlines = text.matches('\n').count();
        if skipped == i && !text.trim().is_empty() {
            tokens.push(Token { text, line });
        }
        line += newlines;
        i = end;
    }
    tokens
}

/// If a comment, a string or a char literal starts at `i`, the index just past it; else `i`.
fn skip_comment_or_literal(chars: &[char], i: usize) -> usize {
    let at = |k: usize| chars.get(k).copied().unwrap_or('\0');
    let past = |from: usize, end: &[char]| {
        let found = (from..chars.len()).find(|&k| chars[k..].starts_with(end));
        found.map_or(chars.len(), |k| k + end.len())
    };
    let raw = i + usize::from(at(i) == 'b'); // where the `r` of `r"..."` or `br"..."` would be
    let hashes = chars[raw + 1..].iter().take_while(|&&c| c == '#').count();
    match (at(i), at(i + 1)) {
        ('/', '/') => (i..chars.len())
            .find(|&k| chars[k] == '\n')
            .unwrap_or(chars.len()),
        ('/', '*') => {
            let (mut depth, mut k) = (0, i);
            while k < chars.len() {
                match (at(k), at(k + 1)) {
                    ('/', '*') => (depth, k) = (depth + 1, k + 2),
                    ('*', '/') if depth == 1 => return k + 2,
                    ('*', '/') => (depth, k) = (depth - 1, k + 2),
                    _ => k += 1,
                }
            }
            k
        }
        ('"', _) => {
            let mut k = i + 1;
            while k < chars.len() && at(k) != '"' {
                k += if at(k) == '\\' { 2 } else { 1 };
            }
            k + 1
        }
        ('\'', '\\') => past(i + 3, &['\'']),
        ('\'', _) if at(i + 2) == '\'' => i + 3,
        _ if at(raw) == 'r' && at(raw + 1 + hashes) == '"' => {
            let end: Vec<char> = std::iter::once('"')
                .chain(std::iter::repeat_n('#', hashes))
                .collect();
            past(raw + 2 + hashes, &end)
        }
        _ => i,
    }
}

/// A path written in a file, with the module it is written in: the file's module, plus
/// any inline `mod name { .. }` around it.
struct Reference {
    line: usize,
    scope: ModPath,
    path: Vec<String>,
}

/// What one file writes: paths, and the names its module-level `use`s bind
/// (scope, name, path).
#[derive(Default)]
struct FileScan {
    references: Vec<Reference>,
    bindings: Vec<(ModPath, String, Vec<String>)>,
}

/// Scans `source`, the file of `module`.
fn scan(module: &ModPath, source: &str) -> FileScan {
    let tokens = tokenize(source);
    let at = |k: usize| tokens.get(k).map_or("", |t| t.text.as_str());
    let mut found = FileScan::default();
    let mut inline_modules: Vec<(String, usize)> = Vec::new(); // name, brace depth inside it
    let (mut depth, mut i) = (0, 0);
    while i < tokens.len() {
        let inline_names = inline_modules.iter().map(|(name, _)| name);
        let scope: ModPath = module.iter().chain(inline_names).cloned().collect();
        let starts_path = at(i + 1) == "::" && !matches!(at(i.wrapping_sub(1)), "::" | ".");
        match at(i) {
            "use" => {
                let at_module_level = depth == inline_modules.last().map_or(0, |m| m.1);
                let mut leaves = Vec::new();
                i = parse_use_tree(&tokens, i + 1, Vec::new(), &mut leaves);
                for (path, binds, line) in leaves {
                    if let (true, Some(name)) = (at_module_level, binds) {
                        found.bindings.push((scope.clone(), name, path.clone()));
                    }
                    found.references.push(Reference {
                        line,
                        scope: scope.clone(),
                        path,
                    });
                }
                continue;
            }
            "mod" if at(i + 2) == "{" => {
                depth += 1;
                inline_modules.push((at(i + 1).to_string(), depth));
                i += 2;
            }
            "{" => depth += 1,
            "}" => {
                if inline_modules.last().is_some_and(|m| m.1 == depth) {
                    inline_modules.pop();
                }
                depth = depth.saturating_sub(1);
            }
            first if starts_path && first.starts_with(is_ident_char) => {
                let mut path = vec![first.to_string()];
                while at(i + 1) == "::" && at(i + 2).starts_with(is_ident_char) {
                    path.push(at(i + 2).to_string());
                    i += 2;
                }
                found.references.push(Reference {
                    line: tokens[i].line,
                    scope,
                    path,
                });
            }
            _ => {}
        }
        i += 1;
    }
    found
}

/// One name a `use` brings in: its path, the name it binds (none for globs and `as _`),
/// and its line.
type UseLeaf = (Vec<String>, Option<String>, usize);

/// Parses the use tree at `i` (grouped, nested or spread over lines) under `path` into
/// `leaves`; returns the index just past it.
fn parse_use_tree(
    tokens: &[Token],
    mut i: usize,
    mut path: Vec<String>,
    leaves: &mut Vec<UseLeaf>,
) -> usize {
    let at = |k: usize| tokens.get(k).map_or("", |t| t.text.as_str());
    let line = tokens.get(i).map_or(0, |t| t.line);
    loop {
        match at(i) {
            "::" => i += 1,
            "{" => {
                i += 1;
                while i < tokens.len() && at(i) != "}" {
                    i = parse_use_tree(tokens, i, path.clone(), leaves);
                    i += usize::from(at(i) == ",");
                }
                return i + 1;
            }
            "*" => {
                leaves.push((path, None, line));
                return i + 1;
            }
            name => {
                if name != "self" || at(i + 1) == "::" {
                    path.push(name.to_string()); // `{self, ..}` names the module itself
                }
                if at(i + 1) == "::" {
                    i += 2;
                    continue;
                }
                let (binds, next) = match at(i + 1) {
                    "as" => (
                        Some(at(i + 2).to_string()).filter(|alias| alias != "_"),
                        i + 3,
                    ),
                    _ => (path.last().cloned(), i + 1),
                };
                leaves.push((path, binds, line));
                return next;
            }
        }
    }
}

/// A path resolved: where it is written, the layer of the top-level module it names, and
/// the file defining what it names.
struct Import<'a> {
    file: &'a str,
    written: String,
    named: Option<Layer>,
    target: &'a str,
}

/// Resolves paths to files: the crate's module files, and the names `use`s bind in each
/// module, as (module, name) → the path in that `use`.
struct Crate {
    files: BTreeMap<ModPath, String>,
    bindings: HashMap<(ModPath, String), Vec<String>>,
}

/// How many `use`s a path may go through; bounds resolution of self-referring imports.
const MAX_HOPS: usize = 16;

impl Crate {
    /// The crate of `tree`, given what each of its files writes.
    fn new(tree: &BTreeMap<String, String>, scans: &[(&String, FileScan)]) -> Crate {
        let files = tree.keys().map(|file| (module_of(file), file.clone()));
        let bindings = scans.iter().flat_map(|(_, found)| &found.bindings);
        let bindings =
            bindings.map(|(scope, name, path)| ((scope.clone(), name.clone()), path.clone()));
        Crate {
            files: files.collect(),
            bindings: bindings.collect(),
        }
    }

    /// Resolves a path written in `file`; `None` if it leads out of the crate.
    fn resolve<'a>(&'a self, file: &'a str, reference: &Reference) -> Option<Import<'a>> {
        let absolute = self.absolute(&reference.path, &reference.scope, 0)?;
        Some(Import {
            file,
            written: format!("{file}:{}: {}", reference.line, reference.path.join("::")),
            named: absolute.first().and_then(|module| layer_of_module(module)),
            target: self.defining_file(&absolute, 0)?,
        })
    }

    /// `path`, written in module `scope`, from the crate root; `None` if it leaves the crate.
    /// A first segment that is neither `crate`, `self` nor `super` must name a child
    /// module or a name a `use` binds in `scope`.
    fn absolute(&self, path: &[String], scope: &[String], hops: usize) -> Option<ModPath> {
        let (first, mut rest) = path.split_first()?;
        let child = [scope, std::slice::from_ref(first)].concat();
        let mut absolute = match first.as_str() {
            "crate" | "$crate" => Vec::new(),
            "self" => scope.to_vec(),
            "super" => scope.split_last()?.1.to_vec(),
            _ if self.files.contains_key(&child) => child,
            _ if hops < MAX_HOPS => {
                let used = self.bindings.get(&(scope.to_vec(), first.clone()))?;
                self.absolute(used, scope, hops + 1)?
            }
            _ => return None,
        };
        while rest.first().is_some_and(|segment| segment == "super") {
            absolute.pop()?;
            rest = &rest[1..];
        }
        absolute.extend_from_slice(rest);
        Some(absolute)
    }

    /// The file defining what the absolute `path` names: the deepest module file on it,
    /// unless that module only brings the next name in with a `use`: then where it leads.
    fn defining_file(&self, path: &[String], hops: usize) -> Option<&str> {
        let depth = (0..=path.len())
            .rev()
            .find(|&n| self.files.contains_key(&path[..n]))?;
        let (module, rest) = path.split_at(depth);
        if let [name, tail @ ..] = rest
            && let Some(used) = self.bindings.get(&(module.to_vec(), name.clone()))
            && hops < MAX_HOPS
        {
            let target = self.absolute(used, module, hops + 1)?;
            return self.defining_file(&[target.as_slice(), tail].concat(), hops + 1);
        }
        Some(&self.files[module])
    }
}

/// What the check found: every problem, and the file graph (edge → the first import behind it).
struct Analysis {
    problems: Vec<String>,
    edges: BTreeMap<(String, String), String>,
}

/// Checks a source tree (path under `src/` → source) against the layer map and for cycles.
fn analyse(tree: &BTreeMap<String, String>) -> Analysis {
    let scans: Vec<(&String, FileScan)> = tree
        .iter()
        .map(|(file, source)| (file, scan(&module_of(file), source)))
        .collect();
    let krate = Crate::new(tree, &scans);
    let references = scans
        .iter()
        .flat_map(|(file, found)| found.references.iter().map(move |r| (file, r)));
    let imports: Vec<Import> = references
        .filter_map(|(file, reference)| krate.resolve(file, reference))
        .collect();
    let unplaced = tree.keys().filter(|file| layer_of_file(file).is_none());
    let mut problems: Vec<String> = unplaced
        .map(|file| format!("{file}: in no layer; add it to lib.rs's map and to this test"))
        .collect();
    problems.extend(imports.iter().filter_map(layering_problem));
    let edges = file_graph(&imports);
    problems.extend(cycles(&edges));
    Analysis { problems, edges }
}

/// Why `import` breaks the layer map, if it does: its file may use neither the module it
/// names nor the file it reaches if they sit in a higher layer.
fn layering_problem(import: &Import) -> Option<String> {
    let from = layer_of_file(import.file)?;
    let mut reached = [import.named, layer_of_file(import.target)]
        .into_iter()
        .flatten();
    let to = reached.find(|&to| breaks_layering(from, to))?;
    let (written, target) = (&import.written, import.target);
    Some(format!(
        "layering: {written} (defined in {target}): {from:?} code uses {to:?}"
    ))
}

/// The file graph, each edge mapped to the first import behind it. A file's edges to
/// itself and to its own submodules (declaring and re-exporting them) are left out.
fn file_graph(imports: &[Import]) -> BTreeMap<(String, String), String> {
    let mut edges = BTreeMap::new();
    for import in imports {
        if !module_of(import.target).starts_with(&module_of(import.file)) {
            let edge = (import.file.to_string(), import.target.to_string());
            edges.entry(edge).or_insert_with(|| import.written.clone());
        }
    }
    edges
}

/// One cycle for every import that closes one in a depth-first walk of the file graph (so
/// at least one whenever there is any), with the import behind each step.
fn cycles(edges: &BTreeMap<(String, String), String>) -> Vec<String> {
    let mut next: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (from, to) in edges.keys() {
        next.entry(from).or_default().push(to);
    }
    let (mut visited, mut found) = (BTreeSet::new(), Vec::new());
    for &file in next.keys() {
        walk(file, &next, &mut Vec::new(), &mut visited, &mut found);
    }
    let step = |pair: &[&str]| format!("\n    {}", edges[&(pair[0].into(), pair[1].into())]);
    let describe = |cycle: &Vec<&str>| {
        let steps: String = cycle.windows(2).map(step).collect();
        format!("cycle: {}{steps}", cycle.join(" -> "))
    };
    found.iter().map(describe).collect()
}

/// Walks the graph depth first from `file`, `path` being the files walked to reach it.
fn walk<'a>(
    file: &'a str,
    next: &BTreeMap<&str, Vec<&'a str>>,
    path: &mut Vec<&'a str>,
    visited: &mut BTreeSet<&'a str>,
    found: &mut Vec<Vec<&'a str>>,
) {
    if let Some(start) = path.iter().position(|&on_path| on_path == file) {
        found.push([&path[start..], &[file]].concat());
    } else if visited.insert(file) {
        path.push(file);
        for &to in next.get(file).into_iter().flatten() {
            walk(to, next, path, visited, found);
        }
        path.pop();
    }
}

/// Every `.rs` file under `dir`, keyed by its path relative to `root` with `/` separators.
fn read_tree(root: &Path, dir: &Path, tree: &mut BTreeMap<String, String>) {
    for entry in std::fs::read_dir(dir).expect("list a source directory") {
        let path = entry.expect("list a source directory").path();
        if path.is_dir() {
            read_tree(root, &path, tree);
        } else if path.extension().is_some_and(|extension| extension == "rs") {
            let relative = path.strip_prefix(root).expect("a file under src/");
            let source = std::fs::read_to_string(&path).expect("read a source file");
            tree.insert(relative.to_string_lossy().replace('\\', "/"), source);
        }
    }
}

#[test]
fn runtime_sources_follow_the_layer_map() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut tree = BTreeMap::new();
    read_tree(&src, &src, &mut tree);
    let analysis = analyse(&tree);
    assert!(
        tree.contains_key("lib.rs") && !analysis.edges.is_empty(),
        "found no sources or imports"
    );
    let problems = analysis.problems.join("\n");
    assert!(
        problems.is_empty(),
        "the runtime breaks the layer map in src/lib.rs:\n{problems}\n"
    );
}

/// A fake source tree: each file is a `--- path` line followed by its source.
fn fixture(text: &str) -> BTreeMap<String, String> {
    let files = text
        .split("--- ")
        .skip(1)
        .map(|file| file.split_once('\n').unwrap());
    files
        .map(|(path, source)| (path.into(), source.into()))
        .collect()
}

/// Asserts `problems` are as many as `expected`, each starting with its counterpart.
fn assert_problems(problems: &[String], expected: &[&str]) {
    let matching = problems
        .iter()
        .zip(expected)
        .all(|(problem, start)| problem.starts_with(start));
    let message = format!("expected problems starting with {expected:#?}, got {problems:#?}");
    assert!(matching && problems.len() == expected.len(), "{message}");
}

#[test]
fn checker_reports_transport_using_server() {
    let tree = fixture(
        "--- lib.rs
mod status; mod transport; mod server;
--- status.rs
pub struct Status;
--- server.rs
pub struct Router;
--- transport/mod.rs
mod http;
pub use crate::server::Router as Seam;
--- transport/http.rs
use crate::status::Status;

fn serve(_: super::Seam) {}
",
    );
    assert_problems(
        &analyse(&tree).problems,
        &[
            "layering: transport/http.rs:3: super::Seam (defined in server.rs): Transport code uses ServerAndClient",
            "layering: transport/mod.rs:2: crate::server::Router (defined in server.rs)",
        ],
    );
}

#[test]
fn checker_reports_a_cycle_through_a_reexport() {
    let tree = fixture(
        "--- lib.rs
mod codec; mod status;
pub use status::Status;
--- codec/mod.rs
mod frame;
pub use frame::Frame;
--- codec/frame.rs
pub struct Frame(crate::Status);
--- status.rs
use crate::{
    codec::{self, Frame},
};
pub struct Status;
",
    );
    assert_problems(
        &analyse(&tree).problems,
        &["cycle: codec/frame.rs -> status.rs -> codec/frame.rs
    codec/frame.rs:1: crate::Status
    status.rs:2: crate::codec::Frame"],
    );
}

#[test]
fn checker_passes_a_clean_tree() {
    let tree = fixture(
        r#"--- lib.rs
mod codec; mod status; mod transport; mod server;
pub use status::Status;
--- codec/mod.rs
mod frame;
pub use frame::Frame;
/// See [`S`](crate::server::S).
--- codec/frame.rs
use super::super::Status;
pub struct Frame;
mod tests {
    use super::*;
}
--- status.rs
pub struct Status;
const NOT_CODE: (&str, char) = ("crate::server::S {", '{');
--- transport/mod.rs
pub mod http;
// use crate::server::S;
/* crate::client::C */
--- transport/http.rs
pub fn get() {}
--- server.rs
use crate::{
    codec::Frame,
    transport::{self},
};
fn serve() { transport::http::get(); crate::status::Status; }
"#,
    );
    let analysis = analyse(&tree);
    assert_problems(&analysis.problems, &[]);
    let edges: Vec<_> = analysis
        .edges
        .keys()
        .map(|(from, to)| format!("{from} -> {to}"))
        .collect();
    let expected = [
        "codec/frame.rs -> status.rs",
        "server.rs -> codec/frame.rs",
        "server.rs -> status.rs",
        "server.rs -> transport/http.rs",
        "server.rs -> transport/mod.rs",
    ];
    assert_eq!(edges, expected);
}
