//! Planning: from a diagnosis and the checks a person picked (with their choices), the one
//! [`ChangeSet`] that fixes them. Each fix planner comes from [`crate::registry`] and reads files
//! through a [`FileView`] (the host, so the plan edits what is there now; or captured files);
//! each fix only changes what is not already right, so planning is idempotent.

use super::workspace::{Edit, FileView, Workspace};
use super::{sha256_hex, unified_diff, ChangeSet, FileChange, FileKind, ServiceAction};
use crate::checks::{CheckId, Remedy, Status};
use crate::error::EngineError;
use crate::facts::Facts;
use crate::odoo_conf::OdooConf;
use crate::registry::{PULLS, REGISTRY};
use crate::Diagnosis;
use std::collections::BTreeMap;

/// What to fix, and the choices made (`--set session.lifetime=86400`).
#[derive(Debug, Clone, Default)]
pub struct FixRequest {
    pub checks: Vec<CheckId>,
    pub values: BTreeMap<CheckId, String>,
}

impl FixRequest {
    /// From the ids people type (`--fix proxy.mode,session.lifetime`, `--set id=value`): an
    /// unknown id is an error naming the known ones.
    pub fn parse<'a>(
        checks: impl IntoIterator<Item = &'a str>,
        values: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<FixRequest, EngineError> {
        let id = |s: &str| -> Result<CheckId, EngineError> {
            s.trim().parse().map_err(|_| EngineError::UnknownCheck {
                id: s.trim().to_string(),
                known: REGISTRY
                    .iter()
                    .map(|c| c.id.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            })
        };
        let mut req = FixRequest::default();
        for c in checks {
            req.checks.push(id(c)?);
        }
        for (k, v) in values {
            req.values.insert(id(k)?, v.to_string());
        }
        Ok(req)
    }
}

/// The one change set that fixes `req.checks` (and what they pull in, see
/// [`crate::registry::PULLS`]). A check the diagnosis says needs a person (its
/// [`Remedy`](crate::checks::Remedy) is `needs_you`) is refused with the why and the steps,
/// unless a choice was given for it (the choice may be what it lacked).
pub fn plan(
    files: &dyn FileView,
    d: &Diagnosis,
    req: &FixRequest,
) -> Result<ChangeSet, EngineError> {
    for id in &req.checks {
        if req.values.contains_key(id) {
            continue;
        }
        if let Some(f) = d.finding(*id) {
            if let Remedy::NeedsYou { why, steps } = &f.remedy {
                return Err(EngineError::NeedsYou {
                    check: *id,
                    title: f.title.clone(),
                    why: why.clone(),
                    steps: steps.clone(),
                });
            }
        }
    }
    let (cs, hand_restart) = plan_with(files, d, req)?;
    if hand_restart {
        return Err(EngineError::NoServiceManager);
    }
    Ok(cs)
}

/// [`plan`] without the remedy gate, and with an Odoo that nothing can restart reported as
/// `true` (the change set then lacks the restart) instead of an error: what the remedy decision
/// needs to say what a person does by hand.
pub(crate) fn plan_with(
    files: &dyn FileView,
    d: &Diagnosis,
    req: &FixRequest,
) -> Result<(ChangeSet, bool), EngineError> {
    let facts = &d.facts;
    let mut ws = Workspace::new(files);
    let mut checks = Vec::new();
    let failing = |id: CheckId| d.finding(id).is_some_and(|f| f.status == Status::Fail);
    // A fix that changes nothing without another brings it along, and says so — unless the
    // person chose how to fix the first (a choice such as "redirect" already says how).
    let mut wanted = req.checks.clone();
    for (first, pulled, why) in PULLS {
        if req.checks.contains(first)
            && !req.values.contains_key(first)
            && !wanted.contains(pulled)
            && failing(*pulled)
        {
            wanted.push(*pulled);
            ws.reason(*first, format!("Also fixes {}: {why}.", pulled.mention()));
        }
    }
    // In checklist order, whatever order they were asked in: the change set is the same.
    for check in REGISTRY.iter().filter(|c| wanted.contains(&c.id)) {
        let id = check.id;
        checks.push(id);
        let Some(planner) = check.fix else {
            ws.note(
                id,
                "This check has no automatic fix; its finding says what to do.",
            );
            continue;
        };
        let finding = d.finding(id).expect("every check has a finding");
        let value = req.values.get(&id).map(String::as_str);
        if finding.status == Status::Ok && value.is_none() {
            ws.note(id, "Already right: nothing to change.");
            continue;
        }
        planner(&mut ws, facts, value)?;
    }
    finish(ws, facts, checks)
}

fn finish(
    ws: Workspace,
    facts: &Facts,
    checks: Vec<CheckId>,
) -> Result<(ChangeSet, bool), EngineError> {
    let view = ws.files();
    let mut cs = ChangeSet {
        checks,
        params: ws.params,
        reasons: ws.reasons,
        notes: ws.notes,
        ..Default::default()
    };
    let restart = ws.restart;
    for (
        path,
        Edit {
            kind,
            before,
            after,
            checks: fchecks,
        },
    ) in ws.edits
    {
        if before == after {
            continue;
        }
        let stat = view.stat(&path)?.ok_or_else(|| EngineError::Unreadable {
            place: view.place().to_string(),
            path: path.clone(),
            why: "disappeared while planning".into(),
        })?;
        let major = facts.odoo.version.map(|v| v.major).unwrap_or(17);
        if kind == FileKind::OdooConf
            && (OdooConf::parse(&after).has_fatal_problems()
                || crate::checks::conf::refused_values(&OdooConf::parse(&after), major).len()
                    > crate::checks::conf::refused_values(&OdooConf::parse(&before), major).len())
        {
            return Err(EngineError::UnsafeEdit {
                path,
                reason: "would stop Odoo from starting once edited; nothing is changed".into(),
            });
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
    let mut hand_restart = false;
    if odoo_changed {
        let was_running = facts.odoo.state.is_running();
        // A program supervisor gave up on (FATAL) or that was stopped is started, not restarted.
        let command = if was_running {
            facts.odoo.service.restart_command()
        } else {
            facts.odoo.service.start_command()
        };
        match command {
            Some(command) => cs.services.push(ServiceAction::RestartOdoo {
                command,
                service: facts.odoo.service.describe(),
                was_running,
            }),
            None => hand_restart = true,
        }
    }
    cs.interruption = match (nginx_changed, odoo_changed) {
        (false, false) => String::new(),
        (true, false) => "nginx reloads its configuration without dropping connections: nobody notices.".into(),
        (_, true) => "Odoo restarts: for a few seconds pages do not load and the live connection reconnects. Nobody is logged out.".into(),
    };
    Ok((cs, hand_restart))
}
