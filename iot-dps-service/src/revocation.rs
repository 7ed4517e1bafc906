//! Revocation plans (reference ../shared/reference/azure-iot-protocol.md §7.6, §11 item 9):
//! disabling or deleting an enrollment in DPS stops future provisioning ONLY. Devices keep
//! their hub identities, and keep connecting, until the hub changes of the plan are applied.

use core::fmt;
use std::collections::HashSet;

use iot_x509::{CertificateInfo, Thumbprint};

use crate::service::{ProvisioningService, same_enrollment};
use crate::{
    AttestationType, EnrollmentRef, Error, HubChange, ProvisioningStatus, RegistrationRecord,
};

/// What happens to the enrollment in DPS.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RevocationAction {
    /// Temporary: the enrollment stays and blocks its devices (§7.6).
    Disable,
    /// Permanent: the enrollment is removed; registration records stay (§7.6).
    Delete,
}

/// What else must happen, and what can go wrong, when an enrollment is disabled or deleted.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RevocationWarning {
    /// Disabling or deleting in DPS does NOT revoke hub access: the devices listed in
    /// [`RevocationPlan::hub_changes`] keep connecting until those changes are applied.
    HubAccessRemainsUntilApplied {
        /// Devices still present in hubs.
        devices: usize,
    },
    /// After the delete, the device(s) could re-enrol through this enabled group (X.509:
    /// the group holds a certificate higher in the chain; symmetric key: a device holding
    /// the group's derived key would be accepted). Disable instead of deleting, or keep a
    /// disabled enrollment, to block them regardless (§7.6).
    MayReEnrolThroughGroup {
        /// The group.
        group_id: String,
        /// Why.
        reason: &'static str,
    },
    /// Deleting an enrollment keeps its registration records; they still count against the
    /// 1,000,000 registrations quota until deleted (§7.6).
    RecordsRemain {
        /// Records of the enrollment.
        count: usize,
    },
}

impl fmt::Display for RevocationWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::HubAccessRemainsUntilApplied { devices } => write!(
                f,
                "dps changes alone do not revoke hub access: {devices} device(s) keep connecting until the hub changes are applied"
            ),
            Self::MayReEnrolThroughGroup { group_id, reason } => {
                write!(
                    f,
                    "after the delete the device may re-enrol through enrollment group '{group_id}': {reason}"
                )
            }
            Self::RecordsRemain { count } => {
                write!(
                    f,
                    "{count} registration record(s) remain and count against the registrations quota"
                )
            }
        }
    }
}

/// The result of planning a revocation.
#[derive(Clone, Debug, PartialEq)]
pub struct RevocationPlan {
    /// The enrollment.
    pub enrollment: EnrollmentRef,
    /// Disable or delete.
    pub action: RevocationAction,
    /// For each device the enrollment provisioned (from the registration records): disable
    /// it in its hub ([`HubChange::Disable`]) or delete it ([`HubChange::Remove`]).
    pub hub_changes: Vec<HubChange>,
    /// What the operator must know; never empty while a device is still in a hub.
    pub warnings: Vec<RevocationWarning>,
}

impl ProvisioningService {
    /// Plans what disabling or deleting `target` requires (§7.6), without changing anything.
    /// `records` are the caller's registration records (any number; those of other
    /// enrollments are ignored).
    ///
    /// # Errors
    /// [`Error::NotFound`] when the enrollment does not exist.
    pub fn plan_revocation(
        &self,
        target: &EnrollmentRef,
        action: RevocationAction,
        records: &[RegistrationRecord],
    ) -> Result<RevocationPlan, Error> {
        let exists = match target {
            EnrollmentRef::Individual(id) => self.individual(id).is_some(),
            EnrollmentRef::Group(id) => self.group(id).is_some(),
        };
        if !exists {
            return Err(Error::NotFound {
                enrollment: target.clone(),
            });
        }
        let mine: Vec<&RegistrationRecord> = records
            .iter()
            .filter(|r| same_enrollment(&r.enrollment, target))
            .collect();
        let hub_changes: Vec<HubChange> = mine
            .iter()
            .filter(|r| !r.assigned_hub.is_empty())
            .map(|r| {
                let (hub, device_id) = (r.assigned_hub.clone(), r.device_id.clone());
                match action {
                    RevocationAction::Disable => HubChange::Disable { hub, device_id },
                    RevocationAction::Delete => HubChange::Remove { hub, device_id },
                }
            })
            .collect();
        let mut warnings = Vec::new();
        if !hub_changes.is_empty() {
            warnings.push(RevocationWarning::HubAccessRemainsUntilApplied {
                devices: hub_changes.len(),
            });
        }
        if action == RevocationAction::Delete {
            warnings.extend(self.re_enrol_paths(target));
            if !mine.is_empty() {
                warnings.push(RevocationWarning::RecordsRemain { count: mine.len() });
            }
        }
        Ok(RevocationPlan {
            enrollment: target.clone(),
            action,
            hub_changes,
            warnings,
        })
    }

