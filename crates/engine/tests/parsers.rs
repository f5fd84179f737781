//! The config parsers as specifications: odoo.conf documents (`osd_engine::odoo_conf`) and nginx
//! `-T` dumps (`osd_engine::nginx`), run on real-world shapes kept in `tests/fixtures/`.
//!
//! Expected odoo.conf values were checked against CPython 3.11's `configparser.RawConfigParser`
//! (what Odoo uses); the nginx dumps were produced by `nginx -T` (nginx 1.22) on the fixture
//! trees, and the syntax error message is nginx's own.

use std::path::Path;

fn fixture(rel: &str) -> String {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(rel);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn fixtures_in(dir: &str) -> Vec<(String, String)> {
    let d = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(dir);
    let mut v: Vec<(String, String)> = std::fs::read_dir(&d)
        .unwrap()
        .map(|e| e.unwrap().path())
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read_to_string(&p).unwrap(),
            )
        })
        .collect();
    v.sort();
    v
}

/// A tiny deterministic PRNG (xorshift64*), so the fuzz-ish tests need no extra crate.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn pick<T: Copy>(&mut self, v: &[T]) -> T {
        v[(self.next() % v.len() as u64) as usize]
    }
}

mod odoo_conf_reading {
    use super::*;
    use osd_engine::odoo_conf::*;

    #[test]
    fn every_fixture_round_trips_byte_for_byte() {
        let all = fixtures_in("odoo_conf");
        assert!(all.len() >= 14);
        for (name, text) in all {
            assert_eq!(OdooConf::parse(&text).to_string(), text, "{name}");
        }
    }

    #[test]
    fn debian_package_default_reads_like_configparser() {
        let doc = OdooConf::parse(&fixture("odoo_conf/debian_package.conf"));
        assert_eq!(doc.sections(), vec!["options"]);
        let keys: Vec<(&str, &str)> = doc
            .entries("options")
            .iter()
            .map(|e| (e.key, e.value))
            .collect();
        assert_eq!(
            keys,
            vec![
                ("db_host", "False"),
                ("db_port", "False"),
                ("db_user", "odoo"),
                ("db_password", "False"),
                ("default_productivity_apps", "True"),
            ]
        );
        // "; admin_passwd = admin" is a comment, not a setting.
        assert_eq!(doc.get("options", "admin_passwd"), None);
        assert_eq!(doc.line_of("options", "db_user"), Some(6));
        assert!(doc.problems().is_empty(), "{:?}", doc.problems());
    }

    #[test]
    fn docker_image_default_has_two_settings_and_many_comments() {
        let doc = OdooConf::parse(&fixture("odoo_conf/docker_image.conf"));
        assert_eq!(doc.entries("options").len(), 2);
        assert_eq!(doc.get("options", "data_dir"), Some("/var/lib/odoo"));
        assert_eq!(doc.line_of("options", "data_dir"), Some(3));
        assert_eq!(doc.get("options", "workers"), None);
        assert!(doc.problems().is_empty());
    }

    #[test]
    fn colon_style_separators_and_spacing() {
        let doc = OdooConf::parse(&fixture("odoo_conf/colon_style.conf"));
        let got: Vec<(&str, char, &str)> = doc
            .entries("options")
            .iter()
            .map(|e| (e.key, e.separator, e.value))
            .collect();
        assert_eq!(
            got,
            vec![
                ("db_host", ':', "localhost"),
                ("db_user", ':', "odoo"),
                ("proxy_mode", ':', "True"),
                ("dbfilter", ':', "^%d$"),
                ("http_port", '=', "8069"),
            ]
        );
    }

    #[test]
    fn keys_are_case_insensitive_and_the_first_separator_wins() {
        let doc = OdooConf::parse("[options]\nProxy_Mode = True\nsmtp_server: mail:25 = x\n");
        assert_eq!(doc.get("options", "proxy_mode"), Some("True"));
        assert_eq!(doc.get("options", "PROXY_MODE"), Some("True"));
        assert_eq!(doc.entries("options")[0].raw_key, "Proxy_Mode");
        assert_eq!(doc.get("options", "smtp_server"), Some("mail:25 = x"));
    }

    #[test]
    fn continuation_lines_join_with_newlines_and_skip_comments() {
        let doc = OdooConf::parse(&fixture("odoo_conf/continuation.conf"));
        assert_eq!(
            doc.get("options", "addons_path"),
            Some(
                "/opt/odoo/odoo/addons,\n/opt/odoo/enterprise,\n\n/opt/odoo/custom\n/opt/odoo/oca"
            )
        );
        assert_eq!(
            doc.get("options", "db_password"),
            Some("multi\nline-secret")
        );
        assert_eq!(doc.get("options", "proxy_mode"), Some("True"));
        let e = &doc.entries("options")[0];
        assert_eq!((e.line, e.last_line), (2, 7));
        assert!(matches!(doc.lines()[5].kind(), LineKind::Comment));
        assert!(matches!(
            doc.lines()[6].kind(),
            LineKind::Continuation { entry_line: 2 }
        ));
    }

    #[test]
    fn windows_line_endings_and_trailing_spaces() {
        let text = fixture("odoo_conf/windows_crlf.conf");
        let doc = OdooConf::parse(&text);
        assert_eq!(doc.get("options", "workers"), Some("4"));
        assert_eq!(doc.get("options", "db_password"), Some("S3cr3t!pw"));
        assert_eq!(doc.lines()[1].eol(), Eol::CrLf);
        assert_eq!(doc.lines().last().unwrap().eol(), Eol::None);
        // A comment before the first section is fine for configparser.
        assert!(doc.problems().is_empty(), "{:?}", doc.problems());
    }

    #[test]
    fn default_section_is_visible_in_options() {
        let doc = OdooConf::parse("[DEFAULT]\nworkers = 3\n[options]\nproxy_mode = True\n");
        assert_eq!(doc.get("options", "workers"), Some("3"));
        assert_eq!(doc.line_of("options", "workers"), Some(2));
    }

    #[test]
    fn an_other_section_is_kept_apart() {
        let doc = OdooConf::parse(&fixture("odoo_conf/queue_job.conf"));
        assert_eq!(doc.sections(), vec!["options", "queue_job"]);
        assert_eq!(doc.get("queue_job", "channels"), Some("root:2,root.mail:1"));
        assert_eq!(doc.get("options", "channels"), None);
        assert!(doc.problems().is_empty());
    }

    #[test]
    fn booleans_as_each_odoo_generation_reads_them() {
        // 12–18: only True/true and False/false are converted; any other non-empty text is truthy.
        for (v, want) in [
            ("True", OdooBool::True),
            ("true", OdooBool::True),
            ("1", OdooBool::True),
            ("False", OdooBool::False),
            ("false", OdooBool::False),
            ("", OdooBool::False),
            ("0", OdooBool::True),
            ("no", OdooBool::True),
            ("FALSE", OdooBool::True),
        ] {
            assert_eq!(odoo_bool(v, 17), want, "17: {v:?}");
        }
        // 19: a real boolean parser; anything else stops Odoo.
        for (v, want) in [
            ("True", OdooBool::True),
            ("on", OdooBool::True),
            ("YES", OdooBool::True),
            ("0", OdooBool::False),
            ("off", OdooBool::False),
            ("None", OdooBool::False),
            ("", OdooBool::Invalid),
            ("enabled", OdooBool::Invalid),
        ] {
            assert_eq!(odoo_bool(v, 19), want, "19: {v:?}");
        }
        assert!(parse_bool("True") && parse_bool("0") && !parse_bool("false") && !parse_bool(""));
        let doc = OdooConf::parse("[options]\nproxy_mode = 0\n");
        assert_eq!(
            doc.bool_value("options", "proxy_mode", 16),
            Some(OdooBool::True)
        );
        assert_eq!(
            doc.bool_value("options", "proxy_mode", 19),
            Some(OdooBool::False)
        );
    }

    #[test]
    fn integers_as_odoo_reads_them() {
        let doc = OdooConf::parse(&fixture("odoo_conf/debian_package.conf"));
        assert_eq!(
            doc.int_value("options", "db_port", 17),
            Some(OdooInt::Unset)
        );
        assert_eq!(odoo_int("8_069", 17), OdooInt::Value(8069));
        assert_eq!(odoo_int("-1", 17), OdooInt::Value(-1));
        assert_eq!(odoo_int("", 17), OdooInt::Invalid);
        assert_eq!(odoo_int("None", 17), OdooInt::Invalid);
        assert_eq!(odoo_int("None", 19), OdooInt::Unset);
        assert_eq!(odoo_int("True", 16), OdooInt::Value(1));
        assert_eq!(odoo_int("120 ; note", 17), OdooInt::Invalid);
    }
}

mod odoo_conf_problems {
    use super::*;
    use osd_engine::odoo_conf::*;

    fn summary(doc: &OdooConf) -> Vec<(usize, Severity, String)> {
        doc.problems()
            .iter()
            .map(|p| {
                let k = serde_json::to_value(&p.kind).unwrap()["kind"]
                    .as_str()
                    .unwrap()
                    .to_string();
                (p.line, p.severity, k)
            })
            .collect()
    }

    #[test]
    fn utf8_bom_is_fatal_but_the_rest_is_still_read() {
        let doc = OdooConf::parse(&fixture("odoo_conf/utf8_bom.conf"));
        assert_eq!(summary(&doc), vec![(1, Severity::Fatal, "bom".into())]);
        assert!(doc.has_bom() && doc.has_fatal_problems());
        assert_eq!(doc.get("options", "proxy_mode"), Some("True"));
    }

    #[test]
    fn duplicate_key_and_duplicate_section_name_both_lines() {
        let doc = OdooConf::parse(&fixture("odoo_conf/duplicates.conf"));
        assert_eq!(
            doc.problems()
                .iter()
                .map(|p| (p.line, p.kind.clone()))
                .collect::<Vec<_>>(),
            vec![
                (
                    4,
                    ProblemKind::DuplicateKey {
                        section: "options".into(),
                        key: "proxy_mode".into(),
                        first_line: 2
                    }
                ),
                (
                    6,
                    ProblemKind::DuplicateSection {
                        name: "options".into(),
                        first_line: 1
                    }
                ),
            ]
        );
        assert!(doc.problems().iter().all(|p| p.severity == Severity::Fatal));
        assert!(doc.problems()[0].message.contains("lines 2 and 4"));
        // Sections met twice are merged, the last duplicate wins (as a non-strict reader).
        assert_eq!(doc.get("options", "proxy_mode"), Some("True"));
        assert_eq!(doc.get("options", "max_cron_threads"), Some("1"));
    }

