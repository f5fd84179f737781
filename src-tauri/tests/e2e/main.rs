//! GUI end-to-end tests: the real app binary in a real WebKitGTK window, under Xvfb, driven
//! through tauri-driver + WebKitWebDriver (see harness.rs). `cargo test --workspace` runs them;
//! cargo builds the app binary first (it is a `[[bin]]` of this package).
//!
//! GUI tests run one at a time (a lock below): each starts its own display, driver and app, and
//! two WebKit processes at once on a 2-core machine only make timings noisy.
// The lock below is held across awaits on purpose: each test runs on its own current-thread
// runtime, and the std Mutex only serialises whole tests (no task of the same runtime waits on it).
#![allow(clippy::await_holding_lock)]

mod harness;

use std::sync::Mutex;
use std::time::Duration;

use harness::{artifacts, Gui, Launch};

static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

fn one_at_a_time() -> std::sync::MutexGuard<'static, ()> {
    ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A lab.json as `tests/lab/lab up` writes it, reduced to what the shell reads.
fn fixture_lab(dir: &std::path::Path) -> std::path::PathBuf {
    let path = dir.join("lab.json");
    let lab = serde_json::json!({
        "scenario": "short-lifetime",
        "ssh": {
            "host": "127.0.0.1",
            "port": 40222,
            "host_key_fingerprint": "SHA256:Xy3mZp0f6mE1kq0p9t3WqS8jH2vX5bQh9aY7fK1sLc4"
        }
    });
    std::fs::write(&path, serde_json::to_vec_pretty(&lab).unwrap()).unwrap();
    path
}

mod servers_screen {
    use super::*;

    /// The window opens on the Servers screen and, in demo mode, lists the demo lab with its
    /// address and host key.
    #[tokio::test(flavor = "current_thread")]
    async fn shows_the_demo_lab_server() {
        let _guard = one_at_a_time();
        let dir = tempfile::tempdir().unwrap();
        let gui = Gui::launch(Launch {
            demo_lab: Some(fixture_lab(dir.path())),
            ..Launch::default()
        })
        .await;

        let card = gui
            .wait_for("[data-screen=servers] [data-testid=server]")
            .await;

        assert_eq!(gui.client().title().await.unwrap(), "Odoo Session Doctor");
        assert_eq!(gui.text("#servers-title").await, "Servers");
        let text = card.text().await.unwrap();
        assert!(text.contains("Demo lab"), "card text: {text}");
        assert!(text.contains("root@127.0.0.1:40222"), "card text: {text}");
        assert_eq!(
            gui.text("[data-testid=host-key]").await,
            "SHA256:Xy3mZp0f6mE1kq0p9t3WqS8jH2vX5bQh9aY7fK1sLc4"
        );
        // the real backend answered, not the mock
        let api = gui
            .client()
            .execute("return document.documentElement.dataset.api", vec![])
            .await
            .unwrap();
        assert_eq!(api, "tauri");
        // the window respects the configured size (1100x760 in tauri.conf.json)
        let (w, h) = gui.client().get_window_size().await.unwrap();
        assert!(w >= 1024 && h >= 700, "window is {w}x{h}");

        let shot = gui.screenshot("01-servers-demo-lab").await;
        println!("screenshot: {}", shot.display());
        gui.close().await;
    }

    /// "Browse…" next to the key file opens the real native file dialog (GTK, through rfd: a
    /// window of its own on the display), and the app's window stays responsive meanwhile.
    #[tokio::test(flavor = "current_thread")]
    async fn browse_opens_the_native_file_dialog() {
        let _guard = one_at_a_time();
        let gui = Gui::launch(Launch::default()).await;
        gui.click("[data-testid=add-server]").await;
        gui.click("[data-testid=server-form] input[value=key]")
            .await;
        gui.click("[data-testid=browse-key]").await;
        gui.native_dialog_opens("Choose your SSH private key").await;
        gui.close().await;
    }

    /// Without a demo lab (and, until issue 5, without saved servers) the screen says so calmly.
    #[tokio::test(flavor = "current_thread")]
    async fn is_empty_without_a_demo_lab() {
        let _guard = one_at_a_time();
        let gui = Gui::launch(Launch::default()).await;
        let empty = gui
            .text("[data-screen=servers] [data-testid=servers-empty]")
            .await;
        assert!(empty.contains("No servers yet"), "{empty}");
        gui.screenshot("02-servers-empty").await;
        gui.close().await;
    }

    /// Keyboard: a new screen puts focus on its heading (where a screen reader starts reading);
    /// Tab goes through "Add a server", "Import from SSH config", then the server's Connect
    /// button, and the focus is visible (an outline is drawn).
    #[tokio::test(flavor = "current_thread")]
    async fn is_keyboard_navigable() {
        let _guard = one_at_a_time();
        let dir = tempfile::tempdir().unwrap();
        let gui = Gui::launch(Launch {
            demo_lab: Some(fixture_lab(dir.path())),
            ..Launch::default()
        })
        .await;
        gui.wait_for("[data-testid=server] button").await;
        let c = gui.client();
        assert_eq!(
            c.active_element().await.unwrap().text().await.unwrap(),
            "Servers",
            "focus starts on the heading"
        );
        let mut seen = Vec::new();
        for _ in 0..3 {
            c.active_element()
                .await
                .unwrap()
                .send_keys(&fantoccini::key::Key::Tab.to_string())
                .await
                .unwrap();
            tokio::time::sleep(Duration::from_millis(100)).await;
            seen.push(c.active_element().await.unwrap().text().await.unwrap());
        }
        assert_eq!(
            seen,
            ["Add a server", "Import from SSH config", "Connect"],
            "Tab order"
        );
        let outline = c
            .execute(
                "return getComputedStyle(document.activeElement).outlineStyle",
                vec![],
            )
            .await
            .unwrap();
        assert_eq!(outline, "solid", "the focused button shows a focus outline");
        gui.screenshot("03-servers-keyboard-focus").await;
        gui.close().await;
    }
}

/// Light and dark themes follow the desktop's preference (prefers-color-scheme); WebKitGTK takes
/// it from the GTK theme, so `GTK_THEME=Adwaita:dark` stands in for a dark desktop.
mod themes {
    use super::*;

    async fn background(theme: Option<&str>, shot: &str) -> String {
        let dir = tempfile::tempdir().unwrap();
        let env = theme
            .map(|t| vec![("GTK_THEME", t.to_string())])
            .unwrap_or_default();
        let gui = Gui::launch(Launch {
            demo_lab: Some(fixture_lab(dir.path())),
            env,
            ..Launch::default()
        })
        .await;
        gui.wait_for("[data-testid=server]").await;
        let bg = gui
            .client()
            .execute(
                "return getComputedStyle(document.body).backgroundColor",
                vec![],
            )
            .await
            .unwrap();
        gui.screenshot(shot).await;
        gui.close().await;
        bg.as_str().unwrap().to_string()
    }

    #[tokio::test(flavor = "current_thread")]
    async fn light_and_dark() {
        let _guard = one_at_a_time();
        assert_eq!(
            background(Some("Adwaita"), "05-servers-light").await,
            "rgb(246, 247, 249)"
        );
        assert_eq!(
            background(Some("Adwaita:dark"), "06-servers-dark").await,
            "rgb(20, 24, 29)"
        );
    }
}

/// "Include this fix" is enabled once the item's preview is shown (nobody chooses what they have
/// not seen). It only adds the item to the plan, and says so next to it.
async fn include_this_fix(gui: &Gui) {
    let button = gui
        .wait_for("[data-testid=apply-this]:not([disabled])")
        .await;
    assert_eq!(button.text().await.unwrap(), "Include this fix");
    let note = gui.text("[data-testid=include-note]").await;
    assert!(
        note.contains("Nothing changes on the server until you confirm at the end"),
        "{note}"
    );
    button.click().await.unwrap();
}

