//! The test host is the project lab (`tests/lab/lab`, crate `osd-testlab`): a real Debian sshd
//! on a free loopback port with its own host key, root plus three logins (sudo without password,
//! sudo with password, no sudo), four key pairs authorized for all of them, and PostgreSQL with an
//! Odoo database. One healthy lab per test binary, started on first use; a watchdog shell runs
//! `lab down` when the test process exits (its stdin pipe closes), since statics are never
//! dropped. Needs root, like the lab.
#![allow(dead_code, clippy::zombie_processes)] // the watchdog lives as long as the test process

use std::path::{Path, PathBuf};
use std::process::{ChildStdin, Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use osd_remote::{Ask, ConnectOptions, Host, Prompt, Secret, Target};
use osd_testlab::LabInfo;

pub struct Lab {
    pub info: LabInfo,
    pub dir: PathBuf,
    pub host: String,
    pub port: u16,
    watchdog: Mutex<ChildStdin>,
}

static LAB: OnceLock<Lab> = OnceLock::new();

pub fn lab() -> &'static Lab {
    LAB.get_or_init(|| {
        let info = osd_testlab::Lab::up("healthy").keep();
        let script = format!(
            "read _ignored; /usr/bin/python3 '{}' down '{}' >/dev/null 2>&1",
            osd_testlab::lab_script_path().display(),
            info.dir.display()
        );
        let mut w = Command::new("sh")
            .arg("-c")
            .arg(script)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let watchdog = Mutex::new(w.stdin.take().unwrap());
        Lab {
            dir: info.dir.clone(),
            host: info.ssh.host.clone(),
            port: info.ssh.port,
            info,
            watchdog,
        }
    })
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn sh(script: &str) -> String {
    let out = Command::new("sh")
        .arg("-c")
        .arg(script)
        .output()
        .expect("sh");
    assert!(
        out.status.success(),
        "`{script}` failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

impl Lab {
    pub fn nopw(&self) -> &str {
        &self.info.users.sudo_nopasswd.login
    }
    pub fn pw(&self) -> &str {
        &self.info.users.sudo_passwd.login
    }
    pub fn nosudo(&self) -> &str {
        &self.info.users.nosudo.login
    }
    pub fn password_of(&self, login: &str) -> String {
        let u = &self.info.users;
        [&u.root, &u.sudo_nopasswd, &u.sudo_passwd, &u.nosudo]
            .into_iter()
            .find(|x| x.login == login)
            .and_then(|x| x.password.clone())
            .unwrap_or_else(|| panic!("the lab has no password for {login}"))
    }
    pub fn key_ed25519(&self) -> &Path {
        &self.info.keys.ed25519
    }
    pub fn key_ecdsa(&self) -> &Path {
        &self.info.keys.ecdsa
    }
    pub fn key_rsa(&self) -> &Path {
        &self.info.keys.rsa
    }
    pub fn key_with_passphrase(&self) -> (&Path, &str) {
        (
            &self.info.keys.ed25519_passphrase.path,
            &self.info.keys.ed25519_passphrase.passphrase,
        )
    }
    pub fn known_hosts_line(&self) -> &str {
        &self.info.ssh.known_hosts_line
    }

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
        o.known_hosts_files = vec![self.info.ssh.known_hosts_file.clone()];
        o.app_known_hosts_file = self.dir.join("osd-remote-tests-app-known-hosts-unused");
        o.connect_timeout = Duration::from_secs(10);
        o
    }

    pub fn connect(&self, user: &str) -> Host {
        Host::connect(
            &self.target(user),
            &self.opts_with_key(self.key_ed25519()),
            &osd_remote::NoAsk,
        )
        .unwrap_or_else(|e| panic!("connect {user}: {e}"))
    }

    pub fn root(&self) -> Host {
        self.connect("root")
    }

    /// The fingerprint `ssh-keygen -lf` prints for the lab's host key.
    pub fn host_key_fingerprint(&self) -> String {
        let out = sh(&format!(
            "ssh-keygen -lf '{}'",
            self.info.ssh.known_hosts_file.display()
        ));
        out.split_whitespace().nth(1).unwrap().to_string()
    }
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