    #[test]
    fn entry_before_the_first_section_is_fatal() {
        let doc = OdooConf::parse(&fixture("odoo_conf/entry_before_section.conf"));
        assert_eq!(
            summary(&doc),
            vec![(2, Severity::Fatal, "entry_before_section".into())]
        );
        assert_eq!(doc.get("options", "data_dir"), None);
        assert_eq!(doc.get("options", "proxy_mode"), Some("True"));
    }

    #[test]
    fn inline_comment_trap_is_a_warning_that_never_shows_a_secret() {
        let doc = OdooConf::parse(&fixture("odoo_conf/inline_comment.conf"));
        assert_eq!(
            doc.get("options", "limit_time_real"),
            Some("120 ; note: raised for reports")
        );
        assert_eq!(doc.get("options", "logfile"), Some("# disabled"));
        let lines: Vec<(usize, Severity)> = doc
            .problems()
            .iter()
            .map(|p| (p.line, p.severity))
            .collect();
        assert_eq!(
            lines,
            vec![
                (2, Severity::Warning),
                (3, Severity::Warning),
                (5, Severity::Warning),
                (6, Severity::Warning)
            ]
        );
        assert!(!doc.has_fatal_problems());
        let secret = doc.problems().iter().find(|p| p.line == 5).unwrap();
        assert!(!secret.message.contains("hunter2"), "{}", secret.message);
        assert!(doc.problems()[0]
            .message
            .contains("\"120 ; note: raised for reports\""));
    }

    #[test]
    fn a_line_without_separator_is_fatal() {
        let doc = OdooConf::parse("[options]\nproxy_mode\n= True\nworkers = 2\n");
        assert_eq!(
            summary(&doc),
            vec![
                (2, Severity::Fatal, "unparsable".into()),
                (3, Severity::Fatal, "unparsable".into())
            ]
        );
        assert_eq!(doc.get("options", "workers"), Some("2"));
    }

    #[test]
    fn empty_file_and_file_without_options_are_ignored_by_odoo() {
        let doc = OdooConf::parse(&fixture("odoo_conf/empty.conf"));
        assert_eq!(
            summary(&doc),
            vec![(1, Severity::Warning, "no_options_section".into())]
        );
        let doc = OdooConf::parse("[queue_job]\nchannels = root:1\n");
        assert_eq!(
            summary(&doc),
            vec![(2, Severity::Warning, "no_options_section".into())]
        );
    }

    #[test]
    fn clean_real_world_files_have_no_problems() {
        for f in [
            "debian_package.conf",
            "docker_image.conf",
            "colon_style.conf",
            "saved_by_odoo.conf",
            "queue_job.conf",
        ] {
            let doc = OdooConf::parse(&fixture(&format!("odoo_conf/{f}")));
            assert!(doc.problems().is_empty(), "{f}: {:?}", doc.problems());
        }
    }
}

mod odoo_conf_edits {
    use super::*;
    use osd_engine::odoo_conf::*;

    fn set(text: &str, section: &str, key: &str, value: &str) -> String {
        let mut doc = OdooConf::parse(text);
        doc.set(section, key, value).unwrap();
        assert_eq!(doc.get(section, key), Some(value));
        doc.to_string()
    }

    #[test]
    fn set_existing_replaces_only_the_value() {
        let before = fixture("odoo_conf/debian_package.conf");
        let after = set(&before, "options", "db_host", "db.internal");
        assert_eq!(
            after,
            before.replace("db_host = False\n", "db_host = db.internal\n")
        );
    }

    #[test]
    fn set_keeps_the_separator_style_and_finds_keys_case_insensitively() {
        let after = set(
            &fixture("odoo_conf/colon_style.conf"),
            "options",
            "PROXY_MODE",
            "False",
        );
        assert_eq!(
            after,
            "[options]\ndb_host: localhost\ndb_user:odoo\nproxy_mode :False\ndbfilter: ^%d$\nhttp_port = 8069\n"
        );
    }

    #[test]
    fn set_an_empty_value_written_by_odoo_save() {
        let before = fixture("odoo_conf/saved_by_odoo.conf");
        let after = set(&before, "options", "dbfilter", "^%d$");
        assert_eq!(after, before.replace("dbfilter = \n", "dbfilter = ^%d$\n"));
        assert_eq!(
            set("[options]\nx=\n", "options", "x", "1"),
            "[options]\nx=1\n"
        );
        assert_eq!(
            set("[options]\nx =\n", "options", "x", "1"),
            "[options]\nx = 1\n"
        );
    }

    #[test]
    fn set_keeps_crlf_and_trailing_spaces() {
        let before = fixture("odoo_conf/windows_crlf.conf");
        let after = set(&before, "options", "workers", "8");
        assert_eq!(
            after,
            before.replace("workers = 4   \r\n", "workers = 8   \r\n")
        );
    }

    #[test]
    fn set_absent_key_goes_after_the_last_entry_of_its_section() {
        let before = fixture("odoo_conf/queue_job.conf");
        let after = set(&before, "options", "gevent_port", "8072");
        assert_eq!(
            after,
            "[options]\nserver_wide_modules = base,web,queue_job\nworkers = 6\nproxy_mode = True\ngevent_port = 8072\n\n\
             [queue_job]\nchannels = root:2,root.mail:1\njobrunner_db_password = jobsecret\n"
        );
    }

    #[test]
    fn set_absent_key_uses_the_file_line_ending_and_keeps_no_final_newline() {
        let before = fixture("odoo_conf/windows_crlf.conf");
        let after = set(&before, "options", "proxy_mode", "True");
        assert_eq!(
            after,
            before.replace("proxy_mode = False", "proxy_mode = True")
        );
        let after = set(&before, "options", "dbfilter", "^erp$");
        assert_eq!(after, format!("{before}\r\ndbfilter = ^erp$"));
        let after = set(
            &fixture("odoo_conf/no_final_newline.conf"),
            "options",
            "data_dir",
            "/srv/odoo",
        );
        assert_eq!(
            after,
            "[options]\nproxy_mode = True\nworkers = 2\ndata_dir = /srv/odoo"
        );
    }

    #[test]
    fn set_absent_key_uses_the_dominant_spacing() {
        let after = set(
            &fixture("odoo_conf/colon_style.conf"),
            "options",
            "workers",
            "2",
        );
        assert!(after.ends_with("http_port = 8069\nworkers: 2\n"), "{after}");
        let after = set("[options]\na=1\nb=2\nc = 3\n", "options", "d", "4");
        assert_eq!(after, "[options]\na=1\nb=2\nc = 3\nd=4\n");
    }

    #[test]
    fn set_in_an_empty_section_goes_right_after_its_header() {
        let after = set(
            "[options]\n; nothing yet\n\n[queue_job]\nchannels = root:1\n",
            "options",
            "proxy_mode",
            "True",
        );
        assert_eq!(
            after,
            "[options]\nproxy_mode = True\n; nothing yet\n\n[queue_job]\nchannels = root:1\n"
        );
    }

    #[test]
    fn set_creates_options_at_the_end_when_missing() {
        assert_eq!(
            set("", "options", "proxy_mode", "True"),
            "[options]\nproxy_mode = True\n"
        );
        assert_eq!(
            set(
                "[queue_job]\nchannels = root:1\n",
                "options",
                "proxy_mode",
                "True"
            ),
            "[queue_job]\nchannels = root:1\n\n[options]\nproxy_mode = True\n"
        );
        assert_eq!(
            set("; only a comment", "options", "proxy_mode", "True"),
            "; only a comment\n\n[options]\nproxy_mode = True"
        );
    }

    #[test]
    fn set_replaces_a_multi_line_value_and_leaves_comments_alone() {
        let after = set(
            &fixture("odoo_conf/continuation.conf"),
            "options",
            "addons_path",
            "/opt/odoo/addons",
        );
        assert_eq!(
            after,
            "[options]\naddons_path = /opt/odoo/addons\n\n# comment lines inside a value are skipped\n\
             db_password = multi\n  line-secret\nproxy_mode = True\n"
        );
    }

    #[test]
    fn set_refuses_duplicates_and_bad_input_without_touching_the_file() {
        let text = fixture("odoo_conf/duplicates.conf");
        let mut doc = OdooConf::parse(&text);
        assert_eq!(
            doc.set("options", "proxy_mode", "True"),
            Err(ConfError::DuplicateKey {
                section: "options".into(),
                key: "proxy_mode".into(),
                lines: vec![2, 4]
            })
        );
        assert!(matches!(
            doc.set("options", "a=b", "1"),
            Err(ConfError::InvalidKey(_))
        ));
        assert!(matches!(
            doc.set("options", "", "1"),
            Err(ConfError::InvalidKey(_))
        ));
        assert!(matches!(
            doc.set("options", "x", "two\nlines"),
            Err(ConfError::InvalidValue { .. })
        ));
        assert!(matches!(
            doc.set("options", "x", " padded"),
            Err(ConfError::InvalidValue { .. })
        ));
        assert_eq!(doc.to_string(), text);
    }

    #[test]
    fn remove_takes_every_occurrence_and_its_continuation_lines() {
        let mut doc = OdooConf::parse(&fixture("odoo_conf/duplicates.conf"));
        assert_eq!(doc.remove("options", "PROXY_MODE"), 2);
        assert_eq!(
            doc.to_string(),
            "[options]\nworkers = 2\n\n[options]\nmax_cron_threads = 1\n"
        );
        let mut doc = OdooConf::parse(&fixture("odoo_conf/continuation.conf"));
        assert_eq!(doc.remove("options", "db_password"), 1);
        assert!(doc
            .to_string()
            .ends_with("    /opt/odoo/oca\nproxy_mode = True\n"));
        assert_eq!(doc.remove("options", "nothing_here"), 0);
    }

