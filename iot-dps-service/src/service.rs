//! The provisioning service: a validated, indexed set of enrollments over a DPS instance
//! (reference ../shared/reference/azure-iot-protocol.md §7.5, §8.1, §5.5 limits).

use std::collections::HashMap;

use base64::Engine as _;
use iot_sas::{DEFAULT_SKEW_SECS, KeySlot, MacKey};
use iot_x509::{CaSet, CertificateDer, RegisteredCa, Thumbprint};

use crate::registration_id::fold;
use crate::validate::decode_key;
use crate::{
    AttestationType, DpsInstance, EnrollmentGroup, EnrollmentRef, Error, IndividualEnrollment,
    X509Certificates,
};

/// Most symmetric-key enrollment groups per instance (§5.5).
pub const MAX_SYMMETRIC_KEY_GROUPS: usize = 100;
/// Most X.509 enrollment groups per instance (§5.5).
pub const MAX_X509_GROUPS: usize = 100;
/// Most individual enrollments per instance (§5.5).
pub const MAX_INDIVIDUAL_ENROLLMENTS: usize = 1_000_000;

/// A group's symmetric keys, pre-keyed once (compact iot-sas [`MacKey`]s) so a registration
/// costs one HMAC per candidate key to derive the device key (§3, straight into a `MacKey`)
/// plus one to check the token.
pub(crate) struct GroupKeys {
    pub(crate) primary: MacKey,
    pub(crate) secondary: MacKey,
}

pub(crate) struct GroupEntry {
    pub(crate) group: EnrollmentGroup,
    pub(crate) keys: Option<GroupKeys>,
    /// DER of the group's certificates (signing certificates and referenced CAs).
    pub(crate) certs: Vec<Vec<u8>>,
}

pub(crate) struct IndividualEntry {
    pub(crate) enrollment: IndividualEnrollment,
    /// DER of the primary and secondary client certificates (X.509 individual enrollments).
    pub(crate) client_certs: Vec<Vec<u8>>,
}

/// A DPS instance with its enrollments, validated on load and indexed for registrations:
/// individual enrollments by case-folded registration ID, certificates by SHA-256
/// thumbprint, symmetric-key groups with pre-keyed group keys.
///
/// Every enrollment is plain data (`serde`); the caller persists it and reloads it here.
pub struct ProvisioningService {
    pub(crate) instance: DpsInstance,
    pub(crate) cas: CaSet,
    /// DER of each registered CA, by name.
    pub(crate) ca_der: HashMap<String, Vec<u8>>,
    pub(crate) individuals: HashMap<String, IndividualEntry>,
    pub(crate) groups: Vec<GroupEntry>,
    /// Which enrollment holds a certificate, by its SHA-256 thumbprint.
    pub(crate) by_cert: HashMap<Thumbprint, EnrollmentRef>,
    pub(crate) token_skew_secs: u64,
}

impl core::fmt::Debug for ProvisioningService {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ProvisioningService")
            .field("id_scope", &self.instance.id_scope)
            .field("individual_enrollments", &self.individuals.len())
            .field("enrollment_groups", &self.groups.len())
            .finish_non_exhaustive()
    }
}

impl ProvisioningService {
    /// A service over `instance` with no enrollments. Registered CAs are parsed here.
    ///
    /// # Errors
    /// [`DpsInstance::validate`] errors, or [`Error::CaCertificate`].
    pub fn new(instance: DpsInstance) -> Result<Self, Error> {
        instance.validate()?;
        let mut cas = CaSet::new();
        let mut ca_der = HashMap::new();
        for ca in &instance.certificates {
            let fail = |reason: String| Error::CaCertificate {
                name: ca.name.clone(),
                reason,
            };
            let der = decode_certificate(&ca.certificate).map_err(fail)?;
            let registered = RegisteredCa {
                name: ca.name.clone(),
                der: der.clone(),
                verified: ca.is_verified,
            };
            cas.add(registered).map_err(|e| fail(e.to_string()))?;
            ca_der.insert(ca.name.clone(), der);
        }
        Ok(Self {
            instance,
            cas,
            ca_der,
            individuals: HashMap::new(),
            groups: Vec::new(),
            by_cert: HashMap::new(),
            token_skew_secs: DEFAULT_SKEW_SECS,
        })
    }

