//! Discovery parsing on captured outputs of real deployment shapes (tests are data): which Odoo
//! instances run, how they are started and restarted, which config they read, where their
//! sessions live, and which cron lines delete them.

use osd_engine::checks::session::deletes_sessions;
use osd_engine::discover::instances_of;
use osd_engine::discover::inventory::Inventory;
use osd_engine::discover::sections::Sections;
use osd_engine::facts::{CleanerKind, Service};
use osd_engine::version::OdooVersion;

fn inventory(name: &str) -> Inventory {
    let text = std::fs::read_to_string(format!(
        "{}/tests/fixtures/discovery/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    let s = Sections::parse(&text);
    assert!(s.complete(), "{name} is a complete capture");
    Inventory::parse(&s)
}

#[test]
fn debian_package_under_systemd() {
    let inv = inventory("debian-systemd.txt");
    assert_eq!((inv.cpus, inv.mem_total_bytes / 1024 / 1024), (4, 7957));
    let inst = instances_of(&inv);
    assert_eq!(
        inst.len(),
        1,
        "workers and the gevent process belong to their master"
    );
    let (summary, odoo) = &inst[0];
    assert_eq!(
        summary.service,
        Service::Systemd {
            unit: "odoo.service".into()
        }
    );
    assert_eq!(
        odoo.service.restart_command().unwrap().join(" "),
        "systemctl restart odoo.service"
    );
    assert_eq!(odoo.process_count, 4);
    assert_eq!(odoo.config.as_ref().unwrap().path, "/etc/odoo/odoo.conf");
    // No data_dir in the Debian package's odoo.conf: Odoo's default under HOME.
    assert_eq!(odoo.data_dir, "/var/lib/odoo/.local/share/Odoo");
    assert!(odoo.data_dir_source.contains("HOME=/var/lib/odoo"));
    assert_eq!(
        odoo.option("logfile").as_deref(),
        Some("/var/log/odoo/odoo-server.log"),
        "the command line wins over odoo.conf"
    );
    assert_eq!(odoo.http_port(), 8069);

    let sessions = format!("{}/sessions", odoo.data_dir);
    let deleting: Vec<String> = inv
        .cleaners
        .iter()
        .filter(|c| deletes_sessions(&c.kind, &c.text, &sessions))
        .map(|c| format!("{}:{}", c.file, c.line))
        .collect();
    assert_eq!(
        deleting,
        ["/etc/cron.d/odoo-cleanup:3"],
        "the *.log.gz cleanup and Debian's /tmp rule spare sessions"
    );
}

#[test]
fn official_docker_image() {
    let inv = inventory("docker.txt");
    let inst = instances_of(&inv);
    assert_eq!(inst.len(), 1);
    let (_, odoo) = &inst[0];
    assert_eq!(
        odoo.service,
        Service::Docker {
            container: "3f2a1b9c8d7e".into()
        }
    );
    assert_eq!(
        odoo.service.restart_command().unwrap().join(" "),
        "docker restart 3f2a1b9c8d7e"
    );
    assert_eq!(odoo.data_dir, "/var/lib/odoo");
    assert!(odoo.data_dir_source.starts_with("/etc/odoo/odoo.conf:"));
    assert_eq!(odoo.workers(), 4);
    assert!(odoo.option_bool("proxy_mode"));
    let shown = serde_json::to_string(&inst[0].1).unwrap();
    assert!(
        !shown.contains("odoo-docker-pw") && !shown.contains("pbkdf2"),
        "secrets never serialize: {shown}"
    );
}

#[test]
fn supervisor_and_a_second_instance_started_by_hand_as_root() {
    let inv = inventory("two-instances-manual.txt");
    let inst = instances_of(&inv);
    assert_eq!(inst.len(), 2, "both instances are found");
    let prod = &inst.iter().find(|(s, _)| s.pid == Some(1500)).unwrap().1;
    assert_eq!(
        prod.service,
        Service::Supervisor {
            conf: Some("/etc/supervisor/supervisord.conf".into()),
            program: "odoo-prod".into()
        }
    );
    assert_eq!(prod.data_dir, "/srv/odoo/data");
    let by_hand = &inst.iter().find(|(s, _)| s.pid == Some(3001)).unwrap().1;
    assert_eq!(by_hand.service, Service::Manual);
    assert!(by_hand.service.restart_command().is_none());
    // Started without -c: Odoo reads root's ~/.odoorc, and keeps sessions under root's HOME.
    assert_eq!(by_hand.config.as_ref().unwrap().path, "/root/.odoorc");
    assert_eq!(by_hand.rc_files, ["/root/.odoorc"]);
    assert_eq!(by_hand.data_dir, "/root/.local/share/Odoo");
    assert_eq!(by_hand.http_port(), 8070);
}

#[test]
fn cron_tmpfiles_and_tmpreaper_lines() {
    let s = "/var/lib/odoo/.local/share/Odoo/sessions";
    let cron = |t: &str| deletes_sessions(&CleanerKind::Cron, t, s);
    assert!(cron(
        "0 3 * * * root find /var/lib/odoo/.local/share/Odoo/sessions -mtime +1 -delete"
    ));
    assert!(cron(
        "0 3 * * * root find /var/lib/odoo -type f -mtime +7 -exec rm {} \\;"
    ));
    assert!(cron(
        "@daily rm -rf /var/lib/odoo/.local/share/Odoo/sessions/*"
    ));
    assert!(
        !cron("0 3 * * * root find /var/lib/odoo -name '*.log' -delete"),
        "a name pattern that spares session files"
    );
    assert!(
        cron("0 3 * * * root find /var/lib/odoo -name 'werkzeug_*' -delete"),
        "12–15 session files are werkzeug_<id>.sess"
    );
    assert!(
        !cron("0 3 * * * root find /var/lib/odoo-backups -mtime +7 -delete"),
        "a sibling path is not an ancestor"
    );
    let tmp = "/tmp/odoo/sessions";
    assert!(deletes_sessions(
        &CleanerKind::Tmpfiles,
        "D /tmp 1777 root root 10d",
        tmp
    ));
    assert!(
        !deletes_sessions(&CleanerKind::Tmpfiles, "D /tmp 1777 root root -", tmp),
        "Debian's default never ages /tmp"
    );
    assert!(deletes_sessions(
        &CleanerKind::Tmpreaper,
        "TMPREAPER_DIRS='/tmp/.'",
        tmp
    ));
}

#[test]
fn versions_12_to_19_from_release_py_and_version_info() {
    for (text, major) in [
        ("version_info = (12, 0, 0, FINAL, 0, '')", 12),
        ("version_info = (13, 0, 0, FINAL, 0, '')", 13),
        ("version_info = (14, 0, 0, FINAL, 0, '')", 14),
        ("version_info = (15, 0, 0, FINAL, 0, '')", 15),
        ("version_info = (16, 0, 0, FINAL, 0, '')", 16),
        ("17.0", 17),
        ("saas~17.4", 17),
        ("18.0+e", 18),
        ("version_info = (19, 0, 0, FINAL, 0, '')", 19),
    ] {
        assert_eq!(
            OdooVersion::parse(text).map(|v| v.major),
            Some(major),
            "{text}"
        );
    }
}

// Captured from the lab scenarios of issue 9 (tests/lab; paths under /srv/osd-lab, secrets
// replaced, other labs running on the machine at the time removed except for stray noise).

fn instance<'a>(
    inst: &'a [(
        osd_engine::facts::InstanceSummary,
        osd_engine::facts::OdooFacts,
    )],
    config: &str,
) -> &'a (
    osd_engine::facts::InstanceSummary,
    osd_engine::facts::OdooFacts,
) {
    inst.iter()
        .find(|(s, _)| s.config_path.as_deref() == Some(config))
        .unwrap_or_else(|| panic!("no instance with {config}"))
}

