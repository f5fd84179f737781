//! The command line as scripts use it: exit codes, JSON shapes, and errors that name the host and
//! say what to do. Runs the real binary against labs over real SSH.

use osd_testlab::Lab;
use serde_json::Value;
use std::process::{Command, Output};

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_odoo-session-doctor"))
        .args(args)
        .env_remove("SSH_AUTH_SOCK")
        .output()
        .unwrap()
}

/// Target and connection options for a lab (its own known_hosts, its key, its instance).
fn conn(lab: &Lab) -> Vec<String> {
    vec![
        format!("ssh://root@127.0.0.1:{}", lab.info.ssh.port),
        "--identity".into(),
        lab.info.keys.ed25519.to_string_lossy().into_owned(),
        "--known-hosts".into(),
        lab.known_hosts_file().to_string_lossy().into_owned(),
    ]
}

fn with_instance(lab: &Lab, extra: &[&str]) -> Vec<String> {
    let mut v = conn(lab);
    v.extend([
        "--instance".into(),
        lab.info.odoo.conf.to_string_lossy().into_owned(),
    ]);
    v.extend([
        "--state-dir".into(),
        lab.dir().join("state").to_string_lossy().into_owned(),
    ]);
    v.extend(extra.iter().map(|s| s.to_string()));
    v
}

/// The check `id` of a `--json` diagnosis.
fn check<'v>(v: &'v Value, id: &str) -> &'v Value {
    v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id)
        .unwrap_or_else(|| panic!("no check {id}"))
}

fn cmd(sub: &str, args: Vec<String>) -> Output {
    let mut all = vec![sub.to_string()];
    all.extend(args);
    run(&all.iter().map(String::as_str).collect::<Vec<_>>())
}

#[test]
fn diagnose_prints_the_verdict_first_and_exits_by_severity() {
    let lab = Lab::up("healthy");
    let out = cmd("diagnose", with_instance(&lab, &[]));
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.lines()
            .next()
            .unwrap()
            .starts_with("Healthy: nothing here logs users out."),
        "{text}"
    );
    assert!(text.contains(" ✓ session.lifetime"));

    let broken = Lab::up("short-lifetime");
    let out = cmd("diagnose", with_instance(&broken, &["--json"]));
    assert_eq!(out.status.code(), Some(2));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    for key in ["host", "facts", "checks", "verdict"] {
        assert!(v.get(key).is_some(), "JSON has {key}");
    }
    let lifetime = check(&v, "session.lifetime");
    assert_eq!(lifetime["status"], "fail");
    for key in ["id", "status", "title", "summary", "evidence", "fixes"] {
        assert!(lifetime.get(key).is_some(), "a check has {key}");
    }
}

#[test]
fn several_instances_without_instance_exit_3_and_list_them() {
    let a = Lab::up("healthy");
    let b = Lab::up("healthy");
    let out = cmd("diagnose", conn(&a));
    assert_eq!(out.status.code(), Some(3));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--instance"), "{err}");
    for lab in [&a, &b] {
        assert!(
            err.contains(&*lab.info.odoo.conf.to_string_lossy()),
            "{err}"
        );
    }
}

#[test]
fn an_unknown_host_key_is_refused_with_its_fingerprint() {
    let lab = Lab::up("healthy");
    let empty = lab.dir().join("empty_known_hosts");
    std::fs::write(&empty, "").unwrap();
    let mut args = with_instance(&lab, &[]);
    args[4] = empty.to_string_lossy().into_owned();
    // The app's own known_hosts lives in HOME's config dir: point it somewhere empty too.
    let home = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_odoo-session-doctor"))
        .arg("diagnose")
        .args(&args)
        .env("HOME", home.path())
        .env_remove("XDG_CONFIG_HOME")
        .env_remove("SSH_AUTH_SOCK")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&lab.info.ssh.host_key_fingerprint) && err.contains("not known"),
        "{err}"
    );
}

