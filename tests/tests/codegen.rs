//! Code generation in the wild: `buf generate` with protoc-gen-rsrpc as a local plugin
//! writes exactly what protoc with the plugin and the build.rs API write; and the code
//! generated for every proto Debian ships for gRPC and the Google APIs builds under
//! `#![deny(warnings)]` and passes clippy with `-D warnings`. buf and the protos are
//! installed by `tests/install-buf` and `tests/install-protos` when missing.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use rsrpc_tests::tools::{self, workspace_root};

fn examples_proto() -> PathBuf {
    workspace_root().join("examples/proto")
}

/// `.proto` files under `dir`, recursively, sorted.
fn protos_under(dir: &Path) -> Vec<PathBuf> {
    let mut protos = Vec::new();
    let mut dirs = vec![dir.to_owned()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|ext| ext == "proto") {
                protos.push(path);
            }
        }
    }
    protos.sort();
    protos
}

/// The files under `dir`, by path relative to it.
fn read_tree(dir: &Path) -> BTreeMap<PathBuf, String> {
    let mut files = BTreeMap::new();
    let mut dirs = vec![dir.to_owned()];
    while let Some(at) = dirs.pop() {
        for entry in std::fs::read_dir(&at).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else {
                let name = path.strip_prefix(dir).unwrap().to_owned();
                files.insert(name, std::fs::read_to_string(&path).unwrap());
            }
        }
    }
    files
}

