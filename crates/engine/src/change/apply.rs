//! Applying a change set safely, and undoing it.
//!
//! Order (issues 4 and 13): check odoo.conf's after-image by Odoo's rules → lock → check nothing
//! moved since the plan → record before-images and the change set's program on the host
//! ([`super::onhost`]) → start that program detached. On the host it writes the files
//! atomically, validates nginx with `nginx -t`, writes the parameters in one transaction per
//! database, reloads nginx / restarts Odoo and waits for health; any failure there restores
//! everything. The client follows its events as progress, then verifies after the restart
//! ([`super::verify`]) and confirms — or aborts, and the host restores. Without the client's word
//! within the guard's deadline the host restores by itself: a lost connection never leaves a
//! half-changed server.
//!
//! There is one restore path, the program's `restore`: used on a failed step, at the guard's
//! deadline, on the client's abort and by [`rollback`]. The client then checks for itself that the
//! before-state is back ([`verify::restored`]). Which way a failure goes is decided by its kind
//! ([`EngineError::connection_lost`]), never by its words.

use super::onhost;
use super::record::{self, Record, RecordStatus, Verification};
use super::verify;
use super::{ChangeSet, FileKind};
use crate::error::EngineError;
use crate::facts::Facts;
use crate::odoo_conf::OdooConf;
use crate::probe::{self, ProbeOptions};
use crate::progress;
use crate::{DiagnoseOptions, Diagnosis};
use osd_remote::{quote, Cmd, Host, NewFileMode};
use serde::Serialize;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

pub use crate::progress::{Progress, Sink, Step};

