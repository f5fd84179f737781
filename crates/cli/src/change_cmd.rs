//! `plan`, `apply`, `rollback`, `history`: the change commands, thin over `osd_engine::change`.

use crate::activity::Activity;
use crate::connect::ConnArgs;
use crate::render::Failure;
use crate::{connect_following, DiagArgs};
use clap::Args;
use osd_engine::change::apply::{self, ApplyOptions, Outcome, Progress};
use osd_engine::change::effect::{self, EffectState, ItemState};
use osd_engine::change::plan::{plan, FixRequest};
use osd_engine::change::record;
use osd_engine::EngineError;

#[derive(Args, Clone)]
pub struct FixArgs {
    /// The checks to fix, comma-separated (e.g. session.lifetime,proxy.mode).
    #[arg(long, value_delimiter = ',', required = true)]
    pub fix: Vec<String>,
    /// A check's choice, e.g. --set session.lifetime=86400 or --set proxy.canonical-host=odoo.example.com.
    #[arg(long = "set", value_name = "CHECK=VALUE")]
    pub set: Vec<String>,
}

impl FixArgs {
    fn request(&self) -> Result<FixRequest, EngineError> {
        let mut values = Vec::new();
        for s in &self.set {
            let (k, v) = s.split_once('=').ok_or_else(|| {
                EngineError::Invalid(format!(
                    "--set {s}: expected CHECK=VALUE, e.g. session.lifetime=86400"
                ))
            })?;
            values.push((k.trim(), v.trim()));
        }
        FixRequest::parse(self.fix.iter().map(String::as_str), values)
    }
}

/// Prints an apply's or rollback's steps as lines on stderr (stdout stays clean for --json):
/// the log a script keeps. On a terminal the progress line follows them too.
fn progress(act: &Activity, p: &Progress) {
    act.follow(p);
    match p {
        Progress::Step { step, detail } => act.line(&format!(
            "[{}] {detail}",
            serde_json::to_value(step)
                .ok()
                .and_then(|v| v.as_str().map(String::from))
                .unwrap_or_default()
        )),
        Progress::Output { line } => act.line(&format!("    | {line}")),
        Progress::Guard { seconds } => act.line(&format!(
            "[guard] the server undoes the change by itself unless this command confirms it within {seconds}s"
        )),
    }
}

pub fn plan_cmd(
    conn: &ConnArgs,
    diag: &DiagArgs,
    fix: &FixArgs,
    json: bool,
    ansible: Option<&std::path::Path>,
) -> i32 {
    let run = || -> Result<i32, EngineError> {
        let act = Activity::start("");
        let host = connect_following(conn, &act)?;
        let d = osd_engine::diagnose_with_progress(&host, &diag.options()?, &|p| act.follow(p))?;
        act.say("Planning the change");
        let cs = plan(&host, &d, &fix.request()?)?;
        drop(act);
        if let Some(path) = ansible {
            let text = osd_engine::change::ansible::playbook(&cs, &d.facts)?;
            std::fs::write(path, text).map_err(|e| {
                EngineError::Invalid(format!(
                    "cannot write the playbook to {}: {e}",
                    path.display()
                ))
            })?;
            eprintln!(
                "Ansible playbook written to {} (preview: ansible-playbook -i HOST, {} --check --diff)",
                path.display(),
                path.display()
            );
        }
        if json {
            println!(
                "{}",
                serde_json::to_string_pretty(&cs).expect("change set serializes")
            );
        } else {
            print!("{}", cs.preview());
        }
        Ok(0)
    };
    run().unwrap_or_else(|e| Failure::engine(&e, &conn.target).print())
}

