//! The Fleet screen's backend: each saved server's last result (kept in the config dir as a small
//! JSON file, written whenever a diagnosis of that server ends in the app) and "Diagnose all",
//! which diagnoses every server with the engine's bounded runner (`osd_engine::fleet`).
//!
//! A fleet run never asks anything: a server that needs the person (an unknown host key, a
//! password that is never stored, a key passphrase) becomes a row saying so, and the others go on.
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Mutex;

use osd_engine::checks::{CheckId, Status};
use osd_engine::Diagnosis;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::servers::ServerEntry;
use crate::AppError;

/// How many servers are diagnosed at once (like Ansible's default `--forks`): enough to make 50
/// servers quick, few enough that neither this computer nor the network is flooded.
pub const FORKS: usize = 5;

/// The file in the config dir that remembers each server's last result.
pub const RESULTS_FILE: &str = "last-results.json";

/// One check, as a fleet row names it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, TS)]
#[serde(rename_all = "camelCase")]
pub struct CheckMark {
    pub id: CheckId,
    pub title: String,
    pub status: Status,
}

/// Why a server could not be diagnosed.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, TS)]
#[serde(rename_all = "camelCase")]
pub struct FleetError {
    /// The app's error code (`unreachable`, `unknown_host_key`, `secret_needed`, …).
    pub code: String,
    pub message: String,
    pub hint: String,
    /// The server needs the person (trust its key, type a secret): not a fault of the server.
    pub needs_you: bool,
}

/// A server's last result: its verdict, or why it could not be diagnosed.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, TS)]
#[serde(rename_all = "camelCase")]
pub struct LastResult {
    /// When it ended, in seconds since 1970-01-01 UTC.
    #[ts(type = "number")]
    pub at: u64,
    /// The verdict's status; `None` when the server could not be diagnosed (see `error`).
    pub status: Option<Status>,
    /// The verdict's line, or what stopped the diagnosis.
    pub line: String,
    /// The Odoo version found.
    pub version: Option<String>,
    /// The check to start with: the first of the worst status (a problem before a thing to improve).
    pub worst: Option<CheckMark>,
    /// Every check that is a problem or a thing to improve (the screen filters by them).
    pub problems: Vec<CheckMark>,
    pub error: Option<FleetError>,
}

impl CheckMark {
    fn of(f: &osd_engine::checks::Finding) -> CheckMark {
        CheckMark {
            id: f.id,
            title: f.title.clone(),
            status: f.status,
        }
    }
}

impl LastResult {
    pub fn diagnosed(d: &Diagnosis) -> LastResult {
        let problems: Vec<CheckMark> = d
            .checks
            .iter()
            .filter(|f| matches!(f.status, Status::Warn | Status::Fail))
            .map(CheckMark::of)
            .collect();
        LastResult {
            at: now(),
            status: Some(d.verdict.status),
            line: d.verdict.line.clone(),
            version: d.facts.odoo.version.map(|v| v.to_string()),
            worst: osd_engine::checks::start_with(&d.checks).map(CheckMark::of),
            problems,
            error: None,
        }
    }

    /// A server the run could not diagnose. What needs the person is said as what to do.
    pub fn failed(e: &AppError) -> LastResult {
        let (needs_you, message) = match e.code {
            "unknown_host_key" => (
                true,
                "Needs you: connect once to trust its key.".to_string(),
            ),
            "secret_needed" => (
                true,
                format!(
                    "Needs you: connect once and type what it asks for. {}",
                    e.message
                ),
            ),
            _ => (false, e.message.clone()),
        };
        LastResult {
            at: now(),
            status: None,
            line: message.clone(),
            version: None,
            worst: None,
            problems: Vec::new(),
            error: Some(FleetError {
                code: e.code.to_string(),
                message,
                hint: e.hint.clone(),
                needs_you,
            }),
        }
    }
}

/// A row of the Fleet screen: a server and its last result, if it ever had one.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct FleetRow {
    pub server: ServerEntry,
    pub last: Option<LastResult>,
}

/// The last results file. One lock: five diagnoses end at once and each rewrites the file.
pub struct LastResults {
    path: PathBuf,
    lock: Mutex<()>,
}

impl LastResults {
    pub fn new(path: PathBuf) -> LastResults {
        LastResults {
            path,
            lock: Mutex::new(()),
        }
    }

    pub fn path(&self) -> &std::path::Path {
        &self.path
    }

    /// Every server's last result. A missing or unreadable file is an empty one: it only
    /// remembers past results, and the next diagnosis writes it afresh.
    pub fn all(&self) -> BTreeMap<String, LastResult> {
        let _held = self.lock.lock().unwrap();
        self.read()
    }

    fn read(&self) -> BTreeMap<String, LastResult> {
        std::fs::read(&self.path)
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .unwrap_or_default()
    }

    /// Remembers `result` as the server's last one (through a temporary file and a rename, so a
    /// crash never leaves half a file).
    pub fn record(&self, server_id: &str, result: LastResult) -> std::io::Result<()> {
        self.update(|all| {
            all.insert(server_id.to_string(), result);
        })
    }

    pub fn forget(&self, server_id: &str) -> std::io::Result<()> {
        self.update(|all| {
            all.remove(server_id);
        })
    }

    fn update(
        &self,
        change: impl FnOnce(&mut BTreeMap<String, LastResult>),
    ) -> std::io::Result<()> {
        let _held = self.lock.lock().unwrap();
        let mut all = self.read();
        change(&mut all);
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let tmp = self.path.with_extension("json.tmp");
        std::fs::write(&tmp, serde_json::to_vec_pretty(&all)?)?;
        std::fs::rename(&tmp, &self.path)
    }
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_survive_a_reread_and_a_broken_file_reads_as_empty() {
        let dir = tempfile::tempdir().unwrap();
        let store = LastResults::new(dir.path().join(RESULTS_FILE));
        assert!(store.all().is_empty());
        let e = AppError::new("unknown_host_key", "first connection", "trust it");
        store.record("a", LastResult::failed(&e)).unwrap();
        let all = store.all();
        let a = &all["a"];
        assert!(a.error.as_ref().unwrap().needs_you);
        assert_eq!(a.line, "Needs you: connect once to trust its key.");
        store.forget("a").unwrap();
        assert!(store.all().is_empty());
        std::fs::write(store.path(), "{not json").unwrap();
        assert!(store.all().is_empty());
    }
}
