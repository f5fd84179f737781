//! `plan --ansible FILE` end to end: the exported playbook run by a real ansible-playbook
//! (ansible-core from PyPI, installed into ~/.cache/osd-ansible when missing) against labs over
//! SSH: check mode changes nothing, the real run fixes, a second run changes nothing, our
//! diagnosis agrees, and `rollback` says plainly that it has no change set to undo.

use osd_testlab::Lab;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Mutex;

/// ansible-playbook: `$ANSIBLE_PLAYBOOK`, else the venv under ~/.cache/osd-ansible (made once,
/// under a lock: the tests of this file run in parallel).
fn ansible_playbook() -> PathBuf {
    static INSTALL: Mutex<()> = Mutex::new(());
    if let Some(p) = std::env::var_os("ANSIBLE_PLAYBOOK") {
        return p.into();
    }
    let _g = INSTALL.lock().unwrap_or_else(|e| e.into_inner());
    let venv = PathBuf::from(std::env::var("HOME").unwrap()).join(".cache/osd-ansible/venv");
    let bin = venv.join("bin/ansible-playbook");
    if !bin.exists() {
        let py = if Path::new("/usr/bin/python3").exists() {
            "/usr/bin/python3"
        } else {
            "python3"
        };
        let ok = Command::new(py)
            .args(["-m", "venv"])
            .arg(&venv)
            .status()
            .unwrap()
            .success()
            && Command::new(venv.join("bin/pip"))
                .args(["install", "-q", "ansible-core>=2.15,<2.18"])
                .status()
                .unwrap()
                .success();
        assert!(ok, "could not install ansible-core into {}", venv.display());
    }
    bin
}

fn cli(args: &[String]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_odoo-session-doctor"))
        .args(args)
        .env_remove("SSH_AUTH_SOCK")
        .output()
        .unwrap()
}

fn with_instance(lab: &Lab, extra: &[&str]) -> Vec<String> {
    let mut v = vec![
        format!("ssh://root@127.0.0.1:{}", lab.info.ssh.port),
        "--identity".into(),
        lab.info.keys.ed25519.to_string_lossy().into_owned(),
        "--known-hosts".into(),
        lab.known_hosts_file().to_string_lossy().into_owned(),
        "--instance".into(),
        lab.info.odoo.conf.to_string_lossy().into_owned(),
        "--state-dir".into(),
        lab.dir().join("state").to_string_lossy().into_owned(),
    ];
    v.extend(extra.iter().map(|s| s.to_string()));
    v
}

fn sub(name: &str, rest: Vec<String>) -> Output {
    let mut all = vec![name.to_string()];
    all.extend(rest);
    cli(&all)
}

/// What the playbook may change: the files' bytes and the lifetime parameter.
fn snapshot(lab: &Lab) -> (Vec<Vec<u8>>, Option<String>) {
    let mut files = vec![std::fs::read(lab.host_path(&lab.info.odoo.conf)).unwrap()];
    if let Some(site) = &lab.info.nginx.site_conf {
        files.push(std::fs::read(lab.host_path(site)).unwrap());
    }
    let mut db = postgres::Client::connect(&lab.pg_conninfo(), postgres::NoTls).unwrap();
    let value = db
        .query_opt(
            "SELECT value FROM ir_config_parameter WHERE key = 'sessions.max_inactivity_seconds'",
            &[],
        )
        .unwrap()
        .map(|r| r.get(0));
    (files, value)
}

/// Runs the playbook against the lab; returns the recap's `changed=` count.
fn play(lab: &Lab, playbook: &Path, extra: &[&str]) -> u32 {
    let inv = lab.dir().join("ansible-inventory.ini");
    std::fs::write(
        &inv,
        format!(
            "lab ansible_host=127.0.0.1 ansible_port={} ansible_user=root ansible_ssh_private_key_file={} ansible_ssh_common_args='-o UserKnownHostsFile={} -o IdentitiesOnly=yes' ansible_python_interpreter=/usr/bin/python3\n",
            lab.info.ssh.port,
            lab.info.keys.ed25519.display(),
            lab.known_hosts_file().display()
        ),
    )
    .unwrap();
    let out = Command::new(ansible_playbook())
        .arg("-i")
        .arg(&inv)
        .arg("-e")
        .arg(format!(
            "osd_backup_dir={}",
            lab.dir().join("ansible-backups").display()
        ))
        .arg(playbook)
        .args(extra)
        .env("ANSIBLE_NOCOLOR", "1")
        .env("ANSIBLE_LOCAL_TEMP", lab.dir().join("ansible-tmp"))
        .env_remove("SSH_AUTH_SOCK")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "ansible-playbook {extra:?} failed:\n{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let recap = text
        .lines()
        .rev()
        .find(|l| l.starts_with("lab ") && l.contains("changed="))
        .unwrap_or_else(|| panic!("no recap:\n{text}"));
    assert!(
        recap.contains("failed=0") && recap.contains("unreachable=0"),
        "{recap}"
    );
    recap
        .split("changed=")
        .nth(1)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

/// The whole story for one fix: export, check mode, run, second run, diagnosis, rollback.
fn story(lab: &Lab, fix: &[&str], check: &str) -> String {
    let pb = lab.dir().join("fix.yml");
    let mut args = fix.to_vec();
    let pb_s = pb.to_string_lossy().into_owned();
    args.extend(["--ansible", &pb_s]);
    let out = sub("plan", with_instance(lab, &args));
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&pb).unwrap();
    let secrets = [lab.info.postgres.password.clone()]
        .into_iter()
        .chain(lab.info.odoo.master_password.clone());
    for s in secrets {
        assert!(!text.contains(&s), "a secret is in the playbook");
    }

    let before = snapshot(lab);
    assert!(
        play(lab, &pb, &["--check", "--diff"]) > 0,
        "check mode shows the change"
    );
    assert!(before == snapshot(lab), "check mode changed the host");

    assert!(play(lab, &pb, &[]) > 0);
    assert_ne!(before, snapshot(lab));
    assert_eq!(play(lab, &pb, &[]), 0, "a second run changes nothing");

    let out = sub("diagnose", with_instance(lab, &["--json"]));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let finding = v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == check)
        .unwrap();
    assert_eq!(finding["status"], "ok", "{finding}");

    // The playbook's run is not one of our change sets: rollback says so and changes nothing.
    let after = snapshot(lab);
    let out = sub("rollback", with_instance(lab, &["--last", "--yes"]));
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no applied change set"));
    assert!(after == snapshot(lab));
    text
}

#[test]
fn ansible_export_sets_the_lifetime_restarts_and_is_idempotent() {
    let lab = Lab::up("short-lifetime");
    let text = story(
        &lab,
        &[
            "--fix",
            "session.lifetime",
            "--set",
            "session.lifetime=86400",
        ],
        "session.lifetime",
    );
    assert!(text.contains("supervisorctl"));
    assert_eq!(snapshot(&lab).1.as_deref(), Some("86400"));
}

#[test]
fn ansible_export_edits_nginx_tests_it_whole_and_reloads() {
    let lab = Lab::up("missing-forwarded-headers");
    let text = story(&lab, &["--fix", "proxy.headers"], "proxy.headers");
    assert!(text.contains("reload"));
    let site =
        std::fs::read_to_string(lab.host_path(lab.info.nginx.site_conf.as_ref().unwrap())).unwrap();
    assert!(site.contains("proxy_set_header X-Forwarded-Proto $scheme;"));
}
