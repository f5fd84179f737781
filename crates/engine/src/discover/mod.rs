//! Discovery: everything about one Odoo host in two command executions plus database queries
//! through an SSH tunnel (issue 3). The scripts only read; parsing happens here, on data.

pub mod db;
pub mod inventory;
pub mod probe;
pub mod process;
pub mod scripts;
pub mod sections;
pub mod services;

use crate::error::EngineError;
use crate::facts::*;
use crate::odoo_conf::OdooConf;
use crate::progress::{self, Sink, Step};
use crate::version::{OdooVersion, VersionSource};
use inventory::{odoo_program, redact_args, service_of, Inventory, ProcDetails};
use osd_remote::Host;
use sections::Sections;
use std::collections::BTreeMap;
use std::time::Duration;

const SCRIPT_TIMEOUT: Duration = Duration::from_secs(60);

#[derive(Debug, Clone, Default)]
pub struct DiscoverOptions {
    /// Which instance to diagnose when several run: its HTTP port or its config path.
    pub instance: Option<String>,
    /// Which of its databases, when its config cannot decide (`--database`, repeatable).
    pub databases: Vec<String>,
}

/// Runs discovery on a connected host.
pub fn discover(host: &Host, opts: &DiscoverOptions) -> Result<Facts, EngineError> {
    discover_with_progress(host, opts, &progress::quiet)
}

