//! The one error the UI sees: `{code, message, hint, details}`.
//!
//! `code` is a stable machine word the UI may branch on (add one only when the UI uses it);
//! `message` says what happened in plain words; `hint` says what the person can do about it;
//! `details` carries the structured facts a screen needs to show more than a sentence (both
//! fingerprints of a changed host key, the command to compare an unknown one, the instances to
//! choose from). Engine errors are mapped here, never stringified inside the engine.
use serde::Serialize;
use ts_rs::TS;

#[derive(Debug, Clone, Serialize, PartialEq, Eq, TS)]
pub struct AppError {
    #[ts(type = "string")]
    pub code: &'static str,
    pub message: String,
    pub hint: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub details: Option<ErrorDetails>,
}

/// What some errors carry besides their words.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, TS)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum ErrorDetails {
    /// A host key seen for the first time. Nothing was sent to the server yet.
    #[serde(rename_all = "camelCase")]
    UnknownHostKey {
        host: String,
        port: u16,
        key_type: String,
        /// `SHA256:...` exactly as `ssh-keygen -lf` prints it.
        fingerprint: String,
        /// What to run on the server to see the fingerprint of the key its sshd really serves
        /// (asked on its own port, whatever `HostKey` file sshd uses).
        compare_command: String,
    },
    /// The server sent a different key than the one recorded: always refused.
    #[serde(rename_all = "camelCase")]
    HostKeyChanged {
        host: String,
        port: u16,
        key_type: String,
        expected_fingerprint: String,
        actual_fingerprint: String,
        known_hosts_file: String,
        line: usize,
        compare_command: String,
    },
    /// Several Odoo servers are set up on the host (or the one remembered is gone): the person
    /// picks one, sorted by HTTP port.
    #[serde(rename_all = "camelCase")]
    SeveralInstances { instances: Vec<InstanceChoice> },
    /// The server asked for a password or passphrase that was not given: ask and retry.
    #[serde(rename_all = "camelCase")]
    SecretNeeded {
        secret: crate::session::SecretKind,
        /// What it is, e.g. "SSH password for deploy@10.0.0.5".
        prompt: String,
    },
}

/// One Odoo server of several on a host, as the chooser shows it. Down and crash-looping
/// instances are choices too: they are often the one that needs help.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, TS)]
#[serde(rename_all = "camelCase")]
pub struct InstanceChoice {
    /// As the engine describes it: port, config file, version, service, state.
    pub label: String,
    /// What to remember for the server (what `--instance` takes): the config file, or the HTTP
    /// port when there is none.
    pub value: String,
    pub http_port: u16,
    pub config: Option<String>,
    /// "17.0" when known.
    pub version: Option<String>,
    /// How it runs, e.g. "supervisor program odoo", "systemd unit odoo".
    pub service: String,
    pub state: InstanceRunState,
    /// The state in words: "running, pid 42", "fails to start: FATAL".
    pub state_text: String,
    /// The last start error from its log, for a down or crash-looping instance.
    pub last_error: Option<String>,
}

/// Whether an instance runs.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq, TS)]
#[serde(rename_all = "camelCase")]
pub enum InstanceRunState {
    Running,
    /// A process runs but its manager has not confirmed the start yet.
    Starting,
    Stopped,
    CrashLoop,
}

impl From<&osd_engine::facts::InstanceSummary> for InstanceChoice {
    fn from(i: &osd_engine::facts::InstanceSummary) -> Self {
        use osd_engine::facts::InstanceState as S;
        InstanceChoice {
            label: i.describe(),
            value: i.selector(),
            http_port: i.http_port,
            config: i.config_path.clone(),
            version: i.version.clone(),
            service: i.service.describe(),
            state: match &i.state {
                S::Running => InstanceRunState::Running,
                S::Starting { .. } => InstanceRunState::Starting,
                S::Stopped { .. } => InstanceRunState::Stopped,
                S::CrashLoop { .. } => InstanceRunState::CrashLoop,
            },
            state_text: i.state.describe(i.pid),
            last_error: i.state.last_error().map(str::to_string),
        }
    }
}

