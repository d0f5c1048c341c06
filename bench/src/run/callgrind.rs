//! Reading valgrind's callgrind profiles: the instructions (`Ir`) each function executed
//! itself, as `callgrind_annotate` lists them, grouped by the crate they belong to.

use std::collections::HashMap;
use std::path::Path;
use std::process::{Command, Stdio};

/// What the user is told when valgrind is missing.
pub const INSTALL_HINT: &str =
    "figure 9 needs valgrind (valgrind, callgrind_annotate): apt-get install valgrind";

/// Fails with [`INSTALL_HINT`] unless `valgrind` and `callgrind_annotate` both start.
pub fn require_valgrind() -> Result<(), String> {
    // Whether they start, not how they exit: `callgrind_annotate --version` exits 255.
    let runs = |program: &str| {
        Command::new(program)
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok()
    };
    if runs("valgrind") && runs("callgrind_annotate") {
        Ok(())
    } else {
        Err(INSTALL_HINT.to_owned())
    }
}

/// The `valgrind` words that run a command under callgrind, writing to `out`.
pub fn valgrind_words(out: &Path) -> Vec<String> {
    vec![
        "valgrind".to_owned(),
        "-q".to_owned(),
        "--tool=callgrind".to_owned(),
        format!("--callgrind-out-file={}", out.display()),
    ]
}

/// The `callgrind_annotate` words that list every function's own (self) cost in `file`.
pub fn annotate_words(file: &Path) -> Vec<String> {
    vec![
        "callgrind_annotate".to_owned(),
        // Self cost only; a threshold of 100% lists every function, not the top 99%.
        "--inclusive=no".to_owned(),
        "--threshold=100".to_owned(),
        // No annotated source: its lines would look like function lines.
        "--auto=no".to_owned(),
        file.display().to_string(),
    ]
}

/// Runs `callgrind_annotate` on `file` and parses what it prints.
pub fn annotate(file: &Path) -> Result<Profile, String> {
    let words = annotate_words(file);
    let output = Command::new(&words[0])
        .args(&words[1..])
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run callgrind_annotate: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "callgrind_annotate {} failed: {}",
            file.display(),
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    Profile::parse(&String::from_utf8_lossy(&output.stdout))
}

/// Where a function's instructions are counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Group {
    /// The `h2` crate.
    H2,
    /// The `hyper` crate.
    Hyper,
    /// The `http` crate.
    Http,
    /// The `tokio` crate.
    Tokio,
    /// The `bytes` crate.
    Bytes,
    /// The `prost` crate.
    Prost,
    /// The `buffa` crate, connect-rust's protobuf library.
    Buffa,
    /// libc's malloc and free, and Rust's allocator shims.
    Allocator,
    /// libc's memcpy and memmove.
    Memcpy,
    /// The `rsrpc` crate.
    Rsrpc,
    /// `tonic`, `tonic_prost` and tonic's generated code.
    Tonic,
    /// `connectrpc` and the code connectrpc-build generated (services and messages).
    Connect,
    /// The benchmark crate: shared handlers and messages, the floor server, the load
    /// generator.
    Bench,
    /// `core`, `alloc` and `std` code not generic over another crate's types.
    Std,
    /// Everything else: other crates (tower, axum, hyper_util, tokio_util, ...), libc.
    Other,
}

impl Group {
    /// Every group, in the order tables list them.
    pub const ALL: [Group; 15] = [
        Group::H2,
        Group::Hyper,
        Group::Http,
        Group::Tokio,
        Group::Bytes,
        Group::Prost,
        Group::Buffa,
        Group::Allocator,
        Group::Memcpy,
        Group::Rsrpc,
        Group::Tonic,
        Group::Connect,
        Group::Bench,
        Group::Std,
        Group::Other,
    ];

