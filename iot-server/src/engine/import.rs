//! `--import FILE`: a hub file (`examples/hub.json`: [`iot_hub_auth::HubDocument`]) or a DPS
//! file ([`iot_dps_service::DpsInstance`] JSON plus `enrollments`, `enrollmentGroups` in the
//! DPS REST shapes, `serviceHostName` and `authorizationPolicies`), turned into store writes
//! (upserts). Every rule of the decision crates is checked before anything is written.

use std::path::{Path, PathBuf};

use iot_dps_service::{EnrollmentGroup, IndividualEnrollment, ProvisioningService};
use iot_hub_auth::HubDocument;
use serde::{Deserialize, Serialize};

use crate::error::{Error, ImportProblem};
use crate::store::{DpsState, HubState, Write};

/// Largest import file read (64 MiB).
pub const MAX_IMPORT_SIZE: u64 = 64 << 20;

/// A DPS file: the instance, its service API settings and its enrollments.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DpsFile {
    /// Instance settings, service host and policies.
    #[serde(flatten)]
    pub state: DpsState,
    /// Individual enrollments.
    #[serde(default)]
    pub enrollments: Vec<IndividualEnrollment>,
    /// Enrollment groups.
    #[serde(default)]
    pub enrollment_groups: Vec<EnrollmentGroup>,
}

/// One import file, recognised by its content: `hostName` makes a hub file, `idScope` a DPS
/// file.
#[derive(Clone, Debug, PartialEq)]
pub enum ImportFile {
    /// A hub.
    Hub(HubDocument),
    /// A DPS instance.
    Dps(DpsFile),
}

impl ImportFile {
    /// Parses and validates import text.
    ///
    /// # Errors
    /// What is wrong, with serde_json's or the decision crate's error as its source.
    pub fn parse(text: &str) -> Result<Self, ImportProblem> {
        let value: serde_json::Value =
            serde_json::from_str(text).map_err(ImportProblem::NotJson)?;
        if value.get("hostName").is_some() {
            let doc: HubDocument =
                serde_json::from_value(value).map_err(ImportProblem::HubShape)?;
            doc.build().map_err(ImportProblem::HubRule)?;
            Ok(Self::Hub(doc))
        } else if value.get("idScope").is_some() {
            let file: DpsFile = serde_json::from_value(value).map_err(ImportProblem::DpsShape)?;
            ProvisioningService::load(
                file.state.instance.clone(),
                file.enrollments.clone(),
                file.enrollment_groups.clone(),
            )
            .map_err(ImportProblem::DpsRule)?;
            crate::engine::dps_api::check_policies(&file.state)
                .map_err(ImportProblem::DpsPolicy)?;
            Ok(Self::Dps(file))
        } else {
            Err(ImportProblem::UnknownKind)
        }
    }

    /// The store writes that upsert this file.
    pub fn writes(&self) -> Vec<Write> {
        match self {
            Self::Hub(doc) => {
                let hub = doc.host_name.to_ascii_lowercase();
                let mut writes = vec![Write::Hub(HubState::from_document(doc))];
                writes.extend(doc.identities.iter().map(|identity| Write::Identity {
                    hub: hub.clone(),
                    identity: identity.clone(),
                }));
                writes
            }
            Self::Dps(file) => {
                let mut writes = vec![Write::Dps(file.state.clone())];
                writes.extend(
                    file.enrollment_groups
                        .iter()
                        .cloned()
                        .map(Write::EnrollmentGroup),
                );
                writes.extend(file.enrollments.iter().cloned().map(Write::Enrollment));
                writes
            }
        }
    }
}

/// Reads one import file into store writes.
///
/// # Errors
/// [`Error::Io`] or [`Error::Import`].
pub fn read_import(path: &Path) -> Result<Vec<Write>, Error> {
    let meta = std::fs::metadata(path).map_err(|e| Error::io(path, e))?;
    if meta.len() > MAX_IMPORT_SIZE {
        return Err(import_error(
            path,
            ImportProblem::TooLarge { size: meta.len() },
        ));
    }
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    let file = ImportFile::parse(&text).map_err(|reason| import_error(path, reason))?;
    Ok(file.writes())
}

fn import_error(path: &Path, reason: ImportProblem) -> Error {
    Error::Import {
        path: PathBuf::from(path),
        reason: Box::new(reason),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn the_examples_import() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/");
        let hub =
            ImportFile::parse(&std::fs::read_to_string(format!("{dir}hub.json")).unwrap()).unwrap();
        assert!(matches!(&hub, ImportFile::Hub(doc) if doc.identities.len() == 6));
        // One hub settings write, then one per identity.
        assert_eq!(hub.writes().len(), 7);
        let dps =
            ImportFile::parse(&std::fs::read_to_string(format!("{dir}dps.json")).unwrap()).unwrap();
        let ImportFile::Dps(file) = &dps else {
            panic!("not a dps file")
        };
        assert_eq!(file.state.instance.id_scope, "0ne00000A0A");
        assert_eq!(file.enrollments.len(), 1);
        assert_eq!(file.enrollment_groups.len(), 2);
        assert!(
            !format!("{file:?}").contains(
                file.state.authorization_policies[0]
                    .primary_key
                    .secret_text()
            )
        );
    }

    #[test]
    fn bad_files_are_refused_with_the_reason() {
        let cases = [
            ("[]", "neither a hub file"),
            ("{\"x\": 1}", "neither a hub file"),
            ("not json", "not JSON"),
            ("{\"hostName\": \"\"}", "hub file"),
            (
                r#"{"idScope": "0ne1", "serviceHostName": "d.net", "authorizationPolicies": [
                    {"keyName": "p", "primaryKey": "AAAA", "secondaryKey": "AAAA", "rights": "EnrollmentRead"}]}"#,
                "16..=64 bytes",
            ),
            (
                r#"{"idScope": "0ne1", "serviceHostName": "d.net", "authorizationPolicies": [
                    {"keyName": "p", "primaryKey": "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
                     "secondaryKey": "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=", "rights": "DeviceConnect"}]}"#,
                "unknown right DeviceConnect",
            ),
            (
                r#"{"idScope": "0ne1", "serviceHostName": "d.net", "enrollments": [
                    {"registrationId": "a", "attestation": {"type": "symmetricKey",
                     "symmetricKey": {"primaryKey": "short", "secondaryKey": "short"}}}]}"#,
                "dps file",
            ),
        ];
        for (text, needle) in cases {
            let err = ImportFile::parse(text).unwrap_err().to_string();
            assert!(err.contains(needle), "{text}: {err}");
        }
    }
}