    /// A service over `instance` with these enrollments, every rule checked.
    ///
    /// # Errors
    /// The first broken rule (see [`Self::upsert_individual`], [`Self::upsert_group`]).
    pub fn load(
        instance: DpsInstance,
        individuals: impl IntoIterator<Item = IndividualEnrollment>,
        groups: impl IntoIterator<Item = EnrollmentGroup>,
    ) -> Result<Self, Error> {
        let mut service = Self::new(instance)?;
        for group in groups {
            if service.group(&group.enrollment_group_id).is_some() {
                return Err(Error::Duplicate {
                    what: "enrollment group",
                    id: group.enrollment_group_id,
                });
            }
            service.upsert_group(group)?;
        }
        for enrollment in individuals {
            if service.individual(&enrollment.registration_id).is_some() {
                return Err(Error::Duplicate {
                    what: "individual enrollment",
                    id: enrollment.registration_id,
                });
            }
            service.upsert_individual(enrollment)?;
        }
        Ok(service)
    }

    /// Sets the tolerance for an expired DPS token (default [`iot_sas::DEFAULT_SKEW_SECS`],
    /// 5 minutes; the service's own value is OPEN, reference §10.1).
    #[must_use]
    pub fn with_token_skew(mut self, secs: u64) -> Self {
        self.token_skew_secs = secs;
        self
    }

    /// The instance settings.
    pub fn instance(&self) -> &DpsInstance {
        &self.instance
    }

    /// The registered CAs.
    pub fn cas(&self) -> &CaSet {
        &self.cas
    }

    /// The individual enrollment for a registration ID (case-insensitive, §4).
    pub fn individual(&self, registration_id: &str) -> Option<&IndividualEnrollment> {
        self.individuals
            .get(&fold(registration_id))
            .map(|e| &e.enrollment)
    }

    /// The enrollment group with this ID (case-insensitive, §4).
    pub fn group(&self, group_id: &str) -> Option<&EnrollmentGroup> {
        self.group_index(group_id).map(|i| &self.groups[i].group)
    }

    /// Number of individual enrollments.
    pub fn individual_count(&self) -> usize {
        self.individuals.len()
    }

    /// The enrollment groups, in the order they are tried for symmetric-key attestation.
    pub fn groups(&self) -> impl Iterator<Item = &EnrollmentGroup> {
        self.groups.iter().map(|g| &g.group)
    }

    pub(crate) fn group_index(&self, group_id: &str) -> Option<usize> {
        self.groups
            .iter()
            .position(|g| g.group.enrollment_group_id.eq_ignore_ascii_case(group_id))
    }