/// Runs discovery, reporting each stage as it begins (the database and server stages run while
/// the config is read, so their reports come from their own threads, in no fixed order).
pub fn discover_with_progress(
    host: &Host,
    opts: &DiscoverOptions,
    p: Sink,
) -> Result<Facts, EngineError> {
    let execs_before = host.exec_count();
    let mut clock = Clock::start();
    progress::step(p, Step::Inventory, format!("on {}", host.name()));
    let out = host.run_script(scripts::INVENTORY, true, SCRIPT_TIMEOUT)?;
    clock.lap("inventory script");
    let sections = Sections::parse(&String::from_utf8_lossy(&out.stdout));
    if !sections.complete() {
        return Err(EngineError::Discovery {
            host: host.name().to_string(),
            detail: format!(
                "the inventory script stopped early (exit {}): {}",
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            ),
        });
    }
    let inv = Inventory::parse(&sections);
    let instances = instances_of(&inv);
    if instances.is_empty() {
        return Err(EngineError::NoOdoo {
            host: host.name().to_string(),
        });
    }
    let chosen = choose(&instances, opts, host.name())?;
    let mut odoo = instances[chosen].1.clone();
    let summaries: Vec<InstanceSummary> = instances.iter().map(|(s, _)| s.clone()).collect();

    // Script 2: details that depend on the chosen instance's config.
    let sessions_path = format!("{}/sessions", odoo.data_dir.trim_end_matches('/'));
    let logfile = odoo
        .option("logfile")
        .filter(|l| !l.is_empty() && l != "False" && l != "None");
    let (unit, supconf, supprog) = match &odoo.service {
        Service::Systemd { unit } => (unit.clone(), String::new(), String::new()),
        Service::Supervisor { conf, program } => (
            String::new(),
            conf.clone().unwrap_or_default(),
            program.clone(),
        ),
        _ => Default::default(),
    };
    let down = !odoo.state.is_running();
    // Not confirmed by its manager: read the start output too, in case it is failing.
    let unconfirmed = matches!(odoo.state, InstanceState::Starting { .. });
    let prelude = format!(
        "PID={pid}\nROOT={root}\nSESSIONS={sessions}\nSVCUSER={user}\nLOGFILE={log}\nPROGRAM={program}\nUNIT={unit}\nSUPCONF={supconf}\nSUPPROG={supprog}\nDOWN={down}\n",
        pid = odoo.pid.unwrap_or(0),
        // A process is read through its own root (containers); a down instance from the host's.
        root = quote(&odoo.pid.map(|p| format!("/proc/{p}/root")).unwrap_or_default()),
        sessions = quote(&sessions_path),
        user = quote(&odoo.user),
        log = quote(logfile.as_deref().unwrap_or("")),
        program = quote(odoo.program.as_deref().unwrap_or("")),
        unit = quote(&unit),
        supconf = quote(&supconf),
        supprog = quote(&supprog),
        down = u8::from(down || unconfirmed),
    );
    // The HTTP question and the database queries need only the inventory and use their own
    // tunnels: they run while the second script does.
    let script2 = format!("{prelude}{}", scripts::DETAILS);
    let nginx = nginx_facts(&inv, &odoo);
    let hints = scope_hints(&nginx, &odoo, &opts.databases);
    let (out2, server, (db, db_scope), http_requests, db_cost) = std::thread::scope(|s| {
        let http = s.spawn(|| {
            let mut c = Cost::default();
            if down {
                // Nothing listens: asking would only time out.
                return (Observed::Unknown(not_running(&odoo)), 0);
            }
            progress::step(p, Step::Server, format!("on port {}", odoo.http_port()));
            (server_facts(host, &odoo, &mut c), c.http_requests)
        });
        let database = s.spawn(|| {
            let mut c = Cost::default();
            progress::step(p, Step::Database, "");
            let (db, scope) = db::db_facts(host, &odoo, &hints, &mut c);
            (db, scope, c)
        });
        let config = odoo
            .config
            .as_ref()
            .map_or("its command line", |c| c.path.as_str());
        progress::step(p, Step::Config, config);
        let out2 = host.run_script(&script2, true, SCRIPT_TIMEOUT);
        let (server, h) = http.join().expect("http thread");
        let (db, scope, d) = database.join().expect("database thread");
        (out2, server, (db, scope), h, d)
    });
    let out2 = out2?;
    let details = Sections::parse(&String::from_utf8_lossy(&out2.stdout));
    let sessions = parse_sessions(&details, &sessions_path);
    let mut log = parse_log(&details);
    if let Observed::Seen(l) = &mut log {
        l.workers = odoo.workers();
    }
    if let InstanceState::Starting { manager_says } = &odoo.state {
        odoo.state = match &server {
            Observed::Seen(_) => InstanceState::Running,
            // A process between two failed starts: a crash loop, not a server.
            Observed::Unknown(_) => InstanceState::CrashLoop {
                manager_says: format!("{manager_says}, and it does not answer"),
                last_error: None,
            },
        };
    }
    let down = !odoo.state.is_running();
    if down {
        let secrets: Vec<String> = ["admin_passwd", "db_password", "smtp_password"]
            .iter()
            .filter_map(|k| odoo.option(k))
            .filter(|v| v.len() >= 3 && v != "False")
            .collect();
        let last = last_start_error(&details, &secrets);
        if let InstanceState::Stopped { last_error, .. }
        | InstanceState::CrashLoop { last_error, .. } = &mut odoo.state
        {
            *last_error = last;
        }
    }
    let server = if down {
        Observed::Unknown(not_running(&odoo))
    } else {
        server
    };
    if odoo.version.is_none() {
        if let Some(v) = details
            .get("release")
            .and_then(|t| t.lines().nth(1))
            .and_then(OdooVersion::parse)
        {
            odoo.version = Some(v);
            odoo.version_source = Some(VersionSource::ReleaseFile);
        }
    }
    // psql runs (a database on the local socket only) are database round trips, not discovery.
    let executions = host.exec_count() - execs_before - db_cost.psql_runs;
    let mut cost = Cost {
        executions,
        http_requests,
        db_round_trips: db_cost.db_round_trips,
        psql_runs: db_cost.psql_runs,
        ..Default::default()
    };
    clock.lap("details script, http and database in parallel");
    if let Observed::Seen(ServerFacts {
        server_version: Some(v),
        ..
    }) = &server
    {
        if let Some(parsed) = OdooVersion::parse(v) {
            odoo.version = Some(parsed);
            odoo.version_source = Some(VersionSource::RunningServer);
        }
    }
    cost.stages_ms = clock.laps;
    let mut summaries = summaries;
    if let Some(s) = summaries.get_mut(chosen) {
        s.state = odoo.state.clone();
        s.version = odoo.version.map(|v| v.to_string());
    }

    Ok(Facts {
        schema: crate::facts::FACTS_SCHEMA,
        host: HostFacts {
            name: host.name().to_string(),
            host_key_fingerprint: host.host_key().map(|k| k.fingerprint.clone()),
            os: inv.os.clone(),
            kernel: inv.kernel.clone(),
            cpus: inv.cpus,
            mem_total_bytes: inv.mem_total_bytes,
        },
        instances: summaries,
        odoo,
        sessions,
        cleaners: inv.cleaners.clone(),
        nginx,
        log,
        db,
        db_scope,
        server,
        probe: None,
        cost,
    })
}

/// Stage timings for the benchmark.
struct Clock {
    last: std::time::Instant,
    laps: Vec<(String, u64)>,
}

impl Clock {
    fn start() -> Clock {
        Clock {
            last: std::time::Instant::now(),
            laps: Vec::new(),
        }
    }
    fn lap(&mut self, name: &str) {
        let now = std::time::Instant::now();
        self.laps
            .push((name.to_string(), (now - self.last).as_millis() as u64));
        self.last = now;
    }
}

