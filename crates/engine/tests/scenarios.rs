//! Every lab scenario, diagnosed over real SSH: the exact checks that are not ok, and the
//! healthy server all ok. A scenario seeds one broken thing (tests/lab/README.md); the checks
//! listed beside it are the ones a person must see.

mod support;

use osd_engine::checks::Status;
use osd_testlab::Lab;
use support::*;

fn expect(scenario: &str, ids: &[&str]) {
    let lab = Lab::up(scenario);
    let d = diagnose_lab(&lab);
    assert_eq!(
        not_ok(&d),
        ids,
        "scenario {scenario}: {:#?}",
        d.checks
            .iter()
            .filter(|c| c.status != Status::Ok)
            .collect::<Vec<_>>()
    );
    assert_eq!(
        d.facts.cost.executions, 2,
        "discovery must take exactly two command executions"
    );
}

#[test]
fn healthy_server_is_all_ok() {
    let lab = Lab::up("healthy");
    let d = diagnose_lab(&lab);
    assert!(not_ok(&d).is_empty(), "{:#?}", d.checks);
    assert_eq!(d.exit_code(), 0);
    assert_eq!(
        d.facts.odoo.version.map(|v| v.to_string()).as_deref(),
        Some("17.0")
    );
    // Observed, not assumed: the version came from the running server.
    assert!(matches!(
        d.facts.odoo.version_source,
        Some(osd_engine::version::VersionSource::RunningServer)
    ));
}

#[test]
fn short_lifetime() {
    expect("short-lifetime", &["session.lifetime"]);
}

#[test]
fn proxy_mode_off() {
    // Without proxy_mode the admin's login rewrote web.base.url to the upstream name: both show.
    expect("proxy-mode-off", &["proxy.mode", "proxy.canonical-host"]);
}

#[test]
fn missing_forwarded_headers() {
    expect(
        "missing-forwarded-headers",
        &["proxy.headers", "proxy.canonical-host"],
    );
}

#[test]
fn websocket_drops_inherited_headers() {
    let lab = Lab::up("websocket-drops-headers");
    let d = diagnose_lab(&lab);
    assert_eq!(not_ok(&d), ["proxy.headers"]);
    let f = d.finding("proxy.headers").unwrap();
    assert!(
        f.evidence
            .iter()
            .any(|e| e.excerpt.contains("/websocket") && e.excerpt.contains("drops the server's")),
        "the evidence must name the inheritance trap: {:#?}",
        f.evidence
    );
}

#[test]
fn http_only() {
    expect("http-only", &["proxy.https-redirect"]);
}

#[test]
fn no_canonical_host() {
    expect("no-canonical-host", &["proxy.canonical-host"]);
}

#[test]
fn cron_deletes_sessions() {
    let lab = Lab::up("cron-deletes-sessions");
    let d = diagnose_lab(&lab);
    assert_eq!(not_ok(&d), ["session.external-cleanup"]);
    let ev = &d.finding("session.external-cleanup").unwrap().evidence[0];
    assert!(ev.source.starts_with("/etc/cron.d/"), "{ev:?}");
    assert!(ev.excerpt.contains("-delete"), "{ev:?}");
}

#[test]
fn folklore_conf_keys_are_explained() {
    let lab = Lab::up("folklore-conf");
    let d = diagnose_lab(&lab);
    assert_eq!(not_ok(&d), ["conf.folklore"]);
    let f = d.finding("conf.folklore").unwrap();
    assert!(f
        .evidence
        .iter()
        .any(|e| e.excerpt.contains("session_timeout")
            && e.excerpt.contains("no version of Odoo reads it")));
    assert!(f
        .evidence
        .iter()
        .any(|e| e.excerpt.contains("session_store_type")));
}

#[test]
fn folklore_params() {
    expect("folklore-params", &["conf.folklore"]);
}

