//! Real hosts, real shapes (issue 9), over real SSH: several instances sharing one PostgreSQL
//! cluster and role (17 under supervisor, 18 and 19 started by hand), an Odoo that never starts
//! (a fatal odoo.conf value) under supervisor and under systemd, and the two systemd layouts most
//! admins have. Each goes diagnose → plan → apply → verify → rollback where a fix applies.

mod support;

use osd_engine::change::apply::{self, ApplyOptions, Outcome, Progress};
use osd_engine::change::plan::{plan, FixRequest};
use osd_engine::checks::Status;
use osd_engine::discover::DiscoverOptions;
use osd_engine::facts::{InstanceState, Service};
use osd_engine::{diagnose, DiagnoseOptions, Diagnosis, EngineError};
use osd_remote::Host;
use osd_testlab::{Lab, OdooInfo};
use std::collections::BTreeMap;
use support::*;

/// Diagnose the instance `instance` names (a config path or an HTTP port), as `--instance` does.
fn choosing(instance: String) -> DiagnoseOptions {
    DiagnoseOptions {
        discover: DiscoverOptions {
            instance: Some(instance),
            databases: Vec::new(),
        },
        probe: None,
    }
}

fn for_instance(o: &OdooInfo) -> DiagnoseOptions {
    choosing(o.conf.to_string_lossy().into_owned())
}

fn apply_options(lab: &Lab, diag: DiagnoseOptions) -> ApplyOptions {
    ApplyOptions {
        diagnose: diag,
        state_dir: Some(lab.dir().join("state").to_string_lossy().into_owned()),
        ..Default::default()
    }
}

fn quiet(_: &Progress) {}

fn finding<'d>(d: &'d Diagnosis, id: &str) -> &'d osd_engine::checks::Finding {
    d.checks.iter().find(|c| c.id == id).unwrap()
}

/// Every row of ir_config_parameter in every database of the cluster, as the superuser sees it.
fn all_params(lab: &Lab) -> BTreeMap<String, BTreeMap<String, String>> {
    let p = &lab.info.postgres;
    lab.info
        .databases
        .iter()
        .filter(|db| *db != "postgres")
        .map(|db| {
            let conn = format!(
                "host={} port={} user={} password={} dbname={db}",
                p.host, p.port, p.user, p.password
            );
            let mut c = postgres::Client::connect(&conn, postgres::NoTls).unwrap();
            let rows = c
                .query("SELECT key, value FROM ir_config_parameter", &[])
                .map(|rows| rows.iter().map(|r| (r.get(0), r.get(1))).collect())
                .unwrap_or_default();
            (db.clone(), rows)
        })
        .collect()
}

/// The `Max-Age` of the cookie the running server hands a fresh visitor.
fn cookie_max_age(d: &Diagnosis) -> Option<i64> {
    d.facts.server.seen()?.login_page_cookie.as_ref()?.max_age
}

fn sha(host: &Host, path: &str) -> Option<String> {
    host.stat(path).unwrap().and_then(|s| s.sha256)
}

