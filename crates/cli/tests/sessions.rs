//! `sessions` end to end against real labs over SSH (issue 15): the listing on Odoo 16, 17 and 18
//! counts what people's real logins left on disk, names bad files without crashing; no session id
//! (nor its 42-character stored prefix, nor a shorter prefix) ever appears in the text, the JSON,
//! stderr, the report or the history; a log-out kills exactly that person's sessions (their old
//! cookie is refused by Odoo, another person's still works), marks 18's device log revoked and is
//! recorded as an action that cannot be rolled back.

use osd_testlab::probe;
use osd_testlab::Lab;
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::process::{Command, Output};

const ANA_PW: &str = "ana-Pw-1234";

fn cli(args: &[String]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_odoo-session-doctor"))
        .args(args)
        .env_remove("SSH_AUTH_SOCK")
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap()
}

fn conn(lab: &Lab) -> Vec<String> {
    vec![
        format!("ssh://root@127.0.0.1:{}", lab.info.ssh.port),
        "--identity".into(),
        lab.info.keys.ed25519.to_string_lossy().into_owned(),
        "--known-hosts".into(),
        lab.known_hosts_file().to_string_lossy().into_owned(),
    ]
}

fn run(lab: &Lab, sub: &str, extra: &[&str]) -> Output {
    let mut all = vec![sub.to_string()];
    all.extend(conn(lab));
    if sub != "history" {
        all.extend([
            "--instance".to_string(),
            lab.info.odoo.conf.to_string_lossy().into_owned(),
        ]);
    }
    all.extend([
        "--state-dir".to_string(),
        lab.dir().join("state").to_string_lossy().into_owned(),
    ]);
    all.extend(extra.iter().map(|s| s.to_string()));
    cli(&all)
}

fn text(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Logs in through Odoo's own endpoint; the session id from its cookie.
fn log_in(lab: &Lab, login: &str, password: &str) -> String {
    let r = probe::authenticate(lab.info.odoo.http_port, "odoo", login, password, &[]).unwrap();
    let c = r
        .session_cookie()
        .unwrap_or_else(|| panic!("no cookie for {login}: {}", r.text()));
    assert!(r.json()["result"]["uid"].is_number(), "{}", r.text());
    c.value
}

/// Who Odoo says the session is: `Some(uid)`, or `None` with the error code.
fn whoami(lab: &Lab, sid: &str) -> Result<i64, i64> {
    let r = probe::json_rpc(
        lab.info.odoo.http_port,
        "/web/session/get_session_info",
        serde_json::json!({}),
        Some(sid),
        &[],
    )
    .unwrap();
    let v = r.json();
    v["result"]["uid"]
        .as_i64()
        .ok_or_else(|| v["error"]["code"].as_i64().unwrap_or(-1))
}

fn sessions_dir(lab: &Lab) -> PathBuf {
    lab.host_path(&lab.info.odoo.sessions_dir)
}

/// Every session id on disk now (file names), plus the ones given (cookies).
fn ids_on_disk(lab: &Lab) -> Vec<String> {
    let mut ids = Vec::new();
    for shard in std::fs::read_dir(sessions_dir(lab)).unwrap().flatten() {
        if shard.path().is_dir() {
            for f in std::fs::read_dir(shard.path()).unwrap().flatten() {
                ids.push(f.file_name().to_string_lossy().into_owned());
            }
        }
    }
    ids
}

/// No id, its 42-character stored prefix, or its first 16 characters, anywhere in `hay`.
fn assert_no_ids(ids: &[String], hay: &str, what: &str) {
    for id in ids.iter().filter(|i| i.len() >= 40) {
        for n in [id.len(), 42.min(id.len()), 16] {
            assert!(
                !hay.contains(&id[..n]),
                "{what} shows (a prefix of) a session id: {}…",
                &id[..6]
            );
        }
    }
}

/// A corrupt session file and one Odoo's user cannot read, with session-shaped names.
fn plant_bad_files(lab: &Lab, id_len: usize) -> Vec<String> {
    let dir = sessions_dir(lab).join("ee");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    let corrupt = "e".repeat(id_len - 1) + "1";
    let locked = "e".repeat(id_len - 1) + "2";
    std::fs::write(dir.join(&corrupt), b"\x80\x05garbage, not a session").unwrap();
    std::fs::write(dir.join(&locked), b"{}").unwrap();
    std::fs::set_permissions(dir.join(&locked), std::fs::Permissions::from_mode(0o600)).unwrap();
    vec![corrupt, locked]
}

fn users_of(v: &serde_json::Value) -> Vec<(String, u64)> {
    let mut out: Vec<(String, u64)> = v["databases"][0]["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| {
            (
                u["login"].as_str().unwrap().to_string(),
                u["sessions"].as_u64().unwrap(),
            )
        })
        .collect();
    out.sort();
    out
}

