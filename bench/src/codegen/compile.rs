//! Throwaway crates that compile generated code, to time how long it takes.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io;
use std::path::{Path, PathBuf};
use std::process::Command;

use super::timing::{Timing, timed};

/// A crate under `target/` holding one generator's output.
#[derive(Debug, Clone)]
pub struct ThrowawayCrate {
    /// Its directory.
    pub dir: PathBuf,
    /// The target directory its builds use.
    pub target_dir: PathBuf,
    /// The library that includes the generated code.
    lib: String,
}

impl ThrowawayCrate {
    /// Writes a crate named `name` into `dir` with `dependencies` (TOML lines) and a
    /// copy of every generated file under `generated`; its library stays empty until
    /// [`ThrowawayCrate::include_generated`]. `lockfile` is copied in so that
    /// dependencies resolve to the workspace's versions.
    pub fn write(
        dir: &Path,
        target_dir: &Path,
        name: &str,
        dependencies: &str,
        generated: &Path,
        lockfile: &Path,
    ) -> io::Result<ThrowawayCrate> {
        let _ = std::fs::remove_dir_all(dir);
        let copied = dir.join("gen");
        copy_tree(generated, &copied)?;
        std::fs::create_dir_all(dir.join("src"))?;
        // `[workspace]`: the crate sits under the repository's workspace but is no member.
        let manifest = format!(
            "[package]\nname = \"{name}\"\nversion = \"0.0.0\"\nedition = \"2024\"\n\
             publish = false\n\n[lib]\npath = \"src/lib.rs\"\n\n[dependencies]\n{dependencies}\n\
             [workspace]\n"
        );
        std::fs::write(dir.join("Cargo.toml"), manifest)?;
        std::fs::copy(lockfile, dir.join("Cargo.lock"))?;
        std::fs::write(dir.join("src/lib.rs"), "//! Dependencies only, for now.\n")?;
        let mut lib = String::from("//! Generated code under test.\n#![allow(warnings)]\n");
        lib.push_str(&module_tree(&package_files(&copied)?));
        Ok(ThrowawayCrate {
            dir: dir.to_owned(),
            target_dir: target_dir.to_owned(),
            lib,
        })
    }

    /// Makes the library include the generated code, or, when it already does, marks
    /// it changed: either way the next build compiles the crate (and only it) again.
    pub fn include_generated(&self) -> io::Result<()> {
        // Cargo compares modification times; make sure this one moves past the last
        // build's.
        std::thread::sleep(std::time::Duration::from_millis(10));
        std::fs::write(self.dir.join("src/lib.rs"), &self.lib)
    }

    /// Builds the crate (debug profile, no incremental cache), timing it.
    pub fn build(&self) -> Result<Timing, String> {
        timed(&mut self.cargo_build())
    }

    /// The build command, for the record.
    pub fn cargo_build(&self) -> Command {
        let mut command = Command::new("cargo");
        command
            .args(["build", "--quiet", "--manifest-path"])
            .arg(self.dir.join("Cargo.toml"))
            .env("CARGO_TARGET_DIR", &self.target_dir)
            // Incremental compilation would reuse the last build's work after a touch.
            .env("CARGO_INCREMENTAL", "0");
        command
    }
}

/// Every generated package file under `dir`, by package: `<package>.rs`, wherever the
/// generator put it (service files that prost's files include are skipped).
fn package_files(dir: &Path) -> io::Result<BTreeMap<String, PathBuf>> {
    let mut packages = BTreeMap::new();
    for path in walk(dir)? {
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if let Some(package) = name.strip_suffix(".rs")
            && !package.ends_with(".tonic")
        {
            packages.insert(package.to_owned(), path);
        }
    }
    Ok(packages)
}

/// Nested `pub mod`s following the package names, each package's file `include!`d.
fn module_tree(packages: &BTreeMap<String, PathBuf>) -> String {
    let mut out = String::new();
    let mut open: Vec<&str> = Vec::new();
    for (package, path) in packages {
        let segments: Vec<&str> = package.split('.').collect();
        let common = open
            .iter()
            .zip(&segments)
            .take_while(|(a, b)| a == b)
            .count();
        while open.len() > common {
            open.pop();
            out.push_str("}\n");
        }
        for segment in &segments[common..] {
            let _ = writeln!(out, "pub mod {segment} {{");
            open.push(segment);
        }
        let _ = writeln!(out, "include!({:?});", path.display().to_string());
        // The package's own module closes at once: no package nests in another here.
        open.pop();
        out.push_str("}\n");
    }
    for _ in open {
        out.push_str("}\n");
    }
    out
}

/// Every file under `dir`, recursively.
fn walk(dir: &Path) -> io::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            files.extend(walk(&path)?);
        } else {
            files.push(path);
        }
    }
    Ok(files)
}

/// Copies every file under `from` to the same place under `to`.
fn copy_tree(from: &Path, to: &Path) -> io::Result<()> {
    for file in walk(from)? {
        let relative = file.strip_prefix(from).expect("walked under `from`");
        let target = to.join(relative);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::copy(&file, &target)?;
    }
    Ok(())
}

/// Total size of the files under `dir`, in bytes.
pub fn tree_size(dir: &Path) -> io::Result<u64> {
    walk(dir)?
        .iter()
        .map(|file| Ok(std::fs::metadata(file)?.len()))
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn module_tree_nests_by_package() {
        let packages: BTreeMap<String, PathBuf> = [
            ("a.b", "/g/a.b.rs"),
            ("a.c", "/g/a/c/a.c.rs"),
            ("d", "/g/d.rs"),
        ]
        .into_iter()
        .map(|(package, path)| (package.to_owned(), PathBuf::from(path)))
        .collect();
        let tree = module_tree(&packages);
        assert_eq!(
            tree,
            "pub mod a {\npub mod b {\ninclude!(\"/g/a.b.rs\");\n}\npub mod c {\n\
             include!(\"/g/a/c/a.c.rs\");\n}\n}\npub mod d {\ninclude!(\"/g/d.rs\");\n}\n"
        );
    }
}