#[test]
fn three_versions_on_one_host_each_with_its_manager_version_and_folder() {
    let inv = inventory("lab-shared-cluster.txt");
    let inst = instances_of(&inv);
    let (s17, o17) = instance(&inst, "/srv/osd-lab/etc/odoo.conf");
    let (s18, o18) = instance(&inst, "/srv/osd-lab/etc/odoo18.conf");
    let (s19, o19) = instance(&inst, "/srv/osd-lab/etc/odoo19.conf");
    assert!(matches!(s17.service, Service::Supervisor { ref program, .. } if program == "odoo"));
    assert_eq!(
        (s18.service.clone(), s19.service.clone()),
        (Service::Manual, Service::Manual)
    );
    assert_eq!(
        [&s17.version, &s18.version, &s19.version].map(|v| v.as_deref()),
        [Some("17.0"), Some("18.0"), Some("19.0")],
        "from each install's release.py, without asking a server"
    );
    assert_eq!((o18.user.as_str(), o19.user.as_str()), ("odoo", "root"));
    let dirs = [&o17.data_dir, &o18.data_dir, &o19.data_dir];
    assert!(dirs[0] != dirs[1] && dirs[1] != dirs[2], "{dirs:?}");
    assert!(inst.iter().all(|(s, _)| s.state.is_running()));
    let sorted: Vec<u16> = inst.iter().map(|(s, _)| s.http_port).collect();
    assert!(
        sorted.windows(2).all(|w| w[0] <= w[1]),
        "sorted by port: {sorted:?}"
    );
}

