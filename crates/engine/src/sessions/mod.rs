//! Sessions: who is logged in to an instance right now, for how long and from where, and logging
//! one person (or everyone) out everywhere — built on what each Odoo version stores (issue 15).
//!
//! What Odoo keeps (read from its source, `odoo/http.py` `FilesystemSessionStore`, and
//! `odoo/addons/base/models/res_device.py` in 18):
//! - 12–15: `sessions/werkzeug_<sid>.sess`; 16–17: `sessions/<sid[:2]>/<sid>`; both a pickled dict
//!   with `db`, `login`, `uid`, `context`, `session_token`. The file's mtime is the last write
//!   (what the daily cleanup judges); nothing else records activity.
//! - 18+: the same folders, JSON, plus `_trace` (platform, browser, IP, first and last activity)
//!   and, in 19, `create_time`. `res_device_log` keeps the first 42 characters of the id;
//!   `res.device._revoke` deletes the files by that prefix and writes `revoked = true`.
//!
//! The files are read **on the host** by one script run with the instance's own Python, as Odoo's
//! user (what Odoo itself can read), which prints only per-file aggregates and a short keyed hash
//! (HMAC with a key made for this run): no session id, nor any prefix of one, crosses SSH, and no
//! session file leaves the host. This module judges and aggregates what it prints; the faces
//! (CLI, app) only show it.
//!
//! A log-out deletes the person's files on the host (as root, one `unlink` per file after
//! re-reading it), marks their device-log rows revoked on 18+ like `_revoke`, proves it with one
//! of their sessions that Odoo accepted just before (asked from the host, so the id stays there),
//! and is recorded in the history as an action that cannot be rolled back.

use crate::change::record::{self, ActionRecord, InstanceRef};
use crate::diagnosis::Diagnosis;
use crate::error::EngineError;
use crate::facts::{Observed, SessionStore, AGE_BUCKETS};
use crate::report::chart::{self, Chart};
use crate::report::model::SessionsView;
use crate::version::human_duration;
use crate::words::count;
use osd_remote::{quote, Host};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::time::Duration;

/// The reader/deleter run on the host (Python, stdlib only).
const READER_PY: &str = include_str!("reader.py");
/// The device-log writer of a log-out on 18+ (Python + psycopg2, as Odoo's user), connected as
/// Odoo connects.
const REVOKE_PY: &str = concat!(
    include_str!("../odoo_connect.py"),
    include_str!("revoke.py")
);

/// One device a session was used from (18+: the session's `_trace`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Device {
    pub platform: Option<String>,
    pub browser: Option<String>,
    pub ip: Option<String>,
    /// Seconds since the last activity Odoo noted from it (at most hourly).
    pub last_seen_secs: Option<u64>,
}

impl Device {
    pub fn describe(&self) -> String {
        let what = match (&self.browser, &self.platform) {
            (Some(b), Some(p)) => format!("{b} on {p}"),
            (Some(b), None) => b.clone(),
            (None, Some(p)) => p.clone(),
            (None, None) => "unknown browser".to_string(),
        };
        match &self.ip {
            Some(ip) => format!("{what} from {ip}"),
            None => what,
        }
    }
}

/// One live session, named by its keyed hash (never its id).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SessionRow {
    /// A short keyed hash of the session's file name, stable within one listing only.
    pub key: String,
    /// Since Odoo last wrote the file: what the daily cleanup compares with the lifetime.
    pub written_secs: u64,
    /// Since the last activity Odoo knows of (the newer of the file write and the trace).
    pub idle_secs: u64,
    /// Since the person logged in, where the version records it (19's `create_time`, else the
    /// first activity of 18's trace); `None` on 16–17, which keep no such date.
    pub age_secs: Option<u64>,
    pub devices: Vec<Device>,
}

/// One person's sessions in one database.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct UserSessions {
    pub login: String,
    pub uid: Option<i64>,
    pub sessions: u64,
    /// The least idle of their sessions (when they were last active anywhere).
    pub idle_secs: u64,
    /// The longest since a write among their sessions (the first the cleanup will take).
    pub oldest_written_secs: u64,
    /// The oldest login among their sessions, where recorded.
    pub oldest_age_secs: Option<u64>,
    /// Distinct devices (browser, platform, IP) over their sessions.
    pub devices: Vec<Device>,
    pub rows: Vec<SessionRow>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct DbSessions {
    pub db: String,
    /// The lifetime in force there ("7 days", and what sets it).
    pub lifetime_secs: u64,
    pub lifetime: String,
    pub lifetime_set_by: String,
    pub users: Vec<UserSessions>,
    /// Sessions of this database nobody is logged in to (a visitor, a login page).
    pub anonymous: u64,
}

/// A file in the sessions folder that is not a readable session: counted and named by its
/// keyed hash and inode (`find DIR -inum N` finds it), never by its name, which is an id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct BadFile {
    pub key: String,
    pub inode: Option<u64>,
    pub owner: Option<String>,
    pub mode: Option<String>,
    pub size: Option<u64>,
    pub reason: String,
}

impl BadFile {
    pub fn describe(&self) -> String {
        let mut s = format!("file {}", self.key);
        if let Some(i) = self.inode {
            s.push_str(&format!(" (inode {i}"));
            if let (Some(o), Some(m)) = (&self.owner, &self.mode) {
                s.push_str(&format!(", owner {o}, mode {m}"));
            }
            s.push(')');
        }
        format!("{s}: {}", self.reason)
    }
}

