//! DPS MQTT topics: the subscribe filter, request topics and response topics (reference §5.2).
//!
//! Builders write into a caller buffer (`write_*`, all or nothing) or return a `String`.
//! Parsers borrow from the topic and never allocate.

use alloc::string::String;
use core::fmt;

use crate::Error;
use crate::text::{decoded_eq, write_into};

/// The only topic filter DPS supports: subscribe to it before publishing (reference §5.2).
pub const SUBSCRIBE_TOPIC_FILTER: &str = "$dps/registrations/res/#";
/// Prefix of every response topic.
pub const RESPONSE_TOPIC_PREFIX: &str = "$dps/registrations/res/";
/// Register request topic up to the query: `...PUT/iotdps-register/?`.
pub const REGISTER_TOPIC_PREFIX: &str = "$dps/registrations/PUT/iotdps-register/?";
/// Operation-status request topic up to the query.
pub const OPERATION_STATUS_TOPIC_PREFIX: &str =
    "$dps/registrations/GET/iotdps-get-operationstatus/?";

/// Checks a value that goes raw into a topic query (`$rid`, `operationId`): non-empty, no
/// `&` (it would split the query), no MQTT wildcard, no whitespace or control character.
pub(crate) fn check_query_value(value: &str, field: &'static str) -> Result<(), Error> {
    if value.is_empty() {
        return Err(Error::Missing { field });
    }
    if value
        .chars()
        .any(|c| matches!(c, '&' | '#' | '+') || c.is_whitespace() || c.is_control())
    {
        return Err(Error::InvalidIdentifier { field });
    }
    Ok(())
}

struct RegisterTopic<'a>(&'a str);
impl fmt::Display for RegisterTopic<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{REGISTER_TOPIC_PREFIX}$rid={}", self.0)
    }
}

struct StatusTopic<'a>(&'a str, &'a str);
impl fmt::Display for StatusTopic<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{OPERATION_STATUS_TOPIC_PREFIX}$rid={}&operationId={}",
            self.0, self.1
        )
    }
}

struct ResponseTopicText<'a>(u16, &'a str, Option<u32>);
impl fmt::Display for ResponseTopicText<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{RESPONSE_TOPIC_PREFIX}{}/?$rid={}", self.0, self.1)?;
        if let Some(secs) = self.2 {
            write!(f, "&retry-after={secs}")?;
        }
        Ok(())
    }
}

/// Writes `$dps/registrations/PUT/iotdps-register/?$rid={rid}` (sdk-for-c
/// `az_iot_provisioning_client_register_get_publish_topic`). `rid` is written raw.
///
/// # Errors
/// [`Error::BufferTooSmall`] (buffer untouched), [`Error::Missing`] / [`Error::InvalidIdentifier`]
/// for an empty `rid` or one containing `&`, `#`, `+`, whitespace or control characters.
pub fn write_register_topic<'b>(rid: &str, out: &'b mut [u8]) -> Result<&'b str, Error> {
    check_query_value(rid, "$rid")?;
    write_into(out, format_args!("{}", RegisterTopic(rid)))
}

/// [`write_register_topic`] into a new `String`.
///
/// # Errors
/// As [`write_register_topic`], without the buffer error.
pub fn register_topic(rid: &str) -> Result<String, Error> {
    check_query_value(rid, "$rid")?;
    Ok(alloc::format!("{}", RegisterTopic(rid)))
}

/// Writes `$dps/registrations/GET/iotdps-get-operationstatus/?$rid={rid}&operationId={id}`
/// (sdk-for-c `az_iot_provisioning_client_query_status_get_publish_topic`). Both values raw.
///
/// # Errors
/// As [`write_register_topic`], for `rid` and `operation_id`.
pub fn write_operation_status_topic<'b>(
    rid: &str,
    operation_id: &str,
    out: &'b mut [u8],
) -> Result<&'b str, Error> {
    check_query_value(rid, "$rid")?;
    check_query_value(operation_id, "operationId")?;
    write_into(out, format_args!("{}", StatusTopic(rid, operation_id)))
}

