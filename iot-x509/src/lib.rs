#![doc = include_str!("../README.md")]

mod anchor;
mod ca;
mod cache;
mod chain;
mod error;
#[cfg(feature = "generate")]
pub mod generate;
mod identity;
mod info;
mod input;
mod pop;
mod thumbprint;
mod validity;

pub use ca::{CaSet, RegisteredCa};
pub use cache::{ChainCache, DEFAULT_CACHE_CAPACITY};
pub use chain::{ChainError, MAX_INTERMEDIATES, VerifiedChain, verify_client_chain};
pub use error::{CertificateProblem, Error, ParseError, PemProblem};
pub use identity::check_identity;
pub use info::{CertificateInfo, OID_CLIENT_AUTH, OID_SERVER_AUTH, X509CertificateInfo};
pub use input::{MAX_CERTIFICATES, parse_certificates};
pub use pop::verify_proof_of_possession;
pub use rustls_pki_types::CertificateDer;
pub use thumbprint::{Thumbprint, ThumbprintAlgorithm, ThumbprintMatch, match_thumbprints};
