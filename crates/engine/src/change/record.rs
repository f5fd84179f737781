//! The record of every change set, kept on the host it changed (so a rollback works from any
//! machine, after any restart of the app), and the lock that stops two applies at once.
//!
//! Layout, all root-owned and 0700/0600 (before-images of odoo.conf hold its secrets, exactly as
//! the original file does):
//! ```text
//! /var/lib/odoo-session-doctor/
//!   lock/owner                        the change set applying now (mkdir is the atomic lock)
//!   changesets/<id>/record.json       the change set, status, verification (no file contents)
//!   changesets/<id>/before/<n>        file n as it was
//!   changesets/<id>/after/<n>         file n as written
//!   changesets/<id>/status            the status as last set, by the client or by the change
//!                                     set's program on the host (see [`super::onhost`]); it wins
//!                                     over record.json's, and `reason` over its error
//!   changesets/<id>/run.sh, events, … the change set's program and what it did
//! ```

use super::{ChangeSet, FileChange};
use crate::error::EngineError;
use osd_remote::{quote, Cmd, Host, NewFileMode};
use serde::{Deserialize, Serialize};
use std::time::{Duration, SystemTime};

/// Where records live unless told otherwise.
pub const ROOT: &str = "/var/lib/odoo-session-doctor";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum RecordStatus {
    /// Recorded; nothing touched yet.
    Recorded,
    /// Files or parameters may be partly written: an interrupted apply leaves this.
    Applying,
    Applied,
    /// Undone automatically after a failure during apply.
    RolledBack,
    /// Undone on request.
    Undone,
    /// The automatic rollback itself failed: needs a person.
    RollbackFailed,
}

/// The status as the host's `status` file spells it.
pub fn parse_status(word: &str) -> Option<RecordStatus> {
    serde_json::from_value(serde_json::Value::String(word.trim().to_string())).ok()
}

impl RecordStatus {
    pub fn as_str(self) -> String {
        serde_json::to_value(self)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default()
    }

    /// An apply or rollback that did not finish: the next connection must offer to finish it.
    pub fn unfinished(self) -> bool {
        matches!(
            self,
            RecordStatus::Recorded | RecordStatus::Applying | RecordStatus::RollbackFailed
        )
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Verification {
    pub check: String,
    pub persisted: bool,
    pub detail: String,
}

/// Which Odoo instance of the host a change set was made for: its config file, else its HTTP
/// port (several instances share one host, one record directory and often one nginx).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct InstanceRef {
    pub config_path: Option<String>,
    pub http_port: u16,
}

impl InstanceRef {
    /// The instance the facts describe.
    pub fn of(odoo: &crate::facts::OdooFacts) -> InstanceRef {
        InstanceRef {
            config_path: odoo.config.as_ref().map(|c| c.path.clone()),
            http_port: odoo.http_port(),
        }
    }

    /// The same instance: by config file when both have one, else by port.
    pub fn same(&self, other: &InstanceRef) -> bool {
        match (&self.config_path, &other.config_path) {
            (Some(a), Some(b)) => a == b,
            _ => self.http_port == other.http_port,
        }
    }
}

/// When something happened and who did it (the local account, see [`crate::who`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Stamp {
    /// Unix seconds.
    pub at: u64,
    pub at_text: String,
    pub by: String,
}

impl Stamp {
    pub fn now(by: impl Into<String>) -> Stamp {
        Stamp {
            at: unix_now(),
            at_text: now_text(),
            by: by.into(),
        }
    }
}

/// Named `ChangeRecord` in TypeScript, where `Record` is a built-in type.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(rename = "ChangeRecord"))]
pub struct Record {
    pub id: String,
    /// Unix seconds.
    pub created: u64,
    pub created_text: String,
    /// Who applied it: the local account and machine, and the SSH login.
    pub by: String,
    pub host: String,
    /// The instance it was made for; `None` in records written before it was kept (see
    /// [`Record::belongs_to`]).
    #[serde(default)]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub instance: Option<InstanceRef>,
    pub status: RecordStatus,
    pub changeset: ChangeSet,
    pub verification: Vec<Verification>,
    pub error: Option<String>,
    /// What happened, in order, with times: the audit trail.
    pub log: Vec<String>,
    /// When and by whom it was rolled back on request (absent in older records: see
    /// [`Record::undone_stamp`]).
    #[serde(default)]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub undone: Option<Stamp>,
    /// An action on the server that is not a change of files or parameters (logging users out,
    /// see [`crate::sessions`]): recorded for the audit trail, with nothing to roll back.
    #[serde(default)]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub action: Option<ActionRecord>,
    /// The state directory this record lives in.
    #[serde(skip)]
    pub root: String,
}

