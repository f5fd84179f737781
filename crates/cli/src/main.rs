//! `odoo-session-doctor`: the engine on the command line, for scripts, fleets and tests.
//! Argument parsing and dispatch only; every decision is made in `osd-engine`. The same flag
//! means the same thing on every subcommand: `--yes` on each one that changes something,
//! `--instance`, `--json`, and the SSH flags (`connect::SshArgs`) wherever they apply.

mod activity;
mod change_cmd;
mod connect;
mod fleet_cmd;
mod render;
mod report_cmd;
mod sessions_cmd;

use clap::{Args, CommandFactory, Parser, Subcommand};
use connect::ConnArgs;
use osd_engine::change::record;
use osd_engine::facts::Facts;
use osd_engine::probe::ProbeOptions;
use osd_engine::{DiagnoseOptions, EngineError};
use render::Failure;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "odoo-session-doctor",
    version,
    about = "Finds and fixes why Odoo users get \"Session Expired\".",
    after_help = "Exit codes: 0 all ok, 1 warnings, 2 failures (or a change not applied), 3 could not do what was asked.\nColour only on a terminal; NO_COLOR turns it off. Secrets come from prompts, OSD_SSH_PASSWORD / OSD_KEY_PASSPHRASE / OSD_SUDO_PASSWORD, or the system keyring (--remember)."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the whole session checklist on a host (or on a facts file). Exit 0 all ok, 1 warnings, 2 failures, 3 could not diagnose.
    Diagnose {
        #[command(flatten)]
        conn: connect::MaybeConnArgs,
        #[command(flatten)]
        diag: DiagArgs,
        /// Diagnose a facts file written by `facts` instead of a host: the same verdicts, without
        /// access to the server (e.g. a consultant reading what an admin sent).
        #[arg(long, value_name = "FILE", conflicts_with = "target")]
        from_facts: Option<PathBuf>,
        /// Print the result as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Gather what the checks judge (the facts) into one JSON document, secrets left out: to
    /// diagnose later or elsewhere with `diagnose --from-facts FILE`.
    Facts {
        #[command(flatten)]
        conn: ConnArgs,
        #[command(flatten)]
        diag: DiagArgs,
        /// Write the document to FILE (created with mode 0600).
        #[arg(long, value_name = "FILE", required_unless_present = "json")]
        out: Option<PathBuf>,
        /// Print the document to standard output.
        #[arg(long, conflicts_with = "out")]
        json: bool,
    },
    /// Preview the changes that fix the given checks (diffs, parameters old → new, restarts).
    Plan {
        #[command(flatten)]
        conn: ConnArgs,
        #[command(flatten)]
        diag: DiagArgs,
        #[command(flatten)]
        fix: change_cmd::FixArgs,
        #[arg(long)]
        json: bool,
        /// Also write the change as a standalone Ansible playbook to FILE (see the README).
        #[arg(long, value_name = "FILE")]
        ansible: Option<std::path::PathBuf>,
    },
    /// Apply the fix safely: back up, write, validate, restart, verify; roll back on any failure. Exit 0 only when applied and verified.
    Apply {
        #[command(flatten)]
        conn: ConnArgs,
        #[command(flatten)]
        diag: DiagArgs,
        #[command(flatten)]
        fix: change_cmd::FixArgs,
        /// Do not ask for confirmation.
        #[arg(long)]
        yes: bool,
        /// Seconds the server waits for this command's confirmation after applying; if the
        /// connection is lost, it undoes the change by itself when they run out.
        #[arg(long, value_name = "SECONDS", default_value_t = osd_engine::change::onhost::DEFAULT_GUARD_SECS, value_parser = clap::value_parser!(u64).range(10..=86400))]
        guard: u64,
        #[arg(long)]
        json: bool,
    },
    /// Undo a recorded change set (the last one with --last), byte for byte, then verify. The
    /// record says which instance it touched: --instance is not needed.
    Rollback {
        #[command(flatten)]
        conn: ConnArgs,
        #[command(flatten)]
        diag: DiagArgs,
        /// The change set id (see `history`).
        id: Option<String>,
        /// Roll back the last applied change set.
        #[arg(long, conflicts_with = "id")]
        last: bool,
        /// Restore even files someone edited since the change set was applied.
        #[arg(long)]
        force: bool,
        /// Do not ask for confirmation.
        #[arg(long)]
        yes: bool,
        #[arg(long)]
        json: bool,
    },
    /// List the change sets recorded on the host, each applied one re-checked against the server now.
    History {
        #[command(flatten)]
        conn: ConnArgs,
        /// The instance whose databases hold the parameters to re-check: its HTTP port or config path.
        #[arg(long)]
        instance: Option<String>,
        /// Where the product keeps its change-set records on the host.
        #[arg(long, value_name = "DIR", default_value = osd_engine::change::record::ROOT)]
        state_dir: String,
        #[arg(long)]
        json: bool,
    },
    /// Who is logged in (per database and user: sessions, age, idle time, devices), and
    /// --log-out LOGIN / --log-out-everyone. Session ids are never shown.
    Sessions {
        #[command(flatten)]
        conn: ConnArgs,
        #[command(flatten)]
        diag: DiagArgs,
        #[command(flatten)]
        args: sessions_cmd::SessionsArgs,
    },
    /// Write the per-server checklist report (HTML, Markdown or JSON).
    Report(report_cmd::ReportArgs),
    /// Many servers at once: an Ansible inventory, names, or the saved servers.
    Fleet {
        #[command(subcommand)]
        command: fleet_cmd::FleetCommand,
    },
    /// The servers saved in the app; each one's id or name works as a TARGET.
    Servers {
        #[command(subcommand)]
        command: ServersCommand,
    },
    /// Print a shell completion script: bash, zsh, fish, elvish or powershell.
    ///
    /// bash: odoo-session-doctor completions bash > /etc/bash_completion.d/odoo-session-doctor
    /// zsh:  odoo-session-doctor completions zsh > "${fpath[1]}/_odoo-session-doctor"
    /// fish: odoo-session-doctor completions fish > ~/.config/fish/completions/odoo-session-doctor.fish
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff), or write one page per command to DIR with --out-dir.
    #[command(hide = true)]
    Man {
        #[arg(long, value_name = "DIR")]
        out_dir: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum ServersCommand {
    /// List the saved servers (servers.toml in the config folder, or $OSD_CONFIG_DIR).
    List {
        #[arg(long)]
        json: bool,
    },
    /// Forget the passwords and passphrases remembered for a saved server in the system keyring.
    Forget {
        /// The saved server's id or name.
        name: String,
        /// Do not ask for confirmation.
        #[arg(long)]
        yes: bool,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Args, Clone, Default)]
pub struct DiagArgs {
    /// The instance to diagnose when several run: its HTTP port or its config path.
    #[arg(long)]
    pub instance: Option<String>,
    /// The database(s) the instance serves, when its config cannot decide (no dbfilter over
    /// several databases, a host-based dbfilter behind a catch-all proxy). Repeatable.
    #[arg(long = "database", value_name = "NAME")]
    pub databases: Vec<String>,
    /// An Odoo login for the live probe; its password comes from the ODOO_PASSWORD environment variable.
    #[arg(long)]
    pub odoo_login: Option<String>,
    /// The public URL users type (when it cannot be derived from nginx or web.base.url).
    #[arg(long)]
    pub odoo_url: Option<String>,
    /// Reach NAME at ADDR:PORT for the probe (like curl --resolve NAME:PORT:ADDR), for names without DNS.
    #[arg(long, value_name = "NAME:PORT:ADDR")]
    pub resolve: Vec<String>,
    /// Where the product keeps its change-set records and lock on the host.
    #[arg(long, value_name = "DIR", default_value = osd_engine::change::record::ROOT)]
    pub state_dir: String,
}

impl DiagArgs {
    pub fn options(&self) -> Result<DiagnoseOptions, EngineError> {
        let mut opts = DiagnoseOptions::default();
        opts.discover.instance = self.instance.clone();
        opts.discover.databases = self.databases.clone();
        if let Some(login) = &self.odoo_login {
            let password = std::env::var("ODOO_PASSWORD").map_err(|_| {
                EngineError::Invalid(
                    "--odoo-login needs the password in the ODOO_PASSWORD environment variable"
                        .into(),
                )
            })?;
            let mut resolve = Vec::new();
            for r in &self.resolve {
                let parts: Vec<&str> = r.splitn(3, ':').collect();
                let parsed = match parts.as_slice() {
                    [name, port, addr] => format!("{addr}:{port}")
                        .parse()
                        .ok()
                        .map(|a| (name.to_string(), a)),
                    _ => None,
                };
                resolve.push(parsed.ok_or_else(|| EngineError::Invalid(format!("--resolve {r}: expected NAME:PORT:ADDR, e.g. odoo.example.com:443:127.0.0.1")))?);
            }
            opts.probe = Some(ProbeOptions {
                login: login.clone(),
                password: osd_remote::Secret::new(password),
                public_url: self.odoo_url.clone(),
                resolve,
            });
        }
        Ok(opts)
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let code = match cli.command {
        Command::Diagnose {
            conn,
            mut diag,
            from_facts,
            json,
        } => match (conn.conn().as_mut(), from_facts) {
            (_, Some(file)) => diagnose_facts_file(&file, json),
            (Some(conn), None) => {
                use_saved(conn, &mut diag);
                diagnose(conn, &diag, json)
            }
            (None, None) => Failure::new(
                "no TARGET to diagnose",
                "name one (user@host, a saved server, `local`), or a facts file with --from-facts FILE",
            )
            .print(),
        },
        Command::Facts {
            mut conn,
            mut diag,
            out,
            json,
        } => {
            use_saved(&mut conn, &mut diag);
            facts_cmd(&conn, &diag, out.as_deref(), json)
        }
        Command::Plan {
            mut conn,
            mut diag,
            fix,
            json,
            ansible,
        } => {
            use_saved(&mut conn, &mut diag);
            change_cmd::plan_cmd(&conn, &diag, &fix, json, ansible.as_deref())
        }
        Command::Apply {
            mut conn,
            mut diag,
            fix,
            yes,
            guard,
            json,
        } => {
            use_saved(&mut conn, &mut diag);
            change_cmd::apply_cmd(&conn, &diag, &fix, yes, guard, json)
        }
        Command::Rollback {
            mut conn,
            mut diag,
            id,
            last,
            force,
            yes,
            json,
        } => {
            if id.is_none() && !last {
                let code = Failure::new(
                    "no change set to roll back",
                    format!("name one by its id (see `odoo-session-doctor history {}`), or pass --last", conn.target),
                )
                .print();
                return ExitCode::from(code as u8);
            }
            use_saved(&mut conn, &mut diag);
            change_cmd::rollback_cmd(&conn, &diag, id.as_deref(), force, yes, json)
        }
        Command::History {
            mut conn,
            mut instance,
            mut state_dir,
            json,
        } => {
            conn.look_up_saved();
            saved_state_dir(&conn, &mut state_dir);
            if instance.is_none() {
                instance = conn.saved.as_ref().and_then(|s| s.instance.clone());
            }
            change_cmd::history_cmd(&conn, instance, &state_dir, json)
        }
        Command::Sessions {
            mut conn,
            mut diag,
            args,
        } => {
            use_saved(&mut conn, &mut diag);
            sessions_cmd::run(&conn, &diag, &args)
        }
        Command::Report(mut args) => {
            let mut conn = args.conn.conn();
            if let Some(conn) = conn.as_mut() {
                use_saved(conn, &mut args.diag);
            }
            report_cmd::run(&args, conn.as_ref())
        }
        Command::Fleet { command } => fleet_cmd::run_cmd(&command),
        Command::Servers {
            command: ServersCommand::List { json },
        } => servers_list(json),
        Command::Servers {
            command: ServersCommand::Forget { name, yes, json },
        } => servers_forget(&name, yes, json),
        Command::Completions { shell } => {
            clap_complete::generate(
                shell,
                &mut Cli::command(),
                "odoo-session-doctor",
                &mut std::io::stdout(),
            );
            0
        }
        Command::Man { out_dir } => man(out_dir.as_deref()),
    };
    ExitCode::from(code as u8)
}

/// A saved server named as TARGET brings its instance and record directory, unless the
/// command line gives them.
fn use_saved(conn: &mut ConnArgs, diag: &mut DiagArgs) {
    conn.look_up_saved();
    if let Some(server) = &conn.saved {
        if diag.instance.is_none() {
            diag.instance = server.instance.clone();
        }
    }
    saved_state_dir(conn, &mut diag.state_dir);
}

/// The saved record directory replaces the default one (clap cannot tell a default from the
/// same value typed, so typing the default does not override a saved directory).
fn saved_state_dir(conn: &ConnArgs, state_dir: &mut String) {
    if let Some(dir) = conn.saved.as_ref().and_then(|s| s.state_dir.as_ref()) {
        if state_dir == osd_engine::change::record::ROOT {
            state_dir.clone_from(dir);
        }
    }
}

/// The man page from the clap definitions: one page on stdout, or every command's to a folder
/// (`odoo-session-doctor.1`, `odoo-session-doctor-apply.1`, ...).
fn man(out_dir: Option<&Path>) -> i32 {
    let cmd = Cli::command();
    let written = match out_dir {
        Some(dir) => std::fs::create_dir_all(dir).and_then(|()| clap_mangen::generate_to(cmd, dir)),
        None => clap_mangen::Man::new(cmd).render(&mut std::io::stdout()),
    };
    match written {
        Ok(()) => {
            if let Some(dir) = out_dir {
                eprintln!("man pages written to {}", dir.display());
            }
            0
        }
        Err(e) => Failure::new(
            format!("cannot write the man page: {e}"),
            "name a folder you can write to with --out-dir DIR",
        )
        .print(),
    }
}

/// Asks "question [y/N]" on the terminal; without one, only `--yes` says yes.
pub fn confirm(question: &str, yes: bool) -> bool {
    use std::io::{BufRead, IsTerminal, Write};
    if yes {
        return true;
    }
    print!("{question} [y/N] ");
    let _ = std::io::stdout().flush();
    if !std::io::stdin().is_terminal() {
        println!();
        return false;
    }
    let mut line = String::new();
    let _ = std::io::stdin().lock().read_line(&mut line);
    matches!(line.trim(), "y" | "Y" | "yes")
}

fn servers_forget(name: &str, yes: bool, json: bool) -> i32 {
    let store = osd_servers::ServerStore::new(osd_servers::Paths::from_env().servers_file());
    let server = match store.find(name) {
        Ok(Some(s)) => s,
        Ok(None) => {
            return Failure::new(
                format!("there is no saved server \"{name}\""),
                "see the saved servers with `odoo-session-doctor servers list`",
            )
            .print()
        }
        Err(e) => return Failure::new(&e, e.hint()).print(),
    };
    if !confirm(
        &format!(
            "Forget the secrets remembered for {} ({}@{})?",
            server.id, server.user, server.host
        ),
        yes,
    ) {
        return Failure::new(
            "nothing was forgotten",
            "confirm at the prompt, or pass --yes",
        )
        .print();
    }
    match osd_servers::secrets::forget(&server) {
        Ok(any) => {
            if json {
                println!(
                    "{}",
                    serde_json::json!({ "server": server.id, "forgotten": any })
                );
            } else if any {
                println!("Forgot the secrets remembered for {}.", server.id);
            } else {
                println!("Nothing was remembered for {}.", server.id);
            }
            0
        }
        Err(e) => Failure::new(&e, e.hint()).print(),
    }
}

fn servers_list(json: bool) -> i32 {
    let store = osd_servers::ServerStore::new(osd_servers::Paths::from_env().servers_file());
    let servers = match store.list() {
        Ok(s) => s,
        Err(e) => return Failure::new(&e, e.hint()).print(),
    };
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&servers).expect("servers serialize")
        );
        return 0;
    }
    if servers.is_empty() {
        eprintln!("no saved servers in {}", store.path().display());
    }
    let width = servers.iter().map(|s| s.id.len()).max().unwrap_or(0);
    for s in &servers {
        let instance = s
            .instance
            .as_ref()
            .map(|i| format!(", instance {i}"))
            .unwrap_or_default();
        println!(
            "{:width$}  {}: {}@{}:{} ({}{instance})",
            s.id,
            s.name,
            s.user,
            s.host,
            s.port,
            s.auth.as_str()
        );
    }
    0
}

