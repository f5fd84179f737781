//! Whether applied change sets are still in effect NOW: the ticks of a record are from apply
//! time, and someone may have reverted a file or a parameter since. This module re-reads the
//! server (each file's sha256, each parameter's value) and compares it with what the change set
//! wrote; when something no longer matches, it says who changed it if this tool's records know
//! (a later change set, or a rollback, writing exactly what is there now), else that it was
//! changed outside this app, with the file's modification time and owner.
//!
//! History (app and CLI) and the report show this state instead of the apply-time verdict.

use super::record::{InstanceRef, Record, RecordStatus};
use crate::discover::db;
use crate::error::EngineError;
use crate::facts::OdooFacts;
use osd_remote::Host;
use serde::{Deserialize, Serialize};

/// One file's or parameter's state now, against what the change set wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum ItemState {
    /// Exactly as the change set wrote it.
    InEffect,
    /// Different now.
    Changed,
    /// The file is gone.
    Gone,
    /// It could not be read (no right, another instance's database, an error).
    Unknown,
}

/// A whole change set's state now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum EffectState {
    /// Everything it wrote is still there (or it wrote nothing: a restart only).
    InEffect,
    /// At least one file or parameter is no longer as it wrote it.
    NoLongerInEffect,
    /// Nothing differs, but something could not be read.
    Unknown,
}

/// A change this tool recorded that wrote what is there now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ChangedBy {
    pub changeset: String,
    /// `applied` (a later change set wrote it) or `rolled_back` (a rollback restored it).
    pub action: String,
    pub at: String,
    pub by: String,
}

impl ChangedBy {
    fn sentence(&self) -> String {
        match self.action.as_str() {
            "rolled_back" => format!(
                "changed by the rollback of change set {} on {} by {}",
                self.changeset, self.at, self.by
            ),
            _ => format!(
                "changed by change set {} applied on {} by {}",
                self.changeset, self.at, self.by
            ),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct FileEffect {
    pub path: String,
    pub state: ItemState,
    /// Set when this tool's records say who changed it.
    pub changed_by: Option<ChangedBy>,
    /// The state in a sentence (with the file's time and owner when changed outside this app).
    pub detail: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ParamEffect {
    pub db: String,
    pub key: String,
    pub state: ItemState,
    pub changed_by: Option<ChangedBy>,
    pub detail: String,
}

/// One applied change set, re-checked now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Effect {
    pub changeset: String,
    pub state: EffectState,
    pub files: Vec<FileEffect>,
    pub params: Vec<ParamEffect>,
    /// The state in a sentence.
    pub summary: String,
}

impl Effect {
    pub fn in_effect(&self) -> bool {
        self.state == EffectState::InEffect
    }
}

/// One write by this tool: a change set applied, or one rolled back.
struct Event<'a> {
    rec: &'a Record,
    at: u64,
    at_text: String,
    by: String,
    rolled_back: bool,
}

impl Event<'_> {
    fn changed_by(&self) -> ChangedBy {
        ChangedBy {
            changeset: self.rec.id.clone(),
            action: if self.rolled_back {
                "rolled_back"
            } else {
                "applied"
            }
            .to_string(),
            at: self.at_text.clone(),
            by: self.by.clone(),
        }
    }
}

/// Every write the records know of, oldest first. An automatic rollback wrote and restored in
/// the same minute: it changed nothing that lasts, so it is not an event.
fn events(records: &[Record]) -> Vec<Event<'_>> {
    let mut ev = Vec::new();
    for r in records {
        if matches!(
            r.status,
            RecordStatus::Applied
                | RecordStatus::Undone
                | RecordStatus::Applying
                | RecordStatus::RollbackFailed
        ) {
            ev.push(Event {
                rec: r,
                at: r.created,
                at_text: r.created_text.clone(),
                by: r.by.clone(),
                rolled_back: false,
            });
        }
        if let Some(s) = r.undone_stamp() {
            ev.push(Event {
                rec: r,
                at: s.at,
                at_text: s.at_text,
                by: s.by,
                rolled_back: true,
            });
        }
    }
    ev.sort_by_key(|e| e.at);
    ev
}

/// The latest write by another change set (after `rec` was applied) that left exactly `now`.
fn who_wrote<'a>(
    rec: &Record,
    events: &'a [Event<'a>],
    wrote: impl Fn(&Event) -> Option<bool>,
) -> Option<&'a Event<'a>> {
    events
        .iter()
        .rev()
        .filter(|e| e.rec.id != rec.id && e.at >= rec.created)
        .find(|e| wrote(e) == Some(true))
}

/// Re-checks every applied change set of `records` against the host now, in the records' order.
/// `odoo`: the instance diagnosed on this connection, whose databases are read for parameters
/// (a change set made for another instance has its parameters reported as unknown: its database
/// may live in another cluster). Only a lost connection is an error; anything else that cannot
/// be read is reported as unknown.
pub fn check(
    host: &Host,
    odoo: Option<&OdooFacts>,
    records: &[Record],
) -> Result<Vec<Effect>, EngineError> {
    let events = events(records);
    let this = odoo.map(InstanceRef::of);
    let mut out = Vec::new();
    for rec in records
        .iter()
        .filter(|r| r.status == RecordStatus::Applied && r.action.is_none())
    {
        let mut files = Vec::new();
        for f in &rec.changeset.files {
            files.push(file_effect(host, rec, f, &events)?);
        }
        let ours = match (&rec.instance, &this) {
            (Some(a), Some(b)) => a.same(b),
            (None, Some(_)) => true,
            (_, None) => false,
        };
        let params = match odoo.filter(|_| ours) {
            Some(odoo) => param_effects(host, odoo, rec, &events)?,
            None => rec
                .changeset
                .params
                .iter()
                .map(|p| ParamEffect {
                    db: p.db.clone(),
                    key: p.key.clone(),
                    state: ItemState::Unknown,
                    changed_by: None,
                    detail: "not re-checked: it belongs to another Odoo instance of this host (open that one to check it)".into(),
                })
                .collect(),
        };
        out.push(summarize(rec, files, params));
    }
    Ok(out)
}

