//! The lab behaves like an Odoo 17 host: each test starts a lab, pokes it over plain TCP/HTTP
//! (and SQL, SSH where needed) and checks one behaviour from shared/odoo-session-facts.md.
//! No sleeps as synchronisation: everything that waits polls with a deadline.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, SystemTime};

use osd_testlab::probe::{self, wait_for};
use osd_testlab::{Lab, SCENARIOS};

const DEADLINE: Duration = Duration::from_secs(30);

fn login(lab: &Lab, headers: &[(&str, &str)]) -> probe::Response {
    let o = &lab.info.odoo;
    let r = probe::authenticate(
        o.http_port,
        "odoo",
        &o.admin_login,
        &o.admin_password,
        headers,
    )
    .expect("authenticate");
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(
        r.json()["result"]["uid"].as_i64() == Some(2),
        "login failed: {}",
        r.text()
    );
    r
}

fn sid_of(r: &probe::Response) -> String {
    r.session_cookie().expect("a session_id cookie").value
}

fn session_info(port: u16, sid: &str) -> serde_json::Value {
    probe::json_rpc(
        port,
        "/web/session/get_session_info",
        serde_json::json!({}),
        Some(sid),
        &[],
    )
    .expect("rpc")
    .json()
}

fn pg(lab: &Lab) -> postgres::Client {
    postgres::Client::connect(&lab.pg_conninfo(), postgres::NoTls)
        .expect("connect to the lab's PostgreSQL")
}

fn param(lab: &Lab, key: &str) -> Option<String> {
    pg(lab)
        .query_opt(
            "SELECT value FROM ir_config_parameter WHERE key = $1",
            &[&key],
        )
        .unwrap()
        .map(|r| r.get(0))
}

/// Gregorian year of a Unix timestamp (Howard Hinnant's civil_from_days).
fn civil_year(secs: u64) -> i64 {
    let z = (secs / 86400) as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    yoe + era * 400 + if month <= 2 { 1 } else { 0 }
}

fn log_text(path: &Path) -> String {
    fs::read_to_string(path).unwrap_or_default()
}

fn wait_log(path: &Path, needle: &str) -> bool {
    wait_for(DEADLINE, || log_text(path).contains(needle)).is_some()
}

mod lab_script {
    use super::*;

    #[test]
    fn lists_every_scenario() {
        assert_eq!(
            osd_testlab::scenarios(),
            SCENARIOS.iter().map(|s| s.to_string()).collect::<Vec<_>>()
        );
    }

    #[test]
    fn unknown_scenario_fails_cleanly() {
        let err = Lab::try_up("no-such-scenario", None).unwrap_err();
        assert!(err.contains("unknown scenario"), "{err}");
    }

    #[test]
    fn down_unmounts_the_sessions_scenarios_mounts() {
        let mounted = |path: &Path| {
            fs::read_to_string("/proc/mounts")
                .unwrap()
                .lines()
                .any(|l| l.split_whitespace().nth(1) == Some(path.to_str().unwrap()))
        };
        for (scenario, which) in [
            ("sessions-full", "data_dir"),
            ("sessions-readonly", "sessions"),
        ] {
            let lab = Lab::up(scenario);
            let dir = lab.info.dir.clone();
            let target = if which == "data_dir" {
                lab.info.odoo.data_dir.clone()
            } else {
                lab.info.odoo.sessions_dir.clone()
            };
            assert!(
                mounted(&target),
                "{scenario}: {} is a mount",
                target.display()
            );
            lab.down();
            assert!(!mounted(&target), "{scenario}: unmounted by down");
            assert!(!dir.exists(), "{scenario}: lab dir removed");
        }
    }

