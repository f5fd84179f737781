//! `sessions`: who is logged in to an instance, and logging a person (or everyone) out
//! everywhere. Parsing, the confirmation prompt and printing only; `osd_engine::sessions` reads,
//! judges, deletes and records.

use crate::connect::ConnArgs;
use crate::DiagArgs;
use osd_engine::sessions::{self, Who};
use osd_engine::EngineError;
use std::io::{BufRead, IsTerminal, Write};

#[derive(clap::Args)]
pub struct SessionsArgs {
    /// Log this login out everywhere (every session of theirs in the databases the instance
    /// serves; --database to choose one). Cannot be undone.
    #[arg(long, value_name = "LOGIN", conflicts_with = "log_out_everyone")]
    pub log_out: Option<String>,
    /// Log everyone out (every session with a person logged in). Cannot be undone.
    #[arg(long)]
    pub log_out_everyone: bool,
    /// Do not ask: log out at once (for scripts).
    #[arg(long)]
    pub yes: bool,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

pub fn run(conn: &ConnArgs, diag: &DiagArgs, args: &SessionsArgs) -> i32 {
    match go(conn, diag, args) {
        Ok(code) => code,
        Err(e) => crate::render::Failure::engine(&e, &conn.target).print(),
    }
}

fn go(conn: &ConnArgs, diag: &DiagArgs, args: &SessionsArgs) -> Result<i32, EngineError> {
    let opts = diag.options()?;
    let host = conn.connect()?;
    let d = osd_engine::diagnose(&host, &opts)?;
    let report = sessions::list(&host, &d, &diag.state_dir)?;
    let db = match diag.databases.as_slice() {
        [] => None,
        [one] => Some(one.clone()),
        _ => {
            return Err(EngineError::SessionsChoice(
                "a log-out takes one --database (or none: every database the instance serves)"
                    .into(),
            ))
        }
    };
    let who = match (&args.log_out, args.log_out_everyone) {
        (Some(login), _) => Some(Who::Login {
            login: login.clone(),
            db: db.clone(),
        }),
        (None, true) => Some(Who::Everyone { db }),
        (None, false) => None,
    };
    let Some(who) = who else {
        if args.json {
            println!(
                "{}",
                serde_json::to_string_pretty(&report).expect("sessions serialize")
            );
        } else {
            print!("{}", sessions::render(&report));
        }
        return Ok(if report.bad.is_empty() { 0 } else { 1 });
    };
    let preview = sessions::preview_logout(&d, &report, &who)?;
    if !args.json {
        println!("{}", preview.text);
    }
    let confirmed = if args.yes {
        preview.confirm_with.clone()
    } else if std::io::stdin().is_terminal() {
        eprint!(
            "Type {} to log out (anything else cancels): ",
            preview.confirm_with
        );
        let _ = std::io::stderr().flush();
        let mut line = String::new();
        let _ = std::io::stdin().lock().read_line(&mut line);
        line.trim().to_string()
    } else {
        return Err(EngineError::SessionsChoice(
            "a log-out needs confirmation: run it at a terminal, or pass --yes".into(),
        ));
    };
    if confirmed != preview.confirm_with {
        eprintln!("Cancelled: nobody was logged out.");
        return Ok(1);
    }
    let outcome = sessions::log_out(&host, &d, &who, &confirmed, &diag.state_dir)?;
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(
                &serde_json::json!({"preview": preview, "outcome": outcome})
            )
            .expect("outcome serializes")
        );
    } else {
        println!("{}", outcome.text);
        for f in &outcome.failed {
            println!("  {}", f.describe());
        }
        match (&outcome.record, &outcome.record_error) {
            (Some(id), _) => println!(
                "Recorded in the history as {id} (an action: there is nothing to roll back)."
            ),
            (None, Some(e)) => println!("Not recorded in the history: {e}"),
            _ => {}
        }
    }
    Ok(if outcome.ok { 0 } else { 2 })
}
