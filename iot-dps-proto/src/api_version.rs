//! DPS device API versions (reference §5.1).

use core::fmt;

/// The `api-version` a device speaks; goes into the MQTT user name and the HTTPS query.
///
/// [`ApiVersion::DEFAULT`] is `2021-06-01` (iot-sdk-c `PROV_API_VERSION` since 2024,
/// identity-service, docs HTTPS example). Older and preview versions are selectable; a version
/// this crate does not name can be given with [`ApiVersion::custom`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ApiVersion(&'static str);

impl ApiVersion {
    /// `2019-03-31`: docs MQTT page, python, node, csharp, sdk-for-c; first with `payload`.
    pub const V2019_03_31: Self = Self("2019-03-31");
    /// `2021-06-01`: iot-sdk-c, identity-service, docs HTTPS example.
    pub const V2021_06_01: Self = Self("2021-06-01");
    /// `2021-11-01-preview`: client certificate issuance preview (`clientCertificateCsr`).
    pub const V2021_11_01_PREVIEW: Self = Self("2021-11-01-preview");
    /// `2025-07-01-preview`: certificate management preview (`csr`, `issuedCertificateChain`).
    pub const V2025_07_01_PREVIEW: Self = Self("2025-07-01-preview");
    /// The default: [`ApiVersion::V2021_06_01`].
    pub const DEFAULT: Self = Self::V2021_06_01;
    /// Every version this crate names, oldest first.
    pub const KNOWN: [Self; 4] = [
        Self::V2019_03_31,
        Self::V2021_06_01,
        Self::V2021_11_01_PREVIEW,
        Self::V2025_07_01_PREVIEW,
    ];

    /// Any other version string, written as given (e.g. a historical `2018-11-01`).
    pub const fn custom(version: &'static str) -> Self {
        Self(version)
    }

    /// One of [`ApiVersion::KNOWN`], by its text.
    pub fn from_known(text: &str) -> Option<Self> {
        Self::KNOWN.into_iter().find(|v| v.0 == text)
    }

    /// The wire text.
    pub const fn as_str(&self) -> &'static str {
        self.0
    }
}

impl Default for ApiVersion {
    fn default() -> Self {
        Self::DEFAULT
    }
}

impl fmt::Display for ApiVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_is_2021_06_01_and_known_versions_parse() {
        assert_eq!(ApiVersion::default().as_str(), "2021-06-01");
        assert_eq!(
            ApiVersion::from_known("2019-03-31"),
            Some(ApiVersion::V2019_03_31)
        );
        assert_eq!(ApiVersion::from_known("2018-11-01"), None);
        assert_eq!(ApiVersion::custom("2018-11-01").to_string(), "2018-11-01");
    }
}