    #[test]
    fn down_is_idempotent_and_removes_everything() {
        let lab = Lab::up("cron-deletes-sessions");
        let dir = lab.info.dir.clone();
        let cron = lab.info.cron_file.clone().expect("cron file recorded");
        let cron_text = fs::read_to_string(&cron).expect("cron file exists");
        assert!(
            cron_text.contains(lab.info.odoo.sessions_dir.to_str().unwrap())
                && cron_text.contains("-delete"),
            "{cron_text}"
        );
        let pids = lab.info.pids.clone().unwrap();
        lab.down();
        assert!(!dir.exists(), "lab dir removed");
        assert!(!cron.exists(), "cron file removed");
        // a dead daemon may linger as a zombie when PID 1 does not reap: look at state and cmdline
        let dir_str = dir.display().to_string();
        for pid in [pids.supervisord, pids.nginx, pids.sshd, pids.postgres]
            .into_iter()
            .flatten()
        {
            let stat = fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
            let zombie = stat
                .rsplit(')')
                .next()
                .unwrap_or("")
                .split_whitespace()
                .next()
                == Some("Z");
            let cmdline = fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
            let ours = String::from_utf8_lossy(&cmdline).contains(&dir_str);
            assert!(
                stat.is_empty() || zombie || !ours,
                "process {pid} of the lab still alive"
            );
        }
        let again = Command::new(osd_testlab::lab_script_path())
            .arg("down")
            .arg(&dir)
            .status()
            .unwrap();
        assert!(again.success(), "second down must not fail");
    }

    #[test]
    fn every_scenario_starts_and_serves() {
        // Labs start in parallel here on purpose (four at a time): fleet tests will do the same.
        for chunk in SCENARIOS.chunks(4) {
            let handles: Vec<_> = chunk
                .iter()
                .map(|s| {
                    std::thread::spawn(move || {
                        let lab = Lab::up(s);
                        for node in lab.odoo_nodes().into_iter().filter(|n| !n.broken) {
                            let r = probe::get(node.http_port, "/web/health", &[]).unwrap();
                            assert_eq!(r.status, 200, "{s}");
                            assert_eq!(r.json()["status"], "pass");
                            assert!(
                                r.session_cookie().is_none(),
                                "/web/health never sets a cookie"
                            );
                        }
                        let t = if lab.info.systemd.is_some() {
                            lab.exec(&["nginx", "-t"])
                        } else {
                            Command::new("nginx")
                                .arg("-t")
                                .arg("-c")
                                .arg(&lab.info.nginx.conf)
                                .output()
                                .unwrap()
                        };
                        assert!(
                            t.status.success(),
                            "{s}: nginx -t: {}",
                            String::from_utf8_lossy(&t.stderr)
                        );
                        assert_eq!(lab.odoo_nodes()[0].conf, lab.info.odoo.conf, "{s}");
                        let conf = fs::read_to_string(lab.host_path(&lab.info.odoo.conf)).unwrap();
                        assert!(conf.contains("admin_passwd = "), "{s}");
                        if lab.info.layout.as_deref() == Some("lab") {
                            assert!(conf.contains("db_password = "), "{s}");
                        }
                        (s.to_string(), lab.info.start_seconds)
                    })
                })
                .collect();
            for h in handles {
                let (s, secs) = h.join().expect("scenario thread");
                eprintln!("scenario {s}: up in {secs:.2} s");
            }
        }
    }
}

mod sessions {
    use super::*;

