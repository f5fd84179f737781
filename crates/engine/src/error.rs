//! The engine's error type: what went wrong, on which host or file, and what to do about it.

use crate::facts::InstanceSummary;
use osd_remote::RemoteError;
use std::time::Duration;

/// The instances as a list, one `  - …` line each.
fn list(instances: &[InstanceSummary]) -> String {
    instances
        .iter()
        .map(|i| format!("  - {}", i.describe()))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The steps of a person's fix, one numbered line each, after a line saying what they are.
fn steps_text(steps: &[String]) -> String {
    if steps.is_empty() {
        return String::new();
    }
    let mut out = String::from("\nWhat to do:");
    for (i, s) in steps.iter().enumerate() {
        out.push_str(&format!("\n  {}. {s}", i + 1));
    }
    out
}

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error(transparent)]
    Remote(#[from] RemoteError),

    #[error(
        "no Odoo server process was found on {host}. Is Odoo running? Start it and try again."
    )]
    NoOdoo { host: String },

    #[error("{} Odoo instances are set up on {host}; choose one with --instance <http port | config path>:\n{}", instances.len(), list(instances))]
    SeveralInstances {
        host: String,
        instances: Vec<InstanceSummary>,
    },

    #[error(
        "no Odoo instance on {host} matches '{wanted}'. Instances found:\n{}",
        list(instances)
    )]
    InstanceNotFound {
        host: String,
        wanted: String,
        instances: Vec<InstanceSummary>,
    },

    #[error("the discovery script's output from {host} could not be read: {detail}")]
    Discovery { host: String, detail: String },

    #[error("the database '{db}' on {host} could not be reached ({error}). Check db_host/db_port/db_user in {conf} and that PostgreSQL is running.")]
    Database {
        host: String,
        db: String,
        conf: String,
        error: DbError,
    },

    #[error("another change is being applied on {host} ({owner}). Wait for it; if it was interrupted, roll it back with `rollback` (see `history`).")]
    Locked { host: String, owner: String },

    #[error("{path} on {host} was changed by someone else since the plan was made; plan again to see the current state")]
    Conflict { host: String, path: String },

    #[error("the connection to {host} was lost while change set {id} was being applied ({reason}). The host finishes it by itself: without a confirmation it undoes the change within {guard_secs}s of applying it. Reconnect to see the outcome (`history`), or undo it now with `rollback {id}`.")]
    Interrupted {
        host: String,
        id: String,
        reason: String,
        guard_secs: u64,
    },

    /// The change set's program on the host ended without settling it (killed, a reboot): the
    /// record stays unfinished until `rollback` finishes it.
    #[error("the change set's program on {host} stopped before it finished ({dir}); reconnect and run `rollback` to restore the before-state")]
    HostProgramGone { host: String, dir: String },

    /// The connection was lost during a rollback: the record stays `applying` or
    /// `rollback_failed`, so the next connection offers to finish it.
    #[error("the connection to {host} was lost while {during} ({reason}). The host keeps the record and before-images: reconnect and run `rollback {id}` again.")]
    ConnectionLost {
        host: String,
        id: String,
        during: String,
        reason: String,
    },

    /// The person cancelled before the restart (everything written is rolled back).
    #[error("cancelled before the restart")]
    Cancelled,

    /// Writing `path` would destroy an edit the product did not make.
    #[error("{path} {reason}")]
    UnsafeEdit { path: String, reason: String },

    /// A file read back differently from what was just written to it.
    #[error("{path} on {host} did not read back as written")]
    WriteMismatch { host: String, path: String },

    /// The edited odoo.conf has a problem that stops Odoo from starting.
    #[error("{path}:{line}: {problem} — Odoo would not start")]
    OdooConfRejected {
        path: String,
        line: usize,
        problem: String,
    },

    /// nginx's own test refused the edited configuration (before anything was reloaded).
    #[error("`{command}` rejected the edited configuration: {output}")]
    NginxRejected { command: String, output: String },

    /// A service command (the reload's test, the restart) exited non-zero.
    #[error("`{command}` failed (exit {status}): {output}")]
    ServiceFailed {
        command: String,
        status: i32,
        output: String,
    },

    /// Odoo did not answer its health endpoint in time after the restart.
    #[error("Odoo did not come back within {}s after the restart (port {port}); see its log", after.as_secs())]
    NotHealthy { port: u16, after: Duration },

    /// After the restart, a check the change set fixes still fails, or something written did not
    /// persist (see [`crate::change::verify`]).
    #[error("verification failed for {check}: {detail}")]
    VerificationFailed { check: String, detail: String },

    /// After a rollback, something is not back to its before-image.
    #[error("{what} after the rollback")]
    NotRestored { what: String },

    /// A rollback was asked for and could not finish; the record says `rollback_failed`.
    #[error("rollback of change set {id} stopped: {source}")]
    RollbackStopped {
        id: String,
        source: Box<EngineError>,
    },

    #[error("there is no applied change set on {host} to roll back")]
    NothingToRollBack { host: String },

    #[error("'{id}' is not a change set id")]
    BadChangeSetId { id: String },

    #[error("there is no change set {id} on {host} (see `history`)")]
    NoSuchChangeSet { host: String, id: String },

    #[error("the record of change set {id} on {host} is damaged: {detail}")]
    DamagedRecord {
        host: String,
        id: String,
        detail: String,
    },

    /// A check id nobody knows (`--fix session.timeout`).
    #[error("there is no check '{id}'; checks are: {known}")]
    UnknownCheck { id: String, known: String },

    /// A choice for a fix that it does not take (`--set session.lifetime=a day`).
    #[error("{check}={value}: {expected}")]
    BadChoice {
        check: crate::checks::CheckId,
        value: String,
        expected: String,
    },

    /// A fix that cannot be planned on this host as it is (the words say why and what to do).
    #[error("{why}")]
    CannotPlan {
        check: crate::checks::CheckId,
        why: String,
    },

    /// The check was asked to be fixed, but the diagnosis says a person must do it (its remedy):
    /// the why and the steps.
    #[error(
        "\u{201c}{title}\u{201d} ({check}) cannot be fixed here: {why}{}",
        steps_text(steps)
    )]
    NeedsYou {
        check: crate::checks::CheckId,
        title: String,
        why: String,
        steps: Vec<String>,
    },

    /// Odoo runs without a service manager: nothing can restart it safely.
    #[error("Odoo was started by hand, so it cannot be restarted safely; run it under a service manager first")]
    NoServiceManager,

    /// A file the plan needs cannot be read as text, or is not among captured files.
    #[error("{path} on {place}: {why}")]
    Unreadable {
        place: String,
        path: String,
        why: String,
    },

    /// `rollback` of a recorded action (a log-out): there is nothing to put back.
    #[error("{id} is an action, not a change set, and cannot be undone: {summary}. Deleted sessions cannot be brought back; the people log in again.")]
    CannotRollBackAction { id: String, summary: String },

    /// The sessions of an instance could not be read or deleted on the host.
    #[error("sessions on {host}: {detail}")]
    Sessions { host: String, detail: String },

    /// A log-out that names nobody the instance has sessions for, or a database it does not serve.
    #[error("{0}")]
    SessionsChoice(String),

    /// A facts document that cannot be read (not JSON, another schema); the words say what to do.
    #[error("{0}")]
    FactsDocument(String),

    /// A usage error found by a face before the engine is asked (a malformed `--set` or
    /// `--resolve`, a missing `ODOO_PASSWORD`). The engine itself never returns it.
    #[error("{0}")]
    Invalid(String),
}

