//! Facts: what discovery observed on one host, as plain data and as a document (JSON both ways,
//! with a [`FACTS_SCHEMA`] version). Checks are pure functions of this; a document read back
//! judges exactly like the live host (every lab test checks it).
//!
//! Secrets are kept out when the facts are gathered, not when they are printed: odoo.conf enters
//! only redacted ([`ConfFile`]), the secret options in force are held apart in [`Secrets`]
//! (never serialized), password-like environment values are masked, the nginx dump is redacted
//! ([`crate::nginx::redact_dump`]), a probe's session id never serializes, and
//! `database.secret` is only ever "present or not".

use crate::nginx::front::{Front, FrontState};
use crate::nginx::{redact_dump, NginxConfig, NginxDump, NginxError};
use crate::odoo_conf::OdooConf;
use crate::version::{OdooVersion, VersionSource};
use osd_remote::Secret;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::collections::BTreeMap;
use std::sync::Arc;

/// A fact that could not be observed carries why, so a check can say `unknown` with the reason.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "state", content = "value", rename_all = "snake_case")]
pub enum Observed<T> {
    Seen(T),
    Unknown(String),
}

impl<T> Observed<T> {
    pub fn seen(&self) -> Option<&T> {
        match self {
            Observed::Seen(v) => Some(v),
            Observed::Unknown(_) => None,
        }
    }
    pub fn why_unknown(&self) -> Option<&str> {
        match self {
            Observed::Seen(_) => None,
            Observed::Unknown(why) => Some(why),
        }
    }
}

/// The version of the facts document's shape: a document of another schema is refused with a
/// clear error rather than misread.
pub const FACTS_SCHEMA: u32 = 1;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Facts {
    /// [`FACTS_SCHEMA`] of the engine that gathered them.
    pub schema: u32,
    pub host: HostFacts,
    /// Every Odoo instance running on the host; `odoo` is the one diagnosed.
    pub instances: Vec<InstanceSummary>,
    pub odoo: OdooFacts,
    pub sessions: Observed<SessionStore>,
    /// Everything outside Odoo that deletes files (cron lines, timers, tmpfiles rules, tmpreaper).
    pub cleaners: Vec<Cleaner>,
    pub nginx: Observed<NginxFacts>,
    pub log: Observed<LogFacts>,
    pub db: Observed<DbFacts>,
    /// Which databases the instance serves and why; `None` when PostgreSQL could not be asked.
    pub db_scope: Option<crate::db_scope::DbScope>,
    /// What the running server answered over HTTP on its own port (through the SSH tunnel).
    pub server: Observed<ServerFacts>,
    /// What a test login observed (only when the person gave one): beats what files say.
    pub probe: Option<ProbeFacts>,
    pub cost: Cost,
}

impl Facts {
    /// The facts as a JSON document (secrets are never in it: see [`Secrets`], [`ConfFile`]).
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("facts serialize")
    }

    /// Facts from a document written by [`Facts::to_json`] (`odoo-session-doctor facts`);
    /// `source` names it in errors.
    pub fn from_json(text: &str, source: &str) -> Result<Facts, crate::EngineError> {
        #[derive(Deserialize)]
        struct Head {
            schema: Option<u32>,
        }
        let bad = |e: serde_json::Error| {
            crate::EngineError::FactsDocument(format!(
                "{source} is not a facts document (line {}, column {}: {e}); write one with `odoo-session-doctor facts TARGET --out FILE`",
                e.line(),
                e.column()
            ))
        };
        let head: Head = serde_json::from_str(text).map_err(bad)?;
        match head.schema {
            Some(FACTS_SCHEMA) => serde_json::from_str(text).map_err(bad),
            Some(n) => Err(crate::EngineError::FactsDocument(format!(
                "{source} has facts schema {n}; this version of Odoo Session Doctor reads schema {FACTS_SCHEMA}: diagnose it with the version that wrote it, or gather the facts again"
            ))),
            None => Err(crate::EngineError::FactsDocument(format!(
                "{source} has no \"schema\" field: it is not a facts document written by `odoo-session-doctor facts`"
            ))),
        }
    }

    /// The nginx in front of the diagnosed Odoo, from the configuration parsed with the facts.
    pub fn front(&self) -> FrontState {
        let n = match &self.nginx {
            Observed::Seen(n) => n,
            Observed::Unknown(why) => return FrontState::NoNginx(why.clone()),
        };
        match n.front(self.odoo.http_port(), self.odoo.gevent_port()) {
            Err(e) => FrontState::Broken(e.to_string()),
            Ok(fr) if fr.odoo_servers().is_empty() => FrontState::NotInFront,
            Ok(fr) => FrontState::Front(fr),
        }
    }

    /// `web.base.url` and whether it is frozen, from the first database.
    pub fn base_url(&self) -> (Option<String>, bool) {
        let Some(d) = self.db.seen().and_then(|d| d.databases.first()) else {
            return (None, false);
        };
        let frozen = d
            .params
            .get("web.base.url.freeze")
            .is_some_and(|v| !v.trim().is_empty() && v.trim() != "False");
        (d.params.get("web.base.url").cloned(), frozen)
    }
}