    #[test]
    fn remove_folklore_key_then_set_the_real_option() {
        let before = fixture("odoo_conf/folklore.conf");
        let mut doc = OdooConf::parse(&before);
        assert_eq!(doc.remove("options", "session_timeout"), 1);
        assert_eq!(doc.remove("options", "longpolling_port"), 1);
        doc.set("options", "gevent_port", "8072").unwrap();
        assert_eq!(
            doc.to_string(),
            "[options]\nproxy_mode = True\nsession_store_type = db\ntimezone = Europe/Brussels\n\
             session_expiry_delay = 3600\ngevent_port = 8072\n"
        );
    }

    #[test]
    fn remove_the_last_line_keeps_no_final_newline() {
        let mut doc = OdooConf::parse(&fixture("odoo_conf/no_final_newline.conf"));
        doc.remove("options", "workers");
        assert_eq!(doc.to_string(), "[options]\nproxy_mode = True");
    }

    #[test]
    fn remove_a_duplicate_key_cures_the_fatal_problem() {
        let mut doc = OdooConf::parse("[options]\nworkers = 2\nworkers = 4\n");
        assert!(doc.has_fatal_problems());
        doc.remove("options", "workers");
        doc.set("options", "workers", "4").unwrap();
        assert_eq!(doc.to_string(), "[options]\nworkers = 4\n");
        assert!(doc.problems().is_empty());
    }
}

mod odoo_conf_secrets_and_options {
    use super::*;
    use osd_engine::odoo_conf::*;
    use osd_engine::odoo_options::*;

    #[test]
    fn secret_keys() {
        for k in [
            "admin_passwd",
            "db_password",
            "smtp_password",
            "jobrunner_db_password",
            "proxy_access_token",
            "API_KEY",
            "client_secret",
        ] {
            assert!(is_secret_key(k), "{k}");
        }
        for k in [
            "db_user",
            "proxy_mode",
            "data_dir",
            "websocket_keep_alive_timeout",
            "dbfilter",
        ] {
            assert!(!is_secret_key(k), "{k}");
        }
    }

    #[test]
    fn redaction_masks_values_and_keeps_layout() {
        let doc = OdooConf::parse(&fixture("odoo_conf/windows_crlf.conf"));
        let r = doc.redacted();
        assert_eq!(
            r,
            fixture("odoo_conf/windows_crlf.conf")
                .replace("db_password = S3cr3t!pw", "db_password = ********")
                .replace(
                    "admin_passwd = $pbkdf2-sha512$600000$abc$def",
                    "admin_passwd = ********"
                )
        );
        let r = OdooConf::parse(&fixture("odoo_conf/continuation.conf")).redacted();
        assert!(r.contains("db_password = ********\n  ********\n"), "{r}");
        assert!(!r.contains("line-secret"));
    }

    #[test]
    fn redaction_covers_commented_out_and_unparsable_secrets() {
        let r = OdooConf::parse(&fixture("odoo_conf/debian_package.conf")).redacted();
        assert!(r.contains("; admin_passwd = ********\n"), "{r}");
        let r =
            OdooConf::parse("admin_passwd = topsecret\n[options]\n#db_password=old\n").redacted();
        assert_eq!(
            r,
            "admin_passwd = ********\n[options]\n#db_password=********\n"
        );
        let r = OdooConf::parse(&fixture("odoo_conf/inline_comment.conf")).redacted();
        assert!(r.contains("db_password = ********\n") && !r.contains("hunter2"));
        let r = OdooConf::parse(&fixture("odoo_conf/queue_job.conf")).redacted();
        assert!(r.contains("jobrunner_db_password = ********"));
        // Empty secrets stay visibly empty: "not set" is useful evidence.
        assert_eq!(
            OdooConf::parse("[options]\nadmin_passwd =\n").redacted(),
            "[options]\nadmin_passwd =\n"
        );
    }

    #[test]
    fn unknown_keys_per_version_include_folklore() {
        let doc = OdooConf::parse(&fixture("odoo_conf/folklore.conf"));
        let names = |v: u8| doc.unknown_keys(v);
        assert_eq!(
            names(17),
            vec![
                ("session_timeout".to_string(), 3),
                ("session_store_type".to_string(), 4),
                ("timezone".to_string(), 6),
                ("session_expiry_delay".to_string(), 7),
            ]
        );
        // longpolling_port: read up to 15, alias in 16–17, ignored from 18 on.
        assert!(names(18).contains(&("longpolling_port".to_string(), 5)));
        assert_eq!(
            option_status(18, "longpolling_port"),
            OptionStatus::Unknown {
                renamed_to: Some("gevent_port")
            }
        );
        for (key, _) in names(17) {
            if key == "timezone" {
                assert!(folklore(FolkloreKind::ConfKey, &key).is_none());
            } else {
                let f = folklore(FolkloreKind::ConfKey, &key).unwrap();
                assert!(!f.truth.is_empty() && !f.instead.is_empty());
            }
        }
        assert_eq!(
            addon_option("session_expiry_delay"),
            Some("OCA base_deterministic_session_gc (12.0 only)")
        );
        assert!(folklore(FolkloreKind::SystemParameter, "session_cookie_age").is_some());
        assert!(folklore(FolkloreKind::Module, "base_session_store_psql").is_some());
    }

    #[test]
    fn files_written_by_odoo_or_its_packages_have_no_unknown_keys() {
        for (f, v) in [
            ("debian_package.conf", 17),
            ("docker_image.conf", 16),
            ("saved_by_odoo.conf", 12),
            ("windows_crlf.conf", 17),
            ("queue_job.conf", 18),
        ] {
            let doc = OdooConf::parse(&fixture(&format!("odoo_conf/{f}")));
            assert_eq!(doc.unknown_keys(v), vec![], "{f} on {v}");
        }
        let doc = OdooConf::parse(&fixture("odoo_conf/debian_package.conf"));
        assert_eq!(
            doc.unknown_keys(16),
            vec![("default_productivity_apps".to_string(), 9)]
        );
    }
}

mod odoo_conf_fuzz {
    use super::*;
    use osd_engine::odoo_conf::*;

    const PIECES: &[&str] = &[
        "[options]",
        "[queue_job]",
        "[DEFAULT]",
        "[]",
        "[options",
        "proxy_mode = True",
        "workers=2",
        "Workers : 4",
        "  continued",
        "\tindented = 1",
        "# comment",
        "; comment",
        "",
        "   ",
        "junk line",
        "= no key",
        ":",
        "=",
        "db_password = p ; x",
        "addons_path = a,",
        "\u{feff}[options]",
        "key = välue ✓",
        "[opt]ions]",
        "\u{a0}x = 1",
        "x = \r",
        "a = b = c",
        "\\",
        "[options] trailing",
    ];
    const EOLS: &[&str] = &["\n", "\r\n", "\r", ""];

    fn random_doc(rng: &mut Rng) -> String {
        let n = rng.next() % 12;
        let mut s = String::new();
        for _ in 0..n {
            s.push_str(rng.pick(PIECES));
            s.push_str(rng.pick(EOLS));
        }
        s
    }

    #[test]
    fn any_text_round_trips_and_edits_never_panic() {
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        for _ in 0..4000 {
            let text = random_doc(&mut rng);
            let doc = OdooConf::parse(&text);
            assert_eq!(doc.to_string(), text);
            let _ = doc.redacted();
            let _ = doc.unknown_keys(17);
            let mut d = doc.clone();
            let key = rng.pick(&["proxy_mode", "workers", "new_key", "db_password"]);
            let value = rng.pick(&["True", "", "a ; b", "ünïcode"]);
            if d.set("options", key, value).is_ok() {
                assert_eq!(
                    d.get("options", key),
                    Some(value),
                    "set {key}={value:?} on {text:?} gave {:?}",
                    d.to_string()
                );
            }
            let mut d = doc.clone();
            d.remove("options", key);
            assert!(
                d.entries("options").iter().all(|e| e.key != key),
                "remove {key} on {text:?}"
            );
        }
    }

    #[test]
    fn random_bytes_never_panic() {
        let mut rng = Rng(42);
        for _ in 0..2000 {
            let len = (rng.next() % 64) as usize;
            let bytes: Vec<u8> = (0..len)
                .map(|_| rng.pick(b"[]=:;# \t\r\nabcAB\xef\xbb\xbf\xc3\xa9"))
                .collect();
            let text = String::from_utf8_lossy(&bytes).into_owned();
            let doc = OdooConf::parse(&text);
            assert_eq!(doc.to_string(), text);
        }
    }
}

mod nginx_dump {
    use super::*;
    use osd_engine::nginx::*;

    #[test]
    fn splits_files_byte_exact_and_skips_nginx_messages() {
        let dump = NginxDump::parse(&fixture("nginx/multi_node.dump"));
        let paths: Vec<&str> = dump.files().iter().map(|f| f.path.as_str()).collect();
        assert_eq!(
            paths,
            vec![
                "/etc/nginx/nginx.conf",
                "/etc/nginx/mime.types",
                "/etc/nginx/conf.d/odoo.conf",
                "/etc/nginx/snippets/odoo-proxy.conf",
                "/etc/nginx/conf.d/upstreams.conf",
                "/etc/nginx/conf.d/zz-default.conf",
            ]
        );
        assert_eq!(dump.main_path(), Some("/etc/nginx/nginx.conf"));
        assert_eq!(
            dump.file("/etc/nginx/conf.d/zz-default.conf").unwrap().text,
            "# catch-all: requests by IP address get nothing\r\nserver {\r\n    listen 80 default_server;\r\n    \
             server_name \"\";\r\n    return 444;\r\n}\r\n"
        );
        assert!(dump
            .file("/etc/nginx/nginx.conf")
            .unwrap()
            .text
            .starts_with("worker_processes 4;\n"));
    }

    #[test]
    fn trailing_messages_and_missing_final_newline() {
        let t = "# configuration file /etc/nginx/nginx.conf:\nevents {}\nhttp {}\nnginx: configuration file /etc/nginx/nginx.conf test is successful\n";
        let dump = NginxDump::parse(t);
        assert_eq!(dump.files()[0].text, "events {}\nhttp {}");
        let t = "# configuration file /etc/nginx/nginx.conf:\nevents {}\n\n";
        assert_eq!(NginxDump::parse(t).files()[0].text, "events {}\n");
        let t = "# configuration file /etc/nginx/nginx.conf:\r\nevents {}\r\n\r\n";
        assert_eq!(NginxDump::parse(t).files()[0].text, "events {}\r\n");
        assert!(NginxDump::parse("nginx: [emerg] unknown directive \"x\"\n")
            .files()
            .is_empty());
    }

