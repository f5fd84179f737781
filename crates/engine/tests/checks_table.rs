//! Every check and every fix planner over captured facts, without a lab: milliseconds, no root.
//!
//! The fixtures are facts documents the lab tests wrote (`UPDATE_FACTS_FIXTURES=1 cargo test -p
//! osd-engine --test scenarios --test shapes`): one per lab scenario and per real host shape.
//! The lab tests prove a document judges exactly like the live host; this table proves, per
//! fixture, which checks are not ok, that every check has an ok and a not-ok case, and that
//! every fix planner plans a change where its check fails. A few cases are a captured document
//! with one thing changed (named `<fixture> + <change>`): the change is spelled out below.

use osd_engine::change::plan::{plan, FixRequest};
use osd_engine::change::workspace::MemFiles;
use osd_engine::checks::{CheckId, Remedy, Status};
use osd_engine::facts::Facts;
use osd_engine::registry::{INFORM_ONLY, REGISTRY};
use osd_engine::Diagnosis;
use std::collections::BTreeMap;
use std::path::Path;

/// Each captured fixture and the checks a person must see there (not ok = warn, fail, unknown).
const CAPTURED: &[(&str, &[&str])] = &[
    ("healthy", &[]),
    ("short-lifetime", &["session.lifetime"]),
    ("proxy-mode-off", &["proxy.mode", "proxy.canonical-host"]),
    (
        "missing-forwarded-headers",
        &["proxy.headers", "proxy.canonical-host"],
    ),
    ("websocket-drops-headers", &["proxy.headers"]),
    ("http-only", &["proxy.https-redirect"]),
    ("no-canonical-host", &["proxy.canonical-host"]),
    ("cron-deletes-sessions", &["session.external-cleanup"]),
    ("folklore-conf", &["conf.folklore"]),
    ("folklore-params", &["conf.folklore"]),
    ("idle-logout", &["session.idle-logout"]),
    // Odoo 18 whose device log holds sessions people revoked in the last days: it informs.
    ("devices-revoked", &["session.revoked"]),
    ("two-upstreams", &["proxy.sticky"]),
    ("memory-recycling", &["workers.memory"]),
    // Recycles and kills in the log since Odoo started (and older ones that do not count).
    ("workers-recycling", &["workers.memory"]),
    ("dbfilter-mismatch", &["db.filter"]),
    // The whole site cached with Set-Cookie and Cache-Control ignored (and /web/static cached).
    ("proxy-cache", &["proxy.cache"]),
    ("socket-db", &[]),
    ("shared-cluster-17", &["session.lifetime", "conf.folklore"]),
    // Started by hand beside a supervised 17: nothing restarts them.
    ("shared-cluster-18", &["service.found"]),
    ("shared-cluster-19", &["service.found"]),
    // Down, and (never having served anyone) no sessions folder yet.
    (
        "crash-loop",
        &["service.found", "session.store", "conf.syntax"],
    ),
    ("debian-systemd", &["session.store"]),
    (
        "systemd-crash-loop",
        &["service.found", "session.store", "conf.syntax"],
    ),
    // The sessions folder cannot keep sessions (issue 12): a full filesystem, a read-only mount,
    // session files left by a start as root.
    ("sessions-full", &["session.store"]),
    ("sessions-readonly", &["session.store"]),
    ("sessions-root-owned", &["session.store"]),
    // The install script's nginx: $host, plain HTTP, base URL not frozen, no data_dir.
    (
        "install-script-systemd",
        &[
            "session.store",
            "proxy.headers",
            "proxy.https-redirect",
            "proxy.canonical-host",
        ],
    ),
];

fn fixture_dir() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/facts")
}

