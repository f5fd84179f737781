//! SSH user authentication, in the order ssh uses: agent, key files, password.
//! Runs only after the host key was accepted: nothing secret is sent to an unverified server.

use std::path::{Path, PathBuf};

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use ssh2::{ErrorCode, Session};

use crate::secret::{Ask, Prompt, Secret};
use crate::ConnectOptions;
use crate::RemoteError;

/// libssh2: a key file could not be read or decrypted.
const LIBSSH2_ERROR_FILE: i32 = -16;

pub(crate) struct AuthRequest<'a> {
    pub sess: &'a Session,
    pub user: &'a str,
    pub host: &'a str,
    /// The server as prompts name it (`host` or `host:port`).
    pub label: &'a str,
    pub opts: &'a ConnectOptions,
    pub ask: &'a dyn Ask,
    /// From the SSH config for this host (after the explicit ones in the options).
    pub config_identities: &'a [PathBuf],
}

pub(crate) fn authenticate(req: &AuthRequest<'_>) -> Result<(), RemoteError> {
    let AuthRequest {
        sess,
        user,
        host,
        opts,
        ask,
        ..
    } = *req;
    let fail = |e: ssh2::Error| RemoteError::Ssh {
        host: host.to_string(),
        action: "asking which login methods it accepts".into(),
        reason: e.to_string(),
    };
    let methods = sess.auth_methods(user).map_err(fail)?.to_string();
    if sess.authenticated() {
        return Ok(()); // "none" authentication was accepted
    }
    let offers = |m: &str| methods.split(',').any(|x| x == m);
    let mut tried: Vec<String> = Vec::new();
    let mut wrong_passphrase: Option<PathBuf> = None;

    if offers("publickey") && opts.use_agent {
        if let Some(note) = try_agent(sess, user, opts) {
            if sess.authenticated() {
                return Ok(());
            }
            tried.push(note);
        }
    }

    if offers("publickey") {
        for (path, explicit) in identity_candidates(req) {
            if !path.exists() {
                if explicit {
                    tried.push(format!("key {} (no such file)", path.display()));
                }
                continue;
            }
            let encrypted = match key_is_encrypted(&path) {
                Ok(enc) => enc,
                Err(reason) => {
                    tried.push(format!("key {} ({reason})", path.display()));
                    continue;
                }
            };
            let passphrase: Option<Secret> = if encrypted {
                match opts
                    .key_passphrase
                    .clone()
                    .or_else(|| ask.secret(&Prompt::KeyPassphrase { path: path.clone() }))
                {
                    Some(p) => Some(p),
                    None => {
                        tried.push(format!("key {} (passphrase not given)", path.display()));
                        continue;
                    }
                }
            } else {
                None
            };
            match sess.userauth_pubkey_file(
                user,
                None,
                &path,
                passphrase.as_ref().map(|p| p.expose()),
            ) {
                Ok(()) if sess.authenticated() => return Ok(()),
                Ok(()) => tried.push(format!("key {}", path.display())),
                Err(e) if encrypted && e.code() == ErrorCode::Session(LIBSSH2_ERROR_FILE) => {
                    tried.push(format!("key {} (wrong passphrase)", path.display()));
                    wrong_passphrase.get_or_insert(path.clone());
                }
                Err(e) if e.code() == ErrorCode::Session(LIBSSH2_ERROR_FILE) => {
                    tried.push(format!(
                        "key {} (unreadable: {})",
                        path.display(),
                        e.message()
                    ));
                }
                Err(_) => tried.push(format!("key {}", path.display())),
            }
        }
    }

    let password_ok = offers("password");
    let kbd_ok = offers("keyboard-interactive");
    if password_ok || kbd_ok {
        let password = opts.password.clone().or_else(|| {
            ask.secret(&Prompt::SshPassword {
                user: user.to_string(),
                host: req.label.to_string(),
            })
        });
        match password {
            Some(pw) => {
                if password_ok
                    && sess.userauth_password(user, pw.expose()).is_ok()
                    && sess.authenticated()
                {
                    return Ok(());
                }
                if !password_ok && kbd_ok {
                    let mut prompter = PasswordPrompter { password: &pw };
                    if sess
                        .userauth_keyboard_interactive(user, &mut prompter)
                        .is_ok()
                        && sess.authenticated()
                    {
                        return Ok(());
                    }
                }
                tried.push("password".into());
            }
            None => tried.push("password (not given)".into()),
        }
    }

    if let Some(path) = wrong_passphrase {
        return Err(RemoteError::KeyPassphraseWrong { path });
    }
    if tried.is_empty() {
        tried.push(format!("nothing usable: the server offers only {methods}"));
    }
    Err(RemoteError::AuthFailed {
        host: host.to_string(),
        user: user.to_string(),
        tried,
    })
}

