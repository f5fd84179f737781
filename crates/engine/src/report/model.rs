//! The report's data: one owned value, built from a diagnosis (optionally the diagnosis from before
//! a fix, and the host's change-set records), that every format renders and that JSON carries in
//! full (docs/report-json.md).
//!
//! Everything a renderer shows is decided here, in plain data: the manager's overview, the next
//! steps in checklist order, the undo instructions. Renderers only lay it out, so the HTML, the
//! Markdown and the JSON can never disagree.
//!
//! The clock lives in [`Meta`] alone: the rest (the "comparable part", [`ReportModel::comparable`])
//! is the same whenever the same server state is reported again, which is what golden tests and
//! "did anything change since last week" comparisons need.

use super::text;
use crate::change::effect::{Effect, EffectState};
use crate::change::record::{Record, RecordStatus};
use crate::change::ServiceAction;
use crate::checks::{self, Finding, Status};
use crate::diagnosis::Diagnosis;
use crate::facts::{Observed, SessionStore, AGE_BUCKETS};
use crate::version::{human_duration, VersionSource, DEFAULT_LIFETIME};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// The value of `schema` in every report this version writes; readers refuse other majors.
pub const SCHEMA: &str = "odoo-session-doctor/report/v1";

/// What the product calls itself in reports.
pub const PRODUCT: &str = "Odoo Session Doctor";

/// The product's command, as a person types it (undo and next-step commands).
pub const CLI: &str = "odoo-session-doctor";

/// The whole report of one server. Field order is the JSON order and stays stable.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportModel {
    pub schema: String,
    /// When, by whom, with which product version: the only part that changes between two runs
    /// on an unchanged server.
    pub meta: Meta,
    pub server: Server,
    pub verdict: VerdictView,
    pub counts: Counts,
    /// The manager's summary, in plain words.
    pub overview: Overview,
    /// The state before the fix, when the report compares two diagnoses.
    pub before: Option<BeforeSummary>,
    /// Every check, in checklist order ([`checks::CHECK_IDS`]).
    pub checks: Vec<CheckReport>,
    pub sessions: Sessions,
    /// This instance's change sets, oldest first, each with its state now.
    pub changes: Vec<ChangeReport>,
    /// What is still not ok, in checklist order, with what to do about it.
    pub next_steps: Vec<NextStep>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Meta {
    pub product: String,
    pub product_version: String,
    /// RFC 3339, UTC, seconds.
    pub generated_at: String,
    /// Who made the report: the local user and machine, and the SSH login when there is one.
    pub generated_by: String,
}

impl Meta {
    /// Stamped now, by `generated_by`, with this build's version.
    pub fn now(generated_by: impl Into<String>) -> Meta {
        Meta::at(
            humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string(),
            generated_by,
        )
    }

    /// A fixed stamp (tests, or re-rendering a saved report with its own time).
    pub fn at(generated_at: impl Into<String>, generated_by: impl Into<String>) -> Meta {
        Meta {
            product: PRODUCT.to_string(),
            product_version: env!("CARGO_PKG_VERSION").to_string(),
            generated_at: generated_at.into(),
            generated_by: generated_by.into(),
        }
    }
}

/// The statuses of a check, as the report names them (the engine's [`Status`], deserializable).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckStatus {
    Ok,
    Skip,
    Unknown,
    Warn,
    Fail,
}

impl From<Status> for CheckStatus {
    fn from(s: Status) -> Self {
        match s {
            Status::Ok => CheckStatus::Ok,
            Status::Skip => CheckStatus::Skip,
            Status::Unknown => CheckStatus::Unknown,
            Status::Warn => CheckStatus::Warn,
            Status::Fail => CheckStatus::Fail,
        }
    }
}