/// What the discovery cost: the benchmark and the `≤ 2 executions` promise read this.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Cost {
    pub executions: u64,
    /// Statements sent over TCP, plus psql runs (a run that reads every database is one).
    pub db_round_trips: u64,
    pub http_requests: u64,
    /// psql runs on the host (each one command execution; one run reads all the databases).
    pub psql_runs: u64,
    /// Wall time of each stage in milliseconds, in order (for the benchmark).
    pub stages_ms: Vec<(String, u64)>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct HostFacts {
    pub name: String,
    pub host_key_fingerprint: Option<String>,
    pub os: String,
    pub kernel: String,
    pub cpus: u32,
    pub mem_total_bytes: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Service {
    Systemd {
        unit: String,
    },
    Supervisor {
        conf: Option<String>,
        program: String,
    },
    Docker {
        container: String,
    },
    /// Started by hand (a shell, screen, nohup): nothing restarts it.
    Manual,
}

impl Service {
    /// The command that restarts this service, as the admin would type it.
    pub fn restart_command(&self) -> Option<Vec<String>> {
        match self {
            Service::Systemd { unit } => {
                Some(vec!["systemctl".into(), "restart".into(), unit.clone()])
            }
            Service::Supervisor { conf, program } => {
                let mut cmd = vec!["supervisorctl".to_string()];
                if let Some(c) = conf {
                    cmd.extend(["-c".to_string(), c.clone()]);
                }
                cmd.extend(["restart".to_string(), program.clone()]);
                Some(cmd)
            }
            Service::Docker { container } => {
                Some(vec!["docker".into(), "restart".into(), container.clone()])
            }
            Service::Manual => None,
        }
    }

    /// The command that starts it when it is not running (supervisor refuses to restart a
    /// program that is not running; systemd restarts a failed unit).
    pub fn start_command(&self) -> Option<Vec<String>> {
        match self {
            Service::Supervisor { conf, program } => {
                let mut cmd = vec!["supervisorctl".to_string()];
                if let Some(c) = conf {
                    cmd.extend(["-c".to_string(), c.clone()]);
                }
                cmd.extend(["start".to_string(), program.clone()]);
                Some(cmd)
            }
            other => other.restart_command(),
        }
    }

    pub fn describe(&self) -> String {
        match self {
            Service::Systemd { unit } => format!("systemd unit {unit}"),
            Service::Supervisor { program, .. } => format!("supervisor program {program}"),
            Service::Docker { container } => format!("docker container {container}"),
            Service::Manual => "started by hand (no service manager)".into(),
        }
    }
}

/// One Odoo instance of the host, running or only configured (a service definition whose
/// process is down or crash-looping is an instance too: it is often the one that needs help).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct InstanceSummary {
    /// The root process, when it runs.
    pub pid: Option<u32>,
    pub user: String,
    /// The command line with secret-bearing arguments redacted.
    pub command: String,
    pub config_path: Option<String>,
    pub http_port: u16,
    pub service: Service,
    /// "17.0" when known without asking the server (release.py next to odoo-bin, or the server
    /// itself for the diagnosed instance).
    pub version: Option<String>,
    pub state: InstanceState,
}

impl InstanceSummary {
    /// One line for lists: port, config, version, service, state.
    pub fn describe(&self) -> String {
        format!(
            "port {} config {} ({}{}, {})",
            self.http_port,
            self.config_path.as_deref().unwrap_or("<none>"),
            self.version
                .as_deref()
                .map(|v| format!("Odoo {v}, "))
                .unwrap_or_default(),
            self.service.describe(),
            self.state.describe(self.pid),
        )
    }