fn file_effect(
    host: &Host,
    rec: &Record,
    f: &super::FileChange,
    events: &[Event],
) -> Result<FileEffect, EngineError> {
    let st = match host.stat(&f.path) {
        Ok(st) => st,
        Err(e) if crate::error::remote_lost(&e) => return Err(e.into()),
        Err(e) => {
            return Ok(FileEffect {
                path: f.path.clone(),
                state: ItemState::Unknown,
                changed_by: None,
                detail: format!("could not be read: {e}"),
            })
        }
    };
    let Some(st) = st else {
        return Ok(FileEffect {
            path: f.path.clone(),
            state: ItemState::Gone,
            changed_by: None,
            detail: "the file is gone (removed outside this app)".into(),
        });
    };
    let now = st.sha256.clone().unwrap_or_default();
    if now == f.after_sha256 {
        return Ok(FileEffect {
            path: f.path.clone(),
            state: ItemState::InEffect,
            changed_by: None,
            detail: "as the change set wrote it".into(),
        });
    }
    let by = who_wrote(rec, events, |e| {
        let g = e.rec.changeset.files.iter().find(|g| g.path == f.path)?;
        Some(if e.rolled_back {
            g.before_sha256 == now
        } else {
            g.after_sha256 == now
        })
    })
    .map(Event::changed_by);
    let detail = match &by {
        Some(b) => b.sentence(),
        None => format!(
            "changed outside this app (the file was last modified {} and is owned by {})",
            humantime::format_rfc3339_seconds(
                std::time::UNIX_EPOCH + std::time::Duration::from_secs(st.mtime.max(0) as u64)
            ),
            st.owner
        ),
    };
    Ok(FileEffect {
        path: f.path.clone(),
        state: ItemState::Changed,
        changed_by: by,
        detail,
    })
}

fn param_effects(
    host: &Host,
    odoo: &OdooFacts,
    rec: &Record,
    events: &[Event],
) -> Result<Vec<ParamEffect>, EngineError> {
    let params = &rec.changeset.params;
    if params.is_empty() {
        return Ok(Vec::new());
    }
    let wanted: Vec<(&str, &str)> = params
        .iter()
        .map(|p| (p.db.as_str(), p.key.as_str()))
        .collect();
    let values = match db::read_params(host, odoo, &wanted) {
        Ok(v) => v,
        Err(e) if e.connection_lost() => return Err(e),
        Err(e) => {
            return Ok(params
                .iter()
                .map(|p| ParamEffect {
                    db: p.db.clone(),
                    key: p.key.clone(),
                    state: ItemState::Unknown,
                    changed_by: None,
                    detail: format!("could not be read: {e}"),
                })
                .collect())
        }
    };
    Ok(params
        .iter()
        .zip(values)
        .map(|(p, now)| {
            let show = |v: &Option<String>| v.clone().unwrap_or_else(|| "(not set)".into());
            if now == p.new {
                return ParamEffect {
                    db: p.db.clone(),
                    key: p.key.clone(),
                    state: ItemState::InEffect,
                    changed_by: None,
                    detail: format!("still {}", show(&p.new)),
                };
            }
            let by = who_wrote(rec, events, |e| {
                let q = e
                    .rec
                    .changeset
                    .params
                    .iter()
                    .find(|q| q.db == p.db && q.key == p.key)?;
                Some(if e.rolled_back {
                    q.old == now
                } else {
                    q.new == now
                })
            })
            .map(Event::changed_by);
            let detail = match &by {
                Some(b) => format!("now {}: {}", show(&now), b.sentence()),
                None => format!("now {}: changed outside this app", show(&now)),
            };
            ParamEffect {
                db: p.db.clone(),
                key: p.key.clone(),
                state: ItemState::Changed,
                changed_by: by,
                detail,
            }
        })
        .collect())
}

fn summarize(rec: &Record, files: Vec<FileEffect>, params: Vec<ParamEffect>) -> Effect {
    let states: Vec<ItemState> = files
        .iter()
        .map(|f| f.state)
        .chain(params.iter().map(|p| p.state))
        .collect();
    let lost: Vec<String> = files
        .iter()
        .filter(|f| matches!(f.state, ItemState::Changed | ItemState::Gone))
        .map(|f| format!("{} {}", f.path, f.detail))
        .chain(
            params
                .iter()
                .filter(|p| p.state == ItemState::Changed)
                .map(|p| format!("{} in {} is {}", p.key, p.db, p.detail)),
        )
        .collect();
    let (state, summary) = if !lost.is_empty() {
        (
            EffectState::NoLongerInEffect,
            format!("No longer in effect: {}.", lost.join("; ")),
        )
    } else if states.contains(&ItemState::Unknown) {
        (
            EffectState::Unknown,
            "Could not re-check everything it wrote; what could be read is as it was written."
                .to_string(),
        )
    } else if states.is_empty() {
        (
            EffectState::InEffect,
            "It wrote nothing to re-check (a restart only).".to_string(),
        )
    } else {
        (
            EffectState::InEffect,
            "Still in effect: re-checked now, everything it wrote is as written.".to_string(),
        )
    };
    Effect {
        changeset: rec.id.clone(),
        state,
        files,
        params,
        summary,
    }
}
