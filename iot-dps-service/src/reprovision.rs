//! Reprovisioning: where a re-registering device goes and with which data (reference
//! ../shared/reference/azure-iot-protocol.md §8.3).

use crate::{RecordSubstatus, ReprovisionPolicy};

/// Where a device was assigned before this registration.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PreviousAssignment<'a> {
    /// The hub host name.
    pub hub: &'a str,
    /// The device ID there.
    pub device_id: &'a str,
}

/// What to do with the hub data of a device whose assignment is decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TwinPlan {
    /// Apply the initial twin (first assignment, or reset).
    Initial,
    /// Copy the twin from the previous hub (migrate to another hub).
    Migrate,
    /// Leave it (same hub with migrate, or never-reprovision).
    Keep,
}

/// The outcome of [`decide_reprovision`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reprovision {
    /// The hub the device is assigned to.
    pub hub: String,
    /// Its device ID there.
    pub device_id: String,
    /// The substatus reported to the device (§8.3).
    pub substatus: RecordSubstatus,
    /// What happens to the twin and device data.
    pub twin: TwinPlan,
    /// The identity to delete (the device left that hub, or its ID changed there).
    pub remove: Option<(String, String)>,
}

/// Applies the reprovision policy (§8.3) to an allocation:
///
/// | situation | result | substatus |
/// | --- | --- | --- |
/// | first registration (no previous hub) | allocated hub, initial twin | `initialAssignment` |
/// | `updateHubAssignment = false` (never reprovision) | stays on its hub, data kept | `initialAssignment` |
/// | allocated hub = current hub | stays; migrate keeps data, reset re-applies the initial twin (OPEN §10.12) | `reprovisionedToInitialAssignment` |
/// | other hub, `migrateDeviceData = true` | moved with twin and device ID, removed from old hub | `deviceDataMigrated` |
/// | other hub, `migrateDeviceData = false` | moved with the initial twin, removed from old hub | `deviceDataReset` |
///
/// `device_id` is the ID the enrollment gives the device now; migration keeps the old one
/// ("twin, capabilities and device ID copied from old hub").
pub fn decide_reprovision(
    previous: Option<PreviousAssignment<'_>>,
    allocated_hub: &str,
    device_id: &str,
    policy: ReprovisionPolicy,
) -> Reprovision {
    let Some(prev) = previous else {
        return Reprovision {
            hub: allocated_hub.to_owned(),
            device_id: device_id.to_owned(),
            substatus: RecordSubstatus::InitialAssignment,
            twin: TwinPlan::Initial,
            remove: None,
        };
    };
    if !policy.update_hub_assignment {
        return Reprovision {
            hub: prev.hub.to_owned(),
            device_id: prev.device_id.to_owned(),
            substatus: RecordSubstatus::InitialAssignment,
            twin: TwinPlan::Keep,
            remove: None,
        };
    }
    let same_hub = prev.hub.eq_ignore_ascii_case(allocated_hub);
    let (substatus, twin) = match (same_hub, policy.migrate_device_data) {
        (true, true) => (
            RecordSubstatus::ReprovisionedToInitialAssignment,
            TwinPlan::Keep,
        ),
        (true, false) => (
            RecordSubstatus::ReprovisionedToInitialAssignment,
            TwinPlan::Initial,
        ),
        (false, true) => (RecordSubstatus::DeviceDataMigrated, TwinPlan::Migrate),
        (false, false) => (RecordSubstatus::DeviceDataReset, TwinPlan::Initial),
    };
    let new_id = if policy.migrate_device_data {
        prev.device_id
    } else {
        device_id
    };
    let hub = if same_hub { prev.hub } else { allocated_hub };
    let moved = !same_hub || new_id != prev.device_id;
    Reprovision {
        hub: hub.to_owned(),
        device_id: new_id.to_owned(),
        substatus,
        twin,
        remove: moved.then(|| (prev.hub.to_owned(), prev.device_id.to_owned())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEST: &str = "test.azure-devices.net";
    const PROD: &str = "prod.azure-devices.net";

    fn policy(update: bool, migrate: bool) -> ReprovisionPolicy {
        ReprovisionPolicy {
            update_hub_assignment: update,
            migrate_device_data: migrate,
        }
    }

    fn prev() -> Option<PreviousAssignment<'static>> {
        Some(PreviousAssignment {
            hub: TEST,
            device_id: "dev",
        })
    }

    #[test]
    fn first_registration_is_initial_assignment() {
        for p in [
            policy(true, true),
            policy(true, false),
            policy(false, false),
        ] {
            let r = decide_reprovision(None, TEST, "dev", p);
            assert_eq!(r.substatus, RecordSubstatus::InitialAssignment);
            assert_eq!(
                (r.hub.as_str(), r.twin, r.remove),
                (TEST, TwinPlan::Initial, None)
            );
        }
    }

    #[test]
    fn same_hub_again_is_reprovisioned_to_initial_assignment() {
        let r = decide_reprovision(prev(), "TEST.azure-devices.net", "dev", policy(true, true));
        assert_eq!(
            r.substatus,
            RecordSubstatus::ReprovisionedToInitialAssignment
        );
        assert_eq!(
            (r.hub.as_str(), r.twin, r.remove),
            (TEST, TwinPlan::Keep, None)
        );
        let r = decide_reprovision(prev(), TEST, "dev", policy(true, false));
        assert_eq!(
            r.substatus,
            RecordSubstatus::ReprovisionedToInitialAssignment
        );
        assert_eq!(r.twin, TwinPlan::Initial);
    }

    #[test]
    fn other_hub_with_migrate_is_device_data_migrated() {
        let r = decide_reprovision(prev(), PROD, "new-id", policy(true, true));
        assert_eq!(r.substatus, RecordSubstatus::DeviceDataMigrated);
        assert_eq!(
            (r.hub.as_str(), r.device_id.as_str(), r.twin),
            (PROD, "dev", TwinPlan::Migrate)
        );
        assert_eq!(r.remove, Some((TEST.to_owned(), "dev".to_owned())));
    }

    #[test]
    fn other_hub_with_reset_is_device_data_reset() {
        let r = decide_reprovision(prev(), PROD, "new-id", policy(true, false));
        assert_eq!(r.substatus, RecordSubstatus::DeviceDataReset);
        assert_eq!(
            (r.hub.as_str(), r.device_id.as_str(), r.twin),
            (PROD, "new-id", TwinPlan::Initial)
        );
        assert_eq!(r.remove, Some((TEST.to_owned(), "dev".to_owned())));
    }

    #[test]
    fn never_reprovision_stays_with_initial_assignment() {
        let r = decide_reprovision(prev(), PROD, "dev", policy(false, false));
        assert_eq!(r.substatus, RecordSubstatus::InitialAssignment);
        assert_eq!(
            (r.hub.as_str(), r.twin, r.remove),
            (TEST, TwinPlan::Keep, None)
        );
    }
}