fn quote(s: &str) -> String {
    shell_escape::unix::escape(s.into()).into_owned()
}

/// Every Odoo instance of the host: running process trees (a process whose parent is an Odoo
/// process is a worker or the gevent process of its parent's instance), merged with the service
/// definitions that run Odoo, so an instance that is down or crash-looping is found too. Sorted by
/// HTTP port, running ones first within a port.
pub fn instances_of(inv: &Inventory) -> Vec<(InstanceSummary, OdooFacts)> {
    // Root processes come with details; workers only with their `ps` line.
    let ps_argv: BTreeMap<u32, Vec<String>> = inv
        .ps
        .iter()
        .map(|p| (p.pid, p.args.split_whitespace().map(String::from).collect()))
        .collect();
    let is_odoo = |pid: u32| match inv.procs.get(&pid) {
        Some(d) => odoo_program(&d.argv).is_some(),
        None => ps_argv.get(&pid).is_some_and(|a| odoo_program(a).is_some()),
    };
    let ppid_of: BTreeMap<u32, u32> = inv.ps.iter().map(|p| (p.pid, p.ppid)).collect();
    let user_of: BTreeMap<u32, &str> = inv.ps.iter().map(|p| (p.pid, p.user.as_str())).collect();
    let root_of = |mut pid: u32| {
        while let Some(&pp) = ppid_of.get(&pid) {
            if !is_odoo(pp) {
                break;
            }
            pid = pp;
        }
        pid
    };
    let mut counts: BTreeMap<u32, usize> = BTreeMap::new();
    for pid in inv.ps.iter().map(|p| p.pid).filter(|&p| is_odoo(p)) {
        *counts.entry(root_of(pid)).or_default() += 1;
    }
    let mut used_defs = vec![false; inv.services.len()];
    let mut out: Vec<OdooFacts> = counts
        .into_iter()
        .filter_map(|(pid, count)| {
            let d = inv.procs.get(&pid)?;
            let mut facts = odoo_facts(d, user_of.get(&pid).copied().unwrap_or("?"), count);
            // The manager's word beats `ps`: a process caught between two failed starts is a
            // crash loop, not a running server.
            if let Some(i) = inv.services.iter().position(|s| s.service == facts.service) {
                used_defs[i] = true;
                // A process that died while it was being read (a respawn) left no config: its
                // definition still names one.
                if facts.config.is_none() {
                    let def = &inv.services[i];
                    let d = def.as_process(&inv.def_files, &inv.homes);
                    if !d.files.is_empty() {
                        let mut from_def = odoo_facts(&d, &facts.user, count);
                        from_def.pid = facts.pid;
                        from_def.service = facts.service.clone();
                        facts = from_def;
                    }
                }
                if let InstanceState::CrashLoop { .. } | InstanceState::Starting { .. } =
                    inv.services[i].state
                {
                    facts.state = inv.services[i].state.clone();
                }
            }
            Some(facts)
        })
        .collect();
    for (def, _) in inv
        .services
        .iter()
        .zip(&used_defs)
        .filter(|(_, used)| !**used)
    {
        let d = def.as_process(&inv.def_files, &inv.homes);
        let user = def.user.clone().unwrap_or_else(|| "root".into());
        let mut facts = odoo_facts(&d, &user, 0);
        facts.service = def.service.clone();
        facts.state = match &def.state {
            // The manager says it runs, yet no Odoo process is visible (it died a moment ago,
            // or runs where /proc does not show it): not a server we can talk to.
            InstanceState::Running | InstanceState::Starting { .. } => InstanceState::Stopped {
                manager_says: format!("{} but no Odoo process was found", def.manager_says),
                last_error: None,
            },
            other => other.clone(),
        };
        out.push(facts);
    }
    let mut all: Vec<(InstanceSummary, OdooFacts)> = out
        .into_iter()
        .map(|mut facts| {
            if let Some(v) = facts.program.as_ref().and_then(|p| inv.releases.get(p)) {
                facts.version = Some(*v);
                facts.version_source = Some(VersionSource::ReleaseFile);
            }
            (summary_of(&facts), facts)
        })
        .collect();
    all.sort_by_key(|(s, _)| (s.http_port, !s.state.is_running(), s.pid));
    all
}

fn summary_of(facts: &OdooFacts) -> InstanceSummary {
    InstanceSummary {
        pid: facts.pid,
        user: facts.user.clone(),
        command: facts.command.clone(),
        config_path: facts.config.as_ref().map(|c| c.path.clone()),
        http_port: facts.http_port(),
        service: facts.service.clone(),
        version: facts.version.map(|v| v.to_string()),
        state: facts.state.clone(),
    }
}

