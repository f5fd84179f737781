//! The commands the UI calls (through `ui/api.js` only). Each is a few lines: take the state,
//! call the engine (through [`crate::session::App`], which remembers connections and plans),
//! map the error. Long work runs on a blocking thread ([`blocking`]) so the window never freezes.
use std::path::PathBuf;
use std::sync::Arc;

use tauri::ipc::Channel;
use tauri::{Manager, State, WebviewWindow};

use crate::fleet::FleetRow;
use crate::progress::ProgressEvent;
use crate::servers::{ServerEntry, ServerInput, SshConfigHost};
use crate::session::{App, ConnectSecrets, FixInput, ProbeInput};
use crate::views::{
    AppInfo, ApplyView, Connected, DiagnosisView, ExportedReport, PlanView, ReportFormat,
    RollbackView,
};
use crate::{blocking, demo, report, AppResult};

type AppState<'a> = State<'a, Arc<App>>;

#[tauri::command]
pub fn app_info(app: AppState) -> AppInfo {
    AppInfo {
        name: "Odoo Session Doctor".into(),
        version: env!("CARGO_PKG_VERSION").into(),
        demo: demo::lab_path().is_some(),
        servers_file: app.store.path().display().to_string(),
    }
}

#[tauri::command]
pub async fn list_servers(app: AppState<'_>) -> AppResult<Vec<ServerEntry>> {
    let app = app.inner().clone();
    blocking(move || app.list_servers()).await
}

#[tauri::command]
pub async fn save_server(app: AppState<'_>, server: ServerInput) -> AppResult<ServerEntry> {
    let app = app.inner().clone();
    blocking(move || app.save_server(&server)).await
}

#[tauri::command]
pub async fn remove_server(app: AppState<'_>, server_id: String) -> AppResult<()> {
    let app = app.inner().clone();
    blocking(move || app.remove_server(&server_id)).await
}

#[tauri::command]
pub async fn ssh_config_hosts(app: AppState<'_>) -> AppResult<Vec<SshConfigHost>> {
    let app = app.inner().clone();
    blocking(move || app.ssh_config_hosts()).await
}

#[tauri::command]
pub async fn import_ssh_hosts(
    app: AppState<'_>,
    aliases: Vec<String>,
) -> AppResult<Vec<ServerEntry>> {
    let app = app.inner().clone();
    blocking(move || app.import_ssh_hosts(&aliases)).await
}

/// The native "open file" dialog for a server's key file: its path, or `None` when cancelled.
#[tauri::command]
pub async fn choose_key_file() -> Option<String> {
    crate::key_file::pick()
        .await
        .map(|p| p.display().to_string())
}

/// Opens an SSH connection (host key verified first); an unknown key comes back as the error
/// `unknown_host_key` with its fingerprint, to be trusted with [`trust_host_key`].
#[tauri::command]
pub async fn connect(
    app: AppState<'_>,
    server_id: String,
    secrets: Option<ConnectSecrets>,
    on_progress: Channel<ProgressEvent>,
) -> AppResult<Connected> {
    let app = app.inner().clone();
    blocking(move || app.connect(&server_id, secrets.unwrap_or_default(), &on_progress)).await
}

/// Which secrets the system keyring holds for the server (the connect form offers Forget).
#[tauri::command]
pub async fn remembered_secrets(
    app: AppState<'_>,
    server_id: String,
) -> AppResult<Vec<crate::session::SecretKind>> {
    let app = app.inner().clone();
    blocking(move || app.remembered_secrets(&server_id)).await
}

/// Removes the server's remembered secrets from the system keyring.
#[tauri::command]
pub async fn forget_secrets(app: AppState<'_>, server_id: String) -> AppResult<bool> {
    let app = app.inner().clone();
    blocking(move || app.forget_secrets(&server_id)).await
}

#[tauri::command]
pub async fn trust_host_key(
    app: AppState<'_>,
    server_id: String,
    fingerprint: String,
) -> AppResult<()> {
    let app = app.inner().clone();
    blocking(move || app.trust_host_key(&server_id, &fingerprint)).await
}

#[tauri::command]
pub async fn choose_instance(
    app: AppState<'_>,
    server_id: String,
    instance: String,
) -> AppResult<()> {
    let app = app.inner().clone();
    blocking(move || app.choose_instance(&server_id, &instance)).await
}

#[tauri::command]
pub async fn choose_databases(
    app: AppState<'_>,
    server_id: String,
    databases: Vec<String>,
) -> AppResult<()> {
    let app = app.inner().clone();
    blocking(move || app.choose_databases(&server_id, &databases)).await
}

#[tauri::command]
pub async fn diagnose(
    app: AppState<'_>,
    server_id: String,
    probe: Option<ProbeInput>,
    on_progress: Channel<ProgressEvent>,
) -> AppResult<DiagnosisView> {
    let app = app.inner().clone();
    blocking(move || app.diagnose(&server_id, probe, &on_progress)).await
}

#[tauri::command]
pub async fn plan_fix(app: AppState<'_>, server_id: String, fix: FixInput) -> AppResult<PlanView> {
    let app = app.inner().clone();
    blocking(move || app.plan_fix(&server_id, &fix)).await
}

