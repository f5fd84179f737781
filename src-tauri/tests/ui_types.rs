//! The UI's JSDoc types checked by TypeScript against the declarations generated from Rust
//! (ui/types/bindings.d.ts): a renamed field in Rust fails here, not in front of a user.
//! Needs `tsc` (TypeScript 5): set `$TSC` to it, or have it on PATH
//! (`npm install -g typescript@5`). Ignored by default because the project's machines do not
//! install Node packages; run with `cargo test -p odoo-session-doctor-app --test ui_types -- --ignored`.
use std::path::Path;
use std::process::Command;

#[test]
#[ignore = "needs tsc (TypeScript 5); see the module comment"]
fn the_ui_type_checks_against_the_generated_bindings() {
    let tsc = std::env::var("TSC").unwrap_or_else(|_| "tsc".into());
    let ui = Path::new(env!("CARGO_MANIFEST_DIR")).join("../ui");
    let out = Command::new(&tsc)
        .arg("-p")
        .arg(&ui)
        .output()
        .unwrap_or_else(|e| {
            panic!("could not run `{tsc}` ({e}): install TypeScript 5 or set $TSC")
        });
    assert!(
        out.status.success(),
        "tsc found type errors in ui/:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
