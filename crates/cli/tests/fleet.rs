//! `fleet diagnose` and `fleet report` as scripts use them: Ansible inventories (INI and YAML)
//! of real labs over real SSH, a dead host and a host with an unknown key among them, `--limit`,
//! exit codes, and drift against a saved run.

use osd_testlab::Lab;
use serde_json::Value;
use std::path::Path;
use std::process::{Command, Output};

/// Runs the CLI with HOME in `home` (so the app's own known_hosts is empty there).
fn run(home: &Path, args: &[String]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_odoo-session-doctor"))
        .args(args)
        .env("HOME", home)
        .env_remove("XDG_CONFIG_HOME")
        .env_remove("SSH_AUTH_SOCK")
        .output()
        .unwrap()
}

fn s(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

/// An INI host line reaching `lab` with its key, instance and record directory.
fn ini_host(name: &str, lab: &Lab) -> String {
    format!(
        "{name} ansible_host=127.0.0.1 ansible_port={} ansible_user=root ansible_ssh_private_key_file={} odoo_instance={} odoo_state_dir={}",
        lab.info.ssh.port,
        s(&lab.info.keys.ed25519),
        s(&lab.info.odoo.conf),
        s(&lab.dir().join("state")),
    )
}

fn known_hosts(labs: &[&Lab]) -> Vec<String> {
    labs.iter()
        .flat_map(|l| ["--known-hosts".to_string(), s(&l.known_hosts_file())])
        .collect()
}

fn args(parts: &[&str], rest: Vec<String>) -> Vec<String> {
    parts.iter().map(|p| p.to_string()).chain(rest).collect()
}

/// The JSON documents of a `--json` run, by host name.
fn docs(out: &Output) -> Vec<Value> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

fn doc<'a>(docs: &'a [Value], name: &str) -> &'a Value {
    docs.iter()
        .find(|d| d["name"] == name)
        .unwrap_or_else(|| panic!("{name} in {docs:?}"))
}

fn check<'a>(d: &'a Value, id: &str) -> &'a Value {
    d["result"]["ok"]["report"]["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id)
        .unwrap()
}

#[test]
fn an_ini_inventory_gives_one_row_per_host_and_the_worst_exit_code() {
    let a = Lab::up("healthy");
    let b = Lab::up("short-lifetime");
    let home = tempfile::tempdir().unwrap();
    let inventory = home.path().join("hosts.ini");
    std::fs::write(
        &inventory,
        format!(
            "# two labs, a dead host, a host whose key nobody knows\n[labs]\n{}\n{}\n\n[broken]\ndead ansible_host=127.0.0.1 ansible_port=1 ansible_user=root\n\
             ; the first lab under another name: its key is not known for it\nstranger ansible_host=localhost ansible_port={} ansible_user=root ansible_ssh_private_key_file={}\n\n\
             [odoo:children]\nlabs\nbroken\n",
            ini_host("lab-a", &a),
            ini_host("lab-b", &b),
            a.info.ssh.port,
            s(&a.info.keys.ed25519),
        ),
    )
    .unwrap();
    let inv = s(&inventory);

    let out = run(
        home.path(),
        &args(
            &["fleet", "diagnose", "--inventory", &inv, "--json"],
            known_hosts(&[&a, &b]),
        ),
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(3),
        "the worst host could not be diagnosed: {err}"
    );
    let d = docs(&out);
    assert_eq!(d.len(), 4, "one document per host: {d:?}");
    let lab_a = doc(&d, "lab-a");
    assert_eq!(
        lab_a["result"]["ok"]["report"]["verdict"]["status"], "ok",
        "{lab_a}"
    );
    assert_eq!(lab_a["instance"], s(&a.info.odoo.conf));
    assert_eq!(
        check(doc(&d, "lab-b"), "session.lifetime")["status"],
        "fail"
    );
    let dead = doc(&d, "dead")["result"]["error"].as_str().unwrap();
    assert!(dead.contains("cannot reach 127.0.0.1:1"), "{dead}");
    let stranger = doc(&d, "stranger")["result"]["error"].as_str().unwrap();
    assert!(
        stranger.contains("not known")
            && stranger.contains(&a.info.ssh.host_key_fingerprint)
            && stranger.contains("--accept-new-host-key"),
        "{stranger}"
    );

    // A group less a host: the two labs; the worst of them is a failure (2).
    let out = run(
        home.path(),
        &args(
            &[
                "fleet",
                "diagnose",
                "-i",
                &inv,
                "--limit",
                "odoo:!broken",
                "--json",
                "--forks",
                "2",
            ],
            known_hosts(&[&a, &b]),
        ),
    );
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut names: Vec<String> = docs(&out)
        .iter()
        .map(|d| d["name"].as_str().unwrap().to_string())
        .collect();
    names.sort();
    assert_eq!(names, ["lab-a", "lab-b"]);

    // A typo in --limit is an error before any connection, naming the term.
    let out = run(
        home.path(),
        &args(
            &["fleet", "diagnose", "-i", &inv, "--limit", "labs:!lab-c"],
            vec![],
        ),
    );
    assert_eq!(out.status.code(), Some(3));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("'lab-c'") && err.contains("matches no host"),
        "{err}"
    );
}