/// Sessions of databases this instance does not serve: counted, never listed or touched.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct OtherDb {
    /// `None`: a session that names no database.
    pub db: Option<String>,
    pub sessions: u64,
}

/// After a lifetime fix: do sessions now outlive the old lifetime?
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Surviving {
    pub changeset: String,
    pub fixed_at: String,
    pub db: String,
    pub old_secs: u64,
    pub new_secs: u64,
    /// Sessions idle (unwritten) longer than the old lifetime: the old cleanup would have
    /// deleted them.
    pub older_than_old: u64,
    pub live: u64,
    pub oldest_written_secs: Option<u64>,
    /// The line to show.
    pub line: String,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SessionsReport {
    pub host: String,
    /// The instance, in words (port, config, version, service).
    pub instance: String,
    pub version: Option<String>,
    pub sessions_dir: String,
    /// The account the files were read as (Odoo's user: what Odoo itself can read).
    pub read_as: String,
    /// Every file in the folder, good or bad.
    pub files: u64,
    /// Sessions with a person logged in, in served databases.
    pub live: u64,
    pub databases: Vec<DbSessions>,
    pub other_databases: Vec<OtherDb>,
    pub bad: Vec<BadFile>,
    /// Session files by age of their last write, against the lifetimes (the report's chart).
    #[cfg_attr(feature = "ts", ts(type = "unknown"))]
    pub ages: SessionsView,
    #[cfg_attr(feature = "ts", ts(type = "unknown"))]
    pub chart: Chart,
    pub surviving: Option<Surviving>,
    /// One-line notes (a folder that does not exist, sessions from before an upgrade, …).
    pub notes: Vec<String>,
}

/// Whom to log out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Who {
    /// One login; `db` when the instance serves several databases.
    Login { login: String, db: Option<String> },
    /// Every person logged in (visitors' anonymous sessions are left alone).
    Everyone { db: Option<String> },
}

impl Who {
    pub fn describe(&self) -> String {
        match self {
            Who::Login {
                login,
                db: Some(db),
            } => format!("{login} (database {db})"),
            Who::Login { login, db: None } => login.clone(),
            Who::Everyone { db: Some(db) } => format!("everyone in database {db}"),
            Who::Everyone { db: None } => "everyone".to_string(),
        }
    }

    /// What the app asks the person to type to confirm.
    pub fn confirmation(&self) -> String {
        match self {
            Who::Login { login, .. } => login.clone(),
            Who::Everyone { .. } => "everyone".to_string(),
        }
    }