#[test]
fn each_instance_of_a_shared_cluster_is_judged_and_fixed_by_its_own_databases() {
    let lab = Lab::up("shared-cluster");
    let host = connect(&lab);
    let (i17, i18, i19) = (
        lab.instance("odoo17").unwrap(),
        lab.instance("odoo18").unwrap(),
        lab.instance("odoo19").unwrap(),
    );

    // Without a choice: the instances of this lab are listed, each with its version and manager.
    let e = diagnose(&host, &DiagnoseOptions::default()).unwrap_err();
    let EngineError::SeveralInstances { instances, .. } = &e else {
        panic!("{e}")
    };
    for (o, manager) in [(i17, "supervisor"), (i18, "manual"), (i19, "manual")] {
        let s = instances
            .iter()
            .find(|s| s.http_port == o.http_port)
            .unwrap_or_else(|| panic!("{} missing from {e}", o.name));
        assert_eq!(s.version.as_deref(), Some(o.version.as_str()));
        assert!(s.state.is_running());
        assert_eq!(
            matches!(s.service, Service::Manual),
            manager == "manual",
            "{s:?}"
        );
    }

    // 18 is judged by testdb18 only: 7 days, no folklore, even though testdb says 30 minutes.
    let d18 = diagnose(&host, &for_instance(i18)).unwrap();
    facts_document_holds(&lab, "shared-cluster-18", &d18);
    assert_eq!(d18.facts.odoo.version.unwrap().to_string(), "18.0");
    let scope = d18.facts.db_scope.as_ref().unwrap();
    assert_eq!(scope.served, vec!["testdb18"]);
    assert_eq!(finding(&d18, "session.lifetime").status, Status::Ok);
    assert_eq!(finding(&d18, "conf.folklore").status, Status::Ok);
    let db = d18.facts.db.seen().unwrap();
    assert_eq!(
        db.databases
            .iter()
            .map(|d| d.name.as_str())
            .collect::<Vec<_>>(),
        ["testdb18"]
    );
    assert_eq!(cookie_max_age(&d18), Some(604_800));
    let d19 = diagnose(&host, &for_instance(i19)).unwrap();
    facts_document_holds(&lab, "shared-cluster-19", &d19);
    assert_eq!(
        d19.facts.db_scope.as_ref().unwrap().served,
        vec!["testdb19"]
    );
    assert_eq!(finding(&d19, "session.lifetime").status, Status::Ok);

    // 17: its own 30 minutes fail; the leftover testdb_old (a 17 database of the same role) is
    // cleaned by 17's prefork cron too, so it counts for the lifetime, read-only.
    let d17 = diagnose(&host, &for_instance(i17)).unwrap();
    facts_document_holds(&lab, "shared-cluster-17", &d17);
    let scope17 = d17.facts.db_scope.clone().unwrap();
    assert_eq!(scope17.served, vec!["testdb"]);
    assert!(
        scope17.cleanup_from.contains(&"testdb_old".to_string()),
        "{scope17:?}"
    );
    assert!(
        !scope17.cleanup_from.contains(&"testdb18".to_string()),
        "another version's database is skipped by Odoo's cron"
    );
    assert_eq!(finding(&d17, "session.lifetime").status, Status::Fail);

    // The fix for 17 writes into testdb and nowhere else; the preview names the database.
    let before = all_params(&lab);
    let req = FixRequest {
        checks: vec![
            "session.lifetime".parse().unwrap(),
            "conf.folklore".parse().unwrap(),
        ],
        values: [("session.lifetime".parse().unwrap(), "86400".to_string())].into(),
    };
    let cs = plan(&host, &d17, &req).unwrap();
    assert!(!cs.params.is_empty());
    assert!(
        cs.params.iter().all(|p| p.db == "testdb"),
        "{:?}",
        cs.params
    );
    assert!(
        cs.preview().contains("in database testdb:"),
        "{}",
        cs.preview()
    );
    let opts = apply_options(&lab, for_instance(i17));
    let r = apply::apply(&host, &d17, &cs, &opts, &quiet).unwrap();
    assert_eq!(r.status, Outcome::Applied, "{:?}", r.error);
    let after = all_params(&lab);
    for db in ["testdb18", "testdb19", "testdb_old"] {
        assert_eq!(
            before[db], after[db],
            "{db} must not be touched by a fix of 17"
        );
    }
    assert_eq!(
        after["testdb"]
            .get("sessions.max_inactivity_seconds")
            .map(String::as_str),
        Some("86400")
    );
    apply::rollback(&host, &d17.facts, Some(&r.changeset), false, &opts, &quiet).unwrap();
    assert_eq!(all_params(&lab), before, "rollback restores every database");
}

#[test]
fn an_odoo_that_never_starts_is_the_first_finding_and_its_config_line_is_fixed_while_it_is_down() {
    let lab = Lab::up("crash-loop");
    let host = connect(&lab);
    let broken = lab.info.instances.iter().find(|o| o.broken).unwrap();
    let conf = broken.conf.to_string_lossy().into_owned();

    // The down instance is listed, crash-looping, next to the healthy one.
    let e = diagnose(&host, &DiagnoseOptions::default()).unwrap_err();
    let EngineError::SeveralInstances { instances, .. } = &e else {
        panic!("{e}")
    };
    let listed = instances
        .iter()
        .find(|s| s.http_port == broken.http_port)
        .unwrap_or_else(|| panic!("the broken instance is missing from: {e}"));
    assert!(
        matches!(listed.state, InstanceState::CrashLoop { .. }),
        "{listed:?}"
    );
    assert!(listed.pid.is_none());

    // Chosen by its port (what a person types), it is diagnosed from files, database and logs.
    let by_port = choosing(broken.http_port.to_string());
    let d = diagnose(&host, &by_port).unwrap();
    facts_document_holds(&lab, "crash-loop", &d);
    assert!(
        d.verdict.line.starts_with("Odoo is not running"),
        "{}",
        d.verdict.line
    );
    let found = finding(&d, "service.found");
    assert_eq!(found.status, Status::Fail);
    assert!(
        found.summary.contains("invalid integer value"),
        "the last start error from supervisor's capture: {}",
        found.summary
    );
    let syntax = finding(&d, "conf.syntax");
    assert_eq!(syntax.status, Status::Fail);
    let line = std::fs::read_to_string(&broken.conf)
        .unwrap()
        .lines()
        .position(|l| l.starts_with("smtp_port"))
        .unwrap()
        + 1;
    assert!(
        syntax
            .evidence
            .iter()
            .any(|e| e.source == format!("{conf}:{line}")),
        "{:?}",
        syntax.evidence
    );

    // Fixed while it is down: the value Odoo accepts, the note on its own line, Odoo started.
    let req = FixRequest {
        checks: vec!["conf.syntax".parse().unwrap()],
        values: BTreeMap::new(),
    };
    let cs = plan(&host, &d, &req).unwrap();
    let diff = &cs.files[0].diff;
    assert!(
        diff.contains("+smtp_port = 465\n") && diff.contains("+# 25"),
        "{diff}"
    );
    assert!(cs.preview().contains("start Odoo"), "{}", cs.preview());
    let before = sha(&host, &conf);
    let opts = apply_options(&lab, by_port.clone());
    let r = apply::apply(&host, &d, &cs, &opts, &quiet).unwrap();
    assert_eq!(r.status, Outcome::Applied, "{:?}", r.error);
    let now = diagnose(&host, &by_port).unwrap();
    assert_eq!(finding(&now, "service.found").status, Status::Ok);
    assert_eq!(finding(&now, "conf.syntax").status, Status::Ok);

    // Rollback: the file byte for byte, and the instance as it was (not running).
    apply::rollback(&host, &now.facts, Some(&r.changeset), false, &opts, &quiet).unwrap();
    assert_eq!(sha(&host, &conf), before);
    let again = diagnose(&host, &by_port).unwrap();
    assert!(
        !again.facts.odoo.state.is_running(),
        "{:?}",
        again.facts.odoo.state
    );
}

