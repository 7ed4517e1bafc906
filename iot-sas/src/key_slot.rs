//! The two keys every identity, policy and enrollment holds, and the order they are tried in
//! (reference §1.4.3).

use core::fmt;

use crate::{MacKey, SasToken};

/// Which of a pair of keys: every IoT Hub identity and policy, and every DPS enrollment, holds
/// a primary and a secondary key (reference §1.4.3, §8.1).
///
/// `Display` and [`as_str`](Self::as_str) write `primary` / `secondary`; with the `serde`
/// feature it is (de)serialized with the same words.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(rename_all = "camelCase")
)]
pub enum KeySlot {
    /// The primary key.
    Primary,
    /// The secondary key (tried only after the primary failed, §1.4.3).
    Secondary,
}

impl KeySlot {
    /// `primary` or `secondary`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Primary => "primary",
            Self::Secondary => "secondary",
        }
    }

    /// Which key produced the token's MAC: the primary first, then the secondary, each
    /// compared in constant time ([`MacKey::verify`], reference §1.4.1-3). `None` when
    /// neither did. The one home of the "try both keys" rule: [`Verifier`](crate::Verifier),
    /// the hub's identities and policies and DPS enrollments all call it.
    pub fn that_signed(
        token: &SasToken<'_>,
        primary: &MacKey,
        secondary: Option<&MacKey>,
    ) -> Option<Self> {
        if primary.verify(token).is_ok() {
            return Some(Self::Primary);
        }
        match secondary {
            Some(secondary) if secondary.verify(token).is_ok() => Some(Self::Secondary),
            _ => None,
        }
    }
}

impl fmt::Display for KeySlot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SharedAccessKey;

    // reference §1.8, complete vector row 1 (V1 key).
    const V1_KEY: &str = "NMgJDvdKTxjLi+xBxxkDDEwDJxEvOE5u8BiT0mVgPeg=";
    const TOKEN: &str = "SharedAccessSignature sr=myiothub.azure-devices.net%2Fdevices%2Fmy_device&sig=dIMMdDDBGFR8eqAfYkiMxoOphaFMPtMgj7Wg%2FYB1AvU%3D&se=1578941692";

    #[test]
    fn primary_first_then_secondary() {
        let token = SasToken::parse(TOKEN).unwrap();
        let v1 = SharedAccessKey::from_base64(V1_KEY).unwrap().mac_key();
        let other = MacKey::from_bytes(b"other").unwrap();
        assert_eq!(
            KeySlot::that_signed(&token, &v1, Some(&v1)),
            Some(KeySlot::Primary)
        );
        assert_eq!(
            KeySlot::that_signed(&token, &other, Some(&v1)),
            Some(KeySlot::Secondary)
        );
        assert_eq!(KeySlot::that_signed(&token, &other, Some(&other)), None);
        assert_eq!(KeySlot::that_signed(&token, &other, None), None);
        assert_eq!(std::format!("{}", KeySlot::Primary), "primary");
        assert_eq!(KeySlot::Secondary.as_str(), "secondary");
    }
}
