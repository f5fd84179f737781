//! Which databases an instance serves, decided by Odoo's own rules, so that every read that feeds
//! a verdict and every write stays inside the instance being diagnosed (issue 9: a fix for
//! staging once wrote into production's database on the same PostgreSQL cluster).
//!
//! Odoo 12–19 (`odoo/service/db.py` `list_dbs`, `odoo/http.py` `db_filter`):
//! - `list_dbs(force=True)`: with no `dbfilter` but a `db_name`, the comma list in `db_name` (the
//!   server is not even asked); otherwise every database **owned by the role Odoo connects as**
//!   (`datdba = current_user`), not a template, accepting connections, other than `postgres` and
//!   `db_template`.
//! - `db_filter(dbs, host)`: with a `dbfilter`, the databases its regular expression matches from
//!   the start (`re.match`), after `%h` becomes the request's host name (port and a leading `www.`
//!   removed) and `%d` its first label; else, with `db_name`, those names; else all of them.
//!   So which databases a `%h`/`%d` filter serves depends on every host name the proxy in front
//!   accepts: a catch-all server block (no `server_name`, `_`, `default_server`, wildcards or
//!   regular expressions) accepts any name, and then only a person can say which database is
//!   meant.
//! - The daily cleanup that empties the sessions folder (`ir.autovacuum` → `_gc_sessions`) runs
//!   in each database the instance's cron visits, with **that database's**
//!   `sessions.max_inactivity_seconds`, on **this instance's** folder. With `workers > 0` the
//!   cron worker visits `db_name`, or else every database `list_dbs(True)` returns — the filter
//!   is not applied — skipping those whose `base` module is another major version
//!   (`ir_cron._check_version`). Threaded (`workers = 0`), it visits the databases loaded in the
//!   process: `db_name` and those served.

use serde::{Deserialize, Serialize};

/// The input: what discovery knows.
#[derive(Debug, Clone, Default)]
pub struct ScopeInput {
    pub dbfilter: Option<String>,
    /// `db_name` as written (comma list).
    pub db_name: Option<String>,
    pub workers: u64,
    pub major: Option<u8>,
    /// `list_dbs(True)` as Odoo would compute it, with each database's `base` major version when
    /// known; `None` when Odoo does not ask the server (no dbfilter, a db_name).
    pub owned: Option<Vec<(String, Option<u8>)>>,
    /// Host names the proxy in front accepts for this instance.
    pub host_names: Vec<String>,
    /// A server block in front accepts any host name (or there is no proxy to tell).
    pub any_host: bool,
    /// `--database` choices of the person.
    pub chosen: Vec<String>,
}

/// The answer, carried in the facts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct DbScope {
    /// Databases this instance serves: the only ones read for verdicts and ever written.
    pub served: Vec<String>,
    /// How they were chosen, in words, for evidence.
    pub rule: String,
    /// When the config cannot decide (no filter over several databases, a host-based filter
    /// behind a catch-all server): the databases it may serve; the person chooses.
    pub undecided: Option<Vec<String>>,
    /// Databases whose cleanup empties this instance's sessions folder (read for the lifetime
    /// only, never written unless also served).
    pub cleanup_from: Vec<String>,
    /// The person chose the databases (`--database`, or in the app).
    pub chosen: bool,
    /// The host names the proxy accepts for this instance, and whether it accepts any name.
    pub host_names: Vec<String>,
    pub any_host: bool,
}

/// `%h`/`%d` substituted for `host` the way `db_filter` does, then `re.match`.
pub fn dbfilter_allows(filter: &str, host: &str, db: &str) -> bool {
    let host = host.split(':').next().unwrap_or(host);
    let host = host.strip_prefix("www.").unwrap_or(host);
    let domain = host.split('.').next().unwrap_or(host);
    let pattern = filter
        .replace("%h", &regex::escape(host))
        .replace("%d", &regex::escape(domain));
    // Python's re.match anchors at the start only.
    regex::Regex::new(&format!("^(?:{pattern})"))
        .map(|r| r.is_match(db))
        .unwrap_or(false)
}