/// The config file Odoo reads: `-c/--config`, else `$ODOO_RC`, else `~/.odoorc`, else
/// `~/.openerp_serverrc` (odoo/tools/config.py).
fn odoo_facts(d: &ProcDetails, user: &str, process_count: usize) -> OdooFacts {
    let args = redact_args(&d.argv);
    let absolute = |p: &str| {
        if p.starts_with('/') {
            p.to_string()
        } else {
            format!("{}/{}", d.cwd, p)
        }
    };
    let explicit = cli_option(&d.argv, "config").map(|p| absolute(&p));
    let home = d.environ.get("HOME").cloned();
    let rc_candidates: Vec<String> = [home.as_deref(), d.passwd_home.as_deref()]
        .into_iter()
        .flatten()
        .flat_map(|h| [format!("{h}/.odoorc"), format!("{h}/.openerp_serverrc")])
        .collect();
    let rc_files: Vec<String> = d
        .files
        .iter()
        .map(|(p, _)| p.clone())
        .filter(|p| rc_candidates.contains(p))
        .collect();
    let wanted = explicit
        .or_else(|| d.environ.get("ODOO_RC").map(|p| absolute(p)))
        .or_else(|| home.as_ref().map(|h| format!("{h}/.odoorc")))
        .or_else(|| home.as_ref().map(|h| format!("{h}/.openerp_serverrc")));
    // The raw text is read here once: its secret values go to `Secrets` (the command line wins,
    // as in Odoo), the facts keep only the redacted document.
    let raw = wanted.and_then(|w| {
        let (path, bytes) = d.files.iter().find(|(p, _)| *p == w)?;
        Some((path.clone(), String::from_utf8_lossy(bytes).into_owned()))
    });
    let mut secrets = BTreeMap::new();
    for key in ["admin_passwd", "db_password", "smtp_password"] {
        let value = cli_option(&d.argv, key).or_else(|| {
            raw.as_ref()
                .and_then(|(_, t)| OdooConf::parse(t).get("options", key).map(str::to_string))
        });
        if let Some(v) = value {
            secrets.insert(key.to_string(), v);
        }
    }
    let config = raw.map(|(path, text)| ConfFile::redacted(path, &text));
    let env: BTreeMap<String, String> = d
        .environ
        .iter()
        .filter(|(k, _)| k.starts_with("ODOO_") || *k == "SESSION_DB_URI")
        .map(|(k, v)| (k.clone(), redact_env(k, v)))
        .collect();
    let mut facts = OdooFacts {
        pid: (d.pid != 0).then_some(d.pid),
        state: InstanceState::Running,
        user: user.to_string(),
        home: home.clone(),
        command: args.join(" "),
        args,
        service: service_of(d),
        process_count,
        config,
        rc_files,
        version: None,
        version_source: None,
        data_dir: String::new(),
        data_dir_source: String::new(),
        env,
        program: odoo_program(&d.argv).map(|p| absolute(p)),
        secrets: Secrets::new(secrets),
    };
    let (dir, source) = match facts.option("data_dir").filter(|v| !v.is_empty()) {
        Some(dir) => (dir, facts.option_source("data_dir").unwrap_or_default()),
        None => default_data_dir(d),
    };
    facts.data_dir = dir;
    facts.data_dir_source = source;
    facts
}

/// An environment value as the facts keep it: a password-like variable masked whole, the
/// password of a URI (`postgresql://odoo:secret@db/sessions`) masked in place.
fn redact_env(key: &str, value: &str) -> String {
    const MASK: &str = "********";
    let k = key.to_ascii_uppercase();
    if ["PASSWORD", "PASSWD", "SECRET", "TOKEN"]
        .iter()
        .any(|w| k.contains(w))
    {
        return MASK.into();
    }
    if let Some((scheme, rest)) = value.split_once("://") {
        if let Some((userinfo, host)) = rest.split_once('@') {
            if let Some((user, _)) = userinfo.split_once(':') {
                return format!("{scheme}://{user}:{MASK}@{host}");
            }
        }
    }
    value.to_string()
}

/// Odoo's default data_dir: appdirs' user data dir when HOME exists, else /var/lib/odoo (facts §1).
fn default_data_dir(d: &ProcDetails) -> (String, String) {
    match &d.home_dir {
        Some(home) => {
            let base = d
                .environ
                .get("XDG_DATA_HOME")
                .cloned()
                .unwrap_or_else(|| format!("{home}/.local/share"));
            (
                format!("{base}/Odoo"),
                format!("Odoo's default for HOME={home} (odoo.conf sets no data_dir)"),
            )
        }
        None => (
            "/var/lib/odoo".into(),
            "Odoo's default when HOME does not exist (odoo.conf sets no data_dir)".into(),
        ),
    }
}