/// The smallest supported window (tauri.conf.json's minimum) never scrolls sideways.
async fn no_sideways_scroll(gui: &Gui, what: &str) {
    let overflow = gui
        .client()
        .execute(
            "return document.documentElement.scrollWidth - document.documentElement.clientWidth",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(
        overflow.as_i64(),
        Some(0),
        "{what} scrolls sideways at 1024x700"
    );
}

/// Runs a script in the page and returns its value.
async fn exec(gui: &Gui, js: &str) -> serde_json::Value {
    gui.client()
        .execute(js, vec![])
        .await
        .unwrap_or_else(|e| panic!("script failed: {e}"))
}

/// Each button is visible and nothing covers it: scrolled into view, the element at its centre
/// is the button itself (a page's scrollbar or an overlay over it would be found there instead).
async fn clickable(gui: &Gui, css: &str) {
    gui.wait_for(css).await;
    let js = r#"
        const out = [];
        for (const el of document.querySelectorAll(arguments[0])) {
            el.scrollIntoView({ block: "center" });
            const r = el.getBoundingClientRect();
            const x = r.left + r.width / 2, y = r.top + r.height / 2;
            const inside = r.width > 0 && r.height > 0 && r.left >= 0 && r.right <= document.documentElement.clientWidth
                && r.top >= 0 && r.bottom <= document.documentElement.clientHeight;
            const hit = document.elementFromPoint(x, y);
            out.push(inside && hit !== null && (hit === el || el.contains(hit)) ? "ok" : `${el.textContent}: rect ${JSON.stringify(r)}, at its centre ${hit && hit.outerHTML.slice(0, 80)}`);
        }
        return out;"#;
    let found = gui
        .client()
        .execute(js, vec![serde_json::json!(css)])
        .await
        .unwrap();
    let found: Vec<String> = serde_json::from_value(found).unwrap();
    assert!(!found.is_empty(), "no `{css}`");
    for f in found {
        assert_eq!(f, "ok", "`{css}` is not visible and free to click");
    }
}

/// The UI against the mock api (ui/api-mock.js), in the real web view: every state of every
/// screen without a backend (empty lists, each kind of error, every check status, the whole
/// fix → apply → history → rollback path). One app launch per module, one page load per scenario.
mod ui_with_mock_api {
    use super::*;

    pub async fn open(gui: &Gui, scenario: &str) {
        let url = gui.client().current_url().await.unwrap();
        let mut url = url.join("/index.html").unwrap();
        url.set_query(Some(&format!("mock={scenario}")));
        gui.client().goto(url.as_str()).await.unwrap();
        gui.wait_for("html[data-api]").await; // goto can return before the module script ran
        let api = gui
            .client()
            .execute("return document.documentElement.dataset.api", vec![])
            .await
            .unwrap();
        assert_eq!(api, "mock", "?mock={scenario} selects the mock api");
        gui.wait_for("[data-screen=servers]").await;
    }

    /// Opens `scenario` and gets to the diagnosis (connect + diagnose with the mock).
    pub async fn to_diagnosis(gui: &Gui, scenario: &str) {
        open(gui, scenario).await;
        gui.click("[data-testid=server] [data-testid=connect]")
            .await;
        gui.click("[data-testid=connected] ~ .actions [data-testid=diagnose]")
            .await;
        gui.wait_for("[data-screen=diagnosis] [data-testid=verdict]")
            .await;
    }

    #[tokio::test(flavor = "current_thread")]
    async fn servers_screen_states() {
        let _guard = one_at_a_time();
        let gui = Gui::launch(Launch::default()).await;

        open(&gui, "empty").await;
        assert!(gui
            .text("[data-testid=servers-empty]")
            .await
            .contains("No servers yet"));

        open(&gui, "load-fails").await;
        let alert = gui
            .wait_text("[data-screen=servers] [role=alert]", "could not be loaded")
            .await;
        assert!(
            alert.contains("servers.toml") && alert.contains("plain TOML"),
            "{alert}"
        );

        // Add: the backend's words for a bad address, then a good save.
        open(&gui, "empty").await;
        gui.click("[data-testid=add-server]").await;
        gui.fill("#server-name", "Production").await;
        gui.fill("#server-host", "root@odoo.example.com").await;
        gui.click("[data-testid=save-server]").await;
        let msg = gui
            .wait_text("[data-testid=server-form] [role=alert]", "Not saved.")
            .await;
        assert!(
            msg.contains("the user and port have their own fields"),
            "{msg}"
        );
        gui.screenshot("20-mock-add-server-error").await;
        gui.fill("#server-host", "odoo.example.com").await;
        gui.click("[data-testid=save-server]").await;
        let card = gui.wait_text("[data-testid=server]", "Production").await;
        assert!(card.contains("root@odoo.example.com:22"), "{card}");

        // Key file: "Browse…" asks the backend's native dialog (the mock answers as if the
        // person picked ~/.ssh/id_ed25519) and fills the field.
        gui.click("[data-testid=server] [data-testid=edit]").await;
        gui.click("[data-testid=server-form] input[value=key]")
            .await;
        gui.click("[data-testid=browse-key]").await;
        let key = gui
            .client()
            .execute("return document.querySelector('#server-key').value", vec![])
            .await
            .unwrap();
        assert_eq!(key, "/home/admin/.ssh/id_ed25519");
        // "Odoo config file" says what it is and when to fill it.
        gui.click("[data-testid=server-form] .advanced summary")
            .await;
        let help = gui.text("#server-instance-help").await;
        assert!(
            help.contains("/etc/odoo/odoo.conf")
                && help.contains("Fill it in only if the app cannot"),
            "{help}"
        );
        gui.click("[data-testid=server-form] [data-action=cancel]")
            .await;

        // Edit, then remove (with its confirmation).
        gui.click("[data-testid=server] [data-testid=edit]").await;
        gui.fill("#server-port", "2222").await;
        gui.click("[data-testid=save-server]").await;
        gui.wait_text("[data-testid=server]", "root@odoo.example.com:2222")
            .await;
        gui.click("[data-testid=server] [data-testid=remove]").await;
        gui.click("dialog button[data-value=remove]").await;
        gui.wait_for("[data-testid=servers-empty]").await;

        // Import from ~/.ssh/config: already-saved aliases cannot be ticked twice.
        gui.click("[data-testid=import-ssh]").await;
        gui.wait_for("[data-testid=import-form]").await;
        gui.screenshot("21-mock-import-ssh-config").await;
        gui.click("[data-testid=import-form] input[value=prod]")
            .await;
        gui.click("[data-testid=import-form] button[type=submit]")
            .await;
        gui.wait_text("[data-testid=server]", "prod").await;
        gui.close().await;
    }

    #[tokio::test(flavor = "current_thread")]
    async fn connect_screen_states() {
        let _guard = one_at_a_time();
        let gui = Gui::launch(Launch::default()).await;

        open(&gui, "connect-fails").await;
        gui.click("[data-testid=server] [data-testid=connect]")
            .await;
        let alert = gui
            .wait_text(
                "[data-screen=connect] [data-error-code=unreachable]",
                "Could not connect.",
            )
            .await;
        assert!(
            alert.contains("Is sshd running and the port right?"),
            "the hint is shown: {alert}"
        );
        gui.screenshot("22-mock-connect-fails").await;

        // Unknown key: the dialog shows the fingerprint and the command; Cancel sends nothing.
        open(&gui, "unknown-key").await;
        gui.click("[data-testid=server] [data-testid=connect]")
            .await;
        let fp = gui
            .text("[data-testid=host-key-dialog] [data-testid=fingerprint]")
            .await;
        assert_eq!(fp, "SHA256:Xy3mZp0f6mE1kq0p9t3WqS8jH2vX5bQh9aY7fK1sLc4");
        assert_eq!(
            gui.text("[data-testid=compare-command]").await,
            "ssh-keyscan -t ed25519 -p 2222 localhost 2>/dev/null | ssh-keygen -lf -"
        );
        let focused = gui
            .client()
            .active_element()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert_eq!(focused, "Cancel", "the safe choice has the focus");
        gui.click("[data-testid=host-key-dialog] button[data-value=cancel]")
            .await;
        gui.wait_text("[data-screen=connect]", "Nothing was sent to the server")
            .await;
        // Try again, and trust it this time.
        gui.click("[data-screen=connect] .actions .button").await;
        gui.click("[data-testid=host-key-dialog] button[data-value=trust]")
            .await;
        gui.wait_text("[data-testid=connected]", "Connected to odoo-lab")
            .await;

        // Changed key: a warning screen with both fingerprints and no way to accept.
        open(&gui, "changed-key").await;
        gui.click("[data-testid=server] [data-testid=connect]")
            .await;
        let warning = gui.text("[data-testid=host-key-changed]").await;
        assert_eq!(
            gui.text("[data-testid=expected-fingerprint]").await,
            "SHA256:Xy3mZp0f6mE1kq0p9t3WqS8jH2vX5bQh9aY7fK1sLc4"
        );
        assert_eq!(
            gui.text("[data-testid=actual-fingerprint]").await,
            "SHA256:n3wK3yn3wK3yn3wK3yn3wK3yn3wK3yn3wK3yn3wK3y"
        );
        assert!(
            warning.contains("remove line 12 of /home/admin/.ssh/known_hosts"),
            "{warning}"
        );
        let buttons = gui.texts("[data-testid=host-key-changed] button").await;
        assert_eq!(
            buttons,
            ["Back to servers"],
            "no button accepts a changed key"
        );
        gui.screenshot("23-mock-host-key-changed").await;

        // A password the server asks for: asked, then connected.
        open(&gui, "needs-password").await;
        gui.click("[data-testid=server] [data-testid=connect]")
            .await;
        gui.wait_text(
            "[data-testid=secret-form]",
            "SSH password for root@127.0.0.1",
        )
        .await;
        gui.fill("[data-testid=secret]", "not-stored").await;
        gui.click("[data-testid=secret-form] button[type=submit]")
            .await;
        gui.wait_text("[data-testid=connected]", "Connected").await;

        // A change set an earlier connection left half-applied: said at once, rolled back from History.
        open(&gui, "unfinished").await;
        gui.click("[data-testid=server] [data-testid=connect]")
            .await;
        let notice = gui
            .wait_text("[data-testid=unfinished]", "half-applied")
            .await;
        assert!(notice.contains("20260521T170200Z-000001"), "{notice}");
        let focused = gui
            .client()
            .active_element()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert_eq!(focused, "Open History", "the rollback comes first");
        gui.screenshot("28-mock-unfinished-change-set").await;
        gui.click("[data-testid=unfinished] button").await;
        gui.wait_text("[data-testid=record-status]", "Half-applied")
            .await;
        gui.click("[data-testid=record] [data-testid=rollback]")
            .await;
        gui.click("[data-testid=rollback-dialog] button[data-value=rollback]")
            .await;
        gui.wait_text("[data-testid=rollback-result]", "Rolled back and checked")
            .await;

        // A login without root: said plainly.
        open(&gui, "no-root").await;
        gui.click("[data-testid=server] [data-testid=connect]")
            .await;
        gui.wait_text("[data-testid=no-root]", "cannot act as root")
            .await;
        gui.close().await;
    }

    #[tokio::test(flavor = "current_thread")]
    async fn diagnosis_screen_states() {
        let _guard = one_at_a_time();
        let gui = Gui::launch(Launch::default()).await;

        // Every status has its mark and word.
        to_diagnosis(&gui, "every-status").await;
        // Every check of the engine's registry is an item, in its order (the mock's checklist
        // must not fall behind the engine: a new check shows like the others).
        let shown = gui.attrs("[data-testid=check]", "data-check-id").await;
        let registry: Vec<String> = osd_engine::registry::REGISTRY
            .iter()
            .map(|c| c.id.as_str().to_string())
            .collect();
        assert_eq!(shown, registry, "the diagnosis lists every registry check");
        let statuses = gui.attrs("[data-testid=check]", "data-status").await;
        for status in ["ok", "warn", "fail", "skip", "unknown"] {
            assert!(
                statuses.iter().any(|s| s == status),
                "{status} is shown: {statuses:?}"
            );
        }
        let marks: Vec<String> = gui.texts("[data-testid=check] .check__summary .mark").await;
        for mark in ["✓", "!", "✗", "–", "?"] {
            assert!(
                marks.iter().any(|m| m.contains(mark)),
                "{mark} is shown: {marks:?}"
            );
        }
        // A warning that only informs (devices people revoked, Odoo 18) shows like the others:
        // its mark and summary, closed, with neither "Can be fixed here" nor "Needs you"; opened,
        // the per-user counts and dates.
        let revoked = "[data-check-id='session.revoked']";
        assert_eq!(gui.attrs(revoked, "data-status").await, ["warn"]);
        assert!(gui
            .text(&format!("{revoked} .check__summary"))
            .await
            .contains("Sessions were ended on purpose in the last 7 days: 2 sessions of marc"));
        assert!(gui
            .attrs(&format!("{revoked} details[open]"), "open")
            .await
            .is_empty());
        assert!(gui
            .texts(&format!("{revoked} [data-testid=needs-you]"))
            .await
            .is_empty());
        assert!(gui
            .texts(&format!("{revoked} [data-testid=fix-here]"))
            .await
            .is_empty());
        gui.click(&format!("{revoked} .check__summary")).await;
        let body = gui
            .wait_text(
                &format!("{revoked} .check__body"),
                "marc: 2 sessions revoked",
            )
            .await;
        assert!(
            body.contains("Odoo records no date for a password change"),
            "{body}"
        );
        assert!(!body.to_lowercase().contains("what you do"), "{body}");
        // A failing item is open with what users see, why, evidence, version note and links.
        let lifetime = gui
            .text("[data-check-id='session.lifetime'] .check__body")
            .await
            .to_lowercase(); // headings are styled in capitals
        for part in [
            "What users see",
            "Why",
            "Evidence",
            "Version note",
            "Fixes on offer",
            "Learn more",
            "sessions.max_inactivity_seconds = 600",
        ] {
            assert!(
                lifetime.contains(&part.to_lowercase()),
                "{part} in: {lifetime}"
            );
        }
        // Counts agree with their nouns ("5 problem" was shown once), through ui/words.js.
        let fails = statuses.iter().filter(|s| *s == "fail").count();
        let counts = gui.text("[data-testid=counts]").await;
        let problems = if fails == 1 {
            "1 problem".to_string()
        } else {
            format!("{fails} problems")
        };
        assert!(counts.contains(&problems), "{problems} in {counts}");
        let words = gui
            .client()
            .execute_async(
                r#"const done = arguments[arguments.length - 1];
                import(new URL("words.js", document.baseURI).href).then((w) => done([
                    w.count(1, "problem"), w.count(5, "problem"), w.count(0, "item"),
                    w.count(2, "thing to improve", "things to improve"), w.form(1, "logs", "log"), w.form(2, "logs", "log"),
                ]), (e) => done(String(e)));"#,
                vec![],
            )
            .await
            .unwrap();
        assert_eq!(
            words,
            serde_json::json!([
                "1 problem",
                "5 problems",
                "0 items",
                "2 things to improve",
                "logs",
                "log"
            ])
        );
        gui.screenshot("24-mock-every-status").await;
        // A reference opens in the browser (through the backend), not inside the app's window.
        gui.click("[data-check-id='session.lifetime'] .links a")
            .await;
        let opened = gui
            .client()
            .execute("return window.__osdMockOpened", vec![])
            .await
            .unwrap();
        assert_eq!(opened, "https://github.com/odoo/odoo/issues/29906");
        assert!(
            gui.client()
                .current_url()
                .await
                .unwrap()
                .as_str()
                .contains("mock=every-status"),
            "the window stayed on the app"
        );
        assert!(gui
            .text("[data-testid=start-fix]")
            .await
            .contains("2 items"));

        // Healthy: nothing to fix, said calmly.
        to_diagnosis(&gui, "healthy").await;
        gui.wait_text("[data-testid=nothing-to-fix]", "Nothing to fix")
            .await;
        assert!(gui.texts("[data-testid=start-fix]").await.is_empty());

        // A diagnosis error: plain words and a retry.
        open(&gui, "diagnose-fails").await;
        gui.click("[data-testid=server] [data-testid=connect]")
            .await;
        gui.click("[data-testid=diagnose]").await;
        let alert = gui
            .wait_text("[data-error-code=no_odoo]", "could not finish")
            .await;
        assert!(alert.contains("Start Odoo on the server"), "{alert}");
        gui.close().await;
    }

    /// Several Odoo servers on the host: the chooser shows each one's port, version, service
    /// manager and state (a crash-looping one is a choice too), in port order, with nothing
    /// focused for Enter to take; the diagnosis page then switches between them, and the preview
    /// names the database of each setting.
    #[tokio::test(flavor = "current_thread")]
    async fn instance_chooser_and_switch() {
        let _guard = one_at_a_time();
        let gui = Gui::launch(Launch::default()).await;
        open(&gui, "several-instances").await;
        gui.click("[data-testid=server] [data-testid=connect]")
            .await;
        gui.click("[data-testid=diagnose]").await;
        gui.wait_text(
            "[data-testid=choose-instance]",
            "3 Odoo servers are set up on odoo-lab",
        )
        .await;
        assert_eq!(
            gui.attrs("[data-testid=instance-choice]", "data-port")
                .await,
            ["8069", "8070", "8071"],
            "sorted by port"
        );
        let choices = gui.texts("[data-testid=instance-choice]").await;
        for (choice, words) in choices.iter().zip([
            [
                "Port 8069 · Odoo 17.0 · supervisor program odoo",
                "running, pid 812",
            ],
            [
                "Port 8070 · Odoo 18.0 · started by hand",
                "/opt/odoo18/odoo.conf",
            ],
            [
                "Port 8071 · Odoo 17.0 · systemd unit odoo-staging.service",
                "fails to start",
            ],
        ]) {
            for w in words {
                assert!(choice.contains(w), "{w} in {choice}");
            }
        }
        assert!(
            choices[2].contains("smtp_port"),
            "the last start error: {}",
            choices[2]
        );
        // Nothing is pre-focused: Enter takes no choice blindly.
        let focused = gui
            .client()
            .execute(
                "return document.activeElement.dataset.testid || document.activeElement.tagName",
                vec![],
            )
            .await
            .unwrap();
        assert_eq!(focused, "choose-instance-title");
        gui.screenshot("25-mock-choose-instance").await;

        // The crash-looping one can be chosen: it is often the one that needs help.
        gui.click("[data-testid=instance-choice][data-port='8071']")
            .await;
        gui.wait_for("[data-testid=verdict]").await;
        assert!(gui
            .text("[data-testid=odoo-summary]")
            .await
            .contains("systemd unit odoo-staging.service"));
        let selected = gui
            .client()
            .execute(
                "return document.querySelector('[data-testid=instance-select]').value",
                vec![],
            )
            .await
            .unwrap();
        assert_eq!(selected, "/etc/odoo-staging.conf");
        let disabled = gui
            .client()
            .execute(
                "return document.querySelector('[data-testid=switch-instance]').disabled",
                vec![],
            )
            .await
            .unwrap();
        assert_eq!(disabled, true, "nothing to switch to yet");
        gui.screenshot("27-mock-instance-switch").await;

        // Switch to the 18 started by hand from the diagnosis page.
        gui.click("[data-testid=instance-select] option[value='/opt/odoo18/odoo.conf']")
            .await;
        gui.click("[data-testid=switch-instance]:not([disabled])")
            .await;
        gui.wait_text("[data-testid=odoo-summary]", "Odoo 18.0")
            .await;

        // The preview names the database of every setting.
        gui.click("[data-testid=start-fix]").await;
        gui.wait_text(
            "[data-testid=item-preview]",
            "sessions.max_inactivity_seconds",
        )
        .await;
        assert_eq!(
            gui.texts("[data-testid=item-preview] thead th").await,
            ["Database", "Setting", "Now", "After"]
        );
        assert_eq!(gui.texts("[data-testid=param-db]").await, ["odoo"]);

        // A config that cannot say which database people use: the diagnosis asks, never guesses.
        to_diagnosis(&gui, "undecided-databases").await;
        let ask = gui
            .wait_text(
                "[data-testid=choose-databases]",
                "Which database do people use?",
            )
            .await;
        assert!(ask.contains("3 databases"), "{ask}");
        assert_eq!(
            gui.attrs("[data-testid=database-option]", "value").await,
            ["prod", "prod_copy", "test"]
        );
        gui.wait_for("[data-check-id='session.lifetime'][data-status=unknown]")
            .await;
        gui.screenshot("28-mock-choose-databases").await;
        gui.click("[data-testid=database-option][value=prod]").await;
        gui.click("[data-testid=choose-databases-go]:not([disabled])")
            .await;
        let scope = gui
            .wait_text(
                "[data-testid=database-scope]",
                "chosen with --database prod",
            )
            .await;
        assert!(scope.contains("Database of this Odoo: prod"), "{scope}");
        gui.wait_for("[data-check-id='session.lifetime'][data-status=fail]")
            .await;
        gui.click("[data-testid=choose-databases-again]").await;
        gui.wait_for("[data-testid=choose-databases]").await;
        gui.close().await;
    }

    /// Each fleet row: its server id, status, whether it is shown, its "start with" check.
    async fn visible(gui: &Gui) -> Vec<(String, String, bool, String)> {
        let v = exec(
            gui,
            "return [...document.querySelectorAll('[data-testid=fleet-row]')].map((r) => [r.dataset.serverId, r.dataset.status, !r.hidden, r.querySelector('[data-testid=fleet-worst]').textContent])",
        )
        .await;
        serde_json::from_value(v).unwrap()
    }

    /// The Fleet screen with 50 servers (`?mock=fleet50`) in the smallest window: "Diagnose all"
    /// fills every row in place (each row showed its progress, no row changed height, the table
    /// kept its width), the filter keeps exactly the matching rows, "Open" lands in the wizard
    /// for that server, and nothing widens the page.
    #[tokio::test(flavor = "current_thread")]
    async fn fleet_of_50_diagnose_all_filter_and_open() {
        let _guard = one_at_a_time();
        let gui = Gui::launch(Launch::default()).await;
        gui.client().set_window_size(1024, 700).await.unwrap();
        open(&gui, "fleet50").await;
        gui.click("[data-testid=nav-fleet]").await;
        gui.wait_for("[data-screen=fleet] [data-testid=fleet-row]")
            .await;
        let rows = gui.attrs("[data-testid=fleet-row]", "data-state").await;
        assert_eq!(rows.len(), 50);
        // A few have a result from earlier; the others say they were never diagnosed.
        let done_before = rows.iter().filter(|s| *s == "done").count();
        assert!(done_before > 0 && done_before < 50, "{rows:?}");
        no_sideways_scroll(&gui, "the fleet").await;
        // The table scrolls inside the content column, within its own box.
        let inner = exec(
            &gui,
            "const s = document.querySelector('.fleet__scroll'); return [s.scrollHeight > s.clientHeight, s.scrollWidth <= s.clientWidth]",
        )
        .await;
        assert_eq!(
            inner,
            serde_json::json!([true, true]),
            "the table scrolls inside, never sideways"
        );
        gui.screenshot("70-mock-fleet50-before-1024x700").await;

        // Watch every row while the run goes: which ones showed progress, any change of height
        // or of the table's width.
        exec(
            &gui,
            r#"const rows = [...document.querySelectorAll('[data-testid=fleet-row]')];
               const table = document.querySelector('[data-testid=fleet-table]');
               const w = { heights: rows.map((r) => r.getBoundingClientRect().height), width: table.getBoundingClientRect().width, ran: new Set(), moved: [] };
               window.__fleetWatch = w;
               new MutationObserver(() => {
                 rows.forEach((r, i) => {
                   if (r.dataset.state === 'running') w.ran.add(r.dataset.serverId);
                   const h = r.getBoundingClientRect().height;
                   if (Math.abs(h - w.heights[i]) > 0.5) w.moved.push(`${r.dataset.serverId}: ${w.heights[i]} -> ${h}`);
                 });
                 const tw = table.getBoundingClientRect().width;
                 if (Math.abs(tw - w.width) > 0.5) w.moved.push(`table: ${w.width} -> ${tw}`);
               }).observe(table, { subtree: true, childList: true, attributes: true, characterData: true });
               return true;"#,
        )
        .await;
        gui.click("[data-testid=diagnose-all]").await;
        let summary = gui
            .wait_text("[data-testid=fleet-summary]", "Diagnosed 50 servers")
            .await;
        assert!(summary.contains("need you"), "{summary}");
        let watch = exec(
            &gui,
            "const w = window.__fleetWatch; return { ran: w.ran.size, moved: w.moved.slice(0, 5) }",
        )
        .await;
        assert_eq!(watch["ran"], 50, "every row showed its progress: {watch}");
        assert_eq!(
            watch["moved"],
            serde_json::json!([]),
            "rows kept their place: {watch}"
        );
        let states = gui.attrs("[data-testid=fleet-row]", "data-state").await;
        assert!(states.iter().all(|s| s == "done"), "{states:?}");
        for text in gui.texts("[data-testid=fleet-verdict]").await {
            assert!(
                !text.is_empty() && !text.contains("Not diagnosed yet"),
                "{text:?}"
            );
        }
        let ages = exec(
            &gui,
            "return [...document.querySelectorAll('[data-testid=fleet-age]')].map((c) => c.textContent)",
        )
        .await;
        let ages: Vec<String> = serde_json::from_value(ages).unwrap();
        assert!(ages.iter().all(|a| a == "just now"), "{ages:?}");
        let statuses = gui.attrs("[data-testid=fleet-row]", "data-status").await;
        for kind in ["ok", "fail", "warn", "error", "needs-you"] {
            assert!(
                statuses.iter().any(|s| s == kind),
                "no {kind} row: {statuses:?}"
            );
        }
        no_sideways_scroll(&gui, "the fleet after the run").await;
        gui.screenshot("71-mock-fleet50-diagnosed-1024x700").await;

        // The filter: only the rows with that problem stay, and all of them.
        let filter = gui.wait_for("[data-testid=fleet-filter]").await;
        filter
            .select_by_value("check:session.lifetime")
            .await
            .unwrap();
        let rows = visible(&gui).await;
        let shown: Vec<_> = rows.iter().filter(|r| r.2).collect();
        assert!(!shown.is_empty() && shown.len() < 50, "{rows:?}");
        for (id, status, on, _) in &rows {
            // In this mock only the failing servers have a short session lifetime.
            assert_eq!(*on, status == "fail", "{id} ({status}) shown: {on}");
        }
        let summary = gui.text("[data-testid=fleet-summary]").await;
        assert_eq!(summary, format!("{} of 50 servers shown", shown.len()));
        let filter = gui.wait_for("[data-testid=fleet-filter]").await;
        filter.select_by_value("any").await.unwrap();
        for (id, status, on, _) in visible(&gui).await {
            assert_eq!(on, status != "ok", "{id} ({status}) shown: {on}");
        }
        let filter = gui.wait_for("[data-testid=fleet-filter]").await;
        filter.select_by_value("error").await.unwrap();
        for (id, status, on, _) in visible(&gui).await {
            assert_eq!(
                on,
                status == "error" || status == "needs-you",
                "{id} ({status}) shown: {on}"
            );
        }
        gui.screenshot("72-mock-fleet50-filtered-1024x700").await;

        // Open: the wizard for that server.
        let filter = gui.wait_for("[data-testid=fleet-filter]").await;
        filter
            .select_by_value("check:session.lifetime")
            .await
            .unwrap();
        let first = visible(&gui).await.into_iter().find(|r| r.2).unwrap().0;
        gui.click(&format!(
            "[data-testid=fleet-row][data-server-id='{first}'] [data-testid=fleet-open]"
        ))
        .await;
        let title = gui.text("[data-screen=connect] #connect-title").await;
        let number = first.trim_start_matches("odoo-");
        assert_eq!(title, format!("Connect to Odoo {number}"));
        gui.wait_for("[data-testid=connected]").await;
        gui.close().await;
    }

    #[tokio::test(flavor = "current_thread")]
    async fn fix_apply_history_rollback_and_report() {
        let _guard = one_at_a_time();
        let gui = Gui::launch(Launch::default()).await;
        to_diagnosis(&gui, "every-status").await;

        // Items come in the quick-fix order: lifetime first, then the canonical address.
        gui.click("[data-testid=start-fix]").await;
        assert_eq!(gui.text("[data-testid=stepper]").await, "Item 1 of 2");
        assert_eq!(
            gui.attrs("[data-testid=fix-item]", "data-check-id").await,
            ["session.lifetime"]
        );
        gui.wait_text(
            "[data-testid=item-preview]",
            "sessions.max_inactivity_seconds",
        )
        .await;
        // A choice changes the preview.
        gui.click("[data-testid=choices] input[value='86400']")
            .await;
        gui.wait_text("[data-testid=item-preview]", "86400").await;
        include_this_fix(&gui).await;
        assert_eq!(gui.text("[data-testid=stepper]").await, "Item 2 of 2");
        gui.wait_text("[data-testid=item-preview]", "return 301")
            .await;
        // Back returns to the first item; Skip the second.
        gui.click("[data-testid=back]").await;
        gui.wait_text("[data-testid=stepper]", "Item 1 of 2").await;
        include_this_fix(&gui).await;
        gui.wait_text("[data-testid=stepper]", "Item 2 of 2").await;
        // The preview's arrival moves the buttons below it: click once it is there, or the
        // click lands where Skip was a moment ago.
        gui.wait_text("[data-testid=item-preview]", "return 301")
            .await;
        gui.click("[data-testid=skip]").await;
        let combined = gui
            .wait_text("[data-testid=combined-preview]", "Odoo restarts")
            .await;
        assert!(
            combined.contains("86400") && !combined.contains("return 301"),
            "only the chosen item: {combined}"
        );

        gui.click("[data-testid=apply-all]").await;
        gui.wait_text("[data-testid=output]", "odoo: started").await;
        let result = gui
            .wait_text("[data-testid=apply-result]", "Fixed and verified")
            .await;
        assert!(
            result.contains("How long an idle session lives"),
            "{result}"
        );
        // The server's guard counted down while the app verified, and stopped at the confirmation.
        assert!(
            gui.text("[data-testid=guard]")
                .await
                .contains("Confirmed after verifying"),
            "the guard line"
        );
        assert_eq!(
            gui.attrs("[data-testid=verification] li", "data-persisted")
                .await,
            ["true"]
        );

        // The report: format, save, open.
        gui.click("#nav-report").await;
        gui.click("[data-testid=report-dialog] input[value=markdown]")
            .await;
        gui.click("[data-testid=report-dialog] button[data-value=save]")
            .await;
        assert_eq!(
            gui.text("[data-testid=report-path]").await,
            "/home/admin/odoo-session-report-odoo-lab.md"
        );
        gui.click("[data-testid=open-report]").await;

        gui.click("[data-testid=open-history]").await;
        gui.wait_text("[data-testid=record]", "Still in effect")
            .await;
        gui.click("[data-testid=record] [data-testid=rollback]")
            .await;
        let dialog = gui.text("[data-testid=rollback-dialog]").await;
        assert!(
            dialog.contains("sessions.max_inactivity_seconds in database odoo back to 600"),
            "{dialog}"
        );
        gui.click("[data-testid=rollback-dialog] button[data-value=rollback]")
            .await;
        let done = gui
            .wait_text("[data-testid=rollback-result]", "Rolled back and checked")
            .await;
        assert!(
            done.contains("1 problem logs users out"),
            "the original state: {done}"
        );
        gui.click("[data-testid=see-checklist]").await;
        gui.wait_for("[data-check-id='session.lifetime'][data-status=fail]")
            .await;
        gui.close().await;
    }

    #[tokio::test(flavor = "current_thread")]
    async fn apply_can_be_cancelled_and_rolls_back_with_its_reason() {
        let _guard = one_at_a_time();
        let gui = Gui::launch(Launch::default()).await;

        to_diagnosis(&gui, "apply-rolls-back").await;
        gui.click("[data-testid=start-fix]").await;
        include_this_fix(&gui).await;
        gui.click("[data-testid=apply-all]").await;
        let result = gui
            .wait_text("[data-testid=apply-result]", "Nothing changed")
            .await;
        assert!(
            result.contains("nginx -t") && result.contains("everything was restored"),
            "{result}"
        );
        gui.screenshot("26-mock-apply-rolled-back").await;

        to_diagnosis(&gui, "demo").await;
        gui.click("[data-testid=start-fix]").await;
        include_this_fix(&gui).await;
        gui.click("[data-testid=apply-all]").await;
        gui.click("[data-testid=cancel]").await;
        let result = gui
            .wait_text("[data-testid=apply-result]", "Nothing changed")
            .await;
        assert!(result.contains("cancelled before the restart"), "{result}");

        // Closing the window during the apply asks first; "stop safely" cancels and rolls back.
        to_diagnosis(&gui, "demo").await;
        gui.click("[data-testid=start-fix]").await;
        include_this_fix(&gui).await;
        gui.click("[data-testid=apply-all]").await;
        gui.wait_for("[data-testid=live-steps] li").await;
        gui.client()
            .execute("window.__osdMockCloseRequested()", vec![])
            .await
            .unwrap();
        let dialog = gui.text("[data-testid=close-dialog]").await;
        assert!(dialog.contains("never just stops"), "{dialog}");
        let focused = gui
            .client()
            .active_element()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert_eq!(
            focused, "Keep the window open",
            "the safe choice has the focus"
        );
        gui.screenshot("27-mock-close-during-apply").await;
        gui.click("[data-testid=close-dialog] button[data-value=close]")
            .await;
        gui.wait_text("[data-testid=apply-result]", "Nothing changed")
            .await;

        // Empty history in a fresh mock.
        to_diagnosis(&gui, "demo").await;
        gui.click("#nav-history").await;
        gui.wait_text("[data-testid=history-empty]", "No changes yet")
            .await;
        gui.close().await;
    }
}

/// The wizard by keyboard alone (mock api): Tab and Enter from the server list to a fix item,
/// each new screen starting at its heading, Escape closing a dialog.
mod keyboard_only {
    use super::*;
    use fantoccini::key::Key;

    async fn press(gui: &Gui, key: Key) {
        gui.client()
            .active_element()
            .await
            .unwrap()
            .send_keys(&key.to_string())
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(150)).await;
    }

    async fn focused(gui: &Gui) -> String {
        gui.client()
            .active_element()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    }

    #[tokio::test(flavor = "current_thread")]
    async fn from_the_server_list_to_a_fix() {
        let _guard = one_at_a_time();
        let gui = Gui::launch(Launch::default()).await;
        ui_with_mock_api::open(&gui, "unknown-key").await;
        gui.wait_for("[data-testid=server] [data-testid=connect]")
            .await;
        for _ in 0..3 {
            press(&gui, Key::Tab).await;
        }
        assert_eq!(focused(&gui).await, "Connect");
        press(&gui, Key::Enter).await;
        // The host-key dialog: Escape is "no", like Cancel.
        gui.wait_for("[data-testid=host-key-dialog]").await;
        press(&gui, Key::Escape).await;
        gui.wait_text("[data-screen=connect]", "Nothing was sent to the server")
            .await;
        gui.wait_for("[data-screen=connect] .actions .button")
            .await
            .click()
            .await
            .unwrap();
        gui.wait_for("[data-testid=host-key-dialog]").await;
        press(&gui, Key::Tab).await;
        assert_eq!(focused(&gui).await, "Trust and connect");
        press(&gui, Key::Enter).await;
        gui.wait_for("[data-testid=connected]").await;
        assert_eq!(
            focused(&gui).await,
            "Diagnose this server",
            "focus moves to the next step"
        );
        press(&gui, Key::Enter).await;
        gui.wait_for("[data-testid=verdict]").await;
        assert!(
            focused(&gui).await.starts_with("Diagnosis of"),
            "a new screen starts at its heading"
        );
        press(&gui, Key::Tab).await;
        assert!(focused(&gui).await.starts_with("Fix step by step"));
        press(&gui, Key::Enter).await;
        gui.wait_for("[data-testid=fix-item]").await;
        assert_eq!(focused(&gui).await, "Fix step by step");
        gui.close().await;
    }
}