/// A server saved in the app (osd-servers) is a TARGET by its id or name, with its login, key and
/// instance; `servers list` shows what is saved.
#[test]
fn a_saved_server_is_a_target_and_servers_list_shows_it() {
    let lab = Lab::up("short-lifetime");
    let config = tempfile::tempdir().unwrap();
    std::fs::write(
        config.path().join("servers.toml"),
        format!(
            "# saved in the app\n[servers.lab]\nname = \"The Lab\"\nhost = \"127.0.0.1\"\nport = {}\nuser = \"root\"\nauth = \"key\"\nkey_file = {:?}\ninstance = {:?}\nstate_dir = {:?}\n",
            lab.info.ssh.port,
            lab.info.keys.ed25519.display().to_string(),
            lab.info.odoo.conf.display().to_string(),
            lab.dir().join("state").display().to_string(),
        ),
    )
    .unwrap();
    let with_config = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_odoo-session-doctor"))
            .args(args)
            .env("OSD_CONFIG_DIR", config.path())
            .env_remove("SSH_AUTH_SOCK")
            .output()
            .unwrap()
    };

    let out = with_config(&["servers", "list"]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(
        text,
        format!(
            "lab  The Lab: root@127.0.0.1:{} (key, instance {})\n",
            lab.info.ssh.port,
            lab.info.odoo.conf.display()
        )
    );
    let out = with_config(&["servers", "list", "--json"]);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v[0]["id"], "lab");
    assert_eq!(v[0]["port"], lab.info.ssh.port);

    let known_hosts = lab.known_hosts_file().to_string_lossy().into_owned();
    for target in ["lab", "The Lab"] {
        let out = with_config(&["diagnose", target, "--known-hosts", &known_hosts, "--json"]);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        let lifetime = check(&v, "session.lifetime");
        assert_eq!(lifetime["status"], "fail", "{target}");
    }
    // The other commands take a saved name too.
    let out = with_config(&["history", "lab", "--known-hosts", &known_hosts, "--json"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_dead_host_is_a_clear_error() {
    let out = run(&["diagnose", "ssh://root@127.0.0.1:1"]);
    assert_eq!(out.status.code(), Some(3));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("cannot reach 127.0.0.1:1"), "{err}");
}

#[test]
fn plan_apply_history_rollback() {
    let lab = Lab::up("short-lifetime");
    let fix = [
        "--fix",
        "session.lifetime",
        "--set",
        "session.lifetime=86400",
    ];
    let out = cmd("plan", with_instance(&lab, &fix));
    assert_eq!(out.status.code(), Some(0));
    let preview = String::from_utf8(out.stdout).unwrap();
    assert!(
        preview.contains("sessions.max_inactivity_seconds in database odoo: 600 → 86400"),
        "{preview}"
    );

    // Without --yes and without a terminal nothing is applied.
    let out = cmd("apply", with_instance(&lab, &fix));
    assert_eq!(out.status.code(), Some(3));

    let mut yes = fix.to_vec();
    yes.extend(["--yes", "--json"]);
    let out = cmd("apply", with_instance(&lab, &yes));
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["status"], "applied");
    assert!(v["error"].is_null());
    assert!(v["verification"]
        .as_array()
        .unwrap()
        .iter()
        .all(|x| x["persisted"] == true && x.get("check").is_some() && x.get("detail").is_some()));
    let id = v["changeset"].as_str().unwrap().to_string();

    let mut hist = conn(&lab);
    hist.extend([
        "--state-dir".into(),
        lab.dir().join("state").to_string_lossy().into_owned(),
    ]);
    let out = cmd("history", hist.clone());
    assert!(String::from_utf8_lossy(&out.stdout).contains(&id));

    let out = cmd("rollback", with_instance(&lab, &["--last", "--yes"]));
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = cmd("diagnose", with_instance(&lab, &[]));
    assert_eq!(
        out.status.code(),
        Some(2),
        "the lifetime is short again after the rollback"
    );
}

