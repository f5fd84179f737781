//! osd-servers: the saved servers both faces share (the app's Servers screen, the CLI's
//! `servers list` and a saved name as TARGET). `servers.toml` in the config directory, edited in place with `toml_edit`
//! so every comment, blank line and key order the person wrote survives an add, an edit or a
//! removal made from the app (only the values that changed are rewritten, each keeping the
//! comment after it). No secret is ever written there: passwords and passphrases are asked for
//! when connecting, kept in memory for that connection, and remembered only in the system
//! keyring when the person asks ([`secrets`]).
//!
//! ```toml
//! # my servers
//! [servers.prod]
//! name = "Production"
//! host = "odoo.example.com"   # or an alias from ~/.ssh/config
//! port = 22
//! user = "deploy"
//! auth = "key"                # agent | key | password
//! key_file = "~/.ssh/id_ed25519"
//! instance = "/etc/odoo/odoo.conf"   # optional: which Odoo when several run
//! ```
//!
//! Also here: where those files live ([`Paths`]), how a saved server is connected to
//! ([`connect_options`]) and the import of `Host` entries from `~/.ssh/config`.
// ServersError carries osd-remote's error (which names the file and line of a broken SSH
// config); errors are rare and never on a hot path, so its size does not matter (as in osd-remote).
#![allow(clippy::result_large_err)]

pub mod secrets;

use std::path::{Path, PathBuf};

use osd_remote::{ConnectOptions, RemoteError, Target};
use serde::{Deserialize, Serialize};
use toml_edit::{DocumentMut, Item, Table, Value};

/// What went wrong with the saved servers, in words a person can act on ([`ServersError::hint`]).
#[derive(Debug, thiserror::Error)]
pub enum ServersError {
    /// The file cannot be read, parsed, understood or written.
    #[error("The saved-servers file {} could not be used: {what}", path.display())]
    File { path: PathBuf, what: String },
    /// What the form sent cannot be saved.
    #[error("{message}")]
    Invalid { message: String, hint: String },
    /// No saved server has this id (`action`: what was asked of it).
    #[error("There is no saved server \"{id}\"{}.", action.words())]
    Unknown { id: String, action: Lookup },
    #[error("{} could not be read: {source}", path.display())]
    SshConfigUnreadable {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The SSH config is unreadable as a config (osd-remote's own words).
    #[error(transparent)]
    SshConfig(#[from] RemoteError),
}

/// What was asked of a server that is not saved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lookup {
    Get,
    Change,
    Remove,
}

impl Lookup {
    fn words(self) -> &'static str {
        match self {
            Lookup::Get => "",
            Lookup::Change => " to change",
            Lookup::Remove => " to remove",
        }
    }
}

impl ServersError {
    /// A stable code for the UI: `servers_file`, `invalid_server`, `unknown_server`,
    /// `ssh_config`, or osd-remote's own code.
    pub fn code(&self) -> &'static str {
        match self {
            ServersError::File { .. } => "servers_file",
            ServersError::Invalid { .. } => "invalid_server",
            ServersError::Unknown { .. } => "unknown_server",
            ServersError::SshConfigUnreadable { .. } => "ssh_config",
            ServersError::SshConfig(e) => e.code(),
        }
    }

    /// What to do about it.
    pub fn hint(&self) -> &str {
        match self {
            ServersError::File { .. } => "Fix the file by hand (it is plain TOML), or move it away to start with an empty list.",
            ServersError::Invalid { hint, .. } => hint,
            ServersError::Unknown { action: Lookup::Get, .. } => "Pick a server from the list.",
            ServersError::Unknown { action: Lookup::Change, .. } => "It may have been removed; add it again.",
            ServersError::Unknown { action: Lookup::Remove, .. } => "It may have been removed already.",
            ServersError::SshConfigUnreadable { .. } => "Check the file's permissions.",
            ServersError::SshConfig(_) => "",
        }
    }
}

pub type Result<T, E = ServersError> = std::result::Result<T, E>;

