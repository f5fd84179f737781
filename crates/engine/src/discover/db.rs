//! Database facts, read through an SSH tunnel with the credentials from odoo.conf. Only the
//! session-related parameters are read; `database.secret` is checked for presence, never read.

use crate::facts::{Cost, DbFacts, DbParams, Observed, OdooFacts};
use osd_remote::Host;
use std::collections::BTreeMap;
use std::time::Duration;

/// System parameters the checks read (facts §2–§4), plus the folklore rows of facts §3.
pub const SESSION_PARAMS: &[&str] = &[
    "sessions.max_inactivity_seconds",
    "web.base.url",
    "web.base.url.freeze",
    "report.url",
    "inactive_session_time_out_delay",
    "inactive_session_time_out_ignored_url",
    "database.secret",
    "session_cookie_age",
    "session_cookie_httponly",
    "session_cookie_secure",
    "session_timeout",
    "session_expiration",
];

pub const SESSION_MODULES: &[&str] = &[
    "auth_session_timeout",
    "session_db",
    "session_redis",
    "base_session_store_psql",
    "base_deterministic_session_gc",
];

/// Where Odoo's database is, as odoo.conf says; `db_host` unset means the local socket, which we
/// try as 127.0.0.1 (the usual second listener) through the tunnel.
pub struct DbTarget {
    pub host: String,
    pub port: u16,
    pub user: Option<String>,
    pub password: Option<String>,
    pub names: Vec<String>,
    pub via_socket: bool,
}

pub fn db_target(odoo: &OdooFacts) -> DbTarget {
    let unset = |v: &Option<String>| v.as_deref().map_or(true, |s| s.is_empty() || s == "False");
    let host = odoo.option("db_host");
    let via_socket = unset(&host);
    DbTarget {
        host: if via_socket { "127.0.0.1".into() } else { host.unwrap() },
        port: odoo.option_u64("db_port").unwrap_or(5432) as u16,
        user: Some(odoo.option("db_user")).filter(|u| !unset(u)).flatten().or_else(|| Some(odoo.user.clone())),
        password: Some(odoo.option("db_password")).filter(|p| !unset(p)).flatten(),
        names: odoo
            .option("db_name")
            .filter(|n| !n.is_empty() && n != "False")
            .map(|n| n.split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect())
            .unwrap_or_default(),
        via_socket,
    }
}

/// Opens a connection to `db` through a tunnel on `host`. The caller keeps the tunnel alive.
pub fn connect(
    host: &Host,
    target: &DbTarget,
    db: &str,
) -> Result<(osd_remote::Tunnel, postgres::Client), String> {
    let tunnel = host
        .tunnel(&target.host, target.port)
        .map_err(|e| format!("no tunnel to {}:{}: {e}", target.host, target.port))?;
    let addr = tunnel.local_addr();
    let mut cfg = postgres::Config::new();
    cfg.host(&addr.ip().to_string())
        .port(addr.port())
        .dbname(db)
        .connect_timeout(Duration::from_secs(10))
        .application_name("odoo-session-doctor");
    if let Some(u) = &target.user {
        cfg.user(u);
    }
    if let Some(p) = &target.password {
        cfg.password(p);
    }
    // postgres' own error text names neither the password nor anything secret.
    let client = cfg.connect(postgres::NoTls).map_err(|e| describe_pg_error(&e))?;
    Ok((tunnel, client))
}

pub fn describe_pg_error(e: &postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("{} ({})", db.message(), db.code().code()),
        None => e.to_string(),
    }
}