/// The smallest window the app supports (1024×700, tauri.conf.json's minimum) in both themes:
/// every wizard screen fits its width (no sideways scrolling), and text keeps its contrast.
mod small_window_and_dark_theme {
    use super::*;

    /// WCAG contrast ratio of the element's text colour on the page background.
    async fn contrast(gui: &Gui, css: &str) -> f64 {
        let js = r#"
            const lum = (c) => { const [r, g, b] = c.match(/\d+/g).slice(0, 3).map(Number).map((v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); }); return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
            const el = document.querySelector(arguments[0]);
            const fg = lum(getComputedStyle(el).color), bg = lum(getComputedStyle(document.body).backgroundColor);
            return (Math.max(fg, bg) + 0.05) / (Math.min(fg, bg) + 0.05);"#;
        gui.client()
            .execute(js, vec![serde_json::json!(css)])
            .await
            .unwrap()
            .as_f64()
            .unwrap()
    }

    async fn walk(theme: &str, prefix: &str) {
        let gui = Gui::launch(Launch {
            env: vec![("GTK_THEME", theme.to_string())],
            ..Launch::default()
        })
        .await;
        gui.client().set_window_size(1024, 700).await.unwrap();
        ui_with_mock_api::to_diagnosis(&gui, "every-status").await;
        no_sideways_scroll(&gui, "the diagnosis").await;
        for css in [".lead, .muted", "h1", ".check__line"] {
            let ratio = contrast(&gui, css).await;
            assert!(
                ratio >= 4.5,
                "{theme}: `{css}` has contrast {ratio:.2}:1 (needs 4.5:1)"
            );
        }
        gui.screenshot(&format!("{prefix}-diagnosis-1024x700"))
            .await;
        gui.click("[data-testid=start-fix]").await;
        gui.wait_text(
            "[data-testid=item-preview]",
            "sessions.max_inactivity_seconds",
        )
        .await;
        no_sideways_scroll(&gui, "a fix item").await;
        gui.screenshot(&format!("{prefix}-fix-item-1024x700")).await;
        include_this_fix(&gui).await;
        gui.click("[data-testid=skip]").await;
        gui.wait_for("[data-testid=combined-preview]").await;
        no_sideways_scroll(&gui, "the combined preview").await;
        gui.click("[data-testid=apply-all]").await;
        gui.wait_text("[data-testid=apply-result]", "Fixed and verified")
            .await;
        no_sideways_scroll(&gui, "the apply result").await;
        gui.screenshot(&format!("{prefix}-verified-1024x700")).await;
        gui.click("[data-testid=open-history]").await;
        gui.wait_for("[data-testid=record]").await;
        no_sideways_scroll(&gui, "the history").await;
        gui.close().await;
    }