/// Tries every key the agent holds. `None` when no agent is reachable.
fn try_agent(sess: &Session, user: &str, opts: &ConnectOptions) -> Option<String> {
    let mut agent = sess.agent().ok()?;
    if let Some(sock) = &opts.agent_socket {
        agent.set_identity_path(sock).ok()?;
    } else if std::env::var_os("SSH_AUTH_SOCK").is_none() {
        return None;
    }
    if agent.connect().is_err() {
        return Some("ssh-agent (not reachable)".into());
    }
    let _ = agent.list_identities();
    let identities = agent.identities().unwrap_or_default();
    for identity in &identities {
        if agent.userauth(user, identity).is_ok() && sess.authenticated() {
            let _ = agent.disconnect();
            return Some("ssh-agent".into());
        }
    }
    let _ = agent.disconnect();
    Some(format!(
        "ssh-agent ({} key{})",
        identities.len(),
        if identities.len() == 1 { "" } else { "s" }
    ))
}

/// Explicit files first, then the SSH config's, then the usual defaults; each once.
fn identity_candidates(req: &AuthRequest<'_>) -> Vec<(PathBuf, bool)> {
    let mut out: Vec<(PathBuf, bool)> = Vec::new();
    let explicit = req.opts.identity_files.iter().map(|p| (p.clone(), true));
    let config = req.config_identities.iter().map(|p| (p.clone(), true));
    let defaults = req
        .opts
        .default_identity_files
        .iter()
        .map(|p| (p.clone(), false));
    for (path, explicit) in explicit.chain(config).chain(defaults) {
        if !out.iter().any(|(p, _)| p == &path) {
            out.push((path, explicit));
        }
    }
    out
}

/// Whether a private key file needs a passphrase (OpenSSH format: cipher not "none"; PEM:
/// `Proc-Type: 4,ENCRYPTED` or PKCS#8 `ENCRYPTED PRIVATE KEY`).
pub(crate) fn key_is_encrypted(path: &Path) -> Result<bool, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("unreadable: {e}"))?;
    if text.contains("-----BEGIN OPENSSH PRIVATE KEY-----") {
        let body: String = text
            .lines()
            .skip_while(|l| !l.starts_with("-----BEGIN"))
            .skip(1)
            .take_while(|l| !l.starts_with("-----END"))
            .collect::<Vec<_>>()
            .concat();
        let raw = STANDARD
            .decode(body.trim())
            .map_err(|_| "not a valid OpenSSH key file".to_string())?;
        let magic = b"openssh-key-v1\0";
        if !raw.starts_with(magic) || raw.len() < magic.len() + 4 {
            return Err("not a valid OpenSSH key file".into());
        }
        let len =
            u32::from_be_bytes(raw[magic.len()..magic.len() + 4].try_into().unwrap()) as usize;
        let cipher = raw
            .get(magic.len() + 4..magic.len() + 4 + len)
            .ok_or("not a valid OpenSSH key file")?;
        return Ok(cipher != b"none");
    }
    if text.contains("-----BEGIN") && text.contains("PRIVATE KEY-----") {
        return Ok(
            text.contains("Proc-Type: 4,ENCRYPTED") || text.contains("BEGIN ENCRYPTED PRIVATE KEY")
        );
    }
    Err("not a private key file".into())
}

/// Answers every keyboard-interactive prompt with the password (PAM's "Password:").
struct PasswordPrompter<'a> {
    password: &'a Secret,
}

impl ssh2::KeyboardInteractivePrompt for PasswordPrompter<'_> {
    fn prompt<'b>(
        &mut self,
        _username: &str,
        _instructions: &str,
        prompts: &[ssh2::Prompt<'b>],
    ) -> Vec<String> {
        prompts
            .iter()
            .map(|_| self.password.expose().to_string())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keygen(dir: &Path, name: &str, args: &[&str]) -> PathBuf {
        let path = dir.join(name);
        let ok = std::process::Command::new("ssh-keygen")
            .args(["-q", "-C", "t", "-f"])
            .arg(&path)
            .args(args)
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        assert!(ok, "ssh-keygen {args:?}");
        path
    }

    #[test]
    fn detects_encrypted_keys_in_every_format() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        assert!(!key_is_encrypted(&keygen(d, "plain", &["-t", "ed25519", "-N", ""])).unwrap());
        assert!(
            key_is_encrypted(&keygen(d, "locked", &["-t", "ed25519", "-N", "secret-pw"])).unwrap()
        );
        assert!(!key_is_encrypted(&keygen(
            d,
            "pem",
            &["-t", "rsa", "-b", "1024", "-m", "PEM", "-N", ""]
        ))
        .unwrap());
        assert!(key_is_encrypted(&keygen(
            d,
            "pem-locked",
            &["-t", "rsa", "-b", "1024", "-m", "PEM", "-N", "secret-pw"]
        ))
        .unwrap());
        assert!(key_is_encrypted(&keygen(
            d,
            "pkcs8-locked",
            &["-t", "ecdsa", "-m", "PKCS8", "-N", "secret-pw"]
        ))
        .unwrap());
        assert!(
            key_is_encrypted(&d.join("plain.pub")).is_err(),
            "a public key is not a private key"
        );
        assert!(key_is_encrypted(&d.join("missing")).is_err());
    }
}
