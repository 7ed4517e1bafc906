//! Attestation: which enrollment a registration belongs to, and whether the credential
//! proves it (reference ../shared/reference/azure-iot-protocol.md §3, §7.5, §9).

use iot_sas::{
    KeySlot, MacKey, ResourceUri, SasToken, Scope, TokenRefused, check_token, derive_device_key,
    derive_device_mac_key,
};
use iot_x509::{CertificateDer, CertificateInfo, Thumbprint};
use zeroize::Zeroizing;

use crate::registration_id::{MAX_X509_REGISTRATION_ID_LEN, fold, validate_registration_id};
use crate::service::{ProvisioningService, same_enrollment};
use crate::{
    AttestationType, EnrollmentRef, EnrollmentSettings, ProvisioningStatus, RecordCredential,
    RegistrationFailure, UnusableCertificate,
};

/// The credential the hub identity gets (§7.5, §9 step 4). `Debug` redacts the keys.
#[derive(Clone)]
pub(crate) enum HubCredential {
    /// `sas` with these base64 keys (individual keys, or derived keys for groups).
    Sas {
        primary: Zeroizing<String>,
        secondary: Zeroizing<String>,
    },
    /// `selfSigned` with these SHA-256 thumbprints.
    SelfSigned {
        primary: Thumbprint,
        secondary: Thumbprint,
    },
}

impl core::fmt::Debug for HubCredential {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Sas { .. } => f.write_str("Sas(<redacted>)"),
            Self::SelfSigned { primary, secondary } => f
                .debug_struct("SelfSigned")
                .field("primary", primary)
                .field("secondary", secondary)
                .finish(),
        }
    }
}

/// A device that proved it belongs to an enrollment.
#[derive(Clone, Debug)]
pub(crate) struct Attested {
    pub(crate) enrollment: EnrollmentRef,
    pub(crate) registration_id: String,
    pub(crate) device_id: String,
    pub(crate) settings: EnrollmentSettings,
    pub(crate) hub_credential: HubCredential,
    pub(crate) record_credential: RecordCredential,
    /// Leaf and, for groups, the enrollment's certificate (for the response's `x509`).
    pub(crate) leaf_der: Option<Vec<u8>>,
    pub(crate) signing_der: Option<Vec<u8>>,
    /// The device's custom payload from its register body (§5.3).
    pub(crate) payload: Option<serde_json::Value>,
}

impl Attested {
    pub(crate) fn disabled(&self) -> bool {
        self.settings.provisioning_status == ProvisioningStatus::Disabled
    }
}

impl ProvisioningService {
    /// Symmetric-key attestation (§9 step 1): `skn` absent or `registration`, then the token's
    /// checks in [`iot_sas::check_token`]'s order: the MAC with the individual enrollment's
    /// keys, else each symmetric-key group's derived key, never the group key itself (§3);
    /// `se` not past (with the service's skew); the decoded `sr` names
    /// [`ResourceUri::DpsRegistration`] `{idScope}/registrations/{registrationId}` (§9).
    pub(crate) fn attest_symmetric_key(
        &self,
        registration_id: &str,
        token_text: &str,
        now: u64,
    ) -> Result<Attested, RegistrationFailure> {
        let token = SasToken::parse(token_text).map_err(RegistrationFailure::Token)?;
        if let Some(skn) = token.key_name().filter(|k| *k != "registration") {
            return Err(RegistrationFailure::KeyName {
                key_name: crate::registration_id::clip(skn),
            });
        }
        let resource = ResourceUri::DpsRegistration {
            id_scope: &self.instance.id_scope,
            registration_id,
        };
        check_token(
            &token,
            |token| self.enrollment_that_signed(registration_id, token),
            now,
            self.token_skew_secs,
            Some(Scope::Names(resource)),
        )
        .map_err(|refused| match refused {
            TokenRefused::Signature(failure) => failure,
            TokenRefused::Expired(error) => RegistrationFailure::Token(error),
            TokenRefused::OutOfScope => {
                let mut expected = String::new();
                // Writing into a `String` cannot fail.
                let _ = resource.write_plain(&mut expected);
                RegistrationFailure::ResourceMismatch { expected }
            }
        })
    }

