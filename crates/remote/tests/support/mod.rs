//! The test host: a throwaway sshd on a free loopback port with its own host key, three
//! non-root logins (sudo without password, sudo with password, no sudo) plus root, four key
//! pairs authorized for all of them, and (on demand) a throwaway PostgreSQL with an Odoo-like
//! `ir_config_parameter` table. Shaped like the project lab's `lab.json` so the tests can move
//! to `osd-testlab` unchanged.
//!
//! One per test binary, started on first use; a watchdog shell kills the servers and removes the
//! directory when the test process exits (its stdin pipe closes). Needs root (useradd, sshd).
#![allow(dead_code, clippy::zombie_processes)] // servers live as long as the test process

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use osd_remote::{Ask, ConnectOptions, Host, Prompt, Secret, Target};

pub struct User {
    pub login: &'static str,
    pub password: String,
}

pub struct Keys {
    pub ed25519: PathBuf,
    pub ed25519_passphrase: PathBuf,
    pub passphrase: &'static str,
    pub ecdsa: PathBuf,
    pub rsa: PathBuf,
}

pub struct Lab {
    pub dir: PathBuf,
    pub host: &'static str,
    pub port: u16,
    /// `[127.0.0.1]:port ssh-ed25519 AAAA...`
    pub known_hosts_line: String,
    /// A known_hosts file holding just that line.
    pub known_hosts_file: PathBuf,
    pub host_pub: PathBuf,
    pub root: User,
    pub sudo_nopasswd: User,
    pub sudo_passwd: User,
    pub nosudo: User,
    pub keys: Keys,
    watchdog: Mutex<ChildStdin>,
}

pub struct Postgres {
    pub port: u16,
    pub db: &'static str,
    pub user: &'static str,
    pub password: &'static str,
}

static LAB: OnceLock<Lab> = OnceLock::new();
static PG: OnceLock<Postgres> = OnceLock::new();

pub fn lab() -> &'static Lab {
    LAB.get_or_init(start_lab)
}

