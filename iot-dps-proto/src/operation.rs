//! Response bodies: `RegistrationOperationStatus`, `DeviceRegistrationResult` and the error
//! body (reference §5.4).
//!
//! Structs have public fields and `Default` so a service can build them with
//! `..Default::default()`; unknown JSON fields are ignored and absent ones are `None`.

use alloc::string::String;
use alloc::vec::Vec;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::json;
use crate::{Error, RegistrationStatus, Substatus};

/// Body of every successful (200/202) DPS answer (reference §5.4).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RegistrationOperationStatus {
    /// Opaque operation ID to poll with; `""` (or absent) when the status is `disabled`
    /// (sdk-for-c parser test `disabled_state`).
    #[serde(default)]
    pub operation_id: String,
    /// Status of the operation.
    pub status: RegistrationStatus,
    /// The registration; absent on the first 202 (reference §11 item 8).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registration_state: Option<DeviceRegistrationResult>,
}

impl Default for RegistrationStatus {
    /// `unassigned`, the state of a registration nobody has worked on.
    fn default() -> Self {
        Self::Unassigned
    }
}

impl RegistrationOperationStatus {
    /// Parses a 200/202 body with the size and depth bounds of [`check_json_bounds`](crate::check_json_bounds).
    ///
    /// # Errors
    /// [`Error::PayloadTooLarge`], [`Error::JsonTooDeep`], [`Error::InvalidJson`] (also for an
    /// empty body or a missing `status`).
    pub fn from_slice(body: &[u8]) -> Result<Self, Error> {
        json::from_slice(body)
    }

    /// The JSON body.
    ///
    /// # Errors
    /// [`Error::PayloadTooLarge`] past the DPS message limit.
    pub fn to_json(&self) -> Result<Vec<u8>, Error> {
        json::to_vec(self)
    }
}

/// `registrationState`: the registration record as DPS returns it (reference §5.4, every
/// field of the table, including the certificate-issuance previews).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeviceRegistrationResult {
    /// Registration ID.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registration_id: Option<String>,
    /// ISO 8601, 7 fractional digits and `Z`, e.g. `2020-04-10T03:11:13.0276997Z`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_date_time_utc: Option<String>,
    /// Hub host name; present together with `deviceId` on success.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assigned_hub: Option<String>,
    /// Device ID in the assigned hub.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_id: Option<String>,
    /// Status of the registration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<RegistrationStatus>,
    /// Why this hub (reprovisioning outcome).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub substatus: Option<Substatus>,
    /// Generation ID.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generation_id: Option<String>,
    /// Last update, ISO 8601.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_updated_date_time_utc: Option<String>,
    /// 6-digit extended error code when `status` is `failed`, e.g. `400207`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_code: Option<u32>,
    /// Error text when `status` is `failed`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_message: Option<String>,
    /// Entity tag (base64 of a quoted GUID-like string).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub etag: Option<String>,
    /// Data returned by the custom allocation webhook, any JSON.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payload: Option<Value>,
    /// X.509 attestation details (`{}` is valid).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub x509: Option<X509RegistrationResult>,
    /// Symmetric-key attestation details.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub symmetric_key: Option<SymmetricKeyRegistrationResult>,
    /// TPM attestation details.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tpm: Option<TpmRegistrationResult>,
    /// Issued client certificate (api-version 2021-11-01-preview).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issued_client_certificate: Option<String>,
    /// Trust bundle (api-version 2021-11-01-preview).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trust_bundle: Option<TrustBundle>,
    /// Issued certificate chain, base64 DER certificates (api-version 2025-07-01-preview).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issued_certificate_chain: Option<Vec<String>>,
}

/// `x509` of a registration result: `{}` or certificate details (reference §5.4).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct X509RegistrationResult {
    /// The device (leaf) certificate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate_info: Option<X509CertificateInfo>,
    /// The enrollment group that matched, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enrollment_group_id: Option<String>,
    /// The CA certificate that signed the device certificate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signing_certificate_info: Option<X509CertificateInfo>,
}