    /// Its name in tables.
    pub fn name(self) -> &'static str {
        match self {
            Group::H2 => "h2",
            Group::Hyper => "hyper",
            Group::Http => "http",
            Group::Tokio => "tokio",
            Group::Bytes => "bytes",
            Group::Prost => "prost",
            Group::Buffa => "buffa",
            Group::Allocator => "allocator",
            Group::Memcpy => "memcpy",
            Group::Rsrpc => "rsrpc",
            Group::Tonic => "tonic",
            Group::Connect => "connect",
            Group::Bench => "bench",
            Group::Std => "std",
            Group::Other => "other",
        }
    }

    /// The group of `function`, defined in `file` (`???` when unknown).
    ///
    /// A Rust symbol counts towards the first crate its path names, skipping `core`,
    /// `alloc` and `std`: `core::ptr::drop_in_place<h2::frame::Headers>` is h2's cost,
    /// since std's generics do what the crate asked of them.
    pub fn of(file: &str, function: &str) -> Group {
        if !function.contains("::") {
            // A C function: strip GCC's `.constprop.0`-like suffixes and symbol versions.
            let name = function.split(['.', '@']).next().unwrap_or(function);
            if name.contains("memcpy") || name.contains("memmove") {
                return Group::Memcpy;
            }
            let rust_shim = name.starts_with("__r") && name.contains("alloc");
            if file.contains("/malloc/") || C_ALLOCATOR.contains(&name) || rust_shim {
                return Group::Allocator;
            }
            return Group::Other;
        }
        if function.starts_with("__rustc::") && function.contains("alloc") {
            return Group::Allocator;
        }
        let mut roots = path_roots(function);
        let Some((at, root)) = roots.find(|(_, root)| !matches!(*root, "core" | "alloc" | "std"))
        else {
            return Group::Std;
        };
        match root {
            "h2" => Group::H2,
            "hyper" => Group::Hyper,
            "http" => Group::Http,
            "tokio" => Group::Tokio,
            "bytes" => Group::Bytes,
            "prost" => Group::Prost,
            "buffa" => Group::Buffa,
            "rsrpc" => Group::Rsrpc,
            "tonic" | "tonic_prost" => Group::Tonic,
            "connectrpc" => Group::Connect,
            // tonic-build and connectrpc-build generate into the bench crate.
            "bench" if function[at..].starts_with("bench::proto::tonic::") => Group::Tonic,
            "bench" if function[at..].starts_with("bench::proto::connect::") => Group::Connect,
            "bench" => Group::Bench,
            _ => Group::Other,
        }
    }
}

/// libc's allocator functions, for profiles that lack file names.
const C_ALLOCATOR: [&str; 14] = [
    "malloc",
    "free",
    "cfree",
    "calloc",
    "realloc",
    "posix_memalign",
    "aligned_alloc",
    "_int_malloc",
    "_int_free",
    "_int_realloc",
    "_int_memalign",
    "_mid_memalign",
    "malloc_consolidate",
    "unlink_chunk",
];

/// The first segment of every path in a symbol, in order, with where it starts: `h2`
/// and `core` in `<h2::proto::Ptr as core::ops::Deref>::deref`.
fn path_roots(symbol: &str) -> impl Iterator<Item = (usize, &str)> {
    let bytes = symbol.as_bytes();
    let is_ident = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let mut at = 0;
    std::iter::from_fn(move || {
        while at < bytes.len() {
            let start = at;
            if !is_ident(bytes[at]) {
                at += 1;
                continue;
            }
            while at < bytes.len() && is_ident(bytes[at]) {
                at += 1;
            }
            let follows_path = start >= 1 && bytes[start - 1] == b':';
            if !follows_path && symbol[at..].starts_with("::") {
                return Some((start, &symbol[start..at]));
            }
        }
        None
    })
}

/// One function's own instructions.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Cost {
    /// Where it is counted.
    pub group: Group,
    /// Instructions (`Ir`), or instructions per call once divided.
    pub ir: f64,
}

/// A profile: the program's total instructions and every function's own.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Profile {
    /// All instructions (`PROGRAM TOTALS`).
    pub total: f64,
    /// Self cost by function name (generic instances of a function are one).
    pub functions: HashMap<String, Cost>,
}

