//! Demo mode: `scripts/demo` (and the GUI e2e tests) start a lab Odoo host and launch the app with
//! `OSD_DEMO_LAB=<dir>/lab.json`; the app then lists that lab as a server named "Demo lab".
//!
//! lab.json is written by `tests/lab/lab up`; this module reads only what the shell needs. The
//! secret it holds (the lab's root password) never leaves the backend: the UI gets a
//! [`ServerEntry`], which has no secret in it.
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::servers::{AuthMethod, ServerEntry, ServerKind};
use crate::{AppError, AppResult};

pub const ENV_DEMO_LAB: &str = "OSD_DEMO_LAB";
pub const DEMO_SERVER_ID: &str = "demo-lab";

/// `$OSD_DEMO_LAB` when set and not empty.
pub fn lab_path() -> Option<PathBuf> {
    std::env::var_os(ENV_DEMO_LAB)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

/// The part of lab.json the shell reads (the full contract: tests/lab/README.md and
/// `osd_testlab::LabInfo`).
#[derive(Debug, Clone, Deserialize)]
pub struct DemoLab {
    /// The lab's directory: the app keeps its change records under `<dir>/state` there, so
    /// several labs on one machine never share them.
    #[serde(default)]
    pub dir: Option<PathBuf>,
    #[serde(default)]
    pub scenario: Option<String>,
    #[serde(default)]
    pub odoo: Option<LabOdoo>,
    #[serde(default)]
    pub nginx: Option<LabNginx>,
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
pub struct LabOdoo {
    /// The lab's odoo.conf: names the instance (several labs may run on one machine).
    pub conf: PathBuf,
}

/// The lab's nginx: its server names have no DNS, so the live probe reaches them on loopback.
#[derive(Debug, Clone, Deserialize)]
pub struct LabNginx {
    #[serde(default)]
    pub server_names: Vec<String>,
    pub http_port: u16,
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
            auth: AuthMethod::Key,
            key_file: self.keys.as_ref().map(|k| k.ed25519.display().to_string()),
            instance: self.odoo.as_ref().map(|o| o.conf.display().to_string()),
            state_dir: self
                .dir
                .as_ref()
                .map(|d| d.join("state").display().to_string()),
            host_key_fingerprint: self.ssh.host_key_fingerprint.clone(),
            kind: ServerKind::Demo,
            scenario: self.scenario.clone(),
        }
    }
}

impl DemoLab {
    /// For the live probe: the address users would type, and where the lab's names resolve
    /// (like curl's --resolve), since nothing outside the lab knows them.
    pub fn probe_routes(&self) -> Option<(String, Vec<(String, std::net::SocketAddr)>)> {
        let nginx = self.nginx.as_ref()?;
        let first = nginx.server_names.first()?;
        let addr: std::net::SocketAddr = format!("127.0.0.1:{}", nginx.http_port).parse().ok()?;
        Some((
            format!("http://{first}:{}", nginx.http_port),
            nginx
                .server_names
                .iter()
                .map(|n| (n.clone(), addr))
                .collect(),
        ))
    }

    /// Root login with the lab's own credentials; host key checked against the lab's known_hosts
    /// only (a demo never touches the user's ~/.ssh or the app's own known_hosts).
    pub fn connect_options(&self) -> (osd_remote::Target, osd_remote::ConnectOptions) {
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