/// Prints a diagnosis as the person asked, and its exit code.
fn show(d: &osd_engine::Diagnosis, json: bool) -> i32 {
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(d).expect("diagnosis serializes")
        );
    } else {
        anstream::print!("{}", render::diagnosis(d));
    }
    d.exit_code()
}

fn diagnose_facts_file(file: &Path, json: bool) -> i32 {
    let text = match std::fs::read_to_string(file) {
        Ok(t) => t,
        Err(e) => {
            return Failure::new(
                format!("cannot read {}: {e}", file.display()),
                "check the path; a facts file is written by `odoo-session-doctor facts TARGET --out FILE`",
            )
            .print()
        }
    };
    match Facts::from_json(&text, &file.display().to_string()) {
        Ok(facts) => show(&osd_engine::Diagnosis::from_facts(facts), json),
        Err(e) => Failure::engine(&e, "TARGET").print(),
    }
}

/// Connects (saying so on a terminal when it takes a while), or says why not.
pub fn connect_following(
    conn: &ConnArgs,
    act: &activity::Activity,
) -> Result<osd_remote::Host, EngineError> {
    act.say(format!("Connecting to {}", conn.target));
    Ok(conn.connect()?)
}

/// Connects and diagnoses, following the engine's steps on a terminal, or says why not (exit 3).
fn diagnosis_of(conn: &ConnArgs, diag: &DiagArgs) -> Result<osd_engine::Diagnosis, i32> {
    let fail = |e: EngineError| Failure::engine(&e, &conn.target).print();
    let opts = diag.options().map_err(fail)?;
    let act = activity::Activity::start("");
    let host = connect_following(conn, &act).map_err(fail)?;
    osd_engine::diagnose_with_progress(&host, &opts, &|p| act.follow(p)).map_err(fail)
}