/// [`write_operation_status_topic`] into a new `String`.
///
/// # Errors
/// As [`write_operation_status_topic`], without the buffer error.
pub fn operation_status_topic(rid: &str, operation_id: &str) -> Result<String, Error> {
    check_query_value(rid, "$rid")?;
    check_query_value(operation_id, "operationId")?;
    Ok(alloc::format!("{}", StatusTopic(rid, operation_id)))
}

/// Writes a response topic `$dps/registrations/res/{status}/?$rid={rid}[&retry-after={secs}]`,
/// the form the service sends (for services and test doubles).
///
/// # Errors
/// [`Error::InvalidStatusCode`] outside 100..=599, otherwise as [`write_register_topic`].
pub fn write_response_topic<'b>(
    status: u16,
    rid: &str,
    retry_after: Option<u32>,
    out: &'b mut [u8],
) -> Result<&'b str, Error> {
    check_response(status, rid)?;
    write_into(
        out,
        format_args!("{}", ResponseTopicText(status, rid, retry_after)),
    )
}

/// [`write_response_topic`] into a new `String`.
///
/// # Errors
/// As [`write_response_topic`], without the buffer error.
pub fn response_topic(status: u16, rid: &str, retry_after: Option<u32>) -> Result<String, Error> {
    check_response(status, rid)?;
    Ok(alloc::format!(
        "{}",
        ResponseTopicText(status, rid, retry_after)
    ))
}

fn check_response(status: u16, rid: &str) -> Result<(), Error> {
    if !(100..=599).contains(&status) {
        return Err(Error::InvalidStatusCode);
    }
    check_query_value(rid, "$rid")
}

/// Splits a topic query into `(key, value)` pairs; empty pairs (`&&`) are skipped, a pair
/// without `=` has an empty value.
fn query_pairs(query: &str) -> impl Iterator<Item = (&str, &str)> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| p.split_once('=').unwrap_or((p, "")))
}

fn is_rid_key(key: &str) -> bool {
    // `$rid` literally includes the `$`; a percent-encoded `%24rid` is the same key.
    decoded_eq(key, "$rid", false)
}

/// A parsed response topic `$dps/registrations/res/{status}/?$rid={rid}&retry-after={secs}`
/// (reference §5.2, §11 item 8).
///
/// Query keys come in any order and may be percent-encoded (`%24rid`); `retry-after` is
/// matched ASCII case-insensitively (csharp); unknown keys are ignored for forward
/// compatibility; `$rid` is opaque and kept exactly as received.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResponseTopic<'a> {
    /// HTTP-style status code: 202 while assigning, 200 with a result, 4xx/5xx on errors.
    pub status: u16,
    /// The request ID exactly as received (possibly percent-encoded); `None` if absent.
    pub rid: Option<&'a str>,
    /// Seconds to wait before the next request; `None` means "use the default interval".
    pub retry_after: Option<u32>,
}

impl<'a> ResponseTopic<'a> {
    /// Parses a response topic.
    ///
    /// # Errors
    /// [`Error::TopicNoMatch`] when the topic is not under [`RESPONSE_TOPIC_PREFIX`],
    /// [`Error::InvalidStatusCode`], [`Error::InvalidRetryAfter`], [`Error::DuplicateKey`].
    pub fn parse(topic: &'a str) -> Result<Self, Error> {
        let rest = topic
            .strip_prefix(RESPONSE_TOPIC_PREFIX)
            .ok_or(Error::TopicNoMatch {
                expected: "$dps/registrations/res/{status}/?...",
            })?;
        let status_end = rest.find(['/', '?']).unwrap_or(rest.len());
        let (status_text, mut tail) = rest.split_at(status_end);
        let status = parse_status(status_text)?;
        if let Some(t) = tail.strip_prefix('/') {
            tail = t;
        }
        let query = match tail.strip_prefix('?') {
            Some(q) => q,
            None if tail.is_empty() => "",
            None => {
                return Err(Error::TopicNoMatch {
                    expected: "$dps/registrations/res/{status}/?...",
                });
            }
        };
        let mut rid = None;
        let mut retry_after = None;
        for (key, value) in query_pairs(query) {
            if is_rid_key(key) {
                if rid.replace(value).is_some() {
                    return Err(Error::DuplicateKey { key: "$rid" });
                }
            } else if decoded_eq(key, "retry-after", true)
                && retry_after.replace(parse_retry_after(value)?).is_some()
            {
                return Err(Error::DuplicateKey { key: "retry-after" });
            }
        }
        Ok(Self {
            status,
            rid,
            retry_after,
        })
    }