    /// What `--instance` takes to choose this one: its config file, or its HTTP port.
    pub fn selector(&self) -> String {
        self.config_path
            .clone()
            .unwrap_or_else(|| self.http_port.to_string())
    }

    pub fn matches(&self, wanted: &str) -> bool {
        self.http_port.to_string() == wanted || self.config_path.as_deref() == Some(wanted)
    }
}

/// Whether an instance runs, as its service manager (or `ps`) says.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum InstanceState {
    Running,
    /// A process runs but its manager has not confirmed the start yet (supervisor STARTING,
    /// systemd `activating`): a respawn between two failures looks like this. Discovery settles
    /// it by asking the server: it answers (running) or not (crash loop).
    Starting {
        manager_says: String,
    },
    /// Defined but not running, and not trying to (supervisor STOPPED/EXITED, systemd inactive).
    Stopped {
        /// The service manager's own words, e.g. `EXITED`, `inactive (dead)`.
        manager_says: String,
        last_error: Option<String>,
    },
    /// It keeps failing to start: supervisor BACKOFF/FATAL, systemd `activating (auto-restart)`
    /// or `failed`.
    CrashLoop {
        manager_says: String,
        last_error: Option<String>,
    },
}

impl InstanceState {
    pub fn is_running(&self) -> bool {
        matches!(
            self,
            InstanceState::Running | InstanceState::Starting { .. }
        )
    }
    pub fn last_error(&self) -> Option<&str> {
        match self {
            InstanceState::Running | InstanceState::Starting { .. } => None,
            InstanceState::Stopped { last_error, .. }
            | InstanceState::CrashLoop { last_error, .. } => last_error.as_deref(),
        }
    }
    pub fn describe(&self, pid: Option<u32>) -> String {
        match self {
            InstanceState::Running => match pid {
                Some(p) => format!("running, pid {p}"),
                None => "running".into(),
            },
            InstanceState::Starting { manager_says } => match pid {
                Some(p) => format!("starting, pid {p} ({manager_says})"),
                None => format!("starting ({manager_says})"),
            },
            InstanceState::Stopped { manager_says, .. } => format!("not running: {manager_says}"),
            InstanceState::CrashLoop { manager_says, .. } => {
                format!("fails to start: {manager_says}")
            }
        }
    }
}

/// A config file as read from the host, with every secret value already masked (`********`):
/// the raw text never enters the facts (planning reads the file afresh through its
/// [`FileView`](crate::change::workspace::FileView)).
#[derive(Debug, Clone)]
pub struct ConfFile {
    pub path: String,
    pub doc: OdooConf,
}

impl ConfFile {
    /// Parses `text` as read, keeping only its redacted form.
    pub fn redacted(path: impl Into<String>, text: &str) -> ConfFile {
        ConfFile {
            path: path.into(),
            doc: OdooConf::parse(&OdooConf::parse(text).redacted()),
        }
    }
}

/// In a facts document a config file is its path and its (redacted) text.
#[derive(Serialize, Deserialize)]
struct ConfFileDoc {
    path: String,
    text_redacted: String,
}

impl Serialize for ConfFile {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        ConfFileDoc {
            path: self.path.clone(),
            text_redacted: self.doc.to_string(),
        }
        .serialize(s)
    }
}

impl<'de> Deserialize<'de> for ConfFile {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<ConfFile, D::Error> {
        let doc = ConfFileDoc::deserialize(d)?;
        Ok(ConfFile {
            path: doc.path,
            doc: OdooConf::parse(&doc.text_redacted),
        })
    }
}

/// The secret options (`db_password`, `admin_passwd`, `smtp_password`) as in force, held only
/// for the engine's own use on the live host (connecting to PostgreSQL, scrubbing log lines):
/// never serialized, so a facts document has none and prints none.
#[derive(Clone, Default)]
pub struct Secrets(BTreeMap<String, String>);

impl Secrets {
    pub fn new(values: BTreeMap<String, String>) -> Secrets {
        Secrets(values)
    }
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(String::as_str)
    }
    pub fn values(&self) -> impl Iterator<Item = &str> {
        self.0.values().map(String::as_str)
    }
}

