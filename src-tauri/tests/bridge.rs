//! The shell's glue against a real lab, without a window: `session::App` adds a saved server,
//! meets its unknown host key, trusts it, diagnoses, plans, applies, lists the history and rolls
//! back — the same calls the commands make.
use std::sync::{Arc, Mutex};

use odoo_session_doctor_app::progress::{ProgressEvent, ProgressSink};
use odoo_session_doctor_app::servers::{AuthMethod, ServerInput};
use odoo_session_doctor_app::session::{App, ConnectSecrets, FixInput, Paths};
use osd_engine::progress::Step;
use osd_testlab::Lab;

fn app(dir: &std::path::Path) -> App {
    App::new(Paths {
        config_dir: dir.to_path_buf(),
        ssh_config: None,
        use_user_ssh: false,
    })
}

fn lab_server(lab: &Lab) -> ServerInput {
    ServerInput {
        id: None,
        name: "Lab".into(),
        host: lab.info.ssh.host.clone(),
        port: Some(lab.info.ssh.port),
        user: "root".into(),
        auth: AuthMethod::Key,
        key_file: Some(lab.info.keys.ed25519.display().to_string()),
        instance: Some(lab.info.odoo.conf.display().to_string()),
        state_dir: Some(lab.dir().join("state").display().to_string()),
    }
}

fn events() -> Arc<Mutex<Vec<ProgressEvent>>> {
    Arc::new(Mutex::new(Vec::new()))
}

fn steps(events: &Mutex<Vec<ProgressEvent>>) -> Vec<(Step, bool)> {
    events
        .lock()
        .unwrap()
        .iter()
        .filter_map(|e| match e {
            ProgressEvent::Step {
                step, cancellable, ..
            } => Some((*step, *cancellable)),
            _ => None,
        })
        .collect()
}

