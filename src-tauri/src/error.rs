//! The one error the UI sees: `{code, message, hint}`.
//!
//! `code` is a stable machine word the UI may branch on (add one only when the UI uses it);
//! `message` says what happened in plain words; `hint` says what the person can do about it.
//! Engine errors are mapped here, never stringified inside the engine.
use serde::Serialize;

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct AppError {
    pub code: &'static str,
    pub message: String,
    pub hint: String,
}

impl AppError {
    pub fn new(code: &'static str, message: impl Into<String>, hint: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            hint: hint.into(),
        }
    }

    /// A background task died (a panic in the engine): never leave the UI waiting.
    pub fn internal(what: impl std::fmt::Display) -> Self {
        Self::new(
            "internal",
            format!("Something went wrong inside the app: {what}"),
            "Please try again. If it keeps happening, report it with the app's log.",
        )
    }
}

impl std::fmt::Display for AppError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({}) {}", self.message, self.code, self.hint)
    }
}

impl std::error::Error for AppError {}

pub type AppResult<T> = Result<T, AppError>;

/// SSH and host errors, in the UI's words. The engine's message already names the host and says
/// what to do after a " — "; that tail becomes the hint, so nothing is said twice.
impl From<osd_remote::RemoteError> for AppError {
    fn from(error: osd_remote::RemoteError) -> Self {
        use osd_remote::RemoteError as E;
        let code = match &error {
            E::BadTarget { .. } => "bad_target",
            E::SshConfig { .. } => "ssh_config",
            E::Unreachable { .. } => "unreachable",
            E::Handshake { .. } => "handshake",
            E::UnknownHostKey { .. } => "unknown_host_key",
            E::HostKeyChanged { .. } => "host_key_changed",
            E::KnownHosts { .. } => "known_hosts",
            E::AuthFailed { .. } => "auth_failed",
            E::KeyPassphraseWrong { .. } => "key_passphrase_wrong",
            E::Timeout { .. } => "timeout",
            E::PrivilegeMissing { .. } => "privilege_missing",
            E::SudoPasswordRejected { .. } => "sudo_password_rejected",
            _ => "host_error",
        };
        let text = error.to_string();
        match text.split_once(" — ") {
            Some((message, hint)) => AppError::new(code, sentence(message), sentence(hint)),
            None => AppError::new(code, sentence(&text), ""),
        }
    }
}

/// Capital first letter, full stop at the end: messages are shown as sentences.
fn sentence(text: &str) -> String {
    let text = text.trim();
    let mut chars = text.chars();
    let mut out: String = match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => return String::new(),
    };
    if !out.ends_with(['.', '!', '?']) {
        out.push('.');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use osd_remote::RemoteError;

    #[test]
    fn remote_errors_split_into_message_and_hint() {
        let e = AppError::from(RemoteError::Unreachable {
            host: "10.0.0.5".into(),
            port: 22,
            reason: "connection refused".into(),
        });
        assert_eq!(e.code, "unreachable");
        assert_eq!(e.message, "Cannot reach 10.0.0.5:22: connection refused.");
        assert_eq!(e.hint, "Is sshd running and the port right?");
    }

    #[test]
    fn serialises_as_code_message_hint() {
        let e = AppError::new(
            "no_demo_lab",
            "Not in demo mode.",
            "Start it with scripts/demo.",
        );
        assert_eq!(
            serde_json::to_value(&e).unwrap(),
            serde_json::json!({"code": "no_demo_lab", "message": "Not in demo mode.", "hint": "Start it with scripts/demo."})
        );
    }
}