    #[test]
    fn cookie_is_exactly_odoo_17s_and_file_is_where_odoo_puts_it() {
        let lab = Lab::up("healthy");
        let r = login(&lab, &[]);
        let c = r.session_cookie().unwrap();
        assert_eq!(c.value.len(), 40);
        assert!(c
            .value
            .chars()
            .all(|ch| ch.is_ascii_hexdigit() && !ch.is_ascii_uppercase()));
        let names: Vec<&str> = c.attributes.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            names,
            ["Expires", "Max-Age", "HttpOnly", "Path"],
            "{}",
            c.raw
        );
        assert_eq!(c.max_age(), Some(604800));
        assert_eq!(c.attribute("Path"), Some("/"));
        let in_a_year = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap()
            .as_secs()
            + 365 * 86400;
        let next_year = civil_year(in_a_year).to_string();
        assert!(
            c.attribute("Expires").unwrap().contains(&next_year),
            "Expires one year ahead: {}",
            c.raw
        );
        for absent in ["Secure", "SameSite", "Domain"] {
            assert!(!c.has(absent), "{absent} must not be set: {}", c.raw);
        }
        let sessions = &lab.info.odoo.sessions_dir;
        assert_eq!(
            fs::metadata(sessions).unwrap().permissions().mode() & 0o777,
            0o700
        );
        let file = sessions.join(&c.value[..2]).join(&c.value);
        assert!(file.is_file(), "{}", file.display());
        assert_eq!(
            fs::metadata(&file).unwrap().permissions().mode() & 0o777,
            0o644
        );
        // a valid session answers, and re-sends the cookie (the session is written)
        let info = probe::json_rpc(
            lab.info.odoo.http_port,
            "/web/session/get_session_info",
            serde_json::json!({}),
            Some(&c.value),
            &[],
        )
        .unwrap();
        assert_eq!(info.json()["result"]["uid"], 2);
        assert_eq!(info.session_cookie().unwrap().value, c.value);
        // a request with an unchanged session sends no cookie
        let v = probe::json_rpc(
            lab.info.odoo.http_port,
            "/web/webclient/version_info",
            serde_json::json!({}),
            Some(&c.value),
            &[],
        )
        .unwrap();
        assert!(v.session_cookie().is_none());
        assert_eq!(
            v.json()["result"]["server_version_info"],
            serde_json::json!([17, 0, 0, "final", 0, ""])
        );
    }

    #[test]
    fn max_age_follows_the_parameter() {
        let lab = Lab::up("short-lifetime");
        assert_eq!(
            login(&lab, &[]).session_cookie().unwrap().max_age(),
            Some(600)
        );
    }

    #[test]
    fn sql_update_is_not_seen_until_restart_and_sessions_survive_it() {
        let lab = Lab::up("healthy");
        let before = sid_of(&login(&lab, &[]));
        pg(&lab)
            .execute("UPDATE ir_config_parameter SET value = '1234' WHERE key = 'sessions.max_inactivity_seconds'", &[])
            .unwrap();
        assert_eq!(
            login(&lab, &[]).session_cookie().unwrap().max_age(),
            Some(604800),
            "cached until restart"
        );
        lab.restart_odoo();
        assert_eq!(
            login(&lab, &[]).session_cookie().unwrap().max_age(),
            Some(1234),
            "read at start"
        );
        assert_eq!(
            session_info(lab.info.odoo.http_port, &before)["result"]["uid"],
            2,
            "session survives a restart"
        );
    }

    #[test]
    fn set_param_through_odoo_applies_at_once() {
        let lab = Lab::up("healthy");
        let sid = sid_of(&login(&lab, &[]));
        let r = probe::json_rpc(
            lab.info.odoo.http_port,
            "/web/dataset/call_kw/ir.config_parameter/set_param",
            serde_json::json!({"model": "ir.config_parameter", "method": "set_param",
                               "args": ["sessions.max_inactivity_seconds", "7200"], "kwargs": {}}),
            Some(&sid),
            &[],
        )
        .unwrap();
        assert!(r.json().get("error").is_none(), "{}", r.text());
        // every worker sees it (cache invalidation through the signaling sequence)
        for _ in 0..4 {
            assert_eq!(
                login(&lab, &[]).session_cookie().unwrap().max_age(),
                Some(7200)
            );
        }
    }

    #[test]
    fn dead_session_gets_code_100_and_web_redirects_to_login() {
        let lab = Lab::up("healthy");
        let port = lab.info.odoo.http_port;
        let dead = "0123456789abcdef0123456789abcdef01234567";
        let e = session_info(port, dead);
        assert_eq!(e["error"]["code"], 100, "{e}");
        assert_eq!(e["error"]["message"], "Odoo Session Expired");
        assert_eq!(
            e["error"]["data"]["name"],
            "odoo.http.SessionExpiredException"
        );
        let web = probe::get(port, "/web", &[]).unwrap();
        assert_eq!(web.status, 303);
        assert_eq!(web.header("Location"), Some("/web/login"));
        let page = probe::get(port, "/web/login", &[]).unwrap();
        assert_eq!(page.status, 200);
        assert!(page.text().contains("csrf_token"));
        let bad = probe::authenticate(port, "odoo", "admin", "wrong", &[])
            .unwrap()
            .json();
        assert_eq!(bad["error"]["code"], 200);
        assert_eq!(bad["error"]["data"]["name"], "odoo.exceptions.AccessDenied");
        assert!(wait_log(
            &lab.info.odoo.log,
            "Login failed for db:odoo login:admin from 127.0.0.1"
        ));
    }

    #[test]
    fn gc_deletes_only_files_older_than_the_threshold() {
        let lab = Lab::up("healthy");
        let old = sid_of(&login(&lab, &[]));
        let fresh = sid_of(&login(&lab, &[]));
        let dir = &lab.info.odoo.sessions_dir;
        let old_file = dir.join(&old[..2]).join(&old);
        let eight_days = SystemTime::now() - Duration::from_secs(8 * 24 * 3600);
        fs::File::options()
            .write(true)
            .open(&old_file)
            .unwrap()
            .set_modified(eight_days)
            .unwrap();
        let report = lab.gc_sessions();
        assert_eq!(report.deleted, vec![old_file.clone()], "{report:?}");
        assert!(!old_file.exists());
        assert!(dir.join(&fresh[..2]).join(&fresh).exists());
        assert_eq!(
            session_info(lab.info.odoo.http_port, &old)["error"]["code"],
            100
        );
        assert_eq!(
            session_info(lab.info.odoo.http_port, &fresh)["result"]["uid"],
            2
        );
        assert!(wait_log(
            &lab.info.odoo.log,
            "Job done: `Base: Auto-vacuum internal data`"
        ));
    }
}