fn sh(script: &str) -> String {
    let out = Command::new("sh").arg("-c").arg(script).output().expect("sh");
    assert!(out.status.success(), "`{script}` failed: {}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn start_lab() -> Lab {
    let dir = tempfile::Builder::new().prefix("osd-remote-lab-").tempdir().unwrap().keep();
    let d = dir.display().to_string();
    std::fs::set_permissions(&dir, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();

    // Logins. Passwords are per run; sudo rules in /etc/sudoers.d.
    let pw = |name: &str| format!("pw-{name}-{}", std::process::id());
    let users = [("osdrt-nopw", Some("NOPASSWD: ALL")), ("osdrt-pw", Some("ALL")), ("osdrt-nosudo", None)];
    for (name, rule) in users {
        sh(&format!("id {name} >/dev/null 2>&1 || useradd -m -s /bin/sh {name}; echo '{name}:{}' | chpasswd", pw(name)));
        match rule {
            Some(rule) => sh(&format!("echo '{name} ALL=(ALL) {rule}' > /etc/sudoers.d/{name} && chmod 440 /etc/sudoers.d/{name}")),
            None => sh(&format!("rm -f /etc/sudoers.d/{name}")),
        };
    }

    // Keys.
    let keygen = |name: &str, args: &str| {
        sh(&format!("ssh-keygen -q {args} -C {name} -f {d}/{name}"));
        dir.join(name)
    };
    let keys = Keys {
        ed25519: keygen("id_ed25519", "-t ed25519 -N ''"),
        ed25519_passphrase: keygen("id_ed25519_pp", "-t ed25519 -N 'open sesame'"),
        passphrase: "open sesame",
        ecdsa: keygen("id_ecdsa", "-t ecdsa -b 256 -N ''"),
        rsa: keygen("id_rsa", "-t rsa -b 2048 -m PEM -N ''"),
    };
    sh(&format!("cat {d}/id_ed25519.pub {d}/id_ed25519_pp.pub {d}/id_ecdsa.pub {d}/id_rsa.pub > {d}/authorized_keys; chmod 644 {d}/authorized_keys"));
    sh(&format!("ssh-keygen -q -t ed25519 -N '' -C lab-host -f {d}/ssh_host_ed25519_key"));

    let port = free_port();
    std::fs::write(
        dir.join("sshd_config"),
        format!(
            "Port {port}\nListenAddress 127.0.0.1\nHostKey {d}/ssh_host_ed25519_key\nPidFile {d}/sshd.pid\n\
             UsePAM no\nStrictModes no\nAuthorizedKeysFile {d}/authorized_keys\nPasswordAuthentication yes\n\
             KbdInteractiveAuthentication no\nPermitRootLogin yes\nMaxAuthTries 30\nMaxSessions 50\n\
             Subsystem sftp internal-sftp\nLogLevel INFO\n"
        ),
    )
    .unwrap();
    std::fs::create_dir_all("/run/sshd").unwrap();
    let sshd = which("sshd").unwrap_or_else(|| PathBuf::from("/usr/sbin/sshd"));
    let mut child = Command::new(&sshd)
        .args(["-D", "-e", "-f"])
        .arg(dir.join("sshd_config"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start sshd (is openssh-server installed?)");
    // Ready when sshd says it listens; keep draining its log afterwards into a file.
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let mut log = std::fs::File::create(dir.join("sshd.log")).unwrap();
    loop {
        let line = lines.next().expect("sshd exited before listening").unwrap();
        writeln!(log, "{line}").unwrap();
        if line.contains("Server listening on") {
            break;
        }
    }
    std::thread::spawn(move || {
        for line in lines.map_while(Result::ok) {
            let _ = writeln!(log, "{line}");
        }
    });
    let watchdog = spawn_watchdog(&child, &dir);

    let pub_line = std::fs::read_to_string(dir.join("ssh_host_ed25519_key.pub")).unwrap();
    let mut f = pub_line.split_whitespace();
    let known_hosts_line = format!("[127.0.0.1]:{port} {} {}", f.next().unwrap(), f.next().unwrap());
    let known_hosts_file = dir.join("known_hosts");
    std::fs::write(&known_hosts_file, format!("{known_hosts_line}\n")).unwrap();

    Lab {
        host: "127.0.0.1",
        port,
        known_hosts_line,
        known_hosts_file,
        host_pub: dir.join("ssh_host_ed25519_key.pub"),
        root: User { login: "root", password: String::new() },
        sudo_nopasswd: User { login: "osdrt-nopw", password: pw("osdrt-nopw") },
        sudo_passwd: User { login: "osdrt-pw", password: pw("osdrt-pw") },
        nosudo: User { login: "osdrt-nosudo", password: pw("osdrt-nosudo") },
        keys,
        watchdog: Mutex::new(watchdog),
        dir,
    }
}

/// A shell that waits for its stdin to close (this process ending), then kills `child`.
fn spawn_watchdog(child: &Child, dir: &Path) -> ChildStdin {
    let script = format!("read _ignored; kill {} 2>/dev/null; rm -rf '{}'", child.id(), dir.display());
    spawn_watchdog_script(&script)
}

fn spawn_watchdog_script(script: &str) -> ChildStdin {
    let mut w = Command::new("sh").arg("-c").arg(script).stdin(Stdio::piped()).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
    w.stdin.take().unwrap()
}

pub fn which(name: &str) -> Option<PathBuf> {
    for dir in ["/usr/sbin", "/usr/bin", "/sbin", "/bin", "/usr/local/bin", "/usr/local/sbin"] {
        let p = Path::new(dir).join(name);
        if p.exists() {
            return Some(p);
        }
    }
    None
}

impl Lab {
    pub fn target(&self, user: &str) -> Target {
        Target::parse(&format!("{user}@{}:{}", self.host, self.port)).unwrap()
    }

    /// Options that trust the lab's host key and use one key file, nothing from ~/.ssh.
    pub fn opts_with_key(&self, key: &Path) -> ConnectOptions {
        let mut o = self.opts_bare();
        o.identity_files = vec![key.to_path_buf()];
        o
    }

    /// Trusts the lab's host key; no credentials.
    pub fn opts_bare(&self) -> ConnectOptions {
        let mut o = ConnectOptions::bare();
        o.known_hosts_files = vec![self.known_hosts_file.clone()];
        o.app_known_hosts_file = self.dir.join("app_known_hosts_unused");
        o.connect_timeout = Duration::from_secs(10);
        o
    }

    pub fn connect(&self, user: &str) -> Host {
        Host::connect(&self.target(user), &self.opts_with_key(&self.keys.ed25519), &osd_remote::NoAsk).unwrap_or_else(|e| panic!("connect {user}: {e}"))
    }

    pub fn root(&self) -> Host {
        self.connect("root")
    }

    /// What `ssh-keygen -lf` prints for the host key: (fingerprint, type label).
    pub fn host_key_fingerprint(&self) -> String {
        let out = sh(&format!("ssh-keygen -lf '{}'", self.host_pub.display()));
        out.split_whitespace().nth(1).unwrap().to_string()
    }

    pub fn postgres(&self) -> &'static Postgres {
        PG.get_or_init(|| start_postgres(self))
    }
}

fn start_postgres(lab: &Lab) -> Postgres {
    let data = lab.dir.join("pgdata");
    let sock = lab.dir.join("pgsock");
    std::fs::create_dir_all(&sock).unwrap();
    sh(&format!("chown postgres '{}' && mkdir -p '{}' && chown postgres '{}'", sock.display(), data.display(), data.display()));
    let bin = ["/usr/lib/postgresql/17/bin", "/usr/lib/postgresql/16/bin", "/usr/lib/postgresql/15/bin"]
        .into_iter()
        .find(|b| Path::new(b).join("initdb").exists())
        .expect("PostgreSQL server binaries (package postgresql)");
    let port = free_port();
    let pwfile = lab.dir.join("pgpw");
    std::fs::write(&pwfile, "odoo-pw\n").unwrap();
    sh(&format!("chown postgres '{}'", pwfile.display()));
    sh(&format!(
        "runuser -u postgres -- {bin}/initdb -D '{data}' -U odoo --pwfile='{pw}' -A scram-sha-256 >/dev/null && \
         runuser -u postgres -- {bin}/pg_ctl -D '{data}' -w -l '{data}/log' -o \"-c listen_addresses=127.0.0.1 -c port={port} -k '{sock}' -c fsync=off\" start >/dev/null",
        data = data.display(),
        pw = pwfile.display(),
        sock = sock.display()
    ));
    let stop = format!("read _ignored; runuser -u postgres -- {bin}/pg_ctl -D '{}' -m immediate stop", data.display());
    // Leaked on purpose: lives as long as the test process.
    std::mem::forget(spawn_watchdog_script(&stop));
    sh(&format!(
        "PGPASSWORD=odoo-pw psql -q -h 127.0.0.1 -p {port} -U odoo -d postgres -c 'CREATE DATABASE lab' && \
         PGPASSWORD=odoo-pw psql -q -h 127.0.0.1 -p {port} -U odoo -d lab -c \"CREATE TABLE ir_config_parameter (id serial PRIMARY KEY, key varchar NOT NULL UNIQUE, value text NOT NULL, create_uid int, create_date timestamp, write_uid int, write_date timestamp); INSERT INTO ir_config_parameter (key, value) VALUES ('web.base.url', 'http://localhost:8069'), ('sessions.max_inactivity_seconds', '604800')\""
    ));
    Postgres { port, db: "lab", user: "odoo", password: "odoo-pw" }
}

/// An `Ask` with canned answers that records what was asked.
#[derive(Default)]
pub struct Script {
    pub ssh_password: Option<String>,
    pub passphrase: Option<String>,
    pub sudo_password: Option<String>,
    pub asked: Mutex<Vec<Prompt>>,
}

impl Ask for Script {
    fn secret(&self, prompt: &Prompt) -> Option<Secret> {
        self.asked.lock().unwrap().push(prompt.clone());
        let answer = match prompt {
            Prompt::SshPassword { .. } => &self.ssh_password,
            Prompt::KeyPassphrase { .. } => &self.passphrase,
            Prompt::SudoPassword { .. } => &self.sudo_password,
        };
        answer.as_deref().map(Secret::new)
    }
}

impl Script {
    pub fn asked(&self) -> Vec<Prompt> {
        self.asked.lock().unwrap().clone()
    }
}
