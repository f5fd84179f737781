//! The "Browse…" of a server's key file: the native open-file dialog (rfd, GTK3), started in
//! `~/.ssh` where keys live. Like the report's save dialog, WebDriver cannot click it, so
//! `$OSD_TEST_KEY_FILE` (set only by the e2e tests) names the file to return without asking.
use std::path::PathBuf;

pub const ENV_TEST_KEY_FILE: &str = "OSD_TEST_KEY_FILE";

/// The title of the dialog's window (the e2e test finds the real dialog by it).
pub const DIALOG_TITLE: &str = "Choose your SSH private key";

pub fn test_key_file() -> Option<PathBuf> {
    std::env::var_os(ENV_TEST_KEY_FILE)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

/// Asks for a private key file; `None` when the person cancelled. Async for the reason given at
/// `report::save_dialog`: the dialog runs on the main thread while this future waits off it.
pub async fn pick() -> Option<PathBuf> {
    if let Some(path) = test_key_file() {
        return Some(path);
    }
    let mut dialog = rfd::AsyncFileDialog::new().set_title(DIALOG_TITLE);
    if let Some(ssh) = dirs::home_dir()
        .map(|h| h.join(".ssh"))
        .filter(|d| d.is_dir())
    {
        dialog = dialog.set_directory(ssh);
    }
    dialog.pick_file().await.map(|f| f.path().to_path_buf())
}
