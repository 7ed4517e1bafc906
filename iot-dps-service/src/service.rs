//! The provisioning service: a validated, indexed set of enrollments over a DPS instance
//! (reference ../shared/reference/azure-iot-protocol.md §7.5, §8.1, §5.5 limits).

use std::collections::HashMap;

use iot_sas::{DEFAULT_SKEW_SECS, MacKey};
use iot_x509::{CaSet, RegisteredCa, Thumbprint};

use crate::error::BadCertificate;
use crate::registration_id::fold;
use crate::validate::decode_certificate;
use crate::{DpsInstance, EnrollmentGroup, EnrollmentRef, Error, IndividualEnrollment};

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
            let fail = |source| Error::CaCertificate {
                name: ca.name.clone(),
                source,
            };
            let der = decode_certificate(&ca.certificate).map_err(fail)?;
            let registered = RegisteredCa {
                name: ca.name.clone(),
                der: der.clone(),
                verified: ca.is_verified,
            };
            cas.add(registered)
                .map_err(|e| fail(BadCertificate::Refused(e)))?;
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
}

/// Two references name the same enrollment (IDs are case-insensitive, §4).
pub(crate) fn same_enrollment(a: &EnrollmentRef, b: &EnrollmentRef) -> bool {
    match (a, b) {
        (EnrollmentRef::Individual(x), EnrollmentRef::Individual(y))
        | (EnrollmentRef::Group(x), EnrollmentRef::Group(y)) => x.eq_ignore_ascii_case(y),
        _ => false,
    }
}
