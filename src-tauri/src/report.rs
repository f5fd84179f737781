//! Report export: the engine renders the per-server report (`osd_engine::report`, the same files
//! the CLI's `report` writes); the shell asks where to save it with a native dialog and opens it.
//!
//! The native dialog is `rfd` with its GTK3 backend, created on the main thread (GTK's rule).
//! WebDriver cannot click a native dialog, so there is a seam: `$OSD_TEST_SAVE_PATH` names the
//! file to save to without asking, and `$OSD_TEST_OPENER` names the program that "opens" it
//! (instead of `xdg-open`). Only the e2e tests set them.
use std::path::{Path, PathBuf};

use osd_engine::change::effect::Effect;
use osd_engine::change::record::Record;
use osd_engine::report::{self, Format, Inputs, Meta, ReportModel};
use osd_engine::Diagnosis;

use crate::views::{ExportedReport, ReportFormat};
use crate::{AppError, AppResult};

pub const ENV_SAVE_PATH: &str = "OSD_TEST_SAVE_PATH";
pub const ENV_OPENER: &str = "OSD_TEST_OPENER";

impl From<ReportFormat> for Format {
    fn from(f: ReportFormat) -> Format {
        match f {
            ReportFormat::Html => Format::Html,
            ReportFormat::Markdown => Format::Markdown,
            ReportFormat::Json => Format::Json,
        }
    }
}

/// What a report is made of (see [`crate::session::App::report_parts`]).
pub struct Parts {
    pub last: Diagnosis,
    pub before: Option<Diagnosis>,
    pub records: Vec<Record>,
    pub effects: Vec<Effect>,
    /// How the server is reached (`root@10.0.0.5:22`), for the commands in the report.
    pub target: String,
    /// The saved server's name, the report's title.
    pub saved_name: String,
}

/// The report's text, rendered by the engine from the connection's diagnoses and the host's
/// records, titled with the saved server's name and signed by the local OS user.
pub fn render(parts: &Parts, format: ReportFormat) -> AppResult<String> {
    let by = format!(
        "{} (desktop app)",
        osd_engine::who::with_login(Some(parts.target.split('@').next().unwrap_or("")))
    );
    let model = ReportModel::build(
        Inputs {
            diagnosis: &parts.last,
            before: parts.before.as_ref(),
            records: &parts.records,
            target: Some(&parts.target),
            saved_name: Some(&parts.saved_name),
            effects: &parts.effects,
        },
        Meta::now(by),
    );
    report::render(&model, format.into()).map_err(|e| {
        AppError::new(
            "report",
            format!("The report could not be made: {e}"),
            "Please try again; if it keeps failing, report it with the app's log.",
        )
    })
}

/// `odoo-session-report-<saved name>.<ext>`, safe as a file name.
pub fn suggested_name(host: &str, format: ReportFormat) -> String {
    let host: String = host
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '.' {
                c
            } else {
                '-'
            }
        })
        .collect();
    format!(
        "odoo-session-report-{host}.{}",
        Format::from(format).extension()
    )
}

/// The test seam, if set.
pub fn test_save_path() -> Option<PathBuf> {
    std::env::var_os(ENV_SAVE_PATH)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

/// The native save dialog (GTK through rfd); `None` when the person cancelled.
///
/// The async dialog is the one to use inside Tauri: rfd hands its GTK work to GLib's default
/// main context as an idle callback, and Tauri's main thread runs that context, so the dialog
/// lives on the main thread (GTK's rule) while this future waits off it. The blocking variant
/// would wait for that same main thread and, called from it, never return.
pub async fn save_dialog(suggested: String, format: ReportFormat) -> Option<PathBuf> {
    let (label, ext) = match format {
        ReportFormat::Html => ("Web page (HTML)", "html"),
        ReportFormat::Markdown => ("Markdown", "md"),
        ReportFormat::Json => ("JSON", "json"),
    };
    rfd::AsyncFileDialog::new()
        .set_title("Save the report")
        .set_file_name(suggested)
        .add_filter(label, &[ext])
        .save_file()
        .await
        .map(|file| file.path().to_path_buf())
}

/// Writes the report where the person chose.
pub fn save(path: &Path, text: &str, format: ReportFormat) -> AppResult<ExportedReport> {
    std::fs::write(path, text).map_err(|e| {
        AppError::new(
            "report_write",
            format!("The report could not be saved to {}: {e}", path.display()),
            "Choose another folder.",
        )
    })?;
    Ok(ExportedReport {
        path: path.display().to_string(),
        format,
        bytes: text.len(),
    })
}

/// Opens a reference (an Odoo issue, the docs) in the desktop's browser: https only, so a
/// finding's text can never make the app run something else.
pub fn open_link(url: &str) -> AppResult<()> {
    if !url.starts_with("https://") || url.contains(char::is_whitespace) {
        return Err(AppError::new(
            "bad_link",
            format!("{url} is not a web address the app opens."),
            "Copy it into your browser instead.",
        ));
    }
    open(Path::new(url))
}

/// Opens a saved report with the desktop's default program.
pub fn open(path: &Path) -> AppResult<()> {
    let opener = std::env::var_os(ENV_OPENER)
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| "xdg-open".into());
    std::process::Command::new(&opener)
        .arg(path)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .map(|_| ())
        .map_err(|e| {
            AppError::new(
                "open_failed",
                format!(
                    "The report was saved to {}, but it could not be opened: {e}",
                    path.display()
                ),
                "Open the file from your file manager.",
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_https_links_are_opened() {
        assert_eq!(
            open_link("file:///etc/passwd").unwrap_err().code,
            "bad_link"
        );
        assert_eq!(open_link("https://x.y/a b").unwrap_err().code, "bad_link");
    }

    #[test]
    fn names_are_safe_file_names() {
        assert_eq!(
            suggested_name("root@10.0.0.5:22", ReportFormat::Html),
            "odoo-session-report-root-10.0.0.5-22.html"
        );
        assert_eq!(
            suggested_name("odoo-lab", ReportFormat::Markdown),
            "odoo-session-report-odoo-lab.md"
        );
    }
}
