//! Fixing over real SSH (issue 4): every fixable scenario goes plan → apply → verify → rollback
//! and ends byte-identical; faults at every step end in the old state or the new one, never
//! between; nothing ever shows a secret.

mod support;

use osd_engine::change::apply::{self, ApplyOptions, Outcome, Progress, Step};
use osd_engine::change::plan::{plan, FixRequest};
use osd_engine::change::record::{self, RecordStatus};
use osd_engine::change::ChangeSet;
use osd_engine::{diagnose, Diagnosis, EngineError};
use osd_remote::Host;
use osd_testlab::Lab;
use std::collections::BTreeMap;
use std::sync::Mutex;
use support::*;

/// What must come back byte for byte: the files we may edit (sha256, owner, mode) and every row
/// of ir_config_parameter.
#[derive(Debug, PartialEq)]
struct Snapshot {
    files: Vec<(String, Option<(String, String, u32)>)>,
    params: BTreeMap<String, String>,
}

fn snapshot(lab: &Lab, host: &Host) -> Snapshot {
    let mut paths = vec![lab.info.odoo.conf.clone()];
    paths.extend(lab.info.nginx.site_conf.clone());
    paths.extend(lab.info.cron_file.clone());
    let files = paths
        .iter()
        .map(|p| {
            let p = p.to_string_lossy().into_owned();
            let st = host
                .stat(&p)
                .unwrap()
                .map(|s| (s.sha256.unwrap_or_default(), s.owner, s.mode));
            (p, st)
        })
        .collect();
    let mut client = postgres::Client::connect(&lab.pg_conninfo(), postgres::NoTls).unwrap();
    let params = client
        .query("SELECT key, value FROM ir_config_parameter", &[])
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    Snapshot { files, params }
}

fn request(checks: &[&str], values: &[(&str, &str)]) -> FixRequest {
    FixRequest::parse(checks.iter().copied(), values.iter().copied()).expect("known check ids")
}

fn options(lab: &Lab) -> ApplyOptions {
    ApplyOptions {
        diagnose: support::options(lab),
        state_dir: Some(lab.dir().join("state").to_string_lossy().into_owned()),
        ..Default::default()
    }
}

fn quiet(_: &Progress) {}

/// Secrets of this lab: odoo.conf's admin_passwd and db_password.
fn secrets(lab: &Lab) -> Vec<String> {
    let mut s = vec![lab.info.postgres.password.clone()];
    s.extend(lab.info.odoo.master_password.clone());
    s
}

fn assert_no_secret(lab: &Lab, what: &str, text: &str) {
    for s in secrets(lab) {
        assert!(!text.contains(&s), "{what} shows a secret");
    }
}

/// The whole round trip for one scenario.
fn round_trip(scenario: &str, checks: &[&str], values: &[(&str, &str)]) {
    let lab = Lab::up(scenario);
    let host = connect(&lab);
    let opts = options(&lab);
    let before = snapshot(&lab, &host);
    let d0 = diagnose(&host, &opts.diagnose).unwrap();
    for c in checks {
        assert!(
            not_ok(&d0).contains(c),
            "{scenario}: {c} should fail before the fix"
        );
    }

    let req = request(checks, values);
    let cs = plan(&host, &d0, &req).unwrap();
    assert!(!cs.is_empty(), "{scenario}: the plan changes something");
    assert_eq!(
        plan(&host, &d0, &req).unwrap(),
        cs,
        "{scenario}: planning twice gives the same change set"
    );
    assert_no_secret(&lab, "the preview", &cs.preview());
    assert_no_secret(
        &lab,
        "the change set JSON",
        &serde_json::to_string(&cs).unwrap(),
    );

    let result = apply::apply(&host, &d0, &cs, &opts, &quiet).unwrap();
    assert_eq!(
        result.status,
        Outcome::Applied,
        "{scenario}: {:?}",
        result.error
    );
    assert!(
        result.verification.iter().all(|v| v.persisted),
        "{:#?}",
        result.verification
    );
    let d1 = result.after.clone().expect("diagnosis after apply");
    for c in checks {
        assert!(
            !not_ok(&d1).contains(c),
            "{scenario}: {c} is still not ok after the fix: {:#?}",
            d1.finding(*c)
        );
    }
    let rec = record::load(&host, opts.root(), &result.changeset).unwrap();
    assert_eq!(rec.status, RecordStatus::Applied);
    let on_host = String::from_utf8(
        host.read_file(&format!("{}/record.json", rec.dir()))
            .unwrap(),
    )
    .unwrap();
    assert_no_secret(&lab, "the record on the host", &on_host);

    // Idempotence: the same fix again plans nothing and applies as a no-op.
    let again = plan(&host, &d1, &req).unwrap();
    assert!(
        again.is_empty(),
        "{scenario}: planning after the apply must be empty: {}",
        again.preview()
    );
    let noop = apply::apply(&host, &d1, &again, &opts, &quiet).unwrap();
    assert_eq!(
        (noop.status, noop.changeset.as_str()),
        (Outcome::Applied, "")
    );

    // Rollback from a fresh connection, as from a fresh start of the app.
    let host2 = connect(&lab);
    let facts = osd_engine::discover::discover(&host2, &opts.diagnose.discover).unwrap();
    let rb = apply::rollback(&host2, &facts, None, false, &opts, &quiet).unwrap();
    assert_eq!(rb.status, RecordStatus::Undone);
    assert_eq!(
        snapshot(&lab, &host2),
        before,
        "{scenario}: not byte-identical after the rollback"
    );
    let d2 = diagnose(&host2, &opts.diagnose).unwrap();
    assert_eq!(
        not_ok(&d2),
        not_ok(&d0),
        "{scenario}: the diagnosis is not as before"
    );
    let hist = record::history(&host2, opts.root()).unwrap();
    assert_eq!(
        hist.iter().map(|r| r.status).collect::<Vec<_>>(),
        [RecordStatus::Undone]
    );
}

