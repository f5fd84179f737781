//! Changes: what a fix will do (a [`ChangeSet`], the same value whether previewed or applied),
//! how it is planned from a diagnosis, applied safely, verified, recorded on the host and undone.
//!
//! The change set's texts never leave the engine unredacted: file contents are held for the
//! apply and written to the host's own record, while everything that serializes (diffs, JSON,
//! reports) shows secrets as `********`.

pub mod ansible;
pub mod apply;
pub mod conf_fix;
pub mod effect;
pub mod nginx_fix;
pub mod onhost;
pub mod plan;
pub mod record;
pub mod remedy;
pub mod verify;
pub mod workspace;

use crate::checks::CheckId;
use serde::{Deserialize, Serialize};

/// Which kind of file an edit touches: decides how the edit is validated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum FileKind {
    /// Validated by re-reading with Odoo's rules (no fatal problem).
    OdooConf,
    /// Validated with `nginx -t` on the whole configuration.
    Nginx,
    /// A crontab or cron.d file (edited to disable a line).
    Cron,
}

/// One file edit: the whole before and after texts, and who owns it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct FileChange {
    pub path: String,
    pub kind: FileKind,
    pub checks: Vec<CheckId>,
    pub owner: String,
    pub group: String,
    pub mode: u32,
    pub before_sha256: String,
    pub after_sha256: String,
    /// Unified diff with secrets redacted: what people are shown.
    pub diff: String,
    #[serde(skip)]
    pub before: Vec<u8>,
    #[serde(skip)]
    pub after: Vec<u8>,
}

/// One system parameter write: `new = None` deletes the row; `old = None` means it did not exist.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ParamChange {
    pub db: String,
    pub key: String,
    pub old: Option<String>,
    pub new: Option<String>,
    pub check: CheckId,
}

/// A service to reload or restart once files and parameters are written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum ServiceAction {
    /// `nginx -t` then a reload of the running master (no connection is dropped).
    ReloadNginx {
        test: Vec<String>,
        reload: Vec<String>,
    },
    /// A restart through the service manager: requests in flight fail, sessions survive.
    RestartOdoo {
        command: Vec<String>,
        service: String,
        /// Whether Odoo ran before the change. When it did not (a crash loop the change fixes),
        /// a rollback restores that state too: it starts Odoo without waiting for it to answer.
        #[serde(default = "running_before")]
        was_running: bool,
    },
}

fn running_before() -> bool {
    true
}

/// Why a change is made, in words, for the check it fixes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Reason {
    pub check: CheckId,
    pub text: String,
}

/// Everything one fix does. Planning twice gives equal change sets; after a successful apply the
/// plan is empty.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ChangeSet {
    pub checks: Vec<CheckId>,
    pub files: Vec<FileChange>,
    pub params: Vec<ParamChange>,
    pub services: Vec<ServiceAction>,
    pub reasons: Vec<Reason>,
    /// What users will notice while it is applied.
    pub interruption: String,
    /// Checks asked for that need no change (already right) or cannot be fixed automatically.
    pub notes: Vec<Reason>,
}

impl ChangeSet {
    /// Nothing to write and nothing to restart.
    pub fn is_empty(&self) -> bool {
        self.files.is_empty() && self.params.is_empty() && self.services.is_empty()
    }

    /// The preview as text: diffs, parameters old → new, services, interruption, reasons.
    pub fn preview(&self) -> String {
        use std::fmt::Write;
        let mut out = String::new();
        if self.is_empty() {
            let _ = writeln!(out, "Nothing to change.");
        }
        for f in &self.files {
            let _ = writeln!(
                out,
                "--- {} (owner {}:{}, mode {:o})",
                f.path, f.owner, f.group, f.mode
            );
            out.push_str(&f.diff);
        }
        for p in &self.params {
            let show = |v: &Option<String>| v.clone().unwrap_or_else(|| "(absent)".into());
            let _ = writeln!(
                out,
                "system parameter {} in database {}: {} → {}",
                p.key,
                p.db,
                show(&p.old),
                show(&p.new)
            );
        }
        for s in &self.services {
            match s {
                ServiceAction::ReloadNginx { reload, .. } => {
                    let _ = writeln!(out, "reload nginx: {}", reload.join(" "));
                }
                ServiceAction::RestartOdoo {
                    command,
                    service,
                    was_running,
                } => {
                    let verb = if *was_running { "restart" } else { "start" };
                    let _ = writeln!(out, "{verb} Odoo ({service}): {}", command.join(" "));
                }
            }
        }
        if !self.interruption.is_empty() {
            let _ = writeln!(out, "Interruption: {}", self.interruption);
        }
        for r in &self.reasons {
            let _ = writeln!(out, "Why ({}): {}", r.check, r.text);
        }
        for r in &self.notes {
            let _ = writeln!(out, "Note ({}): {}", r.check, r.text);
        }
        out
    }
}

/// A unified diff of two texts with three lines of context.
pub fn unified_diff(path: &str, before: &str, after: &str) -> String {
    similar::TextDiff::from_lines(before, after)
        .unified_diff()
        .context_radius(3)
        .header(&format!("a{path}"), &format!("b{path}"))
        .to_string()
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}
