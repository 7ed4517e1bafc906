//! Hub settings: host name, shared access policies, registered CAs and the switches that change
//! what a connect decision accepts (azure-iot-protocol.md §1.4, §1.6, §6.4, §7.3, §9), plus
//! [`HubDocument`], the JSON file that holds settings and identities together.

use iot_sas::DEFAULT_SKEW_SECS;
use serde::{Deserialize, Serialize};

use crate::error::{Error, IdKind};
use crate::identifier::{validate_host_name, validate_policy_name};
use crate::identity::DeviceIdentity;
use crate::in_memory::InMemoryRegistry;
use crate::keys::PreKeyedKeys;
use crate::policy::{AccessRights, SharedAccessPolicy};

/// A shared access policy with its keys decoded and pre-keyed.
#[derive(Clone, Debug)]
pub struct HubPolicy {
    name: String,
    rights: AccessRights,
    keys: PreKeyedKeys,
}

impl HubPolicy {
    /// The policy (key) name, as tokens carry it in `skn`.
    pub fn name(&self) -> &str {
        &self.name
    }
    /// The policy's rights.
    pub fn rights(&self) -> AccessRights {
        self.rights
    }
    /// The pre-keyed primary and secondary keys.
    pub fn keys(&self) -> &PreKeyedKeys {
        &self.keys
    }
}

/// The hub-wide settings a connect decision depends on.
///
/// Switches (Microsoft Learn "Control access to IoT Hub", "Disable SAS"):
///
/// Each SAS switch covers exactly the keys Microsoft documents for it (Learn "Control access
/// to IoT Hub by using Microsoft Entra ID", disabling local authentication; §6.4):
///
/// * `disable_device_sas` (`disableDeviceSAS`): tokens signed with a **device's** own key are
///   refused ("all device (including Edge devices but excluding modules) scoped SAS keys");
///   module keys and policy keys are not covered.
/// * `disable_module_sas` (`disableModuleSAS`): tokens signed with a **module's** own key are
///   refused.
/// * `disable_local_auth` (`disableLocalAuth`): tokens signed with a shared access policy
///   (hub-scoped SAS keys) are refused, for service operations and device or module connects
///   alike; identity keys are not covered.
/// * `x509_ca_over_websockets` (`x509CaOverWebSockets`): whether `certificateAuthority`
///   devices may connect over MQTT or AMQP over WebSockets. **Default: false (refused)**, as the
///   seed architecture prescribes; the reference (§6.4, §10.10) records that the live service
///   is reported to accept it since 2020, so set it to `true` to model that.
/// * `self_signed_requires_cn` (`selfSignedRequiresCn`): also require CN = device ID for
///   `selfSigned` devices. Default false: the thumbprint already binds the certificate, and DPS
///   creates `selfSigned` identities whose device ID may differ from the CN (§7.2, §7.5, OPEN
///   §10.4).
/// * `allowed_clock_skew_secs`: tolerated lateness of a token's `se` (default
///   [`iot_sas::DEFAULT_SKEW_SECS`], 300 s).
#[derive(Clone, Debug)]
pub struct HubSettings {
    host_name: String,
    policies: Vec<HubPolicy>,
    /// Registered CA certificates with their verified flag (§7.3, §7.4).
    pub cas: iot_x509::CaSet,
    /// `disableDeviceSAS`.
    pub disable_device_sas: bool,
    /// `disableModuleSAS`.
    pub disable_module_sas: bool,
    /// `disableLocalAuth`.
    pub disable_local_auth: bool,
    /// Tolerated clock skew for token expiry, seconds.
    pub allowed_clock_skew_secs: u64,
    /// Accept `certificateAuthority` devices over WebSockets (default false).
    pub x509_ca_over_websockets: bool,
    /// Require CN = device ID for `selfSigned` devices too (default false).
    pub self_signed_requires_cn: bool,
}

