//! Applying a change set safely, and undoing it.
//!
//! Order (issue 4): lock → check nothing moved since the plan → record before-images on the host
//! → write files atomically → validate (odoo.conf by Odoo's rules, nginx with `nginx -t`) →
//! parameters in one transaction → reload nginx / restart Odoo → wait for health → verify after
//! the restart (files and parameters persisted, the running server honours them, the fixed
//! checks pass, an existing session survives) → release. Any failure from the first write on
//! rolls everything back in reverse order and verifies the old state is back.
//!
//! A connection lost mid-way cannot roll back from here: the record on the host then says
//! `applying` and the lock stays, so the next connection finds the unfinished change set and
//! offers to roll it back ([`record::unfinished`], [`rollback`]). That choice (over a watchdog
//! on the host) keeps the only code that restores state in one place, tested once.

use super::record::{self, Record, RecordStatus, Verification};
use super::{ChangeSet, FileKind, ParamChange, ServiceAction};
use crate::checks::{CheckId, Status};
use crate::discover::db::Db;
use crate::error::EngineError;
use crate::facts::Facts;
use crate::odoo_conf::OdooConf;
use crate::probe::{self, ProbeOptions};
use crate::progress::step;
use crate::{diagnose, DiagnoseOptions, Diagnosis};
use osd_remote::{Cmd, Host, NewFileMode};
use serde::Serialize;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

pub use crate::progress::{Progress, Sink, Step};

#[derive(Clone, Default)]
pub struct ApplyOptions {
    /// How long Odoo may take to answer again after a restart.
    pub health_timeout: Option<Duration>,
    /// A test login: a session made before the restart must still be valid after it.
    pub probe: Option<ProbeOptions>,
    /// Set to cancel; honoured until the restart starts.
    pub cancel: Option<Arc<AtomicBool>>,
    pub diagnose: DiagnoseOptions,
    /// The product's state directory on the host (records, lock); default [`record::ROOT`].
    pub state_dir: Option<String>,
    /// A lock left by an apply whose connection was lost before it touched anything is broken
    /// after this long (default 2 minutes).
    pub stale_lock_after: Option<Duration>,
}

