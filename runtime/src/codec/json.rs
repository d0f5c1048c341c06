//! [`JsonCodec`]: messages in protobuf's binary form and in the canonical protobuf JSON
//! mapping, through `prost-reflect` and the descriptors generated code carries.
//!
//! The JSON mapping needs the message's descriptor, not only its Rust type: an `Any`
//! names its type by URL, and is written with that type's fields. So a message in JSON
//! goes through a `prost-reflect` dynamic message, which knows every type whose
//! descriptors were registered, and is written or read by its serde implementation.

use prost_reflect::{
    DescriptorPool, DeserializeOptions, DynamicMessage, MessageDescriptor, ReflectMessage,
    SerializeOptions,
};

use super::format::{Codec, JsonForm};
use crate::status::Status;

/// Protobuf's binary form and the canonical JSON mapping (cargo feature `json`), for
/// messages generated with the plugin's `json` option.
#[derive(Debug, Clone, Copy, Default)]
pub struct JsonCodec;

impl<T: ReflectMessage + Default> Codec<T> for JsonCodec {
    fn json() -> Option<JsonForm<T>> {
        Some(JsonForm::new(encode::<T>, decode::<T>))
    }
}

/// Writes `message` in the canonical JSON mapping: lowerCamelCase names, default values
/// left out, 64-bit integers as strings, enums by name.
fn encode<T: ReflectMessage>(message: &T) -> Result<Vec<u8>, Status> {
    let mut json = Vec::with_capacity(message.encoded_len() * 2);
    let mut serializer = serde_json::Serializer::new(&mut json);
    message
        .transcode_to_dynamic()
        .serialize_with_options(&mut serializer, &SerializeOptions::new())
        .map_err(|error| Status::internal(format!("failed to write JSON: {error}")))?;
    Ok(json)
}

/// Reads a message from JSON, refusing unknown fields as protobuf's JSON parsers do by
/// default.
fn decode<T: ReflectMessage + Default>(json: &[u8]) -> Result<T, Status> {
    let invalid = |error: &dyn std::fmt::Display| {
        Status::internal(format!("failed to decode message from JSON: {error}"))
    };
    let mut deserializer = serde_json::Deserializer::from_slice(json);
    let descriptor = T::default().descriptor();
    let message = DynamicMessage::deserialize_with_options(
        descriptor,
        &mut deserializer,
        &DeserializeOptions::new(),
    )
    .map_err(|error| invalid(&error))?;
    deserializer.end().map_err(|error| invalid(&error))?;
    message.transcode_to().map_err(|error| invalid(&error))
}

/// Registers the message types of an encoded `FileDescriptorSet` (a generated package's
/// `FILE_DESCRIPTOR_SET`) for the JSON mapping of `google.protobuf.Any`: an `Any` is
/// written with its type's fields, and its type must be known. A package's types are
/// registered when one of its messages is first written or read; register a package
/// whose messages travel only inside `Any` values up front.
pub fn register_descriptors(file_descriptor_set: &[u8]) -> Result<(), crate::Error> {
    DescriptorPool::decode_global_file_descriptor_set(file_descriptor_set)
        .map_err(|error| crate::Error::new("invalid file descriptor set", error))
}

/// The descriptor of the message named `full_name` (`package.Message`), registering the
/// encoded `FileDescriptorSet` that holds it in the global pool on first use. Generated
/// code calls this from its `ReflectMessage` implementations.
///
/// # Panics
///
/// If the set does not decode or does not hold the message: the generated code is
/// broken, not the input.
pub fn message_descriptor(file_descriptor_set: &[u8], full_name: &str) -> MessageDescriptor {
    if let Some(descriptor) = DescriptorPool::global().get_message_by_name(full_name) {
        return descriptor;
    }
    // Files already in the pool are skipped by name, so two sets sharing imports both go in.
    if let Err(error) = DescriptorPool::decode_global_file_descriptor_set(file_descriptor_set) {
        panic!("the generated file descriptor set of {full_name} is invalid: {error}");
    }
    DescriptorPool::global()
        .get_message_by_name(full_name)
        .unwrap_or_else(|| panic!("the generated file descriptor set lacks {full_name}"))
}