#[test]
fn idle_logout_module_with_a_short_delay() {
    let lab = Lab::up("idle-logout");
    let d = diagnose_lab(&lab);
    assert_eq!(not_ok(&d), ["session.idle-logout"]);
    let f = d.finding("session.idle-logout").unwrap();
    assert_eq!(f.status, Status::Fail, "{f:#?}");
    // The delay in words, and which of the two limits wins, from the database itself.
    assert!(f.summary.contains("5 minutes"), "{}", f.summary);
    assert!(
        f.evidence
            .iter()
            .any(|e| e.source == "ir_config_parameter in database odoo"
                && e.excerpt.contains("inactive_session_time_out_delay = 300")
                && e.excerpt
                    .contains("shorter than Odoo's idle lifetime here (7 days)")),
        "{:#?}",
        f.evidence
    );
    assert!(f.why.contains("the shorter wins"), "{}", f.why);
    assert_eq!(
        f.fixes[0]
            .choices
            .iter()
            .map(|c| c.value.as_str())
            .collect::<Vec<_>>(),
        ["14400", "28800", "86400"]
    );
}

#[test]
fn devices_revoked_on_odoo_18_are_reported_per_user_without_session_identifiers() {
    let lab = Lab::up("devices-revoked");
    let d = diagnose_lab(&lab);
    assert_eq!(not_ok(&d), ["session.revoked"], "{:#?}", d.checks);
    assert_eq!(d.facts.odoo.version.map(|v| v.major), Some(18));
    // What the lab seeded: the revocations (owner, who, when) and every session identifier.
    let seeded: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(lab.info.dir.join("devices-revoked.json")).unwrap(),
    )
    .unwrap();
    let at = |user: &str, by: &str| -> Vec<String> {
        let mut v: Vec<String> = seeded["revoked"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["user"] == user && (by.is_empty() || r["by"] == by))
            .map(|r| r["at"].as_str().unwrap().to_string())
            .collect();
        v.sort();
        v
    };
    let db = d.facts.db.seen().unwrap();
    let mut got = db.databases[0].revoked_devices.clone().expect("read on 18");
    got.sort_by(|a, b| a.user.cmp(&b.user));
    let row = |user: &str| got.iter().find(|r| r.user == user).cloned();
    // marc: one session by admin 2 days ago, one by himself yesterday, one 20 days ago.
    let marc = row("marc").expect("marc's revocations");
    assert_eq!((marc.recent, marc.total), (2, 3), "{marc:?}");
    assert_eq!(marc.by, ["admin", "marc"]);
    assert_eq!(&marc.last, at("marc", "").last().unwrap());
    let lea = row("lea").expect("lea's revocation");
    assert_eq!(
        (lea.recent, lea.total, lea.by.clone()),
        (1, 1, vec!["admin".to_string()])
    );
    assert_eq!(lea.last, at("lea", "")[0]);
    // admin: 40 days ago by himself counts in the total only; the row __system__ marked an hour
    // ago (Odoo 19's cleanup) is not a person's revocation and is left out.
    let admin = row("admin").expect("admin's old revocation");
    assert_eq!((admin.recent, admin.total), (0, 1), "{admin:?}");
    assert_eq!(admin.last, at("admin", "admin")[0]);
    assert_eq!(got.len(), 3, "{got:?}");

    let f = d.finding("session.revoked").unwrap();
    assert_eq!(f.status, Status::Warn, "{f:#?}");
    assert_eq!(
        f.summary,
        format!(
            "Sessions were ended on purpose in the last 7 days: 2 sessions of marc (last {} UTC), 1 session of lea (last {} UTC).",
            marc.last, lea.last
        )
    );
    // Informs only: no fix, and no invented steps for a person.
    assert!(f.fixes.is_empty());
    assert_eq!(f.remedy, osd_engine::checks::Remedy::None);
    assert!(
        f.why.contains("records no date for a password change"),
        "{}",
        f.why
    );
    // No session identifier anywhere: not in the diagnosis, not in the facts document.
    let all = format!(
        "{}\n{}",
        serde_json::to_string(&d).unwrap(),
        d.facts.to_json()
    );
    let ids = seeded["identifiers"].as_array().unwrap();
    assert_eq!(ids.len(), 8);
    for id in ids {
        let id = id.as_str().unwrap();
        assert!(!all.contains(id), "a session identifier leaked: {id}");
    }
}

