#![doc = include_str!("../README.md")]
#![no_std]
#![cfg_attr(docsrs, feature(doc_cfg))]

#[cfg(feature = "alloc")]
extern crate alloc;
#[cfg(any(test, feature = "std"))]
extern crate std;

mod buffer;
mod connection_string;
mod derive;
mod error;
mod key;
mod key_slot;
mod key_text;
mod mac_key;
mod percent;
mod redact;
mod renew;
mod resource;
mod scope;
mod sign;
mod signer;
mod token;
mod verify;

pub use buffer::write_into;
pub use connection_string::{ConnectionString, Credential, MAX_CONNECTION_STRING_LEN};
pub use derive::{derive_device_key, derive_device_mac_key};
pub use error::{Base64Error, ConnectionStringError, Error, ExpiryError, SignatureError};
pub use key::SharedAccessKey;
pub use key_slot::KeySlot;
pub use key_text::{MAX_KEY_LEN, REGISTERED_KEY_LEN};
pub use mac_key::MacKey;
pub use percent::{PercentDecode, percent_decode, percent_encode};
pub use redact::RedactedToken;
pub use renew::{expiry_from_ttl, should_renew};
pub use resource::ResourceUri;
pub use scope::Scope;
#[cfg(feature = "alloc")]
pub use sign::sign;
pub use sign::{max_token_len, sign_encoded_into, sign_into};
pub use signer::{Signature, Signer};
pub use token::{MAX_TOKEN_LEN, SasToken};
pub use verify::{DEFAULT_SKEW_SECS, TokenRefused, Verified, Verifier, check_token};
