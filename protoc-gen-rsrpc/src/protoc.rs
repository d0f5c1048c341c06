//! Running `protoc` for the builder: locating it, naming inputs the way
//! protoc does, and reading back the descriptor set.

use std::ffi::OsString;
use std::io;
use std::path::{Component, Path, PathBuf};
use std::process::Command;

use prost::Message;
use prost_types::FileDescriptorSet;

/// The `protoc` to run: `explicit` if given, else `$PROTOC`, else the one
/// vendored by `protoc-bin-vendored`.
pub fn executable(explicit: Option<&Path>) -> io::Result<PathBuf> {
    if let Some(path) = explicit {
        return Ok(path.to_owned());
    }
    if let Some(path) = std::env::var_os("PROTOC") {
        return Ok(path.into());
    }
    protoc_bin_vendored::protoc_bin_path()
        .map_err(|error| io::Error::other(format!("no vendored protoc for this platform: {error}")))
}

/// The directory holding the well-known `.proto` files (`google/protobuf/*`).
pub fn well_known_include() -> io::Result<PathBuf> {
    protoc_bin_vendored::include_path().map_err(|error| {
        io::Error::other(format!(
            "no vendored protobuf includes for this platform: {error}"
        ))
    })
}

/// The canonical form of `path` (protoc compares paths as text, so inputs
/// and include directories must be spelled alike); `what` names it in errors.
pub fn canonical(path: &Path, what: &str) -> io::Result<PathBuf> {
    path.canonicalize().map_err(|error| {
        io::Error::new(
            error.kind(),
            format!("{what} `{}`: {error}", path.display()),
        )
    })
}

/// The name protoc gives `proto` (a canonical path): its path relative to
/// the first of `includes` (canonical too) containing it, `/`-separated.
pub fn virtual_name(proto: &Path, includes: &[PathBuf]) -> io::Result<String> {
    let relative = includes
        .iter()
        .find_map(|include| proto.strip_prefix(include).ok())
        .ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("`{}` is not inside any include directory", proto.display()),
            )
        })?;
    let parts: Option<Vec<&str>> = relative
        .components()
        .map(|component| match component {
            Component::Normal(part) => part.to_str(),
            _ => None,
        })
        .collect();
    parts.map(|parts| parts.join("/")).ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("`{}` is not a valid protobuf file name", relative.display()),
        )
    })
}

/// Runs `protoc` on `protos` and returns the descriptors of them and
/// everything they import, with source info (for comments).
pub fn descriptor_set(
    protoc: &Path,
    protos: &[PathBuf],
    includes: &[PathBuf],
) -> io::Result<FileDescriptorSet> {
    let out = tempfile::tempdir()?;
    let set_path = out.path().join("descriptor_set.pb");
    let mut descriptor_set_out = OsString::from("--descriptor_set_out=");
    descriptor_set_out.push(&set_path);

    let mut command = Command::new(protoc);
    command
        .arg("--include_imports")
        .arg("--include_source_info")
        .arg(descriptor_set_out);
    for include in includes {
        command.arg("-I").arg(include);
    }
    command.args(protos);

    let output = command.output().map_err(|error| {
        io::Error::new(
            error.kind(),
            format!("cannot run protoc `{}`: {error}", protoc.display()),
        )
    })?;
    if !output.status.success() {
        return Err(io::Error::other(format!(
            "protoc failed: {}",
            String::from_utf8_lossy(&output.stderr).trim_end()
        )));
    }
    let bytes = std::fs::read(&set_path)?;
    FileDescriptorSet::decode(bytes.as_slice()).map_err(|error| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("protoc wrote an invalid descriptor set: {error}"),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_files_relative_to_the_first_containing_include() {
        let includes = [PathBuf::from("/p/other"), PathBuf::from("/p/protos")];
        let name = virtual_name(Path::new("/p/protos/a/b.proto"), &includes).unwrap();
        assert_eq!(name, "a/b.proto");
        assert!(virtual_name(Path::new("/q/b.proto"), &includes).is_err());
    }
}