/// What an action did, in words and numbers. It has no before-image: deleted sessions cannot be
/// brought back, so `rollback` refuses it and says so.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ActionRecord {
    /// `log_out`.
    pub kind: String,
    /// "Logged out marc (database odoo): 3 sessions deleted".
    pub summary: String,
    /// Always false: said in the record itself so every reader (history, app, a person with
    /// `cat`) sees it.
    pub can_roll_back: bool,
}

impl Record {
    pub fn dir(&self) -> String {
        format!("{}/changesets/{}", self.root, self.id)
    }

    /// When and by whom it was rolled back on request: the stamp, or for records written before
    /// it was kept, the time of the audit line (the person was not recorded then).
    pub fn undone_stamp(&self) -> Option<Stamp> {
        if self.status != RecordStatus::Undone {
            return None;
        }
        self.undone.clone().or_else(|| {
            let line = self
                .log
                .iter()
                .rev()
                .find(|l| l.ends_with("rolled back on request"))?;
            let text = line.split_whitespace().next()?;
            let at = humantime::parse_rfc3339(text)
                .ok()?
                .duration_since(SystemTime::UNIX_EPOCH)
                .ok()?
                .as_secs();
            Some(Stamp {
                at,
                at_text: text.to_string(),
                by: "someone (not recorded)".to_string(),
            })
        })
    }

    /// The instance this change set was made for, as `--instance` names one (its config path,
    /// else its HTTP port): a rollback needs no `--instance` on a host with several, since the
    /// record says which it touched. Older records without it: the odoo.conf they changed.
    pub fn instance_selector(&self) -> Option<String> {
        match &self.instance {
            Some(InstanceRef {
                config_path: Some(path),
                ..
            }) => Some(path.clone()),
            Some(i) => Some(i.http_port.to_string()),
            None => self
                .changeset
                .files
                .iter()
                .find(|f| f.kind == super::FileKind::OdooConf)
                .map(|f| f.path.clone()),
        }
    }

    /// Whether this change set was made for the instance `odoo` describes. Records from before
    /// the instance was kept are judged by what they touched: its odoo.conf, else databases it
    /// serves; a record that touched neither (nginx only) is counted only on a single-instance
    /// host, where it cannot be anyone else's.
    pub fn belongs_to(&self, facts: &crate::facts::Facts) -> bool {
        let this = InstanceRef::of(&facts.odoo);
        if let Some(i) = &self.instance {
            return i.same(&this);
        }
        let cs = &self.changeset;
        if let Some(conf) = cs
            .files
            .iter()
            .find(|f| f.kind == super::FileKind::OdooConf)
        {
            return this.config_path.as_deref() == Some(conf.path.as_str());
        }
        if !cs.params.is_empty() {
            if let Some(scope) = &facts.db_scope {
                return cs.params.iter().all(|p| scope.served.contains(&p.db));
            }
        }
        facts.instances.len() <= 1
    }
}

/// The record a rollback is about: `id`, or without one the last change set that is applied
/// or not settled (what `rollback --last` undoes); loaded with its file images. An action (a
/// log-out) is refused: there is nothing to put back.
pub fn to_roll_back(host: &Host, root: &str, id: Option<&str>) -> Result<Record, EngineError> {
    let id = match id {
        Some(id) => id.to_string(),
        None => history(host, root)?
            .into_iter()
            .rev()
            .find(|r| {
                // Actions (a log-out) have no rollback: `--last` means the last change.
                r.action.is_none()
                    && matches!(
                        r.status,
                        RecordStatus::Applied
                            | RecordStatus::Applying
                            | RecordStatus::RollbackFailed
                    )
            })
            .map(|r| r.id)
            .ok_or_else(|| EngineError::NothingToRollBack {
                host: host.name().into(),
            })?,
    };
    let rec = load(host, root, &id)?;
    // An action (a log-out) has nothing to put back: refused before anything is asked or read.
    if let Some(action) = &rec.action {
        return Err(EngineError::CannotRollBackAction {
            id,
            summary: action.summary.clone(),
        });
    }
    Ok(rec)
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or(Duration::ZERO)
        .as_secs()
}

