//! The app's state between commands: saved servers, open connections, the last diagnosis and
//! plan of each, the host key waiting for the person's OK, and the apply running now.
//!
//! Everything here is glue over the engine (which connection, which options, what to remember),
//! free of Tauri so it is tested without a window; the commands in [`crate::commands`] are a few
//! lines over it. All of it is synchronous and runs on a blocking thread (see [`crate::blocking`]).
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use osd_engine::change::apply::{self, ApplyOptions};
use osd_engine::change::plan::{plan, FixRequest};
use osd_engine::change::{effect, record, ChangeSet};
use osd_engine::discover::{discover_with_progress, DiscoverOptions};
use osd_engine::probe::ProbeOptions;
use osd_engine::progress::{Progress, Step};
use osd_engine::sessions;
use osd_engine::{DiagnoseOptions, Diagnosis};
use osd_remote::{Ask, ConnectOptions, Host, Privilege, Prompt, RemoteError, Secret, Target};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::demo::{self, DEMO_SERVER_ID};
use crate::error::ErrorDetails;
use crate::fleet::{self, FleetRow, LastResult, LastResults};
use crate::progress::{self, ProgressEvent, ProgressSink};
use crate::servers::{self, ServerEntry, ServerInput, ServerStore, SshConfigHost};
use crate::views::{ApplyView, Connected, DiagnosisView, PlanView, RollbackView};
use crate::{AppError, AppResult};
pub use osd_servers::{Paths, ENV_CONFIG_DIR, ENV_SSH_CONFIG};

/// Secrets typed for one connection. Held as [`Secret`]s (never printed) and dropped with it.
#[derive(Default, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ConnectSecrets {
    #[ts(optional)]
    pub password: Option<String>,
    #[ts(optional)]
    pub key_passphrase: Option<String>,
    #[ts(optional)]
    pub sudo_password: Option<String>,
    /// The person said this login has no sudo: go on without root instead of asking.
    #[ts(optional)]
    pub skip_sudo: Option<bool>,
    /// Keep the secrets given here in the system keyring once the login worked (never in
    /// servers.toml); later connections use them when the server asks (osd_servers::secrets).
    #[ts(optional)]
    pub remember: Option<bool>,
}

impl std::fmt::Debug for ConnectSecrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ConnectSecrets(<redacted>)")
    }
}

/// Which secret the server asked for that was not given (or which are remembered).
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq, TS)]
#[serde(rename_all = "camelCase")]
pub enum SecretKind {
    Password,
    KeyPassphrase,
    SudoPassword,
}

impl SecretKind {
    fn of(kind: osd_servers::secrets::SecretKind) -> SecretKind {
        use osd_servers::secrets::SecretKind as K;
        match kind {
            K::SshPassword => SecretKind::Password,
            K::KeyPassphrase => SecretKind::KeyPassphrase,
            K::SudoPassword => SecretKind::SudoPassword,
        }
    }
}

/// Hands the engine the secrets the person typed, else the ones remembered in the system
/// keyring for this server (only when the server asks: ssh-agent and key files go first), and
/// remembers what it asked for and did not get.
struct Asker {
    password: Option<Secret>,
    key_passphrase: Option<Secret>,
    sudo_password: Option<Secret>,
    skip_sudo: bool,
    /// The saved server whose remembered secrets may answer (none for the demo lab).
    saved: Option<ServerEntry>,
    unanswered: Mutex<Vec<Prompt>>,
}

impl Asker {
    fn new(s: ConnectSecrets, saved: Option<ServerEntry>) -> Asker {
        let secret = |v: Option<String>| v.filter(|v| !v.is_empty()).map(Secret::new);
        Asker {
            password: secret(s.password),
            key_passphrase: secret(s.key_passphrase),
            sudo_password: secret(s.sudo_password),
            skip_sudo: s.skip_sudo.unwrap_or(false),
            saved,
            unanswered: Mutex::new(Vec::new()),
        }
    }

    /// After a login that worked: the typed secrets go to the keyring.
    fn remember(&self) -> Result<(), osd_servers::secrets::KeyringError> {
        use osd_servers::secrets::{self, SecretKind as K};
        let Some(server) = &self.saved else {
            return Ok(());
        };
        for (kind, given) in [
            (K::SshPassword, &self.password),
            (K::KeyPassphrase, &self.key_passphrase),
            (K::SudoPassword, &self.sudo_password),
        ] {
            if let Some(s) = given {
                secrets::remember(server, kind, s)?;
            }
        }
        Ok(())
    }

