//! Running protoc over the corpus with each generator, and installing the prost and
//! tonic plugins from crates.io.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The pinned versions of the crates.io plugins.
pub const PROST_PLUGIN: &str = "protoc-gen-prost@0.5.0";
/// See [`PROST_PLUGIN`].
pub const TONIC_PLUGIN: &str = "protoc-gen-tonic@0.5.0";

/// A way to turn the corpus into Rust.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Generator {
    /// `protoc-gen-rsrpc`: messages and services in one plugin.
    Rsrpc,
    /// `protoc-gen-prost` for messages plus `protoc-gen-tonic` for services.
    ProstTonic,
    /// protoc writing a descriptor set only: what parsing the corpus costs alone.
    ProtocOnly,
}

impl Generator {
    /// The column label.
    pub fn label(self) -> &'static str {
        match self {
            Generator::Rsrpc => "rsrpc",
            Generator::ProstTonic => "prost+tonic",
            Generator::ProtocOnly => "protoc alone",
        }
    }
}

/// Where the executables are.
#[derive(Debug, Clone)]
pub struct Tools {
    /// The vendored protoc.
    pub protoc: PathBuf,
    /// `target/release/protoc-gen-rsrpc`.
    pub rsrpc: PathBuf,
    /// Root of the `cargo install` of the crates.io plugins (binaries under `bin/`).
    pub installed: PathBuf,
}

impl Tools {
    /// The installed `protoc-gen-prost`.
    fn prost(&self) -> PathBuf {
        self.installed.join("bin/protoc-gen-prost")
    }

    /// The installed `protoc-gen-tonic`.
    fn tonic(&self) -> PathBuf {
        self.installed.join("bin/protoc-gen-tonic")
    }

    /// Installs the crates.io plugins unless they are there; the command is returned
    /// for the record, the error if the install fails.
    pub fn install_crates_io_plugins(&self) -> Result<String, String> {
        let line = format!(
            "cargo install --locked --root {} {PROST_PLUGIN} {TONIC_PLUGIN}",
            self.installed.display()
        );
        if self.prost().exists() && self.tonic().exists() {
            return Ok(line);
        }
        let output = Command::new("cargo")
            .args(["install", "--locked", "--root"])
            .arg(&self.installed)
            .args([PROST_PLUGIN, TONIC_PLUGIN])
            .output()
            .map_err(|e| format!("cannot run cargo install: {e}"))?;
        if output.status.success() {
            Ok(line)
        } else {
            let stderr = String::from_utf8_lossy(&output.stderr);
            let tail: Vec<&str> = stderr.lines().rev().take(10).collect();
            Err(format!("`{line}` failed: {}", tail.join(" / ")))
        }
    }

    /// The protoc command that runs `generator` on `files` (relative to `corpus`),
    /// writing into `out`.
    pub fn protoc(
        &self,
        generator: Generator,
        corpus: &Path,
        files: &[String],
        out: &Path,
    ) -> Command {
        let mut command = Command::new(&self.protoc);
        match generator {
            Generator::Rsrpc => {
                command
                    .arg(plugin_flag("rsrpc", &self.rsrpc))
                    .arg(out_flag("rsrpc", out));
            }
            Generator::ProstTonic => {
                // prost first: tonic inserts its `include!` into prost's files.
                command
                    .arg(plugin_flag("prost", &self.prost()))
                    .arg(plugin_flag("tonic", &self.tonic()))
                    .arg(out_flag("prost", out))
                    .arg(out_flag("tonic", out));
            }
            Generator::ProtocOnly => {
                command.arg(format!(
                    "--descriptor_set_out={}",
                    out.join("set.pb").display()
                ));
            }
        }
        command
            .arg("-I")
            .arg(corpus)
            .args(files)
            .current_dir(corpus);
        command
    }
}

/// `--plugin=protoc-gen-NAME=PATH`.
fn plugin_flag(name: &str, path: &Path) -> String {
    format!("--plugin=protoc-gen-{name}={}", path.display())
}

/// `--NAME_out=OUT`.
fn out_flag(name: &str, out: &Path) -> String {
    format!("--{name}_out={}", out.display())
}
