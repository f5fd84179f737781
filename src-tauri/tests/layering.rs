//! The architecture rule that keeps this shell thin: the engine crates under `crates/` never
//! depend on Tauri (or on this crate), so everything the GUI does stays reachable from the CLI
//! and testable without a window.
use std::path::Path;

#[test]
fn no_crate_under_crates_depends_on_tauri() {
    let crates = Path::new(env!("CARGO_MANIFEST_DIR")).join("../crates");
    let mut offenders = Vec::new();
    for entry in std::fs::read_dir(&crates).unwrap() {
        let manifest = entry.unwrap().path().join("Cargo.toml");
        let Ok(text) = std::fs::read_to_string(&manifest) else {
            continue;
        };
        for line in text.lines().map(str::trim) {
            let name = line.split(['=', '.', ' ']).next().unwrap_or("");
            if name.starts_with("tauri") || name == "odoo-session-doctor-app" || name == "wry" {
                offenders.push(format!("{}: {line}", manifest.display()));
            }
        }
    }
    assert!(
        offenders.is_empty(),
        "engine crates must not depend on the GUI stack:\n{}",
        offenders.join("\n")
    );
}
