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
//!   changesets/<id>/verification.json what the client verified after the restart, written with
//!                                     its confirmation or abort; wins over record.json's
//!   changesets/<id>/run.sh, events, … the change set's program and what it did
//! ```
//!
//! Every operation here is one command on the host whatever the number of files (issue 17: a
//! write per file cost a round trip each, two through sudo): files travel inside the script
//! ([`files_script`]), a record comes back as length-prefixed files ([`load`]).

use super::{ChangeSet, FileChange};
use crate::error::EngineError;
use osd_remote::{quote, Cmd, Host};
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

/// One file [`files_script`] writes: its name under the directory, its content, its mode.
pub struct NewFile {
    pub name: String,
    pub content: Vec<u8>,
    pub mode: u32,
}

impl NewFile {
    pub fn new(name: impl Into<String>, content: impl Into<Vec<u8>>, mode: u32) -> NewFile {
        NewFile {
            name: name.into(),
            content: content.into(),
            mode,
        }
    }
}

/// Shell that writes `files` into `dir` (made 0700, with any folder a name holds), each through
/// a private temp file that is checked against the SHA-256 of what was sent, fsynced and renamed
/// into place: any number of files in one command, where a write per file cost a round trip each
/// (two through sudo). Stops at the first file that fails, naming it on stderr. Contents travel
/// as base64 inside the script (binary-safe, and the script is all `sh -s` reads).
pub fn files_script(dir: &str, files: &[NewFile]) -> String {
    use base64::Engine as _;
    let mut s = format!(
        r#"d={dir}
mkdir -p -m 700 -- "$d" || exit 1
umask 077
put() {{
  f="$d/$1"; t="$f.osd-tmp"
  mkdir -p -- "${{f%/*}}" && base64 -d > "$t" && chmod "$2" "$t" && s=$(sha256sum < "$t") \
    && [ "${{s%% *}}" = "$3" ] && {{ sync -- "$t" 2>/dev/null || sync; }} && mv -f -- "$t" "$f" \
    || {{ rm -f -- "$t"; echo "could not write $f" >&2; exit 1; }}
}}
"#,
        dir = quote(dir)
    );
    for f in files {
        let b64 = base64::engine::general_purpose::STANDARD.encode(&f.content);
        let mut wrapped = String::with_capacity(b64.len() + b64.len() / 76 + 1);
        for chunk in b64.as_bytes().chunks(76) {
            wrapped.push_str(std::str::from_utf8(chunk).expect("base64 is ASCII"));
            wrapped.push('\n');
        }
        s.push_str(&format!(
            "put {} {:o} {} <<'OSD_END'\n{wrapped}OSD_END\n",
            quote(&f.name),
            f.mode & 0o7777,
            super::sha256_hex(&f.content)
        ));
    }
    s
}

/// Runs a script on the host as root (the records are root's); a failure is an error naming
/// `what` with the script's own words.
pub(crate) fn run_as_root(
    host: &Host,
    what: &str,
    script: &str,
) -> Result<osd_remote::Output, EngineError> {
    let out = host.run_script(script, true, Duration::from_secs(60))?;
    if out.ok() {
        Ok(out)
    } else {
        Err(osd_remote::RemoteError::CommandFailed {
            host: host.name().to_string(),
            command: what.to_string(),
            status: out.status,
            stderr: out.stderr_str().trim().to_string(),
        }
        .into())
    }
}

impl Record {
    /// A new record made now by the connected login, its log opened with `log` (lines without
    /// their time: each gets the time of now).
    pub fn new(
        host: &Host,
        root: &str,
        id: String,
        status: RecordStatus,
        changeset: ChangeSet,
        instance: Option<InstanceRef>,
        log: Vec<String>,
    ) -> Record {
        Record {
            id,
            created: unix_now(),
            created_text: now_text(),
            by: crate::who::with_login(Some(host.user())),
            host: host.name().to_string(),
            instance,
            undone: None,
            status,
            changeset,
            verification: Vec::new(),
            error: None,
            log: log
                .into_iter()
                .map(|l| format!("{} {l}", now_text()))
                .collect(),
            action: None,
            root: root.to_string(),
        }
    }