pub(super) fn db_facts(host: &Host, odoo: &OdooFacts, cost: &mut Cost) -> Observed<DbFacts> {
    let target = db_target(odoo);
    let socket_note = if target.via_socket {
        " (odoo.conf sets no db_host, so Odoo uses the local socket; 127.0.0.1 was tried instead)"
    } else {
        ""
    };
    let mut names = target.names.clone();
    if names.is_empty() {
        let listed = connect(host, &target, "postgres").and_then(|(_t, mut c)| {
            cost.db_round_trips += 1;
            c.query(
                "SELECT datname FROM pg_database WHERE NOT datistemplate AND datname <> 'postgres' \
                 AND has_database_privilege(datname, 'CONNECT') ORDER BY datname",
                &[],
            )
            .map(|rows| rows.iter().map(|r| r.get::<_, String>(0)).collect::<Vec<_>>())
            .map_err(|e| describe_pg_error(&e))
        });
        match listed {
            Ok(n) => names = n,
            Err(e) => return Observed::Unknown(format!("cannot reach PostgreSQL at {}:{}{socket_note}: {e}", target.host, target.port)),
        }
    }
    let mut databases = Vec::new();
    for name in names {
        let (_tunnel, mut client) = match connect(host, &target, &name) {
            Ok(c) => c,
            Err(e) => {
                return Observed::Unknown(format!(
                    "cannot open database '{name}' at {}:{}{socket_note}: {e}",
                    target.host, target.port
                ))
            }
        };
        let keys: Vec<String> = SESSION_PARAMS.iter().map(|s| s.to_string()).collect();
        cost.db_round_trips += 1;
        let rows = match client.query(
            "SELECT key, CASE WHEN key = 'database.secret' THEN '' ELSE value END \
             FROM ir_config_parameter WHERE key = ANY($1)",
            &[&keys],
        ) {
            Ok(r) => r,
            // Not an Odoo database (no such table): skip it, as Odoo's database list would.
            Err(e) if e.code() == Some(&postgres::error::SqlState::UNDEFINED_TABLE) => continue,
            Err(e) => return Observed::Unknown(format!("reading ir_config_parameter in '{name}': {}", describe_pg_error(&e))),
        };
        let mut params = BTreeMap::new();
        let mut secret = false;
        for r in rows {
            let k: String = r.get(0);
            if k == "database.secret" {
                secret = true;
            } else {
                params.insert(k, r.get::<_, String>(1));
            }
        }
        let mods: Vec<String> = SESSION_MODULES.iter().map(|s| s.to_string()).collect();
        cost.db_round_trips += 1;
        let modules = client
            .query("SELECT name, state FROM ir_module_module WHERE name = ANY($1)", &[&mods])
            .map(|rows| rows.iter().map(|r| (r.get::<_, String>(0), r.get::<_, String>(1))).collect())
            .unwrap_or_default();
        // Matched on the whole row so it works whatever the name column is called in this version.
        cost.db_round_trips += 1;
        let autovacuum_cron_active = client
            .query(
                "SELECT bool_or(active) FROM ir_cron c WHERE to_jsonb(c)::text ILIKE '%auto-vacuum%'",
                &[],
            )
            .ok()
            .and_then(|rows| rows.first().and_then(|r| r.get::<_, Option<bool>>(0)));
        databases.push(DbParams { name, params, database_secret_present: secret, modules, autovacuum_cron_active });
    }
    Observed::Seen(DbFacts { databases })
}

/// Reads one system parameter afresh (the probe re-reads `web.base.url` after its logins).
pub fn read_param(host: &Host, odoo: &OdooFacts, db: &str, key: &str) -> Option<String> {
    try_read_param(host, odoo, db, key).ok().flatten()
}

/// Reads one system parameter; `Ok(None)` when the row does not exist, `Err` when the database
/// cannot be asked (a different thing: nothing may be changed then).
pub fn try_read_param(host: &Host, odoo: &OdooFacts, db: &str, key: &str) -> Result<Option<String>, crate::EngineError> {
    let target = db_target(odoo);
    let conf = odoo.config.as_ref().map(|c| c.path.clone()).unwrap_or_default();
    let err = |detail: String| crate::EngineError::Database { host: host.name().into(), db: db.into(), conf: conf.clone(), detail };
    let (_t, mut client) = connect(host, &target, db).map_err(err)?;
    let rows = client
        .query("SELECT value FROM ir_config_parameter WHERE key = $1", &[&key])
        .map_err(|e| err(describe_pg_error(&e)))?;
    Ok(rows.first().map(|r| r.get(0)))
}
