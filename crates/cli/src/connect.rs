//! Connection options shared by every subcommand, and how the CLI asks for secrets: at the
//! terminal when there is one, else from environment variables (never from arguments, which
//! `ps` shows to everybody). A TARGET may also name a server saved in the app (osd-servers).

use clap::Args;
use osd_remote::{ConnectOptions, Host, Prompt, RemoteError, Secret, Target};
use osd_servers::{Paths, ServerEntry, ServerStore};
use std::io::IsTerminal;
use std::path::PathBuf;

#[derive(Args, Clone)]
pub struct ConnArgs {
    /// ssh://user@host[:port], user@host, a saved server (see `servers list`), an alias from
    /// ~/.ssh/config, or `local`.
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
    /// The saved server TARGET names, once looked up ([`ConnArgs::look_up_saved`]).
    #[arg(skip)]
    pub saved: Option<ServerEntry>,
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
    /// Looks TARGET up among the saved servers: a name without `@`, `://` or `local` may be
    /// one (else it is an SSH alias). A saved-servers file that cannot be read is a warning,
    /// not a reason to refuse a target that was never meant to be in it.
    pub fn look_up_saved(&mut self) {
        let t = self.target.as_str();
        if t == "local" || t.contains('@') || t.contains("://") {
            return;
        }
        let store = ServerStore::new(Paths::from_env().servers_file());
        match store.find(t) {
            Ok(found) => self.saved = found,
            Err(e) => eprintln!("warning: {e} ({})", e.hint()),
        }
    }

    pub fn connect(&self) -> Result<Host, RemoteError> {
        self.connect_asking(&ask)
    }

    /// Like [`ConnArgs::connect`], but secrets only from the environment: with several hosts
    /// connecting at once (`fleet`), terminal prompts would interleave.
    pub fn connect_unattended(&self) -> Result<Host, RemoteError> {
        self.connect_asking(&|p: &Prompt| {
            let var = match p {
                Prompt::SshPassword { .. } => "OSD_SSH_PASSWORD",
                Prompt::KeyPassphrase { .. } => "OSD_KEY_PASSPHRASE",
                Prompt::SudoPassword { .. } => "OSD_SUDO_PASSWORD",
            };
            std::env::var(var).ok().map(Secret::new)
        })
    }

    fn connect_asking(
        &self,
        ask: &(dyn Fn(&Prompt) -> Option<Secret> + Sync),
    ) -> Result<Host, RemoteError> {
        let (target, mut opts) = match &self.saved {
            Some(server) => osd_servers::connect_options(server, &Paths::from_env()),
            None => (Target::parse(&self.target)?, ConnectOptions::default()),
        };
        if self.saved.is_none() || !self.identity.is_empty() {
            opts.identity_files = self.identity.clone();
        }
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
