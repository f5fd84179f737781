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