#[test]
fn two_upstreams_without_stickiness() {
    expect("two-upstreams", &["proxy.sticky"]);
}

#[test]
fn memory_recycling() {
    expect("memory-recycling", &["workers.memory"]);
}

#[test]
fn workers_recycling_counts_only_the_log_lines_of_the_window() {
    // The lab appends Odoo's own recycle and kill lines to its log: some since this Odoo started,
    // some 3 h before (an earlier run, other limits), some 30 h old; plus noise. Only the first
    // count (tests/lab/lab WORKER_LOG_COUNTED).
    let lab = Lab::up("workers-recycling");
    let d = diagnose_lab(&lab);
    assert_eq!(not_ok(&d), ["workers.memory"], "{:#?}", d.checks);
    let log = d.facts.log.seen().expect("log facts");
    assert_eq!(
        (
            log.memory_recycles,
            log.memory_kills,
            log.cpu_limit_kills,
            log.worker_timeouts,
            log.cron_timeouts
        ),
        (3, 1, 1, 1, 1),
        "{log:#?}"
    );
    assert!(log.window_since_start, "Odoo started less than 24 h ago");
    assert!(!log.window_truncated);
    assert!(log.window_hours < 1.0, "{log:#?}");
    assert_eq!(log.workers, 2);
    let f = d.finding("workers.memory").unwrap();
    assert_eq!(f.status, Status::Fail);
    let all: String = f
        .evidence
        .iter()
        .map(|e| format!("{} | {}\n", e.source, e.excerpt))
        .collect();
    assert!(
        all.contains("3 recycles at limit_memory_soft, 1 request failed at limit_memory_hard (MemoryError), 1 request stopped at limit_time_cpu = 600 s, 1 worker killed at limit_time_real = 1200 s, 1 cron worker killed"),
        "{all}"
    );
    assert!(all.contains("since Odoo started"), "{all}");
    assert!(
        all.contains("3 memory recycles since Odoo started"),
        "{all}"
    );
    assert!(all.contains("across 2 workers: about one every"), "{all}");
}

#[test]
fn proxy_cache_on_odoos_pages() {
    // The whole site cached with Set-Cookie and Cache-Control ignored; /web/static's cache is fine.
    expect("proxy-cache", &["proxy.cache"]);
}

#[test]
fn dbfilter_mismatch() {
    expect("dbfilter-mismatch", &["db.filter"]);
}

#[test]
fn database_on_the_local_socket_only_is_read_with_psql_on_the_host() {
    // The Debian package's odoo.conf: db_host = False, no password (peer authentication).
    let lab = Lab::up("socket-db");
    let d = diagnose_lab(&lab);
    assert!(
        not_ok(&d).is_empty(),
        "{:#?}",
        d.checks
            .iter()
            .filter(|c| c.status != Status::Ok)
            .collect::<Vec<_>>()
    );
    let db = d.facts.db.seen().expect("database facts");
    assert!(db.databases[0].via_psql);
    assert_eq!(
        db.databases[0]
            .params
            .get("sessions.max_inactivity_seconds")
            .map(String::as_str),
        Some("604800")
    );
    assert_eq!(
        (d.facts.cost.executions, d.facts.cost.psql_runs),
        (2, 2),
        "two discovery scripts, two psql runs: the role's databases (Odoo's list_dbs, as a dbfilter is set) and the one it serves"
    );
}

/// An Odoo-like database for the read: the tables it asks, `base` at 17, and its own lifetime.
const ODOO_LIKE_SQL: &str = "CREATE TABLE ir_config_parameter (id serial PRIMARY KEY, key varchar, value text);
    CREATE TABLE ir_module_module (id serial PRIMARY KEY, name varchar, state varchar, latest_version varchar);
    CREATE TABLE ir_cron (id serial PRIMARY KEY, cron_name varchar, active boolean);
    INSERT INTO ir_module_module (name, state, latest_version) VALUES ('base', 'installed', '17.0.1.3');
    INSERT INTO ir_cron (cron_name, active) VALUES ('Base: Auto-vacuum internal data', true);";

