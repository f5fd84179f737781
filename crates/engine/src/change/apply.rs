//! Applying a change set safely, and undoing it.
//!
//! Order (issue 4): lock → check nothing moved since the plan → record before-images on the host
//! → write files atomically → validate (odoo.conf by Odoo's rules, nginx with `nginx -t`) →
//! parameters in one transaction → reload nginx / restart Odoo → wait for health → verify after
//! the restart ([`super::verify`]) → release. Any failure from the first write on rolls
//! everything back in reverse order and verifies the old state is back.
//!
//! A connection lost mid-way cannot roll back from here: the record on the host then says
//! `applying` and the lock stays, so the next connection finds the unfinished change set and
//! offers to roll it back ([`record::unfinished`], [`rollback`]). That choice (over a watchdog
//! on the host) keeps the only code that restores state in one place ([`Ctx::restore`], used by
//! the automatic rollback and by [`rollback`]), tested once. Which way a failure goes is decided
//! by its kind ([`EngineError::connection_lost`]), never by its words.

use super::record::{self, Lock, Record, RecordStatus, Verification};
use super::verify::{self, SessionBefore, VerifyReport};
use super::{ChangeSet, FileKind, ParamChange, ServiceAction};
use crate::discover::db::Db;
use crate::error::EngineError;
use crate::facts::Facts;
use crate::odoo_conf::OdooConf;
use crate::probe::{self, ProbeOptions};
use crate::progress;
use crate::{DiagnoseOptions, Diagnosis};
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
    let ctx = Ctx {
        host,
        facts: &before.facts,
        opts,
        sink: p,
    };
    if cs.is_empty() {
        ctx.step(Step::Done, "nothing to change");
        return Ok(ApplyResult {
            changeset: String::new(),
            status: Outcome::Applied,
            verification: vec![],
            error: None,
            after: None,
        });
    }
    let root = opts.root();
    let id = record::new_id(cs);
    ctx.step(Step::Lock, format!("locking {root}"));
    let holder = format!("apply of change set {id}");
    let lock = match record::lock(host, root, &holder) {
        Err(EngineError::Locked { .. })
            if record::break_if_stale(host, root, opts.stale_lock_after.unwrap_or(STALE_LOCK))? =>
        {
            record::lock(host, root, &holder)?
        }
        other => other?,
    };

    ctx.step(
        Step::CheckUnchanged,
        "checking that nothing changed since the plan",
    );
    ctx.check_unchanged(cs)?;

    ctx.step(Step::Record, "saving before-images on the host");
    let mut rec = record::create(
        host,
        root,
        &id,
        cs,
        Some(record::InstanceRef::of(&before.facts.odoo)),
    )?;

    // A session made now must survive the restart (checked in verify).
    let session_before = opts
        .probe
        .as_ref()
        .and_then(|po| probe::continuity_login(ctx.facts, po));

    record::set_status(host, &mut rec, RecordStatus::Applying, "applying")?;
    let mut run = Applying {
        ctx,
        before,
        cs,
        lock,
        rec,
        session_before,
        params_written: false,
    };
    match run.steps() {
        Ok(report) => run.succeed(report),
        Err(failure) if failure.connection_lost() => Err(run.leave_for_recovery(failure)),
        Err(failure) => Ok(run.roll_back(failure)),
    }
}

/// What every stage works with: the host, the facts the change set was planned from, the
/// options and where progress goes.
struct Ctx<'a> {
    host: &'a Host,
    facts: &'a Facts,
    opts: &'a ApplyOptions,
    sink: Sink<'a>,
}

/// An apply under way: the change set is recorded on the host and the lock is held.
struct Applying<'a> {
    ctx: Ctx<'a>,
    before: &'a Diagnosis,
    cs: &'a ChangeSet,
    lock: Lock<'a>,
    rec: Record,
    session_before: Option<SessionBefore>,
    /// Whether the parameters' transaction may have committed: only then does a rollback write
    /// the old values back (a failed transaction wrote none).
    params_written: bool,
}