#[test]
fn a_facts_file_diagnoses_like_the_host_without_access_to_it() {
    let lab = Lab::up("short-lifetime");
    let file = lab.dir().join("sent-to-consultant.json");
    let out = cmd(
        "facts",
        with_instance(&lab, &["--out", file.to_str().unwrap()]),
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "facts name hosts and users: owner only");
    let doc = std::fs::read_to_string(&file).unwrap();
    let conf = std::fs::read_to_string(&lab.info.odoo.conf).unwrap();
    for key in ["admin_passwd", "db_password"] {
        let secret = conf
            .lines()
            .find_map(|l| l.strip_prefix(key)?.trim_start().strip_prefix('='))
            .unwrap()
            .trim();
        assert!(!doc.contains(secret), "{key} is in the facts file");
    }

    let live = cmd("diagnose", with_instance(&lab, &["--json"]));
    let offline = run(&["diagnose", "--from-facts", file.to_str().unwrap(), "--json"]);
    assert_eq!(offline.status.code(), live.status.code());
    let statuses = |o: &Output| -> Vec<(String, String)> {
        let v: Value = serde_json::from_slice(&o.stdout).unwrap();
        v["checks"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| (c["id"].to_string(), c["status"].to_string()))
            .collect()
    };
    assert_eq!(statuses(&offline), statuses(&live));

    // Not a facts file: the error names it and says how to make one.
    let out = run(&[
        "diagnose",
        "--from-facts",
        lab.info.odoo.conf.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(3));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("is not a facts document") && err.contains("odoo-session-doctor facts"),
        "{err}"
    );
}

#[test]
fn what_needs_a_person_is_said_and_never_planned_as_already_right() {
    let lab = Lab::up("http-only");
    let out = cmd("diagnose", with_instance(&lab, &[]));
    let text = String::from_utf8(out.stdout).unwrap();
    let item = text
        .split("\n! proxy.https-redirect")
        .nth(1)
        .unwrap_or_else(|| panic!("the HTTPS item is detailed: {text}"));
    assert!(
        item.contains("  Needs you: Odoo is served over plain HTTP only"),
        "{item}"
    );
    assert!(item.contains("certbot --nginx -d odoo.lab.test"), "{item}");
    assert!(!item.contains("Fix here:"), "{item}");

    let out = cmd("diagnose", with_instance(&lab, &["--json"]));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let check = check(&v, "proxy.https-redirect");
    assert_eq!(check["remedy"]["kind"], "needs_you", "{check}");
    assert!(check["remedy"]["steps"].as_array().unwrap().len() >= 3);

    let out = cmd(
        "plan",
        with_instance(&lab, &["--fix", "proxy.https-redirect"]),
    );
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert_ne!(out.status.code(), Some(0), "{stdout}{stderr}");
    assert!(
        !stdout.contains("Already right") && !stdout.contains("Nothing to change"),
        "{stdout}"
    );
    assert!(
        stderr.contains("“HTTP redirects to HTTPS” (proxy.https-redirect) cannot be fixed here: Odoo is served over plain HTTP only")
            && stderr.contains("certbot --nginx -d odoo.lab.test"),
        "{stderr}"
    );
}

#[test]
fn diagnose_names_the_fix_to_run_for_what_the_app_fixes() {
    let facts = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../engine/tests/fixtures/facts/proxy-mode-off.json"
    );
    let out = run(&["diagnose", "--from-facts", facts]);
    let text = String::from_utf8(out.stdout).unwrap();
    let item = text
        .split("\n✗ proxy.mode")
        .nth(1)
        .unwrap_or_else(|| panic!("{text}"));
    assert!(item.contains("  Fix here: --fix proxy.mode\n"), "{item}");
    assert!(!item.contains("Needs you"), "{item}");
}

