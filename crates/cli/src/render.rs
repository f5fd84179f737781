//! Human output: a one-line verdict first, then the checklist with ✓ ! ✗ marks, then the details
//! of everything that is not ok, each ending in how it gets fixed: here (`--fix <id>`) or by a
//! person (the why and the steps). Also how a failure is said: what happened, then on its own
//! last line the one thing to do next.
//!
//! Colour: the marks and the verdict carry ANSI styles here, and the printing goes through
//! `anstream`, which drops them unless the stream is a terminal and `NO_COLOR` is unset
//! (`CLICOLOR_FORCE=1` forces them, `NO_COLOR` still wins).

use anstyle::{AnsiColor, Style};
use osd_engine::checks::{Remedy, Status};
use osd_engine::{Diagnosis, EngineError};
use osd_remote::RemoteError;
use std::fmt::Write;

/// The style of a status: green ok, yellow warning, red failure, dim skipped/unknown.
fn style(status: Status) -> Style {
    match status {
        Status::Ok => AnsiColor::Green.on_default(),
        Status::Warn => AnsiColor::Yellow.on_default(),
        Status::Fail => AnsiColor::Red.on_default().bold(),
        Status::Skip | Status::Unknown => Style::new().dimmed(),
    }
}

/// A status mark, in its colour.
fn mark(status: Status) -> String {
    let s = style(status);
    format!("{s}{}{s:#}", status.mark())
}

/// A report's status mark (the fleet's lines), in the same colours.
fn report_mark(status: osd_engine::report::CheckStatus) -> String {
    use osd_engine::report::CheckStatus as C;
    let s = style(match status {
        C::Ok => Status::Ok,
        C::Skip => Status::Skip,
        C::Unknown => Status::Unknown,
        C::Warn => Status::Warn,
        C::Fail => Status::Fail,
    });
    format!("{s}{}{s:#}", status.mark())
}

/// Something that failed: what happened, and the one thing to do next (the last line printed).
pub struct Failure {
    pub message: String,
    pub next: String,
}

impl Failure {
    pub fn new(message: impl std::fmt::Display, next: impl Into<String>) -> Failure {
        Failure {
            message: message.to_string(),
            next: next.into(),
        }
    }

    /// Prints it on stderr; exit 3 (could not do what was asked).
    pub fn print(&self) -> i32 {
        let red = AnsiColor::Red.on_default().bold();
        let bold = Style::new().bold();
        anstream::eprintln!("{red}error:{red:#} {}", self.message.trim_end());
        anstream::eprintln!("{bold}next:{bold:#} {}", self.next.trim_end());
        3
    }

    /// An SSH or host error: its words already end with what to do after a " — ".
    pub fn remote(e: &RemoteError) -> Failure {
        let text = e.to_string();
        if let Some((message, next)) = text.split_once(" — ") {
            return Failure::new(message, next);
        }
        let next = match e {
            RemoteError::UnknownHostKey { .. } => "if the fingerprint is the server's (`ssh-keygen -lf` of its host key), run the command again with --accept-new-host-key, or add the key to a --known-hosts file".to_string(),
            RemoteError::HostKeyChanged { .. } => "do not go on unless you know the server was reinstalled; then remove the old line as the message says and connect again".into(),
            RemoteError::KnownHosts { .. } => "check that file's permissions, or name another with --known-hosts".into(),
            RemoteError::SshConfig { .. } => "fix that line of the SSH config, or name the host as user@host:port".into(),
            RemoteError::PrivilegeMissing { hint, .. } => hint.clone(),
            RemoteError::Io { .. } => "check the path and its permissions, then run the command again".into(),
            _ => "check the server, then run the command again".into(),
        };
        Failure::new(text, next)
    }