/// Where the products keep their files and which of the user's SSH files they read.
#[derive(Debug, Clone)]
pub struct Paths {
    /// `servers.toml` and the app's own `known_hosts` live here.
    pub config_dir: PathBuf,
    /// The SSH client config aliases resolve with (and import reads), if any.
    pub ssh_config: Option<PathBuf>,
    /// False in a sandbox: then none of `~/.ssh` (known_hosts, default keys) is read.
    pub use_user_ssh: bool,
}

pub const ENV_CONFIG_DIR: &str = "OSD_CONFIG_DIR";
pub const ENV_SSH_CONFIG: &str = "OSD_SSH_CONFIG";

impl Paths {
    /// `$OSD_CONFIG_DIR` (tests, demos) makes a sandbox that reads nothing of `~/.ssh` unless
    /// `$OSD_SSH_CONFIG` names a config; otherwise the user's config dir and `~/.ssh/config`.
    pub fn from_env() -> Paths {
        let var = |name| {
            std::env::var_os(name)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        };
        match var(ENV_CONFIG_DIR) {
            Some(config_dir) => Paths {
                config_dir,
                ssh_config: var(ENV_SSH_CONFIG),
                use_user_ssh: false,
            },
            None => Paths {
                config_dir: dirs::config_dir()
                    .unwrap_or_else(|| PathBuf::from("."))
                    .join("odoo-session-doctor"),
                ssh_config: var(ENV_SSH_CONFIG)
                    .or_else(|| dirs::home_dir().map(|h| h.join(".ssh").join("config"))),
                use_user_ssh: true,
            },
        }
    }

    pub fn servers_file(&self) -> PathBuf {
        self.config_dir.join("servers.toml")
    }

    /// Where host keys the person trusted in the app are stored.
    pub fn known_hosts(&self) -> PathBuf {
        self.config_dir.join("known_hosts")
    }
}

/// How to reach a saved server: its target, and the options its login method asks for (no
/// secret: those are asked when connecting).
pub fn connect_options(server: &ServerEntry, paths: &Paths) -> (Target, ConnectOptions) {
    let target = Target::Ssh {
        user: Some(server.user.clone()),
        host: server.host.clone(),
        port: Some(server.port),
    };
    let mut opts = if paths.use_user_ssh {
        ConnectOptions::default()
    } else {
        ConnectOptions::bare()
    };
    opts.app_known_hosts_file = paths.known_hosts();
    opts.ssh_config_file = paths.ssh_config.clone();
    match server.auth {
        AuthMethod::Agent => opts.use_agent = true,
        AuthMethod::Key => {
            let file = server.key_file.as_deref().unwrap_or_default();
            opts.identity_files = vec![expand_home(file)];
            opts.use_agent = false;
            opts.default_identity_files.clear();
        }
        AuthMethod::Password => {
            opts.use_agent = false;
            opts.default_identity_files.clear();
        }
    }
    (target, opts)
}

/// `~/x` → `$HOME/x` (key files in the form and in servers.toml may use it).
pub fn expand_home(path: &str) -> PathBuf {
    match (path.strip_prefix("~/"), dirs::home_dir()) {
        (Some(rest), Some(home)) => home.join(rest),
        _ => PathBuf::from(path),
    }
}

const FILE_HEADER: &str = "\
# Odoo Session Doctor: your saved servers.
# You may edit this file by hand; the app keeps your comments and the order of entries.
# No password or passphrase is ever stored here.
";

/// How the app logs in to a server.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub enum AuthMethod {
    /// Keys held by ssh-agent (and the usual ~/.ssh/id_* files), like `ssh` does.
    Agent,
    /// One private key file; its passphrase, if any, is asked for when connecting.
    Key,
    /// The login password, asked for each time (never stored).
    Password,
}

