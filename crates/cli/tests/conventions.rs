//! The command line as admins expect it: shell completions and a man page from the clap
//! definitions, `--yes` on every command that changes something, a rollback that needs no
//! `--instance`, colour only when wanted, errors that end with the next step, and passwords
//! remembered in a real Secret Service (GNOME Keyring on a private D-Bus session bus).
//! Runs the real binary, against labs over real SSH where a server is needed.

use osd_testlab::Lab;
use serde_json::Value;
use std::path::Path;
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_odoo-session-doctor");

fn run(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .env_remove("SSH_AUTH_SOCK")
        .env_remove("NO_COLOR")
        .env_remove("CLICOLOR_FORCE")
        .output()
        .unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// A lab's target and connection options (its key, its known_hosts) and its record folder.
fn conn(lab: &Lab) -> Vec<String> {
    vec![
        format!("ssh://root@127.0.0.1:{}", lab.info.ssh.port),
        "--identity".into(),
        lab.info.keys.ed25519.to_string_lossy().into_owned(),
        "--known-hosts".into(),
        lab.known_hosts_file().to_string_lossy().into_owned(),
        "--state-dir".into(),
        lab.dir().join("state").to_string_lossy().into_owned(),
    ]
}

fn cmd(sub: &str, args: Vec<String>, extra: &[&str]) -> Output {
    let mut all = vec![sub.to_string()];
    all.extend(args);
    all.extend(extra.iter().map(|s| s.to_string()));
    run(&all.iter().map(String::as_str).collect::<Vec<_>>())
}

/// The last line of stderr, which must say what to do next.
fn assert_ends_with_next_step(out: &Output) {
    let err = text(&out.stderr);
    let last = err
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("");
    assert!(
        last.starts_with("next: ") && last.len() > "next: ".len() + 10,
        "stderr does not end with the next step:\n{err}"
    );
    assert!(err.contains("error: "), "{err}");
}

#[test]
fn completions_generate_for_bash_zsh_and_fish_and_name_the_subcommands() {
    for (shell, marker) in [
        ("bash", "complete -F"),
        ("zsh", "#compdef odoo-session-doctor"),
        ("fish", "complete -c odoo-session-doctor"),
    ] {
        let out = run(&["completions", shell]);
        assert_eq!(out.status.code(), Some(0), "{shell}: {}", text(&out.stderr));
        let script = text(&out.stdout);
        assert!(script.contains(marker), "{shell}: no {marker:?}");
        for sub in [
            "diagnose", "plan", "apply", "rollback", "history", "report", "fleet",
        ] {
            assert!(script.contains(sub), "{shell} completion misses {sub}");
        }
        // Flags complete too (fish writes them as `-l instance`).
        let (instance, yes) = if shell == "fish" {
            ("-l instance", "-l yes")
        } else {
            ("--instance", "--yes")
        };
        assert!(script.contains(instance) && script.contains(yes), "{shell}");
    }
    let out = run(&["completions", "tcsh"]);
    assert_ne!(out.status.code(), Some(0), "an unknown shell is refused");
    assert!(text(&out.stderr).contains("possible values"));
}

#[test]
fn the_man_page_renders() {
    let out = run(&["man"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let roff = text(&out.stdout);
    assert!(roff.contains(".TH odoo-session-doctor 1"), "{roff}");
    assert!(roff.contains("rollback") && roff.contains("completions"));
    // A hidden command is not advertised in the page or in --help.
    assert!(!text(&run(&["--help"]).stdout).contains("\n  man "));

    // The page renders with the system's roff to plain text that a person can read.
    let page = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(page.path(), &out.stdout).unwrap();
    let rendered = Command::new("groff")
        .args(["-man", "-Tutf8", "-P", "-cbou"])
        .arg(page.path())
        .output()
        .expect("groff (Debian's groff-base) renders man pages");
    assert!(rendered.status.success(), "{}", text(&rendered.stderr));
    let plain = text(&rendered.stdout);
    assert!(
        plain.contains("NAME") && plain.contains("SYNOPSIS"),
        "{plain}"
    );
    assert!(plain.contains("Session Expired"), "{plain}");

    // One page per command into a folder, as a package build installs them.
    let dir = tempfile::tempdir().unwrap();
    let out = run(&["man", "--out-dir", &dir.path().to_string_lossy()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    for page in [
        "odoo-session-doctor.1",
        "odoo-session-doctor-apply.1",
        "odoo-session-doctor-rollback.1",
    ] {
        assert!(dir.path().join(page).is_file(), "no {page}");
    }
}

#[test]
fn every_command_that_changes_something_takes_yes() {
    for sub in [&["apply"][..], &["rollback"], &["servers", "forget"]] {
        let mut args = sub.to_vec();
        args.push("--help");
        let out = run(&args);
        let help = text(&out.stdout);
        assert!(
            help.contains("--yes") && help.contains("Do not ask for confirmation"),
            "{sub:?} has no --yes:\n{help}"
        );
    }
    // The same flags everywhere they make sense.
    for sub in ["diagnose", "plan", "apply", "rollback", "history", "facts"] {
        let help = text(&run(&[sub, "--help"]).stdout);
        for flag in [
            "--instance",
            "--json",
            "--identity",
            "--known-hosts",
            "--accept-new-host-key",
        ] {
            assert!(help.contains(flag), "{sub} has no {flag}");
        }
    }
    let help = text(&run(&["fleet", "diagnose", "--help"]).stdout);
    for flag in [
        "--instance",
        "--json",
        "--identity",
        "--known-hosts",
        "--accept-new-host-key",
    ] {
        assert!(help.contains(flag), "fleet diagnose has no {flag}");
    }
}

#[test]
fn rollback_last_needs_no_instance_and_asks_first() {
    // Two labs on this machine: the host runs several Odoo instances.
    let lab = Lab::up("short-lifetime");
    let _other = Lab::up("healthy");
    let conf = lab.info.odoo.conf.to_string_lossy().into_owned();
    let lifetime = |lab: &Lab| {
        let out = cmd("diagnose", conn(lab), &["--instance", &conf, "--json"]);
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        let c = v["checks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"] == "session.lifetime")
            .cloned();
        c.unwrap()["status"].as_str().unwrap().to_string()
    };
    assert_eq!(lifetime(&lab), "fail");

    let out = cmd("diagnose", conn(&lab), &[]);
    assert_eq!(
        out.status.code(),
        Some(3),
        "several instances: --instance needed"
    );
    assert_ends_with_next_step(&out);
    assert!(text(&out.stderr).contains("--instance"));

    let out = cmd(
        "apply",
        conn(&lab),
        &[
            "--instance",
            &conf,
            "--fix",
            "session.lifetime",
            "--set",
            "session.lifetime=86400",
            "--yes",
            "--json",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let id = serde_json::from_slice::<Value>(&out.stdout).unwrap()["changeset"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(lifetime(&lab), "ok");

    // Without --yes and without a terminal nothing is rolled back, and it says how to go on.
    let out = cmd("rollback", conn(&lab), &["--last"]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    assert_ends_with_next_step(&out);
    assert!(text(&out.stderr).contains("--yes"));
    assert!(
        text(&out.stdout).contains(&id),
        "the question names the change set"
    );
    let status = lab.dir().join("state/changesets").join(&id).join("status");
    assert_eq!(std::fs::read_to_string(&status).unwrap().trim(), "applied");

    // No --instance: the record says which instance the change set was made for.
    let out = cmd("rollback", conn(&lab), &["--last", "--yes", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["changeset"], id.as_str());
    assert_eq!(v["status"], "undone");
    assert_eq!(lifetime(&lab), "fail", "the short lifetime is back");
}

#[test]
fn colour_only_when_wanted_and_never_with_no_color() {
    let facts =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../engine/tests/fixtures/facts/http-only.json");
    let facts = facts.to_string_lossy();
    let diagnose = |env: &[(&str, &str)]| {
        let mut c = Command::new(BIN);
        c.args(["diagnose", "--from-facts", &facts]);
        c.env_remove("NO_COLOR")
            .env_remove("CLICOLOR_FORCE")
            .env_remove("CLICOLOR");
        for (k, v) in env {
            c.env(k, v);
        }
        c.output().unwrap()
    };
    // Forced (as a terminal would get it): the marks and verdict are coloured.
    let forced = diagnose(&[("CLICOLOR_FORCE", "1")]);
    assert!(
        text(&forced.stdout).contains("\x1b["),
        "colour can be shown at all"
    );
    // A pipe gets none, and NO_COLOR wins even over a forced colour.
    for env in [
        &[][..],
        &[("NO_COLOR", "1")],
        &[("NO_COLOR", "1"), ("CLICOLOR_FORCE", "1")],
    ] {
        let out = diagnose(env);
        assert!(
            out.status.code().is_some_and(|c| c < 3),
            "{}",
            text(&out.stderr)
        );
        let all = [out.stdout, out.stderr].concat();
        assert!(
            !all.contains(&0x1b),
            "ANSI escape with {env:?}:\n{}",
            text(&all)
        );
        assert!(text(&all).contains(" ✓ "), "the marks are still there");
    }
    // Errors too.
    let out = Command::new(BIN)
        .args(["diagnose", "ssh://root@127.0.0.1:1"])
        .env("NO_COLOR", "1")
        .env("CLICOLOR_FORCE", "1")
        .output()
        .unwrap();
    assert!(!out.stderr.contains(&0x1b), "{}", text(&out.stderr));
}

#[test]
fn errors_end_with_the_next_step() {
    let missing = tempfile::tempdir().unwrap();
    let cases: Vec<Vec<String>> = vec![
        vec!["diagnose".into(), "ssh://root@127.0.0.1:1".into()],
        vec!["diagnose".into()],
        vec!["rollback".into(), "local".into()],
        vec![
            "diagnose".into(),
            "--from-facts".into(),
            missing
                .path()
                .join("nope.json")
                .to_string_lossy()
                .into_owned(),
        ],
        vec![
            "servers".into(),
            "forget".into(),
            "no-such-server".into(),
            "--yes".into(),
        ],
        vec![
            "report".into(),
            "--from".into(),
            missing.path().join("r.json").to_string_lossy().into_owned(),
        ],
        vec![
            "fleet".into(),
            "diagnose".into(),
            "--inventory".into(),
            missing
                .path()
                .join("hosts.ini")
                .to_string_lossy()
                .into_owned(),
        ],
    ];
    for args in cases {
        let out = Command::new(BIN)
            .args(&args)
            .env("OSD_CONFIG_DIR", missing.path())
            .env_remove("SSH_AUTH_SOCK")
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(3),
            "{args:?}: {}",
            text(&out.stderr)
        );
        assert_ends_with_next_step(&out);
    }
}

const INNER: &str = "remembered_password_inside_a_private_keyring";

/// `--remember`, a remembered password used when none is given, and `servers forget`, against
/// GNOME Keyring on a private session bus (the person's own keyring is never touched).
#[test]
fn a_remembered_password_logs_in_until_it_is_forgotten() {
    let tmp = tempfile::tempdir().unwrap();
    osd_testlab::keyring::run_inside(INNER, tmp.path(), &[]);
}

#[test]
#[ignore = "run by a_remembered_password_logs_in_until_it_is_forgotten"]
fn remembered_password_inside_a_private_keyring() {
    let data = std::path::PathBuf::from(std::env::var("OSD_TEST_DATA").unwrap());
    let config = data.join("config");
    let lab = Lab::up("healthy");
    let user = lab.info.users.sudo_nopasswd.clone();
    let password = user.password.clone().unwrap();
    let store = osd_servers::ServerStore::new(config.join("servers.toml"));
    let saved = store
        .save(&osd_servers::ServerInput {
            id: None,
            name: "labpw".into(),
            host: "127.0.0.1".into(),
            port: Some(lab.info.ssh.port),
            user: user.login.clone(),
            auth: osd_servers::AuthMethod::Password,
            key_file: None,
            instance: Some(lab.info.odoo.conf.to_string_lossy().into_owned()),
            state_dir: Some(lab.dir().join("state").to_string_lossy().into_owned()),
        })
        .unwrap();
    assert_eq!(saved.id, "labpw");
    let known_hosts = lab.known_hosts_file().to_string_lossy().into_owned();
    let cli = |args: &[&str], password: Option<&str>| {
        let mut c = Command::new(BIN);
        c.args(args)
            .env("OSD_CONFIG_DIR", &config)
            .env_remove("SSH_AUTH_SOCK")
            .env_remove("OSD_SSH_PASSWORD");
        if let Some(p) = password {
            c.env("OSD_SSH_PASSWORD", p);
        }
        c.output().unwrap()
    };
    let diagnose = ["diagnose", "labpw", "--known-hosts", &known_hosts, "--json"];

    // Nothing remembered, nothing given: the login fails and says what to do.
    let out = cli(&diagnose, None);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    assert_ends_with_next_step(&out);

    // Given once with --remember: stored after the login worked.
    let mut remember = diagnose.to_vec();
    remember.push("--remember");
    let out = cli(&remember, Some(&password));
    assert!(
        out.status.code().is_some_and(|c| c < 3),
        "{}",
        text(&out.stderr)
    );
    assert!(
        text(&out.stderr).contains("remembered the SSH password for labpw"),
        "{}",
        text(&out.stderr)
    );
    let toml = std::fs::read_to_string(config.join("servers.toml")).unwrap();
    assert!(
        !toml.contains(&password),
        "servers.toml holds the password:\n{toml}"
    );
    let server = store.get("labpw").unwrap();
    let kept = osd_servers::secrets::recall(&server, osd_servers::secrets::SecretKind::SshPassword)
        .unwrap();
    assert_eq!(kept.as_ref().map(|s| s.expose()), Some(password.as_str()));

    // Next time nothing is given: the remembered one logs in.
    let out = cli(&diagnose, None);
    assert!(
        out.status.code().is_some_and(|c| c < 3),
        "{}",
        text(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v.get("verdict").is_some());

    // Forget asks first; with --yes it is gone and the login fails again.
    let out = cli(&["servers", "forget", "labpw"], None);
    assert_eq!(out.status.code(), Some(3));
    assert!(
        osd_servers::secrets::recall(&server, osd_servers::secrets::SecretKind::SshPassword)
            .unwrap()
            .is_some()
    );
    let out = cli(&["servers", "forget", "labpw", "--yes"], None);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("Forgot"));
    assert!(
        osd_servers::secrets::recall(&server, osd_servers::secrets::SecretKind::SshPassword)
            .unwrap()
            .is_none()
    );
    let out = cli(&diagnose, None);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
}

/// A server that accepts TCP and never speaks: the SSH handshake waits for its 10-second timeout,
/// so the command is slow for certain, without any sleep in the test.
fn silent_server() -> (u16, std::sync::mpsc::Receiver<std::net::TcpStream>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let (tx, rx) = std::sync::mpsc::channel();
    // The accepted connections are kept open in the channel until the test ends.
    std::thread::spawn(move || {
        for s in listener.incoming().flatten() {
            if tx.send(s).is_err() {
                break;
            }
        }
    });
    (port, rx)
}

#[test]
fn a_slow_call_shows_a_progress_line_only_when_stderr_is_a_terminal() {
    let (port, _held) = silent_server();
    let target = format!("ssh://root@127.0.0.1:{port}");
    // On a terminal (`script` gives the command a pty): the line says what is going on.
    let line = format!("{BIN} diagnose {target} --known-hosts /dev/null");
    let out = Command::new("script")
        .args(["-qec", &line, "/dev/null"])
        .env("NO_COLOR", "1")
        .env_remove("SSH_AUTH_SOCK")
        .stdin(std::process::Stdio::null())
        .output()
        .expect("script (util-linux) runs");
    let screen = text(&out.stdout);
    assert!(
        screen.contains(&format!("Connecting to {target}")),
        "no progress line on the terminal:\n{screen}"
    );
    assert!(screen.contains("next: "), "{screen}");
    // Piped: no progress line, only the error and its next step.
    let out = run(&["diagnose", &target, "--known-hosts", "/dev/null"]);
    assert_eq!(out.status.code(), Some(3));
    assert!(
        !text(&out.stderr).contains("Connecting to"),
        "{}",
        text(&out.stderr)
    );
    assert_ends_with_next_step(&out);
}
