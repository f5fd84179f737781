//! The odoo.conf option names Odoo really reads, per major version 12–19, and the folklore table:
//! keys and parameters that blog posts recommend but that no core Odoo ever reads.
//!
//! Source: `odoo/tools/config.py` of odoo/odoo (and of version-pinned forks carrying the same file),
//! read for 12.0, 13.0, 14.0, 16.0, 18.0 and 19.0 and the 17.x rewrite: the `optparse` option
//! definitions (`dest=`), the file-only options (`self.options = {...}` up to 18,
//! `FileOnlyOption(...)` in 19), the `outdated_options_map` of `load()` (xmlrpc_* → http_*), the
//! deprecated aliases of `_warn_deprecated_options()`, and the keys `--save` writes (`demo`,
//! `test_enable`, `translate_modules`, …) so a file Odoo wrote itself is never called wrong.
//! 15.0 and 17.0 were not all read line by line: their rows are the intersection of the versions
//! around them plus the changes named in the release notes (from_filter and the SMTP client
//! certificate in 15; db_maxconn_gevent and the GeoIP2 city/country split in 17).
//!
//! How Odoo treats an unknown key matters for the wording of findings: 12–18 store every key of
//! `[options]` and silently never read the unknown ones; 19 logs
//! `unknown option '…' in the config file … option stored as-is, without parsing`.

use serde::Serialize;

/// Oldest and newest major versions this table describes.
pub const FIRST_MAJOR: u8 = 12;
pub const LAST_MAJOR: u8 = 19;

/// One odoo.conf key of `[options]` and the versions that read it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct OptionSpec {
    pub name: &'static str,
    /// First major version that reads it (12 means "12 or older").
    pub since: u8,
    /// Last major version that reads it, `None` = still read in 19.
    pub until: Option<u8>,
    /// For a deprecated alias: the option Odoo maps it to. The alias still works in these versions.
    pub alias_of: Option<&'static str>,
}

const fn o(name: &'static str, since: u8, until: Option<u8>) -> OptionSpec {
    OptionSpec {
        name,
        since,
        until,
        alias_of: None,
    }
}
const fn alias(name: &'static str, since: u8, until: Option<u8>, of: &'static str) -> OptionSpec {
    OptionSpec {
        name,
        since,
        until,
        alias_of: Some(of),
    }
}

const ALL: Option<u8> = None;