impl Profile {
    /// Parses the output of `callgrind_annotate --inclusive=no`: a `PROGRAM TOTALS` line
    /// and lines of `COUNT (PERCENT) FILE:FUNCTION [OBJECT]`.
    pub fn parse(text: &str) -> Result<Profile, String> {
        let mut profile = Profile::default();
        let mut totals = false;
        for line in text.lines() {
            let Some((count, rest)) = count_line(line) else {
                continue;
            };
            if rest == "PROGRAM TOTALS" {
                profile.total = count;
                totals = true;
                continue;
            }
            let (file, function) = file_and_function(rest);
            let group = Group::of(file, function);
            let cost = profile
                .functions
                .entry(function.to_owned())
                .or_insert(Cost { group, ir: 0.0 });
            cost.ir += count;
        }
        if totals {
            Ok(profile)
        } else {
            Err("callgrind_annotate printed no PROGRAM TOTALS".to_owned())
        }
    }

    /// The cost of the calls `more` made beyond `fewer`, per call: `calls` is how many
    /// more calls it made. Startup and connection setup, alike in both, cancel out.
    pub fn per_call(fewer: &Profile, more: &Profile, calls: u64) -> Profile {
        let calls = calls.max(1) as f64;
        let mut functions = more.functions.clone();
        for (name, cost) in &fewer.functions {
            functions
                .entry(name.clone())
                .or_insert(Cost { ir: 0.0, ..*cost })
                .ir -= cost.ir;
        }
        for cost in functions.values_mut() {
            cost.ir /= calls;
        }
        Profile {
            total: (more.total - fewer.total) / calls,
            functions,
        }
    }

    /// The instructions of `group`; [`Group::Other`] also takes whatever the functions
    /// listed do not add up to, so that the groups sum to the total.
    pub fn group(&self, group: Group) -> f64 {
        let sum = |wanted: Option<Group>| -> f64 {
            self.functions
                .values()
                .filter(|cost| wanted.is_none_or(|g| cost.group == g))
                .map(|cost| cost.ir)
                .sum()
        };
        let own = sum(Some(group));
        if group == Group::Other {
            own + self.total - sum(None)
        } else {
            own
        }
    }

    /// The functions with the most instructions, most first.
    pub fn top(&self, count: usize) -> Vec<(&str, Cost)> {
        let mut all: Vec<(&str, Cost)> = self
            .functions
            .iter()
            .map(|(name, cost)| (name.as_str(), *cost))
            .collect();
        all.sort_by(|a, b| b.1.ir.total_cmp(&a.1.ir).then(a.0.cmp(b.0)));
        all.truncate(count);
        all
    }
}

/// Splits `  1,234 (12.5%)  rest` into 1234 and `rest`; `None` for any other line.
fn count_line(line: &str) -> Option<(f64, &str)> {
    let line = line.trim_start();
    let digits = line
        .find(|c: char| !(c.is_ascii_digit() || c == ','))
        .unwrap_or(line.len());
    let (count, rest) = line.split_at(digits);
    if count.is_empty() || !rest.starts_with(char::is_whitespace) {
        return None;
    }
    let count: f64 = count.replace(',', "").parse().ok()?;
    let mut rest = rest.trim_start();
    // The percentage column, which older versions and --show-percs=no leave out.
    if rest.starts_with('(') {
        rest = rest[rest.find(')')? + 1..].trim_start();
    }
    (!rest.is_empty()).then_some((count, rest.trim_end()))
}

