//! "Still in effect?" over real SSH and PostgreSQL (issue 11, Trust): a change set applied on a
//! lab, then reverted by hand behind the tool's back (a file rewritten through SSH, a parameter
//! changed by SQL), is re-checked as no longer in effect, naming what changed; and the report of
//! one instance on a multi-instance host lists that instance's change sets only, each with its
//! state now.

mod support;

use osd_engine::change::apply::{self, ApplyOptions, Outcome, Progress};
use osd_engine::change::effect::{self, EffectState, ItemState};
use osd_engine::change::plan::{plan, FixRequest};
use osd_engine::change::record;
use osd_engine::discover::DiscoverOptions;
use osd_engine::report::{Inputs, Meta, ReportModel};
use osd_engine::{diagnose, DiagnoseOptions};
use osd_remote::NewFileMode;
use osd_testlab::Lab;
use support::*;

fn quiet(_: &Progress) {}

fn state_dir(lab: &Lab) -> String {
    lab.dir().join("state").to_string_lossy().into_owned()
}

fn apply_options(lab: &Lab, diagnose: DiagnoseOptions) -> ApplyOptions {
    ApplyOptions {
        diagnose,
        state_dir: Some(state_dir(lab)),
        ..Default::default()
    }
}

fn request(checks: &[&str], values: &[(&str, &str)]) -> FixRequest {
    FixRequest::parse(checks.iter().copied(), values.iter().copied()).expect("known check ids")
}

#[test]
fn a_file_reverted_by_hand_is_no_longer_in_effect() {
    let lab = Lab::up("folklore-conf");
    let host = connect(&lab);
    let opts = apply_options(&lab, options(&lab));
    let d = diagnose(&host, &opts.diagnose).unwrap();
    let cs = plan(&host, &d, &request(&["conf.folklore"], &[])).unwrap();
    let conf = lab.info.odoo.conf.to_string_lossy().into_owned();
    let before = cs
        .files
        .iter()
        .find(|f| f.path == conf)
        .unwrap()
        .before
        .clone();
    let r = apply::apply(&host, &d, &cs, &opts, &quiet).unwrap();
    assert_eq!(r.status, Outcome::Applied, "{:?}", r.error);

    let records = record::history(&host, &state_dir(&lab)).unwrap();
    assert_eq!(
        records[0].instance,
        Some(record::InstanceRef::of(&d.facts.odoo))
    );
    let now = effect::check(&host, Some(&d.facts.odoo), &records).unwrap();
    assert_eq!(now.len(), 1);
    assert_eq!(now[0].state, EffectState::InEffect, "{:#?}", now[0]);

    // Someone puts the old odoo.conf back by hand, over SSH.
    host.write_atomic(&conf, &before, &NewFileMode::default())
        .unwrap();
    let now = effect::check(&host, Some(&d.facts.odoo), &records).unwrap();
    let e = &now[0];
    assert_eq!(e.changeset, r.changeset);
    assert_eq!(e.state, EffectState::NoLongerInEffect, "{e:#?}");
    let f = e.files.iter().find(|f| f.path == conf).unwrap();
    assert_eq!(f.state, ItemState::Changed);
    assert!(f.changed_by.is_none(), "no record of this tool wrote it");
    assert!(
        f.detail.contains("changed outside this app") && f.detail.contains("owned by"),
        "{}",
        f.detail
    );
    assert!(
        e.summary.starts_with("No longer in effect"),
        "{}",
        e.summary
    );

    // And gone: the file removed.
    host.run_checked(
        &osd_remote::Cmd::new("mv")
            .arg(&conf)
            .arg(format!("{conf}.moved")),
    )
    .unwrap();
    let now = effect::check(&host, Some(&d.facts.odoo), &records).unwrap();
    assert_eq!(now[0].files[0].state, ItemState::Gone);
    host.run_checked(
        &osd_remote::Cmd::new("mv")
            .arg(format!("{conf}.moved"))
            .arg(&conf),
    )
    .unwrap();
}