/// Certificate summary as DPS prints it (reference §5.4); same JSON shape as
/// `iot_x509::X509CertificateInfo`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct X509CertificateInfo {
    /// Subject distinguished name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject_name: Option<String>,
    /// SHA-1 thumbprint, upper-case hex.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha1_thumbprint: Option<String>,
    /// SHA-256 thumbprint, upper-case hex.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256_thumbprint: Option<String>,
    /// Issuer distinguished name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer_name: Option<String>,
    /// Start of validity, ISO 8601.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_before_utc: Option<String>,
    /// End of validity, ISO 8601.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_after_utc: Option<String>,
    /// Serial number, hex.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub serial_number: Option<String>,
    /// X.509 version (3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<u32>,
}

/// `symmetricKey` of a registration result.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SymmetricKeyRegistrationResult {
    /// The enrollment group that matched, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enrollment_group_id: Option<String>,
}

/// `tpm` of a registration result.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TpmRegistrationResult {
    /// Hub key encrypted to the TPM, base64.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authentication_key: Option<String>,
}

/// `trustBundle` (api-version 2021-11-01-preview; sdk-for-c parser test trust bundle).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TrustBundle {
    /// Certificates with their metadata.
    #[serde(default)]
    pub certificates: Vec<TrustBundleCertificate>,
    /// Trust bundle ID.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Creation time, ISO 8601.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_date_time: Option<String>,
    /// Last modification, ISO 8601.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_modified_date_time: Option<String>,
    /// Entity tag.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub etag: Option<String>,
}

/// One certificate of a [`TrustBundle`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TrustBundleCertificate {
    /// PEM text.
    #[serde(default)]
    pub certificate: String,
    /// Certificate summary.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<X509CertificateInfo>,
}

/// Error body sent with a 4xx/5xx status (reference §5.4), e.g.
/// `{"errorCode":401002,"trackingId":"..","message":"Invalid certificate.","timestampUtc":".."}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ErrorBody {
    /// 6-digit extended code; divided by 1000 it is the HTTP status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_code: Option<u32>,
    /// Service tracking ID (a GUID) to quote to support.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tracking_id: Option<String>,
    /// Human-readable message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// When it happened, ISO 8601.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp_utc: Option<String>,
    /// Extra details, usually `{ string: string }`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub info: Option<Value>,
}

impl ErrorBody {
    /// Parses an error body with the usual bounds.
    ///
    /// # Errors
    /// [`Error::PayloadTooLarge`], [`Error::JsonTooDeep`], [`Error::InvalidJson`].
    pub fn from_slice(body: &[u8]) -> Result<Self, Error> {
        json::from_slice(body)
    }

    /// The JSON body.
    ///
    /// # Errors
    /// [`Error::PayloadTooLarge`] past the DPS message limit.
    pub fn to_json(&self) -> Result<Vec<u8>, Error> {
        json::to_vec(self)
    }