    #[test]
    fn syntax_error_names_file_and_line_like_nginx() {
        let err = NginxDump::parse(&fixture("nginx/syntax_error.dump"))
            .config()
            .unwrap_err();
        // nginx -t: unexpected end of file, expecting "}" in /etc/nginx/sites-enabled/odoo:8
        assert_eq!(err.file, "/etc/nginx/sites-enabled/odoo");
        assert_eq!(err.line, 8);
        assert_eq!(err.message, "unexpected end of file, expecting \"}\"");
        assert_eq!(
            err.to_string(),
            "/etc/nginx/sites-enabled/odoo:8: unexpected end of file, expecting \"}\""
        );
    }

    #[test]
    fn more_syntax_errors() {
        let e = parse_file("f", "server {\n  listen 80;\n}\n}\n").unwrap_err();
        assert_eq!((e.line, e.message.as_str()), (4, "unexpected \"}\""));
        let e = parse_file("f", "add_header X \"a\"b;\n").unwrap_err();
        assert_eq!((e.line, e.message.as_str()), (1, "unexpected \"b\""));
        let e = parse_file("f", "location / {\n  proxy_pass http://x\n}\n").unwrap_err();
        assert_eq!((e.line, e.message.as_str()), (3, "unexpected \"}\""));
        let e = parse_file("f", "\n\n;\n").unwrap_err();
        assert_eq!((e.line, e.message.as_str()), (3, "unexpected \";\""));
    }

    #[test]
    fn quoted_braces_regexes_variables_and_comments() {
        let t = "# top\nlocation ~* \\.php$ { # trailing\n  add_header X-Test \"a { b } c; d\" always; # c\n  set $x '${host}:{';\n  if ($request_uri ~ \"^/(a|b)$\") { return 403; }\n}\n";
        let d = parse_file("f", t).unwrap();
        assert_eq!(d[0].args, vec!["~*", "\\.php$"]);
        let c = d[0].children();
        assert_eq!(c[0].args, vec!["X-Test", "a { b } c; d", "always"]);
        assert_eq!(c[1].args, vec!["$x", "${host}:{"]);
        assert_eq!(c[2].name, "if");
        assert_eq!(c[2].args, vec!["($request_uri", "~", "^/(a|b)$", ")"]);
        assert_eq!(c[2].children()[0].args, vec!["403"]);
        assert_eq!((c[0].line, c[2].line), (3, 5));
        assert_eq!(
            &t[d[0].span.0..d[0].span.1],
            &t[t.find("location").unwrap()..t.len() - 1]
        );
    }
}

mod nginx_queries {
    use super::*;
    use osd_engine::nginx::*;

    fn config(name: &str) -> NginxConfig {
        NginxDump::parse(&fixture(&format!("nginx/{name}")))
            .config()
            .unwrap()
    }

    #[test]
    fn debian_default_includes_sites_enabled() {
        let c = config("debian_default.dump");
        let servers = c.servers();
        assert_eq!(servers.len(), 1);
        let s = &servers[0];
        assert_eq!(s.directive.file, "/etc/nginx/sites-enabled/default");
        assert_eq!(s.directive.line, 8);
        let l: Vec<(Option<String>, Option<u16>, bool)> = s
            .listens()
            .into_iter()
            .map(|l| (l.address, l.port, l.default_server))
            .collect();
        assert_eq!(
            l,
            vec![
                (None, Some(80), true),
                (Some("[::]".into()), Some(80), true)
            ]
        );
        assert_eq!(s.server_names(), vec!["_"]);
        assert_eq!(
            s.locations().iter().map(|l| l.key()).collect::<Vec<_>>(),
            vec!["/"]
        );
        assert!(!s.is_ssl());
        // mime.types was spliced into http; empty globs are reported, not errors.
        assert!(c.http().unwrap().get("types").is_some());
        let unresolved: Vec<&str> = c
            .unresolved_includes()
            .iter()
            .map(|u| u.pattern.as_str())
            .collect();
        assert_eq!(
            unresolved,
            vec![
                "/etc/nginx/modules-enabled/*.conf",
                "/etc/nginx/conf.d/*.conf"
            ]
        );
    }

    #[test]
    fn official_odoo_shape() {
        let c = config("odoo_official.dump");
        let up: Vec<(&str, Vec<String>)> = c
            .upstreams()
            .iter()
            .map(|u| {
                (
                    u.name,
                    u.servers.iter().map(|s| s.address.clone()).collect(),
                )
            })
            .collect();
        assert_eq!(
            up,
            vec![
                ("odoo", vec!["127.0.0.1:8069".to_string()]),
                ("odoochat", vec!["127.0.0.1:8072".to_string()])
            ]
        );
        let servers = c.servers();
        assert_eq!(servers.len(), 2);
        let r = servers[0].redirects();
        assert_eq!(r.len(), 1);
        assert_eq!(
            (
                r[0].status,
                r[0].scheme.as_deref(),
                r[0].host.as_deref(),
                r[0].target.as_str()
            ),
            (301, Some("https"), Some("$host"), "https://$host$1")
        );
        let tls = &servers[1];
        assert!(tls.is_ssl());
        assert_eq!(tls.ssl_certificates(), vec!["/etc/ssl/nginx/server.crt"]);
        let ws = tls.location("/websocket").unwrap();
        let (headers, from) = ws.proxy_set_headers();
        assert_eq!(from, Level::Location("/websocket".into()));
        assert_eq!(headers.len(), 6);
        assert_eq!(ws.header("x-forwarded-host"), Some("$http_host"));
        assert!(ws.dropped_headers().is_empty());
        assert_eq!(
            ws.effective("proxy_read_timeout").unwrap().args,
            vec!["720s"]
        );
        assert_eq!(
            ws.effective_all("proxy_cookie_flags").directives[0].args,
            vec!["session_id", "samesite=lax", "secure"]
        );
        let to_gevent = c.routes_to("localhost:8072");
        assert_eq!(to_gevent.len(), 1);
        assert_eq!(
            (to_gevent[0].server, to_gevent[0].location.as_str()),
            (1, "/websocket")
        );
        assert_eq!(to_gevent[0].upstream.as_deref(), Some("odoochat"));
        let to_http: Vec<String> = c
            .routes_to("127.0.0.1:8069")
            .into_iter()
            .map(|r| r.location)
            .collect();
        assert_eq!(to_http, vec!["/"]);
        let m = c.map_for("$connection_upgrade").unwrap();
        assert_eq!(
            (m.source, m.default.as_deref()),
            ("$http_upgrade", Some("upgrade"))
        );
        assert_eq!(m.entries, vec![("".to_string(), "close".to_string())]);
    }

    #[test]
    fn websocket_location_drops_server_level_headers() {
        let c = config("single_file_websocket_trap.dump");
        let s = &c.servers()[0];
        assert_eq!(s.effective_all("proxy_set_header").from, Level::Server);
        let ws = s.location("/websocket").unwrap();
        let (own, from) = ws.proxy_set_headers();
        assert_eq!(from, Level::Location("/websocket".into()));
        assert_eq!(
            own.iter().map(|h| h.name).collect::<Vec<_>>(),
            vec!["Upgrade", "Connection"]
        );
        assert_eq!(ws.header("X-Forwarded-Host"), None);
        let dropped: Vec<&str> = ws.dropped_headers().iter().map(|h| h.name).collect();
        assert_eq!(
            dropped,
            vec!["X-Forwarded-Host", "X-Forwarded-For", "X-Forwarded-Proto"]
        );
        // Inheritance is per directive name: the cookie flags still come from the server.
        assert_eq!(ws.effective_all("proxy_cookie_flags").from, Level::Server);

        let root = s.location("/").unwrap();
        assert_eq!(root.proxy_set_headers().1, Level::Server);
        assert_eq!(root.header("X-Forwarded-Host"), Some("$http_host"));
        assert!(root.dropped_headers().is_empty());
        assert_eq!(root.effective("proxy_read_timeout").unwrap().line, 6);

        let nested = s.location("/web/static/").unwrap();
        assert_eq!(nested.depth(), 1);
        assert_eq!(nested.header("X-Forwarded-Proto"), Some("$scheme"));
        assert_eq!(
            nested.effective("proxy_read_timeout").unwrap().args,
            vec!["30s"]
        );
        assert_eq!(
            parse_duration(&root.effective("proxy_read_timeout").unwrap().args[0]),
            Some(std::time::Duration::from_secs(720))
        );

        // localhost and 127.0.0.1 are the same host; the upstream is followed.
        let ws_routes: Vec<String> = c
            .routes_to("127.0.0.1:8072")
            .into_iter()
            .map(|r| r.location)
            .collect();
        assert_eq!(ws_routes, vec!["/websocket"]);
        let http_routes: Vec<String> = c
            .routes_to("localhost:8069")
            .into_iter()
            .map(|r| r.location)
            .collect();
        assert_eq!(http_routes, vec!["/", "/web/static/"]);
    }

