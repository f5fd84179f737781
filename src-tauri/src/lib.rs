//! Odoo Session Doctor's desktop shell (Tauri v2).
//!
//! This crate owns the window, the command surface the UI calls and the progress channels; it
//! owns no logic. Every command is a few lines: take arguments (and state, later), call the engine
//! (`osd-engine`, `osd-remote`), map the error to [`AppError`]. Anything longer belongs in a crate
//! under `crates/`, where the CLI can reach it too.
//!
//! Work that can take more than a frame (SSH, probes, applying changes) runs on a blocking thread
//! via [`blocking`], so the window never freezes. Progress goes to the UI as typed events over a
//! `tauri::ipc::Channel<ProgressEvent>` passed by the caller (see [`progress`]).

pub mod commands;
pub mod demo;
pub mod error;
pub mod progress;

pub use error::{AppError, AppResult};

/// Runs `work` on Tokio's blocking pool and waits for it without blocking the async runtime.
/// A panic in `work` comes back as an `internal` error instead of a UI that waits forever.
pub async fn blocking<T, F>(work: F) -> AppResult<T>
where
    T: Send + 'static,
    F: FnOnce() -> AppResult<T> + Send + 'static,
{
    tauri::async_runtime::spawn_blocking(work)
        .await
        .map_err(AppError::internal)?
}

/// Builds and runs the app. Blocks until the last window closes.
pub fn run() {
    tauri::Builder::default()
        .invoke_handler(tauri::generate_handler![
            commands::app_info,
            commands::demo_server,
            commands::connect,
        ])
        .run(tauri::generate_context!("../tauri.conf.json"))
        .expect("the app failed to start (see the message above)");
}
