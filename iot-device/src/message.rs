//! Device-to-cloud telemetry: the message, its properties and the MQTT topic that carries
//! them (reference §6.1; IoT Hub MQTT `devices/{id}/messages/events/{property_bag}`).

use std::fmt::Write as _;

use bytes::Bytes;
use iot_sas::percent_encode;

use crate::{Error, InvalidInput};

/// IoT Hub's largest device-to-cloud message: 256 KB (Microsoft Learn "IoT Hub quotas and
/// throttling"); bigger ones are refused here rather than by the hub closing the connection.
pub const MAX_MESSAGE_SIZE: usize = 256 * 1024;

/// A telemetry message: a body and its properties.
///
/// System properties use the `$.` names IoT Hub defines (`$.mid` message ID, `$.cid`
/// correlation ID, `$.ct` content type, `$.ce` content encoding); application properties
/// follow, in the order given.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Message {
    /// The body, sent as the PUBLISH payload unchanged.
    pub body: Bytes,
    /// `$.mid`.
    pub message_id: Option<String>,
    /// `$.cid`.
    pub correlation_id: Option<String>,
    /// `$.ct`, e.g. `application/json`.
    pub content_type: Option<String>,
    /// `$.ce`, e.g. `utf-8`.
    pub content_encoding: Option<String>,
    /// Application properties, `name=value`.
    pub properties: Vec<(String, String)>,
}

impl Message {
    /// A message with this body and no properties.
    pub fn new(body: impl Into<Bytes>) -> Self {
        Self {
            body: body.into(),
            ..Self::default()
        }
    }

    /// Adds an application property.
    #[must_use]
    pub fn with_property(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.properties.push((name.into(), value.into()));
        self
    }

    /// Sets `$.ct` and `$.ce` (JSON routing queries need `application/json` and `utf-8`).
    #[must_use]
    pub fn with_content_type(
        mut self,
        content_type: impl Into<String>,
        content_encoding: impl Into<String>,
    ) -> Self {
        self.content_type = Some(content_type.into());
        self.content_encoding = Some(content_encoding.into());
        self
    }

    /// Sets `$.mid`.
    #[must_use]
    pub fn with_message_id(mut self, id: impl Into<String>) -> Self {
        self.message_id = Some(id.into());
        self
    }

    /// The property bag: `key=value` pairs joined by `&`, each name and value percent-encoded.
    pub fn property_bag(&self) -> String {
        let system = [
            ("$.mid", &self.message_id),
            ("$.cid", &self.correlation_id),
            ("$.ct", &self.content_type),
            ("$.ce", &self.content_encoding),
        ];
        let mut bag = String::new();
        // System property names are written as the IoT Hub MQTT docs spell them (`$.ct=`);
        // the Python SDK sends `%24.ct=`, which decodes to the same name.
        for (name, value) in system
            .iter()
            .filter_map(|(k, v)| v.as_deref().map(|v| (*k, v)))
        {
            if !bag.is_empty() {
                bag.push('&');
            }
            let _ = write!(bag, "{name}={}", percent_encode(value));
        }
        for (name, value) in &self.properties {
            if !bag.is_empty() {
                bag.push('&');
            }
            let _ = write!(bag, "{}={}", percent_encode(name), percent_encode(value));
        }
        bag
    }

    /// The PUBLISH topic for this message from `device_id` (or its module).
    ///
    /// # Errors
    /// [`Error::Invalid`] for a body over [`MAX_MESSAGE_SIZE`].
    pub fn topic(&self, device_id: &str, module_id: Option<&str>) -> Result<String, Error> {
        if self.body.len() > MAX_MESSAGE_SIZE {
            return Err(InvalidInput::MessageTooLarge {
                size: self.body.len(),
                max: MAX_MESSAGE_SIZE,
            }
            .into());
        }
        let mut topic = match module_id {
            Some(module) => format!("devices/{device_id}/modules/{module}/messages/events/"),
            None => format!("devices/{device_id}/messages/events/"),
        };
        topic.push_str(&self.property_bag());
        Ok(topic)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topic_with_system_and_application_properties() {
        let m = Message::new("{\"t\":21.5}")
            .with_message_id("m-1")
            .with_content_type("application/json", "utf-8")
            .with_property("alert level", "a/b&c=d")
            .with_property("unit", "°C");
        assert_eq!(
            m.topic("dev1", None).unwrap(),
            "devices/dev1/messages/events/$.mid=m-1&$.ct=application%2Fjson&$.ce=utf-8&alert%20level=a%2Fb%26c%3Dd&unit=%C2%B0C"
        );
        assert_eq!(
            Message::new("x").topic("dev1", Some("mod")).unwrap(),
            "devices/dev1/modules/mod/messages/events/"
        );
    }

    #[test]
    fn oversized_body_is_refused_before_sending() {
        let m = Message::new(vec![b'x'; MAX_MESSAGE_SIZE + 1]);
        assert!(matches!(m.topic("d", None), Err(Error::Invalid(_))));
        let m = Message::new(vec![b'x'; MAX_MESSAGE_SIZE]);
        assert!(m.topic("d", None).is_ok());
    }
}
