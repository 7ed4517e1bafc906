//! The requests the state machine asks the caller to send, with their request IDs (§5.2).

use alloc::string::String;
use core::fmt;

use crate::text::{decoded_eq, write_into};
use crate::{Error, topic};

/// A request ID chosen by the client: a counter, written in decimal as MQTT `$rid`
/// (csharp and iot-sdk-c also use integers; sdk-for-c always `1`, reference §5.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Rid(pub u32);

impl fmt::Display for Rid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl Rid {
    /// True when a received `$rid` (raw, possibly percent-encoded) names this request.
    pub fn matches(&self, raw: &str) -> bool {
        let mut buf = [0u8; 10];
        write_into(&mut buf, format_args!("{}", self.0))
            .is_ok_and(|ours| decoded_eq(raw, ours, false))
    }
}

/// A request the caller must send now, transport-agnostic.
///
/// Over MQTT publish it (QoS 1) to [`mqtt_topic`](Self::mqtt_topic) with the register body
/// ([`DeviceRegistration::to_json`](crate::DeviceRegistration::to_json)) for `Register` and an
/// empty payload for `PollStatus`. Over HTTPS map it with
/// [`HttpsEndpoint::request`](crate::HttpsEndpoint::request).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// Register (MQTT `iotdps-register`, HTTPS `PUT .../register`).
    Register {
        /// The request ID.
        rid: Rid,
    },
    /// Ask for the operation's status (MQTT `iotdps-get-operationstatus`, HTTPS `GET .../operations/{id}`).
    PollStatus {
        /// The request ID.
        rid: Rid,
        /// The operation ID from the last `assigning` answer.
        operation_id: String,
    },
}

impl Request {
    /// The request ID.
    pub fn rid(&self) -> Rid {
        match self {
            Self::Register { rid } | Self::PollStatus { rid, .. } => *rid,
        }
    }

    /// Writes the MQTT publish topic into `out`.
    ///
    /// # Errors
    /// [`Error::BufferTooSmall`] (untouched buffer), or an operation ID that cannot go into a
    /// topic ([`Error::InvalidIdentifier`]).
    pub fn write_mqtt_topic<'b>(&self, out: &'b mut [u8]) -> Result<&'b str, Error> {
        let mut rid = [0u8; 10];
        match self {
            Self::Register { rid: r } => {
                topic::write_register_topic(write_into(&mut rid, format_args!("{r}"))?, out)
            }
            Self::PollStatus {
                rid: r,
                operation_id,
            } => topic::write_operation_status_topic(
                write_into(&mut rid, format_args!("{r}"))?,
                operation_id,
                out,
            ),
        }
    }

    /// The MQTT publish topic.
    ///
    /// # Errors
    /// An operation ID that cannot go into a topic ([`Error::InvalidIdentifier`]).
    pub fn mqtt_topic(&self) -> Result<String, Error> {
        match self {
            Self::Register { rid } => topic::register_topic(&alloc::format!("{rid}")),
            Self::PollStatus { rid, operation_id } => {
                topic::operation_status_topic(&alloc::format!("{rid}"), operation_id)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rid_matches_decimal_text_encoded_or_not() {
        assert!(Rid(1).matches("1"));
        assert!(Rid(12).matches("%31%32"));
        assert!(Rid(u32::MAX).matches("4294967295"));
        assert!(!Rid(1).matches("01"));
        assert!(!Rid(1).matches("347d594a-5550-4018-8207-73a9baed6a64"));
        assert!(!Rid(1).matches(""));
    }

    #[test]
    fn request_topics_into_buffers() {
        let register = Request::Register { rid: Rid(1) };
        let mut buf = [0u8; 64];
        assert_eq!(
            register.write_mqtt_topic(&mut buf),
            Ok("$dps/registrations/PUT/iotdps-register/?$rid=1")
        );
        let poll = Request::PollStatus {
            rid: Rid(2),
            operation_id: "op".into(),
        };
        let expected = "$dps/registrations/GET/iotdps-get-operationstatus/?$rid=2&operationId=op";
        assert_eq!(poll.mqtt_topic().unwrap(), expected);
        let mut small = [0xCCu8; 20];
        assert_eq!(
            poll.write_mqtt_topic(&mut small),
            Err(Error::BufferTooSmall {
                required: expected.len()
            })
        );
        assert!(small.iter().all(|&b| b == 0xCC));
        let bad = Request::PollStatus {
            rid: Rid(3),
            operation_id: "a&b".into(),
        };
        assert!(matches!(
            bad.mqtt_topic(),
            Err(Error::InvalidIdentifier { .. })
        ));
    }
}
