//! Odoo Session Doctor's desktop shell (Tauri v2).
//!
//! This crate owns the window, the command surface the UI calls and the progress channels; it
//! owns no diagnosis or fixing logic. Every command is a few lines: take arguments and state,
//! call the engine (`osd-engine`, `osd-remote`) through [`session::App`] (which remembers
//! connections, diagnoses and previewed plans between commands), map the error to [`AppError`].
//! Anything longer belongs in a crate under `crates/`, where the CLI can reach it too.
//!
//! Work that can take more than a frame (SSH, probes, applying changes) runs on a blocking thread
//! via [`blocking`], so the window never freezes. Progress goes to the UI as typed events over a
//! `tauri::ipc::Channel<ProgressEvent>` passed by the caller (see [`progress`]). Every type that
//! crosses to the UI has a TypeScript declaration generated into ui/types/bindings.d.ts
//! ([`bindings`]).

// AppError carries what a person needs (both fingerprints of a changed key...); errors are rare
// and never on a hot path, so its size does not matter (as in osd-remote).
#![allow(clippy::result_large_err)]

pub mod bindings;
pub mod commands;
pub mod demo;
pub mod error;
pub mod fleet;
pub mod key_file;
pub mod progress;
pub mod report;
pub mod session;
pub mod views;

use std::sync::Arc;

pub use error::{AppError, AppResult};
/// Saved servers live in a crate the CLI shares; the app reaches them under their old name.
pub use osd_servers as servers;
use tauri::{Emitter, Manager};

/// Runs `work` on Tokio's blocking pool and waits for it without blocking the async runtime.
/// A panic in `work` comes back as an `internal` error instead of a UI that waits forever.
/// (The engine's PostgreSQL client is synchronous and must not run on a runtime thread.)
pub async fn blocking<T, F>(work: F) -> AppResult<T>
where
    T: Send + 'static,
    F: FnOnce() -> AppResult<T> + Send + 'static,
{
    tauri::async_runtime::spawn_blocking(work)
        .await
        .map_err(AppError::internal)?
}

/// The event the UI gets when the window is asked to close while a change is being applied.
pub const CLOSE_REQUESTED: &str = "close-requested";

/// Builds and runs the app. Blocks until the last window closes.
pub fn run() {
    let app = Arc::new(session::App::new(session::Paths::from_env()));
    tauri::Builder::default()
        .manage(app)
        .on_window_event(|window, event| {
            // Closing during an apply asks first (the UI shows the choice); the window then
            // closes only once the change set is verified or rolled back, never half-applied.
            if let tauri::WindowEvent::CloseRequested { api, .. } = event {
                let app = window.state::<Arc<session::App>>();
                if app.is_busy() {
                    api.prevent_close();
                    let _ = window.emit(CLOSE_REQUESTED, ());
                }
            }
        })
        .invoke_handler(tauri::generate_handler![
            commands::app_info,
            commands::list_servers,
            commands::save_server,
            commands::remove_server,
            commands::ssh_config_hosts,
            commands::import_ssh_hosts,
            commands::choose_key_file,
            commands::connect,
            commands::trust_host_key,
            commands::choose_instance,
            commands::choose_databases,
            commands::diagnose,
            commands::plan_fix,
            commands::apply_fix,
            commands::cancel_apply,
            commands::close_when_idle,
            commands::history,
            commands::history_now,
            commands::rollback,
            commands::list_sessions,
            commands::preview_logout,
            commands::log_out,
            commands::remembered_secrets,
            commands::forget_secrets,
            commands::export_report,
            commands::open_report,
            commands::open_link,
            commands::fleet_overview,
            commands::diagnose_all,
        ])
        .run(tauri::generate_context!())
        .expect("the app failed to start (see the message above)");
}
