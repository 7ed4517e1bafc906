//! Allocation policies (reference ../shared/reference/azure-iot-protocol.md §8.2).
//!
//! # The `hashed` algorithm (evenly weighted distribution)
//!
//! The service's hash is undocumented (OPEN §10.6); the observable contract is: the same
//! registration ID always lands on the same hub, hubs receive devices in proportion to their
//! allocation weight, and (our choice) linking a new hub moves as few devices as possible.
//! This crate uses **weighted rendezvous hashing** (highest random weight):
//!
//! ```text
//! h     = SHA-256( lowercase(registration_id) || 0x00 || lowercase(hub_host) )
//! x     = first 8 bytes of h as a big-endian u64
//! u     = ((x >> 11) + 0.5) / 2^53                  // uniform in the open interval (0, 1)
//! score = -weight / ln(u)                           // > 0
//! hub   = the candidate with the highest score; equal scores: the smaller lower-cased host
//! ```
//!
//! `-ln(u) / weight` is exponentially distributed with rate `weight`, so the hub with the
//! smallest one (the highest score) is hub *i* with probability `wᵢ / Σw`. A hub's score for
//! a device does not depend on the other hubs, so adding a hub moves exactly the devices for
//! which the new hub scores highest (each goes TO the new hub), and removing one moves only
//! its own devices. IDs are lower-cased because registration IDs are case-insensitive (§4).

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::attest::Attested;
use crate::{
    AllocationPolicy, DpsInstance, EnrollmentGroup, EnrollmentRef, EnrollmentSettings,
    IndividualEnrollment, InitialTwin, LinkedHub, PendingAllocation, ProvisioningService,
    RegistrationRecord, RegistrationRequest,
};

/// The candidate hubs of an enrollment (§8.2): its `iotHubs` when not empty (hubs may be
/// named even when they do not apply the allocation policy), else every linked hub with
/// `applyAllocationPolicy`. Unknown names are skipped (validation rejects them on load).
pub fn candidate_hubs<'a>(
    dps: &'a DpsInstance,
    settings: &EnrollmentSettings,
) -> Vec<&'a LinkedHub> {
    if settings.iot_hubs.is_empty() {
        dps.linked_hubs
            .iter()
            .filter(|h| h.apply_allocation_policy)
            .collect()
    } else {
        settings
            .iot_hubs
            .iter()
            .filter_map(|name| dps.linked_hub(name))
            .collect()
    }
}

/// The rendezvous score of `hub` for `registration_id` (see the module docs). Higher wins.
pub fn hashed_score(registration_id: &str, hub_host: &str, weight: u32) -> f64 {
    let mut sha = Sha256::new();
    for b in registration_id.bytes() {
        sha.update([b.to_ascii_lowercase()]);
    }
    sha.update([0u8]);
    for b in hub_host.bytes() {
        sha.update([b.to_ascii_lowercase()]);
    }
    let digest = sha.finalize();
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    let x = u64::from_be_bytes(first) >> 11;
    #[expect(clippy::cast_precision_loss, reason = "x < 2^53 is exact in f64")]
    let u = (x as f64 + 0.5) / 9_007_199_254_740_992.0;
    -f64::from(weight) / u.ln()
}

/// `hashed` allocation: the candidate with the highest [`hashed_score`]; `None` when there
/// are no candidates.
pub fn allocate_hashed<'h>(
    registration_id: &str,
    candidates: &[&'h LinkedHub],
) -> Option<&'h LinkedHub> {
    let mut best: Option<(f64, &'h LinkedHub)> = None;
    for &hub in candidates {
        let score = hashed_score(registration_id, &hub.host, hub.weight());
        best = match best {
            Some((s, b)) if s > score => Some((s, b)),
            Some((s, b))
                if s == score && b.host.to_ascii_lowercase() <= hub.host.to_ascii_lowercase() =>
            {
                Some((s, b))
            }
            _ => Some((score, hub)),
        };
    }
    best.map(|(_, hub)| hub)
}

