//! Client certificate chain verification (reference §7.3) with rustls-webpki.

use core::cell::Cell;
use core::time::Duration;

use rustls_pki_types::{CertificateDer, UnixTime};
use webpki::{EndEntityCert, KeyUsage, VerifiedPath};

use crate::CaSet;
use crate::validity::validity_of;

/// Most intermediates a device may present; longer chains are refused before any work.
pub const MAX_INTERMEDIATES: usize = 8;

/// A chain that was accepted: which registered CA anchored it and the path that was used.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedChain {
    /// Name of the registered, verified CA that anchored the chain.
    pub ca_name: String,
    /// The certificates of the path: leaf first, then the intermediates used, then the CA.
    pub path: Vec<CertificateDer<'static>>,
    /// The earliest `notAfter` in the path (Unix seconds): the chain stops being valid then.
    pub not_after: i64,
    /// The latest `notBefore` in the path (Unix seconds): the chain is not valid before.
    pub not_before: i64,
}

/// Why a client chain was refused. Each reason names what to fix.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ChainError {
    /// A certificate of the chain (or the anchoring CA) has expired (RFC 5280 §4.1.2.5).
    #[error("certificate expired at {not_after}, now is {now}")]
    Expired {
        /// That certificate's `notAfter` (Unix seconds).
        not_after: i64,
        /// The verification time.
        now: u64,
    },
    /// A certificate of the chain (or the anchoring CA) is not valid yet (RFC 5280 §4.1.2.5).
    #[error("certificate is not valid before {not_before}, now is {now}")]
    NotYetValid {
        /// That certificate's `notBefore` (Unix seconds).
        not_before: i64,
        /// The verification time.
        now: u64,
    },
    /// No path from the leaf to any registered CA (missing intermediate, foreign root, or a
    /// self-signed device certificate, which only thumbprint authentication accepts, §7.2).
    #[error("unknown issuer: the chain does not reach a registered CA")]
    UnknownIssuer,
    /// The chain reaches a registered CA whose proof of possession is not done (§7.3, §7.4).
    #[error("the chain reaches CA `{ca_name}`, which is registered but not verified")]
    CaNotVerified {
        /// Name of that CA.
        ca_name: String,
    },
    /// The leaf (or an issuer) carries an extended key usage without `clientAuth`
    /// (RFC 5280 §4.2.1.12; absent EKU is accepted).
    #[error("certificate extended key usage does not allow client authentication")]
    NotClientAuth,
    /// An issuing certificate is not a CA (`basicConstraints` cA missing or false, RFC 5280
    /// §4.2.1.9).
    #[error("an issuing certificate is not a CA")]
    IssuerNotCa,
    /// The leaf itself is a CA certificate; a device certificate must be an end entity.
    #[error("the leaf certificate is a CA certificate, not a device certificate")]
    LeafIsCa,
    /// A signature in the path does not verify (for example a forged issuer name).
    #[error("a certificate signature does not verify with its issuer's key")]
    BadSignature,
    /// Too many intermediates, a `pathLenConstraint` violated, or the path-building budget
    /// exhausted.
    #[error("certificate path too long")]
    PathTooLong,
    /// A signature or key algorithm outside the supported set (no SHA-1, no RSA < 2048 bits).
    #[error("unsupported signature or key algorithm")]
    UnsupportedAlgorithm,
    /// A CA's name constraints exclude the certificate.
    #[error("name constraints violated")]
    NameConstraintViolation,
    /// A certificate does not parse or uses an unsupported critical extension or version; the
    /// cause is kept ([`Error::MalformedCertificate`](crate::Error::MalformedCertificate) for
    /// what rustls-webpki refused, or the certificate view's own parse error).
    #[error("{0}")]
    Malformed(#[source] crate::Error),
    /// The anchoring CA's `keyUsage` lacks `keyCertSign`: its key may not sign certificates
    /// (RFC 5280 §4.2.1.3; OpenSSL refuses it as an issuer).
    #[error("the CA certificate's key usage does not allow signing certificates (keyCertSign)")]
    CaKeyUsage,
}

