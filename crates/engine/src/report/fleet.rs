//! The fleet summary: one table across several servers' reports, a row per check (checklist
//! order) and a column per server, so the worst spots of a fleet show at a glance.

use super::model::{CheckStatus, ReportModel};
use crate::registry::REGISTRY;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Fleet {
    pub servers: Vec<FleetServer>,
    pub rows: Vec<FleetRow>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FleetServer {
    pub name: String,
    pub target: String,
    pub odoo_version: Option<String>,
    pub verdict: CheckStatus,
    pub verdict_line: String,
    /// Not ok and not applicable: how much is left on this server.
    pub open: usize,
    pub generated_at: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FleetRow {
    pub check: String,
    pub title: String,
    /// One per server, in `servers` order; `None` when that report has no such check.
    pub cells: Vec<Option<CheckStatus>>,
    /// Servers on which this check is not ok.
    pub open: usize,
}

/// Builds the table. Servers keep the order given; checks follow the checklist, then any check a
/// report has that this version does not know, in the order first seen.
pub fn fleet(models: &[ReportModel]) -> Fleet {
    let servers = models
        .iter()
        .map(|m| FleetServer {
            name: m.server.name.clone(),
            target: m.server.target.clone(),
            odoo_version: m.server.odoo_version.clone(),
            verdict: m.verdict.status,
            verdict_line: m.verdict.line.clone(),
            open: m.checks.iter().filter(|c| c.status.open()).count(),
            generated_at: m.meta.generated_at.clone(),
        })
        .collect();
    let mut ids: Vec<(String, String)> = Vec::new();
    for check in REGISTRY {
        if let Some(c) = models.iter().find_map(|m| m.check(check.id.as_str())) {
            ids.push((c.id.clone(), c.title.clone()));
        }
    }
    for m in models {
        for c in &m.checks {
            if !ids.iter().any(|(id, _)| *id == c.id) {
                ids.push((c.id.clone(), c.title.clone()));
            }
        }
    }
    let rows = ids
        .into_iter()
        .map(|(id, title)| {
            let cells: Vec<Option<CheckStatus>> = models
                .iter()
                .map(|m| m.check(&id).map(|c| c.status))
                .collect();
            let open = cells.iter().filter(|c| c.is_some_and(|s| s.open())).count();
            FleetRow {
                check: id,
                title,
                cells,
                open,
            }
        })
        .collect();
    Fleet { servers, rows }
}
