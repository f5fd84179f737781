//! TypeScript shapes of the engine's values, for ts-rs.
//!
//! The engine (`crates/`) stays free of GUI concerns, ts-rs included, so its types cannot derive
//! `TS`. The commands still send the engine's own values (the same JSON the CLI's `--json` and
//! the report print: one shape everywhere); these mirror types only *describe* that JSON to
//! TypeScript, through `#[ts(as = "...")]` on the fields that carry engine values.
//!
//! A mirror that drifts from the engine would be a lie in the UI's types, so every mirror is
//! checked against real engine values (tests below, and the lab test in tests/bridge.rs): the
//! engine's JSON must deserialize into the mirror with no unknown field and serialize back
//! identically. A field added, renamed or retyped in the engine fails that check.
use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// How a check came out: ok ✓, warn !, fail ✗, skip (not applicable), unknown (could not tell).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Ok,
    Skip,
    Unknown,
    Warn,
    Fail,
}

/// Where a finding's claim can be checked: a file and line, or a command and its output.
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
pub struct Evidence {
    pub source: String,
    pub excerpt: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
pub struct Reference {
    pub label: String,
    pub url: String,
}

/// A value the person can pick for a fix (e.g. a session lifetime).
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
pub struct Choice {
    pub value: String,
    pub label: String,
    /// Set when this choice has a cost the person must know.
    pub warning: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
pub struct FixOffer {
    pub title: String,
    pub choices: Vec<Choice>,
    /// The value used when the person picks nothing.
    pub default: Option<String>,
}

/// One item of the checklist.
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
pub struct Finding {
    pub id: String,
    pub status: Status,
    pub title: String,
    /// One line: what is the case here.
    pub summary: String,
    pub users_see: String,
    pub why: String,
    pub evidence: Vec<Evidence>,
    pub version_note: Option<String>,
    pub references: Vec<Reference>,
    pub fixes: Vec<FixOffer>,
}

/// The one line a manager reads first.
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
pub struct Verdict {
    pub status: Status,
    pub line: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum FileKind {
    OdooConf,
    Nginx,
    Cron,
}

/// One file edit as people are shown it (the diff has secrets redacted).
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
pub struct FileChange {
    pub path: String,
    pub kind: FileKind,
    pub checks: Vec<String>,
    pub owner: String,
    pub group: String,
    pub mode: u32,
    pub before_sha256: String,
    pub after_sha256: String,
    /// Unified diff, secrets shown as `********`.
    pub diff: String,
}

/// A system parameter write: `new = null` deletes it; `old = null`: it did not exist.
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
pub struct ParamChange {
    pub db: String,
    pub key: String,
    pub old: Option<String>,
    pub new: Option<String>,
    pub check: String,
}

/// A service reloaded or restarted after the writes.
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[serde(tag = "action", rename_all = "snake_case", deny_unknown_fields)]
pub enum ServiceAction {
    /// `nginx -t`, then a reload (no connection is dropped).
    ReloadNginx {
        test: Vec<String>,
        reload: Vec<String>,
    },
    /// A restart: requests in flight fail, sessions survive.
    RestartOdoo {
        command: Vec<String>,
        service: String,
        /// Whether Odoo ran before the change; when it did not (a crash loop the change
        /// fixes), the change starts it and a rollback restores that state too.
        was_running: bool,
    },
}

#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
pub struct Reason {
    pub check: String,
    pub text: String,
}

/// Everything one fix does: the same value previewed and applied.
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
pub struct ChangeSet {
    pub checks: Vec<String>,
    pub files: Vec<FileChange>,
    pub params: Vec<ParamChange>,
    pub services: Vec<ServiceAction>,
    pub reasons: Vec<Reason>,
    /// What users will notice while it is applied.
    pub interruption: String,
    /// Checks asked for that need no change or cannot be fixed automatically.
    pub notes: Vec<Reason>,
}

/// After the apply: did this change stick (files, parameters, the running server, the check)?
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
pub struct Verification {
    pub check: String,
    pub persisted: bool,
    pub detail: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Applied,
    RolledBack,
    Failed,
}

#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
pub struct ApplyResult {
    /// The change set id (empty when there was nothing to change).
    pub changeset: String,
    pub status: Outcome,
    pub verification: Vec<Verification>,
    /// Why it was rolled back or failed.
    pub error: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum RecordStatus {
    Recorded,
    Applying,
    Applied,
    RolledBack,
    Undone,
    RollbackFailed,
}

/// A change set as recorded on the host (History). Named `ChangeRecord` in TypeScript, where
/// `Record` is a built-in type.
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
#[ts(rename = "ChangeRecord")]
pub struct Record {
    pub id: String,
    /// Unix seconds.
    pub created: u64,
    pub created_text: String,
    /// Who applied it: the SSH user and the machine the app ran on.
    pub by: String,
    pub host: String,
    pub status: RecordStatus,
    pub changeset: ChangeSet,
    pub verification: Vec<Verification>,
    pub error: Option<String>,
    /// What happened, in order, with times.
    pub log: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
pub struct RollbackResult {
    pub changeset: String,
    pub status: RecordStatus,
    pub error: Option<String>,
}

/// The drift check: `engine`'s JSON read as `M` and written again is the same JSON.
pub fn assert_mirrors<M>(engine: &impl Serialize)
where
    M: serde::de::DeserializeOwned + Serialize,
{
    let json = serde_json::to_value(engine).expect("the engine value serializes");
    let mirror: M = serde_json::from_value(json.clone()).unwrap_or_else(|e| {
        panic!(
            "the TypeScript mirror {} no longer matches the engine's JSON ({e}); update src-tauri/src/engine_types.rs and regenerate ui/types/bindings.d.ts:\n{json:#}",
            std::any::type_name::<M>()
        )
    });
    assert_eq!(
        serde_json::to_value(&mirror).unwrap(),
        json,
        "the mirror {} drops or changes a field of the engine's JSON",
        std::any::type_name::<M>()
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use osd_engine::change::{self as ch};
    use osd_engine::checks::{self as ck};

    fn finding(status: ck::Status) -> ck::Finding {
        ck::Finding::new(ck::CheckId::SessionLifetime, "Session lifetime")
            .status(status, "Sessions end after 1 hour of inactivity.")
            .users_see("Logged out after lunch.")
            .why("sessions.max_inactivity_seconds is 3600.")
            .evidence(
                "ir_config_parameter",
                "sessions.max_inactivity_seconds = 3600",
            )
            .note("Odoo 17.0+ reads this parameter.")
            .fix(ck::FixOffer {
                title: "Set the lifetime".into(),
                choices: vec![ck::Choice {
                    value: "86400".into(),
                    label: "1 day".into(),
                    warning: None,
                }],
                default: Some("604800".into()),
            })
    }

    #[test]
    fn findings_and_verdicts_of_every_status() {
        for status in [
            ck::Status::Ok,
            ck::Status::Warn,
            ck::Status::Fail,
            ck::Status::Skip,
            ck::Status::Unknown,
        ] {
            assert_mirrors::<Finding>(&finding(status));
        }
        let findings = vec![finding(ck::Status::Fail), finding(ck::Status::Ok)];
        assert_mirrors::<Verdict>(&ck::verdict(&findings));
    }

    fn changeset() -> ch::ChangeSet {
        ch::ChangeSet {
            checks: vec![ck::CheckId::ProxyMode],
            files: vec![ch::FileChange {
                path: "/etc/odoo.conf".into(),
                kind: ch::FileKind::OdooConf,
                checks: vec![ck::CheckId::ProxyMode],
                owner: "odoo".into(),
                group: "odoo".into(),
                mode: 0o640,
                before_sha256: "a".into(),
                after_sha256: "b".into(),
                diff: "-proxy_mode = False\n+proxy_mode = True\n".into(),
                before: vec![],
                after: vec![],
            }],
            params: vec![ch::ParamChange {
                db: "odoo".into(),
                key: "sessions.max_inactivity_seconds".into(),
                old: None,
                new: Some("86400".into()),
                check: ck::CheckId::SessionLifetime,
            }],
            services: vec![
                ch::ServiceAction::ReloadNginx {
                    test: vec!["nginx".into(), "-t".into()],
                    reload: vec!["nginx".into(), "-s".into(), "reload".into()],
                },
                ch::ServiceAction::RestartOdoo {
                    command: vec!["systemctl".into(), "restart".into(), "odoo".into()],
                    service: "odoo".into(),
                    was_running: true,
                },
            ],
            reasons: vec![ch::Reason {
                check: ck::CheckId::ProxyMode,
                text: "behind nginx".into(),
            }],
            interruption: "Odoo restarts (about 10 s).".into(),
            notes: vec![],
        }
    }

    #[test]
    fn change_sets_results_and_records() {
        assert_mirrors::<ChangeSet>(&changeset());
        let verification = vec![ch::record::Verification {
            check: "proxy.mode".into(),
            persisted: true,
            detail: "set".into(),
        }];
        for status in [
            ch::apply::Outcome::Applied,
            ch::apply::Outcome::RolledBack,
            ch::apply::Outcome::Failed,
        ] {
            assert_mirrors::<ApplyResult>(&ch::apply::ApplyResult {
                changeset: "20260101-proxy".into(),
                status,
                verification: verification.clone(),
                error: Some("nginx -t failed".into()),
                after: None,
            });
        }
        use ch::record::RecordStatus as R;
        for status in [
            R::Recorded,
            R::Applying,
            R::Applied,
            R::RolledBack,
            R::Undone,
            R::RollbackFailed,
        ] {
            assert_mirrors::<Record>(&ch::record::Record {
                id: "x".into(),
                created: 1_780_000_000,
                created_text: "2026-05-28 10:00".into(),
                by: "root from laptop".into(),
                host: "h".into(),
                status,
                changeset: changeset(),
                verification: verification.clone(),
                error: None,
                log: vec!["recorded".into()],
                root: "/var/lib/odoo-session-doctor".into(),
            });
            assert_mirrors::<RollbackResult>(&ch::apply::RollbackResult {
                changeset: "x".into(),
                status,
                error: None,
            });
        }
    }
}
