//! The identity's plain resource a token's `sr` must name or cover (azure-iot-protocol.md
//! §1.4.5, §1.4.6), built without allocation. The comparison itself is iot-sas's
//! [`iot_sas::resource_matches`] / [`iot_sas::resource_covers`] (one implementation, with its
//! own fast path for the spellings the SDKs send, §1.3).

use crate::identity::DeviceIdentity;

/// `{host}/devices/{deviceId}[/modules/{moduleId}]` written into a stack buffer.
pub(crate) struct ResourceBuf {
    buf: [u8; 640],
    len: usize,
}

impl ResourceBuf {
    pub(crate) fn new(host: &str, identity: &DeviceIdentity) -> Option<Self> {
        let mut out = Self {
            buf: [0; 640],
            len: 0,
        };
        out.push(host)?;
        out.push("/devices/")?;
        out.push(&identity.device_id)?;
        if let Some(m) = &identity.module_id {
            out.push("/modules/")?;
            out.push(m)?;
        }
        Some(out)
    }

    fn push(&mut self, s: &str) -> Option<()> {
        let end = self.len.checked_add(s.len())?;
        self.buf
            .get_mut(self.len..end)?
            .copy_from_slice(s.as_bytes());
        self.len = end;
        Some(())
    }

    pub(crate) fn as_str(&self) -> &str {
        // Only whole `&str`s were copied in, so the prefix is valid UTF-8.
        core::str::from_utf8(self.buf.get(..self.len).unwrap_or_default()).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_device_and_module_resources() {
        let device = DeviceIdentity::certificate_authority("dev1");
        let r = ResourceBuf::new("contoso.azure-devices.net", &device).unwrap();
        assert_eq!(r.as_str(), "contoso.azure-devices.net/devices/dev1");
        let module = device.into_module("m(1)");
        let r = ResourceBuf::new("contoso.azure-devices.net", &module).unwrap();
        assert_eq!(
            r.as_str(),
            "contoso.azure-devices.net/devices/dev1/modules/m(1)"
        );
        assert!(ResourceBuf::new(&"h".repeat(700), &module).is_none());
    }
}
