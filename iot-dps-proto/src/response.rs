//! One transport-agnostic view of a DPS answer, from MQTT or HTTPS (reference §5.2, §5.6).

use alloc::boxed::Box;

use crate::json;
use crate::{Error, ErrorBody, RegistrationOperationStatus, ResponseTopic};

/// A DPS answer: status code, request ID, `retry-after` and the raw body.
///
/// Build it with [`Response::from_mqtt`] or [`Response::from_http`], then hand it to
/// [`ProvisioningClient::handle_response`](crate::ProvisioningClient::handle_response) or decode
/// the body yourself with [`Response::decode`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Response<'a> {
    /// HTTP-style status code (MQTT carries it in the topic).
    pub status: u16,
    /// MQTT `$rid`, raw; `None` over HTTPS, where request and response are paired by the
    /// connection itself.
    pub rid: Option<&'a str>,
    /// Seconds to wait before the next request, if the service said so.
    pub retry_after: Option<u32>,
    /// The body (JSON, possibly empty).
    pub body: &'a [u8],
}

/// A decoded response body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResponseBody {
    /// A 2xx answer: the operation status.
    Operation(Box<RegistrationOperationStatus>),
    /// A non-2xx answer: the error body, `None` when the body is empty or not an error body
    /// (a proxy's HTML page, say). The status code still tells what happened.
    Error(Option<ErrorBody>),
}

impl<'a> Response<'a> {
    /// From a received MQTT publish: the topic gives status, `$rid` and `retry-after`.
    ///
    /// # Errors
    /// The [`ResponseTopic::parse`] errors; the body is not looked at here.
    pub fn from_mqtt(topic: &'a str, payload: &'a [u8]) -> Result<Self, Error> {
        let t = ResponseTopic::parse(topic)?;
        Ok(Self {
            status: t.status,
            rid: t.rid,
            retry_after: t.retry_after,
            body: payload,
        })
    }

    /// From an HTTPS response: status, the `Retry-After` header value (integer seconds; an
    /// HTTP-date or garbage reads as absent, like iot-sdk-c, reference §5.5) and the body.
    pub fn from_http(status: u16, retry_after_header: Option<&str>, body: &'a [u8]) -> Self {
        Self {
            status,
            rid: None,
            retry_after: retry_after_header.and_then(parse_retry_after_header),
            body,
        }
    }

    /// True for 2xx.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// Decodes the body according to the status: 2xx is a [`RegistrationOperationStatus`],
    /// anything else an optional [`ErrorBody`].
    ///
    /// # Errors
    /// For 2xx: [`Error::PayloadTooLarge`], [`Error::JsonTooDeep`], [`Error::InvalidJson`].
    /// For other statuses only the size and depth bounds are errors.
    pub fn decode(&self) -> Result<ResponseBody, Error> {
        if self.is_success() {
            return RegistrationOperationStatus::from_slice(self.body)
                .map(|op| ResponseBody::Operation(Box::new(op)));
        }
        json::check_json_bounds(self.body)?;
        if json::is_blank(self.body) {
            return Ok(ResponseBody::Error(None));
        }
        Ok(ResponseBody::Error(ErrorBody::from_slice(self.body).ok()))
    }
}

/// Parses an HTTP `Retry-After` header given in seconds (RFC 9110 §10.2.3 delay-seconds);
/// surrounding whitespace is ignored, an HTTP-date or anything else is `None`.
pub fn parse_retry_after_header(value: &str) -> Option<u32> {
    let v = value.trim();
    if v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    // Saturate absurd values; the client clamps anyway.
    Some(v.parse::<u32>().unwrap_or(u32::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::RegistrationStatus;

    #[test]
    fn mqtt_response_decodes_operation_and_error() {
        let r = Response::from_mqtt(
            "$dps/registrations/res/202/?$rid=1&retry-after=3",
            br#"{"operationId":"op","status":"assigning"}"#,
        )
        .unwrap();
        assert_eq!(r.retry_after, Some(3));
        let ResponseBody::Operation(op) = r.decode().unwrap() else {
            panic!()
        };
        assert_eq!(op.status, RegistrationStatus::Assigning);

        let r = Response::from_mqtt(
            "$dps/registrations/res/401/?$rid=1",
            br#"{"errorCode":401002,"trackingId":"t","message":"Invalid certificate.","timestampUtc":"x"}"#,
        )
        .unwrap();
        let ResponseBody::Error(Some(e)) = r.decode().unwrap() else {
            panic!()
        };
        assert_eq!(e.error_code, Some(401002));
        let r = Response {
            status: 503,
            rid: None,
            retry_after: None,
            body: b"<html>",
        };
        assert_eq!(r.decode().unwrap(), ResponseBody::Error(None));
        let r = Response {
            status: 500,
            rid: None,
            retry_after: None,
            body: b" ",
        };
        assert_eq!(r.decode().unwrap(), ResponseBody::Error(None));
    }

    #[test]
    fn http_retry_after_header_seconds_only() {
        assert_eq!(parse_retry_after_header("3"), Some(3));
        assert_eq!(parse_retry_after_header(" 120 "), Some(120));
        assert_eq!(
            parse_retry_after_header("Wed, 21 Oct 2015 07:28:00 GMT"),
            None
        );
        assert_eq!(parse_retry_after_header("-1"), None);
        assert_eq!(parse_retry_after_header("99999999999"), Some(u32::MAX));
        let r = Response::from_http(202, Some("3"), b"{}");
        assert_eq!((r.status, r.rid, r.retry_after), (202, None, Some(3)));
    }
}