fn assert_success(what: &str, output: &Output) {
    assert!(
        output.status.success(),
        "{what} failed ({}):\n{}{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Runs the vendored protoc with the plugin on `protos` (under `includes`), with
/// `--rsrpc_opt=<options>`, into `out`.
fn protoc(protos: &[PathBuf], includes: &[PathBuf], options: &str, out: &Path) {
    let mut plugin = OsString::from("--plugin=protoc-gen-rsrpc=");
    plugin.push(tools::protoc_gen_rsrpc());
    let mut out_arg = OsString::from("--rsrpc_out=");
    out_arg.push(out);
    let mut command = Command::new(protoc_bin_vendored::protoc_bin_path().unwrap());
    command
        .arg(plugin)
        .arg(out_arg)
        .arg(format!("--rsrpc_opt={options}"));
    for include in includes
        .iter()
        .cloned()
        .chain([protoc_bin_vendored::include_path().unwrap()])
    {
        command.arg("-I").arg(include);
    }
    assert_success("protoc", &command.args(protos).output().unwrap());
}

/// Runs `buf generate examples/proto --template <template>` in a fresh directory, with
/// the plugin on PATH, and returns what it wrote.
fn buf_generate(template: &Path) -> BTreeMap<PathBuf, String> {
    let dir = tempfile::tempdir().unwrap();
    let plugin_dir = tools::protoc_gen_rsrpc().parent().unwrap();
    let path = std::env::join_paths(std::iter::once(plugin_dir.to_owned()).chain(
        std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()),
    ))
    .unwrap();
    let output = Command::new(tools::buf())
        .arg("generate")
        .arg(examples_proto())
        .arg("--template")
        .arg(template)
        .current_dir(dir.path())
        .env("PATH", path)
        // buf's cache stays with the test, away from the home directory.
        .env("BUF_CACHE_DIR", dir.path().join(".cache"))
        .output()
        .unwrap();
    assert_success("buf generate", &output);
    read_tree(&dir.path().join("gen"))
}

/// What protoc with the plugin and the build.rs API write for the example protos with
/// `options`, asserted equal; the builder is configured alike by `builder`.
fn protoc_and_builder(
    options: &[&str],
    builder: protoc_gen_rsrpc::Builder,
) -> BTreeMap<PathBuf, String> {
    let protos = protos_under(&examples_proto());
    let from_protoc = tempfile::tempdir().unwrap();
    protoc(
        &protos,
        &[examples_proto()],
        &options.join(","),
        from_protoc.path(),
    );
    let from_builder = tempfile::tempdir().unwrap();
    builder
        .out_dir(from_builder.path())
        .compile(&protos, &[examples_proto()])
        .unwrap();
    let files = read_tree(from_protoc.path());
    assert!(
        files == read_tree(from_builder.path()),
        "protoc and the builder differ with {options:?}"
    );
    files
}

fn assert_same_files(buf: &BTreeMap<PathBuf, String>, expected: &BTreeMap<PathBuf, String>) {
    assert_eq!(
        buf.keys().collect::<Vec<_>>(),
        expected.keys().collect::<Vec<_>>()
    );
    for (name, content) in expected {
        assert!(&buf[name] == content, "buf's {} differs", name.display());
    }
}

#[test]
fn buf_generate_with_the_sample_template_matches_protoc_and_the_builder() {
    let buf = buf_generate(&workspace_root().join("examples/buf.gen.yaml"));
    let expected = protoc_and_builder(
        &["include_file=protos.rs"],
        protoc_gen_rsrpc::configure().include_file("protos.rs"),
    );
    assert!(expected.contains_key(Path::new("routeguide.rs")));
    assert_same_files(&buf, &expected);
}

#[test]
fn buf_generate_passes_options_through() {
    let dir = tempfile::tempdir().unwrap();
    let template = dir.path().join("buf.gen.yaml");
    std::fs::write(
        &template,
        "version: v2\nplugins:\n  - local: protoc-gen-rsrpc\n    out: gen\n    strategy: all\n    \
         opt:\n      - client=false\n      - btree_map=.\n",
    )
    .unwrap();
    let buf = buf_generate(&template);
    let expected = protoc_and_builder(
        &["client=false", "btree_map=."],
        protoc_gen_rsrpc::configure().client(false).btree_map("."),
    );
    let route_guide = &expected[Path::new("routeguide.rs")];
    assert!(route_guide.contains("pub mod route_guide_server"));
    assert!(!route_guide.contains("route_guide_client"));
    assert_same_files(&buf, &expected);
}

/// Runs cargo `args` on the project at `dir`, with the checks' own target directory
/// under the workspace's, kept between runs so only the generated crate rebuilds.
fn cargo(dir: &Path, args: &[&str]) {
    let output = Command::new(env!("CARGO"))
        .args(args)
        .current_dir(dir)
        .env(
            "CARGO_TARGET_DIR",
            workspace_root().join("target/generated-check/target"),
        )
        .output()
        .unwrap();
    assert_success(&format!("cargo {}", args.join(" ")), &output);
}

#[test]
fn code_for_debian_grpc_and_googleapis_protos_builds_under_deny_warnings_and_clippy() {
    let include = tools::debian_protos();
    // grpc-proto's meshca config imports an Envoy proto Debian lacks: a stand-in.
    let stubs = workspace_root().join("tests/proto/stubs");
    let protos: Vec<PathBuf> = protos_under(&include)
        .into_iter()
        .chain(protos_under(&stubs))
        .collect();
    assert!(protos.len() > 70, "only {} protos", protos.len());

    let project = workspace_root().join("target/generated-check/project");
    let generated = project.join("src/generated");
    if generated.exists() {
        std::fs::remove_dir_all(&generated).unwrap();
    }
    std::fs::create_dir_all(&generated).unwrap();
    protoc(
        &protos,
        &[include, stubs],
        "include_file=protos.rs",
        &generated,
    );
    for package in ["google.api.rs", "google.longrunning.rs", "grpc.testing.rs"] {
        assert!(generated.join(package).is_file(), "no {package}");
    }

    let manifest = format!(
        "[package]\nname = \"generated-check\"\nversion = \"0.0.0\"\nedition = \"2024\"\n\
         publish = false\n\n[workspace]\n\n[dependencies]\n\
         prost = \"0.14\"\nprost-types = \"0.14\"\nrsrpc = {{ path = {:?} }}\n",
        workspace_root().join("runtime")
    );
    std::fs::write(project.join("Cargo.toml"), manifest).unwrap();
    std::fs::write(
        project.join("src/lib.rs"),
        "//! Everything generated for Debian's gRPC and Google API protos.\n\
         #![deny(warnings)]\ninclude!(\"generated/protos.rs\");\n",
    )
    .unwrap();
    // The workspace's lock pins the dependencies to the versions its own build has.
    std::fs::copy(
        workspace_root().join("Cargo.lock"),
        project.join("Cargo.lock"),
    )
    .unwrap();
    cargo(&project, &["build", "--quiet"]);
    cargo(
        &project,
        &["clippy", "--quiet", "--all-targets", "--", "-D", "warnings"],
    );
}
