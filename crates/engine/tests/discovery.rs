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
