//! Planning: from a diagnosis and the checks a person picked (with their choices), the one
//! [`ChangeSet`] that fixes them. Files are read afresh from the host so the plan edits what is
//! there now; each fix only changes what is not already right, so planning is idempotent.

use super::{
    sha256_hex, unified_diff, ChangeSet, FileChange, FileKind, ParamChange, Reason, ServiceAction,
};
use crate::checks::session::{lifetime_warning, LIFETIME_KEY};
use crate::checks::Status;
use crate::error::EngineError;
use crate::facts::Facts;
use crate::odoo_conf::OdooConf;
use crate::odoo_options::{folklore, FolkloreKind};
use crate::Diagnosis;
use osd_remote::Host;
use std::collections::BTreeMap;
use std::time::Duration;

/// What to fix, and the choices made (`--set session.lifetime=86400`).
#[derive(Debug, Clone, Default)]
pub struct FixRequest {
    pub checks: Vec<String>,
    pub values: BTreeMap<String, String>,
}

/// Checks this planner can fix automatically.
pub const FIXABLE: &[&str] = &[
    "session.lifetime",
    "session.store",
    "session.external-cleanup",
    "session.cleanup-runs",
    "conf.folklore",
    "conf.syntax",
    "proxy.mode",
    "proxy.headers",
    "proxy.websocket",
    "proxy.https-redirect",
    "proxy.canonical-host",
    "proxy.cookie-flags",
    "proxy.sticky",
    "workers.memory",
];

/// Files being edited, as text, before and after.
pub(crate) struct Workspace<'h> {
    host: &'h Host,
    files: BTreeMap<String, (FileKind, String, String, Vec<String>)>,
    pub params: Vec<ParamChange>,
    pub reasons: Vec<Reason>,
    pub notes: Vec<Reason>,
    /// Odoo must restart even though no file or parameter changes (a value not yet in force).
    pub restart: bool,
}

impl<'h> Workspace<'h> {
    /// The current text of `path` (read once from the host, then the edited copy).
    pub fn text(&mut self, path: &str, kind: FileKind) -> Result<String, EngineError> {
        if let Some((_, _, after, _)) = self.files.get(path) {
            return Ok(after.clone());
        }
        let bytes = self.host.read_file(path)?;
        let text = String::from_utf8(bytes).map_err(|_| {
            EngineError::Invalid(format!(
                "{path} on {} is not UTF-8 text; it is left alone",
                self.host.name()
            ))
        })?;
        self.files.insert(
            path.to_string(),
            (kind, text.clone(), text.clone(), Vec::new()),
        );
        Ok(text)
    }

    /// The text of `path` as read from the host, if this plan has read it.
    pub fn original(&self, path: &str) -> Option<&str> {
        self.files
            .get(path)
            .map(|(_, before, _, _)| before.as_str())
    }

    /// The edited text of `path`, if this plan has read it.
    pub fn edited(&self, path: &str) -> Option<String> {
        self.files.get(path).map(|(_, _, after, _)| after.clone())
    }

    pub fn put(&mut self, path: &str, text: String, check: &str) {
        if let Some(entry) = self.files.get_mut(path) {
            entry.2 = text;
            if !entry.3.iter().any(|c| c == check) {
                entry.3.push(check.to_string());
            }
        }
    }

    pub fn reason(&mut self, check: &str, text: impl Into<String>) {
        self.reasons.push(Reason {
            check: check.into(),
            text: text.into(),
        });
    }

    pub fn note(&mut self, check: &str, text: impl Into<String>) {
        self.notes.push(Reason {
            check: check.into(),
            text: text.into(),
        });
    }

    /// Edits odoo.conf through its format-preserving document.
    pub fn edit_conf(
        &mut self,
        facts: &Facts,
        check: &str,
        edit: impl FnOnce(&mut OdooConf) -> Result<bool, EngineError>,
    ) -> Result<bool, EngineError> {
        let Some(conf) = &facts.odoo.config else {
            self.note(check, "No odoo.conf is in effect, so there is nothing to edit; pass options with -c <file> first.");
            return Ok(false);
        };
        let path = conf.path.clone();
        let text = self.text(&path, FileKind::OdooConf)?;
        let mut doc = OdooConf::parse(&text);
        let changed = edit(&mut doc)?;
        if changed {
            self.put(&path, doc.to_string(), check);
        }
        Ok(changed)
    }
}