/// `db_name`'s comma list.
pub fn db_name_list(db_name: &str) -> Vec<String> {
    let mut v: Vec<String> = db_name
        .split(',')
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty() && s != "False")
        .collect();
    v.sort();
    v.dedup();
    v
}

pub fn scope(i: &ScopeInput) -> DbScope {
    let filter = i.dbfilter.as_deref().filter(|f| !f.is_empty());
    let names = i.db_name.as_deref().map(db_name_list).unwrap_or_default();
    let owned: Vec<String> = match &i.owned {
        Some(o) => o.iter().map(|(n, _)| n.clone()).collect(),
        None => names.clone(),
    };
    let (mut served, mut rule, mut undecided) = match filter {
        Some(f) if f.contains("%h") || f.contains("%d") => {
            let mut served: Vec<String> = owned
                .iter()
                .filter(|db| i.host_names.iter().any(|h| dbfilter_allows(f, h, db)))
                .cloned()
                .collect();
            served.sort();
            let rule = format!(
                "dbfilter = {f} for the host names {}",
                if i.host_names.is_empty() {
                    "(none known)".to_string()
                } else {
                    i.host_names.join(", ")
                }
            );
            if i.any_host {
                // Any name reaches Odoo, so any database the filter can produce for some name.
                let mut candidates: Vec<String> = owned
                    .iter()
                    .filter(|db| {
                        dbfilter_allows(f, db, db)
                            || served.contains(db)
                            || dbfilter_allows(f, &format!("{db}.x"), db)
                    })
                    .cloned()
                    .collect();
                candidates.sort();
                if candidates.len() > 1 || (candidates.len() == 1 && served.is_empty()) {
                    (
                        Vec::new(),
                        format!("{rule}, behind a server block that accepts any host name"),
                        Some(candidates),
                    )
                } else {
                    (served, rule, None)
                }
            } else {
                (served, rule, None)
            }
        }
        Some(f) => {
            let served: Vec<String> = owned
                .iter()
                .filter(|db| dbfilter_allows(f, "", db))
                .cloned()
                .collect();
            (served, format!("dbfilter = {f}"), None)
        }
        None if !names.is_empty() => (
            names.clone(),
            format!("db_name = {}", names.join(",")),
            None,
        ),
        None if owned.len() <= 1 => (
            owned.clone(),
            "no dbfilter and no db_name: every database of its PostgreSQL role".into(),
            None,
        ),
        None => (
            Vec::new(),
            "no dbfilter and no db_name: it offers every database of its PostgreSQL role".into(),
            Some(owned.clone()),
        ),
    };
    // A filter that serves nothing under the known names still leaves db_name: Odoo preloads
    // those databases and runs their crons, so they are this instance's own.
    if served.is_empty() && undecided.is_none() && !names.is_empty() {
        served = names
            .iter()
            .filter(|n| i.owned.is_none() || owned.contains(n))
            .cloned()
            .collect();
        rule = format!(
            "{rule} serves none; db_name = {} (preloaded)",
            names.join(",")
        );
    }
    if !i.chosen.is_empty() {
        let pool: Vec<String> = undecided.clone().unwrap_or_else(|| {
            if served.is_empty() {
                owned.clone()
            } else {
                served.clone()
            }
        });
        served = i
            .chosen
            .iter()
            .filter(|c| pool.contains(c))
            .cloned()
            .collect();
        rule = format!("{rule}; chosen with --database {}", i.chosen.join(","));
        undecided = None;
    }
    served.sort();
    served.dedup();
    let mut cleanup_from: Vec<String> = if i.workers > 0 && names.is_empty() {
        match &i.owned {
            Some(o) => o
                .iter()
                .filter(|(_, base)| match (base, i.major) {
                    (Some(b), Some(m)) => *b == m,
                    _ => true,
                })
                .map(|(n, _)| n.clone())
                .collect(),
            None => served.clone(),
        }
    } else {
        let mut v = served.clone();
        v.extend(names.iter().cloned());
        v
    };
    if undecided.is_some() {
        cleanup_from.clear();
    }
    cleanup_from.sort();
    cleanup_from.dedup();
    DbScope {
        served,
        rule,
        undecided,
        cleanup_from,
        chosen: !i.chosen.is_empty(),
        host_names: i.host_names.clone(),
        any_host: i.any_host,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn owned(v: &[(&str, u8)]) -> Option<Vec<(String, Option<u8>)>> {
        Some(v.iter().map(|(n, m)| (n.to_string(), Some(*m))).collect())
    }

    /// The real host of issue 9: one cluster, one role, three instances with their own filters.
    #[test]
    fn each_instance_serves_only_what_its_filter_matches() {
        let dbs = owned(&[
            ("testdb", 17),
            ("testdb18", 18),
            ("testdb19", 19),
            ("testdb_old", 17),
        ]);
        let s = scope(&ScopeInput {
            dbfilter: Some("^testdb$".into()),
            workers: 2,
            major: Some(17),
            owned: dbs.clone(),
            ..Default::default()
        });
        assert_eq!(s.served, vec!["testdb"]);
        assert_eq!(s.undecided, None);
        // The prefork cron visits every database of the role of its own version.
        assert_eq!(s.cleanup_from, vec!["testdb", "testdb_old"]);
        let s18 = scope(&ScopeInput {
            dbfilter: Some("^testdb18$".into()),
            workers: 0,
            major: Some(18),
            owned: dbs,
            ..Default::default()
        });
        assert_eq!(s18.served, vec!["testdb18"]);
        assert_eq!(s18.cleanup_from, vec!["testdb18"]);
    }

    #[test]
    fn a_host_filter_behind_a_catch_all_server_is_undecided() {
        let dbs = owned(&[("acme", 17), ("globex", 17)]);
        let named = scope(&ScopeInput {
            dbfilter: Some("^%d$".into()),
            owned: dbs.clone(),
            host_names: vec!["acme.example.com".into(), "www.acme.example.com".into()],
            ..Default::default()
        });
        assert_eq!(named.served, vec!["acme"]);
        let catch_all = scope(&ScopeInput {
            dbfilter: Some("^%d$".into()),
            owned: dbs.clone(),
            host_names: vec!["acme.example.com".into()],
            any_host: true,
            ..Default::default()
        });
        assert!(catch_all.served.is_empty());
        assert_eq!(
            catch_all.undecided,
            Some(vec!["acme".into(), "globex".into()])
        );
        let chosen = scope(&ScopeInput {
            dbfilter: Some("^%d$".into()),
            owned: dbs,
            any_host: true,
            chosen: vec!["globex".into(), "not-there".into()],
            ..Default::default()
        });
        assert_eq!(chosen.served, vec!["globex"]);
        assert_eq!(chosen.undecided, None);
    }

    #[test]
    fn db_name_and_no_filter_follow_list_dbs() {
        let s = scope(&ScopeInput {
            db_name: Some("prod, staging".into()),
            workers: 4,
            owned: None,
            ..Default::default()
        });
        assert_eq!(s.served, vec!["prod", "staging"]);
        assert_eq!(s.cleanup_from, vec!["prod", "staging"]);
        let none = scope(&ScopeInput {
            owned: owned(&[("a", 17), ("b", 17)]),
            ..Default::default()
        });
        assert!(none.served.is_empty());
        assert_eq!(none.undecided, Some(vec!["a".into(), "b".into()]));
        let one = scope(&ScopeInput {
            owned: owned(&[("only", 17)]),
            ..Default::default()
        });
        assert_eq!(one.served, vec!["only"]);
    }

    #[test]
    fn dbfilter_substitutes_like_odoo() {
        assert!(dbfilter_allows(
            "^%h$",
            "www.shop.example.com:8069",
            "shop.example.com"
        ));
        assert!(dbfilter_allows("^%d$", "shop.example.com", "shop"));
        assert!(
            dbfilter_allows("%d", "shop.example.com", "shop_test"),
            "re.match anchors at the start only"
        );
        assert!(!dbfilter_allows("^%d$", "10.0.0.5", "shop"));
        assert!(
            !dbfilter_allows("(", "x", "x"),
            "an invalid filter serves nothing (Odoo raises)"
        );
    }
}