#[test]
fn a_yaml_inventory_prints_a_line_per_host_then_the_table() {
    let a = Lab::up("healthy");
    let b = Lab::up("short-lifetime");
    let home = tempfile::tempdir().unwrap();
    let inventory = home.path().join("hosts.yml");
    let host = |lab: &Lab| {
        format!(
            "          ansible_port: {}\n          ansible_ssh_private_key_file: {}\n          odoo_instance: {}\n          odoo_state_dir: {}\n",
            lab.info.ssh.port,
            s(&lab.info.keys.ed25519),
            s(&lab.info.odoo.conf),
            s(&lab.dir().join("state")),
        )
    };
    std::fs::write(
        &inventory,
        format!(
            "all:\n  vars:\n    ansible_user: root\n    ansible_host: 127.0.0.1\n  children:\n    labs:\n      hosts:\n        lab-a:\n{}        lab-b:\n{}    broken:\n      hosts:\n        dead: {{ ansible_port: 1 }}\n",
            host(&a),
            host(&b)
        ),
    )
    .unwrap();
    let inv = s(&inventory);
    let out = run(
        home.path(),
        &args(
            &["fleet", "diagnose", "--inventory", &inv],
            known_hosts(&[&a, &b]),
        ),
    );
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let lines: Vec<&str> = text.lines().collect();
    // First a line per host as it finishes (in any order), then a blank line and the table in
    // inventory order.
    let first = &lines[..3];
    let line = |start: &str| {
        *first
            .iter()
            .find(|l| l.starts_with(start))
            .unwrap_or_else(|| panic!("{start}: {text}"))
    };
    assert!(line("✓ lab-a: Healthy").contains("(Odoo 17.0)"), "{text}");
    assert!(
        line("✗ lab-b: ").contains("worst: ✗ session.lifetime"),
        "{text}"
    );
    assert!(
        line("✗ dead: could not diagnose: ").contains("cannot reach 127.0.0.1:1"),
        "{text}"
    );
    assert_eq!(lines[3], "");
    assert!(
        lines[4].starts_with("HOST") && lines[4].contains("WORST CHECK"),
        "{text}"
    );
    assert!(
        lines[5].starts_with("lab-a ") && lines[5].contains("✓ OK"),
        "{text}"
    );
    assert!(
        lines[6].starts_with("lab-b ") && lines[6].contains("session.lifetime"),
        "{text}"
    );
    assert!(
        lines[7].starts_with("dead ") && lines[7].contains("Not diagnosed"),
        "{text}"
    );

    // The fleet report of the same run: a column per server that could be diagnosed.
    let report = home.path().join("fleet.md");
    let out = run(
        home.path(),
        &args(
            &[
                "fleet",
                "report",
                "-i",
                &inv,
                "--limit",
                "labs",
                "--out",
                &s(&report),
            ],
            known_hosts(&[&a, &b]),
        ),
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let md = std::fs::read_to_string(&report).unwrap();
    assert!(
        md.contains("session.lifetime") && md.contains(&format!("{}", b.info.ssh.port)),
        "{md}"
    );
}

#[test]
fn drift_says_what_got_worse_and_what_was_edited_outside_since_the_baseline() {
    let lab = Lab::up("short-lifetime");
    let home = tempfile::tempdir().unwrap();
    let inventory = home.path().join("hosts");
    std::fs::write(&inventory, format!("{}\n", ini_host("prod", &lab))).unwrap();
    let inv = s(&inventory);
    let fleet = |extra: &[&str]| {
        run(
            home.path(),
            &args(&["fleet", "diagnose", "-i", &inv], known_hosts(&[&lab]))
                .into_iter()
                .chain(extra.iter().map(|e| e.to_string()))
                .collect::<Vec<_>>(),
        )
    };
    let before = home.path().join("before.json");
    let out = fleet(&["--json"]);
    assert_eq!(out.status.code(), Some(2));
    std::fs::write(&before, &out.stdout).unwrap();

    // The fix, applied the usual way; then the fleet, saved again.
    let out = run(
        home.path(),
        &[
            "apply".to_string(),
            format!("ssh://root@127.0.0.1:{}", lab.info.ssh.port),
            "--identity".into(),
            s(&lab.info.keys.ed25519),
            "--known-hosts".into(),
            s(&lab.known_hosts_file()),
            "--instance".into(),
            s(&lab.info.odoo.conf),
            "--state-dir".into(),
            s(&lab.dir().join("state")),
            "--fix".into(),
            "session.lifetime".into(),
            "--set".into(),
            "session.lifetime=86400".into(),
            "--yes".into(),
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let after = home.path().join("after.json");
    let out = fleet(&["--json", "--baseline", &s(&before)]);
    let d = docs(&out);
    assert_eq!(
        d[0]["drift"]["worse"],
        serde_json::json!([]),
        "the fix made it better: {}",
        d[0]["drift"]
    );
    assert_eq!(d[0]["drift"]["edited"], serde_json::json!([]));
    std::fs::write(&after, &out.stdout).unwrap();

    // Someone puts the old lifetime back by hand.
    let mut client = postgres::Client::connect(&lab.pg_conninfo(), postgres::NoTls).unwrap();
    client
        .execute(
            "UPDATE ir_config_parameter SET value = '600' WHERE key = 'sessions.max_inactivity_seconds'",
            &[],
        )
        .unwrap();
    let out = fleet(&["--json", "--baseline", &s(&after)]);
    assert_eq!(out.status.code(), Some(2));
    let d = docs(&out);
    let drift = &d[0]["drift"];
    assert_eq!(drift["worse"][0]["check"], "session.lifetime", "{drift}");
    assert_eq!(drift["worse"][0]["was"], "ok");
    assert_eq!(drift["worse"][0]["now"], "fail");
    assert_eq!(
        drift["edited"][0]["item"], "sessions.max_inactivity_seconds in odoo",
        "{drift}"
    );
    assert!(
        drift["edited"][0]["detail"]
            .as_str()
            .unwrap()
            .contains("changed outside this app"),
        "{drift}"
    );

    // Against the run before the fix, in words: nothing worse, one edit outside the app.
    let out = fleet(&["--baseline", &s(&before)]);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        text.contains("drift: sessions.max_inactivity_seconds in odoo (change set ")
            && text.contains("was edited outside this app: "),
        "{text}"
    );
    assert!(!text.contains("got worse"), "{text}");
}

/// A host with a change set it has not settled (an apply cut off before it started, left
/// `applying` by a host that rebooted): its row says so under the verdict, with the command that
/// settles it, as `diagnose` leads with it for one host.
#[test]
fn a_host_with_an_unsettled_change_set_says_so_on_its_row() {
    let lab = Lab::up("healthy");
    let home = tempfile::tempdir().unwrap();
    let id = "20261201T120000Z-abc123";
    let dir = lab.dir().join("state/changesets").join(id);
    std::fs::create_dir_all(&dir).unwrap();
    let record = serde_json::json!({
        "id": id,
        "created": 1_796_126_400u64,
        "created_text": "2026-12-01T12:00:00Z",
        "by": "someone@laptop as root",
        "host": "127.0.0.1",
        "instance": {"config_path": s(&lab.info.odoo.conf), "http_port": lab.info.odoo.http_port},
        "status": "recorded",
        "changeset": osd_engine::change::ChangeSet::default(),
        "verification": [],
        "error": null,
        "log": ["2026-12-01T12:00:00Z recorded"],
    });
    std::fs::write(dir.join("record.json"), record.to_string()).unwrap();
    // The host's own word wins over record.json's: its program got as far as applying.
    std::fs::write(dir.join("status"), "applying\n").unwrap();
    let inventory = home.path().join("hosts.ini");
    std::fs::write(&inventory, format!("{}\n", ini_host("lab", &lab))).unwrap();
    let rows = || {
        let out = run(
            home.path(),
            &args(
                &["fleet", "diagnose", "--inventory", &s(&inventory)],
                known_hosts(&[&lab]),
            ),
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let text = rows();
    let line = text
        .lines()
        .find(|l| l.contains("unsettled:"))
        .unwrap_or_else(|| panic!("no unsettled line in:\n{text}"));
    assert!(
        line.contains(id) && line.contains(&format!("rollback {id}")),
        "{line}"
    );
    // A settled one is not listed.
    std::fs::write(dir.join("status"), "rolled_back\n").unwrap();
    let text = rows();
    assert!(!text.contains("unsettled:"), "{text}");
}