    #[tokio::test(flavor = "current_thread")]
    async fn light() {
        let _guard = one_at_a_time();
        walk("Adwaita", "50-light").await;
    }

    #[tokio::test(flavor = "current_thread")]
    async fn dark() {
        let _guard = one_at_a_time();
        walk("Adwaita:dark", "51-dark").await;
    }
}

/// Against a real lab (tests/lab/lab: sshd, PostgreSQL, supervisor, nginx on loopback) over SSH.
mod with_a_lab {
    use super::*;

    const APPLY_TIMEOUT: Duration = Duration::from_secs(180);

    /// The demo lab (OSD_DEMO_LAB) is listed and connects with its own known_hosts.
    #[tokio::test(flavor = "current_thread")]
    async fn connects_to_the_demo_lab_over_ssh() {
        let _guard = one_at_a_time();
        let lab = osd_testlab::Lab::up("short-lifetime");
        let gui = Gui::launch(Launch {
            demo_lab: Some(lab.dir().join("lab.json")),
            ..Launch::default()
        })
        .await;
        let card = gui.wait_for("[data-testid=server]").await;
        assert!(card
            .text()
            .await
            .unwrap()
            .contains(&format!("root@127.0.0.1:{}", lab.info.ssh.port)));
        gui.click("[data-testid=server] [data-testid=connect]")
            .await;
        assert_eq!(
            gui.text("[data-testid=connected-fingerprint]").await,
            lab.info.ssh.host_key_fingerprint
        );
        // The optional test login: the live probe watches a real session of the lab's Odoo.
        gui.click("[data-testid=connected] ~ .actions [data-testid=diagnose]")
            .await;
        gui.wait_for_long("[data-testid=verdict]", Duration::from_secs(120))
            .await;
        gui.click(".probe summary").await;
        gui.fill("#probe-login", &lab.info.odoo.admin_login).await;
        gui.fill("#probe-password", &lab.info.odoo.admin_password)
            .await;
        gui.click(".probe button[type=submit]").await;
        gui.wait_text_for(
            "[data-testid=odoo-summary]",
            "Checked with a real test login",
            Duration::from_secs(120),
        )
        .await;
        gui.screenshot("42-lab-demo-probed").await;

        // Export without the test seam: the real GTK save dialog opens (a window of its own
        // on the display) and the app's window stays responsive while it is open.
        gui.click("#nav-report").await;
        gui.click("[data-testid=report-dialog] button[data-value=save]")
            .await;
        gui.wait_text("[data-testid=report-status]", "choose where to save it")
            .await;
        gui.native_dialog_opens("Save the report").await;
        gui.screenshot("43-lab-native-save-dialog").await;
        gui.close().await;
    }