#[derive(Clone, Default)]
pub struct ApplyOptions {
    /// How long Odoo may take to answer again after a restart.
    pub health_timeout: Option<Duration>,
    /// A test login: a session made before the restart must still be valid after it.
    pub probe: Option<ProbeOptions>,
    /// Set to cancel; honoured until the change set's program starts on the host.
    pub cancel: Option<Arc<AtomicBool>>,
    /// How long the host waits for the client's confirmation after applying before it undoes
    /// the change set by itself (default [`onhost::DEFAULT_GUARD_SECS`]).
    pub guard: Option<Duration>,
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
/// conflict, refused) or when the connection was lost — the host then finishes by itself.
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
    // odoo.conf by Odoo's own rules, before anything is written: the host writes exactly these
    // bytes (and checks that it did).
    for f in cs.files.iter().filter(|f| f.kind == FileKind::OdooConf) {
        let doc = OdooConf::parse(&String::from_utf8_lossy(&f.after));
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
    let root = opts.root();
    let id = record::new_id(cs);
    ctx.step(Step::Lock, format!("locking {root}"));
    let holder = format!("apply of change set {id}");
    // Lock, then look: one command takes the lock and hashes the files the plan read.
    let paths: Vec<&str> = cs.files.iter().map(|f| f.path.as_str()).collect();
    let (lock, hashes) = match record::lock_and_hash(host, root, &holder, &paths) {
        Err(EngineError::Locked { .. })
            if record::break_if_stale(host, root, opts.stale_lock_after.unwrap_or(STALE_LOCK))? =>
        {
            record::lock_and_hash(host, root, &holder, &paths)?
        }
        other => other?,
    };

    ctx.step(
        Step::CheckUnchanged,
        "checking that nothing changed since the plan",
    );
    ctx.check_unchanged(cs, &hashes)?;

    ctx.step(
        Step::Record,
        "saving before-images and the change set's program on the host",
    );
    // The record, its images and the program in one command; record.json goes last, so a cut
    // leaves either no record or a whole one that never started (`recorded`).
    let rec = record::recorded(
        host,
        root,
        &id,
        cs,
        Some(record::InstanceRef::of(&before.facts.odoo)),
    );
    record::write(host, &rec, ctx.program_files(&rec))?;
    // A session made now must survive the restart (checked in verify).
    let session_before = opts
        .probe
        .as_ref()
        .and_then(|po| probe::continuity_login(ctx.facts, po));
    let guard = opts
        .guard
        .unwrap_or(Duration::from_secs(onhost::DEFAULT_GUARD_SECS));
    if let Err(e) = ctx.cancelled() {
        return ctx.never_started(rec, lock, e);
    }
    // A connection lost from the launch on: the program may run, and settles the change set by
    // itself within the guard's deadline.
    let lost = |e: EngineError| -> EngineError {
        if e.connection_lost() {
            EngineError::Interrupted {
                host: host.name().into(),
                id: id.clone(),
                reason: e.to_string(),
                guard_secs: guard.as_secs(),
            }
        } else {
            e
        }
    };
    // From here on the host owns the outcome: the program releases the lock when the change set
    // is settled.
    match ctx.launch(&rec, guard) {
        Ok(()) => lock.keep_for_recovery(),
        Err(e) if e.connection_lost() => {
            lock.keep_for_recovery();
            return Err(lost(e));
        }
        Err(e) => return ctx.never_started(rec, lock, e),
    }
    let mut follow = Follow::new(&ctx, &rec);
    match follow.until_awaiting().map_err(lost)? {
        Settled::Awaiting => {}
        settled => return ctx.rolled_back(&rec, settled).map_err(lost),
    }
    // Applied and answering: what only the client can see decides.
    (p)(&Progress::Guard {
        seconds: guard.as_secs(),
    });
    ctx.step(Step::Verify, "verifying after the restart");
    let continuity = session_before.as_ref().zip(opts.probe.as_ref());
    let verdict = verify::after_restart(host, before, cs, &opts.diagnose, continuity);
    let report = match verdict {
        Ok(report) => report,
        Err(e) if e.connection_lost() => return Err(lost(e)),
        Err(e) => {
            ctx.abort(&rec, "rolled_back", &e.to_string())
                .map_err(lost)?;
            let settled = follow.until_settled().map_err(lost)?;
            return ctx.rolled_back(&rec, settled).map_err(lost);
        }
    };
    let rows = report.rows();
    // The verdict, with the rows that justify it, and the wait for the host to settle it: one
    // command.
    if let Some(bad) = report.first_failure() {
        let why = bad.failure().to_string();
        ctx.step(Step::RollBack, format!("rolling back: {why}"));
        follow.first(&ctx.word_script(&rec, &rows, "abort", &format!("rolled_back\n{why}\n")));
        let settled = follow.until_settled().map_err(lost)?;
        let mut r = ctx.rolled_back(&rec, settled).map_err(lost)?;
        r.verification = rows;
        return Ok(r);
    }
    let confirmed_by = crate::who::with_login(Some(host.user()));
    follow.first(&ctx.word_script(&rec, &rows, "confirm", &confirmed_by));
    match follow.until_settled().map_err(lost)? {
        Settled::Status(RecordStatus::Applied) => {}
        // The deadline passed while we verified: the host guard undid it.
        settled => return ctx.rolled_back(&rec, settled).map_err(lost),
    }
    ctx.step(
        Step::Done,
        format!("change set {} applied and verified", rec.id),
    );
    Ok(ApplyResult {
        changeset: rec.id,
        status: Outcome::Applied,
        verification: rows,
        error: None,
        after: Some(report.after),
    })
}

/// What every stage works with: the host, the facts the change set was planned from, the
/// options and where progress goes.
struct Ctx<'a> {
    host: &'a Host,
    facts: &'a Facts,
    opts: &'a ApplyOptions,
    sink: Sink<'a>,
}

/// What the change set's program on the host ended in, as far as the client followed it.
#[derive(Debug)]
enum Settled {
    /// Applied, Odoo answers, the guard waits for the client's word.
    Awaiting,
    Status(RecordStatus),
}

/// Follows the program's events on the host, turning them into progress.
struct Follow<'c, 'a> {
    ctx: &'c Ctx<'a>,
    dir: String,
    offset: usize,
    /// The program has started reloading or restarting: a cancel is no longer honoured.
    restarting: bool,
    /// Shell the next look runs first (the client's word to the program), so saying it and
    /// waiting for the answer is one command.
    prelude: Option<String>,
}