impl EngineError {
    /// Whether the SSH connection is gone, so nothing more can be done from this connection
    /// (an apply then leaves its record and lock for the next one).
    pub fn connection_lost(&self) -> bool {
        match self {
            EngineError::Remote(e) => remote_lost(e),
            EngineError::Database { error, .. } => error.connection_lost(),
            EngineError::RollbackStopped { source, .. } => source.connection_lost(),
            _ => false,
        }
    }
}

/// The remote errors that mean the connection itself failed (not a command on it).
pub(crate) fn remote_lost(e: &RemoteError) -> bool {
    matches!(e, RemoteError::Ssh { .. } | RemoteError::Unreachable { .. })
}

/// Why Odoo's database could not be asked or written. Texts are PostgreSQL's or psql's own, which
/// name neither the password nor any value written.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// No tunnel to PostgreSQL's port: the SSH connection is gone, or nothing listens there.
    #[error("no tunnel to {host}:{port}: {source}")]
    Tunnel {
        host: String,
        port: u16,
        source: Box<RemoteError>,
    },
    /// PostgreSQL refused the login (SQLSTATE class 28).
    #[error("{message} ({code})")]
    Auth { message: String, code: String },
    /// PostgreSQL refused a statement.
    #[error("{message} ({code})")]
    Query { message: String, code: String },
    /// The client could not talk to the server (closed connection, timeout, protocol).
    #[error("{0}")]
    Client(String),
    /// psql on the host failed; its error output.
    #[error("psql as {user}: {stderr}")]
    Psql { user: String, stderr: String },
    /// psql could not be run on the host.
    #[error("{0}")]
    Remote(Box<RemoteError>),
    /// psql variables cannot carry a NUL byte.
    #[error("a value contains a NUL byte")]
    NulInValue,
    /// odoo.conf names no `db_host`: TCP was refused (`tcp` says why, for people), and psql on
    /// the host failed too.
    #[error("odoo.conf sets no db_host, so Odoo uses the local socket; over TCP: {tcp}; with psql on the host: {psql}")]
    Socket { tcp: String, psql: Box<DbError> },
}

