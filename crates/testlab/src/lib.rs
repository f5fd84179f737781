//! osd-testlab: starts and stops lab Odoo hosts for tests, the demo and benchmarks.
//!
//! A lab is a disposable Odoo host on loopback, made by the script `tests/lab/lab` (sshd,
//! PostgreSQL, the Odoo stand-in as Odoo 17, 18 or 19 under supervisor, by hand or under a real
//! systemd in a namespace, nginx), seeded with a scenario.
//! This crate is test support: [`Lab::up`] panics with the script's stderr when a lab cannot
//! start, and dropping a [`Lab`] runs `lab down`. The JSON contract (`lab.json`) is mirrored by
//! [`LabInfo`]; see `tests/lab/README.md` for the meaning of every field.
//!
//! [`probe`] holds a tiny HTTP/1.1 client over `std::net::TcpStream`, enough to talk to the
//! stand-in and to nginx's plain-HTTP port without pulling an HTTP stack into tests.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde::{Deserialize, Serialize};

pub mod keyring;
pub mod probe;

/// Every scenario the lab knows (same list as `tests/lab/lab scenarios`).
pub const SCENARIOS: &[&str] = &[
    "healthy",
    "short-lifetime",
    "proxy-mode-off",
    "missing-forwarded-headers",
    "websocket-drops-headers",
    "http-only",
    "no-canonical-host",
    "cron-deletes-sessions",
    "folklore-conf",
    "folklore-params",
    "two-upstreams",
    "memory-recycling",
    "dbfilter-mismatch",
    "socket-db",
    "shared-cluster",
    "crash-loop",
    "debian-systemd",
    "install-script-systemd",
    "systemd-crash-loop",
    "proxy-cache",
    "idle-logout",
    "sessions-full",
    "sessions-readonly",
    "sessions-root-owned",
    "workers-recycling",
    "devices-revoked",
    "odoo16",
];

/// `lab.json`, as written by `tests/lab/lab up`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LabInfo {
    pub dir: PathBuf,
    #[serde(default)]
    pub labid: String,
    pub scenario: String,
    pub ssh: SshInfo,
    pub users: Users,
    pub keys: Keys,
    pub postgres: PostgresInfo,
    pub odoo: OdooInfo,
    /// Second Odoo node (scenario `two-upstreams` only).
    #[serde(default)]
    pub odoo2: Option<OdooInfo>,
    pub nginx: NginxInfo,
    #[serde(default)]
    pub supervisor: Option<SupervisorInfo>,
    /// `/etc/cron.d/osd-lab-<labid>` (scenario `cron-deletes-sessions` only).
    #[serde(default)]
    pub cron_file: Option<PathBuf>,
    #[serde(default)]
    pub pids: Option<Pids>,
    #[serde(default)]
    pub start_seconds: f64,
    /// Every Odoo instance of the host, the first being `odoo` (every scenario).
    #[serde(default)]
    pub instances: Vec<OdooInfo>,
    /// Every database of the cluster, `postgres` included.
    #[serde(default)]
    pub databases: Vec<String>,
    /// The namespace's systemd (systemd scenarios only).
    #[serde(default)]
    pub systemd: Option<SystemdInfo>,
    /// `lab`, `debian` or `install-script`.
    #[serde(default)]
    pub layout: Option<String>,
}

/// A systemd lab's namespace, seen from the machine.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SystemdInfo {
    /// The namespace's PID 1 (systemd), as the machine numbers it.
    pub pid: u32,
    /// `/proc/PID/root`: the namespace's files, readable from the machine.
    pub host_root: PathBuf,
    /// `nsenter -t PID -m -p`
    pub nsenter: String,
    /// The Odoo unit: `odoo.service` or `odoo-server.service`.
    pub unit: String,
}