    /// An engine error, with the next step in this command line's words; `target` is what the
    /// person typed, for the commands it suggests.
    pub fn engine(e: &EngineError, target: &str) -> Failure {
        use EngineError as E;
        let bin = "odoo-session-doctor";
        let next = match e {
            E::Remote(r) => return Failure::remote(r),
            E::RollbackStopped { source, .. } => {
                let inner = Failure::engine(source, target);
                return Failure::new(e, inner.next);
            }
            E::NoOdoo { .. } => "start Odoo on the server, then run the command again".into(),
            E::SeveralInstances { .. } | E::InstanceNotFound { .. } => {
                "run the command again with --instance and one of the ports or config paths listed above".into()
            }
            E::Discovery { .. } => format!("run `{bin} diagnose {target}` again; if it fails the same way, report it with this message"),
            E::Database { .. } => "make PostgreSQL reachable with the config's db_* settings, then run the command again".into(),
            E::Locked { .. } => format!("wait for that change to finish; if it was interrupted, see `{bin} history {target}` and roll it back with `{bin} rollback {target} --last --yes`"),
            E::Conflict { .. } | E::UnsafeEdit { .. } => format!("nothing was overwritten: run `{bin} plan {target} ...` again to see the current state"),
            E::Interrupted { id, .. } => format!("see the outcome with `{bin} history {target}`, or undo it now with `{bin} rollback {target} {id} --yes`"),
            E::HostProgramGone { .. } => format!("restore the before-state with `{bin} rollback {target} --last --yes`"),
            E::ConnectionLost { id, .. } => format!("once the server answers again: `{bin} rollback {target} {id} --yes`"),
            E::Cancelled => "nothing to do: the change was rolled back before the restart".into(),
            E::WriteMismatch { .. } => "check the server's disk (free space, read-only mount), then apply again".into(),
            E::OdooConfRejected { .. } => "fix that line of odoo.conf by hand, then plan again".into(),
            E::NginxRejected { .. } => "make `nginx -t` pass on the server, then plan again".into(),
            E::ServiceFailed { .. } => "read the service's output above and its log on the server, then diagnose again".into(),
            E::NotHealthy { .. } => format!("read Odoo's log on the server, then run `{bin} diagnose {target}`"),
            E::VerificationFailed { .. } => format!("see what the server says now with `{bin} diagnose {target}`"),
            E::NotRestored { .. } => format!("see what is left with `{bin} history {target}`, then roll back again with --force"),
            E::NothingToRollBack { .. } => format!("see what was applied with `{bin} history {target}`"),
            E::BadChangeSetId { .. } | E::NoSuchChangeSet { .. } => format!("take a change set id from `{bin} history {target}`"),
            E::DamagedRecord { .. } => "look at the record's folder on the server (record.json, before/): the before-images are still there".into(),
            E::UnknownCheck { .. } => "use one of the checks listed above with --fix".into(),
            E::BadChoice { check, .. } => format!("give one of the values above with --set {check}=VALUE"),
            E::CannotPlan { .. } => format!("do what the message says, then run `{bin} plan {target} ...` again"),
            E::NeedsYou { .. } => format!("follow the steps above on the server, then run `{bin} diagnose {target}`"),
            E::NoServiceManager => "run Odoo under systemd or supervisor, then apply again".into(),
            E::Unreadable { .. } => "make the file readable as text on the server, then run the command again".into(),
            E::FactsDocument(_) => format!("write the facts again with `{bin} facts TARGET --out FILE`"),
            E::Invalid(_) => format!("see `{bin} help` for the arguments"),
            E::CannotRollBackAction { .. } => format!("nothing to undo: a log-out cannot be rolled back; see `{bin} history {target}`"),
            E::Sessions { .. } => format!("check the sessions folder on the server (owner, free space), then run `{bin} sessions {target}` again"),
            E::SessionsChoice(_) => format!("see who has sessions with `{bin} sessions {target}`, then choose a login or --database from it"),
        };
        Failure::new(e, next)
    }
}

pub fn diagnosis(d: &Diagnosis) -> String {
    let mut out = String::new();
    let version = d
        .facts
        .odoo
        .version
        .map(|v| format!("Odoo {v}"))
        .unwrap_or_else(|| "Odoo (version unknown)".into());
    let verdict = style(d.verdict.status).bold();
    let _ = writeln!(
        out,
        "{verdict}{}{verdict:#} — {} on {}",
        d.verdict.line, version, d.host
    );
    let _ = writeln!(out);
    let width = d
        .checks
        .iter()
        .map(|c| c.id.as_str().len())
        .max()
        .unwrap_or(0);
    for c in &d.checks {
        let _ = writeln!(out, " {} {:width$}  {}", mark(c.status), c.id, c.summary);
    }
    for c in d
        .checks
        .iter()
        .filter(|c| matches!(c.status, Status::Fail | Status::Warn | Status::Unknown))
    {
        let _ = writeln!(out, "\n{} {} — {}", mark(c.status), c.id, c.title);
        if !c.users_see.is_empty() {
            let _ = writeln!(out, "  What users see: {}", c.users_see);
        }
        if !c.why.is_empty() {
            let _ = writeln!(out, "  Why: {}", c.why);
        }
        for e in &c.evidence {
            let _ = writeln!(out, "  Evidence: {}: {}", e.source, e.excerpt);
        }
        if let Some(n) = &c.version_note {
            let _ = writeln!(out, "  Version: {n}");
        }
        for f in &c.fixes {
            let _ = write!(out, "  Fix: {}", f.title);
            if !f.choices.is_empty() {
                let list: Vec<String> = f
                    .choices
                    .iter()
                    .map(|ch| format!("{} = {}", ch.label, ch.value))
                    .collect();
                let _ = write!(
                    out,
                    " — choices: {} (--set {}=<value>)",
                    list.join(", "),
                    c.id
                );
            }
            let _ = writeln!(out);
        }
        match &c.remedy {
            Remedy::Here { also } if also.is_empty() => {
                let _ = writeln!(out, "  Fix here: --fix {}", c.id);
            }
            Remedy::Here { also } => {
                let titles: Vec<&str> = also
                    .iter()
                    .filter_map(|a| d.finding(*a).map(|f| f.title.as_str()))
                    .collect();
                let _ = writeln!(
                    out,
                    "  Fix here: --fix {} (also fixes: {})",
                    c.id,
                    titles.join("; ")
                );
            }
            Remedy::NeedsYou { why, steps } => {
                let _ = writeln!(out, "  Needs you: {why}");
                for (i, s) in steps.iter().enumerate() {
                    let _ = writeln!(out, "    {}. {s}", i + 1);
                }
            }
            Remedy::None => {}
        }
        for r in &c.references {
            let _ = writeln!(out, "  See: {} {}", r.label, r.url);
        }
    }
    out
}

