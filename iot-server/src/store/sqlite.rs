//! The embedded store: one SQLite database (rusqlite, bundled library) in the state directory,
//! WAL journal with `synchronous = FULL`, so a committed transaction survives a crash of the
//! process or of the machine (SQLite "Atomic Commit", "Write-Ahead Logging" §1.2).

use std::path::Path;

use iot_dps_service::{EnrollmentGroup, IndividualEnrollment, RegistrationRecord};
use iot_hub_auth::DeviceIdentity;
use rusqlite::{Connection, OptionalExtension as _, params};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::{
    DpsState, HubState, Snapshot, Store, StoreError, StoredOperation, StoredTwin, TelemetryFilter,
    TelemetryMessage, Write,
};

/// File name of the database inside the state directory.
pub const DATABASE_FILE: &str = "iot-server.sqlite3";

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS hubs (host TEXT PRIMARY KEY COLLATE NOCASE, json TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS identities (
  hub TEXT NOT NULL COLLATE NOCASE, device_id TEXT NOT NULL, module_id TEXT NOT NULL,
  json TEXT NOT NULL, PRIMARY KEY (hub, device_id, module_id));
CREATE TABLE IF NOT EXISTS twins (
  hub TEXT NOT NULL COLLATE NOCASE, device_id TEXT NOT NULL, module_id TEXT NOT NULL,
  json TEXT NOT NULL, PRIMARY KEY (hub, device_id, module_id));
CREATE TABLE IF NOT EXISTS dps (id INTEGER PRIMARY KEY CHECK (id = 1), json TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS enrollments (id TEXT PRIMARY KEY COLLATE NOCASE, json TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS enrollment_groups (
  id TEXT PRIMARY KEY COLLATE NOCASE, json TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS records (id TEXT PRIMARY KEY COLLATE NOCASE, json TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS operations (
  id TEXT PRIMARY KEY, registration_id TEXT NOT NULL, status INTEGER NOT NULL, body BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS telemetry (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, hub TEXT NOT NULL COLLATE NOCASE,
  device_id TEXT NOT NULL, module_id TEXT NOT NULL, properties TEXT NOT NULL,
  body BLOB NOT NULL, received_ms INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS telemetry_device ON telemetry (hub, device_id, seq);
";

/// SQLite behind [`Store`].
#[derive(Debug)]
pub struct SqliteStore {
    conn: Connection,
}

fn db(err: rusqlite::Error) -> StoreError {
    StoreError::Database(err)
}

fn to_json<T: Serialize>(value: &T) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|e| StoreError::Corrupt {
        what: "value to store",
        reason: e,
    })
}

fn from_json<T: DeserializeOwned>(what: &'static str, text: &str) -> Result<T, StoreError> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt { what, reason: e })
}

impl SqliteStore {
    /// Opens (or creates) `DIR/iot-server.sqlite3`.
    ///
    /// # Errors
    /// [`StoreError::Database`].
    pub fn open(dir: &Path) -> Result<Self, StoreError> {
        Self::open_file(&dir.join(DATABASE_FILE))
    }

    /// Opens the database of an existing state directory (never creates one).
    ///
    /// # Errors
    /// [`StoreError::NotAStateDirectory`] when `DIR/iot-server.sqlite3` does not exist,
    /// [`StoreError::Database`] when it fails.
    pub fn open_existing(dir: &Path) -> Result<Self, StoreError> {
        let path = dir.join(DATABASE_FILE);
        if !path.is_file() {
            return Err(StoreError::NotAStateDirectory { path });
        }
        Self::open_file(&path)
    }

    /// Opens (or creates) a database file.
    ///
    /// # Errors
    /// [`StoreError::Database`].
    pub fn open_file(path: &Path) -> Result<Self, StoreError> {
        let conn = Connection::open(path).map_err(db)?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(db)?;
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(db)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .map_err(db)?;
        conn.execute_batch(SCHEMA).map_err(db)?;
        Ok(Self { conn })
    }

    fn rows<T: DeserializeOwned>(
        &self,
        what: &'static str,
        sql: &str,
    ) -> Result<Vec<T>, StoreError> {
        let mut stmt = self.conn.prepare(sql).map_err(db)?;
        let texts = stmt
            .query_map([], |row| row.get::<_, String>(0))
            .map_err(db)?
            .collect::<Result<Vec<String>, _>>()
            .map_err(db)?;
        texts.iter().map(|t| from_json(what, t)).collect()
    }
}

fn apply_one(tx: &rusqlite::Transaction<'_>, write: &Write) -> Result<(), StoreError> {
    let module = |m: &Option<String>| m.clone().unwrap_or_default();
    match write {
        Write::Hub(hub) => {
            tx.execute(
                "INSERT INTO hubs (host, json) VALUES (?1, ?2)
                 ON CONFLICT (host) DO UPDATE SET json = excluded.json",
                params![hub.host_name, to_json(hub)?],
            )
            .map_err(db)?;
        }
        Write::Identity { hub, identity } => {
            tx.execute(
                "INSERT INTO identities (hub, device_id, module_id, json) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (hub, device_id, module_id) DO UPDATE SET json = excluded.json",
                params![
                    hub,
                    identity.device_id,
                    module(&identity.module_id),
                    to_json(identity)?
                ],
            )
            .map_err(db)?;
        }
        Write::RemoveIdentity {
            hub,
            device_id,
            module_id: None,
        } => {
            for table in ["identities", "twins"] {
                tx.execute(
                    &format!("DELETE FROM {table} WHERE hub = ?1 AND device_id = ?2"),
                    params![hub, device_id],
                )
                .map_err(db)?;
            }
        }
        Write::RemoveIdentity {
            hub,
            device_id,
            module_id: Some(m),
        } => {
            for table in ["identities", "twins"] {
                tx.execute(
                    &format!(
                        "DELETE FROM {table} WHERE hub = ?1 AND device_id = ?2 AND module_id = ?3"
                    ),
                    params![hub, device_id, m],
                )
                .map_err(db)?;
            }
        }
        Write::Twin(twin) => {
            tx.execute(
                "INSERT INTO twins (hub, device_id, module_id, json) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (hub, device_id, module_id) DO UPDATE SET json = excluded.json",
                params![
                    twin.key.hub,
                    twin.key.device_id,
                    module(&twin.key.module_id),
                    to_json(twin)?
                ],
            )
            .map_err(db)?;
        }
        Write::Dps(dps) => {
            tx.execute(
                "INSERT INTO dps (id, json) VALUES (1, ?1)
                 ON CONFLICT (id) DO UPDATE SET json = excluded.json",
                params![to_json(dps)?],
            )
            .map_err(db)?;
        }
        Write::Enrollment(e) => upsert(tx, "enrollments", &e.registration_id, e)?,
        Write::RemoveEnrollment(id) => delete(tx, "enrollments", id)?,
        Write::EnrollmentGroup(g) => upsert(tx, "enrollment_groups", &g.enrollment_group_id, g)?,
        Write::RemoveEnrollmentGroup(id) => delete(tx, "enrollment_groups", id)?,
        Write::Record(r) => upsert(tx, "records", &r.registration_id, r)?,
        Write::RemoveRecord(id) => delete(tx, "records", id)?,
        Write::Operation {
            operation_id,
            registration_id,
            status,
            body,
        } => {
            tx.execute(
                "INSERT OR REPLACE INTO operations (id, registration_id, status, body)
                 VALUES (?1, ?2, ?3, ?4)",
                params![operation_id, registration_id, status, body],
            )
            .map_err(db)?;
        }
        Write::Telemetry(m) => {
            // The hot statement (one row per message): compiled once per connection and kept
            // in rusqlite's statement cache rather than parsed and planned for every row.
            tx.prepare_cached(
                "INSERT INTO telemetry (hub, device_id, module_id, properties, body, received_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )
            .and_then(|mut insert| {
                insert.execute(params![
                    m.hub,
                    m.device_id,
                    m.module_id.as_deref().unwrap_or_default(),
                    m.properties,
                    m.body,
                    i64::try_from(m.received_ms).unwrap_or(i64::MAX)
                ])
            })
            .map_err(db)?;
        }
    }
    Ok(())
}

/// Insert or update keeping the row (so enrollment groups keep their first-stored order).
fn upsert<T: Serialize>(
    tx: &rusqlite::Transaction<'_>,
    table: &str,
    id: &str,
    value: &T,
) -> Result<(), StoreError> {
    tx.execute(
        &format!(
            "INSERT INTO {table} (id, json) VALUES (?1, ?2)
             ON CONFLICT (id) DO UPDATE SET json = excluded.json"
        ),
        params![id, to_json(value)?],
    )
    .map_err(db)?;
    Ok(())
}

fn delete(tx: &rusqlite::Transaction<'_>, table: &str, id: &str) -> Result<(), StoreError> {
    tx.execute(&format!("DELETE FROM {table} WHERE id = ?1"), params![id])
        .map_err(db)?;
    Ok(())
}

impl Store for SqliteStore {
    fn load(&mut self) -> Result<Snapshot, StoreError> {
        let hub_states: Vec<HubState> = self.rows("hub", "SELECT json FROM hubs ORDER BY rowid")?;
        let mut hubs = Vec::new();
        for state in hub_states {
            let mut stmt = self
                .conn
                .prepare(
                    "SELECT json FROM identities WHERE hub = ?1
                     ORDER BY device_id, module_id",
                )
                .map_err(db)?;
            let texts = stmt
                .query_map([&state.host_name], |row| row.get::<_, String>(0))
                .map_err(db)?
                .collect::<Result<Vec<String>, _>>()
                .map_err(db)?;
            let identities = texts
                .iter()
                .map(|t| from_json::<DeviceIdentity>("identity", t))
                .collect::<Result<Vec<_>, _>>()?;
            hubs.push((state, identities));
        }
        let dps: Option<String> = self
            .conn
            .query_row("SELECT json FROM dps WHERE id = 1", [], |row| row.get(0))
            .optional()
            .map_err(db)?;
        let dps = dps.map(|t| from_json::<DpsState>("dps", &t)).transpose()?;
        let mut stmt = self
            .conn
            .prepare("SELECT id, registration_id, status, body FROM operations")
            .map_err(db)?;
        let operations = stmt
            .query_map([], |row| {
                Ok(StoredOperation {
                    operation_id: row.get(0)?,
                    registration_id: row.get(1)?,
                    status: row.get(2)?,
                    body: row.get(3)?,
                })
            })
            .map_err(db)?
            .collect::<Result<Vec<_>, _>>()
            .map_err(db)?;
        drop(stmt);
        Ok(Snapshot {
            hubs,
            twins: self.rows::<StoredTwin>("twin", "SELECT json FROM twins")?,
            dps,
            enrollments: self.rows::<IndividualEnrollment>(
                "enrollment",
                "SELECT json FROM enrollments ORDER BY rowid",
            )?,
            groups: self.rows::<EnrollmentGroup>(
                "enrollment group",
                "SELECT json FROM enrollment_groups ORDER BY rowid",
            )?,
            records: self.rows::<RegistrationRecord>("record", "SELECT json FROM records")?,
            operations,
        })
    }

    fn apply(&mut self, writes: &[Write]) -> Result<(), StoreError> {
        let tx = self.conn.transaction().map_err(db)?;
        for write in writes {
            apply_one(&tx, write)?;
        }
        tx.commit().map_err(db)
    }

    fn telemetry(
        &mut self,
        filter: &TelemetryFilter,
    ) -> Result<Vec<(u64, TelemetryMessage)>, StoreError> {
        let limit = if filter.limit == 0 {
            i64::MAX
        } else {
            i64::try_from(filter.limit).unwrap_or(i64::MAX)
        };
        let mut stmt = self
            .conn
            .prepare(
                "SELECT seq, hub, device_id, module_id, properties, body, received_ms
                 FROM telemetry
                 WHERE seq > ?1 AND (?2 IS NULL OR hub = ?2) AND (?3 IS NULL OR device_id = ?3)
                 ORDER BY seq LIMIT ?4",
            )
            .map_err(db)?;
        let after = i64::try_from(filter.after).unwrap_or(i64::MAX);
        stmt.query_map(params![after, filter.hub, filter.device_id, limit], |row| {
            let module: String = row.get(3)?;
            let seq: i64 = row.get(0)?;
            let ms: i64 = row.get(6)?;
            Ok((
                u64::try_from(seq).unwrap_or_default(),
                TelemetryMessage {
                    hub: row.get(1)?,
                    device_id: row.get(2)?,
                    module_id: Some(module).filter(|m| !m.is_empty()),
                    properties: row.get(4)?,
                    body: row.get(5)?,
                    received_ms: u64::try_from(ms).unwrap_or_default(),
                },
            ))
        })
        .map_err(db)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(db)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;
    use crate::store::TwinKey;

    fn temp_db(name: &str) -> std::path::PathBuf {
        let path = std::env::temp_dir().join(format!(
            "iot-server-unit-{name}-{}.sqlite3",
            std::process::id()
        ));
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
        }
        path
    }

    fn hub(host: &str) -> HubState {
        serde_json::from_value(serde_json::json!({ "hostName": host })).unwrap()
    }

    #[test]
    fn writes_round_trip_and_removals_cascade_to_twins() {
        let path = temp_db("roundtrip");
        let mut store = SqliteStore::open_file(&path).unwrap();
        let identity = DeviceIdentity::certificate_authority("d1");
        let twin = StoredTwin {
            key: TwinKey {
                hub: "h.net".into(),
                device_id: "d1".into(),
                module_id: None,
            },
            tags: serde_json::json!({}),
            desired: serde_json::json!({"$version": 1}),
            reported: serde_json::json!({"$version": 3, "a": 1}),
        };
        store
            .apply(&[
                Write::Hub(hub("h.net")),
                Write::Identity {
                    hub: "h.net".into(),
                    identity: identity.clone(),
                },
                Write::Twin(twin.clone()),
                Write::Telemetry(TelemetryMessage {
                    hub: "h.net".into(),
                    device_id: "d1".into(),
                    module_id: None,
                    properties: "a=1".into(),
                    body: vec![0xff, 0x00],
                    received_ms: 5,
                }),
            ])
            .unwrap();
        drop(store);
        let mut store = SqliteStore::open_file(&path).unwrap();
        let snap = store.load().unwrap();
        assert_eq!(snap.hubs.len(), 1);
        assert_eq!(snap.hubs[0].1, vec![identity]);
        assert_eq!(snap.twins, vec![twin]);
        let messages = store.telemetry(&TelemetryFilter::default()).unwrap();
        assert_eq!(messages.len(), 1);
        assert_eq!(messages[0].1.body, vec![0xff, 0x00]);
        let none = TelemetryFilter {
            device_id: Some("d2".into()),
            ..TelemetryFilter::default()
        };
        assert!(store.telemetry(&none).unwrap().is_empty());
        store
            .apply(&[Write::RemoveIdentity {
                hub: "H.NET".into(),
                device_id: "d1".into(),
                module_id: None,
            }])
            .unwrap();
        let snap = store.load().unwrap();
        assert!(snap.hubs[0].1.is_empty());
        assert!(snap.twins.is_empty(), "the device's twin went with it");
    }

    #[test]
    fn a_failing_batch_applies_nothing() {
        let path = temp_db("atomic");
        let mut store = SqliteStore::open_file(&path).unwrap();
        store.apply(&[Write::Hub(hub("a.net"))]).unwrap();
        // Drop a table under the store to make the second write of the batch fail.
        store.conn.execute_batch("DROP TABLE records").unwrap();
        let record: RegistrationRecord = serde_json::from_value(serde_json::json!({
            "registrationId": "r", "assignedHub": "a.net", "deviceId": "r",
            "status": "assigned", "created": 1, "lastUpdated": 1, "generation": 1,
            "enrollment": {"kind": "individual", "id": "r"}, "credential": {"type": "symmetricKey", "slot": "primary"}
        }))
        .unwrap();
        let result = store.apply(&[Write::Hub(hub("b.net")), Write::Record(record)]);
        assert!(matches!(result, Err(StoreError::Database(_))));
        let hubs: Vec<HubState> = store.rows("hub", "SELECT json FROM hubs").unwrap();
        assert_eq!(hubs, vec![hub("a.net")]);
    }
}
