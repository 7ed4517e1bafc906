//! Errors keep their cause (issue 13 item 4): from an import error and a TLS error,
//! `source()` leads to the library error that caused it, with its details intact.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    missing_docs,
    unreachable_pub
)]

use std::error::Error as _;
use std::path::{Path, PathBuf};

use iot_server::engine::import::read_import;
use iot_server::engine::realm::Realm;
use iot_server::store::{HubState, Snapshot, SqliteStore, StoreError};
use iot_server::tls::TlsSetup;
use iot_server::{Error, ImportProblem, StateProblem, TlsProblem, TlsSource};

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "iot-server-error-sources-{name}-{}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples")
}

/// Every error of the chain that starts at `error`, `error` first.
fn chain<'a>(
    error: &'a (dyn std::error::Error + 'static),
) -> Vec<&'a (dyn std::error::Error + 'static)> {
    std::iter::successors(Some(error), |&e| e.source()).collect()
}

#[test]
fn a_file_that_is_not_json_leads_to_serde_jsons_error_with_line_and_column() {
    let dir = temp_dir("not-json");
    let path = dir.join("bad.json");
    std::fs::write(&path, "{\n  \"hostName\": \"h.net\",\n  oops\n}\n").unwrap();
    let err = read_import(&path).unwrap_err();
    let Error::Import {
        path: named,
        reason,
    } = &err
    else {
        panic!("not an import error: {err:?}")
    };
    assert_eq!(named, &path);
    assert!(matches!(**reason, ImportProblem::NotJson(_)), "{reason:?}");
    assert_eq!(
        err.to_string(),
        format!("{}: {reason}", path.display()),
        "the path, then the reason"
    );
    assert!(err.to_string().contains(": not JSON: "), "{err}");
    let json = chain(&err)
        .into_iter()
        .find_map(|e| e.downcast_ref::<serde_json::Error>())
        .expect("serde_json's error is in the chain");
    assert!(json.is_syntax(), "{json}");
    assert_eq!((json.line(), json.column()), (3, 3), "{json}");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_hub_file_breaking_a_hub_auth_rule_leads_to_iot_hub_auths_error() {
    let mut hub: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(examples().join("hub.json")).unwrap())
            .unwrap();
    // Two identities with the same device ID: a registry rule, checked when the hub is built.
    let first = hub["identities"][0].clone();
    hub["identities"].as_array_mut().unwrap().push(first);
    let dir = temp_dir("hub-rule");
    let path = dir.join("hub.json");
    std::fs::write(&path, hub.to_string()).unwrap();
    let err = read_import(&path).unwrap_err();
    let Error::Import { reason, .. } = &err else {
        panic!("not an import error: {err:?}")
    };
    let ImportProblem::HubRule(rule) = &**reason else {
        panic!("not a hub rule: {reason:?}")
    };
    assert!(err.to_string().contains(": hub file: "), "{err}");
    let found = chain(&err)
        .into_iter()
        .find_map(|e| e.downcast_ref::<iot_hub_auth::Error>())
        .expect("iot-hub-auth's error is in the chain");
    assert_eq!(found.to_string(), rule.to_string());
    assert!(
        err.to_string().ends_with(&found.to_string()),
        "the text still ends with the rule: {err}"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_key_file_that_is_not_a_key_leads_to_the_pem_error_naming_the_file() {
    let dir = temp_dir("tls-key");
    let cert = examples().join("certs/root-ec.pem");
    // A certificate where the key should be: PEM, but no private key in it.
    let key = dir.join("not-a-key.pem");
    std::fs::copy(&cert, &key).unwrap();
    let source = TlsSource::Files {
        cert: cert.clone(),
        key: key.clone(),
    };
    let err = TlsSetup::prepare(&dir, &source, &[]).unwrap_err();
    let Error::Tls(TlsProblem::Pem { file, .. }) = &err else {
        panic!("not a PEM problem: {err:?}")
    };
    assert_eq!(file, &key);
    assert_eq!(
        err.to_string(),
        format!("tls: {}: no items found", key.display())
    );
    let pem = chain(&err)
        .into_iter()
        .find_map(|e| e.downcast_ref::<rustls::pki_types::pem::Error>())
        .expect("the PEM error is in the chain");
    assert!(
        matches!(pem, rustls::pki_types::pem::Error::NoItemsFound),
        "{pem:?}"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_missing_state_directory_and_a_database_failure_are_told_apart() {
    let dir = temp_dir("store");
    let err = SqliteStore::open_existing(&dir).unwrap_err();
    let StoreError::NotAStateDirectory { path } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(path, &dir.join("iot-server.sqlite3"));
    assert_eq!(
        err.to_string(),
        format!(
            "database: {} does not exist (not a state directory)",
            path.display()
        )
    );
    // A directory where the database file should be: SQLite cannot open it.
    let err = SqliteStore::open_file(&dir).unwrap_err();
    assert!(matches!(err, StoreError::Database(_)), "{err:?}");
    let sqlite = err
        .source()
        .and_then(|e| e.downcast_ref::<rusqlite::Error>())
        .expect("rusqlite's error is the source");
    assert_eq!(err.to_string(), format!("database: {sqlite}"));
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_dps_file_breaking_a_dps_rule_leads_to_iot_dps_services_error() {
    let mut dps: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(examples().join("dps.json")).unwrap())
            .unwrap();
    // The same individual enrollment twice: a rule of the provisioning service.
    let first = dps["enrollments"][0].clone();
    dps["enrollments"].as_array_mut().unwrap().push(first);
    let dir = temp_dir("dps-rule");
    let path = dir.join("dps.json");
    std::fs::write(&path, dps.to_string()).unwrap();
    let err = read_import(&path).unwrap_err();
    let Error::Import { reason, .. } = &err else {
        panic!("not an import error: {err:?}")
    };
    assert!(matches!(**reason, ImportProblem::DpsRule(_)), "{reason:?}");
    assert!(err.to_string().contains(": dps file: "), "{err}");
    assert!(
        chain(&err)
            .into_iter()
            .any(|e| e.downcast_ref::<iot_dps_service::Error>().is_some()),
        "iot-dps-service's error is in the chain: {err}"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn stored_state_breaking_a_hub_rule_leads_to_iot_hub_auths_error() {
    let doc: iot_hub_auth::HubDocument =
        serde_json::from_str(&std::fs::read_to_string(examples().join("hub.json")).unwrap())
            .unwrap();
    let mut identities = doc.identities.clone();
    identities.push(identities[0].clone());
    let snapshot = Snapshot {
        hubs: vec![(HubState::from_document(&doc), identities)],
        ..Snapshot::default()
    };
    let err = Realm::from_snapshot(snapshot).unwrap_err();
    let Error::State(StateProblem::Hub { host, reason }) = &err else {
        panic!("not a hub state problem: {err:?}")
    };
    assert_eq!(host, &doc.host_name);
    assert_eq!(
        err.to_string(),
        format!("invalid state: hub {host}: {reason}")
    );
    let found = err
        .source()
        .and_then(|e| e.source())
        .and_then(|e| e.downcast_ref::<iot_hub_auth::Error>())
        .expect("iot-hub-auth's error two steps down");
    assert_eq!(found.to_string(), reason.to_string());
}
