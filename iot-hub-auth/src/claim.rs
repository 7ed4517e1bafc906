//! The identity a connection claims, from its transport fields (azure-iot-protocol.md §1.6,
//! §6.1-6.3): MQTT client ID and user name, AMQP SASL PLAIN user name or link, HTTPS path.
//! MQTT client ID and user name must name the same identity and this hub (the hub's own
//! behaviour on disagreement is OPEN §9; we refuse).

use crate::amqp::SaslUserName;
use crate::decision::DenyReason;
use crate::error::Error;
use crate::hub_settings::HubSettings;
use crate::identifier::display_id;
use crate::mqtt::{MqttClientId, MqttUserName};
use crate::request::{ConnectRequest, Transport};

/// The identity a connection claims, plus the policy named by an AMQP policy user name.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Claim<'r> {
    pub(crate) device_id: &'r str,
    pub(crate) module_id: Option<&'r str>,
    pub(crate) sasl_policy: Option<&'r str>,
}

pub(crate) fn claim_error(reason: &'static str) -> DenyReason {
    DenyReason::MalformedClaim(Error::MalformedUserName { reason })
}

pub(crate) fn check_host(hub: &HubSettings, host: &str) -> Result<(), DenyReason> {
    // Exact bytes first (what every SDK sends: the host from the connection string), then
    // ASCII case-insensitively (host names are case-insensitive, RFC 4343).
    if host == hub.host_name() || host.eq_ignore_ascii_case(hub.host_name()) {
        Ok(())
    } else {
        Err(DenyReason::HostNameMismatch {
            expected: hub.host_name().to_owned(),
            found: host.to_owned(),
        })
    }
}

#[inline]
pub(crate) fn mqtt_claim<'r>(
    hub: &HubSettings,
    req: &ConnectRequest<'r>,
) -> Result<Claim<'r>, DenyReason> {
    let client_id = req
        .client_id
        .ok_or_else(|| claim_error("MQTT CONNECT needs a client ID"))?;
    let username = req.username.ok_or_else(|| {
        claim_error("MQTT CONNECT needs the user name {host}/{deviceId}/?api-version=...")
    })?;
    let id = MqttClientId::parse(client_id).map_err(DenyReason::MalformedClaim)?;
    let claim = Claim {
        device_id: id.device_id,
        module_id: id.module_id,
        sasl_policy: None,
    };
    // Fast, allocation-free checks of the common case: the user name's path is exactly the
    // client ID (`{host}/{clientId}/?{query}`). Query parameters are not part of the decision.
    // First with the host exactly as configured (what the SDKs send), then any host spelling.
    if username
        .strip_prefix(hub.host_name())
        .and_then(|rest| rest.strip_prefix('/'))
        .is_some_and(|path| path_is(path, client_id))
    {
        return Ok(claim);
    }
    if let Some(host) = host_if_path_is(username, client_id) {
        check_host(hub, host)?;
        return Ok(claim);
    }
    // Otherwise find out what differs.
    let parsed = MqttUserName::parse(username).map_err(DenyReason::MalformedClaim)?;
    check_host(hub, parsed.host)?;
    Err(DenyReason::ClientIdMismatch {
        user_name: display_id(parsed.device_id, parsed.module_id),
        client_id: client_id.to_owned(),
    })
}

/// `Some(host)` when `username` is `{host}/{client_id}`, optionally followed by `/` or
/// `/?{query}` (azure-iot-protocol.md §6.1), with a non-empty host.
pub(crate) fn host_if_path_is<'u>(username: &'u str, client_id: &str) -> Option<&'u str> {
    let (host, rest) = username.split_once('/')?;
    (path_is(rest, client_id) && !host.is_empty()).then_some(host)
}

/// Whether the user name's part after `{host}/` is `{client_id}`, optionally followed by `/`
/// or `/?{query}`.
fn path_is(path: &str, client_id: &str) -> bool {
    path.strip_prefix(client_id)
        .is_some_and(|tail| tail.is_empty() || tail == "/" || tail.starts_with("/?"))
}

#[inline]
pub(crate) fn direct_claim<'r>(req: &ConnectRequest<'r>) -> Result<Claim<'r>, DenyReason> {
    let device_id = req.device_id.ok_or_else(|| {
        claim_error(match req.transport {
            Transport::Https => {
                "HTTPS requests name the device in the path /devices/{deviceId}/..."
            }
            _ => "AMQP without a SASL PLAIN device user name must name the device of the link",
        })
    })?;
    Ok(Claim {
        device_id,
        module_id: req.module_id,
        sasl_policy: None,
    })
}

#[inline]
pub(crate) fn amqp_claim<'r>(
    hub: &HubSettings,
    req: &ConnectRequest<'r>,
) -> Result<Claim<'r>, DenyReason> {
    let Some(username) = req.username else {
        return direct_claim(req);
    };
    let sasl = SaslUserName::parse(username).map_err(DenyReason::MalformedClaim)?;
    if !sasl.names_hub(hub.host_name()) {
        return Err(DenyReason::HostNameMismatch {
            expected: hub.host_name().to_owned(),
            found: sasl.hub().to_owned(),
        });
    }
    match sasl {
        SaslUserName::Device {
            device_id,
            module_id,
            ..
        } => {
            // A link that names an identity must name the same device and module.
            if let Some(link) = req.device_id
                && (link != device_id || req.module_id != module_id)
            {
                return Err(DenyReason::ClientIdMismatch {
                    user_name: display_id(device_id, module_id),
                    client_id: display_id(link, req.module_id),
                });
            }
            Ok(Claim {
                device_id,
                module_id,
                sasl_policy: None,
            })
        }
        SaslUserName::Policy { policy, .. } => Ok(Claim {
            sasl_policy: Some(policy),
            ..direct_claim(req)?
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_name_path_shapes() {
        assert_eq!(
            host_if_path_is("h.net/d/?api-version=1", "d"),
            Some("h.net")
        );
        assert_eq!(host_if_path_is("h.net/d", "d"), Some("h.net"));
        assert_eq!(host_if_path_is("h.net/d/", "d"), Some("h.net"));
        assert_eq!(host_if_path_is("h.net/d/m/?a", "d/m"), Some("h.net"));
        assert_eq!(host_if_path_is("h.net/d/m/?a", "d"), None);
        assert_eq!(host_if_path_is("h.net/dd/?a", "d"), None);
        assert_eq!(host_if_path_is("/d/?a", "d"), None);
    }
}
