//! gRPC status codes and the [`Status`] error carried by failed calls.

use std::fmt;

use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue};
use percent_encoding::{AsciiSet, CONTROLS, percent_decode, percent_encode};

use crate::metadata::{MetadataMap, decode_base64, encode_base64};

/// Header naming the status code of a call.
pub(crate) const GRPC_STATUS: HeaderName = HeaderName::from_static("grpc-status");
/// Header carrying the percent-encoded status message.
pub(crate) const GRPC_MESSAGE: HeaderName = HeaderName::from_static("grpc-message");
/// Header carrying a serialized `google.rpc.Status`, base64-encoded.
pub(crate) const GRPC_STATUS_DETAILS: HeaderName =
    HeaderName::from_static("grpc-status-details-bin");

/// Bytes of `grpc-message` that travel percent-encoded: everything outside 0x20–0x7E, and `%`.
const MESSAGE_ENCODE_SET: &AsciiSet = &CONTROLS.add(b'%');

macro_rules! codes {
    ($($(#[$doc:meta])* $variant:ident = $value:literal, $constructor:ident, $text:literal;)*) => {
        /// The status code of a gRPC call, as defined by the gRPC specification.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[repr(i32)]
        pub enum Code {
            $($(#[$doc])* $variant = $value,)*
        }

        impl Code {
            /// Maps a numeric code to a [`Code`]; values outside the specification become
            /// [`Code::Unknown`], as the specification requires.
            pub fn from_i32(value: i32) -> Code {
                match value {
                    $($value => Code::$variant,)*
                    _ => Code::Unknown,
                }
            }

            /// A short English description of the code.
            pub fn description(self) -> &'static str {
                match self {
                    $(Code::$variant => $text,)*
                }
            }
        }

        impl Status {
            $(
                #[doc = concat!("A status with code [`Code::", stringify!($variant), "`].")]
                pub fn $constructor(message: impl Into<String>) -> Status {
                    Status::new(Code::$variant, message)
                }
            )*
        }
    };
}

codes! {
    /// The call succeeded.
    Ok = 0, ok, "The operation completed successfully";
    /// The call was cancelled, typically by the caller.
    Cancelled = 1, cancelled, "The operation was cancelled";
    /// An unknown error.
    Unknown = 2, unknown, "Unknown error";
    /// The client gave an invalid argument.
    InvalidArgument = 3, invalid_argument, "Client specified an invalid argument";
    /// The deadline passed before the call completed.
    DeadlineExceeded = 4, deadline_exceeded, "Deadline expired before operation could complete";
    /// A requested entity was not found.
    NotFound = 5, not_found, "Some requested entity was not found";
    /// The entity the client tried to create already exists.
    AlreadyExists = 6, already_exists, "Some entity that we attempted to create already exists";
    /// The caller lacks permission.
    PermissionDenied = 7, permission_denied, "The caller does not have permission to execute the specified operation";
    /// A resource, such as a quota or a size limit, is exhausted.
    ResourceExhausted = 8, resource_exhausted, "Some resource has been exhausted";
    /// The system is not in a state required for the operation.
    FailedPrecondition = 9, failed_precondition, "The system is not in a state required for the operation's execution";
    /// The operation was aborted, typically because of a concurrency conflict.
    Aborted = 10, aborted, "The operation was aborted";
    /// The operation went past the valid range.
    OutOfRange = 11, out_of_range, "Operation was attempted past the valid range";
    /// The operation is not implemented or not supported.
    Unimplemented = 12, unimplemented, "Operation is not implemented or not supported";
    /// An internal invariant was broken.
    Internal = 13, internal, "Internal error";
    /// The service is currently unavailable; retrying may help.
    Unavailable = 14, unavailable, "The service is currently unavailable";
    /// Unrecoverable data loss or corruption.
    DataLoss = 15, data_loss, "Unrecoverable data loss or corruption";
    /// The request lacks valid authentication credentials.
    Unauthenticated = 16, unauthenticated, "The request does not have valid authentication credentials";
}

/// Connect's names of the codes, by code number.
const CONNECT_NAMES: [&str; 17] = [
    "ok",
    "canceled",
    "unknown",
    "invalid_argument",
    "deadline_exceeded",
    "not_found",
    "already_exists",
    "permission_denied",
    "resource_exhausted",
    "failed_precondition",
    "aborted",
    "out_of_range",
    "unimplemented",
    "internal",
    "unavailable",
    "data_loss",
    "unauthenticated",
];

impl Code {
    /// The code's name in the Connect protocol (its JSON errors' `code`).
    pub(crate) fn connect_name(self) -> &'static str {
        CONNECT_NAMES[self as usize]
    }

    /// The code a Connect name stands for.
    pub(crate) fn from_connect_name(name: &str) -> Option<Code> {
        let number = CONNECT_NAMES.iter().position(|known| *known == name)?;
        Some(Code::from_i32(i32::try_from(number).ok()?))
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.description())
    }
}

/// The outcome of a failed gRPC call: a [`Code`], a message, optional binary details
/// (a serialized `google.rpc.Status`) and trailing metadata.
#[derive(Clone)]
pub struct Status {
    code: Code,
    message: String,
    /// Rarely present, so kept out of line: `Result<T, Status>` stays small on hot paths.
    extra: Option<Box<Extra>>,
}

#[derive(Clone, Default)]
struct Extra {
    details: Bytes,
    metadata: MetadataMap,
}

/// Shared empty values for statuses without details or metadata.
static NO_DETAILS: Bytes = Bytes::new();
static NO_METADATA: std::sync::LazyLock<MetadataMap> = std::sync::LazyLock::new(MetadataMap::new);

impl Status {
    /// A status with the given code and message.
    pub fn new(code: Code, message: impl Into<String>) -> Status {
        Status {
            code,
            message: message.into(),
            extra: None,
        }
    }

    /// A status with binary details, sent as `grpc-status-details-bin`.
    pub fn with_details(code: Code, message: impl Into<String>, details: Bytes) -> Status {
        let mut status = Status::new(code, message);
        status.extra_mut().details = details;
        status
    }

    /// Attaches metadata that travels as trailers alongside the status.
    pub fn with_metadata(mut self, metadata: MetadataMap) -> Status {
        self.extra_mut().metadata = metadata;
        self
    }

    fn extra_mut(&mut self) -> &mut Extra {
        self.extra.get_or_insert_with(Box::default)
    }

    /// The status code.
    pub fn code(&self) -> Code {
        self.code
    }

    /// The status message.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The binary details, empty when none were sent.
    pub fn details(&self) -> &Bytes {
        self.extra
            .as_ref()
            .map_or(&NO_DETAILS, |extra| &extra.details)
    }

    /// The metadata sent with the status.
    pub fn metadata(&self) -> &MetadataMap {
        self.extra
            .as_ref()
            .map_or(&NO_METADATA, |extra| &extra.metadata)
    }

    /// The metadata sent with the status, mutably.
    pub fn metadata_mut(&mut self) -> &mut MetadataMap {
        &mut self.extra_mut().metadata
    }

    /// Writes `grpc-status`, `grpc-message`, `grpc-status-details-bin` and the metadata into
    /// `headers`.
    pub(crate) fn write_to(&self, headers: &mut HeaderMap) {
        if let Some(extra) = &self.extra {
            headers.extend(extra.metadata.clone().into_headers());
        }
        let code = match self.code {
            // The status of nearly every call: no formatting, no allocation.
            Code::Ok => HeaderValue::from_static("0"),
            code => HeaderValue::from(code as i32),
        };
        headers.insert(GRPC_STATUS, code);
        if !self.message.is_empty() {
            let encoded = percent_encode(self.message.as_bytes(), MESSAGE_ENCODE_SET).to_string();
            // Percent-encoding leaves only visible ASCII, which is always a valid header value.
            if let Ok(value) = HeaderValue::try_from(encoded) {
                headers.insert(GRPC_MESSAGE, value);
            }
        }
        if !self.details().is_empty() {
            if let Ok(value) = HeaderValue::try_from(encode_base64(self.details())) {
                headers.insert(GRPC_STATUS_DETAILS, value);
            }
        }
    }

    /// Reads a status from trailers (or a Trailers-Only header block); `None` when
    /// `grpc-status` is absent. The remaining entries become the status metadata.
    pub(crate) fn from_headers(headers: &HeaderMap) -> Option<Status> {
        let value = headers.get(GRPC_STATUS)?;
        let code = match parse_code(value.as_bytes()) {
            Some(code) => code,
            None => {
                return Some(Status::unknown(format!(
                    "invalid grpc-status: {}",
                    String::from_utf8_lossy(value.as_bytes())
                )));
            }
        };
        let message = headers
            .get(GRPC_MESSAGE)
            .map(|value| decode_message(value.as_bytes()))
            .unwrap_or_default();
        let details = headers
            .get(GRPC_STATUS_DETAILS)
            .and_then(|value| decode_base64(value.as_bytes()).ok())
            .unwrap_or_default();
        let status = Status::with_details(code, message, details);
        Some(status.with_metadata(MetadataMap::from_headers(headers.clone())))
    }

    /// Builds the `HeaderMap` of a response trailer (or Trailers-Only header) block.
    pub(crate) fn to_header_map(&self) -> HeaderMap {
        let mut headers = HeaderMap::with_capacity(3 + self.metadata().len());
        self.write_to(&mut headers);
        headers
    }
}

/// Whether headers carry `grpc-status: 0`: the common case, checked without building a
/// [`Status`].
pub(crate) fn is_ok(headers: &HeaderMap) -> bool {
    headers
        .get(GRPC_STATUS)
        .is_some_and(|value| value.as_bytes() == b"0")
}

/// Parses a `grpc-status` value: decimal digits only.
fn parse_code(bytes: &[u8]) -> Option<Code> {
    if bytes.is_empty() || bytes.len() > 10 || !bytes.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(bytes)
        .ok()?
        .parse()
        .ok()
        .map(Code::from_i32)
}

/// Decodes a percent-encoded `grpc-message`. Never fails: when the result is not UTF-8, the
/// raw text is kept, as the specification asks.
fn decode_message(raw: &[u8]) -> String {
    match percent_decode(raw).decode_utf8() {
        Ok(text) => text.into_owned(),
        Err(_) => String::from_utf8_lossy(raw).into_owned(),
    }
}

impl fmt::Debug for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = f.debug_struct("Status");
        out.field("code", &self.code);
        if !self.message.is_empty() {
            out.field("message", &self.message);
        }
        if !self.details().is_empty() {
            out.field("details", self.details());
        }
        if !self.metadata().is_empty() {
            out.field("metadata", self.metadata());
        }
        out.finish()
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "status: {:?}, message: {:?}", self.code, self.message)
    }
}

