//! The live probe with a test login (issue 3): what the running server does through the public
//! URL beats what files say. Never stores the password, never shows the session id.

mod support;

use osd_engine::checks::Status;
use osd_engine::diagnose;
use osd_engine::probe::ProbeOptions;
use osd_remote::Secret;
use osd_testlab::Lab;
use support::*;

fn probe_options(lab: &Lab, password: &str) -> ProbeOptions {
    let http = lab.info.nginx.http_port;
    ProbeOptions {
        login: lab.info.odoo.admin_login.clone(),
        password: Secret::new(password),
        // Users type the plain address; the redirect chain is part of what is observed.
        public_url: Some(format!("http://odoo.lab.test:{http}")),
        resolve: lab
            .info
            .nginx
            .server_names
            .iter()
            .map(|n| (n.clone(), format!("127.0.0.1:{http}").parse().unwrap()))
            .collect(),
    }
}

#[test]
fn healthy_server_observed_through_its_public_url() {
    let lab = Lab::up("healthy");
    let host = connect(&lab);
    let mut opts = options(&lab);
    opts.probe = Some(probe_options(&lab, &lab.info.odoo.admin_password));
    let d = diagnose(&host, &opts).unwrap();
    let p = d.facts.probe.as_ref().unwrap();
    let public = p.public.as_ref().unwrap();
    assert_eq!(public.error, None);
    let https = lab.info.nginx.https_port.unwrap();
    assert_eq!(
        public.final_url.as_deref(),
        Some(format!("https://odoo.lab.test:{https}").as_str())
    );
    assert!(
        public.redirects[0].starts_with("301 http://odoo.lab.test:"),
        "{:?}",
        public.redirects
    );
    let c = public.cookie.as_ref().unwrap();
    assert!(
        c.secure && c.http_only && c.same_site.as_deref() == Some("Lax"),
        "{c:?}"
    );
    assert_eq!(c.max_age, Some(604_800));
    assert!(
        c.header.starts_with("session_id=<hidden>;"),
        "the session id is never shown: {}",
        c.header
    );
    assert!(public.session_holds);
    // web.base.url is frozen here, so the direct login is safe and made.
    let direct = p.direct.as_ref().expect("direct login");
    assert!(
        direct.session_holds && !direct.cookie.as_ref().unwrap().secure,
        "Odoo itself never sets Secure"
    );
    assert_eq!(
        p.base_url_after_login.as_deref(),
        Some(format!("https://odoo.lab.test:{https}").as_str())
    );
    assert!(
        not_ok(&d).is_empty(),
        "{:#?}",
        d.checks
            .iter()
            .filter(|c| c.status != Status::Ok)
            .collect::<Vec<_>>()
    );
    let json = serde_json::to_string(&d).unwrap();
    assert!(
        !json.contains(&lab.info.odoo.admin_password),
        "the test password never serializes"
    );
}

#[test]
fn round_robin_without_shared_sessions_loses_a_real_login() {
    let lab = Lab::up("two-upstreams");
    let host = connect(&lab);
    let mut opts = options(&lab);
    opts.probe = Some(probe_options(&lab, &lab.info.odoo.admin_password));
    let d = diagnose(&host, &opts).unwrap();
    let public = d.facts.probe.as_ref().unwrap().public.as_ref().unwrap();
    assert!(
        !public.session_holds,
        "every other request lands on the node that never saw the login"
    );
    let f = d.finding("proxy.sticky").unwrap();
    assert_eq!(f.status, Status::Fail);
    assert!(
        f.evidence.iter().any(|e| e.excerpt.contains("was lost")),
        "{:#?}",
        f.evidence
    );
}

#[test]
fn a_wrong_test_password_is_reported_without_showing_it() {
    let lab = Lab::up("healthy");
    let host = connect(&lab);
    let mut opts = options(&lab);
    opts.probe = Some(probe_options(&lab, "not-the-password-xyz"));
    let d = diagnose(&host, &opts).unwrap();
    let err = d
        .facts
        .probe
        .as_ref()
        .unwrap()
        .public
        .as_ref()
        .unwrap()
        .error
        .clone()
        .unwrap();
    assert!(err.contains("login refused"), "{err}");
    assert!(!serde_json::to_string(&d)
        .unwrap()
        .contains("not-the-password-xyz"));
}