impl CheckStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            CheckStatus::Ok => "ok",
            CheckStatus::Skip => "skip",
            CheckStatus::Unknown => "unknown",
            CheckStatus::Warn => "warn",
            CheckStatus::Fail => "fail",
        }
    }

    /// The mark the CLI prints: ✓ ! ✗ - ?
    pub fn mark(self) -> &'static str {
        match self {
            CheckStatus::Ok => "✓",
            CheckStatus::Warn => "!",
            CheckStatus::Fail => "✗",
            CheckStatus::Skip => "-",
            CheckStatus::Unknown => "?",
        }
    }

    /// The status in words a manager reads.
    pub fn word(self) -> &'static str {
        match self {
            CheckStatus::Ok => "OK",
            CheckStatus::Warn => "To improve",
            CheckStatus::Fail => "Problem",
            CheckStatus::Skip => "Not applicable",
            CheckStatus::Unknown => "Could not check",
        }
    }

    /// Still needs attention (the report lists it under remaining risks).
    pub fn open(self) -> bool {
        matches!(
            self,
            CheckStatus::Warn | CheckStatus::Fail | CheckStatus::Unknown
        )
    }
}

/// Who the server is: enough to be sure the report is about the right machine.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Server {
    /// What to give the CLI to reach this server again (`root@odoo.example.com`, an ssh alias).
    pub target: String,
    /// The host as the connection names it (`root@10.0.0.5:22`).
    pub name: String,
    /// The name the person saved the server under ("Production"): the report's title when set.
    #[serde(default)]
    pub saved_name: Option<String>,
    /// `SHA256:…` of the SSH host key that was verified when connecting.
    pub host_key_fingerprint: Option<String>,
    pub os: String,
    pub kernel: String,
    pub cpus: u32,
    pub memory_bytes: u64,
    pub odoo_version: Option<String>,
    /// Where the version came from: "the running server" or "release.py".
    pub odoo_version_source: Option<String>,
    pub config_path: Option<String>,
    /// The service manager and unit/program ("supervisor program odoo").
    pub service: String,
    pub service_user: String,
    pub data_dir: String,
    pub data_dir_source: String,
    /// How many Odoo instances run on the host (the report is about one).
    pub instances: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerdictView {
    pub status: CheckStatus,
    pub line: String,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    pub ok: usize,
    pub warn: usize,
    pub fail: usize,
    pub skip: usize,
    pub unknown: usize,
}

impl Counts {
    fn of<'a>(statuses: impl Iterator<Item = CheckStatus> + 'a) -> Counts {
        let mut c = Counts::default();
        for s in statuses {
            match s {
                CheckStatus::Ok => c.ok += 1,
                CheckStatus::Warn => c.warn += 1,
                CheckStatus::Fail => c.fail += 1,
                CheckStatus::Skip => c.skip += 1,
                CheckStatus::Unknown => c.unknown += 1,
            }
        }
        c
    }
}