#[test]
fn debian_package_under_real_systemd_is_fixed_restarted_with_systemctl_and_rolled_back() {
    let lab = Lab::up("debian-systemd");
    let host = connect(&lab);
    let diag = for_instance(&lab.info.odoo);
    let d = diagnose(&host, &diag).unwrap();
    facts_document_holds(&lab, "debian-systemd", &d);
    assert_eq!(
        d.facts.odoo.service,
        Service::Systemd {
            unit: "odoo.service".into()
        }
    );
    assert_eq!(
        d.facts.odoo.data_dir, "/var/lib/odoo/.local/share/Odoo",
        "no data_dir: the default under the service user's HOME"
    );
    assert_eq!(
        d.facts.odoo.config.as_ref().unwrap().path,
        "/etc/odoo/odoo.conf"
    );
    let req = FixRequest {
        checks: vec!["session.lifetime".parse().unwrap()],
        values: [("session.lifetime".parse().unwrap(), "172800".to_string())].into(),
    };
    let cs = plan(&host, &d, &req).unwrap();
    assert!(
        cs.preview().contains("systemctl restart odoo.service"),
        "{}",
        cs.preview()
    );
    let opts = apply_options(&lab, diag.clone());
    let r = apply::apply(&host, &d, &cs, &opts, &quiet).unwrap();
    assert_eq!(r.status, Outcome::Applied, "{:?}", r.error);
    let after = diagnose(&host, &diag).unwrap();
    assert_eq!(
        cookie_max_age(&after),
        Some(172_800),
        "the restarted server uses the new lifetime"
    );
    apply::rollback(
        &host,
        &after.facts,
        Some(&r.changeset),
        false,
        &opts,
        &quiet,
    )
    .unwrap();
}

#[test]
fn a_systemd_crash_loop_is_read_from_the_journal_and_fixed() {
    let lab = Lab::up("systemd-crash-loop");
    let host = connect(&lab);
    let diag = for_instance(&lab.info.odoo);
    let d = diagnose(&host, &diag).unwrap();
    facts_document_holds(&lab, "systemd-crash-loop", &d);
    let state = &d.facts.odoo.state;
    assert!(
        matches!(state, InstanceState::CrashLoop { .. }),
        "{state:?}"
    );
    assert!(
        state.last_error().unwrap_or("").contains("smtp_port"),
        "the journal holds the start error: {state:?}"
    );
    assert_eq!(finding(&d, "conf.syntax").status, Status::Fail);
    let req = FixRequest {
        checks: vec!["conf.syntax".parse().unwrap()],
        values: BTreeMap::new(),
    };
    let cs = plan(&host, &d, &req).unwrap();
    let opts = apply_options(&lab, diag.clone());
    let r = apply::apply(&host, &d, &cs, &opts, &quiet).unwrap();
    assert_eq!(r.status, Outcome::Applied, "{:?}", r.error);
    let now = diagnose(&host, &diag).unwrap();
    assert!(now.facts.odoo.state.is_running());
    assert_eq!(finding(&now, "service.found").status, Status::Ok);
    apply::rollback(&host, &now.facts, Some(&r.changeset), false, &opts, &quiet).unwrap();
}

#[test]
fn the_install_script_layout_is_understood() {
    let lab = Lab::up("install-script-systemd");
    let host = connect(&lab);
    let d = diagnose(&host, &for_instance(&lab.info.odoo)).unwrap();
    facts_document_holds(&lab, "install-script-systemd", &d);
    assert_eq!(
        d.facts.odoo.service,
        Service::Systemd {
            unit: "odoo-server.service".into()
        }
    );
    assert_eq!(d.facts.odoo.version.unwrap().to_string(), "18.0");
    assert_eq!(d.facts.odoo.data_dir, "/odoo/.local/share/Odoo");
    let log = d.facts.log.seen().expect("the log file is read");
    assert_eq!(log.source, "/var/log/odoo/odoo-server.log");
    assert_eq!(d.facts.cost.executions, 2);
}