/// A measured latency from the device's region to a hub, supplied by the caller (§8.2
/// `geoLatency`: DPS uses Traffic-Manager-style measurements this crate cannot make).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HubLatency {
    /// Hub host name.
    pub host: String,
    /// Round-trip time in milliseconds.
    pub millis: u32,
}

/// `geoLatency` allocation: the candidate with the lowest caller-supplied latency; ties are
/// broken by [`allocate_hashed`] among the tied hubs. Candidates without a latency are
/// ignored; with no latency for any candidate it falls back to `hashed` over all of them.
pub fn allocate_geo_latency<'h>(
    registration_id: &str,
    candidates: &[&'h LinkedHub],
    latencies: &[HubLatency],
) -> Option<&'h LinkedHub> {
    let latency = |hub: &LinkedHub| {
        latencies
            .iter()
            .filter(|l| l.host.eq_ignore_ascii_case(&hub.host))
            .map(|l| l.millis)
            .min()
    };
    let best = candidates.iter().filter_map(|h| latency(h)).min();
    match best {
        None => allocate_hashed(registration_id, candidates),
        Some(best) => {
            let tied: Vec<&'h LinkedHub> = candidates
                .iter()
                .copied()
                .filter(|h| latency(h) == Some(best))
                .collect();
            allocate_hashed(registration_id, &tied)
        }
    }
}

/// The body DPS POSTs to a custom allocation webhook (§8.2, DOC concepts-custom-allocation).
/// Symmetric keys of the enrollment are removed before it is sent: the webhook needs the
/// enrollment's settings, not its secrets.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AllocationRequest {
    /// The individual enrollment the device attested through.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub individual_enrollment: Option<IndividualEnrollment>,
    /// The enrollment group the device attested through.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enrollment_group: Option<EnrollmentGroup>,
    /// What DPS knows about the device and this registration.
    pub device_runtime_context: DeviceRuntimeContext,
    /// Host names the webhook may choose from.
    pub linked_hubs: Vec<String>,
}

/// `deviceRuntimeContext` (§8.2).
#[derive(Clone, Debug, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeviceRuntimeContext {
    /// Registration ID as the device presented it.
    pub registration_id: String,
    /// The device's current hub, when it was assigned before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current_iot_hub_host_name: Option<String>,
    /// The device's current device ID, when it was assigned before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current_device_id: Option<String>,
    /// X.509 attestation details (`certificateInfo`, `enrollmentGroupId`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub x509: Option<Value>,
    /// Symmetric-key attestation details (`enrollmentGroupId`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub symmetric_key: Option<Value>,
    /// TPM attestation details.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tpm: Option<Value>,
    /// The device's custom `payload` from its register request (§5.3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payload: Option<Value>,
}

/// The webhook's answer (§8.2).
#[derive(Clone, Debug, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AllocationResponse {
    /// The chosen hub; must be one of the request's `linkedHubs` (else error 400207).
    pub iot_hub_host_name: String,
    /// Twin to apply instead of the enrollment's `initialTwin`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub initial_twin: Option<InitialTwin>,
    /// Returned to the device in `registrationState.payload`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payload: Option<Value>,
}

/// The hub a built-in policy (`static`, `hashed`, `geoLatency`) chooses among `candidates`
/// (§8.2); `None` when there is no candidate, and for `custom`, whose webhook decides
/// ([`ProvisioningService::complete_custom_allocation`]).
pub(crate) fn choose_hub<'h>(
    policy: AllocationPolicy,
    registration_id: &str,
    candidates: &[&'h LinkedHub],
    latencies: &[HubLatency],
) -> Option<&'h LinkedHub> {
    match policy {
        AllocationPolicy::Custom => None,
        AllocationPolicy::Static => candidates.first().copied(),
        AllocationPolicy::Hashed => allocate_hashed(registration_id, candidates),
        AllocationPolicy::GeoLatency => {
            allocate_geo_latency(registration_id, candidates, latencies)
        }
    }
}