    /// Adds or replaces an individual enrollment (matched by registration ID).
    ///
    /// # Errors
    /// [`IndividualEnrollment::validate`] errors, a bad or duplicate certificate
    /// ([`Error::DuplicateCertificate`]: a certificate may be in only one enrollment, §7.5),
    /// an unknown CA reference, or the 1,000,000 limit.
    pub fn upsert_individual(&mut self, enrollment: IndividualEnrollment) -> Result<(), Error> {
        enrollment.validate(&self.instance)?;
        let key = fold(&enrollment.registration_id);
        let who = EnrollmentRef::Individual(enrollment.registration_id.clone());
        if !self.individuals.contains_key(&key)
            && self.individuals.len() >= MAX_INDIVIDUAL_ENROLLMENTS
        {
            return Err(Error::TooMany {
                what: "individual enrollments",
                count: self.individuals.len() + 1,
                max: MAX_INDIVIDUAL_ENROLLMENTS,
            });
        }
        let mut client_certs = Vec::new();
        if enrollment.attestation.kind == AttestationType::X509
            && let Some(x509) = &enrollment.attestation.x509
        {
            client_certs = decode_pair(&who, x509.client_certificates.as_ref())?;
            // The registration ID of an X.509 individual enrollment is the device
            // certificate's CN (§7.5).
            for der in &client_certs {
                let info =
                    iot_x509::CertificateInfo::parse(der).map_err(|e| Error::Certificate {
                        enrollment: who.clone(),
                        reason: e.to_string(),
                    })?;
                let cn = info.common_name().unwrap_or_default();
                if !cn.eq_ignore_ascii_case(&enrollment.registration_id) {
                    return Err(Error::Certificate {
                        enrollment: who,
                        reason: format!(
                            "certificate CN '{}' is not the registration id",
                            crate::registration_id::clip(cn)
                        ),
                    });
                }
            }
            if let Some(refs) = &x509.ca_references {
                for name in refs.primary.iter().chain(refs.secondary.iter()) {
                    if !self.ca_der.contains_key(name) {
                        return Err(Error::UnknownCaReference {
                            enrollment: who,
                            name: name.clone(),
                        });
                    }
                }
            }
        }
        let digests: Vec<Thumbprint> = client_certs
            .iter()
            .map(|d| Thumbprint::sha256_of(d))
            .collect();
        self.check_certs_free(&who, &digests)?;
        if let Some(old) = self.individuals.remove(&key) {
            self.unindex(&old.client_certs);
        }
        for d in digests {
            self.by_cert.insert(d, who.clone());
        }
        self.individuals.insert(
            key,
            IndividualEntry {
                enrollment,
                client_certs,
            },
        );
        Ok(())
    }

    /// Adds or replaces an enrollment group (matched by group ID). Symmetric keys are
    /// decoded and pre-keyed here, once.
    ///
    /// # Errors
    /// [`EnrollmentGroup::validate`] errors, a bad or duplicate certificate, an unknown CA
    /// reference, or more than 100 groups of its kind (§5.5).
    pub fn upsert_group(&mut self, group: EnrollmentGroup) -> Result<(), Error> {
        group.validate(&self.instance)?;
        let who = EnrollmentRef::Group(group.enrollment_group_id.clone());
        let existing = self.group_index(&group.enrollment_group_id);
        let kind = group.attestation.kind;
        let same_kind = self
            .groups
            .iter()
            .enumerate()
            .filter(|(i, g)| Some(*i) != existing && g.group.attestation.kind == kind)
            .count();
        let max = if kind == AttestationType::SymmetricKey {
            MAX_SYMMETRIC_KEY_GROUPS
        } else {
            MAX_X509_GROUPS
        };
        if same_kind >= max {
            let what = if kind == AttestationType::SymmetricKey {
                "symmetric-key groups"
            } else {
                "X.509 groups"
            };
            return Err(Error::TooMany {
                what,
                count: same_kind + 1,
                max,
            });
        }
        let mut keys = None;
        let mut certs = Vec::new();
        if let Some(sym) = group
            .attestation
            .symmetric_key
            .as_ref()
            .filter(|_| kind == AttestationType::SymmetricKey)
        {
            let key = |slot, text| decode_key(&who, slot, text).map(MacKey::from);
            keys = Some(GroupKeys {
                primary: key(KeySlot::Primary, &sym.primary_key)?,
                secondary: key(KeySlot::Secondary, &sym.secondary_key)?,
            });
        }
        if let Some(x509) = group
            .attestation
            .x509
            .as_ref()
            .filter(|_| kind == AttestationType::X509)
        {
            certs = decode_pair(&who, x509.signing_certificates.as_ref())?;
            if let Some(refs) = &x509.ca_references {
                for name in refs.primary.iter().chain(refs.secondary.iter()) {
                    let der = self
                        .ca_der
                        .get(name)
                        .ok_or_else(|| Error::UnknownCaReference {
                            enrollment: who.clone(),
                            name: name.clone(),
                        })?;
                    certs.push(der.clone());
                }
            }
        }
        let digests: Vec<Thumbprint> = certs.iter().map(|d| Thumbprint::sha256_of(d)).collect();
        self.check_certs_free(&who, &digests)?;
        if let Some(i) = existing {
            let old = self.groups.remove(i);
            self.unindex(&old.certs);
        }
        for d in digests {
            self.by_cert.insert(d, who.clone());
        }
        let entry = GroupEntry { group, keys, certs };
        match existing {
            Some(i) => self.groups.insert(i, entry),
            None => self.groups.push(entry),
        }
        Ok(())
    }