fn json(name: &str) -> serde_json::Value {
    let path = fixture_dir().join(format!("{name}.json"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap()
}

fn facts(doc: &serde_json::Value, name: &str) -> Facts {
    Facts::from_json(&doc.to_string(), name).unwrap_or_else(|e| panic!("{e}"))
}

/// Replaces `from` with `to` in a string field of the document (it must be there).
fn edit(doc: &mut serde_json::Value, pointer: &str, from: &str, to: &str) {
    let field = doc
        .pointer_mut(pointer)
        .unwrap_or_else(|| panic!("{pointer} is not in the fixture"));
    let text = field.as_str().expect("a string field").to_string();
    assert!(text.contains(from), "{pointer} has no {from:?}");
    *field = serde_json::Value::String(text.replace(from, to));
}

const CONF: &str = "/odoo/config/text_redacted";
const DUMP: &str = "/nginx/value/dump";
const SESSIONS: &str = "/sessions/value";

/// Cases no lab scenario seeds on its own: a captured document with one thing changed.
fn derived() -> Vec<(String, Facts, Vec<&'static str>)> {
    let mut out = Vec::new();
    let mut case = |base: &str, change: &str, f: &dyn Fn(&mut serde_json::Value), not_ok| {
        let mut doc = json(base);
        f(&mut doc);
        let name = format!("{base} + {change}");
        out.push((name.clone(), facts(&doc, &name), not_ok));
    };
    case(
        "healthy",
        "no data_dir",
        &|d| {
            let conf = d.pointer(CONF).unwrap().as_str().unwrap().to_string();
            let line = conf
                .lines()
                .find(|l| l.starts_with("data_dir"))
                .expect("the lab sets data_dir")
                .to_string();
            edit(d, CONF, &format!("{line}\n"), "");
        },
        vec!["session.store"],
    );
    // Worker recycles and kills read from the log (workers = 2 in the lab's healthy conf).
    // Soft-limit recycles warn above one per worker per hour, judged over an hour or more.
    let recycles = |n: u64, hours: f64, since_start: bool| {
        move |d: &mut serde_json::Value| {
            let l = d.pointer_mut("/log/value").unwrap();
            l["memory_recycles"] = n.into();
            l["window_hours"] = hours.into();
            l["window_since_start"] = since_start.into();
            l["window_from"] = "2026-03-01 10:00:00".into();
            l["workers"] = 2.into();
        }
    };
    case(
        "healthy",
        "60 memory recycles in 24 h",
        &recycles(60, 24.0, false),
        vec!["workers.memory"],
    );
    case(
        "healthy",
        "37 memory recycles in 24 h",
        &recycles(37, 24.0, false),
        vec![],
    );
    case(
        "healthy",
        "30 memory recycles since a start 10 minutes ago",
        &recycles(30, 10.0 / 60.0, true),
        vec![],
    );
    for kind in [
        "memory_kills",
        "cpu_limit_kills",
        "worker_timeouts",
        "cron_timeouts",
    ] {
        case(
            "healthy",
            kind,
            &move |d: &mut serde_json::Value| {
                let l = d.pointer_mut("/log/value").unwrap();
                l[kind] = 1.into();
                l["window_hours"] = 24.0.into();
                l["window_from"] = "2026-03-01 10:00:00".into();
            },
            vec!["workers.memory"],
        );
    }
    case(
        "healthy",
        "max_cron_threads = 0",
        &|d| edit(d, CONF, "max_cron_threads = 1\n", "max_cron_threads = 0\n"),
        vec!["session.cleanup-runs"],
    );
    case(
        "healthy",
        "/websocket not routed to the gevent port",
        &|d| {
            edit(
                d,
                DUMP,
                "location /websocket {",
                "location /websocket-old {",
            )
        },
        vec!["proxy.websocket"],
    );
    case(
        "healthy",
        "plain HTTP served, not redirected",
        &|d| {
            let dump = d.pointer(DUMP).unwrap().as_str().unwrap().to_string();
            let rewrite = dump
                .lines()
                .find(|l| l.trim_start().starts_with("rewrite ^(.*) https://"))
                .expect("the lab redirects plain HTTP")
                .to_string();
            edit(
                d,
                DUMP,
                &rewrite,
                "    location / { proxy_pass http://odoo; proxy_set_header X-Forwarded-Host $http_host; proxy_set_header X-Forwarded-Proto $scheme; proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for; }",
            )
        },
        // …and the Secure cookie of HTTPS is lost by whoever lands on plain HTTP.
        vec!["proxy.https-redirect", "proxy.cookie-flags"],
    );
    // Started by hand: a fix that changes odoo.conf needs a restart nothing can do safely.
    for base in ["shared-cluster-18", "shared-cluster-19"] {
        case(
            base,
            "max_cron_threads = 0",
            &|d| edit(d, CONF, "max_cron_threads = 1\n", "max_cron_threads = 0\n"),
            vec!["service.found", "session.cleanup-runs"],
        );
    }
    // The sessions folder's filesystem has room but no inodes left (many small files).
    case(
        "healthy",
        "sessions filesystem out of inodes",
        &|d| {
            let sp = d.pointer_mut(SESSIONS).unwrap();
            sp["space"] = serde_json::json!({"bytes_total": 8_000_000_000u64, "bytes_free": 4_000_000_000u64,
                "inodes_total": 500_000, "inodes_free": 1_200});
        },
        vec!["session.store"],
    );
    // The sessions folder on a memory filesystem mounted for it (lost at every reboot).
    case(
        "healthy",
        "sessions folder on a tmpfs",
        &|d| {
            let sp = d.pointer_mut(SESSIONS).unwrap();
            let path = sp["path"].as_str().unwrap().to_string();
            sp["fs_type"] = serde_json::json!("tmpfs");
            sp["mount_point"] = serde_json::json!(path);
        },
        vec!["session.store"],
    );
    // Root-owned session files where odoo.conf sets no data_dir: pinning data_dir would not
    // give the sessions back, so the fix waits for a person.
    case(
        "sessions-root-owned",
        "no data_dir",
        &|d| {
            let conf = d.pointer(CONF).unwrap().as_str().unwrap().to_string();
            let line = conf
                .lines()
                .find(|l| l.starts_with("data_dir"))
                .expect("the lab sets data_dir")
                .to_string();
            edit(d, CONF, &format!("{line}\n"), "");
        },
        vec!["session.store"],
    );
    // data_dir inside /tmp, a tmpfs: the move of data_dir is the way out.
    case(
        "healthy",
        "data_dir inside a tmpfs /tmp",
        &|d| {
            let sp = d.pointer_mut(SESSIONS).unwrap();
            sp["fs_type"] = serde_json::json!("tmpfs");
            sp["mount_point"] = serde_json::json!("/tmp");
        },
        vec!["session.store"],
    );
    // proxy_mode off and no X-Forwarded-Host: proxy_mode alone would change nothing.
    case(
        "proxy-mode-off",
        "no X-Forwarded-Host",
        &|d| edit(d, DUMP, "proxy_set_header X-Forwarded-Host $http_host;", ""),
        vec!["proxy.mode", "proxy.headers", "proxy.canonical-host"],
    );
    case(
        "healthy",
        "no proxy_cookie_flags",
        &|d| {
            edit(
                d,
                DUMP,
                "        proxy_cookie_flags session_id samesite=lax secure;\n",
                "",
            )
        },
        vec!["proxy.cookie-flags"],
    );
    // Only the static files cached: what the cache is fine for.
    case(
        "proxy-cache",
        "cache only on /web/static",
        &|d| {
            edit(
                d,
                DUMP,
                "        proxy_cache odoo_cache;\n        proxy_cache_valid 200 302 10m;\n        proxy_cache_valid 404 1m;\n        proxy_ignore_headers Set-Cookie Cache-Control;\n        proxy_cache_use_stale error timeout updating;\n",
                "",
            )
        },
        vec![],
    );
    // The session cookie rewritten to a domain users never type: browsers refuse it.
    case(
        "healthy",
        "proxy_cookie_domain to another domain",
        &|d| {
            edit(
                d,
                DUMP,
                "        proxy_redirect off;\n",
                "        proxy_redirect off;\n        proxy_cookie_domain odoo.internal erp.example.com;\n",
            )
        },
        vec!["proxy.cache"],
    );
    // A CDN in front, seen by the test login: the app says what to set there.
    case(
        "healthy",
        "a CDN in front",
        &|d| {
            d["probe"] = serde_json::json!({
                "direct": null,
                "direct_skipped": "not needed here",
                "public": {
                    "url": "https://odoo.lab.test",
                    "final_url": "https://odoo.lab.test",
                    "redirects": [],
                    "cookie": null,
                    "session_holds": true,
                    "checks_made": 3,
                    "error": null,
                    "cache_headers": [["cf-cache-status", "DYNAMIC"], ["via", "1.1 cloudflare"]]
                },
                "base_url_after_login": null
            });
        },
        vec!["proxy.cache"],
    );
    // The idle-logout module with a day's delay: a policy, not a cause; with sessions in Redis it
    // cannot work at all (it reads the session file's time).
    let idle = |d: &mut serde_json::Value, value: &str| {
        *d.pointer_mut("/db/value/databases/0/params/inactive_session_time_out_delay")
            .expect("the idle-logout lab sets the delay") = value.into();
    };
    case(
        "idle-logout",
        "a delay of 1 day",
        &|d| idle(d, "86400"),
        vec![],
    );
    case(
        "idle-logout",
        "a delay of 0 (switched off)",
        &|d| idle(d, "0"),
        vec![],
    );
    case(
        "idle-logout",
        "session_redis installed",
        &|d| {
            idle(d, "86400");
            d.pointer_mut("/db/value/databases/0/modules")
                .unwrap()
                .as_object_mut()
                .unwrap()
                .insert("session_redis".into(), "installed".into());
        },
        vec!["session.idle-logout"],
    );
    case(
        "idle-logout",
        "a browser timer whose delay is not read",
        &|d| {
            let mods = d
                .pointer_mut("/db/value/databases/0/modules")
                .unwrap()
                .as_object_mut()
                .unwrap();
            mods.insert("auth_session_timeout".into(), "uninstalled".into());
            mods.insert("auto_logout_idle_user_odoo".into(), "installed".into());
        },
        vec!["session.idle-logout"],
    );
    // Revoked devices: only older ones (nothing recent), or an 18 database without a device log.
    case(
        "devices-revoked",
        "none in the last 7 days",
        &|d| {
            for r in d
                .pointer_mut("/db/value/databases/0/revoked_devices")
                .unwrap()
                .as_array_mut()
                .unwrap()
            {
                r["recent"] = 0.into();
                r["by"] = serde_json::json!([]);
            }
        },
        vec![],
    );
    case(
        "devices-revoked",
        "no device log",
        &|d| {
            *d.pointer_mut("/db/value/databases/0/revoked_devices")
                .unwrap() = serde_json::Value::Null
        },
        vec!["session.revoked"],
    );
    out
}

fn not_ok(d: &Diagnosis) -> Vec<&'static str> {
    d.checks
        .iter()
        .filter(|c| !matches!(c.status, Status::Ok | Status::Skip))
        .map(|c| c.id.as_str())
        .collect()
}

/// Every case: captured fixtures, then derived ones.
fn cases() -> Vec<(String, Facts, Vec<&'static str>)> {
    let mut all: Vec<_> = CAPTURED
        .iter()
        .map(|(name, want)| (name.to_string(), facts(&json(name), name), want.to_vec()))
        .collect();
    all.extend(derived());
    all
}

#[test]
fn every_fixture_is_listed() {
    for entry in std::fs::read_dir(fixture_dir()).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        let stem = name.trim_end_matches(".json");
        assert!(
            CAPTURED.iter().any(|(n, _)| *n == stem),
            "{name} has no row in CAPTURED"
        );
    }
}