impl std::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set().entries(self.0.keys()).finish()
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OdooFacts {
    /// The root process; `None` when the instance is configured but not running.
    pub pid: Option<u32>,
    pub state: InstanceState,
    pub user: String,
    /// HOME of the running process: it decides the default data_dir (facts §1).
    pub home: Option<String>,
    pub command: String,
    /// The process's arguments (secrets redacted), for options given on the command line.
    pub args: Vec<String>,
    pub service: Service,
    /// Number of Odoo processes of this instance (master, workers, gevent).
    pub process_count: usize,
    pub config: Option<ConfFile>,
    /// `~/.odoorc` / `~/.openerp_serverrc` of the service user that exist.
    pub rc_files: Vec<String>,
    pub version: Option<OdooVersion>,
    pub version_source: Option<VersionSource>,
    pub data_dir: String,
    /// Where `data_dir` came from: "odoo.conf line 12", "command line", "default for HOME=/var/lib/odoo".
    pub data_dir_source: String,
    /// Environment variables that change session behaviour (ODOO_*), never anything else.
    pub env: BTreeMap<String, String>,
    /// Odoo's own program path (odoo-bin) as started.
    pub program: Option<String>,
    #[serde(skip)]
    pub secrets: Secrets,
}

impl OdooFacts {
    /// An option's effective value: the command line wins over odoo.conf, as in Odoo. Secret
    /// options come from [`Secrets`] (empty in facts read from a document).
    pub fn option(&self, key: &str) -> Option<String> {
        if crate::odoo_conf::is_secret_key(key) {
            return self.secrets.get(key).map(str::to_string);
        }
        if let Some(v) = cli_option(&self.args, key) {
            return Some(v);
        }
        self.config
            .as_ref()
            .and_then(|c| c.doc.get("options", key).map(|v| v.to_string()))
    }

    /// Where an option's effective value comes from, for evidence.
    pub fn option_source(&self, key: &str) -> Option<String> {
        if cli_option(&self.args, key).is_some() {
            return Some("the command line".into());
        }
        let conf = self.config.as_ref()?;
        let line = conf.doc.line_of("options", key)?;
        Some(format!("{}:{}", conf.path, line))
    }

    pub fn option_bool(&self, key: &str) -> bool {
        self.option(key)
            .map(|v| crate::odoo_conf::parse_bool(&v))
            .unwrap_or(false)
    }

    pub fn option_u64(&self, key: &str) -> Option<u64> {
        self.option(key).and_then(|v| v.trim().parse().ok())
    }

    pub fn workers(&self) -> u64 {
        self.option_u64("workers").unwrap_or(0)
    }

    pub fn http_port(&self) -> u16 {
        self.option_u64("http_port")
            .or_else(|| self.option_u64("xmlrpc_port"))
            .unwrap_or(8069) as u16
    }

    pub fn gevent_port(&self) -> u16 {
        self.option_u64("gevent_port")
            .or_else(|| self.option_u64("longpolling_port"))
            .unwrap_or(8072) as u16
    }
}

/// Odoo's command-line spelling of an odoo.conf key: `proxy_mode` → `--proxy-mode`.
const SHORT_FLAGS: &[(&str, &str)] = &[
    ("config", "-c"),
    ("data_dir", "-D"),
    ("http_port", "-p"),
    ("db_name", "-d"),
    ("db_user", "-r"),
    ("db_password", "-w"),
    ("addons_path", "--addons-path"),
];