#[test]
fn a_socket_instance_with_many_databases_reads_them_all_in_one_psql_run() {
    // The Debian package's layout on a server with many databases: without db_name, the prefork
    // cron visits every database of the role, so each one's lifetime is read.
    let lab = Lab::up("socket-db");
    let conf = lab.host_path(&lab.info.odoo.conf);
    let text = std::fs::read_to_string(&conf).unwrap();
    let without_db_name: String = text
        .lines()
        .filter(|l| !l.starts_with("db_name"))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(&conf, without_db_name).unwrap();
    let host = connect(&lab);
    let opts = options(&lab);
    let diagnosed = |host: &osd_remote::Host| {
        let before = host.exec_count();
        let d = osd_engine::diagnose(host, &opts).expect("diagnose the lab");
        (d, host.exec_count() - before)
    };
    let (few, few_execs) = diagnosed(&host);
    assert_eq!(few.facts.cost.psql_runs, 2, "{:?}", few.facts.cost);

    // 24 more: Odoo-like ones with their own lifetime (a name with quotes and spaces among
    // them) and one that is not Odoo's.
    let mut pg = postgres::Client::connect(&lab.pg_conninfo(), postgres::NoTls).unwrap();
    let mut odoo_like: Vec<(String, String)> = (0..22)
        .map(|i| (format!("many_{i:02}"), (3600 + i).to_string()))
        .collect();
    odoo_like.push(("it's \"odd\" one".into(), "7777".into()));
    for (name, lifetime) in &odoo_like {
        pg.batch_execute(&format!(
            "CREATE DATABASE \"{}\" TEMPLATE template0",
            name.replace('"', "\"\"")
        ))
        .unwrap();
        let p = &lab.info.postgres;
        let mut db = postgres::Config::new();
        db.host(&p.host)
            .port(p.port)
            .user(&p.user)
            .password(&p.password)
            .dbname(name);
        let mut c = db.connect(postgres::NoTls).unwrap();
        c.batch_execute(ODOO_LIKE_SQL).unwrap();
        c.execute(
            "INSERT INTO ir_config_parameter (key, value) VALUES ('sessions.max_inactivity_seconds', $1)",
            &[lifetime],
        )
        .unwrap();
    }
    pg.batch_execute("CREATE DATABASE \"not odoo\" TEMPLATE template0")
        .unwrap();
    let (many, many_execs) = diagnosed(&host);
    let cost = &many.facts.cost;
    assert_eq!(
        (many_execs, cost.psql_runs),
        (few_execs, 2),
        "the same executions whatever the number of databases: the listing and one run for all \
         ({cost:?})"
    );

    // One the role cannot connect to: psql leaves the script there, one more run reads the rest.
    for sql in [
        "CREATE DATABASE many_refused TEMPLATE template0",
        "REVOKE CONNECT ON DATABASE many_refused FROM PUBLIC, odoo",
    ] {
        pg.batch_execute(sql).unwrap();
    }
    let (refused, refused_execs) = diagnosed(&host);
    assert_eq!(
        (refused_execs, refused.facts.cost.psql_runs),
        (few_execs + 1, 3),
        "{:?}",
        refused.facts.cost
    );
    assert_eq!(
        refused.facts.db.seen().unwrap().cleanup_only,
        many.facts.db.seen().unwrap().cleanup_only
    );

    let db = many.facts.db.seen().expect("database facts");
    assert!(db.databases[0].via_psql);
    assert_eq!(db.databases[0].name, "odoo");
    let read: std::collections::BTreeMap<&str, Option<&str>> = db
        .cleanup_only
        .iter()
        .map(|(n, l)| (n.as_str(), l.as_deref()))
        .collect();
    for (name, lifetime) in &odoo_like {
        assert_eq!(
            read.get(name.as_str()),
            Some(&Some(lifetime.as_str())),
            "{read:#?}"
        );
    }
    // Odoo's cron skips a database it cannot read, as the diagnosis does.
    assert!(
        !read.contains_key("not odoo") && !read.contains_key("many_refused"),
        "{read:#?}"
    );
    assert_eq!(read.len(), odoo_like.len(), "{read:#?}");
}