impl DbError {
    /// Whether the SSH connection under the database connection is gone.
    pub fn connection_lost(&self) -> bool {
        match self {
            DbError::Tunnel { source, .. } | DbError::Remote(source) => remote_lost(source),
            // TCP being refused is how a socket-only database looks; only psql's failure counts.
            DbError::Socket { psql, .. } => psql.connection_lost(),
            _ => false,
        }
    }

    /// Whether a statement failed because its table does not exist (not an Odoo database).
    pub fn undefined_table(&self) -> bool {
        match self {
            DbError::Query { code, .. } => code == "42P01",
            // psql prints no SQLSTATE by default: its message is all there is.
            DbError::Psql { stderr, .. } => stderr.contains("does not exist"),
            DbError::Socket { psql, .. } => psql.undefined_table(),
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ssh_gone() -> RemoteError {
        RemoteError::Ssh {
            host: "h".into(),
            action: "running a command".into(),
            reason: "connection reset".into(),
        }
    }

    fn database(error: DbError) -> EngineError {
        EngineError::Database {
            host: "h".into(),
            db: "odoo".into(),
            conf: "/etc/odoo/odoo.conf".into(),
            error,
        }
    }

    #[test]
    fn a_lost_connection_is_told_by_its_kind() {
        assert!(EngineError::Remote(ssh_gone()).connection_lost());
        assert!(database(DbError::Tunnel {
            host: "127.0.0.1".into(),
            port: 5432,
            source: Box::new(RemoteError::Unreachable {
                host: "127.0.0.1".into(),
                port: 5432,
                reason: "h lost the connection (reset)".into(),
            }),
        })
        .connection_lost());
        assert!(database(DbError::Socket {
            tcp: "refused".into(),
            psql: Box::new(DbError::Remote(Box::new(ssh_gone()))),
        })
        .connection_lost());
        assert!(EngineError::RollbackStopped {
            id: "x".into(),
            source: Box::new(EngineError::Remote(ssh_gone())),
        }
        .connection_lost());
    }

    #[test]
    fn failures_on_a_live_connection_roll_back() {
        // TCP refused on a socket-only database says nothing about the SSH connection, even
        // though its text says "no tunnel": only psql's own failure decides.
        let socket = DbError::Socket {
            tcp: "no tunnel to 127.0.0.1:5432: refused".into(),
            psql: Box::new(DbError::Psql {
                user: "odoo".into(),
                stderr: "ERROR:  permission denied for table ir_config_parameter".into(),
            }),
        };
        for e in [
            database(socket),
            database(DbError::Auth {
                message: "password authentication failed for user \"odoo\"".into(),
                code: "28P01".into(),
            }),
            EngineError::Remote(RemoteError::CommandFailed {
                host: "h".into(),
                command: "systemctl restart odoo".into(),
                status: 1,
                stderr: String::new(),
            }),
            EngineError::Cancelled,
            EngineError::VerificationFailed {
                check: "session.lifetime".into(),
                detail: "after the restart: warn".into(),
            },
            EngineError::NotHealthy {
                port: 8069,
                after: Duration::from_secs(90),
            },
        ] {
            assert!(!e.connection_lost(), "{e}");
        }
    }

    #[test]
    fn a_missing_table_is_told_by_its_code_or_psql_message() {
        let query = |code: &str| DbError::Query {
            message: "relation \"ir_config_parameter\" does not exist".into(),
            code: code.into(),
        };
        assert!(query("42P01").undefined_table());
        assert!(!query("42501").undefined_table());
        assert!(DbError::Socket {
            tcp: "refused".into(),
            psql: Box::new(DbError::Psql {
                user: "odoo".into(),
                stderr: "ERROR:  relation \"ir_config_parameter\" does not exist".into(),
            }),
        }
        .undefined_table());
    }

    #[test]
    fn messages_keep_their_words() {
        let e = database(DbError::Tunnel {
            host: "127.0.0.1".into(),
            port: 5432,
            source: Box::new(RemoteError::Unreachable {
                host: "127.0.0.1".into(),
                port: 5432,
                reason: "refused".into(),
            }),
        });
        assert!(
            e.to_string().starts_with(
                "the database 'odoo' on h could not be reached (no tunnel to 127.0.0.1:5432: "
            ),
            "{e}"
        );
        assert!(e.to_string().ends_with(
            "Check db_host/db_port/db_user in /etc/odoo/odoo.conf and that PostgreSQL is running."
        ));
        assert_eq!(
            EngineError::RollbackStopped {
                id: "20261122T000000Z-abcdef".into(),
                source: Box::new(EngineError::UnsafeEdit {
                    path: "/etc/odoo/odoo.conf".into(),
                    reason: "was edited by someone else after the change set was applied".into(),
                }),
            }
            .to_string(),
            "rollback of change set 20261122T000000Z-abcdef stopped: /etc/odoo/odoo.conf was edited by someone else after the change set was applied"
        );
    }
}