impl<'c, 'a> Follow<'c, 'a> {
    fn new(ctx: &'c Ctx<'a>, rec: &Record) -> Self {
        Follow {
            ctx,
            dir: rec.dir(),
            offset: 0,
            restarting: false,
            prelude: None,
        }
    }

    /// Runs `script` on the host at the start of the next look; a failure of it fails the look.
    fn first(&mut self, script: &str) {
        self.prelude = Some(script.to_string());
    }

    /// One look: new events, the status, and whether the program still runs.
    fn poll(&mut self) -> Result<(Vec<(String, String)>, String, bool), EngineError> {
        // A long poll: the host waits (up to 2 s, looking every 50 ms) until the program writes
        // an event or ends, so each step is seen as it happens with one command, not one per
        // look (`sleep` takes fractions on GNU and busybox; elsewhere it looks every second).
        let said = match self.prelude.take() {
            // Its own subshell: its `exit` on failure ends only it.
            Some(p) => format!("( {p}\n) || exit 97\n"),
            None => String::new(),
        };
        let script = format!(
            "{said}d={dir}; i=0; while [ \"$i\" -lt 40 ]; do \
               [ \"$(wc -c < \"$d/events\" 2>/dev/null || echo 0)\" -gt {seen} ] && break; \
               flock -n \"$d/run.lock\" true 2>/dev/null && break; \
               sleep 0.05 2>/dev/null || {{ sleep 1; i=$((i + 19)); }}; i=$((i + 1)); done; \
             cat \"$d/status\" 2>/dev/null; printf '\\036'; if flock -n \"$d/run.lock\" true; then echo gone; else echo running; fi; printf '\\036'; tail -c +{from} \"$d/events\" 2>/dev/null",
            dir = quote(&self.dir),
            seen = self.offset,
            from = self.offset + 1
        );
        let out = self
            .ctx
            .host
            .run_script(&script, true, Duration::from_secs(30))?;
        if out.status == 97 {
            return Err(osd_remote::RemoteError::CommandFailed {
                host: self.ctx.host.name().into(),
                command: format!(
                    "tell the change set's program in {} the client's word",
                    self.dir
                ),
                status: out.status,
                stderr: out.stderr_str().trim().to_string(),
            }
            .into());
        }
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let mut parts = text.splitn(3, '\u{1e}');
        let status = parts.next().unwrap_or("").trim().to_string();
        let running = parts.next().unwrap_or("").trim() == "running";
        let events = parts.next().unwrap_or("");
        // Only whole lines: a line being written is read next time.
        let whole = events.rfind('\n').map(|i| &events[..=i]).unwrap_or("");
        self.offset += whole.len();
        let mut seen = Vec::new();
        for line in whole.lines() {
            let mut f = line.splitn(3, '\t');
            let _at = f.next();
            let step = f.next().unwrap_or("").to_string();
            let detail = f.next().unwrap_or("").to_string();
            self.report(&step, &detail);
            seen.push((step, detail));
        }
        Ok((seen, status, running))
    }

    fn report(&self, step: &str, detail: &str) {
        let s = match step {
            "write_files" => Step::WriteFiles,
            "validate" => Step::Validate,
            "write_params" => Step::WriteParams,
            "reload_nginx" => Step::ReloadNginx,
            "restart_odoo" => Step::RestartOdoo,
            "wait_health" => Step::WaitHealth,
            // Why it failed is the record's error, read once the program has settled.
            "roll_back" | "failed" => Step::RollBack,
            _ => return,
        };
        self.ctx.step(s, detail);
    }

