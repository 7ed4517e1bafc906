//! The register request body, `DeviceRegistration` (reference §5.3).

use alloc::string::String;
use alloc::vec::Vec;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::Error;
use crate::json;

/// Body of a register request (MQTT `iotdps-register` publish, HTTPS `PUT .../register`) and of
/// an HTTPS registration status lookup (reference §5.3, §5.6).
///
/// Every field is optional because shipping SDKs omit them: csharp sends an **empty body**
/// over MQTT, csharp with a payload sends no `registrationId`, python sends
/// `"payload": null` (reference §5.3). Use [`DeviceRegistration::from_slice`] to accept all of
/// those. Serialization omits absent fields (`{"registrationId":"id"}`, like sdk-for-c).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeviceRegistration {
    /// The registration ID; DPS takes the authoritative one from the user name / path.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registration_id: Option<String>,
    /// Custom data for the custom allocation webhook (`deviceRuntimeContext.payload`),
    /// any JSON (api-version 2019-03-31 and later). `null` reads as `None`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payload: Option<Value>,
    /// TPM attestation keys (HTTPS and AMQP only; DPS does not support TPM over MQTT, §5.1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tpm: Option<TpmAttestation>,
    /// Base64 DER PKCS#10 request for a client certificate (api-version 2021-11-01-preview).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_certificate_csr: Option<String>,
    /// Base64 DER PKCS#10 request without PEM armour (api-version 2025-07-01-preview).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub csr: Option<String>,
}

/// `tpm` of a [`DeviceRegistration`]: `{"endorsementKey": base64, "storageRootKey": base64}`
/// (reference §5.3; iot-sdk-c `prov_auth_client.c`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TpmAttestation {
    /// Base64 TPM endorsement key.
    #[serde(default)]
    pub endorsement_key: String,
    /// Base64 TPM storage root key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage_root_key: Option<String>,
}

impl TpmAttestation {
    /// Both keys, base64 text.
    pub fn new(endorsement_key: impl Into<String>, storage_root_key: impl Into<String>) -> Self {
        Self {
            endorsement_key: endorsement_key.into(),
            storage_root_key: Some(storage_root_key.into()),
        }
    }
}

impl DeviceRegistration {
    /// The body most SDKs send: `{"registrationId":"<id>"}`.
    pub fn new(registration_id: impl Into<String>) -> Self {
        Self {
            registration_id: Some(registration_id.into()),
            ..Self::default()
        }
    }

    /// Adds a custom allocation payload.
    #[must_use]
    pub fn with_payload(mut self, payload: Value) -> Self {
        self.payload = Some(payload);
        self
    }

    /// Adds TPM attestation keys.
    #[must_use]
    pub fn with_tpm(mut self, tpm: TpmAttestation) -> Self {
        self.tpm = Some(tpm);
        self
    }

    /// Adds a 2021-11-01-preview `clientCertificateCsr`.
    #[must_use]
    pub fn with_client_certificate_csr(mut self, csr_base64: impl Into<String>) -> Self {
        self.client_certificate_csr = Some(csr_base64.into());
        self
    }

    /// Adds a 2025-07-01-preview `csr`.
    #[must_use]
    pub fn with_csr(mut self, csr_base64: impl Into<String>) -> Self {
        self.csr = Some(csr_base64.into());
        self
    }

    /// Parses a register body as any shipping SDK sends it (reference §5.3): an empty or
    /// whitespace-only body is an empty registration; size and depth are bounded.
    ///
    /// # Errors
    /// [`Error::PayloadTooLarge`], [`Error::JsonTooDeep`], [`Error::InvalidJson`].
    pub fn from_slice(body: &[u8]) -> Result<Self, Error> {
        if json::is_blank(body) {
            return Ok(Self::default());
        }
        json::from_slice(body)
    }

    /// The JSON body, at most [`MAX_PAYLOAD_LEN`](crate::MAX_PAYLOAD_LEN) bytes.
    ///
    /// # Errors
    /// [`Error::PayloadTooLarge`] if the payload makes the body exceed the DPS message limit.
    pub fn to_json(&self) -> Result<Vec<u8>, Error> {
        json::to_vec(self)
    }
}