/// Every `[options]` key core Odoo 12–19 knows, with the versions that know it.
pub static OPTIONS: &[OptionSpec] = &[
    // Written by Odoo itself / file-only options.
    o("admin_passwd", 12, ALL),
    o("csv_internal_sep", 12, ALL),
    o("publisher_warranty_url", 12, ALL),
    o("reportgz", 12, ALL),
    o("root_path", 12, Some(18)),
    o("websocket_keep_alive_timeout", 16, ALL),
    o("websocket_rate_limit_burst", 16, ALL),
    o("websocket_rate_limit_delay", 16, ALL),
    o("bin_path", 19, ALL),
    o("default_productivity_apps", 17, ALL),
    o("import_file_maxbytes", 19, ALL),
    o("import_file_timeout", 19, ALL),
    o("import_url_regex", 19, ALL),
    o("proxy_access_token", 19, ALL),
    // Read through config.get() by base_import up to 18; deprecated aliases in 19.
    o("import_image_maxbytes", 12, Some(18)),
    o("import_image_regex", 12, Some(18)),
    o("import_image_timeout", 12, Some(18)),
    alias("import_image_maxbytes", 19, ALL, "import_file_maxbytes"),
    alias("import_image_regex", 19, ALL, "import_url_regex"),
    alias("import_image_timeout", 19, ALL, "import_file_timeout"),
    // Keys `--save` writes in 12–18 (runtime values dumped to the file); harmless, read back.
    o("demo", 12, Some(18)),
    o("test_enable", 12, ALL),
    o("translate_modules", 12, Some(18)),
    // Common options.
    o("config", 12, ALL),
    o("save", 12, ALL),
    o("init", 12, ALL),
    o("update", 12, ALL),
    o("reinit", 19, ALL),
    o("without_demo", 12, ALL),
    o("with_demo", 19, ALL),
    o("import_partial", 12, ALL),
    o("pidfile", 12, ALL),
    o("addons_path", 12, ALL),
    o("upgrade_path", 13, ALL),
    o("pre_upgrade_scripts", 19, ALL),
    o("server_wide_modules", 12, ALL),
    o("data_dir", 12, ALL),
    // HTTP.
    o("http_interface", 12, ALL),
    o("http_port", 12, ALL),
    o("longpolling_port", 12, Some(15)),
    alias("longpolling_port", 16, Some(17), "gevent_port"),
    o("gevent_port", 16, ALL),
    o("http_enable", 12, ALL),
    o("proxy_mode", 12, ALL),
    o("x_sendfile", 16, ALL),
    alias("xmlrpc_port", 12, Some(18), "http_port"),
    alias("xmlrpc_interface", 12, Some(18), "http_interface"),
    alias("xmlrpc", 12, Some(18), "http_enable"),
    // Web.
    o("dbfilter", 12, ALL),
    // Testing.
    o("test_file", 12, ALL),
    o("test_tags", 12, ALL),
    o("screencasts", 13, ALL),
    o("screenshots", 13, ALL),
    // Logging.
    o("logfile", 12, ALL),
    o("logrotate", 12, Some(12)),
    o("syslog", 12, ALL),
    o("log_handler", 12, ALL),
    o("log_db", 12, ALL),
    o("log_db_level", 12, ALL),
    o("log_level", 12, ALL),
    // SMTP.
    o("email_from", 12, ALL),
    o("from_filter", 15, ALL),
    o("smtp_server", 12, ALL),
    o("smtp_port", 12, ALL),
    o("smtp_ssl", 12, ALL),
    o("smtp_user", 12, ALL),
    o("smtp_password", 12, ALL),
    o("smtp_ssl_certificate_filename", 15, ALL),
    o("smtp_ssl_private_key_filename", 15, ALL),
    // Database.
    o("db_name", 12, ALL),
    o("db_user", 12, ALL),
    o("db_password", 12, ALL),
    o("pg_path", 12, ALL),
    o("db_host", 12, ALL),
    o("db_port", 12, ALL),
    o("db_replica_host", 18, ALL),
    o("db_replica_port", 18, ALL),
    o("db_sslmode", 12, ALL),
    o("db_app_name", 19, ALL),
    o("db_maxconn", 12, ALL),
    o("db_maxconn_gevent", 17, ALL),
    o("db_template", 12, ALL),
    // i18n.
    o("load_language", 12, ALL),
    o("language", 12, Some(18)),
    o("translate_out", 12, Some(18)),
    o("translate_in", 12, Some(18)),
    o("overwrite_existing_translations", 12, ALL),
    // Security.
    o("list_db", 12, ALL),
    // Advanced.
    o("dev_mode", 12, ALL),
    o("shell_interface", 12, Some(18)),
    o("stop_after_init", 12, ALL),
    o("osv_memory_count_limit", 12, ALL),
    o("osv_memory_age_limit", 12, Some(13)),
    alias("osv_memory_age_limit", 14, Some(18), "transient_age_limit"),
    o("transient_age_limit", 14, ALL),
    o("max_cron_threads", 12, ALL),
    o("limit_time_worker_cron", 19, ALL),
    o("unaccent", 12, ALL),
    o("geoip_database", 12, Some(16)),
    alias("geoip_database", 17, Some(18), "geoip_city_db"),
    o("geoip_city_db", 17, ALL),
    o("geoip_country_db", 17, ALL),
    // Multiprocessing (POSIX).
    o("workers", 12, ALL),
    o("limit_memory_soft", 12, ALL),
    o("limit_memory_soft_gevent", 18, ALL),
    o("limit_memory_hard", 12, ALL),
    o("limit_memory_hard_gevent", 18, ALL),
    o("limit_time_cpu", 12, ALL),
    o("limit_time_real", 12, ALL),
    o("limit_time_real_cron", 12, ALL),
    o("limit_request", 12, ALL),
];

