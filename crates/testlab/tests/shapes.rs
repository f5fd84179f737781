//! The shapes real hosts have (issue 9): Odoo 17, 18 and 19 side by side on one cluster, an
//! instance in a crash loop next to a healthy one, and the Debian package's and the
//! InstallScript's layouts under a real systemd. Each test starts its lab(s) and checks what
//! shared/odoo-session-facts.md says of them. No sleeps as synchronisation: polls with deadlines.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use osd_testlab::probe::{self, wait_for};
use osd_testlab::{Lab, OdooInfo};

const DEADLINE: Duration = Duration::from_secs(30);
const CHROME: &str = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36";

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn ssh(lab: &Lab, cmd: &str) -> Output {
    Command::new("ssh")
        .args([
            "-F",
            "/dev/null",
            "-o",
            "BatchMode=yes",
            "-o",
            "StrictHostKeyChecking=yes",
        ])
        .arg("-o")
        .arg(format!(
            "UserKnownHostsFile={}",
            lab.known_hosts_file().display()
        ))
        .arg("-i")
        .arg(&lab.info.keys.ed25519)
        .args(["-p", &lab.info.ssh.port.to_string(), "root@127.0.0.1", cmd])
        .output()
        .unwrap()
}

fn login(o: &OdooInfo, headers: &[(&str, &str)]) -> probe::Response {
    let r = probe::authenticate(
        o.http_port,
        &o.db.clone().unwrap(),
        &o.admin_login,
        &o.admin_password,
        headers,
    )
    .expect("authenticate");
    assert_eq!(r.json()["result"]["uid"], 2, "{}: {}", o.name, r.text());
    r
}

fn version_info(port: u16) -> serde_json::Value {
    probe::json_rpc(
        port,
        "/web/webclient/version_info",
        serde_json::json!({}),
        None,
        &[],
    )
    .unwrap()
    .json()["result"]
        .clone()
}

fn check(port: u16, sid: &str, ua: &str) -> probe::Response {
    probe::json_rpc(
        port,
        "/web/session/check",
        serde_json::json!({}),
        Some(sid),
        &[("User-Agent", ua)],
    )
    .unwrap()
}

