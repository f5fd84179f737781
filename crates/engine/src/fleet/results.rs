//! A fleet run's results: per host, its report (the same [`ReportModel`] as `report`, so `fleet
//! report` renders live results with [`crate::report::render_fleet`]) and the applied change
//! sets re-checked now ([`effect::check`]), or the error that kept it from being diagnosed; and
//! drift against a saved run: checks that got worse, and files or parameters this tool wrote that
//! someone edited outside it since.

use super::inventory::FleetTarget;
use crate::change::effect::{self, Effect, ItemState};
use crate::change::record;
use crate::report::model::{CheckReport, CheckStatus, Inputs, Meta, ReportModel};
use crate::{DiagnoseOptions, EngineError};
use osd_remote::Host;
use serde::{Deserialize, Serialize};

/// Like Ansible's `--forks` default.
pub const DEFAULT_FORKS: usize = 5;

/// One host diagnosed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HostReport {
    pub report: ReportModel,
    /// Each applied change set of this instance, re-checked against the server now.
    pub effects: Vec<Effect>,
}

impl HostReport {
    /// Like `diagnose`'s: 0 all ok, 1 warnings, 2 failures.
    pub fn exit_code(&self) -> i32 {
        match self.report.checks.iter().map(|c| c.status).max() {
            Some(CheckStatus::Fail) => 2,
            Some(CheckStatus::Warn) => 1,
            _ => 0,
        }
    }

    /// This instance's change sets the host has not settled (recorded, applying, or whose
    /// rollback failed): on a fleet's row they come before everything else, as in `diagnose`.
    pub fn unsettled(&self) -> impl Iterator<Item = &crate::report::model::ChangeReport> {
        self.report.changes.iter().filter(|c| {
            crate::change::record::parse_status(&c.status).is_some_and(|s| s.unfinished())
        })
    }

    /// The check that needs attention most (fail, then warn, then unknown; checklist order).
    pub fn worst_check(&self) -> Option<&CheckReport> {
        let worst = self
            .report
            .checks
            .iter()
            .filter(|c| c.status.open())
            .map(|c| rank(c.status))
            .max()?;
        self.report
            .checks
            .iter()
            .find(|c| c.status.open() && rank(c.status) == worst)
    }
}

/// One row of a fleet run: a host of the inventory and what came of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FleetHost {
    /// The inventory's name.
    pub name: String,
    /// What was connected to (`ssh://user@address:port`, or the name).
    pub target: String,
    pub instance: Option<String>,
    /// `{"ok": …}` or `{"error": "…"}` in JSON: a host that is down, refuses the key or times
    /// out is a row with its error.
    #[serde(with = "ok_or_error")]
    pub result: Result<HostReport, String>,
    /// What changed since the baseline, when one was given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drift: Option<Drift>,
}

impl FleetHost {
    /// 0/1/2 as `diagnose`; 3 when the host could not be diagnosed.
    pub fn exit_code(&self) -> i32 {
        match &self.result {
            Ok(r) => r.exit_code(),
            Err(_) => 3,
        }
    }
}