    /// Issue 15: the Sessions screen of a connected server lists who is logged in (counts per
    /// person from real logins, the age chart), never shows a session id, and logs one person
    /// out after their login is typed: their old cookie is refused by Odoo, the other's works.
    #[tokio::test(flavor = "current_thread")]
    async fn sessions_screen_lists_people_and_logs_one_out() {
        use osd_testlab::probe;
        let _guard = one_at_a_time();
        let lab = osd_testlab::Lab::up("healthy");
        lab.add_user("ana", "ana-Pw-1234", None);
        let port = lab.info.odoo.http_port;
        let login = |l: &str, pw: &str| {
            probe::authenticate(port, "odoo", l, pw, &[])
                .unwrap()
                .session_cookie()
                .unwrap()
                .value
        };
        let ana = login("ana", "ana-Pw-1234");
        let admin = [
            login("admin", &lab.info.odoo.admin_password),
            login("admin", &lab.info.odoo.admin_password),
        ];
        let uid = |sid: &str| {
            probe::json_rpc(
                port,
                "/web/session/get_session_info",
                serde_json::json!({}),
                Some(sid),
                &[],
            )
            .unwrap()
            .json()
        };
        let gui = Gui::launch(Launch {
            demo_lab: Some(lab.dir().join("lab.json")),
            ..Launch::default()
        })
        .await;
        gui.wait_for("[data-testid=server]").await;
        gui.click("[data-testid=server] [data-testid=connect]")
            .await;
        gui.wait_for("[data-testid=connected-fingerprint]").await;
        gui.click("#nav-sessions").await;
        gui.wait_for_long("[data-testid=sessions-table]", Duration::from_secs(120))
            .await;
        assert_eq!(
            gui.text("[data-login=ana] [data-testid=sessions-count]")
                .await,
            "1"
        );
        assert_eq!(
            gui.text("[data-login=admin] [data-testid=sessions-count]")
                .await,
            "2"
        );
        gui.wait_for("[data-testid=sessions-chart]").await;
        let html = exec(&gui, "return document.documentElement.outerHTML").await;
        let html = html.as_str().unwrap();
        for sid in admin.iter().chain([&ana]) {
            assert!(!html.contains(&sid[..16]), "the page shows a session id");
        }
        gui.screenshot("70-sessions").await;

        gui.click("[data-login=ana] [data-testid=logout]").await;
        gui.wait_text("[data-testid=logout-preview]", "cannot be undone")
            .await;
        assert_eq!(
            exec(
                &gui,
                "return document.querySelector('[data-testid=logout-go]').disabled"
            )
            .await,
            true,
            "nothing happens before the login is typed"
        );
        gui.fill("[data-testid=logout-confirm-input]", "ana").await;
        assert_eq!(
            exec(
                &gui,
                "return document.querySelector('[data-testid=logout-go]').disabled"
            )
            .await,
            false
        );
        gui.screenshot("71-sessions-confirm").await;
        gui.click("[data-testid=logout-go]").await;
        gui.wait_text("[data-testid=logout-outcome]", "Logged out ana")
            .await;
        gui.wait_for_long("[data-testid=sessions-table]", Duration::from_secs(60))
            .await;
        assert_eq!(
            exec(
                &gui,
                "return document.querySelectorAll('[data-login=ana]').length"
            )
            .await,
            0
        );
        assert_eq!(uid(&ana)["error"]["code"], 100);
        assert_eq!(uid(&admin[0])["result"]["uid"], 2);
        gui.screenshot("72-sessions-logged-out").await;
        gui.close().await;
    }