    pub fn dir(&self) -> String {
        format!("{}/changesets/{}", self.root, self.id)
    }

    /// The files that make the record itself, record.json and status: written last, so a
    /// record.json present means the record is whole.
    fn own_files(&self) -> [NewFile; 2] {
        [
            NewFile::new(
                "record.json",
                serde_json::to_vec_pretty(self).expect("record serializes"),
                0o600,
            ),
            NewFile::new("status", format!("{}\n", self.status.as_str()), 0o600),
        ]
    }

    /// The before- and after-images of its files.
    fn images(&self) -> Vec<NewFile> {
        let mut v = Vec::with_capacity(self.changeset.files.len() * 2);
        for (i, f) in self.changeset.files.iter().enumerate() {
            v.push(NewFile::new(format!("before/{i}"), f.before.clone(), 0o600));
            v.push(NewFile::new(format!("after/{i}"), f.after.clone(), 0o600));
        }
        v
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

/// Creates the record on the host (before anything is touched) with the before- and after-images,
/// in one command. `instance`: the Odoo instance it is made for.
pub fn create(
    host: &Host,
    root: &str,
    id: &str,
    cs: &ChangeSet,
    instance: Option<InstanceRef>,
) -> Result<Record, EngineError> {
    let rec = recorded(host, root, id, cs, instance);
    write(host, &rec, Vec::new())?;
    Ok(rec)
}

/// A change set's record as [`create`] saves it, not yet written.
pub fn recorded(
    host: &Host,
    root: &str,
    id: &str,
    cs: &ChangeSet,
    instance: Option<InstanceRef>,
) -> Record {
    Record::new(
        host,
        root,
        id.to_string(),
        RecordStatus::Recorded,
        cs.clone(),
        instance,
        vec!["recorded".into()],
    )
}

/// Writes a new record whole: its images, then `extra` files beside it (the change set's
/// program), then record.json and status — one command.
pub fn write(host: &Host, rec: &Record, extra: Vec<NewFile>) -> Result<(), EngineError> {
    let mut files = rec.images();
    files.extend(extra);
    files.extend(rec.own_files());
    run_as_root(
        host,
        &format!("save the record of change set {} in {}", rec.id, rec.dir()),
        &files_script(&rec.dir(), &files),
    )?;
    Ok(())
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
    let mut rec = Record::new(
        host,
        root,
        new_id(&ChangeSet::default()),
        RecordStatus::Applied,
        ChangeSet::default(),
        instance,
        log,
    );
    rec.action = Some(action);
    save(host, &rec)?;
    Ok(rec)
}

/// Saves record.json and status (one command).
pub fn save(host: &Host, rec: &Record) -> Result<(), EngineError> {
    run_as_root(
        host,
        &format!("save the record of change set {} in {}", rec.id, rec.dir()),
        &files_script(&rec.dir(), &rec.own_files()),
    )?;
    Ok(())
}

/// The verification rows as the file saved beside the record (`verification.json`, which wins
/// over record.json's): the client writes it with its confirmation or abort, in one command.
pub fn verification_file(rows: &[Verification]) -> NewFile {
    NewFile::new(
        "verification.json",
        serde_json::to_vec_pretty(rows).expect("rows serialize"),
        0o600,
    )
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

/// Loads a record with its file images (`before`/`after` filled in), in one command.
pub fn load(host: &Host, root: &str, id: &str) -> Result<Record, EngineError> {
    if id.is_empty() || !id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        return Err(EngineError::BadChangeSetId { id: id.to_string() });
    }
    let dir = format!("{root}/changesets/{id}");
    // Each file as its length and its bytes (images are any bytes), each copied first so the
    // length is that of what is sent even while the host's program replaces the file.
    let script = format!(
        r#"d={dir}
[ -f "$d/record.json" ] || exit 3
t=$(mktemp) || exit 1
trap 'rm -f -- "$t"' EXIT
emit() {{ if cat -- "$1" > "$t" 2>/dev/null; then wc -c < "$t"; cat -- "$t"; else echo -; fi; }}
emit "$d/record.json"; emit "$d/status"; emit "$d/reason"; emit "$d/verification.json"
i=0; while [ -f "$d/before/$i" ]; do emit "$d/before/$i"; emit "$d/after/$i"; i=$((i + 1)); done"#,
        dir = quote(&dir)
    );
    let out = host.run_script(&script, true, Duration::from_secs(60))?;
    let damaged = |detail: String| EngineError::DamagedRecord {
        host: host.name().to_string(),
        id: id.to_string(),
        detail,
    };
    match out.status {
        0 => {}
        3 => {
            return Err(EngineError::NoSuchChangeSet {
                host: host.name().to_string(),
                id: id.to_string(),
            })
        }
        _ => {
            return Err(osd_remote::RemoteError::CommandFailed {
                host: host.name().to_string(),
                command: format!("read the record in {dir}"),
                status: out.status,
                stderr: out.stderr_str().trim().to_string(),
            }
            .into())
        }
    }
    let mut files = LengthPrefixed(&out.stdout);
    let mut next = || files.next().map_err(&damaged);
    let json = next()?.unwrap_or_default();
    let mut rec: Record = serde_json::from_slice(&json).map_err(|e| damaged(e.to_string()))?;
    rec.root = root.to_string();
    let status = next()?.unwrap_or_default();
    let reason = next()?.unwrap_or_default();
    if let Some(rows) = next()? {
        rec.verification = serde_json::from_slice(&rows).map_err(|e| damaged(e.to_string()))?;
    }
    merge_host_state(
        &mut rec,
        &String::from_utf8_lossy(&status),
        &String::from_utf8_lossy(&reason),
    );
    for (i, f) in rec.changeset.files.iter_mut().enumerate() {
        let missing = || damaged(format!("the image of file {i} ({}) is missing", f.path));
        f.before = next()?.ok_or_else(missing)?;
        f.after = next()?.ok_or_else(missing)?;
    }
    Ok(rec)
}

/// Reads what `emit` in [`load`]'s script prints: per file its length on a line, then its
/// bytes, or `-` for a file that is absent.
struct LengthPrefixed<'a>(&'a [u8]);

impl LengthPrefixed<'_> {
    fn next(&mut self) -> Result<Option<Vec<u8>>, String> {
        let nl = self
            .0
            .iter()
            .position(|&b| b == b'\n')
            .ok_or("the record ended early")?;
        let head = String::from_utf8_lossy(&self.0[..nl]).trim().to_string();
        let rest = &self.0[nl + 1..];
        if head == "-" {
            self.0 = rest;
            return Ok(None);
        }
        let n: usize = head
            .parse()
            .map_err(|_| format!("unexpected length {head:?}"))?;
        if rest.len() < n {
            return Err("the record ended early".into());
        }
        self.0 = &rest[n..];
        Ok(Some(rest[..n].to_vec()))
    }
}