    #[test]
    fn multi_node_upstreams_maps_redirects_and_snippets() {
        let c = config("multi_node.dump");
        let nodes = c.upstream("odoo_nodes").unwrap();
        assert_eq!(nodes.balancing, vec![Balancing::IpHash]);
        assert!(nodes.is_sticky());
        assert_eq!(nodes.servers[1].address, "10.0.0.12:8069");
        assert_eq!(
            nodes.servers[1].params,
            vec!["max_fails=3", "fail_timeout=30s"]
        );
        let chat = c.upstream("odoo_chat").unwrap();
        assert!(!chat.is_sticky());
        assert_eq!(chat.servers[1].params, vec!["backup"]);

        let db = c.map_for("odoo_db").unwrap();
        assert_eq!(db.default.as_deref(), Some(""));
        assert_eq!(
            db.entries,
            vec![
                ("erp.example.com".to_string(), "prod".to_string()),
                ("*.test.example.com".to_string(), "test".to_string())
            ]
        );
        assert_eq!(db.value_for("erp.example.com"), Some("prod"));

        let servers = c.servers();
        assert_eq!(servers.len(), 4);
        let r0 = servers[0].redirects();
        assert_eq!(
            (
                r0[0].status,
                r0[0].scheme.as_deref(),
                r0[0].host.as_deref(),
                r0[0].location.clone()
            ),
            (301, Some("https"), Some("$host"), None)
        );
        let r1 = servers[1].redirects();
        assert_eq!(
            (r1[0].status, r1[0].host.as_deref()),
            (301, Some("erp.example.com"))
        );

        let tls = &servers[2];
        assert_eq!(
            tls.listens()
                .iter()
                .map(|l| (l.port, l.ssl))
                .collect::<Vec<_>>(),
            vec![(Some(443), true), (Some(443), true)]
        );
        let hsts = tls.effective_all("add_header");
        assert_eq!(
            hsts.directives[1].args,
            vec![
                "Content-Security-Policy",
                "default-src 'self'; frame-ancestors {none}",
                "always"
            ]
        );

        // Headers spliced from the snippet keep their own file and line.
        let ws = tls.location("/websocket").unwrap();
        let (h, from) = ws.proxy_set_headers();
        assert_eq!(from, Level::Location("/websocket".into()));
        assert_eq!(h.len(), 6);
        assert_eq!(
            (h[0].name, h[0].directive.file.as_str(), h[0].directive.line),
            ("X-Forwarded-Host", "/etc/nginx/snippets/odoo-proxy.conf", 1)
        );
        assert!(ws.dropped_headers().is_empty());

        // add_header has the same trap: the Cache-Control location loses HSTS.
        let img = tls.location("~* /web/(content|image)/").unwrap();
        assert_eq!(
            (img.modifier(), img.path()),
            (Some("~*"), "/web/(content|image)/")
        );
        let ah = img.effective_all("add_header");
        assert_eq!(ah.from, Level::Location("~* /web/(content|image)/".into()));
        assert_eq!(ah.directives.len(), 1);
        assert_eq!(
            tls.location("/").unwrap().effective_all("add_header").from,
            Level::Server
        );

        let catch_all = &servers[3];
        assert_eq!(catch_all.server_names(), vec![""]);
        assert!(catch_all.listens()[0].default_server);
        assert!(
            catch_all.redirects().is_empty(),
            "return 444 is not a redirect"
        );

        let to_node2: Vec<(String, Option<String>)> = c
            .routes_to("10.0.0.12:8069")
            .into_iter()
            .map(|r| (r.location, r.upstream))
            .collect();
        assert_eq!(
            to_node2,
            vec![
                (
                    "~* /web/(content|image)/".to_string(),
                    Some("odoo_nodes".to_string())
                ),
                ("/".to_string(), Some("odoo_nodes".to_string()))
            ]
        );
        assert_eq!(c.routes_to("10.0.0.11:8072").len(), 1);
        assert!(c.routes_to("127.0.0.1:8069").is_empty());
    }

    #[test]
    fn a_server_without_listen_listens_on_80() {
        let c = NginxDump::from_files([(
            "/etc/nginx/nginx.conf",
            "http { server { server_name a; } }",
        )])
        .config()
        .unwrap();
        let l = c.servers()[0].listens();
        assert!(l[0].implicit && l[0].port == Some(80));
    }
}

mod nginx_edits {
    use super::*;
    use osd_engine::nginx::*;

    fn apply(dump: &mut NginxDump, sel: Selector, op: EditOp) -> Vec<FileEdit> {
        let edits = dump.config().unwrap().edit(&sel, &op).unwrap();
        dump.apply(&edits);
        dump.config().expect("re-parse after edit");
        edits
    }

    fn header(name: &str, value: &str) -> NewDirective {
        NewDirective::new("proxy_set_header", [name, value])
    }

    #[test]
    fn add_the_missing_header_to_the_websocket_location() {
        let mut dump = NginxDump::parse(&fixture("nginx/single_file_websocket_trap.dump"));
        let before = dump.file("/etc/nginx/nginx.conf").unwrap().text.clone();
        let sel = Selector::Location {
            server: 0,
            location: "/websocket".into(),
        };
        let edits = apply(
            &mut dump,
            sel,
            EditOp::InsertAtEnd {
                directive: header("X-Forwarded-Host", "$http_host"),
            },
        );
        assert_eq!(edits.len(), 1);
        let expected = before.replace(
            "            proxy_set_header Connection $connection_upgrade;\n        }",
            "            proxy_set_header Connection $connection_upgrade;\n            \
             proxy_set_header X-Forwarded-Host $http_host;\n        }",
        );
        assert_eq!(edits[0].after, expected);
        assert!(edits[0]
            .diff()
            .contains("\n+            proxy_set_header X-Forwarded-Host $http_host;\n"));
        let c = dump.config().unwrap();
        let ws = c.servers()[0].location("/websocket").unwrap();
        assert_eq!(ws.header("X-Forwarded-Host"), Some("$http_host"));
        assert_eq!(
            ws.dropped_headers()
                .iter()
                .map(|h| h.name)
                .collect::<Vec<_>>(),
            vec!["X-Forwarded-For", "X-Forwarded-Proto"]
        );
    }

    #[test]
    fn insert_at_start_of_a_block_goes_after_the_brace_line() {
        let mut dump = NginxDump::parse(&fixture("nginx/single_file_websocket_trap.dump"));
        let before = dump.file("/etc/nginx/nginx.conf").unwrap().text.clone();
        let sel = Selector::Location {
            server: 0,
            location: "/".into(),
        };
        let edits = apply(
            &mut dump,
            sel,
            EditOp::InsertAtStart {
                directive: NewDirective::new("proxy_buffering", ["off"]),
            },
        );
        assert_eq!(
            edits[0].after,
            before.replace(
                "        location / {\n            proxy_pass http://odoo;",
                "        location / {\n            proxy_buffering off;\n            proxy_pass http://odoo;"
            )
        );
    }

    #[test]
    fn add_a_block_with_the_file_two_space_style() {
        let mut dump = NginxDump::parse(&fixture("nginx/odoo_official.dump"));
        let path = "/etc/nginx/sites-enabled/odoo";
        let before = dump.file(path).unwrap().text.clone();
        let block = NewDirective::block(
            "location",
            ["/longpolling"],
            vec![
                NewDirective::new("proxy_pass", ["http://odoochat"]),
                header("X-Forwarded-Host", "$http_host"),
            ],
        );
        let edits = apply(
            &mut dump,
            Selector::Server(1),
            EditOp::InsertAtEnd { directive: block },
        );
        assert_eq!(edits[0].path, path);
        assert_eq!(
            edits[0].after,
            before.replace(
                "    proxy_cookie_flags session_id samesite=lax secure;\n  }\n}\n",
                "    proxy_cookie_flags session_id samesite=lax secure;\n  }\n  location /longpolling {\n    \
                 proxy_pass http://odoochat;\n    proxy_set_header X-Forwarded-Host $http_host;\n  }\n}\n"
            )
        );
        assert!(dump.config().unwrap().servers()[1]
            .location("/longpolling")
            .is_some());
    }

    #[test]
    fn one_line_blocks_stay_on_one_line() {
        let mut dump = NginxDump::parse(&fixture("nginx/odoo_official.dump"));
        let path = "/etc/nginx/sites-enabled/odoo";
        let before = dump.file(path).unwrap().text.clone();
        let edits = apply(
            &mut dump,
            Selector::Upstream("odoo".into()),
            EditOp::InsertAtEnd {
                directive: NewDirective::new("server", ["127.0.0.1:8070", "backup"]),
            },
        );
        assert_eq!(
            edits[0].after,
            before.replace(
                "upstream odoo { server 127.0.0.1:8069; }",
                "upstream odoo { server 127.0.0.1:8069; server 127.0.0.1:8070 backup; }"
            )
        );
        let edits = apply(
            &mut dump,
            Selector::Server(0),
            EditOp::InsertAtStart {
                directive: NewDirective::new("listen", ["[::]:80"]),
            },
        );
        assert!(edits[0]
            .after
            .contains("server { listen [::]:80; listen 80; server_name odoo.example.com;"));
    }

    #[test]
    fn replace_arguments_of_one_directive_on_a_shared_line() {
        let mut dump = NginxDump::parse(&fixture("nginx/odoo_official.dump"));
        let before = dump
            .file("/etc/nginx/sites-enabled/odoo")
            .unwrap()
            .text
            .clone();
        let op = EditOp::ReplaceArgs {
            name: "proxy_read_timeout".into(),
            first_arg: None,
            args: vec!["3600s".into()],
        };
        let edits = apply(&mut dump, Selector::Server(1), op);
        assert_eq!(
            edits[0].after,
            before.replace(
                "proxy_read_timeout 720s; proxy_connect",
                "proxy_read_timeout 3600s; proxy_connect"
            )
        );
        // Arguments needing quotes get them.
        let op = EditOp::ReplaceArgs {
            name: "server_name".into(),
            first_arg: None,
            args: vec!["a b".into(), "c;d".into()],
        };
        let edits = apply(&mut dump, Selector::Server(0), op);
        assert!(edits[0].after.contains("server_name \"a b\" \"c;d\";"));
    }

    #[test]
    fn remove_whole_lines_or_just_the_directive() {
        let mut dump = NginxDump::parse(&fixture("nginx/odoo_official.dump"));
        let before = dump
            .file("/etc/nginx/sites-enabled/odoo")
            .unwrap()
            .text
            .clone();
        let loc = Selector::Location {
            server: 1,
            location: "/".into(),
        };
        let edits = apply(
            &mut dump,
            loc,
            EditOp::Remove {
                name: "proxy_redirect".into(),
                first_arg: None,
            },
        );
        assert_eq!(
            edits[0].after,
            before.replace("    proxy_redirect off;\n", "")
        );
        let edits = apply(
            &mut dump,
            Selector::Server(1),
            EditOp::Remove {
                name: "proxy_connect_timeout".into(),
                first_arg: None,
            },
        );
        assert!(edits[0]
            .after
            .contains("\n  proxy_read_timeout 720s; proxy_send_timeout 720s;\n"));
        let sel = Selector::Location {
            server: 1,
            location: "/websocket".into(),
        };
        let op = EditOp::Remove {
            name: "proxy_set_header".into(),
            first_arg: Some("x-real-ip".into()),
        };
        let edits = apply(&mut dump, sel, op);
        assert!(!edits[0]
            .after
            .contains("    proxy_set_header X-Real-IP $remote_addr;\n    proxy_cookie_flags"));
        assert_eq!(edits[0].after.matches("X-Real-IP").count(), 1);
    }