    /// Removes an individual enrollment. Prefer [`Self::delete_enrollment`], which also says
    /// what must happen in the hubs (§7.6).
    pub fn remove_individual(&mut self, registration_id: &str) -> Option<IndividualEnrollment> {
        let entry = self.individuals.remove(&fold(registration_id))?;
        self.unindex(&entry.client_certs);
        Some(entry.enrollment)
    }

    /// Removes an enrollment group. Prefer [`Self::delete_enrollment`] (§7.6).
    pub fn remove_group(&mut self, group_id: &str) -> Option<EnrollmentGroup> {
        let i = self.group_index(group_id)?;
        let entry = self.groups.remove(i);
        self.unindex(&entry.certs);
        Some(entry.group)
    }

    /// Forgets the certificates an enrollment held (each is in exactly one enrollment).
    fn unindex(&mut self, certs: &[Vec<u8>]) {
        for der in certs {
            self.by_cert.remove(&Thumbprint::sha256_of(der));
        }
    }

    fn check_certs_free(&self, who: &EnrollmentRef, digests: &[Thumbprint]) -> Result<(), Error> {
        for (i, d) in digests.iter().enumerate() {
            if digests[..i].contains(d) {
                return Err(Error::DuplicateCertificate {
                    thumbprint: *d,
                    first: who.clone(),
                    second: who.clone(),
                });
            }
            if let Some(owner) = self
                .by_cert
                .get(d)
                .filter(|owner| !same_enrollment(owner, who))
            {
                return Err(Error::DuplicateCertificate {
                    thumbprint: *d,
                    first: owner.clone(),
                    second: who.clone(),
                });
            }
        }
        Ok(())
    }
}

/// Two references name the same enrollment (IDs are case-insensitive, §4).
pub(crate) fn same_enrollment(a: &EnrollmentRef, b: &EnrollmentRef) -> bool {
    match (a, b) {
        (EnrollmentRef::Individual(x), EnrollmentRef::Individual(y))
        | (EnrollmentRef::Group(x), EnrollmentRef::Group(y)) => x.eq_ignore_ascii_case(y),
        _ => false,
    }
}

fn decode_pair(
    who: &EnrollmentRef,
    pair: Option<&X509Certificates>,
) -> Result<Vec<Vec<u8>>, Error> {
    let mut out = Vec::new();
    if let Some(pair) = pair {
        for cert in pair.primary.iter().chain(pair.secondary.iter()) {
            if let Some(text) = &cert.certificate {
                let der = decode_certificate(text).map_err(|reason| Error::Certificate {
                    enrollment: who.clone(),
                    reason,
                })?;
                out.push(der);
            }
        }
    }
    Ok(out)
}

/// Decodes one certificate given as PEM or as base64 DER (the REST API's two spellings) and
/// checks that it parses.
pub(crate) fn decode_certificate(text: &str) -> Result<Vec<u8>, String> {
    let der = if text.contains("-----BEGIN") {
        let certs = iot_x509::parse_certificates(text.as_bytes()).map_err(|e| e.to_string())?;
        certs
            .into_iter()
            .next()
            .map(|c: CertificateDer<'static>| c.to_vec())
            .ok_or_else(|| "no certificate".to_owned())?
    } else {
        let compact: String = text.chars().filter(|c| !c.is_ascii_whitespace()).collect();
        base64::engine::general_purpose::STANDARD
            .decode(compact)
            .map_err(|e| format!("not PEM or base64 DER: {e}"))?
    };
    iot_x509::CertificateInfo::parse(&der).map_err(|e| e.to_string())?;
    Ok(der)
}