    /// A failed login becomes "this secret is needed" when the server asked for one not given.
    /// A sudo that wants a password nobody gave: ask for it rather than go on without root.
    fn sudo_needed(&self, host: &Host) -> Option<AppError> {
        if host.privilege() != Privilege::None || self.skip_sudo {
            return None;
        }
        let asked = self
            .unanswered
            .lock()
            .unwrap()
            .iter()
            .find(|p| matches!(p, Prompt::SudoPassword { .. }))
            .cloned()?;
        Some(secret_needed(SecretKind::SudoPassword, &asked))
    }

    fn explain(&self, error: RemoteError) -> AppError {
        let asked = self.unanswered.lock().unwrap().first().cloned();
        let wanted = match (&error, asked) {
            (RemoteError::AuthFailed { .. }, Some(p @ Prompt::SshPassword { .. })) => {
                Some((SecretKind::Password, p))
            }
            (
                RemoteError::AuthFailed { .. } | RemoteError::KeyPassphraseWrong { .. },
                Some(p @ Prompt::KeyPassphrase { .. }),
            ) => Some((SecretKind::KeyPassphrase, p)),
            (RemoteError::PrivilegeMissing { .. }, Some(p @ Prompt::SudoPassword { .. })) => {
                Some((SecretKind::SudoPassword, p))
            }
            _ => None,
        };
        match wanted {
            Some((secret, prompt)) => secret_needed(secret, &prompt),
            None => error.into(),
        }
    }
}

fn secret_needed(secret: SecretKind, prompt: &Prompt) -> AppError {
    AppError::new(
        "secret_needed",
        format!("The server asks for the {prompt}."),
        "Type it to go on; it is kept only if you tick Remember.",
    )
    .with_details(ErrorDetails::SecretNeeded {
        secret,
        prompt: prompt.to_string(),
    })
}

impl Ask for Asker {
    fn secret(&self, prompt: &Prompt) -> Option<Secret> {
        let typed = match prompt {
            Prompt::SshPassword { .. } => self.password.clone(),
            Prompt::KeyPassphrase { .. } => self.key_passphrase.clone(),
            Prompt::SudoPassword { .. } => self.sudo_password.clone(),
        };
        // No keyring (a desktop without one, a headless test) is not an error: the form asks.
        let given = typed.or_else(|| {
            let server = self.saved.as_ref()?;
            let kind = osd_servers::secrets::SecretKind::of(prompt);
            osd_servers::secrets::recall(server, kind).ok().flatten()
        });
        if given.is_none() {
            self.unanswered.lock().unwrap().push(prompt.clone());
        }
        given
    }
}

/// An unknown host key seen at the last connect, waiting for Trust (the key never leaves the backend).
#[derive(Debug, Clone)]
struct PendingKey {
    host: String,
    port: u16,
    key_type: String,
    key: String,
    fingerprint: String,
}

/// One open connection and what the wizard learned through it. Shared (`Arc`) by every command
/// running on it, so what changes while it is open (the chosen instance, the diagnoses, the
/// plan) sits behind its own lock: nothing ever needs the connection back out of its `Arc`.
pub struct Conn {
    pub server: ServerEntry,
    pub host: Host,
    /// Which Odoo instance to read; the instance chooser changes it on the open connection.
    discover: Mutex<DiscoverOptions>,
    pub state_dir: Option<String>,
    probe: Mutex<Option<ProbeOptions>>,
    /// The first diagnosis of this connection: the "before" of the report.
    first: Mutex<Option<Diagnosis>>,
    last: Mutex<Option<Diagnosis>>,
    plan: Mutex<Option<(u64, ChangeSet)>>,
}

impl Conn {
    fn root(&self) -> &str {
        self.state_dir.as_deref().unwrap_or(record::ROOT)
    }

    /// The records' applied change sets re-checked now, against the diagnosed instance (or the
    /// one discovered now, when nothing was diagnosed yet on this connection).
    fn effects(&self, records: &[record::Record]) -> AppResult<Vec<effect::Effect>> {
        let last = self.last.lock().unwrap().clone();
        let facts = match last {
            Some(d) => Some(d.facts),
            None => osd_engine::discover::discover(&self.host, &self.discover_options()).ok(),
        };
        Ok(effect::check(
            &self.host,
            facts.as_ref().map(|f| &f.odoo),
            records,
        )?)
    }

    fn last(&self) -> AppResult<Diagnosis> {
        self.last.lock().unwrap().clone().ok_or_else(|| {
            AppError::new(
                "not_diagnosed",
                "This server has not been diagnosed yet.",
                "Run the diagnosis first.",
            )
        })
    }

    /// What was learned about the Odoo read so far: after another choice it described another one.
    fn forget_diagnoses(&self) {
        *self.probe.lock().unwrap() = None;
        *self.first.lock().unwrap() = None;
        *self.last.lock().unwrap() = None;
        *self.plan.lock().unwrap() = None;
    }