#[test]
fn add_trust_diagnose_apply_history_rollback() {
    let lab = Lab::up("short-lifetime");
    let config = tempfile::tempdir().unwrap();
    let app = app(config.path());
    let server = app.save_server(&lab_server(&lab)).unwrap();

    // First connection: the key is unknown; nothing is trusted without the person.
    let e = app
        .connect(&server.id, ConnectSecrets::default(), &())
        .unwrap_err();
    assert_eq!(e.code, "unknown_host_key", "{e}");
    assert_eq!(
        app.trust_host_key(&server.id, "SHA256:not-the-one")
            .unwrap_err()
            .code,
        "key_mismatch"
    );
    let e = app
        .connect(&server.id, ConnectSecrets::default(), &())
        .unwrap_err();
    assert_eq!(e.code, "unknown_host_key");
    app.trust_host_key(&server.id, &lab.info.ssh.host_key_fingerprint)
        .unwrap();
    let connected = app
        .connect(&server.id, ConnectSecrets::default(), &())
        .unwrap();
    assert_eq!(
        connected.host_key_fingerprint,
        lab.info.ssh.host_key_fingerprint
    );
    assert!(connected.unfinished.is_empty());
    let known = std::fs::read_to_string(config.path().join("known_hosts")).unwrap();
    assert!(
        known.contains(&format!("[127.0.0.1]:{}", lab.info.ssh.port)),
        "{known}"
    );

    // Diagnose: the scenario's failing check, first in the quick-fix order.
    let progress = events();
    let d = app.diagnose(&server.id, None, progress.as_ref()).unwrap();
    assert_eq!(
        d.fix_order.first().map(String::as_str),
        Some("session.lifetime"),
        "{:?}",
        d.fix_order
    );
    // The engine's own stages, forwarded as they begin.
    let s: Vec<Step> = steps(&progress).into_iter().map(|(step, _)| step).collect();
    assert_eq!(s.first(), Some(&Step::Inventory), "{s:?}");
    assert_eq!(s.last(), Some(&Step::Judging), "{s:?}");
    for stage in [Step::Config, Step::Database, Step::Server] {
        assert!(s.contains(&stage), "{stage:?} missing from {s:?}");
    }

    // Plan and apply exactly the previewed plan.
    let fix = FixInput {
        checks: vec!["session.lifetime".into()],
        values: [("session.lifetime".to_string(), "86400".to_string())].into(),
    };
    let plan = app.plan_fix(&server.id, &fix).unwrap();
    assert_eq!(
        app.apply(&server.id, plan.plan_id + 1, Arc::new(()))
            .unwrap_err()
            .code,
        "stale_plan"
    );
    let progress = events();
    let sink: Arc<dyn ProgressSink> = progress.clone();
    let (view, close) = app.apply(&server.id, plan.plan_id, sink).unwrap();
    assert!(!close);
    assert_eq!(
        serde_json::to_value(&view.result).unwrap()["status"],
        "applied",
        "{:?}",
        view.result
    );
    assert!(
        view.result.verification.iter().all(|v| v.persisted),
        "{:?}",
        view.result.verification
    );
    let after = view.after.expect("a diagnosis after the apply");
    assert!(!after.fix_order.contains(&"session.lifetime".to_string()));
    // Cancel is offered until the restart, and not from it on.
    let s = steps(&progress);
    let restart = s
        .iter()
        .position(|(step, _)| *step == Step::RestartOdoo)
        .expect("a restart step");
    assert!(s[..restart].iter().all(|(_, c)| *c), "{s:?}");
    assert!(s[restart..].iter().all(|(_, c)| !*c), "{s:?}");
    assert!(matches!(
        progress.lock().unwrap().last(),
        Some(ProgressEvent::Finished)
    ));

    // History, newest first, then the rollback with a fresh diagnosis.
    let history = app.history(&server.id).unwrap();
    assert_eq!(history.len(), 1);
    let (rb, _) = app
        .rollback(&server.id, &history[0].id, Arc::new(()))
        .unwrap();
    assert_eq!(
        rb.after.verdict.line, d.verdict.line,
        "the original state is back"
    );
    assert_eq!(rb.after.fix_order, d.fix_order);

    // The report renders from the connection's diagnoses and records.
    let parts = app.report_parts(&server.id).unwrap();
    let html = odoo_session_doctor_app::report::render(
        &parts,
        odoo_session_doctor_app::views::ReportFormat::Html,
    )
    .unwrap();
    assert!(html.contains("sessions.max_inactivity_seconds"));
    // Titled with the saved name; the change set shows as rolled back.
    assert!(
        html.contains(&format!("<h1>{}</h1>", server.name)),
        "the report is titled with the saved name"
    );
    assert!(
        html.contains("Rolled back"),
        "the undone change set says so"
    );
    assert!(
        !html.contains(&lab.info.postgres.password),
        "no secret in the report"
    );
}

/// Closing the window while an apply runs: the app cancels (it is before the restart), the
/// engine rolls everything back, and only then does the apply return "close now".
#[test]
fn closing_during_an_apply_rolls_back_first_then_closes() {
    struct CloseOnLock(Arc<App>, Mutex<bool>);
    impl ProgressSink for CloseOnLock {
        fn report(&self, event: ProgressEvent) {
            if let ProgressEvent::Step {
                step: Step::Lock, ..
            } = event
            {
                *self.1.lock().unwrap() = self.0.close_when_idle();
            }
        }
    }
    let lab = Lab::up("short-lifetime");
    let config = tempfile::tempdir().unwrap();
    let app = Arc::new(app(config.path()));
    let server = app.save_server(&lab_server(&lab)).unwrap();
    app.connect(&server.id, ConnectSecrets::default(), &())
        .unwrap_err();
    app.trust_host_key(&server.id, &lab.info.ssh.host_key_fingerprint)
        .unwrap();
    app.connect(&server.id, ConnectSecrets::default(), &())
        .unwrap();
    let before = app.diagnose(&server.id, None, &()).unwrap();
    let fix = FixInput {
        checks: vec!["session.lifetime".into()],
        values: Default::default(),
    };
    let plan = app.plan_fix(&server.id, &fix).unwrap();
    assert!(
        app.close_when_idle(),
        "nothing runs yet: the window may close at once"
    );
    let sink = Arc::new(CloseOnLock(app.clone(), Mutex::new(true)));
    let (view, close) = app.apply(&server.id, plan.plan_id, sink.clone()).unwrap();
    assert!(
        !*sink.1.lock().unwrap(),
        "the window did not close while the apply ran"
    );
    assert!(close, "the window closes once the apply has ended");
    let status = serde_json::to_value(&view.result).unwrap()["status"].clone();
    assert_eq!(status, "rolled_back", "{:?}", view.result);
    assert!(
        view.result
            .error
            .as_deref()
            .unwrap_or("")
            .contains("cancelled"),
        "{:?}",
        view.result.error
    );
    let again = app.diagnose(&server.id, None, &()).unwrap();
    assert_eq!(
        again.verdict.line, before.verdict.line,
        "nothing was left half-applied"
    );
    assert!(!app.is_busy());
}