    /// True when the topic's `$rid`, percent-decoded, equals `rid`.
    pub fn rid_matches(&self, rid: &str) -> bool {
        self.rid.is_some_and(|raw| decoded_eq(raw, rid, false))
    }
}

fn parse_status(text: &str) -> Result<u16, Error> {
    if text.len() != 3 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Error::InvalidStatusCode);
    }
    text.parse::<u16>()
        .ok()
        .filter(|s| (100..=599).contains(s))
        .ok_or(Error::InvalidStatusCode)
}

/// Parses a `retry-after` value: decimal seconds, possibly percent-encoded, fits `u32`.
fn parse_retry_after(raw: &str) -> Result<u32, Error> {
    let mut value: u32 = 0;
    let mut digits = 0usize;
    for b in iot_sas::percent_decode(raw) {
        if !b.is_ascii_digit() {
            return Err(Error::InvalidRetryAfter);
        }
        value = value
            .checked_mul(10)
            .and_then(|v| v.checked_add(u32::from(b - b'0')))
            .ok_or(Error::InvalidRetryAfter)?;
        digits += 1;
    }
    if digits == 0 {
        return Err(Error::InvalidRetryAfter);
    }
    Ok(value)
}

/// A parsed request topic, as the service receives it (reference §5.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestTopic<'a> {
    /// `$dps/registrations/PUT/iotdps-register/?$rid={rid}`.
    Register {
        /// The request ID, raw.
        rid: &'a str,
    },
    /// `$dps/registrations/GET/iotdps-get-operationstatus/?$rid={rid}&operationId={id}`.
    OperationStatus {
        /// The request ID, raw.
        rid: &'a str,
        /// The operation ID, raw.
        operation_id: &'a str,
    },
}

impl<'a> RequestTopic<'a> {
    /// Parses a request topic; query keys in any order, unknown keys ignored.
    ///
    /// # Errors
    /// [`Error::TopicNoMatch`], [`Error::Missing`] (`$rid`, `operationId`),
    /// [`Error::DuplicateKey`].
    pub fn parse(topic: &'a str) -> Result<Self, Error> {
        let (is_register, query) = if let Some(q) = topic.strip_prefix(REGISTER_TOPIC_PREFIX) {
            (true, q)
        } else if let Some(q) = topic.strip_prefix(OPERATION_STATUS_TOPIC_PREFIX) {
            (false, q)
        } else {
            return Err(Error::TopicNoMatch {
                expected: "a DPS register or operation-status topic",
            });
        };
        let mut rid = None;
        let mut operation_id = None;
        for (key, value) in query_pairs(query) {
            if is_rid_key(key) {
                if rid.replace(value).is_some() {
                    return Err(Error::DuplicateKey { key: "$rid" });
                }
            } else if key == "operationId" && operation_id.replace(value).is_some() {
                return Err(Error::DuplicateKey { key: "operationId" });
            }
        }
        let rid = rid
            .filter(|r| !r.is_empty())
            .ok_or(Error::Missing { field: "$rid" })?;
        if is_register {
            return Ok(Self::Register { rid });
        }
        let operation_id = operation_id
            .filter(|o| !o.is_empty())
            .ok_or(Error::Missing {
                field: "operationId",
            })?;
        Ok(Self::OperationStatus { rid, operation_id })
    }

