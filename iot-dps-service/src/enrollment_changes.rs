//! Adding, replacing and removing the enrollments of a [`ProvisioningService`]: validation,
//! the limits of reference ../shared/reference/azure-iot-protocol.md §5.5, pre-keyed group
//! keys, and the certificate index (a certificate belongs to one enrollment, §7.5).

use iot_sas::{KeySlot, MacKey};
use iot_x509::Thumbprint;

use crate::error::BadCertificate;
use crate::registration_id::fold;
use crate::service::{GroupEntry, GroupKeys, IndividualEntry, same_enrollment};
use crate::validate::{decode_certificate, decode_key};
use crate::{
    AttestationType, EnrollmentGroup, EnrollmentRef, Error, IndividualEnrollment,
    MAX_INDIVIDUAL_ENROLLMENTS, MAX_SYMMETRIC_KEY_GROUPS, MAX_X509_GROUPS, ProvisioningService,
    X509Certificates,
};

impl ProvisioningService {
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
                        source: BadCertificate::Unparsable(e),
                    })?;
                let cn = info.common_name().unwrap_or_default();
                if !cn.eq_ignore_ascii_case(&enrollment.registration_id) {
                    return Err(Error::Certificate {
                        enrollment: who,
                        source: BadCertificate::CommonName {
                            common_name: crate::registration_id::clip(cn),
                        },
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

fn decode_pair(
    who: &EnrollmentRef,
    pair: Option<&X509Certificates>,
) -> Result<Vec<Vec<u8>>, Error> {
    let mut out = Vec::new();
    if let Some(pair) = pair {
        for cert in pair.primary.iter().chain(pair.secondary.iter()) {
            if let Some(text) = &cert.certificate {
                let der = decode_certificate(text).map_err(|source| Error::Certificate {
                    enrollment: who.clone(),
                    source,
                })?;
                out.push(der);
            }
        }
    }
    Ok(out)
}