#[test]
fn each_case_shows_exactly_its_problems() {
    for (name, facts, want) in cases() {
        let d = Diagnosis::from_facts(facts);
        assert_eq!(not_ok(&d), want, "{name}: {:#?}", d.checks);
    }
}

#[test]
fn every_check_has_an_ok_and_a_not_ok_case() {
    let mut seen: BTreeMap<CheckId, (bool, bool)> = BTreeMap::new();
    for (_, facts, _) in cases() {
        for f in Diagnosis::from_facts(facts).checks {
            let e = seen.entry(f.id).or_default();
            match f.status {
                Status::Ok => e.0 = true,
                Status::Warn | Status::Fail => e.1 = true,
                _ => {}
            }
        }
    }
    for c in REGISTRY {
        assert_eq!(
            seen.get(&c.id),
            Some(&(true, true)),
            "{}: (ok case, not-ok case)",
            c.id
        );
    }
}

/// The files a plan may read for this case: those the document carries (cron files included).
fn files_of(facts: &Facts) -> MemFiles {
    MemFiles::from_facts(facts)
}

/// The checks a change set changes something for.
fn changed_checks(cs: &osd_engine::change::ChangeSet) -> Vec<CheckId> {
    let mut out: Vec<CheckId> = cs.files.iter().flat_map(|f| f.checks.clone()).collect();
    out.extend(cs.params.iter().map(|p| p.check));
    out.sort();
    out.dedup();
    out
}