/// The custom allocation webhook's request (§8.2).
impl ProvisioningService {
    /// The webhook request for an attested registration, and what completing it needs.
    pub(crate) fn pending(
        &self,
        attested: Attested,
        previous: Option<&RegistrationRecord>,
        req: &RegistrationRequest<'_>,
    ) -> PendingAllocation {
        let candidates = candidate_hubs(&self.instance, &attested.settings);
        let current = previous.filter(|r| !r.assigned_hub.is_empty());
        let mut ctx = DeviceRuntimeContext {
            registration_id: attested.registration_id.clone(),
            current_iot_hub_host_name: current.map(|r| r.assigned_hub.clone()),
            current_device_id: current.map(|r| r.device_id.clone()),
            payload: attested.payload.clone(),
            ..DeviceRuntimeContext::default()
        };
        let group_id = match &attested.enrollment {
            EnrollmentRef::Group(id) => serde_json::json!({ "enrollmentGroupId": id }),
            EnrollmentRef::Individual(_) => serde_json::json!({}),
        };
        if attested.leaf_der.is_some() {
            ctx.x509 = Some(group_id);
        } else {
            ctx.symmetric_key = Some(group_id);
        }
        let (individual_enrollment, enrollment_group) = match &attested.enrollment {
            EnrollmentRef::Individual(id) => {
                (self.individual(id).map(without_keys_individual), None)
            }
            EnrollmentRef::Group(id) => (None, self.group(id).map(without_keys_group)),
        };
        let webhook_url = attested
            .settings
            .custom_allocation_definition
            .as_ref()
            .map(|d| d.webhook_url.clone())
            .unwrap_or_default();
        PendingAllocation {
            request: AllocationRequest {
                individual_enrollment,
                enrollment_group,
                device_runtime_context: ctx,
                linked_hubs: candidates.iter().map(|h| h.host.clone()).collect(),
            },
            webhook_url,
            attested,
            previous: previous.cloned(),
            operation_id: req.operation_id.to_owned(),
            now: req.now,
        }
    }
}

fn without_keys_individual(e: &IndividualEnrollment) -> IndividualEnrollment {
    let mut e = e.clone();
    e.attestation.symmetric_key = None;
    e
}