    #[test]
    fn edits_on_spliced_snippets_touch_the_snippet_file() {
        let mut dump = NginxDump::parse(&fixture("nginx/multi_node.dump"));
        let sel = Selector::Location {
            server: 2,
            location: "/".into(),
        };
        let op = EditOp::Remove {
            name: "proxy_set_header".into(),
            first_arg: Some("X-Real-IP".into()),
        };
        let edits = apply(&mut dump, sel, op);
        assert_eq!(edits.len(), 1);
        assert_eq!(edits[0].path, "/etc/nginx/snippets/odoo-proxy.conf");
        assert_eq!(
            edits[0].after,
            "proxy_set_header X-Forwarded-Host $http_host;\nproxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;\n\
             proxy_set_header X-Forwarded-Proto $scheme;\nproxy_redirect off;\n"
        );
        // The snippet is shared: every location including it changed.
        let c = dump.config().unwrap();
        assert_eq!(
            c.servers()[2]
                .location("/websocket")
                .unwrap()
                .header("X-Real-IP"),
            None
        );
    }

    #[test]
    fn crlf_files_get_crlf_lines() {
        let mut dump = NginxDump::parse(&fixture("nginx/multi_node.dump"));
        let edits = apply(
            &mut dump,
            Selector::Server(3),
            EditOp::InsertAtEnd {
                directive: NewDirective::new("access_log", ["off"]),
            },
        );
        assert_eq!(
            edits[0].after,
            "# catch-all: requests by IP address get nothing\r\nserver {\r\n    listen 80 default_server;\r\n    \
             server_name \"\";\r\n    return 444;\r\n    access_log off;\r\n}\r\n"
        );
    }

    #[test]
    fn a_new_redirect_server_in_a_tab_indented_http_block() {
        let mut dump = NginxDump::parse(&fixture("nginx/debian_default.dump"));
        let before = dump.file("/etc/nginx/nginx.conf").unwrap().text.clone();
        let server = NewDirective::block(
            "server",
            Vec::<String>::new(),
            vec![
                NewDirective::new("listen", ["80"]),
                NewDirective::new("server_name", ["erp.example.com"]),
                NewDirective::new("return", ["301", "https://$host$request_uri"]),
            ],
        );
        let edits = apply(
            &mut dump,
            Selector::Http,
            EditOp::InsertAtEnd { directive: server },
        );
        assert_eq!(
            edits[0].after,
            before.replace(
                "\tinclude /etc/nginx/sites-enabled/*;\n}",
                "\tinclude /etc/nginx/sites-enabled/*;\n\tserver {\n\t\tlisten 80;\n\t\tserver_name erp.example.com;\n\t\t\
                 return 301 https://$host$request_uri;\n\t}\n}"
            )
        );
        let c = dump.config().unwrap();
        assert_eq!(c.servers().len(), 2);
        assert_eq!(
            c.servers()[1].redirects()[0].scheme.as_deref(),
            Some("https")
        );
    }

    #[test]
    fn a_new_server_at_the_end_of_a_site_file() {
        let mut dump = NginxDump::parse(&fixture("nginx/debian_default.dump"));
        let path = "/etc/nginx/sites-enabled/default";
        let before = dump.file(path).unwrap().text.clone();
        let server = NewDirective::block(
            "server",
            Vec::<String>::new(),
            vec![NewDirective::new("listen", ["8080"])],
        );
        let edits = apply(
            &mut dump,
            Selector::FileTop(path.into()),
            EditOp::InsertAtEnd { directive: server },
        );
        assert_eq!(
            edits[0].after,
            format!("{before}\nserver {{\n\tlisten 8080;\n}}\n")
        );
    }

    #[test]
    fn unknown_targets_are_errors() {
        let c = NginxDump::parse(&fixture("nginx/odoo_official.dump"))
            .config()
            .unwrap();
        let op = EditOp::Remove {
            name: "proxy_pass".into(),
            first_arg: None,
        };
        assert!(matches!(
            c.edit(&Selector::Server(9), &op),
            Err(NginxEditError::NotFound(_))
        ));
        assert!(matches!(
            c.edit(&Selector::Server(0), &op),
            Err(NginxEditError::NoSuchDirective(_))
        ));
        assert!(matches!(
            c.edit(&Selector::FileTop("/nope".into()), &op),
            Err(NginxEditError::UnknownFile(_))
        ));
    }
}

mod nginx_fuzz {
    use super::*;
    use osd_engine::nginx::*;

    const TOKENS: &[&str] = &[
        "server",
        "location",
        "/",
        "{",
        "}",
        ";",
        " ",
        "\n",
        "\"q s\"",
        "'x'",
        "\"",
        "'",
        "#c\n",
        "$var",
        "${v}",
        "\\",
        "proxy_set_header",
        "X-A",
        "(",
        ")",
        "include",
        "a*",
        "\r\n",
        "é",
        "if",
        "~*",
        "\\.php$",
    ];

    #[test]
    fn random_token_soup_never_panics_and_valid_results_accept_edits() {
        let mut rng = Rng(7);
        let mut valid = 0;
        for _ in 0..3000 {
            let n = rng.next() % 24;
            let text: String = (0..n).map(|_| rng.pick(TOKENS)).collect();
            let dump = NginxDump::from_files([("/etc/nginx/nginx.conf", text.as_str())]);
            let Ok(c) = dump.config() else { continue };
            valid += 1;
            let new = NewDirective::new("proxy_set_header", ["X-Forwarded-Host", "$http_host"]);
            for (i, _) in c
                .root()
                .iter()
                .enumerate()
                .filter(|(_, d)| d.block.is_some())
            {
                let _ = i;
            }
            let top = Selector::FileTop("/etc/nginx/nginx.conf".into());
            for op in [
                EditOp::InsertAtEnd {
                    directive: new.clone(),
                },
                EditOp::InsertAtStart {
                    directive: new.clone(),
                },
            ] {
                let edits = c.edit(&top, &op).expect("insert at file top");
                assert!(parse_file("/etc/nginx/nginx.conf", &edits[0].after).is_ok());
            }
        }
        assert!(valid > 100, "only {valid} valid soups");
    }

    #[test]
    fn inserting_into_every_block_of_the_fixtures_reparses() {
        for (name, text) in fixtures_in("nginx") {
            let dump = NginxDump::parse(&text);
            let Ok(c) = dump.config() else { continue };
            let new = NewDirective::block(
                "location",
                ["/x y"],
                vec![NewDirective::new("return", ["204"])],
            );
            for (i, s) in c.servers().iter().enumerate() {
                for at_end in [true, false] {
                    let op = if at_end {
                        EditOp::InsertAtEnd {
                            directive: new.clone(),
                        }
                    } else {
                        EditOp::InsertAtStart {
                            directive: new.clone(),
                        }
                    };
                    c.edit(&Selector::Server(i), &op)
                        .unwrap_or_else(|e| panic!("{name} server {i}: {e}"));
                    for l in s.locations() {
                        let sel = Selector::Location {
                            server: i,
                            location: l.key(),
                        };
                        c.edit(&sel, &op)
                            .unwrap_or_else(|e| panic!("{name} {}: {e}", l.key()));
                    }
                }
            }
        }
    }
}

/// Differential check against the real thing: CPython's `RawConfigParser` reading a file, the way
/// Odoo does. Needs `python3`, so it is ignored by default:
/// `cargo test -p osd-engine --test parsers -- --ignored`.
mod odoo_conf_vs_cpython {
    use super::*;
    use osd_engine::odoo_conf::*;

    const PY: &str = r#"
import configparser, json, sys, tempfile, os
out = []
with tempfile.TemporaryDirectory() as d:
    path = os.path.join(d, 'odoo.conf')
    for doc in json.load(sys.stdin):
        with open(path, 'w', encoding='utf-8', newline='') as fh:
            fh.write(doc)
        p = configparser.RawConfigParser()
        try:
            p.read([path])
            out.append({s: dict(p.items(s)) for s in p.sections()})
        except Exception:
            out.append("ERROR")
print(json.dumps(out))
"#;

    const PIECES: &[&str] = &[
        "[options]",
        "[queue_job]",
        "[DEFAULT]",
        "[]",
        "[options",
        "proxy_mode = True",
        "workers=2",
        "Workers : 4",
        "A = 1",
        "a = 2",
        "  continued",
        "\tindented = 1",
        "    deep = 2",
        "# comment",
        "; comment",
        "  # indented comment",
        "",
        "   ",
        "junk line",
        "= no key",
        ":",
        "a = b = c",
        "x: y",
        "db_password = p ; x",
        "\u{a0}x = 1",
        "\u{1c}x=1",
        "[opt]ions]",
        "[options] trailing",
        "  [queue_job]",
        "[ options ]",
        "key = välue ✓",
    ];

    fn rust_view(doc: &OdooConf) -> serde_json::Value {
        if doc.has_fatal_problems() {
            return serde_json::Value::String("ERROR".into());
        }
        let mut m = serde_json::Map::new();
        for sec in doc.sections().into_iter().filter(|s| *s != "DEFAULT") {
            let mut kv = serde_json::Map::new();
            for e in doc.entries("DEFAULT").iter().chain(doc.entries(sec).iter()) {
                kv.insert(e.key.to_string(), doc.get(sec, e.key).unwrap().into());
            }
            m.insert(sec.to_string(), kv.into());
        }
        m.into()
    }

    #[test]
    #[ignore = "needs python3"]
    fn parses_like_cpython_on_generated_documents() {
        let mut rng = Rng(0xC0FF_EE11_D00D_F00D);
        let docs: Vec<String> = (0..20_000)
            .map(|_| {
                let mut s = if rng.next() % 20 == 0 {
                    "\u{feff}".to_string()
                } else {
                    String::new()
                };
                for _ in 0..rng.next() % 10 {
                    s.push_str(rng.pick(PIECES));
                    s.push_str(rng.pick(&["\n", "\r\n", "\r", ""]));
                }
                s
            })
            .collect();
        let mut child = std::process::Command::new("python3")
            .args(["-c", PY])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("python3");
        let input = serde_json::to_vec(&docs).unwrap();
        let mut stdin = child.stdin.take().unwrap();
        let writer = std::thread::spawn(move || std::io::Write::write_all(&mut stdin, &input));
        let out = child.wait_with_output().unwrap();
        writer.join().unwrap().unwrap();
        let python: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
        let mismatches: Vec<(&String, &serde_json::Value, serde_json::Value)> = docs
            .iter()
            .zip(&python)
            .map(|(d, p)| (d, p, rust_view(&OdooConf::parse(d))))
            .filter(|(_, p, r)| *p != r)
            .collect();
        assert!(
            mismatches.is_empty(),
            "{} mismatches, first: {:?}",
            mismatches.len(),
            mismatches.first()
        );
    }
}