fn choose(
    instances: &[(InstanceSummary, OdooFacts)],
    opts: &DiscoverOptions,
    host: &str,
) -> Result<usize, EngineError> {
    let all = || instances.iter().map(|(s, _)| s.clone()).collect();
    match &opts.instance {
        // Sorted running-first within a port, so the first match is the live one.
        Some(wanted) => instances
            .iter()
            .position(|(s, _)| s.matches(wanted))
            .ok_or_else(|| EngineError::InstanceNotFound {
                host: host.into(),
                wanted: wanted.clone(),
                instances: all(),
            }),
        None if instances.len() == 1 => Ok(0),
        None => Err(EngineError::SeveralInstances {
            host: host.into(),
            instances: all(),
        }),
    }
}

fn parse_sessions(s: &Sections, path: &str) -> Observed<SessionStore> {
    let stat = s.get("sessions-stat").unwrap_or("").trim();
    let mut store = SessionStore {
        path: path.to_string(),
        exists: !stat.is_empty(),
        owner: None,
        group: None,
        mode: None,
        fs_type: s
            .get("sessions-fs")
            .map(|t| t.trim().to_string())
            .filter(|t| !t.is_empty()),
        mount_point: s
            .get("sessions-mount")
            .and_then(|t| t.split_whitespace().next())
            .map(String::from),
        writable_by_service_user: match s.get("sessions-writable").map(str::trim) {
            Some("yes") => Some(true),
            Some("no") => Some(false),
            _ => None,
        },
        files: 0,
        bytes: 0,
        owners: BTreeMap::new(),
        ages: Vec::new(),
        oldest_age_secs: None,
        newest_age_secs: None,
        space: parse_df(s.get("sessions-df"), s.get("sessions-dfi")),
        mount_options: s
            .get("sessions-mount-options")
            .map(|o| {
                o.trim()
                    .split(',')
                    .filter(|w| !w.is_empty())
                    .map(String::from)
                    .collect()
            })
            .unwrap_or_default(),
    };
    let mut words = stat.split_whitespace();
    store.owner = words.next().map(String::from);
    store.group = words.next().map(String::from);
    store.mode = words.next().and_then(|m| u32::from_str_radix(m, 8).ok());
    let mut buckets = vec![0u64; AGE_BUCKETS.len()];
    for line in s.get("sessions-files").unwrap_or("").lines() {
        let w: Vec<&str> = line.split_whitespace().collect();
        match w.as_slice() {
            ["files", n] => store.files = n.parse().unwrap_or(0),
            ["bytes", n] => store.bytes = n.parse().unwrap_or(0),
            ["oldest", n] => store.oldest_age_secs = n.parse().ok(),
            ["newest", n] => store.newest_age_secs = n.parse().ok(),
            ["bucket", i, n] => {
                if let (Ok(i), Ok(n)) = (i.parse::<usize>(), n.parse::<u64>()) {
                    if (1..=buckets.len()).contains(&i) {
                        buckets[i - 1] = n;
                    }
                }
            }
            ["owner", who, n] => {
                store.owners.insert(who.to_string(), n.parse().unwrap_or(0));
            }
            _ => {}
        }
    }
    store.ages = AGE_BUCKETS.iter().copied().zip(buckets).collect();
    Observed::Seen(store)
}

/// `df -P` data lines (header cut): the size and available columns, counted from the left after
/// the device name (`-P` never wraps). Bytes are required; inodes may be missing.
fn parse_df(bytes: Option<&str>, inodes: Option<&str>) -> Option<FsSpace> {
    let cols = |text: Option<&str>| -> Option<(u64, u64)> {
        let w: Vec<&str> = text?.lines().next()?.split_whitespace().collect();
        Some((w.get(1)?.parse().ok()?, w.get(3)?.parse().ok()?))
    };
    let (bytes_total, bytes_free) = cols(bytes)?;
    let (inodes_total, inodes_free) = cols(inodes).unwrap_or((0, 0));
    Some(FsSpace {
        bytes_total,
        bytes_free,
        inodes_total,
        inodes_free,
    })
}