impl HubSettings {
    /// Settings for the hub `host_name` (e.g. `myhub.azure-devices.net`) with no policies, no
    /// CAs and every switch at its default.
    pub fn new(host_name: &str) -> Result<Self, Error> {
        validate_host_name(host_name)?;
        Ok(Self {
            host_name: host_name.into(),
            policies: Vec::new(),
            cas: iot_x509::CaSet::new(),
            disable_device_sas: false,
            disable_module_sas: false,
            disable_local_auth: false,
            allowed_clock_skew_secs: DEFAULT_SKEW_SECS,
            x509_ca_over_websockets: false,
            self_signed_requires_cn: false,
        })
    }

    /// The hub host name.
    pub fn host_name(&self) -> &str {
        &self.host_name
    }

    /// The hub name (first label of the host name).
    pub fn hub_name(&self) -> &str {
        crate::identifier::hub_name(&self.host_name)
    }

    /// Adds (or replaces, by name) a shared access policy after validating its name and keys.
    pub fn add_policy(&mut self, policy: &SharedAccessPolicy) -> Result<(), Error> {
        validate_policy_name(&policy.key_name)?;
        let keys = PreKeyedKeys::from_base64(
            &policy.key_name,
            &policy.primary_key,
            &policy.secondary_key,
        )?;
        let prepared = HubPolicy {
            name: policy.key_name.clone(),
            rights: policy.rights,
            keys,
        };
        match self.policies.iter_mut().find(|p| p.name == policy.key_name) {
            Some(slot) => *slot = prepared,
            None => self.policies.push(prepared),
        }
        Ok(())
    }

    /// Removes a policy; returns whether it existed.
    pub fn remove_policy(&mut self, name: &str) -> bool {
        let before = self.policies.len();
        self.policies.retain(|p| p.name != name);
        before != self.policies.len()
    }

    /// The policy named `name` (exact, case-sensitive match of `skn`).
    pub fn policy(&self, name: &str) -> Option<&HubPolicy> {
        self.policies.iter().find(|p| p.name == name)
    }

    /// Every policy.
    pub fn policies(&self) -> &[HubPolicy] {
        &self.policies
    }
}

/// A registered CA certificate as `az iot hub certificate show` prints it:
/// `{"name": "...", "properties": {"certificate": "<PEM or base64 DER>", "isVerified": true}}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CertificateDocument {
    /// Certificate resource name (`^[A-Za-z0-9-._]{1,64}$`, §4).
    pub name: String,
    /// `properties`.
    pub properties: CertificateProperties,
}

/// `properties` of a [`CertificateDocument`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CertificateProperties {
    /// PEM text, or base64 of the DER.
    pub certificate: String,
    /// Whether proof of possession was completed (or the CA was uploaded as verified).
    #[serde(default)]
    pub is_verified: bool,
}

fn default_skew() -> u64 {
    DEFAULT_SKEW_SECS
}