/// The value of an option given on the command line (`--key=v`, `--key v`, short forms), if any.
pub fn cli_option(args: &[String], key: &str) -> Option<String> {
    let dashed = format!("--{}", key.replace('_', "-"));
    let underscored = format!("--{key}");
    let short = SHORT_FLAGS.iter().find(|(k, _)| *k == key).map(|(_, f)| *f);
    // Boolean flags Odoo takes without a value.
    let is_flag = matches!(key, "proxy_mode" | "without_demo" | "dev_mode");
    let mut found = None;
    let mut it = args.iter().skip(1).peekable();
    while let Some(a) = it.next() {
        for name in [Some(dashed.as_str()), Some(underscored.as_str()), short]
            .into_iter()
            .flatten()
        {
            if a == name {
                found = if is_flag {
                    Some("True".to_string())
                } else {
                    it.peek().map(|v| v.to_string())
                };
            } else if let Some(v) = a.strip_prefix(name).and_then(|r| r.strip_prefix('=')) {
                found = Some(v.to_string());
            } else if name.len() == 2 && a.starts_with(name) && a.len() > 2 && !a.starts_with("--")
            {
                found = Some(a[2..].to_string());
            }
        }
    }
    found
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SessionStore {
    pub path: String,
    pub exists: bool,
    pub owner: Option<String>,
    pub group: Option<String>,
    pub mode: Option<u32>,
    /// Filesystem type as `stat -f` names it (ext2/ext3, tmpfs, overlayfs, nfs, …).
    pub fs_type: Option<String>,
    pub mount_point: Option<String>,
    pub writable_by_service_user: Option<bool>,
    pub files: u64,
    pub bytes: u64,
    /// Files by owner name: a file the service user cannot write is a session users lose.
    pub owners: BTreeMap<String, u64>,
    /// Count of files by age of their mtime: (upper bound in seconds, count); the last bound is u64::MAX.
    pub ages: Vec<(u64, u64)>,
    pub oldest_age_secs: Option<u64>,
    /// The youngest file's age: a fresh login shows the folder is being written.
    #[serde(default)]
    pub newest_age_secs: Option<u64>,
    /// Room left on the folder's filesystem (`df -P -B1` and `df -P -i`); absent in documents
    /// from before it was read, and when df could not tell.
    #[serde(default)]
    pub space: Option<FsSpace>,
    /// The mount options of the folder's mount point as /proc/mounts lists them (`rw`/`ro`, …).
    #[serde(default)]
    pub mount_options: Vec<String>,
}

/// What df says about a filesystem: bytes and inodes, total and free for unprivileged users
/// (Odoo does not run as root, so the blocks reserved for root do not count).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FsSpace {
    pub bytes_total: u64,
    pub bytes_free: u64,
    /// 0 where the filesystem has no fixed inode count (btrfs, some tmpfs).
    pub inodes_total: u64,
    pub inodes_free: u64,
}

/// Age buckets for session files: the report draws them against the lifetime threshold.
pub const AGE_BUCKETS: &[u64] = &[3600, 86_400, 7 * 86_400, 30 * 86_400, 90 * 86_400, u64::MAX];

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum CleanerKind {
    Cron,
    SystemdUnit,
    Tmpfiles,
    Tmpreaper,
}

/// A line outside Odoo that deletes files, with where it stands.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Cleaner {
    pub kind: CleanerKind,
    pub file: String,
    pub line: u32,
    pub text: String,
}

/// The nginx in front: what `nginx -T` printed, redacted when gathered, and the effective
/// configuration parsed from it once (the checks, the probe and the fixes all read that one).
/// A facts document carries the dump; reading one parses it again.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(from = "NginxDoc")]
pub struct NginxFacts {
    /// `nginx: master process …` command lines found.
    pub masters: Vec<String>,
    /// The config file the master runs with.
    pub conf_path: String,
    /// The command used to dump the config (`nginx -T`).
    pub dump_command: String,
    /// Its output, secrets redacted.
    dump: String,
    /// Files in the dump, for evidence.
    pub files: Vec<String>,
    /// Files of the dump where something was redacted.
    #[serde(skip)]
    redacted: Vec<String>,
    #[serde(skip)]
    config: Result<Arc<NginxConfig>, NginxError>,
}

/// What a facts document holds of nginx: the rest is derived from the dump.
#[derive(Deserialize)]
struct NginxDoc {
    masters: Vec<String>,
    conf_path: String,
    dump_command: String,
    dump: String,
}

impl From<NginxDoc> for NginxFacts {
    fn from(d: NginxDoc) -> NginxFacts {
        NginxFacts::new(d.masters, Some(d.conf_path), d.dump_command, &d.dump)
    }
}

impl NginxFacts {
    /// From what discovery read: the master processes, the config file the master was started
    /// with (else the dump's first file), the dump command and its output. Redacts the dump (a
    /// second time changes nothing) and parses it.
    pub fn new(
        masters: Vec<String>,
        conf_path: Option<String>,
        dump_command: String,
        t_output: &str,
    ) -> NginxFacts {
        let (dump, redacted) = redact_dump(t_output);
        let parsed = NginxDump::parse(&dump);
        let files: Vec<String> = parsed.files().iter().map(|f| f.path.clone()).collect();
        let conf_path = conf_path
            .or_else(|| files.first().cloned())
            .unwrap_or_else(|| "/etc/nginx/nginx.conf".into());
        let config = parsed.config().map(Arc::new);
        NginxFacts {
            masters,
            conf_path,
            dump_command,
            dump,
            files,
            redacted,
            config,
        }
    }