/// A host with two Odoo instances (issue 9): Connect → Trust → Diagnose asks which one, with
/// each one's port, version, service and state; choosing one keeps the connection (it used to
/// be dropped: "The app is not connected to …", again at every "Diagnose again"); the
/// diagnosis names the one chosen and lists both, and switching to the other works too.
#[test]
fn choosing_an_instance_keeps_the_connection_and_switching_works() {
    use odoo_session_doctor_app::error::{ErrorDetails, InstanceRunState};
    let lab = Lab::up("two-upstreams");
    let odoo2 = lab.info.odoo2.clone().expect("two-upstreams has odoo2");
    let config = tempfile::tempdir().unwrap();
    let app = app(config.path());
    let server = app
        .save_server(&ServerInput {
            instance: None,
            ..lab_server(&lab)
        })
        .unwrap();
    app.connect(&server.id, ConnectSecrets::default(), &())
        .unwrap_err();
    app.trust_host_key(&server.id, &lab.info.ssh.host_key_fingerprint)
        .unwrap();
    app.connect(&server.id, ConnectSecrets::default(), &())
        .unwrap();

    let e = app.diagnose(&server.id, None, &()).unwrap_err();
    assert_eq!(e.code, "several_instances", "{e}");
    let Some(ErrorDetails::SeveralInstances { instances }) = e.details else {
        panic!("{e:?}")
    };
    // Every lab on this machine runs on loopback beside this one: the lab's two are among them.
    let ports: Vec<u16> = instances.iter().map(|i| i.http_port).collect();
    assert!(
        ports.windows(2).all(|w| w[0] <= w[1]),
        "sorted by port: {ports:?}"
    );
    let ours: Vec<_> = instances
        .iter()
        .filter(|i| i.http_port == lab.info.odoo.http_port || i.http_port == odoo2.http_port)
        .collect();
    assert_eq!(ours.len(), 2, "{instances:#?}");
    for i in ours {
        assert_eq!(i.version.as_deref(), Some("17.0"), "{i:#?}");
        assert!(i.service.starts_with("supervisor program odoo"), "{i:#?}");
        assert_eq!(i.state, InstanceRunState::Running, "{i:#?}");
    }
    let second = odoo2.conf.display().to_string();
    assert!(
        instances.iter().any(|i| i.value == second),
        "{instances:#?}"
    );

    app.choose_instance(&server.id, &second).unwrap();
    let d = app
        .diagnose(&server.id, None, &())
        .unwrap_or_else(|e| panic!("the chosen instance is diagnosed on the same connection: {e}"));
    assert_eq!(d.odoo.config.as_deref(), Some(second.as_str()));
    assert_eq!(d.odoo.instance.as_deref(), Some(second.as_str()));
    for i in [&lab.info.odoo, &odoo2] {
        let value = i.conf.display().to_string();
        assert!(
            d.odoo.instances.iter().any(|c| c.value == value),
            "the page can switch among the host's instances: {:#?}",
            d.odoo.instances
        );
    }
    // "Diagnose again" stays on it.
    let again = app.diagnose(&server.id, None, &()).unwrap();
    assert_eq!(again.odoo.instance.as_deref(), Some(second.as_str()));
    // Remembered for the server.
    assert_eq!(
        app.server(&server.id).unwrap().instance.as_deref(),
        Some(second.as_str())
    );

    // Switching from the diagnosis page: the other instance, same connection.
    let first = lab.info.odoo.conf.display().to_string();
    app.choose_instance(&server.id, &first).unwrap();
    let d = app.diagnose(&server.id, None, &()).unwrap();
    assert_eq!(d.odoo.config.as_deref(), Some(first.as_str()));
    assert_eq!(d.odoo.instance.as_deref(), Some(first.as_str()));
    // The plan is made for the instance diagnosed last.
    app.plan_fix(
        &server.id,
        &FixInput {
            checks: vec!["session.lifetime".into()],
            values: Default::default(),
        },
    )
    .unwrap();

    // The databases: decided by Odoo's rules here; a choice (the app's --database) applies on the
    // same connection, and an empty one goes back to the rules.
    let db = lab.info.postgres.db.clone();
    let scope = d.odoo.databases.clone().expect("PostgreSQL was asked");
    assert!(scope.undecided.is_none() && !scope.chosen, "{scope:?}");
    assert!(scope.served.contains(&db), "{scope:?}");
    app.choose_databases(&server.id, &[format!(" {db} ")])
        .unwrap();
    let d = app.diagnose(&server.id, None, &()).unwrap();
    let scope = d.odoo.databases.clone().unwrap();
    assert_eq!((scope.served, scope.chosen), (vec![db.clone()], true));
    assert_eq!(
        d.odoo.config.as_deref(),
        Some(first.as_str()),
        "same instance"
    );
    app.choose_databases(&server.id, &[]).unwrap();
    let d = app.diagnose(&server.id, None, &()).unwrap();
    assert!(!d.odoo.databases.unwrap().chosen);

    // A remembered instance that is gone offers the chooser again.
    app.choose_instance(&server.id, "/etc/odoo/gone.conf")
        .unwrap();
    let e = app.diagnose(&server.id, None, &()).unwrap_err();
    assert_eq!(e.code, "instance_not_found", "{e}");
    assert!(
        matches!(e.details, Some(ErrorDetails::SeveralInstances { ref instances }) if instances.len() >= 2)
    );
}

