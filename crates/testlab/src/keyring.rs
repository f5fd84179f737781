//! A private Secret Service for tests: GNOME Keyring on its own D-Bus session bus
//! (`dbus-run-session`), its login keyring created and unlocked non-interactively in a data
//! directory of the test's, so the person's own keyring and session bus are never touched.
//!
//! The Secret Service is only reachable inside that bus, so the test runs again inside it: an
//! outer test calls [`run_inside`] with the name of an `#[ignore]`d inner test of the same
//! binary, which finds its directory in `OSD_TEST_DATA`.

use std::path::Path;
use std::process::Command;

/// Runs the ignored test `inner` of the running test binary inside a private keyring whose data
/// (`data/keyrings/…`) lives under `dir`; `env` is added to its environment. Panics with both
/// outputs unless exactly that test ran and passed.
pub fn run_inside(inner: &str, dir: &Path, env: &[(&str, &Path)]) {
    let run = dir.join("run");
    std::fs::create_dir_all(&run).unwrap();
    std::fs::set_permissions(&run, std::os::unix::fs::PermissionsExt::from_mode(0o700)).unwrap();
    // The daemon is started and unlocked (creating its login keyring with this password) before
    // the test binary runs; the binary then talks to it over the private bus.
    let script = r#"echo -n lab-keyring-pw | gnome-keyring-daemon --unlock --components=secrets >/dev/null || exit 97
exec "$0" --exact "$1" --ignored --nocapture --test-threads=1"#;
    let mut cmd = Command::new("dbus-run-session");
    cmd.args(["--", "sh", "-c", script])
        .arg(std::env::current_exe().unwrap())
        .arg(inner)
        .env("XDG_DATA_HOME", dir.join("data"))
        .env("XDG_RUNTIME_DIR", &run)
        .env("OSD_TEST_DATA", dir);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd
        .output()
        .expect("dbus-run-session runs (scripts/install-deps installs dbus and gnome-keyring)");
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(
        out.status.success() && stdout.contains("1 passed"),
        "inner keyring test {inner} failed ({}):\n{stdout}\n{stderr}",
        out.status
    );
}