pub fn plan(host: &Host, d: &Diagnosis, req: &FixRequest) -> Result<ChangeSet, EngineError> {
    let facts = &d.odoo;
    let mut ws = Workspace {
        host,
        files: BTreeMap::new(),
        params: Vec::new(),
        reasons: Vec::new(),
        notes: Vec::new(),
        restart: false,
    };
    let mut checks: Vec<String> = Vec::new();
    // In checklist order, whatever order they were asked in: the change set is the same.
    for id in crate::checks::CHECK_IDS
        .iter()
        .filter(|id| req.checks.iter().any(|c| c == *id))
    {
        checks.push(id.to_string());
        let finding = d.finding(id).expect("every check id has a finding");
        if !FIXABLE.contains(id) {
            ws.note(
                id,
                "This check has no automatic fix; its finding says what to do.",
            );
            continue;
        }
        if finding.status == Status::Ok && !req.values.contains_key(*id) {
            ws.note(id, "Already right: nothing to change.");
            continue;
        }
        fix(&mut ws, facts, id, req.values.get(*id).map(String::as_str))?;
    }
    for unknown in req
        .checks
        .iter()
        .filter(|c| !crate::checks::CHECK_IDS.contains(&c.as_str()))
    {
        return Err(EngineError::Invalid(format!(
            "there is no check '{unknown}'; checks are: {}",
            crate::checks::CHECK_IDS.join(", ")
        )));
    }
    finish(ws, facts, checks)
}

fn fix(
    ws: &mut Workspace,
    facts: &Facts,
    id: &str,
    value: Option<&str>,
) -> Result<(), EngineError> {
    match id {
        "session.lifetime" => lifetime(ws, facts, value),
        "conf.folklore" => folklore_fix(ws, facts),
        "conf.syntax" => syntax_fix(ws, facts),
        "proxy.mode" => {
            let changed = ws.edit_conf(facts, id, |doc| {
                if doc.get("options", "proxy_mode") == Some("True") {
                    return Ok(false);
                }
                doc.remove("options", "proxy_mode");
                doc.set("options", "proxy_mode", "True").map_err(conf_err)?;
                Ok(true)
            })?;
            if changed {
                ws.reason(id, "proxy_mode = True lets Odoo trust the X-Forwarded-* headers nginx sends, so it knows the real scheme, host and client address.");
            }
            Ok(())
        }
        "session.store" => {
            let dir = facts.odoo.data_dir.clone();
            let changed = ws.edit_conf(facts, id, |doc| {
                if doc.get("options", "data_dir").is_some() {
                    return Ok(false);
                }
                doc.set("options", "data_dir", &dir).map_err(conf_err)?;
                Ok(true)
            })?;
            if changed {
                ws.reason(id, format!("data_dir = {dir} pins the folder Odoo uses now, so every start — by the service or by hand — finds the same sessions."));
            } else {
                ws.note(id, "The remaining store problems (filesystem, ownership) need a decision on the server; see the finding.");
            }
            Ok(())
        }
        "session.cleanup-runs" => {
            let changed = ws.edit_conf(facts, id, |doc| {
                if doc.get("options", "max_cron_threads").map(str::trim) != Some("0") {
                    return Ok(false);
                }
                doc.set("options", "max_cron_threads", "2")
                    .map_err(conf_err)?;
                Ok(true)
            })?;
            if changed {
                ws.reason(id, "max_cron_threads = 2 (Odoo's default) lets the daily cleanup run. If another Odoo node runs the crons on purpose, skip this fix.");
            }
            Ok(())
        }
        "workers.memory" => {
            const MIB: u64 = 1024 * 1024;
            let soft = facts
                .odoo
                .option_u64("limit_memory_soft")
                .unwrap_or(2048 * MIB);
            let hard = facts
                .odoo
                .option_u64("limit_memory_hard")
                .unwrap_or(2560 * MIB);
            if soft >= 256 * MIB && hard >= soft {
                ws.note(
                    id,
                    "The limits themselves are sane; the finding says what else to look at.",
                );
                return Ok(());
            }
            ws.edit_conf(facts, id, |doc| {
                doc.set("options", "limit_memory_soft", &(2048 * MIB).to_string())
                    .map_err(conf_err)?;
                doc.set("options", "limit_memory_hard", &(2560 * MIB).to_string())
                    .map_err(conf_err)?;
                Ok(true)
            })?;
            ws.reason(id, "Odoo's default limits (2048 MiB soft, 2560 MiB hard per worker) stop the constant recycling.");
            Ok(())
        }
        "session.external-cleanup" => cleanup_fix(ws, facts),
        _ => crate::change::nginx_fix::fix(ws, facts, id, value),
    }
}

fn conf_err(e: crate::odoo_conf::ConfError) -> EngineError {
    EngineError::Invalid(format!("odoo.conf cannot be edited safely: {e}"))
}

