//! Rust types for rpc requests and responses, as seen from generated modules.

use proc_macro2::TokenStream;
use quote::ToTokens;

use crate::options::Options;
use crate::proto_path;

/// Turns prost's resolved message paths into paths valid inside the
/// generated `*_server` / `*_client` modules.
///
/// prost resolves a message either to a path relative to the package module
/// (`Point`, `super::other::Msg`) or, for extern and well-known types, to a
/// path that means the same anywhere (`::prost_types::Timestamp`, `()`,
/// `bool`). Only the former gets a `super::` prefix, since our modules sit
/// one level below the package module. Which is which is decided from the
/// protobuf name, using the same extern paths prost was given.
#[derive(Debug, Clone)]
pub struct TypeResolver {
    extern_prefixes: Vec<String>,
}

impl TypeResolver {
    /// Collects the extern protobuf paths prost will use with `options`.
    pub fn new(options: &Options) -> Self {
        let mut extern_prefixes: Vec<String> = options
            .extern_paths
            .iter()
            .map(|(proto_path, _)| proto_path.clone())
            .collect();
        if !options.compile_well_known_types {
            // prost-build maps these to `prost-types` (or primitives) itself.
            extern_prefixes.push(".google.protobuf".to_owned());
        }
        Self { extern_prefixes }
    }

    /// The tokens of the Rust type prost resolved `proto_type` to.
    ///
    /// Fails with the offending path if it is not a Rust type, which can only
    /// come from a malformed extern path.
    pub fn resolve(&self, proto_type: &str, rust_type: &str) -> Result<TokenStream, String> {
        let is_extern = self
            .extern_prefixes
            .iter()
            .any(|prefix| proto_path::has_prefix_segments(proto_type, prefix));
        let path = if is_extern {
            rust_type.to_owned()
        } else {
            format!("super::{rust_type}")
        };
        syn::parse_str::<syn::Type>(&path)
            .map(|ty| ty.into_token_stream())
            .map_err(|_| format!("`{path}` (for `{proto_type}`) is not a Rust type"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolve(options: &Options, proto: &str, rust: &str) -> String {
        TypeResolver::new(options)
            .resolve(proto, rust)
            .unwrap()
            .to_string()
    }

    #[test]
    fn prefixes_package_relative_paths_only() {
        let options = Options {
            extern_paths: vec![(".ext".to_owned(), "ext_crate::protos".to_owned())],
            ..Options::default()
        };
        assert_eq!(resolve(&options, ".pkg.Point", "Point"), "super :: Point");
        assert_eq!(
            resolve(&options, ".other.Msg", "super::other::Msg"),
            "super :: super :: other :: Msg"
        );
        assert_eq!(resolve(&options, ".google.protobuf.Empty", "()"), "()");
        assert_eq!(
            resolve(&options, ".google.protobuf.BoolValue", "bool"),
            "bool"
        );
        assert_eq!(
            resolve(&options, ".ext.Msg", "ext_crate::protos::Msg"),
            "ext_crate :: protos :: Msg"
        );
        assert_eq!(
            resolve(&options, ".external.Msg", "super::external::Msg"),
            "super :: super :: external :: Msg"
        );
    }

    #[test]
    fn compiled_well_known_types_are_package_relative() {
        let options = Options {
            compile_well_known_types: true,
            ..Options::default()
        };
        assert_eq!(
            resolve(
                &options,
                ".google.protobuf.Empty",
                "super::google::protobuf::Empty"
            ),
            "super :: super :: google :: protobuf :: Empty"
        );
    }

    #[test]
    fn rejects_non_types() {
        let resolver = TypeResolver::new(&Options::default());
        assert!(
            resolver
                .resolve(".google.protobuf.X", "not a type")
                .is_err()
        );
    }
}
