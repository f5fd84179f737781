//! Fix planners for what lives in odoo.conf, system parameters and cron files: each a pure
//! function of the facts and the [`Workspace`] (files read through its view), registered in
//! [`crate::registry`].

use super::workspace::Workspace;
use super::{FileKind, ParamChange};
use crate::checks::session::{lifetime_warning, LIFETIME_KEY};
use crate::checks::CheckId;
use crate::error::EngineError;
use crate::facts::Facts;
use crate::odoo_options::{folklore as folklore_of, FolkloreKind};
use std::time::Duration;

/// `proxy_mode = True`, so Odoo trusts the X-Forwarded-* headers of its proxy.
pub(crate) fn proxy_mode(
    ws: &mut Workspace,
    facts: &Facts,
    _: Option<&str>,
) -> Result<(), EngineError> {
    let id = CheckId::ProxyMode;
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

/// Pins `data_dir` to the folder Odoo uses now.
pub(crate) fn store(ws: &mut Workspace, facts: &Facts, _: Option<&str>) -> Result<(), EngineError> {
    let id = CheckId::SessionStore;
    // A folder that cannot keep sessions needs a person first (see `StoreProblem`): pinning
    // data_dir would change nothing users notice, and the check would still fail after it.
    let problems = crate::checks::session::store_problems(facts);
    if let Some(first) = problems.first() {
        ws.note(
            id,
            format!("The app cannot fix this here: {}", first.summary),
        );
        for p in &problems {
            for step in &p.steps {
                ws.note(id, step.clone());
            }
        }
        return Ok(());
    }
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
        ws.note(id, "data_dir is already set in odoo.conf, so there is nothing to pin; the finding says what to look at on the server.");
    }
    Ok(())
}

/// `max_cron_threads = 2` where it was 0, so the daily cleanup runs.
pub(crate) fn cleanup_runs(
    ws: &mut Workspace,
    facts: &Facts,
    _: Option<&str>,
) -> Result<(), EngineError> {
    let id = CheckId::SessionCleanupRuns;
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

/// Odoo's default worker memory limits where the configured ones recycle workers constantly.
pub(crate) fn workers_memory(
    ws: &mut Workspace,
    facts: &Facts,
    _: Option<&str>,
) -> Result<(), EngineError> {
    let id = CheckId::WorkersMemory;
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

pub(crate) fn conf_err(e: crate::odoo_conf::ConfError) -> EngineError {
    EngineError::UnsafeEdit {
        path: "odoo.conf".into(),
        reason: format!("cannot be edited safely: {e}"),
    }
}

/// `sessions.max_inactivity_seconds` in every database the instance serves (16+), or a restart
/// when the databases already hold the value but the running server does not use it yet.
pub(crate) fn lifetime(
    ws: &mut Workspace,
    facts: &Facts,
    value: Option<&str>,
) -> Result<(), EngineError> {
    let id = CheckId::SessionLifetime;
    let Some(version) = facts.odoo.version else {
        return Err(EngineError::CannotPlan {
            check: id,
            why: "the Odoo version is unknown, so the lifetime cannot be set safely".into(),
        });
    };
    if !version.has_lifetime_parameter() {
        ws.note(
            id,
            "Odoo before 16 has no lifetime setting: idle sessions live 7 days.",
        );
        return Ok(());
    }
    let wanted = match value {
        Some(v) => seconds_choice(id, v, "the lifetime", "86400 for a day")?,
        None => 86_400u64.max(version.shortest_safe_lifetime().as_secs()),
    };
    if let Some(w) = lifetime_warning(
        Duration::from_secs(wanted),
        version.shortest_safe_lifetime(),
    ) {
        ws.note(id, w);
    }
    let Some(db) = facts.db.seen() else {
        return Err(EngineError::CannotPlan {
            check: id,
            why: format!(
                "the database could not be read: {}",
                facts.db.why_unknown().unwrap_or("")
            ),
        });
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
                check: id,
            });
        }
    }
    ws.reason(id, format!(
        "{LIFETIME_KEY} = {wanted} ({}): Odoo deletes sessions idle longer than this. Odoo reads it at start, so it is restarted.",
        crate::version::human_duration(Duration::from_secs(wanted))
    ));
    Ok(())
}