/// Checks an operation-status request payload as the service receives it: empty
/// (sdk-for-c, csharp), a single space (node, python) or any other bounded JSON, which DPS
/// ignores (reference §5.2).
///
/// # Errors
/// [`Error::PayloadTooLarge`], [`Error::JsonTooDeep`], [`Error::InvalidJson`].
pub fn check_poll_payload(body: &[u8]) -> Result<(), Error> {
    if json::is_blank(body) {
        return Ok(());
    }
    json::from_slice::<serde::de::IgnoredAny>(body).map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_every_sdk_body_of_reference_5_3() {
        // csharp over MQTT: empty body.
        assert_eq!(
            DeviceRegistration::from_slice(b"").unwrap(),
            DeviceRegistration::default()
        );
        // sdk-for-c, node, identity-service.
        let r =
            DeviceRegistration::from_slice(br#"{"registrationId":"myRegistrationId"}"#).unwrap();
        assert_eq!(r.registration_id.as_deref(), Some("myRegistrationId"));
        // python: keys sorted, json.dumps spacing, payload null.
        let r = DeviceRegistration::from_slice(br#"{"payload": null, "registrationId": "dev1"}"#)
            .unwrap();
        assert_eq!(r, DeviceRegistration::new("dev1"));
        // csharp with payload: no registrationId.
        let r = DeviceRegistration::from_slice(br#"{"payload":{"a":1}}"#).unwrap();
        assert_eq!(r.registration_id, None);
        assert_eq!(r.payload, Some(serde_json::json!({"a": 1})));
        // iot-sdk-c TPM.
        let r = DeviceRegistration::from_slice(
            br#"{"registrationId":"tpm1","tpm":{"endorsementKey":"AToA","storageRootKey":"ARgA"}}"#,
        )
        .unwrap();
        assert_eq!(r.tpm, Some(TpmAttestation::new("AToA", "ARgA")));
        // CSR previews.
        let r = DeviceRegistration::from_slice(
            br#"{"registrationId":"a","clientCertificateCsr":"MIIB"}"#,
        )
        .unwrap();
        assert_eq!(r.client_certificate_csr.as_deref(), Some("MIIB"));
        let r = DeviceRegistration::from_slice(br#"{"registrationId":"a","csr":"MIIC"}"#).unwrap();
        assert_eq!(r.csr.as_deref(), Some("MIIC"));
    }

    #[test]
    fn serializes_like_sdk_for_c() {
        assert_eq!(
            DeviceRegistration::new("myRegistrationId")
                .to_json()
                .unwrap(),
            br#"{"registrationId":"myRegistrationId"}"#
        );
        // sdk-for-c test_az_iot_provisioning_client_register_get_request_payload: custom payload.
        let r = DeviceRegistration::new("myRegistrationId")
            .with_payload(serde_json::json!({"modelId": "dtmi:x;1"}));
        assert_eq!(
            r.to_json().unwrap(),
            br#"{"registrationId":"myRegistrationId","payload":{"modelId":"dtmi:x;1"}}"#
        );
    }

    #[test]
    fn oversized_payload_is_rejected_both_ways() {
        let big = "x".repeat(crate::MAX_PAYLOAD_LEN);
        let r = DeviceRegistration::new("a").with_payload(Value::String(big.clone()));
        assert!(matches!(r.to_json(), Err(Error::PayloadTooLarge { .. })));
        let body = format!("{{\"payload\":\"{big}\"}}");
        assert!(matches!(
            DeviceRegistration::from_slice(body.as_bytes()),
            Err(Error::PayloadTooLarge { .. })
        ));
    }

    #[test]
    fn poll_payloads_of_all_sdks_are_accepted() {
        assert_eq!(check_poll_payload(b""), Ok(()));
        assert_eq!(check_poll_payload(b" "), Ok(()));
        assert_eq!(check_poll_payload(b"{}"), Ok(()));
        assert!(check_poll_payload(b"{").is_err());
    }
}
