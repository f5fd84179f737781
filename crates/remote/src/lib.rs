//! osd-remote: a host to diagnose and fix — run commands, read, stat and atomically write files,
//! and reach its TCP ports — over SSH or on this machine, with sudo handled once for both.
//!
//! Layers, bottom up:
//! - [`Transport`]: `exec` a `/bin/sh` string and `tunnel` to a port. [`SshTransport`] (libssh2)
//!   and [`LocalTransport`] (std::process) are the two implementations.
//! - [`Host`]: everything the engine uses — [`Cmd`] with quoting, privilege (root, sudo with or
//!   without password), file reads, stat, atomic writes, tunnels, a round-trip counter.
//! - Connecting: [`Target`] parsing, `~/.ssh/config` aliases ([`sshconfig`]), host-key checks
//!   against known_hosts files, and login by agent, key files or password ([`ConnectOptions`]);
//!   secrets come from the options or from an [`Ask`] callback and never reach a message or log.

// RemoteError carries the context a person needs (host, file, both fingerprints...); errors are
// rare and never on a hot path, so its size does not matter.
#![allow(clippy::result_large_err)]

mod error;
mod host;
mod local;
mod secret;
pub mod ssh;
pub mod sshconfig;
mod target;
mod transport;

use std::path::PathBuf;
use std::time::Duration;

pub use error::RemoteError;
pub use host::{
    quote, Cmd, FileKind, FileStat, Host, NewFileMode, Output, Privilege, DEFAULT_TIMEOUT,
};
pub use local::LocalTransport;
pub use secret::{Ask, NoAsk, Prompt, Secret};
pub use ssh::hostkey::{accept_host_key, fingerprint, known_hosts_name, HostKeyInfo};
pub use ssh::{SshSpec, SshTransport};
pub use target::Target;
pub use transport::{ExecOutput, Transport, Tunnel};

/// How to connect and log in. `Default` behaves like `ssh`: the agent, `~/.ssh/config`,
/// `~/.ssh/known_hosts` and the usual key files. [`ConnectOptions::bare`] uses none of them.
#[derive(Debug, Clone)]
pub struct ConnectOptions {
    /// Key files to try first (before the SSH config's and the defaults).
    pub identity_files: Vec<PathBuf>,
    /// Tried after the explicit and configured ones when they exist
    /// (default `~/.ssh/id_ed25519`, `id_ecdsa`, `id_rsa`).
    pub default_identity_files: Vec<PathBuf>,
    /// Known-hosts files to check host keys against (default `~/.ssh/known_hosts`).
    pub known_hosts_files: Vec<PathBuf>,
    /// The app's own known-hosts file: also checked, and where accepted keys are stored
    /// (default `<config dir>/odoo-session-doctor/known_hosts`).
    pub app_known_hosts_file: PathBuf,
    /// The SSH client config to resolve aliases with (default `~/.ssh/config`); `None`: none.
    pub ssh_config_file: Option<PathBuf>,
    /// Try keys held by ssh-agent.
    pub use_agent: bool,
    /// The agent's socket; `None`: `$SSH_AUTH_SOCK`.
    pub agent_socket: Option<PathBuf>,
    /// Store an unknown host key in the app's file and go on (like `StrictHostKeyChecking
    /// accept-new`). A changed key is refused regardless.
    pub accept_new_host_key: bool,
    pub password: Option<Secret>,
    pub key_passphrase: Option<Secret>,
    pub sudo_password: Option<Secret>,
    /// For the TCP connect and each step of the SSH handshake and login.
    pub connect_timeout: Duration,
}

impl Default for ConnectOptions {
    fn default() -> Self {
        let home = dirs::home_dir().unwrap_or_else(|| PathBuf::from("/"));
        let ssh = home.join(".ssh");
        ConnectOptions {
            identity_files: Vec::new(),
            default_identity_files: vec![
                ssh.join("id_ed25519"),
                ssh.join("id_ecdsa"),
                ssh.join("id_rsa"),
            ],
            known_hosts_files: vec![ssh.join("known_hosts")],
            app_known_hosts_file: default_app_known_hosts_file(),
            ssh_config_file: Some(ssh.join("config")),
            use_agent: true,
            agent_socket: None,
            accept_new_host_key: false,
            password: None,
            key_passphrase: None,
            sudo_password: None,
            connect_timeout: Duration::from_secs(10),
        }
    }
}

impl ConnectOptions {
    /// Nothing implicit: no agent, no default keys, no SSH config, no `~/.ssh/known_hosts`
    /// (only the app's file). What scripts and tests start from.
    pub fn bare() -> Self {
        ConnectOptions {
            default_identity_files: Vec::new(),
            known_hosts_files: Vec::new(),
            ssh_config_file: None,
            use_agent: false,
            ..ConnectOptions::default()
        }
    }

    pub(crate) fn all_known_hosts_files(&self) -> Vec<PathBuf> {
        let mut files = self.known_hosts_files.clone();
        if !files.contains(&self.app_known_hosts_file) {
            files.push(self.app_known_hosts_file.clone());
        }
        files
    }
}

/// `<config dir>/odoo-session-doctor/known_hosts` (e.g. `~/.config/odoo-session-doctor/known_hosts`).
pub fn default_app_known_hosts_file() -> PathBuf {
    dirs::config_dir()
        .unwrap_or_else(|| PathBuf::from("."))
        .join("odoo-session-doctor")
        .join("known_hosts")
}

/// Where an SSH target really goes after `~/.ssh/config` (`None` for the local target): the
/// GUI can show "prod → deploy@10.0.0.5:2222" before connecting.
pub fn resolve_target(
    target: &Target,
    opts: &ConnectOptions,
) -> Result<Option<SshSpec>, RemoteError> {
    let Target::Ssh { user, host, port } = target else {
        return Ok(None);
    };
    let ctx = sshconfig::Context::from_env();
    let cfg = match &opts.ssh_config_file {
        Some(path) => sshconfig::SshConfig::load(path, &ctx)?.resolve(host, &ctx)?,
        None => sshconfig::HostConfig::default(),
    };
    for keyword in &cfg.unsupported {
        log::warn!("the SSH config sets {keyword} for {host}; it is not supported and is ignored");
    }
    Ok(Some(SshSpec {
        host: cfg.hostname.clone().unwrap_or_else(|| host.clone()),
        port: port.or(cfg.port).unwrap_or(22),
        user: user
            .clone()
            .or(cfg.user.clone())
            .unwrap_or_else(target::local_user),
        config_identity_files: cfg.identity_files,
    }))
}
