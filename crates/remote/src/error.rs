//! One error type for everything this crate does. Every message is a plain sentence that names the
//! host and the file or command involved and says what to do next; none contains a secret
//! (passwords and passphrases only ever travel on stdin or to libssh2, never into a message).

use std::path::PathBuf;
use std::time::Duration;

/// Everything that can go wrong talking to a host.
#[derive(Debug, thiserror::Error)]
pub enum RemoteError {
    /// The target string could not be understood.
    #[error("\"{target}\" is not a host to connect to: {reason} — write user@host[:port], ssh://user@host[:port], a Host alias from ~/.ssh/config, or \"local\"")]
    BadTarget { target: String, reason: String },

    /// `~/.ssh/config` (or a file it includes) could not be read or has a value we cannot use.
    #[error("cannot use the SSH config {path} (line {line}): {reason}")]
    SshConfig {
        path: PathBuf,
        line: usize,
        reason: String,
    },

    /// No TCP connection could be made.
    #[error("cannot reach {host}:{port}: {reason} — is sshd running and the port right?")]
    Unreachable {
        host: String,
        port: u16,
        reason: String,
    },

    /// The SSH handshake (key exchange) failed.
    #[error("the SSH handshake with {host}:{port} failed: {reason} — is this an SSH server, and does it accept a modern client?")]
    Handshake {
        host: String,
        port: u16,
        reason: String,
    },

    /// The server's host key is in none of the known-hosts files. Nothing was sent to it.
    #[error("the {key_type} host key of {host}:{port} is not known yet (fingerprint {fingerprint}); compare it with `ssh-keygen -lf` of the server's key and accept it to continue")]
    UnknownHostKey {
        host: String,
        port: u16,
        /// Algorithm name as in known_hosts, e.g. `ssh-ed25519`.
        key_type: String,
        /// `SHA256:` + unpadded base64, exactly as `ssh-keygen -lf` prints it.
        fingerprint: String,
        /// The key blob, base64 (what [`crate::accept_host_key`] stores).
        key: String,
    },

    /// The server's host key differs from the one recorded. Always refused.
    #[error("the {key_type} host key of {host}:{port} has CHANGED: {known_hosts_file}:{line} expects {expected_fingerprint}, the server sent {actual_fingerprint}. Someone may be intercepting the connection; if the server was reinstalled, remove line {line} of {known_hosts_file} and connect again")]
    HostKeyChanged {
        host: String,
        port: u16,
        key_type: String,
        expected_fingerprint: String,
        actual_fingerprint: String,
        known_hosts_file: PathBuf,
        line: usize,
    },

    /// A known-hosts file could not be read or written.
    #[error("cannot use the known-hosts file {path}: {reason}")]
    KnownHosts { path: PathBuf, reason: String },

    /// Every authentication method was tried and refused.
    #[error("could not log in to {host} as {user} (tried: {}) — check the user name, load your key into ssh-agent, name a key file, or give the password", tried.join(", "))]
    AuthFailed {
        host: String,
        user: String,
        tried: Vec<String>,
    },

    /// The passphrase given for a private key did not decrypt it.
    #[error("the passphrase for the key {path} is wrong — give it again")]
    KeyPassphraseWrong { path: PathBuf },

    /// A command (or connection step) did not finish in time.
    #[error("`{command}` on {host} did not finish within {}s and was abandoned — the host may be overloaded, or the command waits for input", after.as_secs_f64())]
    Timeout {
        host: String,
        command: String,
        after: Duration,
    },

