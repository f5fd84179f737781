//! Connection options shared by every subcommand, and how the CLI asks for secrets: from
//! environment variables in scripts, then a secret remembered in the system keyring for a saved
//! server (osd-servers' `secrets`), then at the terminal when there is one — never from
//! arguments, which `ps` shows to everybody. ssh-agent and key files come before all of them:
//! a secret is only asked for when the server wants one. A TARGET may name a server saved in
//! the app (osd-servers).

use clap::Args;
use osd_remote::{ConnectOptions, Host, Prompt, RemoteError, Secret, Target};
use osd_servers::secrets::{self, SecretKind};
use osd_servers::{Paths, ServerEntry, ServerStore};
use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::Mutex;

/// How SSH logs in and checks host keys: the same flags, with the same meaning, for one host
/// (`diagnose`, `apply`, ...) and for a fleet.
#[derive(Args, Clone, Default)]
pub struct SshArgs {
    /// A private key to log in with (ed25519, ECDSA, RSA), after ssh-agent's keys and before
    /// the defaults; for a fleet, after the inventory's own. Repeatable.
    #[arg(long, value_name = "FILE")]
    pub identity: Vec<PathBuf>,
    /// known_hosts file(s) to verify host keys against (default: ~/.ssh/known_hosts and the app's own).
    #[arg(long, value_name = "FILE")]
    pub known_hosts: Vec<PathBuf>,
    /// Trust an unknown host key (its fingerprint is printed) and remember it in the app's known_hosts.
    #[arg(long)]
    pub accept_new_host_key: bool,
}

#[derive(Args, Clone)]
pub struct ConnArgs {
    /// ssh://user@host[:port], user@host, a saved server (see `servers list`), an alias from
    /// ~/.ssh/config, or `local`.
    pub target: String,
    #[command(flatten)]
    pub ssh: SshArgs,
    /// Use sudo for what needs root (the default when not logged in as root; a password is asked for).
    #[arg(long)]
    pub sudo: bool,
    /// Remember the password or passphrase given (at the prompt or in OSD_*) in the system
    /// keyring once the login worked (saved servers only; never in servers.toml). Forget it
    /// with `servers forget NAME`.
    #[arg(long)]
    pub remember: bool,
    /// The saved server TARGET names, once looked up ([`ConnArgs::look_up_saved`]).
    #[arg(skip)]
    pub saved: Option<ServerEntry>,
}

/// [`ConnArgs`] for a command whose TARGET may be left out (`diagnose --from-facts`, `report
/// --from`). Not an `Option<ConnArgs>`: clap cannot tell whether a flattened struct that itself
/// flattens another ([`SshArgs`]) was given, so the TARGET's presence decides here.
#[derive(Args, Clone)]
pub struct MaybeConnArgs {
    /// ssh://user@host[:port], user@host, a saved server (see `servers list`), an alias from
    /// ~/.ssh/config, or `local`.
    pub target: Option<String>,
    #[command(flatten)]
    pub ssh: SshArgs,
    /// Use sudo for what needs root (the default when not logged in as root; a password is asked for).
    #[arg(long)]
    pub sudo: bool,
    /// Remember the password or passphrase given (at the prompt or in OSD_*) in the system
    /// keyring once the login worked (saved servers only; never in servers.toml). Forget it
    /// with `servers forget NAME`.
    #[arg(long)]
    pub remember: bool,
}

impl MaybeConnArgs {
    pub fn conn(&self) -> Option<ConnArgs> {
        Some(ConnArgs {
            target: self.target.clone()?,
            ssh: self.ssh.clone(),
            sudo: self.sudo,
            remember: self.remember,
            saved: None,
        })
    }
}

/// The environment variable a script gives a secret in.
fn env_var(prompt: &Prompt) -> &'static str {
    match prompt {
        Prompt::SshPassword { .. } => "OSD_SSH_PASSWORD",
        Prompt::KeyPassphrase { .. } => "OSD_KEY_PASSPHRASE",
        Prompt::SudoPassword { .. } => "OSD_SUDO_PASSWORD",
    }
}

