//! MQTT CONNECT fields for DPS: client ID, user name and SAS password (reference §5.1).

use alloc::string::String;
use core::fmt;

use iot_sas::{ResourceUri, Signer};

use iot_sas::percent_encode;

use crate::text::{check_identifier, write_into};
use crate::{ApiVersion, Error};

/// Global device endpoint of every DPS instance; the ID scope selects the tenant (§5.1).
pub const GLOBAL_DEVICE_ENDPOINT: &str = "global.azure-devices-provisioning.net";
/// MQTT over TLS port (§5.1). MQTT over WebSocket uses 443.
pub const MQTT_PORT: u16 = 8883;
/// `skn` of DPS device tokens: the MQTT doc, node, csharp, iot-sdk-c and identity-service
/// send `registration` (reference §1.5 note).
pub const REGISTRATION_KEY_NAME: &str = "registration";

/// The identity a device registers with, and the MQTT CONNECT fields built from it
/// (reference §5.1).
///
/// Identifiers are written raw, as every SDK does (reference §4, §11 item 7); only the
/// optional `ClientVersion` is percent-encoded.
///
/// ```
/// use iot_dps_proto::{ApiVersion, MqttConnect};
/// let connect = MqttConnect::new("0neFEEDC0DE", "myRegistrationId")?
///     .with_api_version(ApiVersion::V2019_03_31)
///     .with_client_version("c/1.2.3");
/// assert_eq!(connect.client_id(), "myRegistrationId");
/// assert_eq!(
///     connect.user_name(),
///     "0neFEEDC0DE/registrations/myRegistrationId/api-version=2019-03-31&ClientVersion=c%2F1.2.3"
/// );
/// # Ok::<(), iot_dps_proto::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MqttConnect<'a> {
    id_scope: &'a str,
    registration_id: &'a str,
    api_version: ApiVersion,
    client_version: Option<&'a str>,
}

struct UserName<'c, 'a>(&'c MqttConnect<'a>);

impl fmt::Display for UserName<'_, '_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = self.0;
        // No `?` before api-version: DPS differs from IoT Hub here (reference §11 item 7).
        write!(
            f,
            "{}/registrations/{}/api-version={}",
            c.id_scope, c.registration_id, c.api_version
        )?;
        if let Some(agent) = c.client_version {
            write!(f, "&ClientVersion={}", percent_encode(agent))?;
        }
        Ok(())
    }
}

impl<'a> MqttConnect<'a> {
    /// A device `registration_id` in the DPS instance `id_scope`, [`ApiVersion::DEFAULT`].
    ///
    /// # Errors
    /// [`Error::Missing`] for an empty value, [`Error::InvalidIdentifier`] for one containing
    /// `/ ? & # +`, whitespace or control characters (they would change the user name's or the
    /// SAS resource's structure; real IDs never contain them, reference §4).
    pub fn new(id_scope: &'a str, registration_id: &'a str) -> Result<Self, Error> {
        check_identifier(id_scope, "id scope")?;
        check_identifier(registration_id, "registration id")?;
        Ok(Self {
            id_scope,
            registration_id,
            api_version: ApiVersion::DEFAULT,
            client_version: None,
        })
    }

    /// Selects another api-version.
    #[must_use]
    pub fn with_api_version(mut self, api_version: ApiVersion) -> Self {
        self.api_version = api_version;
        self
    }

    /// Adds `&ClientVersion={agent}` (percent-encoded, RFC 3986 unreserved set) to the user name.
    #[must_use]
    pub fn with_client_version(mut self, agent: &'a str) -> Self {
        self.client_version = Some(agent);
        self
    }

