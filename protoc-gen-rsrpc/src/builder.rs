//! The `build.rs` API: run protoc, then the same generator as the plugin.

use std::io;
use std::path::{Path, PathBuf};

use prost_types::compiler::CodeGeneratorRequest;

use crate::generator::generate;
use crate::options::Options;
use crate::protoc;

/// Starts a [`Builder`] with default options.
pub fn configure() -> Builder {
    Builder::default()
}

/// Generates rsrpc code from a `build.rs`, producing exactly what the protoc
/// plugin produces for the same protos and options.
///
/// ```no_run
/// // build.rs
/// fn main() -> std::io::Result<()> {
///     protoc_gen_rsrpc::configure()
///         .client(false)
///         .include_file("protos.rs")
///         .compile(&["proto/route_guide.proto"], &["proto"])
/// }
/// ```
#[derive(Debug, Clone, Default)]
pub struct Builder {
    options: Options,
    out_dir: Option<PathBuf>,
    protoc: Option<PathBuf>,
}

impl Builder {
    /// Whether to generate servers (default true).
    pub fn server(mut self, enabled: bool) -> Self {
        self.options.server = enabled;
        self
    }

    /// Whether to generate clients (default true).
    pub fn client(mut self, enabled: bool) -> Self {
        self.options.client = enabled;
        self
    }

    /// Uses `rust_path` for the protobuf path `proto_path` (and everything
    /// below it) instead of generating it, e.g. `(".common", "::common_protos")`.
    pub fn extern_path(
        mut self,
        proto_path: impl Into<String>,
        rust_path: impl Into<String>,
    ) -> Self {
        self.options
            .extern_paths
            .push((proto_path.into(), rust_path.into()));
        self
    }

    /// Adds `attribute` (e.g. `#[derive(Eq)]`) to messages and enums matching `path`.
    pub fn type_attribute(mut self, path: impl Into<String>, attribute: impl Into<String>) -> Self {
        self.options
            .type_attributes
            .push((path.into(), attribute.into()));
        self
    }

    /// Adds `attribute` to fields matching `path`.
    pub fn field_attribute(
        mut self,
        path: impl Into<String>,
        attribute: impl Into<String>,
    ) -> Self {
        self.options
            .field_attributes
            .push((path.into(), attribute.into()));
        self
    }

    /// Adds `attribute` to enums matching `path`.
    pub fn enum_attribute(mut self, path: impl Into<String>, attribute: impl Into<String>) -> Self {
        self.options
            .enum_attributes
            .push((path.into(), attribute.into()));
        self
    }

    /// Adds `attribute` to messages matching `path`.
    pub fn message_attribute(
        mut self,
        path: impl Into<String>,
        attribute: impl Into<String>,
    ) -> Self {
        self.options
            .message_attributes
            .push((path.into(), attribute.into()));
        self
    }

    /// Generates `bytes` fields matching `path` as `bytes::Bytes`.
    pub fn bytes(mut self, path: impl Into<String>) -> Self {
        self.options.bytes.push(path.into());
        self
    }

    /// Generates `map` fields matching `path` as `BTreeMap`.
    pub fn btree_map(mut self, path: impl Into<String>) -> Self {
        self.options.btree_map.push(path.into());
        self
    }

    /// Wraps message fields matching `path` in a `Box`.
    pub fn boxed(mut self, path: impl Into<String>) -> Self {
        self.options.boxed.push(path.into());
        self
    }

    /// Also writes `name`, a module tree including every generated file,
    /// for use with `include!(concat!(env!("OUT_DIR"), "/<name>"))`.
    pub fn include_file(mut self, name: impl Into<String>) -> Self {
        self.options.include_file = Some(name.into());
        self
    }

    /// Whether to generate `google.protobuf` types instead of using
    /// `prost-types` (default false).
    pub fn compile_well_known_types(mut self, enabled: bool) -> Self {
        self.options.compile_well_known_types = enabled;
        self
    }

    /// Omits the comments of items matching `path` from the generated docs.
    pub fn disable_comments(mut self, path: impl Into<String>) -> Self {
        self.options.disable_comments.push(path.into());
        self
    }