fn listing(scenario: &str, id_len: usize) {
    let lab = Lab::up(scenario);
    lab.add_user("ana", ANA_PW, None);
    let admin_pw = lab.info.odoo.admin_password.clone();
    let mut cookies = vec![
        log_in(&lab, "admin", &admin_pw),
        log_in(&lab, "admin", &admin_pw),
        log_in(&lab, "ana", ANA_PW),
    ];
    // 18+: an authenticated request writes the trace (device, IP) into the session.
    for c in &cookies {
        assert!(whoami(&lab, c).is_ok());
    }
    let bad = plant_bad_files(&lab, id_len);

    let out = run(&lab, "sessions", &["--json"]);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let v: serde_json::Value =
        serde_json::from_str(&text(&out)).unwrap_or_else(|e| panic!("{e}: {}{stderr}", text(&out)));
    assert_eq!(
        users_of(&v),
        vec![("admin".to_string(), 2), ("ana".to_string(), 1)],
        "{v:#}"
    );
    assert_eq!(v["live"], 3);
    // The two bad files: counted, named (hash and inode), with why; the run did not stop.
    let reasons: Vec<String> = v["bad"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| {
            assert!(b["inode"].as_u64().is_some(), "{b}");
            b["reason"].as_str().unwrap().to_string()
        })
        .collect();
    assert_eq!(reasons.len(), 2, "{reasons:?}");
    assert!(
        reasons.iter().any(|r| r.contains("cannot be read as odoo")),
        "{reasons:?}"
    );
    assert!(
        reasons.iter().any(|r| r.contains("unreadable")),
        "{reasons:?}"
    );
    assert_eq!(
        out.status.code(),
        Some(1),
        "bad files make exit 1: {stderr}"
    );
    if id_len == 84 {
        let devices = &v["databases"][0]["users"][0]["devices"];
        assert_eq!(devices[0]["ip"], "127.0.0.1", "{v:#}");
        assert!(v["databases"][0]["users"][0]["oldest_age_secs"].is_u64());
    }
    // The chart: every readable session file in a bucket, the lifetime line drawn.
    let counted: u64 = v["ages"]["buckets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["count"].as_u64().unwrap())
        .sum();
    assert_eq!(counted, 3);
    assert_eq!(v["chart"]["lines"].as_array().unwrap().len(), 1);

    let txt = run(&lab, "sessions", &[]);
    let shown = text(&txt);
    assert!(shown.contains("admin") && shown.contains("ana"), "{shown}");
    assert!(shown.contains("2 files that Odoo cannot use"), "{shown}");

    let report = lab.dir().join("report.html");
    let rep = run(
        &lab,
        "report",
        &["--format", "html", "--out", report.to_str().unwrap()],
    );
    let report_text = std::fs::read_to_string(&report).unwrap_or_default();

    cookies.extend(ids_on_disk(&lab));
    cookies.extend(bad);
    let everything = format!(
        "{}{stderr}{shown}{}{}{report_text}",
        text(&out),
        String::from_utf8_lossy(&txt.stderr),
        String::from_utf8_lossy(&rep.stderr)
    );
    assert!(!report_text.is_empty(), "the report was written");
    assert_no_ids(&cookies, &everything, scenario);
}

#[test]
fn listing_on_odoo_16() {
    listing("odoo16", 40);
}

#[test]
fn listing_on_odoo_17() {
    listing("healthy", 40);
}

#[test]
fn listing_on_odoo_18() {
    listing("devices-revoked", 84);
}

fn log_out(scenario: &str) {
    let lab = Lab::up(scenario);
    let ana_id = lab.add_user("ana", ANA_PW, None);
    let admin_pw = lab.info.odoo.admin_password.clone();
    let admin = log_in(&lab, "admin", &admin_pw);
    let ana = [log_in(&lab, "ana", ANA_PW), log_in(&lab, "ana", ANA_PW)];
    for c in ana.iter().chain([&admin]) {
        assert!(whoami(&lab, c).is_ok(), "alive before");
    }
    let mut ids = ids_on_disk(&lab);
    ids.extend(ana.iter().cloned());
    ids.push(admin.clone());

    // Without --yes and without a terminal: refused, nobody logged out.
    let refused = run(&lab, "sessions", &["--log-out", "ana"]);
    assert_eq!(refused.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("--yes"));
    assert!(whoami(&lab, &ana[0]).is_ok());
    // A login with no session: said, nothing done.
    let nobody = run(&lab, "sessions", &["--log-out", "nobody", "--yes"]);
    assert_eq!(nobody.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&nobody.stderr).contains("no session"));

    let out = run(&lab, "sessions", &["--log-out", "ana", "--yes", "--json"]);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(0), "{}{stderr}", text(&out));
    let v: serde_json::Value = serde_json::from_str(&text(&out)).unwrap();
    assert_eq!(v["preview"]["sessions"], 2, "{v:#}");
    assert!(v["preview"]["text"]
        .as_str()
        .unwrap()
        .contains("cannot be undone"));
    let o = &v["outcome"];
    assert_eq!(o["deleted"], 2, "{v:#}");
    assert_eq!(o["proof"]["state"], "refused", "{v:#}");
    assert_eq!(o["remaining"], 0);

    // Odoo itself: ana's old cookies are refused (Session Expired), admin's still works.
    for c in &ana {
        assert_eq!(whoami(&lab, c), Err(100));
    }
    assert_eq!(whoami(&lab, &admin), Ok(2));

    if scenario == "devices-revoked" {
        // Like res.device._revoke: every device-log row of ana's sessions is revoked.
        let mut db = postgres::Client::connect(&lab.pg_conninfo(), postgres::NoTls).unwrap();
        let rows = db
            .query(
                "SELECT session_identifier, revoked FROM res_device_log WHERE user_id = $1",
                &[&(ana_id as i32)],
            )
            .unwrap();
        assert!(!rows.is_empty(), "ana's requests left device-log rows");
        for r in &rows {
            let ident: String = r.get(0);
            assert!(ana.iter().any(|c| c.starts_with(&ident)));
            assert!(r.get::<_, Option<bool>>(1) == Some(true), "revoked");
        }
        assert!(o["device_logs_revoked"].as_u64().unwrap() >= 2, "{o}");
        let admin_live: i64 = db
            .query_one(
                "SELECT count(*) FROM res_device_log WHERE session_identifier = $1 AND revoked IS NOT TRUE",
                &[&admin[..42].to_string()],
            )
            .unwrap()
            .get(0);
        assert!(admin_live >= 1, "admin's device stays");
    }

    // The history: an action, marked as not undoable; rollback refuses to touch it.
    let id = o["record"].as_str().unwrap().to_string();
    let hist = run(&lab, "history", &["--json"]);
    let h: serde_json::Value = serde_json::from_str(&text(&hist)).unwrap();
    let rec = h
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == id.as_str())
        .unwrap_or_else(|| panic!("{h:#}"));
    assert_eq!(rec["action"]["kind"], "log_out");
    assert_eq!(rec["action"]["can_roll_back"], false);
    let rb = run(&lab, "rollback", &[&id]);
    assert_eq!(rb.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&rb.stderr).contains("cannot be undone"));
    let hist_text = run(&lab, "history", &[]);
    assert!(text(&hist_text).contains("no rollback"));
    let record = std::fs::read_to_string(
        lab.dir()
            .join("state/changesets")
            .join(&id)
            .join("record.json"),
    )
    .unwrap();

    let everything = format!(
        "{}{stderr}{}{}{record}{}",
        text(&out),
        text(&hist),
        text(&hist_text),
        String::from_utf8_lossy(&rb.stderr)
    );
    assert_no_ids(&ids, &everything, "log-out");
}

#[test]
fn log_out_one_user_on_odoo_17() {
    log_out("healthy");
}

#[test]
fn log_out_one_user_on_odoo_18() {
    log_out("devices-revoked");
}