/// A hub described in one JSON document: settings, policies, CAs and identities, each in
/// Azure's own shape (unknown fields are ignored). See `examples/hub.json` in the repository.
///
/// ```
/// let json = r#"{
///   "hostName": "myhub.azure-devices.net",
///   "authorizationPolicies": [{ "keyName": "device", "rights": "DeviceConnect",
///       "primaryKey": "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
///       "secondaryKey": "ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8=" }],
///   "identities": [{ "deviceId": "dev-1", "authentication": { "type": "certificateAuthority" } }]
/// }"#;
/// let (hub, registry) = iot_hub_auth::HubDocument::from_json(json).unwrap().build().unwrap();
/// assert_eq!(hub.host_name(), "myhub.azure-devices.net");
/// assert!(!hub.x509_ca_over_websockets);
/// assert_eq!(registry.len(), 1);
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HubDocument {
    /// `hostName`.
    pub host_name: String,
    /// `authorizationPolicies` (also read as `sharedAccessPolicies`).
    #[serde(default, alias = "sharedAccessPolicies")]
    pub authorization_policies: Vec<SharedAccessPolicy>,
    /// `certificates`: registered CAs.
    #[serde(default)]
    pub certificates: Vec<CertificateDocument>,
    /// `disableDeviceSAS`.
    #[serde(default, rename = "disableDeviceSAS")]
    pub disable_device_sas: bool,
    /// `disableModuleSAS`.
    #[serde(default, rename = "disableModuleSAS")]
    pub disable_module_sas: bool,
    /// `disableLocalAuth`.
    #[serde(default)]
    pub disable_local_auth: bool,
    /// `allowedClockSkewSeconds` (default 300).
    #[serde(default = "default_skew")]
    pub allowed_clock_skew_seconds: u64,
    /// `x509CaOverWebSockets` (default false: refused).
    #[serde(default, rename = "x509CaOverWebSockets")]
    pub x509_ca_over_websockets: bool,
    /// `selfSignedRequiresCn` (default false).
    #[serde(default)]
    pub self_signed_requires_cn: bool,
    /// `identities`: devices and modules (also read as `devices`).
    #[serde(default, alias = "devices")]
    pub identities: Vec<DeviceIdentity>,
}

impl HubDocument {
    /// Reads the JSON text (no validation yet; see [`Self::build`]).
    pub fn from_json(json: &str) -> Result<Self, Error> {
        Ok(serde_json::from_str(json)?)
    }