    /// The discovery options in force (a copy: discovery runs without holding the lock).
    fn discover_options(&self) -> DiscoverOptions {
        self.discover.lock().unwrap().clone()
    }

    /// The instance diagnosed on this connection (config file or HTTP port), when one was chosen.
    pub fn instance(&self) -> Option<String> {
        self.discover.lock().unwrap().instance.clone()
    }

    fn apply_options(&self, cancel: Option<Arc<AtomicBool>>) -> ApplyOptions {
        // One lock, read into a local: a guard in a struct literal lives to the end of the
        // statement, so a second `lock()` in the same literal would deadlock.
        let probe = self.probe.lock().unwrap().clone();
        ApplyOptions {
            health_timeout: None,
            probe: probe.clone(),
            cancel,
            diagnose: DiagnoseOptions {
                discover: self.discover_options(),
                probe,
            },
            state_dir: self.state_dir.clone(),
            ..ApplyOptions::default()
        }
    }
}

/// The apply or rollback running now (one at a time in the whole app).
struct Running {
    cancel: Arc<AtomicBool>,
    cancellable: Arc<AtomicBool>,
    close_when_done: AtomicBool,
}

/// A test login for the live probe; nothing is stored.
#[derive(Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ProbeInput {
    pub login: String,
    pub password: String,
    /// The address users type (e.g. https://odoo.example.com); found from nginx when empty.
    #[ts(optional)]
    pub public_url: Option<String>,
}

impl std::fmt::Debug for ProbeInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProbeInput")
            .field("login", &self.login)
            .finish_non_exhaustive()
    }
}

/// The fixes and the choices made on the Fix screen.
#[derive(Debug, Clone, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct FixInput {
    pub checks: Vec<String>,
    /// A choice per check id, e.g. `{"session.lifetime": "604800"}`.
    pub values: std::collections::BTreeMap<String, String>,
}

/// Everything the commands reach.
pub struct App {
    pub paths: Paths,
    pub store: ServerStore,
    conns: Mutex<HashMap<String, Arc<Conn>>>,
    pending_keys: Mutex<HashMap<String, PendingKey>>,
    running: Mutex<Option<Arc<Running>>>,
    plans: AtomicU64,
    /// Each server's last result, for the Fleet screen.
    pub last_results: LastResults,
}

impl App {
    pub fn new(paths: Paths) -> App {
        let last_results = LastResults::new(paths.config_dir.join(fleet::RESULTS_FILE));
        App {
            store: ServerStore::new(paths.servers_file()),
            paths,
            conns: Mutex::new(HashMap::new()),
            pending_keys: Mutex::new(HashMap::new()),
            running: Mutex::new(None),
            plans: AtomicU64::new(0),
            last_results,
        }
    }

    // ----- servers ------------------------------------------------------------------------------

    /// The demo lab first (when in demo mode), then the saved servers in the file's order.
    pub fn list_servers(&self) -> AppResult<Vec<ServerEntry>> {
        let mut list = Vec::new();
        if let Some(path) = demo::lab_path() {
            list.push(demo::DemoLab::load(&path)?.server_entry());
        }
        list.extend(self.store.list()?);
        Ok(list)
    }

    pub fn server(&self, id: &str) -> AppResult<ServerEntry> {
        if id == DEMO_SERVER_ID {
            return Ok(demo_lab()?.server_entry());
        }
        Ok(self.store.get(id)?)
    }

    pub fn save_server(&self, input: &ServerInput) -> AppResult<ServerEntry> {
        let saved = self.store.save(input)?;
        // A changed address or login must not reuse the old connection.
        self.conns.lock().unwrap().remove(&saved.id);
        Ok(saved)
    }

    /// Which secrets the system keyring holds for the server (empty without a keyring).
    pub fn remembered_secrets(&self, server_id: &str) -> AppResult<Vec<SecretKind>> {
        if server_id == DEMO_SERVER_ID {
            return Ok(Vec::new());
        }
        let server = self.server(server_id)?;
        Ok(osd_servers::secrets::remembered(&server)
            .unwrap_or_default()
            .into_iter()
            .map(SecretKind::of)
            .collect())
    }

    /// Removes the server's remembered secrets from the system keyring; true when there were some.
    pub fn forget_secrets(&self, server_id: &str) -> AppResult<bool> {
        let server = self.server(server_id)?;
        osd_servers::secrets::forget(&server)
            .map_err(|e| AppError::new("keyring", e.to_string(), e.hint()))
    }