impl InstanceChoice {
    /// The engine's instances as choices, sorted by HTTP port (then config file).
    pub fn list(instances: &[osd_engine::facts::InstanceSummary]) -> Vec<InstanceChoice> {
        let mut list: Vec<InstanceChoice> = instances.iter().map(InstanceChoice::from).collect();
        list.sort_by(|a, b| (a.http_port, &a.value).cmp(&(b.http_port, &b.value)));
        list
    }
}

impl AppError {
    pub fn new(code: &'static str, message: impl Into<String>, hint: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            hint: hint.into(),
            details: None,
        }
    }

    pub fn with_details(mut self, details: ErrorDetails) -> Self {
        self.details = Some(details);
        self
    }

    /// A background task died (a panic in the engine): never leave the UI waiting.
    pub fn internal(what: impl std::fmt::Display) -> Self {
        Self::new(
            "internal",
            format!("Something went wrong inside the app: {what}"),
            "Please try again. If it keeps happening, report it with the app's log.",
        )
    }

    /// The person asked for something that needs a connection first.
    pub fn not_connected(server_id: &str) -> Self {
        Self::new(
            "not_connected",
            format!("The app is not connected to \"{server_id}\"."),
            "Go back to Servers and connect to it first.",
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

/// The command, run on the server itself, that prints the fingerprint of the host key its sshd
/// really serves for `key_type`, as `ssh-keygen` shows it: the person compares it with what the
/// app saw before trusting the key. It asks sshd on its own port (ssh-keyscan) rather than
/// reading `/etc/ssh/ssh_host_*_key.pub`: an sshd with another `HostKey` file serves another key,
/// and that file would print a different fingerprint for the right server.
pub fn compare_command(key_type: &str, port: u16) -> String {
    let kind = match key_type {
        "ssh-rsa" | "rsa-sha2-256" | "rsa-sha2-512" => "rsa",
        t if t.starts_with("ecdsa-") => "ecdsa",
        "sk-ssh-ed25519@openssh.com" => "ed25519-sk",
        t if t.starts_with("sk-ecdsa-") => "ecdsa-sk",
        _ => "ed25519",
    };
    format!("ssh-keyscan -t {kind} -p {port} localhost 2>/dev/null | ssh-keygen -lf -")
}

/// Saved-server errors keep the crate's code, words and hint; a broken SSH config is an SSH error.
impl From<osd_servers::ServersError> for AppError {
    fn from(error: osd_servers::ServersError) -> Self {
        match error {
            osd_servers::ServersError::SshConfig(e) => e.into(),
            other => AppError::new(other.code(), other.to_string(), other.hint()),
        }
    }
}

/// SSH and host errors, in the UI's words. The engine's message already names the host and says
/// what to do after a " — "; that tail becomes the hint, so nothing is said twice.
impl From<osd_remote::RemoteError> for AppError {
    fn from(error: osd_remote::RemoteError) -> Self {
        use osd_remote::RemoteError as E;
        let code = match &error {
            E::CommandFailed { .. } | E::NotFound { .. } | E::NotRegularFile { .. } => "host_error",
            E::UnexpectedOutput { .. } | E::Ssh { .. } | E::Io { .. } => "host_error",
            other => other.code(),
        };
        let details = match &error {
            E::UnknownHostKey {
                host,
                port,
                key_type,
                fingerprint,
                ..
            } => Some(ErrorDetails::UnknownHostKey {
                host: host.clone(),
                port: *port,
                key_type: key_type.clone(),
                fingerprint: fingerprint.clone(),
                compare_command: compare_command(key_type, *port),
            }),
            E::HostKeyChanged {
                host,
                port,
                key_type,
                expected_fingerprint,
                actual_fingerprint,
                known_hosts_file,
                line,
            } => Some(ErrorDetails::HostKeyChanged {
                host: host.clone(),
                port: *port,
                key_type: key_type.clone(),
                expected_fingerprint: expected_fingerprint.clone(),
                actual_fingerprint: actual_fingerprint.clone(),
                known_hosts_file: known_hosts_file.display().to_string(),
                line: *line,
                compare_command: compare_command(key_type, *port),
            }),
            _ => None,
        };
        let text = error.to_string();
        let mut app = match (&error, text.split_once(" — ")) {
            (E::UnknownHostKey { host, port, .. }, _) => AppError::new(
                code,
                format!("This is the first connection to {host}:{port}, so the app does not know its host key yet."),
                "Compare the fingerprint with the one the server shows, then trust it.",
            ),
            (E::HostKeyChanged { host, port, .. }, _) => AppError::new(
                code,
                format!("The host key of {host}:{port} has changed since the last connection."),
                "Someone may be intercepting the connection. Do not go on unless you know the server was reinstalled.",
            ),
            (E::PrivilegeMissing { host, hint, .. }, _) => AppError::new(
                code,
                format!("This login on {host} cannot act as root, and the app needs root to read and fix Odoo's files."),
                sentence(hint),
            ),
            (_, Some((message, hint))) => AppError::new(code, sentence(message), sentence(hint)),
            (_, None) => AppError::new(code, sentence(&text), ""),
        };
        app.details = details;
        app
    }
}

/// Engine errors: each variant's words already say what to do; split them for the UI.
impl From<osd_engine::EngineError> for AppError {
    fn from(error: osd_engine::EngineError) -> Self {
        use osd_engine::EngineError as E;
        match error {
            E::Remote(remote) => remote.into(),
            E::NoOdoo { host } => AppError::new(
                "no_odoo",
                format!("No running Odoo server was found on {host}."),
                "Start Odoo on the server, then diagnose again.",
            ),
            E::SeveralInstances { host, instances } => AppError::new(
                "several_instances",
                format!("{} Odoo servers are set up on {host}.", instances.len()),
                "Choose the one to diagnose.",
            )
            .with_details(ErrorDetails::SeveralInstances {
                instances: InstanceChoice::list(&instances),
            }),
            E::InstanceNotFound {
                host,
                wanted,
                instances,
            } => AppError::new(
                "instance_not_found",
                format!("No Odoo server on {host} matches \"{wanted}\", the one chosen for this server."),
                "Choose one of the Odoo servers found there.",
            )
            .with_details(ErrorDetails::SeveralInstances {
                instances: InstanceChoice::list(&instances),
            }),
            E::Locked { host, owner } => AppError::new(
                "locked",
                format!("Another change is being applied on {host} ({owner})."),
                "Wait for it to finish. If it was interrupted, roll it back from History.",
            ),
            E::Conflict { host, path } => AppError::new(
                "conflict",
                format!("{path} on {host} was changed by someone else since the preview was made."),
                "Diagnose again to see the current state; nothing was changed.",
            ),
            E::Interrupted {
                host,
                id,
                reason,
                guard_secs,
            } => AppError::new(
                "interrupted",
                format!("The connection to {host} was lost while change set {id} was being applied ({reason})."),
                format!("The server finishes on its own: without this app's confirmation it undoes the change within {guard_secs} seconds. Reconnect to see what it did in History, or roll it back from there now."),
            ),
            E::HostProgramGone { host, .. } => AppError::new(
                "interrupted",
                format!("The change on {host} stopped before it finished (the server restarted, or its program was stopped)."),
                "Reconnect and roll it back from History: the server keeps the record and backups.",
            ),
            E::ConnectionLost {
                host,
                id,
                during,
                reason,
            } => AppError::new(
                "interrupted",
                format!("The connection to {host} was lost while {during} ({reason})."),
                format!("The server keeps the record and backups: reconnect and roll change set {id} back again from History."),
            ),
            E::UnsafeEdit { path, reason } => AppError::new(
                "conflict",
                sentence(&format!("{path} {reason}")),
                "Nothing was overwritten.",
            ),
            E::RollbackStopped { id, source } => {
                let inner = AppError::from(*source);
                AppError {
                    message: format!("The rollback of change set {id} stopped. {}", inner.message),
                    ..inner
                }
            }
            E::NotHealthy { port, after } => AppError::new(
                "invalid",
                format!(
                    "Odoo did not come back within {}s after the restart (port {port}).",
                    after.as_secs()
                ),
                "See Odoo's log on the server.",
            ),
            E::NoSuchChangeSet { host, id } => AppError::new(
                "invalid",
                format!("There is no change set {id} on {host}."),
                "See History for the change sets recorded there.",
            ),
            other @ (E::Discovery { .. } | E::Database { .. }) => {
                let code = match &other {
                    E::Database { .. } => "database",
                    _ => "discovery",
                };
                AppError::new(code, sentence(&other.to_string()), "")
            }
            E::NeedsYou {
                title, why, steps, ..
            } => AppError::new(
                "needs_you",
                sentence(&format!("\u{201c}{title}\u{201d} cannot be fixed here: {why}")),
                steps.join(" "),
            ),
            // Each says what happened and, where there is something to do, what; the apply's own
            // failures reach the app as its result's text, these only through a rollback.
            other @ (E::Cancelled
            | E::WriteMismatch { .. }
            | E::OdooConfRejected { .. }
            | E::NginxRejected { .. }
            | E::ServiceFailed { .. }
            | E::VerificationFailed { .. }
            | E::NotRestored { .. }
            | E::NothingToRollBack { .. }
            | E::BadChangeSetId { .. }
            | E::DamagedRecord { .. }
            | E::UnknownCheck { .. }
            | E::BadChoice { .. }
            | E::CannotPlan { .. }
            | E::NoServiceManager
            | E::Unreadable { .. }
            | E::FactsDocument(_)
            | E::Invalid(_)
            | E::CannotRollBackAction { .. }
            | E::Sessions { .. }
            | E::SessionsChoice(_)) => AppError::new("invalid", sentence(&other.to_string()), ""),
        }
    }
}

/// Capital first letter, full stop at the end: messages are shown as sentences.
pub fn sentence(text: &str) -> String {
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
        assert_eq!(e.details, None);
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

    #[test]
    fn unknown_host_key_carries_the_fingerprint_and_the_command_to_compare_it() {
        let e = AppError::from(RemoteError::UnknownHostKey {
            host: "10.0.0.5".into(),
            port: 22,
            key_type: "ssh-ed25519".into(),
            fingerprint: "SHA256:abc".into(),
            key: "AAAA".into(),
        });
        assert_eq!(e.code, "unknown_host_key");
        assert_eq!(
            serde_json::to_value(&e).unwrap()["details"],
            serde_json::json!({"kind": "unknownHostKey", "host": "10.0.0.5", "port": 22, "keyType": "ssh-ed25519",
                "fingerprint": "SHA256:abc", "compareCommand": "ssh-keyscan -t ed25519 -p 22 localhost 2>/dev/null | ssh-keygen -lf -"})
        );
        assert!(
            !serde_json::to_string(&e).unwrap().contains("AAAA"),
            "the key blob stays in the backend"
        );
    }

    #[test]
    fn changed_host_key_shows_both_fingerprints() {
        let e = AppError::from(RemoteError::HostKeyChanged {
            host: "h".into(),
            port: 2222,
            key_type: "ecdsa-sha2-nistp256".into(),
            expected_fingerprint: "SHA256:old".into(),
            actual_fingerprint: "SHA256:new".into(),
            known_hosts_file: "/root/.ssh/known_hosts".into(),
            line: 7,
        });
        assert_eq!(e.code, "host_key_changed");
        let Some(ErrorDetails::HostKeyChanged {
            expected_fingerprint,
            actual_fingerprint,
            line,
            compare_command,
            ..
        }) = e.details
        else {
            panic!("{e:?}")
        };
        assert_eq!(
            (
                expected_fingerprint.as_str(),
                actual_fingerprint.as_str(),
                line
            ),
            ("SHA256:old", "SHA256:new", 7)
        );
        assert_eq!(
            compare_command,
            "ssh-keyscan -t ecdsa -p 2222 localhost 2>/dev/null | ssh-keygen -lf -"
        );
    }

    fn summary(
        port: u16,
        config: Option<&str>,
        version: Option<&str>,
        service: osd_engine::facts::Service,
        pid: Option<u32>,
        state: osd_engine::facts::InstanceState,
    ) -> osd_engine::facts::InstanceSummary {
        osd_engine::facts::InstanceSummary {
            pid,
            user: "odoo".into(),
            command: "odoo-bin".into(),
            config_path: config.map(str::to_string),
            http_port: port,
            service,
            version: version.map(str::to_string),
            state,
        }
    }

    #[test]
    fn several_instances_lists_them_sorted_by_port_down_ones_included() {
        use osd_engine::facts::{InstanceState, Service};
        let e = AppError::from(osd_engine::EngineError::SeveralInstances {
            host: "h".into(),
            instances: vec![
                summary(
                    8070,
                    None,
                    Some("18.0"),
                    Service::Manual,
                    Some(11),
                    InstanceState::Running,
                ),
                summary(
                    8069,
                    Some("/etc/odoo/a.conf"),
                    Some("17.0"),
                    Service::Supervisor {
                        conf: None,
                        program: "odoo".into(),
                    },
                    None,
                    InstanceState::CrashLoop {
                        manager_says: "FATAL".into(),
                        last_error: Some(
                            "OptionValueError: option smtp_port: invalid integer value".into(),
                        ),
                    },
                ),
            ],
        });
        assert_eq!(e.code, "several_instances");
        assert_eq!(e.message, "2 Odoo servers are set up on h.");
        let Some(ErrorDetails::SeveralInstances { instances }) = &e.details else {
            panic!("{e:?}")
        };
        let ports: Vec<u16> = instances.iter().map(|i| i.http_port).collect();
        assert_eq!(ports, [8069, 8070], "sorted by port");
        let a = &instances[0];
        assert_eq!(a.value, "/etc/odoo/a.conf");
        assert_eq!(a.version.as_deref(), Some("17.0"));
        assert_eq!(a.service, "supervisor program odoo");
        assert_eq!(a.state, InstanceRunState::CrashLoop);
        assert_eq!(a.state_text, "fails to start: FATAL");
        assert!(a.last_error.as_deref().unwrap().contains("smtp_port"));
        assert_eq!(instances[1].value, "8070", "no config file: the port");
        assert_eq!(instances[1].state, InstanceRunState::Running);
        assert_eq!(
            serde_json::to_value(a).unwrap()["state"],
            serde_json::json!("crashLoop")
        );
    }

    #[test]
    fn an_instance_that_is_gone_offers_the_chooser_again() {
        use osd_engine::facts::{InstanceState, Service};
        let e = AppError::from(osd_engine::EngineError::InstanceNotFound {
            host: "h".into(),
            wanted: "/etc/old.conf".into(),
            instances: vec![summary(
                8069,
                Some("/etc/odoo.conf"),
                None,
                Service::Manual,
                Some(3),
                InstanceState::Running,
            )],
        });
        assert_eq!(e.code, "instance_not_found");
        assert!(e.message.contains("/etc/old.conf"), "{e}");
        assert!(
            matches!(&e.details, Some(ErrorDetails::SeveralInstances { instances }) if instances.len() == 1)
        );
    }

    #[test]
    fn a_stopped_rollback_says_so_and_keeps_its_causes_code_and_hint() {
        let e = AppError::from(osd_engine::EngineError::RollbackStopped {
            id: "20261122T000000Z-abcdef".into(),
            source: Box::new(osd_engine::EngineError::Remote(RemoteError::Unreachable {
                host: "10.0.0.5".into(),
                port: 22,
                reason: "connection refused".into(),
            })),
        });
        assert_eq!(e.code, "unreachable");
        assert_eq!(
            e.message,
            "The rollback of change set 20261122T000000Z-abcdef stopped. Cannot reach 10.0.0.5:22: connection refused."
        );
        assert_eq!(e.hint, "Is sshd running and the port right?");
    }

    #[test]
    fn a_connection_lost_in_a_rollback_is_an_interruption() {
        let e = AppError::from(osd_engine::EngineError::ConnectionLost {
            host: "h".into(),
            id: "20261122T000000Z-abcdef".into(),
            during: "rolling back change set 20261122T000000Z-abcdef".into(),
            reason: "reset".into(),
        });
        assert_eq!(e.code, "interrupted");
        assert!(e.hint.contains("20261122T000000Z-abcdef"), "{e}");
    }
}
