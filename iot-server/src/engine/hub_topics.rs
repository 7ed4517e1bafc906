//! What a hub device may publish and subscribe to over MQTT (Microsoft Learn "Communicate with
//! an IoT hub using the MQTT protocol"; reference §6.1): telemetry on
//! `devices/{deviceId}[/modules/{moduleId}]/messages/events/{properties}`, twin requests on
//! `$iothub/twin/GET/?$rid=` and `$iothub/twin/PATCH/properties/reported/?$rid=`, method
//! responses on `$iothub/methods/res/{status}/?$rid=`. A topic outside these, or naming
//! another device, closes the connection, as IoT Hub does.

/// A classified device PUBLISH.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HubRequest<'a> {
    /// Device-to-cloud telemetry with its property bag (raw, URL-encoded).
    Telemetry {
        /// The text after `messages/events/`.
        properties: &'a str,
    },
    /// Twin GET.
    TwinGet {
        /// Request ID.
        rid: &'a str,
    },
    /// Reported properties PATCH.
    TwinPatchReported {
        /// Request ID.
        rid: &'a str,
    },
    /// A direct-method response (no method was invoked by this server: ignored).
    MethodResponse,
}

/// The topic prefix of an identity: `devices/{d}` or `devices/{d}/modules/{m}`.
pub fn topic_base(device_id: &str, module_id: Option<&str>) -> String {
    match module_id {
        Some(m) => format!("devices/{device_id}/modules/{m}"),
        None => format!("devices/{device_id}"),
    }
}

fn rid_of(query: &str) -> Option<&str> {
    query
        .split('&')
        .find_map(|kv| kv.strip_prefix("$rid="))
        .filter(|rid| !rid.is_empty())
}

/// Classifies a PUBLISH topic of the identity `device_id`/`module_id`.
///
/// # Errors
/// Why the connection must close.
pub fn classify<'a>(
    topic: &'a str,
    device_id: &str,
    module_id: Option<&str>,
) -> Result<HubRequest<'a>, String> {
    if let Some(rest) = topic.strip_prefix("devices/") {
        let base = topic_base(device_id, module_id);
        let own = topic.strip_prefix(base.as_str()).and_then(|r| {
            r.strip_prefix("/messages/events/")
                .or_else(|| (r == "/messages/events").then_some(""))
        });
        return match own {
            Some(properties) => Ok(HubRequest::Telemetry { properties }),
            None => {
                let named = rest.split('/').next().unwrap_or_default();
                if named == device_id {
                    Err(format!("unsupported topic for {base}"))
                } else {
                    Err(format!(
                        "topic names device '{}', not the connected '{device_id}'",
                        named.chars().take(64).collect::<String>()
                    ))
                }
            }
        };
    }
    if let Some(query) = topic.strip_prefix("$iothub/twin/GET/?") {
        return rid_of(query)
            .map(|rid| HubRequest::TwinGet { rid })
            .ok_or_else(|| "twin GET without $rid".into());
    }
    if let Some(query) = topic.strip_prefix("$iothub/twin/PATCH/properties/reported/?") {
        return rid_of(query)
            .map(|rid| HubRequest::TwinPatchReported { rid })
            .ok_or_else(|| "twin PATCH without $rid".into());
    }
    if topic.starts_with("$iothub/methods/res/") {
        return Ok(HubRequest::MethodResponse);
    }
    Err("unsupported topic".into())
}

/// The SUBACK return code for one filter: the granted QoS (at most 1) for the C2D, method and
/// twin topics of this identity, 0x80 (failure) otherwise.
pub fn grant(filter: &str, device_id: &str, module_id: Option<&str>, requested: u8) -> u8 {
    let base = topic_base(device_id, module_id);
    let allowed = filter == "$iothub/twin/res/#"
        || filter == "$iothub/twin/PATCH/properties/desired/#"
        || filter == "$iothub/methods/POST/#"
        || filter == format!("{base}/messages/devicebound/#")
        || filter == format!("{base}/#")
        || filter == format!("{base}/inputs/#");
    if allowed { requested.min(1) } else { 0x80 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn telemetry_topics_of_the_sdks() {
        assert_eq!(
            classify("devices/dev1/messages/events/", "dev1", None),
            Ok(HubRequest::Telemetry { properties: "" })
        );
        assert_eq!(
            classify(
                "devices/dev1/messages/events/%24.ct=application%2Fjson&%24.ce=utf-8&a=1",
                "dev1",
                None
            ),
            Ok(HubRequest::Telemetry {
                properties: "%24.ct=application%2Fjson&%24.ce=utf-8&a=1"
            })
        );
        assert_eq!(
            classify("devices/d/modules/m/messages/events/x=1", "d", Some("m")),
            Ok(HubRequest::Telemetry { properties: "x=1" })
        );
        assert!(
            classify("devices/dev2/messages/events/", "dev1", None)
                .unwrap_err()
                .contains("dev2")
        );
        assert!(classify("devices/d/messages/events/", "d", Some("m")).is_err());
        assert!(classify("foo/bar", "d", None).is_err());
    }

    #[test]
    fn twin_topics() {
        assert_eq!(
            classify("$iothub/twin/GET/?$rid=7", "d", None),
            Ok(HubRequest::TwinGet { rid: "7" })
        );
        assert_eq!(
            classify(
                "$iothub/twin/PATCH/properties/reported/?$rid=a&x=1",
                "d",
                None
            ),
            Ok(HubRequest::TwinPatchReported { rid: "a" })
        );
        assert!(classify("$iothub/twin/GET/?", "d", None).is_err());
    }

    #[test]
    fn subscriptions() {
        assert_eq!(grant("$iothub/twin/res/#", "d", None, 1), 1);
        assert_eq!(grant("devices/d/messages/devicebound/#", "d", None, 1), 1);
        assert_eq!(
            grant("devices/e/messages/devicebound/#", "d", None, 1),
            0x80
        );
        assert_eq!(grant("#", "d", None, 0), 0x80);
    }
}