/// Splits `FILE:FUNCTION [OBJECT]` into file and function, without the object or a
/// recursion mark such as `'2`.
fn file_and_function(rest: &str) -> (&str, &str) {
    let mut name = rest;
    if name.ends_with(']')
        && let Some(at) = name.rfind(" [")
    {
        name = &name[..at];
    }
    // The file ends at the first lone colon; `::` belongs to the function.
    let (file, mut function) = match name.find(':') {
        Some(at) if !name[at + 1..].starts_with(':') => (&name[..at], &name[at + 1..]),
        _ => ("???", name),
    };
    if let Some(at) = function.rfind('\'')
        && at + 1 < function.len()
        && function[at + 1..].bytes().all(|b| b.is_ascii_digit())
    {
        function = &function[..at];
    }
    (file, function)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "\
--------------------------------------------------------------------------------
Profile data file 'cg.out' (creator: callgrind-3.19.0)
Thresholds:       100
--------------------------------------------------------------------------------
Ir
--------------------------------------------------------------------------------
1,000,000 (100.0%)  PROGRAM TOTALS

--------------------------------------------------------------------------------
Ir                   file:function
--------------------------------------------------------------------------------
300,000 (30.00%)  ./string/../sysdeps/x86_64/multiarch/memmove-vec-unaligned-erms.S:__memcpy_avx_unaligned_erms [/usr/lib/x86_64-linux-gnu/libc.so.6]
200,000 (20.00%)  ???:h2::hpack::table::Table::index [/work/target/release/bench-server]
100,000 (10.00%)  ./malloc/./malloc/malloc.c:_int_free [/usr/lib/x86_64-linux-gnu/libc.so.6]
 50,000 ( 5.00%)  ./malloc/./malloc/arena.c:free
 40,000 ( 4.00%)  ???:<h2::proto::streams::store::Ptr as core::ops::deref::Deref>::deref [/b]
 30,000 ( 3.00%)  ???:core::ptr::drop_in_place<[http::header::map::Bucket<http::header::value::HeaderValue>]> [/b]
 20,000 ( 2.00%)  ???:<http_body_util::combinators::map_err::MapErr<B,F> as http_body::Body>::poll_frame'2 [/b]
 20,000 ( 2.00%)  ???:<http_body_util::combinators::map_err::MapErr<B,F> as http_body::Body>::poll_frame [/b]
 10,000 ( 1.00%)  ???:<<bench::proto::tonic::helloworld::greeter_server::GreeterServer<T> as tower_service::Service<B>>::call::SayHelloSvc<T> as tonic::server::service::UnaryService<bench::proto::helloworld::HelloRequest>>::call [/b]
 10,000 ( 1.00%)  ???:<bench::server::tonic_server::Services as bench::proto::tonic::helloworld::greeter_server::Greeter>::say_hello [/b]
 10,000 ( 1.00%)  ???:rsrpc::server::method::unary::{{closure}} [/b]
 10,000 ( 1.00%)  ???:<alloc::vec::Vec<T,A> as core::ops::drop::Drop>::drop [/b]
  5,000 ( 0.50%)  ???:__rustc::__rdl_alloc [/b]
  5,000 ( 0.50%)  ???:epoll_wait [/usr/lib/x86_64-linux-gnu/libc.so.6]
";

    #[test]
    fn parses_annotate_output() {
        let profile = Profile::parse(SAMPLE).unwrap();
        assert_eq!(profile.total, 1_000_000.0);
        assert_eq!(profile.functions.len(), 13, "{:?}", profile.functions);
        let cost = |name: &str| profile.functions[name];
        assert_eq!(
            cost("__memcpy_avx_unaligned_erms"),
            Cost {
                group: Group::Memcpy,
                ir: 300_000.0
            }
        );
        // The recursion level `'2` folds into the function.
        let poll_frame =
            "<http_body_util::combinators::map_err::MapErr<B,F> as http_body::Body>::poll_frame";
        assert_eq!(cost(poll_frame).ir, 40_000.0);
        assert_eq!(cost(poll_frame).group, Group::Other);
        let top = profile.top(2);
        assert_eq!(top[1].0, "h2::hpack::table::Table::index");
        assert!(Profile::parse("nothing here").is_err());
    }

    #[test]
    fn groups_by_crate() {
        let profile = Profile::parse(SAMPLE).unwrap();
        let group = |group| profile.group(group);
        assert_eq!(group(Group::Memcpy), 300_000.0);
        assert_eq!(group(Group::H2), 240_000.0);
        assert_eq!(group(Group::Allocator), 155_000.0);
        assert_eq!(group(Group::Http), 30_000.0);
        assert_eq!(group(Group::Tonic), 10_000.0);
        assert_eq!(group(Group::Bench), 10_000.0);
        assert_eq!(group(Group::Rsrpc), 10_000.0);
        assert_eq!(group(Group::Std), 10_000.0);
        // http_body_util, epoll_wait, and the 190,000 the listed functions miss.
        assert_eq!(group(Group::Other), 235_000.0);
        let sum: f64 = Group::ALL.iter().map(|&g| profile.group(g)).sum();
        assert_eq!(sum, profile.total);
    }

    #[test]
    fn crate_of_a_symbol() {
        assert_eq!(
            Group::of("???", "tokio::runtime::park::Inner::park"),
            Group::Tokio
        );
        assert_eq!(
            Group::of(
                "???",
                "core::ptr::drop_in_place<alloc::boxed::Box<bytes::Bytes>>"
            ),
            Group::Bytes
        );
        assert_eq!(
            Group::of("???", "<&T as core::fmt::Debug>::fmt"),
            Group::Std
        );
        assert_eq!(Group::of("???", "tonic_prost::codec::decode"), Group::Tonic);
        assert_eq!(
            Group::of(
                "???",
                "<bench::proto::connect::helloworld::HelloRequest as buffa::Message>::merge_field"
            ),
            Group::Connect
        );
        assert_eq!(
            Group::of("???", "connectrpc::router::Router::x"),
            Group::Connect
        );
        assert_eq!(Group::of("???", "buffa::types::merge_string"), Group::Buffa);
        assert_eq!(Group::of("???", "hyper_util::rt::tokio::x"), Group::Other);
        assert_eq!(Group::of("???", "memmove@GLIBC_2.2.5"), Group::Memcpy);
        assert_eq!(Group::of("???", "_int_malloc"), Group::Allocator);
        assert_eq!(
            Group::of("./malloc/./malloc/malloc.c", "unlink_chunk.constprop.0"),
            Group::Allocator
        );
        let roots: Vec<&str> = path_roots("<h2::a::B<c::D> as core::x::Y>::z")
            .map(|(_, root)| root)
            .collect();
        assert_eq!(roots, ["h2", "c", "core"]);
        assert_eq!(Group::of("???", "__rust_dealloc"), Group::Allocator);
    }

    #[test]
    fn difference_per_call() {
        let profile = |total: f64, ir: f64| Profile {
            total,
            functions: HashMap::from([(
                "f".to_owned(),
                Cost {
                    group: Group::H2,
                    ir,
                },
            )]),
        };
        let fewer = profile(1000.0, 400.0);
        let mut more = profile(3000.0, 1400.0);
        more.functions.insert(
            "g".to_owned(),
            Cost {
                group: Group::Bytes,
                ir: 200.0,
            },
        );
        let per_call = Profile::per_call(&fewer, &more, 100);
        assert_eq!(per_call.total, 20.0);
        assert_eq!(per_call.functions["f"].ir, 10.0);
        assert_eq!(per_call.group(Group::Bytes), 2.0);
        assert_eq!(per_call.group(Group::Other), 8.0);
    }

    #[test]
    fn lines() {
        assert_eq!(count_line("  12,345  ???:f"), Some((12345.0, "???:f")));
        assert_eq!(count_line("Ir   file:function"), None);
        assert_eq!(count_line("Thresholds:       100"), None);
        assert_eq!(count_line("1,000 (1.0%)"), None);
        assert_eq!(file_and_function("???:a::b [/x]"), ("???", "a::b"));
        assert_eq!(file_and_function("a::b'12"), ("???", "a::b"));
        assert_eq!(file_and_function("x.c:f"), ("x.c", "f"));
    }
}
