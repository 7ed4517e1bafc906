//! Reading a hub file strictly: settings, policies, CAs and identities in Azure's JSON shapes
//! (`iot_hub_auth::HubDocument`).
//!
//! * A value of the wrong shape names its path: `identities[2].authentication.type: unknown
//!   variant ...`, not "invalid JSON".
//! * An unknown top-level setting (a misspelt `x509CaOverWebsockets`) is an error with a
//!   suggestion; unknown keys inside identities and certificates are Azure's own extra fields
//!   (`etag`, `cloudToDeviceMessageCount`, ...) and are ignored.
//! * `identities` may hold the array `az iot hub device-identity list` prints: entries with
//!   `authenticationType` (twin shape) instead of `authentication`.

use std::path::Path;

use iot_hub_auth::{HubDocument, HubSettings, InMemoryRegistry};
use serde_json::{Map, Value};

use crate::exit::Failure;
use crate::input::{file_path, read_text};

/// Top-level keys read besides the document's own field names.
const EXTRA_KEYS: &[&str] = &["sharedAccessPolicies", "devices", "$schema"];

/// Reads, checks and builds a hub file (`-` = stdin).
pub(crate) fn load(path: &Path) -> Result<(HubSettings, InMemoryRegistry), Failure> {
    let name = file_path(path).display().to_string();
    let bad = |reason: &'static str, message: String| {
        Failure::bad(reason, format_args!("--hub {name}: {message}"))
    };
    let text = read_text("--hub", path)?;
    from_text(&text).map_err(|(reason, message)| bad(reason, message))
}

/// Checks and builds a hub file's text; the error is `(reason, message)`.
fn from_text(text: &str) -> Result<(HubSettings, InMemoryRegistry), (&'static str, String)> {
    let bad = |reason: &'static str, message: String| (reason, message);
    let mut value: Value = serde_json::from_str(text)
        .map_err(|err| bad("invalid_json", format!("not valid JSON: {err}")))?;
    let Some(object) = value.as_object_mut() else {
        let hint = if value.is_array() {
            "; an identity list (`az iot hub device-identity list`) goes under \"identities\" \
             in a hub file with \"hostName\""
        } else {
            ""
        };
        return Err(bad(
            "invalid_hub",
            format!("expected a JSON object with \"hostName\"{hint}"),
        ));
    };
    check_keys(object).map_err(|message| bad("unknown_setting", message))?;
    for list in ["identities", "devices"] {
        if let Some(Value::Array(items)) = object.get_mut(list) {
            items.iter_mut().for_each(from_twin_shape);
        }
    }
    let doc: HubDocument = serde_path_to_error::deserialize(value).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        if path == "." {
            bad("invalid_hub", inner.to_string())
        } else {
            bad("invalid_hub", format!("{path}: {inner}"))
        }
    })?;
    doc.build()
        .map_err(|err| bad("invalid_hub", err.to_string()))
}

/// The document's top-level field names, taken from the type itself so they cannot drift.
fn known_keys() -> Vec<String> {
    let minimal = serde_json::json!({ "hostName": "" });
    let fields = serde_json::from_value::<HubDocument>(minimal)
        .ok()
        .and_then(|doc| serde_json::to_value(doc).ok())
        .and_then(|v| v.as_object().map(|m| m.keys().cloned().collect::<Vec<_>>()))
        .unwrap_or_default();
    fields
        .into_iter()
        .chain(EXTRA_KEYS.iter().map(|k| (*k).to_owned()))
        .collect()
}

fn check_keys(object: &Map<String, Value>) -> Result<(), String> {
    let known = known_keys();
    let unknown: Vec<&String> = object.keys().filter(|k| !known.contains(k)).collect();
    let Some(first) = unknown.first() else {
        return Ok(());
    };
    let suggestion = suggest(first, &known)
        .map(|s| format!(" (did you mean `{s}`?)"))
        .unwrap_or_default();
    let others = if unknown.len() > 1 {
        format!(" (and {} more unknown settings)", unknown.len() - 1)
    } else {
        String::new()
    };
    Err(format!(
        "unknown setting `{first}`{suggestion}{others}; known settings: {}",
        known
            .iter()
            .filter(|k| !k.starts_with('$'))
            .map(String::as_str)
            .collect::<Vec<_>>()
            .join(", ")
    ))
}

/// The known key closest to `word`: equal ignoring case, else the best Jaro-Winkler match.
fn suggest<'a>(word: &str, known: &'a [String]) -> Option<&'a str> {
    if let Some(same) = known.iter().find(|k| k.eq_ignore_ascii_case(word)) {
        return Some(same);
    }
    known
        .iter()
        .map(|k| {
            (
                strsim::jaro_winkler(&k.to_lowercase(), &word.to_lowercase()),
                k,
            )
        })
        .filter(|(score, _)| *score > 0.85)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, k)| k.as_str())
}

/// Rewrites a twin-shaped entry (`authenticationType`, `x509Thumbprint` at the top, as
/// `az iot hub device-identity list` prints) into the identity shape (`authentication`).
fn from_twin_shape(item: &mut Value) {
    let Some(entry) = item.as_object_mut() else {
        return;
    };
    if entry.contains_key("authentication") {
        return;
    }
    let Some(kind) = entry.remove("authenticationType") else {
        return;
    };
    let mut auth = Map::new();
    auth.insert("type".to_owned(), kind);
    if let Some(thumbprints) = entry.remove("x509Thumbprint") {
        auth.insert("x509Thumbprint".to_owned(), thumbprints);
    }
    entry.insert("authentication".to_owned(), Value::Object(auth));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_come_from_the_document_type() {
        let known = known_keys();
        for key in [
            "hostName",
            "x509CaOverWebSockets",
            "identities",
            "disableDeviceSAS",
        ] {
            assert!(known.iter().any(|k| k == key), "{key} in {known:?}");
        }
        assert_eq!(
            suggest("x509CaOverWebsockets", &known),
            Some("x509CaOverWebSockets")
        );
        assert_eq!(
            suggest("disableLocalAuht", &known),
            Some("disableLocalAuth")
        );
        assert_eq!(suggest("zzz", &known), None);
    }

    proptest::proptest! {
        /// Hostile hub-file text is an error, never a panic (the CLI's own part: key check,
        /// twin-shape rewrite, path-naming deserialization).
        #[test]
        fn any_text_is_an_answer_not_a_panic(text in ".{0,200}") {
            let _ = from_text(&text);
        }

        #[test]
        fn any_json_object_is_an_answer_not_a_panic(
            keys in proptest::collection::vec("[a-zA-Z$]{1,24}", 0..6),
            twin in proptest::bool::ANY,
        ) {
            let mut doc = Map::new();
            doc.insert("hostName".into(), "h.azure-devices.net".into());
            for key in &keys {
                doc.insert(key.clone(), Value::Null);
            }
            let entry = if twin {
                serde_json::json!({"deviceId": "d", "authenticationType": "selfSigned"})
            } else {
                serde_json::json!({"deviceId": "d", "authentication": 3})
            };
            doc.insert("identities".into(), Value::Array(vec![entry]));
            let _ = from_text(&Value::Object(doc).to_string());
        }
    }
}
