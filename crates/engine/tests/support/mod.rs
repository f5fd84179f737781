//! Shared test support: connect to a lab over real SSH and diagnose its Odoo.
#![allow(dead_code)] // each test binary uses a different part of the shared support

use osd_engine::discover::DiscoverOptions;
use osd_engine::{diagnose, DiagnoseOptions, Diagnosis};
use osd_remote::{ConnectOptions, Host, NoAsk, Target};
use osd_testlab::Lab;

/// Logs in to the lab as root with its ed25519 key, verifying its host key.
pub fn connect(lab: &Lab) -> Host {
    connect_as(lab, "root")
}

pub fn connect_as(lab: &Lab, login: &str) -> Host {
    let mut opts = ConnectOptions::bare();
    opts.identity_files = vec![lab.info.keys.ed25519.clone().into()];
    opts.known_hosts_files = vec![lab.known_hosts_file().to_path_buf()];
    opts.app_known_hosts_file = lab.dir().join("app_known_hosts");
    let target = Target::Ssh {
        user: Some(login.into()),
        host: lab.info.ssh.host.clone(),
        port: Some(lab.info.ssh.port),
    };
    Host::connect(&target, &opts, &NoAsk).expect("connect to the lab over SSH")
}

/// Several labs may run at once, so the instance is always named by its config file.
pub fn options(lab: &Lab) -> DiagnoseOptions {
    DiagnoseOptions {
        discover: DiscoverOptions {
            instance: Some(lab.info.odoo.conf.to_string_lossy().into_owned()),
            databases: Vec::new(),
        },
        probe: None,
    }
}

/// Diagnoses the lab, and holds the promise of the facts document on every lab diagnosis: the
/// facts written to JSON and read back give exactly the live findings. With
/// `UPDATE_FACTS_FIXTURES=1` the document is kept as `tests/fixtures/facts/<scenario>.json`,
/// the input of the table test (`checks_table.rs`).
pub fn diagnose_lab(lab: &Lab) -> Diagnosis {
    let host = connect(lab);
    let d = diagnose(&host, &options(lab)).expect("diagnose the lab");
    facts_document_holds(lab, &lab.info.scenario, &d);
    d
}

/// The facts of `d` written to JSON and read back give exactly its findings, and hold none of
/// the lab's secrets; kept as fixture `name` with `UPDATE_FACTS_FIXTURES=1`.
pub fn facts_document_holds(lab: &Lab, name: &str, d: &Diagnosis) {
    let doc = d.facts.to_json();
    let back =
        osd_engine::facts::Facts::from_json(&doc, "the lab's facts").expect("facts read back");
    let again = Diagnosis::from_facts(back);
    assert_eq!(
        again.checks, d.checks,
        "{name}: a diagnosis from the facts document must equal the live one"
    );
    for secret in lab_secrets(lab) {
        assert!(
            !doc.contains(&secret),
            "{name}: a secret of the lab is in its facts document"
        );
    }
    if std::env::var_os("UPDATE_FACTS_FIXTURES").is_some() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/facts");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(format!("{name}.json")), &doc).unwrap();
    }
}

/// The check ids that are not `ok` (skip counts as ok: not applicable).
pub fn not_ok(d: &Diagnosis) -> Vec<&'static str> {
    use osd_engine::checks::Status;
    d.checks
        .iter()
        .filter(|c| !matches!(c.status, Status::Ok | Status::Skip))
        .map(|c| c.id.as_str())
        .collect()
}

/// The secret values in the lab's odoo.conf (admin_passwd, db_password, smtp_password).
pub fn lab_secrets(lab: &Lab) -> Vec<String> {
    let text = std::fs::read_to_string(&lab.info.odoo.conf).unwrap_or_default();
    let conf = osd_engine::odoo_conf::OdooConf::parse(&text);
    ["admin_passwd", "db_password", "smtp_password"]
        .iter()
        .filter_map(|k| conf.get("options", k))
        .filter(|v| v.len() >= 4 && *v != "False")
        .map(str::to_string)
        .collect()
}