/// Removes keys Odoo never reads from odoo.conf and deletes system parameters it never reads.
pub(crate) fn folklore(
    ws: &mut Workspace,
    facts: &Facts,
    _: Option<&str>,
) -> Result<(), EngineError> {
    let id = CheckId::ConfFolklore;
    let keys: Vec<String> = facts
        .odoo
        .config
        .as_ref()
        .map(|c| {
            c.doc
                .entries("options")
                .iter()
                .filter(|e| folklore_of(FolkloreKind::ConfKey, e.key).is_some())
                .map(|e| e.key.to_string())
                .collect()
        })
        .unwrap_or_default();
    if !keys.is_empty() {
        // Commented out, not deleted: the comment block someone wrote above the key ("raised
        // after users complained…") keeps something to explain, and the file says who took the
        // setting out, when and why.
        let today = today();
        ws.edit_conf(facts, id, |doc| {
            for k in &keys {
                let note = format!(
                    "Commented out by Odoo Session Doctor on {today}: Odoo never reads {k}. Instead: {}.",
                    folklore_of(FolkloreKind::ConfKey, k).map_or("see the session checklist", |f| f.instead)
                );
                doc.comment_out("options", k, &note).map_err(conf_err)?;
            }
            Ok(true)
        })?;
        ws.reason(
            id,
            format!(
                "Comments out {} in odoo.conf with a dated note: Odoo never reads {}.",
                keys.join(", "),
                if keys.len() == 1 { "it" } else { "them" }
            ),
        );
    }
    if let Some(db) = facts.db.seen() {
        for d in &db.databases {
            for (k, v) in &d.params {
                if folklore_of(FolkloreKind::SystemParameter, k).is_some() {
                    ws.params.push(ParamChange {
                        db: d.name.clone(),
                        key: k.clone(),
                        old: Some(v.clone()),
                        new: None,
                        check: id,
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

/// A duration a person typed for `check`, in whole seconds and at least a minute.
fn seconds_choice(
    check: CheckId,
    value: &str,
    what: &str,
    example: &str,
) -> Result<u64, EngineError> {
    value
        .trim()
        .parse::<u64>()
        .ok()
        .filter(|s| *s >= 60)
        .ok_or_else(|| EngineError::BadChoice {
            check,
            value: value.to_string(),
            expected: format!("give {what} in seconds, at least 60 (e.g. {example})"),
        })
}

/// Today's date (UTC, `YYYY-MM-DD`) for notes written into files.
fn today() -> String {
    humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string()[..10].to_string()
}

/// Replaces each value Odoo refuses at start with the value it would accept, keeping an inline
/// "comment" on its own line above. Values only a person can correct are left, with a note.
pub(crate) fn syntax(
    ws: &mut Workspace,
    facts: &Facts,
    _: Option<&str>,
) -> Result<(), EngineError> {
    let id = CheckId::ConfSyntax;
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
pub(crate) fn external_cleanup(
    ws: &mut Workspace,
    facts: &Facts,
    _: Option<&str>,
) -> Result<(), EngineError> {
    let id = CheckId::SessionExternalCleanup;
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

/// The delay of every installed idle-logout module whose delay is a system parameter, in every
/// database the instance serves. A module keeping its delay elsewhere gets a note saying where.
pub(crate) fn idle_logout(
    ws: &mut Workspace,
    facts: &Facts,
    value: Option<&str>,
) -> Result<(), EngineError> {
    use crate::checks::idle_logout::{installed, DEFAULT_CHOICE, SHORTEST_SENSIBLE};
    let id = CheckId::SessionIdleLogout;
    let wanted = match value {
        Some(v) => seconds_choice(id, v, "the delay", "28800 for 8 hours")?,
        None => DEFAULT_CHOICE,
    };
    let found = installed(facts);
    let store = facts.db.seen().and_then(|db| {
        db.databases
            .iter()
            .flat_map(|d| d.modules.iter())
            .find(|(m, s)| (*m == "session_redis" || *m == "session_db") && *s == "installed")
            .map(|(m, _)| m.clone())
    });
    if let (Some(store), Some(i)) = (
        store,
        found
            .iter()
            .find(|i| i.known.side == crate::checks::idle_logout::Side::Server),
    ) {
        // No delay makes it work: it reads a session file that this store never writes. Which
        // module goes is the admin's decision, so the plan only says what to do.
        ws.note(id, format!("{} cannot work with {store}: it reads the session's file on disk, and {store} keeps none. Uninstall one of the two in Odoo's Apps (database {}).", i.known.module, i.db));
        return Ok(());
    }
    let human = crate::version::human_duration(Duration::from_secs(wanted));
    if wanted < SHORTEST_SENSIBLE.as_secs() {
        ws.note(id, format!("{human} is shorter than an hour: people will still be logged out during an ordinary pause."));
    }
    let mut keys = Vec::new();
    for i in found {
        let Some((key, _)) = i.known.param else {
            ws.note(
                id,
                format!(
                    "{} (database {}) keeps its delay in its own settings: change it there by hand. {}",
                    i.known.module, i.db, i.known.how
                ),
            );
            continue;
        };
        if i.raw.as_deref().map(str::trim) != Some(wanted.to_string().as_str()) {
            ws.params.push(ParamChange {
                db: i.db.to_string(),
                key: key.into(),
                old: i.raw.clone(),
                new: Some(wanted.to_string()),
                check: id,
            });
            if !keys.contains(&key) {
                keys.push(key);
            }
        }
    }
    if !keys.is_empty() {
        ws.reason(id, format!(
            "{} = {wanted} ({human}): the module logs people out after this long without activity. The module caches the value, so Odoo is restarted.",
            keys.join(", ")
        ));
    }
    Ok(())
}