impl ChainError {
    /// A stable snake_case code for the reason (`expired`, `unknown_issuer`, ...), for logs
    /// and JSON output.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Expired { .. } => "expired",
            Self::NotYetValid { .. } => "not_yet_valid",
            Self::UnknownIssuer => "unknown_issuer",
            Self::CaNotVerified { .. } => "ca_not_verified",
            Self::NotClientAuth => "not_client_auth",
            Self::IssuerNotCa => "issuer_not_ca",
            Self::LeafIsCa => "leaf_is_ca",
            Self::BadSignature => "bad_signature",
            Self::PathTooLong => "path_too_long",
            Self::UnsupportedAlgorithm => "unsupported_algorithm",
            Self::NameConstraintViolation => "name_constraint_violation",
            Self::Malformed(_) => "malformed",
            Self::CaKeyUsage => "ca_key_usage",
        }
    }
}

/// Verifies a device's client certificate chain against the verified CAs of `cas`
/// (reference §7.3): rustls-webpki path building with the `clientAuth` EKU (required only when
/// the extension is present), at the caller's time `now` (Unix seconds), without revocation
/// checks (IoT Hub does none, §7.3).
///
/// The anchoring CA is a whole registered certificate, not only a name and key: it must be
/// within its own validity period (webpki does not check trust anchors' dates; OpenSSL and the
/// hub do), and its own `keyUsage`, `extendedKeyUsage` and `pathLenConstraint` must allow the
/// path, as `openssl verify -purpose sslclient` requires (see [`ChainError::CaKeyUsage`],
/// [`ChainError::NotClientAuth`], [`ChainError::PathTooLong`]). When several verified
/// registrations share the anchor's subject and key (a renewed CA beside the expired one), the
/// chain is admitted if any one of them admits it, whatever their order.
///
/// `intermediates` are the certificates the device presented after its leaf, in any order.
///
/// # Errors
/// A [`ChainError`] naming the reason. When no verified CA is reached but an unverified
/// registered CA would anchor the chain, the reason is [`ChainError::CaNotVerified`].
pub fn verify_client_chain(
    cas: &CaSet,
    leaf: &[u8],
    intermediates: &[CertificateDer<'_>],
    now: u64,
) -> Result<VerifiedChain, ChainError> {
    if intermediates.len() > MAX_INTERMEDIATES {
        return Err(ChainError::PathTooLong);
    }
    let leaf_der = CertificateDer::from(leaf);
    let ee = EndEntityCert::try_from(&leaf_der).map_err(|err| map_error(err, now))?;
    let time = UnixTime::since_unix_epoch(Duration::from_secs(now));
    // webpki's error type cannot carry our reasons for refusing an anchor: the callback
    // answers with the nearest webpki error (ranked like ours) and keeps its own reason here.
    let refusal: Cell<Option<(ChainError, webpki::Error)>> = Cell::new(None);
    let admit_anchor = |path: &VerifiedPath<'_>| match cas.admitting_entry(path, now) {
        Ok(_) => Ok(()),
        Err(reason) => {
            let stand_in = stand_in(&reason, now);
            refusal.set(Some((reason, stand_in.clone())));
            Err(stand_in)
        }
    };
    let result = ee.verify_for_usage(
        webpki::ALL_VERIFICATION_ALGS,
        cas.verified_anchors(),
        intermediates,
        time,
        KeyUsage::client_auth(),
        None,
        Some(&admit_anchor),
    );
    match result {
        Ok(path) => Ok(verified_chain(cas, leaf, &path, now)),
        Err(webpki::Error::UnknownIssuer) => {
            // Would an unverified registered CA anchor it? Only costs on the failure path.
            let retry = ee.verify_for_usage(
                webpki::ALL_VERIFICATION_ALGS,
                cas.all_anchors(),
                intermediates,
                time,
                KeyUsage::client_auth(),
                None,
                None,
            );
            match retry
                .ok()
                .and_then(|path| cas.entry_for(path.anchor(), false))
            {
                Some(entry) if !entry.ca.verified => Err(ChainError::CaNotVerified {
                    ca_name: entry.ca.name.clone(),
                }),
                _ => Err(ChainError::UnknownIssuer),
            }
        }
        Err(err) => match refusal.take() {
            Some((reason, stand_in)) if stand_in == err => Err(reason),
            _ => Err(map_error(err, now)),
        },
    }
}