pub fn apply_cmd(
    conn: &ConnArgs,
    diag: &DiagArgs,
    fix: &FixArgs,
    yes: bool,
    guard: u64,
    json: bool,
) -> i32 {
    let run = || -> Result<i32, EngineError> {
        let opts = diag.options()?;
        let act = Activity::start("");
        let host = connect_following(conn, &act)?;
        let d = osd_engine::diagnose_with_progress(&host, &opts, &|p| act.follow(p))?;
        act.say("Planning the change");
        let cs = plan(&host, &d, &fix.request()?)?;
        drop(act);
        if !yes && !cs.is_empty() {
            println!("{}", cs.preview());
            if !crate::confirm("Apply these changes?", false) {
                return Ok(Failure::new(
                    "nothing was changed",
                    "confirm at the prompt, or pass --yes",
                )
                .print());
            }
        }
        let act = Activity::start("Applying");
        let aopts = ApplyOptions {
            probe: opts.probe.clone(),
            diagnose: opts,
            state_dir: Some(diag.state_dir.clone()),
            guard: Some(std::time::Duration::from_secs(guard)),
            ..Default::default()
        };
        let result = apply::apply(&host, &d, &cs, &aopts, &|p| progress(&act, p))?;
        drop(act);
        if json {
            println!(
                "{}",
                serde_json::to_string_pretty(&result).expect("result serializes")
            );
        } else {
            match result.status {
                Outcome::Applied if result.changeset.is_empty() => {
                    println!("Nothing to change: already right.")
                }
                Outcome::Applied => {
                    println!("Applied and verified: change set {}", result.changeset)
                }
                Outcome::RolledBack => println!(
                    "Rolled back: change set {} — {}",
                    result.changeset,
                    result.error.as_deref().unwrap_or("")
                ),
                Outcome::Failed => println!(
                    "FAILED: change set {} — {}",
                    result.changeset,
                    result.error.as_deref().unwrap_or("")
                ),
            }
            for v in &result.verification {
                println!(
                    " {} {}: {}",
                    if v.persisted { "✓" } else { "✗" },
                    v.check,
                    v.detail
                );
            }
            if !result.changeset.is_empty() && result.status == Outcome::Applied {
                println!(
                    "Undo with: odoo-session-doctor rollback {} {} --yes",
                    conn.target, result.changeset
                );
            }
        }
        Ok(if result.status == Outcome::Applied {
            0
        } else {
            2
        })
    };
    run().unwrap_or_else(|e| Failure::engine(&e, &conn.target).print())
}

/// Rolls back `id` (or the last change set). The record names the instance it was made for,
/// so on a host with several instances no `--instance` is needed (one given still wins).
pub fn rollback_cmd(
    conn: &ConnArgs,
    diag: &DiagArgs,
    id: Option<&str>,
    force: bool,
    yes: bool,
    json: bool,
) -> i32 {
    let run = || -> Result<i32, EngineError> {
        let mut opts = diag.options()?;
        let act = Activity::start("");
        let host = connect_following(conn, &act)?;
        act.say("Reading the change set's record");
        let rec = record::to_roll_back(&host, &diag.state_dir, id)?;
        if opts.discover.instance.is_none() {
            opts.discover.instance = rec.instance_selector();
        }
        drop(act);
        if !matches!(
            rec.status,
            record::RecordStatus::RolledBack | record::RecordStatus::Undone
        ) && !crate::confirm(
            &format!(
                "Roll back change set {} ({}, checks: {}) on {}?",
                rec.id,
                rec.created_text,
                rec.changeset
                    .checks
                    .iter()
                    .map(|c| c.as_str())
                    .collect::<Vec<_>>()
                    .join(","),
                host.name()
            ),
            yes,
        ) {
            return Ok(Failure::new(
                "nothing was rolled back",
                "confirm at the prompt, or pass --yes",
            )
            .print());
        }
        let act = Activity::start("Rolling back");
        let facts = osd_engine::discover::discover_with_progress(&host, &opts.discover, &|p| {
            act.follow(p)
        })?;
        let aopts = ApplyOptions {
            diagnose: opts,
            state_dir: Some(diag.state_dir.clone()),
            ..Default::default()
        };
        let r = apply::rollback(&host, &facts, Some(&rec.id), force, &aopts, &|p| {
            progress(&act, p)
        })?;
        drop(act);
        if json {
            println!(
                "{}",
                serde_json::to_string_pretty(&r).expect("result serializes")
            );
        } else {
            println!(
                "Change set {} is {}.",
                r.changeset,
                serde_json::to_value(r.status)
                    .ok()
                    .and_then(|v| v.as_str().map(String::from))
                    .unwrap_or_default()
            );
        }
        Ok(0)
    };
    run().unwrap_or_else(|e| Failure::engine(&e, &conn.target).print())
}