    /// The request ID, raw.
    pub fn rid(&self) -> &'a str {
        match self {
            Self::Register { rid } | Self::OperationStatus { rid, .. } => rid,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OPERATION_ID: &str = "4.d0a671905ea5b2c8.42d78160-4c78-479e-8be7-61d5e55dac0d";

    #[test]
    fn builds_sdk_for_c_topics() {
        // azure-sdk-for-c test_az_iot_provisioning_client.c
        assert_eq!(
            register_topic("1").unwrap(),
            "$dps/registrations/PUT/iotdps-register/?$rid=1"
        );
        assert_eq!(
            operation_status_topic("1", OPERATION_ID).unwrap(),
            "$dps/registrations/GET/iotdps-get-operationstatus/?$rid=1&operationId=4.d0a671905ea5b2c8.42d78160-4c78-479e-8be7-61d5e55dac0d"
        );
        assert_eq!(
            response_topic(202, "1", Some(3)).unwrap(),
            "$dps/registrations/res/202/?$rid=1&retry-after=3"
        );
        assert_eq!(
            response_topic(200, "7", None).unwrap(),
            "$dps/registrations/res/200/?$rid=7"
        );
    }

    #[test]
    fn writers_report_required_size_and_leave_buffer_untouched() {
        let expected = "$dps/registrations/PUT/iotdps-register/?$rid=1";
        let mut small = [0xCCu8; 45];
        assert_eq!(expected.len(), 46);
        assert_eq!(
            write_register_topic("1", &mut small),
            Err(Error::BufferTooSmall { required: 46 })
        );
        assert!(small.iter().all(|&b| b == 0xCC));
        let mut buf = [0u8; 46];
        assert_eq!(write_register_topic("1", &mut buf), Ok(expected));

        let expected = operation_status_topic("1", OPERATION_ID).unwrap();
        let mut small = vec![0xCCu8; expected.len() - 1];
        assert_eq!(
            write_operation_status_topic("1", OPERATION_ID, &mut small),
            Err(Error::BufferTooSmall {
                required: expected.len()
            })
        );
        assert!(small.iter().all(|&b| b == 0xCC));
        let mut buf = vec![0u8; expected.len()];
        assert_eq!(
            write_operation_status_topic("1", OPERATION_ID, &mut buf),
            Ok(expected.as_str())
        );
        let mut buf = [0u8; 64];
        assert_eq!(
            write_response_topic(429, "9", Some(5), &mut buf),
            Ok("$dps/registrations/res/429/?$rid=9&retry-after=5")
        );
    }

    #[test]
    fn builders_reject_values_that_break_the_topic() {
        assert!(register_topic("").is_err());
        assert!(register_topic("1&operationId=x").is_err());
        assert!(register_topic("a#").is_err());
        assert!(operation_status_topic("1", "op+1").is_err());
        assert!(operation_status_topic("1", "a/b?c").is_ok());
        assert_eq!(response_topic(99, "1", None), Err(Error::InvalidStatusCode));
    }

    #[test]
    fn parses_sdk_for_c_response_topics() {
        // test_az_iot_provisioning_client_parser.c
        let t = ResponseTopic::parse("$dps/registrations/res/202/?$rid=1&retry-after=3").unwrap();
        assert_eq!(
            t,
            ResponseTopic {
                status: 202,
                rid: Some("1"),
                retry_after: Some(3)
            }
        );
        let t = ResponseTopic::parse("$dps/registrations/res/202/?retry-after=120&$rid=1").unwrap();
        assert_eq!(
            t,
            ResponseTopic {
                status: 202,
                rid: Some("1"),
                retry_after: Some(120)
            }
        );
        let t = ResponseTopic::parse("$dps/registrations/res/200/?$rid=1").unwrap();
        assert_eq!(
            t,
            ResponseTopic {
                status: 200,
                rid: Some("1"),
                retry_after: None
            }
        );
        let t = ResponseTopic::parse("$dps/registrations/res/401/?$rid=1").unwrap();
        assert_eq!(t.status, 401);
        assert_eq!(
            ResponseTopic::parse("$dps/registrations/unknown"),
            Err(Error::TopicNoMatch {
                expected: "$dps/registrations/res/{status}/?..."
            })
        );
    }

    #[test]
    fn parses_encoded_uuid_and_case_variants() {
        // python: UUID rid, percent-encoded; csharp: retry-after case-insensitive; integer rid.
        let t = ResponseTopic::parse(
            "$dps/registrations/res/202/?%24rid=6f1e5b8c-1d0a-4b36-9c8e-2f4f7a0b9d11&Retry-After=%32",
        )
        .unwrap();
        assert_eq!(t.rid, Some("6f1e5b8c-1d0a-4b36-9c8e-2f4f7a0b9d11"));
        assert_eq!(t.retry_after, Some(2));
        assert!(t.rid_matches("6f1e5b8c-1d0a-4b36-9c8e-2f4f7a0b9d11"));
        let t = ResponseTopic::parse("$dps/registrations/res/429/?$rid=%31%32&foo=bar").unwrap();
        assert!(t.rid_matches("12"));
        assert!(!t.rid_matches("1"));
        let t = ResponseTopic::parse("$dps/registrations/res/200").unwrap();
        assert_eq!(
            t,
            ResponseTopic {
                status: 200,
                rid: None,
                retry_after: None
            }
        );
    }

    #[test]
    fn rejects_bad_status_retry_after_and_duplicates() {
        for topic in [
            "$dps/registrations/res/2x2/?$rid=1",
            "$dps/registrations/res/20/?$rid=1",
            "$dps/registrations/res/2020/?$rid=1",
            "$dps/registrations/res/600/?$rid=1",
            "$dps/registrations/res//?$rid=1",
        ] {
            assert_eq!(
                ResponseTopic::parse(topic),
                Err(Error::InvalidStatusCode),
                "{topic}"
            );
        }
        for topic in [
            "$dps/registrations/res/202/?$rid=1&retry-after=",
            "$dps/registrations/res/202/?$rid=1&retry-after=-1",
            "$dps/registrations/res/202/?$rid=1&retry-after=1.5",
            "$dps/registrations/res/202/?$rid=1&retry-after=99999999999",
        ] {
            assert_eq!(
                ResponseTopic::parse(topic),
                Err(Error::InvalidRetryAfter),
                "{topic}"
            );
        }
        assert_eq!(
            ResponseTopic::parse("$dps/registrations/res/202/?$rid=1&%24rid=2"),
            Err(Error::DuplicateKey { key: "$rid" })
        );
        assert!(ResponseTopic::parse("$dps/registrations/res/202x").is_err());
    }

    #[test]
    fn parses_request_topics_for_services() {
        assert_eq!(
            RequestTopic::parse("$dps/registrations/PUT/iotdps-register/?$rid=1"),
            Ok(RequestTopic::Register { rid: "1" })
        );
        let text = alloc::format!(
            "$dps/registrations/GET/iotdps-get-operationstatus/?operationId={OPERATION_ID}&$rid=42"
        );
        let t = RequestTopic::parse(&text).unwrap();
        assert_eq!(
            t,
            RequestTopic::OperationStatus {
                rid: "42",
                operation_id: OPERATION_ID
            }
        );
        assert_eq!(t.rid(), "42");
        assert_eq!(
            RequestTopic::parse("$dps/registrations/GET/iotdps-get-operationstatus/?$rid=1"),
            Err(Error::Missing {
                field: "operationId"
            })
        );
        assert_eq!(
            RequestTopic::parse("$dps/registrations/PUT/iotdps-register/?"),
            Err(Error::Missing { field: "$rid" })
        );
        assert!(RequestTopic::parse("$dps/registrations/res/200/?$rid=1").is_err());
    }
}