impl std::error::Error for Status {}

impl From<std::io::Error> for Status {
    fn from(error: std::io::Error) -> Status {
        Status::unavailable(error.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_round_trips_unicode_and_control_characters() {
        let status = Status::internal("héllo\t100%\r\n世界 ok");
        let headers = status.to_header_map();
        let raw = headers.get(GRPC_MESSAGE).unwrap().to_str().unwrap();
        assert_eq!(raw, "h%C3%A9llo%09100%25%0D%0A%E4%B8%96%E7%95%8C ok");
        let back = Status::from_headers(&headers).unwrap();
        assert_eq!(back.message(), status.message());
        assert_eq!(back.code(), Code::Internal);
    }

    #[test]
    fn bad_percent_encoding_keeps_raw_text() {
        assert_eq!(decode_message(b"50%zz"), "50%zz");
        assert_eq!(decode_message(b"%FF%FE"), "%FF%FE");
    }

    #[test]
    fn codes_map_from_numbers() {
        assert_eq!(Code::from_i32(16), Code::Unauthenticated);
        assert_eq!(Code::from_i32(17), Code::Unknown);
        assert_eq!(parse_code(b"012"), Some(Code::Unimplemented));
        assert_eq!(parse_code(b"-1"), None);
        assert_eq!(parse_code(b""), None);
    }

    #[test]
    fn details_round_trip() {
        let status = Status::with_details(Code::NotFound, "", Bytes::from_static(b"\x00\xffdet"));
        let back = Status::from_headers(&status.to_header_map()).unwrap();
        assert_eq!(back.details(), status.details());
        assert_eq!(back.message(), "");
    }
}