#[test]
fn a_wrong_key_file_and_an_unreachable_port_are_plain_errors() {
    let lab = Lab::up("healthy");
    let config = tempfile::tempdir().unwrap();
    let app = app(config.path());
    let mut input = lab_server(&lab);
    input.auth = AuthMethod::Password;
    input.key_file = None;
    let server = app.save_server(&input).unwrap();
    app.connect(&server.id, ConnectSecrets::default(), &())
        .unwrap_err();
    app.trust_host_key(&server.id, &lab.info.ssh.host_key_fingerprint)
        .unwrap();
    // Password login without a password: the app asks for it.
    let e = app
        .connect(&server.id, ConnectSecrets::default(), &())
        .unwrap_err();
    assert_eq!(e.code, "secret_needed", "{e}");
    let root_password = lab.info.users.root.password.clone();
    if let Some(pw) = root_password {
        let ok = app
            .connect(
                &server.id,
                ConnectSecrets {
                    password: Some(pw),
                    ..Default::default()
                },
                &(),
            )
            .unwrap();
        assert_eq!(ok.user, "root");
    }
    // Nothing listens on this port.
    input.port = Some(1);
    input.id = Some(server.id.clone());
    app.save_server(&input).unwrap();
    let e = app
        .connect(&server.id, ConnectSecrets::default(), &())
        .unwrap_err();
    assert_eq!(e.code, "unreachable", "{e}");
    assert!(!e.hint.is_empty());
}