    /// The enrollment whose key signed `token`: the individual enrollment of
    /// `registration_id` if there is one, else the first symmetric-key group whose derived key
    /// did.
    fn enrollment_that_signed(
        &self,
        registration_id: &str,
        token: &SasToken<'_>,
    ) -> Result<Attested, RegistrationFailure> {
        if let Some(entry) = self.individuals.get(&fold(registration_id)) {
            let e = &entry.enrollment;
            let who = EnrollmentRef::Individual(e.registration_id.clone());
            let (AttestationType::SymmetricKey, Some(keys)) =
                (&e.attestation.kind, &e.attestation.symmetric_key)
            else {
                return Err(RegistrationFailure::WrongAttestation {
                    enrollment: who,
                    presented: "symmetricKey",
                });
            };
            let slot = [
                (KeySlot::Primary, &keys.primary_key),
                (KeySlot::Secondary, &keys.secondary_key),
            ]
            .into_iter()
            .find(|(_, text)| {
                MacKey::from_base64(text.secret_text()).is_ok_and(|k| k.verify(token).is_ok())
            })
            .map(|(slot, _)| slot)
            .ok_or(RegistrationFailure::KeyMismatch {
                enrollment: who.clone(),
            })?;
            let attested = Attested {
                enrollment: who,
                registration_id: registration_id.to_owned(),
                device_id: e
                    .device_id
                    .clone()
                    .unwrap_or_else(|| e.registration_id.clone()),
                settings: e.settings.clone(),
                hub_credential: HubCredential::Sas {
                    primary: Zeroizing::new(keys.primary_key.secret_text().to_owned()),
                    secondary: Zeroizing::new(keys.secondary_key.secret_text().to_owned()),
                },
                record_credential: RecordCredential::SymmetricKey { slot },
                leaf_der: None,
                signing_der: None,
                payload: None,
            };
            Ok(attested)
        } else {
            self.attest_with_groups(registration_id, token)
                .map(|(attested, _)| attested)
        }
    }

    /// Tries each symmetric-key group in order: derive the device key from the primary,
    /// then the secondary group key (one HMAC each with the pre-keyed group key), and check
    /// the token with it.
    fn attest_with_groups(
        &self,
        registration_id: &str,
        token: &SasToken<'_>,
    ) -> Result<(Attested, KeySlot), RegistrationFailure> {
        // Each candidate costs the derivation HMAC (straight into a compact `MacKey`) and the
        // token MAC, compared in constant time by iot-sas.
        for entry in &self.groups {
            let Some(keys) = &entry.keys else { continue };
            for (slot, group_key) in [
                (KeySlot::Primary, &keys.primary),
                (KeySlot::Secondary, &keys.secondary),
            ] {
                if derive_device_mac_key(group_key, registration_id)
                    .verify(token)
                    .is_err()
                {
                    continue;
                }
                // Matched: the hub identity gets both derived keys as base64 text.
                let primary = derive_device_key(&keys.primary, registration_id).to_base64();
                let secondary = derive_device_key(&keys.secondary, registration_id).to_base64();
                let attested = Attested {
                    enrollment: EnrollmentRef::Group(entry.group.enrollment_group_id.clone()),
                    registration_id: registration_id.to_owned(),
                    device_id: registration_id.to_owned(),
                    settings: entry.group.settings.clone(),
                    hub_credential: HubCredential::Sas { primary, secondary },
                    record_credential: RecordCredential::SymmetricKey { slot },
                    leaf_der: None,
                    signing_der: None,
                    payload: None,
                };
                return Ok((attested, slot));
            }
        }
        Err(RegistrationFailure::NoEnrollment {
            registration_id: crate::registration_id::clip(registration_id),
        })
    }