#[test]
fn every_fix_plans_a_change_where_its_check_fails() {
    let cases = cases();
    for check in REGISTRY.iter().filter(|c| c.fixable()) {
        let mut planned = Vec::new();
        for (name, facts, _) in &cases {
            let files = files_of(facts);
            let d = Diagnosis::from_facts(facts.clone());
            let finding = d.finding(check.id).unwrap();
            if !matches!(finding.status, Status::Fail | Status::Warn) {
                continue;
            }
            let req = FixRequest {
                checks: vec![check.id],
                values: BTreeMap::new(),
            };
            match (&finding.remedy, plan(&files, &d, &req)) {
                (Remedy::Here { also }, Ok(cs)) => {
                    assert!(
                        !cs.is_empty(),
                        "{name}: {} is fixable here but plans nothing",
                        check.id
                    );
                    let mut allowed = also.clone();
                    allowed.push(check.id);
                    assert!(
                        changed_checks(&cs).iter().all(|c| allowed.contains(c)),
                        "{name}: {} plans changes for checks it does not name: {:?}",
                        check.id,
                        changed_checks(&cs)
                    );
                    assert!(
                        also.iter().all(|c| changed_checks(&cs).contains(c)),
                        "{name}: {} names {also:?} but does not change them",
                        check.id
                    );
                    planned.push(name.clone());
                }
                (Remedy::NeedsYou { why, steps }, Err(e)) => {
                    assert!(!why.is_empty() && !steps.is_empty(), "{name}: {}", check.id);
                    assert!(
                        e.to_string().contains(&finding.title)
                            && e.to_string().contains(why.as_str()),
                        "{name}: refusing {} says its title and why: {e}",
                        check.id
                    );
                }
                (r, p) => panic!("{name}: {} remedy {r:?} but planning gave {p:?}", check.id),
            }
        }
        assert!(
            !planned.is_empty(),
            "{}: no case where its fix plans a change",
            check.id
        );
    }
}

