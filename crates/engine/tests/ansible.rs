//! The Ansible export read back as YAML: the tasks each kind of change becomes, no secret in it,
//! and the refusals. Offline, from the facts fixtures (the lab run is in crates/cli/tests/ansible.rs).

use osd_engine::change::ansible::playbook;
use osd_engine::change::plan::{plan, FixRequest};
use osd_engine::change::workspace::MemFiles;
use osd_engine::facts::Facts;
use osd_engine::Diagnosis;
use serde_norway::Value;
use std::path::Path;

fn export(fixture: &str, fix: &[&str], set: &[(&str, &str)]) -> (String, Value) {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("tests/fixtures/facts/{fixture}.json"));
    let facts = Facts::from_json(&std::fs::read_to_string(&path).unwrap(), fixture).unwrap();
    let files = MemFiles::from_facts(&facts);
    let d = Diagnosis::from_facts(facts);
    let req = FixRequest::parse(fix.iter().copied(), set.iter().copied()).unwrap();
    let cs = plan(&files, &d, &req).unwrap();
    let text = playbook(&cs, &d.facts).unwrap();
    let yaml: Value = serde_norway::from_str(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    (text, yaml)
}

fn tasks(yaml: &Value) -> Vec<&Value> {
    fn walk<'a>(list: &'a Value, out: &mut Vec<&'a Value>) {
        for t in list.as_sequence().unwrap() {
            out.push(t);
            for k in ["block", "rescue"] {
                if let Some(inner) = t.get(k) {
                    walk(inner, out);
                }
            }
        }
    }
    let mut out = Vec::new();
    walk(&yaml[0]["tasks"], &mut out);
    out
}

fn module<'a>(ts: &[&'a Value], name: &str) -> Vec<&'a Value> {
    ts.iter().filter_map(|t| t.get(name)).collect()
}

#[test]
fn a_parameter_fix_is_the_writer_a_restart_and_the_lifetime_assert() {
    let (text, yaml) = export(
        "short-lifetime",
        &["session.lifetime"],
        &[("session.lifetime", "86400")],
    );
    let ts = tasks(&yaml);
    let cmd = module(&ts, "ansible.builtin.command");
    let writer = cmd
        .iter()
        .find(|c| c["stdin"].as_str() == Some("{{ osd_params | to_json }}"))
        .expect("the parameter writer");
    // The value is data on stdin, never in the command line or the SQL.
    let argv = format!("{:?}", writer["argv"]);
    assert!(!argv.contains("86400"), "{argv}");
    let params = &yaml[0]["vars"]["osd_params"]["changes"][0];
    assert_eq!(
        params["key"].as_str(),
        Some("sessions.max_inactivity_seconds")
    );
    assert_eq!(params["new"].as_str(), Some("86400"));
    assert_eq!(params["old"].as_str(), Some("600"));
    assert!(text.contains("cr.execute(\"SELECT value FROM ir_config_parameter WHERE key = %s FOR UPDATE\", (c[\"key\"],))"));
    // Check mode runs the writer dry.
    assert!(argv.contains("'dry' if ansible_check_mode"), "{argv}");
    let handlers = yaml[0]["handlers"].as_sequence().unwrap();
    let restart = handlers[0]["ansible.builtin.command"]["argv"]
        .as_sequence()
        .unwrap();
    assert_eq!(restart[0].as_str(), Some("supervisorctl"));
    assert!(restart.iter().any(|w| w.as_str() == Some("restart")));
    assert!(ts
        .iter()
        .any(|t| t.get("ansible.builtin.wait_for").is_some()));
    let assert = module(&ts, "ansible.builtin.assert");
    assert!(format!("{assert:?}").contains("Max-Age="), "{assert:?}");
    assert_eq!(
        yaml[0]["vars"]["osd_expected_max_age"].as_str(),
        Some("86400")
    );
}

#[test]
fn an_odoo_conf_fix_is_key_edits_without_the_secrets() {
    let (text, yaml) = export("proxy-mode-off", &["proxy.mode"], &[]);
    for secret in ["admin_passwd", "db_password", "********"] {
        assert!(!text.contains(secret), "{secret} in\n{text}");
    }
    let ts = tasks(&yaml);
    let edits = module(&ts, "ansible.builtin.lineinfile");
    assert_eq!(edits.len(), 1, "{text}");
    let e = edits[0];
    assert!(
        e["line"].as_str().unwrap().starts_with("proxy_mode"),
        "{e:?}"
    );
    assert_eq!(e["backup"].as_bool(), Some(true));
    assert!(e["validate"].as_str().unwrap().contains("RawConfigParser"));
    assert!(e["validate"].as_str().unwrap().ends_with("%s"));
    assert!(
        !ts.iter().any(|t| t.get("ansible.builtin.copy").is_some()),
        "no whole-file copy of odoo.conf"
    );
    // The guard before the edit, the check after it.
    assert_eq!(
        ts.iter()
            .filter(|t| t["ansible.builtin.command"]["argv"][2]
                .as_str()
                .is_some_and(|s| s.contains("configparser")))
            .count(),
        2
    );
}

#[test]
fn an_nginx_fix_is_a_guarded_copy_tested_whole_and_reloaded() {
    let (text, yaml) = export("missing-forwarded-headers", &["proxy.headers"], &[]);
    let ts = tasks(&yaml);
    let copies = module(&ts, "ansible.builtin.copy");
    let edit = copies
        .iter()
        .find(|c| c.get("content").is_some())
        .expect("the copy of the after-image");
    assert!(edit["content"]
        .as_str()
        .unwrap()
        .contains("proxy_set_header X-Forwarded-Host $http_host;"));
    assert!(
        text.contains("content: !unsafe"),
        "file contents are data, not Jinja"
    );
    let stat = module(&ts, "ansible.builtin.stat");
    assert_eq!(stat[0]["checksum_algorithm"].as_str(), Some("sha256"));
    let block = ts.iter().find(|t| t.get("block").is_some()).unwrap();
    let test = block["block"].as_sequence().unwrap().last().unwrap();
    let argv: Vec<&str> = test["ansible.builtin.command"]["argv"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    // The whole configuration (nginx.conf), not the site file alone.
    assert_eq!(&argv[1..4], ["-t", "-q", "-c"]);
    assert!(
        argv[4].ends_with("nginx.conf") && !argv[4].contains("sites-"),
        "{argv:?}"
    );
    assert!(block["rescue"]
        .as_sequence()
        .unwrap()
        .iter()
        .any(|t| t["ansible.builtin.copy"]["remote_src"].as_bool() == Some(true)));
    let handlers = yaml[0]["handlers"].as_sequence().unwrap();
    assert!(handlers
        .iter()
        .any(|h| h["ansible.builtin.command"]["argv"][2].as_str() == Some("reload")));
}
