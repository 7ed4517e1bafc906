//! The crate's one error type.

use alloc::string::String;

/// Everything that can go wrong while building or parsing DPS messages.
///
/// Decisions of the registration flow (assigned, failed, disabled) are not errors: they are
/// [`Event`](crate::Event)s of the [`ProvisioningClient`](crate::ProvisioningClient).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The caller's output buffer is too small; nothing was written to it.
    /// Shape from azure-sdk-for-c `AZ_ERROR_NOT_ENOUGH_SPACE` (style anchors, practice 3).
    #[error("buffer too small: {required} bytes required")]
    BufferTooSmall {
        /// Bytes the complete output needs.
        required: usize,
    },
    /// A JSON body is larger than [`MAX_PAYLOAD_LEN`](crate::MAX_PAYLOAD_LEN), the DPS
    /// maximum message size (reference §5.5, service limits: 96 KB).
    #[error("payload of {len} bytes exceeds the limit of {max} bytes")]
    PayloadTooLarge {
        /// Length of the rejected body.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// A JSON body nests objects/arrays deeper than [`MAX_JSON_DEPTH`](crate::MAX_JSON_DEPTH).
    #[error("json nesting deeper than {max} levels")]
    JsonTooDeep {
        /// The limit.
        max: usize,
    },
    /// A JSON body is not valid JSON or does not have the expected shape.
    #[error("invalid json at line {line}, column {column}: {message}")]
    InvalidJson {
        /// 1-based line of the problem (0 if unknown).
        line: usize,
        /// 1-based column of the problem (0 if unknown).
        column: usize,
        /// serde_json's description.
        message: String,
    },
    /// The topic is not a DPS topic of the expected kind (reference §5.2).
    #[error("topic does not match {expected}")]
    TopicNoMatch {
        /// The topic form that was expected.
        expected: &'static str,
    },
    /// The status segment of a response topic is not a 3-digit HTTP status (reference §5.2).
    #[error("invalid status code in response topic")]
    InvalidStatusCode,
    /// A `retry-after` value is not a non-negative decimal number of seconds (reference §5.2).
    #[error("invalid retry-after value")]
    InvalidRetryAfter,
    /// A query key that may appear once appears twice.
    #[error("duplicate query key {key}")]
    DuplicateKey {
        /// The repeated key.
        key: &'static str,
    },
    /// A required part of a topic, user name or body is missing or empty.
    #[error("missing {field}")]
    Missing {
        /// What is missing.
        field: &'static str,
    },
    /// An identifier contains a character that would change the meaning of the topic or user
    /// name it goes into (`/`, `?`, `&`, `#`, `+`, whitespace or a control character).
    #[error("{field} contains a character not allowed there")]
    InvalidIdentifier {
        /// Which identifier.
        field: &'static str,
    },
    /// Building the SAS password failed in `iot-sas`.
    #[error("sas: {0}")]
    Sas(#[from] iot_sas::Error),
}

impl Error {
    /// Maps a serde_json error, keeping its position.
    pub(crate) fn json(err: &serde_json::Error) -> Self {
        use alloc::string::ToString;
        Self::InvalidJson {
            line: err.line(),
            column: err.column(),
            message: err.to_string(),
        }
    }
}
