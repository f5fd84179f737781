//! Demo mode: `scripts/demo` (and the GUI e2e tests) start a lab Odoo host and launch the app with
//! `OSD_DEMO_LAB=<dir>/lab.json`; the app then lists that lab as a server named "Demo lab".
//!
//! lab.json is written by `tests/lab/lab up`; this module reads only what the shell needs. The
//! secret it holds (the lab's root password) never leaves the backend: the UI gets a
//! [`ServerEntry`], which has no secret in it.
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::progress::{ProgressEvent, ProgressSink, Step};
use crate::{AppError, AppResult};

pub const ENV_DEMO_LAB: &str = "OSD_DEMO_LAB";
pub const DEMO_SERVER_ID: &str = "demo-lab";

/// `$OSD_DEMO_LAB` when set and not empty.
pub fn lab_path() -> Option<PathBuf> {
    std::env::var_os(ENV_DEMO_LAB)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

/// A server as the Servers screen shows it. No secrets.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct ServerEntry {
    pub id: String,
    pub name: String,
    pub host: String,
    pub port: u16,
    pub user: String,
    /// `SHA256:...` as `ssh-keygen -lf` prints it, when known in advance (the lab knows its own).
    pub host_key_fingerprint: Option<String>,
    pub kind: ServerKind,
    /// The lab scenario (demo only), e.g. `short-lifetime`.
    pub scenario: Option<String>,
}

#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub enum ServerKind {
    Demo,
    Saved,
}

/// The part of lab.json the shell reads (the full contract: tests/lab/README.md and
/// `osd_testlab::LabInfo`).
#[derive(Debug, Clone, Deserialize)]
pub struct DemoLab {
    #[serde(default)]
    pub scenario: Option<String>,
    pub ssh: LabSsh,
    #[serde(default)]
    pub users: Option<LabUsers>,
    #[serde(default)]
    pub keys: Option<LabKeys>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct LabSsh {
    pub host: String,
    pub port: u16,
    #[serde(default)]
    pub host_key_fingerprint: Option<String>,
    #[serde(default)]
    pub known_hosts_file: Option<PathBuf>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct LabUsers {
    pub root: LabUser,
}

#[derive(Debug, Clone, Deserialize)]
pub struct LabUser {
    pub login: String,
    /// `None` when the machine's root kept its own password: the lab's key logs in instead.
    #[serde(default)]
    pub password: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct LabKeys {
    /// An unencrypted ed25519 key the lab authorises for every login.
    pub ed25519: PathBuf,
}

impl DemoLab {
    pub fn load(path: &Path) -> AppResult<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            AppError::new(
                "demo_lab_unreadable",
                format!(
                    "The demo lab file {} could not be read: {e}",
                    path.display()
                ),
                "Start the demo with scripts/demo, or unset OSD_DEMO_LAB.",
            )
        })?;
        serde_json::from_str(&text).map_err(|e| {
            AppError::new(
                "demo_lab_invalid",
                format!(
                    "The demo lab file {} is not what this app expects: {e}",
                    path.display()
                ),
                "Restart the lab with tests/lab/lab up, then start the app again.",
            )
        })
    }

    pub fn server_entry(&self) -> ServerEntry {
        ServerEntry {
            id: DEMO_SERVER_ID.into(),
            name: "Demo lab".into(),
            host: self.ssh.host.clone(),
            port: self.ssh.port,
            user: self
                .users
                .as_ref()
                .map_or("root", |u| u.root.login.as_str())
                .into(),
            host_key_fingerprint: self.ssh.host_key_fingerprint.clone(),
            kind: ServerKind::Demo,
            scenario: self.scenario.clone(),
        }
    }
}

/// What the UI shows after a successful connection.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Connected {
    pub server_id: String,
    /// The name the server gives itself (`hostname`).
    pub host_name: String,
    pub host_key_fingerprint: String,
}

/// Connects to a server by id. Only the demo lab exists until saved servers arrive (issue 5).
pub fn connect(server_id: &str, progress: &impl ProgressSink) -> AppResult<Connected> {
    if server_id != DEMO_SERVER_ID {
        return Err(AppError::new(
            "unknown_server",
            format!("There is no server \"{server_id}\"."),
            "Pick a server from the list.",
        ));
    }
    let path = lab_path().ok_or_else(|| {
        AppError::new(
            "no_demo_lab",
            "The app is not in demo mode.",
            "Start it with scripts/demo.",
        )
    })?;
    let lab = DemoLab::load(&path)?;
    progress.report(ProgressEvent::Step {
        step: Step::Connecting,
        message: format!(
            "Connecting to {}:{} and checking its host key…",
            lab.ssh.host, lab.ssh.port
        ),
    });
    let (target, opts) = lab.connect_options();
    let host = osd_remote::Host::connect(&target, &opts, &osd_remote::NoAsk)?;
    progress.report(ProgressEvent::Step {
        step: Step::Identifying,
        message: "Connected. Asking the server for its name…".into(),
    });
    let host_name = host
        .run_checked(&osd_remote::Cmd::new("hostname"))?
        .stdout_str()
        .trim()
        .to_string();
    progress.report(ProgressEvent::Finished);
    let host_key_fingerprint = host
        .host_key()
        .map(|key| key.fingerprint)
        .unwrap_or_default();
    Ok(Connected {
        server_id: server_id.into(),
        host_name,
        host_key_fingerprint,
    })
}

impl DemoLab {
    /// Root login with the lab's own credentials; host key checked against the lab's known_hosts
    /// only (a demo never touches the user's ~/.ssh or the app's own known_hosts).
    fn connect_options(&self) -> (osd_remote::Target, osd_remote::ConnectOptions) {
        let root = self.users.as_ref().map(|u| &u.root);
        let user = root.map_or("root", |r| r.login.as_str()).to_string();
        let target = osd_remote::Target::Ssh {
            user: Some(user),
            host: self.ssh.host.clone(),
            port: Some(self.ssh.port),
        };
        let mut opts = osd_remote::ConnectOptions::bare();
        if let Some(known_hosts) = &self.ssh.known_hosts_file {
            opts.known_hosts_files = vec![known_hosts.clone()];
            opts.app_known_hosts_file = known_hosts.clone();
        }
        opts.identity_files = self.keys.iter().map(|k| k.ed25519.clone()).collect();
        opts.password = root
            .and_then(|r| r.password.clone())
            .map(osd_remote::Secret::new);
        (target, opts)
    }
}
