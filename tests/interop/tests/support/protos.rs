//! The `grpc.testing` protos from Debian's `grpc-proto` package: the ones the Rust side
//! is generated from, and that the Python and Armeria peers compile too.

use std::path::Path;

use super::provision;

/// Where `grpc-proto` installs them; the import root.
pub const ROOT: &str = "/usr/share/grpc-proto";

/// The protos the interop services need, relative to [`ROOT`].
pub const FILES: [&str; 3] = [
    "grpc/testing/test.proto",
    "grpc/testing/messages.proto",
    "grpc/testing/empty.proto",
];

/// The protos' contents, for the stamp of an artifact built from them, so that a
/// `grpc-proto` update rebuilds it.
pub fn contents() -> Result<String, String> {
    let mut all = String::new();
    for proto in FILES {
        let text = provision::input(&Path::new(ROOT).join(proto)).map_err(|err| {
            format!("{err}: install Debian's grpc-proto (apt-get install grpc-proto)")
        })?;
        all.push_str(&text);
    }
    Ok(all)
}
