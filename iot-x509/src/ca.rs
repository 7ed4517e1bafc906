//! Registered CA certificates (reference §7.4): a name, the certificate and a verified flag.

use core::sync::atomic::{AtomicU64, Ordering};

use rustls_pki_types::{CertificateDer, TrustAnchor};
use webpki::VerifiedPath;

use crate::anchor::AnchorConstraints;
use crate::validity::validity_of;
use crate::{CertificateInfo, ChainError, Error};

/// A CA certificate uploaded to a hub or DPS instance (reference §7.4): root or intermediate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RegisteredCa {
    /// The name it was uploaded under (unique in its [`CaSet`]).
    pub name: String,
    /// The DER certificate.
    pub der: Vec<u8>,
    /// Whether proof of possession was completed (or self-attested on upload, reference §7.4
    /// step 1). Only verified CAs anchor a chain.
    pub verified: bool,
}

#[derive(Clone, Debug)]
pub(crate) struct Entry {
    pub(crate) ca: RegisteredCa,
    pub(crate) anchor: TrustAnchor<'static>,
    pub(crate) not_before: i64,
    pub(crate) not_after: i64,
    /// What the certificate allows when it anchors a path (keyUsage, EKU, pathLen).
    pub(crate) constraints: AnchorConstraints,
}

impl Entry {
    /// Whether this registration may anchor `path` at `now`: within its validity period and
    /// its own constraints allow the path.
    fn admit(&self, path: &VerifiedPath<'_>, now: u64) -> Result<(), ChainError> {
        let now_i = i64::try_from(now).unwrap_or(i64::MAX);
        if now_i > self.not_after {
            return Err(ChainError::Expired {
                not_after: self.not_after,
                now,
            });
        }
        if now_i < self.not_before {
            return Err(ChainError::NotYetValid {
                not_before: self.not_before,
                now,
            });
        }
        self.constraints.admit(path)
    }
}

/// Every change of any [`CaSet`] takes the next number, so versions are unique across sets
/// and a [`ChainCache`](crate::ChainCache) can never confuse two sets.
static NEXT_VERSION: AtomicU64 = AtomicU64::new(1);

fn next_version() -> u64 {
    NEXT_VERSION.fetch_add(1, Ordering::Relaxed)
}

/// The CA certificates registered in one hub or DPS instance.
///
/// Any registered **verified** CA is a trust anchor, whether it is a root or an intermediate,
/// so registering an intermediate works without its root (reference §7.3, §7.5). A chain that
/// only reaches an unverified CA is refused with
/// [`ChainError::CaNotVerified`](crate::ChainError::CaNotVerified).
///
/// [`version`](Self::version) changes on every modification; the number is drawn from a
/// process-wide counter, so it is also unique across sets (two sets never share a version
/// unless one is a clone of the other with the same content).
#[derive(Clone, Debug)]
pub struct CaSet {
    entries: Vec<Entry>,
    /// Anchors of the verified entries, and the index of each in `entries`.
    verified: Vec<TrustAnchor<'static>>,
    verified_index: Vec<usize>,
    all: Vec<TrustAnchor<'static>>,
    version: u64,
}

impl Default for CaSet {
    fn default() -> Self {
        Self::new()
    }
}

impl CaSet {
    /// An empty set.
    pub fn new() -> Self {
        Self {
            entries: Vec::new(),
            verified: Vec::new(),
            verified_index: Vec::new(),
            all: Vec::new(),
            version: next_version(),
        }
    }

    /// Registers a CA.
    ///
    /// # Errors
    /// [`Error::EmptyCaName`], [`Error::DuplicateCa`], [`Error::MalformedCertificate`] (or
    /// another parse error), and [`Error::NotACa`] when the certificate lacks
    /// `basicConstraints cA=TRUE` (RFC 5280 §4.2.1.9: only CA certificates sign certificates).
    pub fn add(&mut self, ca: RegisteredCa) -> Result<(), Error> {
        if ca.name.is_empty() {
            return Err(Error::EmptyCaName);
        }
        if self.get(&ca.name).is_some() {
            return Err(Error::DuplicateCa { name: ca.name });
        }
        let info = CertificateInfo::parse(&ca.der)?;
        if !info.is_ca() {
            return Err(Error::NotACa { name: ca.name });
        }
        let anchor = webpki::anchor_from_trusted_cert(&CertificateDer::from(ca.der.as_slice()))
            .map_err(|err| Error::from(crate::CertificateProblem::Webpki(err)))?
            .to_owned();
        let (not_before, not_after) =
            validity_of(&ca.der).unwrap_or((info.not_before(), info.not_after()));
        self.entries.push(Entry {
            ca,
            anchor,
            not_before,
            not_after,
            constraints: AnchorConstraints::of(&info),
        });
        self.changed();
        Ok(())
    }