mod proxy {
    use super::*;

    #[test]
    fn forwarded_headers_need_proxy_mode_and_x_forwarded_host() {
        // proxy_mode on, web.base.url not frozen
        let lab = Lab::up("missing-forwarded-headers");
        let port = lab.info.odoo.http_port;
        login(
            &lab,
            &[
                ("X-Forwarded-Proto", "https"),
                ("X-Forwarded-For", "203.0.113.7"),
            ],
        );
        assert_eq!(
            param(&lab, "web.base.url").unwrap(),
            format!("http://127.0.0.1:{port}"),
            "ignored without X-Forwarded-Host"
        );
        login(
            &lab,
            &[
                ("X-Forwarded-Host", "odoo.lab.test"),
                ("X-Forwarded-Proto", "https"),
                ("X-Forwarded-For", "203.0.113.8"),
            ],
        );
        assert_eq!(
            param(&lab, "web.base.url").unwrap(),
            "https://odoo.lab.test"
        );
        assert!(wait_log(
            &lab.info.odoo.log,
            "Login successful for db:odoo login:admin from 203.0.113.8"
        ));
        assert!(log_text(&lab.info.odoo.log)
            .contains("Login successful for db:odoo login:admin from 127.0.0.1"));

        // proxy_mode off: never applied
        let off = Lab::up("proxy-mode-off");
        let port = off.info.odoo.http_port;
        login(
            &off,
            &[
                ("X-Forwarded-Host", "odoo.lab.test"),
                ("X-Forwarded-Proto", "https"),
            ],
        );
        assert_eq!(
            param(&off, "web.base.url").unwrap(),
            format!("http://127.0.0.1:{port}")
        );
    }