mod ok_or_error {
    use super::HostReport;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    #[derive(Serialize)]
    #[serde(rename_all = "snake_case")]
    enum Out<'a> {
        Ok(&'a HostReport),
        Error(&'a str),
    }

    #[derive(Deserialize)]
    #[serde(rename_all = "snake_case")]
    enum In {
        Ok(Box<HostReport>),
        Error(String),
    }

    pub fn serialize<S: Serializer>(
        r: &Result<HostReport, String>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        match r {
            Ok(v) => Out::Ok(v),
            Err(e) => Out::Error(e),
        }
        .serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Result<HostReport, String>, D::Error> {
        Ok(match In::deserialize(d)? {
            In::Ok(v) => Ok(*v),
            In::Error(e) => Err(e),
        })
    }
}

/// The worst exit code of the fleet (3 when a host could not be diagnosed).
pub fn exit_code(hosts: &[FleetHost]) -> i32 {
    hosts.iter().map(FleetHost::exit_code).max().unwrap_or(0)
}

/// Diagnoses one connected host and re-checks its change sets: the report `report` writes, for
/// one host (the CLI's `report`) or each of a fleet. `state_dir`: where its change-set records
/// are; a history that cannot be read leaves the report without it (said in `warn`), not
/// without a diagnosis. `progress` follows the diagnosis.
pub fn diagnose_host(
    host: &Host,
    opts: &DiagnoseOptions,
    state_dir: &str,
    target: &str,
    saved_name: Option<&str>,
    warn: &dyn Fn(String),
    progress: crate::progress::Sink,
) -> Result<HostReport, EngineError> {
    let d = crate::diagnose_with_progress(host, opts, progress)?;
    let records = record::history(host, state_dir).unwrap_or_else(|e| {
        warn(format!(
            "the change-set history of {} could not be read: {e}",
            host.name()
        ));
        Vec::new()
    });
    let effects = effect::check(host, Some(&d.facts.odoo), &records)?;
    let inputs = Inputs {
        diagnosis: &d,
        before: None,
        records: &records,
        target: Some(target),
        saved_name,
        effects: &effects,
    };
    let report = ReportModel::build(inputs, Meta::now(crate::who::with_login(Some(host.user()))));
    Ok(HostReport { report, effects })
}

/// Diagnoses every target, `forks` at a time ([`super::run_bounded`]), with `connect` (the
/// caller's: prompts, known hosts and saved servers are the face's business) and `opts` (the
/// target's `odoo_instance` replaces `opts`' instance). `done` sees each host as it finishes;
/// the result is in target order. `default_state_dir`: for targets without `odoo_state_dir`.
pub fn diagnose_fleet(
    targets: &[FleetTarget],
    forks: usize,
    opts: &DiagnoseOptions,
    default_state_dir: &str,
    connect: impl Fn(&FleetTarget) -> Result<Host, String> + Sync,
    done: impl Fn(&FleetHost) + Sync,
) -> Vec<FleetHost> {
    super::run_bounded(
        targets,
        forks,
        |_, t| {
            let mut o = opts.clone();
            if t.instance.is_some() {
                o.discover.instance = t.instance.clone();
            }
            let target = t.target();
            let result = connect(t).and_then(|host| {
                let state_dir = t.state_dir.as_deref().unwrap_or(default_state_dir);
                // A missing history only thins the report; it is no reason to fail the host.
                diagnose_host(
                    &host,
                    &o,
                    state_dir,
                    &target,
                    None,
                    &|w| log::warn!("{w}"),
                    &crate::progress::quiet,
                )
                .map_err(|e| e.to_string())
            });
            FleetHost {
                name: t.name.clone(),
                target,
                instance: o.discover.instance.clone(),
                result,
                drift: None,
            }
        },
        |_, h| done(h),
    )
}

/// Reads a saved fleet run: the `--json` output (one document per host, as lines or pretty), or
/// a JSON array of them.
pub fn read_results(text: &str) -> Result<Vec<FleetHost>, EngineError> {
    let bad = |e: serde_json::Error| {
        EngineError::Invalid(format!(
            "not a saved fleet result (the output of `fleet diagnose --json`): {e}"
        ))
    };
    if text.trim_start().starts_with('[') {
        return serde_json::from_str(text).map_err(bad);
    }
    serde_json::Deserializer::from_str(text)
        .into_iter::<FleetHost>()
        .collect::<Result<Vec<_>, _>>()
        .map_err(bad)
}

/// What changed on a host since the baseline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Drift {
    /// When the baseline was taken (its report's time), if it has a report of this host.
    pub baseline_at: Option<String>,
    pub worse: Vec<CheckDrift>,
    pub edited: Vec<EditDrift>,
    /// When there is nothing to compare (no such host in the baseline, or an error either time).
    pub note: Option<String>,
}

impl Drift {
    pub fn is_empty(&self) -> bool {
        self.worse.is_empty() && self.edited.is_empty()
    }
}

/// A check that got worse.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckDrift {
    pub check: String,
    pub title: String,
    pub was: CheckStatus,
    pub now: CheckStatus,
    /// Its summary now.
    pub summary: String,
}

/// A file or parameter this tool wrote that is no longer what it wrote, changed outside it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EditDrift {
    pub changeset: String,
    /// The file's path, or `key in db` for a parameter.
    pub item: String,
    pub state: ItemState,
    /// From [`effect`]: what is there now, with the file's time and owner when known.
    pub detail: String,
}

/// The severity order drift compares by: ok and not applicable alike, then unknown, warn, fail.
fn rank(s: CheckStatus) -> u8 {
    match s {
        CheckStatus::Ok | CheckStatus::Skip => 0,
        CheckStatus::Unknown => 1,
        CheckStatus::Warn => 2,
        CheckStatus::Fail => 3,
    }
}