#[test]
fn an_instance_that_never_starts_is_found_from_its_supervisor_program() {
    let inv = inventory("lab-crash-loop.txt");
    let inst = instances_of(&inv);
    let (broken, facts) = instance(&inst, "/srv/osd-lab/etc/odoo.conf");
    assert_eq!(
        broken.pid, None,
        "no process: it is found through supervisor"
    );
    let osd_engine::facts::InstanceState::CrashLoop { manager_says, .. } = &broken.state else {
        panic!("{:?}", broken.state)
    };
    assert!(manager_says.contains("FATAL"), "{manager_says}");
    assert_eq!(broken.version.as_deref(), Some("17.0"));
    // Its config is read from the file the program names, and the fatal line is found.
    let conf = facts.config.as_ref().expect("the program's -c file");
    let refused = osd_engine::checks::conf::refused_values(&conf.doc, 17);
    assert_eq!(refused.len(), 1, "{refused:?}");
    assert_eq!(
        (refused[0].key.as_str(), refused[0].value.as_str()),
        ("smtp_port", "465   #25")
    );
    assert_eq!(refused[0].fixed, Some(("465".into(), Some("25".into()))));
    assert_eq!(
        facts
            .service
            .start_command()
            .unwrap()
            .last()
            .map(String::as_str),
        Some("odoo"),
    );
    let (staging, _) = instance(&inst, "/srv/osd-lab/etc/odoo-staging.conf");
    assert!(staging.state.is_running() && staging.pid.is_some());
}

#[test]
fn a_systemd_unit_in_auto_restart_is_a_crash_loop() {
    let inv = inventory("lab-systemd-crash-loop.txt");
    let inst = instances_of(&inv);
    let (s, facts) = instance(&inst, "/etc/odoo/odoo.conf");
    assert_eq!(
        s.service,
        Service::Systemd {
            unit: "odoo.service".into()
        }
    );
    assert!(
        matches!(s.state, osd_engine::facts::InstanceState::CrashLoop { .. }),
        "{:?}",
        s.state
    );
    // The Debian package's defaults, read from the unit and the passwd entry of its User=.
    assert_eq!(facts.user, "odoo");
    assert_eq!(facts.data_dir, "/var/lib/odoo/.local/share/Odoo");
}

#[test]
fn the_last_start_error_comes_from_the_service_output_and_hides_secrets() {
    let s = Sections::parse(
        "\n==> start-output <==\nTraceback (most recent call last):\n  File \"/usr/bin/odoo\", line 8, in <module>\n\
         optparse.OptionValueError: option smtp_port: invalid integer value: '465   #25'\n\
         \n==> start-logfile <==\n2026-12-01 10:00:00,000 1 CRITICAL ? odoo.sql_db: password authentication failed for s3cret-pw\n\
         \n==> end <==\n",
    );
    assert_eq!(
        osd_engine::discover::last_start_error(&s, &[]).as_deref(),
        Some("optparse.OptionValueError: option smtp_port: invalid integer value: '465   #25'")
    );
    let only_log = Sections::parse(
        "\n==> start-logfile <==\n2026-12-01 10:00:00,000 1 CRITICAL ? odoo.sql_db: password authentication failed for s3cret-pw\n\n==> end <==\n",
    );
    let e = osd_engine::discover::last_start_error(&only_log, &["s3cret-pw".into()]).unwrap();
    assert!(e.contains("CRITICAL") && !e.contains("s3cret-pw"), "{e}");
}
