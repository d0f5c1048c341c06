//! The registered descriptors, indexed by file name, symbol and extension.

use std::collections::{BTreeMap, HashMap};

use bytes::Bytes;
use prost::Message;
use prost_types::{
    DescriptorProto, EnumDescriptorProto, FieldDescriptorProto, FileDescriptorProto,
};

use super::Error;

/// A `google.protobuf.FileDescriptorSet` whose files are left encoded: reflection sends
/// them as registered, unknown fields (custom options) included.
#[derive(Clone, PartialEq, Message)]
struct EncodedSet {
    #[prost(bytes = "bytes", repeated, tag = "1")]
    file: Vec<Bytes>,
}

/// One registered file: its encoded descriptor and the files it imports.
struct File {
    encoded: Bytes,
    imports: Vec<usize>,
}

/// Every registered file, and where to find what a reflection client asks for. Files are
/// named by their position in `files`.
pub(super) struct Index {
    files: Vec<File>,
    by_name: HashMap<String, usize>,
    symbols: HashMap<String, usize>,
    /// Extended message → extension number → file.
    extensions: HashMap<String, BTreeMap<i32, usize>>,
    services: Vec<String>,
}

impl Index {
    /// Indexes the files of encoded `sets`; a file in several sets must be the same in
    /// each. Lists `services` if any, else every service of the sets.
    pub(super) fn new(sets: &[Bytes], services: &[String]) -> Result<Index, Error> {
        let mut index = Index {
            files: Vec::new(),
            by_name: HashMap::new(),
            symbols: HashMap::new(),
            extensions: HashMap::new(),
            services: Vec::new(),
        };
        let mut imports = Vec::new();
        for set in sets {
            let set = EncodedSet::decode(set.clone())
                .map_err(|error| Error::new(format!("a file descriptor set: {error}")))?;
            for encoded in set.file {
                let file = FileDescriptorProto::decode(encoded.clone())
                    .map_err(|error| Error::new(format!("a file descriptor: {error}")))?;
                if let Some(&known) = index.by_name.get(file.name()) {
                    if index.files[known].encoded != encoded {
                        let name = file.name();
                        return Err(Error::new(format!("two different descriptors of `{name}`")));
                    }
                    continue;
                }
                let at = index.files.len();
                index.by_name.insert(file.name().to_owned(), at);
                index.add_symbols(&file, at);
                imports.push((file.name().to_owned(), file.dependency));
                index.files.push(File {
                    encoded,
                    imports: Vec::new(),
                });
            }
        }
        for (at, (name, dependencies)) in imports.into_iter().enumerate() {
            for dependency in dependencies {
                let found = index.by_name.get(&dependency).ok_or_else(|| {
                    Error::new(format!(
                        "`{name}` imports `{dependency}`, which is not registered"
                    ))
                })?;
                index.files[at].imports.push(*found);
            }
        }
        if !services.is_empty() {
            index.services = services.to_vec();
        }
        index.services.sort();
        index.services.dedup();
        Ok(index)
    }

    /// The file named `name`.
    pub(super) fn file(&self, name: &str) -> Option<usize> {
        self.by_name.get(name).copied()
    }

    /// The file declaring the fully-qualified `symbol`: a service, method, message, field,
    /// oneof, enum, enum value or extension.
    pub(super) fn file_containing_symbol(&self, symbol: &str) -> Option<usize> {
        let symbol = symbol.strip_prefix('.').unwrap_or(symbol);
        self.symbols.get(symbol).copied()
    }

    /// The file declaring extension `number` of the message `extended`.
    pub(super) fn file_containing_extension(&self, extended: &str, number: i32) -> Option<usize> {
        self.extensions.get(extended)?.get(&number).copied()
    }

    /// The numbers of the extensions of the message `extended`, ascending; `None` if it
    /// is unknown.
    pub(super) fn extension_numbers(&self, extended: &str) -> Option<Vec<i32>> {
        match self.extensions.get(extended) {
            Some(numbers) => Some(numbers.keys().copied().collect()),
            None => self.file_containing_symbol(extended).map(|_| Vec::new()),
        }
    }

    /// The listed services' full names, sorted.
    pub(super) fn services(&self) -> &[String] {
        &self.services
    }

    /// The encoded descriptor of `file`.
    pub(super) fn encoded(&self, file: usize) -> &Bytes {
        &self.files[file].encoded
    }

    /// The files `file` imports.
    pub(super) fn imports(&self, file: usize) -> &[usize] {
        &self.files[file].imports
    }

    /// Indexes what `file` (at `at`) declares, nested messages walked with a stack.
    fn add_symbols(&mut self, file: &FileDescriptorProto, at: usize) {
        let package = file.package();
        for service in &file.service {
            let name = scoped(package, service.name());
            for method in &service.method {
                self.add_symbol(scoped(&name, method.name()), at);
            }
            self.services.push(name.clone());
            self.add_symbol(name, at);
        }
        self.add_extensions(package, &file.extension, at);
        self.add_enums(package, &file.enum_type, at);
        let mut messages: Vec<(String, &DescriptorProto)> = file
            .message_type
            .iter()
            .map(|message| (package.to_owned(), message))
            .collect();
        while let Some((scope, message)) = messages.pop() {
            let name = scoped(&scope, message.name());
            let members = message.field.iter().map(FieldDescriptorProto::name);
            let oneofs = message.oneof_decl.iter().map(|oneof| oneof.name());
            for member in members.chain(oneofs) {
                self.add_symbol(scoped(&name, member), at);
            }
            self.add_extensions(&name, &message.extension, at);
            self.add_enums(&name, &message.enum_type, at);
            messages.extend(
                message
                    .nested_type
                    .iter()
                    .map(|nested| (name.clone(), nested)),
            );
            self.add_symbol(name, at);
        }
    }

    /// Enum values are scoped beside their enum, as in C++.
    fn add_enums(&mut self, scope: &str, enums: &[EnumDescriptorProto], at: usize) {
        for declared in enums {
            for value in &declared.value {
                self.add_symbol(scoped(scope, value.name()), at);
            }
            self.add_symbol(scoped(scope, declared.name()), at);
        }
    }

    fn add_extensions(&mut self, scope: &str, extensions: &[FieldDescriptorProto], at: usize) {
        for extension in extensions {
            let extended = extension.extendee();
            let extended = extended.strip_prefix('.').unwrap_or(extended);
            let numbers = self.extensions.entry(extended.to_owned()).or_default();
            numbers.entry(extension.number()).or_insert(at);
            self.add_symbol(scoped(scope, extension.name()), at);
        }
    }

    /// The first file to declare a name keeps it.
    fn add_symbol(&mut self, name: String, at: usize) {
        self.symbols.entry(name).or_insert(at);
    }
}

/// `name` in the package or message `scope`.
fn scoped(scope: &str, name: &str) -> String {
    if scope.is_empty() {
        name.to_owned()
    } else {
        format!("{scope}.{name}")
    }
}