#[test]
fn only_problems_have_a_remedy_and_each_needs_you_says_what_to_do() {
    for (name, facts, _) in cases() {
        for f in Diagnosis::from_facts(facts).checks {
            match (&f.status, &f.remedy) {
                (Status::Ok | Status::Skip, Remedy::None) => {}
                (Status::Ok | Status::Skip, r) => panic!("{name}: {} is fine but has {r:?}", f.id),
                // Inform-only (a person revoked a device): nothing to fix, no steps invented.
                (_, Remedy::None) if INFORM_ONLY.contains(&f.id) => {
                    assert!(
                        f.fixes.is_empty(),
                        "{name}: {} informs but offers a fix",
                        f.id
                    )
                }
                (_, Remedy::None) => panic!("{name}: {} is a problem without a remedy", f.id),
                (_, Remedy::NeedsYou { why, steps }) => assert!(
                    !why.is_empty() && steps.len() >= 2,
                    "{name}: {} needs you without a why or steps",
                    f.id
                ),
                (_, Remedy::Here { .. }) => {}
            }
        }
    }
}

fn case(name: &str) -> Diagnosis {
    let (_, facts, _) = cases().into_iter().find(|(n, _, _)| n == name).unwrap();
    Diagnosis::from_facts(facts)
}

#[test]
fn https_redirect_without_https_needs_a_certificate_from_you() {
    for name in ["http-only", "install-script-systemd"] {
        let d = case(name);
        let f = d.finding(CheckId::ProxyHttpsRedirect).unwrap();
        let Remedy::NeedsYou { why, steps } = &f.remedy else {
            panic!("{name}: {:?}", f.remedy);
        };
        assert!(
            why.contains("plain HTTP") && why.contains("odoo.lab.test"),
            "{why}"
        );
        let all = steps.join("\n");
        // The served name, in the command a person runs; then the two other certificate kinds.
        assert!(all.contains("certbot --nginx -d odoo.lab.test"), "{all}");
        assert!(all.contains("not a public name"), "{all}");
        assert!(
            all.contains("listen 443 ssl") && all.contains("ssl_certificate_key"),
            "{all}"
        );
        assert!(all.contains("self-signed"), "{all}");
        assert!(
            steps
                .last()
                .unwrap()
                .contains("diagnose again: the app adds the redirect"),
            "{all}"
        );
        let e = plan(
            &files_of(&d.facts),
            &d,
            &FixRequest {
                checks: vec![f.id],
                values: BTreeMap::new(),
            },
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("HTTP redirects to HTTPS") && e.contains("certbot --nginx -d odoo.lab.test"),
            "{e}"
        );
    }
}

#[test]
fn a_fix_that_needs_a_restart_of_a_hand_started_odoo_needs_you() {
    for name in [
        "shared-cluster-18 + max_cron_threads = 0",
        "shared-cluster-19 + max_cron_threads = 0",
    ] {
        let d = case(name);
        let f = d.finding(CheckId::SessionCleanupRuns).unwrap();
        let Remedy::NeedsYou { why, steps } = &f.remedy else {
            panic!("{name}: {:?}", f.remedy);
        };
        assert!(why.contains("started by hand"), "{why}");
        let all = steps.join("\n");
        assert!(
            all.contains("max_cron_threads = 2"),
            "the change to make by hand: {all}"
        );
        assert!(
            all.contains(&d.facts.odoo.command),
            "the command line to start it again: {all}"
        );
    }
}

#[test]
fn proxy_mode_alone_pulls_in_the_headers_it_needs_and_says_so() {
    let d = case("proxy-mode-off + no X-Forwarded-Host");
    let f = d.finding(CheckId::ProxyMode).unwrap();
    assert_eq!(
        f.remedy,
        Remedy::Here {
            also: vec![CheckId::ProxyHeaders]
        }
    );
    let cs = plan(
        &files_of(&d.facts),
        &d,
        &FixRequest {
            checks: vec![CheckId::ProxyMode],
            values: BTreeMap::new(),
        },
    )
    .unwrap();
    assert_eq!(
        changed_checks(&cs),
        vec![CheckId::ProxyMode, CheckId::ProxyHeaders]
    );
    assert!(
        cs.reasons.iter().any(|r| r.check == CheckId::ProxyMode
            && r.text
                .contains("Also fixes \u{201c}The proxy tells Odoo the real address\u{201d}")),
        "{:#?}",
        cs.reasons
    );
    // Where the headers are there, proxy_mode stands alone.
    let d = case("proxy-mode-off");
    assert_eq!(
        d.finding(CheckId::ProxyMode).unwrap().remedy,
        Remedy::Here { also: vec![] }
    );
}

