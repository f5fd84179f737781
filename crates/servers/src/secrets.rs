//! Remembered secrets: the SSH password, key passphrase or sudo password of a saved server, kept
//! in the operating system's keyring (the Secret Service on Linux — GNOME Keyring, KWallet —,
//! the Keychain on macOS, the Credential Manager on Windows) through the `keyring` crate, only
//! when the person ticked "Remember", and never in `servers.toml`.
//!
//! An entry is named after the server's id *and* where it logs in (`user@host:port`): a saved
//! server edited to point elsewhere does not send the old host's password to the new one.
//! ssh-agent stays the first choice: a remembered secret is only handed over when the server
//! asks for it (the connect path's `Ask`), after the agent and key files had their turn.

use crate::ServerEntry;
use osd_remote::{Prompt, Secret};

/// The keyring "service" every entry of this product is filed under.
pub const SERVICE: &str = "odoo-session-doctor";

/// Which secret of a server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretKind {
    SshPassword,
    KeyPassphrase,
    SudoPassword,
}

impl SecretKind {
    pub const ALL: [SecretKind; 3] = [
        SecretKind::SshPassword,
        SecretKind::KeyPassphrase,
        SecretKind::SudoPassword,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SecretKind::SshPassword => "ssh-password",
            SecretKind::KeyPassphrase => "key-passphrase",
            SecretKind::SudoPassword => "sudo-password",
        }
    }

    /// In a sentence: "the SSH password".
    pub fn words(self) -> &'static str {
        match self {
            SecretKind::SshPassword => "SSH password",
            SecretKind::KeyPassphrase => "key passphrase",
            SecretKind::SudoPassword => "sudo password",
        }
    }

    /// The kind of secret a connect prompt asks for.
    pub fn of(prompt: &Prompt) -> SecretKind {
        match prompt {
            Prompt::SshPassword { .. } => SecretKind::SshPassword,
            Prompt::KeyPassphrase { .. } => SecretKind::KeyPassphrase,
            Prompt::SudoPassword { .. } => SecretKind::SudoPassword,
        }
    }
}

/// The keyring could not be used (none running, locked and not unlocked, refused).
#[derive(Debug, thiserror::Error)]
#[error("The system keyring could not be used: {0}")]
pub struct KeyringError(String);

impl KeyringError {
    /// What to do about it.
    pub fn hint(&self) -> &'static str {
        "Type the secret when asked instead, or start and unlock the keyring (GNOME Keyring or \
         KWallet on Linux) and try again."
    }
}

impl From<keyring::Error> for KeyringError {
    fn from(e: keyring::Error) -> Self {
        KeyringError(e.to_string())
    }
}

/// The keyring entry of one secret of one server.
fn entry(server: &ServerEntry, kind: SecretKind) -> Result<keyring::Entry, KeyringError> {
    let account = format!(
        "{}/{}@{}:{}/{}",
        server.id,
        server.user,
        server.host,
        server.port,
        kind.as_str()
    );
    Ok(keyring::Entry::new(SERVICE, &account)?)
}

/// Stores `secret` for `server` (replacing one remembered before).
pub fn remember(
    server: &ServerEntry,
    kind: SecretKind,
    secret: &Secret,
) -> Result<(), KeyringError> {
    Ok(entry(server, kind)?.set_password(secret.expose())?)
}

/// The remembered secret, if any.
pub fn recall(server: &ServerEntry, kind: SecretKind) -> Result<Option<Secret>, KeyringError> {
    match entry(server, kind)?.get_password() {
        Ok(s) => Ok(Some(Secret::new(s))),
        Err(keyring::Error::NoEntry) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// Which secrets are remembered for `server` (for the form to offer "Forget").
pub fn remembered(server: &ServerEntry) -> Result<Vec<SecretKind>, KeyringError> {
    let mut kinds = Vec::new();
    for kind in SecretKind::ALL {
        if recall(server, kind)?.is_some() {
            kinds.push(kind);
        }
    }
    Ok(kinds)
}

/// Removes every remembered secret of `server`; true when there was one.
pub fn forget(server: &ServerEntry) -> Result<bool, KeyringError> {
    let mut any = false;
    for kind in SecretKind::ALL {
        match entry(server, kind)?.delete_credential() {
            Ok(()) => any = true,
            Err(keyring::Error::NoEntry) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(any)
}