/// Logins that are not root: without sudo the app says it cannot act as root; with a sudo that
/// wants a password, the app asks for it (and a wrong one is refused in words).
#[test]
fn sudo_and_no_sudo_logins() {
    let lab = Lab::up("healthy");
    let config = tempfile::tempdir().unwrap();
    let app = app(config.path());
    let mut input = lab_server(&lab);
    input.user = lab.info.users.nosudo.login.clone();
    let nosudo = app.save_server(&input).unwrap();
    app.connect(&nosudo.id, ConnectSecrets::default(), &())
        .unwrap_err();
    app.trust_host_key(&nosudo.id, &lab.info.ssh.host_key_fingerprint)
        .unwrap();
    // sudo cannot tell "no sudo" from "sudo wants a password" before one is tried: ask first...
    let e = app
        .connect(&nosudo.id, ConnectSecrets::default(), &())
        .unwrap_err();
    assert_eq!(e.code, "secret_needed", "{e}");
    // ...and go on without root when the person says this login has none.
    let skip = ConnectSecrets {
        skip_sudo: Some(true),
        ..Default::default()
    };
    let c = app.connect(&nosudo.id, skip, &()).unwrap();
    assert_eq!(serde_json::to_value(c.power).unwrap(), "none");
    let e = app.diagnose(&nosudo.id, None, &()).map(|_| ()).unwrap_err();
    assert_eq!(e.code, "privilege_missing", "{e}");

    input.user = lab.info.users.sudo_passwd.login.clone();
    input.name = "with sudo".into();
    let sudo = app.save_server(&input).unwrap();
    let outcome = app.connect(&sudo.id, ConnectSecrets::default(), &());
    match outcome {
        Err(e) => {
            assert_eq!(e.code, "secret_needed", "{e}");
            let details = serde_json::to_value(&e.details).unwrap();
            assert_eq!(details["secret"], "sudoPassword", "{details}");
        }
        Ok(c) => panic!("connected without the sudo password: {:?}", c.power),
    }
    let wrong = ConnectSecrets {
        sudo_password: Some("wrong".into()),
        ..Default::default()
    };
    let e = app.connect(&sudo.id, wrong, &()).unwrap_err();
    assert_eq!(e.code, "sudo_password_rejected", "{e}");
    let right = ConnectSecrets {
        sudo_password: lab.info.users.sudo_passwd.password.clone(),
        ..Default::default()
    };
    let c = app.connect(&sudo.id, right, &()).unwrap();
    assert_eq!(serde_json::to_value(c.power).unwrap(), "sudo");
}

/// The host-key dialog's command, run on the server itself, prints the very fingerprint the app
/// saw. The lab's sshd serves a key from its own directory (`HostKey <lab>/etc/ssh/…`), not
/// `/etc/ssh/ssh_host_ed25519_key`: the machine's own key there has another fingerprint, which is
/// what the old `ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub` printed.
#[test]
fn the_host_key_compare_command_prints_the_fingerprint_sshd_serves() {
    use odoo_session_doctor_app::error::ErrorDetails;
    let lab = Lab::up("healthy");
    let sshd_config = std::fs::read_to_string(lab.dir().join("etc/ssh/sshd_config")).unwrap();
    assert!(
        sshd_config.contains(&format!("HostKey {}", lab.dir().display())),
        "the lab's sshd uses a non-default host key file:\n{sshd_config}"
    );
    let config = tempfile::tempdir().unwrap();
    let app = app(config.path());
    let server = app.save_server(&lab_server(&lab)).unwrap();
    let e = app
        .connect(&server.id, ConnectSecrets::default(), &())
        .unwrap_err();
    let Some(ErrorDetails::UnknownHostKey {
        fingerprint,
        compare_command,
        ..
    }) = e.details
    else {
        panic!("{e:?}")
    };
    assert_eq!(fingerprint, lab.info.ssh.host_key_fingerprint);

    // Run it on the server, as the person would in a console there (here over the lab's SSH).
    let out = std::process::Command::new("ssh")
        .arg("-i")
        .arg(&lab.info.keys.ed25519)
        .args(["-p", &lab.info.ssh.port.to_string()])
        .args(["-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes"])
        .arg("-o")
        .arg(format!(
            "UserKnownHostsFile={}",
            lab.info.ssh.known_hosts_file.display()
        ))
        .arg(format!("root@{}", lab.info.ssh.host))
        .arg(&compare_command)
        .output()
        .expect("the ssh client runs");
    let printed = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "`{compare_command}` failed: {printed}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        printed.split_whitespace().nth(1),
        Some(fingerprint.as_str()),
        "`{compare_command}` printed: {printed}"
    );
}