fn without_keys_group(g: &EnrollmentGroup) -> EnrollmentGroup {
    let mut g = g.clone();
    g.attestation.symmetric_key = None;
    g
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hubs(spec: &[(&str, u32)]) -> Vec<LinkedHub> {
        spec.iter()
            .map(|&(h, w)| LinkedHub {
                allocation_weight: Some(w),
                ..LinkedHub::new(h)
            })
            .collect()
    }

    fn ids(n: usize) -> impl Iterator<Item = String> {
        (0..n).map(|i| format!("device-{i:05}"))
    }

    #[test]
    fn hashed_is_deterministic_and_case_insensitive() {
        let hubs = hubs(&[("a.net", 1), ("b.net", 1), ("c.net", 1)]);
        let refs: Vec<&LinkedHub> = hubs.iter().collect();
        for id in ids(200) {
            let first = allocate_hashed(&id, &refs).unwrap();
            assert_eq!(allocate_hashed(&id, &refs).unwrap(), first);
            assert_eq!(allocate_hashed(&id.to_uppercase(), &refs).unwrap(), first);
            let reversed: Vec<&LinkedHub> = refs.iter().rev().copied().collect();
            assert_eq!(
                allocate_hashed(&id, &reversed).unwrap(),
                first,
                "order must not matter"
            );
        }
        assert!(allocate_hashed("x", &[]).is_none());
    }

    #[test]
    fn hashed_spreads_by_weight_over_10k_ids() {
        let hubs = hubs(&[("a.net", 1), ("b.net", 2), ("c.net", 5)]);
        let refs: Vec<&LinkedHub> = hubs.iter().collect();
        let mut counts = [0usize; 3];
        for id in ids(10_000) {
            let hub = allocate_hashed(&id, &refs).unwrap();
            counts[hubs.iter().position(|h| h == hub).unwrap()] += 1;
        }
        // Expected 1250 / 2500 / 6250; binomial sd <= 49, allow about 4 sd.
        for (count, expected) in counts.iter().zip([1250usize, 2500, 6250]) {
            assert!(count.abs_diff(expected) < 200, "{counts:?}");
        }
    }

    #[test]
    fn adding_a_hub_moves_only_devices_to_the_new_hub() {
        let before = hubs(&[("a.net", 1), ("b.net", 1)]);
        let after = hubs(&[("a.net", 1), ("b.net", 1), ("c.net", 1)]);
        let (rb, ra): (Vec<&LinkedHub>, Vec<&LinkedHub>) =
            (before.iter().collect(), after.iter().collect());
        let mut moved = 0usize;
        for id in ids(10_000) {
            let old = allocate_hashed(&id, &rb).unwrap();
            let new = allocate_hashed(&id, &ra).unwrap();
            if old.host != new.host {
                assert_eq!(new.host, "c.net", "{id} moved between old hubs");
                moved += 1;
            }
        }
        // About a third move, all to the new hub (a modulo hash would move two thirds).
        assert!(moved.abs_diff(3333) < 250, "moved {moved}");
    }

    #[test]
    fn geo_latency_picks_lowest_and_hashes_ties() {
        let hubs = hubs(&[("eu.net", 1), ("us.net", 1), ("asia.net", 1)]);
        let refs: Vec<&LinkedHub> = hubs.iter().collect();
        let lat = |e, u, a| {
            vec![
                HubLatency {
                    host: "eu.net".into(),
                    millis: e,
                },
                HubLatency {
                    host: "US.net".into(),
                    millis: u,
                },
                HubLatency {
                    host: "asia.net".into(),
                    millis: a,
                },
            ]
        };
        assert_eq!(
            allocate_geo_latency("d1", &refs, &lat(20, 90, 200))
                .unwrap()
                .host,
            "eu.net"
        );
        assert_eq!(
            allocate_geo_latency("d1", &refs, &lat(90, 20, 200))
                .unwrap()
                .host,
            "us.net"
        );
        // Tie between eu and us: the hashed choice among the two, never asia.
        let tied = [&hubs[0], &hubs[1]];
        for id in ids(50) {
            let got = allocate_geo_latency(&id, &refs, &lat(10, 10, 5000)).unwrap();
            assert_eq!(got, allocate_hashed(&id, &tied).unwrap());
        }
        // No measurements: hashed over everything.
        assert_eq!(
            allocate_geo_latency("d1", &refs, &[]),
            allocate_hashed("d1", &refs)
        );
    }

    #[test]
    fn candidates_follow_enrollment_or_linked_hubs() {
        let mut dps = DpsInstance::new("0ne1");
        dps.linked_hubs = hubs(&[("a.net", 1), ("b.net", 1)]);
        dps.linked_hubs[1].apply_allocation_policy = false;
        let mut s = EnrollmentSettings::default();
        let all: Vec<&str> = candidate_hubs(&dps, &s)
            .iter()
            .map(|h| h.host.as_str())
            .collect();
        assert_eq!(all, ["a.net"]);
        s.iot_hubs = vec!["B.NET".into()];
        let named: Vec<&str> = candidate_hubs(&dps, &s)
            .iter()
            .map(|h| h.host.as_str())
            .collect();
        assert_eq!(
            named,
            ["b.net"],
            "named hubs count even without applyAllocationPolicy"
        );
    }

    #[test]
    fn webhook_shapes_round_trip() {
        let json = r#"{"iotHubHostName": "a.net", "payload": {"x": 1},
            "initialTwin": {"tags": {"t": 1}}}"#;
        let r: AllocationResponse = serde_json::from_str(json).unwrap();
        assert_eq!(r.iot_hub_host_name, "a.net");
        let req = AllocationRequest {
            individual_enrollment: None,
            enrollment_group: None,
            device_runtime_context: DeviceRuntimeContext {
                registration_id: "d".into(),
                ..DeviceRuntimeContext::default()
            },
            linked_hubs: vec!["a.net".into()],
        };
        let v = serde_json::to_value(&req).unwrap();
        assert_eq!(v["deviceRuntimeContext"]["registrationId"], "d");
        assert_eq!(v["linkedHubs"][0], "a.net");
        assert!(v.get("individualEnrollment").is_none());
    }
}
