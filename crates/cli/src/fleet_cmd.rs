//! `fleet diagnose` and `fleet report`: many servers at once. Which hosts (an Ansible inventory,
//! names, the saved servers, `~/.ssh/config`), how each is reached (the single-host connect path
//! with the inventory's user, port and key), and printing; the inventory, `--limit`, the bounded
//! run, the per-host results and drift are `osd_engine::fleet`.
//!
//! ```text
//! odoo-session-doctor fleet diagnose --inventory hosts.ini --limit 'prod:!eu' --forks 10
//! odoo-session-doctor fleet diagnose --inventory hosts.yml --json > monday.json
//! odoo-session-doctor fleet diagnose --inventory hosts.yml --baseline monday.json
//! odoo-session-doctor fleet report --inventory hosts.ini --out fleet.html
//! ```

use crate::connect::{ConnArgs, SshArgs};
use crate::render::Failure;
use crate::DiagArgs;
use clap::{Args, Subcommand};
use osd_engine::fleet::{self, FleetHost, FleetTarget, Inventory};
use osd_engine::report::{self, Format};
use osd_remote::{Host, RemoteError};
use std::path::PathBuf;
use std::sync::Mutex;

#[derive(Subcommand)]
pub enum FleetCommand {
    /// Diagnose every host of the fleet, N at a time: a line per host as it finishes, then a
    /// table. Exit code: the worst host's (3 when one could not be diagnosed).
    Diagnose {
        #[command(flatten)]
        hosts: HostsArgs,
        /// One JSON document per host (one per line), as each finishes.
        #[arg(long)]
        json: bool,
        /// A saved run (the --json output) to compare with: per host, the checks that got worse
        /// and the files or parameters this tool changed that someone edited since.
        #[arg(long, value_name = "FILE")]
        baseline: Option<PathBuf>,
    },
    /// Diagnose the fleet and write its summary report (a column per server, a row per check).
    Report {
        #[command(flatten)]
        hosts: HostsArgs,
        /// html, md or json (default: from the extension of --out, else html).
        #[arg(long, value_parser = ["html", "md", "markdown", "json"])]
        format: Option<String>,
        /// The file to write (default: standard output).
        #[arg(long, short, value_name = "FILE")]
        out: Option<PathBuf>,
    },
}

#[derive(Args, Clone)]
pub struct HostsArgs {
    /// Hosts by name (saved servers, ~/.ssh/config aliases, user@host), instead of an inventory.
    #[arg(value_name = "HOST")]
    pub names: Vec<String>,
    /// An Ansible inventory, INI or YAML (`odoo_instance` picks an instance per host).
    #[arg(long, short = 'i', value_name = "FILE", conflicts_with = "names")]
    pub inventory: Option<PathBuf>,
    /// The Host entries of ~/.ssh/config (without wildcards), added to the saved servers.
    #[arg(long, conflicts_with_all = ["names", "inventory"])]
    pub ssh_config: bool,
    /// Only these hosts: Ansible patterns (`web*`, `prod:staging`, `prod:&eu`, `prod:!db1`).
    #[arg(long, short = 'l', value_name = "PATTERN")]
    pub limit: Option<String>,
    /// How many hosts at once.
    #[arg(long, short = 'f', value_name = "N", default_value_t = fleet::DEFAULT_FORKS, value_parser = clap::builder::TypedValueParser::map(clap::value_parser!(u16).range(1..=256), usize::from))]
    pub forks: usize,
    #[command(flatten)]
    pub ssh: SshArgs,
    #[command(flatten)]
    pub diag: DiagArgs,
}

/// The fleet the arguments name: an inventory file, names, or the saved servers (and with
/// `--ssh-config` the aliases of `~/.ssh/config`), narrowed by `--limit`.
fn targets(h: &HostsArgs) -> Result<Vec<FleetTarget>, Failure> {
    let inventory = if let Some(path) = &h.inventory {
        fleet::load_inventory(path).map_err(|e| {
            Failure::new(
                e,
                "fix the inventory (the same file `ansible-inventory -i FILE --list` reads)",
            )
        })?
    } else if !h.names.is_empty() {
        Inventory::from_names(&h.names)
    } else {
        let store = osd_servers::ServerStore::new(osd_servers::Paths::from_env().servers_file());
        let mut hosts: Vec<FleetTarget> = store
            .list()
            .map_err(|e| Failure::new(&e, e.hint()))?
            .into_iter()
            .map(|s| {
                let mut t = FleetTarget::named(&s.id);
                t.instance = s.instance;
                t.state_dir = s.state_dir;
                t.groups.insert(0, "saved".into());
                t
            })
            .collect();
        if h.ssh_config {
            let ctx = osd_remote::sshconfig::Context::from_env();
            let path = ctx.home.join(".ssh").join("config");
            let cfg = osd_remote::sshconfig::SshConfig::load(&path, &ctx)
                .map_err(|e| Failure::remote(&e))?;
            for alias in cfg.aliases() {
                if !hosts.iter().any(|t| t.name == alias) {
                    let mut t = FleetTarget::named(&alias);
                    t.groups.insert(0, "ssh_config".into());
                    hosts.push(t);
                }
            }
        }
        if hosts.is_empty() {
            return Err(Failure::new(
                "no hosts to diagnose",
                "give an --inventory FILE or host names, or save servers in the app (see `servers list`); --ssh-config adds ~/.ssh/config's hosts",
            ));
        }
        Inventory::from_targets(hosts)
    };
    let hosts = match &h.limit {
        Some(p) => inventory.limit(p).map_err(|e| {
            Failure::new(
                e,
                "write --limit as Ansible does: `web*`, `prod:staging`, `prod:&eu`, `prod:!db1`",
            )
        })?,
        None => inventory.hosts,
    };
    if hosts.is_empty() {
        return Err(Failure::new(
            "no host of the inventory is left",
            "check the inventory's hosts and the --limit pattern",
        ));
    }
    Ok(hosts)
}