impl Applying<'_> {
    /// Write → validate → parameters → restart → verify. The first error stops it.
    fn steps(&mut self) -> Result<VerifyReport, EngineError> {
        self.write_files()?;
        self.validate()?;
        self.ctx.cancelled()?;
        self.write_params()?;
        self.ctx.cancelled()?;
        self.ctx.run_services(self.cs, false)?;
        self.verify()
    }

    fn write_files(&mut self) -> Result<(), EngineError> {
        let host = self.ctx.host;
        for f in &self.cs.files {
            self.ctx.cancelled()?;
            self.ctx
                .step(Step::WriteFiles, format!("writing {}", f.path));
            let st = host.write_atomic(&f.path, &f.after, &NewFileMode::default())?;
            if st.sha256.as_deref() != Some(f.after_sha256.as_str()) {
                return Err(EngineError::WriteMismatch {
                    host: host.name().into(),
                    path: f.path.clone(),
                });
            }
            self.rec.log.push(format!("wrote {}", f.path));
        }
        Ok(())
    }

    /// odoo.conf by Odoo's own rules, nginx with its own test, before anything is restarted.
    fn validate(&self) -> Result<(), EngineError> {
        let host = self.ctx.host;
        self.ctx
            .step(Step::Validate, "validating the edited configuration");
        for f in self
            .cs
            .files
            .iter()
            .filter(|f| f.kind == FileKind::OdooConf)
        {
            let text = String::from_utf8_lossy(&host.read_file(&f.path)?).into_owned();
            let doc = OdooConf::parse(&text);
            if let Some(pb) = doc
                .problems()
                .iter()
                .find(|pb| pb.severity == crate::odoo_conf::Severity::Fatal)
            {
                return Err(EngineError::OdooConfRejected {
                    path: f.path.clone(),
                    line: pb.line,
                    problem: pb.message.to_string(),
                });
            }
        }
        for s in &self.cs.services {
            if let ServiceAction::ReloadNginx { test, .. } = s {
                let out = host.run(&Cmd::new(&test[0]).args(&test[1..]).privileged())?;
                if !out.ok() {
                    return Err(EngineError::NginxRejected {
                        command: test.join(" "),
                        output: out.stderr_str().trim().to_string(),
                    });
                }
            }
        }
        Ok(())
    }

    fn write_params(&mut self) -> Result<(), EngineError> {
        let params = &self.cs.params;
        if params.is_empty() {
            return Ok(());
        }
        self.ctx.step(
            Step::WriteParams,
            format!(
                "writing {} system parameter(s) in one transaction",
                params.len()
            ),
        );
        self.ctx.write_params(params, |c| c.new.as_deref())?;
        self.params_written = true;
        self.rec.log.push("wrote system parameters".into());
        Ok(())
    }

    fn verify(&mut self) -> Result<VerifyReport, EngineError> {
        self.ctx.step(Step::Verify, "verifying after the restart");
        let continuity = self
            .session_before
            .as_ref()
            .zip(self.ctx.opts.probe.as_ref());
        let report = verify::after_restart(
            self.ctx.host,
            self.before,
            self.cs,
            &self.ctx.opts.diagnose,
            continuity,
        )?;
        self.rec.verification = report.rows();
        match report.first_failure() {
            Some(bad) => Err(bad.failure()),
            None => Ok(report),
        }
    }

    fn succeed(self, report: VerifyReport) -> Result<ApplyResult, EngineError> {
        let Applying {
            ctx, lock, mut rec, ..
        } = self;
        record::set_status(
            ctx.host,
            &mut rec,
            RecordStatus::Applied,
            "applied and verified",
        )?;
        lock.release()?;
        ctx.step(
            Step::Done,
            format!("change set {} applied and verified", rec.id),
        );
        Ok(ApplyResult {
            changeset: rec.id,
            status: Outcome::Applied,
            verification: rec.verification,
            error: None,
            after: Some(report.after),
        })
    }

    /// Nothing more can be done from this connection: the record (`applying`) and the lock stay,
    /// and the next connection offers to roll the change set back.
    fn leave_for_recovery(self, failure: EngineError) -> EngineError {
        self.lock.keep_for_recovery();
        EngineError::Interrupted {
            host: self.ctx.host.name().into(),
            id: self.rec.id,
            reason: failure.to_string(),
        }
    }

    /// Restores the before-images after `failure`; a failed rollback keeps the lock for a person.
    fn roll_back(self, failure: EngineError) -> ApplyResult {
        let Applying {
            ctx,
            cs,
            lock,
            mut rec,
            params_written,
            ..
        } = self;
        let reason = failure.to_string();
        ctx.step(Step::RollBack, format!("rolling back: {reason}"));
        let (status, outcome, error) = match ctx.restore(cs, false, params_written) {
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
        let _ = record::set_status(ctx.host, &mut rec, status, &error);
        if status == RecordStatus::RolledBack {
            let _ = lock.release();
        } else {
            lock.keep_for_recovery();
        }
        ctx.step(Step::Done, error.clone());
        ApplyResult {
            changeset: rec.id,
            status: outcome,
            verification: rec.verification,
            error: Some(error),
            after: None,
        }
    }
}