    pub fn remove_server(&self, id: &str) -> AppResult<()> {
        // Its remembered secrets go with it (best effort: there may be no keyring at all).
        if let Ok(server) = self.server(id) {
            let _ = osd_servers::secrets::forget(&server);
        }
        self.store.remove(id)?;
        self.conns.lock().unwrap().remove(id);
        // Best effort: a stale row of a removed server is never shown (rows follow the list).
        let _ = self.last_results.forget(id);
        Ok(())
    }

    pub fn ssh_config_hosts(&self) -> AppResult<Vec<SshConfigHost>> {
        match &self.paths.ssh_config {
            Some(path) => Ok(servers::ssh_config_hosts(path, &self.store.list()?)?),
            None => Ok(Vec::new()),
        }
    }

    /// Saves the chosen aliases of ~/.ssh/config as servers.
    pub fn import_ssh_hosts(&self, aliases: &[String]) -> AppResult<Vec<ServerEntry>> {
        let hosts = self.ssh_config_hosts()?;
        aliases
            .iter()
            .map(|alias| {
                let h = hosts.iter().find(|h| &h.alias == alias).ok_or_else(|| {
                    AppError::new(
                        "unknown_alias",
                        format!("\"{alias}\" is not a Host in your SSH config."),
                        "Open the import again to see the current list.",
                    )
                })?;
                Ok(self.store.save(&servers::input_from_ssh_host(h))?)
            })
            .collect()
    }

    // ----- connect ------------------------------------------------------------------------------

    fn connect_options(&self, server: &ServerEntry) -> AppResult<(Target, ConnectOptions)> {
        if server.id == DEMO_SERVER_ID {
            return Ok(demo_lab()?.connect_options());
        }
        Ok(osd_servers::connect_options(server, &self.paths))
    }

    /// Connects (host key verified first), checks the login can act as root, and looks for a
    /// change set an earlier connection left unfinished.
    pub fn connect(
        &self,
        server_id: &str,
        secrets: ConnectSecrets,
        progress: &dyn ProgressSink,
    ) -> AppResult<Connected> {
        let server = self.server(server_id)?;
        let result = self
            .open(server, secrets, progress)
            .map(|(conn, connected)| {
                self.conns
                    .lock()
                    .unwrap()
                    .insert(server_id.to_string(), Arc::new(conn));
                connected
            });
        progress.report(ProgressEvent::Finished);
        result
    }

    /// A new connection to `server` and what the connect screen shows of it, remembered nowhere
    /// (the caller decides: the wizard keeps it, a fleet run drops it after its diagnosis).
    fn open(
        &self,
        server: ServerEntry,
        secrets: ConnectSecrets,
        progress: &dyn ProgressSink,
    ) -> AppResult<(Conn, Connected)> {
        let server_id = server.id.clone();
        let (target, mut opts) = self.connect_options(&server)?;
        let remember = secrets.remember.unwrap_or(false);
        let saved = (server.id != DEMO_SERVER_ID).then(|| server.clone());
        let asker = Asker::new(secrets, saved);
        if let Some(p) = &asker.password {
            opts.password = Some(p.clone());
        }
        if let Some(p) = &asker.key_passphrase {
            opts.key_passphrase = Some(p.clone());
        }
        if let Some(p) = &asker.sudo_password {
            opts.sudo_password = Some(p.clone());
        }
        progress.report(progress::step(
            Step::Connecting,
            format!(
                "Connecting to {}:{} and checking its host key…",
                server.host, server.port
            ),
        ));
        let host = match Host::connect(&target, &opts, &asker) {
            Ok(host) => host,
            Err(e) => {
                if let RemoteError::UnknownHostKey {
                    host,
                    port,
                    key_type,
                    fingerprint,
                    key,
                } = &e
                {
                    let pending = PendingKey {
                        host: host.clone(),
                        port: *port,
                        key_type: key_type.clone(),
                        key: key.clone(),
                        fingerprint: fingerprint.clone(),
                    };
                    self.pending_keys.lock().unwrap().insert(server_id, pending);
                }
                return Err(asker.explain(e));
            }
        };
        if let Some(error) = asker.sudo_needed(&host) {
            return Err(error);
        }
        progress.report(progress::step(
            Step::Identifying,
            "Connected. Checking what this login may do…",
        ));
        let host_name = host
            .run_checked(&osd_remote::Cmd::new("hostname"))?
            .stdout_str()
            .trim()
            .to_string();
        let state_dir = server.state_dir.clone();
        let root = state_dir.as_deref().unwrap_or(record::ROOT);
        let unfinished = match host.privilege() {
            Privilege::None => Vec::new(),
            _ => record::unfinished(&host, root)?,
        };
        let mut connected = Connected::new(&server, &host, host_name, unfinished);
        if remember {
            // The login worked; a keyring that refuses only costs the remembering.
            if let Err(e) = asker.remember() {
                connected.keyring_note = Some(format!("{e} {}", e.hint()));
            }
        }
        connected.remembered = self.remembered_secrets(&server.id).unwrap_or_default();
        let conn = Conn {
            discover: Mutex::new(DiscoverOptions {
                instance: server.instance.clone(),
                ..DiscoverOptions::default()
            }),
            state_dir,
            server,
            host,
            probe: Mutex::new(None),
            first: Mutex::new(None),
            last: Mutex::new(None),
            plan: Mutex::new(None),
        };
        Ok((conn, connected))
    }