#[test]
fn a_sudo_login_sees_what_root_sees_and_a_login_without_sudo_is_told_why_not() {
    let lab = Lab::up("short-lifetime");
    let as_root = diagnose_lab(&lab);
    let sudo_host = connect_as(&lab, &lab.info.users.sudo_nopasswd.login);
    let as_sudo = osd_engine::diagnose(&sudo_host, &options(&lab)).unwrap();
    assert_eq!(not_ok(&as_sudo), not_ok(&as_root));
    let plain = connect_as(&lab, &lab.info.users.nosudo.login);
    let e = osd_engine::diagnose(&plain, &options(&lab))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("needs root") && e.contains("osdlab-nosudo"),
        "{e}"
    );
}

/// The session.store finding of a scenario, with its remedy's words (why and steps) in one text.
fn store_finding(d: &osd_engine::Diagnosis) -> (osd_engine::checks::Finding, String) {
    use osd_engine::checks::Remedy;
    let f = d.finding("session.store").unwrap().clone();
    let Remedy::NeedsYou { why, steps } = &f.remedy else {
        panic!("a sessions folder that cannot keep sessions needs a person: {f:#?}");
    };
    let words = format!("{why}\n{}", steps.join("\n"));
    (f, words)
}

/// What `df` says here (the lab is on this machine): (total, available) bytes.
fn df_bytes(path: &std::path::Path) -> (u64, u64) {
    let out = std::process::Command::new("df")
        .args(["-P", "-B1"])
        .arg(path)
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let w: Vec<&str> = text.lines().nth(1).unwrap().split_whitespace().collect();
    (w[1].parse().unwrap(), w[3].parse().unwrap())
}

#[test]
fn sessions_filesystem_full_is_a_fail_with_the_numbers_and_where_to_look() {
    let lab = Lab::up("sessions-full");
    let d = diagnose_lab(&lab);
    assert_eq!(not_ok(&d), ["session.store"]);
    let (f, words) = store_finding(&d);
    assert_eq!(f.status, Status::Fail);
    let data_dir = &lab.info.odoo.data_dir;
    let (total, free) = df_bytes(data_dir);
    let shown = osd_engine::report::text::bytes;
    assert!(
        f.summary.contains("is full")
            && f.summary
                .contains(&format!("{} free of {}", shown(free), shown(total))),
        "{f:#?}"
    );
    let du = format!("du -xsh {}/* | sort -h | tail", data_dir.display());
    assert!(words.contains(&du), "{words}");
    assert!(f.why.contains("filestore"), "{f:#?}");
}

#[test]
fn sessions_filesystem_read_only_is_a_fail_that_says_how_to_remount() {
    let lab = Lab::up("sessions-readonly");
    let d = diagnose_lab(&lab);
    assert_eq!(not_ok(&d), ["session.store"]);
    let (f, words) = store_finding(&d);
    assert_eq!(f.status, Status::Fail);
    let dir = lab.info.odoo.sessions_dir.display().to_string();
    assert!(
        f.summary.contains("read-only") && f.summary.contains(&dir),
        "{f:#?}"
    );
    assert!(
        words.contains(&format!("mount -o remount,rw {dir}")),
        "{words}"
    );
    assert!(
        f.evidence
            .iter()
            .any(|e| e.excerpt.split(',').any(|o| o == "ro")),
        "the mount options are evidence: {f:#?}"
    );
}

#[test]
fn session_files_owned_by_root_are_counted_and_the_chown_is_given() {
    let lab = Lab::up("sessions-root-owned");
    let d = diagnose_lab(&lab);
    assert_eq!(not_ok(&d), ["session.store"]);
    let (f, words) = store_finding(&d);
    assert_eq!(f.status, Status::Fail);
    assert!(f.summary.contains("3 files owned by root"), "{f:#?}");
    let dir = lab.info.odoo.sessions_dir.display().to_string();
    assert!(words.contains(&format!("chown -R odoo: {dir}")), "{words}");
}