/// What a given version of Odoo makes of an `[options]` key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum OptionStatus {
    /// Read by this version.
    Known,
    /// Still read, but as a deprecated alias of another option.
    DeprecatedAlias { use_instead: &'static str },
    /// Not read by this version; `renamed_to` when a later version reads it under another name.
    Unknown { renamed_to: Option<&'static str> },
}

fn in_range(spec: &OptionSpec, major: u8) -> bool {
    // Versions outside the table are judged by the nearest end of it.
    let major = major.clamp(FIRST_MAJOR, LAST_MAJOR);
    spec.since <= major && !matches!(spec.until, Some(u) if major > u)
}

/// Status of `key` (case-insensitive, as configparser lowercases keys) for major version `major`.
pub fn option_status(major: u8, key: &str) -> OptionStatus {
    let key = key.trim().to_lowercase();
    let mut renamed_to = None;
    for spec in OPTIONS.iter().filter(|s| s.name == key) {
        if in_range(spec, major) {
            return match spec.alias_of {
                Some(of) => OptionStatus::DeprecatedAlias { use_instead: of },
                None => OptionStatus::Known,
            };
        }
        if spec.alias_of.is_some() {
            renamed_to = spec.alias_of;
        }
    }
    if renamed_to.is_none() {
        renamed_to = RENAMES.iter().find(|r| r.old == key).map(|r| r.new);
    }
    OptionStatus::Unknown { renamed_to }
}

/// True when `major` reads `key`, directly or as a deprecated alias.
pub fn is_known_option(major: u8, key: &str) -> bool {
    !matches!(option_status(major, key), OptionStatus::Unknown { .. })
}

/// All option names `major` reads (aliases included), sorted, without duplicates.
pub fn known_options(major: u8) -> Vec<&'static str> {
    let mut v: Vec<&'static str> = OPTIONS
        .iter()
        .filter(|s| in_range(s, major))
        .map(|s| s.name)
        .collect();
    v.sort_unstable();
    v.dedup();
    v
}

/// A rename between versions: the old name stops working at some point.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Rename {
    pub old: &'static str,
    pub new: &'static str,
    /// First version with the new name.
    pub since: u8,
    /// Last version where the old name still works (as an alias).
    pub old_works_until: u8,
}

/// Renames that matter when a config file outlives an upgrade.
pub static RENAMES: &[Rename] = &[
    // Facts §4: deprecated alias in 16–17, ignored in 18, "unknown option" in 19.
    Rename {
        old: "longpolling_port",
        new: "gevent_port",
        since: 16,
        old_works_until: 17,
    },
    Rename {
        old: "osv_memory_age_limit",
        new: "transient_age_limit",
        since: 14,
        old_works_until: 18,
    },
    Rename {
        old: "geoip_database",
        new: "geoip_city_db",
        since: 17,
        old_works_until: 18,
    },
    Rename {
        old: "xmlrpc_port",
        new: "http_port",
        since: 11,
        old_works_until: 18,
    },
    Rename {
        old: "xmlrpc_interface",
        new: "http_interface",
        since: 11,
        old_works_until: 18,
    },
    Rename {
        old: "xmlrpc",
        new: "http_enable",
        since: 11,
        old_works_until: 18,
    },
];

/// Keys read from `[options]` by well-known add-ons (not core): never folklore, never "unknown"
/// without saying who reads them.
pub static ADDON_OPTIONS: &[(&str, &str)] = &[
    ("running_env", "OCA server_environment"),
    (
        "session_expiry_delay",
        "OCA base_deterministic_session_gc (12.0 only)",
    ),
];

/// The add-on that reads `key` from `[options]`, when it is a known add-on key.
pub fn addon_option(key: &str) -> Option<&'static str> {
    let key = key.trim().to_lowercase();
    ADDON_OPTIONS
        .iter()
        .find(|(k, _)| *k == key)
        .map(|(_, m)| *m)
}

/// Where a piece of folklore lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FolkloreKind {
    /// A key in odoo.conf.
    ConfKey,
    /// A row of `ir_config_parameter`.
    SystemParameter,
    /// An add-on module.
    Module,
}

/// A setting people add to "fix Session Expired" that does nothing, with the one-sentence truth
/// and what to do instead (facts §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Folklore {
    pub key: &'static str,
    pub kind: FolkloreKind,
    pub truth: &'static str,
    pub instead: &'static str,
}

