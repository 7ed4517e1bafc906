//! The steps the workflow's scenarios are made of: register, connect, the thumbprint note,
//! retargeting an enrollment, and how changes and events read in a report (reference
//! ../shared/reference/azure-iot-protocol.md §7.5, §8.3).

use iot_dps_proto::Event;
use iot_hub_auth::{AuthenticationType, DenyReason, Transport};

use super::{SimDevice, StepReport, World};
use iot_dps_service::{EnrollmentRef, Error, HubChange};

/// What a connect step expects.
pub(super) enum Expect {
    Allowed,
    Denied(fn(&DenyReason) -> bool, &'static str),
}

/// Whether `identity` is the one DPS creates for an individual X.509 enrollment of `leaf`
/// (reference §7.5): authentication type `selfSigned` with the leaf's SHA-256 thumbprint as
/// the primary thumbprint. Returns the verdict and a line that shows what was compared
/// ("type selfSigned, primary thumbprint AB.. (leaf SHA-256 AB..)"). The in-memory workflow
/// reads the identity from the hub's registry, `iot demo` from the Registry Manager API.
pub fn identity_of_leaf(identity: &iot_hub_auth::DeviceIdentity, leaf: &[u8]) -> (String, bool) {
    let want = iot_x509::Thumbprint::sha256_of(leaf);
    let kind = identity.authentication.r#type;
    let primary = identity
        .authentication
        .x509_thumbprint
        .as_ref()
        .and_then(|t| t.primary_thumbprint.as_ref());
    let shown = primary.map(ToString::to_string).unwrap_or_default();
    (
        format!(
            "type {}, primary thumbprint {shown} (leaf SHA-256 {want})",
            kind.as_str()
        ),
        kind == AuthenticationType::SelfSigned && primary == Some(&want),
    )
}

impl World {
    pub(super) fn tick(&mut self, secs: u64) -> u64 {
        self.now += secs;
        self.now
    }

    /// Registers the device; the step passes when DPS assigns `hub` with `substatus`.
    pub(super) fn register_step(
        &mut self,
        title: &str,
        device: &SimDevice,
        hub: &str,
        substatus: &str,
        leaf: Option<&[u8]>,
    ) -> StepReport {
        let now = self.tick(10);
        let run = super::provision(&mut self.front, &self.service, &mut self.hubs, device, now);
        let mut notes: Vec<String> = Vec::new();
        if let Some(outcome) = &run.outcome {
            notes.push(format!("dps decision: {}", outcome.decision));
            for change in &outcome.hub_changes {
                notes.push(describe_change(change));
            }
        }
        notes.push(format!(
            "{} mqtt messages through the iot-dps-proto state machine",
            run.messages
        ));
        let expected = format!("assigned to {hub}, substatus {substatus}");
        let (actual, mut ok) = match &run.event {
            Some(Event::Assigned {
                assigned_hub,
                device_id,
                substatus: s,
                ..
            }) => {
                let s = s.as_ref().map_or("none", |s| s.as_str());
                (
                    format!("assigned to {assigned_hub} as '{device_id}', substatus {s}"),
                    assigned_hub == hub && s == substatus,
                )
            }
            other => (describe_event(other.as_ref()), false),
        };
        if let Some(leaf) = leaf {
            let (line, good) = self.thumbprint_note(hub, &device.registration_id, leaf);
            notes.push(line);
            ok &= good;
        }
        StepReport {
            step: title.into(),
            expected,
            actual,
            ok,
            notes,
        }
    }

    /// X.509 devices land in the hub as selfSigned with the leaf's SHA-256 thumbprint (§7.5).
    pub(super) fn thumbprint_note(
        &self,
        hub: &str,
        device_id: &str,
        leaf: &[u8],
    ) -> (String, bool) {
        use iot_hub_auth::Registry as _;
        match self.hubs.registry(hub).and_then(|r| r.get(device_id, None)) {
            Some(identity) => {
                let (line, good) = identity_of_leaf(&identity, leaf);
                (format!("hub identity '{device_id}': {line}"), good)
            }
            None => (
                format!("hub identity '{device_id}' missing in {hub}"),
                false,
            ),
        }
    }

    pub(super) fn connect_step(
        &mut self,
        title: &str,
        hub: &str,
        device: &SimDevice,
        transport: Transport,
        expect: Expect,
    ) -> StepReport {
        let (expect_allowed, deny_check, deny_label) = match expect {
            Expect::Allowed => (true, (|_| false) as fn(&DenyReason) -> bool, ""),
            Expect::Denied(check, label) => (false, check, label),
        };
        let now = self.tick(5);
        let result = super::connect(
            &self.hubs,
            hub,
            &device.registration_id,
            &device.credential,
            transport,
            now,
        );
        let expected = if expect_allowed {
            format!("{hub} allows the connection")
        } else {
            format!("{hub} refuses: {deny_label}")
        };
        let (actual, ok) = match &result {
            Ok(()) => (format!("{hub} allowed the connection"), expect_allowed),
            Err(reason) => (
                format!("{hub} refused: {reason}"),
                !expect_allowed && deny_check(reason),
            ),
        };
        StepReport {
            step: title.into(),
            expected,
            actual,
            ok,
            notes: Vec::new(),
        }
    }