    /// Removes the CA with this name; `false` if there was none.
    pub fn remove(&mut self, name: &str) -> bool {
        let before = self.entries.len();
        self.entries.retain(|entry| entry.ca.name != name);
        let removed = self.entries.len() != before;
        if removed {
            self.changed();
        }
        removed
    }

    /// Sets the verified flag (proof of possession done, reference §7.4); `false` if no CA has
    /// this name. The version changes only when the flag actually changes.
    pub fn set_verified(&mut self, name: &str, verified: bool) -> bool {
        let Some(entry) = self.entries.iter_mut().find(|entry| entry.ca.name == name) else {
            return false;
        };
        if entry.ca.verified != verified {
            entry.ca.verified = verified;
            self.changed();
        }
        true
    }

    /// The version of this set's content: different after every change.
    pub fn version(&self) -> u64 {
        self.version
    }

    /// The CA registered under `name`.
    pub fn get(&self, name: &str) -> Option<&RegisteredCa> {
        self.entries
            .iter()
            .map(|entry| &entry.ca)
            .find(|ca| ca.name == name)
    }

    /// All registered CAs in registration order.
    pub fn iter(&self) -> impl Iterator<Item = &RegisteredCa> {
        self.entries.iter().map(|entry| &entry.ca)
    }

    /// Number of registered CAs.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// No CA registered.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub(crate) fn verified_anchors(&self) -> &[TrustAnchor<'static>] {
        &self.verified
    }

    pub(crate) fn all_anchors(&self) -> &[TrustAnchor<'static>] {
        &self.all
    }

    /// The entry whose anchor is `anchor` (same subject, key and name constraints), verified
    /// ones first.
    pub(crate) fn entry_for(
        &self,
        anchor: &TrustAnchor<'_>,
        verified_only: bool,
    ) -> Option<&Entry> {
        let verified = self.verified_entries(anchor).next();
        if verified_only {
            verified
        } else {
            verified.or_else(|| self.entries.iter().find(|entry| entry.anchor == *anchor))
        }
    }

    /// The verified registration that admits `path` at `now` (see [`Entry::admit`]): any one
    /// of those sharing the path's anchor will do, in whatever order they were registered
    /// (CA rollover: the renewed certificate beside the expired one). When none admits it,
    /// the reason of the first one within its validity period, else of the first one.
    pub(crate) fn admitting_entry(
        &self,
        path: &VerifiedPath<'_>,
        now: u64,
    ) -> Result<&Entry, ChainError> {
        let mut refusal: Option<ChainError> = None;
        for entry in self.verified_entries(path.anchor()) {
            match entry.admit(path, now) {
                Ok(()) => return Ok(entry),
                Err(reason) => {
                    let dated = matches!(
                        reason,
                        ChainError::Expired { .. } | ChainError::NotYetValid { .. }
                    );
                    let keep = match &refusal {
                        None => true,
                        Some(ChainError::Expired { .. } | ChainError::NotYetValid { .. }) => !dated,
                        Some(_) => false,
                    };
                    if keep {
                        refusal = Some(reason);
                    }
                }
            }
        }
        Err(refusal.unwrap_or(ChainError::UnknownIssuer))
    }

    fn verified_entries<'s>(&'s self, anchor: &TrustAnchor<'_>) -> impl Iterator<Item = &'s Entry> {
        self.verified_index
            .iter()
            .filter_map(|&i| self.entries.get(i))
            .filter(move |entry| entry.anchor == *anchor)
    }

    fn changed(&mut self) {
        self.verified.clear();
        self.verified_index.clear();
        self.all.clear();
        // Registrations of one certificate's subject and key (a renewed CA beside the expired
        // one) are one anchor to webpki; `admitting_entry` then considers each registration.
        for (i, entry) in self.entries.iter().enumerate() {
            if !self.all.contains(&entry.anchor) {
                self.all.push(entry.anchor.clone());
            }
            if entry.ca.verified {
                if !self.verified.contains(&entry.anchor) {
                    self.verified.push(entry.anchor.clone());
                }
                self.verified_index.push(i);
            }
        }
        self.version = next_version();
    }
}