pub fn new_id(cs: &ChangeSet) -> String {
    let stamp: String = humantime::format_rfc3339_seconds(SystemTime::now())
        .to_string()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect();
    let json = serde_json::to_string(cs).unwrap_or_default();
    let nonce = format!("{json}{:?}{}", SystemTime::now(), std::process::id());
    format!("{stamp}-{}", &super::sha256_hex(nonce.as_bytes())[..6])
}

fn now_text() -> String {
    humantime::format_rfc3339_seconds(SystemTime::now()).to_string()
}

/// Creates the record on the host (before anything is touched) with the before- and after-images.
/// `instance`: the Odoo instance it is made for.
pub fn create(
    host: &Host,
    root: &str,
    id: &str,
    cs: &ChangeSet,
    instance: Option<InstanceRef>,
) -> Result<Record, EngineError> {
    let rec = Record {
        id: id.to_string(),
        created: unix_now(),
        created_text: now_text(),
        by: crate::who::with_login(Some(host.user())),
        host: host.name().to_string(),
        instance,
        undone: None,
        status: RecordStatus::Recorded,
        changeset: cs.clone(),
        verification: Vec::new(),
        error: None,
        log: vec![format!("{} recorded", now_text())],
        action: None,
        root: root.to_string(),
    };
    let dir = rec.dir();
    host.mkdir_p(&format!("{dir}/before"), 0o700)?;
    host.mkdir_p(&format!("{dir}/after"), 0o700)?;
    let private = NewFileMode::new(None, None, 0o600);
    for (i, f) in cs.files.iter().enumerate() {
        host.write_atomic(&format!("{dir}/before/{i}"), &f.before, &private)?;
        host.write_atomic(&format!("{dir}/after/{i}"), &f.after, &private)?;
    }
    save(host, &rec)?;
    Ok(rec)
}

/// Records an action done (see [`ActionRecord`]): status `applied`, no change set, the audit
/// lines given, and nothing to roll back.
pub fn record_action(
    host: &Host,
    root: &str,
    instance: Option<InstanceRef>,
    action: ActionRecord,
    log: Vec<String>,
) -> Result<Record, EngineError> {
    let id = new_id(&ChangeSet::default());
    let rec = Record {
        id,
        created: unix_now(),
        created_text: now_text(),
        by: crate::who::with_login(Some(host.user())),
        host: host.name().to_string(),
        instance,
        undone: None,
        status: RecordStatus::Applied,
        changeset: ChangeSet::default(),
        verification: Vec::new(),
        error: None,
        log: log
            .into_iter()
            .map(|l| format!("{} {l}", now_text()))
            .collect(),
        action: Some(action),
        root: root.to_string(),
    };
    host.mkdir_p(&rec.dir(), 0o700)?;
    save(host, &rec)?;
    Ok(rec)
}

pub fn save(host: &Host, rec: &Record) -> Result<(), EngineError> {
    let json = serde_json::to_vec_pretty(rec).expect("record serializes");
    let private = NewFileMode::new(None, None, 0o600);
    host.write_atomic(&format!("{}/record.json", rec.dir()), &json, &private)?;
    host.write_atomic(
        &format!("{}/status", rec.dir()),
        format!("{}\n", rec.status.as_str()).as_bytes(),
        &private,
    )?;
    Ok(())
}

/// What the host's program last said: its status wins over record.json's (the program settles
/// change sets without the client), and its reason becomes the record's error.
fn merge_host_state(rec: &mut Record, status: &str, reason: &str) {
    if let Some(st) = parse_status(status) {
        if st != rec.status {
            rec.status = st;
            if !reason.trim().is_empty() {
                rec.error = Some(reason.trim().to_string());
                rec.log.push(format!("{} {}", now_text(), reason.trim()));
            }
        }
    }
}

pub fn set_status(
    host: &Host,
    rec: &mut Record,
    status: RecordStatus,
    event: &str,
) -> Result<(), EngineError> {
    rec.status = status;
    rec.log.push(format!("{} {event}", now_text()));
    save(host, rec)
}