    /// Stores the host key the last connect saw in the app's known_hosts. The key is the one the
    /// server itself sent (kept in the backend), never one the UI could make up.
    pub fn trust_host_key(&self, server_id: &str, fingerprint: &str) -> AppResult<()> {
        let pending = self
            .pending_keys
            .lock()
            .unwrap()
            .remove(server_id)
            .ok_or_else(|| {
                AppError::new(
                    "no_pending_key",
                    "There is no new host key waiting to be trusted for this server.",
                    "Connect again.",
                )
            })?;
        if pending.fingerprint != fingerprint {
            return Err(AppError::new(
                "key_mismatch",
                "The host key shown is not the one the server sent.",
                "Connect again to see the current key.",
            ));
        }
        let file = match self.server(server_id)? {
            s if s.id == DEMO_SERVER_ID => self.connect_options(&s)?.1.app_known_hosts_file,
            _ => self.paths.known_hosts(),
        };
        osd_remote::accept_host_key(
            &file,
            &pending.host,
            pending.port,
            &pending.key_type,
            &pending.key,
        )?;
        Ok(())
    }

    fn conn(&self, server_id: &str) -> AppResult<Arc<Conn>> {
        self.conns
            .lock()
            .unwrap()
            .get(server_id)
            .cloned()
            .ok_or_else(|| AppError::not_connected(server_id))
    }

    pub fn disconnect(&self, server_id: &str) {
        self.conns.lock().unwrap().remove(server_id);
    }

    /// Remembers which Odoo instance of the host to diagnose (several are set up there), on the
    /// open connection and in the saved server. What was learned about the previous instance
    /// (its diagnoses, plan and test login) is forgotten: it described another Odoo.
    pub fn choose_instance(&self, server_id: &str, instance: &str) -> AppResult<()> {
        let conn = self.conn(server_id)?;
        let instance = instance.trim();
        if instance.is_empty() {
            return Err(AppError::new(
                "invalid",
                "No Odoo server was chosen.",
                "Choose one of the Odoo servers in the list.",
            ));
        }
        {
            let mut discover = conn.discover.lock().unwrap();
            discover.instance = Some(instance.to_string());
            // Another instance serves other databases.
            discover.databases.clear();
        }
        conn.forget_diagnoses();
        if conn.server.id != DEMO_SERVER_ID {
            let s = &conn.server;
            self.store.save(&ServerInput {
                id: Some(s.id.clone()),
                name: s.name.clone(),
                host: s.host.clone(),
                port: Some(s.port),
                user: s.user.clone(),
                auth: s.auth,
                key_file: s.key_file.clone(),
                instance: Some(instance.to_string()),
                state_dir: s.state_dir.clone(),
            })?;
        }
        Ok(())
    }

    /// The databases to diagnose (and ever write to) when the instance's config cannot decide
    /// which ones it serves; empty goes back to Odoo's own rules. For this connection only.
    pub fn choose_databases(&self, server_id: &str, databases: &[String]) -> AppResult<()> {
        let conn = self.conn(server_id)?;
        let mut chosen: Vec<String> = databases
            .iter()
            .map(|d| d.trim().to_string())
            .filter(|d| !d.is_empty())
            .collect();
        chosen.sort();
        chosen.dedup();
        conn.discover.lock().unwrap().databases = chosen;
        conn.forget_diagnoses();
        Ok(())
    }

    // ----- diagnose, plan, apply ----------------------------------------------------------------

    pub fn diagnose(
        &self,
        server_id: &str,
        probe_input: Option<ProbeInput>,
        progress: &dyn ProgressSink,
    ) -> AppResult<DiagnosisView> {
        let conn = self.conn(server_id)?;
        let result = (|| {
            let probe = probe_input.map(|p| {
                let mut opts = ProbeOptions {
                    login: p.login.trim().to_string(),
                    password: Secret::new(p.password),
                    public_url: p.public_url.filter(|u| !u.trim().is_empty()),
                    resolve: Vec::new(),
                };
                if conn.server.id == DEMO_SERVER_ID {
                    let routes = demo::lab_path()
                        .and_then(|path| demo::DemoLab::load(&path).ok()?.probe_routes());
                    if let Some((url, resolve)) = routes {
                        opts.public_url.get_or_insert(url);
                        opts.resolve = resolve;
                    }
                }
                opts
            });
            let opts = DiagnoseOptions {
                discover: conn.discover_options(),
                probe,
            };
            let sink = |p: &Progress| progress.report(progress::from_engine(p, false));
            let d = osd_engine::diagnose_with_progress(&conn.host, &opts, &sink)?;
            if opts.probe.is_some() {
                *conn.probe.lock().unwrap() = opts.probe;
            }
            conn.first.lock().unwrap().get_or_insert_with(|| d.clone());
            *conn.last.lock().unwrap() = Some(d.clone());
            self.remember(&conn.server.id, &d);
            Ok::<_, AppError>(DiagnosisView::new(&d))
        })();
        progress.report(ProgressEvent::Finished);
        result
    }