    #[test]
    fn frozen_base_url_is_kept() {
        let lab = Lab::up("healthy");
        let seeded = param(&lab, "web.base.url").unwrap();
        login(
            &lab,
            &[
                ("X-Forwarded-Host", "elsewhere.test"),
                ("X-Forwarded-Proto", "http"),
            ],
        );
        assert_eq!(param(&lab, "web.base.url").unwrap(), seeded);
        assert_eq!(Some(seeded), lab.info.odoo.web_base_url);
    }

    #[test]
    fn nginx_redirects_to_the_canonical_https_name_and_reloads() {
        let lab = Lab::up("healthy");
        let n = &lab.info.nginx;
        let https = n.https_port.unwrap();
        let r = probe::get(n.http_port, "/web?x=1", &[("Host", "erp.lab.test")]).unwrap();
        assert_eq!(r.status, 301);
        assert_eq!(
            r.header("Location"),
            Some(format!("https://odoo.lab.test:{https}/web?x=1").as_str())
        );
        let site = fs::read_to_string(n.site_conf.as_ref().unwrap()).unwrap();
        assert!(site.contains("proxy_cookie_flags session_id samesite=lax secure;"));
        let reload = Command::new("nginx")
            .args(["-s", "reload", "-c"])
            .arg(&n.conf)
            .output()
            .unwrap();
        assert!(
            reload.status.success(),
            "{}",
            String::from_utf8_lossy(&reload.stderr)
        );
        assert!(wait_for(DEADLINE, || probe::get(
            n.http_port,
            "/",
            &[("Host", "odoo.lab.test")]
        )
        .map(|r| r.status == 301)
        .unwrap_or(false))
        .is_some());
    }

    #[test]
    fn http_only_has_no_https_and_no_redirect() {
        let lab = Lab::up("http-only");
        assert_eq!(lab.info.nginx.https_port, None);
        let r = probe::get(
            lab.info.nginx.http_port,
            "/web/health",
            &[("Host", "odoo.lab.test")],
        )
        .unwrap();
        assert_eq!(r.status, 200);
    }

    #[test]
    fn websocket_only_works_on_the_gevent_port() {
        let lab = Lab::up("healthy");
        let sid = sid_of(&login(&lab, &[]));
        let cookie = format!("session_id={sid}");
        let ws = [
            ("Upgrade", "websocket"),
            ("Connection", "Upgrade"),
            ("Sec-WebSocket-Version", "13"),
            ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
            ("Cookie", cookie.as_str()),
        ];
        let on_http =
            probe::request_head(lab.info.odoo.http_port, "GET", "/websocket", &ws).unwrap();
        assert_eq!(on_http.status, 500);
        assert!(wait_log(
            &lab.info.odoo.log,
            "Couldn't bind the websocket. Is the connection opened on the evented port"
        ));
        let on_gevent =
            probe::request_head(lab.info.odoo.gevent_port, "GET", "/websocket", &ws).unwrap();
        assert_eq!(on_gevent.status, 101);
        assert_eq!(
            on_gevent.header("Sec-WebSocket-Accept"),
            Some("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
        );
        assert_eq!(
            on_gevent.session_cookie().map(|c| c.value),
            Some(sid),
            "opening the websocket writes the session"
        );
    }

    #[test]
    fn dbfilter_rejecting_the_session_db_logs_odoos_line() {
        let lab = Lab::up("dbfilter-mismatch");
        let port = lab.info.odoo.http_port;
        // dbfilter ^%h$: the short name "odoo" matches the database, the FQDN does not
        let r = login(&lab, &[("Host", "odoo")]);
        let sid = sid_of(&r);
        let via_fqdn = probe::json_rpc(
            port,
            "/web/session/get_session_info",
            serde_json::json!({}),
            Some(&sid),
            &[
                ("X-Forwarded-Host", "odoo.lab.test:443"),
                ("X-Forwarded-Proto", "https"),
            ],
        )
        .unwrap();
        assert_eq!(
            via_fqdn.status,
            404,
            "no database for that host: {}",
            via_fqdn.text()
        );
        assert!(wait_log(
            &lab.info.odoo.log,
            "Logged into database 'odoo', but dbfilter rejects it; logging session out."
        ));
    }
}

mod service {
    use super::*;