    /// HTTPS is not set up (scenario http-only): the redirect item says "Needs you" with the
    /// certificate steps for the name nginx really serves, never "Can be fixed here", and the
    /// wizard offers no step for it (it would end in "Nothing to change here").
    #[tokio::test(flavor = "current_thread")]
    async fn https_redirect_without_https_needs_you_and_is_no_wizard_step() {
        let _guard = one_at_a_time();
        let lab = osd_testlab::Lab::up("http-only");
        let gui = Gui::launch(Launch {
            demo_lab: Some(lab.dir().join("lab.json")),
            ..Launch::default()
        })
        .await;
        gui.click("[data-testid=server] [data-testid=connect]")
            .await;
        gui.click("[data-testid=connected] ~ .actions [data-testid=diagnose]")
            .await;
        gui.wait_for_long("[data-testid=verdict]", Duration::from_secs(120))
            .await;
        let item = "[data-check-id='proxy.https-redirect']";
        assert_eq!(
            gui.text(&format!("{item} [data-testid=needs-you]")).await,
            "Needs you"
        );
        assert!(gui
            .texts(&format!("{item} [data-testid=fix-here]"))
            .await
            .is_empty());
        // The item starts open: the steps are in sight, not behind a click.
        let open = gui
            .client()
            .execute(
                "return document.querySelector(arguments[0] + ' details').open",
                vec![item.into()],
            )
            .await
            .unwrap();
        assert_eq!(open, true);
        let steps = gui
            .text(&format!("{item} [data-testid=needs-you-steps]"))
            .await;
        assert!(
            steps.contains("certbot --nginx -d odoo.lab.test")
                && steps.contains("ssl_certificate_key")
                && steps.contains("the app adds the redirect"),
            "{steps}"
        );
        // The commands to type are shown as code, not with their backquotes.
        let code = gui
            .texts(&format!("{item} [data-testid=needs-you-steps] code"))
            .await;
        assert!(
            code.iter()
                .any(|c| c == "sudo certbot --nginx -d odoo.lab.test")
                && !steps.contains('`'),
            "{code:?} {steps}"
        );
        // No badge anywhere promises a fix here, and the wizard has no step to walk.
        assert!(gui.texts("[data-testid=fix-here]").await.is_empty());
        assert!(gui.texts("[data-testid=start-fix]").await.is_empty());
        gui.wait_text(
            "[data-testid=nothing-to-fix]",
            "Nothing the app can fix by itself",
        )
        .await;
        // Sentences name other checks by their title, never by id; a mention links to the item.
        let checklist = gui.text(".checklist").await;
        for id in [
            "proxy.https-redirect",
            "session.lifetime",
            "proxy.mode",
            "conf.folklore",
        ] {
            assert!(
                !checklist.contains(id),
                "{id} in words for people: {checklist}"
            );
        }
        gui.client()
            .execute(
                "document.querySelector(arguments[0] + ' details').open = false",
                vec![item.into()],
            )
            .await
            .unwrap();
        gui.click("[data-check-id='proxy.cookie-flags'] [data-mention='proxy.https-redirect']")
            .await;
        let landed = gui
            .client()
            .execute(
                "const item = document.querySelector(arguments[0]); return [item.querySelector('details').open, item.contains(document.activeElement)]",
                vec![item.into()],
            )
            .await
            .unwrap();
        assert_eq!(landed, serde_json::json!([true, true]));
        gui.client()
            .execute(
                "document.querySelector(arguments[0]).scrollIntoView()",
                vec![item.into()],
            )
            .await
            .unwrap();
        gui.screenshot("44-lab-https-needs-you").await;
        gui.close().await;
    }