fn lifetime(ws: &mut Workspace, facts: &Facts, value: Option<&str>) -> Result<(), EngineError> {
    let id = "session.lifetime";
    let Some(version) = facts.odoo.version else {
        return Err(EngineError::Invalid(
            "the Odoo version is unknown, so the lifetime cannot be set safely".into(),
        ));
    };
    if !version.has_lifetime_parameter() {
        ws.note(
            id,
            "Odoo before 16 has no lifetime setting: idle sessions live 7 days.",
        );
        return Ok(());
    }
    let wanted = match value {
        Some(v) => v.trim().parse::<u64>().ok().filter(|s| *s >= 60).ok_or_else(|| {
            EngineError::Invalid(format!("session.lifetime={v}: give the lifetime in seconds, at least 60 (e.g. 86400 for a day)"))
        })?,
        None => 86_400u64.max(version.shortest_safe_lifetime().as_secs()),
    };
    if let Some(w) = lifetime_warning(
        Duration::from_secs(wanted),
        version.shortest_safe_lifetime(),
    ) {
        ws.note(id, w);
    }
    let Some(db) = facts.db.seen() else {
        return Err(EngineError::Invalid(format!(
            "the database could not be read: {}",
            facts.db.why_unknown().unwrap_or("")
        )));
    };
    if let Some(running) = crate::checks::session::running_lifetime_mismatch(facts) {
        if db.databases.iter().all(|d| {
            d.params.get(LIFETIME_KEY).map(String::as_str) == Some(wanted.to_string().as_str())
        }) {
            ws.restart = true;
            ws.reason(id, format!("The database already holds {wanted}, but the running server still uses {running}: a restart puts it in force."));
            return Ok(());
        }
    }
    for d in &db.databases {
        let old = d.params.get(LIFETIME_KEY).cloned();
        if old.as_deref() != Some(wanted.to_string().as_str()) {
            ws.params.push(ParamChange {
                db: d.name.clone(),
                key: LIFETIME_KEY.into(),
                old,
                new: Some(wanted.to_string()),
                check: id.into(),
            });
        }
    }
    ws.reason(id, format!(
        "{LIFETIME_KEY} = {wanted} ({}): Odoo deletes sessions idle longer than this. Odoo reads it at start, so it is restarted.",
        crate::version::human_duration(Duration::from_secs(wanted))
    ));
    Ok(())
}

fn folklore_fix(ws: &mut Workspace, facts: &Facts) -> Result<(), EngineError> {
    let id = "conf.folklore";
    let keys: Vec<String> = facts
        .odoo
        .config
        .as_ref()
        .map(|c| {
            c.doc
                .entries("options")
                .iter()
                .filter(|e| folklore(FolkloreKind::ConfKey, e.key).is_some())
                .map(|e| e.key.to_string())
                .collect()
        })
        .unwrap_or_default();
    if !keys.is_empty() {
        ws.edit_conf(facts, id, |doc| {
            for k in &keys {
                doc.remove("options", k);
            }
            Ok(true)
        })?;
        ws.reason(
            id,
            format!(
                "Removes {} from odoo.conf: Odoo never reads them.",
                keys.join(", ")
            ),
        );
    }
    if let Some(db) = facts.db.seen() {
        for d in &db.databases {
            for (k, v) in &d.params {
                if folklore(FolkloreKind::SystemParameter, k).is_some() {
                    ws.params.push(ParamChange {
                        db: d.name.clone(),
                        key: k.clone(),
                        old: Some(v.clone()),
                        new: None,
                        check: id.into(),
                    });
                    ws.reason(
                        id,
                        format!("Deletes the system parameter {k}: Odoo never reads it."),
                    );
                }
            }
        }
    }
    Ok(())
}

/// Replaces each value Odoo refuses at start with the value it would accept, keeping an inline
/// "comment" on its own line above. Values only a person can correct are left, with a note.
fn syntax_fix(ws: &mut Workspace, facts: &Facts) -> Result<(), EngineError> {
    let id = "conf.syntax";
    let major = facts.odoo.version.map(|v| v.major).unwrap_or(17);
    let mut done = Vec::new();
    let mut left = Vec::new();
    ws.edit_conf(facts, id, |doc| {
        for r in crate::checks::conf::refused_values(doc, major) {
            match r.fixed.clone() {
                Some((value, comment)) => {
                    doc.set("options", &r.key, &value).map_err(conf_err)?;
                    if let Some(c) = comment {
                        doc.comment_before("options", &r.key, &c)
                            .map_err(conf_err)?;
                    }
                    done.push((r, value));
                }
                None => left.push(r),
            }
        }
        Ok(!done.is_empty())
    })?;
    for (r, value) in done {
        ws.reason(id, format!(
            "{} = {value} (line {}): Odoo refused \"{}\" ({}) and does not start with it; a note written after the value is kept as a comment line above it.",
            r.key, r.line, r.value, r.error
        ));
    }
    for r in left {
        ws.note(
            id,
            format!(
                "line {}: {} = {} — {}. Only you know the value meant here: correct it by hand.",
                r.line, r.key, r.value, r.error
            ),
        );
    }
    Ok(())
}