#[test]
fn a_planned_fix_makes_its_check_pass_on_the_changed_files() {
    // The conf fixes, judged again on the facts with the planned odoo.conf: the plan and the
    // judge agree on what "fixed" means.
    for (name, id) in [
        (
            "healthy + max_cron_threads = 0",
            CheckId::SessionCleanupRuns,
        ),
        ("healthy + no data_dir", CheckId::SessionStore),
        ("memory-recycling", CheckId::WorkersMemory),
        ("folklore-conf", CheckId::ConfFolklore),
    ] {
        let (_, facts, _) = cases().into_iter().find(|(n, _, _)| n == name).unwrap();
        let d = Diagnosis::from_facts(facts.clone());
        let req = FixRequest {
            checks: vec![id],
            values: BTreeMap::new(),
        };
        let cs = plan(&files_of(&facts), &d, &req).unwrap();
        let conf = cs
            .files
            .iter()
            .find(|f| f.kind == osd_engine::change::FileKind::OdooConf)
            .unwrap_or_else(|| panic!("{name}: {id} changes odoo.conf"));
        let mut doc = serde_json::to_value(&facts).unwrap();
        *doc.pointer_mut(CONF).unwrap() =
            serde_json::Value::String(String::from_utf8(conf.after.clone()).unwrap());
        let after = Diagnosis::from_facts(self::facts(&doc, name));
        assert_eq!(
            after.finding(id).unwrap().status,
            Status::Ok,
            "{name}: {id} after its fix: {:#?}",
            after.finding(id)
        );
    }
}

#[test]
fn a_facts_document_of_another_schema_is_refused_with_what_to_do() {
    let mut doc = json("healthy");
    doc["schema"] = serde_json::json!(99);
    let e = Facts::from_json(&doc.to_string(), "sent.json")
        .unwrap_err()
        .to_string();
    assert!(e.contains("sent.json") && e.contains("schema 99"), "{e}");
    let e = Facts::from_json("{\"host\": 1}", "sent.json")
        .unwrap_err()
        .to_string();
    assert!(e.contains("sent.json") && e.contains("schema"), "{e}");
}

#[test]
fn a_folklore_key_is_commented_out_under_its_own_comment_with_a_dated_note() {
    let (_, facts, _) = cases()
        .into_iter()
        .find(|(n, _, _)| n == "folklore-conf")
        .unwrap();
    let d = Diagnosis::from_facts(facts.clone());
    let req = FixRequest {
        checks: vec![CheckId::ConfFolklore],
        values: BTreeMap::new(),
    };
    let cs = plan(&files_of(&facts), &d, &req).unwrap();
    let after = String::from_utf8(cs.files[0].after.clone()).unwrap();
    // The person's comment still sits above what it explains; the key stays readable.
    let block = after
        .split("; keep users logged in for one day\n")
        .nth(1)
        .expect("the comment above the key is kept");
    let mut lines = block.lines();
    let note = lines.next().unwrap();
    assert!(
        note.starts_with("; Commented out by Odoo Session Doctor on 20")
            && note.contains("Odoo never reads session_timeout"),
        "{after}"
    );
    assert_eq!(lines.next(), Some("; session_timeout = 86400"), "{after}");
    assert!(cs.files[0].diff.contains("+; session_timeout = 86400"));
    assert!(cs.files[0].diff.contains("-session_timeout = 86400"));
}