    /// Plans the given fixes against the last diagnosis. The plan is kept under its id: Apply
    /// applies exactly what was previewed, never a plan made afresh.
    pub fn plan_fix(&self, server_id: &str, input: &FixInput) -> AppResult<PlanView> {
        let conn = self.conn(server_id)?;
        let d = conn.last()?;
        let request = FixRequest::parse(
            input.checks.iter().map(String::as_str),
            input.values.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        )?;
        let changeset = plan(&conn.host, &d, &request)?;
        let id = self.plans.fetch_add(1, Ordering::SeqCst) + 1;
        *conn.plan.lock().unwrap() = Some((id, changeset.clone()));
        Ok(PlanView {
            plan_id: id,
            changeset,
        })
    }

    fn begin(&self, cancellable: bool) -> AppResult<Arc<Running>> {
        let mut running = self.running.lock().unwrap();
        if running.is_some() {
            return Err(AppError::new(
                "busy",
                "Another change is being applied or rolled back right now.",
                "Wait for it to finish.",
            ));
        }
        let r = Arc::new(Running {
            cancel: Arc::new(AtomicBool::new(false)),
            cancellable: Arc::new(AtomicBool::new(cancellable)),
            close_when_done: AtomicBool::new(false),
        });
        *running = Some(r.clone());
        Ok(r)
    }

    /// Ends the running apply; true when the window asked to close meanwhile.
    fn end(&self) -> bool {
        self.running
            .lock()
            .unwrap()
            .take()
            .is_some_and(|r| r.close_when_done.load(Ordering::SeqCst))
    }

    pub fn is_busy(&self) -> bool {
        self.running.lock().unwrap().is_some()
    }

    /// Applies the previewed plan `plan_id`, streaming progress; the result says per change
    /// whether it persisted, or why everything was rolled back. The returned flag asks the
    /// caller to close the window (the person asked to close while it ran).
    pub fn apply(
        &self,
        server_id: &str,
        plan_id: u64,
        progress: Arc<dyn ProgressSink>,
    ) -> AppResult<(ApplyView, bool)> {
        let conn = self.conn(server_id)?;
        let before = conn.last()?;
        let changeset = match conn.plan.lock().unwrap().clone() {
            Some((id, cs)) if id == plan_id => cs,
            _ => {
                return Err(AppError::new(
                    "stale_plan",
                    "The preview is out of date.",
                    "Go back one step and look at the preview again.",
                ))
            }
        };
        let running = self.begin(true)?;
        let opts = conn.apply_options(Some(running.cancel.clone()));
        let cancellable = running.cancellable.clone();
        let events = progress.clone();
        let sink = move |p: &Progress| {
            if let Progress::Step { step, .. } = p {
                if step.ends_cancel() {
                    cancellable.store(false, Ordering::SeqCst);
                }
            }
            events.report(progress::from_engine(p, cancellable.load(Ordering::SeqCst)));
        };
        let result = apply::apply(&conn.host, &before, &changeset, &opts, &sink);
        let close = self.end();
        progress.report(ProgressEvent::Finished);
        let result = result?;
        if let Some(after) = &result.after {
            *conn.last.lock().unwrap() = Some(after.clone());
            self.remember(&conn.server.id, after);
        }
        *conn.plan.lock().unwrap() = None;
        Ok((ApplyView::new(result, changeset), close))
    }

    /// Asks the running apply to stop. True when it still can (before the restart); false when
    /// it is past that point (it then finishes, and verifies or rolls back by itself).
    pub fn cancel_apply(&self) -> bool {
        match &*self.running.lock().unwrap() {
            Some(r) if r.cancellable.load(Ordering::SeqCst) => {
                r.cancel.store(true, Ordering::SeqCst);
                true
            }
            _ => false,
        }
    }

