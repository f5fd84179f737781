//! The GUI test harness: a private X display (Xvfb), tauri-driver on its own ports, and a
//! WebDriver session that launches the real app binary in a real WebKitGTK window.
//!
//! Each [`Gui`] is self-contained and cleans up on drop: the WebDriver session is closed, then
//! tauri-driver gets SIGTERM (not SIGKILL: a killed tauri-driver leaves WebKitWebDriver running,
//! holding the test's stdout open), then Xvfb. Children write to log files under
//! `artifacts/e2e/`, never to the test's own stdout.
//!
//! Missing tools are a failure with the command that installs them, never a silent pass.
use std::fs::File;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;

/// How long a launch may take before the test gives up (generous: CI machines are busy).
const SESSION_TIMEOUT: Duration = Duration::from_secs(60);
/// How long an element may take to appear.
const ELEMENT_TIMEOUT: Duration = Duration::from_secs(20);

/// The app binary; cargo builds it before this test target (same package, `[[bin]]`).
pub const APP: &str = env!("CARGO_BIN_EXE_odoo-session-doctor-app");

/// The workspace root (artifacts/ lives there).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

pub fn artifacts(sub: &str) -> PathBuf {
    let dir = workspace_root().join("artifacts").join(sub);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Finds a tool on PATH (or in ~/.cargo/bin), or fails the test saying how to install it.
fn require_tool(name: &str, install: &str) -> PathBuf {
    let mut dirs: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect())
        .unwrap_or_default();
    if let Some(home) = std::env::var_os("HOME") {
        dirs.push(PathBuf::from(home).join(".cargo/bin"));
    }
    dirs.into_iter().map(|d| d.join(name)).find(|p| p.is_file()).unwrap_or_else(|| {
        panic!("GUI e2e test: `{name}` is not installed, so the app cannot be driven. Install it with `{install}` (or run scripts/install-deps).")
    })
}

/// A child process stopped with SIGTERM (then SIGKILL after a grace period) when dropped.
struct Managed {
    name: &'static str,
    child: Child,
}

impl Managed {
    fn spawn(name: &'static str, cmd: &mut Command, log: &Path) -> Managed {
        let out = File::create(log).unwrap();
        let err = out.try_clone().unwrap();
        let child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::from(out))
            .stderr(Stdio::from(err))
            .spawn()
            .unwrap_or_else(|e| panic!("could not start {name}: {e}"));
        Managed { name, child }
    }

    fn exited(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(Some(_)))
    }
}