impl AuthMethod {
    /// The word servers.toml uses.
    pub fn as_str(self) -> &'static str {
        match self {
            AuthMethod::Agent => "agent",
            AuthMethod::Key => "key",
            AuthMethod::Password => "password",
        }
    }

    fn parse(s: &str) -> Option<AuthMethod> {
        match s {
            "agent" => Some(AuthMethod::Agent),
            "key" => Some(AuthMethod::Key),
            "password" => Some(AuthMethod::Password),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub enum ServerKind {
    /// The lab started by scripts/demo (not in the file; cannot be edited).
    Demo,
    Saved,
}

/// A server as the Servers screen shows it. No secrets.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct ServerEntry {
    pub id: String,
    pub name: String,
    /// A host name, an address or an alias from ~/.ssh/config.
    pub host: String,
    pub port: u16,
    pub user: String,
    pub auth: AuthMethod,
    pub key_file: Option<String>,
    /// Which Odoo to diagnose when several run on the host: its config file or HTTP port.
    pub instance: Option<String>,
    /// Where the app keeps its change records on the server (default /var/lib/odoo-session-doctor).
    pub state_dir: Option<String>,
    /// `SHA256:...` as `ssh-keygen -lf` prints it, when known in advance (the lab knows its own).
    pub host_key_fingerprint: Option<String>,
    pub kind: ServerKind,
    /// The lab scenario (demo only), e.g. `short-lifetime`.
    pub scenario: Option<String>,
}

/// What the add/edit form sends. `id` is `None` for a new server.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct ServerInput {
    #[cfg_attr(feature = "ts", ts(optional))]
    pub id: Option<String>,
    pub name: String,
    pub host: String,
    #[cfg_attr(feature = "ts", ts(optional))]
    pub port: Option<u16>,
    pub user: String,
    pub auth: AuthMethod,
    #[cfg_attr(feature = "ts", ts(optional))]
    pub key_file: Option<String>,
    #[cfg_attr(feature = "ts", ts(optional))]
    pub instance: Option<String>,
    #[cfg_attr(feature = "ts", ts(optional))]
    pub state_dir: Option<String>,
}

/// A `Host` of ~/.ssh/config the person may import.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct SshConfigHost {
    pub alias: String,
    /// Where the alias really goes (`HostName`), when the config says.
    pub host_name: Option<String>,
    pub user: String,
    pub port: u16,
    pub key_file: Option<String>,
    /// A saved server already uses this alias.
    pub already_saved: bool,
}

/// The saved-servers file.
pub struct ServerStore {
    path: PathBuf,
}

fn file_error(path: &Path, what: impl std::fmt::Display) -> ServersError {
    ServersError::File {
        path: path.to_path_buf(),
        what: what.to_string(),
    }
}

fn invalid(message: impl Into<String>, hint: impl Into<String>) -> ServersError {
    ServersError::Invalid {
        message: message.into(),
        hint: hint.into(),
    }
}