    fn until(&mut self, stop_at_awaiting: bool) -> Result<Settled, EngineError> {
        let mut cancel_sent = false;
        loop {
            let (events, status, running) = self.poll()?;
            // A cancel is honoured until the reload or restart starts (as the faces promise).
            self.restarting |= events
                .iter()
                .any(|(s, _)| s == "reload_nginx" || s == "restart_odoo");
            if !cancel_sent && !self.restarting && self.ctx.cancelled().is_err() {
                self.ctx
                    .abort_file(&self.dir, "rolled_back", "cancelled before the restart")?;
                cancel_sent = true;
            }
            if stop_at_awaiting && events.iter().any(|(s, _)| s == "awaiting") {
                return Ok(Settled::Awaiting);
            }
            let st = record::parse_status(&status);
            match st {
                Some(
                    s @ (RecordStatus::Applied
                    | RecordStatus::RolledBack
                    | RecordStatus::Undone
                    | RecordStatus::RollbackFailed),
                ) => {
                    return Ok(Settled::Status(s));
                }
                _ if !running => {
                    // The program ended without settling (killed, the host rebooting): the
                    // record stays unfinished and `rollback` finishes it.
                    return Err(EngineError::HostProgramGone {
                        host: self.ctx.host.name().into(),
                        dir: self.dir.clone(),
                    });
                }
                _ => {}
            }
        }
    }

    fn until_awaiting(&mut self) -> Result<Settled, EngineError> {
        self.until(true)
    }

