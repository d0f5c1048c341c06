//! The services the runtime bundles (`rsrpc::health`, `rsrpc::reflection`) check in the
//! code generated for their protos, so that building the runtime never runs protoc. This
//! test regenerates each through the build.rs API and requires the checked-in file to be
//! identical.
//!
//! After a change to the generator or a proto, rewrite them with
//! `RSRPC_BLESS=1 cargo test -p protoc-gen-rsrpc --test bundled_services`.

use std::path::{Path, PathBuf};

/// Set to `1` to rewrite the checked-in files instead of comparing with them.
const BLESS_VAR: &str = "RSRPC_BLESS";

/// A service bundled in the runtime: its proto, under `runtime/proto/`, the file holding
/// the code generated for it, under `runtime/`, and whether that code has a client (the
/// runtime serves health; reflection's client is public, for tools). Every one carries its
/// descriptor set, so that reflection can list it.
struct Bundled {
    proto: &'static str,
    checked_in: &'static str,
    client: bool,
}

const BUNDLED: &[Bundled] = &[
    Bundled {
        proto: "grpc/health/v1/health.proto",
        checked_in: "src/health/generated.rs",
        client: false,
    },
    Bundled {
        proto: "grpc/reflection/v1/reflection.proto",
        checked_in: "src/reflection/grpc.reflection.v1.rs",
        client: true,
    },
    Bundled {
        proto: "grpc/reflection/v1alpha/reflection.proto",
        checked_in: "src/reflection/grpc.reflection.v1alpha.rs",
        client: true,
    },
];

fn runtime_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../runtime")
        .canonicalize()
        .unwrap()
}

/// The code generated for `bundled`: the one file of its package.
fn generate(bundled: &Bundled) -> String {
    let include = runtime_dir().join("proto");
    let out = tempfile::tempdir().unwrap();
    protoc_gen_rsrpc::configure()
        .client(bundled.client)
        .file_descriptor_set(true)
        .out_dir(out.path())
        .compile(&[include.join(bundled.proto)], &[&include])
        .unwrap();
    let mut files: Vec<PathBuf> = std::fs::read_dir(out.path())
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .collect();
    assert_eq!(files.len(), 1, "{}: one package, one file", bundled.proto);
    std::fs::read_to_string(files.pop().unwrap()).unwrap()
}

#[test]
fn checked_in_code_of_bundled_services_is_up_to_date() {
    let bless = std::env::var(BLESS_VAR).as_deref() == Ok("1");
    let mut stale = Vec::new();
    for bundled in BUNDLED {
        let path = runtime_dir().join(bundled.checked_in);
        let generated = generate(bundled);
        if bless {
            std::fs::write(&path, generated).unwrap();
        } else if std::fs::read_to_string(&path).ok() != Some(generated) {
            stale.push(format!(
                "runtime/{} (from {})",
                bundled.checked_in, bundled.proto
            ));
        }
    }
    assert!(
        stale.is_empty(),
        "checked-in generated code is stale or missing:\n    {}\n\
         If the change is intended, rewrite it with\n    \
         {BLESS_VAR}=1 cargo test -p protoc-gen-rsrpc --test bundled_services\n\
         and review its diff.",
        stale.join("\n    ")
    );
}
