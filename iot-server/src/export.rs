//! `iot serve export`: the stored configuration written back as import files, one hub file
//! per hub (`{host}.hub.json`, the `examples/hub.json` format) and `dps.json` (the DPS file
//! format), so `--import` of the output recreates the same configuration (issue 10 "State").
//! Registration records, twins and telemetry are state, not configuration: not exported.

use std::path::{Path, PathBuf};

use crate::engine::import::DpsFile;
use crate::error::{Error, StateProblem};
use crate::store::{SqliteStore, Store as _};

/// Writes the import files of the state in `state_dir` into `out_dir` (created); returns the
/// files written.
///
/// # Errors
/// [`Error::Store`], [`Error::Io`].
pub fn export(state_dir: &Path, out_dir: &Path) -> Result<Vec<PathBuf>, Error> {
    let snapshot = SqliteStore::open_existing(state_dir)?.load()?;
    std::fs::create_dir_all(out_dir).map_err(|e| Error::io(out_dir, e))?;
    let mut written = Vec::new();
    let write = |name: String, value: serde_json::Value| -> Result<PathBuf, Error> {
        let path = out_dir.join(name);
        let text = serde_json::to_string_pretty(&value).map_err(StateProblem::Export)?;
        std::fs::write(&path, text + "\n").map_err(|e| Error::io(&path, e))?;
        Ok(path)
    };
    for (state, identities) in snapshot.hubs {
        let name = format!("{}.hub.json", state.host_name.to_ascii_lowercase());
        let doc = state.to_document(identities);
        let value = serde_json::to_value(&doc).map_err(StateProblem::Export)?;
        written.push(write(name, value)?);
    }
    if let Some(state) = snapshot.dps {
        let file = DpsFile {
            state,
            enrollments: snapshot.enrollments,
            enrollment_groups: snapshot.groups,
        };
        let value = serde_json::to_value(&file).map_err(StateProblem::Export)?;
        written.push(write("dps.json".into(), value)?);
    }
    Ok(written)
}