/// `history` re-checks applied change sets against the server: a parameter changed by SQL after
/// the apply is "no longer in effect". `report` on a saved server is titled with its saved name
/// and lists the change set with that state.
#[test]
fn history_and_report_say_when_a_change_is_no_longer_in_effect() {
    let lab = Lab::up("short-lifetime");
    let fix = [
        "--fix",
        "session.lifetime",
        "--set",
        "session.lifetime=86400",
        "--yes",
        "--json",
    ];
    let out = cmd("apply", with_instance(&lab, &fix));
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let id = v["changeset"].as_str().unwrap().to_string();

    let mut hist = conn(&lab);
    hist.extend([
        "--instance".into(),
        lab.info.odoo.conf.to_string_lossy().into_owned(),
        "--state-dir".into(),
        lab.dir().join("state").to_string_lossy().into_owned(),
    ]);
    let out = cmd("history", hist.clone());
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(text.contains(&id) && text.contains("in effect"), "{text}");
    assert!(!text.contains("NO LONGER IN EFFECT"), "{text}");

    let mut client = postgres::Client::connect(&lab.pg_conninfo(), postgres::NoTls).unwrap();
    client
        .execute(
            "UPDATE ir_config_parameter SET value = '600' WHERE key = 'sessions.max_inactivity_seconds'",
            &[],
        )
        .unwrap();
    let out = cmd("history", hist.clone());
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(text.contains("NO LONGER IN EFFECT"), "{text}");
    assert!(
        text.contains("sessions.max_inactivity_seconds in odoo: now 600: changed outside this app"),
        "{text}"
    );
    let mut json = hist.clone();
    json.push("--json".into());
    let v: Value = serde_json::from_slice(&cmd("history", json).stdout).unwrap();
    assert_eq!(v[0]["now"]["state"], "no_longer_in_effect");

    // The report of the saved server "Production": its name, this change set, its state.
    let config = tempfile::tempdir().unwrap();
    std::fs::write(
        config.path().join("servers.toml"),
        format!(
            "[servers.prod]\nname = \"Production\"\nhost = \"127.0.0.1\"\nport = {}\nuser = \"root\"\nauth = \"key\"\nkey_file = {:?}\ninstance = {:?}\nstate_dir = {:?}\n",
            lab.info.ssh.port,
            lab.info.keys.ed25519.display().to_string(),
            lab.info.odoo.conf.display().to_string(),
            lab.dir().join("state").display().to_string(),
        ),
    )
    .unwrap();
    let known_hosts = lab.known_hosts_file().to_string_lossy().into_owned();
    let out = Command::new(env!("CARGO_BIN_EXE_odoo-session-doctor"))
        .args([
            "report",
            "Production",
            "--known-hosts",
            &known_hosts,
            "--format",
            "md",
        ])
        .env("OSD_CONFIG_DIR", config.path())
        .env_remove("SSH_AUTH_SOCK")
        .env_remove("USER")
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let md = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        md.starts_with("# Session checklist report: Production\n"),
        "{md}"
    );
    assert!(
        md.contains(&format!("### Change set `{id}`: No longer in effect")),
        "{md}"
    );
    assert!(
        !md.contains("someone@"),
        "the local user is named even without $USER"
    );
}

