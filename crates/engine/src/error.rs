//! The engine's error type: what went wrong, on which host or file, and what to do about it.

use crate::facts::InstanceSummary;
use osd_remote::RemoteError;

/// The instances as a list, one `  - …` line each.
fn list(instances: &[InstanceSummary]) -> String {
    instances
        .iter()
        .map(|i| format!("  - {}", i.describe()))
        .collect::<Vec<_>>()
        .join("\n")
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

    #[error("the database '{db}' on {host} could not be reached ({detail}). Check db_host/db_port/db_user in {conf} and that PostgreSQL is running.")]
    Database {
        host: String,
        db: String,
        conf: String,
        detail: String,
    },

    #[error("another change is being applied on {host} ({owner}). Wait for it; if it was interrupted, roll it back with `rollback` (see `history`).")]
    Locked { host: String, owner: String },

    #[error("{path} on {host} was changed by someone else since the plan was made; plan again to see the current state")]
    Conflict { host: String, path: String },

    #[error("the connection to {host} was lost while change set {id} was being applied ({reason}). The host keeps its record and before-images: reconnect and roll it back with `rollback {id}`.")]
    Interrupted {
        host: String,
        id: String,
        reason: String,
    },

    #[error("{0}")]
    Invalid(String),
}