    fn until_settled(&mut self) -> Result<Settled, EngineError> {
        self.until(false)
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

    /// Nothing changed since the plan: each file's hash (`hashes`, taken under the lock) is its
    /// before-image's, each parameter still holds its old value.
    fn check_unchanged(
        &self,
        cs: &ChangeSet,
        hashes: &[Option<String>],
    ) -> Result<(), EngineError> {
        let host = self.host;
        for (f, now) in cs.files.iter().zip(hashes) {
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

    /// The change set was recorded but its program never started (cancelled, or the program
    /// could not be installed or started): nothing was changed, and the record says so. A
    /// cancel is an outcome (rolled back, with its reason); anything else is the error.
    fn never_started(
        &self,
        mut rec: Record,
        lock: record::Lock<'_>,
        e: EngineError,
    ) -> Result<ApplyResult, EngineError> {
        if e.connection_lost() {
            return Err(e); // the record stays `recorded`; the stale lock is broken later
        }
        let error = format!("{e} — nothing was changed");
        rec.error = Some(error.clone());
        record::set_status(self.host, &mut rec, RecordStatus::RolledBack, &error)?;
        lock.release()?;
        self.step(Step::Done, error.clone());
        match e {
            EngineError::Cancelled => Ok(ApplyResult {
                changeset: rec.id,
                status: Outcome::RolledBack,
                verification: vec![],
                error: Some(error),
                after: None,
            }),
            e => Err(e),
        }
    }

    /// The change set's program and its parameters, saved beside its record.
    fn program_files(&self, rec: &Record) -> Vec<record::NewFile> {
        let health = self
            .opts
            .health_timeout
            .unwrap_or(DEFAULT_HEALTH_TIMEOUT)
            .as_secs();
        let dir = rec.dir();
        let program = onhost::program(&rec.changeset, self.facts, &dir, &rec.root, &rec.id, health);
        vec![
            record::NewFile::new("run.sh", program, 0o700),
            record::NewFile::new(
                "params.json",
                onhost::params_json(&rec.changeset, self.facts),
                0o600,
            ),
        ]
    }

    /// Saves the program into an existing record (one written before the program existed).
    fn install_program(&self, rec: &Record) -> Result<(), EngineError> {
        record::run_as_root(
            self.host,
            &format!("save the change set's program in {}", rec.dir()),
            &record::files_script(&rec.dir(), &self.program_files(rec)),
        )?;
        Ok(())
    }

    /// Starts the program detached from this SSH session: a transient systemd service where
    /// systemd is PID 1, else a new session (`setsid`) with no terminal.
    fn launch(&self, rec: &Record, guard: Duration) -> Result<(), EngineError> {
        // Still the record step: the writes are the host's, reported from its events.
        self.step(
            Step::Record,
            format!("starting the change set on the host (it undoes itself unless confirmed within {}s)", guard.as_secs()),
        );
        let script = format!(
            "d={dir}; id={id}; g={g}\n\
             command -v flock >/dev/null 2>&1 || {{ echo 'flock (util-linux) is missing on this host' >&2; exit 1; }}\n\
             if [ -d /run/systemd/system ] && command -v systemd-run >/dev/null 2>&1 && systemd-run --quiet --collect --unit=\"odoo-session-doctor-$id\" sh \"$d/run.sh\" apply \"$g\"; then exit 0; fi\n\
             setsid sh \"$d/run.sh\" apply \"$g\" </dev/null >>\"$d/run.log\" 2>&1 &\n",
            dir = quote(&rec.dir()),
            id = quote(&rec.id),
            g = guard.as_secs()
        );
        self.host
            .run_script(&script, true, Duration::from_secs(30))?
            .ok()
            .then_some(())
            .ok_or_else(|| EngineError::HostProgramGone {
                host: self.host.name().into(),
                dir: rec.dir(),
            })
    }

    fn write_in(&self, dir: &str, file: &str, text: &str) -> Result<(), EngineError> {
        self.host.write_atomic(
            &format!("{dir}/{file}"),
            text.as_bytes(),
            &NewFileMode::new(None, None, 0o600),
        )?;
        Ok(())
    }

    /// Shell that saves the verification rows beside the record, then the client's `word` to
    /// the program (`confirm`: its guard settles the change set as applied; `abort`: it undoes
    /// it) — the rows are on the host before the program acts on the word.
    fn word_script(&self, rec: &Record, rows: &[Verification], word: &str, text: &str) -> String {
        record::files_script(
            &rec.dir(),
            &[
                record::verification_file(rows),
                record::NewFile::new(word, text, 0o600),
            ],
        )
    }

    /// Tells the host to undo the change set: `status` is what it ends as, `why` the reason.
    fn abort(&self, rec: &Record, status: &str, why: &str) -> Result<(), EngineError> {
        self.abort_file(&rec.dir(), status, why)
    }

    fn abort_file(&self, dir: &str, status: &str, why: &str) -> Result<(), EngineError> {
        self.step(Step::RollBack, format!("rolling back: {why}"));
        self.write_in(dir, "abort", &format!("{status}\n{why}\n"))
    }

    /// The result of a change set the host undid (or failed to): the client checks for itself
    /// that the old state is back.
    fn rolled_back(&self, rec: &Record, settled: Settled) -> Result<ApplyResult, EngineError> {
        let now = record::load(self.host, self.opts.root(), &rec.id)?;
        let reason = now.error.clone().unwrap_or_default();
        let (outcome, error) = match settled {
            Settled::Status(RecordStatus::RolledBack) | Settled::Status(RecordStatus::Undone) => {
                match verify::restored(self.host, self.facts, &rec.changeset, true) {
                    Ok(()) => (
                        Outcome::RolledBack,
                        format!("{reason} — everything was restored"),
                    ),
                    Err(e) => (
                        Outcome::Failed,
                        format!("{reason} — and the rollback failed too: {e}"),
                    ),
                }
            }
            _ => (Outcome::Failed, reason),
        };
        self.step(Step::Done, error.clone());
        Ok(ApplyResult {
            changeset: rec.id.clone(),
            status: outcome,
            verification: now.verification,
            error: Some(error),
            after: None,
        })
    }

    /// Runs the change set's restore on the host in the foreground (`rollback`): the same
    /// function the host uses on a failure and at the guard's deadline.
    fn restore_on_host(&self, rec: &Record, force: bool) -> Result<(), EngineError> {
        let dir = rec.dir();
        self.step(Step::RollBack, format!("restoring change set {}", rec.id));
        let cmd = format!(
            "sh {} restore{}",
            quote(&format!("{dir}/run.sh")),
            if force { " --force" } else { "" }
        );
        let out = self.host.run(
            &Cmd::shell(cmd)
                .privileged()
                .timeout(Duration::from_secs(600)),
        )?;
        match out.status {
            0 => Ok(()),
            3 => {
                // A file someone else edited since: show their edit, restore nothing.
                let path = out
                    .stdout_str()
                    .lines()
                    .find_map(|l| l.strip_prefix("edited ").map(str::to_string))
                    .unwrap_or_default();
                let reason = match rec.changeset.files.iter().find(|f| f.path == path) {
                    Some(f) => {
                        let current = String::from_utf8_lossy(&self.host.read_file(&f.path)?).into_owned();
                        let diff = super::unified_diff(
                            &f.path,
                            &redact_if_conf(f.kind, &String::from_utf8_lossy(&f.after)),
                            &redact_if_conf(f.kind, &current),
                        );
                        format!("was edited by someone else after the change set was applied; not restoring it without --force. Their edit:\n{diff}")
                    }
                    None => "holds a value written by someone else after the change set was applied; not restoring it without --force".to_string(),
                };
                Err(EngineError::UnsafeEdit {
                    path: if path.is_empty() {
                        "a system parameter".into()
                    } else {
                        path
                    },
                    reason,
                })
            }
            75 => Err(EngineError::Locked {
                host: self.host.name().into(),
                owner: format!("the program of change set {}", rec.id),
            }),
            _ => {
                let now = record::load(self.host, self.opts.root(), &rec.id)?;
                Err(EngineError::NotRestored {
                    what: now
                        .error
                        .unwrap_or_else(|| out.stderr_str().trim().to_string()),
                })
            }
        }
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
/// Refuses when a file was edited since, unless `force`. Also finishes interrupted applies: a
/// change set whose program still runs on the host is told to undo itself; one whose program is
/// gone (a reboot) is restored by the same program run in the foreground.
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
    let root = opts.root();
    let rec = record::to_roll_back(host, root, id)?;
    let id = rec.id.clone();
    if matches!(rec.status, RecordStatus::RolledBack | RecordStatus::Undone) {
        return Ok(RollbackResult {
            changeset: id,
            status: rec.status,
            error: None,
        });
    }
    let lost = |e: EngineError| -> EngineError {
        if e.connection_lost() {
            EngineError::ConnectionLost {
                host: host.name().into(),
                during: format!("rolling back change set {id}"),
                id: id.clone(),
                reason: e.to_string(),
            }
        } else {
            e
        }
    };
    // Records from before the program existed get it now (the same restore).
    if host
        .stat(&format!("{}/run.sh", rec.dir()))
        .map_err(EngineError::from)
        .map_err(lost)?
        .is_none()
    {
        ctx.install_program(&rec).map_err(lost)?;
    }
    let mut follow = Follow::new(&ctx, &rec);
    let (_, _, running) = follow.poll().map_err(lost)?;
    let outcome = if running {
        // Its program is still applying or waiting for a confirmation: it undoes itself.
        ctx.abort(&rec, "undone", "rolled back on request")
            .map_err(lost)?;
        match follow.until_settled().map_err(lost)? {
            Settled::Status(RecordStatus::Undone | RecordStatus::RolledBack) => Ok(()),
            _ => Err(EngineError::NotRestored {
                what: record::load(host, root, &id)
                    .ok()
                    .and_then(|r| r.error)
                    .unwrap_or_else(|| "the change set's program could not restore it".into()),
            }),
        }
    } else {
        ctx.step(Step::Lock, format!("locking {root}"));
        let lock = match record::lock(host, root, &format!("rollback of change set {id}")) {
            Ok(l) => l,
            // The lock of the interrupted apply of this very change set: take it over.
            Err(EngineError::Locked { owner, .. })
                if rec.status.unfinished() && owner.contains(&id) =>
            {
                record::break_lock(host, root).map_err(lost)?;
                record::lock(host, root, &format!("rollback of change set {id}")).map_err(lost)?
            }
            Err(e) => return Err(lost(e)),
        };
        // The program releases the lock once the change set is settled.
        lock.keep_for_recovery();
        let r = ctx.restore_on_host(&rec, force);
        if r.is_err() {
            let _ = record::break_lock(host, root);
        }
        r
    };
    let checked = outcome.and_then(|()| verify::restored(host, facts, &rec.changeset, true));
    match checked {
        Ok(()) => {
            let mut now = record::load(host, root, &id).map_err(lost)?;
            now.undone = Some(record::Stamp::now(crate::who::with_login(Some(
                host.user(),
            ))));
            now.status = RecordStatus::Undone;
            record::save(host, &now).map_err(lost)?;
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
        Err(e) if e.connection_lost() => Err(lost(e)),
        Err(e) => Err(EngineError::RollbackStopped {
            id,
            source: Box::new(e),
        }),
    }
}