/// A host of a fleet run as it finishes: mark, name, verdict, Odoo version, the worst check.
pub fn fleet_line(h: &osd_engine::fleet::FleetHost) -> String {
    let mut line = match &h.result {
        Ok(r) => {
            let version = r
                .report
                .server
                .odoo_version
                .as_deref()
                .map(|v| format!("Odoo {v}"))
                .unwrap_or_else(|| "Odoo ?".into());
            let worst = r
                .worst_check()
                .map(|c| format!(" — worst: {} {}: {}", c.status.mark(), c.id, c.summary))
                .unwrap_or_default();
            format!(
                "{} {}: {} ({version}){worst}",
                report_mark(r.report.verdict.status),
                h.name,
                r.report.verdict.line
            )
        }
        Err(e) => format!("{} {}: could not diagnose: {e}", mark(Status::Fail), h.name),
    };
    if let Ok(r) = &h.result {
        for c in r.unsettled() {
            let _ = write!(
                line,
                "\n    unsettled: change set {} ({}) — `rollback {}` on this host settles it",
                c.id, c.state_words, c.id
            );
        }
    }
    if let Some(d) = &h.drift {
        line.push_str(&drift(d));
    }
    line
}

/// Drift under a host's line: what got worse, what was edited outside this app since.
fn drift(d: &osd_engine::fleet::Drift) -> String {
    let mut out = String::new();
    let since = d.baseline_at.as_deref().unwrap_or("the baseline");
    if let Some(n) = &d.note {
        let _ = write!(out, "\n    drift: {n}");
    }
    if d.is_empty() && d.note.is_none() {
        let _ = write!(out, "\n    drift: none since {since}");
    }
    for w in &d.worse {
        let _ = write!(
            out,
            "\n    drift: {} got worse since {since}: {} → {}: {}",
            w.check,
            w.was.as_str(),
            w.now.as_str(),
            w.summary
        );
    }
    for e in &d.edited {
        let _ = write!(
            out,
            "\n    drift: {} (change set {}) was edited outside this app: {}",
            e.item, e.changeset, e.detail
        );
    }
    out
}

/// The fleet as a table, in inventory order, after every host finished.
pub fn fleet_table(hosts: &[osd_engine::fleet::FleetHost]) -> String {
    let rows: Vec<[String; 5]> = hosts
        .iter()
        .map(|h| match &h.result {
            Ok(r) => [
                h.name.clone(),
                format!(
                    "{} {}",
                    r.report.verdict.status.mark(),
                    r.report.verdict.status.word()
                ),
                r.report
                    .server
                    .odoo_version
                    .clone()
                    .unwrap_or_else(|| "?".into()),
                r.report
                    .checks
                    .iter()
                    .filter(|c| c.status.open())
                    .count()
                    .to_string(),
                r.worst_check()
                    .map(|c| c.id.clone())
                    .unwrap_or_else(|| "-".into()),
            ],
            Err(e) => [
                h.name.clone(),
                "✗ Not diagnosed".into(),
                "-".into(),
                "-".into(),
                if e.chars().count() > 70 {
                    e.chars().take(69).chain(['…']).collect()
                } else {
                    e.clone()
                },
            ],
        })
        .collect();
    let head = ["HOST", "VERDICT", "ODOO", "OPEN", "WORST CHECK / ERROR"];
    let mut width = head.map(|h| h.chars().count());
    for r in &rows {
        for (w, cell) in width.iter_mut().zip(r) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for r in std::iter::once(head.map(String::from)).chain(rows) {
        let cells: Vec<String> = r
            .iter()
            .zip(width)
            .map(|(c, w)| format!("{c}{}", " ".repeat(w - c.chars().count())))
            .collect();
        let _ = writeln!(out, "{}", cells.join("  ").trim_end());
    }
    out
}