    /// `nginx -T`'s output, secrets redacted.
    pub fn dump(&self) -> &str {
        &self.dump
    }

    /// Files of the dump where a secret was redacted (a fix editing one reads the real file).
    pub fn redacted_files(&self) -> &[String] {
        &self.redacted
    }

    /// The effective configuration, or why it does not parse.
    pub fn config(&self) -> Result<&Arc<NginxConfig>, &NginxError> {
        self.config.as_ref()
    }

    /// The view of this nginx in front of the Odoo listening on these ports.
    pub fn front(&self, http_port: u16, gevent_port: u16) -> Result<Front, &NginxError> {
        Ok(Front::new(self.config()?.clone(), http_port, gevent_port))
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct LogFacts {
    pub source: String,
    pub lines_scanned: u64,
    pub session_expired: u64,
    pub dbfilter_rejects: u64,
    /// In the window below: `Worker (PID) virtual memory limit (BYTES) reached.` (over
    /// limit_memory_soft: the worker finishes its request, then is replaced).
    pub memory_recycles: u64,
    /// In the window: tracebacks ending in `MemoryError` (an allocation refused at
    /// limit_memory_hard: the request in flight fails).
    pub memory_kills: u64,
    /// In the window: `WorkerHTTP (PID) timeout after Ns` (limit_time_real: killed with SIGKILL,
    /// the request in flight is lost).
    pub worker_timeouts: u64,
    /// In the window: `Worker (PID) CPU time limit (N) reached.` (limit_time_cpu: the request in
    /// flight fails).
    #[serde(default)]
    pub cpu_limit_kills: u64,
    /// In the window: `WorkerCron (PID) timeout after Ns` (a scheduled job killed, no visitor's
    /// request).
    #[serde(default)]
    pub cron_timeouts: u64,
    /// The window the worker counts cover: lines stamped (UTC) from `window_from` to the
    /// moment of reading, `window_hours` long.
    #[serde(default)]
    pub window_from: Option<String>,
    #[serde(default)]
    pub window_hours: f64,
    /// The window starts when the running Odoo started (less than 24 h ago), not 24 h ago.
    #[serde(default)]
    pub window_since_start: bool,
    /// The log read does not reach back to 24 h ago / Odoo's start (rotated, or the bounded
    /// tail): the window starts at its oldest line.
    #[serde(default)]
    pub window_truncated: bool,
    /// The first and last stamps seen in the window.
    #[serde(default)]
    pub first_seen: Option<String>,
    #[serde(default)]
    pub last_seen: Option<String>,
    /// `workers` in odoo.conf when the log was read (the counts are spread over them).
    #[serde(default)]
    pub workers: u64,
    /// A few matching lines per kind, newest last, for evidence.
    pub samples: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DbFacts {
    /// The databases this instance serves (see [`crate::db_scope`]): nothing else is read for a
    /// verdict or ever written.
    pub databases: Vec<DbParams>,
    /// Databases it does not serve whose daily cleanup still empties its sessions folder, with
    /// their `sessions.max_inactivity_seconds` (absent = Odoo's default).
    pub cleanup_only: Vec<(String, Option<String>)>,
}

/// The system parameter that sets how long an idle session lives (Odoo 16 and later).
pub const LIFETIME_KEY: &str = "sessions.max_inactivity_seconds";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DbParams {
    pub name: String,
    /// The session-related system parameters that exist (never `database.secret`).
    pub params: BTreeMap<String, String>,
    pub database_secret_present: bool,
    /// Session-related modules and their state.
    pub modules: BTreeMap<String, String>,
    pub autovacuum_cron_active: Option<bool>,
    /// Read with psql on the host (local socket), not over TCP.
    pub via_psql: bool,
    /// Odoo 18+: devices whose sessions a person ended (`res_device_log` rows marked revoked),
    /// per device owner. `None` when not read (below 18, or no `res_device_log` table).
    #[serde(default)]
    pub revoked_devices: Option<Vec<RevokedDevices>>,
}

/// The devices of one user that someone revoked (Preferences → Devices), counted by session:
/// revoking writes `revoked = true` on every log row of the session, and the ORM's write stamps
/// `write_date` (when) and `write_uid` (who). No session identifier is ever read.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RevokedDevices {
    /// The device owner's login (`#<id>` when the user no longer exists).
    pub user: String,
    /// Sessions revoked in the last [`REVOKED_WINDOW_DAYS`] days (the database's clock).
    pub recent: u32,
    /// Sessions revoked that the log still holds, at any date.
    pub total: u32,
    /// The latest revocation, UTC, `YYYY-MM-DD HH:MM`.
    pub last: String,
    /// Who revoked them in the window (logins; the owner's own login when they did it).
    #[serde(default)]
    pub by: Vec<String>,
}

/// How far back a revocation counts as recent.
pub const REVOKED_WINDOW_DAYS: u32 = 7;

impl DbFacts {
    pub fn param(&self, db: &str, key: &str) -> Option<&str> {
        self.databases
            .iter()
            .find(|d| d.name == db)?
            .params
            .get(key)
            .map(|s| s.as_str())
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ServerFacts {
    pub url: String,
    pub server_version: Option<String>,
    /// The `session_id` cookie the running server hands a new visitor of `/web/login`: its
    /// `Max-Age` is the lifetime the server really uses (it caches the parameter, facts §2).
    pub login_page_cookie: Option<CookieAttrs>,
}

/// A `session_id` cookie as a browser receives it (the session id itself is never kept).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CookieAttrs {
    /// The Set-Cookie header with the session id replaced.
    pub header: String,
    pub max_age: Option<i64>,
    pub has_expires: bool,
    pub http_only: bool,
    pub secure: bool,
    pub same_site: Option<String>,
    pub path: Option<String>,
    pub domain: Option<String>,
}

impl CookieAttrs {
    pub fn parse(header: &str) -> Option<CookieAttrs> {
        let mut parts = header.split(';').map(str::trim);
        let (name, _) = parts.next()?.split_once('=')?;
        if name != "session_id" {
            return None;
        }
        let mut c = CookieAttrs {
            header: String::new(),
            max_age: None,
            has_expires: false,
            http_only: false,
            secure: false,
            same_site: None,
            path: None,
            domain: None,
        };
        let mut shown = vec!["session_id=<hidden>".to_string()];
        for p in parts {
            shown.push(p.to_string());
            let (k, v) = p
                .split_once('=')
                .map(|(k, v)| (k.trim(), Some(v.trim())))
                .unwrap_or((p, None));
            match k.to_ascii_lowercase().as_str() {
                "max-age" => c.max_age = v.and_then(|v| v.parse().ok()),
                "expires" => c.has_expires = true,
                "httponly" => c.http_only = true,
                "secure" => c.secure = true,
                "samesite" => c.same_site = v.map(String::from),
                "path" => c.path = v.map(String::from),
                "domain" => c.domain = v.map(String::from),
                _ => {}
            }
        }
        c.header = shown.join("; ");
        Some(c)
    }
}

/// One login, through one URL.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct LoginObservation {
    pub url: String,
    /// Where the redirects ended (the origin the login was made on).
    pub final_url: Option<String>,
    /// "301 http://a/web/login → https://b/web/login", in order.
    pub redirects: Vec<String>,
    pub cookie: Option<CookieAttrs>,
    /// The session still answered with a uid after this many follow-up requests.
    pub session_holds: bool,
    pub checks_made: u32,
    pub error: Option<String>,
    /// Headers a cache or CDN in front adds (`cf-cache-status`, `x-cache`, `age`, `via`; name in
    /// lower case, value), seen on the login page or the login answer.
    #[serde(default)]
    pub cache_headers: Vec<(String, String)>,
    /// The session made by the login, kept in memory only (prints as `<redacted>`).
    #[serde(skip)]
    pub session_id: Option<Secret>,
}

/// What the live probe ([`crate::discover::probe`]) observed with a test login.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ProbeFacts {
    /// A login on Odoo's own port through the SSH tunnel; skipped (with why) when it would
    /// rewrite `web.base.url` to the tunnel's address.
    pub direct: Option<LoginObservation>,
    pub direct_skipped: Option<String>,
    pub public: Option<LoginObservation>,
    /// `web.base.url` as Odoo holds it after the logins (an admin login rewrites it unless frozen).
    pub base_url_after_login: Option<String>,
}
