//! The Registry Manager API's identity writes on a hub in memory, mirrored after the store
//! committed them.

use iot_hub_auth::DeviceIdentity;

use super::Hubs;

/// Registry writes of the HTTPS Registry Manager API, mirrored after the store committed them.
impl Hubs {
    /// Creates or replaces a device or module identity in `host` (a device keeps its
    /// modules).
    ///
    /// # Errors
    /// The identity's rule that failed, or a module whose device is missing.
    pub fn upsert_identity(
        &mut self,
        host: &str,
        identity: DeviceIdentity,
    ) -> Result<(), iot_hub_auth::Error> {
        match self.registry_mut(host) {
            Some(registry) => registry.upsert(identity),
            None => Ok(()),
        }
    }

    /// Removes a module, or a device with its modules and every twin of theirs.
    pub fn remove_identity(
        &mut self,
        host: &str,
        device_id: &str,
        module_id: Option<&str>,
    ) -> Option<DeviceIdentity> {
        let lower = host.to_ascii_lowercase();
        self.twins.retain(|k, _| {
            !(k.hub == lower
                && k.device_id == device_id
                && (module_id.is_none() || k.module_id.as_deref() == module_id))
        });
        self.registry_mut(host)?.remove(device_id, module_id)
    }
}