fn facts_cmd(conn: &ConnArgs, diag: &DiagArgs, out: Option<&Path>, json: bool) -> i32 {
    let d = match diagnosis_of(conn, diag) {
        Ok(d) => d,
        Err(code) => return code,
    };
    let doc = d.facts.to_json();
    match out {
        Some(path) if !json => {
            // Facts name hosts, paths and users: readable by their owner only.
            use std::io::Write;
            use std::os::unix::fs::OpenOptionsExt;
            let written = std::fs::OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(true)
                .mode(0o600)
                .open(path)
                .and_then(|mut f| f.write_all(doc.as_bytes()));
            if let Err(e) = written {
                return Failure::new(
                    format!("cannot write {}: {e}", path.display()),
                    "name a file in a folder you can write to with --out FILE",
                )
                .print();
            }
            eprintln!(
                "facts of {} written to {}; diagnose them anywhere with: odoo-session-doctor diagnose --from-facts {}",
                d.host,
                path.display(),
                path.display()
            );
            0
        }
        _ => {
            println!("{doc}");
            0
        }
    }
}

fn diagnose(conn: &ConnArgs, diag: &DiagArgs, json: bool) -> i32 {
    let fail = |e: &EngineError| Failure::engine(e, &conn.target).print();
    let opts = match diag.options() {
        Ok(o) => o,
        Err(e) => return fail(&e),
    };
    let act = activity::Activity::start("");
    let host = match connect_following(conn, &act) {
        Ok(h) => h,
        Err(e) => {
            drop(act);
            return fail(&e);
        }
    };
    // A change set the host has not settled comes first: it says what the server is in the
    // middle of, before any finding (a finding may only be its half-applied state).
    let unsettled = record::unsettled(&host, &diag.state_dir).unwrap_or_default();
    let d = osd_engine::diagnose_with_progress(&host, &opts, &|p| act.follow(p));
    drop(act);
    let d = match d {
        Ok(d) => d,
        Err(e) => {
            render_unsettled(&unsettled, &conn.target);
            return fail(&e);
        }
    };
    if json {
        let mut v = serde_json::to_value(&d).expect("diagnosis serializes");
        v["unsettled"] = serde_json::to_value(&unsettled).expect("records serialize");
        println!(
            "{}",
            serde_json::to_string_pretty(&v).expect("diagnosis serializes")
        );
        return d.exit_code().max(if unsettled.is_empty() { 0 } else { 2 });
    }
    render_unsettled(&unsettled, &conn.target);
    anstream::print!("{}", render::diagnosis(&d));
    d.exit_code().max(if unsettled.is_empty() { 0 } else { 2 })
}

fn render_unsettled(unsettled: &[record::Unsettled], target: &str) {
    for u in unsettled {
        println!("✗ Change set {} is not settled: {}", u.id, u.state);
        for c in &u.changed {
            println!("    changed: {c}");
        }
        println!(
            "    settle it: odoo-session-doctor rollback {target} {} --yes",
            u.id
        );
    }
    if !unsettled.is_empty() {
        println!();
    }
}