/// Loads a record with its file images (`before`/`after` filled in).
pub fn load(host: &Host, root: &str, id: &str) -> Result<Record, EngineError> {
    if id.is_empty() || !id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        return Err(EngineError::BadChangeSetId { id: id.to_string() });
    }
    let dir = format!("{root}/changesets/{id}");
    let json = host
        .read_file(&format!("{dir}/record.json"))
        .map_err(|e| match e {
            // A lost connection stays what it is: the record may well be there.
            e if crate::error::remote_lost(&e) => EngineError::Remote(e),
            _ => EngineError::NoSuchChangeSet {
                host: host.name().to_string(),
                id: id.to_string(),
            },
        })?;
    let mut rec: Record =
        serde_json::from_slice(&json).map_err(|e| EngineError::DamagedRecord {
            host: host.name().to_string(),
            id: id.to_string(),
            detail: e.to_string(),
        })?;
    rec.root = root.to_string();
    let status = host.read_file(&format!("{dir}/status")).unwrap_or_default();
    let reason = host.read_file(&format!("{dir}/reason")).unwrap_or_default();
    merge_host_state(
        &mut rec,
        &String::from_utf8_lossy(&status),
        &String::from_utf8_lossy(&reason),
    );
    for (i, f) in rec.changeset.files.iter_mut().enumerate() {
        f.before = host.read_file(&format!("{dir}/before/{i}"))?;
        f.after = host.read_file(&format!("{dir}/after/{i}"))?;
    }
    Ok(rec)
}

/// Every record on the host, oldest first, in one command (without file images).
pub fn history(host: &Host, root: &str) -> Result<Vec<Record>, EngineError> {
    let script = format!(
        "for f in {root}/changesets/*/record.json; do [ -f \"$f\" ] || continue; d=${{f%/record.json}}; cat \"$f\"; printf '\\037'; cat \"$d/status\" 2>/dev/null; printf '\\037'; cat \"$d/reason\" 2>/dev/null; printf '\\n\\036\\n'; done",
        root = quote(root)
    );
    let out = host.run_script(&script, true, Duration::from_secs(30))?;
    let text = String::from_utf8_lossy(&out.stdout);
    let mut records: Vec<Record> = text
        .split('\u{1e}')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .filter_map(|s| {
            let mut parts = s.split('\u{1f}');
            let mut r = serde_json::from_str::<Record>(parts.next()?).ok()?;
            let (status, reason) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
            merge_host_state(&mut r, status, reason);
            r.root = root.to_string();
            Some(r)
        })
        .collect();
    records.sort_by(|a, b| (a.created, &a.id).cmp(&(b.created, &b.id)));
    Ok(records)
}

/// The host-wide lock: `mkdir` is atomic, so exactly one apply or rollback holds it.
pub struct Lock<'h> {
    host: &'h Host,
    dir: String,
    held: bool,
}

pub fn lock<'h>(host: &'h Host, root: &str, holder: &str) -> Result<Lock<'h>, EngineError> {
    host.mkdir_p(root, 0o700)?;
    let dir = format!("{root}/lock");
    let out = host.run(
        &Cmd::new("mkdir")
            .arg("-m")
            .arg("700")
            .arg(&dir)
            .privileged(),
    )?;
    if !out.ok() {
        let owner = host
            .read_file(&format!("{dir}/owner"))
            .map(|b| String::from_utf8_lossy(&b).trim().to_string())
            .unwrap_or_default();
        return Err(EngineError::Locked {
            host: host.name().to_string(),
            owner,
        });
    }
    host.write_atomic(
        &format!("{dir}/owner"),
        format!("{holder} since {}\n", now_text()).as_bytes(),
        &NewFileMode::default(),
    )?;
    Ok(Lock {
        host,
        dir,
        held: true,
    })
}

impl Lock<'_> {
    /// Releases the lock.
    pub fn release(mut self) -> Result<(), EngineError> {
        self.held = false;
        self.host
            .run_checked(&Cmd::new("rm").arg("-rf").arg(&self.dir).privileged())?;
        Ok(())
    }

    /// Leaves the lock on the host for the one who recovers the change set it names: the
    /// connection was lost mid-apply, or the automatic rollback failed. Until that change set is
    /// rolled back, no other apply may start on a host in an unknown state.
    pub fn keep_for_recovery(mut self) {
        self.held = false;
    }
}

