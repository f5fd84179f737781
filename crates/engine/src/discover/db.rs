//! Odoo's database, reached the way Odoo reaches it: over TCP through an SSH tunnel with the
//! credentials from odoo.conf, or — when odoo.conf sets no `db_host` (the Debian package's
//! default: the local socket with peer authentication) and TCP refuses us — with `psql` run on the
//! host as the Odoo user, every database in one psql run ([`psql_batch`]). Values always travel
//! as parameters (`$1` over TCP, psql variables quoted by psql itself), never spliced into SQL. Only session-related parameters are read;
//! `database.secret` is checked for presence, never read.

use crate::db_scope::DbScope;
use crate::error::DbError;
use crate::facts::{Cost, DbFacts, DbParams, Observed, OdooFacts};
use osd_remote::{Cmd, Host, Tunnel};
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
    "web_session_auto_close.timeout",
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
    // Modules that log people out on purpose (checks::idle_logout).
    "web_session_auto_close",
    "auto_logout_idle_user_odoo",
    "auto_web_session_timeout",
];

/// The per-database read: session parameters (`database.secret` only as present), the session
/// modules, whether the autovacuum cron is active, the base module's version, and on 18+ the revoked devices per owner.
///
/// Revocations (`res.device._revoke` in Odoo 18, odoo/addons/base/models/res_device.py) delete
/// the sessions and write `revoked = true` through the ORM on every `res_device_log` row of those
/// sessions, which stamps `write_date`/`write_uid`; the rows themselves are inserted by raw SQL
/// (`_update_device`) without either, so a revoked row's `write_date` is when it was revoked and
/// `write_uid` who did it. Rows written by uid 1 (`__system__`: the 19 autovacuum marking
/// sessions whose file is gone) are Odoo's cleanup, not a person, and left out. Sessions are
/// counted by identifier inside PostgreSQL; the identifier (a session id's prefix) never leaves it.
fn read_sql(devices: bool) -> String {
    let mut sql = String::from(
        "SELECT 'p', key, CASE WHEN key = 'database.secret' THEN '' ELSE value END \
           FROM ir_config_parameter WHERE key = ANY(string_to_array($1, ',')) \
         UNION ALL SELECT 'm', name, state FROM ir_module_module WHERE name = ANY(string_to_array($2, ',')) \
         UNION ALL SELECT 'c', (SELECT bool_or(active)::text FROM ir_cron c WHERE to_jsonb(c)::text ILIKE '%auto-vacuum%'), '' \
         UNION ALL SELECT 'b', (SELECT latest_version FROM ir_module_module WHERE name = 'base'), ''",
    );
    if devices {
        let recent = format!(
            "l.write_date >= (now() AT TIME ZONE 'UTC') - interval '{} days'",
            crate::facts::REVOKED_WINDOW_DAYS
        );
        sql.push_str(&format!(
            " UNION ALL SELECT 'r', COALESCE(MAX(u.login), '#' || l.user_id::text), json_build_object(\
               'recent', count(DISTINCT l.session_identifier) FILTER (WHERE {recent}), \
               'total', count(DISTINCT l.session_identifier), \
               'last', to_char(max(l.write_date), 'YYYY-MM-DD HH24:MI'), \
               'by', COALESCE(array_agg(DISTINCT COALESCE(w.login, '#' || l.write_uid::text)) FILTER (WHERE {recent}), '{{}}'))::text \
             FROM res_device_log l LEFT JOIN res_users u ON u.id = l.user_id LEFT JOIN res_users w ON w.id = l.write_uid \
             WHERE l.revoked AND l.write_date IS NOT NULL AND l.write_uid IS DISTINCT FROM 1 GROUP BY l.user_id"
        ));
    }
    sql
}

/// One owner's revoked devices from the read's JSON column.
fn revoked_row(
    user: String,
    json: &str,
) -> Result<crate::facts::RevokedDevices, serde_json::Error> {
    #[derive(serde::Deserialize)]
    struct Row {
        recent: u32,
        total: u32,
        last: String,
        by: Vec<String>,
    }
    let r: Row = serde_json::from_str(json)?;
    let mut by = r.by;
    by.sort();
    Ok(crate::facts::RevokedDevices {
        user,
        recent: r.recent,
        total: r.total,
        last: r.last,
        by,
    })
}

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
        host: if via_socket {
            "127.0.0.1".into()
        } else {
            host.unwrap()
        },
        port: odoo.option_u64("db_port").unwrap_or(5432) as u16,
        user: Some(odoo.option("db_user"))
            .filter(|u| !unset(u))
            .flatten()
            .or_else(|| Some(odoo.user.clone())),
        password: Some(odoo.option("db_password"))
            .filter(|p| !unset(p))
            .flatten(),
        names: odoo
            .option("db_name")
            .filter(|n| !n.is_empty() && n != "False")
            .map(|n| {
                n.split(',')
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty())
                    .collect()
            })
            .unwrap_or_default(),
        via_socket,
    }
}

/// An open connection to one Odoo database.
pub struct Db<'h> {
    name: String,
    via: Via<'h>,
    /// psql runs made (each is one command execution on the host).
    pub psql_runs: u64,
}

enum Via<'h> {
    Tcp {
        _tunnel: Tunnel,
        client: postgres::Client,
    },
    /// `tcp` is why TCP was refused, for the message when psql fails too.
    Psql {
        host: &'h Host,
        user: String,
        port: u16,
        tcp: String,
    },
}

/// Row fields and rows in psql's unaligned output (bytes that never occur in our values).
const FIELD: char = '\u{1f}';
const RECORD: char = '\u{1e}';

