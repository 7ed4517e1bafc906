//! The DPS instance: ID scope, linked hubs, registered CAs and the default allocation policy
//! (reference ../shared/reference/azure-iot-protocol.md §7.4, §8.2, §5.5 limits).

use serde::{Deserialize, Serialize};

use crate::{AllocationPolicy, Error};

/// Most linked hubs per instance (§5.5 service limits).
pub const MAX_LINKED_HUBS: usize = 50;
/// Most registered CAs per instance (§5.5 service limits).
pub const MAX_CERTIFICATES: usize = 25;

/// A DPS instance's settings, as plain serde data.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DpsInstance {
    /// The ID scope devices put in their DPS token resource and MQTT user name (§4).
    pub id_scope: String,
    /// The hubs DPS may assign devices to.
    #[serde(default, alias = "iotHubs")]
    pub linked_hubs: Vec<LinkedHub>,
    /// CAs uploaded to DPS (§7.4); only verified ones anchor X.509 chains.
    #[serde(default)]
    pub certificates: Vec<DpsCertificate>,
    /// The policy of enrollments that name none; `custom` is not allowed here (§8.2).
    #[serde(default)]
    pub allocation_policy: AllocationPolicy,
    /// Whether devices may attest with a CA-signed X.509 chain over MQTT or AMQP over
    /// WebSockets. Default false, the strict reading of the historical restriction the
    /// reference keeps configurable (§6.4, OPEN §10.10), as `iot-hub-auth` does for hubs;
    /// set true where current SDKs and the service support it. Individual enrollments that
    /// hold the device certificate itself are not CA attestation and are not affected.
    #[serde(default)]
    pub x509_ca_over_websockets: bool,
}

fn yes() -> bool {
    true
}

impl DpsInstance {
    /// An instance with no hubs or CAs and the `hashed` default policy.
    pub fn new(id_scope: &str) -> Self {
        Self {
            id_scope: id_scope.to_owned(),
            linked_hubs: Vec::new(),
            certificates: Vec::new(),
            allocation_policy: AllocationPolicy::Hashed,
            x509_ca_over_websockets: false,
        }
    }

    /// The linked hub with this host name (case-insensitive), if any.
    pub fn linked_hub(&self, host: &str) -> Option<&LinkedHub> {
        self.linked_hubs
            .iter()
            .find(|h| h.host.eq_ignore_ascii_case(host))
    }

    /// Checks the instance settings.
    ///
    /// # Errors
    /// The first broken rule: empty or malformed ID scope, duplicate hub, weight outside
    /// 1..=1000, too many hubs or CAs, a bad CA name, or `custom` as the default policy.
    pub fn validate(&self) -> Result<(), Error> {
        // ID scope grammar is OPEN (§10.9); observed `0ne` + 8 hex. Accept any short ASCII
        // alphanumeric string, since it is compared, never parsed.
        let scope_ok = !self.id_scope.is_empty()
            && self.id_scope.len() <= 64
            && self.id_scope.bytes().all(|b| b.is_ascii_alphanumeric());
        if !scope_ok {
            return Err(Error::InvalidIdScope {
                scope: crate::registration_id::clip(&self.id_scope),
            });
        }
        if self.allocation_policy == AllocationPolicy::Custom {
            return Err(Error::CustomDefaultPolicy);
        }
        if self.linked_hubs.len() > MAX_LINKED_HUBS {
            return Err(Error::TooMany {
                what: "linked hubs",
                count: self.linked_hubs.len(),
                max: MAX_LINKED_HUBS,
            });
        }
        for (i, hub) in self.linked_hubs.iter().enumerate() {
            if hub.host.is_empty() || hub.host.len() > 253 {
                return Err(Error::InvalidHubHost {
                    host: crate::registration_id::clip(&hub.host),
                });
            }
            let weight = hub.weight();
            if !(1..=1000).contains(&weight) {
                return Err(Error::AllocationWeight {
                    hub: hub.host.clone(),
                    weight,
                });
            }
            if self.linked_hubs[..i]
                .iter()
                .any(|h| h.host.eq_ignore_ascii_case(&hub.host))
            {
                return Err(Error::Duplicate {
                    what: "linked hub",
                    id: hub.host.clone(),
                });
            }
        }
        if self.certificates.len() > MAX_CERTIFICATES {
            return Err(Error::TooMany {
                what: "certificates",
                count: self.certificates.len(),
                max: MAX_CERTIFICATES,
            });
        }
        for (i, ca) in self.certificates.iter().enumerate() {
            // Certificate resource names: ^[A-Za-z0-9-._]{1,64}$ (§4, DOC REST certificates/verify).
            let name_ok = !ca.name.is_empty()
                && ca.name.len() <= 64
                && ca
                    .name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_'));
            if !name_ok {
                return Err(Error::InvalidId {
                    kind: "certificate",
                    id: crate::registration_id::clip(&ca.name),
                    reason: "must match ^[A-Za-z0-9-._]{1,64}$",
                });
            }
            if self.certificates[..i].iter().any(|c| c.name == ca.name) {
                return Err(Error::Duplicate {
                    what: "certificate",
                    id: ca.name.clone(),
                });
            }
        }
        Ok(())
    }
}