    fn odoo_stdout(lab: &Lab) -> String {
        log_text(lab.info.odoo.stdout_log.as_ref().unwrap())
    }

    #[test]
    fn duplicate_key_in_odoo_conf_refuses_to_start() {
        let lab = Lab::up("healthy");
        let conf = &lab.info.odoo.conf;
        let original = fs::read(conf).unwrap();
        let mut broken = original.clone();
        broken.extend_from_slice(b"http_port = 8069\n");
        fs::write(conf, &broken).unwrap();
        let out = lab.supervisorctl(&["restart", "odoo"]);
        assert!(
            !out.status.success() || String::from_utf8_lossy(&out.stdout).contains("ERROR"),
            "restart must fail"
        );
        assert!(
            odoo_stdout(&lab).contains("configparser.DuplicateOptionError"),
            "{}",
            odoo_stdout(&lab)
        );
        fs::write(conf, &original).unwrap();
        lab.restart_odoo();
    }

    #[test]
    fn break_odoo_refuses_to_start_until_fixed() {
        let lab = Lab::up("healthy");
        lab.break_odoo();
        let out = lab.supervisorctl(&["restart", "odoo"]);
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("ERROR"),
            "{}",
            String::from_utf8_lossy(&out.stdout)
        );
        assert!(log_text(&lab.info.odoo.log)
            .contains("CRITICAL ? odoo.modules.module: Couldn't load module base"));
        assert!(probe::get(lab.info.odoo.http_port, "/web/health", &[]).is_err());
        lab.fix_odoo();
        lab.restart_odoo();
    }

    #[test]
    fn memory_limits_recycle_workers_with_odoos_message() {
        let lab = Lab::up("memory-recycling");
        for _ in 0..6 {
            assert_eq!(
                probe::get(lab.info.odoo.http_port, "/web/login", &[])
                    .unwrap()
                    .status,
                200
            );
        }
        assert!(wait_log(&lab.info.odoo.log, ") virtual memory limit ("));
        let spawned = wait_for(DEADLINE, || {
            log_text(&lab.info.odoo.log)
                .matches("Worker WorkerHTTP (")
                .count()
                > 4
        });
        assert!(spawned.is_some(), "recycled workers are replaced");
    }

    #[test]
    fn two_upstreams_have_separate_session_stores() {
        let lab = Lab::up("two-upstreams");
        let o2 = lab.info.odoo2.as_ref().expect("odoo2 in lab.json");
        assert_ne!(o2.sessions_dir, lab.info.odoo.sessions_dir);
        let r = probe::authenticate(
            o2.http_port,
            "odoo",
            &o2.admin_login,
            &o2.admin_password,
            &[],
        )
        .unwrap();
        let sid = sid_of(&r);
        assert_eq!(session_info(o2.http_port, &sid)["result"]["uid"], 2);
        assert_eq!(
            session_info(lab.info.odoo.http_port, &sid)["error"]["code"],
            100,
            "node 1 does not know node 2's session"
        );
        let site = fs::read_to_string(lab.info.nginx.site_conf.as_ref().unwrap()).unwrap();
        assert!(
            site.contains(&format!("server 127.0.0.1:{};", o2.http_port))
                && !site.contains("ip_hash")
        );
    }
}

mod ssh {
    use super::*;