    /// X.509 attestation (§7.5): registration ID = leaf CN; an individual enrollment holding
    /// the leaf is used as is (self-signed leaves included); otherwise the chain must reach
    /// a verified CA and the first certificate of the path (leaf towards root) that has an
    /// enrollment decides. Returns whether a CA chain was needed.
    pub(crate) fn attest_x509(
        &self,
        registration_id: &str,
        chain: &[CertificateDer<'_>],
        now: u64,
    ) -> Result<(Attested, bool), RegistrationFailure> {
        let cert_err = RegistrationFailure::Certificate;
        let Some((leaf, intermediates)) = chain.split_first() else {
            return Err(RegistrationFailure::MissingCredential);
        };
        let info = CertificateInfo::parse(leaf)
            .map_err(|e| cert_err(UnusableCertificate::Unparsable(e)))?;
        let cn = info
            .common_name()
            .ok_or(cert_err(UnusableCertificate::NoCommonName))?
            .to_owned();
        if cn.len() > MAX_X509_REGISTRATION_ID_LEN {
            return Err(cert_err(UnusableCertificate::CommonNameTooLong));
        }
        validate_registration_id(&cn).map_err(|e| cert_err(UnusableCertificate::CommonName(e)))?;
        if cn != registration_id {
            return Err(RegistrationFailure::RegistrationIdNotCommonName {
                registration_id: crate::registration_id::clip(registration_id),
                common_name: cn,
            });
        }
        let leaf_thumbprint = Thumbprint::sha256_of(leaf);
        // 1. An individual enrollment that holds this very leaf.
        if let Some(EnrollmentRef::Individual(id)) = self.by_cert.get(&leaf_thumbprint)
            && let Some(entry) = self.individuals.get(&fold(id))
        {
            if !info.is_valid_at(now) {
                return Err(cert_err(UnusableCertificate::OutsideValidity {
                    not_before: info.not_before(),
                    not_after: info.not_after(),
                    now,
                }));
            }
            let e = &entry.enrollment;
            let thumb = |i: usize| {
                entry
                    .client_certs
                    .get(i)
                    .map_or(leaf_thumbprint, |d| Thumbprint::sha256_of(d))
            };
            let attested = Attested {
                enrollment: EnrollmentRef::Individual(e.registration_id.clone()),
                registration_id: cn.clone(),
                device_id: e
                    .device_id
                    .clone()
                    .unwrap_or_else(|| e.registration_id.clone()),
                settings: e.settings.clone(),
                hub_credential: HubCredential::SelfSigned {
                    primary: thumb(0),
                    secondary: thumb(1),
                },
                record_credential: RecordCredential::X509 {
                    sha256_thumbprint: leaf_thumbprint,
                },
                leaf_der: Some(leaf.to_vec()),
                signing_der: None,
                payload: None,
            };
            return Ok((attested, false));
        }
        // 2. Otherwise the chain must reach a verified CA.
        let verified = iot_x509::verify_client_chain(&self.cas, leaf, intermediates, now)
            .map_err(RegistrationFailure::Chain)?;
        let self_signed = |primary: Thumbprint| HubCredential::SelfSigned {
            primary,
            secondary: primary,
        };
        // 2a. An individual enrollment for the registration ID takes precedence over groups:
        // a disabled one blocks the device (§7.6 "one device in a group"), an enabled one must
        // reference the CA that anchored the chain.
        if let Some(entry) = self.individuals.get(&fold(&cn)) {
            let e = &entry.enrollment;
            let who = EnrollmentRef::Individual(e.registration_id.clone());
            let refs = e
                .attestation
                .x509
                .as_ref()
                .and_then(|x| x.ca_references.as_ref());
            let references_ca = e.attestation.kind == AttestationType::X509
                && refs.is_some_and(|r| {
                    r.primary
                        .iter()
                        .chain(r.secondary.iter())
                        .any(|n| *n == verified.ca_name)
                });
            let disabled = e.settings.provisioning_status == ProvisioningStatus::Disabled;
            if !references_ca && !disabled {
                return Err(RegistrationFailure::CertificateMismatch { enrollment: who });
            }
            let attested = Attested {
                enrollment: who,
                registration_id: cn.clone(),
                device_id: e
                    .device_id
                    .clone()
                    .unwrap_or_else(|| e.registration_id.clone()),
                settings: e.settings.clone(),
                hub_credential: self_signed(leaf_thumbprint),
                record_credential: RecordCredential::X509 {
                    sha256_thumbprint: leaf_thumbprint,
                },
                leaf_der: Some(leaf.to_vec()),
                signing_der: self.ca_der.get(&verified.ca_name).cloned(),
                payload: None,
            };
            return Ok((attested, true));
        }
        // 2b. Groups, walking the verified path from the leaf's issuer to the CA.
        for cert in verified.path.iter().skip(1) {
            let Some(owner @ EnrollmentRef::Group(_)) =
                self.by_cert.get(&Thumbprint::sha256_of(cert))
            else {
                continue;
            };
            let Some(entry) = self.groups.iter().find(|g| {
                same_enrollment(
                    &EnrollmentRef::Group(g.group.enrollment_group_id.clone()),
                    owner,
                )
            }) else {
                continue;
            };
            let attested = Attested {
                enrollment: owner.clone(),
                registration_id: cn.clone(),
                device_id: cn.clone(),
                settings: entry.group.settings.clone(),
                hub_credential: self_signed(leaf_thumbprint),
                record_credential: RecordCredential::X509 {
                    sha256_thumbprint: leaf_thumbprint,
                },
                leaf_der: Some(leaf.to_vec()),
                signing_der: Some(cert.to_vec()),
                payload: None,
            };
            return Ok((attested, true));
        }
        Err(RegistrationFailure::NoEnrollment {
            registration_id: cn,
        })
    }
}