/// Every record on the host, oldest first, in one command (without file images).
pub fn history(host: &Host, root: &str) -> Result<Vec<Record>, EngineError> {
    let script = format!(
        "for f in {root}/changesets/*/record.json; do [ -f \"$f\" ] || continue; d=${{f%/record.json}}; cat \"$f\"; printf '\\037'; cat \"$d/status\" 2>/dev/null; printf '\\037'; cat \"$d/reason\" 2>/dev/null; printf '\\037'; cat \"$d/verification.json\" 2>/dev/null; printf '\\n\\036\\n'; done",
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
            if let Some(rows) = parts
                .next()
                .and_then(|v| serde_json::from_str(v.trim()).ok())
            {
                r.verification = rows;
            }
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
    lock_and_hash(host, root, holder, &[]).map(|(lock, _)| lock)
}

/// Takes the lock and, holding it, the SHA-256 of each of `paths` (`None`: absent or not a
/// regular file; links are followed): one command, so an apply checks that nothing changed
/// since its plan in the same round trip that stops anyone else from changing it.
pub fn lock_and_hash<'h>(
    host: &'h Host,
    root: &str,
    holder: &str,
    paths: &[&str],
) -> Result<(Lock<'h>, Vec<Option<String>>), EngineError> {
    let dir = format!("{root}/lock");
    let mut script = format!(
        r#"r={root}; l={lock}
mkdir -p -m 700 -- "$r" || exit 1
if ! mkdir -m 700 -- "$l" 2>/dev/null; then
  [ -d "$l" ] || {{ echo "cannot create $l" >&2; exit 1; }}
  echo locked; cat -- "$l/owner" 2>/dev/null; exit 0
fi
printf '%s\n' {owner} > "$l/owner.tmp" && mv -f -- "$l/owner.tmp" "$l/owner" || {{ rm -rf -- "$l"; exit 1; }}
echo held
hash() {{ if [ -f "$1" ] && s=$(sha256sum < "$1"); then echo "${{s%% *}}"; else echo -; fi; }}
"#,
        root = quote(root),
        lock = quote(&dir),
        owner = quote(&format!("{holder} since {}", now_text())),
    );
    for p in paths {
        script.push_str(&format!("hash {}\n", quote(p)));
    }
    let out = run_as_root(host, &format!("take the lock {dir}"), &script)?;
    let text = out.stdout_str();
    let mut lines = text.lines();
    match lines.next() {
        Some("held") => {}
        Some("locked") => {
            return Err(EngineError::Locked {
                host: host.name().to_string(),
                owner: lines.collect::<Vec<_>>().join("\n").trim().to_string(),
            })
        }
        _ => {
            return Err(osd_remote::RemoteError::UnexpectedOutput {
                host: host.name().to_string(),
                command: format!("take the lock {dir}"),
                detail: text.chars().take(200).collect(),
            }
            .into())
        }
    }
    let lock = Lock {
        host,
        dir,
        held: true,
    };
    let hashes: Vec<Option<String>> = lines.map(|l| (l != "-").then(|| l.to_string())).collect();
    if hashes.len() != paths.len() {
        return Err(osd_remote::RemoteError::UnexpectedOutput {
            host: host.name().to_string(),
            command: format!("hash the files under the lock {}", lock.dir),
            detail: format!("{} hashes for {} files", hashes.len(), paths.len()),
        }
        .into());
    }
    Ok((lock, hashes))
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

#[cfg(test)]
mod tests {
    use super::*;

    /// What `load`'s script prints is read back byte for byte: images with newlines, NULs and
    /// the separator-like bytes a config file could hold, absent files, and a cut short output.
    #[test]
    fn length_prefixed_files_read_back_exactly() {
        let image: &[u8] = b"a\n\x00\x1e\x1f-\n12\n";
        let mut out = format!("{}\n", image.len()).into_bytes();
        out.extend_from_slice(image);
        out.extend_from_slice(b"-\n0\n");
        let mut r = LengthPrefixed(&out);
        assert_eq!(r.next().unwrap().as_deref(), Some(image));
        assert_eq!(r.next().unwrap(), None);
        assert_eq!(r.next().unwrap().as_deref(), Some(&b""[..]));
        assert!(
            r.next().is_err(),
            "nothing left is an error, not an empty file"
        );
        assert!(LengthPrefixed(b"5\nabc").next().is_err());
        assert!(LengthPrefixed(b"x\nabc").next().is_err());
    }

    /// Every file travels as base64 with its SHA-256 and mode; the heredoc's end word cannot
    /// occur in base64.
    #[test]
    fn files_script_carries_each_file_with_its_hash() {
        let s = files_script(
            "/var/lib/odoo-session-doctor/changesets/x",
            &[
                NewFile::new("before/0", &b"admin_passwd = s3cret\n"[..], 0o600),
                NewFile::new("run.sh", &b"#!/bin/sh\n"[..], 0o700),
            ],
        );
        assert!(!s.contains("s3cret"), "contents are encoded, not pasted");
        assert!(s.contains(&format!(
            "put before/0 600 {} <<'OSD_END'",
            super::super::sha256_hex(b"admin_passwd = s3cret\n")
        )));
        assert!(s.contains("put run.sh 700 "));
        assert!(
            !base64::Engine::encode(&base64::engine::general_purpose::STANDARD, [0xffu8; 300])
                .contains("OSD_END")
        );
    }
}