/// The cache fix turns nginx's cache off where Odoo's per-user pages are served, lets Odoo's
/// Set-Cookie and Cache-Control through there, keeps the cache of /web/static, and the check is
/// ok when judged again on the planned site file.
#[test]
fn the_cache_fix_keeps_static_files_cached_and_makes_the_check_pass() {
    let name = "proxy-cache";
    let (_, facts, _) = cases().into_iter().find(|(n, _, _)| n == name).unwrap();
    let d = Diagnosis::from_facts(facts.clone());
    let f = d.finding(CheckId::ProxyCache).unwrap();
    assert_eq!(f.status, Status::Fail);
    assert!(f.summary.contains("session cookies"), "{}", f.summary);
    assert!(
        f.evidence.iter().any(|e| e
            .excerpt
            .contains("location /web/static/ caches Odoo's static files")),
        "{:#?}",
        f.evidence
    );
    let req = FixRequest {
        checks: vec![CheckId::ProxyCache],
        values: BTreeMap::new(),
    };
    let cs = plan(&files_of(&facts), &d, &req).unwrap();
    let site = cs
        .files
        .iter()
        .find(|f| f.kind == osd_engine::change::FileKind::Nginx)
        .expect("the site file changes");
    let (before, after) = (
        String::from_utf8(site.before.clone()).unwrap(),
        String::from_utf8(site.after.clone()).unwrap(),
    );
    let block = |text: &str, head: &str| {
        text.split(head)
            .nth(1)
            .unwrap()
            .split('}')
            .next()
            .unwrap()
            .to_string()
    };
    let root = block(&after, "location / {");
    assert!(root.contains("proxy_cache off;"), "{root}");
    assert!(!root.contains("proxy_ignore_headers"), "{root}");
    assert_eq!(
        block(&after, "location /web/static/ {"),
        block(&before, "location /web/static/ {"),
        "the static files keep their cache"
    );
    let mut doc = serde_json::to_value(&facts).unwrap();
    edit(&mut doc, DUMP, &before, &after);
    let again = Diagnosis::from_facts(self::facts(&doc, name));
    assert_eq!(
        again.finding(CheckId::ProxyCache).unwrap().status,
        Status::Ok,
        "{:#?}",
        again.finding(CheckId::ProxyCache)
    );
}

/// A CDN seen by the test login: nothing to change here, and the steps say what to set in it.
#[test]
fn a_cdn_in_front_needs_you_with_what_to_set_there() {
    let d = case("healthy + a CDN in front");
    let f = d.finding(CheckId::ProxyCache).unwrap();
    assert_eq!(f.status, Status::Warn);
    assert!(f
        .evidence
        .iter()
        .any(|e| e.excerpt.contains("cf-cache-status: DYNAMIC")));
    let Remedy::NeedsYou { steps, .. } = &f.remedy else {
        panic!("{:?}", f.remedy)
    };
    assert!(
        steps
            .iter()
            .any(|s| s.contains("bypass the cache") && s.contains("session_id cookie")),
        "{steps:?}"
    );
}

/// The words a person reads for session.store: summary, why, and the remedy's why and steps.
fn store_words(name: &str) -> (String, Vec<String>) {
    let d = case(name);
    let f = d.finding(CheckId::SessionStore).unwrap().clone();
    assert_eq!(f.status, Status::Fail, "{name}: {f:#?}");
    let Remedy::NeedsYou { why, steps } = f.remedy.clone() else {
        panic!("{name}: session.store needs a person: {f:#?}");
    };
    let text = format!("{}\n{}\n{why}", f.summary, f.why);
    (text, steps)
}

#[test]
fn a_sessions_filesystem_out_of_inodes_says_the_inode_numbers() {
    let (text, steps) = store_words("healthy + sessions filesystem out of inodes");
    assert!(text.contains("out of inodes"), "{text}");
    assert!(text.contains("1200 of 500000 inodes free (0.2%)"), "{text}");
    assert!(
        steps
            .iter()
            .any(|s| s.contains("`du -xsh /* | sort -h | tail`")),
        "{steps:#?}"
    );
    assert!(
        steps.iter().any(|s| s.contains("find / -xdev -type f")),
        "{steps:#?}"
    );
}

#[test]
fn sessions_in_memory_need_a_persistent_folder_with_exact_commands() {
    // A tmpfs mounted on the folder itself: take it away.
    let d = case("healthy + sessions folder on a tmpfs");
    let dir = d.facts.sessions.seen().unwrap().path.clone();
    let (text, steps) = store_words("healthy + sessions folder on a tmpfs");
    assert!(text.contains("every reboot logs everybody out"), "{text}");
    let all = steps.join("\n");
    assert!(all.contains(&format!("umount {dir}")), "{all}");
    assert!(
        all.contains(&format!("install -d -m 700 {dir} && chown odoo: {dir}")),
        "{all}"
    );
    // data_dir inside /tmp: a persistent data_dir, the filestore copied with it.
    let d = case("healthy + data_dir inside a tmpfs /tmp");
    let data_dir = d.facts.odoo.data_dir.clone();
    let (_, steps) = store_words("healthy + data_dir inside a tmpfs /tmp");
    let all = steps.join("\n");
    assert!(
        all.contains("install -d -m 750 /var/lib/odoo && chown odoo: /var/lib/odoo"),
        "{all}"
    );
    assert!(
        all.contains(&format!("cp -a {data_dir}/. /var/lib/odoo/")),
        "{all}"
    );
    assert!(all.contains("data_dir = /var/lib/odoo"), "{all}");
}