/// The CLI killed (SIGKILL) in the middle of an apply, at the restart and at verification; then
/// no command of ours runs: within the guard's deadline the server is back as it was — odoo.conf
/// byte-identical, the parameter at its old value, the lock free — and the next `diagnose` shows
/// the old lifetime and no unsettled change, while `history` says the host guard undid it.
#[test]
fn a_killed_cli_leaves_nothing_half_changed() {
    use std::io::{BufRead, BufReader};
    for at in ["[restart_odoo]", "[verify]"] {
        let lab = Lab::up("short-lifetime");
        let conf = lab.info.odoo.conf.clone();
        let conf_before = std::fs::read(&conf).unwrap();
        let fix = [
            "--fix",
            "session.lifetime",
            "--set",
            "session.lifetime=86400",
            "--yes",
            "--guard",
            "10",
        ];
        let mut args = vec!["apply".to_string()];
        args.extend(with_instance(&lab, &fix));
        let mut child = Command::new(env!("CARGO_BIN_EXE_odoo-session-doctor"))
            .args(&args)
            .env_remove("SSH_AUTH_SOCK")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut seen = Vec::new();
        for line in BufReader::new(child.stderr.take().unwrap()).lines() {
            let line = line.unwrap();
            let hit = line.starts_with(at);
            seen.push(line);
            if hit {
                child.kill().unwrap(); // SIGKILL
                break;
            }
        }
        child.wait().unwrap();
        assert!(
            seen.iter().any(|l| l.starts_with(at)),
            "never reached {at}: {seen:#?}"
        );

        // Nothing of ours runs now: the host settles by itself.
        let changesets = lab.dir().join("state/changesets");
        let id = std::fs::read_dir(&changesets)
            .unwrap()
            .next()
            .unwrap()
            .unwrap()
            .file_name();
        let status = changesets.join(&id).join("status");
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(180);
        while std::fs::read_to_string(&status).unwrap_or_default().trim() != "rolled_back" {
            assert!(
                std::time::Instant::now() < deadline,
                "{at}: the host never rolled back"
            );
            std::thread::sleep(std::time::Duration::from_millis(200));
        }
        assert_eq!(
            std::fs::read(&conf).unwrap(),
            conf_before,
            "{at}: odoo.conf"
        );
        assert!(
            !lab.dir().join("state/lock").exists(),
            "{at}: the lock is still held"
        );

        let out = cmd("diagnose", with_instance(&lab, &["--json"]));
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(v["unsettled"], serde_json::json!([]), "{at}");
        let lifetime = check(&v, "session.lifetime");
        assert_eq!(
            lifetime["status"], "fail",
            "{at}: the short lifetime is back: {lifetime:#}"
        );
        let mut hist = conn(&lab);
        hist.extend([
            "--state-dir".into(),
            lab.dir().join("state").to_string_lossy().into_owned(),
        ]);
        let out = cmd("history", hist);
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            text.contains("rolled back by the host guard"),
            "{at}: {text}"
        );
    }
}

/// A change set the host has not settled leads `diagnose`, with what it changed and the one
/// command that settles it.
#[test]
fn diagnose_leads_with_an_unsettled_change() {
    let lab = Lab::up("short-lifetime");
    // A record whose apply was cut after it started, on a host that restarted since (no program).
    let dir = lab.dir().join("state/changesets/20261201T000000Z-abc123");
    std::fs::create_dir_all(dir.join("before")).unwrap();
    std::fs::create_dir_all(dir.join("after")).unwrap();
    let rec = serde_json::json!({
        "id": "20261201T000000Z-abc123", "created": 1764547200u64, "created_text": "2026-12-01T00:00:00Z",
        "by": "someone", "host": "lab", "status": "applying",
        "changeset": {"checks": ["session.lifetime"], "files": [], "params": [
            {"db": "odoo", "key": "sessions.max_inactivity_seconds", "old": "600", "new": "86400", "check": "session.lifetime"}],
            "services": [], "reasons": [], "interruption": "", "notes": []},
        "verification": [], "error": null, "log": []
    });
    std::fs::write(dir.join("record.json"), serde_json::to_vec(&rec).unwrap()).unwrap();
    let out = cmd("diagnose", with_instance(&lab, &[]));
    let text = String::from_utf8_lossy(&out.stdout);
    let first = text.lines().next().unwrap_or("");
    assert!(
        first.starts_with("✗ Change set 20261201T000000Z-abc123 is not settled"),
        "{text}"
    );
    assert!(
        text.contains("system parameter sessions.max_inactivity_seconds in database odoo"),
        "{text}"
    );
    assert!(
        text.contains("settle it: odoo-session-doctor rollback ssh://root@127.0.0.1:"),
        "{text}"
    );
    assert_eq!(out.status.code(), Some(2));
}