/// "Diagnose all" over two labs (healthy, short-lifetime), a port nobody listens on, a password
/// login (never stored) and an address whose key was never trusted: each server reports its start
/// and its own result, nothing asks, and the wizard's open connection stays usable. The
/// overview then shows those results, read back from the config dir.
#[test]
fn diagnose_all_reports_each_server_and_the_overview_keeps_the_results() {
    use odoo_session_doctor_app::fleet::RESULTS_FILE;
    use osd_engine::checks::{CheckId, Status};

    let healthy = Lab::up("healthy");
    let short = Lab::up("short-lifetime");
    let config = tempfile::tempdir().unwrap();
    let app = app(config.path());
    let save = |lab: &Lab, name: &str, edit: &dyn Fn(&mut ServerInput)| {
        let mut input = lab_server(lab);
        input.name = name.into();
        edit(&mut input);
        app.save_server(&input).unwrap()
    };
    let a = save(&healthy, "Healthy", &|_| {});
    let b = save(&short, "Short", &|_| {});
    let down = save(&healthy, "Down", &|i| i.port = Some(1));
    let password = save(&healthy, "Password", &|i| {
        i.auth = AuthMethod::Password;
        i.key_file = None;
    });
    // Same sshd, but under a name the app has no key for.
    let untrusted = save(&short, "Untrusted", &|i| i.host = "localhost".into());
    for (s, lab) in [(&a, &healthy), (&b, &short)] {
        app.connect(&s.id, ConnectSecrets::default(), &())
            .unwrap_err();
        app.trust_host_key(&s.id, &lab.info.ssh.host_key_fingerprint)
            .unwrap();
    }
    // The wizard is on the healthy lab meanwhile.
    app.connect(&a.id, ConnectSecrets::default(), &()).unwrap();

    let progress = events();
    let rows = app.diagnose_all(progress.as_ref()).unwrap();
    let ids: Vec<&str> = rows.iter().map(|r| r.server.id.as_str()).collect();
    assert_eq!(
        ids,
        [&a.id, &b.id, &down.id, &password.id, &untrusted.id].map(String::as_str)
    );

    // One start and one result per server, the start first; then the run's end.
    let events = progress.lock().unwrap().clone();
    for row in &rows {
        let id = &row.server.id;
        let started = events.iter().position(
            |e| matches!(e, ProgressEvent::ServerStarted { server_id } if server_id == id),
        );
        let finished: Vec<usize> = events
            .iter()
            .enumerate()
            .filter_map(|(n, e)| match e {
                ProgressEvent::ServerFinished { server_id, result } if server_id == id => {
                    assert_eq!(Some(result), row.last.as_ref(), "{id}");
                    Some(n)
                }
                _ => None,
            })
            .collect();
        assert_eq!(finished.len(), 1, "{id}: {events:?}");
        assert!(started.is_some_and(|s| s < finished[0]), "{id}: {events:?}");
    }
    assert_eq!(events.last(), Some(&ProgressEvent::Finished));

    let last = |id: &str| {
        rows.iter()
            .find(|r| r.server.id == id)
            .and_then(|r| r.last.clone())
            .unwrap()
    };
    let ok = last(&a.id);
    assert!(ok.error.is_none(), "{ok:?}");
    assert!(ok.version.is_some(), "{ok:?}");
    assert!(
        !ok.problems.iter().any(|p| p.id == CheckId::SessionLifetime),
        "{ok:?}"
    );
    let bad = last(&b.id);
    assert!(
        matches!(bad.status, Some(Status::Warn | Status::Fail)),
        "{bad:?}"
    );
    assert!(
        bad.problems
            .iter()
            .any(|p| p.id == CheckId::SessionLifetime),
        "{bad:?}"
    );
    assert!(bad.worst.is_some(), "{bad:?}");
    let e = last(&down.id).error.unwrap();
    assert_eq!(
        (e.code.as_str(), e.needs_you),
        ("unreachable", false),
        "{e:?}"
    );
    let e = last(&password.id).error.unwrap();
    assert_eq!(
        (e.code.as_str(), e.needs_you),
        ("secret_needed", true),
        "{e:?}"
    );
    assert!(e.message.starts_with("Needs you"), "{e:?}");
    let e = last(&untrusted.id).error.unwrap();
    assert_eq!(
        (e.code.as_str(), e.needs_you),
        ("unknown_host_key", true),
        "{e:?}"
    );
    assert_eq!(e.message, "Needs you: connect once to trust its key.");

    // The wizard's connection was not touched: it diagnoses on.
    app.diagnose(&a.id, None, &()).unwrap();

    // The overview reads the results back from the config dir (a new App: nothing in memory).
    assert!(config.path().join(RESULTS_FILE).is_file());
    let overview = self::app(config.path()).fleet_overview().unwrap();
    assert_eq!(overview.len(), 5);
    for row in &overview {
        let id = &row.server.id;
        let got = row
            .last
            .as_ref()
            .unwrap_or_else(|| panic!("{id}: no last result"));
        let ran = last(id);
        assert_eq!(got.status, ran.status, "{id}");
        assert_eq!(got.error, ran.error, "{id}");
        assert_eq!(got.problems, ran.problems, "{id}");
    }
}

