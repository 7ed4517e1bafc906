//! Token text made safe for logs and `Debug` output.

use core::fmt;

use crate::SasToken;
use crate::token::PREFIX;

/// A SAS token text as it may appear in logs and `Debug` output: `sr`, `se` and `skn` as
/// received, the signature replaced by `<redacted>`.
///
/// A token is a replayable credential until its `se` (DESIGN.md principle 4: never print a full
/// token or signature), so every `Debug` of this workspace that holds one prints it through
/// this type. Text that is not a well-formed token prints only its length, since it may still
/// carry a signature somewhere.
///
/// ```
/// use iot_sas::RedactedToken;
/// let token = "SharedAccessSignature sr=myiothub.azure-devices.net%2Fdevices%2Fmy_device&sig=dIMMdDDBGFR8eqAfYkiMxoOphaFMPtMgj7Wg%2FYB1AvU%3D&se=1578941692";
/// assert_eq!(
///     RedactedToken::new(token).to_string(),
///     "SharedAccessSignature sr=myiothub.azure-devices.net%2Fdevices%2Fmy_device&sig=<redacted>&se=1578941692"
/// );
/// assert_eq!(RedactedToken::new("sig=abc").to_string(), "<redacted: 7 bytes, not a SAS token>");
/// ```
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct RedactedToken<'a>(&'a str);

impl<'a> RedactedToken<'a> {
    /// Wraps a token text (well-formed or not).
    pub fn new(text: &'a str) -> Self {
        Self(text)
    }
}

impl fmt::Display for RedactedToken<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match SasToken::parse(self.0) {
            Ok(token) => {
                write!(
                    f,
                    "{PREFIX}sr={}&sig=<redacted>&se={}",
                    token.resource_raw(),
                    token.expiry_raw()
                )?;
                match token.key_name() {
                    Some(skn) => write!(f, "&skn={skn}"),
                    None => Ok(()),
                }
            }
            Err(_) => write!(f, "<redacted: {} bytes, not a SAS token>", self.0.len()),
        }
    }
}

impl fmt::Debug for RedactedToken<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "\"{self}\"")
    }
}
