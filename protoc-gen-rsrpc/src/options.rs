//! Code generation options, and parsing them from protoc's `--rsrpc_opt`.

use std::fmt;

use syn::parse::Parser;

use crate::params;

/// What to generate and how: the settings shared by the protoc plugin
/// (parsed from `--rsrpc_opt`) and the [`Builder`](crate::Builder).
///
/// Paths follow prost-build's matching rules: `.` selects everything, a
/// leading `.` selects a fully-qualified name and all below it (`.my.pkg`),
/// and no leading `.` matches a suffix (`Message.field`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Options {
    /// Generate server traits and routers (`server=BOOL`, default true).
    pub server: bool,
    /// Generate clients (`client=BOOL`, default true).
    pub client: bool,
    /// Protobuf paths provided by other crates, as `(".proto.path", "::rust::path")`
    /// (`extern_path=.proto.path=::rust::path`).
    pub extern_paths: Vec<(String, String)>,
    /// Attributes for matching messages and enums (`type_attribute=PATH=ATTR`).
    pub type_attributes: Vec<(String, String)>,
    /// Attributes for matching fields (`field_attribute=PATH=ATTR`).
    pub field_attributes: Vec<(String, String)>,
    /// Attributes for matching enums (`enum_attribute=PATH=ATTR`).
    pub enum_attributes: Vec<(String, String)>,
    /// Attributes for matching messages (`message_attribute=PATH=ATTR`).
    pub message_attributes: Vec<(String, String)>,
    /// `bytes` fields to generate as `bytes::Bytes` instead of `Vec<u8>` (`bytes=PATH`).
    pub bytes: Vec<String>,
    /// `map` fields to generate as `BTreeMap` instead of `HashMap` (`btree_map=PATH`).
    pub btree_map: Vec<String>,
    /// Message fields to wrap in a `Box` (`boxed=PATH`).
    pub boxed: Vec<String>,
    /// Name of an extra file with a module tree including every generated
    /// file (`include_file=NAME`).
    pub include_file: Option<String>,
    /// Generate `google.protobuf` types instead of using `prost-types`
    /// (`compile_well_known_types[=BOOL]`, default false).
    pub compile_well_known_types: bool,
    /// Items whose comments are not turned into docs (`disable_comments=PATH`).
    pub disable_comments: Vec<String>,
    /// Give each package's file a `FILE_DESCRIPTOR_SET` constant: the encoded
    /// descriptors of the package's files and all they import, for server
    /// reflection (`file_descriptor_set[=BOOL]`, default false).
    pub file_descriptor_set: bool,
    /// Let messages travel in the canonical protobuf JSON mapping too (`json[=BOOL]`,
    /// default false): each message implements `prost_reflect::ReflectMessage` from the
    /// package's `FILE_DESCRIPTOR_SET` (implied), and servers and clients use
    /// `rsrpc::codec::JsonCodec`. Needs rsrpc's `json` feature.
    pub json: bool,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            server: true,
            client: true,
            extern_paths: Vec::new(),
            type_attributes: Vec::new(),
            field_attributes: Vec::new(),
            enum_attributes: Vec::new(),
            message_attributes: Vec::new(),
            bytes: Vec::new(),
            btree_map: Vec::new(),
            boxed: Vec::new(),
            include_file: None,
            compile_well_known_types: false,
            disable_comments: Vec::new(),
            file_descriptor_set: false,
            json: false,
        }
    }
}

/// Why an options string or an [`Options`] value was rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OptionsError {
    /// The key is not one this generator knows.
    UnknownKey(String),
    /// The key needs a value but was given none.
    MissingValue {
        /// The key, e.g. `extern_path`.
        key: String,
        /// A description of the values the key accepts.
        expected: &'static str,
    },
    /// The key's value is malformed.
    InvalidValue {
        /// The key, e.g. `server`.
        key: String,
        /// The rejected value, as written.
        value: String,
        /// A description of the values the key accepts.
        expected: &'static str,
    },
}