impl Drop for Lock<'_> {
    fn drop(&mut self) {
        if self.held {
            // Best effort on error paths (a refused apply, a failed record write).
            let _ = self
                .host
                .run(&Cmd::new("rm").arg("-rf").arg(&self.dir).privileged());
        }
    }
}

/// Breaks the lock when its holder is an apply that never touched anything (its record is
/// missing or still `recorded`) and the lock is older than `max_age`: the connection that took
/// it was lost before the first write. A lock naming a change set that started writing is never
/// broken here — that one is recovered by rolling the change set back.
pub fn break_if_stale(host: &Host, root: &str, max_age: Duration) -> Result<bool, EngineError> {
    let dir = format!("{root}/lock");
    let now = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or(Duration::ZERO)
        .as_secs() as i64;
    let old_enough = |mtime: i64| now - mtime >= max_age.as_secs() as i64;
    let Some(st) = host.stat(&format!("{dir}/owner"))? else {
        // Cut between taking the lock and naming its owner: nothing can have been touched.
        let lock_dir = host.stat(&dir)?;
        let stale = lock_dir.is_some_and(|d| old_enough(d.mtime));
        if stale {
            break_lock(host, root)?;
        }
        return Ok(stale);
    };
    let owner = String::from_utf8_lossy(&host.read_file(&format!("{dir}/owner"))?).into_owned();
    let Some(id) = owner
        .strip_prefix("apply of change set ")
        .and_then(|r| r.split_whitespace().next())
    else {
        return Ok(false);
    };
    if !old_enough(st.mtime) {
        return Ok(false);
    }
    let untouched = match load(host, root, id) {
        Ok(rec) => rec.status == RecordStatus::Recorded,
        Err(_) => host
            .stat(&format!("{root}/changesets/{id}/record.json"))?
            .is_none(),
    };
    if untouched {
        break_lock(host, root)?;
    }
    Ok(untouched)
}

/// Change sets whose apply or rollback did not finish (a cut connection, a crash).
pub fn unfinished(host: &Host, root: &str) -> Result<Vec<Record>, EngineError> {
    Ok(history(host, root)?
        .into_iter()
        .filter(|r| r.status.unfinished())
        .collect())
}

/// A change set the host has not settled, in words for a person, with what it changed.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Unsettled {
    pub id: String,
    pub status: RecordStatus,
    /// What state it is in, in plain words.
    pub state: String,
    /// The files and parameters it changes.
    pub changed: Vec<String>,
}

impl Unsettled {
    pub fn of(r: &Record) -> Unsettled {
        let state = match r.status {
            RecordStatus::Recorded => "it was recorded but its apply never started: nothing should have changed; rolling it back checks that and clears it".to_string(),
            RecordStatus::Applying => "the server is applying it or waiting for the confirmation of whoever applied it, and undoes it by itself if none comes; if the server restarted meanwhile, it stays half-applied until it is rolled back".to_string(),
            RecordStatus::RollbackFailed => format!(
                "its rollback failed: {}",
                r.error.as_deref().unwrap_or("see history")
            ),
            s => format!("{s:?}"),
        };
        let cs = &r.changeset;
        let changed = cs
            .files
            .iter()
            .map(file_label)
            .chain(
                cs.params
                    .iter()
                    .map(|p| format!("system parameter {} in database {}", p.key, p.db)),
            )
            .collect();
        Unsettled {
            id: r.id.clone(),
            status: r.status,
            state,
            changed,
        }
    }
}

/// Every change set the host has not settled, oldest first. Reading the records needs root: a
/// login without it sees none (the apply would have needed root too).
pub fn unsettled(host: &Host, root: &str) -> Result<Vec<Unsettled>, EngineError> {
    Ok(unfinished(host, root)?.iter().map(Unsettled::of).collect())
}

/// Forces the lock open after its holder was recovered.
pub fn break_lock(host: &Host, root: &str) -> Result<(), EngineError> {
    host.run_checked(
        &Cmd::new("rm")
            .arg("-rf")
            .arg(format!("{root}/lock"))
            .privileged(),
    )?;
    Ok(())
}

pub fn file_label(f: &FileChange) -> String {
    format!(
        "{} ({})",
        f.path,
        f.checks
            .iter()
            .map(|c| c.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    )
}
