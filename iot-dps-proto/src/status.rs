//! The registration status and substatus enums (reference §5.4).
//!
//! Both keep values this crate does not know as `Unknown(String)` instead of failing, so a
//! newer service cannot break an older device (reference §5.4, DESIGN "parse strictly, accept
//! what real devices send").

use alloc::string::String;
use core::fmt;

macro_rules! string_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident { $( $(#[$vmeta:meta])* $variant:ident => $text:literal, )* }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )*
            /// A value this crate does not know, kept as received.
            Unknown(String),
        }

        impl $name {
            /// The wire spelling.
            pub fn as_str(&self) -> &str {
                match self {
                    $( Self::$variant => $text, )*
                    Self::Unknown(text) => text,
                }
            }

            /// Maps the wire spelling; anything else becomes `Unknown`.
            pub fn from_wire(text: &str) -> Self {
                match text {
                    $( $text => Self::$variant, )*
                    other => Self::Unknown(String::from(other)),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                struct Visitor;
                impl serde::de::Visitor<'_> for Visitor {
                    type Value = $name;
                    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                        f.write_str("a string")
                    }
                    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<$name, E> {
                        Ok($name::from_wire(v))
                    }
                }
                deserializer.deserialize_str(Visitor)
            }
        }
    };
}

string_enum! {
    /// `status` of a registration operation and of a registration state (reference §5.4).
    pub enum RegistrationStatus {
        /// `unassigned`: not yet assigned to a hub.
        Unassigned => "unassigned",
        /// `assigning`: in progress; poll the operation status again.
        Assigning => "assigning",
        /// `assigned`: the device has a hub and a device ID.
        Assigned => "assigned",
        /// `failed`: the registration failed; `registrationState` carries the error.
        Failed => "failed",
        /// `disabled`: the enrollment or registration is disabled.
        Disabled => "disabled",
    }
}

impl RegistrationStatus {
    /// True once the operation has a final answer: anything but `unassigned` and
    /// `assigning` (azure-sdk-for-c `az_iot_provisioning_client_operation_complete`).
    pub fn is_complete(&self) -> bool {
        !matches!(self, Self::Unassigned | Self::Assigning)
    }
}

string_enum! {
    /// `substatus` of an assigned registration: why the device got this hub and what happened
    /// to its hub data (reference §5.4 and §8.3; DOC concepts-device-reprovision).
    pub enum Substatus {
        /// `initialAssignment`: first assignment to a hub.
        InitialAssignment => "initialAssignment",
        /// `deviceDataMigrated`: moved to a new hub, twin data migrated.
        DeviceDataMigrated => "deviceDataMigrated",
        /// `deviceDataReset`: moved to a new hub, twin data reset to the enrollment's initial state.
        DeviceDataReset => "deviceDataReset",
        /// `reprovisionedToInitialAssignment`: reprovisioned back to the initial assignment.
        ReprovisionedToInitialAssignment => "reprovisionedToInitialAssignment",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_round_trips_known_and_unknown_values() {
        for text in ["unassigned", "assigning", "assigned", "failed", "disabled"] {
            let status: RegistrationStatus =
                serde_json::from_str(&alloc::format!("\"{text}\"")).unwrap();
            assert!(!matches!(status, RegistrationStatus::Unknown(_)), "{text}");
            assert_eq!(
                serde_json::to_string(&status).unwrap(),
                alloc::format!("\"{text}\"")
            );
        }
        // azure-sdk-for-c parser test TEST_STATUS_UNKNOWN
        let status: RegistrationStatus = serde_json::from_str("\"unknown status123!@#\"").unwrap();
        assert_eq!(
            status,
            RegistrationStatus::Unknown("unknown status123!@#".into())
        );
        assert_eq!(status.as_str(), "unknown status123!@#");
        assert!(serde_json::from_str::<RegistrationStatus>("12").is_err());
    }

    #[test]
    fn substatus_keeps_unknown_values() {
        let s: Substatus = serde_json::from_str("\"deviceDataReset\"").unwrap();
        assert_eq!(s, Substatus::DeviceDataReset);
        let s: Substatus = serde_json::from_str("\"somethingNew\"").unwrap();
        assert_eq!(s, Substatus::Unknown("somethingNew".into()));
        assert_eq!(s.to_string(), "somethingNew");
    }

    #[test]
    fn completion_follows_sdk_for_c() {
        assert!(!RegistrationStatus::Assigning.is_complete());
        assert!(!RegistrationStatus::Unassigned.is_complete());
        assert!(RegistrationStatus::Assigned.is_complete());
        assert!(RegistrationStatus::Disabled.is_complete());
        assert!(RegistrationStatus::Failed.is_complete());
    }
}