    /// A command exited non-zero (from [`crate::Host::run_checked`]).
    #[error(
        "`{command}` failed on {host} with exit status {status}: {}",
        stderr_summary(stderr)
    )]
    CommandFailed {
        host: String,
        command: String,
        status: i32,
        stderr: String,
    },

    /// A command needs root and this login has no way to get it.
    #[error("`{command}` needs root on {host}, and this login cannot get it: {hint}")]
    PrivilegeMissing {
        host: String,
        command: String,
        hint: String,
    },

    /// sudo refused the password given for it.
    #[error(
        "sudo on {host} refused the password given for {user} — give {user}'s own login password"
    )]
    SudoPasswordRejected { host: String, user: String },

    /// A file or directory does not exist.
    #[error("{path} does not exist on {host}")]
    NotFound { host: String, path: String },

    /// A path exists but is not a regular file (a directory, a device, ...).
    #[error("{path} on {host} is not a regular file")]
    NotRegularFile { host: String, path: String },

    /// A command's output could not be understood (a bug or a very unusual host).
    #[error("unexpected output from `{command}` on {host}: {detail}")]
    UnexpectedOutput {
        host: String,
        command: String,
        detail: String,
    },

    /// The SSH connection failed in the middle of something.
    #[error(
        "the SSH connection to {host} failed while {action}: {reason} — reconnect and try again"
    )]
    Ssh {
        host: String,
        action: String,
        reason: String,
    },

    /// A local I/O error (local transport, tunnel listener, key files, ...).
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
}

impl RemoteError {
    /// A stable short name for the UI to branch on (`"unknown_host_key"` → ask to accept).
    pub fn code(&self) -> &'static str {
        match self {
            RemoteError::BadTarget { .. } => "bad_target",
            RemoteError::SshConfig { .. } => "ssh_config",
            RemoteError::Unreachable { .. } => "unreachable",
            RemoteError::Handshake { .. } => "handshake",
            RemoteError::UnknownHostKey { .. } => "unknown_host_key",
            RemoteError::HostKeyChanged { .. } => "host_key_changed",
            RemoteError::KnownHosts { .. } => "known_hosts",
            RemoteError::AuthFailed { .. } => "auth_failed",
            RemoteError::KeyPassphraseWrong { .. } => "key_passphrase_wrong",
            RemoteError::Timeout { .. } => "timeout",
            RemoteError::CommandFailed { .. } => "command_failed",
            RemoteError::PrivilegeMissing { .. } => "privilege_missing",
            RemoteError::SudoPasswordRejected { .. } => "sudo_password_rejected",
            RemoteError::NotFound { .. } => "not_found",
            RemoteError::NotRegularFile { .. } => "not_regular_file",
            RemoteError::UnexpectedOutput { .. } => "unexpected_output",
            RemoteError::Ssh { .. } => "ssh",
            RemoteError::Io { .. } => "io",
        }
    }

    pub(crate) fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        RemoteError::Io {
            context: context.into(),
            source,
        }
    }
}

/// The last few lines of stderr: enough to see why, short enough for a dialog.
fn stderr_summary(stderr: &str) -> String {
    let trimmed = stderr.trim();
    if trimmed.is_empty() {
        return "(no error output)".to_string();
    }
    let lines: Vec<&str> = trimmed.lines().collect();
    let tail = if lines.len() > 6 {
        &lines[lines.len() - 6..]
    } else {
        &lines[..]
    };
    tail.join(" / ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_sentences_with_host_and_advice() {
        let e = RemoteError::Unreachable {
            host: "10.0.0.5".into(),
            port: 22,
            reason: "connection refused".into(),
        };
        assert_eq!(
            e.to_string(),
            "cannot reach 10.0.0.5:22: connection refused — is sshd running and the port right?"
        );
        assert_eq!(e.code(), "unreachable");
        let e = RemoteError::CommandFailed {
            host: "root@h:22".into(),
            command: "nginx -t".into(),
            status: 1,
            stderr: "a\nb\n".into(),
        };
        assert_eq!(
            e.to_string(),
            "`nginx -t` failed on root@h:22 with exit status 1: a / b"
        );
        let e = RemoteError::AuthFailed {
            host: "h".into(),
            user: "u".into(),
            tried: vec!["ssh-agent (2 keys)".into(), "password".into()],
        };
        assert!(
            e.to_string()
                .starts_with("could not log in to h as u (tried: ssh-agent (2 keys), password)"),
            "{e}"
        );
        let e = RemoteError::Timeout {
            host: "h".into(),
            command: "sleep 9".into(),
            after: Duration::from_millis(1500),
        };
        assert!(e.to_string().contains("within 1.5s"), "{e}");
    }
}
