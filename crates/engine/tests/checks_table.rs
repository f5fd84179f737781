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
use osd_engine::checks::{CheckId, Status};
use osd_engine::facts::Facts;
use osd_engine::registry::REGISTRY;
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
    ("two-upstreams", &["proxy.sticky"]),
    ("memory-recycling", &["workers.memory"]),
    ("dbfilter-mismatch", &["db.filter"]),
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

/// The files a plan may read for this case: those the document carries, plus each cron file
/// with its deleting line where the document says it is.
fn files_of(facts: &Facts) -> MemFiles {
    let mut files = MemFiles::from_facts(facts);
    for c in &facts.cleaners {
        let mut text = "\n".repeat(c.line.saturating_sub(1) as usize);
        text.push_str(&c.text);
        text.push('\n');
        files.insert(&c.file, text);
    }
    files
}

#[test]
fn every_fix_plans_a_change_where_its_check_fails() {
    let cases = cases();
    for check in REGISTRY.iter().filter(|c| c.fixable()) {
        let mut planned = Vec::new();
        for (name, facts, _) in &cases {
            let files = files_of(facts);
            let d = Diagnosis::from_facts(facts.clone());
            if !matches!(
                d.finding(check.id).unwrap().status,
                Status::Fail | Status::Warn
            ) {
                continue;
            }
            let req = FixRequest {
                checks: vec![check.id],
                values: BTreeMap::new(),
            };
            match plan(&files, &d, &req) {
                Ok(cs) if !cs.is_empty() => {
                    assert!(
                        cs.files.iter().all(|f| f.checks.contains(&check.id))
                            && cs.params.iter().all(|p| p.check == check.id),
                        "{name}: {} plans changes for other checks",
                        check.id
                    );
                    planned.push(name.clone());
                }
                Ok(cs) => assert!(
                    !cs.notes.is_empty(),
                    "{name}: {} plans nothing and says nothing",
                    check.id
                ),
                Err(e) => panic!("{name}: planning {} failed: {e}", check.id),
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
