//! Human output: a one-line verdict first, then the checklist with ✓ ! ✗ marks, then the details
//! of everything that is not ok, each ending in how it gets fixed: here (`--fix <id>`) or by a
//! person (the why and the steps).

use osd_engine::checks::{Remedy, Status};
use osd_engine::Diagnosis;
use std::fmt::Write;

pub fn diagnosis(d: &Diagnosis) -> String {
    let mut out = String::new();
    let version = d
        .facts
        .odoo
        .version
        .map(|v| format!("Odoo {v}"))
        .unwrap_or_else(|| "Odoo (version unknown)".into());
    let _ = writeln!(out, "{} — {} on {}", d.verdict.line, version, d.host);
    let _ = writeln!(out);
    let width = d
        .checks
        .iter()
        .map(|c| c.id.as_str().len())
        .max()
        .unwrap_or(0);
    for c in &d.checks {
        let _ = writeln!(out, " {} {:width$}  {}", c.status.mark(), c.id, c.summary);
    }
    for c in d
        .checks
        .iter()
        .filter(|c| matches!(c.status, Status::Fail | Status::Warn | Status::Unknown))
    {
        let _ = writeln!(out, "\n{} {} — {}", c.status.mark(), c.id, c.title);
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
                r.report.verdict.status.mark(),
                h.name,
                r.report.verdict.line
            )
        }
        Err(e) => format!("✗ {}: could not diagnose: {e}", h.name),
    };
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