    fn ssh(lab: &Lab, user: &str, key: &Path, cmd: &str) -> std::process::Output {
        Command::new("ssh")
            .args([
                "-F",
                "/dev/null",
                "-o",
                "BatchMode=yes",
                "-o",
                "StrictHostKeyChecking=yes",
                "-o",
                "IdentitiesOnly=yes",
            ])
            .arg("-o")
            .arg(format!(
                "UserKnownHostsFile={}",
                lab.known_hosts_file().display()
            ))
            .arg("-i")
            .arg(key)
            .args([
                "-p",
                &lab.info.ssh.port.to_string(),
                &format!("{user}@127.0.0.1"),
                cmd,
            ])
            .output()
            .unwrap()
    }

    #[test]
    fn keys_and_sudo_work_as_documented() {
        let lab = Lab::up("healthy");
        let u = &lab.info.users;
        for key in [
            &lab.info.keys.ed25519,
            &lab.info.keys.ecdsa,
            &lab.info.keys.rsa,
        ] {
            let out = ssh(&lab, &u.root.login, key, "id -u");
            assert_eq!(
                String::from_utf8_lossy(&out.stdout).trim(),
                "0",
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        assert!(fs::read_to_string(&lab.info.keys.rsa)
            .unwrap()
            .starts_with("-----BEGIN RSA PRIVATE KEY-----"));
        assert!(ssh(
            &lab,
            &u.sudo_nopasswd.login,
            &lab.info.keys.ed25519,
            "sudo -n true"
        )
        .status
        .success());
        assert!(!ssh(
            &lab,
            &u.sudo_passwd.login,
            &lab.info.keys.ed25519,
            "sudo -n true"
        )
        .status
        .success());
        let with_pw = format!(
            "echo '{}' | sudo -S -p '' true",
            u.sudo_passwd.password.as_ref().unwrap()
        );
        assert!(
            ssh(&lab, &u.sudo_passwd.login, &lab.info.keys.ed25519, &with_pw)
                .status
                .success()
        );
        assert!(!ssh(
            &lab,
            &u.nosudo.login,
            &lab.info.keys.ed25519,
            "sudo -n true"
        )
        .status
        .success());
        let fp = Command::new("ssh-keygen")
            .arg("-lf")
            .arg(lab.known_hosts_file())
            .output()
            .unwrap();
        assert!(String::from_utf8_lossy(&fp.stdout).contains(&lab.info.ssh.host_key_fingerprint));
    }

    #[test]
    fn cut_ssh_drops_established_sessions_only() {
        let lab = Lab::up("healthy");
        let mut child = Command::new("ssh")
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
            .args([
                "-p",
                &lab.info.ssh.port.to_string(),
                "root@127.0.0.1",
                "sleep 120",
            ])
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let sshd = lab.info.pids.as_ref().unwrap().sshd.unwrap();
        let has_session = || {
            fs::read_dir("/proc").unwrap().flatten().any(|e| {
                fs::read_to_string(e.path().join("stat"))
                    .map(|s| {
                        s.rsplit(')').next().unwrap_or("").split_whitespace().nth(1)
                            == Some(&sshd.to_string())
                    })
                    .unwrap_or(false)
            })
        };
        assert!(
            wait_for(DEADLINE, has_session).is_some(),
            "session established"
        );
        assert_eq!(lab.cut_ssh(), 1);
        let exited = wait_for(DEADLINE, || child.try_wait().unwrap().is_some());
        assert!(
            exited.is_some(),
            "the client notices the dropped connection"
        );
        assert!(
            ssh(&lab, "root", &lab.info.keys.ed25519, "true")
                .status
                .success(),
            "the listener is still there"
        );
    }
}

#[test]
fn lab_json_round_trips() {
    let lab = Lab::up("folklore-params");
    let text = fs::read_to_string(lab.dir().join("lab.json")).unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    for key in [
        "dir", "scenario", "ssh", "users", "keys", "postgres", "odoo", "nginx",
    ] {
        assert!(v.get(key).is_some(), "{key}");
    }
    assert_eq!(param(&lab, "session_cookie_age").as_deref(), Some("86400"));
    assert!(param(&lab, "session_cookie_httponly").is_some());
}