    fn db(&self) -> Option<&str> {
        match self {
            Who::Login { db, .. } | Who::Everyone { db } => db.as_deref(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct LoggedOutUser {
    pub db: String,
    pub login: String,
    pub sessions: u64,
}

/// What a log-out will do, before it is done.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct LogoutPreview {
    pub who: Who,
    pub users: Vec<LoggedOutUser>,
    pub sessions: u64,
    /// The text to type to confirm (the login, or `everyone`).
    pub confirm_with: String,
    /// What will happen, said plainly, including that it cannot be undone.
    pub text: String,
}

/// How the log-out was proved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum LogoutProof {
    /// A session Odoo accepted just before is refused now.
    Refused { before: String, after: String },
    /// The session Odoo accepted before still answers: the log-out did not take.
    StillAnswers { answer: String },
    /// None of their sessions answered before (already dead, Odoo down): only the files'
    /// absence proves it.
    NotTested { reason: String },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct LogoutOutcome {
    pub who: Who,
    pub deleted: u64,
    pub users: Vec<LoggedOutUser>,
    pub failed: Vec<BadFile>,
    /// 18+: device-log rows marked revoked; `None` before 18 (no device log).
    pub device_logs_revoked: Option<u64>,
    pub device_log_error: Option<String>,
    /// Their sessions still on disk after the deletion (a new log-in since counts).
    pub remaining: u64,
    pub proof: LogoutProof,
    /// The history record (an action, without rollback).
    pub record: Option<String>,
    pub record_error: Option<String>,
    /// Everything went as it should: files gone, proof not contradicting.
    pub ok: bool,
    pub text: String,
}

// ---------------------------------------------------------------------------------------------
// what the host prints

#[derive(Debug, Deserialize)]
struct HostListing {
    #[serde(default)]
    error: Option<String>,
    #[serde(default, rename = "as")]
    read_as: String,
    #[serde(default)]
    files: Vec<HostFile>,
}

#[derive(Debug, Deserialize)]
struct HostFile {
    #[serde(rename = "ref")]
    key: String,
    #[serde(default)]
    inode: Option<u64>,
    #[serde(default)]
    owner: Option<String>,
    #[serde(default)]
    mode: Option<String>,
    #[serde(default)]
    size: Option<u64>,
    #[serde(default)]
    written_age: u64,
    #[serde(default)]
    bad: Option<String>,
    #[serde(default)]
    format: Option<String>,
    #[serde(default)]
    uid: Option<i64>,
    #[serde(default)]
    login: Option<String>,
    #[serde(default)]
    db: Option<String>,
    #[serde(default)]
    rotated: bool,
    #[serde(default)]
    created_age: Option<u64>,
    #[serde(default)]
    devices: Vec<HostDevice>,
}

#[derive(Debug, Deserialize)]
struct HostDevice {
    platform: Option<String>,
    browser: Option<String>,
    ip: Option<String>,
    first_age: Option<u64>,
    last_age: Option<u64>,
}

#[derive(Debug, Deserialize)]
struct HostLogout {
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    deleted: u64,
    #[serde(default)]
    failed: Vec<HostFile>,
    #[serde(default)]
    by_user: Vec<LoggedOutUser>,
    #[serde(default)]
    revoked_rows: Option<u64>,
    #[serde(default)]
    revoke_error: Option<String>,
    #[serde(default)]
    probe: Option<HostProbe>,
    #[serde(default)]
    remaining: u64,
}

#[derive(Debug, Deserialize)]
struct HostProbe {
    before: String,
    #[serde(default)]
    after: Option<HostAnswer>,
}

#[derive(Debug, Deserialize)]
struct HostAnswer {
    alive: bool,
    answer: String,
}

// ---------------------------------------------------------------------------------------------
// the program on the host

/// A key for this run's hashes: random, never stored (hashes are stable within one listing).
fn run_key() -> String {
    use std::io::Read;
    let mut buf = [0u8; 16];
    if std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut buf))
        .is_err()
    {
        let seed = format!(
            "{:?}{}{:p}",
            std::time::SystemTime::now(),
            std::process::id(),
            &buf
        );
        buf.copy_from_slice(&crate::change::sha256_hex(seed.as_bytes()).as_bytes()[..16]);
    }
    hex::encode(buf)
}

/// The one script: finds the instance's Python as the change-set program does (the interpreter
/// of Odoo's own program), runs the reader as Odoo's user for a listing (what Odoo can read),
/// as root for a log-out (files may be root's). Its stdin is this script, so the reader gets
/// /dev/null and its input as one argument.
fn script(d: &Diagnosis, spec: &serde_json::Value, as_odoo: bool) -> String {
    let o = &d.facts.odoo;
    let user = if o.user.is_empty() { "root" } else { &o.user };
    format!(
        r#"export LC_ALL=C PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
PROGRAM={program}
SVCUSER={user}
py=
if [ -n "$PROGRAM" ] && [ -f "$PROGRAM" ]; then py=$(head -n1 -- "$PROGRAM" | sed -n 's/^#![[:space:]]*//p'); fi
[ -n "$py" ] || py=python3
cd /
if [ {as_odoo} = 1 ] && [ "$SVCUSER" != root ] && [ "$(id -un)" != "$SVCUSER" ]; then
  exec runuser -u "$SVCUSER" -- $py -c {reader} {spec} </dev/null
fi
exec $py -c {reader} {spec} </dev/null
"#,
        program = quote(o.program.as_deref().unwrap_or("")),
        user = quote(user),
        as_odoo = if as_odoo { 1 } else { 0 },
        reader = quote(READER_PY),
        spec = quote(&spec.to_string()),
    )
}

fn sessions_dir(d: &Diagnosis) -> Result<&SessionStore, EngineError> {
    match &d.facts.sessions {
        Observed::Seen(s) => Ok(s),
        Observed::Unknown(why) => Err(EngineError::Sessions {
            host: d.host.clone(),
            detail: format!("the sessions folder is not known: {why}"),
        }),
    }
}

fn run<T: for<'a> Deserialize<'a>>(
    host: &Host,
    d: &Diagnosis,
    spec: &serde_json::Value,
    as_odoo: bool,
) -> Result<T, EngineError> {
    let out = host.run_script(&script(d, spec, as_odoo), true, Duration::from_secs(300))?;
    let text = out.stdout_str();
    let line = text.lines().rev().find(|l| l.starts_with('{'));
    match line.map(serde_json::from_str::<T>) {
        Some(Ok(v)) => Ok(v),
        _ => Err(EngineError::Sessions {
            host: d.host.clone(),
            // Python's own error, which names no session (the reader prints ids nowhere).
            detail: format!(
                "the reader did not answer (exit {}): {}",
                out.status,
                out.stderr_str()
                    .lines()
                    .rev()
                    .find(|l| !l.trim().is_empty())
                    .unwrap_or("no output")
            ),
        }),
    }
}

/// The databases this instance serves (the only ones listed in detail or ever logged out).
fn served(d: &Diagnosis) -> Vec<String> {
    match &d.facts.db_scope {
        Some(s) => s.served.clone(),
        None => d
            .facts
            .db
            .seen()
            .map(|db| db.databases.iter().map(|x| x.name.clone()).collect())
            .unwrap_or_default(),
    }
}

fn major(d: &Diagnosis) -> u8 {
    d.facts.odoo.version.map(|v| v.major).unwrap_or(17)
}

// ---------------------------------------------------------------------------------------------
// listing

/// Who is logged in: one script on the host, then the judging here.
pub fn list(host: &Host, d: &Diagnosis, state_dir: &str) -> Result<SessionsReport, EngineError> {
    let store = sessions_dir(d)?;
    let mut notes = Vec::new();
    let listing = if store.exists {
        let spec = serde_json::json!({"mode": "list", "dir": store.path, "key": run_key()});
        let l: HostListing = run(host, d, &spec, true)?;
        if let Some(e) = l.error {
            return Err(EngineError::Sessions {
                host: d.host.clone(),
                detail: e,
            });
        }
        l
    } else {
        notes.push(format!(
            "{} does not exist: nobody has a session there (Odoo creates it at its first session).",
            store.path
        ));
        HostListing {
            error: None,
            read_as: d.facts.odoo.user.clone(),
            files: Vec::new(),
        }
    };
    // The change history, for "sessions are surviving" after a lifetime fix; a history that
    // cannot be read only loses that line.
    let history = record::history(host, state_dir).unwrap_or_default();
    Ok(judge(d, listing, &history, notes))
}

fn judge(
    d: &Diagnosis,
    listing: HostListing,
    history: &[record::Record],
    mut notes: Vec<String>,
) -> SessionsReport {
    let major = major(d);
    let served = served(d);
    let thresholds = crate::report::model::thresholds(d);
    let mut bad = Vec::new();
    let mut by_db: BTreeMap<String, (BTreeMap<String, UserSessions>, u64)> = BTreeMap::new();
    let mut other: BTreeMap<Option<String>, u64> = BTreeMap::new();
    let mut buckets = vec![0u64; AGE_BUCKETS.len()];
    let mut oldest: Option<u64> = None;
    let mut bytes = 0u64;
    let files = listing.files.len() as u64;
    for f in listing.files {
        bytes += f.size.unwrap_or(0);
        let wrong_format = match f.format.as_deref() {
            Some("pickle") if major >= 18 => Some(format!("a pickled session from before Odoo 18: Odoo {major} reads JSON only, so whoever it was is logged out already")),
            Some("json") if major < 18 => Some(format!("a JSON session (Odoo 18 or later wrote it): Odoo {major} cannot read it")),
            _ => None,
        };
        if let Some(reason) = f.bad.clone().or(wrong_format) {
            bad.push(BadFile {
                key: f.key,
                inode: f.inode,
                owner: f.owner,
                mode: f.mode,
                size: f.size,
                reason,
            });
            continue;
        }
        // 19's soft rotation leaves the old file for two minutes beside the new one: one session.
        if f.rotated {
            continue;
        }
        let i = AGE_BUCKETS
            .iter()
            .position(|b| f.written_age <= *b)
            .unwrap_or(AGE_BUCKETS.len() - 1);
        buckets[i] += 1;
        oldest = Some(oldest.map_or(f.written_age, |o: u64| o.max(f.written_age)));
        let Some(db) = f.db.clone().filter(|db| served.contains(db)) else {
            *other.entry(f.db.clone()).or_default() += 1;
            continue;
        };
        let entry = by_db.entry(db).or_default();
        let (Some(uid), login) = (f.uid, f.login.clone()) else {
            entry.1 += 1;
            continue;
        };
        let login = login.unwrap_or_else(|| format!("user id {uid}"));
        let devices: Vec<Device> = f
            .devices
            .iter()
            .map(|t| Device {
                platform: t.platform.clone(),
                browser: t.browser.clone(),
                ip: t.ip.clone(),
                last_seen_secs: t.last_age,
            })
            .collect();
        let last_activity = f.devices.iter().filter_map(|t| t.last_age).min();
        let first_activity = f.devices.iter().filter_map(|t| t.first_age).max();
        let row = SessionRow {
            key: f.key,
            written_secs: f.written_age,
            idle_secs: last_activity.map_or(f.written_age, |a| a.min(f.written_age)),
            age_secs: f.created_age.or(first_activity),
            devices,
        };
        let u = entry
            .0
            .entry(login.clone())
            .or_insert_with(|| UserSessions {
                login,
                uid: Some(uid),
                sessions: 0,
                idle_secs: u64::MAX,
                oldest_written_secs: 0,
                oldest_age_secs: None,
                devices: Vec::new(),
                rows: Vec::new(),
            });
        u.sessions += 1;
        u.idle_secs = u.idle_secs.min(row.idle_secs);
        u.oldest_written_secs = u.oldest_written_secs.max(row.written_secs);
        u.oldest_age_secs = match (u.oldest_age_secs, row.age_secs) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
        for dev in &row.devices {
            let same = |x: &Device| {
                x.platform == dev.platform && x.browser == dev.browser && x.ip == dev.ip
            };
            match u.devices.iter_mut().find(|x| same(x)) {
                Some(x) => {
                    x.last_seen_secs = match (x.last_seen_secs, dev.last_seen_secs) {
                        (Some(a), Some(b)) => Some(a.min(b)),
                        (a, b) => a.or(b),
                    }
                }
                None => u.devices.push(dev.clone()),
            }
        }
        u.rows.push(row);
    }
    let mut databases = Vec::new();
    for db in &served {
        let (users, anonymous) = by_db.remove(db).unwrap_or_default();
        let t = thresholds
            .iter()
            .find(|t| &t.db == db)
            .or(thresholds.first());
        let mut users: Vec<UserSessions> = users.into_values().collect();
        for u in &mut users {
            u.rows.sort_by_key(|r| r.idle_secs);
        }
        users.sort_by(|a, b| b.sessions.cmp(&a.sessions).then(a.login.cmp(&b.login)));
        databases.push(DbSessions {
            db: db.clone(),
            lifetime_secs: t.map_or(604_800, |t| t.secs),
            lifetime: t.map_or_else(|| "7 days".into(), |t| t.label.clone()),
            lifetime_set_by: t.map_or_else(String::new, |t| t.set_by.clone()),
            users,
            anonymous,
        });
    }
    let live: u64 = databases
        .iter()
        .flat_map(|d| &d.users)
        .map(|u| u.sessions)
        .sum();
    let other_databases: Vec<OtherDb> = other
        .into_iter()
        .map(|(db, sessions)| OtherDb { db, sessions })
        .collect();
    if !other_databases.is_empty() {
        notes.push(format!(
            "{} of databases this instance does not serve share its folder: counted, not listed, never logged out from here.",
            count(other_databases.iter().map(|o| o.sessions).sum::<u64>() as usize, "session", "sessions")
        ));
    }
    let store = SessionStore {
        path: d
            .facts
            .sessions
            .seen()
            .map(|s| s.path.clone())
            .unwrap_or_default(),
        exists: d.facts.sessions.seen().is_some_and(|s| s.exists),
        owner: None,
        group: None,
        mode: None,
        fs_type: d.facts.sessions.seen().and_then(|s| s.fs_type.clone()),
        mount_point: None,
        writable_by_service_user: None,
        files: buckets.iter().sum(),
        bytes,
        owners: BTreeMap::new(),
        ages: AGE_BUCKETS.iter().copied().zip(buckets).collect(),
        oldest_age_secs: oldest,
        newest_age_secs: None,
        space: None,
        mount_options: Vec::new(),
    };
    let ages = crate::report::model::sessions_view(&store, thresholds);
    let chart = chart::chart(&ages);
    let surviving = surviving(d, history, &databases);
    SessionsReport {
        host: d.host.clone(),
        instance: instance_words(d),
        version: d.facts.odoo.version.map(|v| v.to_string()),
        sessions_dir: store.path.clone(),
        read_as: listing.read_as,
        files,
        live,
        databases,
        other_databases,
        bad,
        ages,
        chart,
        surviving,
        notes,
    }
}

fn instance_words(d: &Diagnosis) -> String {
    let o = &d.facts.odoo;
    format!(
        "port {} config {} ({}{})",
        o.http_port(),
        o.config.as_ref().map_or("<none>", |c| c.path.as_str()),
        o.version.map(|v| format!("Odoo {v}, ")).unwrap_or_default(),
        o.service.describe()
    )
}

/// The last applied lifetime fix for a served database, against the sessions now.
fn surviving(
    d: &Diagnosis,
    history: &[record::Record],
    databases: &[DbSessions],
) -> Option<Surviving> {
    let (rec, p) = history
        .iter()
        .rev()
        .filter(|r| r.status == record::RecordStatus::Applied && r.belongs_to(&d.facts))
        .find_map(|r| {
            r.changeset
                .params
                .iter()
                .find(|p| {
                    p.key == crate::checks::session::LIFETIME_KEY
                        && databases.iter().any(|db| db.db == p.db)
                })
                .map(|p| (r, p))
        })?;
    let old = crate::checks::session::lifetime_secs(p.old.as_deref());
    let new = crate::checks::session::lifetime_secs(p.new.as_deref());
    let db = databases.iter().find(|x| x.db == p.db)?;
    let rows = db.users.iter().flat_map(|u| &u.rows);
    let live = rows.clone().count() as u64;
    let older = rows.clone().filter(|r| r.written_secs > old).count() as u64;
    let oldest = rows.map(|r| r.written_secs).max();
    let dur = |s: u64| human_duration(Duration::from_secs(s));
    let line = if older > 0 {
        format!(
            "Sessions are surviving: since the lifetime fix of {} ({} → {}), {} of {} in {} {} been idle longer than the old lifetime ({}); before the fix the daily cleanup deleted sessions after {} (the oldest now: {}).",
            rec.created_text,
            dur(old),
            dur(new),
            older,
            count(live as usize, "session", "sessions"),
            p.db,
            if older == 1 { "has" } else { "have" },
            dur(old),
            dur(old),
            oldest.map(dur).unwrap_or_default()
        )
    } else {
        format!(
            "No session has outlived the old lifetime ({}) yet since the lifetime fix of {} ({} → {}): {} in {}{}. Look again after {} to see sessions surviving.",
            dur(old),
            rec.created_text,
            dur(old),
            dur(new),
            count(live as usize, "session", "sessions"),
            p.db,
            oldest.map(|o| format!(", the oldest unwritten for {}", dur(o))).unwrap_or_default(),
            dur(old)
        )
    };
    Some(Surviving {
        changeset: rec.id.clone(),
        fixed_at: rec.created_text.clone(),
        db: p.db.clone(),
        old_secs: old,
        new_secs: new,
        older_than_old: older,
        live,
        oldest_written_secs: oldest,
        line,
    })
}

// ---------------------------------------------------------------------------------------------
// log-out

fn check_db(d: &Diagnosis, who: &Who) -> Result<Vec<String>, EngineError> {
    let served = served(d);
    match who.db() {
        Some(db) if !served.iter().any(|s| s == db) => Err(EngineError::SessionsChoice(format!(
            "this instance does not serve database {db} (it serves {}): sessions are only logged out in a database the instance serves",
            if served.is_empty() { "none that could be read".to_string() } else { served.join(", ") }
        ))),
        Some(db) => Ok(vec![db.to_string()]),
        None if served.is_empty() => Err(EngineError::SessionsChoice(
            "the databases this instance serves are not known (choose them with --database)".into(),
        )),
        None => Ok(served),
    }
}

/// What a log-out would do, from a listing: how many sessions of whom. Errors when it would
/// do nothing (an unknown login) or reach outside the instance's databases.
pub fn preview_logout(
    d: &Diagnosis,
    report: &SessionsReport,
    who: &Who,
) -> Result<LogoutPreview, EngineError> {
    let dbs = check_db(d, who)?;
    let mut users = Vec::new();
    for db in report.databases.iter().filter(|x| dbs.contains(&x.db)) {
        for u in &db.users {
            let wanted = match who {
                Who::Login { login, .. } => &u.login == login,
                Who::Everyone { .. } => true,
            };
            if wanted {
                users.push(LoggedOutUser {
                    db: db.db.clone(),
                    login: u.login.clone(),
                    sessions: u.sessions,
                });
            }
        }
    }
    let sessions: u64 = users.iter().map(|u| u.sessions).sum();
    if users.is_empty() {
        return Err(EngineError::SessionsChoice(match who {
            Who::Login { login, .. } => format!(
                "{login} has no session in {} right now: nothing to log out",
                dbs.join(", ")
            ),
            Who::Everyone { .. } => format!(
                "nobody is logged in to {} right now: nothing to log out",
                dbs.join(", ")
            ),
        }));
    }
    let list: Vec<String> = users
        .iter()
        .map(|u| {
            format!(
                "{} in {} ({})",
                u.login,
                u.db,
                count(u.sessions as usize, "session", "sessions")
            )
        })
        .collect();
    let device_log = if major(d) >= 18 {
        " and their devices are marked revoked in Odoo's device log (as Preferences → Devices → Log out does)"
    } else {
        ""
    };
    let text = format!(
        "Log out {}: {} will be deleted on {} ({}){device_log}. Whoever uses them is sent to the login page at their next click and loses any unsaved work. This cannot be undone: deleted sessions cannot be brought back, the people log in again.",
        who.describe(),
        count(sessions as usize, "session", "sessions"),
        d.host,
        list.join(", "),
    );
    Ok(LogoutPreview {
        who: who.clone(),
        confirm_with: who.confirmation(),
        users,
        sessions,
        text,
    })
}

/// Deletes the sessions, marks the device log revoked (18+), proves it, records it.
/// `confirmed` must be what [`LogoutPreview::confirm_with`] asks for.
pub fn log_out(
    host: &Host,
    d: &Diagnosis,
    who: &Who,
    confirmed: &str,
    state_dir: &str,
) -> Result<LogoutOutcome, EngineError> {
    if confirmed != who.confirmation() {
        return Err(EngineError::SessionsChoice(format!(
            "not confirmed: type {:?} to log out {}",
            who.confirmation(),
            who.describe()
        )));
    }
    let dbs = check_db(d, who)?;
    let store = sessions_dir(d)?;
    let o = &d.facts.odoo;
    let addr = o
        .option("http_interface")
        .filter(|a| !a.is_empty() && a != "0.0.0.0" && a != "::")
        .unwrap_or_else(|| "127.0.0.1".into());
    let host_header = d
        .facts
        .db_scope
        .as_ref()
        .and_then(|s| s.host_names.first().cloned());
    let spec = serde_json::json!({
        "mode": "logout",
        "dir": store.path,
        "key": run_key(),
        "dbs": dbs,
        "login": match who { Who::Login { login, .. } => Some(login.clone()), Who::Everyone { .. } => None },
        "major": major(d),
        "addr": addr,
        "port": o.http_port(),
        "host": host_header,
        "svcuser": if o.user.is_empty() { "root" } else { o.user.as_str() },
        "config": o.config.as_ref().map(|c| c.path.clone()),
        "revoke_py": REVOKE_PY,
    });
    let h: HostLogout = run(host, d, &spec, false)?;
    if let Some(e) = h.error {
        return Err(EngineError::Sessions {
            host: d.host.clone(),
            detail: e,
        });
    }
    let failed: Vec<BadFile> = h
        .failed
        .into_iter()
        .map(|f| BadFile {
            key: f.key,
            inode: f.inode,
            owner: f.owner,
            mode: f.mode,
            size: f.size,
            reason: f.bad.unwrap_or_default(),
        })
        .collect();
    let proof = match h.probe {
        Some(HostProbe {
            before,
            after: Some(a),
        }) if !a.alive => LogoutProof::Refused {
            before,
            after: a.answer,
        },
        Some(HostProbe { after: Some(a), .. }) => LogoutProof::StillAnswers { answer: a.answer },
        _ => LogoutProof::NotTested {
            reason: "none of their sessions was accepted by Odoo just before (already dead, or Odoo did not answer on its port): the files are gone, which is what logs a person out".into(),
        },
    };
    let device_logs_revoked = if major(d) >= 18 {
        Some(h.revoked_rows.unwrap_or(0))
    } else {
        None
    };
    let ok = failed.is_empty()
        && !matches!(proof, LogoutProof::StillAnswers { .. })
        && h.revoke_error.is_none();
    let mut text = format!(
        "Logged out {}: {} deleted",
        who.describe(),
        count(h.deleted as usize, "session", "sessions")
    );
    if let Some(n) = device_logs_revoked {
        text.push_str(&format!(
            ", {} marked revoked",
            count(n as usize, "device-log row", "device-log rows")
        ));
    }
    text.push('.');
    match &proof {
        LogoutProof::Refused { after, .. } => text.push_str(&format!(
            " One of their sessions that Odoo accepted just before is refused now ({after})."
        )),
        LogoutProof::StillAnswers { answer } => text.push_str(&format!(
            " But one of their sessions still answers ({answer}): the log-out did not take."
        )),
        LogoutProof::NotTested { reason } => text.push_str(&format!(" Not tested live: {reason}.")),
    }
    if !failed.is_empty() {
        text.push_str(&format!(
            " {} could not be deleted.",
            count(failed.len(), "session", "sessions")
        ));
    }
    if h.remaining > 0 {
        text.push_str(&format!(
            " {} of theirs on disk now (logged in again since?).",
            count(h.remaining as usize, "session", "sessions")
        ));
    }
    if let Some(e) = &h.revoke_error {
        text.push_str(&format!(" The device log could not be marked: {e}."));
    }
    text.push_str(" This cannot be undone.");
    let mut log = vec![text.clone()];
    for f in &failed {
        log.push(f.describe());
    }
    let action = ActionRecord {
        kind: "log_out".into(),
        summary: format!(
            "Logged out {}: {} deleted",
            who.describe(),
            count(h.deleted as usize, "session", "sessions")
        ),
        can_roll_back: false,
    };
    let (record, record_error) = if h.deleted > 0 || !failed.is_empty() {
        match record::record_action(host, state_dir, Some(InstanceRef::of(o)), action, log) {
            Ok(r) => (Some(r.id), None),
            Err(e) => (None, Some(e.to_string())),
        }
    } else {
        (None, None)
    };
    Ok(LogoutOutcome {
        who: who.clone(),
        deleted: h.deleted,
        users: h.by_user,
        failed,
        device_logs_revoked,
        device_log_error: h.revoke_error,
        remaining: h.remaining,
        proof,
        record,
        record_error,
        ok,
        text,
    })
}

// ---------------------------------------------------------------------------------------------
// text

/// "12 s", "9 min", "3 h", "2 days": ages in the listing, rounded down to the unit that says
/// how long at a glance.
pub fn age(secs: u64) -> String {
    match secs {
        s if s < 60 => format!("{s} s"),
        s if s < 3600 => format!("{} min", s / 60),
        s if s < 86_400 => format!("{} h", s / 3600),
        s => count((s / 86_400) as usize, "day", "days"),
    }
}

/// The listing as text, for the CLI (and anything else that wants words).
pub fn render(r: &SessionsReport) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Sessions on {} — {}\n  folder {} (read as {}): {}, {} logged in",
        r.host,
        r.instance,
        r.sessions_dir,
        r.read_as,
        count(r.files as usize, "file", "files"),
        count(r.live as usize, "session", "sessions"),
    );
    for db in &r.databases {
        let _ = writeln!(
            out,
            "\nDatabase {} — lifetime {} ({})",
            db.db, db.lifetime, db.lifetime_set_by
        );
        if db.users.is_empty() {
            let _ = writeln!(out, "  nobody logged in");
        }
        for u in &db.users {
            let since = u
                .oldest_age_secs
                .map(|a| format!(", logged in up to {} ago", age(a)))
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "  {:<20} {:>3} {}  idle {}{since}, oldest unwritten for {}",
                u.login,
                u.sessions,
                if u.sessions == 1 {
                    "session "
                } else {
                    "sessions"
                },
                age(u.idle_secs),
                age(u.oldest_written_secs),
            );
            for dev in &u.devices {
                let _ = writeln!(
                    out,
                    "      {}{}",
                    dev.describe(),
                    dev.last_seen_secs
                        .map(|s| format!(", last seen {} ago", age(s)))
                        .unwrap_or_default()
                );
            }
        }
        if db.anonymous > 0 {
            let _ = writeln!(
                out,
                "  and {} nobody is logged in to",
                count(db.anonymous as usize, "session", "sessions")
            );
        }
    }
    let _ = writeln!(
        out,
        "\nAge of the session files (since Odoo last wrote them):"
    );
    let max = r
        .ages
        .buckets
        .iter()
        .map(|b| b.count)
        .max()
        .unwrap_or(0)
        .max(1);
    for b in &r.ages.buckets {
        let bar = "█".repeat(((b.count * 30).div_ceil(max)) as usize);
        let mark = match b.against_lifetime.as_str() {
            "past" => "  past the lifetime",
            "straddles" => "  lifetime inside",
            _ => "",
        };
        let _ = writeln!(out, "  {:<16} {:>5} {bar}{mark}", b.label, b.count);
    }
    let _ = writeln!(out, "  {}", r.chart.description);
    if let Some(s) = &r.surviving {
        let _ = writeln!(out, "\n{}", s.line);
    }
    if !r.bad.is_empty() {
        let _ = writeln!(
            out,
            "\n{} that Odoo cannot use (named by hash and inode: find {} -inum N):",
            count(r.bad.len(), "file", "files"),
            r.sessions_dir
        );
        for b in &r.bad {
            let _ = writeln!(out, "  {}", b.describe());
        }
    }
    for n in &r.notes {
        let _ = writeln!(out, "\n{n}");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::change::ParamChange;

    fn diagnosis(fixture: &str) -> Diagnosis {
        let path = format!(
            "{}/tests/fixtures/facts/{fixture}.json",
            env!("CARGO_MANIFEST_DIR")
        );
        let text = std::fs::read_to_string(&path).unwrap();
        Diagnosis::from_facts(crate::facts::Facts::from_json(&text, &path).unwrap())
    }

    fn file(key: &str, db: Option<&str>, login: Option<&str>, format: &str, age: u64) -> HostFile {
        HostFile {
            key: key.into(),
            inode: Some(7),
            owner: Some("odoo".into()),
            mode: Some("644".into()),
            size: Some(200),
            written_age: age,
            bad: None,
            format: Some(format.into()),
            uid: login.map(|_| 2),
            login: login.map(str::to_string),
            db: db.map(str::to_string),
            rotated: false,
            created_age: None,
            devices: Vec::new(),
        }
    }

    fn listing(files: Vec<HostFile>) -> HostListing {
        HostListing {
            error: None,
            read_as: "odoo".into(),
            files,
        }
    }

    #[test]
    fn counts_per_person_and_sets_aside_what_odoo_cannot_use() {
        let d = diagnosis("devices-revoked"); // Odoo 18, database odoo
        let mut rotated = file("r1", Some("odoo"), Some("marc"), "json", 10);
        rotated.rotated = true;
        let mut traced = file("t1", Some("odoo"), Some("marc"), "json", 7200);
        traced.devices = vec![HostDevice {
            platform: Some("linux".into()),
            browser: Some("firefox".into()),
            ip: Some("10.0.0.5".into()),
            first_age: Some(86_400),
            last_age: Some(60),
        }];
        let mut broken = file("b1", None, None, "json", 5);
        broken.bad = Some("unreadable (JSONDecodeError)".into());
        broken.format = None;
        let r = judge(
            &d,
            listing(vec![
                traced,
                file("a1", Some("odoo"), Some("admin"), "json", 30),
                file("a2", Some("odoo"), Some("admin"), "json", 90),
                file("m2", Some("odoo"), Some("marc"), "json", 400),
                rotated,
                file("v1", Some("odoo"), None, "json", 5),
                file("o1", Some("elsewhere"), Some("bob"), "json", 5),
                file("p1", Some("odoo"), Some("lea"), "pickle", 5),
                broken,
            ]),
            &[],
            Vec::new(),
        );
        let db = &r.databases[0];
        let people: Vec<(&str, u64)> = db
            .users
            .iter()
            .map(|u| (u.login.as_str(), u.sessions))
            .collect();
        assert_eq!(people, [("admin", 2), ("marc", 2)]);
        assert_eq!(db.anonymous, 1);
        assert_eq!(r.live, 4);
        let marc = &db.users[1];
        // idle: the trace's last activity (60 s) beats the file's write (7200 s)
        assert_eq!(marc.idle_secs, 60);
        assert_eq!(marc.oldest_age_secs, Some(86_400));
        assert_eq!(marc.devices[0].describe(), "firefox on linux from 10.0.0.5");
        // a pickle on 18 is a leftover Odoo 18 cannot read; the broken file is named, not a crash
        let reasons: Vec<&str> = r.bad.iter().map(|b| b.reason.as_str()).collect();
        assert_eq!(reasons.len(), 2, "{reasons:?}");
        assert!(reasons[0].contains("reads JSON only"), "{reasons:?}");
        assert_eq!(
            r.other_databases,
            [OtherDb {
                db: Some("elsewhere".into()),
                sessions: 1
            }]
        );
        assert_eq!(
            r.ages.files, 6,
            "every usable session file but the rotated twin"
        );
        assert!(render(&r).contains("2 files that Odoo cannot use"));
    }

    #[test]
    fn sessions_surviving_after_a_lifetime_fix() {
        let d = diagnosis("short-lifetime"); // 17, lifetime 600 s
        let mut rec: record::Record = serde_json::from_value(serde_json::json!({
            "id": "20261202T100000Z-abcdef", "created": 0, "created_text": "2026-12-02T10:00:00Z",
            "by": "me", "host": "h", "status": "applied",
            "changeset": {"checks": [], "files": [], "params": [], "services": [], "reasons": [],
                          "interruption": "", "notes": []},
            "verification": [], "error": null, "log": []
        }))
        .unwrap();
        rec.changeset.params.push(ParamChange {
            db: "odoo".into(),
            key: crate::checks::session::LIFETIME_KEY.into(),
            old: Some("600".into()),
            new: Some("86400".into()),
            check: crate::checks::CheckId::SessionLifetime,
        });
        let two = listing(vec![
            file("a", Some("odoo"), Some("admin"), "pickle", 1800),
            file("b", Some("odoo"), Some("ana"), "pickle", 60),
        ]);
        let r = judge(&d, two, std::slice::from_ref(&rec), Vec::new());
        let s = r.surviving.unwrap();
        assert_eq!(
            (s.old_secs, s.new_secs, s.older_than_old, s.live),
            (600, 86400, 1, 2)
        );
        assert!(s.line.starts_with("Sessions are surviving"), "{}", s.line);
        let young = listing(vec![file("b", Some("odoo"), Some("ana"), "pickle", 60)]);
        let r = judge(&d, young, &[rec], Vec::new());
        assert!(r
            .surviving
            .unwrap()
            .line
            .starts_with("No session has outlived"));
    }

    #[test]
    fn a_log_out_stays_inside_the_databases_served() {
        let d = diagnosis("healthy");
        let r = judge(
            &d,
            listing(vec![file("a", Some("odoo"), Some("admin"), "pickle", 60)]),
            &[],
            Vec::new(),
        );
        let elsewhere = Who::Login {
            login: "admin".into(),
            db: Some("other".into()),
        };
        assert!(matches!(
            preview_logout(&d, &r, &elsewhere),
            Err(EngineError::SessionsChoice(_))
        ));
        let nobody = Who::Login {
            login: "ghost".into(),
            db: None,
        };
        assert!(preview_logout(&d, &r, &nobody).is_err());
        let p = preview_logout(&d, &r, &Who::Everyone { db: None }).unwrap();
        assert_eq!((p.sessions, p.confirm_with.as_str()), (1, "everyone"));
        assert!(p.text.contains("cannot be undone"));
    }
}