impl ServerStore {
    pub fn new(path: PathBuf) -> Self {
        ServerStore { path }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn read(&self) -> Result<DocumentMut> {
        let text = match std::fs::read_to_string(&self.path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => FILE_HEADER.to_string(),
            Err(e) => return Err(file_error(&self.path, e)),
        };
        text.parse::<DocumentMut>()
            .map_err(|e| file_error(&self.path, e.to_string().trim().replace('\n', " ")))
    }

    /// Writes through a temporary file and a rename, readable by the owner only.
    fn write(&self, doc: &DocumentMut) -> Result<()> {
        let dir = self.path.parent().unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir).map_err(|e| file_error(&self.path, e))?;
        let tmp = self.path.with_extension("toml.tmp");
        std::fs::write(&tmp, doc.to_string()).map_err(|e| file_error(&tmp, e))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let _ = std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o600));
        }
        std::fs::rename(&tmp, &self.path).map_err(|e| file_error(&self.path, e))
    }

    /// Every saved server, in the file's order. An entry the app cannot use is an error that
    /// names it (rather than a server silently missing from the list).
    pub fn list(&self) -> Result<Vec<ServerEntry>> {
        let doc = self.read()?;
        let Some(servers) = doc.get("servers").and_then(Item::as_table_like) else {
            return Ok(Vec::new());
        };
        servers
            .iter()
            .map(|(id, item)| {
                let table = item.as_table_like().ok_or_else(|| {
                    file_error(&self.path, format!("servers.{id} is not a table"))
                })?;
                entry(id, table)
                    .map_err(|what| file_error(&self.path, format!("servers.{id}: {what}")))
            })
            .collect()
    }

    pub fn get(&self, id: &str) -> Result<ServerEntry> {
        self.list()?
            .into_iter()
            .find(|s| s.id == id)
            .ok_or_else(|| ServersError::Unknown {
                id: id.to_string(),
                action: Lookup::Get,
            })
    }

    /// The saved server a person names on the command line: its id, else its name.
    pub fn find(&self, name: &str) -> Result<Option<ServerEntry>> {
        let list = self.list()?;
        let by_id = list.iter().find(|s| s.id == name);
        Ok(by_id
            .or_else(|| list.iter().find(|s| s.name == name))
            .cloned())
    }

    /// Adds (no id) or updates (id) a server; returns it as saved.
    pub fn save(&self, input: &ServerInput) -> Result<ServerEntry> {
        let input = validate(input)?;
        let mut doc = self.read()?;
        if doc.get("servers").is_none() {
            let mut servers = Table::new();
            servers.set_implicit(true);
            doc.insert("servers", Item::Table(servers));
        }
        let servers = doc["servers"]
            .as_table_mut()
            .ok_or_else(|| file_error(&self.path, "`servers` is not a table"))?;
        let id = match &input.id {
            Some(id) => {
                if !servers.contains_key(id) {
                    return Err(ServersError::Unknown {
                        id: id.clone(),
                        action: Lookup::Change,
                    });
                }
                id.clone()
            }
            None => {
                let base = slug(&input.name);
                let mut id = base.clone();
                let mut n = 2;
                while servers.contains_key(&id) {
                    id = format!("{base}-{n}");
                    n += 1;
                }
                let mut table = Table::new();
                if servers.is_empty() {
                    // A file of comments only: they stay above the first entry, not below it.
                    table
                        .decor_mut()
                        .set_prefix(leading_comments(doc.trailing().as_str().unwrap_or("")));
                }
                doc["servers"]
                    .as_table_mut()
                    .expect("checked above")
                    .insert(&id, Item::Table(table));
                if doc["servers"].as_table().is_some_and(|t| t.len() == 1) {
                    doc.set_trailing("");
                }
                id
            }
        };
        let servers = doc["servers"]
            .as_table_mut()
            .ok_or_else(|| file_error(&self.path, "`servers` is not a table"))?;
        let table = servers[&id]
            .as_table_mut()
            .ok_or_else(|| file_error(&self.path, format!("servers.{id} is not a table")))?;
        set(table, "name", Value::from(input.name.as_str()));
        set(table, "host", Value::from(input.host.as_str()));
        set(
            table,
            "port",
            Value::from(i64::from(input.port.unwrap_or(22))),
        );
        set(table, "user", Value::from(input.user.as_str()));
        set(table, "auth", Value::from(input.auth.as_str()));
        set_opt(table, "key_file", input.key_file.as_deref());
        set_opt(table, "instance", input.instance.as_deref());
        set_opt(table, "state_dir", input.state_dir.as_deref());
        self.write(&doc)?;
        self.get(&id)
    }

    /// Removes a server with the comment block right above its header; comment paragraphs
    /// separated from it by a blank line (a file header, notes about the next entry) stay.
    pub fn remove(&self, id: &str) -> Result<()> {
        let mut doc = self.read()?;
        let gone = || ServersError::Unknown {
            id: id.to_string(),
            action: Lookup::Remove,
        };
        let servers = doc
            .get_mut("servers")
            .and_then(Item::as_table_mut)
            .ok_or_else(gone)?;
        let keys: Vec<String> = servers.iter().map(|(k, _)| k.to_string()).collect();
        let index = keys.iter().position(|k| k == id).ok_or_else(gone)?;
        let removed = servers.remove(id).ok_or_else(gone)?;
        let prefix = removed
            .as_table()
            .and_then(|t| t.decor().prefix())
            .and_then(|p| p.as_str())
            .unwrap_or("")
            .to_string();
        let (kept, _attached) = split_prefix(&prefix);
        if !kept.is_empty() {
            match keys
                .get(index + 1)
                .and_then(|next| servers.get_mut(next))
                .and_then(Item::as_table_mut)
            {
                Some(next) => {
                    let old = next
                        .decor()
                        .prefix()
                        .and_then(|p| p.as_str())
                        .unwrap_or("")
                        .to_string();
                    next.decor_mut().set_prefix(format!("{kept}{old}"));
                }
                None => {
                    let trailing = doc.trailing().as_str().unwrap_or("").to_string();
                    doc.set_trailing(format!("{kept}{trailing}"));
                }
            }
        }
        self.write(&doc)
    }
}

