//! The app's build step: tauri_build reads src-tauri/tauri.conf.json (the place the Tauri CLI, and so
//! scripts/package, looks for it), generates the context and embeds the UI; paths inside the config
//! are relative to src-tauri/.
fn main() {
    // The UI is embedded into the binary at compile time (generate_context!): rebuild when it changes.
    println!("cargo:rerun-if-changed=../ui");
    println!("cargo:rerun-if-changed=../icons");
    if let Err(error) = tauri_build::try_build(tauri_build::Attributes::new()) {
        panic!("tauri build step failed (config src-tauri/tauri.conf.json): {error:#}");
    }
}