/// The single-host connect path, with what the inventory says about this host. Secrets come
/// from the environment only (prompts of several hosts at once would interleave).
fn connect(h: &HostsArgs, t: &FleetTarget) -> Result<Host, String> {
    let mut conn = ConnArgs {
        target: t.target(),
        ssh: SshArgs {
            identity: t
                .key_file
                .iter()
                .cloned()
                .chain(h.ssh.identity.iter().cloned())
                .collect(),
            ..h.ssh.clone()
        },
        sudo: false,
        remember: false,
        saved: None,
    };
    conn.look_up_saved();
    conn.connect_unattended().map_err(|e| match e {
        RemoteError::UnknownHostKey { .. } => {
            format!("{e} (trust it with --accept-new-host-key, or add it to a --known-hosts file)")
        }
        _ => e.to_string(),
    })
}

/// Diagnoses the fleet; `done` sees each host as it finishes.
fn run(h: &HostsArgs, done: impl Fn(&FleetHost) + Sync) -> Result<Vec<FleetHost>, Failure> {
    let targets = targets(h)?;
    let opts = h.diag.options().map_err(|e| Failure::engine(&e, "HOST"))?;
    Ok(fleet::diagnose_fleet(
        &targets,
        h.forks,
        &opts,
        &h.diag.state_dir,
        |t| connect(h, t),
        done,
    ))
}

pub fn run_cmd(cmd: &FleetCommand) -> i32 {
    match cmd {
        FleetCommand::Diagnose {
            hosts,
            json,
            baseline,
        } => diagnose(hosts, *json, baseline.as_ref()),
        FleetCommand::Report { hosts, format, out } => {
            fleet_report(hosts, format.as_deref(), out.as_ref())
        }
    }
}

fn diagnose(h: &HostsArgs, json: bool, baseline: Option<&PathBuf>) -> i32 {
    let base =
        match baseline {
            Some(path) => match std::fs::read_to_string(path)
                .map_err(|e| e.to_string())
                .and_then(|t| fleet::read_results(&t).map_err(|e| e.to_string()))
            {
                Ok(b) => Some(b),
                Err(e) => return Failure::new(
                    format!("--baseline {}: {e}", path.display()),
                    "give a file written by `odoo-session-doctor fleet diagnose ... --json > FILE`",
                )
                .print(),
            },
            None => None,
        };
    // One writer at a time: lines of hosts finishing together must not mix.
    let out = Mutex::new(());
    let result = run(h, |host| {
        let mut host = host.clone();
        if let Some(b) = &base {
            host.drift = Some(fleet::drift(b.iter().find(|x| x.name == host.name), &host));
        }
        let _guard = out.lock().unwrap();
        if json {
            println!(
                "{}",
                serde_json::to_string(&host).expect("fleet results serialize")
            );
        } else {
            anstream::println!("{}", crate::render::fleet_line(&host));
        }
    });
    let mut hosts = match result {
        Ok(h) => h,
        Err(e) => return e.print(),
    };
    if let Some(b) = &base {
        fleet::add_drift(&mut hosts, b);
    }
    if !json {
        print!("\n{}", crate::render::fleet_table(&hosts));
    }
    fleet::exit_code(&hosts)
}

fn fleet_report(h: &HostsArgs, format: Option<&str>, out: Option<&PathBuf>) -> i32 {
    let name = match (format, out) {
        (Some(f), _) => f.to_string(),
        (None, Some(o)) => match o.extension().and_then(|e| e.to_str()) {
            Some(ext @ ("html" | "htm" | "md" | "markdown" | "json")) => ext.to_string(),
            _ => "html".into(),
        },
        (None, None) => "html".into(),
    };
    let format: Format = match name.parse() {
        Ok(f) => f,
        Err(e) => return Failure::new(e, "use --format html, md or json").print(),
    };
    let hosts = match run(h, |host| {
        anstream::eprintln!("{}", crate::render::fleet_line(host))
    }) {
        Ok(h) => h,
        Err(e) => return e.print(),
    };
    let models: Vec<_> = hosts
        .iter()
        .filter_map(|h| h.result.as_ref().ok().map(|r| r.report.clone()))
        .collect();
    for host in hosts.iter().filter(|h| h.result.is_err()) {
        eprintln!(
            "warning: {} is not in the report: it could not be diagnosed",
            host.name
        );
    }
    if models.is_empty() {
        return Failure::new(
            "no host could be diagnosed; nothing to report",
            "fix the connection errors above, then run the fleet report again",
        )
        .print();
    }
    let text = match report::render_fleet(&models, format) {
        Ok(t) => t,
        Err(e) => {
            return Failure::new(
                e,
                "report it with this message: the fleet report could not be rendered",
            )
            .print()
        }
    };
    match out {
        Some(path) => {
            if let Err(e) = std::fs::write(path, text) {
                return Failure::new(
                    format!("cannot write {}: {e}", path.display()),
                    "name a file in a folder you can write to with --out FILE",
                )
                .print();
            }
            eprintln!("wrote {}", path.display());
        }
        None => print!("{text}"),
    }
    0
}