    /// The HTTP status implied by the extended code: `errorCode / 1000` when that is a valid
    /// status (sdk-for-c `_az_iot_status_from_extended_status`, reference §5.4).
    pub fn http_status(&self) -> Option<u16> {
        let status = self.error_code? / 1000;
        u16::try_from(status)
            .ok()
            .filter(|s| (100..=599).contains(s))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OPERATION_ID: &str = "4.d0a671905ea5b2c8.42d78160-4c78-479e-8be7-61d5e55dac0d";

    // Payloads of azure-sdk-for-c sdk/tests/iot/provisioning/test_az_iot_provisioning_client_parser.c.

    #[test]
    fn parses_sdk_for_c_assigning() {
        let body = format!(r#"{{"operationId":"{OPERATION_ID}","status":"assigning"}}"#);
        let s = RegistrationOperationStatus::from_slice(body.as_bytes()).unwrap();
        assert_eq!(s.operation_id, OPERATION_ID);
        assert_eq!(s.status, RegistrationStatus::Assigning);
        assert_eq!(s.registration_state, None);
    }

    #[test]
    fn parses_sdk_for_c_assigning_with_state() {
        let body = format!(
            r#"{{"operationId":"{OPERATION_ID}","status":"assigning","registrationState":{{"registrationId":"myRegistrationId","status":"assigning"}}}}"#
        );
        let s = RegistrationOperationStatus::from_slice(body.as_bytes()).unwrap();
        let state = s.registration_state.unwrap();
        assert_eq!(state.registration_id.as_deref(), Some("myRegistrationId"));
        assert_eq!(state.status, Some(RegistrationStatus::Assigning));
    }

    #[test]
    fn parses_sdk_for_c_assigned() {
        let body = format!(
            "{{\"operationId\":\"{OPERATION_ID}\",\"status\":\"assigned\",\"registrationState\":{{\
             \"x509\":{{}},\"registrationId\":\"myRegistrationId\",\
             \"createdDateTimeUtc\":\"2020-04-10T03:11:13.0276997Z\",\
             \"assignedHub\":\"contoso.azure-devices.net\",\"deviceId\":\"my-device-id1\",\
             \"status\":\"assigned\",\"substatus\":\"initialAssignment\",\
             \"lastUpdatedDateTimeUtc\":\"2020-04-10T03:11:13.2096201Z\",\
             \"etag\":\"IjYxMDA4ZDQ2LTAwMDAtMDEwMC0wMDAwLTVlOGZlM2QxMDAwMCI=\"}}}}"
        );
        let s = RegistrationOperationStatus::from_slice(body.as_bytes()).unwrap();
        assert_eq!(s.status, RegistrationStatus::Assigned);
        let state = s.registration_state.unwrap();
        assert_eq!(
            state.assigned_hub.as_deref(),
            Some("contoso.azure-devices.net")
        );
        assert_eq!(state.device_id.as_deref(), Some("my-device-id1"));
        assert_eq!(state.substatus, Some(Substatus::InitialAssignment));
        assert_eq!(state.x509, Some(X509RegistrationResult::default()));
        assert_eq!(state.payload, None);
        assert_eq!(state.error_code, None);
    }

    #[test]
    fn parses_sdk_for_c_disabled_with_empty_operation_id() {
        let body = br#"{"operationId":"","status":"disabled","registrationState":{"registrationId":"myRegistrationId","status":"disabled"}}"#;
        let s = RegistrationOperationStatus::from_slice(body).unwrap();
        assert_eq!(s.operation_id, "");
        assert_eq!(s.status, RegistrationStatus::Disabled);
    }

    #[test]
    fn parses_sdk_for_c_allocation_error() {
        let body = format!(
            "{{\"operationId\":\"{OPERATION_ID}\",\"status\":\"failed\",\"registrationState\":{{\
             \"registrationId\":\"myRegistrationId\",\
             \"createdDateTimeUtc\":\"2020-04-10T03:11:13.0276997Z\",\"status\":\"failed\",\
             \"errorCode\":400207,\"errorMessage\":\"Custom allocation failed with status code: 400\",\
             \"lastUpdatedDateTimeUtc\":\"2020-04-10T05:24:22.4718526Z\",\
             \"etag\":\"IjYxMDA4ZDQ2LTAwMDAtMDEwMC0wMDAwLTVlOGZlM2QxMDAwMCI=\"}}}}"
        );
        let s = RegistrationOperationStatus::from_slice(body.as_bytes()).unwrap();
        let state = s.registration_state.unwrap();
        assert_eq!(state.error_code, Some(400207));
        assert_eq!(
            state.error_message.as_deref(),
            Some("Custom allocation failed with status code: 400")
        );
    }

    #[test]
    fn parses_sdk_for_c_invalid_certificate_error_body() {
        let body = br#"{"errorCode":401002,"trackingId":"8ad0463c-6427-4479-9dfa-3e8bb7003e9b","message":"Invalid certificate.","timestampUtc":"2020-04-10T05:24:22.4718526Z"}"#;
        let e = ErrorBody::from_slice(body).unwrap();
        assert_eq!(e.error_code, Some(401002));
        assert_eq!(e.http_status(), Some(401));
        assert_eq!(
            e.tracking_id.as_deref(),
            Some("8ad0463c-6427-4479-9dfa-3e8bb7003e9b")
        );
        assert_eq!(e.message.as_deref(), Some("Invalid certificate."));
        assert_eq!(
            e.timestamp_utc.as_deref(),
            Some("2020-04-10T05:24:22.4718526Z")
        );
        let with_info = br#"{"errorCode":400208,"info":{"k":"v"}}"#;
        let e = ErrorBody::from_slice(with_info).unwrap();
        assert_eq!(e.info, Some(serde_json::json!({"k": "v"})));
        assert_eq!(
            ErrorBody {
                error_code: Some(42),
                ..ErrorBody::default()
            }
            .http_status(),
            None
        );
    }

    #[test]
    fn parses_sdk_for_c_trust_bundle_and_payload() {
        let body = br#"{"operationId":"op","status":"assigned","registrationState":{
            "assignedHub":"h","deviceId":"d","payload":{"hello":"world","o1":{"v1":123,"o2":{"v2":321}},"arr":[1,2,3,4,5,6],"num":123},
            "issuedClientCertificate":"--BEGIN_CERT 12345\r\n END_CERT--",
            "trustBundle":{"certificates":[{"certificate":"-----BEGIN CERTIFICATE-----\r\nMIIB\r\n-----END CERTIFICATE-----\r\n",
              "metadata":{"subjectName":"CN=root-6a469c1a-839f-4668-8e8c-868e8b40dd4c, OU=test, O=testloaner, C=16148",
              "sha1Thumbprint":"5C57EB7EED8E278B1EAE278AAE1C6083EC2861B0",
              "sha256Thumbprint":"1EA3870D991E432B5895FD9C8845D859AFDA933569B7FA5855050CC1C2DFD1E5",
              "issuerName":"CN=root","notBeforeUtc":"2019-08-24T14:15:22Z","notAfterUtc":"2019-08-24T14:15:22Z",
              "serialNumber":"6620A198A418AD45","version":3}}],
              "id":"TestTrustBundle-4e697b1f-1b59-4587-bdc7-e8645eef0a13","createdDateTime":"2019-08-24T14:15:22Z",
              "lastModifiedDateTime":"2019-08-24T14:15:22Z","etag":"\"5301e830-0000-0300-0000-613864190000\""},
            "issuedCertificateChain":["MIIB","MIIC"],
            "symmetricKey":{"enrollmentGroupId":"g1"},"tpm":{"authenticationKey":"AAA="}}}"#;
        let s = RegistrationOperationStatus::from_slice(body).unwrap();
        let state = s.registration_state.unwrap();
        assert_eq!(state.payload.unwrap()["o1"]["o2"]["v2"], 321);
        assert_eq!(
            state.issued_client_certificate.as_deref(),
            Some("--BEGIN_CERT 12345\r\n END_CERT--")
        );
        let bundle = state.trust_bundle.unwrap();
        let meta = bundle.certificates[0].metadata.as_ref().unwrap();
        assert_eq!(meta.serial_number.as_deref(), Some("6620A198A418AD45"));
        assert_eq!(meta.version, Some(3));
        assert_eq!(state.issued_certificate_chain.unwrap().len(), 2);
        assert_eq!(
            state.symmetric_key.unwrap().enrollment_group_id.as_deref(),
            Some("g1")
        );
        assert_eq!(
            state.tpm.unwrap().authentication_key.as_deref(),
            Some("AAA=")
        );
    }

    #[test]
    fn round_trips_and_rejects_malformed() {
        let s = RegistrationOperationStatus {
            operation_id: "op".into(),
            status: RegistrationStatus::Assigning,
            registration_state: None,
        };
        assert_eq!(
            s.to_json().unwrap(),
            br#"{"operationId":"op","status":"assigning"}"#
        );
        assert!(RegistrationOperationStatus::from_slice(b"").is_err());
        assert!(RegistrationOperationStatus::from_slice(br#"{"operationId":"x"}"#).is_err());
        assert!(RegistrationOperationStatus::from_slice(br#"{"status":7}"#).is_err());
    }
}