impl Drop for Managed {
    fn drop(&mut self) {
        if self.exited() {
            return;
        }
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if self.exited() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        eprintln!(
            "{} did not stop on SIGTERM within 5 s: killing it",
            self.name
        );
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn wait_until(what: &str, timeout: Duration, mut ready: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !ready() {
        assert!(
            Instant::now() < deadline,
            "timed out after {timeout:?} waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(25));
    }
}

/// An X display of our own: the first free number from 90 up (labs and other tests may run at once).
fn start_xvfb(logs: &Path) -> (Managed, String) {
    let xvfb = require_tool("Xvfb", "apt-get install xvfb xauth");
    for n in 90..200 {
        if Path::new(&format!("/tmp/.X{n}-lock")).exists()
            || Path::new(&format!("/tmp/.X11-unix/X{n}")).exists()
        {
            continue;
        }
        let mut proc = Managed::spawn(
            "Xvfb",
            Command::new(&xvfb).args([
                format!(":{n}").as_str(),
                "-screen",
                "0",
                "1280x900x24",
                "-nolisten",
                "tcp",
            ]),
            &logs.join(format!("xvfb-{n}.log")),
        );
        let socket = PathBuf::from(format!("/tmp/.X11-unix/X{n}"));
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline && !socket.exists() && !proc.exited() {
            std::thread::sleep(Duration::from_millis(20));
        }
        if socket.exists() && !proc.exited() {
            return (proc, format!(":{n}"));
        }
        // lost a race for this display number (or Xvfb failed): try the next one
    }
    panic!(
        "no free X display between :90 and :199 (see {})",
        logs.display()
    );
}

/// How to start the app under test.
#[derive(Default)]
pub struct Launch {
    /// `OSD_DEMO_LAB`: the lab.json of a lab (or a fixture) to show as the demo server.
    pub demo_lab: Option<PathBuf>,
    /// `OSD_CONFIG_DIR`: the app's config directory (saved servers, trusted host keys). A fresh
    /// empty one when `None`: a test never reads or writes the real user's files.
    pub config_dir: Option<PathBuf>,
    /// Extra environment for the app (e.g. `GTK_THEME=Adwaita:dark`).
    pub env: Vec<(&'static str, String)>,
}

/// Timings of one launch, measured from the WebDriver "new session" request (which makes
/// tauri-driver spawn the app) on this machine.
#[derive(Debug, Clone, Copy)]
pub struct LaunchTimings {
    /// The session is up: the window exists and its web view answers WebDriver.
    pub session: Duration,
}

/// Xvfb and tauri-driver: what a session needs. Field order is drop order: the driver before
/// the display it draws on.
struct Driver {
    port: u16,
    _driver: Managed,
    _xvfb: Managed,
}

/// A running app in its own display, driven through WebDriver.
pub struct Gui {
    pub client: Option<Client>,
    pub launched_at: Instant,
    pub timings: LaunchTimings,
    /// Always `Some` outside `relaunch`.
    driver: Option<Driver>,
    /// The default config directory's parent, removed with the Gui.
    scratch: Option<tempfile::TempDir>,
    /// The X display the app draws on (e.g. `:93`).
    pub display: String,
}

impl Gui {
    pub async fn launch(launch: Launch) -> Gui {
        let driver_bin = require_tool(
            "tauri-driver",
            "cargo install tauri-driver --locked --version 2.1.0",
        );
        let native = require_tool("WebKitWebDriver", "apt-get install webkit2gtk-driver");
        let logs = artifacts("e2e");
        let (xvfb, display) = start_xvfb(&logs);

        let (port, native_port) = (free_port(), free_port());
        let mut cmd = Command::new(driver_bin);
        cmd.args([
            "--port",
            &port.to_string(),
            "--native-port",
            &native_port.to_string(),
        ])
        .arg("--native-driver")
        .arg(&native)
        .env("DISPLAY", &display)
        .env("GSETTINGS_BACKEND", "memory") // no dconf warnings under Xvfb
        .env("NO_AT_BRIDGE", "1"); // no accessibility bus to look for
        match &launch.demo_lab {
            Some(lab) => cmd.env("OSD_DEMO_LAB", lab),
            None => cmd.env_remove("OSD_DEMO_LAB"),
        };
        let scratch = tempfile::tempdir().unwrap();
        let config_dir = launch
            .config_dir
            .clone()
            .unwrap_or_else(|| scratch.path().join("config"));
        cmd.env("OSD_CONFIG_DIR", &config_dir)
            .env_remove("OSD_SSH_CONFIG")
            .env_remove("OSD_TEST_SAVE_PATH")
            .env("OSD_TEST_OPENER", "true"); // "opening" a report must not start a browser
        cmd.envs(launch.env.iter().map(|(k, v)| (k, v)));
        let driver = Managed::spawn(
            "tauri-driver",
            &mut cmd,
            &logs.join(format!("tauri-driver-{port}.log")),
        );
        wait_until("tauri-driver to listen", Duration::from_secs(10), || {
            TcpStream::connect(("127.0.0.1", port)).is_ok()
        });
        let mut gui = Gui::session(Driver {
            port,
            _driver: driver,
            _xvfb: xvfb,
        })
        .await;
        gui.scratch = Some(scratch);
        gui.display = display;
        gui
    }

    /// A new WebDriver session: tauri-driver starts the app.
    async fn session(driver: Driver) -> Gui {
        let mut caps = serde_json::Map::new();
        caps.insert("browserName".into(), json!("wry"));
        caps.insert("tauri:options".into(), json!({ "application": APP }));
        let launched_at = Instant::now();
        let url = format!("http://127.0.0.1:{}", driver.port);
        let deadline = launched_at + SESSION_TIMEOUT;
        let client = loop {
            let mut builder = ClientBuilder::native();
            builder.capabilities(caps.clone());
            let left = deadline.saturating_duration_since(Instant::now());
            match tokio::time::timeout(left, builder.connect(&url)).await {
                Err(_) => panic!(
                    "the app's window did not come up within {SESSION_TIMEOUT:?} (logs in {})",
                    artifacts("e2e").display()
                ),
                Ok(Ok(client)) => break client,
                // tauri-driver listens before the WebKitWebDriver behind it does: the first
                // request can find nobody to forward to. Ask again until the deadline.
                Ok(Err(e))
                    if e.to_string().contains("SendRequest") && Instant::now() < deadline =>
                {
                    tokio::time::sleep(Duration::from_millis(200)).await
                }
                Ok(Err(e)) => panic!(
                    "WebDriver session did not start (logs in {}): {e}",
                    artifacts("e2e").display()
                ),
            }
        };
        let timings = LaunchTimings {
            session: launched_at.elapsed(),
        };
        Gui {
            client: Some(client),
            launched_at,
            timings,
            driver: Some(driver),
            scratch: None,
            display: String::new(),
        }
    }

    /// Closes the app and starts it again on the same display and driver (for timing samples).
    pub async fn relaunch(mut self) -> Gui {
        if let Some(client) = self.client.take() {
            let _ = client.close().await;
        }
        let scratch = self.scratch.take();
        let display = std::mem::take(&mut self.display);
        let mut gui = Gui::session(self.driver.take().expect("a driver")).await;
        gui.scratch = scratch;
        gui.display = display;
        gui
    }

    pub fn client(&self) -> &Client {
        self.client.as_ref().unwrap()
    }

    /// Waits for an element (CSS selector) to be in the page.
    pub async fn wait_for(&self, css: &str) -> fantoccini::elements::Element {
        self.client()
            .wait()
            .at_most(ELEMENT_TIMEOUT)
            .every(Duration::from_millis(20))
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("`{css}` did not appear within {ELEMENT_TIMEOUT:?}: {e}"))
    }

    pub async fn text(&self, css: &str) -> String {
        self.wait_for(css).await.text().await.unwrap()
    }

    /// Waits for `css` to hold text containing `needle`; returns the whole text.
    pub async fn wait_text(&self, css: &str, needle: &str) -> String {
        self.wait_text_for(css, needle, ELEMENT_TIMEOUT).await
    }

    /// Like [`Gui::wait_text`], with its own timeout (an apply waits for a restart).
    pub async fn wait_text_for(&self, css: &str, needle: &str, timeout: Duration) -> String {
        let deadline = Instant::now() + timeout;
        let mut last = String::new();
        loop {
            if let Ok(el) = self.client().find(Locator::Css(css)).await {
                if let Ok(t) = el.text().await {
                    if t.contains(needle) {
                        return t;
                    }
                    last = t;
                }
            }
            assert!(
                Instant::now() < deadline,
                "`{css}` did not come to contain {needle:?} within {timeout:?}; it reads: {last:?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits for an element with a longer timeout (an apply waits for a restart).
    pub async fn wait_for_long(
        &self,
        css: &str,
        timeout: Duration,
    ) -> fantoccini::elements::Element {
        self.client()
            .wait()
            .at_most(timeout)
            .every(Duration::from_millis(50))
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("`{css}` did not appear within {timeout:?}: {e}"))
    }

    pub async fn click(&self, css: &str) {
        let el = self.wait_for(css).await;
        el.click()
            .await
            .unwrap_or_else(|e| panic!("could not click `{css}`: {e}"));
    }

    /// Clears an input and types `text` into it.
    pub async fn fill(&self, css: &str, text: &str) {
        let el = self.wait_for(css).await;
        el.clear().await.unwrap();
        el.send_keys(text).await.unwrap();
    }

    /// Every element matching `css`, as text.
    pub async fn texts(&self, css: &str) -> Vec<String> {
        let mut out = Vec::new();
        for el in self.client().find_all(Locator::Css(css)).await.unwrap() {
            out.push(el.text().await.unwrap_or_default());
        }
        out
    }

    /// An attribute of every element matching `css`.
    pub async fn attrs(&self, css: &str, attr: &str) -> Vec<String> {
        let mut out = Vec::new();
        for el in self.client().find_all(Locator::Css(css)).await.unwrap() {
            out.push(el.attr(attr).await.unwrap().unwrap_or_default());
        }
        out
    }

    /// Waits until a native dialog titled `title` (GTK, through rfd: a window of its own on the
    /// display, out of WebDriver's reach) is listed by the X server, then checks the app's own
    /// window still answers while it is open.
    pub async fn native_dialog_opens(&self, title: &str) {
        let deadline = Instant::now() + Duration::from_secs(20);
        let mut windows = String::new();
        while Instant::now() < deadline && !windows.contains(title) {
            tokio::time::sleep(Duration::from_millis(200)).await;
            let out = Command::new("xwininfo")
                .args(["-root", "-tree", "-display", &self.display])
                .output()
                // x11-utils: installed with chromium (scripts/apt-packages.txt) on every machine.
                .expect("xwininfo (package x11-utils) lists the display's windows");
            windows = String::from_utf8_lossy(&out.stdout).into_owned();
        }
        assert!(
            windows.contains(title),
            "the native dialog {title:?} did not open:\n{windows}"
        );
        let alive = tokio::time::timeout(
            Duration::from_secs(5),
            self.client().execute("return 40 + 2", vec![]),
        )
        .await
        .expect("the window answers while the dialog is open")
        .unwrap();
        assert_eq!(alive, 42);
    }

    /// Saves a PNG of the window to artifacts/screenshots/<name>.png and returns its path.
    /// WebDriver screenshots lag the page a little: settle first.
    pub async fn screenshot(&self, name: &str) -> PathBuf {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let png = self.client().screenshot().await.expect("screenshot");
        let path = artifacts("screenshots").join(format!("{name}.png"));
        std::fs::write(&path, png).unwrap();
        path
    }

    /// Ends the session (closes the app) before the driver and display go away.
    pub async fn close(mut self) {
        if let Some(client) = self.client.take() {
            let _ = client.close().await;
        }
    }
}

impl Drop for Gui {
    fn drop(&mut self) {
        // A test that panicked never reached close(): the driver's SIGTERM ends the session.
        self.client.take();
    }
}