    /// Whether to give each package's file a `FILE_DESCRIPTOR_SET` constant,
    /// the encoded descriptors of its files and all they import, to register
    /// with `rsrpc::reflection` (default false).
    pub fn file_descriptor_set(mut self, enabled: bool) -> Self {
        self.options.file_descriptor_set = enabled;
        self
    }

    /// Whether messages may also travel in the canonical protobuf JSON mapping (default
    /// false): gRPC-Web and Connect clients in browsers speak it. The generated code
    /// then needs rsrpc's `json` feature.
    pub fn json(mut self, enabled: bool) -> Self {
        self.options.json = enabled;
        self
    }

    /// Where to write the generated files (default `$OUT_DIR`).
    pub fn out_dir(mut self, path: impl Into<PathBuf>) -> Self {
        self.out_dir = Some(path.into());
        self
    }

    /// The `protoc` to run (default `$PROTOC`, else the vendored one).
    pub fn protoc(mut self, path: impl Into<PathBuf>) -> Self {
        self.protoc = Some(path.into());
        self
    }

    /// Compiles `protos`, found under `includes`, into the output directory.
    ///
    /// Each proto is named relative to the first include directory holding
    /// it, as protoc does; the well-known types are always importable. Files
    /// are only rewritten when their content changes, and Cargo is told to
    /// rerun the build script when an input or an import under `includes`
    /// changes.
    ///
    /// Fails with protoc's or the generator's message.
    pub fn compile(
        &self,
        protos: &[impl AsRef<Path>],
        includes: &[impl AsRef<Path>],
    ) -> io::Result<()> {
        let out_dir = self.resolved_out_dir()?;
        let includes: Vec<PathBuf> = includes.iter().map(|p| p.as_ref().to_owned()).collect();
        let mut search_path = includes
            .iter()
            .map(|include| protoc::canonical(include, "include directory"))
            .collect::<io::Result<Vec<_>>>()?;
        let protos = protos
            .iter()
            .map(|proto| protoc::canonical(proto.as_ref(), "proto file"))
            .collect::<io::Result<Vec<_>>>()?;
        let file_to_generate = protos
            .iter()
            .map(|proto| protoc::virtual_name(proto, &search_path))
            .collect::<io::Result<Vec<_>>>()?;
        // Last, so user includes can shadow the bundled well-known types.
        search_path.push(protoc::well_known_include()?);

        let protoc = protoc::executable(self.protoc.as_deref())?;
        let set = protoc::descriptor_set(&protoc, &protos, &search_path)?;
        let request = CodeGeneratorRequest {
            file_to_generate,
            proto_file: set.file,
            ..CodeGeneratorRequest::default()
        };
        let response = generate(&request, &self.options);
        if let Some(error) = response.error {
            return Err(io::Error::other(error));
        }

        std::fs::create_dir_all(&out_dir)?;
        for file in &response.file {
            write_if_changed(&out_dir.join(file.name()), file.content())?;
        }
        emit_rerun_if_changed(&request.proto_file, &includes);
        Ok(())
    }

    fn resolved_out_dir(&self) -> io::Result<PathBuf> {
        match &self.out_dir {
            Some(dir) => Ok(dir.clone()),
            None => std::env::var_os("OUT_DIR")
                .map(PathBuf::from)
                .ok_or_else(|| {
                    io::Error::other("OUT_DIR is not set: call `out_dir` outside build scripts")
                }),
        }
    }
}

fn write_if_changed(path: &Path, content: &str) -> io::Result<()> {
    if std::fs::read(path).is_ok_and(|existing| existing == content.as_bytes()) {
        return Ok(());
    }
    std::fs::write(path, content)
}

/// Tells Cargo about every compiled file found under `includes`: the inputs
/// and their imports, but not the bundled well-known types, which only
/// change with this crate.
fn emit_rerun_if_changed(files: &[prost_types::FileDescriptorProto], includes: &[PathBuf]) {
    println!("cargo:rerun-if-env-changed=PROTOC");
    let sources = files.iter().filter_map(|file| {
        includes
            .iter()
            .map(|include| include.join(file.name()))
            .find(|path| path.is_file())
    });
    for source in sources {
        println!("cargo:rerun-if-changed={}", source.display());
    }
}
