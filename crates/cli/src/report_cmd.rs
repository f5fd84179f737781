//! `report`: the per-server checklist report (issue 6) in HTML, Markdown or JSON, and the fleet
//! summary across several saved reports. Every decision is in `osd_engine::report`; this file
//! reads arguments, runs the diagnosis and writes the file.
//!
//! ```text
//! odoo-session-doctor report root@odoo.example.com --out odoo.html
//! odoo-session-doctor report root@odoo.example.com --format json --out before.json
//! odoo-session-doctor report root@odoo.example.com --before before.json --out after.html
//! odoo-session-doctor report --from saved.json --format md --out ticket.md
//! odoo-session-doctor report --fleet a.json b.json c.json --out fleet.html
//! ```

use crate::activity::Activity;
use crate::connect::ConnArgs;
use crate::render::Failure;
use crate::{connect_following, DiagArgs};
use clap::Args;
use osd_engine::report::{self, Format, ReportModel};
use std::path::{Path, PathBuf};

#[derive(Args, Clone)]
pub struct ReportArgs {
    #[command(flatten)]
    pub conn: crate::connect::MaybeConnArgs,
    #[command(flatten)]
    pub diag: DiagArgs,
    /// html, md or json (default: from the extension of --out, else html).
    #[arg(long, value_parser = ["html", "md", "markdown", "json"])]
    pub format: Option<String>,
    /// The file to write (default: standard output).
    #[arg(long, short, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Render a saved JSON report instead of diagnosing a target.
    #[arg(long, value_name = "FILE", conflicts_with = "target")]
    pub from: Option<PathBuf>,
    /// A JSON report saved before the fix: each check is shown before and after, side by side.
    #[arg(long, value_name = "FILE")]
    pub before: Option<PathBuf>,
    /// The fleet summary (status per check per server) of several saved JSON reports.
    #[arg(long, value_name = "FILE", num_args = 1.., conflicts_with_all = ["target", "from", "before"])]
    pub fleet: Vec<PathBuf>,
}

fn read_report(path: &Path) -> Result<ReportModel, Failure> {
    let next =
        "give a report saved with `odoo-session-doctor report TARGET --format json --out FILE`";
    let text = std::fs::read_to_string(path)
        .map_err(|e| Failure::new(format!("{}: {e}", path.display()), next))?;
    ReportModel::from_json(&text)
        .map_err(|e| Failure::new(format!("{}: {e}", path.display()), next))
}

fn format_of(args: &ReportArgs) -> Result<Format, Failure> {
    let name = match (&args.format, &args.out) {
        (Some(f), _) => f.clone(),
        (None, Some(out)) => match out.extension().and_then(|e| e.to_str()) {
            Some(ext @ ("html" | "htm" | "md" | "markdown" | "json")) => ext.to_string(),
            _ => "html".to_string(),
        },
        (None, None) => "html".to_string(),
    };
    name.parse()
        .map_err(|e: report::ReportError| Failure::new(e, "use --format html, md or json"))
}

/// Diagnoses the target, reads its change-set history and re-checks the applied change sets
/// (the engine's, as for each host of a fleet).
fn diagnose(conn: &ConnArgs, diag: &DiagArgs) -> Result<ReportModel, Failure> {
    let fail = |e: osd_engine::EngineError| Failure::engine(&e, &conn.target);
    let opts = diag.options().map_err(fail)?;
    let act = Activity::start("");
    let host = connect_following(conn, &act).map_err(fail)?;
    let h = osd_engine::fleet::diagnose_host(
        &host,
        &opts,
        &diag.state_dir,
        &conn.target,
        // A saved server named as TARGET titles the report with its name.
        conn.saved.as_ref().map(|s| s.name.as_str()),
        // A report without the history is still worth having; say what is missing.
        &|w| eprintln!("warning: {w}"),
        &|p| act.follow(p),
    )
    .map_err(fail)?;
    Ok(h.report)
}

fn write(out: Option<&Path>, text: &str) -> Result<(), Failure> {
    match out {
        Some(path) => {
            std::fs::write(path, text).map_err(|e| {
                Failure::new(
                    format!("cannot write {}: {e}", path.display()),
                    "name a file in a folder you can write to with --out FILE",
                )
            })?;
            eprintln!("wrote {}", path.display());
            Ok(())
        }
        None => {
            print!("{text}");
            Ok(())
        }
    }
}

fn run_inner(args: &ReportArgs, conn: Option<&ConnArgs>) -> Result<(), Failure> {
    let format = format_of(args)?;
    if !args.fleet.is_empty() {
        let models = args
            .fleet
            .iter()
            .map(|p| read_report(p))
            .collect::<Result<Vec<_>, _>>()?;
        let text = report::render_fleet(&models, format).map_err(|e| {
            Failure::new(
                e,
                "report it with this message: the report could not be rendered",
            )
        })?;
        return write(args.out.as_deref(), &text);
    }
    let mut model = match (&args.from, conn) {
        (Some(path), _) => read_report(path)?,
        (None, Some(conn)) => diagnose(conn, &args.diag)?,
        (None, None) => return Err(Failure::new(
            "nothing to report on",
            "give a TARGET to diagnose, --from a saved JSON report, or --fleet with saved reports",
        )),
    };
    if let Some(path) = &args.before {
        let before = read_report(path)?;
        if before.server.name != model.server.name {
            eprintln!(
                "warning: --before is a report of {}, this one is of {}",
                before.server.name, model.server.name
            );
        }
        model = model.compare_with(&before);
    }
    let text = report::render(&model, format).map_err(|e| {
        Failure::new(
            e,
            "report it with this message: the report could not be rendered",
        )
    })?;
    write(args.out.as_deref(), &text)
}

/// Exit 0 when the report was written; 3 when it could not be (connection, diagnosis, files).
pub fn run(args: &ReportArgs, conn: Option<&ConnArgs>) -> i32 {
    match run_inner(args, conn) {
        Ok(()) => 0,
        Err(e) => e.print(),
    }
}