impl Ctx<'_> {
    fn step(&self, step: Step, detail: impl Into<String>) {
        progress::step(self.sink, step, detail);
    }

    fn cancelled(&self) -> Result<(), EngineError> {
        match &self.opts.cancel {
            Some(c) if c.load(Ordering::SeqCst) => Err(EngineError::Cancelled),
            _ => Ok(()),
        }
    }

    fn check_unchanged(&self, cs: &ChangeSet) -> Result<(), EngineError> {
        let host = self.host;
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
            .zip(verify::current_params(host, self.facts, &cs.params)?)
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

    /// Writes parameter values (`value_of` picks new or old) in one transaction per database.
    fn write_params(
        &self,
        params: &[ParamChange],
        value_of: impl Fn(&ParamChange) -> Option<&str>,
    ) -> Result<(), EngineError> {
        let (host, odoo) = (self.host, &self.facts.odoo);
        // One transaction per database, whatever order the checks added their parameters in.
        let mut dbs: Vec<&str> = params.iter().map(|p| p.db.as_str()).collect();
        dbs.sort_unstable();
        dbs.dedup();
        for db in dbs {
            let err = |e| crate::discover::db::database_error(host, odoo, db, e);
            let mut conn = Db::open(host, odoo, db).map_err(err)?;
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

    /// Reloads and restarts what the change set names. `restoring`: the before-images are back,
    /// so an Odoo that did not run before the change is started but not expected to answer.
    fn run_services(&self, cs: &ChangeSet, restoring: bool) -> Result<(), EngineError> {
        let host = self.host;
        for s in &cs.services {
            match s {
                ServiceAction::ReloadNginx { test, reload } => {
                    self.step(Step::ReloadNginx, reload.join(" "));
                    let out = host.run(&Cmd::new(&test[0]).args(&test[1..]).privileged())?;
                    if !out.ok() {
                        return Err(EngineError::ServiceFailed {
                            command: test.join(" "),
                            status: out.status,
                            output: out.stderr_str().trim().to_string(),
                        });
                    }
                    host.run_checked(&Cmd::new(&reload[0]).args(&reload[1..]).privileged())?;
                }
                ServiceAction::RestartOdoo {
                    command,
                    service,
                    was_running,
                } => {
                    let expect_up = *was_running || !restoring;
                    // Undoing a fix that made a down Odoo start: the running process still holds
                    // the fixed config, so it is restarted onto the restored one (which fails, as
                    // before).
                    let restart;
                    let command = if expect_up {
                        command
                    } else {
                        restart = self
                            .facts
                            .odoo
                            .service
                            .restart_command()
                            .unwrap_or(command.clone());
                        &restart
                    };
                    self.step(
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
                        (self.sink)(&Progress::Output {
                            line: line.to_string(),
                        });
                    }
                    if !expect_up {
                        continue; // back to how it was: not starting
                    }
                    if !out.ok() {
                        return Err(EngineError::ServiceFailed {
                            command: command.join(" "),
                            status: out.status,
                            output: out.stderr_str().trim().to_string(),
                        });
                    }
                    self.wait_healthy()?;
                }
            }
        }
        Ok(())
    }

    /// Polls Odoo's health endpoint through the tunnel until it answers or the time is up.
    fn wait_healthy(&self) -> Result<(), EngineError> {
        let limit = self.opts.health_timeout.unwrap_or(DEFAULT_HEALTH_TIMEOUT);
        self.step(
            Step::WaitHealth,
            format!("waiting up to {}s for Odoo to answer", limit.as_secs()),
        );
        let port = self.facts.odoo.http_port();
        let deadline = Instant::now() + limit;
        loop {
            if let Ok(t) = self.host.tunnel("127.0.0.1", port) {
                if probe::healthy(&format!("http://{}", t.local_addr())) {
                    return Ok(());
                }
            }
            if Instant::now() >= deadline {
                return Err(EngineError::NotHealthy { port, after: limit });
            }
            std::thread::sleep(Duration::from_millis(250));
        }
    }

    /// The one way back, for the automatic rollback and for `rollback`: restores files and
    /// parameters to the before-images, restarts, and verifies the old state is back.
    /// Parameters are only restored when they may have been written. A file edited by someone
    /// else since the apply is not overwritten unless `force`.
    fn restore(
        &self,
        cs: &ChangeSet,
        force: bool,
        params_written: bool,
    ) -> Result<(), EngineError> {
        let host = self.host;
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
                return Err(EngineError::UnsafeEdit {
                    path: f.path.clone(),
                    reason: format!("was edited by someone else after the change set was applied; not restoring it without --force. Their edit:\n{diff}"),
                });
            }
            self.step(Step::RollBack, format!("restoring {}", f.path));
            host.write_atomic(&f.path, &f.before, &NewFileMode::default())?;
        }
        if params_written && !cs.params.is_empty() {
            self.step(Step::RollBack, "restoring system parameters");
            self.write_params(&cs.params, |c| c.old.as_deref())?;
        }
        // Nothing was written: the running services never saw a change, so they are left alone.
        if restored > 0 || params_written {
            self.run_services(cs, true)?;
        }
        verify::restored(host, self.facts, cs, params_written)
    }
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
    let ctx = Ctx {
        host,
        facts,
        opts,
        sink: p,
    };
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
            .ok_or_else(|| EngineError::NothingToRollBack {
                host: host.name().into(),
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
    ctx.step(Step::Lock, format!("locking {root}"));
    let lock = match record::lock(host, root, &format!("rollback of change set {id}")) {
        Ok(l) => l,
        // The lock of the interrupted apply of this very change set: take it over.
        Err(EngineError::Locked { owner, .. }) if interrupted && owner.contains(&id) => {
            record::break_lock(host, root)?;
            record::lock(host, root, &format!("rollback of change set {id}"))?
        }
        Err(e) => return Err(e),
    };
    match ctx.restore(&rec.changeset, force, true) {
        Ok(()) => {
            rec.undone = Some(record::Stamp::now(crate::who::with_login(Some(
                host.user(),
            ))));
            record::set_status(
                host,
                &mut rec,
                RecordStatus::Undone,
                "rolled back on request",
            )?;
            lock.release()?;
            ctx.step(
                Step::Done,
                format!("change set {id} rolled back and verified"),
            );
            Ok(RollbackResult {
                changeset: id,
                status: RecordStatus::Undone,
                error: None,
            })
        }
        Err(e) if e.connection_lost() => {
            // The record still says what it said: the next connection offers this again.
            lock.keep_for_recovery();
            Err(EngineError::ConnectionLost {
                host: host.name().into(),
                during: format!("rolling back change set {id}"),
                id,
                reason: e.to_string(),
            })
        }
        Err(e) => {
            let _ = lock.release();
            Err(EngineError::RollbackStopped {
                id,
                source: Box::new(e),
            })
        }
    }
}
