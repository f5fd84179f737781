//! The desktop binary: everything lives in the library so tests can reach the types.
// No console window on Windows release builds (harmless elsewhere).
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() {
    odoo_session_doctor_app::run()
}