/// Judgements on nginx configurations as admins publish them (issue 9, part 4): the checks of
/// `osd_engine::checks::proxy` on facts made of a real `nginx -T` dump, and for the Secure cookie
/// on plain HTTP, the planner's own fix applied to the files and judged again.
mod proxy_judgements {
    use super::*;
    use osd_engine::change::plan::{plan, FixRequest};
    use osd_engine::checks::proxy::{self, BaseUrlConsequence};
    use osd_engine::checks::{Finding, Status};
    use osd_engine::discover::instances_of;
    use osd_engine::discover::inventory::Inventory;
    use osd_engine::discover::sections::Sections;
    use osd_engine::facts::*;
    use osd_engine::nginx::front::{secure_on_plain, Front};
    use osd_engine::nginx::NginxDump;
    use osd_engine::version::OdooVersion;
    use std::collections::BTreeMap;

    /// Facts of a Debian-package Odoo (captured discovery) with this odoo.conf, version, nginx
    /// dump and databases (name, web.base.url).
    fn facts(dump: &str, conf: &str, version: &str, dbs: &[(&str, &str)]) -> Facts {
        let text = fixture("discovery/debian-systemd.txt");
        let inv = Inventory::parse(&Sections::parse(&text));
        let (summary, mut odoo) = instances_of(&inv).remove(0);
        odoo.config = Some(ConfFile::redacted("/etc/odoo/odoo.conf", conf));
        odoo.version = OdooVersion::parse(version);
        let databases = dbs
            .iter()
            .map(|(name, base)| DbParams {
                name: name.to_string(),
                params: [
                    ("web.base.url".to_string(), base.to_string()),
                    ("web.base.url.freeze".to_string(), "True".to_string()),
                ]
                .into_iter()
                .collect(),
                database_secret_present: true,
                modules: BTreeMap::new(),
                autovacuum_cron_active: Some(true),
                via_psql: false,
                revoked_devices: None,
            })
            .collect();
        Facts {
            schema: osd_engine::facts::FACTS_SCHEMA,
            host: HostFacts {
                name: "odoo.example.org".into(),
                host_key_fingerprint: None,
                os: "Debian GNU/Linux 12 (bookworm)".into(),
                kernel: "Linux 6.1.0".into(),
                cpus: 4,
                mem_total_bytes: 8 << 30,
            },
            instances: vec![summary],
            odoo,
            sessions: Observed::Unknown("not needed here".into()),
            cleaners: Vec::new(),
            nginx: Observed::Seen(NginxFacts::new(
                vec!["nginx: master process /usr/sbin/nginx".into()],
                Some("/etc/nginx/nginx.conf".into()),
                "/usr/sbin/nginx -T".into(),
                dump,
            )),
            log: Observed::Unknown("not needed here".into()),
            db: Observed::Seen(DbFacts {
                databases,
                cleanup_only: Vec::new(),
            }),
            db_scope: None,
            server: Observed::Unknown("not needed here".into()),
            probe: None,
            cost: Cost::default(),
        }
    }

    const CONF: &str = "[options]\nproxy_mode = True\nworkers = 2\n";

    fn front(f: &Facts) -> Front {
        f.nginx.seen().unwrap().front(8069, 8072).unwrap()
    }

    fn choices(f: &Finding) -> Vec<&str> {
        f.fixes
            .iter()
            .flat_map(|x| x.choices.iter().map(|c| c.value.as_str()))
            .collect()
    }