/// A table header's prefix, split at its last blank line: what stays (paragraphs above) and
/// the comment block attached to the header.
fn split_prefix(prefix: &str) -> (String, String) {
    let lines: Vec<&str> = prefix.split_inclusive('\n').collect();
    match lines.iter().rposition(|l| l.trim().is_empty()) {
        Some(i) => (lines[..=i].concat(), lines[i + 1..].concat()),
        None => (String::new(), prefix.to_string()),
    }
}

/// The comments of a document with no table yet, ending in one blank line.
fn leading_comments(text: &str) -> String {
    let text = text.trim_end();
    if text.is_empty() {
        String::new()
    } else {
        format!("{text}\n\n")
    }
}

/// Sets `key`, keeping the comment after the old value; an equal value is left byte-for-byte.
fn set(table: &mut Table, key: &str, mut value: Value) {
    match table.get_mut(key).and_then(Item::as_value_mut) {
        Some(old) if same(old, &value) => {}
        Some(old) => {
            *value.decor_mut() = old.decor().clone();
            *old = value;
        }
        None => {
            table.insert(key, Item::Value(value));
        }
    }
}

fn set_opt(table: &mut Table, key: &str, value: Option<&str>) {
    match value {
        Some(v) => set(table, key, Value::from(v)),
        None => {
            table.remove(key);
        }
    }
}

fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::String(x), Value::String(y)) => x.value() == y.value(),
        (Value::Integer(x), Value::Integer(y)) => x.value() == y.value(),
        _ => false,
    }
}

fn entry(id: &str, t: &dyn toml_edit::TableLike) -> Result<ServerEntry, String> {
    let text = |key: &str| -> Result<Option<String>, String> {
        match t.get(key) {
            None => Ok(None),
            Some(item) => item
                .as_str()
                .map(|s| Some(s.to_string()))
                .ok_or_else(|| format!("`{key}` must be text in quotes")),
        }
    };
    let host = text("host")?
        .filter(|h| !h.trim().is_empty())
        .ok_or("`host` is missing")?;
    let port = match t.get("port") {
        None => 22,
        Some(item) => item
            .as_integer()
            .and_then(|p| u16::try_from(p).ok())
            .filter(|p| *p != 0)
            .ok_or("`port` must be a number from 1 to 65535")?,
    };
    let auth = match text("auth")? {
        None => AuthMethod::Agent,
        Some(a) => AuthMethod::parse(&a).ok_or(format!(
            "`auth = \"{a}\"` must be \"agent\", \"key\" or \"password\""
        ))?,
    };
    Ok(ServerEntry {
        id: id.to_string(),
        name: text("name")?.unwrap_or_else(|| id.to_string()),
        host,
        port,
        user: text("user")?.unwrap_or_else(|| "root".into()),
        auth,
        key_file: text("key_file")?,
        instance: text("instance")?,
        state_dir: text("state_dir")?,
        host_key_fingerprint: None,
        kind: ServerKind::Saved,
        scenario: None,
    })
}

