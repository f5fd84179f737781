//! Connection options shared by every subcommand, and how the CLI asks for secrets: at the
//! terminal when there is one, else from environment variables (never from arguments, which
//! `ps` shows to everybody).

use clap::Args;
use osd_remote::{ConnectOptions, Host, Prompt, RemoteError, Secret, Target};
use std::io::IsTerminal;
use std::path::PathBuf;

#[derive(Args, Clone)]
pub struct ConnArgs {
    /// ssh://user@host[:port], user@host, an alias from ~/.ssh/config, or `local`.
    pub target: String,
    /// A private key to log in with (ed25519, ECDSA, RSA; a passphrase is asked for).
    #[arg(long, value_name = "FILE")]
    pub identity: Vec<PathBuf>,
    /// known_hosts file(s) to verify the host key against (default: ~/.ssh/known_hosts and the app's own).
    #[arg(long, value_name = "FILE")]
    pub known_hosts: Vec<PathBuf>,
    /// Trust an unknown host key (its fingerprint is printed) and remember it in the app's known_hosts.
    #[arg(long)]
    pub accept_new_host_key: bool,
    /// Use sudo for what needs root (the default when not logged in as root; a password is asked for).
    #[arg(long)]
    pub sudo: bool,
}

/// Terminal prompts, or OSD_SSH_PASSWORD / OSD_KEY_PASSPHRASE / OSD_SUDO_PASSWORD in scripts.
fn ask(prompt: &Prompt) -> Option<Secret> {
    let var = match prompt {
        Prompt::SshPassword { .. } => "OSD_SSH_PASSWORD",
        Prompt::KeyPassphrase { .. } => "OSD_KEY_PASSPHRASE",
        Prompt::SudoPassword { .. } => "OSD_SUDO_PASSWORD",
    };
    if let Ok(v) = std::env::var(var) {
        return Some(Secret::new(v));
    }
    if std::io::stdin().is_terminal() {
        return rpassword::prompt_password(format!("{prompt}: "))
            .ok()
            .map(Secret::new);
    }
    None
}

impl ConnArgs {
    pub fn connect(&self) -> Result<Host, RemoteError> {
        let target = Target::parse(&self.target)?;
        let mut opts = ConnectOptions::default();
        opts.identity_files = self.identity.clone();
        if !self.known_hosts.is_empty() {
            opts.known_hosts_files = self.known_hosts.clone();
        }
        opts.accept_new_host_key = self.accept_new_host_key;
        let host = Host::connect(&target, &opts, &ask)?;
        if self.accept_new_host_key {
            if let Some(k) = host.host_key() {
                eprintln!(
                    "host key of {}: {} {}",
                    host.name(),
                    k.key_type,
                    k.fingerprint
                );
            }
        }
        Ok(host)
    }
}