/// The webpki error that ranks like `reason` among the candidate paths' errors.
fn stand_in(reason: &ChainError, now: u64) -> webpki::Error {
    let time = UnixTime::since_unix_epoch(Duration::from_secs(now));
    let at =
        |secs: i64| UnixTime::since_unix_epoch(Duration::from_secs(secs.max(0).unsigned_abs()));
    match *reason {
        ChainError::Expired { not_after, .. } => webpki::Error::CertExpired {
            time,
            not_after: at(not_after),
        },
        ChainError::NotYetValid { not_before, .. } => webpki::Error::CertNotValidYet {
            time,
            not_before: at(not_before),
        },
        #[allow(deprecated)] // the context variant cannot be built outside webpki
        ChainError::NotClientAuth => webpki::Error::RequiredEkuNotFound,
        ChainError::PathTooLong => webpki::Error::PathLenConstraintViolated,
        // webpki raises this one only for CRLs, which are never checked here (§7.3).
        ChainError::CaKeyUsage => webpki::Error::IssuerNotCrlSigner,
        _ => webpki::Error::UnknownIssuer,
    }
}

fn verified_chain(cas: &CaSet, leaf: &[u8], path: &VerifiedPath<'_>, now: u64) -> VerifiedChain {
    let mut certs = Vec::with_capacity(2 + MAX_INTERMEDIATES);
    certs.push(CertificateDer::from(leaf.to_vec()));
    certs.extend(
        path.intermediate_certificates()
            .map(|cert| cert.der().into_owned()),
    );
    let (mut not_before, mut not_after) = (i64::MIN, i64::MAX);
    for cert in &certs {
        // Every certificate here was just parsed and accepted by webpki; the fallback only
        // guards against a DER form the fast reader does not know.
        let (nb, na) = validity_of(cert)
            .or_else(|| {
                crate::CertificateInfo::parse(cert)
                    .ok()
                    .map(|i| (i.not_before(), i.not_after()))
            })
            // Unreadable (never seen): an empty window, so a cache never reuses this chain.
            .unwrap_or((i64::MAX, i64::MIN));
        not_before = not_before.max(nb);
        not_after = not_after.min(na);
    }
    let (ca_name, ca_der) = match cas.admitting_entry(path, now) {
        Ok(entry) => {
            not_before = not_before.max(entry.not_before);
            not_after = not_after.min(entry.not_after);
            (entry.ca.name.clone(), Some(entry.ca.der.clone()))
        }
        Err(_) => (String::new(), None),
    };
    certs.extend(ca_der.map(CertificateDer::from));
    VerifiedChain {
        ca_name,
        path: certs,
        not_after,
        not_before,
    }
}

/// Maps webpki's error to our reason (webpki ranks errors across candidate paths and returns
/// the most specific one).
fn map_error(err: webpki::Error, now: u64) -> ChainError {
    use webpki::Error as E;
    let secs = |t: UnixTime| i64::try_from(t.as_secs()).unwrap_or(i64::MAX);
    #[allow(deprecated)]
    match err {
        E::CertExpired { not_after, .. } => ChainError::Expired {
            not_after: secs(not_after),
            now,
        },
        E::CertNotValidYet { not_before, .. } => ChainError::NotYetValid {
            not_before: secs(not_before),
            now,
        },
        E::UnknownIssuer => ChainError::UnknownIssuer,
        E::RequiredEkuNotFound | E::RequiredEkuNotFoundContext(_) | E::EmptyEkuExtension => {
            ChainError::NotClientAuth
        }
        E::EndEntityUsedAsCa => ChainError::IssuerNotCa,
        E::CaUsedAsEndEntity => ChainError::LeafIsCa,
        E::InvalidSignatureForPublicKey => ChainError::BadSignature,
        E::IssuerNotCrlSigner => ChainError::CaKeyUsage,
        E::MaximumPathDepthExceeded
        | E::MaximumPathBuildCallsExceeded
        | E::MaximumSignatureChecksExceeded
        | E::PathLenConstraintViolated => ChainError::PathTooLong,
        E::UnsupportedSignatureAlgorithm
        | E::UnsupportedSignatureAlgorithmContext(_)
        | E::UnsupportedSignatureAlgorithmForPublicKey
        | E::UnsupportedSignatureAlgorithmForPublicKeyContext(_) => {
            ChainError::UnsupportedAlgorithm
        }
        E::NameConstraintViolation | E::MaximumNameConstraintComparisonsExceeded => {
            ChainError::NameConstraintViolation
        }
        other => ChainError::Malformed(crate::CertificateProblem::Webpki(other).into()),
    }
}