fn parse_log(s: &Sections) -> Observed<LogFacts> {
    let source = s.get("log-source").map(str::trim).unwrap_or("");
    let source = match source.split_once(' ') {
        Some(("file", path)) => path.to_string(),
        Some(("journal", unit)) => format!("the journal of {unit}"),
        Some(("supervisor", prog)) => format!("supervisor's capture of {prog}"),
        _ => {
            return Observed::Unknown(
                "odoo.conf sets no logfile and no service manager captures Odoo's output".into(),
            )
        }
    };
    let Some(body) = s.get("log") else {
        return Observed::Unknown(format!("{source} does not exist or cannot be read"));
    };
    let mut log = LogFacts {
        source,
        ..Default::default()
    };
    let (mut now, mut cut, mut oldest) = (None::<i64>, None::<i64>, None::<i64>);
    let mut oldest_line = None;
    for line in body.lines() {
        if let Some(sample) = line.strip_prefix("sample ") {
            log.samples.push(sample.to_string());
            continue;
        }
        let stamp = |p: &str| {
            line.strip_prefix(p)
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .map(String::from)
        };
        if let Some(t) = stamp("first ") {
            log.first_seen = Some(t);
            continue;
        }
        if let Some(t) = stamp("last ") {
            log.last_seen = Some(t);
            continue;
        }
        if let Some(t) = stamp("oldest ") {
            oldest_line = Some(t);
            continue;
        }
        if let Some(t) = stamp("cutoff ") {
            log.window_from = Some(t);
            continue;
        }
        let mut w = line.split_whitespace();
        let (Some(k), Some(v)) = (w.next(), w.next().and_then(|v| v.parse::<u64>().ok())) else {
            continue;
        };
        match k {
            "lines" => log.lines_scanned = v,
            "session_expired" => log.session_expired = v,
            "dbfilter_rejects" => log.dbfilter_rejects = v,
            "memory_recycles" => log.memory_recycles = v,
            "memory_kills" => log.memory_kills = v,
            "worker_timeouts" => log.worker_timeouts = v,
            "cpu_limit_kills" => log.cpu_limit_kills = v,
            "cron_timeouts" => log.cron_timeouts = v,
            "window_now" => now = Some(v as i64),
            "window_cut" => cut = Some(v as i64),
            "window_started" => log.window_since_start = v == 1,
            "oldest_epoch" => oldest = Some(v as i64),
            _ => {}
        }
    }
    // The window starts at the cutoff, or later at the oldest line read when the log does not
    // reach back that far (a journal read with --since only when its bounded tail was full). A
    // minute of slack: a log begun when this Odoo started has its first line seconds after it.
    let journal = log.source.starts_with("the journal");
    if let (Some(now), Some(cut)) = (now, cut) {
        let mut from = cut;
        if let Some(o) =
            oldest.filter(|&o| o > cut + 60 && (!journal || log.lines_scanned >= 50_000))
        {
            from = o;
            log.window_truncated = true;
            log.window_from = oldest_line;
        }
        log.window_hours = ((now - from).max(0) as f64) / 3600.0;
    }
    Observed::Seen(log)
}

/// The last line of a failed start: Python's final traceback line (`…Error: …`), or Odoo's
/// CRITICAL line, from the service's own output first (errors before logging starts only go
/// there), else from odoo.conf's logfile. Known secret values are masked.
pub fn last_start_error(s: &Sections, secrets: &[String]) -> Option<String> {
    let pick = |text: &str| {
        text.lines()
            .map(str::trim)
            .filter(|l| {
                l.contains("Error: ")
                    || l.contains("Exception: ")
                    || l.contains(" CRITICAL ")
                    || l.ends_with("Error")
                    || l.contains("spawn error")
            })
            .last()
            .map(String::from)
    };
    let line = s
        .get("start-output")
        .and_then(pick)
        .or_else(|| s.get("start-logfile").and_then(pick))?;
    let mut line = secrets
        .iter()
        .fold(line, |l, secret| l.replace(secret.as_str(), "********"));
    if line.chars().count() > 300 {
        line = line.chars().take(300).collect::<String>() + "…";
    }
    Some(line)
}

/// What the checks say when the chosen instance does not run.
pub fn not_running(odoo: &OdooFacts) -> String {
    let mut why = format!("Odoo is not running ({})", odoo.state.describe(odoo.pid));
    if let Some(e) = odoo.state.last_error() {
        why.push_str(&format!("; its last start failed with: {e}"));
    }
    why
}

/// The host names the nginx in front accepts for this instance: `server_name`s of the blocks that
/// proxy to it, and whether one of them takes any name (no `server_name`, `_`, a wildcard or
/// regular expression, or `default_server`). Without a readable proxy, any name can reach Odoo.
fn scope_hints(
    nginx: &Observed<NginxFacts>,
    odoo: &OdooFacts,
    chosen: &[String],
) -> db::ScopeHints {
    let mut hints = db::ScopeHints {
        host_names: Vec::new(),
        any_host: true,
        chosen: chosen.to_vec(),
    };
    let Some(front) = nginx
        .seen()
        .and_then(|n| n.front(odoo.http_port(), odoo.gevent_port()).ok())
    else {
        return hints;
    };
    let servers = front.odoo_servers();
    hints.any_host = servers.is_empty();
    for s in &servers {
        let names = s.server_names();
        if names.is_empty() || s.listens().iter().any(|l| l.default_server) {
            hints.any_host = true;
        }
        for n in names {
            if n.is_empty() || n == "_" || n.starts_with('~') || n.contains('*') {
                hints.any_host = true;
            } else if !hints.host_names.iter().any(|h| h == n) {
                hints.host_names.push(n.to_string());
            }
        }
    }
    hints
}