/// Disables cron lines that delete session files: commented out, with a marker, so they can be restored.
fn cleanup_fix(ws: &mut Workspace, facts: &Facts) -> Result<(), EngineError> {
    let id = "session.external-cleanup";
    let Some(sessions) = facts.sessions.seen().map(|s| s.path.clone()) else {
        return Ok(());
    };
    for c in facts
        .cleaners
        .iter()
        .filter(|c| crate::checks::session::deletes_sessions(&c.kind, &c.text, &sessions))
    {
        if c.kind != crate::facts::CleanerKind::Cron {
            ws.note(
                id,
                format!(
                    "{}:{} is not a cron line; disable it by hand: {}",
                    c.file, c.line, c.text
                ),
            );
            continue;
        }
        let text = ws.text(&c.file, FileKind::Cron)?;
        let mut out = String::with_capacity(text.len() + 64);
        for (i, line) in text.split_inclusive('\n').enumerate() {
            if i + 1 == c.line as usize && !line.trim_start().starts_with('#') {
                out.push_str("# disabled by odoo-session-doctor (it deleted Odoo sessions): ");
            }
            out.push_str(line);
        }
        ws.put(&c.file, out, id);
        ws.reason(id, format!("Comments out {}:{} — it deleted session files, which logs people out. Odoo cleans old sessions itself.", c.file, c.line));
    }
    Ok(())
}

fn finish(ws: Workspace, facts: &Facts, checks: Vec<String>) -> Result<ChangeSet, EngineError> {
    let mut cs = ChangeSet {
        checks,
        params: ws.params,
        reasons: ws.reasons,
        notes: ws.notes,
        ..Default::default()
    };
    let restart = ws.restart;
    for (path, (kind, before, after, fchecks)) in ws.files {
        if before == after {
            continue;
        }
        let stat = ws
            .host
            .stat(&path)?
            .ok_or_else(|| EngineError::Invalid(format!("{path} disappeared while planning")))?;
        let major = facts.odoo.version.map(|v| v.major).unwrap_or(17);
        if kind == FileKind::OdooConf
            && (OdooConf::parse(&after).has_fatal_problems()
                || crate::checks::conf::refused_values(&OdooConf::parse(&after), major).len()
                    > crate::checks::conf::refused_values(&OdooConf::parse(&before), major).len())
        {
            return Err(EngineError::Invalid(format!(
                "the edited {path} would stop Odoo from starting; nothing is changed"
            )));
        }
        let diff = match kind {
            FileKind::OdooConf => unified_diff(
                &path,
                &OdooConf::parse(&before).redacted(),
                &OdooConf::parse(&after).redacted(),
            ),
            _ => unified_diff(&path, &before, &after),
        };
        cs.files.push(FileChange {
            path,
            kind,
            checks: fchecks,
            owner: stat.owner,
            group: stat.group,
            mode: stat.mode,
            before_sha256: sha256_hex(before.as_bytes()),
            after_sha256: sha256_hex(after.as_bytes()),
            diff,
            before: before.into_bytes(),
            after: after.into_bytes(),
        });
    }
    let nginx_changed = cs.files.iter().any(|f| f.kind == FileKind::Nginx);
    let odoo_changed =
        cs.files.iter().any(|f| f.kind == FileKind::OdooConf) || !cs.params.is_empty() || restart;
    if nginx_changed {
        if let Some(n) = facts.nginx.seen() {
            cs.services.push(crate::change::nginx_fix::reload_action(n));
        }
    }
    if odoo_changed {
        let was_running = facts.odoo.state.is_running();
        // A program supervisor gave up on (FATAL) or that was stopped is started, not restarted.
        let command = if was_running {
            facts.odoo.service.restart_command()
        } else {
            facts.odoo.service.start_command()
        }
        .ok_or_else(|| {
            EngineError::Invalid("Odoo was started by hand, so it cannot be restarted safely; run it under a service manager first".into())
        })?;
        cs.services.push(ServiceAction::RestartOdoo {
            command,
            service: facts.odoo.service.describe(),
            was_running,
        });
    }
    cs.interruption = match (nginx_changed, odoo_changed) {
        (false, false) => String::new(),
        (true, false) => "nginx reloads its configuration without dropping connections: nobody notices.".into(),
        (_, true) => "Odoo restarts: for a few seconds pages do not load and the live connection reconnects. Nobody is logged out.".into(),
    };
    Ok(cs)
}