    /// Issue 11's walk, from a clean config on a host with three Odoo instances sharing one
    /// PostgreSQL cluster (scenario shared-cluster): add the server, trust its key, pick the
    /// hand-started Odoo 18 — nothing there is offered as a fix the app would refuse, and what
    /// needs a person says what to do — then switch to the supervised Odoo 17 and walk every
    /// wizard item: each has a change to include (none ends in "Nothing to change here"), and
    /// the whole change set applies and is verified. No dead end on the way.
    #[tokio::test(flavor = "current_thread")]
    async fn a_newcomer_walks_a_multi_instance_host_without_a_dead_end() {
        let _guard = one_at_a_time();
        let lab = osd_testlab::Lab::up("shared-cluster");
        let of = |name: &str| {
            lab.info
                .instances
                .iter()
                .find(|i| i.conf.to_string_lossy().ends_with(name))
                .unwrap_or_else(|| panic!("shared-cluster has {name}"))
                .clone()
        };
        let (odoo17, odoo18) = (lab.info.odoo.clone(), of("odoo18.conf"));
        let gui = Gui::launch(Launch::default()).await;
        gui.wait_for("[data-testid=servers-empty]").await;
        gui.click("[data-testid=add-server]").await;
        gui.fill("#server-name", "Production").await;
        gui.fill("#server-host", "127.0.0.1").await;
        gui.fill("#server-port", &lab.info.ssh.port.to_string())
            .await;
        gui.fill("#server-user", "root").await;
        gui.click("[data-testid=server-form] input[value=key]")
            .await;
        gui.fill("#server-key", &lab.info.keys.ed25519.display().to_string())
            .await;
        gui.click("[data-testid=server-form] .advanced summary")
            .await;
        gui.fill(
            "#server-state-dir",
            &lab.dir().join("state").display().to_string(),
        )
        .await;
        gui.click("[data-testid=save-server]").await;
        gui.click("[data-testid=server] [data-testid=connect]")
            .await;
        gui.click("[data-testid=host-key-dialog] button[data-value=trust]")
            .await;
        gui.click("[data-testid=connected] ~ .actions [data-testid=diagnose]")
            .await;
        gui.wait_for_long("[data-testid=choose-instance]", APPLY_TIMEOUT)
            .await;

        // The hand-started Odoo 18: no promise of a fix; its problem says what a person does.
        gui.click(&format!(
            "[data-testid=instance-choice][data-port='{}']",
            odoo18.http_port
        ))
        .await;
        gui.wait_for_long("[data-testid=verdict]", APPLY_TIMEOUT)
            .await;
        assert!(gui.texts("[data-testid=fix-here]").await.is_empty());
        assert!(gui.texts("[data-testid=start-fix]").await.is_empty());
        let steps = gui
            .text("[data-check-id='service.found'] [data-testid=needs-you-steps]")
            .await;
        assert!(!steps.trim().is_empty(), "service.found says what to do");
        gui.wait_text(
            "[data-testid=nothing-to-fix]",
            "Nothing the app can fix by itself",
        )
        .await;
        gui.screenshot("46-lab-hand-started-needs-you").await;

        // Switch to the supervised Odoo 17 and walk every item of the wizard.
        let conf17 = odoo17.conf.display().to_string();
        gui.click(&format!(
            "[data-testid=instance-select] option[value='{conf17}']"
        ))
        .await;
        gui.click("[data-testid=switch-instance]:not([disabled])")
            .await;
        gui.wait_text_for(
            "[data-testid=odoo-summary]",
            &format!("config {conf17}"),
            APPLY_TIMEOUT,
        )
        .await;
        let badges = gui.texts("[data-testid=fix-here]").await;
        assert!(!badges.is_empty(), "Odoo 17 has fixes the app makes");
        gui.click("[data-testid=start-fix]").await;
        let stepper = gui.text("[data-testid=stepper]").await;
        let total: usize = stepper
            .rsplit(' ')
            .next()
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("{stepper}"));
        assert_eq!(total, badges.len(), "every badge is a wizard item, no more");
        for i in 1..=total {
            gui.wait_text("[data-testid=stepper]", &format!("Item {i} of {total}"))
                .await;
            // Either the preview with a change arrives (the button comes alive) or it says
            // there is nothing to change: the latter is the dead end this walk must not meet.
            gui.wait_for_long(
                "[data-testid=apply-this]:not([disabled]), [data-testid=no-change], [data-testid=item-preview] [data-error-code]",
                APPLY_TIMEOUT,
            )
            .await;
            let item = gui.attrs("[data-testid=fix-item]", "data-check-id").await;
            assert!(
                gui.texts("[data-testid=no-change]").await.is_empty()
                    && gui
                        .texts("[data-testid=item-preview] [data-error-code]")
                        .await
                        .is_empty(),
                "{item:?}: {}",
                gui.text("[data-testid=item-preview]").await
            );
            include_this_fix(&gui).await;
        }
        gui.wait_for_long("[data-testid=summary-title]", APPLY_TIMEOUT)
            .await;
        gui.click("[data-testid=apply-all]").await;
        gui.wait_text_for("[data-testid=apply-result]", "verified", APPLY_TIMEOUT)
            .await;
        assert_eq!(
            gui.attrs("[data-testid=apply-result]", "data-status").await,
            ["applied"]
        );
        let persisted = gui
            .attrs("[data-testid=verification] li", "data-persisted")
            .await;
        assert!(!persisted.is_empty() && persisted.iter().all(|p| p == "true"));
        // The real server's guard: announced with its deadline, then confirmed by the app.
        assert!(
            gui.text("[data-testid=guard]")
                .await
                .contains("the server keeps the change"),
            "the guard line"
        );
        gui.screenshot("47-lab-multi-instance-walked").await;
        gui.close().await;
    }

    /// A host with two Odoo instances (scenario two-upstreams): Connect → Trust → Diagnose asks
    /// which one; choosing one diagnoses it on the same connection (it used to end in "The app
    /// is not connected"), and the diagnosis page switches to the other one.
    #[tokio::test(flavor = "current_thread")]
    async fn several_instances_choose_then_switch() {
        let _guard = one_at_a_time();
        let lab = osd_testlab::Lab::up("two-upstreams");
        let odoo2 = lab.info.odoo2.clone().expect("two-upstreams has odoo2");
        let gui = Gui::launch(Launch::default()).await;
        gui.wait_for("[data-testid=servers-empty]").await;
        gui.click("[data-testid=add-server]").await;
        gui.fill("#server-name", "Two Odoo").await;
        gui.fill("#server-host", "127.0.0.1").await;
        gui.fill("#server-port", &lab.info.ssh.port.to_string())
            .await;
        gui.fill("#server-user", "root").await;
        gui.click("[data-testid=server-form] input[value=key]")
            .await;
        gui.fill("#server-key", &lab.info.keys.ed25519.display().to_string())
            .await;
        gui.click("[data-testid=save-server]").await;
        gui.wait_text("[data-testid=server]", "Two Odoo").await;
        gui.click("[data-testid=server] [data-testid=connect]")
            .await;
        gui.click("[data-testid=host-key-dialog] button[data-value=trust]")
            .await;
        gui.wait_text("[data-testid=connected]", "Connected to")
            .await;
        gui.click("[data-testid=connected] ~ .actions [data-testid=diagnose]")
            .await;
        gui.wait_for_long("[data-testid=choose-instance]", APPLY_TIMEOUT)
            .await;
        // Other labs of this machine may be listed too: the lab's two are.
        let second = format!(
            "[data-testid=instance-choice][data-port='{}']",
            odoo2.http_port
        );
        let first = format!(
            "[data-testid=instance-choice][data-port='{}']",
            lab.info.odoo.http_port
        );
        assert!(gui
            .text(&second)
            .await
            .contains("Odoo 17.0 · supervisor program odoo2"));
        assert!(gui.text(&first).await.contains("running"));
        gui.screenshot("44-lab-choose-instance").await;

        gui.click(&second).await;
        gui.wait_for_long("[data-testid=verdict]", APPLY_TIMEOUT)
            .await;
        let conf2 = odoo2.conf.display().to_string();
        assert!(gui
            .text("[data-testid=odoo-summary]")
            .await
            .contains(&conf2));
        assert!(gui
            .texts("[data-error-code=not_connected]")
            .await
            .is_empty());
        // Diagnose again stays on the same instance and connection.
        gui.click("[data-testid=diagnose-again]").await;
        gui.wait_for_long("[data-testid=verdict]", APPLY_TIMEOUT)
            .await;
        assert!(gui
            .text("[data-testid=odoo-summary]")
            .await
            .contains(&conf2));
        gui.screenshot("45-lab-instance-diagnosed").await;

        // Switch to the other one from the diagnosis page.
        let conf1 = lab.info.odoo.conf.display().to_string();
        gui.click(&format!(
            "[data-testid=instance-select] option[value='{conf1}']"
        ))
        .await;
        gui.click("[data-testid=switch-instance]:not([disabled])")
            .await;
        gui.wait_text_for(
            "[data-testid=odoo-summary]",
            &format!("config {conf1}"),
            APPLY_TIMEOUT,
        )
        .await;
        gui.close().await;
    }

    /// Adds a server for `lab` through the form (key file typed in), on `port`.
    async fn add_lab_server(gui: &Gui, lab: &osd_testlab::Lab, name: &str, port: u16) {
        gui.click("[data-testid=add-server]").await;
        gui.fill("#server-name", name).await;
        gui.fill("#server-host", "127.0.0.1").await;
        gui.fill("#server-port", &port.to_string()).await;
        gui.fill("#server-user", "root").await;
        gui.click("[data-testid=server-form] input[value=key]")
            .await;
        gui.fill("#server-key", &lab.info.keys.ed25519.display().to_string())
            .await;
        // Other labs may run on this machine: name this lab's Odoo and record directory.
        gui.click("[data-testid=server-form] .advanced summary")
            .await;
        gui.fill(
            "#server-instance",
            &lab.info.odoo.conf.display().to_string(),
        )
        .await;
        gui.fill(
            "#server-state-dir",
            &lab.dir().join("state").display().to_string(),
        )
        .await;
        gui.click("[data-testid=save-server]").await;
        gui.wait_text("[data-testid=server]", name).await;
    }

    /// Waits until the fix item's preview has arrived (its arrival moves the buttons below it).
    async fn preview_ready(gui: &Gui) {
        gui.wait_for_long(
            "[data-testid=item-preview] > :not([data-testid=progress])",
            APPLY_TIMEOUT,
        )
        .await;
    }

    /// Issue 11: a 450-character `add_header Content-Security-Policy` line in the site's
    /// `location /` (lab scenario missing-forwarded-headers) shows in the forwarded-headers fix's
    /// diff. At 1024x700 no page scrolls sideways (the diff wraps in its own box), the action
    /// buttons are visible and nothing covers them, and after the apply the verified outcome is
    /// brought into view with the focus on its heading.
    #[tokio::test(flavor = "current_thread")]
    async fn long_lines_never_widen_the_page_and_the_outcome_comes_into_view() {
        let _guard = one_at_a_time();
        let lab = osd_testlab::Lab::up("missing-forwarded-headers");
        let gui = Gui::launch(Launch::default()).await;
        gui.client().set_window_size(1024, 700).await.unwrap();
        gui.wait_for("[data-testid=servers-empty]").await;
        add_lab_server(&gui, &lab, "Long lines", lab.info.ssh.port).await;
        gui.click("[data-testid=server] [data-testid=connect]")
            .await;
        gui.click("[data-testid=host-key-dialog] button[data-value=trust]")
            .await;
        gui.click("[data-testid=connected] ~ .actions [data-testid=diagnose]")
            .await;
        gui.wait_for_long("[data-testid=verdict]", APPLY_TIMEOUT)
            .await;
        gui.wait_for("[data-check-id='proxy.headers'][data-status=fail]")
            .await;
        no_sideways_scroll(&gui, "the diagnosis").await;
        clickable(&gui, "[data-screen=diagnosis] > .diagnosis__body > .actions .button, [data-testid=start-fix]").await;
        gui.screenshot("60-lab-long-lines-diagnosis-1024x700").await;

        // Include every fix on offer (the apply then restarts Odoo too, and its steps and
        // output push the outcome below the fold); the forwarded-headers item's diff shows the
        // long line as context.
        gui.click("[data-testid=start-fix]").await;
        let mut saw_long_line = false;
        while gui.texts("[data-testid=summary-title]").await.is_empty() {
            if gui.texts("[data-testid=fix-item]").await.is_empty() {
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
            preview_ready(&gui).await;
            if gui.attrs("[data-testid=fix-item]", "data-check-id").await == ["proxy.headers"] {
                let preview = gui
                    .wait_text("[data-testid=item-preview]", "Content-Security-Policy")
                    .await;
                let longest = preview
                    .lines()
                    .map(|l| l.chars().count())
                    .max()
                    .unwrap_or(0);
                assert!(
                    longest >= 200,
                    "the diff shows the long line ({longest} characters)"
                );
                no_sideways_scroll(&gui, "the fix item with its diff").await;
                clickable(&gui, "[data-testid=fix-item] ~ .actions .button").await;
                gui.screenshot("61-lab-long-lines-fix-item-1024x700").await;
                saw_long_line = true;
            }
            let stepper = gui.text("[data-testid=stepper]").await;
            if gui
                .texts("[data-testid=apply-this]:not([disabled])")
                .await
                .is_empty()
            {
                gui.click("[data-testid=skip]").await;
            } else {
                include_this_fix(&gui).await;
            }
            // the next item (or the summary) replaces this one
            while gui.texts("[data-testid=summary-title]").await.is_empty()
                && gui.texts("[data-testid=stepper]").await == [stepper.clone()]
            {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
        assert!(saw_long_line, "the forwarded-headers fix was offered");
        gui.wait_text("[data-testid=combined-preview]", "Content-Security-Policy")
            .await;
        no_sideways_scroll(&gui, "the combined preview").await;
        clickable(&gui, "[data-testid=apply-all]").await;

        // Apply: the outcome comes into view, its heading focused.
        gui.click("[data-testid=apply-all]").await;
        gui.wait_text_for("[data-testid=apply-result]", "verified", APPLY_TIMEOUT)
            .await;
        no_sideways_scroll(&gui, "the apply screen").await;
        let seen = gui
            .client()
            .execute(
                r#"const r = document.querySelector("[data-testid=apply-result]").getBoundingClientRect();
                const a = document.activeElement;
                return { top: r.top, bottom: r.bottom, height: window.innerHeight,
                         focused: a.tagName + " " + a.textContent, inResult: a.closest("[data-testid=apply-result]") !== null };"#,
                vec![],
            )
            .await
            .unwrap();
        let (top, bottom, height) = (
            seen["top"].as_f64().unwrap(),
            seen["bottom"].as_f64().unwrap(),
            seen["height"].as_f64().unwrap(),
        );
        assert!(
            top >= 0.0 && bottom <= height,
            "the outcome is inside the 700 px viewport: {seen}"
        );
        assert_eq!(seen["inResult"], true, "{seen}");
        assert!(
            seen["focused"].as_str().unwrap().starts_with("H2"),
            "the outcome's heading has the focus: {seen}"
        );
        clickable(&gui, "[data-testid=apply-result] .actions .button").await;
        gui.screenshot("62-lab-long-lines-verified-1024x700").await;
        gui.close().await;
    }

    /// Issue 11: a connection error (here a wrong SSH port) offers "Edit this server", which opens
    /// the server's form filled in with the saved values; the key file was chosen with
    /// "Browse…" (the `choose_key_file` command; its native dialog is answered through the
    /// `OSD_TEST_KEY_FILE` seam). Correcting the port then connects.
    #[tokio::test(flavor = "current_thread")]
    async fn a_connection_error_offers_to_edit_the_server() {
        let _guard = one_at_a_time();
        let lab = osd_testlab::Lab::up("healthy");
        let key = lab.info.keys.ed25519.display().to_string();
        let gui = Gui::launch(Launch {
            env: vec![("OSD_TEST_KEY_FILE", key.clone())],
            ..Launch::default()
        })
        .await;
        let wrong_port = {
            // a port nobody listens on: bound, then released
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        gui.wait_for("[data-testid=servers-empty]").await;
        gui.click("[data-testid=add-server]").await;
        gui.fill("#server-name", "Wrong port").await;
        gui.fill("#server-host", "127.0.0.1").await;
        gui.fill("#server-port", &wrong_port.to_string()).await;
        gui.fill("#server-user", "root").await;
        gui.click("[data-testid=server-form] input[value=key]")
            .await;
        gui.click("[data-testid=browse-key]").await;
        let value = |gui: &Gui, css: &'static str| {
            let c = gui.client().clone();
            async move {
                c.execute(
                    &format!("return document.querySelector('{css}').value"),
                    vec![],
                )
                .await
                .unwrap()
                .as_str()
                .unwrap()
                .to_string()
            }
        };
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        while value(&gui, "#server-key").await != key {
            assert!(
                std::time::Instant::now() < deadline,
                "Browse did not fill the key file"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        gui.click("[data-testid=save-server]").await;
        gui.wait_text("[data-testid=server]", "Wrong port").await;

        gui.click("[data-testid=server] [data-testid=connect]")
            .await;
        gui.wait_text_for(
            "[data-screen=connect] [data-error-code=unreachable]",
            "Could not connect.",
            APPLY_TIMEOUT,
        )
        .await;
        assert_eq!(
            gui.texts("[data-screen=connect] .actions .button").await,
            ["Try again", "Edit this server", "Back to servers"]
        );
        gui.screenshot("63-lab-connect-error-edit").await;
        gui.click("[data-testid=edit-server]").await;
        gui.wait_text("[data-testid=server-form]", "Edit “Wrong port”")
            .await;
        assert_eq!(value(&gui, "#server-name").await, "Wrong port");
        assert_eq!(value(&gui, "#server-host").await, "127.0.0.1");
        assert_eq!(value(&gui, "#server-port").await, wrong_port.to_string());
        assert_eq!(value(&gui, "#server-user").await, "root");
        assert_eq!(value(&gui, "#server-key").await, key);
        gui.screenshot("64-lab-edit-after-error").await;

        gui.fill("#server-port", &lab.info.ssh.port.to_string())
            .await;
        gui.click("[data-testid=save-server]").await;
        gui.wait_text(
            "[data-testid=server]",
            &format!("root@127.0.0.1:{}", lab.info.ssh.port),
        )
        .await;
        gui.click("[data-testid=server] [data-testid=connect]")
            .await;
        gui.click("[data-testid=host-key-dialog] button[data-value=trust]")
            .await;
        gui.wait_text("[data-testid=connected]", "Connected to")
            .await;
        gui.close().await;
    }

    /// The issue's proof: add a server, trust its key, diagnose (the scenario's failing item is
    /// shown), fix it through the preview, apply, see it verified, export the report, roll it
    /// back from History, see the original state. A screenshot of every screen on the way.
    #[tokio::test(flavor = "current_thread")]
    async fn add_trust_diagnose_fix_apply_verify_report_rollback() {
        let _guard = one_at_a_time();
        let lab = osd_testlab::Lab::up("short-lifetime");
        let out = tempfile::tempdir().unwrap();
        let report = out.path().join("report.html");
        let gui = Gui::launch(Launch {
            env: vec![("OSD_TEST_SAVE_PATH", report.display().to_string())],
            ..Launch::default()
        })
        .await;

        // Add the server.
        gui.wait_for("[data-testid=servers-empty]").await;
        gui.click("[data-testid=add-server]").await;
        gui.fill("#server-name", "Lab server").await;
        gui.fill("#server-host", "127.0.0.1").await;
        gui.fill("#server-port", &lab.info.ssh.port.to_string())
            .await;
        gui.fill("#server-user", "root").await;
        gui.click("[data-testid=server-form] input[value=key]")
            .await;
        gui.fill("#server-key", &lab.info.keys.ed25519.display().to_string())
            .await;
        gui.click("[data-testid=server-form] .advanced summary")
            .await;
        gui.fill(
            "#server-instance",
            &lab.info.odoo.conf.display().to_string(),
        )
        .await;
        gui.fill(
            "#server-state-dir",
            &lab.dir().join("state").display().to_string(),
        )
        .await;
        gui.screenshot("30-lab-add-server").await;
        gui.click("[data-testid=save-server]").await;
        gui.wait_text("[data-testid=server]", "Lab server").await;
        gui.screenshot("31-lab-servers").await;

        // Trust its key: the fingerprint is the lab's own, with the command to compare it.
        gui.click("[data-testid=server] [data-testid=connect]")
            .await;
        assert_eq!(
            gui.text("[data-testid=host-key-dialog] [data-testid=fingerprint]")
                .await,
            lab.info.ssh.host_key_fingerprint
        );
        // What sshd really serves, asked on its own port (the lab's key is not in /etc/ssh).
        assert_eq!(
            gui.text("[data-testid=compare-command]").await,
            format!(
                "ssh-keyscan -t ed25519 -p {} localhost 2>/dev/null | ssh-keygen -lf -",
                lab.info.ssh.port
            )
        );
        gui.screenshot("32-lab-trust-host-key").await;
        gui.click("[data-testid=host-key-dialog] button[data-value=trust]")
            .await;
        gui.wait_text("[data-testid=connected]", "Connected to")
            .await;
        gui.screenshot("33-lab-connected").await;

        // Diagnose: the scenario's failing check is shown failing.
        gui.click("[data-testid=connected] ~ .actions [data-testid=diagnose]")
            .await;
        gui.wait_for_long("[data-testid=verdict]", APPLY_TIMEOUT)
            .await;
        gui.wait_for("[data-check-id='session.lifetime'][data-status=fail]")
            .await;
        let before = gui.text("[data-testid=verdict]").await;
        gui.screenshot("34-lab-diagnosis").await;

        // Fix the lifetime through its preview; skip anything else.
        gui.click("[data-testid=start-fix]").await;
        assert_eq!(
            gui.attrs("[data-testid=fix-item]", "data-check-id").await,
            ["session.lifetime"],
            "lifetime comes first in the quick-fix order"
        );
        gui.click("[data-testid=choices] input[value='86400']")
            .await;
        gui.wait_text("[data-testid=item-preview]", "86400").await;
        gui.screenshot("35-lab-fix-item").await;
        include_this_fix(&gui).await;
        while gui.texts("[data-testid=summary-title]").await.is_empty() {
            if !gui.texts("[data-testid=skip]").await.is_empty() {
                gui.click("[data-testid=skip]").await;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let combined = gui
            .wait_text("[data-testid=combined-preview]", "Odoo restarts")
            .await;
        assert!(
            combined.contains("sessions.max_inactivity_seconds"),
            "{combined}"
        );
        gui.screenshot("36-lab-combined-preview").await;

        // Apply: live progress, the restart's output, verified.
        gui.click("[data-testid=apply-all]").await;
        gui.wait_for_long(
            "[data-testid=live-steps] li[data-step=restart_odoo]",
            APPLY_TIMEOUT,
        )
        .await;
        gui.screenshot("37-lab-applying").await;
        let result = gui
            .wait_text_for("[data-testid=apply-result]", "verified", APPLY_TIMEOUT)
            .await;
        assert_eq!(
            gui.attrs("[data-testid=apply-result]", "data-status").await,
            ["applied"],
            "{result}"
        );
        let persisted = gui
            .attrs("[data-testid=verification] li", "data-persisted")
            .await;
        assert!(
            !persisted.is_empty() && persisted.iter().all(|p| p == "true"),
            "{result}"
        );
        gui.screenshot("38-lab-verified").await;

        // The report, through the save seam.
        gui.click("#nav-report").await;
        gui.click("[data-testid=report-dialog] button[data-value=save]")
            .await;
        assert_eq!(
            gui.text("[data-testid=report-path]").await,
            report.display().to_string()
        );
        let html = std::fs::read_to_string(&report).unwrap();
        assert!(
            html.contains("<html") && html.contains("sessions.max_inactivity_seconds"),
            "report: {}",
            &html[..html.len().min(400)]
        );
        // Titled with the saved name, signed by the local OS user, the change set in effect.
        assert!(html.contains("<h1>Lab server</h1>"), "report title");
        assert!(html.contains(&osd_engine::who::user()), "report author");
        assert!(html.contains("Applied, still in effect"), "report state");
        gui.click("[data-testid=open-report]").await;

        // History re-checks against the server: in effect now...
        gui.click("[data-testid=open-history]").await;
        gui.wait_text("[data-testid=record-status]", "Still in effect")
            .await;
        gui.screenshot("39-lab-history").await;
        // ...and no longer once someone changes the setting behind the app's back.
        // (the blocking PostgreSQL client runs its own runtime: off this async test's thread)
        let conninfo = lab.pg_conninfo();
        std::thread::spawn(move || {
            let mut sql = postgres::Client::connect(&conninfo, postgres::NoTls).unwrap();
            sql.execute(
                "UPDATE ir_config_parameter SET value = '3600' WHERE key = 'sessions.max_inactivity_seconds'",
                &[],
            )
            .unwrap();
        })
        .join()
        .unwrap();
        gui.click("#nav-history").await;
        gui.wait_text("[data-testid=record-status]", "No longer in effect")
            .await;
        let item = gui
            .wait_text(
                "[data-testid=effect-item][data-state=changed]",
                "changed outside this app",
            )
            .await;
        assert!(item.contains("sessions.max_inactivity_seconds"), "{item}");
        gui.screenshot("39b-lab-history-no-longer-in-effect").await;

        // Roll it back from History: its own preview, then the original state.
        gui.click("[data-testid=record] [data-testid=rollback]")
            .await;
        let preview = gui.text("[data-testid=rollback-dialog]").await;
        assert!(preview.contains("back to 600"), "{preview}");
        gui.screenshot("40-lab-rollback-preview").await;
        gui.click("[data-testid=rollback-dialog] button[data-value=rollback]")
            .await;
        gui.wait_text_for(
            "[data-testid=rollback-result]",
            "Rolled back and checked",
            APPLY_TIMEOUT,
        )
        .await;
        gui.screenshot("41-lab-rolled-back").await;
        gui.click("[data-testid=see-checklist]").await;
        gui.wait_for("[data-check-id='session.lifetime'][data-status=fail]")
            .await;
        assert_eq!(
            gui.text("[data-testid=verdict]").await,
            before,
            "the original state is back"
        );
        gui.click("#nav-history").await;
        gui.wait_text("[data-testid=record-status]", "Rolled back on request")
            .await;
        gui.close().await;
    }
}

/// "The window opens in under 2 seconds from launch": measured, printed and kept in
/// artifacts/bench/window-open.txt, not asserted (a loaded CI machine must not fail the suite on
/// timing). One sample = WebDriver "new session" (tauri-driver spawns the app) until the Servers
/// screen shows the demo server; WebDriver's own overhead is included, so this is an upper bound.
mod window_open_time {
    use super::*;

    const SAMPLES: usize = 5;

    #[tokio::test(flavor = "current_thread")]
    async fn measure() {
        let _guard = one_at_a_time();
        let dir = tempfile::tempdir().unwrap();
        let mut gui = Gui::launch(Launch {
            demo_lab: Some(fixture_lab(dir.path())),
            ..Launch::default()
        })
        .await;
        let mut samples = Vec::new();
        for i in 0..SAMPLES {
            if i > 0 {
                gui = gui.relaunch().await;
            }
            gui.wait_for("[data-screen=servers] [data-testid=server]")
                .await;
            let first_screen = gui.launched_at.elapsed();
            // Inside the page: when the document was ready, counted from the web view's navigation start.
            let dom_ready = gui
                .client()
                .execute("return Math.round(performance.getEntriesByType('navigation')[0].domContentLoadedEventEnd)", vec![])
                .await
                .unwrap();
            samples.push((gui.timings.session, first_screen, dom_ready));
        }
        gui.close().await;

        let ms = |d: Duration| d.as_millis();
        let mut first: Vec<u128> = samples.iter().map(|s| ms(s.1)).collect();
        first.sort();
        let mut report = String::new();
        for (i, (session, screen, dom_ready)) in samples.iter().enumerate() {
            report += &format!(
                "launch {}: session up {} ms, first screen {} ms (page: DOM ready {dom_ready} ms after its navigation start)\n",
                i + 1,
                ms(*session),
                ms(*screen)
            );
        }
        let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
        report += &format!(
            "machine load average (1/5/15 min): {}\n",
            load.split_whitespace()
                .take(3)
                .collect::<Vec<_>>()
                .join(" ")
        );
        report += &format!(
            "window-open (launch -> first screen), {SAMPLES} launches: min {} ms, median {} ms, max {} ms (target: under 2000 ms)\n",
            first[0],
            first[SAMPLES / 2],
            first[SAMPLES - 1]
        );
        print!("{report}");
        std::fs::write(artifacts("bench").join("window-open.txt"), &report).unwrap();
    }
}