/// Applies the previewed plan. If the person asked to close the window meanwhile, the window
/// closes once the apply has ended (verified or rolled back), never half-way.
#[tauri::command]
pub async fn apply_fix(
    app: AppState<'_>,
    window: WebviewWindow,
    server_id: String,
    plan_id: u64,
    on_progress: Channel<ProgressEvent>,
) -> AppResult<ApplyView> {
    let app = app.inner().clone();
    let (view, close) =
        blocking(move || app.apply(&server_id, plan_id, Arc::new(on_progress))).await?;
    close_if(close, &window);
    Ok(view)
}

#[tauri::command]
pub fn cancel_apply(app: AppState) -> bool {
    app.cancel_apply()
}

/// "Stop safely and close" from the close dialog: true when the window may close now.
#[tauri::command]
pub fn close_when_idle(app: AppState, window: WebviewWindow) -> bool {
    let now = app.close_when_idle();
    close_if(now, &window);
    now
}

#[tauri::command]
pub async fn history(
    app: AppState<'_>,
    server_id: String,
) -> AppResult<Vec<osd_engine::change::record::Record>> {
    let app = app.inner().clone();
    blocking(move || app.history(&server_id)).await
}

/// The applied change sets re-checked against the server now.
#[tauri::command]
pub async fn history_now(
    app: AppState<'_>,
    server_id: String,
) -> AppResult<Vec<osd_engine::change::effect::Effect>> {
    let app = app.inner().clone();
    blocking(move || app.history_now(&server_id)).await
}

/// Who is logged in to the server's instance now (counts per user, ages, devices, the chart).
#[tauri::command]
pub async fn list_sessions(
    app: AppState<'_>,
    server_id: String,
) -> AppResult<osd_engine::sessions::SessionsReport> {
    let app = app.inner().clone();
    blocking(move || app.sessions(&server_id)).await
}

/// How many sessions of whom a log-out would delete, and what to type to confirm it.
#[tauri::command]
pub async fn preview_logout(
    app: AppState<'_>,
    server_id: String,
    who: osd_engine::sessions::Who,
) -> AppResult<osd_engine::sessions::LogoutPreview> {
    let app = app.inner().clone();
    blocking(move || app.preview_logout(&server_id, &who)).await
}

/// Logs out (cannot be undone); `confirmation` is what the person typed.
#[tauri::command]
pub async fn log_out(
    app: AppState<'_>,
    server_id: String,
    who: osd_engine::sessions::Who,
    confirmation: String,
) -> AppResult<osd_engine::sessions::LogoutOutcome> {
    let app = app.inner().clone();
    blocking(move || app.log_out(&server_id, &who, &confirmation)).await
}

#[tauri::command]
pub async fn rollback(
    app: AppState<'_>,
    window: WebviewWindow,
    server_id: String,
    changeset_id: String,
    on_progress: Channel<ProgressEvent>,
) -> AppResult<RollbackView> {
    let app = app.inner().clone();
    let (view, close) =
        blocking(move || app.rollback(&server_id, &changeset_id, Arc::new(on_progress))).await?;
    close_if(close, &window);
    Ok(view)
}

/// Renders the report, asks where to save it (the native dialog, see [`report::save_dialog`])
/// and writes it.
/// `None`: the person cancelled the dialog.
#[tauri::command]
pub async fn export_report(
    app: AppState<'_>,
    server_id: String,
    format: ReportFormat,
) -> AppResult<Option<ExportedReport>> {
    let app = app.inner().clone();
    let (text, suggested) = blocking(move || app.render_report(&server_id, format)).await?;
    let Some(path) = ask_save_path(suggested, format).await else {
        return Ok(None);
    };
    Ok(Some(report::save(&path, &text, format)?))
}

#[tauri::command]
pub fn open_report(path: String) -> AppResult<()> {
    report::open(&PathBuf::from(path))
}

/// Opens a finding's reference in the browser (https only).
#[tauri::command]
pub fn open_link(url: String) -> AppResult<()> {
    report::open_link(&url)
}

async fn ask_save_path(suggested: String, format: ReportFormat) -> Option<PathBuf> {
    match report::test_save_path() {
        Some(path) => Some(path),
        None => report::save_dialog(suggested, format).await,
    }
}

fn close_if(close: bool, window: &WebviewWindow) {
    if close {
        window.app_handle().exit(0);
    }
}

/// Every saved server with its last result (the Fleet screen).
#[tauri::command]
pub async fn fleet_overview(app: AppState<'_>) -> AppResult<Vec<FleetRow>> {
    let app = app.inner().clone();
    blocking(move || app.fleet_overview()).await
}

/// Diagnoses every server a few at a time; each one's start and result arrive as progress events.
#[tauri::command]
pub async fn diagnose_all(
    app: AppState<'_>,
    on_progress: Channel<ProgressEvent>,
) -> AppResult<Vec<FleetRow>> {
    let app = app.inner().clone();
    blocking(move || app.diagnose_all(&on_progress)).await
}