    /// The window wants to close. With nothing running: close now (true). Otherwise the person
    /// chose "stop safely and close": cancel if still possible, and close once the apply has
    /// ended (rolled back or verified) — never in between.
    pub fn close_when_idle(&self) -> bool {
        let running = self.running.lock().unwrap();
        match &*running {
            None => true,
            Some(r) => {
                if r.cancellable.load(Ordering::SeqCst) {
                    r.cancel.store(true, Ordering::SeqCst);
                }
                r.close_when_done.store(true, Ordering::SeqCst);
                false
            }
        }
    }

    pub fn history(&self, server_id: &str) -> AppResult<Vec<record::Record>> {
        let conn = self.conn(server_id)?;
        let mut records = record::history(&conn.host, conn.root())?;
        records.reverse();
        Ok(records)
    }

    /// The applied change sets re-checked against the server now (History marks what is no
    /// longer in effect). Parameters are read from the diagnosed instance's databases; before a
    /// diagnosis, the instance is discovered for it.
    pub fn history_now(&self, server_id: &str) -> AppResult<Vec<effect::Effect>> {
        let conn = self.conn(server_id)?;
        let records = record::history(&conn.host, conn.root())?;
        Ok(conn.effects(&records)?)
    }

    /// Rolls a recorded change set back, then diagnoses again so the person sees the state it
    /// restored.
    pub fn rollback(
        &self,
        server_id: &str,
        changeset_id: &str,
        progress: Arc<dyn ProgressSink>,
    ) -> AppResult<(RollbackView, bool)> {
        let conn = self.conn(server_id)?;
        let _running = self.begin(false)?;
        let result = (|| {
            let sink = |p: &Progress| progress.report(progress::from_engine(p, false));
            let facts = discover_with_progress(&conn.host, &conn.discover_options(), &sink)?;
            let opts = conn.apply_options(None);
            let result =
                apply::rollback(&conn.host, &facts, Some(changeset_id), false, &opts, &sink)?;
            progress.report(progress::step(
                Step::Verify,
                "Diagnosing again to show the state now…",
            ));
            let after = osd_engine::diagnose(&conn.host, &opts.diagnose)?;
            *conn.last.lock().unwrap() = Some(after.clone());
            self.remember(&conn.server.id, &after);
            Ok::<_, AppError>(RollbackView {
                result,
                after: DiagnosisView::new(&after),
            })
        })();
        let close = self.end();
        progress.report(ProgressEvent::Finished);
        Ok((result?, close))
    }

    // ----- sessions -----------------------------------------------------------------------------

    /// The diagnosis the Sessions screen reads with: the last one of this connection, else a
    /// fresh one (the sessions folder, the version and the databases served come from it).
    fn sessions_diagnosis(&self, conn: &Conn) -> AppResult<Diagnosis> {
        if let Some(d) = conn.last.lock().unwrap().clone() {
            return Ok(d);
        }
        let opts = DiagnoseOptions {
            discover: conn.discover_options(),
            probe: None,
        };
        let d = osd_engine::diagnose(&conn.host, &opts)?;
        conn.first.lock().unwrap().get_or_insert_with(|| d.clone());
        *conn.last.lock().unwrap() = Some(d.clone());
        self.remember(&conn.server.id, &d);
        Ok(d)
    }

    /// Who is logged in now (the engine reads the files on the host; no session id comes back).
    pub fn sessions(&self, server_id: &str) -> AppResult<sessions::SessionsReport> {
        let conn = self.conn(server_id)?;
        let d = self.sessions_diagnosis(&conn)?;
        Ok(sessions::list(&conn.host, &d, conn.root())?)
    }

    /// What a log-out would do, from a fresh listing.
    pub fn preview_logout(
        &self,
        server_id: &str,
        who: &sessions::Who,
    ) -> AppResult<sessions::LogoutPreview> {
        let conn = self.conn(server_id)?;
        let d = self.sessions_diagnosis(&conn)?;
        let report = sessions::list(&conn.host, &d, conn.root())?;
        Ok(sessions::preview_logout(&d, &report, who)?)
    }

    /// Logs out, once the person typed what the preview asked for (the engine checks it). Not
    /// while a change is being applied: one thing at a time on a server.
    pub fn log_out(
        &self,
        server_id: &str,
        who: &sessions::Who,
        confirmation: &str,
    ) -> AppResult<sessions::LogoutOutcome> {
        let conn = self.conn(server_id)?;
        let d = self.sessions_diagnosis(&conn)?;
        let _running = self.begin(false)?;
        let result = sessions::log_out(&conn.host, &d, who, confirmation, conn.root());
        self.end();
        Ok(result?)
    }

    // ----- fleet --------------------------------------------------------------------------------