/// The Sessions screen's calls: after a lifetime fix (10 minutes → 1 day), sessions older than
/// the old lifetime are "surviving"; a log-out needs the login typed, deletes that person's
/// sessions (their cookie refused by Odoo) and shows in the history as an action without rollback.
#[test]
fn sessions_surviving_after_a_lifetime_fix_and_log_out() {
    use osd_engine::sessions::Who;
    use osd_testlab::probe;
    let lab = Lab::up("short-lifetime");
    lab.add_user("ana", "ana-Pw-1234", None);
    let port = lab.info.odoo.http_port;
    let login = |l: &str, pw: &str| {
        probe::authenticate(port, "odoo", l, pw, &[])
            .unwrap()
            .session_cookie()
            .unwrap()
            .value
    };
    let config = tempfile::tempdir().unwrap();
    let app = app(config.path());
    let server = app.save_server(&lab_server(&lab)).unwrap();
    let e = app
        .connect(&server.id, ConnectSecrets::default(), &())
        .unwrap_err();
    assert_eq!(e.code, "unknown_host_key");
    app.trust_host_key(&server.id, &lab.info.ssh.host_key_fingerprint)
        .unwrap();
    app.connect(&server.id, ConnectSecrets::default(), &())
        .unwrap();
    app.diagnose(&server.id, None, &()).unwrap();
    let fix = FixInput {
        checks: vec!["session.lifetime".into()],
        values: [("session.lifetime".to_string(), "86400".to_string())].into(),
    };
    let plan = app.plan_fix(&server.id, &fix).unwrap();
    app.apply(&server.id, plan.plan_id, Arc::new(())).unwrap();

    let ana = login("ana", "ana-Pw-1234");
    let admin = login("admin", &lab.info.odoo.admin_password);
    // Ana's session has not been written for 20 minutes: the old cleanup (10 minutes) would
    // have deleted it; after the fix it survives.
    let file = lab
        .host_path(&lab.info.odoo.sessions_dir)
        .join(&ana[..2])
        .join(&ana);
    let old = std::time::SystemTime::now() - std::time::Duration::from_secs(1200);
    std::fs::File::options()
        .write(true)
        .open(&file)
        .unwrap()
        .set_modified(old)
        .unwrap();

    let r = app.sessions(&server.id).unwrap();
    let s = r.surviving.as_ref().expect("a lifetime fix was applied");
    assert_eq!((s.old_secs, s.new_secs), (600, 86400));
    assert_eq!(s.older_than_old, 1, "{}", s.line);
    assert!(s.line.starts_with("Sessions are surviving"), "{}", s.line);
    let json = serde_json::to_string(&r).unwrap();
    assert!(!json.contains(&ana[..16]) && !json.contains(&admin[..16]));

    let who = Who::Login {
        login: "ana".into(),
        db: None,
    };
    let preview = app.preview_logout(&server.id, &who).unwrap();
    assert_eq!(
        (preview.sessions, preview.confirm_with.as_str()),
        (1, "ana")
    );
    assert!(preview.text.contains("cannot be undone"));
    let e = app.log_out(&server.id, &who, "an").unwrap_err();
    assert!(
        e.to_string().to_lowercase().contains("not confirmed"),
        "{e}"
    );
    let o = app.log_out(&server.id, &who, "ana").unwrap();
    assert!(o.ok, "{}", o.text);
    assert_eq!(o.deleted, 1);
    let info = |sid: &str| {
        probe::json_rpc(
            port,
            "/web/session/get_session_info",
            serde_json::json!({}),
            Some(sid),
            &[],
        )
        .unwrap()
        .json()
    };
    assert_eq!(info(&ana)["error"]["code"], 100);
    assert_eq!(info(&admin)["result"]["uid"], 2);
    let history = app.history(&server.id).unwrap();
    let action = history[0]
        .action
        .as_ref()
        .expect("the newest record is the log-out");
    assert!(!action.can_roll_back);
    assert_eq!(history[0].id, o.record.unwrap());
}