fn is_url_safe_84(sid: &str) -> bool {
    sid.len() == 84
        && sid
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

fn session_file(lab: &Lab, o: &OdooInfo, sid: &str) -> PathBuf {
    lab.host_path(&o.sessions_dir).join(&sid[..2]).join(sid)
}

fn pg(lab: &Lab, db: &str) -> postgres::Client {
    let p = &lab.info.postgres;
    postgres::Client::connect(
        &format!(
            "host={} port={} user={} password={} dbname={db}",
            p.host, p.port, p.user, p.password
        ),
        postgres::NoTls,
    )
    .expect("connect to the lab's PostgreSQL")
}

fn process_uid(pid: u32) -> Option<u32> {
    fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()?
        .lines()
        .find(|l| l.starts_with("Uid:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

fn alive(pid: u32) -> bool {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    !stat.is_empty()
        && stat
            .rsplit(')')
            .next()
            .unwrap_or("")
            .split_whitespace()
            .next()
            != Some("Z")
}

mod shared_cluster {
    use super::*;

    #[test]
    fn three_versions_answer_with_their_own_version_ids_and_lifetime() {
        let lab = Lab::up("shared-cluster");
        let names: Vec<&str> = lab.info.instances.iter().map(|o| o.name.as_str()).collect();
        assert_eq!(names, ["odoo17", "odoo18", "odoo19"]);
        assert_eq!(lab.info.odoo.name, "odoo17");
        let mut dbs = lab.info.databases.clone();
        dbs.sort();
        assert_eq!(
            dbs,
            ["postgres", "testdb", "testdb18", "testdb19", "testdb_old"]
        );
        for (name, version, major, max_age, db) in [
            ("odoo17", "17.0", 17, 1800, "testdb"),
            ("odoo18", "18.0", 18, 604800, "testdb18"),
            ("odoo19", "19.0", 19, 604800, "testdb19"),
        ] {
            let o = lab.instance(name).unwrap();
            assert_eq!(o.version, version);
            assert_eq!(o.db.as_deref(), Some(db));
            assert_eq!(o.dbfilter.as_deref(), Some(format!("^{db}$").as_str()));
            assert_eq!(o.max_age, Some(max_age));
            let v = version_info(o.http_port);
            assert_eq!(v["server_version"], version, "{name}: {v}");
            assert_eq!(
                v["server_version_info"],
                serde_json::json!([major, 0, 0, "final", 0, ""])
            );
            let c = login(o, &[]).session_cookie().unwrap();
            assert_eq!(c.max_age(), Some(max_age), "{name}: {}", c.raw);
            if major == 17 {
                assert!(
                    c.value.len() == 40 && c.value.chars().all(|ch| ch.is_ascii_hexdigit()),
                    "{}",
                    c.value
                );
            } else {
                assert!(is_url_safe_84(&c.value), "{name}: {}", c.value);
            }
            assert!(session_file(&lab, o, &c.value).is_file(), "{name}");
            let conf = fs::read_to_string(&o.conf).unwrap();
            assert!(!conf.contains("\ndb_name"), "{name}: no db_name");
            assert!(conf.contains(&format!("data_dir = {}", o.data_dir.display())));
        }
        // one role owns every Odoo database; the lifetime rows are where the scenario says
        let mut c = pg(&lab, "postgres");
        let owners: Vec<(String, String)> = c
            .query("SELECT datname, pg_get_userbyid(datdba) FROM pg_database WHERE datname LIKE 'testdb%' ORDER BY 1", &[])
            .unwrap()
            .iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect();
        assert_eq!(owners.len(), 4);
        assert!(owners.iter().all(|(_, o)| o == "odoo"), "{owners:?}");
        let param = |db: &str, key: &str| -> Option<String> {
            pg(&lab, db)
                .query_opt(
                    "SELECT value FROM ir_config_parameter WHERE key = $1",
                    &[&key],
                )
                .unwrap()
                .map(|r| r.get(0))
        };
        assert_eq!(
            param("testdb", "sessions.max_inactivity_seconds").as_deref(),
            Some("1800")
        );
        assert!(
            param("testdb", "session_cookie_age").is_some(),
            "folklore row"
        );
        assert_eq!(param("testdb18", "sessions.max_inactivity_seconds"), None);
        assert_eq!(param("testdb19", "sessions.max_inactivity_seconds"), None);
    }

    #[test]
    fn services_nginx_and_down_match_an_untidy_host() {
        let lab = Lab::up("shared-cluster");
        let o17 = lab.instance("odoo17").unwrap();
        let s17 = o17.service.as_ref().unwrap();
        assert_eq!(
            (s17.kind.as_str(), s17.name.as_deref()),
            ("supervisor", Some("odoo"))
        );
        let st = lab.supervisorctl(&["status", "odoo"]);
        assert!(text(&st).contains("RUNNING"), "{}", text(&st));
        let mut manual = vec![];
        for (name, uid) in [("odoo18", None), ("odoo19", Some(0))] {
            let o = lab.instance(name).unwrap();
            let s = o.service.as_ref().unwrap();
            assert_eq!(s.kind, "manual");
            assert_eq!(s.name, None);
            let pid: u32 = fs::read_to_string(s.pid_file.as_ref().unwrap())
                .unwrap()
                .trim()
                .parse()
                .unwrap();
            let expected_uid = uid.unwrap_or_else(|| {
                let out = Command::new("id").args(["-u", "odoo"]).output().unwrap();
                String::from_utf8_lossy(&out.stdout).trim().parse().unwrap()
            });
            assert_eq!(
                process_uid(pid),
                Some(expected_uid),
                "{name} runs as {:?}",
                o.run_as
            );
            // detached: a session leader of its own, not a child of a service manager
            let stat = fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
            let fields: Vec<&str> = stat
                .rsplit(')')
                .next()
                .unwrap()
                .split_whitespace()
                .collect();
            assert_eq!(fields[3], pid.to_string(), "{name}: own session (setsid)");
            manual.push(pid);
        }
        assert_eq!(
            lab.instance("odoo19").unwrap().run_as.as_deref(),
            Some("root")
        );
        // nginx: a server block per instance, plus a catch-all default_server
        let n = &lab.info.nginx;
        let https = n.https_port.unwrap();
        for name in ["odoo17.lab.test", "odoo18.lab.test", "odoo19.lab.test"] {
            assert!(
                n.server_names.iter().any(|s| s == name),
                "{:?}",
                n.server_names
            );
            let r = probe::get(n.http_port, "/web?x=1", &[("Host", name)]).unwrap();
            assert_eq!(r.status, 301);
            assert_eq!(
                r.header("Location"),
                Some(format!("https://{name}:{https}/web?x=1").as_str())
            );
        }
        let enabled = lab.info.dir.join("etc/nginx/sites-enabled");
        let default = fs::read_to_string(enabled.join("default")).unwrap();
        assert!(default.contains("default_server") && default.contains("server_name _;"));
        let other = probe::get(n.http_port, "/", &[("Host", "unknown.lab.test")]).unwrap();
        assert_eq!(
            other.status, 200,
            "the catch-all answers names nobody serves"
        );
        // a hand-started instance restarts the way an admin would do it: new pid, same shape
        let old18 = manual[0];
        lab.restart_instance("odoo18");
        let s18 = lab.instance("odoo18").unwrap().service.clone().unwrap();
        let new18: u32 = fs::read_to_string(s18.pid_file.unwrap())
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        assert_ne!(new18, old18);
        assert!(!alive(old18), "the old process is gone");
        assert_eq!(
            version_info(lab.instance("odoo18").unwrap().http_port)["server_version"],
            "18.0"
        );
        manual[0] = new18;
        // down stops what was started by hand too
        lab.down();
        for pid in manual {
            assert!(
                !alive(pid),
                "hand-started pid {pid} must be gone after down"
            );
        }
    }

    #[test]
    fn odoo_18_writes_json_sessions_and_traces_devices_hourly() {
        let lab = Lab::up("shared-cluster");
        let o = lab.instance("odoo18").unwrap();
        let sid = login(o, &[]).session_cookie().unwrap().value;
        let file = session_file(&lab, o, &sid);
        let data: serde_json::Value =
            serde_json::from_slice(&fs::read(&file).unwrap()).expect("a JSON session file");
        for key in [
            "context",
            "db",
            "debug",
            "login",
            "uid",
            "session_token",
            "_trace",
        ] {
            assert!(data.get(key).is_some(), "{key} in {data}");
        }
        assert_eq!(data["_trace"], serde_json::json!([]), "no trace at login");
        // first authenticated request of a browser: the session is written, the cookie re-sent
        let first = check(o.http_port, &sid, CHROME);
        assert_eq!(
            first.session_cookie().map(|c| c.value),
            Some(sid.clone()),
            "{:?}",
            first.headers
        );
        let data: serde_json::Value = serde_json::from_slice(&fs::read(&file).unwrap()).unwrap();
        let trace = &data["_trace"][0];
        assert_eq!(trace["platform"], "linux");
        assert_eq!(trace["browser"], "chrome");
        assert_eq!(trace["ip_address"], "127.0.0.1");
        // same browser within the hour: nothing written, no cookie; another browser: again
        assert!(check(o.http_port, &sid, CHROME).session_cookie().is_none());
        assert!(check(o.http_port, &sid, "curl/8.1")
            .session_cookie()
            .is_some());
        let rows: i64 = pg(&lab, "testdb18")
            .query_one(
                "SELECT count(*) FROM res_device_log WHERE session_identifier = $1",
                &[&&sid[..42]],
            )
            .unwrap()
            .get(0);
        assert_eq!(rows, 2, "one res_device_log row per new trace");
        // 17 has no trace: its check never re-sends the cookie
        let o17 = lab.instance("odoo17").unwrap();
        let sid17 = login(o17, &[]).session_cookie().unwrap().value;
        assert!(check(o17.http_port, &sid17, CHROME)
            .session_cookie()
            .is_none());
    }

    #[test]
    fn odoo_19_soft_rotates_a_session_older_than_three_hours() {
        let lab = Lab::up("shared-cluster");
        let o = lab.instance("odoo19").unwrap();
        let sid = login(o, &[]).session_cookie().unwrap().value;
        let file = session_file(&lab, o, &sid);
        let mut data: serde_json::Value =
            serde_json::from_slice(&fs::read(&file).unwrap()).unwrap();
        let created = data["create_time"].as_f64().expect("19 stores create_time");
        data["create_time"] = serde_json::json!(created - 4.0 * 3600.0);
        fs::write(&file, data.to_string()).unwrap();
        let r = check(o.http_port, &sid, CHROME);
        let new_sid = r.session_cookie().expect("rotated cookie").value;
        assert_ne!(new_sid, sid);
        assert!(is_url_safe_84(&new_sid));
        assert_eq!(new_sid[..42], sid[..42], "the identifier half is kept");
        let old: serde_json::Value = serde_json::from_slice(&fs::read(&file).unwrap()).unwrap();
        assert_eq!(
            old["next_sid"],
            new_sid.as_str(),
            "the old file points at the new one"
        );
        assert!(session_file(&lab, o, &new_sid).is_file());
        let info = probe::json_rpc(
            o.http_port,
            "/web/session/get_session_info",
            serde_json::json!({}),
            Some(&new_sid),
            &[],
        )
        .unwrap()
        .json();
        assert_eq!(info["result"]["uid"], 2, "{info}");
    }
}

mod config_by_version {
    use super::*;

    /// A throwaway install of the stand-in whose release.py says `major`.
    fn install(major: u32) -> (PathBuf, PathBuf) {
        let src = osd_testlab::lab_script_path()
            .parent()
            .unwrap()
            .join("odoo");
        // one directory per call: tests run in parallel and two of them install the same major
        static CALLS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let call = CALLS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dst = std::env::temp_dir().join(format!(
            "osd-testlab-cfg-{}-{major}-{call}",
            std::process::id()
        ));
        let _ = fs::remove_dir_all(&dst);
        let st = Command::new("cp")
            .arg("-r")
            .arg(&src)
            .arg(&dst)
            .status()
            .unwrap();
        assert!(st.success());
        let rel = dst.join("odoo/release.py");
        let t = fs::read_to_string(&rel)
            .unwrap()
            .replace("version_info = (17,", &format!("version_info = ({major},"));
        fs::write(&rel, t).unwrap();
        (dst.join("odoo-bin"), dst)
    }

    /// Runs `odoo-bin -c conf` until it stops: every conf below makes it stop before it binds
    /// a port (a config error, or `db_user = postgres`, which Odoo refuses after logging starts).
    fn run(bin: &Path, dir: &Path, conf: &str) -> (Output, String) {
        let conf_path = dir.join("odoo.conf");
        let log = dir.join("odoo.log");
        let _ = fs::remove_file(&log);
        fs::write(
            &conf_path,
            format!("[options]\nlogfile = {}\n{conf}", log.display()),
        )
        .unwrap();
        let out = Command::new("/usr/bin/python3")
            .arg(bin)
            .arg("-c")
            .arg(&conf_path)
            .output()
            .unwrap();
        (out, fs::read_to_string(&log).unwrap_or_default())
    }

    #[test]
    fn smtp_port_with_a_comment_is_fatal_with_odoos_message() {
        let (bin, dir) = install(17);
        let (out, log) = run(&bin, &dir, "email_from = a@b.c\nsmtp_port = 465   #25\n");
        assert!(!out.status.success());
        assert!(
            String::from_utf8_lossy(&out.stderr).contains(
                "optparse.OptionValueError: option smtp_port: invalid integer value: '465   #25'"
            ),
            "{}",
            text(&out)
        );
        assert!(
            log.is_empty(),
            "the error happens before logging starts: {log}"
        );
        let (out, _) = run(&bin, &dir, "db_maxconn = 64 ; max\n");
        assert!(
            text(&out).contains("option db_maxconn: invalid integer value: '64 ; max'"),
            "{}",
            text(&out)
        );
        let _ = fs::remove_dir_all(dir);
    }

    #[test]
    fn nineteen_is_strict_and_says_what_it_ignores() {
        let (bin19, dir19) = install(19);
        let (out, _) = run(&bin19, &dir19, "proxy_mode = maybe\n");
        assert!(!out.status.success());
        assert!(
            text(&out).contains(
                "optparse.OptionValueError: option proxy_mode: invalid boolean value: 'maybe'"
            ),
            "{}",
            text(&out)
        );
        let (out, log) = run(
            &bin19,
            &dir19,
            "session_timeout = 86400\nlongpolling_port = 8072\nproxy_mode = on\ndb_user = postgres\n",
        );
        assert!(
            text(&out).contains("Using the database user 'postgres' is a security risk"),
            "{}",
            text(&out)
        );
        let conf = dir19.join("odoo.conf");
        for line in [
            format!("WARNING ? odoo.tools.config: unknown option 'session_timeout' in the config file at {}, option stored as-is, without parsing", conf.display()),
            format!("WARNING ? odoo.tools.config: unknown option 'longpolling_port' in the config file at {}, option stored as-is, without parsing", conf.display()),
            "WARNING ? odoo.tools.config: missing --http-interface/http_interface, using 0.0.0.0 by default, will change to 127.0.0.1 in 20.0".to_string(),
        ] {
            assert!(log.contains(&line), "{line}\n--- log ---\n{log}");
        }
        let (out, _) = run(&bin19, &dir19, "smtp_port = 465   #25\n");
        assert!(
            text(&out).contains("ValueError: invalid literal for int() with base 10: '465   #25'"),
            "{}",
            text(&out)
        );
        // 17 and 18: `proxy_mode = maybe` is a (truthy) string, unknown keys are silent
        for major in [17, 18] {
            let (bin, dir) = install(major);
            let (out, log) = run(
                &bin,
                &dir,
                "proxy_mode = maybe\nsession_timeout = 86400\ndb_user = postgres\n",
            );
            assert!(
                text(&out).contains("security risk"),
                "{major}: {}",
                text(&out)
            );
            assert!(
                !text(&out).contains("OptionValueError"),
                "{major}: {}",
                text(&out)
            );
            assert!(
                !log.contains("unknown option") && !log.contains("http_interface"),
                "{major}: {log}"
            );
            let _ = fs::remove_dir_all(dir);
        }
        let _ = fs::remove_dir_all(dir19);
    }
}

mod crash_loop {
    use super::*;

    #[test]
    fn the_broken_instance_is_fatal_with_the_error_and_staging_serves() {
        let lab = Lab::up("crash-loop");
        let o = &lab.info.odoo;
        assert!(o.broken);
        assert_eq!(o.broken_reason.as_deref(), Some("smtp_port"));
        let conf = fs::read_to_string(&o.conf).unwrap();
        assert!(conf.contains("\nsmtp_port = 465   #25\n"), "{conf}");
        let st = text(&lab.supervisorctl(&["status", "odoo"]));
        assert!(st.contains("FATAL"), "{st}");
        let out = fs::read_to_string(o.stdout_log.as_ref().unwrap()).unwrap();
        assert!(
            out.contains(
                "optparse.OptionValueError: option smtp_port: invalid integer value: '465   #25'"
            ),
            "{out}"
        );
        assert!(!fs::read_to_string(&o.log)
            .unwrap_or_default()
            .contains("OptionValueError"));
        assert!(
            probe::get(o.http_port, "/web/health", &[]).is_err(),
            "nothing listens"
        );
        let staging = lab.instance("staging").unwrap();
        assert!(!staging.broken);
        assert_eq!(
            staging.service.as_ref().unwrap().name.as_deref(),
            Some("odoo-staging")
        );
        assert_eq!(
            probe::get(staging.http_port, "/web/health", &[])
                .unwrap()
                .status,
            200
        );
        login(staging, &[]);
        let st = text(&lab.supervisorctl(&["status", "odoo-staging"]));
        assert!(st.contains("RUNNING"), "{st}");
    }
}

mod systemd {
    use super::*;

    fn marker() -> PathBuf {
        let p = std::env::temp_dir().join(format!(
            "osd-testlab-marker-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        fs::write(&p, "the machine's /tmp must survive a systemd lab\n").unwrap();
        p
    }

    fn healthy_layout(scenario: &str, unit: &str, version: &str, conf: &str, home: &str) {
        let mark = marker();
        let lab = Lab::up(scenario);
        assert!(
            mark.exists(),
            "the machine's /tmp survived the namespace's boot"
        );
        let sd = lab.info.systemd.as_ref().expect("systemd in lab.json");
        assert_eq!(sd.unit, unit);
        let o = &lab.info.odoo;
        assert_eq!(o.version, version);
        assert_eq!(o.conf, Path::new(conf));
        assert_eq!(
            o.sessions_dir,
            Path::new(&format!("{home}/.local/share/Odoo/sessions"))
        );
        assert_eq!(o.service.as_ref().unwrap().kind, "systemd");
        assert!(
            !Path::new(conf).exists(),
            "{conf} exists only inside the lab"
        );
        let active = ssh(&lab, &format!("systemctl is-active {unit}"));
        assert_eq!(
            String::from_utf8_lossy(&active.stdout).trim(),
            "active",
            "{}",
            text(&active)
        );
        // sessions land in the service user's home
        let sid = login(o, &[]).session_cookie().unwrap().value;
        assert!(session_file(&lab, o, &sid).is_file());
        let restart = ssh(
            &lab,
            &format!("systemctl restart {unit} && systemctl is-active {unit}"),
        );
        assert!(restart.status.success(), "{}", text(&restart));
        assert!(
            wait_for(DEADLINE, || probe::get(o.http_port, "/web/health", &[])
                .map(|r| r.status == 200)
                .unwrap_or(false))
            .is_some(),
            "healthy after a restart over SSH"
        );
        let info = probe::json_rpc(
            o.http_port,
            "/web/session/get_session_info",
            serde_json::json!({}),
            Some(&sid),
            &[],
        )
        .unwrap()
        .json();
        assert_eq!(
            info["result"]["uid"], 2,
            "the session survives the restart: {info}"
        );
        let journal = text(&ssh(&lab, &format!("journalctl -u {unit} --no-pager")));
        assert!(
            journal.matches(&format!("Started {unit}")).count() >= 2,
            "{journal}"
        );
        let log = fs::read_to_string(lab.host_path(&o.log)).unwrap();
        assert!(
            log.contains(&format!("Odoo version {version}"))
                && log.contains(&format!("Using configuration file at {conf}")),
            "{log}"
        );
        let status = text(&ssh(&lab, "systemctl status ssh nginx --no-pager"));
        assert!(status.matches("active (running)").count() >= 2, "{status}");
        let t = ssh(&lab, "nginx -t && systemctl reload nginx");
        assert!(t.status.success(), "{}", text(&t));
        assert!(mark.exists());
        lab.down();
        assert!(mark.exists(), "still there after down");
        fs::remove_file(mark).unwrap();
    }

    #[test]
    fn debian_package_layout_under_systemd() {
        healthy_layout(
            "debian-systemd",
            "odoo.service",
            "17.0",
            "/etc/odoo/odoo.conf",
            "/var/lib/odoo",
        );
    }

    #[test]
    fn install_script_layout_under_systemd() {
        healthy_layout(
            "install-script-systemd",
            "odoo-server.service",
            "18.0",
            "/etc/odoo-server.conf",
            "/odoo",
        );
    }

    #[test]
    fn restart_always_with_a_fatal_config_loops_in_auto_restart() {
        let mark = marker();
        let lab = Lab::up("systemd-crash-loop");
        assert!(lab.info.odoo.broken);
        // between attempts (3 s each) the unit waits in auto-restart; during an attempt it is
        // "active (running)" for a moment, until the config error stops it
        let mut status = String::new();
        let waiting = wait_for(DEADLINE, || {
            status = text(&ssh(&lab, "systemctl status odoo --no-pager"));
            status.contains("activating (auto-restart)")
        });
        assert!(waiting.is_some(), "{status}");
        assert!(status.contains("override.conf"), "{status}");
        let journal = text(&ssh(&lab, "journalctl -u odoo --no-pager"));
        assert!(
            journal
                .contains("OptionValueError: option smtp_port: invalid integer value: '465   #25'"),
            "{journal}"
        );
        assert!(probe::get(lab.info.odoo.http_port, "/web/health", &[]).is_err());
        // it keeps trying: a second failure shows up in the journal
        assert!(
            wait_for(DEADLINE, || text(&lab.exec(&[
                "journalctl",
                "-u",
                "odoo",
                "--no-pager"
            ]))
            .matches("Failed with result 'exit-code'")
            .count()
                >= 2)
            .is_some(),
            "systemd restarts it again"
        );
        assert!(mark.exists());
        drop(lab);
        assert!(mark.exists());
        fs::remove_file(mark).unwrap();
    }
}