/// Items of applied change sets that someone outside this tool changed or removed (a later
/// change set or a rollback of ours is history, not drift).
fn edited_outside(effects: &[Effect]) -> Vec<EditDrift> {
    let mut out = Vec::new();
    for e in effects {
        for f in &e.files {
            if matches!(f.state, ItemState::Changed | ItemState::Gone) && f.changed_by.is_none() {
                out.push(EditDrift {
                    changeset: e.changeset.clone(),
                    item: f.path.clone(),
                    state: f.state,
                    detail: f.detail.clone(),
                });
            }
        }
        for p in &e.params {
            if matches!(p.state, ItemState::Changed | ItemState::Gone) && p.changed_by.is_none() {
                out.push(EditDrift {
                    changeset: e.changeset.clone(),
                    item: format!("{} in {}", p.key, p.db),
                    state: p.state,
                    detail: p.detail.clone(),
                });
            }
        }
    }
    out
}

/// What changed on `now` since `baseline` (the same host in a saved run): checks that got worse,
/// and files or parameters edited outside this tool that were not already so then.
pub fn drift(baseline: Option<&FleetHost>, now: &FleetHost) -> Drift {
    let mut d = Drift {
        baseline_at: None,
        worse: Vec::new(),
        edited: Vec::new(),
        note: None,
    };
    let Ok(cur) = &now.result else {
        d.note = Some("not diagnosed now".into());
        return d;
    };
    let base = match baseline.map(|b| &b.result) {
        None => {
            d.note = Some("not in the baseline".into());
            None
        }
        Some(Err(e)) => {
            d.note = Some(format!("not diagnosed in the baseline ({e})"));
            None
        }
        Some(Ok(b)) => {
            d.baseline_at = Some(b.report.meta.generated_at.clone());
            Some(b)
        }
    };
    if let Some(b) = base {
        for c in &cur.report.checks {
            if let Some(was) = b.report.check(&c.id) {
                if rank(c.status) > rank(was.status) {
                    d.worse.push(CheckDrift {
                        check: c.id.clone(),
                        title: c.title.clone(),
                        was: was.status,
                        now: c.status,
                        summary: c.summary.clone(),
                    });
                }
            }
        }
    }
    // Edits outside the tool are drift even without a usable baseline; with one, only those
    // that were not already there.
    let before = base.map(|b| edited_outside(&b.effects)).unwrap_or_default();
    d.edited = edited_outside(&cur.effects)
        .into_iter()
        .filter(|e| {
            !before
                .iter()
                .any(|b| b.changeset == e.changeset && b.item == e.item && b.detail == e.detail)
        })
        .collect();
    d
}

/// Sets each host's drift against the same-named host of `baseline`.
pub fn add_drift(hosts: &mut [FleetHost], baseline: &[FleetHost]) {
    for h in hosts {
        let b = baseline.iter().find(|b| b.name == h.name);
        h.drift = Some(drift(b, h));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn down(name: &str) -> FleetHost {
        FleetHost {
            name: name.into(),
            target: format!("ssh://root@{name}:1"),
            instance: None,
            result: Err(format!("cannot reach {name}:1")),
            drift: None,
        }
    }

    #[test]
    fn saved_runs_read_back_as_lines_pretty_or_an_array() {
        let hosts = vec![down("a"), down("b")];
        let lines: String = hosts
            .iter()
            .map(|h| serde_json::to_string(h).unwrap() + "\n")
            .collect();
        assert!(lines.starts_with(r#"{"name":"a","target":"ssh://root@a:1","instance":null,"result":{"error":"cannot reach a:1"}}"#), "{lines}");
        assert_eq!(read_results(&lines).unwrap(), hosts);
        let pretty: String = hosts
            .iter()
            .map(|h| serde_json::to_string_pretty(h).unwrap())
            .collect();
        assert_eq!(read_results(&pretty).unwrap(), hosts);
        assert_eq!(
            read_results(&serde_json::to_string(&hosts).unwrap()).unwrap(),
            hosts
        );
        let e = read_results("{\"name\": 1}").unwrap_err().to_string();
        assert!(e.contains("fleet diagnose --json"), "{e}");
        assert_eq!(exit_code(&hosts), 3);
    }

    #[test]
    fn a_host_down_now_or_then_says_so_instead_of_drift() {
        let now = down("a");
        assert_eq!(drift(None, &now).note.as_deref(), Some("not diagnosed now"));
    }
}