    /// The ID scope.
    pub fn id_scope(&self) -> &'a str {
        self.id_scope
    }

    /// The registration ID.
    pub fn registration_id(&self) -> &'a str {
        self.registration_id
    }

    /// The api-version.
    pub fn api_version(&self) -> ApiVersion {
        self.api_version
    }

    /// MQTT client ID: the registration ID (§5.1).
    pub fn client_id(&self) -> &'a str {
        self.registration_id
    }

    /// Writes the user name `{idScope}/registrations/{registrationId}/api-version={v}`
    /// (plus `&ClientVersion={agent}` when set) into `out`.
    ///
    /// # Errors
    /// [`Error::BufferTooSmall`]; `out` is untouched then.
    pub fn write_user_name<'b>(&self, out: &'b mut [u8]) -> Result<&'b str, Error> {
        write_into(out, format_args!("{}", UserName(self)))
    }

    /// The user name as a `String`.
    pub fn user_name(&self) -> String {
        alloc::format!("{}", UserName(self))
    }

    /// The SAS resource `{idScope}/registrations/{registrationId}` (no host name, §1.5).
    pub fn resource(&self) -> ResourceUri<'a> {
        ResourceUri::DpsRegistration {
            id_scope: self.id_scope,
            registration_id: self.registration_id,
        }
    }

    /// Writes the MQTT password for symmetric-key attestation: a SAS token over
    /// [`resource`](Self::resource) expiring at `expiry` (Unix seconds), with
    /// `skn=registration` ([`REGISTRATION_KEY_NAME`]). For group enrollments sign with the
    /// derived device key (`iot_sas::derive_device_key`, reference §3). X.509 devices send no
    /// password.
    ///
    /// # Errors
    /// [`Error::Sas`] (including a too-small buffer, reported by `iot-sas`).
    pub fn write_password<'b, S: Signer>(
        &self,
        signer: &S,
        expiry: u64,
        out: &'b mut [u8],
    ) -> Result<&'b str, Error> {
        Ok(iot_sas::sign_into(
            signer,
            &self.resource(),
            expiry,
            Some(REGISTRATION_KEY_NAME),
            out,
        )?)
    }

    /// [`write_password`](Self::write_password) into a new `String`.
    ///
    /// # Errors
    /// [`Error::Sas`] when the signer fails.
    pub fn password<S: Signer>(&self, signer: &S, expiry: u64) -> Result<String, Error> {
        Ok(iot_sas::sign(
            signer,
            &self.resource(),
            expiry,
            Some(REGISTRATION_KEY_NAME),
        )?)
    }
}

/// A DPS user name as the service receives it, parsed (reference §5.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UserNameParts<'a> {
    /// The ID scope.
    pub id_scope: &'a str,
    /// The registration ID (must equal the client ID, and the certificate CN for X.509).
    pub registration_id: &'a str,
    /// The api-version text.
    pub api_version: &'a str,
    /// `ClientVersion`, raw (still percent-encoded), if sent.
    pub client_version: Option<&'a str>,
}