    pub(super) fn retarget(&mut self, enrollment: &EnrollmentRef, hub: &str) -> Result<(), Error> {
        match enrollment {
            EnrollmentRef::Individual(id) => {
                let mut e =
                    self.service
                        .individual(id)
                        .cloned()
                        .ok_or_else(|| Error::NotFound {
                            enrollment: enrollment.clone(),
                        })?;
                e.settings.iot_hubs = vec![hub.to_owned()];
                self.service.upsert_individual(e)
            }
            EnrollmentRef::Group(id) => {
                let mut g = self
                    .service
                    .group(id)
                    .cloned()
                    .ok_or_else(|| Error::NotFound {
                        enrollment: enrollment.clone(),
                    })?;
                g.settings.iot_hubs = vec![hub.to_owned()];
                self.service.upsert_group(g)
            }
        }
    }
}

pub(super) fn describe_change(change: &HubChange) -> String {
    match change {
        HubChange::Upsert {
            hub,
            identity,
            twin,
        } => {
            let twin = match twin {
                iot_dps_service::TwinChange::Initial { .. } => "initial twin",
                iot_dps_service::TwinChange::MigrateFrom { .. } => "twin migrated",
                iot_dps_service::TwinChange::Keep => "twin kept",
            };
            format!(
                "hub change: create/update '{}' in {hub} as {} ({twin})",
                identity.device_id,
                identity.authentication.r#type.as_str()
            )
        }
        HubChange::Remove { hub, device_id } => {
            format!("hub change: delete '{device_id}' from {hub}")
        }
        HubChange::Disable { hub, device_id } => {
            format!("hub change: disable '{device_id}' in {hub}")
        }
        other => format!("hub change in {}", other.hub()),
    }
}

pub(super) fn describe_event(event: Option<&Event>) -> String {
    match event {
        Some(Event::Assigned {
            assigned_hub,
            device_id,
            ..
        }) => format!("assigned to {assigned_hub} as '{device_id}'"),
        Some(Event::Disabled) => "registration disabled".into(),
        Some(Event::Failed { status, error }) => format!(
            "failed (status {}, error code {})",
            status.map_or_else(|| "none".to_owned(), |s| s.to_string()),
            error
                .error_code()
                .map_or_else(|| "none".to_owned(), |c| c.to_string())
        ),
        None => "no answer".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::identity_of_leaf;
    use iot_hub_auth::DeviceIdentity;
    use iot_x509::Thumbprint;
    use iot_x509::generate::{Validity, new_self_signed_device_cert};

    fn identity(auth: &serde_json::Value) -> DeviceIdentity {
        serde_json::from_value(
            serde_json::json!({"deviceId": "x509-device-01", "authentication": auth}),
        )
        .expect("a valid identity")
    }

    fn self_signed(primary: &str) -> DeviceIdentity {
        identity(&serde_json::json!({
            "type": "selfSigned",
            "x509Thumbprint": {"primaryThumbprint": primary, "secondaryThumbprint": null}
        }))
    }

    #[test]
    fn a_self_signed_identity_with_the_leafs_sha256_is_the_leafs_identity() {
        let leaf = new_self_signed_device_cert("x509-device-01", Validity::days(1_700_000_000, 1))
            .expect("certificate")
            .der;
        let other = new_self_signed_device_cert("x509-device-01", Validity::days(1_700_000_000, 1))
            .expect("certificate")
            .der;
        let sha256 = Thumbprint::sha256_of(&leaf).to_string();
        let (line, good) = identity_of_leaf(&self_signed(&sha256.to_ascii_lowercase()), &leaf);
        assert!(good, "{line}");
        assert!(line.contains(&sha256), "{line}");
        // Another certificate's thumbprint, the same leaf's SHA-1, or a non-X.509 type: not it.
        let wrong = Thumbprint::sha256_of(&other).to_string();
        assert!(!identity_of_leaf(&self_signed(&wrong), &leaf).1);
        let sha1 = Thumbprint::sha1_of(&leaf).to_string();
        assert!(!identity_of_leaf(&self_signed(&sha1), &leaf).1);
        let sas = identity(&serde_json::json!({
            "type": "sas",
            "symmetricKey": {"primaryKey": "AAAAAAAAAAAAAAAAAAAAAA==", "secondaryKey": null}
        }));
        let (line, good) = identity_of_leaf(&sas, &leaf);
        assert!(!good && line.starts_with("type sas"), "{line}");
    }
}