/// Hands the connect path its secrets and keeps what it needs afterwards: which were given,
/// typed or in the environment (to remember them) and whether a remembered one was used (to say so when it is refused).
struct Asker<'a> {
    saved: Option<&'a ServerEntry>,
    /// Terminal prompts allowed (not for fleets, whose prompts would interleave).
    interactive: bool,
    typed: Mutex<Vec<(SecretKind, Secret)>>,
    recalled: Mutex<Vec<SecretKind>>,
}

impl Asker<'_> {
    fn ask(&self, prompt: &Prompt) -> Option<Secret> {
        let kind = SecretKind::of(prompt);
        if let Ok(v) = std::env::var(env_var(prompt)) {
            let s = Secret::new(v);
            self.typed.lock().unwrap().push((kind, s.clone()));
            return Some(s);
        }
        if let Some(server) = self.saved {
            // No keyring here (a server without a desktop session) is the common case, not an
            // error: the prompt below still works.
            if let Ok(Some(s)) = secrets::recall(server, kind) {
                self.recalled.lock().unwrap().push(kind);
                return Some(s);
            }
        }
        if self.interactive && std::io::stdin().is_terminal() {
            let s = rpassword::prompt_password(format!("{prompt}: "))
                .ok()
                .map(Secret::new)?;
            self.typed.lock().unwrap().push((kind, s.clone()));
            return Some(s);
        }
        None
    }
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
        self.connect_asking(true)
    }

    /// Like [`ConnArgs::connect`], but no terminal prompts: with several hosts connecting at
    /// once (`fleet`), they would interleave.
    pub fn connect_unattended(&self) -> Result<Host, RemoteError> {
        self.connect_asking(false)
    }

    fn connect_asking(&self, interactive: bool) -> Result<Host, RemoteError> {
        let (target, mut opts) = match &self.saved {
            Some(server) => osd_servers::connect_options(server, &Paths::from_env()),
            None => (Target::parse(&self.target)?, ConnectOptions::default()),
        };
        if self.saved.is_none() || !self.ssh.identity.is_empty() {
            opts.identity_files = self.ssh.identity.clone();
        }
        if !self.ssh.known_hosts.is_empty() {
            opts.known_hosts_files = self.ssh.known_hosts.clone();
        }
        opts.accept_new_host_key = self.ssh.accept_new_host_key;
        let asker = Asker {
            saved: self.saved.as_ref(),
            interactive,
            typed: Mutex::new(Vec::new()),
            recalled: Mutex::new(Vec::new()),
        };
        let host = Host::connect(&target, &opts, &|p: &Prompt| asker.ask(p));
        let host = match host {
            Ok(h) => h,
            Err(e) => {
                let refused = matches!(
                    e,
                    RemoteError::AuthFailed { .. }
                        | RemoteError::KeyPassphraseWrong { .. }
                        | RemoteError::SudoPasswordRejected { .. }
                );
                if refused && !asker.recalled.lock().unwrap().is_empty() {
                    if let Some(server) = &self.saved {
                        eprintln!(
                            "note: a secret remembered in the system keyring was used; if it is out of date: odoo-session-doctor servers forget {} --yes",
                            server.id
                        );
                    }
                }
                return Err(e);
            }
        };
        if self.remember {
            self.remember_typed(&asker);
        }
        if self.ssh.accept_new_host_key {
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

    /// After a login that worked: the secrets given for it go to the keyring.
    fn remember_typed(&self, asker: &Asker) {
        let Some(server) = &self.saved else {
            eprintln!("warning: --remember works for saved servers only (see `servers list`); nothing was remembered");
            return;
        };
        for (kind, secret) in asker.typed.lock().unwrap().iter() {
            match secrets::remember(server, *kind, secret) {
                Ok(()) => eprintln!(
                    "remembered the {} for {} in the system keyring",
                    kind.words(),
                    server.id
                ),
                Err(e) => eprintln!("warning: {e} — {}", e.hint()),
            }
        }
    }
}