/// How an Odoo instance is run.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ServiceInfo {
    /// `supervisor`, `manual` (started by hand, detached) or `systemd`.
    pub kind: String,
    /// Supervisor program or systemd unit; `None` for `manual`.
    pub name: Option<String>,
    /// `supervisorctl -c …` or `systemctl`; `None` for `manual`.
    pub ctl: Option<String>,
    /// `manual` only: where the lab recorded its pid.
    #[serde(default)]
    pub pid_file: Option<PathBuf>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SshInfo {
    pub host: String,
    pub port: u16,
    /// e.g. `ssh-ed25519`
    pub host_key_type: String,
    /// `SHA256:...` as `ssh-keygen -lf` prints it
    pub host_key_fingerprint: String,
    /// `[127.0.0.1]:PORT ssh-ed25519 AAAA...`
    pub known_hosts_line: String,
    pub known_hosts_file: PathBuf,
    #[serde(default)]
    pub sshd_config: Option<PathBuf>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Users {
    pub root: LabUser,
    pub sudo_nopasswd: LabUser,
    pub sudo_passwd: LabUser,
    pub nosudo: LabUser,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LabUser {
    pub login: String,
    /// `None` for root when the machine's root already had a password of its own (the lab
    /// never overwrites it); key login still works.
    pub password: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Keys {
    pub ed25519: PathBuf,
    pub ed25519_passphrase: KeyWithPassphrase,
    pub ecdsa: PathBuf,
    /// RSA in PEM format (`-----BEGIN RSA PRIVATE KEY-----`).
    pub rsa: PathBuf,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct KeyWithPassphrase {
    pub path: PathBuf,
    pub passphrase: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PostgresInfo {
    pub host: String,
    pub port: u16,
    pub db: String,
    pub user: String,
    pub password: String,
    #[serde(default)]
    pub socket_dir: Option<PathBuf>,
    #[serde(default)]
    pub data_dir: Option<PathBuf>,
    #[serde(default)]
    pub superuser: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OdooInfo {
    pub conf: PathBuf,
    pub bin: PathBuf,
    pub http_port: u16,
    pub gevent_port: u16,
    pub data_dir: PathBuf,
    pub sessions_dir: PathBuf,
    pub log: PathBuf,
    pub service_user: String,
    pub admin_login: String,
    pub admin_password: String,
    /// odoo.conf `admin_passwd` (a secret the product must never print).
    #[serde(default)]
    pub master_password: Option<String>,
    /// Empty when the instance is not run by supervisor (see `service`).
    #[serde(default)]
    pub supervisor_conf: PathBuf,
    /// Empty when the instance is not run by supervisor (see `service`).
    #[serde(default)]
    pub supervisor_program: String,
    pub version: String,
    /// Unique in the lab: `odoo`, `odoo2`, `odoo17`, `odoo18`, `odoo19`, `staging`.
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub service: Option<ServiceInfo>,
    /// Who the process runs as (`odoo` or `root`).
    #[serde(default)]
    pub run_as: Option<String>,
    /// The databases its dbfilter lets through.
    #[serde(default)]
    pub databases: Vec<String>,
    #[serde(default)]
    pub dbfilter: Option<String>,
    /// Its nginx `server_name`.
    #[serde(default)]
    pub server_name: Option<String>,
    /// The cookie `Max-Age` a fresh session of this instance carries.
    #[serde(default)]
    pub max_age: Option<u64>,
    /// It cannot start (then `broken_reason`, e.g. `smtp_port`).
    #[serde(default)]
    pub broken: bool,
    #[serde(default)]
    pub broken_reason: Option<String>,
    #[serde(default)]
    pub db: Option<String>,
    /// supervisor's capture of the program's stdout/stderr (config errors land here).
    #[serde(default)]
    pub stdout_log: Option<PathBuf>,
    #[serde(default)]
    pub workers: Option<u32>,
    /// `web.base.url` as seeded (first node only).
    #[serde(default)]
    pub web_base_url: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NginxInfo {
    pub conf: PathBuf,
    #[serde(default)]
    pub site_conf: Option<PathBuf>,
    pub http_port: u16,
    /// `None` in scenario `http-only`.
    pub https_port: Option<u16>,
    pub server_names: Vec<String>,
    #[serde(default)]
    pub canonical_host: Option<String>,
    #[serde(default)]
    pub cert: Option<PathBuf>,
    #[serde(default)]
    pub pid_file: Option<PathBuf>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SupervisorInfo {
    pub conf: PathBuf,
    pub ctl: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Pids {
    /// The namespace's systemd (systemd scenarios).
    #[serde(default)]
    pub systemd: Option<u32>,
    pub supervisord: Option<u32>,
    pub nginx: Option<u32>,
    pub sshd: Option<u32>,
    pub postgres: Option<u32>,
}

/// What `lab gc-sessions` reports.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GcReport {
    /// Session files that disappeared while the cleanup ran.
    pub deleted: Vec<PathBuf>,
    /// Session files left.
    pub remaining: usize,
}

/// Path of the lab script: `tests/lab/lab` in the workspace (env `OSD_LAB_SCRIPT` overrides).
pub fn lab_script_path() -> PathBuf {
    if let Some(p) = std::env::var_os("OSD_LAB_SCRIPT") {
        return PathBuf::from(p);
    }
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/lab/lab")
}

fn run_lab(args: &[&str]) -> Output {
    let script = lab_script_path();
    Command::new("/usr/bin/python3")
        .arg(&script)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", script.display()))
}

fn expect_ok(what: &str, out: Output) -> String {
    if !out.status.success() {
        panic!(
            "`lab {what}` failed ({}):\n{}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A running lab. Dropping it tears it down (`lab down`).
#[derive(Debug)]
pub struct Lab {
    pub info: LabInfo,
    keep: bool,
}

impl Lab {
    /// Starts a lab of `scenario` under the system temp dir. Panics with the script's
    /// stderr when it fails (it is test support).
    pub fn up(scenario: &str) -> Lab {
        Self::try_up(scenario, None).unwrap_or_else(|e| panic!("{e}"))
    }

    /// Starts a lab under `base` (a directory).
    pub fn up_in(scenario: &str, base: &Path) -> Lab {
        Self::try_up(scenario, Some(base)).unwrap_or_else(|e| panic!("{e}"))
    }

    /// Like [`Lab::up`], returning the failure (the script's stderr) instead of panicking.
    pub fn try_up(scenario: &str, base: Option<&Path>) -> Result<Lab, String> {
        let mut args = vec![
            "up".to_string(),
            "--scenario".to_string(),
            scenario.to_string(),
        ];
        if let Some(base) = base {
            args.push("--base".into());
            args.push(base.display().to_string());
        }
        let argv: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = run_lab(&argv);
        if !out.status.success() {
            return Err(format!(
                "lab up --scenario {scenario} failed ({}):\n{}",
                out.status,
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        let info: LabInfo = serde_json::from_slice(&out.stdout).map_err(|e| {
            format!(
                "lab up printed no valid lab.json ({e}):\n{}",
                String::from_utf8_lossy(&out.stdout)
            )
        })?;
        Ok(Lab { info, keep: false })
    }

    /// Reads an already running lab from its `lab.json` (it will be torn down on drop).
    pub fn attach(dir: &Path) -> Result<Lab, String> {
        let text = std::fs::read_to_string(dir.join("lab.json"))
            .map_err(|e| format!("{}: {e}", dir.display()))?;
        let info: LabInfo =
            serde_json::from_str(&text).map_err(|e| format!("{}: {e}", dir.display()))?;
        Ok(Lab { info, keep: false })
    }

    pub fn dir(&self) -> &Path {
        &self.info.dir
    }

    /// The lab's known_hosts file (one line for its sshd host key).
    pub fn known_hosts_file(&self) -> &Path {
        &self.info.ssh.known_hosts_file
    }

    /// Runs Odoo's daily session cleanup now (through the real cron path) and waits for it.
    pub fn gc_sessions(&self) -> GcReport {
        let out = expect_ok("gc-sessions", run_lab(&["gc-sessions", &self.dir_str()]));
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("gc-sessions output: {e}: {out}"))
    }

    /// Adds an Odoo user who can log in with `password` (in `db`, default the first instance's
    /// database); returns its id.
    pub fn add_user(&self, login: &str, password: &str, db: Option<&str>) -> i64 {
        let dir = self.dir_str();
        let mut args = vec!["add-user", dir.as_str(), login, password];
        if let Some(db) = db {
            args.extend(["--db", db]);
        }
        let out = expect_ok("add-user", run_lab(&args));
        out.trim()
            .parse()
            .unwrap_or_else(|e| panic!("add-user output: {e}: {out}"))
    }

    /// Kills every established SSH session of this lab's sshd (not the listener).
    /// Returns how many connections were cut.
    pub fn cut_ssh(&self) -> usize {
        let out = expect_ok("cut-ssh", run_lab(&["cut-ssh", &self.dir_str()]));
        let v: serde_json::Value = serde_json::from_str(&out).unwrap_or_default();
        v["killed_sessions"].as_u64().unwrap_or(0) as usize
    }

    /// From the next start on, the Odoo stand-in refuses to start (exit 1, error in its log).
    pub fn break_odoo(&self) {
        expect_ok("break-odoo", run_lab(&["break-odoo", &self.dir_str()]));
    }

    /// From the next start on, the Odoo stand-in refuses to start while the system parameter
    /// `key` holds `value`: a change that stops Odoo, undone by restoring the old value.
    pub fn break_odoo_when(&self, key: &str, value: &str) {
        expect_ok(
            "break-odoo-when",
            run_lab(&[
                "break-odoo-when",
                &self.dir_str(),
                &format!("{key}={value}"),
            ]),
        );
    }

    /// Undoes [`Lab::break_odoo`].
    pub fn fix_odoo(&self) {
        expect_ok("fix-odoo", run_lab(&["fix-odoo", &self.dir_str()]));
    }

    /// Runs `supervisorctl -c <lab conf> ARGS...` and returns its output (whatever the status).
    pub fn supervisorctl(&self, args: &[&str]) -> Output {
        Command::new("supervisorctl")
            .arg("-c")
            .arg(&self.info.odoo.supervisor_conf)
            .args(args)
            .output()
            .expect("cannot run supervisorctl")
    }

    /// Restarts every instance that can start (`supervisorctl restart <program>`, or `systemctl
    /// restart <unit>` inside a systemd lab, SIGTERM + the same command line for one started by
    /// hand), then waits until `/web/health` answers on its HTTP port (panics after 30 s).
    pub fn restart_odoo(&self) {
        for node in self.odoo_nodes() {
            let kind = node.service.as_ref().map(|s| s.kind.as_str());
            if node.broken {
                continue;
            }
            if kind == Some("manual") {
                self.restart_instance(&node.name);
                continue;
            }
            let out = if kind == Some("systemd") {
                let unit = node
                    .service
                    .as_ref()
                    .and_then(|s| s.name.clone())
                    .unwrap_or_default();
                self.exec(&["systemctl", "restart", &unit])
            } else {
                self.supervisorctl(&["restart", &node.supervisor_program])
            };
            assert!(
                out.status.success(),
                "restart of {} failed: {}{}",
                node.name,
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            probe::wait_for(std::time::Duration::from_secs(30), || {
                probe::get(node.http_port, "/web/health", &[])
                    .map(|r| r.status == 200)
                    .unwrap_or(false)
            })
            .unwrap_or_else(|| panic!("Odoo ({}) did not come back after restart", node.name));
        }
    }

    /// The Odoo instances of the lab (`instances`; older lab.json: `odoo` and `odoo2`).
    pub fn odoo_nodes(&self) -> Vec<&OdooInfo> {
        if !self.info.instances.is_empty() {
            return self.info.instances.iter().collect();
        }
        let mut v = vec![&self.info.odoo];
        if let Some(o2) = &self.info.odoo2 {
            v.push(o2);
        }
        v
    }

    /// Restarts one instance as its host would (`lab restart DIR NAME`: supervisorctl,
    /// systemctl, or SIGTERM + the same command line for one started by hand) and waits for its
    /// health. Panics when it fails.
    pub fn restart_instance(&self, name: &str) {
        expect_ok("restart", run_lab(&["restart", &self.dir_str(), name]));
    }

    /// The instance called `name` (see [`OdooInfo::name`]).
    pub fn instance(&self, name: &str) -> Option<&OdooInfo> {
        self.info.instances.iter().find(|o| o.name == name)
    }

    /// Where the machine reads a file that is at `path` on the lab host (as seen over SSH): the
    /// same path, or through the namespace's root in the systemd scenarios.
    pub fn host_path(&self, path: &Path) -> PathBuf {
        match &self.info.systemd {
            Some(s) => {
                let rel = path.strip_prefix("/").unwrap_or(path);
                s.host_root.join(rel)
            }
            None => path.to_path_buf(),
        }
    }

    /// Runs a command on the lab host (`lab exec`): inside the namespace of a systemd lab.
    pub fn exec(&self, cmd: &[&str]) -> Output {
        let mut args = vec!["exec".to_string(), self.dir_str(), "--".to_string()];
        args.extend(cmd.iter().map(|s| s.to_string()));
        let argv: Vec<&str> = args.iter().map(String::as_str).collect();
        run_lab(&argv)
    }

    /// A `postgres` connection string for the Odoo role over TCP (as odoo.conf has it).
    pub fn pg_conninfo(&self) -> String {
        let p = &self.info.postgres;
        format!(
            "host={} port={} user={} password={} dbname={}",
            p.host, p.port, p.user, p.password, p.db
        )
    }

    /// Keep the lab running after this value is dropped (prints nothing; `lab down DIR` later).
    pub fn keep(mut self) -> LabInfo {
        self.keep = true;
        self.info.clone()
    }

    /// Tears the lab down now (same as dropping it), panicking if `lab down` fails.
    pub fn down(mut self) {
        self.keep = true;
        expect_ok("down", run_lab(&["down", &self.dir_str()]));
    }

    fn dir_str(&self) -> String {
        self.info.dir.display().to_string()
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        if self.keep {
            return;
        }
        let out = run_lab(&["down", &self.dir_str()]);
        if !out.status.success() {
            eprintln!(
                "lab down {} failed: {}",
                self.dir_str(),
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
}

/// Scenario names as the script lists them.
/// What OpenSSH's sshd logs when a client's stream is broken: `Bad packet length …` and
/// `ssh_dispatch_run_fatal: … Connection corrupted`, `… message authentication code incorrect`,
/// or, for a packet whose contents do not add up, `channel_input_data: channel 1: get data:
/// unexpected bytes remain after decoding` (seen with the old transport).
pub const SSHD_SIGNS_OF_CORRUPTION: &[&str] = &[
    "bad packet length",
    "corrupt",
    "ssh_dispatch_run_fatal",
    "message authentication code incorrect",
    "unexpected bytes remain",
    "incomplete message",
    "fatal",
];

/// The lines of an OpenSSH server log that say the client corrupted its stream.
pub fn sshd_corruption_lines(log: &str) -> Vec<String> {
    log.lines()
        .filter(|l| {
            let l = l.to_ascii_lowercase();
            SSHD_SIGNS_OF_CORRUPTION.iter().any(|sign| l.contains(sign))
        })
        .map(str::to_string)
        .collect()
}

pub fn scenarios() -> Vec<String> {
    expect_ok("scenarios", run_lab(&["scenarios"]))
        .lines()
        .map(str::to_string)
        .collect()
}