    /// A diagnosis ended: the Fleet screen shows it as the server's last result. Best effort: a
    /// config dir that cannot be written costs the overview a row's age, never the diagnosis.
    fn remember(&self, server_id: &str, d: &Diagnosis) {
        let _ = self
            .last_results
            .record(server_id, LastResult::diagnosed(d));
    }

    /// Every server (as the Servers screen lists them) with its last result.
    pub fn fleet_overview(&self) -> AppResult<Vec<FleetRow>> {
        let mut last = self.last_results.all();
        Ok(self
            .list_servers()?
            .into_iter()
            .map(|server| FleetRow {
                last: last.remove(&server.id),
                server,
            })
            .collect())
    }

    /// Diagnoses every server, [`fleet::FORKS`] at a time, each over a connection of its own (the
    /// wizard's connection stays as it is). Reports `serverStarted` and `serverFinished` per
    /// server; a server that fails or needs the person is a result, never a stop or a question.
    pub fn diagnose_all(&self, progress: &dyn ProgressSink) -> AppResult<Vec<FleetRow>> {
        let servers = match self.list_servers() {
            Ok(s) => s,
            Err(e) => {
                progress.report(ProgressEvent::Finished);
                return Err(e);
            }
        };
        let results = osd_engine::fleet::run_bounded(
            &servers,
            fleet::FORKS,
            |_, server| {
                progress.report(ProgressEvent::ServerStarted {
                    server_id: server.id.clone(),
                });
                let result = match self.diagnose_quietly(server) {
                    Ok(d) => LastResult::diagnosed(&d),
                    Err(e) => LastResult::failed(&e),
                };
                let _ = self.last_results.record(&server.id, result.clone());
                result
            },
            |i, result| {
                progress.report(ProgressEvent::ServerFinished {
                    server_id: servers[i].id.clone(),
                    result: result.clone(),
                })
            },
        );
        progress.report(ProgressEvent::Finished);
        Ok(servers
            .into_iter()
            .zip(results)
            .map(|(server, last)| FleetRow {
                server,
                last: Some(last),
            })
            .collect())
    }

    /// The wizard's connect path with no secret to give (a fleet run asks nothing), then a
    /// diagnosis of the saved instance; the connection closes when it is done.
    fn diagnose_quietly(&self, server: &ServerEntry) -> AppResult<Diagnosis> {
        let (conn, _) = self.open(server.clone(), ConnectSecrets::default(), &())?;
        let opts = DiagnoseOptions {
            discover: conn.discover_options(),
            probe: None,
        };
        Ok(osd_engine::diagnose(&conn.host, &opts)?)
    }

    /// The report's text (rendered by the engine) and a file name to suggest.
    pub fn render_report(
        &self,
        server_id: &str,
        format: crate::views::ReportFormat,
    ) -> AppResult<(String, String)> {
        let parts = self.report_parts(server_id)?;
        let text = crate::report::render(&parts, format)?;
        Ok((
            text,
            crate::report::suggested_name(&parts.saved_name, format),
        ))
    }

    /// The connection's first and last diagnosis and the host's records: what a report is made of.
    pub fn report_inputs(
        &self,
        server_id: &str,
    ) -> AppResult<(Diagnosis, Option<Diagnosis>, Vec<record::Record>, String)> {
        let conn = self.conn(server_id)?;
        let last = conn.last()?;
        let first = conn.first.lock().unwrap().clone();
        let before = first.filter(|f| !same_findings(f, &last));
        let records = record::history(&conn.host, conn.root())?;
        let target = format!(
            "{}@{}:{}",
            conn.server.user, conn.server.host, conn.server.port
        );
        Ok((last, before, records, target))
    }

    /// Everything the report is made of: the diagnoses, the records, each applied change set
    /// re-checked now, how the server is reached and the name it was saved under.
    pub fn report_parts(&self, server_id: &str) -> AppResult<crate::report::Parts> {
        let (last, before, records, target) = self.report_inputs(server_id)?;
        let conn = self.conn(server_id)?;
        let effects = effect::check(&conn.host, Some(&last.facts.odoo), &records)?;
        Ok(crate::report::Parts {
            last,
            before,
            records,
            effects,
            target,
            saved_name: conn.server.name.clone(),
        })
    }
}

/// The lab `scripts/demo` started (the demo server's connection and entry come from it).
fn demo_lab() -> AppResult<demo::DemoLab> {
    let path = demo::lab_path().ok_or_else(|| {
        AppError::new(
            "no_demo_lab",
            "The app is not in demo mode.",
            "Start it with scripts/demo.",
        )
    })?;
    demo::DemoLab::load(&path)
}

fn same_findings(a: &Diagnosis, b: &Diagnosis) -> bool {
    a.checks
        .iter()
        .map(|c| (c.id, c.status))
        .eq(b.checks.iter().map(|c| (c.id, c.status)))
}