const REAL_KNOB: &str =
    "set the system parameter sessions.max_inactivity_seconds (Odoo 16 and later; \
     earlier versions keep idle sessions 7 days, hard-coded)";

/// Facts §3: none of these exists in core Odoo 12–19.
pub static FOLKLORE: &[Folklore] = &[
    Folklore {
        key: "session_timeout",
        kind: FolkloreKind::ConfKey,
        truth: "session_timeout is not an Odoo option: no version of Odoo reads it.",
        instead: REAL_KNOB,
    },
    Folklore {
        key: "session_expiration",
        kind: FolkloreKind::ConfKey,
        truth: "session_expiration is not an Odoo option: no version of Odoo reads it.",
        instead: REAL_KNOB,
    },
    Folklore {
        key: "session_store_type",
        kind: FolkloreKind::ConfKey,
        truth: "Core Odoo has no database session store: sessions are always files in <data_dir>/sessions.",
        instead: "keep data_dir persistent and shared by all nodes, or install OCA session_db \
                  (server-wide module + SESSION_DB_URI) or camptocamp session_redis",
    },
    Folklore {
        key: "session_expiry_delay",
        kind: FolkloreKind::ConfKey,
        truth: "session_expiry_delay is only read by the OCA module base_deterministic_session_gc \
                (12.0); core Odoo ignores it.",
        instead: REAL_KNOB,
    },
    Folklore {
        key: "session_cookie_age",
        kind: FolkloreKind::SystemParameter,
        truth: "session_cookie_age is a Django setting name; Odoo never reads this parameter.",
        instead: REAL_KNOB,
    },
    Folklore {
        key: "session_cookie_httponly",
        kind: FolkloreKind::SystemParameter,
        truth: "session_cookie_httponly is a Django setting name; Odoo always sets HttpOnly on \
                session_id itself.",
        instead: "nothing to do for HttpOnly; add Secure/SameSite at the proxy with nginx \
                  proxy_cookie_flags session_id samesite=lax secure;",
    },
    Folklore {
        key: "base_session_store_psql",
        kind: FolkloreKind::Module,
        truth: "base_session_store_psql is a third-party module written for Odoo 9–11; it cannot \
                work on 16 and later.",
        instead: "uninstall it; for several nodes use a shared sessions directory or OCA session_db",
    },
];

/// The folklore entry for `key` of the given kind (keys compared case-insensitively).
pub fn folklore(kind: FolkloreKind, key: &str) -> Option<&'static Folklore> {
    let key = key.trim().to_lowercase();
    FOLKLORE.iter().find(|f| f.kind == kind && f.key == key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn longpolling_port_follows_the_rename() {
        assert_eq!(option_status(15, "longpolling_port"), OptionStatus::Known);
        assert_eq!(
            option_status(16, "longpolling_port"),
            OptionStatus::DeprecatedAlias {
                use_instead: "gevent_port"
            }
        );
        assert_eq!(
            option_status(18, "longpolling_port"),
            OptionStatus::Unknown {
                renamed_to: Some("gevent_port")
            }
        );
        assert!(!is_known_option(15, "gevent_port"));
        assert!(is_known_option(16, "gevent_port"));
    }

    #[test]
    fn folklore_is_never_a_known_option() {
        for f in FOLKLORE.iter().filter(|f| f.kind == FolkloreKind::ConfKey) {
            for v in FIRST_MAJOR..=LAST_MAJOR {
                assert!(!is_known_option(v, f.key), "{} known in {v}", f.key);
            }
        }
    }

    #[test]
    fn every_version_knows_the_session_relevant_options() {
        for v in FIRST_MAJOR..=LAST_MAJOR {
            for k in [
                "proxy_mode",
                "data_dir",
                "workers",
                "dbfilter",
                "max_cron_threads",
                "db_name",
                "admin_passwd",
                "limit_time_real",
                "http_port",
                "PROXY_MODE",
            ] {
                assert!(is_known_option(v, k), "{k} unknown in {v}");
            }
        }
        assert!(known_options(19).contains(&"with_demo"));
        assert!(!known_options(18).contains(&"with_demo"));
    }
}