#[test]
fn a_parameter_changed_by_sql_is_no_longer_in_effect_and_a_later_change_set_is_named() {
    let lab = Lab::up("short-lifetime");
    let host = connect(&lab);
    let opts = apply_options(&lab, options(&lab));
    let d = diagnose(&host, &opts.diagnose).unwrap();
    let req = request(&["session.lifetime"], &[("session.lifetime", "86400")]);
    let cs = plan(&host, &d, &req).unwrap();
    assert!(!cs.params.is_empty(), "{}", cs.preview());
    let r = apply::apply(&host, &d, &cs, &opts, &quiet).unwrap();
    assert_eq!(r.status, Outcome::Applied, "{:?}", r.error);
    let records = record::history(&host, &state_dir(&lab)).unwrap();
    let now = effect::check(&host, Some(&d.facts.odoo), &records).unwrap();
    assert_eq!(now[0].state, EffectState::InEffect, "{:#?}", now[0]);
    assert_eq!(now[0].params[0].state, ItemState::InEffect);

    let mut client = postgres::Client::connect(&lab.pg_conninfo(), postgres::NoTls).unwrap();
    client
        .execute(
            "UPDATE ir_config_parameter SET value = '3600' WHERE key = 'sessions.max_inactivity_seconds'",
            &[],
        )
        .unwrap();
    let now = effect::check(&host, Some(&d.facts.odoo), &records).unwrap();
    let p = &now[0].params[0];
    assert_eq!(now[0].state, EffectState::NoLongerInEffect);
    assert_eq!(p.state, ItemState::Changed);
    assert!(
        p.detail.contains("now 3600") && p.detail.contains("changed outside this app"),
        "{}",
        p.detail
    );

    // A later change set of this tool writes it again: the first one is no longer in effect
    // because of that one, and the record says who and when.
    let d2 = diagnose(&host, &opts.diagnose).unwrap();
    let cs2 = plan(
        &host,
        &d2,
        &request(&["session.lifetime"], &[("session.lifetime", "604800")]),
    )
    .unwrap();
    let r2 = apply::apply(&host, &d2, &cs2, &opts, &quiet).unwrap();
    assert_eq!(r2.status, Outcome::Applied, "{:?}", r2.error);
    let records = record::history(&host, &state_dir(&lab)).unwrap();
    let now = effect::check(&host, Some(&d2.facts.odoo), &records).unwrap();
    let first = now.iter().find(|e| e.changeset == r.changeset).unwrap();
    let by = first.params[0]
        .changed_by
        .as_ref()
        .expect("named by the records");
    assert_eq!(
        (by.changeset.as_str(), by.action.as_str()),
        (r2.changeset.as_str(), "applied")
    );
    let second = now.iter().find(|e| e.changeset == r2.changeset).unwrap();
    assert_eq!(second.state, EffectState::InEffect);
}

fn choosing(conf: &std::path::Path) -> DiagnoseOptions {
    DiagnoseOptions {
        discover: DiscoverOptions {
            instance: Some(conf.to_string_lossy().into_owned()),
            databases: Vec::new(),
        },
        probe: None,
    }
}

/// Two instances on one host, one record directory: each instance's report lists its own change
/// sets only, an undone one as undone, and is titled with the saved name.
#[test]
fn the_report_of_one_instance_lists_its_own_change_sets_with_their_state() {
    let lab = Lab::up("crash-loop");
    let host = connect(&lab);
    let broken = lab.info.instances.iter().find(|o| o.broken).unwrap();
    let staging = lab.info.instances.iter().find(|o| !o.broken).unwrap();

    // The broken instance's fix (its config line), made for it.
    let ob = apply_options(&lab, choosing(&broken.conf));
    let db = diagnose(&host, &ob.diagnose).unwrap();
    let cs = plan(&host, &db, &request(&["conf.syntax"], &[])).unwrap();
    let rb = apply::apply(&host, &db, &cs, &ob, &quiet).unwrap();
    assert_eq!(rb.status, Outcome::Applied, "{:?}", rb.error);

    // Staging gets a folklore key by hand, then fixed twice: once undone, once kept.
    let sconf = staging.conf.to_string_lossy().into_owned();
    let mut text = host.read_file(&sconf).unwrap();
    text.extend_from_slice(b"session_timeout = 600\n");
    host.write_atomic(&sconf, &text, &NewFileMode::default())
        .unwrap();
    let os = apply_options(&lab, choosing(&staging.conf));
    let mut ids = Vec::new();
    for _ in 0..2 {
        let ds = diagnose(&host, &os.diagnose).unwrap();
        let cs = plan(&host, &ds, &request(&["conf.folklore"], &[])).unwrap();
        assert!(!cs.is_empty(), "the folklore key is there to remove");
        let r = apply::apply(&host, &ds, &cs, &os, &quiet).unwrap();
        assert_eq!(r.status, Outcome::Applied, "{:?}", r.error);
        ids.push(r.changeset.clone());
        if ids.len() == 1 {
            apply::rollback(&host, &ds.facts, Some(&r.changeset), false, &os, &quiet).unwrap();
        }
    }
    let records = record::history(&host, &state_dir(&lab)).unwrap();
    assert_eq!(records.len(), 3);

    let ds = diagnose(&host, &os.diagnose).unwrap();
    let effects = effect::check(&host, Some(&ds.facts.odoo), &records).unwrap();
    let m = ReportModel::build(
        Inputs {
            records: &records,
            effects: &effects,
            saved_name: Some("Staging"),
            ..Inputs::new(&ds)
        },
        Meta::now(osd_engine::who::local()),
    );
    let listed: Vec<&str> = m.changes.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(listed, ids.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(
        !listed.contains(&rb.changeset.as_str()),
        "another instance's change set"
    );
    assert_eq!(m.changes[0].state, "rolled_back");
    assert!(
        m.changes[0]
            .status_text
            .starts_with("Rolled back on request on "),
        "{}",
        m.changes[0].status_text
    );
    assert_eq!(m.changes[1].state, "in_effect");
    let html = osd_engine::report::render(&m, osd_engine::report::Format::Html).unwrap();
    assert!(
        html.contains("<h1>Staging</h1>"),
        "titled with the saved name"
    );
    assert!(
        html.contains(&osd_engine::who::user()),
        "signed by the local user"
    );
    assert!(!html.contains(&rb.changeset));

    // The broken instance's report has its own change set only.
    let db = diagnose(&host, &ob.diagnose).unwrap();
    let m = ReportModel::build(
        Inputs {
            records: &records,
            ..Inputs::new(&db)
        },
        Meta::now("test"),
    );
    assert_eq!(
        m.changes.iter().map(|c| c.id.as_str()).collect::<Vec<_>>(),
        [rb.changeset.as_str()]
    );
}