const KEYRING_INNER: &str = "remember_and_forget_inside_a_private_keyring";

/// "Remember this password" against a real Secret Service: GNOME Keyring on a private D-Bus
/// session bus (`dbus-run-session`), which runs the inner test below; the person's own keyring
/// is never touched.
#[test]
fn a_remembered_password_connects_without_the_form_until_forgotten() {
    let tmp = tempfile::tempdir().unwrap();
    osd_testlab::keyring::run_inside(KEYRING_INNER, tmp.path(), &[]);
}

#[test]
#[ignore = "run by a_remembered_password_connects_without_the_form_until_forgotten"]
fn remember_and_forget_inside_a_private_keyring() {
    let data = std::path::PathBuf::from(std::env::var("OSD_TEST_DATA").unwrap());
    let lab = Lab::up("healthy");
    let app = app(&data.join("config"));
    let user = lab.info.users.sudo_nopasswd.clone();
    let password = user.password.clone().unwrap();
    let mut input = lab_server(&lab);
    input.user = user.login.clone();
    input.auth = AuthMethod::Password;
    input.key_file = None;
    let server = app.save_server(&input).unwrap();
    // The key is unknown at first: one connect shows it, then it is trusted.
    let e = app
        .connect(&server.id, ConnectSecrets::default(), &())
        .unwrap_err();
    assert_eq!(e.code, "unknown_host_key", "{e}");
    app.trust_host_key(&server.id, &lab.info.ssh.host_key_fingerprint)
        .unwrap();
    assert!(app.remembered_secrets(&server.id).unwrap().is_empty());

    // Typed without Remember: used, not kept.
    let typed = |remember| ConnectSecrets {
        password: Some(password.clone()),
        remember,
        ..Default::default()
    };
    let c = app.connect(&server.id, typed(None), &()).unwrap();
    assert!(c.remembered.is_empty());
    let e = app
        .connect(&server.id, ConnectSecrets::default(), &())
        .unwrap_err();
    assert_eq!(e.code, "secret_needed", "{e}");

    // With Remember: kept in the keyring, never in servers.toml, and used next time.
    let c = app.connect(&server.id, typed(Some(true)), &()).unwrap();
    assert_eq!(
        serde_json::to_value(&c.remembered).unwrap(),
        serde_json::json!(["password"])
    );
    assert!(c.keyring_note.is_none(), "{:?}", c.keyring_note);
    let toml = std::fs::read_to_string(data.join("config/servers.toml")).unwrap();
    assert!(
        !toml.contains(&password),
        "servers.toml holds the password:\n{toml}"
    );
    app.connect(&server.id, ConnectSecrets::default(), &())
        .expect("the remembered password logs in");

    // Forget: gone, and the form is needed again.
    assert!(app.forget_secrets(&server.id).unwrap());
    assert!(app.remembered_secrets(&server.id).unwrap().is_empty());
    let e = app
        .connect(&server.id, ConnectSecrets::default(), &())
        .unwrap_err();
    assert_eq!(e.code, "secret_needed", "{e}");
}
