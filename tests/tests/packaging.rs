//! The published crates, rsrpc and protoc-gen-rsrpc, ship their sources, manifest and
//! README and nothing else, with the metadata crates.io shows. `cargo package --list`
//! checks that in seconds; `.ci/run` also packages both in full, which builds them again
//! from the packaged files.

use std::process::Command;

use rsrpc_tests::tools::workspace_root;

/// The files `cargo package` would put in `package`, and what it warned about.
fn package_list(package: &str) -> (Vec<String>, String) {
    // Dirty trees are the norm while developing; .ci/run packages a clean clone.
    let output = Command::new(env!("CARGO"))
        .args(["package", "--list", "--allow-dirty", "-p", package])
        .current_dir(workspace_root())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(
        output.status.success(),
        "cargo package -p {package}: {stderr}"
    );
    let files = String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect();
    (files, stderr)
}

#[test]
fn the_published_crates_ship_sources_manifest_and_readme_only() {
    for package in ["rsrpc", "protoc-gen-rsrpc"] {
        let (files, warnings) = package_list(package);
        for expected in ["Cargo.toml", "README.md", "src/lib.rs"] {
            assert!(
                files.iter().any(|file| file == expected),
                "{package} lacks {expected}: {files:?}"
            );
        }
        let stray: Vec<&String> = files
            .iter()
            .filter(|file| !file.starts_with("src/") || !file.ends_with(".rs"))
            .filter(|file| {
                let packaging = [".cargo_vcs_info.json", "Cargo.lock", "Cargo.toml.orig"];
                !["Cargo.toml", "README.md"].contains(&file.as_str())
                    && !packaging.contains(&file.as_str())
            })
            .collect();
        assert!(stray.is_empty(), "{package} ships {stray:?}");
        // Missing description, license, documentation or the like.
        assert!(
            !warnings.contains("manifest has no"),
            "{package}: {warnings}"
        );
    }
}
