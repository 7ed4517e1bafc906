//! Validation of enrollments when they are loaded or changed (reference
//! ../shared/reference/azure-iot-protocol.md §4, §8.1, §8.2).

use base64::Engine as _;
use iot_sas::{KeySlot, SharedAccessKey};
use iot_x509::CertificateDer;

use crate::error::BadCertificate;
use crate::registration_id::validate_registration_id;
use crate::{
    AllocationPolicy, Attestation, AttestationType, DpsInstance, EnrollmentGroup, EnrollmentRef,
    EnrollmentSettings, Error, IndividualEnrollment, KeyText,
};

impl IndividualEnrollment {
    /// Checks the rules that concern this enrollment alone and its hubs (§4, §8.1, §8.2).
    /// Cross-enrollment rules (unique IDs and certificates) are checked by
    /// [`crate::ProvisioningService`].
    ///
    /// # Errors
    /// The first broken rule.
    pub fn validate(&self, dps: &DpsInstance) -> Result<(), Error> {
        validate_registration_id(&self.registration_id)?;
        let who = EnrollmentRef::Individual(self.registration_id.clone());
        if let Some(device_id) = &self.device_id {
            iot_hub_auth::validate_device_id(device_id).map_err(|source| {
                Error::InvalidDeviceId {
                    enrollment: who.clone(),
                    source,
                }
            })?;
        }
        check_attestation(&who, &self.attestation, false)?;
        check_settings(&who, &self.settings, dps)
    }
}

impl EnrollmentGroup {
    /// Checks the rules that concern this group alone and its hubs (§4, §8.1, §8.2).
    ///
    /// # Errors
    /// The first broken rule.
    pub fn validate(&self, dps: &DpsInstance) -> Result<(), Error> {
        validate_registration_id(&self.enrollment_group_id).map_err(|e| match e {
            Error::InvalidId { id, reason, .. } => Error::InvalidId {
                kind: "enrollment group",
                id,
                reason,
            },
            other => other,
        })?;
        let who = EnrollmentRef::Group(self.enrollment_group_id.clone());
        check_attestation(&who, &self.attestation, true)?;
        check_settings(&who, &self.settings, dps)
    }
}

/// Decodes an enrollment key with iot-sas's rule for registered keys (strict base64,
/// 16..=64 bytes, §8.1).
pub(crate) fn decode_key(
    who: &EnrollmentRef,
    slot: KeySlot,
    key: &KeyText,
) -> Result<SharedAccessKey, Error> {
    SharedAccessKey::from_registered_base64(key.secret_text()).map_err(|source| Error::InvalidKey {
        enrollment: who.clone(),
        slot,
        source,
    })
}

fn check_attestation(who: &EnrollmentRef, att: &Attestation, group: bool) -> Result<(), Error> {
    let missing = |field: &'static str| Error::MissingAttestation {
        enrollment: who.clone(),
        field,
    };
    match att.kind {
        AttestationType::SymmetricKey => {
            let keys = att
                .symmetric_key
                .as_ref()
                .ok_or_else(|| missing("symmetricKey"))?;
            decode_key(who, KeySlot::Primary, &keys.primary_key)?;
            decode_key(who, KeySlot::Secondary, &keys.secondary_key)?;
        }
        AttestationType::X509 => {
            let x = att.x509.as_ref().ok_or_else(|| missing("x509"))?;
            let has = |c: &Option<crate::X509Certificates>| {
                c.as_ref()
                    .is_some_and(|c| c.primary.as_ref().is_some_and(|p| p.certificate.is_some()))
            };
            let has_refs = x
                .ca_references
                .as_ref()
                .is_some_and(|r| r.primary.is_some());
            let ok = if group {
                // Groups hold a signing (root or intermediate) certificate or a CA reference (§7.5).
                x.client_certificates.is_none() && (has(&x.signing_certificates) || has_refs)
            } else {
                // Individual enrollments hold the device certificate or a CA reference (§7.5).
                x.signing_certificates.is_none() && (has(&x.client_certificates) || has_refs)
            };
            if !ok {
                return Err(missing(if group {
                    "x509.signingCertificates.primary or x509.caReferences.primary"
                } else {
                    "x509.clientCertificates.primary or x509.caReferences.primary"
                }));
            }
        }
        AttestationType::Tpm if !group => {
            att.tpm.as_ref().ok_or_else(|| missing("tpm"))?;
        }
        kind => {
            return Err(Error::UnsupportedAttestation {
                enrollment: who.clone(),
                kind,
            });
        }
    }
    Ok(())
}

fn check_settings(
    who: &EnrollmentRef,
    s: &EnrollmentSettings,
    dps: &DpsInstance,
) -> Result<(), Error> {
    for hub in &s.iot_hubs {
        if dps.linked_hub(hub).is_none() {
            return Err(Error::HubNotLinked {
                enrollment: who.clone(),
                hub: hub.clone(),
            });
        }
    }
    match s.allocation_policy.unwrap_or(dps.allocation_policy) {
        AllocationPolicy::Static if s.iot_hubs.len() != 1 => Err(Error::StaticPolicyHubCount {
            enrollment: who.clone(),
            count: s.iot_hubs.len(),
        }),
        AllocationPolicy::Custom if s.custom_allocation_definition.is_none() => {
            Err(Error::MissingAttestation {
                enrollment: who.clone(),
                field: "customAllocationDefinition",
            })
        }
        _ => Ok(()),
    }
}

