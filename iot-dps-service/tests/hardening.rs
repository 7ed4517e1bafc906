//! Regression tests for the hardening of issue 12 on the DPS side, named after the rule each
//! one pins.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use iot_dps_service::{
    Attestation, Decision, DpsCertificate, DpsInstance, DpsTransport, EnrollmentGroup,
    EnrollmentSettings, LinkedHub, ProvisioningService, RegisterStep, RegistrationFailure,
    RegistrationRequest, X509Attestation, X509CaReferences,
};
use iot_x509::{CertificateDer, ChainError};

const SCOPE: &str = "0ne00002193";
/// The verification time of iot-x509's OpenSSL fixtures (2026-06-01).
const AT: u64 = 1_780_272_000;

fn fixture(name: &str) -> String {
    let path = format!(
        "{}/../iot-x509/tests/data/openssl/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn chain(names: &[&str]) -> Vec<CertificateDer<'static>> {
    names
        .iter()
        .flat_map(|n| iot_x509::parse_certificates(fixture(n).as_bytes()).unwrap())
        .collect()
}

/// A DPS instance whose verified CAs are the OpenSSL-made anchors with constraints, each with
/// an enrollment group that references it (`caReferences`).
fn service() -> ProvisioningService {
    let anchors = [
        "root-pathlen0.pem",
        "root-eku-server-auth.pem",
        "root-no-keycertsign.pem",
    ];
    let mut dps = DpsInstance::new(SCOPE);
    dps.linked_hubs = vec![LinkedHub::new("hub-a.azure-devices.net")];
    dps.certificates = anchors
        .iter()
        .map(|file| DpsCertificate {
            name: file.replace(".pem", ""),
            certificate: fixture(file),
            is_verified: true,
        })
        .collect();
    let groups = anchors.iter().map(|file| EnrollmentGroup {
        enrollment_group_id: format!("group-{}", file.replace(".pem", "")),
        attestation: Attestation::x509(X509Attestation {
            ca_references: Some(X509CaReferences {
                primary: Some(file.replace(".pem", "")),
                secondary: None,
            }),
            ..X509Attestation::default()
        }),
        settings: EnrollmentSettings::default(),
    });
    ProvisioningService::load(dps, [], groups).unwrap()
}

fn register(service: &ProvisioningService, registration_id: &str, files: &[&str]) -> Decision {
    let presented = chain(files);
    let mut req = RegistrationRequest::new(registration_id, AT);
    req.client_chain = &presented;
    req.transport = DpsTransport::Mqtt;
    match service.register(&req, None) {
        RegisterStep::Done(outcome) => outcome.decision,
        RegisterStep::NeedsCustomAllocation(_) => panic!("no custom allocation here"),
    }
}

fn chain_failure(decision: &Decision) -> &ChainError {
    match decision {
        Decision::Failed(RegistrationFailure::Chain(reason)) => reason,
        other => panic!("expected a chain failure, got {other}"),
    }
}

/// DPS X.509 attestation applies the anchor's pathLenConstraint, extended key usage and
/// keyUsage like `openssl verify -purpose sslclient` (the fixtures' recorded verdicts).
#[test]
fn registered_ca_constraints_apply_to_dps_attestation() {
    let service = service();
    // Control: the pathLen-0 root admits a device it signed directly.
    let ok = register(&service, "device-pl0", &["device-under-pathlen0-root.pem"]);
    assert!(matches!(ok, Decision::Assigned { .. }), "{ok}");
    let refused = register(
        &service,
        "device-pl0-int",
        &[
            "device-via-pathlen0-root-intermediate.pem",
            "intermediate-under-pathlen0.pem",
        ],
    );
    assert_eq!(chain_failure(&refused), &ChainError::PathTooLong);
    let refused = register(
        &service,
        "device-srv-root",
        &["device-under-server-eku-root.pem"],
    );
    assert_eq!(chain_failure(&refused), &ChainError::NotClientAuth);
    let refused = register(
        &service,
        "device-nosign-root",
        &["device-under-no-keycertsign-root.pem"],
    );
    assert_eq!(chain_failure(&refused), &ChainError::CaKeyUsage);
}