    /// Validates everything and builds the settings and the registry.
    pub fn build(&self) -> Result<(HubSettings, InMemoryRegistry), Error> {
        let mut hub = HubSettings::new(&self.host_name)?;
        hub.disable_device_sas = self.disable_device_sas;
        hub.disable_module_sas = self.disable_module_sas;
        hub.disable_local_auth = self.disable_local_auth;
        hub.allowed_clock_skew_secs = self.allowed_clock_skew_seconds;
        hub.x509_ca_over_websockets = self.x509_ca_over_websockets;
        hub.self_signed_requires_cn = self.self_signed_requires_cn;
        for policy in &self.authorization_policies {
            if hub.policy(&policy.key_name).is_some() {
                return Err(Error::Duplicate {
                    kind: IdKind::Policy,
                    id: policy.key_name.clone(),
                });
            }
            hub.add_policy(policy)?;
        }
        for cert in &self.certificates {
            let bad = |source: iot_x509::Error| Error::InvalidCertificate {
                name: cert.name.clone(),
                source,
            };
            let ders = iot_x509::parse_certificates(cert.properties.certificate.as_bytes())
                .map_err(bad)?;
            let [der] = ders.as_slice() else {
                return Err(Error::NotOneCertificate {
                    name: cert.name.clone(),
                    found: ders.len(),
                });
            };
            hub.cas
                .add(iot_x509::RegisteredCa {
                    name: cert.name.clone(),
                    der: der.as_ref().to_vec(),
                    verified: cert.properties.is_verified,
                })
                .map_err(bad)?;
        }
        let registry: Result<InMemoryRegistry, Error> = self.identities.iter().cloned().collect();
        Ok((hub, registry?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const K1: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

    #[test]
    fn defaults() {
        let hub = HubSettings::new("h.azure-devices.net").unwrap();
        assert!(!hub.x509_ca_over_websockets);
        assert!(!hub.disable_device_sas && !hub.disable_module_sas && !hub.disable_local_auth);
        assert_eq!(hub.allowed_clock_skew_secs, 300);
        assert_eq!(hub.hub_name(), "h");
        assert!(HubSettings::new("no-dots").is_err());
    }

    #[test]
    fn policies() {
        let mut hub = HubSettings::new("h.azure-devices.net").unwrap();
        let p = SharedAccessPolicy {
            key_name: "device".into(),
            primary_key: K1.into(),
            secondary_key: K1.into(),
            rights: AccessRights::DEVICE_CONNECT,
        };
        hub.add_policy(&p).unwrap();
        hub.add_policy(&p).unwrap();
        assert_eq!(hub.policies().len(), 1);
        assert_eq!(
            hub.policy("device").unwrap().rights(),
            AccessRights::DEVICE_CONNECT
        );
        assert!(hub.policy("Device").is_none());
        let bad = SharedAccessPolicy {
            key_name: "bad name".into(),
            ..p.clone()
        };
        assert!(hub.add_policy(&bad).is_err());
        let bad = SharedAccessPolicy {
            primary_key: "AAAA".into(),
            ..p
        };
        assert!(matches!(
            hub.add_policy(&bad),
            Err(Error::InvalidKey { .. })
        ));
        assert!(hub.remove_policy("device"));
        assert!(!hub.remove_policy("device"));
    }

    /// A CA document whose text is a bundle, or whose certificate is no CA: each cause is typed.
    #[test]
    fn certificate_document_causes() {
        let pem = |name: &str| {
            let path = format!(
                "{}/../iot-x509/tests/data/openssl/{name}",
                env!("CARGO_MANIFEST_DIR")
            );
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
        };
        let doc = |certificate: String| {
            let json = serde_json::json!({
                "hostName": "h.net",
                "certificates": [{"name": "c", "properties": {"certificate": certificate}}],
            });
            HubDocument::from_json(&json.to_string()).unwrap().build()
        };
        let bundle = pem("root-ec.pem") + &pem("intermediate-ec.pem");
        let err = doc(bundle).unwrap_err();
        assert_eq!(
            err,
            Error::NotOneCertificate {
                name: "c".into(),
                found: 2
            }
        );
        assert_eq!(
            err.to_string(),
            "certificate \"c\" could not be loaded: expected one certificate, found 2"
        );
        let err = doc(pem("device-ec.pem")).unwrap_err();
        assert_eq!(
            err,
            Error::InvalidCertificate {
                name: "c".into(),
                source: iot_x509::Error::NotACa { name: "c".into() },
            }
        );
        assert!(doc(pem("root-ec.pem")).is_ok());
    }

    #[test]
    fn document_errors() {
        let dup = format!(
            r#"{{"hostName":"h.net","authorizationPolicies":[
            {{"keyName":"a","primaryKey":"{K1}","secondaryKey":"{K1}","rights":"DeviceConnect"}},
            {{"keyName":"a","primaryKey":"{K1}","secondaryKey":"{K1}","rights":"DeviceConnect"}}]}}"#
        );
        let doc = HubDocument::from_json(&dup).unwrap();
        assert!(matches!(doc.build(), Err(Error::Duplicate { .. })));
        let bad_cert = r#"{"hostName":"h.net","certificates":[{"name":"x","properties":{"certificate":"nope"}}]}"#;
        let doc = HubDocument::from_json(bad_cert).unwrap();
        let err = doc.build().unwrap_err();
        // iot-x509's error is kept whole, down the source chain.
        let Error::InvalidCertificate { name, source } = &err else {
            panic!("{err:?}");
        };
        assert_eq!(name, "x");
        assert_eq!(source.code(), "malformed_certificate");
        let cause = std::error::Error::source(&err).expect("InvalidCertificate has a source");
        assert_eq!(cause.downcast_ref::<iot_x509::Error>(), Some(source));
        assert_eq!(
            err.to_string(),
            format!("certificate \"x\" could not be loaded: {source}")
        );
        assert!(matches!(
            HubDocument::from_json("{"),
            Err(Error::Json { .. })
        ));
        let orphan = r#"{"hostName":"h.net","identities":[{"deviceId":"d","moduleId":"m","authentication":{"type":"none"}}]}"#;
        let doc = HubDocument::from_json(orphan).unwrap();
        assert!(matches!(doc.build(), Err(Error::ParentMissing { .. })));
    }
}