/// How Odoo converts an option's text from odoo.conf. Up to 18 `configmanager._parse_config`
/// casts every option whose command-line definition has an optparse `type` (`int`, `float`,
/// `choice`) with optparse's own checker, and a value it refuses raises `OptionValueError`
/// before logging starts: Odoo does not start. 19 checks every typed option, booleans included.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "type", content = "choices", rename_all = "snake_case")]
pub enum ValueType {
    Int,
    Float,
    Choice(&'static [&'static str]),
    /// Only refused by 19 (12–18 take any text as a truth value).
    Bool,
}

/// `--log-level` choices (`odoo/tools/config.py`); note that `warning` is not one of them.
const LOG_LEVELS: &[&str] = &[
    "info",
    "debug_rpc",
    "warn",
    "test",
    "critical",
    "runbot",
    "debug_sql",
    "error",
    "debug",
    "debug_rpc_answer",
    "notset",
];
const SSL_MODES: &[&str] = &[
    "disable",
    "allow",
    "prefer",
    "require",
    "verify-ca",
    "verify-full",
];

/// The typed options of `odoo/tools/config.py` (`type="int"`, `"float"`, `"choice"`, and the
/// `store_true` flags 19 parses as booleans), with the versions that define them that way.
const TYPED: &[(&str, ValueType, u8, Option<u8>)] = &[
    ("http_port", ValueType::Int, 12, None),
    ("longpolling_port", ValueType::Int, 12, Some(17)),
    ("gevent_port", ValueType::Int, 16, None),
    ("db_port", ValueType::Int, 12, None),
    ("db_replica_port", ValueType::Int, 18, None),
    ("db_maxconn", ValueType::Int, 12, None),
    ("db_maxconn_gevent", ValueType::Int, 17, None),
    ("smtp_port", ValueType::Int, 12, None),
    ("workers", ValueType::Int, 12, None),
    ("max_cron_threads", ValueType::Int, 12, None),
    ("limit_memory_soft", ValueType::Int, 12, None),
    ("limit_memory_hard", ValueType::Int, 12, None),
    ("limit_memory_hard_gevent", ValueType::Int, 17, None),
    ("limit_time_cpu", ValueType::Int, 12, None),
    ("limit_time_real", ValueType::Int, 12, None),
    ("limit_time_real_cron", ValueType::Int, 12, None),
    ("limit_request", ValueType::Int, 12, None),
    ("osv_memory_count_limit", ValueType::Int, 12, Some(13)),
    ("osv_memory_age_limit", ValueType::Float, 12, Some(13)),
    ("transient_age_limit", ValueType::Float, 14, None),
    ("log_level", ValueType::Choice(LOG_LEVELS), 12, None),
    ("db_sslmode", ValueType::Choice(SSL_MODES), 12, None),
    ("proxy_mode", ValueType::Bool, 19, None),
    ("list_db", ValueType::Bool, 19, None),
    ("http_enable", ValueType::Bool, 19, None),
    ("x_sendfile", ValueType::Bool, 19, None),
    ("smtp_ssl", ValueType::Bool, 19, None),
    ("syslog", ValueType::Bool, 19, None),
    ("logrotate", ValueType::Bool, 19, None),
    ("test_enable", ValueType::Bool, 19, None),
    ("unaccent", ValueType::Bool, 19, None),
];

/// How `major` converts `key`, if it converts it at all.
pub fn value_type(major: u8, key: &str) -> Option<ValueType> {
    let key = key.trim().to_lowercase();
    let major = major.clamp(FIRST_MAJOR, LAST_MAJOR);
    TYPED
        .iter()
        .find(|(k, _, since, until)| {
            *k == key && *since <= major && !matches!(until, Some(u) if major > *u)
        })
        .map(|(_, t, _, _)| *t)
}

