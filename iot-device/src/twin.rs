//! Device twin over MQTT: the request topics and the response topic parser (IoT Hub MQTT
//! docs "Retrieving a device twin's properties" / "Update device twin's reported properties";
//! the same topics as the Python SDK's `mqtt_topic_iothub.py`).

/// Responses to twin requests arrive under this filter.
pub const TWIN_RESPONSE_FILTER: &str = "$iothub/twin/res/#";
const TWIN_RESPONSE_PREFIX: &str = "$iothub/twin/res/";

/// `$iothub/twin/GET/?$rid={rid}`: ask for the whole twin.
pub fn get_twin_topic(rid: u32) -> String {
    format!("$iothub/twin/GET/?$rid={rid}")
}

/// `$iothub/twin/PATCH/properties/reported/?$rid={rid}`: patch reported properties.
pub fn patch_reported_topic(rid: u32) -> String {
    format!("$iothub/twin/PATCH/properties/reported/?$rid={rid}")
}

/// A twin response topic `$iothub/twin/res/{status}/?$rid={rid}[&$version={v}]`, parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TwinResponse<'a> {
    /// HTTP-style status: 200 for GET, 204 for PATCH.
    pub status: u16,
    /// The request ID echoed, raw.
    pub rid: &'a str,
    /// The twin's new reported version after a PATCH.
    pub version: Option<u64>,
}

impl<'a> TwinResponse<'a> {
    /// Parses a response topic; `None` for anything else (query keys in any order, unknown
    /// keys ignored).
    pub fn parse(topic: &'a str) -> Option<Self> {
        let rest = topic.strip_prefix(TWIN_RESPONSE_PREFIX)?;
        let (status, query) = rest.split_once("/?")?;
        let status = status.parse().ok()?;
        let mut rid = None;
        let mut version = None;
        for pair in query.split('&') {
            match pair.split_once('=') {
                Some(("$rid", v)) => rid = Some(v),
                Some(("$version", v)) => version = v.parse().ok(),
                _ => {}
            }
        }
        Some(Self {
            status,
            rid: rid?,
            version,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topics_and_responses() {
        assert_eq!(get_twin_topic(3), "$iothub/twin/GET/?$rid=3");
        assert_eq!(
            patch_reported_topic(4),
            "$iothub/twin/PATCH/properties/reported/?$rid=4"
        );
        assert_eq!(
            TwinResponse::parse("$iothub/twin/res/204/?$rid=4&$version=7"),
            Some(TwinResponse {
                status: 204,
                rid: "4",
                version: Some(7)
            })
        );
        assert_eq!(
            TwinResponse::parse("$iothub/twin/res/200/?$version=2&$rid=3"),
            Some(TwinResponse {
                status: 200,
                rid: "3",
                version: Some(2)
            })
        );
        assert_eq!(TwinResponse::parse("$iothub/twin/res/200/"), None);
        assert_eq!(TwinResponse::parse("$iothub/twin/res/abc/?$rid=1"), None);
        assert_eq!(TwinResponse::parse("devices/x/messages/devicebound/"), None);
    }
}