impl fmt::Display for OptionsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::UnknownKey(key) => write!(f, "unknown parameter `{key}`"),
            Self::MissingValue { key, expected } => {
                write!(f, "missing value for `{key}`: expected {expected}")
            }
            Self::InvalidValue {
                key,
                value,
                expected,
            } => write!(
                f,
                "invalid value `{value}` for `{key}`: expected {expected}"
            ),
        }
    }
}

impl std::error::Error for OptionsError {}

const EXPECT_BOOL: &str = "true or false";
const EXPECT_EXTERN: &str = "`.proto.path=::rust::path`, e.g. `.google.protobuf=::prost_types`";
const EXPECT_ATTRIBUTE: &str = "`PATH=ATTRIBUTES`, e.g. `.my.pkg.Message=#[derive(Eq)]`";
const EXPECT_PATH: &str = "a protobuf path, e.g. `.my.pkg.Message` or `.` for everything";
const EXPECT_FILE_NAME: &str = "a file name without path separators, e.g. `protos.rs`";

/// A field of [`Options`] that a key sets, by the shape of its value.
enum Slot<'a> {
    /// `key`, `key=true` or `key=false`.
    Bool(&'a mut bool),
    /// `key=LEFT=RIGHT`, appended; with a description of the expected value.
    Pairs(&'a mut Vec<(String, String)>, &'static str),
    /// `key=PATH`, appended.
    Paths(&'a mut Vec<String>),
    /// `key=NAME`, replacing any earlier one.
    FileName(&'a mut Option<String>),
}

/// The keys taking `PATH=ATTRIBUTES`, with where their values are kept.
type AttributeKeys<'a> = [(&'static str, &'a Vec<(String, String)>); 4];

impl Options {
    /// Whether each package's file gets its `FILE_DESCRIPTOR_SET`: asked for, or needed
    /// by the JSON mapping.
    pub fn emits_descriptor_set(&self) -> bool {
        self.file_descriptor_set || self.json
    }

    /// The rsrpc codec that generated servers and clients name.
    pub fn codec(&self) -> proc_macro2::TokenStream {
        match self.json {
            true => quote::quote! { ::rsrpc::codec::JsonCodec },
            false => quote::quote! { ::rsrpc::codec::ProstCodec },
        }
    }

    /// Parses protoc's `--rsrpc_opt` string: comma-separated `key=value`
    /// entries, where `\,` is a literal comma and `\\` a literal backslash.
    ///
    /// Boolean keys accept a bare `key` as `key=true`. The empty string gives
    /// the defaults.
    pub fn parse(parameter: &str) -> Result<Options, OptionsError> {
        let mut options = Options::default();
        for entry in params::split_entries(parameter) {
            let (key, value) = params::split_key_value(&entry);
            options.apply(key, value)?;
        }
        options.validate()?;
        Ok(options)
    }

    /// Checks the values that are free-form strings: protobuf paths,
    /// attributes, Rust paths and the include file name.
    ///
    /// [`generate`](crate::generate) calls this, so options built in code
    /// are held to the same rules as parsed ones.
    pub fn validate(&self) -> Result<(), OptionsError> {
        for (proto_path, rust_path) in &self.extern_paths {
            check_extern_path(proto_path, rust_path)?;
        }
        for (key, entries) in self.attribute_keys() {
            for (path, attribute) in entries {
                check_attribute(key, path, attribute)?;
            }
        }
        for (key, paths) in self.path_keys() {
            for path in paths {
                check_path(key, path)?;
            }
        }
        if let Some(name) = &self.include_file {
            check_file_name(name)?;
        }
        Ok(())
    }

    /// Applies one `key[=value]` entry.
    fn apply(&mut self, key: &str, value: Option<&str>) -> Result<(), OptionsError> {
        let slot = self
            .slot(key)
            .ok_or_else(|| OptionsError::UnknownKey(key.to_owned()))?;
        match slot {
            Slot::Bool(flag) => *flag = parse_bool(key, value)?,
            Slot::Pairs(pairs, expected) => pairs.push(parse_pair(key, value, expected)?),
            Slot::Paths(paths) => paths.push(require(key, value, EXPECT_PATH)?),
            Slot::FileName(name) => *name = Some(require(key, value, EXPECT_FILE_NAME)?),
        }
        Ok(())
    }

    /// Where the value of `key` goes, or `None` for an unknown key.
    fn slot(&mut self, key: &str) -> Option<Slot<'_>> {
        Some(match key {
            "server" => Slot::Bool(&mut self.server),
            "client" => Slot::Bool(&mut self.client),
            "compile_well_known_types" => Slot::Bool(&mut self.compile_well_known_types),
            "file_descriptor_set" => Slot::Bool(&mut self.file_descriptor_set),
            "json" => Slot::Bool(&mut self.json),
            "extern_path" => Slot::Pairs(&mut self.extern_paths, EXPECT_EXTERN),
            "type_attribute" => Slot::Pairs(&mut self.type_attributes, EXPECT_ATTRIBUTE),
            "field_attribute" => Slot::Pairs(&mut self.field_attributes, EXPECT_ATTRIBUTE),
            "enum_attribute" => Slot::Pairs(&mut self.enum_attributes, EXPECT_ATTRIBUTE),
            "message_attribute" => Slot::Pairs(&mut self.message_attributes, EXPECT_ATTRIBUTE),
            "bytes" => Slot::Paths(&mut self.bytes),
            "btree_map" => Slot::Paths(&mut self.btree_map),
            "boxed" => Slot::Paths(&mut self.boxed),
            "disable_comments" => Slot::Paths(&mut self.disable_comments),
            "include_file" => Slot::FileName(&mut self.include_file),
            _ => return None,
        })
    }

    fn attribute_keys(&self) -> AttributeKeys<'_> {
        [
            ("type_attribute", &self.type_attributes),
            ("field_attribute", &self.field_attributes),
            ("enum_attribute", &self.enum_attributes),
            ("message_attribute", &self.message_attributes),
        ]
    }

    fn path_keys(&self) -> [(&'static str, &Vec<String>); 4] {
        [
            ("bytes", &self.bytes),
            ("btree_map", &self.btree_map),
            ("boxed", &self.boxed),
            ("disable_comments", &self.disable_comments),
        ]
    }
}

fn parse_bool(key: &str, value: Option<&str>) -> Result<bool, OptionsError> {
    match value {
        None | Some("true") => Ok(true),
        Some("false") => Ok(false),
        Some(other) => Err(invalid(key, other, EXPECT_BOOL)),
    }
}

fn require(key: &str, value: Option<&str>, expected: &'static str) -> Result<String, OptionsError> {
    value
        .map(str::to_owned)
        .ok_or_else(|| OptionsError::MissingValue {
            key: key.to_owned(),
            expected,
        })
}

/// Splits a `LEFT=RIGHT` value on its first `=`.
fn parse_pair(
    key: &str,
    value: Option<&str>,
    expected: &'static str,
) -> Result<(String, String), OptionsError> {
    let value = require(key, value, expected)?;
    let (left, right) = value
        .split_once('=')
        .ok_or_else(|| invalid(key, &value, expected))?;
    Ok((left.to_owned(), right.to_owned()))
}

fn check_extern_path(proto_path: &str, rust_path: &str) -> Result<(), OptionsError> {
    // Fully qualified, without empty segments: `.a.b`, not `a.b` or `.a..b`.
    let proto_ok = proto_path
        .strip_prefix('.')
        .is_some_and(|rest| !rest.split('.').any(str::is_empty));
    if proto_ok && syn::parse_str::<syn::Type>(rust_path).is_ok() {
        Ok(())
    } else {
        Err(invalid(
            "extern_path",
            &format!("{proto_path}={rust_path}"),
            EXPECT_EXTERN,
        ))
    }
}

fn check_attribute(key: &str, path: &str, attribute: &str) -> Result<(), OptionsError> {
    let parses = syn::Attribute::parse_outer
        .parse_str(attribute)
        .is_ok_and(|attributes| !attributes.is_empty());
    if !path.is_empty() && parses {
        Ok(())
    } else {
        Err(invalid(
            key,
            &format!("{path}={attribute}"),
            EXPECT_ATTRIBUTE,
        ))
    }
}

fn check_path(key: &str, path: &str) -> Result<(), OptionsError> {
    if path.is_empty() {
        Err(invalid(key, path, EXPECT_PATH))
    } else {
        Ok(())
    }
}

fn check_file_name(name: &str) -> Result<(), OptionsError> {
    let bad = name.is_empty() || name == "." || name == ".." || name.contains(['/', '\\']);
    if bad {
        Err(invalid("include_file", name, EXPECT_FILE_NAME))
    } else {
        Ok(())
    }
}

fn invalid(key: &str, value: &str, expected: &'static str) -> OptionsError {
    OptionsError::InvalidValue {
        key: key.to_owned(),
        value: value.to_owned(),
        expected,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(parameter: &str) -> String {
        Options::parse(parameter).unwrap_err().to_string()
    }

    #[test]
    fn empty_string_gives_defaults() {
        assert_eq!(Options::parse(""), Ok(Options::default()));
    }

    #[test]
    fn parses_every_key() {
        let options = Options::parse(concat!(
            "server=false,client,compile_well_known_types,",
            "extern_path=.a.b=::ab::c,",
            r"type_attribute=.a=#[derive(Eq\, Hash)],field_attribute=M.f=#[deprecated],",
            "enum_attribute=.a.E=#[allow(dead_code)],message_attribute=.=#[non_exhaustive],",
            "bytes=.,btree_map=.a,boxed=M.f,disable_comments=.a.Svc,include_file=protos.rs,",
            "file_descriptor_set,json",
        ))
        .unwrap();
        let pair = |a: &str, b: &str| vec![(a.to_owned(), b.to_owned())];
        let expected = Options {
            server: false,
            client: true,
            extern_paths: pair(".a.b", "::ab::c"),
            type_attributes: pair(".a", "#[derive(Eq, Hash)]"),
            field_attributes: pair("M.f", "#[deprecated]"),
            enum_attributes: pair(".a.E", "#[allow(dead_code)]"),
            message_attributes: pair(".", "#[non_exhaustive]"),
            bytes: vec![".".to_owned()],
            btree_map: vec![".a".to_owned()],
            boxed: vec!["M.f".to_owned()],
            include_file: Some("protos.rs".to_owned()),
            compile_well_known_types: true,
            disable_comments: vec![".a.Svc".to_owned()],
            file_descriptor_set: true,
            json: true,
        };
        assert_eq!(options, expected);
    }

    #[test]
    fn later_bools_win() {
        let options = Options::parse("client=false,client=true,server,server=false").unwrap();
        assert!(options.client);
        assert!(!options.server);
    }

    #[test]
    fn rejects_unknown_keys() {
        assert_eq!(error("server,foo=1"), "unknown parameter `foo`");
    }

    #[test]
    fn rejects_bad_values_naming_key_and_value() {
        assert_eq!(
            error("server=maybe"),
            "invalid value `maybe` for `server`: expected true or false"
        );
        assert!(error("extern_path=.foo").starts_with("invalid value `.foo` for `extern_path`"));
        assert!(
            error("extern_path=foo=::foo")
                .starts_with("invalid value `foo=::foo` for `extern_path`")
        );
        assert!(error("extern_path=.foo=not a path").contains("`extern_path`"));
        assert!(error("extern_path").starts_with("missing value for `extern_path`"));
        assert!(error("type_attribute=.a").starts_with("invalid value `.a` for `type_attribute`"));
        assert!(error("field_attribute=.a=derive(Eq)").contains("`field_attribute`"));
        assert!(error("message_attribute==#[x]").contains("`message_attribute`"));
        assert!(error("bytes=").starts_with("invalid value `` for `bytes`"));
        assert!(error("include_file=").contains("`include_file`"));
        assert!(error("include_file=a/b.rs").contains("`a/b.rs`"));
        assert!(error(r"include_file=a\\b.rs").contains("`include_file`"));
    }

    #[test]
    fn validate_checks_options_built_in_code() {
        let options = Options {
            include_file: Some("..".to_owned()),
            ..Options::default()
        };
        assert!(options.validate().is_err());
    }
}