/// The records, each applied one with its state now (`now` in JSON). Parameters are re-read from
/// the instance's databases, so the instance is discovered first; when that fails (several
/// instances and none named), files are still re-checked and parameters shown as unknown.
pub fn history_cmd(conn: &ConnArgs, instance: Option<String>, state_dir: &str, json: bool) -> i32 {
    let run = || -> Result<i32, EngineError> {
        let act = Activity::start("");
        let host = connect_following(conn, &act)?;
        act.say("Reading the change-set records");
        let records = record::history(&host, state_dir)?;
        let wants_db = records
            .iter()
            .any(|r| r.status == record::RecordStatus::Applied && !r.changeset.params.is_empty());
        let facts = if wants_db {
            let opts = osd_engine::discover::DiscoverOptions {
                instance,
                ..Default::default()
            };
            match osd_engine::discover::discover(&host, &opts) {
                Ok(f) => Some(f),
                Err(e) if e.connection_lost() => return Err(e),
                Err(e) => {
                    eprintln!("warning: system parameters are not re-checked: {e}");
                    None
                }
            }
        } else {
            None
        };
        act.say("Re-checking what each change set changed");
        let effects = effect::check(&host, facts.as_ref().map(|f| &f.odoo), &records)?;
        drop(act);
        let now = |id: &str| effects.iter().find(|e| e.changeset == id);
        if json {
            let list: Vec<serde_json::Value> = records
                .iter()
                .map(|r| {
                    let mut v = serde_json::to_value(r).expect("records serialize");
                    v["now"] = serde_json::to_value(now(&r.id)).expect("effects serialize");
                    v
                })
                .collect();
            println!(
                "{}",
                serde_json::to_string_pretty(&list).expect("records serialize")
            );
            return Ok(0);
        }
        if records.is_empty() {
            println!("No change set has been applied on {}.", host.name());
        }
        for r in &records {
            if let Some(a) = &r.action {
                println!(
                    "{}  {}  {:<14} by {}  {} (no rollback: cannot be undone)",
                    r.id, r.created_text, "action", r.by, a.summary
                );
                continue;
            }
            let status = match (r.status, now(&r.id).map(|e| e.state)) {
                (_, Some(EffectState::InEffect)) => "in effect".to_string(),
                (_, Some(EffectState::NoLongerInEffect)) => "NO LONGER IN EFFECT".to_string(),
                (_, Some(EffectState::Unknown)) => "applied (not all re-checked)".to_string(),
                (record::RecordStatus::Undone, _) => "rolled back".to_string(),
                (record::RecordStatus::RolledBack, _) => "rolled back automatically".to_string(),
                (s, _) => serde_json::to_value(s)
                    .ok()
                    .and_then(|v| v.as_str().map(|s| s.replace('_', " ")))
                    .unwrap_or_default(),
            };
            println!(
                "{}  {}  {:<14} by {}  checks: {}",
                r.id,
                r.created_text,
                status,
                r.by,
                r.changeset
                    .checks
                    .iter()
                    .map(|c| c.as_str())
                    .collect::<Vec<_>>()
                    .join(",")
            );
            if let Some(e) = now(&r.id) {
                for f in e.files.iter().filter(|f| f.state != ItemState::InEffect) {
                    println!("    {}: {}", f.path, f.detail);
                }
                for p in e.params.iter().filter(|p| p.state != ItemState::InEffect) {
                    println!("    {} in {}: {}", p.key, p.db, p.detail);
                }
            }
            if let Some(s) = r.undone_stamp() {
                println!("    rolled back on {} by {}", s.at_text, s.by);
            }
            if let Some(e) = &r.error {
                println!("    {e}");
            }
        }
        Ok(0)
    };
    run().unwrap_or_else(|e| Failure::engine(&e, &conn.target).print())
}