    /// Disables the enrollment (`provisioningStatus: disabled`) and returns the plan for the
    /// hubs (§7.6).
    ///
    /// # Errors
    /// [`Error::NotFound`].
    pub fn disable_enrollment(
        &mut self,
        target: &EnrollmentRef,
        records: &[RegistrationRecord],
    ) -> Result<RevocationPlan, Error> {
        let plan = self.plan_revocation(target, RevocationAction::Disable, records)?;
        match target {
            EnrollmentRef::Individual(id) => {
                if let Some(mut e) = self.individual(id).cloned() {
                    e.settings.provisioning_status = ProvisioningStatus::Disabled;
                    self.upsert_individual(e)?;
                }
            }
            EnrollmentRef::Group(id) => {
                if let Some(mut g) = self.group(id).cloned() {
                    g.settings.provisioning_status = ProvisioningStatus::Disabled;
                    self.upsert_group(g)?;
                }
            }
        }
        Ok(plan)
    }

    /// Deletes the enrollment and returns the plan for the hubs, flagging groups the devices
    /// could re-enrol through (§7.6).
    ///
    /// # Errors
    /// [`Error::NotFound`].
    pub fn delete_enrollment(
        &mut self,
        target: &EnrollmentRef,
        records: &[RegistrationRecord],
    ) -> Result<RevocationPlan, Error> {
        let plan = self.plan_revocation(target, RevocationAction::Delete, records)?;
        match target {
            EnrollmentRef::Individual(id) => self.remove_individual(id).map(|_| ()),
            EnrollmentRef::Group(id) => self.remove_group(id).map(|_| ()),
        };
        Ok(plan)
    }

    /// Enabled groups that would still accept the target's devices once it is gone.
    fn re_enrol_paths(&self, target: &EnrollmentRef) -> Vec<RevocationWarning> {
        let enabled = |g: &&crate::service::GroupEntry| {
            g.group.settings.provisioning_status == ProvisioningStatus::Enabled
                && !same_enrollment(
                    &EnrollmentRef::Group(g.group.enrollment_group_id.clone()),
                    target,
                )
        };
        let (kind, start): (AttestationType, Vec<Vec<u8>>) = match target {
            EnrollmentRef::Individual(id) => {
                match self.individuals.get(&crate::registration_id::fold(id)) {
                    Some(entry) => {
                        let e = &entry.enrollment;
                        let mut start = entry.client_certs.clone();
                        if let Some(refs) = e
                            .attestation
                            .x509
                            .as_ref()
                            .and_then(|x| x.ca_references.as_ref())
                        {
                            start.extend(
                                refs.primary
                                    .iter()
                                    .chain(refs.secondary.iter())
                                    .filter_map(|n| self.ca_der.get(n).cloned()),
                            );
                            // A CA-referencing enrollment's devices are issued by that CA: a group
                            // holding the same CA also accepts them.
                            return self
                                .groups_above(&start, true)
                                .into_iter()
                                .filter_map(|i| self.groups.get(i))
                                .filter(enabled)
                                .map(warn_x509)
                                .collect();
                        }
                        (e.attestation.kind, start)
                    }
                    None => return Vec::new(),
                }
            }
            EnrollmentRef::Group(id) => match self.group_index(id).and_then(|i| self.groups.get(i))
            {
                Some(g) => (g.group.attestation.kind, g.certs.clone()),
                None => return Vec::new(),
            },
        };
        match (kind, target) {
            (AttestationType::SymmetricKey, EnrollmentRef::Individual(_)) => self
                .groups
                .iter()
                .filter(|g| g.keys.is_some())
                .filter(enabled)
                .map(|g| RevocationWarning::MayReEnrolThroughGroup {
                    group_id: g.group.enrollment_group_id.clone(),
                    reason: "symmetric-key group: a device signing with this group's derived key for the registration id is accepted",
                })
                .collect(),
            (AttestationType::X509, _) => self.groups_above(&start, false).into_iter().filter_map(|i| self.groups.get(i)).filter(enabled).map(warn_x509).collect(),
            _ => Vec::new(),
        }
    }

    /// Indexes of groups holding a certificate above `start` in the issuer chain (by
    /// subject/issuer names over the group and registered CA certificates), plus, when
    /// `include_start`, the start certificates themselves.
    fn groups_above(&self, start: &[Vec<u8>], include_start: bool) -> Vec<usize> {
        let known: Vec<(&[u8], CertificateInfo)> = self
            .groups
            .iter()
            .flat_map(|g| g.certs.iter())
            .chain(self.ca_der.values())
            .filter_map(|der| {
                CertificateInfo::parse(der)
                    .ok()
                    .map(|i| (der.as_slice(), i))
            })
            .collect();
        let mut above: HashSet<Thumbprint> = HashSet::new();
        let mut frontier: Vec<String> = Vec::new();
        for der in start {
            if include_start {
                above.insert(Thumbprint::sha256_of(der));
            }
            if let Ok(info) = CertificateInfo::parse(der)
                && !info.is_self_issued()
            {
                frontier.push(info.issuer().to_owned());
            }
        }
        while let Some(name) = frontier.pop() {
            for (der, info) in &known {
                if info.subject() == name
                    && above.insert(Thumbprint::sha256_of(der))
                    && !info.is_self_issued()
                {
                    frontier.push(info.issuer().to_owned());
                }
            }
        }
        self.groups
            .iter()
            .enumerate()
            .filter(|(_, g)| {
                g.certs
                    .iter()
                    .any(|c| above.contains(&Thumbprint::sha256_of(c)))
            })
            .map(|(i, _)| i)
            .collect()
    }
}

fn warn_x509(g: &crate::service::GroupEntry) -> RevocationWarning {
    RevocationWarning::MayReEnrolThroughGroup {
        group_id: g.group.enrollment_group_id.clone(),
        reason: "x.509 group holding a certificate higher in the device's chain",
    }
}