/// Decodes one certificate given as PEM or as base64 DER (the REST API's two spellings) and
/// checks that it parses.
pub(crate) fn decode_certificate(text: &str) -> Result<Vec<u8>, BadCertificate> {
    let der = if text.contains("-----BEGIN") {
        let certs =
            iot_x509::parse_certificates(text.as_bytes()).map_err(BadCertificate::Unparsable)?;
        certs
            .into_iter()
            .next()
            .map(|c: CertificateDer<'static>| c.to_vec())
            .ok_or(BadCertificate::NoCertificate)?
    } else {
        let compact: String = text.chars().filter(|c| !c.is_ascii_whitespace()).collect();
        base64::engine::general_purpose::STANDARD
            .decode(compact)
            .map_err(|e| BadCertificate::NotBase64(e.into()))?
    };
    iot_x509::CertificateInfo::parse(&der).map_err(BadCertificate::Unparsable)?;
    Ok(der)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{LinkedHub, X509Attestation, X509CaReferences};

    const K16: &str = "AAECAwQFBgcICQoLDA0ODw==";

    fn dps() -> DpsInstance {
        let mut d = DpsInstance::new("0ne00000001");
        d.linked_hubs = vec![
            LinkedHub::new("test.azure-devices.net"),
            LinkedHub::new("prod.azure-devices.net"),
        ];
        d
    }

    fn sym(reg: &str, primary: &str) -> IndividualEnrollment {
        IndividualEnrollment {
            registration_id: reg.into(),
            device_id: None,
            attestation: Attestation::symmetric_key(primary, K16),
            settings: EnrollmentSettings::default(),
        }
    }

    #[test]
    fn key_sizes_are_16_to_64_bytes() {
        assert_eq!(sym("a", K16).validate(&dps()), Ok(()));
        let k64 = base64::engine::general_purpose::STANDARD.encode([7u8; 64]);
        assert_eq!(sym("a", &k64).validate(&dps()), Ok(()));
        let k15 = base64::engine::general_purpose::STANDARD.encode([7u8; 15]);
        let who = EnrollmentRef::Individual("a".into());
        let invalid = |source| Error::InvalidKey {
            enrollment: who.clone(),
            slot: KeySlot::Primary,
            source,
        };
        assert_eq!(
            sym("a", &k15).validate(&dps()),
            Err(invalid(iot_sas::Error::RegisteredKeyLength { len: 15 }))
        );
        let k65 = base64::engine::general_purpose::STANDARD.encode([7u8; 65]);
        assert_eq!(
            sym("a", &k65).validate(&dps()),
            Err(invalid(iot_sas::Error::RegisteredKeyLength { len: 65 }))
        );
        assert!(matches!(
            sym("a", "not base64!").validate(&dps()),
            Err(Error::InvalidKey {
                source: iot_sas::Error::KeyBase64(_),
                ..
            })
        ));
    }

    /// An enrollment's `deviceId` follows iot-hub-auth's device-ID rule (§4).
    #[test]
    fn device_ids_follow_the_docs() {
        let with_device = |id: &str| {
            let mut e = sym("dev", K16);
            e.device_id = Some(id.into());
            e.validate(&dps())
        };
        assert_eq!(with_device("dev+1@x(y)$'"), Ok(()));
        for bad in ["a/b", "", &"d".repeat(129)] {
            assert!(
                matches!(with_device(bad), Err(Error::InvalidDeviceId { .. })),
                "{bad}"
            );
        }
    }

    #[test]
    fn static_policy_needs_exactly_one_linked_hub() {
        let mut e = sym("dev", K16);
        e.settings.allocation_policy = Some(AllocationPolicy::Static);
        assert!(matches!(
            e.validate(&dps()),
            Err(Error::StaticPolicyHubCount { count: 0, .. })
        ));
        e.settings.iot_hubs = vec![
            "test.azure-devices.net".into(),
            "prod.azure-devices.net".into(),
        ];
        assert!(matches!(
            e.validate(&dps()),
            Err(Error::StaticPolicyHubCount { count: 2, .. })
        ));
        e.settings.iot_hubs = vec!["prod.azure-devices.net".into()];
        assert_eq!(e.validate(&dps()), Ok(()));
        e.settings.iot_hubs = vec!["other.azure-devices.net".into()];
        assert!(matches!(
            e.validate(&dps()),
            Err(Error::HubNotLinked { .. })
        ));
    }

    #[test]
    fn ids_and_attestation_shapes_are_checked() {
        assert!(matches!(
            sym("bad id", K16).validate(&dps()),
            Err(Error::InvalidId { .. })
        ));
        let mut e = sym("dev", K16);
        e.device_id = Some("a/b".into());
        assert!(matches!(
            e.validate(&dps()),
            Err(Error::InvalidDeviceId { .. })
        ));
        let group = EnrollmentGroup {
            enrollment_group_id: "g".into(),
            attestation: Attestation::x509(X509Attestation::default()),
            settings: EnrollmentSettings::default(),
        };
        assert!(matches!(
            group.validate(&dps()),
            Err(Error::MissingAttestation { .. })
        ));
        let refs = X509Attestation {
            ca_references: Some(X509CaReferences {
                primary: Some("root".into()),
                secondary: None,
            }),
            ..X509Attestation::default()
        };
        let group = EnrollmentGroup {
            attestation: Attestation::x509(refs),
            ..group
        };
        assert_eq!(group.validate(&dps()), Ok(()));
        let mut custom = sym("dev", K16);
        custom.settings.allocation_policy = Some(AllocationPolicy::Custom);
        assert!(matches!(
            custom.validate(&dps()),
            Err(Error::MissingAttestation { .. })
        ));
    }
}