/// Trims every field; empty optional fields become `None`; says in words what is wrong.
fn validate(input: &ServerInput) -> Result<ServerInput> {
    let opt = |v: &Option<String>| {
        v.as_ref()
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
    };
    let out = ServerInput {
        id: opt(&input.id),
        name: input.name.trim().to_string(),
        host: input.host.trim().to_string(),
        port: input.port,
        user: input.user.trim().to_string(),
        auth: input.auth,
        key_file: opt(&input.key_file),
        instance: opt(&input.instance),
        state_dir: opt(&input.state_dir),
    };
    if out.name.is_empty() {
        return Err(invalid(
            "The server needs a name.",
            "Any name you will recognise, e.g. \"Production\".",
        ));
    }
    if out.host.is_empty() || out.host.contains([' ', '/', '@']) {
        return Err(invalid(
            "The address is not a host name, an IP address or an SSH alias.",
            "Write only the host, e.g. odoo.example.com or 10.0.0.5; the user and port have their own fields.",
        ));
    }
    if out.port == Some(0) {
        return Err(invalid(
            "The port must be a number from 1 to 65535.",
            "SSH usually listens on 22.",
        ));
    }
    if out.user.is_empty() || out.user.contains([' ', ':', '@', '/']) {
        return Err(invalid(
            "The user name is missing or has a space, ':', '@' or '/'.",
            "The login you use with ssh, e.g. root or deploy.",
        ));
    }
    if out.auth == AuthMethod::Key && out.key_file.is_none() {
        return Err(invalid(
            "Logging in with a key file needs the key file's path.",
            "For example ~/.ssh/id_ed25519.",
        ));
    }
    if let Some(dir) = &out.state_dir {
        if !dir.starts_with('/') {
            return Err(invalid(
                "The record directory must be an absolute path on the server.",
                "Leave it empty for /var/lib/odoo-session-doctor.",
            ));
        }
    }
    Ok(out)
}

/// `Production EU` → `production-eu`.
fn slug(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    let out = out.trim_end_matches('-').to_string();
    if out.is_empty() {
        "server".into()
    } else {
        out
    }
}

/// The concrete `Host` aliases of an SSH client config (no wildcard or negated patterns, which
/// name groups of hosts rather than one), each resolved the way `ssh` would.
pub fn ssh_config_hosts(config: &Path, saved: &[ServerEntry]) -> Result<Vec<SshConfigHost>> {
    use osd_remote::sshconfig::{Context, SshConfig};
    let text = match std::fs::read_to_string(config) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => {
            return Err(ServersError::SshConfigUnreadable {
                path: config.to_path_buf(),
                source,
            })
        }
    };
    let ctx = Context::from_env();
    let parsed = SshConfig::load(config, &ctx)?;
    let mut aliases: Vec<String> = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        let (key, rest) = line
            .split_once(|c: char| c.is_whitespace() || c == '=')
            .unwrap_or((line, ""));
        if !key.eq_ignore_ascii_case("host") {
            continue;
        }
        for pattern in rest.trim_start_matches(['=', ' ', '\t']).split_whitespace() {
            let pattern = pattern.trim_matches('"');
            if pattern.contains(['*', '?', '!']) || aliases.iter().any(|a| a == pattern) {
                continue;
            }
            aliases.push(pattern.to_string());
        }
    }
    aliases
        .into_iter()
        .map(|alias| {
            let cfg = parsed.resolve(&alias, &ctx)?;
            Ok(SshConfigHost {
                already_saved: saved.iter().any(|s| s.host == alias),
                host_name: cfg.hostname.filter(|h| h != &alias),
                user: cfg.user.unwrap_or_else(|| ctx.local_user.clone()),
                port: cfg.port.unwrap_or(22),
                key_file: cfg.identity_files.first().map(|p| p.display().to_string()),
                alias,
            })
        })
        .collect()
}

