//! What the commands return. Engine values travel as the engine serializes them (the same JSON
//! as the CLI's `--json`), and so do their TypeScript shapes (the engine's `ts` feature derives
//! them on the engine's own types). The app's own wrappers add what a screen needs on top (the quick-fix
//! order, the plan's id, a short summary of the Odoo found).
use osd_engine::change::apply::{ApplyResult, RollbackResult};
use osd_engine::change::record::{self, Record};
use osd_engine::change::ChangeSet;
use osd_engine::checks::{Finding, Status, Verdict};
use osd_engine::registry::FIX_ORDER;
use osd_engine::Diagnosis;
use osd_remote::{Host, Privilege};
use serde::Serialize;
use ts_rs::TS;

use crate::error::InstanceChoice;
use crate::servers::ServerEntry;

#[derive(Debug, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct AppInfo {
    pub name: String,
    pub version: String,
    /// True when the app was started by `scripts/demo` (or the e2e tests) with a lab to show.
    pub demo: bool,
    /// The saved-servers file, shown on the Servers screen.
    pub servers_file: String,
}

/// How much this login may do on the server.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq, TS)]
#[serde(rename_all = "camelCase")]
pub enum Power {
    /// Logged in as root.
    Root,
    /// Through sudo.
    Sudo,
    /// Cannot become root: the app can diagnose a little and fix nothing.
    None,
}

/// What the UI shows after a successful connection.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct Connected {
    pub server_id: String,
    /// The name the server gives itself (`hostname`).
    pub host_name: String,
    pub host_key_fingerprint: String,
    pub user: String,
    pub power: Power,
    /// Change sets an earlier connection left half-done (the connection was lost): offer a rollback.
    pub unfinished: Vec<Record>,
    /// The same, in the engine's words: what state each is in and what it changed.
    pub unsettled: Vec<record::Unsettled>,
    /// The secrets the system keyring holds for this server now (the screen offers Forget).
    pub remembered: Vec<crate::session::SecretKind>,
    /// Remember was ticked but the keyring refused: why, and what to do.
    pub keyring_note: Option<String>,
}

impl Connected {
    pub fn new(
        server: &ServerEntry,
        host: &Host,
        host_name: String,
        unfinished: Vec<Record>,
    ) -> Connected {
        Connected {
            server_id: server.id.clone(),
            host_name,
            host_key_fingerprint: host.host_key().map(|k| k.fingerprint).unwrap_or_default(),
            user: host.user().to_string(),
            power: match host.privilege() {
                Privilege::Root => Power::Root,
                Privilege::Sudo { .. } => Power::Sudo,
                Privilege::None => Power::None,
            },
            unsettled: unfinished.iter().map(record::Unsettled::of).collect(),
            remembered: Vec::new(),
            keyring_note: None,
            unfinished,
        }
    }
}

/// The Odoo that was diagnosed, in a few words.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct OdooSummary {
    pub version: Option<String>,
    pub config: Option<String>,
    /// How it runs, e.g. "systemd unit odoo".
    pub service: String,
    /// Every Odoo server set up on the host (this one included), sorted by HTTP port: with more
    /// than one, the diagnosis page lets the person switch.
    pub instances: Vec<InstanceChoice>,
    /// The `value` of the diagnosed one among `instances`.
    pub instance: Option<String>,
    /// Which databases this Odoo serves (only those are read and ever written); `None` when
    /// PostgreSQL could not be asked.
    pub databases: Option<DatabaseScope>,
    /// A test login was used for this diagnosis.
    pub probed: bool,
}

/// Which databases the diagnosed Odoo serves, decided by Odoo's own rules (`dbfilter`, `db_name`,
/// the databases of its PostgreSQL role) or chosen by the person when its config cannot decide.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct DatabaseScope {
    /// The databases read for the verdicts and the only ones a fix writes to.
    pub served: Vec<String>,
    /// How they were chosen, in words.
    pub rule: String,
    /// Set when the config cannot decide (no filter over several databases, a host-based filter
    /// behind a catch-all server): the databases it may serve. The person chooses.
    pub undecided: Option<Vec<String>>,
    /// The person's choice is in force on this connection.
    pub chosen: bool,
}

#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct DiagnosisView {
    pub host: String,
    pub verdict: Verdict,
    /// Every check, in the checklist's order.
    pub checks: Vec<Finding>,
    /// The ids of the problems the app can fix here (remedy `here`), in the quick-fix order:
    /// never one it would then refuse or find nothing to change for.
    pub fix_order: Vec<String>,
    pub odoo: OdooSummary,
}

impl DiagnosisView {
    pub fn new(d: &Diagnosis) -> DiagnosisView {
        let fix_order = FIX_ORDER
            .iter()
            .filter(|id| {
                d.finding(**id).is_some_and(|f| {
                    matches!(f.status, Status::Warn | Status::Fail) && f.remedy.is_here()
                })
            })
            .map(|id| id.to_string())
            .collect();
        let o = &d.facts.odoo;
        DiagnosisView {
            host: d.host.clone(),
            verdict: d.verdict.clone(),
            checks: d.checks.clone(),
            fix_order,
            odoo: OdooSummary {
                version: o.version.map(|v| v.to_string()),
                config: o.config.as_ref().map(|c| c.path.clone()),
                service: o.service.describe(),
                instances: InstanceChoice::list(&d.facts.instances),
                instance: d
                    .facts
                    .instances
                    .iter()
                    .find(|i| {
                        i.config_path.is_some()
                            && i.config_path.as_deref()
                                == o.config.as_ref().map(|c| c.path.as_str())
                    })
                    .or_else(|| {
                        d.facts
                            .instances
                            .iter()
                            .find(|i| i.http_port == o.http_port())
                    })
                    .map(|i| i.selector()),
                databases: d.facts.db_scope.as_ref().map(|s| DatabaseScope {
                    served: s.served.clone(),
                    rule: s.rule.clone(),
                    undecided: s.undecided.clone(),
                    chosen: s.chosen,
                }),
                probed: d.facts.probe.is_some(),
            },
        }
    }
}

/// A previewed plan; Apply names it by `planId`.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct PlanView {
    #[ts(type = "number")]
    pub plan_id: u64,
    pub changeset: ChangeSet,
}

#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ApplyView {
    pub result: ApplyResult,
    /// What was applied (or rolled back), to show next to the verification.
    pub changeset: ChangeSet,
    /// The diagnosis after the apply (none when it was rolled back).
    pub after: Option<DiagnosisView>,
}

impl ApplyView {
    pub fn new(result: ApplyResult, changeset: ChangeSet) -> ApplyView {
        let after = result.after.as_ref().map(DiagnosisView::new);
        ApplyView {
            result,
            changeset,
            after,
        }
    }
}

#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct RollbackView {
    pub result: RollbackResult,
    /// The diagnosis once rolled back: the original state again.
    pub after: DiagnosisView,
}

/// A report written to disk.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ExportedReport {
    pub path: String,
    pub format: ReportFormat,
    pub bytes: usize,
}

#[derive(Debug, Clone, Copy, Serialize, serde::Deserialize, PartialEq, Eq, TS)]
#[serde(rename_all = "camelCase")]
pub enum ReportFormat {
    Html,
    Markdown,
    Json,
}