/// The nginx whose config proxies to this Odoo's port (several may run; any is better than none).
fn nginx_facts(inv: &Inventory, odoo: &OdooFacts) -> Observed<NginxFacts> {
    if inv.nginx.is_empty() {
        return Observed::Unknown("no nginx master process runs on this host".into());
    }
    let port = format!(":{}", odoo.http_port());
    let pick = inv
        .nginx
        .iter()
        .find(|n| n.dump.contains(&port))
        .or_else(|| inv.nginx.first())
        .expect("non-empty");
    if pick.dump.trim().is_empty() {
        return Observed::Unknown(format!(
            "`{}` printed no configuration: {}",
            pick.command,
            pick.stderr.trim()
        ));
    }
    let conf_path = {
        let words: Vec<&str> = pick.master_args.split_whitespace().collect();
        words
            .windows(2)
            .find(|w| w[0] == "-c")
            .map(|w| w[1].to_string())
    };
    Observed::Seen(NginxFacts::new(
        inv.nginx.iter().map(|n| n.master_args.clone()).collect(),
        conf_path,
        pick.command.clone(),
        &pick.dump,
    ))
}

/// Asks the running server what it is, on its own port through the SSH tunnel.
fn server_facts(host: &Host, odoo: &OdooFacts, cost: &mut Cost) -> Observed<ServerFacts> {
    let interface = odoo
        .option("http_interface")
        .filter(|i| !i.is_empty() && i != "0.0.0.0" && i != "::")
        .unwrap_or_else(|| "127.0.0.1".into());
    let tunnel = match host.tunnel(&interface, odoo.http_port()) {
        Ok(t) => t,
        Err(e) => {
            return Observed::Unknown(format!(
                "no tunnel to Odoo's port {}: {e}",
                odoo.http_port()
            ))
        }
    };
    let base = format!("http://{}", tunnel.local_addr());
    cost.http_requests += 2;
    match probe::version_info(&base) {
        Ok(v) => Observed::Seen(ServerFacts {
            url: format!("http://{interface}:{}", odoo.http_port()),
            server_version: Some(v),
            login_page_cookie: probe::login_page_cookie(&base),
        }),
        Err(e) => Observed::Unknown(format!(
            "Odoo did not answer on {interface}:{}: {e}",
            odoo.http_port()
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::redact_env;

    #[test]
    fn secrets_in_the_environment_are_masked_at_gathering() {
        assert_eq!(
            redact_env(
                "SESSION_DB_URI",
                "postgresql://odoo:s3cret@db:5432/sessions"
            ),
            "postgresql://odoo:********@db:5432/sessions"
        );
        assert_eq!(redact_env("ODOO_DB_PASSWORD", "s3cret"), "********");
        assert_eq!(redact_env("ODOO_SKIP_GC_SESSIONS", "1"), "1");
    }

    /// The script's own LOGSTATS function, run by sh over `log` with `CUTOFF` set.
    fn logstats(log: &str, cutoff: &str, stamped_by_reader: bool) -> String {
        let d = super::scripts::DETAILS;
        let start = d.find("LOGSTATS() {").expect("LOGSTATS in DETAILS");
        let end = start + d[start..].find("\n}\n").expect("end of LOGSTATS") + 3;
        let script = format!(
            "export LC_ALL=C\nCUTOFF='{cutoff}'\n{}\nLOGSTATS {}\n",
            &d[start..end],
            u8::from(stamped_by_reader)
        );
        let mut child = std::process::Command::new("sh")
            .arg("-c")
            .arg(script)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("sh");
        use std::io::Write;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(log.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success());
        String::from_utf8(out.stdout).unwrap()
    }

    fn parsed(source: &str, stats: &str, window: &str) -> crate::facts::LogFacts {
        let text = format!("\n==> log-source <==\n{source}\n==> log <==\n{stats}{window}");
        match super::parse_log(&super::Sections::parse(&text)) {
            crate::facts::Observed::Seen(l) => l,
            other => panic!("{other:?}"),
        }
    }

    /// Odoo's exact lines (odoo/service/server.py), in and out of the window, with noise.
    const SAMPLE: &str = "\
2026-03-01 08:00:00,001 11 INFO odoo odoo.service.server: Worker (11) virtual memory limit (2300000000) reached.
2026-03-01 08:00:01,001 10 ERROR ? odoo.service.server: WorkerHTTP (12) timeout after 120s
2026-03-01 08:00:02,001 13 INFO odoo odoo.service.server: Worker (13) CPU time limit (60) reached.
2026-03-02 09:00:00,001 21 INFO odoo odoo.service.server: Worker (21) virtual memory limit (2300000000) reached.
2026-03-02 09:00:00,002 21 INFO odoo odoo.service.server: Worker (21) exiting. request_count: 40, registry count: 1.
2026-03-02 09:10:00,001 22 INFO odoo odoo.service.server: Worker (22) virtual memory limit (2400000000) reached.
2026-03-02 09:11:00,001 22 INFO odoo werkzeug: 127.0.0.1 - - \"GET /web HTTP/1.1\" 200 - 3 0.01 0.02
2026-03-02 09:20:00,001 23 ERROR odoo odoo.http: Exception during request handling.
Traceback (most recent call last):
  File \"/opt/odoo/odoo/http.py\", line 2000, in __call__
MemoryError
2026-03-02 09:30:00,001 10 ERROR ? odoo.service.server: WorkerHTTP (24) timeout after 120s
2026-03-02 09:31:00,001 10 ERROR ? odoo.service.server: WorkerCron (25) timeout after 120s
2026-03-02 09:40:00,001 26 INFO odoo odoo.service.server: Worker (26) CPU time limit (60) reached.
2026-03-02 09:41:00,001 26 INFO odoo odoo.service.server: Worker (26) max request (8192) reached.
";

    #[test]
    fn log_counts_are_odoos_messages_inside_the_window_only() {
        let stats = logstats(SAMPLE, "2026-03-02 00:00:00", false);
        // now = 2026-03-02 10:00:00 UTC, cut = 2026-03-02 00:00:00 UTC
        let l = parsed(
            "file /var/log/odoo/odoo.log",
            &stats,
            "window_now 1772445600\nwindow_cut 1772409600\nwindow_started 0\ncutoff 2026-03-02 00:00:00\noldest_epoch 1772352000\n",
        );
        assert_eq!(l.lines_scanned, 15);
        assert_eq!(l.memory_recycles, 2, "{stats}");
        assert_eq!(l.memory_kills, 1, "{stats}");
        assert_eq!(l.worker_timeouts, 1, "{stats}");
        assert_eq!(l.cron_timeouts, 1, "{stats}");
        assert_eq!(l.cpu_limit_kills, 1, "{stats}");
        assert_eq!(l.first_seen.as_deref(), Some("2026-03-02 09:00:00"));
        assert_eq!(l.last_seen.as_deref(), Some("2026-03-02 09:41:00"));
        assert_eq!(l.window_from.as_deref(), Some("2026-03-02 00:00:00"));
        assert!(!l.window_truncated);
        assert!((l.window_hours - 10.0).abs() < 1e-9);
        assert!(
            l.samples.iter().any(|s| s == "MemoryError"),
            "{:?}",
            l.samples
        );
    }

    #[test]
    fn a_log_that_starts_after_the_cutoff_shortens_the_window() {
        // Odoo's log begins at 2026-03-01 08:00 (rotated); the cut asked is 2026-02-28 17:33:20.
        let stats = logstats(SAMPLE, "2026-02-28 17:33:20", false);
        let l = parsed(
            "file /var/log/odoo/odoo.log",
            &stats,
            "window_now 1772445600\nwindow_cut 1772300000\nwindow_started 0\ncutoff 2026-02-28 17:33:20\noldest_epoch 1772352000\n",
        );
        assert_eq!(l.memory_recycles, 3);
        assert_eq!(l.worker_timeouts, 2);
        assert!(l.window_truncated);
        assert_eq!(l.window_from.as_deref(), Some("2026-03-01 08:00:00"));
        assert!((l.window_hours - 26.0).abs() < 1e-9);
    }

    #[test]
    fn unstamped_lines_count_when_the_reader_kept_to_the_window() {
        let bare = "Worker (5) virtual memory limit (2300000000) reached.\nMemoryError\n";
        assert!(logstats(bare, "2026-03-02 00:00:00", true)
            .contains("memory_recycles 1\nmemory_kills 1\n"));
        assert!(logstats(bare, "2026-03-02 00:00:00", false)
            .contains("memory_recycles 0\nmemory_kills 0\n"));
    }
}
