#![doc = include_str!("../README.md")]

mod allocation;
mod attest;
mod decision;
mod enrollment;
mod enrollment_changes;
mod error;
mod failure;
mod instance;
mod record;
mod register;
mod registration_id;
mod reprovision;
mod request;
mod response;
mod revocation;
mod service;
mod validate;

pub use allocation::{
    AllocationRequest, AllocationResponse, DeviceRuntimeContext, HubLatency, allocate_geo_latency,
    allocate_hashed, candidate_hubs, hashed_score,
};
pub use decision::{
    HubChange, PendingAllocation, RegisterStep, RegistrationDecision, RegistrationOutcome,
    TwinChange, WireResponse,
};
pub use enrollment::{
    AllocationPolicy, Attestation, AttestationType, CustomAllocationDefinition, DeviceCapabilities,
    EnrollmentGroup, EnrollmentRef, EnrollmentSettings, IndividualEnrollment, InitialTwin, KeyText,
    ProvisioningStatus, ReprovisionPolicy, SymmetricKeyAttestation, TpmAttestation, TwinProperties,
    X509Attestation, X509CaReferences, X509CertificateWithInfo, X509Certificates,
};
pub use error::{BadCertificate, Error};
pub use failure::{
    CustomAllocationFailure, MalformedRequest, RegistrationFailure, UnusableCertificate,
};
pub use instance::{DpsCertificate, DpsInstance, LinkedHub, MAX_CERTIFICATES, MAX_LINKED_HUBS};
pub use record::{RecordCredential, RecordStatus, RecordSubstatus, RegistrationRecord};
pub use registration_id::{
    MAX_REGISTRATION_ID_LEN, MAX_X509_REGISTRATION_ID_LEN, validate_registration_id,
};
pub use reprovision::{PreviousAssignment, Reprovision, TwinPlan, decide_reprovision};
pub use request::{DpsTransport, RegistrationRequest};
pub use response::{DeviceResponse, iso8601};
pub use revocation::{RevocationAction, RevocationPlan, RevocationWarning};
pub use service::{
    MAX_INDIVIDUAL_ENROLLMENTS, MAX_SYMMETRIC_KEY_GROUPS, MAX_X509_GROUPS, ProvisioningService,
};