impl<'h> Db<'h> {
    /// Opens `db` over TCP; when odoo.conf names no host and TCP is refused, through psql.
    pub fn open(host: &'h Host, odoo: &OdooFacts, db: &str) -> Result<Db<'h>, DbError> {
        let target = db_target(odoo);
        match connect(host, &target, db) {
            Ok((tunnel, client)) => Ok(Db {
                name: db.into(),
                via: Via::Tcp {
                    _tunnel: tunnel,
                    client,
                },
                psql_runs: 0,
            }),
            Err(tcp) if target.via_socket => {
                let user = target.user.clone().unwrap_or_else(|| odoo.user.clone());
                Ok(Db {
                    name: db.into(),
                    via: Via::Psql {
                        host,
                        user,
                        port: target.port,
                        tcp: tcp.to_string(),
                    },
                    psql_runs: 0,
                })
            }
            Err(e) => Err(e),
        }
    }

    pub fn via_psql(&self) -> bool {
        matches!(self.via, Via::Psql { .. })
    }

    /// How psql reaches the databases, when this one is reached through psql.
    pub(crate) fn psql_route(&self) -> Option<PsqlRoute> {
        match &self.via {
            Via::Psql {
                user, port, tcp, ..
            } => Some(PsqlRoute {
                user: user.clone(),
                port: *port,
                tcp: tcp.clone(),
            }),
            Via::Tcp { .. } => None,
        }
    }

    /// Runs `sql` whose placeholders are `$1`, `$2`…, returning every row as text (NULL as None).
    pub fn query(&mut self, sql: &str, args: &[&str]) -> Result<Vec<Vec<Option<String>>>, DbError> {
        match &mut self.via {
            Via::Tcp { client, .. } => {
                let params: Vec<&(dyn postgres::types::ToSql + Sync)> = args
                    .iter()
                    .map(|a| a as &(dyn postgres::types::ToSql + Sync))
                    .collect();
                let rows = client.query(sql, &params).map_err(|e| pg_error(&e))?;
                Ok(rows
                    .iter()
                    .map(|r| {
                        (0..r.len())
                            .map(|i| r.get::<_, Option<String>>(i))
                            .collect()
                    })
                    .collect())
            }
            Via::Psql {
                host,
                user,
                port,
                tcp,
            } => {
                self.psql_runs += 1;
                psql(
                    host,
                    user,
                    *port,
                    &self.name,
                    &[(
                        sql.to_string(),
                        args.iter().map(|a| a.to_string()).collect(),
                    )],
                )
                .map_err(|e| socket_error(tcp, e))
            }
        }
    }

    /// Runs statements in one transaction: all or nothing.
    pub fn transaction(&mut self, stmts: &[(&str, Vec<String>)]) -> Result<(), DbError> {
        match &mut self.via {
            Via::Tcp { client, .. } => {
                let mut tx = client.transaction().map_err(|e| pg_error(&e))?;
                for (sql, args) in stmts {
                    let params: Vec<&(dyn postgres::types::ToSql + Sync)> = args
                        .iter()
                        .map(|a| a as &(dyn postgres::types::ToSql + Sync))
                        .collect();
                    tx.execute(*sql, &params).map_err(|e| pg_error(&e))?;
                }
                tx.commit().map_err(|e| pg_error(&e))
            }
            Via::Psql {
                host,
                user,
                port,
                tcp,
            } => {
                self.psql_runs += 1;
                let mut all: Vec<(String, Vec<String>)> = vec![("BEGIN".into(), vec![])];
                all.extend(stmts.iter().map(|(s, a)| (s.to_string(), a.clone())));
                all.push(("COMMIT".into(), vec![]));
                psql(host, user, *port, &self.name, &all)
                    .map(|_| ())
                    .map_err(|e| socket_error(tcp, e))
            }
        }
    }

    pub fn read_param(&mut self, key: &str) -> Result<Option<String>, DbError> {
        let rows = self.query(
            "SELECT value FROM ir_config_parameter WHERE key = $1",
            &[key],
        )?;
        Ok(rows
            .into_iter()
            .next()
            .and_then(|r| r.into_iter().next().flatten()))
    }
}

fn socket_error(tcp: &str, psql: DbError) -> DbError {
    DbError::Socket {
        tcp: tcp.to_string(),
        psql: Box::new(psql),
    }
}

/// One psql run on the host as `user` (peer authentication on the local socket), statements
/// separated, each statement's `$n` turned into a psql variable that psql quotes as a literal.
fn psql(
    host: &Host,
    user: &str,
    port: u16,
    db: &str,
    stmts: &[(String, Vec<String>)],
) -> Result<Vec<Vec<Option<String>>>, DbError> {
    let mut cmd = Cmd::new("runuser")
        .args([
            "-u",
            user,
            "--",
            "psql",
            "-X",
            "-q",
            "-A",
            "-t",
            "-v",
            "ON_ERROR_STOP=1",
        ])
        .args(psql_output_args(port, db))
        .privileged()
        .timeout(Duration::from_secs(30));
    let mut script = String::new();
    for (i, (sql, args)) in stmts.iter().enumerate() {
        let mut sql = sql.clone();
        // Highest first, so $1 does not eat the start of $10.
        for (j, a) in args.iter().enumerate().rev() {
            if a.contains('\0') {
                return Err(DbError::NulInValue);
            }
            let var = format!("v{i}_{}", j + 1);
            cmd = cmd.arg("-v").arg(format!("{var}={a}"));
            sql = sql.replace(&format!("${}", j + 1), &format!(":'{var}'"));
        }
        script.push_str(&sql);
        script.push_str(";\n");
    }
    let out = host
        .run(&cmd.stdin(script.into_bytes()))
        .map_err(|e| DbError::Remote(Box::new(e)))?;
    if !out.ok() {
        return Err(DbError::Psql {
            user: user.to_string(),
            stderr: out.stderr_str().trim().to_string(),
        });
    }
    // psql ends its output with one newline after the last record (only one statement returns
    // rows here; values may themselves contain newlines, so nothing else is trimmed).
    let text = out.stdout_str();
    Ok(psql_rows(text.strip_suffix('\n').unwrap_or(&text)))
}

/// psql's output as the parsers read it (NULL as `\x1a`, fields [`FIELD`], rows [`RECORD`]),
/// on the local socket's `port`, starting in database `db`.
fn psql_output_args(port: u16, db: &str) -> [String; 10] {
    [
        "-P".into(),
        "null=\u{1a}".into(),
        "-F".into(),
        FIELD.to_string(),
        "-R".into(),
        RECORD.to_string(),
        "-p".into(),
        port.to_string(),
        "-d".into(),
        db.to_string(),
    ]
}

/// Rows from psql's unaligned output (fields [`FIELD`], rows [`RECORD`], NULL as `\x1a`).
fn psql_rows(text: &str) -> Vec<Vec<Option<String>>> {
    text.split(RECORD)
        .filter(|r| !r.is_empty())
        .map(|r| {
            r.split(FIELD)
                .map(|f| (f != "\u{1a}").then(|| f.to_string()))
                .collect()
        })
        .collect()
}

/// How psql reaches the databases of a socket-only instance: as `user` on the local socket.
#[derive(Debug, Clone)]
pub(crate) struct PsqlRoute {
    user: String,
    port: u16,
    /// Why TCP was refused, for the message when psql fails too.
    tcp: String,
}

/// Line prefixes the batch script prints between databases (`\echo`), a byte that never occurs
/// in our values, like [`FIELD`] and [`RECORD`]: `MARK db N` opens database N's part of the
/// output, `MARK tag WORD` says which branch of its script ran.
const MARK: char = '\u{1d}';

/// One database's part of a batch: its script runs after psql switched to it (`\connect`), with
/// psql variables `osd_*` it may use; it prints one statement's rows of two or more columns, and
/// may print tags (`\echo` of [`batch_tag`]).
pub(crate) struct BatchRead {
    pub db: String,
    pub script: String,
}

/// The `\echo` line that tags a database's output with `word` (a branch the script took).
fn batch_tag(word: &str) -> String {
    format!("\\echo '{MARK}tag {word}'\n")
}

/// What one database's part of a batch gave: its tags and rows, or psql's error for it.
type BatchResult = Result<(Vec<String>, Vec<Vec<Option<String>>>), DbError>;

/// The psql script for `reads` from the first one, whose database psql was started on: each
/// database's part opens with its marker, then (but for the first) switches with
/// `\connect :"osd_db_N"` — the name travels as a psql variable quoted by psql, never spliced.
/// ON_ERROR_STOP stays off so that an error (a database that is not Odoo's) ends only its part.
fn batch_script(reads: &[BatchRead]) -> String {
    let mut script = String::new();
    for (i, r) in reads.iter().enumerate() {
        script.push_str(&format!("\\echo '{MARK}db {i}'\n"));
        if i > 0 {
            script.push_str(&format!("\\connect :\"osd_db_{i}\"\n"));
        }
        script.push_str(&r.script);
        if !r.script.ends_with('\n') {
            script.push('\n');
        }
    }
    script
}

/// One database's output in a batch, as printed between its marker and the next.
#[derive(Debug, Default, PartialEq)]
struct BatchPart {
    index: usize,
    tags: Vec<String>,
    text: String,
}

/// Splits a batch's output (stdout and stderr merged, in order) into what came before any
/// marker (psql could not start on the first database) and each database's part. Values may
/// hold newlines: only lines that open with [`MARK`] are markers.
fn split_batch(output: &str) -> (String, Vec<BatchPart>) {
    let mut before = String::new();
    let mut parts: Vec<BatchPart> = Vec::new();
    for line in output.split_inclusive('\n') {
        let bare = line.strip_suffix('\n').unwrap_or(line);
        if let Some(mark) = bare.strip_prefix(MARK) {
            if let Some(index) = mark.strip_prefix("db ").and_then(|n| n.parse().ok()) {
                parts.push(BatchPart {
                    index,
                    ..BatchPart::default()
                });
                continue;
            }
            if let (Some(tag), Some(part)) = (mark.strip_prefix("tag "), parts.last_mut()) {
                part.tags.push(tag.to_string());
                continue;
            }
        }
        match parts.last_mut() {
            Some(part) => part.text.push_str(line),
            None => before.push_str(line),
        }
    }
    (before, parts)
}

/// One part's rows, or its error: psql prints a statement's rows (two columns or more, so the
/// first line holds a [`FIELD`]) or, instead of them, the error (`ERROR:  …`, `\connect: …`).
fn batch_part_result(part: BatchPart, user: &str) -> BatchResult {
    let text = part.text.strip_suffix('\n').unwrap_or(&part.text);
    let first_line = text.split('\n').next().unwrap_or("");
    if !text.is_empty() && !first_line.contains(FIELD) {
        return Err(DbError::Psql {
            user: user.to_string(),
            stderr: text.trim().to_string(),
        });
    }
    Ok((part.tags, psql_rows(text)))
}

/// Reads every database of `reads` in one psql run on the host: psql starts on the first and
/// `\connect`s to each next one, so the cost is one command execution whatever their number.
/// psql ends a script when a `\connect` fails (a non-interactive session does not keep the
/// previous connection): that database gets the error and a further run reads the ones after
/// it, so each database that cannot be connected to costs one more run. A failure that is not
/// about the database (peer authentication, psql missing) is every remaining database's.
/// `vars` are psql variables the scripts share. Returns the results in order and the runs made.
pub(crate) fn psql_batch(
    host: &Host,
    route: &PsqlRoute,
    reads: &[BatchRead],
    vars: &[(&str, &str)],
) -> (Vec<BatchResult>, u64) {
    batch_runs(reads, &route.user, |run| {
        psql_batch_run(host, route, run, vars)
    })
}

/// [`psql_batch`]'s runs, each made by `run_psql` for the databases from a point on.
fn batch_runs(
    reads: &[BatchRead],
    user: &str,
    mut run_psql: impl FnMut(&[BatchRead]) -> Result<osd_remote::Output, DbError>,
) -> (Vec<BatchResult>, u64) {
    let mut results: Vec<Option<BatchResult>> = (0..reads.len()).map(|_| None).collect();
    let mut runs = 0;
    let mut start = 0;
    let failed = |stderr: &str| DbError::Psql {
        user: user.to_string(),
        stderr: stderr.trim().to_string(),
    };
    while start < reads.len() {
        let run = &reads[start..];
        runs += 1;
        let out = match run_psql(run) {
            Ok(out) => out,
            Err(e) => {
                // The run never happened (the connection to the host went): the first database
                // carries the error itself, the others its text.
                let text = e.to_string();
                results[start] = Some(Err(e));
                for r in &mut results[start + 1..] {
                    *r = Some(Err(DbError::Client(text.clone())));
                }
                break;
            }
        };
        let (before, parts) = split_batch(&String::from_utf8_lossy(&out.stdout));
        let last = parts.last().map(|p| p.index);
        for part in parts {
            if let Some(slot) = results.get_mut(start + part.index) {
                *slot = Some(batch_part_result(part, user));
            }
        }
        if out.ok() {
            for r in &mut results[start..] {
                r.get_or_insert_with(|| Err(failed("psql printed nothing for this database")));
            }
            break;
        }
        match last {
            // psql stopped in that database's part (its \connect failed): go on after it.
            Some(i) => {
                let slot = &mut results[start + i];
                if matches!(slot, Some(Ok((tags, rows))) if tags.is_empty() && rows.is_empty()) {
                    // Stopped with nothing said (killed): no read is not an empty database.
                    *slot = Some(Err(failed(&format!(
                        "psql stopped with status {} before reading this database",
                        out.status
                    ))));
                }
                start += i + 1;
            }
            None => {
                let error = failed(&before);
                let about_it = before.contains(&format!("\"{}\"", run[0].db));
                if about_it {
                    results[start] = Some(Err(error));
                    start += 1;
                } else {
                    for r in &mut results[start..] {
                        *r = Some(Err(failed(&before)));
                    }
                    break;
                }
            }
        }
    }
    let results = results
        .into_iter()
        .map(|r| r.unwrap_or_else(|| Err(failed("psql printed nothing for this database"))))
        .collect();
    (results, runs)
}

/// One psql run of the batch `run` (its first database first), stderr merged into stdout in
/// order so that each error lands in its database's part: psql flushes its output before it
/// prints an error.
fn psql_batch_run(
    host: &Host,
    route: &PsqlRoute,
    run: &[BatchRead],
    vars: &[(&str, &str)],
) -> Result<osd_remote::Output, DbError> {
    let mut cmd = Cmd::new("runuser")
        .args([
            "-u",
            &route.user,
            "--",
            "sh",
            "-c",
            "exec \"$@\" 2>&1",
            "sh",
        ])
        .args(["psql", "-X", "-q", "-A", "-t"])
        .args(psql_output_args(route.port, &run[0].db));
    for (name, value) in vars {
        if value.contains('\0') {
            return Err(DbError::NulInValue);
        }
        cmd = cmd.arg("-v").arg(format!("{name}={value}"));
    }
    for (i, r) in run.iter().enumerate().skip(1) {
        if r.db.contains('\0') {
            return Err(DbError::NulInValue);
        }
        cmd = cmd.arg("-v").arg(format!("osd_db_{i}={}", r.db));
    }
    // A second per database on top of the single read's bound: hundreds of databases take
    // seconds (a \connect is a backend start), never minutes.
    let timeout = Duration::from_secs(30 + run.len() as u64);
    host.run(
        &cmd.privileged()
            .timeout(timeout)
            .stdin(batch_script(run).into_bytes()),
    )
    .map_err(|e| DbError::Remote(Box::new(e)))
}

/// Opens a TCP connection to `db` through a tunnel on `host`. The caller keeps the tunnel alive.
pub fn connect(
    host: &Host,
    target: &DbTarget,
    db: &str,
) -> Result<(osd_remote::Tunnel, postgres::Client), DbError> {
    let tunnel = host
        .tunnel(&target.host, target.port)
        .map_err(|source| DbError::Tunnel {
            host: target.host.clone(),
            port: target.port,
            source: Box::new(source),
        })?;
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
    let client = cfg.connect(postgres::NoTls).map_err(|e| pg_error(&e))?;
    Ok((tunnel, client))
}

/// PostgreSQL's error as a value: a refused login, a refused statement, or the client's own.
pub fn pg_error(e: &postgres::Error) -> DbError {
    match e.as_db_error() {
        Some(db) => {
            let message = db.message().to_string();
            let code = db.code().code().to_string();
            if code.starts_with("28") {
                DbError::Auth { message, code }
            } else {
                DbError::Query { message, code }
            }
        }
        None => DbError::Client(e.to_string()),
    }
}

/// What decides the scope besides the databases themselves: the proxy's host names and the
/// person's `--database` choices.
#[derive(Debug, Clone, Default)]
pub struct ScopeHints {
    pub host_names: Vec<String>,
    pub any_host: bool,
    pub chosen: Vec<String>,
}

/// Reads the session facts of the databases this instance serves, after deciding which those
/// are by Odoo's own rules ([`crate::db_scope`]). Returns the scope too (when PostgreSQL could be
/// asked at all), so an undecided one can be offered to the person.
/// How many databases are read at once: Odoo partners serve hundreds per cluster, and each read
/// is a connection (tunnel, startup, authentication) that mostly waits on the network.
/// PostgreSQL's default `max_connections` is 100 and Odoo needs its own: a small bound.
const PARALLEL_READS: usize = 8;

/// One database's read: its session facts and the base module's major version (what the prefork
/// cron looks at before it cleans sessions for it).
struct DbRead {
    params: DbParams,
    base: Option<u8>,
}

/// Why a database's read produced nothing.
enum ReadError {
    /// It could not be opened (refused, unreachable): a served database's is an error to show.
    Open(DbError),
    /// No Odoo tables: not an Odoo database, skipped as Odoo's database list would.
    NotOdoo,
    Query(DbError),
}

/// Reads one database in one statement (one round trip whichever way it is reached; a second
/// only when an 18 database lacks `res_device_log`).
fn read_database(
    host: &Host,
    odoo: &OdooFacts,
    name: &str,
    devices: bool,
    cost: &mut Cost,
) -> Result<DbRead, ReadError> {
    let mut d = Db::open(host, odoo, name).map_err(ReadError::Open)?;
    let keys = SESSION_PARAMS.join(",");
    let mods = SESSION_MODULES.join(",");
    cost.db_round_trips += 1;
    let mut rows = d.query(&read_sql(devices), &[&keys, &mods]);
    let mut devices_read = devices;
    if devices && matches!(&rows, Err(e) if e.undefined_table()) {
        // An 18 database without res_device_log (or not Odoo at all): ask again without it.
        cost.db_round_trips += 1;
        rows = d.query(&read_sql(false), &[&keys, &mods]);
        devices_read = false;
    }
    cost.psql_runs += d.psql_runs;
    let rows = match rows {
        Ok(r) => r,
        Err(e) if e.undefined_table() => return Err(ReadError::NotOdoo),
        Err(e) => return Err(ReadError::Query(e)),
    };
    Ok(db_read(name, rows, devices_read, d.via_psql()))
}

/// A database's facts from the read's rows (`devices_read`: the query asked `res_device_log`).
fn db_read(
    name: &str,
    rows: Vec<Vec<Option<String>>>,
    devices_read: bool,
    via_psql: bool,
) -> DbRead {
    let mut params = BTreeMap::new();
    let mut modules = BTreeMap::new();
    let mut secret = false;
    let mut autovacuum_cron_active = None;
    let mut base = None;
    let mut revoked = devices_read.then(Vec::new);
    for r in rows {
        let f = |i: usize| r.get(i).cloned().flatten();
        match (f(0).as_deref(), f(1), f(2)) {
            (Some("p"), Some(k), _) if k == "database.secret" => secret = true,
            (Some("p"), Some(k), Some(v)) => {
                params.insert(k, v);
            }
            (Some("m"), Some(m), Some(st)) => {
                modules.insert(m, st);
            }
            (Some("c"), v, _) => autovacuum_cron_active = v.map(|v| v == "true"),
            (Some("b"), v, _) => base = v.and_then(|v| v.split('.').next()?.parse::<u8>().ok()),
            (Some("r"), Some(user), Some(json)) => {
                if let (Some(list), Ok(r)) = (revoked.as_mut(), revoked_row(user, &json)) {
                    list.push(r);
                }
            }
            _ => {}
        }
    }
    DbRead {
        params: DbParams {
            name: name.to_string(),
            params,
            database_secret_present: secret,
            modules,
            autovacuum_cron_active,
            via_psql,
            revoked_devices: revoked,
        },
        base,
    }
}

/// How this instance's databases are reached, as the first one opened told: over TCP (one
/// connection per database) or through psql on the host (all of them in one run).
#[derive(Clone)]
enum Reach {
    Tcp,
    Psql(PsqlRoute),
}

/// The route to the databases: known from a database already opened, else from opening `probe`
/// (only where odoo.conf names no host: elsewhere it is TCP, refused or not).
fn reach(host: &Host, odoo: &OdooFacts, known: &mut Option<Reach>, probe: &str) -> Reach {
    if let Some(r) = known {
        return r.clone();
    }
    let r = if db_target(odoo).via_socket {
        match Db::open(host, odoo, probe).map(|d| d.psql_route()) {
            Ok(Some(route)) => Reach::Psql(route),
            // TCP answered (or failed in a way the per-database read reports as it is).
            _ => Reach::Tcp,
        }
    } else {
        Reach::Tcp
    };
    *known = Some(r.clone());
    r
}

/// The read of one database in a psql batch: on 18+ psql itself picks the query with or
/// without `res_device_log` (absent from an 18 database that never logged a device) and tags
/// the first, so the fallback costs no second run.
fn batch_read_script(devices: bool) -> String {
    let read = |devices: bool| {
        read_sql(devices)
            .replace("$1", ":'osd_keys'")
            .replace("$2", ":'osd_mods'")
            + ";\n"
    };
    if !devices {
        return read(false);
    }
    format!(
        "\\set osd_devices false\n\
         SELECT to_regclass('res_device_log') IS NOT NULL AS osd_devices \\gset\n\
         \\if :osd_devices\n{}{}\\else\n{}\\endif\n",
        batch_tag("devices"),
        read(true),
        read(false)
    )
}

/// Reads `names` in one psql run (more only for databases that cannot be connected to); the
/// outcome of each is the one its own read would have had.
fn read_databases_psql(
    host: &Host,
    route: &PsqlRoute,
    names: &[String],
    devices: bool,
    cost: &mut Cost,
) -> Vec<Result<DbRead, ReadError>> {
    let script = batch_read_script(devices);
    let reads: Vec<BatchRead> = names
        .iter()
        .map(|db| BatchRead {
            db: db.clone(),
            script: script.clone(),
        })
        .collect();
    let keys = SESSION_PARAMS.join(",");
    let mods = SESSION_MODULES.join(",");
    let (results, runs) = psql_batch(
        host,
        route,
        &reads,
        &[("osd_keys", &keys), ("osd_mods", &mods)],
    );
    cost.psql_runs += runs;
    cost.db_round_trips += runs;
    names
        .iter()
        .zip(results)
        .map(|(name, r)| match r {
            Ok((tags, rows)) => Ok(db_read(
                name,
                rows,
                tags.iter().any(|t| t == "devices"),
                true,
            )),
            Err(e) if e.undefined_table() => Err(ReadError::NotOdoo),
            Err(e) => Err(ReadError::Query(socket_error(&route.tcp, e))),
        })
        .collect()
}

/// Reads `names`, results in their order: through psql all in one run, over TCP at most
/// [`PARALLEL_READS`] at a time.
fn read_databases(
    host: &Host,
    odoo: &OdooFacts,
    names: &[String],
    devices: bool,
    known: &mut Option<Reach>,
    cost: &mut Cost,
) -> Vec<Result<DbRead, ReadError>> {
    let Some(first) = names.first() else {
        return Vec::new();
    };
    match reach(host, odoo, known, first) {
        Reach::Psql(route) => read_databases_psql(host, &route, names, devices, cost),
        Reach::Tcp => read_databases_tcp(host, odoo, names, devices, cost),
    }
}

/// Reads `names` at most [`PARALLEL_READS`] at a time, one connection each.
fn read_databases_tcp(
    host: &Host,
    odoo: &OdooFacts,
    names: &[String],
    devices: bool,
    cost: &mut Cost,
) -> Vec<Result<DbRead, ReadError>> {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let next = AtomicUsize::new(0);
    let mut results: Vec<Option<Result<DbRead, ReadError>>> =
        (0..names.len()).map(|_| None).collect();
    let done = std::thread::scope(|s| {
        let workers: Vec<_> = (0..PARALLEL_READS.min(names.len()))
            .map(|_| {
                s.spawn(|| {
                    let mut c = Cost::default();
                    let mut mine = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(name) = names.get(i) else { break };
                        mine.push((i, read_database(host, odoo, name, devices, &mut c)));
                    }
                    (mine, c)
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| w.join().expect("database reader"))
            .collect::<Vec<_>>()
    });
    for (mine, c) in done {
        cost.db_round_trips += c.db_round_trips;
        cost.psql_runs += c.psql_runs;
        for (i, r) in mine {
            results[i] = Some(r);
        }
    }
    results
        .into_iter()
        .map(|r| r.expect("every database was read"))
        .collect()
}

pub(super) fn db_facts(
    host: &Host,
    odoo: &OdooFacts,
    hints: &ScopeHints,
    cost: &mut Cost,
) -> (Observed<DbFacts>, Option<DbScope>) {
    let target = db_target(odoo);
    let filter = odoo.option("dbfilter").filter(|f| !f.is_empty());
    let db_name = odoo
        .option("db_name")
        .filter(|n| !n.is_empty() && n != "False");
    let workers = odoo.workers();
    let major = odoo.version.map(|v| v.major);
    let devices = major.map_or(false, |m| m >= 18);
    let unreachable = |e: DbError| {
        Observed::Unknown(format!(
            "cannot reach PostgreSQL at {}:{}: {e}",
            target.host, target.port
        ))
    };
    // list_dbs(True): Odoo asks the server unless a db_name stands without a filter.
    let asks_server = filter.is_some() || db_name.is_none();
    let mut owned: Option<Vec<(String, Option<u8>)>> = None;
    let mut lifetimes: BTreeMap<String, Option<String>> = BTreeMap::new();
    // Each database is read once: those read for the cron question serve the checks too.
    let mut read: BTreeMap<String, Result<DbRead, ReadError>> = BTreeMap::new();
    // The listing's connection tells how the databases are reached (psql: all in one run).
    let mut known_reach: Option<Reach> = None;
    if asks_server {
        let template = odoo
            .option("db_template")
            .filter(|t| !t.is_empty())
            .unwrap_or_else(|| "template0".into());
        let listed = Db::open(host, odoo, "postgres").and_then(|mut d| {
            known_reach = Some(match d.psql_route() {
                Some(route) => Reach::Psql(route),
                None => Reach::Tcp,
            });
            cost.db_round_trips += 1;
            let rows = d.query(
                "SELECT datname FROM pg_database WHERE datdba = (SELECT usesysid FROM pg_user WHERE usename = current_user) \
                 AND NOT datistemplate AND datallowconn AND datname <> ALL(string_to_array($1, ',')) ORDER BY datname",
                &[&format!("postgres,{template}")],
            );
            cost.psql_runs += d.psql_runs;
            rows
        });
        let names: Vec<String> = match listed {
            Ok(rows) => rows
                .into_iter()
                .filter_map(|r| r.into_iter().next().flatten())
                .collect(),
            Err(e) => return (unreachable(e), None),
        };
        // The prefork cron visits all of them (skipping other versions): their base version and
        // lifetime decide what empties this instance's sessions folder.
        let prefork_visits_all = workers > 0 && db_name.is_none();
        let mut list = Vec::new();
        if prefork_visits_all {
            let results = read_databases(host, odoo, &names, devices, &mut known_reach, cost);
            for (name, r) in names.into_iter().zip(results) {
                match &r {
                    Ok(db) => {
                        lifetimes.insert(
                            name.clone(),
                            db.params.params.get(crate::facts::LIFETIME_KEY).cloned(),
                        );
                        list.push((name.clone(), db.base));
                    }
                    // Not an Odoo database, or one the cron cannot open either: it skips it.
                    Err(_) => {}
                }
                read.insert(name, r);
            }
        } else {
            list = names.into_iter().map(|n| (n, None)).collect();
        }
        owned = Some(list);
    }
    let scope = crate::db_scope::scope(&crate::db_scope::ScopeInput {
        dbfilter: filter,
        db_name,
        workers,
        major,
        owned,
        host_names: hints.host_names.clone(),
        any_host: hints.any_host,
        chosen: hints.chosen.clone(),
    });
    if let Some(candidates) = &scope.undecided {
        return (
            Observed::Unknown(format!(
                "this Odoo can serve several databases ({}) and its config does not say which one users reach ({}); choose with --database NAME",
                candidates.join(", "),
                scope.rule
            )),
            Some(scope),
        );
    }
    if scope.served.is_empty() {
        return (
            Observed::Unknown(format!(
                "this Odoo serves no database of its PostgreSQL role ({})",
                scope.rule
            )),
            Some(scope),
        );
    }
    let unread: Vec<String> = scope
        .served
        .iter()
        .filter(|n| !read.contains_key(*n))
        .cloned()
        .collect();
    let results = read_databases(host, odoo, &unread, devices, &mut known_reach, cost);
    read.extend(unread.into_iter().zip(results));
    let mut databases = Vec::new();
    for name in &scope.served {
        match read.remove(name).expect("every served database was read") {
            Ok(db) => databases.push(db.params),
            Err(ReadError::NotOdoo) => continue,
            Err(ReadError::Open(e)) => {
                return (
                    Observed::Unknown(format!(
                        "cannot open database '{name}' at {}:{}: {e}",
                        target.host, target.port
                    )),
                    Some(scope),
                )
            }
            Err(ReadError::Query(e)) => {
                return (
                    Observed::Unknown(format!("reading ir_config_parameter in '{name}': {e}")),
                    Some(scope),
                )
            }
        }
    }
    let cleanup_only = scope
        .cleanup_from
        .iter()
        .filter(|n| !scope.served.contains(n))
        .map(|n| (n.clone(), lifetimes.get(n).cloned().flatten()))
        .collect();
    (
        Observed::Seen(DbFacts {
            databases,
            cleanup_only,
        }),
        Some(scope),
    )
}

/// The error for a database that could not be asked: names the host, database and config.
pub fn database_error(
    host: &Host,
    odoo: &OdooFacts,
    db: &str,
    error: DbError,
) -> crate::EngineError {
    crate::EngineError::Database {
        host: host.name().into(),
        db: db.into(),
        conf: odoo
            .config
            .as_ref()
            .map(|c| c.path.clone())
            .unwrap_or_default(),
        error,
    }
}

/// Reads system parameters afresh, one connection per database (on a socket-only host, one
/// psql run for all of them). `(database, key)` pairs in, values in the same order out; `None`
/// when the row does not exist, `Err` when a database cannot be asked (then nothing may be
/// changed).
pub fn read_params(
    host: &Host,
    odoo: &OdooFacts,
    wanted: &[(&str, &str)],
) -> Result<Vec<Option<String>>, crate::EngineError> {
    let mut open: BTreeMap<&str, Db> = BTreeMap::new();
    if let (Some(&(first, _)), true) = (wanted.first(), db_target(odoo).via_socket) {
        let d = Db::open(host, odoo, first).map_err(|e| database_error(host, odoo, first, e))?;
        if let Some(route) = d.psql_route() {
            return read_params_psql(host, odoo, &route, wanted);
        }
        open.insert(first, d);
    }
    let mut values = Vec::with_capacity(wanted.len());
    for &(db, key) in wanted {
        let conn = match open.entry(db) {
            std::collections::btree_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::btree_map::Entry::Vacant(e) => {
                e.insert(Db::open(host, odoo, db).map_err(|d| database_error(host, odoo, db, d))?)
            }
        };
        values.push(
            conn.read_param(key)
                .map_err(|d| database_error(host, odoo, db, d))?,
        );
    }
    Ok(values)
}

/// [`read_params`] through psql: each database's keys in one statement, all databases in one run.
fn read_params_psql(
    host: &Host,
    odoo: &OdooFacts,
    route: &PsqlRoute,
    wanted: &[(&str, &str)],
) -> Result<Vec<Option<String>>, crate::EngineError> {
    let mut dbs: Vec<&str> = Vec::new();
    for &(db, _) in wanted {
        if !dbs.contains(&db) {
            dbs.push(db);
        }
    }
    // Keys travel as psql variables, `osd_key_<database>_<key>` by position.
    let mut vars: Vec<(String, String)> = Vec::new();
    let reads: Vec<BatchRead> = dbs
        .iter()
        .enumerate()
        .map(|(i, &db)| {
            let mut keys: Vec<&str> = Vec::new();
            for &(d, key) in wanted {
                if d == db && !keys.contains(&key) {
                    keys.push(key);
                }
            }
            let list: Vec<String> = keys
                .iter()
                .enumerate()
                .map(|(j, key)| {
                    vars.push((format!("osd_key_{i}_{j}"), key.to_string()));
                    format!(":'osd_key_{i}_{j}'")
                })
                .collect();
            BatchRead {
                db: db.to_string(),
                script: format!(
                    "SELECT key, value FROM ir_config_parameter WHERE key IN ({});\n",
                    list.join(", ")
                ),
            }
        })
        .collect();
    let vars: Vec<(&str, &str)> = vars.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
    let (results, _runs) = psql_batch(host, route, &reads, &vars);
    let mut by_db: BTreeMap<&str, Result<BTreeMap<String, Option<String>>, DbError>> = dbs
        .iter()
        .zip(results)
        .map(|(&db, r)| {
            let values = r.map(|(_, rows)| {
                rows.into_iter()
                    .filter_map(|row| {
                        let mut row = row.into_iter();
                        Some((row.next().flatten()?, row.next().flatten()))
                    })
                    .collect()
            });
            (db, values)
        })
        .collect();
    let mut values = Vec::with_capacity(wanted.len());
    for &(db, key) in wanted {
        match by_db.get(db) {
            Some(Ok(found)) => values.push(found.get(key).cloned().flatten()),
            _ => {
                let e = by_db
                    .remove(db)
                    .expect("every database was read")
                    .expect_err("this database's read failed");
                return Err(database_error(host, odoo, db, socket_error(&route.tcp, e)));
            }
        }
    }
    Ok(values)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reads(names: &[&str]) -> Vec<BatchRead> {
        names
            .iter()
            .map(|n| BatchRead {
                db: n.to_string(),
                script: "SELECT 'p', key, value FROM ir_config_parameter;".into(),
            })
            .collect()
    }

    fn output(status: i32, text: &str) -> osd_remote::Output {
        osd_remote::Output {
            status,
            stdout: text.as_bytes().to_vec(),
            stderr: Vec::new(),
        }
    }

    fn rows(r: &BatchResult) -> Vec<Vec<Option<String>>> {
        r.as_ref().expect("rows").1.clone()
    }

    fn stderr(r: &BatchResult) -> String {
        match r {
            Err(DbError::Psql { stderr, .. }) => stderr.clone(),
            other => panic!("not a psql error: {other:?}"),
        }
    }

    #[test]
    fn database_names_travel_as_psql_variables() {
        let script = batch_script(&reads(&["first", "it's mine", "x\"; DROP"]));
        assert!(script.contains("\\connect :\"osd_db_1\"\n"));
        assert!(script.contains("\\connect :\"osd_db_2\"\n"));
        assert!(!script.contains("it's") && !script.contains("DROP") && !script.contains("first"));
        // psql was started on the first database: no switch to it.
        assert!(!script.contains("osd_db_0"));
    }

    #[test]
    fn values_with_newlines_and_markers_attribute_rows_and_errors() {
        let text = "\u{1d}db 0\n\
                    p\u{1f}web.base.url\u{1f}line one\nline two\u{1e}p\u{1f}empty\u{1f}\u{1a}\n\
                    \u{1d}db 1\n\
                    ERROR:  relation \"ir_config_parameter\" does not exist\n\
                    LINE 1: SELECT 'p', key, value FROM ir_config_parameter;\n\
                    \x20                                  ^\n\
                    \u{1d}db 2\n\
                    \u{1d}tag devices\n\
                    p\u{1f}sessions.max_inactivity_seconds\u{1f}3600\n";
        let (results, runs) = batch_runs(&reads(&["a", "it's b", "c d"]), "odoo", |run| {
            assert_eq!(run.len(), 3);
            Ok(output(0, text))
        });
        assert_eq!(runs, 1);
        assert_eq!(
            rows(&results[0]),
            vec![
                vec![
                    Some("p".into()),
                    Some("web.base.url".into()),
                    Some("line one\nline two".into())
                ],
                vec![Some("p".into()), Some("empty".into()), None],
            ]
        );
        assert!(stderr(&results[1]).starts_with("ERROR:  relation \"ir_config_parameter\""));
        assert!(results[1].as_ref().unwrap_err().undefined_table());
        let (tags, third) = results[2].as_ref().unwrap();
        assert_eq!(tags, &["devices"]);
        assert_eq!(third[0][2].as_deref(), Some("3600"));
    }

    #[test]
    fn a_database_that_cannot_be_connected_to_costs_one_more_run_for_the_others() {
        let mut calls: Vec<Vec<String>> = Vec::new();
        let (results, runs) = batch_runs(&reads(&["a", "gone", "b", "it's"]), "odoo", |run| {
            calls.push(run.iter().map(|r| r.db.clone()).collect());
            Ok(match calls.len() {
                // psql leaves a non-interactive script when a \connect fails.
                1 => output(
                    2,
                    "\u{1d}db 0\np\u{1f}k\u{1f}1\n\u{1d}db 1\n\
                     \\connect: connection to server on socket \"/run/postgresql/.s.PGSQL.5432\" failed: \
                     FATAL:  database \"gone\" does not exist\n",
                ),
                // The next run's first database refuses at start: only its own failure.
                2 => output(
                    2,
                    "psql: error: connection to server on socket \"/run/postgresql/.s.PGSQL.5432\" \
                     failed: FATAL:  permission denied for database \"b\"\n",
                ),
                _ => output(0, "\u{1d}db 0\np\u{1f}k\u{1f}4\n"),
            })
        });
        assert_eq!(
            calls,
            vec![
                vec!["a", "gone", "b", "it's"],
                vec!["b", "it's"],
                vec!["it's"]
            ]
        );
        assert_eq!(runs, 3);
        assert_eq!(rows(&results[0])[0][2].as_deref(), Some("1"));
        assert!(stderr(&results[1]).contains("database \"gone\" does not exist"));
        assert!(stderr(&results[2]).contains("permission denied for database \"b\""));
        assert_eq!(rows(&results[3])[0][2].as_deref(), Some("4"));
    }

    #[test]
    fn a_failure_that_is_not_about_a_database_is_every_databases() {
        let mut runs_made = 0;
        let (results, runs) = batch_runs(&reads(&["a", "b", "c"]), "odoo", |_| {
            runs_made += 1;
            Ok(output(
                2,
                "psql: error: connection to server on socket \"/run/postgresql/.s.PGSQL.5432\" failed: \
                 FATAL:  Peer authentication failed for user \"odoo\"\n",
            ))
        });
        assert_eq!((runs, runs_made), (1, 1));
        for r in &results {
            assert!(stderr(r).contains("Peer authentication failed"));
        }
    }

    #[test]
    fn the_read_script_picks_the_device_query_in_psql() {
        let s = batch_read_script(true);
        assert!(s.contains("to_regclass('res_device_log')"));
        assert!(s.contains(":'osd_keys'") && s.contains(":'osd_mods'") && !s.contains("$1"));
        assert_eq!(s.matches("FROM res_device_log").count(), 1);
        assert!(!batch_read_script(false).contains("\\if"));
    }
}