/// proxy_mode off and no X-Forwarded-Host sent (the proxy-mode-off lab with those lines taken
/// out): proxy_mode alone would change nothing Odoo does, so its fix pulls in the headers and
/// says so; planned alone it applies, verifies both, and rolls back byte for byte.
#[test]
fn proxy_mode_alone_pulls_in_the_forwarded_host_it_needs() {
    use osd_engine::checks::{CheckId, Remedy};
    let lab = Lab::up("proxy-mode-off");
    let site = lab
        .info
        .nginx
        .site_conf
        .clone()
        .expect("the lab has a site file");
    let text = std::fs::read_to_string(&site).unwrap();
    assert!(text.contains("proxy_set_header X-Forwarded-Host"));
    let stripped: String = text
        .lines()
        .filter(|l| !l.contains("proxy_set_header X-Forwarded-Host"))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(&site, stripped).unwrap();
    let conf = lab.info.nginx.conf.to_string_lossy().into_owned();
    let out = lab.exec(&["nginx", "-c", &conf, "-s", "reload"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let host = connect(&lab);
    let opts = options(&lab);
    let before = snapshot(&lab, &host);
    let d0 = diagnose(&host, &opts.diagnose).unwrap();
    assert_eq!(
        d0.finding(CheckId::ProxyMode).unwrap().remedy,
        Remedy::Here {
            also: vec![CheckId::ProxyHeaders]
        }
    );
    let cs = plan(&host, &d0, &request(&["proxy.mode"], &[])).unwrap();
    assert_eq!(cs.checks, [CheckId::ProxyMode, CheckId::ProxyHeaders]);
    assert!(
        cs.preview()
            .contains("Also fixes \u{201c}The proxy tells Odoo the real address\u{201d}"),
        "{}",
        cs.preview()
    );
    let r = apply::apply(&host, &d0, &cs, &opts, &quiet).unwrap();
    assert_eq!(r.status, Outcome::Applied, "{:?}", r.error);
    let d1 = r.after.clone().expect("diagnosis after apply");
    for c in ["proxy.mode", "proxy.headers"] {
        assert!(!not_ok(&d1).contains(&c), "{c}: {:#?}", d1.finding(c));
    }
    let rb = apply::rollback(&host, &d1.facts, None, false, &opts, &quiet).unwrap();
    assert_eq!(rb.status, RecordStatus::Undone);
    assert_eq!(snapshot(&lab, &host), before);
}

mod round_trips {
    use super::round_trip;

    #[test]
    fn short_lifetime() {
        round_trip(
            "short-lifetime",
            &["session.lifetime"],
            &[("session.lifetime", "86400")],
        );
    }
    #[test]
    fn proxy_mode_off() {
        round_trip(
            "proxy-mode-off",
            &["proxy.mode", "proxy.canonical-host"],
            &[],
        );
    }
    #[test]
    fn missing_forwarded_headers() {
        round_trip(
            "missing-forwarded-headers",
            &["proxy.headers", "proxy.canonical-host"],
            &[],
        );
    }
    #[test]
    fn websocket_drops_headers() {
        round_trip("websocket-drops-headers", &["proxy.headers"], &[]);
    }
    #[test]
    fn no_canonical_host() {
        round_trip(
            "no-canonical-host",
            &["proxy.canonical-host"],
            &[("proxy.canonical-host", "odoo.lab.test")],
        );
    }
    #[test]
    fn cron_deletes_sessions() {
        round_trip("cron-deletes-sessions", &["session.external-cleanup"], &[]);
    }
    #[test]
    fn folklore_conf() {
        round_trip("folklore-conf", &["conf.folklore"], &[]);
    }
    #[test]
    fn folklore_params() {
        round_trip("folklore-params", &["conf.folklore"], &[]);
    }
    #[test]
    fn two_upstreams() {
        round_trip("two-upstreams", &["proxy.sticky"], &[]);
    }
    #[test]
    fn proxy_cache() {
        round_trip("proxy-cache", &["proxy.cache"], &[]);
    }
    #[test]
    fn memory_recycling() {
        round_trip("memory-recycling", &["workers.memory"], &[]);
    }
    #[test]
    fn workers_recycling() {
        // Odoo's default limits, and the restart: the kills logged before it no longer count.
        round_trip("workers-recycling", &["workers.memory"], &[]);
    }
    #[test]
    fn idle_logout() {
        round_trip(
            "idle-logout",
            &["session.idle-logout"],
            &[("session.idle-logout", "28800")],
        );
    }
}

#[test]
fn healthy_server_plans_nothing() {
    let lab = Lab::up("healthy");
    let host = connect(&lab);
    let d = diagnose_lab(&lab);
    let all: Vec<&str> = osd_engine::registry::fixable()
        .map(|id| id.as_str())
        .collect();
    let cs = plan(&host, &d, &request(&all, &[])).unwrap();
    assert!(cs.is_empty(), "{}", cs.preview());
}

#[test]
fn unknown_check_and_bad_value_are_clear_errors() {
    let lab = Lab::up("short-lifetime");
    let host = connect(&lab);
    let d = diagnose_lab(&lab);
    // An unknown id is refused when the request is read, before anything is planned.
    let e = FixRequest::parse(["session.timeout"], [])
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("no check 'session.timeout'") && e.contains("session.lifetime"),
        "{e}"
    );
    let e = plan(
        &host,
        &d,
        &request(&["session.lifetime"], &[("session.lifetime", "a day")]),
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("in seconds"), "{e}");
}

// ----- faults: each ends in the old state (or the new one), never between ---------------------

/// Plans `checks` on `scenario` and returns everything a fault test needs.
fn setup(
    scenario: &str,
    checks: &[&str],
) -> (Lab, Host, ApplyOptions, Snapshot, Diagnosis, ChangeSet) {
    let lab = Lab::up(scenario);
    let host = connect(&lab);
    let opts = options(&lab);
    let before = snapshot(&lab, &host);
    let d0 = diagnose(&host, &opts.diagnose).unwrap();
    let cs = plan(&host, &d0, &request(checks, &[])).unwrap();
    assert!(!cs.is_empty());
    (lab, host, opts, before, d0, cs)
}

#[test]
fn nginx_rejecting_the_edit_rolls_everything_back() {
    let (lab, host, opts, before, d0, mut cs) = setup(
        "missing-forwarded-headers",
        &["proxy.headers", "proxy.canonical-host"],
    );
    // The nginx edit is made invalid, as a bug in an edit would: `nginx -t` must catch it.
    let f = cs
        .files
        .iter_mut()
        .find(|f| f.kind == osd_engine::change::FileKind::Nginx)
        .unwrap();
    f.after.extend_from_slice(b"\nthis is not nginx;\n");
    f.after_sha256 = osd_engine::change::sha256_hex(&f.after);
    let r = apply::apply(&host, &d0, &cs, &opts, &quiet).unwrap();
    assert_eq!(r.status, Outcome::RolledBack);
    assert!(
        r.error
            .as_deref()
            .unwrap()
            .contains("rejected the edited configuration"),
        "{:?}",
        r.error
    );
    assert_eq!(snapshot(&lab, &host), before);
    assert_eq!(
        record::history(&host, opts.root()).unwrap()[0].status,
        RecordStatus::RolledBack
    );
}

#[test]
fn odoo_not_coming_back_rolls_back() {
    let (lab, host, mut opts, before, d0, cs) = setup("short-lifetime", &["session.lifetime"]);
    opts.health_timeout = Some(std::time::Duration::from_secs(8));
    // The change itself stops Odoo: it refuses to start while the new lifetime is set, so only
    // the restored old value lets it start again (decided on the host, not by timing).
    let new = cs.params[0].new.clone().unwrap();
    lab.break_odoo_when("sessions.max_inactivity_seconds", &new);
    let r = apply::apply(&host, &d0, &cs, &opts, &quiet).unwrap();
    assert_eq!(r.status, Outcome::RolledBack, "{:?}", r.error);
    let err = r.error.unwrap();
    assert!(
        err.contains("did not come back") || err.contains("failed"),
        "{err}"
    );
    assert_eq!(snapshot(&lab, &host), before);
    assert!(osd_engine::probe::healthy(&format!(
        "http://127.0.0.1:{}",
        lab.info.odoo.http_port
    )));
}

#[test]
fn failed_verification_rolls_back() {
    // 10 minutes is written, but the running server's lifetime check still fails: rolled back.
    let lab = Lab::up("short-lifetime");
    let host = connect(&lab);
    let opts = options(&lab);
    let d0 = diagnose(&host, &opts.diagnose).unwrap();
    let mut client = postgres::Client::connect(&lab.pg_conninfo(), postgres::NoTls).unwrap();
    client.execute("UPDATE ir_config_parameter SET value = '300' WHERE key = 'sessions.max_inactivity_seconds'", &[]).unwrap();
    let d0b = diagnose(&host, &opts.diagnose).unwrap();
    let before = snapshot(&lab, &host);
    let cs = plan(
        &host,
        &d0b,
        &request(&["session.lifetime"], &[("session.lifetime", "600")]),
    )
    .unwrap();
    let r = apply::apply(&host, &d0b, &cs, &opts, &quiet).unwrap();
    assert_eq!(r.status, Outcome::RolledBack);
    assert!(r
        .error
        .unwrap()
        .contains("verification failed for “How long an idle session lives”"));
    assert!(r.verification.iter().any(|v| !v.persisted));
    assert_eq!(snapshot(&lab, &host), before);
    drop(d0);
}

/// Waits, running no command of ours, until the host settled change set `id` by itself: its
/// status file (written by the change set's program) says so. Bounded; polls the file.
fn settled_by_the_host(lab: &Lab, opts: &ApplyOptions, id: &str) -> String {
    let path = lab.host_path(std::path::Path::new(&format!(
        "{}/changesets/{id}/status",
        opts.root()
    )));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(240);
    loop {
        let status = std::fs::read_to_string(&path).unwrap_or_default();
        let status = status.trim();
        if matches!(
            status,
            "rolled_back" | "applied" | "undone" | "rollback_failed"
        ) {
            return status.to_string();
        }
        assert!(
            std::time::Instant::now() < deadline,
            "change set {id} never settled on the host (status {status:?})"
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
}

/// The change set ids recorded on the host (read from the lab's files, not through us).
fn recorded_ids(lab: &Lab, opts: &ApplyOptions) -> Vec<String> {
    let dir = lab.host_path(std::path::Path::new(&format!("{}/changesets", opts.root())));
    let mut ids: Vec<String> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    ids.sort();
    ids
}

/// Cuts the SSH connection when apply reaches `at`; then runs no command of ours: within the
/// guard's deadline the host is back to the before-state by itself, the lock is free, and the
/// record says the host guard rolled it back.
fn cut_at(scenario: &str, checks: &[&str], values: &[(&str, &str)], at: Step) {
    let lab = Lab::up(scenario);
    let host = connect(&lab);
    let mut opts = options(&lab);
    opts.guard = Some(std::time::Duration::from_secs(8));
    let before = snapshot(&lab, &host);
    let d0 = diagnose(&host, &opts.diagnose).unwrap();
    let cs = plan(&host, &d0, &request(checks, values)).unwrap();
    assert!(!cs.is_empty());
    let max_age_before = cookie_max_age(&d0);
    let cut = Mutex::new(false);
    let sink = |p: &Progress| {
        if let Progress::Step { step, .. } = p {
            let mut c = cut.lock().unwrap();
            if *step == at && !*c {
                assert!(lab.cut_ssh() > 0, "no SSH session to cut");
                *c = true;
            }
        }
    };
    let outcome = apply::apply(&host, &d0, &cs, &opts, &sink);
    assert!(*cut.lock().unwrap(), "apply never reached {at:?}");
    match outcome {
        Err(EngineError::Interrupted { id, .. }) => {
            let status = settled_by_the_host(&lab, &opts, &id);
            assert_eq!(status, "rolled_back", "cut at {at:?}");
            let host2 = connect(&lab);
            assert_eq!(
                snapshot(&lab, &host2),
                before,
                "cut at {at:?}: not back to the old state"
            );
            let rec = record::load(&host2, opts.root(), &id).unwrap();
            assert_eq!(rec.status, RecordStatus::RolledBack);
            assert!(
                rec.error
                    .as_deref()
                    .unwrap_or("")
                    .contains("rolled back by the host guard"),
                "{:?}",
                rec.error
            );
            assert!(record::unfinished(&host2, opts.root()).unwrap().is_empty());
            let d = diagnose(&host2, &opts.diagnose).unwrap();
            assert_eq!(
                cookie_max_age(&d),
                max_age_before,
                "cut at {at:?}: the old lifetime is not in force"
            );
        }
        // Cut before the host program started: nothing changed.
        Err(e) => {
            let host2 = connect(&lab);
            assert_eq!(
                snapshot(&lab, &host2),
                before,
                "cut at {at:?} ({e}): the server changed"
            );
            for id in recorded_ids(&lab, &opts) {
                let st = std::fs::read_to_string(lab.host_path(std::path::Path::new(&format!(
                    "{}/changesets/{id}/status",
                    opts.root()
                ))))
                .unwrap_or_default();
                assert_eq!(st.trim(), "recorded", "cut at {at:?}: {id} started");
            }
        }
        Ok(r) => panic!(
            "apply went on after the connection was cut at {at:?}: {:?}",
            r.status
        ),
    }
    // Either way a new apply works afterwards (no stale lock), confirmed in its own time.
    let host2 = connect(&lab);
    opts.stale_lock_after = Some(std::time::Duration::ZERO);
    opts.guard = None;
    let d = diagnose(&host2, &opts.diagnose).unwrap();
    let cs2 = plan(&host2, &d, &request(checks, values)).unwrap();
    let r = apply::apply(&host2, &d, &cs2, &opts, &quiet).unwrap();
    assert_eq!(r.status, Outcome::Applied, "{:?}", r.error);
}

fn cookie_max_age(d: &Diagnosis) -> Option<i64> {
    d.facts.server.seen()?.login_page_cookie.as_ref()?.max_age
}

/// The connection cut at every step from the record to verification, on the supervisor lab
/// (odoo.conf, nginx and parameters) and on the systemd lab (a lifetime: parameter + restart).
mod connection_cut {
    use super::*;
    fn supervisor(at: Step) {
        cut_at(
            "proxy-mode-off",
            &["proxy.mode", "proxy.canonical-host"],
            &[],
            at,
        );
    }
    fn systemd(at: Step) {
        cut_at(
            "debian-systemd",
            &["session.lifetime"],
            &[("session.lifetime", "172800")],
            at,
        );
    }
    #[test]
    fn at_record() {
        supervisor(Step::Record);
    }
    #[test]
    fn while_writing_files() {
        supervisor(Step::WriteFiles);
    }
    #[test]
    fn at_validation() {
        supervisor(Step::Validate);
    }
    #[test]
    fn while_writing_parameters() {
        supervisor(Step::WriteParams);
    }
    #[test]
    fn at_the_restart() {
        supervisor(Step::RestartOdoo);
    }
    #[test]
    fn at_verification() {
        supervisor(Step::Verify);
    }
    #[test]
    fn systemd_while_writing_parameters() {
        systemd(Step::WriteParams);
    }
    #[test]
    fn systemd_at_the_restart() {
        systemd(Step::RestartOdoo);
    }
    #[test]
    fn systemd_while_waiting_for_health() {
        systemd(Step::WaitHealth);
    }
    #[test]
    fn systemd_at_verification() {
        systemd(Step::Verify);
    }
}

#[test]
fn database_unreachable_changes_nothing() {
    let (lab, host, opts, before, d0, cs) = setup("short-lifetime", &["session.lifetime"]);
    let pid = lab
        .info
        .pids
        .as_ref()
        .and_then(|p| p.postgres)
        .expect("postgres pid");
    std::process::Command::new("kill")
        .arg("-INT")
        .arg(pid.to_string())
        .status()
        .unwrap();
    let e = apply::apply(&host, &d0, &cs, &opts, &quiet).unwrap_err();
    assert!(matches!(e, EngineError::Database { .. }), "{e}");
    assert!(e.to_string().contains("could not be reached"), "{e}");
    let sha = |p: &str| host.stat(p).unwrap().unwrap().sha256;
    for (p, st) in &before.files {
        assert_eq!(sha(p), st.as_ref().map(|s| s.0.clone()));
    }
    assert!(
        record::history(&host, opts.root()).unwrap().is_empty(),
        "nothing may be recorded as started"
    );
}

/// Runs `mount` (tests run as root), panicking with its message on failure.
fn mount(args: &[&str]) {
    let out = std::process::Command::new("mount")
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "mount {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

struct Unmount(std::path::PathBuf);
impl Drop for Unmount {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount").arg(&self.0).status();
    }
}

#[test]
fn a_refused_write_rolls_back_what_was_written() {
    // Two files: the nginx site is written first, then odoo.conf — which cannot be replaced
    // (a read-only bind mount, as in containers). The nginx edit must be undone.
    let (lab, host, opts, before, d0, mut cs) =
        setup("missing-forwarded-headers", &["proxy.headers"]);
    let conf = lab.info.odoo.conf.to_string_lossy().into_owned();
    let st = host.stat(&conf).unwrap().unwrap();
    let old = host.read_file(&conf).unwrap();
    let mut new = old.clone();
    new.extend_from_slice(b"; reviewed\n");
    cs.files.push(osd_engine::change::FileChange {
        path: conf.clone(),
        kind: osd_engine::change::FileKind::OdooConf,
        checks: vec![osd_engine::checks::CheckId::ConfSyntax],
        owner: st.owner,
        group: st.group,
        mode: st.mode,
        before_sha256: osd_engine::change::sha256_hex(&old),
        after_sha256: osd_engine::change::sha256_hex(&new),
        diff: String::new(),
        before: old,
        after: new,
    });
    mount(&["--bind", &conf, &conf]);
    let _guard = Unmount(conf.clone().into());
    mount(&["-o", "remount,ro,bind", &conf]);
    let r = apply::apply(&host, &d0, &cs, &opts, &quiet).unwrap();
    assert_eq!(r.status, Outcome::RolledBack, "{:?}", r.error);
    assert!(
        r.error.as_deref().unwrap().contains(&conf),
        "the error names the file: {:?}",
        r.error
    );
    drop(_guard);
    assert_eq!(snapshot(&lab, &host), before);
}

#[test]
fn a_full_disk_changes_nothing() {
    let (lab, host, opts, before, d0, cs) = setup("missing-forwarded-headers", &["proxy.headers"]);
    // Put the site's folder on a tiny filesystem holding the same file, then fill it up.
    let site = lab.info.nginx.site_conf.clone().unwrap();
    let dir = site.parent().unwrap().to_path_buf();
    let text = std::fs::read(&site).unwrap();
    mount(&[
        "-t",
        "tmpfs",
        "-o",
        "size=64k",
        "tmpfs",
        dir.to_str().unwrap(),
    ]);
    let _guard = Unmount(dir.clone());
    std::fs::write(&site, &text).unwrap();
    // nginx includes everything in this folder: fill it with comments, which it accepts.
    let _ = std::fs::write(dir.join("filler.conf"), "# filler\n".repeat(16 * 1024));
    let r = apply::apply(&host, &d0, &cs, &opts, &quiet).unwrap();
    assert_eq!(r.status, Outcome::RolledBack, "{:?}", r.error);
    assert_eq!(std::fs::read(&site).unwrap(), text);
    assert!(
        std::fs::read_dir(&dir).unwrap().all(|e| !e
            .unwrap()
            .file_name()
            .to_string_lossy()
            .starts_with(".osd")),
        "no temp file left behind"
    );
    drop(_guard);
    assert_eq!(snapshot(&lab, &host), before);
}

/// Issue 17: the steps between the lock and the program's start are batched — the lock with
/// the hashes of the files to change, then the record with its images and the program — two
/// commands whatever the number of files; and the verification saved with the confirmation is
/// what the record shows afterwards, images byte for byte.
#[test]
fn the_steps_before_the_program_starts_take_two_commands_and_the_record_is_whole() {
    let (_lab, host, opts, _before, d0, cs) = setup(
        "missing-forwarded-headers",
        &["proxy.headers", "proxy.canonical-host"],
    );
    assert!(!cs.files.is_empty());
    let at_lock = Mutex::new(None);
    let at_start = Mutex::new(None);
    let sink = |p: &Progress| {
        if let Progress::Step { step, detail, .. } = p {
            match step {
                Step::Lock => *at_lock.lock().unwrap() = Some(host.exec_count()),
                Step::Record if detail.starts_with("starting") => {
                    *at_start.lock().unwrap() = Some(host.exec_count())
                }
                _ => {}
            }
        }
    };
    let r = apply::apply(&host, &d0, &cs, &opts, &sink).unwrap();
    assert_eq!(r.status, Outcome::Applied, "{:?}", r.error);
    let (lock, start) = (
        at_lock.lock().unwrap().expect("lock step"),
        at_start.lock().unwrap().expect("start step"),
    );
    // The parameters' check reads the database through its tunnel (no command).
    assert_eq!(
        start - lock,
        2,
        "commands from the lock to the program's start"
    );
    let rec = record::load(&host, opts.root(), &r.changeset).unwrap();
    assert_eq!(rec.status, RecordStatus::Applied);
    assert_eq!(rec.verification, r.verification);
    assert!(!rec.verification.is_empty());
    for (saved, planned) in rec.changeset.files.iter().zip(&cs.files) {
        assert_eq!(saved.before, planned.before, "{}", planned.path);
        assert_eq!(saved.after, planned.after, "{}", planned.path);
    }
    let listed = record::history(&host, opts.root()).unwrap();
    assert_eq!(listed.last().unwrap().verification, r.verification);
}

#[test]
fn a_second_apply_while_one_runs_is_refused() {
    let (lab, host, opts, before, d0, cs) = setup("short-lifetime", &["session.lifetime"]);
    let other = connect(&lab);
    let held = record::lock(
        &other,
        opts.root(),
        "apply of change set 20261122T000000Z-abcdef",
    )
    .unwrap();
    let e = apply::apply(&host, &d0, &cs, &opts, &quiet).unwrap_err();
    assert!(matches!(e, EngineError::Locked { .. }), "{e}");
    assert!(e.to_string().contains("20261122T000000Z-abcdef"), "{e}");
    assert_eq!(snapshot(&lab, &host), before);
    held.release().unwrap();
    assert_eq!(
        apply::apply(&host, &d0, &cs, &opts, &quiet).unwrap().status,
        Outcome::Applied
    );
}

#[test]
fn a_file_edited_between_plan_and_apply_is_not_overwritten() {
    let (lab, host, opts, _before, d0, cs) = setup("proxy-mode-off", &["proxy.mode"]);
    let conf = lab.info.odoo.conf.clone();
    let mut text = std::fs::read_to_string(&conf).unwrap();
    text.push_str("; a colleague's note\n");
    std::fs::write(&conf, &text).unwrap();
    let e = apply::apply(&host, &d0, &cs, &opts, &quiet).unwrap_err();
    assert!(matches!(e, EngineError::Conflict { .. }), "{e}");
    assert_eq!(
        std::fs::read_to_string(&conf).unwrap(),
        text,
        "the colleague's edit must survive"
    );
}

/// A record written before change sets carried their own program (no run.sh, no params.json)
/// is rolled back all the same: the program is saved into it first, then run.
#[test]
fn a_record_without_its_program_gets_it_and_rolls_back() {
    let (lab, host, opts, before, d0, cs) = setup("proxy-mode-off", &["proxy.mode"]);
    let r = apply::apply(&host, &d0, &cs, &opts, &quiet).unwrap();
    assert_eq!(r.status, Outcome::Applied, "{:?}", r.error);
    let dir = lab.dir().join("state/changesets").join(&r.changeset);
    std::fs::remove_file(dir.join("run.sh")).unwrap();
    std::fs::remove_file(dir.join("params.json")).unwrap();
    let facts = osd_engine::discover::discover(&host, &opts.diagnose.discover).unwrap();
    let rb = apply::rollback(&host, &facts, Some(&r.changeset), false, &opts, &quiet).unwrap();
    assert_eq!(rb.status, RecordStatus::Undone, "{:?}", rb.error);
    let program = std::fs::metadata(dir.join("run.sh")).unwrap();
    assert_eq!(
        std::os::unix::fs::PermissionsExt::mode(&program.permissions()) & 0o777,
        0o700
    );
    assert_eq!(snapshot(&lab, &host), before);
}

#[test]
fn rollback_refuses_a_file_edited_since_unless_forced() {
    let (lab, host, opts, before, d0, cs) = setup("proxy-mode-off", &["proxy.mode"]);
    let r = apply::apply(&host, &d0, &cs, &opts, &quiet).unwrap();
    assert_eq!(r.status, Outcome::Applied);
    let conf = lab.info.odoo.conf.clone();
    let mut text = std::fs::read_to_string(&conf).unwrap();
    text.push_str("; edited after the fix\n");
    std::fs::write(&conf, &text).unwrap();
    let facts = osd_engine::discover::discover(&host, &opts.diagnose.discover).unwrap();
    let e = apply::rollback(&host, &facts, Some(&r.changeset), false, &opts, &quiet)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("edited by someone else") && e.contains("+; edited after the fix"),
        "{e}"
    );
    assert_no_secret(&lab, "the refusal", &e);
    apply::rollback(&host, &facts, Some(&r.changeset), true, &opts, &quiet).unwrap();
    assert_eq!(snapshot(&lab, &host), before);
}

#[test]
fn a_lifetime_written_by_sql_is_seen_as_not_in_force_and_fixed_by_a_restart() {
    // Facts §2: the running server caches the parameter; the cookie it sends shows its own value.
    let lab = Lab::up("short-lifetime");
    let host = connect(&lab);
    let opts = options(&lab);
    let mut client = postgres::Client::connect(&lab.pg_conninfo(), postgres::NoTls).unwrap();
    client.execute("UPDATE ir_config_parameter SET value = '86400' WHERE key = 'sessions.max_inactivity_seconds'", &[]).unwrap();
    let d = diagnose(&host, &opts.diagnose).unwrap();
    let f = d.finding("session.lifetime").unwrap();
    assert_eq!(f.status, osd_engine::checks::Status::Fail, "{f:#?}");
    assert!(
        f.summary.contains("not restarted") && f.summary.contains("10 minutes"),
        "{}",
        f.summary
    );
    assert!(
        f.evidence.iter().any(|e| e.excerpt.contains("Max-Age=600")),
        "{:#?}",
        f.evidence
    );

    let cs = plan(
        &host,
        &d,
        &request(&["session.lifetime"], &[("session.lifetime", "86400")]),
    )
    .unwrap();
    assert!(
        cs.files.is_empty() && cs.params.is_empty(),
        "only a restart is needed: {}",
        cs.preview()
    );
    assert!(matches!(
        cs.services.as_slice(),
        [osd_engine::change::ServiceAction::RestartOdoo { .. }]
    ));
    let r = apply::apply(&host, &d, &cs, &opts, &quiet).unwrap();
    assert_eq!(r.status, Outcome::Applied, "{:?}", r.error);
    let after = r.after.unwrap();
    assert_eq!(
        after.finding("session.lifetime").unwrap().status,
        osd_engine::checks::Status::Ok
    );
    assert!(plan(
        &host,
        &after,
        &request(&["session.lifetime"], &[("session.lifetime", "86400")])
    )
    .unwrap()
    .is_empty());
}

#[test]
fn a_session_made_before_the_restart_is_still_valid_after_it() {
    let lab = Lab::up("short-lifetime");
    let host = connect(&lab);
    let mut opts = options(&lab);
    let http = lab.info.nginx.http_port;
    opts.probe = Some(osd_engine::probe::ProbeOptions {
        login: lab.info.odoo.admin_login.clone(),
        password: osd_remote::Secret::new(lab.info.odoo.admin_password.clone()),
        public_url: Some(format!("http://odoo.lab.test:{http}")),
        resolve: vec![(
            "odoo.lab.test".into(),
            format!("127.0.0.1:{http}").parse().unwrap(),
        )],
    });
    opts.diagnose.probe = opts.probe.clone();
    let d = diagnose(&host, &opts.diagnose).unwrap();
    let cs = plan(&host, &d, &request(&["session.lifetime"], &[])).unwrap();
    let r = apply::apply(&host, &d, &cs, &opts, &quiet).unwrap();
    assert_eq!(r.status, Outcome::Applied, "{:?}", r.error);
    let v = r
        .verification
        .iter()
        .find(|v| v.check == "session.continuity")
        .expect("continuity verified");
    assert!(v.persisted, "{v:?}");
}

#[test]
fn a_database_on_the_local_socket_is_changed_and_restored_through_psql() {
    // The Debian package's shape (db_host = False): parameters travel in one psql transaction.
    let lab = Lab::up("socket-db");
    let host = connect(&lab);
    let opts = options(&lab);
    let before = snapshot(&lab, &host);
    let d = diagnose(&host, &opts.diagnose).unwrap();
    assert!(d.facts.db.seen().unwrap().databases[0].via_psql);
    let cs = plan(
        &host,
        &d,
        &request(&["session.lifetime"], &[("session.lifetime", "172800")]),
    )
    .unwrap();
    assert_eq!(cs.params.len(), 1);
    let r = apply::apply(&host, &d, &cs, &opts, &quiet).unwrap();
    assert_eq!(r.status, Outcome::Applied, "{:?}", r.error);
    assert!(
        r.verification
            .iter()
            .any(|v| v.detail.contains("Max-Age=172800") && v.persisted),
        "{:#?}",
        r.verification
    );
    let facts = osd_engine::discover::discover(&host, &opts.diagnose.discover).unwrap();
    apply::rollback(&host, &facts, None, false, &opts, &quiet).unwrap();
    assert_eq!(snapshot(&lab, &host), before);
}

/// The program's pid, from its first event ("started pid N in …").
fn program_pid(lab: &Lab, opts: &ApplyOptions, id: &str) -> i32 {
    let events = std::fs::read_to_string(lab.host_path(std::path::Path::new(&format!(
        "{}/changesets/{id}/events",
        opts.root()
    ))))
    .unwrap();
    let line = events.lines().find(|l| l.contains("\tstarted\t")).unwrap();
    line.split("pid ")
        .nth(1)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

fn program_alive(pid: i32) -> bool {
    std::path::Path::new(&format!("/proc/{pid}")).exists()
}

/// Cuts the connection once the host awaits the confirmation (guard long): returns the id.
fn pending(
    lab: &Lab,
    host: &Host,
    opts: &mut ApplyOptions,
    d0: &Diagnosis,
    cs: &ChangeSet,
) -> String {
    opts.guard = Some(std::time::Duration::from_secs(600));
    let cut = Mutex::new(false);
    let sink = |p: &Progress| {
        if let Progress::Step {
            step: Step::Verify, ..
        } = p
        {
            let mut c = cut.lock().unwrap();
            if !*c {
                assert!(lab.cut_ssh() > 0);
                *c = true;
            }
        }
    };
    match apply::apply(host, d0, cs, opts, &sink) {
        Err(EngineError::Interrupted { id, guard_secs, .. }) => {
            assert_eq!(guard_secs, 600);
            id
        }
        other => panic!("expected an interrupted apply, got {other:?}"),
    }
}

/// While the host waits for a confirmation, the next connection sees the change set first, a
/// second apply is refused with its id, and a manual rollback is carried out by the waiting
/// program itself (the guard never fights it): undone, byte-identical, nothing left running.
#[test]
fn a_pending_change_refuses_a_second_apply_and_yields_to_a_manual_rollback() {
    let (lab, host, mut opts, before, d0, cs) =
        setup("proxy-mode-off", &["proxy.mode", "proxy.canonical-host"]);
    let id = pending(&lab, &host, &mut opts, &d0, &cs);
    let pid = program_pid(&lab, &opts, &id);
    assert!(program_alive(pid), "the guard must still wait");

    let host2 = connect(&lab);
    let unsettled = record::unsettled(&host2, opts.root()).unwrap();
    assert_eq!(unsettled.len(), 1);
    assert_eq!(unsettled[0].id, id);
    assert!(
        unsettled[0].state.contains("waiting for the confirmation"),
        "{}",
        unsettled[0].state
    );
    assert!(unsettled[0]
        .changed
        .iter()
        .any(|c| c.contains("odoo.conf") || c.contains(".conf")));

    let d1 = diagnose(&host2, &opts.diagnose).unwrap();
    let cs1 = plan(
        &host2,
        &d1,
        &request(&["session.lifetime"], &[("session.lifetime", "86400")]),
    )
    .unwrap();
    let e = apply::apply(&host2, &d1, &cs1, &opts, &quiet).unwrap_err();
    assert!(matches!(e, EngineError::Locked { .. }), "{e}");
    assert!(e.to_string().contains(&id), "{e}");

    let facts = osd_engine::discover::discover(&host2, &opts.diagnose.discover).unwrap();
    let rb = apply::rollback(&host2, &facts, Some(&id), false, &opts, &quiet).unwrap();
    assert_eq!(rb.status, RecordStatus::Undone);
    assert_eq!(snapshot(&lab, &host2), before);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while program_alive(pid) {
        assert!(
            std::time::Instant::now() < deadline,
            "the program still runs after the rollback"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let hist = record::history(&host2, opts.root()).unwrap();
    assert_eq!(
        hist.iter().map(|r| r.status).collect::<Vec<_>>(),
        [RecordStatus::Undone]
    );
    assert!(record::unsettled(&host2, opts.root()).unwrap().is_empty());
}

/// The host "reboots" while it waits (its program killed): nothing undoes the change by itself
/// then, so the next connection lists it as unsettled and `rollback` finishes it with the same
/// program run in the foreground.
#[test]
fn a_host_reboot_mid_apply_is_finished_by_the_next_connection() {
    let (lab, host, mut opts, before, d0, cs) = setup("short-lifetime", &["session.lifetime"]);
    let id = pending(&lab, &host, &mut opts, &d0, &cs);
    let pid = program_pid(&lab, &opts, &id);
    kill_program(pid);

    let host2 = connect(&lab);
    let unsettled = record::unsettled(&host2, opts.root()).unwrap();
    assert_eq!(
        unsettled.iter().map(|u| u.id.as_str()).collect::<Vec<_>>(),
        [id.as_str()]
    );
    let facts = osd_engine::discover::discover(&host2, &opts.diagnose.discover).unwrap();
    let rb = apply::rollback(&host2, &facts, None, false, &opts, &quiet).unwrap();
    assert_eq!(
        (rb.changeset.as_str(), rb.status),
        (id.as_str(), RecordStatus::Undone)
    );
    assert_eq!(snapshot(&lab, &host2), before);
    let d = diagnose(&host2, &opts.diagnose).unwrap();
    assert_eq!(
        cookie_max_age(&d),
        cookie_max_age(&d0),
        "the old lifetime is in force again"
    );
    assert!(record::unsettled(&host2, opts.root()).unwrap().is_empty());
}

fn kill_program(pid: i32) {
    let st = std::process::Command::new("kill")
        .args(["-KILL", &pid.to_string()])
        .status()
        .unwrap();
    assert!(st.success());
}