impl<'a> UserNameParts<'a> {
    /// Parses `{idScope}/registrations/{registrationId}/api-version={v}[&ClientVersion=..]`.
    /// Extra `&key=value` parameters are ignored; a `?` before `api-version` (the IoT Hub
    /// spelling, reference §11 item 7) is rejected.
    ///
    /// # Errors
    /// [`Error::TopicNoMatch`] when the shape does not match, [`Error::Missing`] for an empty
    /// scope, registration ID or api-version.
    pub fn parse(user_name: &'a str) -> Result<Self, Error> {
        const SHAPE: Error = Error::TopicNoMatch {
            expected: "{idScope}/registrations/{registrationId}/api-version={v}",
        };
        let (id_scope, rest) = user_name.split_once("/registrations/").ok_or(SHAPE)?;
        let (registration_id, rest) = rest.split_once("/api-version=").ok_or(SHAPE)?;
        if id_scope.is_empty() {
            return Err(Error::Missing { field: "id scope" });
        }
        if registration_id.is_empty() {
            return Err(Error::Missing {
                field: "registration id",
            });
        }
        if registration_id.contains('/') || registration_id.contains('?') {
            return Err(SHAPE);
        }
        let mut params = rest.split('&');
        let api_version = params.next().unwrap_or_default();
        if api_version.is_empty() {
            return Err(Error::Missing {
                field: "api-version",
            });
        }
        let client_version = params.find_map(|p| p.strip_prefix("ClientVersion="));
        Ok(Self {
            id_scope,
            registration_id,
            api_version,
            client_version,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sdk_for_c_connect_fields() {
        // azure-sdk-for-c test_az_iot_provisioning_client.c (api-version 2019-03-31 there).
        let c = MqttConnect::new("0neFEEDC0DE", "myRegistrationId")
            .unwrap()
            .with_api_version(ApiVersion::V2019_03_31);
        assert_eq!(c.client_id(), "myRegistrationId");
        assert_eq!(
            c.user_name(),
            "0neFEEDC0DE/registrations/myRegistrationId/api-version=2019-03-31"
        );
        let c = c.with_client_version("c/1.2.3");
        // sdk-for-c copies the agent raw; we percent-encode like node/csharp/python (§5.1).
        assert_eq!(
            c.user_name(),
            "0neFEEDC0DE/registrations/myRegistrationId/api-version=2019-03-31&ClientVersion=c%2F1.2.3"
        );
    }

    #[test]
    fn default_api_version_and_no_question_mark() {
        let c = MqttConnect::new("0ne00002193", "sn-007-888-abc-mac-a1-b2-c3-d4-e5-f6").unwrap();
        let name = c.user_name();
        assert_eq!(
            name,
            "0ne00002193/registrations/sn-007-888-abc-mac-a1-b2-c3-d4-e5-f6/api-version=2021-06-01"
        );
        assert!(!name.contains('?'));
    }

    #[test]
    fn write_user_name_is_all_or_nothing() {
        let c = MqttConnect::new("0neFEEDC0DE", "myRegistrationId").unwrap();
        let expected = c.user_name();
        let mut small = vec![0xCCu8; expected.len() - 1];
        assert_eq!(
            c.write_user_name(&mut small),
            Err(Error::BufferTooSmall {
                required: expected.len()
            })
        );
        assert!(small.iter().all(|&b| b == 0xCC));
        let mut buf = vec![0u8; expected.len()];
        assert_eq!(c.write_user_name(&mut buf), Ok(expected.as_str()));
    }

    #[test]
    fn rejects_identifiers_that_break_the_user_name() {
        assert_eq!(
            MqttConnect::new("", "a"),
            Err(Error::Missing { field: "id scope" })
        );
        assert_eq!(
            MqttConnect::new("0ne", "a/b"),
            Err(Error::InvalidIdentifier {
                field: "registration id"
            })
        );
    }

    #[test]
    fn password_matches_the_reference_chained_vector() {
        // Reference §3 "chained example": derived key of the docs' legacy-device vector,
        // scope 0ne00002193, se=1700000000, RFC 3986 upper-case encoding, skn=registration.
        let key =
            iot_sas::SharedAccessKey::from_base64("Jsm0lyGpjaVYVP2g3FnmnmG9dI/9qU24wNoykUmermc=")
                .unwrap();
        let c = MqttConnect::new("0ne00002193", "sn-007-888-abc-mac-a1-b2-c3-d4-e5-f6").unwrap();
        let expected = "SharedAccessSignature sr=0ne00002193%2Fregistrations%2Fsn-007-888-abc-mac-a1-b2-c3-d4-e5-f6&sig=l4WGmr52Z9%2BqW8Za4QPSRsCQUx1aIYiu%2BH%2FkZw30m7A%3D&se=1700000000&skn=registration";
        assert_eq!(c.password(&key, 1_700_000_000).unwrap(), expected);
        let mut buf = [0u8; 256];
        assert_eq!(
            c.write_password(&key, 1_700_000_000, &mut buf),
            Ok(expected)
        );
        let mut small = [0xCCu8; 16];
        assert!(matches!(
            c.write_password(&key, 1_700_000_000, &mut small),
            Err(Error::Sas(_))
        ));
        assert!(small.iter().all(|&b| b == 0xCC));
    }

    #[test]
    fn parses_user_names_of_all_sdks() {
        let p = UserNameParts::parse(
            "0neFEEDC0DE/registrations/myRegistrationId/api-version=2019-03-31&ClientVersion=azure-iot-provisioning-device%2F1.0",
        )
        .unwrap();
        assert_eq!(p.id_scope, "0neFEEDC0DE");
        assert_eq!(p.registration_id, "myRegistrationId");
        assert_eq!(p.api_version, "2019-03-31");
        assert_eq!(
            p.client_version,
            Some("azure-iot-provisioning-device%2F1.0")
        );
        let p = UserNameParts::parse("s/registrations/r/api-version=2021-06-01").unwrap();
        assert_eq!(p.client_version, None);
        assert!(UserNameParts::parse("s/registrations/r/?api-version=2021-06-01").is_err());
        assert!(UserNameParts::parse("s/registrations//api-version=1").is_err());
        assert!(UserNameParts::parse("s/registrations/r/api-version=").is_err());
        assert!(UserNameParts::parse("hub.azure-devices.net/dev/?api-version=1").is_err());
    }
}