#[test]
fn root_owned_sessions_are_given_back_by_a_person_not_hidden_by_pinning_data_dir() {
    for name in ["sessions-root-owned", "sessions-root-owned + no data_dir"] {
        let d = case(name);
        let dir = d.facts.sessions.seen().unwrap().path.clone();
        let (text, steps) = store_words(name);
        assert!(text.contains("3 session files of 3"), "{name}: {text}");
        assert!(text.contains("3 files owned by root"), "{name}: {text}");
        assert!(
            steps
                .iter()
                .any(|s| s.contains(&format!("chown -R odoo: {dir}"))),
            "{name}: {steps:#?}"
        );
    }
}

#[test]
fn worker_recycles_are_said_in_words_with_their_rate_and_what_they_cost() {
    let d = case("healthy + 37 memory recycles in 24 h");
    let f = d.finding("workers.memory").unwrap();
    assert_eq!(f.status, osd_engine::checks::Status::Ok);
    assert!(
        f.evidence.iter().any(|e| e.excerpt
            == "37 memory recycles in the last 24 h across 2 workers: about one every 39 minutes"),
        "{:#?}",
        f.evidence
    );
    let d = case("healthy + 60 memory recycles in 24 h");
    let f = d.finding("workers.memory").unwrap();
    assert_eq!(f.status, osd_engine::checks::Status::Warn);
    assert_eq!(
        f.summary,
        "60 memory recycles in the last 24 h across 2 workers: about one every 24 minutes, more than one per worker per hour."
    );
    let d = case("healthy + worker_timeouts");
    let f = d.finding("workers.memory").unwrap();
    assert_eq!(f.status, osd_engine::checks::Status::Fail);
    assert_eq!(
        f.summary,
        "1 worker stop in the last 24 h lost the request in flight: 1 at limit_time_real."
    );
    let d = case("healthy + cron_timeouts");
    assert_eq!(
        d.finding("workers.memory").unwrap().status,
        osd_engine::checks::Status::Warn
    );
}

/// Revoked devices: skipped below 18 with why, ok without recent revocations (older ones still in
/// the evidence), a warning that only informs when people revoked devices lately, unknown when an
/// 18 database has no device log.
#[test]
fn revoked_devices_skip_below_18_are_ok_without_recent_ones_and_inform_otherwise() {
    let find = |name: &str| case(name).finding(CheckId::SessionRevoked).unwrap().clone();
    let skip = find("healthy");
    assert_eq!(skip.status, Status::Skip, "{skip:#?}");
    assert_eq!(
        skip.summary,
        "Odoo 17.0 keeps no device log to read revocations from."
    );
    assert!(skip.version_note.as_deref().unwrap().contains("Odoo 18"));

    let ok = find("shared-cluster-18");
    assert_eq!(ok.status, Status::Ok, "{ok:#?}");
    assert_eq!(ok.evidence[0].excerpt, "no device revoked");

    let old = find("devices-revoked + none in the last 7 days");
    assert_eq!(old.status, Status::Ok);
    assert_eq!(old.summary, "No device was revoked in the last 7 days.");
    assert!(
        old.evidence[0]
            .excerpt
            .contains("marc: none in the last 7 days; 3 in the log in all"),
        "{}",
        old.evidence[0].excerpt
    );

    let news = find("devices-revoked");
    assert_eq!(news.status, Status::Warn, "{news:#?}");
    assert!(
        news.summary.starts_with(
            "Sessions were ended on purpose in the last 7 days: 2 sessions of marc (last "
        ),
        "{}",
        news.summary
    );
    assert!(
        news.summary.contains(", 1 session of lea (last "),
        "{}",
        news.summary
    );
    assert_eq!(news.remedy, Remedy::None);
    assert!(news.fixes.is_empty());
    let ev = &news.evidence[0];
    assert_eq!(ev.source, "res_device_log in database odoo");
    assert!(
        ev.excerpt.contains(
            "marc: 2 sessions revoked in the last 7 days (by admin, marc); 3 in the log in all"
        ),
        "{}",
        ev.excerpt
    );
    assert!(
        ev.excerpt
            .contains("lea: 1 session revoked in the last 7 days (by admin); 1 in the log in all"),
        "{}",
        ev.excerpt
    );
    assert!(
        news.why
            .contains("Odoo records no date for a password change"),
        "{}",
        news.why
    );

    let unread = find("devices-revoked + no device log");
    assert_eq!(unread.status, Status::Unknown);
}
