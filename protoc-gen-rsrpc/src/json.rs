//! The `json` option's part of a package's file: an implementation of
//! `prost_reflect::ReflectMessage` for each message, which gives rsrpc's `JsonCodec` the
//! message's descriptor out of the package's `FILE_DESCRIPTOR_SET`.

use prost_types::{DescriptorProto, FileDescriptorProto};
use quote::quote;

use crate::names;

/// The implementations for the messages of `files` (the files of one package), nested
/// ones included and map entries left out, formatted.
pub fn render(files: &[&FileDescriptorProto]) -> String {
    let mut impls = Vec::new();
    for file in files {
        // (Rust module path, proto name prefix, message), walked without recursion.
        let mut pending: Vec<(String, String, &DescriptorProto)> = file
            .message_type
            .iter()
            .map(|message| (String::new(), file.package().to_owned(), message))
            .collect();
        while let Some((module, prefix, message)) = pending.pop() {
            if message
                .options
                .as_ref()
                .is_some_and(|options| options.map_entry())
            {
                continue;
            }
            let full_name = match prefix.as_str() {
                "" => message.name().to_owned(),
                prefix => format!("{prefix}.{}", message.name()),
            };
            let path = format!("{module}{}", names::upper_camel(message.name()));
            let nested_module = format!("{module}{}::", names::snake(message.name()));
            for nested in &message.nested_type {
                pending.push((nested_module.clone(), full_name.clone(), nested));
            }
            impls.push((path, full_name));
        }
    }
    impls.sort();
    let items = impls.iter().map(|(path, full_name)| {
        let path: syn::Path = syn::parse_str(path).expect("message paths are Rust paths");
        quote! {
            impl ::rsrpc::codegen::json::ReflectMessage for #path {
                fn descriptor(&self) -> ::rsrpc::codegen::json::MessageDescriptor {
                    ::rsrpc::codegen::json::message_descriptor(FILE_DESCRIPTOR_SET, #full_name)
                }
            }
        }
    });
    let file = quote! { #( #items )* };
    let file: syn::File = syn::parse2(file).expect("the implementations parse");
    prettyplease::unparse(&file)
}

#[cfg(test)]
mod tests {
    use super::*;
    use prost_types::MessageOptions;

    #[test]
    fn nested_messages_get_their_module_path_and_map_entries_none() {
        let entry = DescriptorProto {
            name: Some("TagsEntry".into()),
            options: Some(MessageOptions {
                map_entry: Some(true),
                ..MessageOptions::default()
            }),
            ..DescriptorProto::default()
        };
        let inner = DescriptorProto {
            name: Some("type".into()),
            ..DescriptorProto::default()
        };
        let outer = DescriptorProto {
            name: Some("Outer".into()),
            nested_type: vec![inner, entry],
            ..DescriptorProto::default()
        };
        let file = FileDescriptorProto {
            package: Some("a.b".into()),
            message_type: vec![outer],
            ..FileDescriptorProto::default()
        };
        let code = render(&[&file]);
        assert!(code.contains("for Outer {"), "{code}");
        assert!(code.contains("for outer::Type {"), "{code}");
        assert!(code.contains("\"a.b.Outer.type\""), "{code}");
        assert!(!code.contains("TagsEntry"), "{code}");
    }
}
