//! Planning: from a diagnosis and the checks a person picked (with their choices), the one
//! [`ChangeSet`] that fixes them. Each fix planner comes from [`crate::registry`] and reads files
//! through a [`FileView`] (the host, so the plan edits what is there now; or captured files);
//! each fix only changes what is not already right, so planning is idempotent.

use super::workspace::{Edit, FileView, Workspace};
use super::{sha256_hex, unified_diff, ChangeSet, FileChange, FileKind, ServiceAction};
use crate::checks::{CheckId, Status};
use crate::error::EngineError;
use crate::facts::Facts;
use crate::odoo_conf::OdooConf;
use crate::registry::REGISTRY;
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

pub fn plan(
    files: &dyn FileView,
    d: &Diagnosis,
    req: &FixRequest,
) -> Result<ChangeSet, EngineError> {
    let facts = &d.facts;
    let mut ws = Workspace::new(files);
    let mut checks = Vec::new();
    // In checklist order, whatever order they were asked in: the change set is the same.
    for check in REGISTRY.iter().filter(|c| req.checks.contains(&c.id)) {
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

fn finish(ws: Workspace, facts: &Facts, checks: Vec<CheckId>) -> Result<ChangeSet, EngineError> {
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
    if odoo_changed {
        let was_running = facts.odoo.state.is_running();
        // A program supervisor gave up on (FATAL) or that was stopped is started, not restarted.
        let command = if was_running {
            facts.odoo.service.restart_command()
        } else {
            facts.odoo.service.start_command()
        }
        .ok_or(EngineError::NoServiceManager)?;
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
