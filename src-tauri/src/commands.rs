//! The commands the UI calls (through `ui/api.js` only). Each is a few lines over the engine.
use serde::Serialize;
use tauri::ipc::Channel;

use crate::demo::{self, ServerEntry};
use crate::progress::ProgressEvent;
use crate::{blocking, AppResult};

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AppInfo {
    pub name: &'static str,
    pub version: &'static str,
    /// True when the app was started by `scripts/demo` (or the e2e tests) with a lab to show.
    pub demo: bool,
}

#[tauri::command]
pub fn app_info() -> AppInfo {
    AppInfo {
        name: "Odoo Session Doctor",
        version: env!("CARGO_PKG_VERSION"),
        demo: demo::lab_path().is_some(),
    }
}

/// The demo lab server (from `$OSD_DEMO_LAB`), or `null` when the app is not in demo mode.
#[tauri::command]
pub async fn demo_server() -> AppResult<Option<ServerEntry>> {
    blocking(|| {
        demo::lab_path()
            .map(|path| demo::DemoLab::load(&path).map(|lab| lab.server_entry()))
            .transpose()
    })
    .await
}

/// Opens an SSH connection to a server (host key verified first) and reports who answered.
#[tauri::command]
pub async fn connect(
    server_id: String,
    on_progress: Channel<ProgressEvent>,
) -> AppResult<demo::Connected> {
    blocking(move || demo::connect(&server_id, &on_progress)).await
}