/// Odoo's own error when `major` refuses `value` for `key` at start (so it does not start), in
/// optparse's words (`option smtp_port: invalid integer value: '465   #25'`); `None` when the
/// value is accepted.
pub fn value_error(major: u8, key: &str, value: &str) -> Option<String> {
    use crate::odoo_conf::{odoo_bool, odoo_int, OdooBool, OdooInt};
    let key = key.trim().to_lowercase();
    let refused = match value_type(major, &key)? {
        ValueType::Int => odoo_int(value, major) == OdooInt::Invalid,
        ValueType::Float => {
            !matches!(value, "False" | "false" | "True" | "true")
                && value.trim().replace('_', "").parse::<f64>().is_err()
        }
        ValueType::Choice(choices) => {
            !matches!(value, "False" | "false" | "True" | "true") && !choices.contains(&value)
        }
        ValueType::Bool => odoo_bool(value, major) == OdooBool::Invalid,
    };
    if !refused {
        return None;
    }
    let what = match value_type(major, &key)? {
        ValueType::Int => "invalid integer value".to_string(),
        ValueType::Float => "invalid floating-point value".to_string(),
        ValueType::Choice(choices) => {
            return Some(format!(
                "option {key}: invalid choice: '{value}' (choose from {})",
                choices
                    .iter()
                    .map(|c| format!("'{c}'"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        }
        ValueType::Bool => "invalid boolean value".to_string(),
    };
    Some(format!("option {key}: {what}: '{value}'"))
}

/// The value Odoo would accept in place of a refused one, when the intent is plain: the text
/// before an inline "comment" (`465   #25` → `465`, the comment kept on its own line), or a
/// near-miss of a choice (`warning` → `warn`). `None` when a person must decide.
pub fn accepted_value(major: u8, key: &str, value: &str) -> Option<(String, Option<String>)> {
    value_error(major, key, value)?;
    let cut = value
        .char_indices()
        .find(|&(i, c)| {
            (c == '#' || c == ';') && (i == 0 || value[..i].ends_with(|p: char| p.is_whitespace()))
        })
        .map(|(i, _)| i);
    if let Some(i) = cut {
        let before = value[..i].trim();
        let comment = value[i..].trim_start_matches(['#', ';']).trim();
        if !before.is_empty() && value_error(major, key, before).is_none() {
            return Some((
                before.to_string(),
                Some(comment.to_string()).filter(|c| !c.is_empty()),
            ));
        }
    }
    let lower = value.trim().to_lowercase();
    let near = match (key.trim().to_lowercase().as_str(), lower.as_str()) {
        ("log_level", "warning") => Some("warn"),
        ("log_level", "err") => Some("error"),
        ("log_level", "crit" | "fatal") => Some("critical"),
        _ => None,
    };
    if let Some(n) = near {
        return Some((n.to_string(), None));
    }
    if lower != value && value_error(major, key, &lower).is_none() {
        return Some((lower, None));
    }
    None
}

#[cfg(test)]
mod value_tests {
    use super::*;

    #[test]
    fn an_inline_comment_after_an_integer_is_fatal_and_fixable() {
        assert_eq!(
            value_error(17, "smtp_port", "465   #25").as_deref(),
            Some("option smtp_port: invalid integer value: '465   #25'")
        );
        assert_eq!(
            accepted_value(17, "smtp_port", "465   #25"),
            Some(("465".into(), Some("25".into())))
        );
        // The same text after a string option is merely wrong, not fatal.
        assert_eq!(value_error(17, "smtp_server", "mail #backup"), None);
        assert_eq!(value_error(17, "smtp_port", "False"), None);
        assert_eq!(value_error(17, "smtp_port", "1_000"), None);
    }

    #[test]
    fn choices_and_booleans_follow_the_version() {
        assert!(value_error(17, "log_level", "warning").is_some());
        assert_eq!(
            accepted_value(16, "log_level", "warning"),
            Some(("warn".into(), None))
        );
        assert_eq!(value_error(17, "log_level", "warn"), None);
        assert_eq!(value_error(18, "proxy_mode", "yes please"), None);
        assert!(value_error(19, "proxy_mode", "yes please").is_some());
        assert_eq!(
            value_error(15, "gevent_port", "x"),
            None,
            "15 has no gevent_port option"
        );
        assert!(value_error(15, "longpolling_port", "x").is_some());
        assert_eq!(
            accepted_value(17, "workers", "four"),
            None,
            "a person decides"
        );
    }
}