/// A hub linked to the instance (§8.2). Serialized with the ARM field `name` (the hub's
/// host name); `host` is accepted too.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LinkedHub {
    /// Hub host name, e.g. `contoso-test.azure-devices.net`.
    #[serde(rename = "name", alias = "host")]
    pub host: String,
    /// Allocation weight 1..=1000; absent means 1 (§8.2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allocation_weight: Option<u32>,
    /// False removes the hub from allocation, though enrollments may still name it (§8.2).
    #[serde(default = "yes")]
    pub apply_allocation_policy: bool,
}

impl LinkedHub {
    /// A hub with weight 1 that applies the allocation policy.
    pub fn new(host: &str) -> Self {
        Self {
            host: host.to_owned(),
            allocation_weight: None,
            apply_allocation_policy: true,
        }
    }

    /// The effective allocation weight (1 when unset).
    pub fn weight(&self) -> u32 {
        self.allocation_weight.unwrap_or(1)
    }
}

/// A CA certificate uploaded to DPS (§7.4).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DpsCertificate {
    /// Resource name, referenced by `caReferences`.
    pub name: String,
    /// PEM or base64 DER.
    pub certificate: String,
    /// Proof of possession done (or verified on upload).
    #[serde(default)]
    pub is_verified: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instance_parses_and_validates() {
        let json = r#"{"idScope": "0ne00002193", "iotHubs": [
            {"name": "test.azure-devices.net"},
            {"host": "prod.azure-devices.net", "allocationWeight": 3, "applyAllocationPolicy": false}],
            "allocationPolicy": "Hashed"}"#;
        let dps: DpsInstance = serde_json::from_str(json).unwrap();
        assert_eq!(dps.linked_hubs[0].weight(), 1);
        assert!(dps.linked_hubs[0].apply_allocation_policy);
        assert_eq!(dps.linked_hubs[1].weight(), 3);
        assert!(!dps.linked_hubs[1].apply_allocation_policy);
        assert!(!dps.x509_ca_over_websockets);
        assert_eq!(dps.validate(), Ok(()));
        assert!(dps.linked_hub("PROD.azure-devices.net").is_some());
    }

    #[test]
    fn instance_validation_rejects_bad_settings() {
        let mut dps = DpsInstance::new("0ne00002193");
        dps.allocation_policy = AllocationPolicy::Custom;
        assert_eq!(dps.validate(), Err(Error::CustomDefaultPolicy));
        dps.allocation_policy = AllocationPolicy::Hashed;
        dps.linked_hubs = vec![LinkedHub::new("a.net"), LinkedHub::new("A.net")];
        assert!(matches!(dps.validate(), Err(Error::Duplicate { .. })));
        dps.linked_hubs = vec![LinkedHub {
            allocation_weight: Some(1001),
            ..LinkedHub::new("a.net")
        }];
        assert_eq!(
            dps.validate(),
            Err(Error::AllocationWeight {
                hub: "a.net".into(),
                weight: 1001
            })
        );
        dps.linked_hubs[0].allocation_weight = Some(0);
        assert!(dps.validate().is_err());
        dps.linked_hubs.clear();
        dps.id_scope = "0ne/x".into();
        assert!(matches!(dps.validate(), Err(Error::InvalidIdScope { .. })));
    }
}