/// The first screen: what users see, what was done, what is left.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Overview {
    pub headline: String,
    pub users_see: Vec<String>,
    pub done: Vec<String>,
    pub left: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BeforeSummary {
    pub verdict: VerdictView,
    pub counts: Counts,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckReport {
    pub id: String,
    pub status: CheckStatus,
    pub title: String,
    pub summary: String,
    pub users_see: String,
    pub why: String,
    pub evidence: Vec<EvidenceItem>,
    pub version_note: Option<String>,
    pub references: Vec<Link>,
    pub fixes: Vec<FixView>,
    /// This check in the "before" diagnosis, when there is one.
    pub before: Option<BeforeState>,
    /// Change sets (ids) that changed something for this check.
    pub changed_by: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EvidenceItem {
    /// `file:line`, or the command that was run.
    pub source: String,
    pub excerpt: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Link {
    pub label: String,
    pub url: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FixView {
    pub title: String,
    pub choices: Vec<ChoiceView>,
    pub default: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChoiceView {
    pub value: String,
    pub label: String,
    pub warning: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BeforeState {
    pub status: CheckStatus,
    pub summary: String,
}

/// The session store, for the age chart. `state` is `seen` or `unknown`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Sessions {
    Seen(SessionsView),
    Unknown { reason: String },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionsView {
    pub path: String,
    pub exists: bool,
    pub files: u64,
    pub bytes: u64,
    pub fs_type: Option<String>,
    pub oldest_age_secs: Option<u64>,
    /// Files counted by the age of their last change, youngest first.
    pub buckets: Vec<AgeBucket>,
    /// The lifetime each database enforces, shortest first.
    pub thresholds: Vec<Threshold>,
    /// Files in buckets wholly older than the shortest lifetime: Odoo's cleanup should have
    /// deleted them (a lower bound: a bucket that straddles the line is not counted).
    pub past_lifetime: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgeBucket {
    pub from_secs: u64,
    /// `None`: no upper bound.
    pub to_secs: Option<u64>,
    /// "1 – 7 days".
    pub label: String,
    /// "1d–7d", for the chart's axis.
    pub short: String,
    pub count: u64,
    /// Against the shortest lifetime: `alive`, `straddles` or `past`.
    pub against_lifetime: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Threshold {
    pub db: String,
    pub secs: u64,
    /// "7 days".
    pub label: String,
    /// "sessions.max_inactivity_seconds = 600" or "Odoo's default".
    pub set_by: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeReport {
    pub id: String,
    /// The record's status: recorded, applying, applied, rolled_back, undone, rollback_failed.
    pub status: String,
    /// Its state now: `in_effect` (applied and re-checked), `no_longer_in_effect`, `applied` (not
    /// re-checked), `rolled_back` (on request), `rolled_back_automatically` (after a failure),
    /// `applying`, `recorded` or `rollback_failed`. Empty in reports made before it existed.
    #[serde(default)]
    pub state: String,
    /// The state in a few words, for the badge.
    #[serde(default)]
    pub state_words: String,
    /// The status in a sentence.
    pub status_text: String,
    /// When it was recorded (the record's own time; part of the server's history, not of this report).
    pub recorded: String,
    pub by: String,
    pub checks: Vec<String>,
    pub reasons: Vec<CheckText>,
    pub interruption: String,
    pub notes: Vec<CheckText>,
    pub files: Vec<FileView>,
    pub params: Vec<ParamView>,
    pub services: Vec<ServiceView>,
    pub verification: Vec<VerificationView>,
    pub error: Option<String>,
    /// How to undo it; `None` when there is nothing left to undo.
    pub undo: Option<Undo>,
    /// The audit trail, as recorded on the host.
    pub log: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckText {
    pub check: String,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileView {
    pub path: String,
    pub owner: String,
    pub group: String,
    /// Octal, as `ls`/`chmod` show it: "0640".
    pub mode: String,
    pub checks: Vec<String>,
    /// Unified diff; secrets are `********`.
    pub diff: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParamView {
    pub db: String,
    pub key: String,
    /// `None`: the parameter did not exist.
    pub old: Option<String>,
    /// `None`: the parameter is deleted.
    pub new: Option<String>,
    pub check: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceView {
    /// `reload_nginx` or `restart_odoo`.
    pub action: String,
    pub description: String,
    pub command: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerificationView {
    pub check: String,
    pub persisted: bool,
    pub detail: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Undo {
    pub changeset: String,
    /// Where the button is in the app.
    pub app: String,
    /// The same on the command line.
    pub cli: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NextStep {
    pub check: String,
    pub status: CheckStatus,
    pub title: String,
    /// What can still go wrong, in plain words.
    pub risk: String,
    /// What to do about it.
    pub action: String,
    /// The command that does it, when the product can.
    pub command: Option<String>,
}

/// What a report is made of.
#[derive(Clone, Copy)]
pub struct Inputs<'a> {
    /// The current state (after the fix, when there was one).
    pub diagnosis: &'a Diagnosis,
    /// The state before the fix, for the side-by-side comparison.
    pub before: Option<&'a Diagnosis>,
    /// The host's change-set records ([`crate::change::record::history`]).
    pub records: &'a [Record],
    /// How the person reached the server (for the commands in the report); default: the host name.
    pub target: Option<&'a str>,
    /// The name the server was saved under, the report's title ("Production").
    pub saved_name: Option<&'a str>,
    /// The applied change sets re-checked now ([`crate::change::effect::check`]).
    pub effects: &'a [Effect],
}

impl<'a> Inputs<'a> {
    pub fn new(diagnosis: &'a Diagnosis) -> Inputs<'a> {
        Inputs {
            diagnosis,
            before: None,
            records: &[],
            target: None,
            saved_name: None,
            effects: &[],
        }
    }
}

impl ReportModel {
    /// Builds the report. Every string that goes in is scrubbed of the secrets odoo.conf holds,
    /// on top of the redaction the engine already does (defence in depth: a report is the one
    /// output people paste into tickets).
    pub fn build(inputs: Inputs<'_>, meta: Meta) -> ReportModel {
        let d = inputs.diagnosis;
        let target = inputs
            .target
            .map(str::to_string)
            .unwrap_or_else(|| d.host.clone());
        // Only this instance's change sets: the records on a host with several instances hold
        // every instance's.
        let records: Vec<&Record> = inputs
            .records
            .iter()
            .filter(|r| r.belongs_to(&d.facts))
            .collect();
        let checks = check_reports(&d.checks, inputs.before, &records);
        let changes: Vec<ChangeReport> = records
            .iter()
            .map(|r| {
                let effect = inputs.effects.iter().find(|e| e.changeset == r.id);
                change_report(r, effect, &target)
            })
            .collect();
        let next_steps = next_steps(&checks, &target);
        let counts = Counts::of(checks.iter().map(|c| c.status));
        let verdict = VerdictView {
            status: d.verdict.status.into(),
            line: d.verdict.line.clone(),
        };
        let before = inputs.before.map(|b| BeforeSummary {
            verdict: VerdictView {
                status: b.verdict.status.into(),
                line: b.verdict.line.clone(),
            },
            counts: Counts::of(b.checks.iter().map(|c| CheckStatus::from(c.status))),
        });
        let overview = overview(
            &verdict,
            &counts,
            &checks,
            &changes,
            &next_steps,
            before.as_ref(),
        );
        let model = ReportModel {
            schema: SCHEMA.to_string(),
            meta,
            server: server(d, target, inputs.saved_name),
            verdict,
            counts,
            overview,
            before,
            checks,
            sessions: sessions(d),
            changes,
            next_steps,
        };
        let mut secrets = secrets_of(d);
        if let Some(b) = inputs.before {
            secrets.extend(secrets_of(b));
        }
        scrub(model, &secrets)
    }

    /// This report with `before` (an earlier report of the same server, e.g. saved as JSON before
    /// a fix) as its "before" side: each check's earlier status beside its current one.
    pub fn compare_with(mut self, before: &ReportModel) -> ReportModel {
        for c in &mut self.checks {
            c.before = before.check(&c.id).map(|b| BeforeState {
                status: b.status,
                summary: b.summary.clone(),
            });
        }
        self.before = Some(BeforeSummary {
            verdict: before.verdict.clone(),
            counts: before.counts,
        });
        self.overview = overview(
            &self.verdict,
            &self.counts,
            &self.checks,
            &self.changes,
            &self.next_steps,
            self.before.as_ref(),
        );
        self
    }

    /// The report without [`Meta`]: equal for two reports of the same server state.
    pub fn comparable(&self) -> serde_json::Value {
        let mut v = serde_json::to_value(self).expect("the report serializes");
        if let Some(o) = v.as_object_mut() {
            o.remove("meta");
        }
        v
    }

    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).expect("the report serializes");
        s.push('\n');
        s
    }

    /// Reads a saved JSON report, refusing one of another schema.
    pub fn from_json(text: &str) -> Result<ReportModel, super::ReportError> {
        #[derive(Deserialize)]
        struct Head {
            schema: Option<String>,
        }
        let head: Head = serde_json::from_str(text).map_err(super::ReportError::Json)?;
        match head.schema.as_deref() {
            Some(SCHEMA) => serde_json::from_str(text).map_err(super::ReportError::Json),
            other => Err(super::ReportError::Schema(
                other.unwrap_or("(none)").to_string(),
            )),
        }
    }

    pub fn check(&self, id: &str) -> Option<&CheckReport> {
        self.checks.iter().find(|c| c.id == id)
    }
}

fn server(d: &Diagnosis, target: String, saved_name: Option<&str>) -> Server {
    let f = &d.facts;
    Server {
        target,
        name: f.host.name.clone(),
        saved_name: saved_name
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .map(str::to_string),
        host_key_fingerprint: f.host.host_key_fingerprint.clone(),
        os: f.host.os.clone(),
        kernel: f.host.kernel.clone(),
        cpus: f.host.cpus,
        memory_bytes: f.host.mem_total_bytes,
        odoo_version: f.odoo.version.map(|v| v.to_string()),
        odoo_version_source: f.odoo.version_source.map(|s| match s {
            VersionSource::RunningServer => "the running server".to_string(),
            VersionSource::ReleaseFile => "release.py".to_string(),
        }),
        config_path: f.odoo.config.as_ref().map(|c| c.path.clone()),
        service: f.odoo.service.describe(),
        service_user: f.odoo.user.clone(),
        data_dir: f.odoo.data_dir.clone(),
        data_dir_source: f.odoo.data_dir_source.clone(),
        instances: f.instances.len(),
    }
}

fn check_reports(
    findings: &[Finding],
    before: Option<&Diagnosis>,
    records: &[&Record],
) -> Vec<CheckReport> {
    // Checklist order, whatever order the findings came in.
    let mut ordered: Vec<&Finding> = Vec::with_capacity(findings.len());
    for c in crate::registry::REGISTRY {
        ordered.extend(findings.iter().filter(|f| f.id == c.id));
    }
    ordered
        .into_iter()
        .map(|f| CheckReport {
            id: f.id.to_string(),
            status: f.status.into(),
            title: f.title.clone(),
            summary: f.summary.clone(),
            users_see: f.users_see.clone(),
            why: f.why.clone(),
            evidence: f
                .evidence
                .iter()
                .map(|e| EvidenceItem {
                    source: e.source.clone(),
                    excerpt: e.excerpt.clone(),
                })
                .collect(),
            version_note: f.version_note.clone(),
            references: f
                .references
                .iter()
                .map(|r| Link {
                    label: r.label.clone(),
                    url: r.url.clone(),
                })
                .collect(),
            fixes: f
                .fixes
                .iter()
                .map(|x| FixView {
                    title: x.title.clone(),
                    choices: x
                        .choices
                        .iter()
                        .map(|c| ChoiceView {
                            value: c.value.clone(),
                            label: c.label.clone(),
                            warning: c.warning.clone(),
                        })
                        .collect(),
                    default: x.default.clone(),
                })
                .collect(),
            before: before.and_then(|b| b.finding(f.id)).map(|b| BeforeState {
                status: b.status.into(),
                summary: b.summary.clone(),
            }),
            changed_by: records
                .iter()
                .filter(|r| r.changeset.checks.contains(&f.id))
                .map(|r| r.id.clone())
                .collect(),
        })
        .collect()
}

/// The state now (`state`, its words) and the sentence, from the record and its re-check.
fn state_of(r: &Record, effect: Option<&Effect>) -> (&'static str, &'static str, String) {
    let text = status_text(r, effect);
    let (state, words) = match (r.status, effect.map(|e| e.state)) {
        (RecordStatus::Applied, Some(EffectState::InEffect)) => {
            ("in_effect", "Applied, still in effect")
        }
        (RecordStatus::Applied, Some(EffectState::NoLongerInEffect)) => {
            ("no_longer_in_effect", "No longer in effect")
        }
        (RecordStatus::Applied, _) => ("applied", "Applied"),
        (RecordStatus::Undone, _) => ("rolled_back", "Rolled back"),
        (RecordStatus::RolledBack, _) => (
            "rolled_back_automatically",
            "Rolled back automatically after a failure",
        ),
        (RecordStatus::Applying, _) => ("applying", "Interrupted while applying"),
        (RecordStatus::Recorded, _) => ("recorded", "Recorded, not applied"),
        (RecordStatus::RollbackFailed, _) => ("rollback_failed", "Rollback failed"),
    };
    (state, words, text)
}

fn status_text(r: &Record, effect: Option<&Effect>) -> String {
    let why = r
        .error
        .as_deref()
        .map(|e| format!(": {e}"))
        .unwrap_or_default();
    match r.status {
        RecordStatus::Applied => match effect {
            Some(e) if e.state == EffectState::InEffect => format!(
                "Applied, verified after the restart, and still in effect when this report was made. {}",
                e.summary
            ),
            Some(e) if e.state == EffectState::NoLongerInEffect => format!(
                "Applied and verified at the time, but since changed. {}",
                e.summary
            ),
            Some(e) => format!("Applied, and verified after the restart. {}", e.summary),
            None => "Applied, and verified after the restart.".to_string(),
        },
        RecordStatus::RolledBack => {
            format!("Failed and rolled back automatically{why}. The server is as it was before.")
        }
        RecordStatus::Undone => match r.undone_stamp() {
            Some(s) => format!(
                "Rolled back on request on {} by {}: the server went back to how it was before this change set.",
                s.at_text, s.by
            ),
            None => "Rolled back on request: the server went back to how it was before this change set."
                .to_string(),
        },
        RecordStatus::Applying => {
            format!("Interrupted while applying{why}: roll it back to finish.")
        }
        RecordStatus::Recorded => {
            "Recorded but interrupted before anything was changed: roll it back to clear it."
                .to_string()
        }
        RecordStatus::RollbackFailed => format!(
            "The automatic rollback failed{why}: a person must restore the files listed here."
        ),
    }
}

fn change_report(r: &Record, effect: Option<&Effect>, target: &str) -> ChangeReport {
    let cs = &r.changeset;
    let status = serde_json::to_value(r.status)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default();
    let undo = matches!(
        r.status,
        RecordStatus::Applied
            | RecordStatus::Applying
            | RecordStatus::Recorded
            | RecordStatus::RollbackFailed
    )
    .then(|| Undo {
        changeset: r.id.clone(),
        app: format!(
            "In the app: open this server, go to History, select change set {} and press Rollback.",
            r.id
        ),
        cli: format!("{CLI} rollback {} {}", text::shell_word(target), r.id),
    });
    let (state, state_words, status_text) = state_of(r, effect);
    ChangeReport {
        id: r.id.clone(),
        status,
        state: state.to_string(),
        state_words: state_words.to_string(),
        status_text,
        recorded: r.created_text.clone(),
        by: r.by.clone(),
        checks: cs.checks.iter().map(|c| c.to_string()).collect(),
        reasons: cs
            .reasons
            .iter()
            .map(|x| CheckText {
                check: x.check.to_string(),
                text: x.text.clone(),
            })
            .collect(),
        interruption: cs.interruption.clone(),
        notes: cs
            .notes
            .iter()
            .map(|x| CheckText {
                check: x.check.to_string(),
                text: x.text.clone(),
            })
            .collect(),
        files: cs
            .files
            .iter()
            .map(|f| FileView {
                path: f.path.clone(),
                owner: f.owner.clone(),
                group: f.group.clone(),
                mode: format!("{:04o}", f.mode),
                checks: f.checks.iter().map(|c| c.to_string()).collect(),
                diff: f.diff.clone(),
            })
            .collect(),
        params: cs
            .params
            .iter()
            .map(|p| ParamView {
                db: p.db.clone(),
                key: p.key.clone(),
                old: p.old.clone(),
                new: p.new.clone(),
                check: p.check.to_string(),
            })
            .collect(),
        services: cs
            .services
            .iter()
            .map(|s| match s {
                ServiceAction::ReloadNginx { test, reload } => ServiceView {
                    action: "reload_nginx".into(),
                    description:
                        "nginx: configuration tested, then reloaded (no connection dropped)".into(),
                    command: format!("{} && {}", text::shell_join(test), text::shell_join(reload)),
                },
                ServiceAction::RestartOdoo {
                    command,
                    service,
                    was_running,
                } => ServiceView {
                    action: "restart_odoo".into(),
                    description: if *was_running {
                        format!(
                            "Odoo restarted ({service}): requests in flight fail, sessions survive"
                        )
                    } else {
                        format!("Odoo started ({service}): it was not running")
                    },
                    command: text::shell_join(command),
                },
            })
            .collect(),
        verification: r
            .verification
            .iter()
            .map(|v| VerificationView {
                check: v.check.clone(),
                persisted: v.persisted,
                detail: v.detail.clone(),
            })
            .collect(),
        error: r.error.clone(),
        undo,
        log: r.log.clone(),
    }
}

fn next_steps(checks: &[CheckReport], target: &str) -> Vec<NextStep> {
    checks
        .iter()
        .filter(|c| c.status.open())
        .map(|c| {
            let risk = match c.status {
                CheckStatus::Unknown => format!("Not known: {}", c.summary),
                _ if !c.users_see.is_empty() => c.users_see.clone(),
                _ => c.summary.clone(),
            };
            let fixable = c
                .id
                .parse()
                .is_ok_and(|id| crate::registry::check(id).fixable())
                && !c.fixes.is_empty();
            let informs = c
                .id
                .parse()
                .is_ok_and(|id| crate::registry::INFORM_ONLY.contains(&id));
            let (action, command) = if informs {
                ("Nothing to fix: someone did this on purpose. It is here so complaints from these people at these times are not taken for a fault.".to_string(), None)
            } else if fixable {
                let fix = &c.fixes[0];
                let set = fix
                    .default
                    .as_ref()
                    .filter(|_| !fix.choices.is_empty())
                    .map(|v| format!(" --set {}={}", c.id, text::shell_word(v)))
                    .unwrap_or_default();
                let target = text::shell_word(target);
                (
                    format!("{}. The app does it for you: Fix, check the preview, Apply; it verifies the result after the restart and keeps a rollback.", fix.title),
                    // `apply` shows the preview and asks before changing anything (`plan` only previews).
                    Some(format!("{CLI} apply {target} --fix {}{set}", c.id)),
                )
            } else if let Some(fix) = c.fixes.first() {
                (format!("{} (by hand: the product does not change this itself).", fix.title), None)
            } else if c.status == CheckStatus::Unknown {
                ("Make this check possible (see why it could not be made), then diagnose again.".to_string(), None)
            } else {
                ("By hand: the evidence of this check shows where to look; diagnose again afterwards to confirm.".to_string(), None)
            };
            NextStep { check: c.id.clone(), status: c.status, title: c.title.clone(), risk, action, command }
        })
        .collect()
}

fn overview(
    verdict: &VerdictView,
    counts: &Counts,
    checks: &[CheckReport],
    changes: &[ChangeReport],
    steps: &[NextStep],
    before: Option<&BeforeSummary>,
) -> Overview {
    let title = |id: &str| {
        checks
            .iter()
            .find(|c| c.id == id)
            .map(|c| c.title.clone())
            .unwrap_or_else(|| id.to_string())
    };
    let mut users_see: Vec<String> = Vec::new();
    for c in checks
        .iter()
        .filter(|c| c.status == CheckStatus::Fail)
        .chain(checks.iter().filter(|c| c.status == CheckStatus::Warn))
    {
        if !c.users_see.is_empty() && !users_see.contains(&c.users_see) {
            users_see.push(c.users_see.clone());
        }
    }
    if users_see.is_empty() {
        users_see.push("Nothing on this server logs users out early.".to_string());
    }
    let mut done = Vec::new();
    for c in changes {
        let what: Vec<String> = c.checks.iter().map(|id| title(id)).collect();
        let what = if what.is_empty() {
            "a change".to_string()
        } else {
            what.join("; ")
        };
        done.push(format!(
            "{}: {what}. {} Change set {}.",
            c.recorded, c.status_text, c.id
        ));
    }
    if let Some(b) = before {
        let fixed = checks
            .iter()
            .filter(|c| c.before.as_ref().is_some_and(|b| b.status.open()) && !c.status.open())
            .count();
        done.push(format!(
            "Before: {}. Now: {}. {} fixed.",
            text::tally(b.counts.fail, b.counts.warn, b.counts.unknown),
            text::tally(counts.fail, counts.warn, counts.unknown),
            text::count(fixed, "check", "checks")
        ));
    }
    if done.is_empty() {
        done.push(format!(
            "Nothing has been changed on this server by {PRODUCT}."
        ));
    }
    let left = match steps.first() {
        None => vec!["Nothing left to do: every check passes.".to_string()],
        Some(first) => vec![
            format!(
                "Left: {}.",
                text::tally(counts.fail, counts.warn, counts.unknown)
            ),
            format!("Start with: {}.", first.title),
        ],
    };
    Overview {
        headline: verdict.line.clone(),
        users_see,
        done,
        left,
    }
}

fn sessions(d: &Diagnosis) -> Sessions {
    match &d.facts.sessions {
        Observed::Unknown(why) => Sessions::Unknown {
            reason: why.clone(),
        },
        Observed::Seen(s) => Sessions::Seen(sessions_view(s, thresholds(d))),
    }
}

pub(crate) fn thresholds(d: &Diagnosis) -> Vec<Threshold> {
    let mut t: Vec<Threshold> = checks::session::lifetimes(&d.facts)
        .into_iter()
        .map(|(db, secs, raw)| Threshold {
            db,
            secs,
            label: human_duration(Duration::from_secs(secs)),
            set_by: match raw {
                Some(v) if v.trim().parse::<u64>().ok() == Some(secs) => format!("sessions.max_inactivity_seconds = {}", v.trim()),
                Some(v) => format!("Odoo's default (sessions.max_inactivity_seconds = {v:?} is not a number Odoo accepts)"),
                None => "Odoo's default (sessions.max_inactivity_seconds is not set)".to_string(),
            },
        })
        .collect();
    if t.is_empty() {
        t.push(Threshold {
            db: "(database not read)".to_string(),
            secs: DEFAULT_LIFETIME.as_secs(),
            label: human_duration(DEFAULT_LIFETIME),
            set_by: "Odoo's default (the database could not be read)".to_string(),
        });
    }
    t.sort_by(|a, b| (a.secs, &a.db).cmp(&(b.secs, &b.db)));
    t
}

pub(crate) fn sessions_view(s: &SessionStore, thresholds: Vec<Threshold>) -> SessionsView {
    let shortest = thresholds
        .first()
        .map(|t| t.secs)
        .unwrap_or(DEFAULT_LIFETIME.as_secs());
    let mut buckets = Vec::new();
    let mut from = 0u64;
    // The engine's buckets, in its order; a bucket it did not report counts zero.
    let bounds: Vec<u64> = if s.ages.is_empty() {
        AGE_BUCKETS.to_vec()
    } else {
        s.ages.iter().map(|(b, _)| *b).collect()
    };
    let mut past = 0;
    for bound in bounds {
        let count = s
            .ages
            .iter()
            .find(|(b, _)| *b == bound)
            .map(|(_, c)| *c)
            .unwrap_or(0);
        let to = (bound != u64::MAX).then_some(bound);
        let against = if to.is_some_and(|t| t <= shortest) {
            "alive"
        } else if from >= shortest {
            past += count;
            "past"
        } else {
            "straddles"
        };
        buckets.push(AgeBucket {
            from_secs: from,
            to_secs: to,
            label: text::span_label(from, to),
            short: text::span_short(from, to),
            count,
            against_lifetime: against.to_string(),
        });
        from = bound;
    }
    SessionsView {
        path: s.path.clone(),
        exists: s.exists,
        files: s.files,
        bytes: s.bytes,
        fs_type: s.fs_type.clone(),
        oldest_age_secs: s.oldest_age_secs,
        buckets,
        thresholds,
        past_lifetime: past,
    }
}

/// Secret values odoo.conf holds (every key the engine treats as secret), to scrub from reports.
fn secrets_of(d: &Diagnosis) -> Vec<String> {
    let Some(conf) = &d.facts.odoo.config else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for section in conf.doc.sections() {
        for e in conf.doc.entries(section) {
            let v = e.value.trim();
            // Short or boolean values would mask ordinary words; the engine's redaction covers them.
            if crate::odoo_conf::is_secret_key(e.key)
                && v.chars().count() >= 6
                && !matches!(v, "False" | "false" | "True" | "true" | "None")
            {
                out.push(v.to_string());
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

fn scrub(model: ReportModel, secrets: &[String]) -> ReportModel {
    if secrets.is_empty() {
        return model;
    }
    let mut v = serde_json::to_value(&model).expect("the report serializes");
    fn walk(v: &mut serde_json::Value, secrets: &[String]) -> bool {
        match v {
            serde_json::Value::String(s) => {
                let mut hit = false;
                for secret in secrets {
                    if s.contains(secret.as_str()) {
                        *s = s.replace(secret.as_str(), text::MASK);
                        hit = true;
                    }
                }
                hit
            }
            serde_json::Value::Array(a) => a.iter_mut().fold(false, |h, x| walk(x, secrets) | h),
            serde_json::Value::Object(o) => o.values_mut().fold(false, |h, x| walk(x, secrets) | h),
            _ => false,
        }
    }
    if walk(&mut v, secrets) {
        log::warn!("report: a secret from odoo.conf reached the report and was masked");
        serde_json::from_value(v).expect("the scrubbed report deserializes")
    } else {
        model
    }
}