    /// A dump with every `/etc/nginx` moved under `root`, its files written there.
    fn on_disk(dump: &str, root: &Path) -> String {
        let moved = dump.replace("/etc/nginx", &format!("{}/etc/nginx", root.display()));
        for f in NginxDump::parse(&moved).files() {
            let p = Path::new(&f.path);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, &f.text).unwrap();
        }
        moved
    }

    /// Plans `proxy.cookie-flags` (with `value`) against the files on disk through the real
    /// planner, and returns the dump as it reads after the change.
    fn plan_cookie_fix(f: &Facts, value: Option<&str>) -> (osd_engine::change::ChangeSet, String) {
        let d = osd_engine::Diagnosis::from_facts(f.clone());
        let req = FixRequest {
            checks: vec!["proxy.cookie-flags".parse().unwrap()],
            values: value
                .map(|v| [("proxy.cookie-flags".parse().unwrap(), v.to_string())].into())
                .unwrap_or_default(),
        };
        let cs = plan(&osd_remote::Host::local(), &d, &req).unwrap();
        let mut dump = NginxDump::parse(f.nginx.seen().unwrap().dump());
        for c in &cs.files {
            assert!(dump.replace_file(&c.path, String::from_utf8(c.after.clone()).unwrap()));
        }
        let text: String = dump
            .files()
            .iter()
            .map(|f| format!("# configuration file {}:\n{}\n", f.path, f.text))
            .collect();
        (cs, text)
    }

    #[test]
    fn secure_cookie_on_a_plain_http_only_site_fails_and_the_fix_drops_secure() {
        let dir = tempfile::tempdir().unwrap();
        let dump = on_disk(&fixture("nginx/plain_http_secure_flags.dump"), dir.path());
        let f = facts(&dump, CONF, "17.0", &[("prod", "http://erp.example.com")]);
        let fnd = judge("proxy.cookie-flags", &f);
        assert_eq!(fnd.status, Status::Fail, "{fnd:#?}");
        assert!(fnd.summary.contains("plain-HTTP"), "{}", fnd.summary);
        assert!(
            fnd.why.contains("Secure") && fnd.why.contains("http://"),
            "{}",
            fnd.why
        );
        let site = format!("{}/etc/nginx/sites-enabled/odoo", dir.path().display());
        assert_eq!(
            fnd.evidence[0].source,
            format!("{site}:24"),
            "{:#?}",
            fnd.evidence
        );
        assert!(fnd.evidence[0]
            .excerpt
            .starts_with("proxy_cookie_flags session_id samesite=lax secure"));
        // No HTTPS here: removing secure is the one fix that can be applied.
        assert_eq!(choices(&fnd), ["drop-secure"]);
        assert_eq!(fnd.fixes[0].default.as_deref(), Some("drop-secure"));

        let (cs, after) = plan_cookie_fix(&f, None);
        assert_eq!(cs.files.len(), 1, "{:#?}", cs.notes);
        assert!(cs.files[0].diff.contains("-    proxy_cookie_flags session_id samesite=lax secure;\n+    proxy_cookie_flags session_id samesite=lax;"), "{}", cs.files[0].diff);
        let fixed = facts(&after, CONF, "17.0", &[("prod", "http://erp.example.com")]);
        assert!(secure_on_plain(&front(&fixed)).is_empty());
        assert_eq!(
            judge("proxy.cookie-flags", &fixed).status,
            Status::Skip,
            "HTTPS first, as before"
        );
    }

    #[test]
    fn a_secure_cookie_path_shared_with_https_is_fixed_by_the_redirect_only() {
        let dir = tempfile::tempdir().unwrap();
        let dump = on_disk(
            &fixture("nginx/https_with_plain_proxy_cookie_path.dump"),
            dir.path(),
        );
        let f = facts(&dump, CONF, "17.0", &[("prod", "https://odoo.example.org")]);
        let fnd = judge("proxy.cookie-flags", &f);
        assert_eq!(fnd.status, Status::Fail, "{fnd:#?}");
        let cookies = format!("{}/etc/nginx/conf.d/cookies.conf:2", dir.path().display());
        assert!(
            fnd.evidence.iter().any(|e| e.source == cookies
                && e.excerpt
                    .contains("proxy_cookie_path / /; secure; HttpOnly; SameSite=Lax")
                && e.excerpt.contains("port 80")),
            "{:#?}",
            fnd.evidence
        );
        // The http-level line also marks HTTPS: removing secure there would weaken it.
        assert_eq!(choices(&fnd), ["redirect"]);
        let (cs, after) = plan_cookie_fix(&f, Some("redirect"));
        assert!(
            cs.files[0]
                .diff
                .contains("+\treturn 301 https://$host$request_uri;"),
            "{}",
            cs.files[0].diff
        );
        let fixed = facts(
            &after,
            CONF,
            "17.0",
            &[("prod", "https://odoo.example.org")],
        );
        assert!(secure_on_plain(&front(&fixed)).is_empty());
        assert_eq!(judge("proxy.cookie-flags", &fixed).status, Status::Ok);
        // A choice that is not safe here is refused, not half-applied.
        let d = osd_engine::Diagnosis::from_facts(f.clone());
        let req = FixRequest {
            checks: vec!["proxy.cookie-flags".parse().unwrap()],
            values: [(
                "proxy.cookie-flags".parse().unwrap(),
                "drop-secure".to_string(),
            )]
            .into(),
        };
        assert!(plan(&osd_remote::Host::local(), &d, &req).is_err());
    }

    #[test]
    fn with_https_the_fix_is_the_redirect_and_https_gets_the_flags_it_lacked() {
        // The plain server carries its own Secure rule; HTTPS has none. Dropping secure on the
        // plain server would leave a plain site beside HTTPS: the redirect is the fix, and the
        // check passes afterwards only if HTTPS marks the cookie itself.
        let dump = "# configuration file /etc/nginx/nginx.conf:\nevents {}\nhttp {\n  server {\n    listen 80;\n    server_name shop.example.com;\n    proxy_cookie_flags session_id secure;\n    location / { proxy_set_header X-Forwarded-Host $http_host; proxy_pass http://127.0.0.1:8069; }\n  }\n  server {\n    listen 443 ssl;\n    server_name shop.example.com;\n    ssl_certificate /etc/nginx/shop.crt;\n    location / { proxy_set_header X-Forwarded-Host $http_host; proxy_pass http://127.0.0.1:8069; }\n  }\n}\n";
        let dir = tempfile::tempdir().unwrap();
        let dump = on_disk(dump, dir.path());
        let f = facts(&dump, CONF, "17.0", &[("prod", "https://shop.example.com")]);
        let fnd = judge("proxy.cookie-flags", &f);
        assert_eq!(fnd.status, Status::Fail, "{fnd:#?}");
        assert_eq!(choices(&fnd), ["redirect"]);
        let (cs, after) = plan_cookie_fix(&f, None);
        let diff = &cs.files[0].diff;
        assert!(
            diff.contains("+    return 301 https://$host$request_uri;"),
            "{diff}"
        );
        assert!(
            diff.contains("+    proxy_cookie_flags session_id samesite=lax secure;")
                || diff.contains("proxy_cookie_flags session_id samesite=lax secure;"),
            "{diff}"
        );
        let fixed = facts(
            &after,
            CONF,
            "17.0",
            &[("prod", "https://shop.example.com")],
        );
        let again = judge("proxy.cookie-flags", &fixed);
        assert_eq!(
            again.status,
            Status::Ok,
            "the apply's verification needs ok: {again:#?}"
        );
    }

    #[test]
    fn one_block_for_both_schemes_with_a_catch_all_regex_fails_without_an_unsafe_fix() {
        let f = facts(
            &fixture("nginx/one_block_both_schemes.dump"),
            CONF,
            "17.0",
            &[],
        );
        let fnd = judge("proxy.cookie-flags", &f);
        assert_eq!(fnd.status, Status::Fail, "{fnd:#?}");
        assert!(fnd.evidence[0]
            .excerpt
            .contains("proxy_cookie_flags ~ secure samesite=strict"));
        assert!(fnd.evidence[0]
            .excerpt
            .contains("in the same block as HTTPS"));
        assert!(
            fnd.fixes.is_empty(),
            "neither a redirect nor dropping secure is safe in that block"
        );
        assert!(fnd.why.contains("redirect"), "{}", fnd.why);
    }

    #[test]
    fn cookie_rules_that_do_not_make_session_id_secure_are_not_the_trap() {
        let site = |rules: &str, extra: &str| {
            format!(
                "# configuration file /etc/nginx/nginx.conf:\nhttp {{\n  server {{\n    listen 80;\n    listen 443 ssl;\n    server_name a.example;\n    ssl_certificate a.crt;\n{extra}    location / {{\n{rules}      proxy_set_header X-Forwarded-Host $http_host;\n      proxy_pass http://127.0.0.1:8069;\n    }}\n  }}\n}}\n"
            )
        };
        let trapped = |dump: String| {
            let f = facts(&dump, CONF, "17.0", &[]);
            !secure_on_plain(&front(&f)).is_empty()
        };
        // nginx applies the first matching rule only.
        assert!(!trapped(site("      proxy_cookie_flags session_id samesite=lax;\n      proxy_cookie_flags ~ secure;\n", "")));
        assert!(trapped(site(
            "      proxy_cookie_flags ~*^SESSION secure;\n",
            ""
        )));
        assert!(!trapped(site(
            "      proxy_cookie_flags ~^frontend_lang secure;\n",
            ""
        )));
        assert!(!trapped(site("      proxy_cookie_flags off;\n", "")));
        assert!(trapped(site(
            "      proxy_cookie_path ~^/(.*)$ \"/$1; Secure\";\n",
            ""
        )));
        assert!(!trapped(site(
            "      proxy_cookie_path /web/ \"/web/; Secure\";\n",
            ""
        )));
        // Plain requests sent to HTTPS by $scheme: nothing is served over http://.
        let redirect =
            "    if ($scheme = http) {\n      return 301 https://$host$request_uri;\n    }\n";
        assert!(!trapped(site(
            "      proxy_cookie_flags session_id secure;\n",
            redirect
        )));
        assert!(trapped(site(
            "      proxy_cookie_flags session_id secure;\n",
            ""
        )));
    }

    #[test]
    fn a_fix_in_a_file_whose_secret_the_facts_hide_keeps_the_real_value() {
        let dir = tempfile::tempdir().unwrap();
        let secret = "c2VjcmV0OnMzY3IzdA==";
        let with_secret = fixture("nginx/plain_http_secure_flags.dump").replace(
            "        proxy_set_header X-Real-IP $remote_addr;\n        proxy_redirect off;\n",
            &format!("        proxy_set_header X-Real-IP $remote_addr;\n        proxy_set_header Authorization \"Basic {secret}\";\n        proxy_redirect off;\n"),
        );
        assert!(with_secret.contains(secret));
        let dump = on_disk(&with_secret, dir.path());
        let f = facts(&dump, CONF, "17.0", &[("prod", "http://erp.example.com")]);
        assert!(!serde_json::to_string(&f).unwrap().contains(secret));
        let fnd = judge("proxy.cookie-flags", &f);
        assert_eq!(fnd.status, Status::Fail, "{fnd:#?}");
        assert!(fnd.evidence[0]
            .source
            .ends_with("/etc/nginx/sites-enabled/odoo:24"));

        let (cs, after) = plan_cookie_fix(&f, None);
        assert_eq!(cs.files.len(), 1, "{:#?}", cs.notes);
        let written = String::from_utf8(cs.files[0].after.clone()).unwrap();
        assert!(
            written.contains(&format!(
                "proxy_set_header Authorization \"Basic {secret}\";"
            )) && written.contains("    proxy_cookie_flags session_id samesite=lax;\n"),
            "{written}"
        );
        assert!(after.contains(secret));
        let fixed = facts(&after, CONF, "17.0", &[("prod", "http://erp.example.com")]);
        assert!(secure_on_plain(&front(&fixed)).is_empty());
    }

    #[test]
    fn a_bare_longpolling_location_counts_up_to_15_and_is_a_note_from_16() {
        let dump = fixture("nginx/longpolling_kept_after_upgrade.dump");
        for v in ["16.0", "17.0", "18.0"] {
            let f = facts(&dump, CONF, v, &[]);
            let fnd = judge("proxy.headers", &f);
            assert_eq!(fnd.status, Status::Ok, "Odoo {v}: {fnd:#?}");
            assert!(
                fnd.evidence
                    .iter()
                    .any(|e| e.source == "/etc/nginx/sites-enabled/odoo.conf:26"
                        && e.excerpt
                            .contains("location /longpolling sends no X-Forwarded-Host")
                        && e.excerpt.contains("unused since Odoo 16")),
                "{:#?}",
                fnd.evidence
            );
        }
        let f = facts(&dump, CONF, "15.0", &[]);
        let fnd = judge("proxy.headers", &f);
        assert_eq!(fnd.status, Status::Fail, "{fnd:#?}");
        assert!(fnd.evidence.iter().any(|e| e.excerpt.contains(
            "location /longpolling sends no X-Forwarded-Host, X-Forwarded-Proto, X-Forwarded-For"
        ) && !e.excerpt.contains("unused")));
    }

    #[test]
    fn a_wrong_web_base_url_fails_only_when_it_logs_people_out() {
        let dump = fixture("nginx/odoo_official.dump");
        let judge = |conf: &str, version: &str, db: &str, base: &str| {
            let f = facts(
                &dump,
                &format!("[options]\nproxy_mode = True\n{conf}"),
                version,
                &[(db, base)],
            );
            judge("proxy.canonical-host", &f)
        };
        // The database does not depend on the host name: links and prints, a warning.
        for conf in ["dbfilter = ^prod$\n", "db_name = prod\n", ""] {
            let fnd = judge(conf, "17.0", "prod", "http://10.0.0.5:8069");
            assert_eq!(fnd.status, Status::Warn, "{conf:?}: {fnd:#?}");
            assert!(
                fnd.summary.contains("nobody is logged out"),
                "{}",
                fnd.summary
            );
            let why = &fnd
                .evidence
                .iter()
                .find(|e| e.source == "what that breaks")
                .unwrap()
                .excerpt;
            assert!(why.contains("PDF") || why.contains("print"), "{why}");
            assert!(
                !fnd.users_see.contains("logged out on another"),
                "{}",
                fnd.users_see
            );
        }
        let fnd = judge("db_name = prod\n", "17.0", "prod", "http://10.0.0.5:8069");
        assert!(fnd
            .evidence
            .iter()
            .any(|e| e.excerpt.contains("db_name = prod fixes the database")));
        // dbfilter by host: under 10.0.0.5 the filter ^%d$ offers "10", not odoo: printing logs out (12–17).
        let fnd = judge("dbfilter = ^%d$\n", "17.0", "odoo", "http://10.0.0.5:8069");
        assert_eq!(fnd.status, Status::Fail, "{fnd:#?}");
        assert!(
            fnd.summary.contains("printing a PDF there logs them out"),
            "{}",
            fnd.summary
        );
        assert_eq!(
            proxy::base_url_consequence(
                &judge_facts(&dump, "dbfilter = ^%d$\n", "17.0", "odoo"),
                &["odoo.example.com".into()],
                "10.0.0.5"
            ),
            BaseUrlConsequence::LogsOutOnPrint {
                filter: "^%d$".into(),
                db: "odoo".into()
            }
        );
        // ... but an internal name with the same first label gives the same database.
        let fnd = judge(
            "dbfilter = ^%d$\n",
            "17.0",
            "odoo",
            "http://odoo.internal.lan",
        );
        assert_eq!(fnd.status, Status::Warn, "{fnd:#?}");
        // 18 does not print through web.base.url.
        let fnd = judge("dbfilter = ^%d$\n", "18.0", "odoo", "http://10.0.0.5:8069");
        assert_eq!(fnd.status, Status::Warn, "{fnd:#?}");
        // The right address: ok.
        let fnd = judge(
            "dbfilter = ^%d$\n",
            "17.0",
            "odoo",
            "https://odoo.example.com",
        );
        assert_eq!(fnd.status, Status::Ok, "{fnd:#?}");
    }

    fn judge_facts(dump: &str, conf: &str, version: &str, db: &str) -> Facts {
        facts(
            dump,
            &format!("[options]\nproxy_mode = True\n{conf}"),
            version,
            &[(db, "http://10.0.0.5:8069")],
        )
    }
}

/// One check's finding on the facts, through the registry (as a diagnosis makes it).
fn judge(id: &str, f: &osd_engine::facts::Facts) -> osd_engine::checks::Finding {
    osd_engine::registry::check(id.parse().expect("a check id")).judge(f)
}
