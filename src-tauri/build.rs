//! The app's Tauri config lives at the workspace root (next to Cargo.toml), so the shell, the
//! README and the packaging scripts share one file; paths inside it are relative to the root.
fn main() {
    // The UI is embedded into the binary at compile time (generate_context!): rebuild when it changes.
    println!("cargo:rerun-if-changed=../ui");
    println!("cargo:rerun-if-changed=../icons");
    let attributes = tauri_build::Attributes::new().config_path("../tauri.conf.json");
    if let Err(error) = tauri_build::try_build(attributes) {
        panic!("tauri build step failed (config ../tauri.conf.json): {error:#}");
    }
}