/// A server input for an imported alias: the host stays the alias, so later edits of
/// ~/.ssh/config (a new address, a jump) keep applying.
pub fn input_from_ssh_host(h: &SshConfigHost) -> ServerInput {
    ServerInput {
        id: None,
        name: h.alias.clone(),
        host: h.alias.clone(),
        port: Some(h.port),
        user: h.user.clone(),
        auth: if h.key_file.is_some() {
            AuthMethod::Key
        } else {
            AuthMethod::Agent
        },
        key_file: h.key_file.clone(),
        instance: None,
        state_dir: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store(text: Option<&str>) -> (tempfile::TempDir, ServerStore) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("servers.toml");
        if let Some(t) = text {
            std::fs::write(&path, t).unwrap();
        }
        (dir, ServerStore::new(path))
    }

    fn input(name: &str, host: &str) -> ServerInput {
        ServerInput {
            id: None,
            name: name.into(),
            host: host.into(),
            port: None,
            user: "root".into(),
            auth: AuthMethod::Agent,
            key_file: None,
            instance: None,
            state_dir: None,
        }
    }

    const HAND_WRITTEN: &str = r#"# my servers, hand-written

# the big one
[servers.prod]
name = "Production"   # do not touch
host = "odoo.example.com"
port = 2222 # non-standard
user = "deploy"
auth = "key"
key_file = "~/.ssh/prod"

[servers.staging]
# staging comes second
name = "Staging"
host = "10.0.0.7"
"#;

    #[test]
    fn an_empty_store_lists_nothing_and_the_first_save_writes_a_header() {
        let (_dir, store) = store(None);
        assert_eq!(store.list().unwrap(), vec![]);
        let saved = store
            .save(&input("Production EU", "odoo.example.com"))
            .unwrap();
        assert_eq!(saved.id, "production-eu");
        assert_eq!(
            (saved.port, saved.auth, saved.kind),
            (22, AuthMethod::Agent, ServerKind::Saved)
        );
        let text = std::fs::read_to_string(store.path()).unwrap();
        assert!(
            text.starts_with("# Odoo Session Doctor: your saved servers."),
            "{text}"
        );
        assert!(
            text.contains("[servers.production-eu]\nname = \"Production EU\"\n"),
            "{text}"
        );
        assert!(
            !text.contains("[servers]\n"),
            "no empty parent table: {text}"
        );
    }

    #[test]
    fn reads_a_hand_written_file_in_its_order() {
        let (_dir, store) = store(Some(HAND_WRITTEN));
        let list = store.list().unwrap();
        assert_eq!(
            list.iter().map(|s| s.id.as_str()).collect::<Vec<_>>(),
            ["prod", "staging"]
        );
        assert_eq!(list[0].port, 2222);
        assert_eq!(list[0].key_file.as_deref(), Some("~/.ssh/prod"));
        assert_eq!(
            (list[1].port, list[1].user.as_str(), list[1].auth),
            (22, "root", AuthMethod::Agent)
        );
    }

    #[test]
    fn saving_unchanged_values_keeps_the_file_byte_for_byte() {
        let (_dir, store) = store(Some(HAND_WRITTEN));
        let prod = store.get("prod").unwrap();
        store
            .save(&ServerInput {
                id: Some("prod".into()),
                name: prod.name,
                host: prod.host,
                port: Some(prod.port),
                user: prod.user,
                auth: prod.auth,
                key_file: prod.key_file,
                instance: None,
                state_dir: None,
            })
            .unwrap();
        assert_eq!(std::fs::read_to_string(store.path()).unwrap(), HAND_WRITTEN);
    }

    #[test]
    fn an_edit_changes_only_its_values_and_keeps_every_comment() {
        let (_dir, store) = store(Some(HAND_WRITTEN));
        let mut edit = input("Production", "odoo2.example.com");
        edit.id = Some("prod".into());
        edit.port = Some(22);
        edit.user = "deploy".into();
        edit.auth = AuthMethod::Key;
        edit.key_file = Some("~/.ssh/prod".into());
        edit.instance = Some("/etc/odoo/odoo.conf".into());
        store.save(&edit).unwrap();
        let text = std::fs::read_to_string(store.path()).unwrap();
        let expected = HAND_WRITTEN
            .replace(
                "host = \"odoo.example.com\"",
                "host = \"odoo2.example.com\"",
            )
            .replace("port = 2222 # non-standard", "port = 22 # non-standard")
            .replace(
                "key_file = \"~/.ssh/prod\"\n",
                "key_file = \"~/.ssh/prod\"\ninstance = \"/etc/odoo/odoo.conf\"\n",
            );
        assert_eq!(text, expected);
    }

    #[test]
    fn removing_keeps_the_other_entries_and_comments() {
        let (_dir, store) = store(Some(HAND_WRITTEN));
        store.remove("prod").unwrap();
        let text = std::fs::read_to_string(store.path()).unwrap();
        assert!(text.starts_with("# my servers, hand-written\n"), "{text}");
        assert!(
            text.contains("[servers.staging]\n# staging comes second\n"),
            "{text}"
        );
        assert!(
            !text.contains("Production") && !text.contains("the big one"),
            "the entry goes with its own comment: {text}"
        );
        assert_eq!(store.remove("prod").unwrap_err().code(), "unknown_server");
    }

    #[test]
    fn a_new_server_goes_last_with_a_unique_id() {
        let (_dir, store) = store(Some(HAND_WRITTEN));
        let added = store.save(&input("prod", "10.0.0.9")).unwrap();
        assert_eq!(added.id, "prod-2");
        let ids: Vec<String> = store.list().unwrap().into_iter().map(|s| s.id).collect();
        assert_eq!(ids, ["prod", "staging", "prod-2"]);
    }

    #[test]
    fn bad_input_is_refused_in_plain_words() {
        let (_dir, store) = store(None);
        let mut bad = input("", "h");
        assert!(store
            .save(&bad)
            .unwrap_err()
            .to_string()
            .contains("needs a name"));
        bad = input("x", "root@h");
        assert!(store
            .save(&bad)
            .unwrap_err()
            .hint()
            .contains("the user and port have their own fields"));
        bad = input("x", "h");
        bad.auth = AuthMethod::Key;
        assert!(store
            .save(&bad)
            .unwrap_err()
            .to_string()
            .contains("key file's path"));
        bad = input("x", "h");
        bad.state_dir = Some("var/lib".into());
        assert_eq!(store.save(&bad).unwrap_err().code(), "invalid_server");
        assert!(!store.path().exists(), "nothing written");
    }

    #[test]
    fn a_broken_file_is_an_error_naming_the_file() {
        let (_dir, store) = store(Some("[servers.prod\nhost = 1"));
        let e = store.list().unwrap_err();
        assert_eq!(e.code(), "servers_file");
        assert!(e.to_string().contains("servers.toml"), "{e}");
        let (_dir, store) = store_with("[servers.prod]\nhost = \"h\"\nport = 70000\n");
        assert!(store
            .list()
            .unwrap_err()
            .to_string()
            .contains("servers.prod: `port` must be a number"));
    }

    fn store_with(text: &str) -> (tempfile::TempDir, ServerStore) {
        store(Some(text))
    }

    #[test]
    fn no_secret_field_is_ever_written() {
        let (_dir, store) = store(None);
        let mut i = input("p", "h");
        i.auth = AuthMethod::Password;
        store.save(&i).unwrap();
        let text = std::fs::read_to_string(store.path()).unwrap();
        assert!(
            text.contains("auth = \"password\"") && !text.contains("password ="),
            "{text}"
        );
    }

    #[test]
    fn imports_concrete_hosts_from_an_ssh_config() {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("config");
        std::fs::write(
            &config,
            "Host prod web-*\n  HostName 10.0.0.5\n  User deploy\n  Port 2200\n  IdentityFile /keys/prod\n\nHost staging !bad\n  User root\n\nHost *\n  ServerAliveInterval 30\n",
        )
        .unwrap();
        let saved = vec![entry("s", &{
            let mut t = Table::new();
            t.insert("host", toml_edit::value("staging"));
            t
        })
        .unwrap()];
        let hosts = ssh_config_hosts(&config, &saved).unwrap();
        assert_eq!(hosts.len(), 2, "{hosts:?}");
        assert_eq!(
            hosts[0],
            SshConfigHost {
                alias: "prod".into(),
                host_name: Some("10.0.0.5".into()),
                user: "deploy".into(),
                port: 2200,
                key_file: Some("/keys/prod".into()),
                already_saved: false
            }
        );
        assert_eq!(
            (
                hosts[1].alias.as_str(),
                hosts[1].user.as_str(),
                hosts[1].already_saved
            ),
            ("staging", "root", true)
        );
        let input = input_from_ssh_host(&hosts[0]);
        assert_eq!(
            (input.host.as_str(), input.auth, input.port),
            ("prod", AuthMethod::Key, Some(2200))
        );
        assert_eq!(
            ssh_config_hosts(&dir.path().join("missing"), &[]).unwrap(),
            vec![]
        );
    }
}