impl ApplyOptions {
    pub fn root(&self) -> &str {
        self.state_dir.as_deref().unwrap_or(record::ROOT)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Applied,
    RolledBack,
    Failed,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ApplyResult {
    /// The change set id (empty when there was nothing to change).
    pub changeset: String,
    pub status: Outcome,
    pub verification: Vec<Verification>,
    /// Why it was rolled back or failed.
    pub error: Option<String>,
    /// The diagnosis after the apply (or after the rollback).
    #[serde(skip)]
    pub after: Option<Diagnosis>,
}

const DEFAULT_HEALTH_TIMEOUT: Duration = Duration::from_secs(90);
const STALE_LOCK: Duration = Duration::from_secs(120);

/// Applies `cs` (planned from `before`). Returns `Err` only when nothing was changed (locked,
/// conflict) or when the connection was lost and the host keeps an unfinished record.
pub fn apply(
    host: &Host,
    before: &Diagnosis,
    cs: &ChangeSet,
    opts: &ApplyOptions,
    p: Sink,
) -> Result<ApplyResult, EngineError> {
    if cs.is_empty() {
        step(p, Step::Done, "nothing to change");
        return Ok(ApplyResult {
            changeset: String::new(),
            status: Outcome::Applied,
            verification: vec![],
            error: None,
            after: None,
        });
    }
    let facts = &before.odoo;
    let root = opts.root();
    let id = record::new_id(cs);
    step(p, Step::Lock, format!("locking {root}"));
    let holder = format!("apply of change set {id}");
    let lock = match record::lock(host, root, &holder) {
        Err(EngineError::Locked { .. })
            if record::break_if_stale(host, root, opts.stale_lock_after.unwrap_or(STALE_LOCK))? =>
        {
            record::lock(host, root, &holder)?
        }
        other => other?,
    };

    step(
        p,
        Step::CheckUnchanged,
        "checking that nothing changed since the plan",
    );
    check_unchanged(host, facts, cs)?;

    step(p, Step::Record, "saving before-images on the host");
    let mut rec = record::create(host, root, &id, cs)?;

    // A session made now must survive the restart (checked in verify).
    let session_before = opts
        .probe
        .as_ref()
        .and_then(|po| probe::continuity_login(facts, po));

    record::set_status(host, &mut rec, RecordStatus::Applying, "applying")?;
    let mut params_written = false;
    let result = apply_steps(
        host,
        facts,
        cs,
        opts,
        p,
        &mut rec,
        session_before.as_ref(),
        &mut params_written,
    );
    match result {
        Ok((verification, after)) => {
            rec.verification = verification.clone();
            record::set_status(
                host,
                &mut rec,
                RecordStatus::Applied,
                "applied and verified",
            )?;
            lock.release()?;
            step(
                p,
                Step::Done,
                format!("change set {} applied and verified", rec.id),
            );
            Ok(ApplyResult {
                changeset: rec.id,
                status: Outcome::Applied,
                verification,
                error: None,
                after: Some(after),
            })
        }
        Err(failure) => {
            let reason = failure.to_string();
            if connection_lost(&failure) {
                // Nothing more can be done from here: the record and the lock stay for recovery.
                std::mem::forget(lock);
                return Err(EngineError::Interrupted {
                    host: host.name().into(),
                    id: rec.id.clone(),
                    reason,
                });
            }
            step(p, Step::RollBack, format!("rolling back: {reason}"));
            rec.error = Some(reason.clone());
            let restored = restore(host, facts, &rec, opts, p, false, params_written);
            let (status, outcome, error) = match restored {
                Ok(()) => (
                    RecordStatus::RolledBack,
                    Outcome::RolledBack,
                    format!("{reason} — everything was restored"),
                ),
                Err(e) => (
                    RecordStatus::RollbackFailed,
                    Outcome::Failed,
                    format!("{reason} — and the rollback failed too: {e}"),
                ),
            };
            rec.error = Some(error.clone());
            let _ = record::set_status(host, &mut rec, status, &error);
            if status == RecordStatus::RolledBack {
                let _ = lock.release();
            } else {
                std::mem::forget(lock);
            }
            step(p, Step::Done, error.clone());
            Ok(ApplyResult {
                changeset: rec.id,
                status: outcome,
                verification: rec.verification,
                error: Some(error),
                after: None,
            })
        }
    }
}

fn check_unchanged(host: &Host, facts: &Facts, cs: &ChangeSet) -> Result<(), EngineError> {
    for f in &cs.files {
        let now = host.stat(&f.path)?.and_then(|s| s.sha256);
        if now.as_deref() != Some(f.before_sha256.as_str()) {
            return Err(EngineError::Conflict {
                host: host.name().into(),
                path: f.path.clone(),
            });
        }
    }
    for (pc, now) in cs
        .params
        .iter()
        .zip(current_params(host, facts, &cs.params)?)
    {
        if now != pc.old {
            return Err(EngineError::Conflict {
                host: host.name().into(),
                path: format!("system parameter {} in {}", pc.key, pc.db),
            });
        }
    }
    Ok(())
}

fn cancelled(opts: &ApplyOptions) -> Result<(), EngineError> {
    match &opts.cancel {
        Some(c) if c.load(Ordering::SeqCst) => {
            Err(EngineError::Invalid("cancelled before the restart".into()))
        }
        _ => Ok(()),
    }
}

fn apply_steps(
    host: &Host,
    facts: &Facts,
    cs: &ChangeSet,
    opts: &ApplyOptions,
    p: Sink,
    rec: &mut Record,
    session_before: Option<&(String, osd_remote::Secret)>,
    params_written: &mut bool,
) -> Result<(Vec<Verification>, Diagnosis), EngineError> {
    for f in &cs.files {
        cancelled(opts)?;
        step(p, Step::WriteFiles, format!("writing {}", f.path));
        let st = host.write_atomic(&f.path, &f.after, &NewFileMode::default())?;
        if st.sha256.as_deref() != Some(f.after_sha256.as_str()) {
            return Err(EngineError::Invalid(format!(
                "{} did not read back as written",
                f.path
            )));
        }
        rec.log.push(format!("wrote {}", f.path));
    }
    step(p, Step::Validate, "validating the edited configuration");
    for f in cs.files.iter().filter(|f| f.kind == FileKind::OdooConf) {
        let text = String::from_utf8_lossy(&host.read_file(&f.path)?).into_owned();
        let doc = OdooConf::parse(&text);
        if let Some(pb) = doc
            .problems()
            .iter()
            .find(|pb| pb.severity == crate::odoo_conf::Severity::Fatal)
        {
            return Err(EngineError::Invalid(format!(
                "{}:{}: {} — Odoo would not start",
                f.path, pb.line, pb.message
            )));
        }
    }
    for s in &cs.services {
        if let ServiceAction::ReloadNginx { test, .. } = s {
            let out = host.run(&Cmd::new(&test[0]).args(&test[1..]).privileged())?;
            if !out.ok() {
                return Err(EngineError::Invalid(format!(
                    "`{}` rejected the edited configuration: {}",
                    test.join(" "),
                    out.stderr_str().trim()
                )));
            }
        }
    }
    cancelled(opts)?;
    if !cs.params.is_empty() {
        step(
            p,
            Step::WriteParams,
            format!(
                "writing {} system parameter(s) in one transaction",
                cs.params.len()
            ),
        );
        write_params(host, facts, &cs.params, |c| c.new.as_deref())?;
        *params_written = true;
        rec.log.push("wrote system parameters".into());
    }
    cancelled(opts)?;
    run_services(host, facts, cs, opts, p, false)?;

    step(p, Step::Verify, "verifying after the restart");
    let mut verification = Vec::new();
    for f in &cs.files {
        let sha = host.stat(&f.path)?.and_then(|s| s.sha256);
        let ok = sha.as_deref() == Some(f.after_sha256.as_str());
        verification.push(Verification {
            check: f
                .checks
                .iter()
                .map(|c| c.as_str())
                .collect::<Vec<_>>()
                .join(","),
            persisted: ok,
            detail: format!(
                "{} {}",
                f.path,
                if ok {
                    "is as written"
                } else {
                    "differs from what was written"
                }
            ),
        });
    }
    for (pc, now) in cs
        .params
        .iter()
        .zip(current_params(host, facts, &cs.params)?)
    {
        let ok = now.as_deref() == pc.new.as_deref();
        verification.push(Verification {
            check: pc.check.to_string(),
            persisted: ok,
            detail: format!(
                "{} in {} = {}",
                pc.key,
                pc.db,
                now.as_deref().unwrap_or("(absent)")
            ),
        });
    }
    // The running server, observed: a fresh diagnosis must pass every fixed check.
    let after = diagnose(host, &opts.diagnose)?;
    for &id in &cs.checks {
        if let Some(f) = after.finding(id) {
            let fixed = matches!(f.status, Status::Ok | Status::Skip) || cs_notes_only(cs, id);
            verification.push(Verification {
                check: id.to_string(),
                persisted: fixed,
                detail: format!("after the restart: {} — {}", f.status.as_str(), f.summary),
            });
        }
    }
    if let Some(lt) = cs
        .params
        .iter()
        .find(|pc| pc.key == crate::checks::session::LIFETIME_KEY)
    {
        if let Some(obs) = observe_cookie(host, facts) {
            let ok = obs.map(|m| m.to_string()) == lt.new;
            verification.push(Verification {
                check: lt.check.to_string(),
                persisted: ok,
                detail: format!(
                    "a fresh session's cookie has Max-Age={}",
                    obs.map(|m| m.to_string())
                        .unwrap_or_else(|| "(none)".into())
                ),
            });
        }
    }
    if let (Some((base, sid)), Some(po)) = (session_before, &opts.probe) {
        let ok = probe::session_alive(po, base, sid);
        verification.push(Verification {
            check: "session.continuity".into(),
            persisted: ok,
            detail: format!(
                "a session made before the restart is {} after it",
                if ok { "still valid" } else { "gone" }
            ),
        });
    }
    rec.verification = verification.clone();
    if let Some(bad) = verification.iter().find(|v| !v.persisted) {
        return Err(EngineError::Invalid(format!(
            "verification failed for {}: {}",
            bad.check, bad.detail
        )));
    }
    Ok((verification, after))
}

/// Whether an error means the SSH connection is gone (nothing more can be done from here).
fn connection_lost(e: &EngineError) -> bool {
    matches!(
        e,
        EngineError::Remote(
            osd_remote::RemoteError::Ssh { .. } | osd_remote::RemoteError::Unreachable { .. }
        )
    ) || matches!(e, EngineError::Database { detail, .. } if detail.contains("no tunnel"))
}

/// A check whose plan held only notes (nothing to change) is not expected to turn ok.
fn cs_notes_only(cs: &ChangeSet, id: CheckId) -> bool {
    !cs.files.iter().any(|f| f.checks.contains(&id)) && !cs.params.iter().any(|p| p.check == id)
}

/// The current values of the parameters a change set touches, in its order.
fn current_params(
    host: &Host,
    facts: &Facts,
    params: &[ParamChange],
) -> Result<Vec<Option<String>>, EngineError> {
    let wanted: Vec<(&str, &str)> = params
        .iter()
        .map(|p| (p.db.as_str(), p.key.as_str()))
        .collect();
    crate::discover::db::read_params(host, &facts.odoo, &wanted)
}

/// Writes parameter values (`value_of` picks new or old) in one transaction per database.
fn write_params(
    host: &Host,
    facts: &Facts,
    params: &[ParamChange],
    value_of: impl Fn(&ParamChange) -> Option<&str>,
) -> Result<(), EngineError> {
    // One transaction per database, whatever order the checks added their parameters in.
    let mut dbs: Vec<&str> = params.iter().map(|p| p.db.as_str()).collect();
    dbs.sort_unstable();
    dbs.dedup();
    for db in dbs {
        let err =
            |detail: String| crate::discover::db::database_error(host, &facts.odoo, db, detail);
        let mut conn = Db::open(host, &facts.odoo, db).map_err(err)?;
        let stmts: Vec<(&str, Vec<String>)> = params
            .iter()
            .filter(|p| p.db == db)
            .map(|pc| match value_of(pc) {
                Some(v) => (
                    "INSERT INTO ir_config_parameter (key, value, create_uid, create_date, write_uid, write_date) \
                     VALUES ($1, $2, 1, now() at time zone 'UTC', 1, now() at time zone 'UTC') \
                     ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, write_uid = 1, write_date = now() at time zone 'UTC'",
                    vec![pc.key.clone(), v.to_string()],
                ),
                None => ("DELETE FROM ir_config_parameter WHERE key = $1", vec![pc.key.clone()]),
            })
            .collect();
        conn.transaction(&stmts).map_err(err)?;
    }
    Ok(())
}

/// Reloads and restarts what the change set names. `restoring`: the before-images are back, so
/// an Odoo that did not run before the change is started but not expected to answer.
fn run_services(
    host: &Host,
    facts: &Facts,
    cs: &ChangeSet,
    opts: &ApplyOptions,
    p: Sink,
    restoring: bool,
) -> Result<(), EngineError> {
    for s in &cs.services {
        match s {
            ServiceAction::ReloadNginx { test, reload } => {
                step(p, Step::ReloadNginx, reload.join(" "));
                let out = host.run(&Cmd::new(&test[0]).args(&test[1..]).privileged())?;
                if !out.ok() {
                    return Err(EngineError::Invalid(format!(
                        "`{}` failed: {}",
                        test.join(" "),
                        out.stderr_str().trim()
                    )));
                }
                host.run_checked(&Cmd::new(&reload[0]).args(&reload[1..]).privileged())?;
            }
            ServiceAction::RestartOdoo {
                command,
                service,
                was_running,
            } => {
                let expect_up = *was_running || !restoring;
                // Undoing a fix that made a down Odoo start: the running process still holds the
                // fixed config, so it is restarted onto the restored one (which fails, as before).
                let restart;
                let command = if expect_up {
                    command
                } else {
                    restart = facts
                        .odoo
                        .service
                        .restart_command()
                        .unwrap_or(command.clone());
                    &restart
                };
                step(
                    p,
                    Step::RestartOdoo,
                    format!("restarting {service}: {}", command.join(" ")),
                );
                let out = host.run(
                    &Cmd::new(&command[0])
                        .args(&command[1..])
                        .privileged()
                        .timeout(Duration::from_secs(120)),
                )?;
                for line in out.stdout_str().lines().chain(out.stderr_str().lines()) {
                    p(&Progress::Output {
                        line: line.to_string(),
                    });
                }
                if !expect_up {
                    continue; // back to how it was: not starting
                }
                if !out.ok() {
                    return Err(EngineError::Invalid(format!(
                        "`{}` failed (exit {}): {}",
                        command.join(" "),
                        out.status,
                        out.stderr_str().trim()
                    )));
                }
                wait_healthy(host, facts, opts, p)?;
            }
        }
    }
    Ok(())
}

/// Polls Odoo's health endpoint through the tunnel until it answers or the time is up.
fn wait_healthy(
    host: &Host,
    facts: &Facts,
    opts: &ApplyOptions,
    p: Sink,
) -> Result<(), EngineError> {
    let limit = opts.health_timeout.unwrap_or(DEFAULT_HEALTH_TIMEOUT);
    step(
        p,
        Step::WaitHealth,
        format!("waiting up to {}s for Odoo to answer", limit.as_secs()),
    );
    let port = facts.odoo.http_port();
    let deadline = Instant::now() + limit;
    loop {
        if let Ok(t) = host.tunnel("127.0.0.1", port) {
            if probe::healthy(&format!("http://{}", t.local_addr())) {
                return Ok(());
            }
        }
        if Instant::now() >= deadline {
            return Err(EngineError::Invalid(format!(
                "Odoo did not come back within {}s after the restart (port {port}); see its log",
                limit.as_secs()
            )));
        }
        std::thread::sleep(Duration::from_millis(250));
    }
}

/// The Max-Age of the cookie a fresh visitor gets on `/web/login`, if the server sets one.
fn observe_cookie(host: &Host, facts: &Facts) -> Option<Option<i64>> {
    let t = host.tunnel("127.0.0.1", facts.odoo.http_port()).ok()?;
    Some(probe::login_page_cookie(&format!("http://{}", t.local_addr()))?.max_age)
}

/// Restores files and parameters to the before-images, restarts, verifies the old state is back.
/// Parameters are only restored when they may have been written (a failed transaction wrote none).
fn restore(
    host: &Host,
    facts: &Facts,
    rec: &Record,
    opts: &ApplyOptions,
    p: Sink,
    force: bool,
    params_written: bool,
) -> Result<(), EngineError> {
    let cs = &rec.changeset;
    let mut restored = 0;
    for f in cs.files.iter().rev() {
        let now = host.stat(&f.path)?.and_then(|s| s.sha256);
        if now.as_deref() == Some(f.before_sha256.as_str()) {
            continue; // never written, or already restored
        }
        restored += 1;
        if now.as_deref() != Some(f.after_sha256.as_str()) && !force {
            let current = String::from_utf8_lossy(&host.read_file(&f.path)?).into_owned();
            let diff = super::unified_diff(
                &f.path,
                &redact_if_conf(f.kind, &String::from_utf8_lossy(&f.after)),
                &redact_if_conf(f.kind, &current),
            );
            return Err(EngineError::Invalid(format!(
                "{} was edited by someone else after the change set was applied; not restoring it without --force. Their edit:\n{diff}",
                f.path
            )));
        }
        step(p, Step::RollBack, format!("restoring {}", f.path));
        host.write_atomic(&f.path, &f.before, &NewFileMode::default())?;
    }
    if params_written && !cs.params.is_empty() {
        step(p, Step::RollBack, "restoring system parameters");
        write_params(host, facts, &cs.params, |c| c.old.as_deref())?;
    }
    // Nothing was written: the running services never saw a change, so they are left alone.
    if restored > 0 || params_written {
        run_services(host, facts, cs, opts, p, true)?;
    }
    for f in &cs.files {
        let st = host.stat(&f.path)?.ok_or_else(|| {
            EngineError::Invalid(format!("{} is missing after the rollback", f.path))
        })?;
        if st.sha256.as_deref() != Some(f.before_sha256.as_str())
            || st.mode != f.mode
            || st.owner != f.owner
        {
            return Err(EngineError::Invalid(format!(
                "{} is not byte-identical to its before-image after the rollback",
                f.path
            )));
        }
    }
    let restored_params = if params_written { &cs.params[..] } else { &[] };
    for (pc, now) in restored_params
        .iter()
        .zip(current_params(host, facts, restored_params)?)
    {
        if now != pc.old {
            return Err(EngineError::Invalid(format!(
                "system parameter {} in {} did not return to its old value",
                pc.key, pc.db
            )));
        }
    }
    Ok(())
}

fn redact_if_conf(kind: FileKind, text: &str) -> String {
    match kind {
        FileKind::OdooConf => OdooConf::parse(text).redacted(),
        _ => text.to_string(),
    }
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct RollbackResult {
    pub changeset: String,
    pub status: RecordStatus,
    pub error: Option<String>,
}

/// Undoes a recorded change set (the last applied one when `id` is None), from any machine.
/// Refuses when a file was edited since, unless `force`. Also finishes interrupted applies.
pub fn rollback(
    host: &Host,
    facts: &Facts,
    id: Option<&str>,
    force: bool,
    opts: &ApplyOptions,
    p: Sink,
) -> Result<RollbackResult, EngineError> {
    let id = match id {
        Some(id) => id.to_string(),
        None => record::history(host, opts.root())?
            .into_iter()
            .rev()
            .find(|r| {
                matches!(
                    r.status,
                    RecordStatus::Applied | RecordStatus::Applying | RecordStatus::RollbackFailed
                )
            })
            .map(|r| r.id)
            .ok_or_else(|| {
                EngineError::Invalid(format!(
                    "there is no applied change set on {} to roll back",
                    host.name()
                ))
            })?,
    };
    let root = opts.root();
    let mut rec = record::load(host, root, &id)?;
    if matches!(rec.status, RecordStatus::RolledBack | RecordStatus::Undone) {
        return Ok(RollbackResult {
            changeset: id,
            status: rec.status,
            error: None,
        });
    }
    let interrupted = rec.status.unfinished();
    step(p, Step::Lock, format!("locking {root}"));
    let lock = match record::lock(host, root, &format!("rollback of change set {id}")) {
        Ok(l) => l,
        // The lock of the interrupted apply of this very change set: take it over.
        Err(EngineError::Locked { owner, .. }) if interrupted && owner.contains(&id) => {
            record::break_lock(host, root)?;
            record::lock(host, root, &format!("rollback of change set {id}"))?
        }
        Err(e) => return Err(e),
    };
    match restore(host, facts, &rec, opts, p, force, true) {
        Ok(()) => {
            record::set_status(
                host,
                &mut rec,
                RecordStatus::Undone,
                "rolled back on request",
            )?;
            lock.release()?;
            step(
                p,
                Step::Done,
                format!("change set {id} rolled back and verified"),
            );
            Ok(RollbackResult {
                changeset: id,
                status: RecordStatus::Undone,
                error: None,
            })
        }
        Err(e) => {
            let msg = e.to_string();
            let _ = lock.release();
            Err(EngineError::Invalid(format!(
                "rollback of change set {id} stopped: {msg}"
            )))
        }
    }
}
