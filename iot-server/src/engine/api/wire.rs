//! What goes back on the wire: statuses, JSON bodies in the services' shapes, error bodies
//! that say no more than the caller may know, etags and `If-Match`.
//!
//! IoT Hub errors are `{"Message":"ErrorCode:{code};{text}","ExceptionMessage":""}`; DPS
//! errors are `{"errorCode":N,"trackingId":"","message":"...","timestampUtc":"..."}` with the
//! six-digit codes of reference azure-iot-protocol.md §5.4.

use base64::Engine as _;
use serde::Serialize;

/// An HTTP answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiResponse {
    /// Status code.
    pub status: u16,
    /// Extra headers (`ETag`, `Retry-After`); `Content-Type` is implied by a non-empty body.
    pub headers: Vec<(&'static str, String)>,
    /// JSON body, or empty.
    pub body: Vec<u8>,
}

impl ApiResponse {
    /// A status with no body (204, 405, ...).
    pub fn empty(status: u16) -> Self {
        Self {
            status,
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    /// A status with a JSON body.
    pub fn json(status: u16, value: &impl Serialize) -> Self {
        Self {
            status,
            headers: Vec::new(),
            body: serde_json::to_vec(value).unwrap_or_default(),
        }
    }

    /// Adds a header.
    #[must_use]
    pub fn with_header(mut self, name: &'static str, value: String) -> Self {
        self.headers.push((name, value));
        self
    }

    /// An IoT Hub error body.
    pub fn hub_error(status: u16, code: &str, text: &str) -> Self {
        Self::json(
            status,
            &serde_json::json!({
                "Message": format!("ErrorCode:{code};{text}"),
                "ExceptionMessage": "",
            }),
        )
    }

    /// A DPS error body.
    pub fn dps_error(status: u16, code: u32, text: &str, now_ms: u64) -> Self {
        Self::json(
            status,
            &serde_json::json!({
                "errorCode": code,
                "trackingId": "",
                "message": text,
                "timestampUtc": iso8601_ms(now_ms),
            }),
        )
    }
}

/// Unix milliseconds as `2026-12-02T16:14:05.123Z`.
pub fn iso8601_ms(ms: u64) -> String {
    let secs = i64::try_from(ms / 1000).unwrap_or(i64::MAX);
    let frac = ms % 1000;
    let Ok(t) = time::OffsetDateTime::from_unix_timestamp(secs) else {
        return "0001-01-01T00:00:00Z".into();
    };
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{frac:03}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// The etag of a value: base64 of the first 9 bytes of the SHA-256 of its JSON, so it
/// changes whenever the value does and needs no stored counter. Sent bare in bodies and
/// quoted in the `ETag` header (RFC 9110 §8.8.3).
pub fn etag_of(value: &impl Serialize) -> String {
    let json = serde_json::to_vec(value).unwrap_or_default();
    let digest = ring::digest::digest(&ring::digest::SHA256, &json);
    base64::engine::general_purpose::STANDARD.encode(&digest.as_ref()[..9])
}

/// What an `If-Match` header asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IfMatch {
    /// No header: create (PUT) or unconditional (DELETE).
    Absent,
    /// `*` (the SDKs send `"*"` with the quotes): the resource must exist.
    Any,
    /// This etag (quotes and a `W/` prefix removed).
    Etag(String),
}

impl IfMatch {
    /// From the header value.
    pub fn parse(header: Option<&str>) -> Self {
        let Some(text) = header.map(str::trim).filter(|t| !t.is_empty()) else {
            return Self::Absent;
        };
        let text = text.strip_prefix("W/").unwrap_or(text);
        let bare = text
            .strip_prefix('"')
            .and_then(|t| t.strip_suffix('"'))
            .unwrap_or(text);
        if bare == "*" {
            Self::Any
        } else {
            Self::Etag(bare.to_owned())
        }
    }

    /// Whether a resource whose etag is `current` (`None`: absent) satisfies the condition.
    /// `Absent` is always satisfied; the caller decides what absent means.
    pub fn matches(&self, current: Option<&str>) -> bool {
        match self {
            Self::Absent => true,
            Self::Any => current.is_some(),
            Self::Etag(tag) => current == Some(tag.as_str()),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn if_match_spellings() {
        assert_eq!(IfMatch::parse(None), IfMatch::Absent);
        assert_eq!(IfMatch::parse(Some("  ")), IfMatch::Absent);
        assert_eq!(IfMatch::parse(Some("\"*\"")), IfMatch::Any);
        assert_eq!(IfMatch::parse(Some("*")), IfMatch::Any);
        assert_eq!(
            IfMatch::parse(Some("W/\"AAAA\"")),
            IfMatch::Etag("AAAA".into())
        );
        assert!(IfMatch::Any.matches(Some("x")));
        assert!(!IfMatch::Any.matches(None));
        assert!(IfMatch::Etag("x".into()).matches(Some("x")));
        assert!(!IfMatch::Etag("x".into()).matches(Some("y")));
        assert!(!IfMatch::Etag("x".into()).matches(None));
    }

    #[test]
    fn etags_follow_content() {
        let a = etag_of(&serde_json::json!({"deviceId": "d", "status": "enabled"}));
        let b = etag_of(&serde_json::json!({"deviceId": "d", "status": "disabled"}));
        assert_eq!(a.len(), 12);
        assert_ne!(a, b);
        assert_eq!(
            a,
            etag_of(&serde_json::json!({"deviceId": "d", "status": "enabled"}))
        );
    }

    #[test]
    fn timestamps() {
        assert_eq!(iso8601_ms(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(iso8601_ms(1_796_177_053_250), "2026-12-02T02:04:13.250Z");
    }
}
