//! Checks on the reverse proxy (nginx) in front of Odoo: proxy_mode, forwarded headers (and the
//! inheritance trap), the real-time channel, HTTPS, one canonical host, cookie flags, stickiness.
//! All read the effective configuration from `nginx -T`, as nginx itself would apply it.

use super::{deploy_docs, gh, Choice, Finding, FixOffer, Status};
use crate::facts::{Facts, NginxFacts, Observed};
use crate::nginx::{Directive, EditOp, Level, Location, NginxConfig, NginxDump, Selector, Server};

/// The headers Odoo needs from its proxy (facts §4), with the official values.
pub const FORWARDED: &[(&str, &str)] = &[
    ("X-Forwarded-Host", "$http_host"),
    ("X-Forwarded-Proto", "$scheme"),
    ("X-Forwarded-For", "$proxy_add_x_forwarded_for"),
];

/// The proxy in front of this Odoo, as nginx applies it.
pub struct Front {
    pub config: NginxConfig,
    /// `127.0.0.1:<http_port>` and `127.0.0.1:<gevent_port>`.
    pub http: String,
    pub gevent: String,
}

impl Front {
    pub fn new(n: &NginxFacts, http_port: u16, gevent_port: u16) -> Result<Front, String> {
        let config = NginxDump::parse(&n.dump)
            .config()
            .map_err(|e| format!("{}:{}: {}", e.file, e.line, e.message))?;
        Ok(Front {
            config,
            http: format!("127.0.0.1:{http_port}"),
            gevent: format!("127.0.0.1:{gevent_port}"),
        })
    }

    /// Servers with at least one location proxying to Odoo (HTTP or gevent port).
    pub fn odoo_servers(&self) -> Vec<Server<'_>> {
        let routes: Vec<usize> = self
            .config
            .routes_to(&self.http)
            .iter()
            .chain(self.config.routes_to(&self.gevent).iter())
            .map(|r| r.server)
            .collect();
        self.config
            .servers()
            .into_iter()
            .filter(|s| routes.contains(&s.index))
            .collect()
    }

    pub fn has_https(&self) -> bool {
        self.odoo_servers().iter().any(|s| s.is_ssl())
    }

    /// Whether a server sends every request elsewhere: an unconditional `return 3xx` or
    /// redirecting `rewrite` directly in the server block (one inside `if` is conditional).
    pub fn redirects_all(s: &Server) -> bool {
        s.directive
            .children()
            .iter()
            .any(|d| match d.name.as_str() {
                "return" => d
                    .arg(0)
                    .is_some_and(|c| matches!(c, "301" | "302" | "303" | "307" | "308")),
                "rewrite" => d.args.iter().skip(1).any(|a| {
                    a == "permanent"
                        || a == "redirect"
                        || a.starts_with("http://")
                        || a.starts_with("https://")
                }),
                _ => false,
            })
    }

    /// Servers that proxy to Odoo over plain HTTP instead of redirecting everything.
    pub fn plain_proxying(&self) -> Vec<Server<'_>> {
        self.odoo_servers()
            .into_iter()
            .filter(|s| !s.is_ssl() && !Self::redirects_all(s))
            .collect()
    }

    /// Servers where a plain-HTTP request reaches Odoo: a server block that listens without TLS
    /// and proxies instead of redirecting everything, and a block that listens both ways (`listen
    /// 80; listen 443 ssl;`) unless it sends plain requests away with an `if ($scheme …)`.
    pub fn plain_serving(&self) -> Vec<Server<'_>> {
        self.odoo_servers()
            .into_iter()
            .filter(|s| {
                let tls_everywhere = s
                    .directive
                    .get("ssl")
                    .is_some_and(|d| d.arg(0) == Some("on"));
                !tls_everywhere
                    && s.listens().iter().any(|l| !l.ssl)
                    && !Self::redirects_all(s)
                    && !(s.is_ssl() && has_scheme_redirect(s))
            })
            .collect()
    }

    /// Servers that really serve Odoo to users (HTTPS ones when HTTPS exists).
    pub fn serving(&self) -> Vec<Server<'_>> {
        let https = self.has_https();
        self.odoo_servers()
            .into_iter()
            .filter(|s| !Self::redirects_all(s) && (s.is_ssl() || !https))
            .collect()
    }
}

pub enum FrontState {
    NoNginx(String),
    Broken(String),
    NotInFront,
    Front(Box<Front>),
}

pub fn front(f: &Facts) -> FrontState {
    let n = match &f.nginx {
        Observed::Seen(n) => n,
        Observed::Unknown(why) => return FrontState::NoNginx(why.clone()),
    };
    match Front::new(n, f.odoo.http_port(), f.odoo.gevent_port()) {
        Err(why) => FrontState::Broken(why),
        Ok(fr) if fr.odoo_servers().is_empty() => FrontState::NotInFront,
        Ok(fr) => FrontState::Front(Box::new(fr)),
    }
}

/// Runs `body` when nginx is in front of Odoo; otherwise a skip/unknown finding.
fn with_front(f: &Facts, fnd: Finding, body: impl FnOnce(Finding, &Front) -> Finding) -> Finding {
    match front(f) {
        FrontState::Front(fr) => body(fnd, &fr),
        FrontState::NotInFront => fnd.status(
            Status::Skip,
            "nginx runs here but does not proxy to this Odoo.",
        ),
        FrontState::NoNginx(why) => {
            fnd.status(Status::Skip, format!("No nginx in front of Odoo ({why})."))
        }
        FrontState::Broken(why) => fnd.status(
            Status::Unknown,
            format!("The nginx configuration could not be read: {why}"),
        ),
    }
}

fn usable_name(n: &str) -> bool {
    !n.is_empty() && n != "_" && !n.starts_with('~') && !n.contains('*')
}

/// Host names the proxy serves this Odoo under.
pub fn server_names(n: &NginxFacts, http_port: u16) -> Vec<String> {
    let Ok(fr) = Front::new(n, http_port, 0) else {
        return Vec::new();
    };
    let mut names: Vec<String> = Vec::new();
    for s in fr.odoo_servers() {
        for name in s.server_names().into_iter().filter(|n| usable_name(n)) {
            if !names.iter().any(|x| x == name) {
                names.push(name.to_string());
            }
        }
    }
    names
}

/// URLs users may type, HTTPS first.
pub fn public_urls(n: &NginxFacts, http_port: u16) -> Vec<String> {
    let Ok(fr) = Front::new(n, http_port, 0) else {
        return Vec::new();
    };
    let mut servers = fr.odoo_servers();
    servers.sort_by_key(|s| !s.is_ssl());
    let mut urls = Vec::new();
    for s in servers {
        let Some(name) = s.server_names().into_iter().find(|n| usable_name(n)) else {
            continue;
        };
        for l in s.listens() {
            let (scheme, default) = if l.ssl { ("https", 443) } else { ("http", 80) };
            let port = l.port.unwrap_or(default);
            urls.push(if port == default {
                format!("{scheme}://{name}")
            } else {
                format!("{scheme}://{name}:{port}")
            });
        }
    }
    urls
}

pub fn mode(f: &Facts, fnd: Finding) -> Finding {
    let fnd = fnd
        .refs(&[gh("odoo/odoo", 63276), deploy_docs()])
        .note("All versions: with proxy_mode on, Odoo applies X-Forwarded-Proto/-For only when the request also carries X-Forwarded-Host. In 12–18 any non-empty value other than False/false turns proxy_mode on (even 0); 19 accepts only true/false words.");
    let on = f
        .odoo
        .option("proxy_mode")
        .is_some_and(|v| crate::odoo_conf::parse_bool(&v));
    let source = f
        .odoo
        .option_source("proxy_mode")
        .unwrap_or_else(|| "odoo.conf".into());
    match front(f) {
        FrontState::Front(fr) => {
            let fnd = fnd.evidence("nginx", format!("{} server block(s) proxy to Odoo on {}", fr.odoo_servers().len(), fr.http));
            if on {
                fnd.status(Status::Ok, "nginx is in front and proxy_mode is on.").evidence(source, "proxy_mode = True")
            } else {
                fnd.status(Status::Fail, "nginx is in front of Odoo but proxy_mode is off.")
                    .evidence(source, "proxy_mode is not True")
                    .users_see("Links and redirects point to http:// or the wrong address; after logging in people can land on a page where their session cookie is not sent, and see the login page again.")
                    .why("Behind a proxy, Odoo only sees the proxy's own address and scheme unless proxy_mode is on; then it trusts the X-Forwarded-* headers the proxy sends.")
                    .fix(FixOffer { title: "Set proxy_mode = True in odoo.conf (restarts Odoo)".into(), choices: vec![], default: None })
            }
        }
        FrontState::Broken(why) => fnd.status(Status::Unknown, format!("The nginx configuration could not be read: {why}")),
        _ if on => fnd.status(Status::Warn, "proxy_mode is on but no proxy was found in front: anyone can fake their address and the host name Odoo uses."),
        _ => fnd.status(Status::Ok, "No proxy in front and proxy_mode is off."),
    }
}

pub fn headers(f: &Facts, fnd: Finding) -> Finding {
    let fnd = fnd.refs(&[
        gh("odoo/odoo", 63276),
        gh("odoo/odoo", 42359),
        gh("Tecnativa/doodba", 283),
        deploy_docs(),
    ]);
    with_front(f, fnd, |mut fnd, fr| {
        let mut missing_total = 0;
        let servers = fr.config.servers();
        for addr in [&fr.http, &fr.gevent] {
            for route in fr.config.routes_to(addr) {
                let Some(server) = servers.iter().find(|s| s.index == route.server) else {
                    continue;
                };
                if Front::redirects_all(server) {
                    continue;
                }
                let Some(loc) = server.location(&route.location) else {
                    continue;
                };
                let missing: Vec<&str> = FORWARDED
                    .iter()
                    .map(|(h, _)| *h)
                    .filter(|h| loc.header(h).is_none())
                    .collect();
                let dropped: Vec<String> = loc
                    .dropped_headers()
                    .iter()
                    .map(|h| h.name.to_string())
                    .collect();
                let place = format!("{}:{}", loc.directive.file, loc.directive.line);
                if unused_since_16(f, &route.location) {
                    if !missing.is_empty() {
                        fnd = fnd.evidence(
                            place,
                            format!(
                                "location {} sends no {} — unused since Odoo 16, which has no /longpolling route (the live connection is /websocket): it logs nobody out",
                                route.location,
                                missing.join(", ")
                            ),
                        );
                    }
                    continue;
                }
                if !missing.is_empty() {
                    missing_total += missing.len();
                    let trap = if dropped.is_empty() {
                        String::new()
                    } else {
                        format!(
                            " — it sets its own proxy_set_header, so it drops the server's {}",
                            dropped.join(", ")
                        )
                    };
                    fnd = fnd.evidence(
                        place,
                        format!(
                            "location {} sends no {}{trap}",
                            route.location,
                            missing.join(", ")
                        ),
                    );
                } else if loc.header("X-Forwarded-Host") == Some("$host") {
                    fnd = fnd.evidence(place, format!("location {}: X-Forwarded-Host $host drops a non-default port; $http_host keeps it", route.location));
                    fnd.worsen(
                        Status::Warn,
                        "X-Forwarded-Host uses $host, which drops the port.",
                    );
                }
            }
        }
        if missing_total > 0 {
            fnd.worsen(
                Status::Fail,
                "Some requests reach Odoo without X-Forwarded-Host/-Proto/-For.",
            );
            fnd.users_see("Odoo builds wrong links (http:// instead of https://, or the internal address); the live connection and redirects after login can break the session.")
                .why("Odoo applies the forwarded scheme and address only when the request carries X-Forwarded-Host (even with proxy_mode on). In nginx, a location that sets any proxy_set_header of its own inherits none of the server's — a classic trap in /websocket.")
                .fix(FixOffer { title: "Add the missing proxy_set_header lines where they take effect (reloads nginx)".into(), choices: vec![], default: None })
        } else {
            if fnd.status == Status::Ok {
                fnd.summary =
                    "Every location to Odoo sends X-Forwarded-Host, -Proto and -For.".into();
            }
            fnd
        }
    })
}

pub fn websocket(f: &Facts, fnd: Finding) -> Finding {
    let fnd = fnd.refs(&[
        gh("odoo/odoo", 106339),
        gh("odoo/odoo", 152199),
        deploy_docs(),
    ]);
    if f.odoo.workers() == 0 {
        return fnd.status(
            Status::Skip,
            "workers = 0: Odoo serves the live connection on its main port.",
        );
    }
    let path = f
        .odoo
        .version
        .map(|v| v.realtime_path())
        .unwrap_or("/websocket");
    let fnd = match f.odoo.version {
        Some(v) if v.major >= 16 => fnd.note(format!("Odoo {v}: the live connection is a WebSocket at /websocket on gevent_port (the old name longpolling_port is {}).", if v.major >= 18 { "ignored from 18" } else { "a deprecated alias in 16–17" })),
        Some(v) => fnd.note(format!("Odoo {v}: the live connection is long polling at /longpolling on longpolling_port.")),
        None => fnd,
    };
    with_front(f, fnd, |mut fnd, fr| {
        let to_gevent = fr.config.routes_to(&fr.gevent);
        for s in fr.serving() {
            let names = s.server_names().join(" ");
            match to_gevent
                .iter()
                .find(|r| r.server == s.index && location_path(&r.location) == path)
            {
                None => {
                    fnd = fnd.evidence(
                        format!("{}:{}", s.directive.file, s.directive.line),
                        format!(
                            "server {names}: no location {path} to the gevent port {}",
                            fr.gevent
                        ),
                    );
                    fnd.worsen(
                        Status::Fail,
                        format!(
                            "{path} does not reach Odoo's gevent port: the live connection fails."
                        ),
                    );
                }
                Some(r) => {
                    let Some(loc) = s.location(&r.location) else {
                        continue;
                    };
                    if path == "/websocket"
                        && (loc.header("Upgrade").is_none() || loc.header("Connection").is_none())
                    {
                        fnd = fnd.evidence(
                            format!("{}:{}", loc.directive.file, loc.directive.line),
                            format!("location {path} lacks the Upgrade/Connection headers"),
                        );
                        fnd.worsen(
                            Status::Fail,
                            format!("{path} is proxied without the WebSocket upgrade headers."),
                        );
                    }
                }
            }
        }
        if fnd.status == Status::Ok {
            fnd.summary = format!("{path} goes to the gevent port with upgrade headers.");
        } else {
            fnd = fnd
                .users_see("Chat, notifications and live updates stop; the page keeps reconnecting and may show \"connection lost\".")
                .why(format!("With workers > 0 Odoo serves the live connection from a separate gevent process (port {}); the proxy must send {path} there, with the WebSocket upgrade headers.", f.odoo.gevent_port()))
                .fix(FixOffer { title: format!("Add or complete location {path} (reloads nginx)"), choices: vec![], default: None });
        }
        fnd
    })
}

/// A `/longpolling` location on Odoo 16 or later: no request there reaches a route of Odoo's,
/// so what it forwards changes nothing. Up to 15 (or when the version is unknown) it counts.
pub fn unused_since_16(f: &Facts, location: &str) -> bool {
    let path = location_path(location).trim_start_matches('^');
    f.odoo.version.is_some_and(|v| v.major >= 16)
        && (path.trim_end_matches('/') == "/longpolling" || path.starts_with("/longpolling/"))
}

/// `= /websocket`, `^~ /websocket` and `/websocket` all name the path `/websocket`.
pub fn location_path(key: &str) -> &str {
    key.rsplit(' ').next().unwrap_or(key)
}

pub fn https_redirect(f: &Facts, fnd: Finding) -> Finding {
    let fnd = fnd.refs(&[deploy_docs()]);
    with_front(f, fnd, |mut fnd, fr| {
        if !fr.has_https() {
            return fnd
                .status(Status::Warn, "Odoo is served over plain HTTP only: passwords and session cookies cross the network unencrypted.")
                .why("Without HTTPS anyone on the network path can read a session cookie and use it. HTTPS also lets the cookie be marked Secure. Setting it up needs a certificate, so it is not done automatically.")
                .users_see("Nothing visible until someone steals a session.");
        }
        for s in fr.plain_proxying() {
            fnd = fnd.evidence(
                format!("{}:{}", s.directive.file, s.directive.line),
                format!(
                    "server {} listens without TLS and proxies to Odoo",
                    s.server_names().join(" ")
                ),
            );
            fnd.worsen(
                Status::Fail,
                "HTTPS exists, but plain HTTP still serves Odoo instead of redirecting.",
            );
        }
        if fnd.status == Status::Ok {
            fnd.summary = "Plain HTTP redirects to HTTPS.".into();
        } else {
            fnd = fnd
                .users_see("People who type the address without https:// get a second, separate login; with secure cookies they are logged out on every http:// page.")
                .why("A cookie made on https:// is not the one used on http:// (and a Secure cookie is never sent over http). One scheme for everybody keeps one session.")
                .fix(FixOffer { title: "Redirect plain HTTP to HTTPS (reloads nginx)".into(), choices: vec![], default: None });
        }
        fnd
    })
}

/// `web.base.url` and whether it is frozen, from the first database.
pub fn base_url(f: &Facts) -> (Option<String>, bool) {
    let Some(d) = f.db.seen().and_then(|d| d.databases.first()) else {
        return (None, false);
    };
    let frozen = d
        .params
        .get("web.base.url.freeze")
        .is_some_and(|v| !v.trim().is_empty() && v.trim() != "False");
    (d.params.get("web.base.url").cloned(), frozen)
}

/// The host of a URL, without port.
pub fn url_host(url: &str) -> Option<String> {
    let rest = url.split_once("://")?.1;
    let hostport = rest.split('/').next()?;
    let host = match hostport.rsplit_once(':') {
        Some((h, p)) if p.chars().all(|c| c.is_ascii_digit()) => h,
        _ => hostport,
    };
    Some(host.to_string())
}

/// Names under which Odoo is really served (not just redirected from), in config order.
pub fn serving_names(fr: &Front) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for s in fr.serving() {
        for n in s.server_names().into_iter().filter(|n| usable_name(n)) {
            if !names.iter().any(|x| x == n) {
                names.push(n.to_string());
            }
        }
    }
    names
}

/// What a `web.base.url` naming another host (or scheme) breaks on this instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BaseUrlConsequence {
    /// 12–17: printing a PDF re-enters Odoo through web.base.url with the user's session, and
    /// a host-dependent `dbfilter` does not give the session's database under that host: Odoo
    /// logs the user out (facts §4, odoo/odoo#92043).
    LogsOutOnPrint { filter: String, db: String },
    /// Links (emails, portal) and, in 12–17, printed PDFs use the wrong address; nobody is logged
    /// out. `why` says why not, in plain words.
    BrokenLinks { why: String },
}

impl BaseUrlConsequence {
    pub fn status(&self) -> Status {
        match self {
            BaseUrlConsequence::LogsOutOnPrint { .. } => Status::Fail,
            BaseUrlConsequence::BrokenLinks { .. } => Status::Warn,
        }
    }

    pub fn describe(&self, host: &str) -> String {
        match self {
            BaseUrlConsequence::LogsOutOnPrint { filter, db } => format!(
                "printing a PDF goes through {host}, where dbfilter {filter} does not offer {db}: Odoo logs the user out"
            ),
            BaseUrlConsequence::BrokenLinks { why } => why.clone(),
        }
    }
}

/// The consequence of `web.base.url` pointing at `base_host` while users use `serving`: a
/// logout only when printing goes through it (12–17) and a host-dependent dbfilter (`%h`, `%d`)
/// rejects the database users work in under that host; otherwise broken links and prints.
/// Odoo's `db_filter`: `dbfilter` wins when set; else `db_name` (a comma list in recent
/// versions) is the list of databases offered; else every database is.
pub fn base_url_consequence(f: &Facts, serving: &[String], base_host: &str) -> BaseUrlConsequence {
    let printing = match f.odoo.version {
        Some(v) if v.major >= 18 => {
            return BaseUrlConsequence::BrokenLinks {
                why: format!("Odoo {v} does not print through web.base.url: only links (emails, portal, redirects) use the wrong address; nobody is logged out by it"),
            }
        }
        Some(v) => format!("Odoo {v} prints PDFs through web.base.url, so links and printing use the wrong address"),
        None => "links and (Odoo 12–17) PDF printing use the wrong address".to_string(),
    };
    let filter = f
        .odoo
        .option("dbfilter")
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty());
    let db_name = f
        .odoo
        .option("db_name")
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty() && v != "False");
    let Some(filter) = filter.filter(|v| v.contains("%h") || v.contains("%d")) else {
        let fixed = match (
            f.odoo.option("dbfilter").filter(|v| !v.trim().is_empty()),
            &db_name,
        ) {
            (Some(filter), _) => format!(
                "dbfilter {} picks the database whatever the host name",
                filter.trim()
            ),
            (None, Some(name)) => {
                format!("db_name = {name} fixes the database whatever the host name")
            }
            (None, None) => {
                "without dbfilter or db_name every database is offered under any host name"
                    .to_string()
            }
        };
        return BaseUrlConsequence::BrokenLinks {
            why: format!("{printing}; {fixed}, so the session's database is found and nobody is logged out by it"),
        };
    };
    let databases: Vec<String> =
        f.db.seen()
            .map(|d| d.databases.iter().map(|d| d.name.clone()).collect())
            .unwrap_or_default();
    // The databases users reach under the names they use.
    let used: Vec<&String> = databases
        .iter()
        .filter(|db| {
            serving.is_empty()
                || serving
                    .iter()
                    .any(|n| crate::db_scope::dbfilter_allows(&filter, n, db))
        })
        .collect();
    if used.is_empty() {
        // Nothing known to compare: the host-dependent filter decides under another name.
        return BaseUrlConsequence::LogsOutOnPrint {
            filter,
            db: db_name.unwrap_or_else(|| "the user's database".into()),
        };
    }
    match used
        .iter()
        .find(|db| !crate::db_scope::dbfilter_allows(&filter, base_host, db))
    {
        Some(db) => BaseUrlConsequence::LogsOutOnPrint {
            filter,
            db: db.to_string(),
        },
        None => BaseUrlConsequence::BrokenLinks {
            why: format!(
                "{printing}; dbfilter {filter} also offers {} under {base_host}, so nobody is logged out by it",
                used.iter().map(|d| d.as_str()).collect::<Vec<_>>().join(", ")
            ),
        },
    }
}

pub fn canonical_host(f: &Facts, fnd: Finding) -> Finding {
    let fnd = fnd.refs(&[gh("odoo/odoo", 92043), deploy_docs()]);
    with_front(f, fnd, |mut fnd, fr| {
        let mut logs_out = false;
        let serving = serving_names(fr);
        let (base, frozen) = base_url(f);
        let base_host = base.as_deref().and_then(url_host);
        // A server serving several names without an `if ($host != …)` redirect serves them all.
        let canonicalised = fr.serving().iter().all(|s| {
            s.server_names().iter().filter(|n| usable_name(n)).count() <= 1 || has_host_redirect(s)
        });
        if serving.len() > 1 && !canonicalised {
            fnd = fnd.evidence("nginx server_name", serving.join(" "));
            fnd.worsen(
                Status::Fail,
                format!(
                    "Odoo answers under {} host names without redirecting to one.",
                    serving.len()
                ),
            );
        }
        match (&base, &base_host) {
            (Some(b), Some(h)) => {
                fnd = fnd.evidence(
                    "web.base.url",
                    format!(
                        "{b}{}",
                        if frozen {
                            " (frozen)"
                        } else {
                            " (not frozen: rewritten at each admin login)"
                        }
                    ),
                );
                if !serving.is_empty() && !serving.iter().any(|n| n == h) {
                    let c = base_url_consequence(f, &serving, h);
                    logs_out |= c.status() == Status::Fail;
                    fnd = fnd.evidence("what that breaks", c.describe(h));
                    fnd.worsen(
                        c.status(),
                        match c {
                            BaseUrlConsequence::LogsOutOnPrint { .. } => format!("web.base.url points to {h}, not the address users use: printing a PDF there logs them out."),
                            BaseUrlConsequence::BrokenLinks { .. } => format!("web.base.url points to {h}, not the address users use: links and prints use the wrong address (nobody is logged out by it)."),
                        },
                    );
                }
                if fr.has_https() && b.starts_with("http://") {
                    fnd = fnd.evidence("what that breaks", "links and printed PDFs go through plain http://; the host, and so the database, stays the same");
                    fnd.worsen(
                        Status::Warn,
                        "web.base.url uses http:// while the site is served over HTTPS: links and prints go through plain HTTP.",
                    );
                }
                if !frozen {
                    fnd.worsen(Status::Warn, "web.base.url is not frozen: the next admin login from another address rewrites it.");
                }
            }
            _ => fnd.worsen(Status::Warn, "web.base.url is not set."),
        }
        if let Some(p) = &f.probe {
            if let (Some(after), Some(public)) = (&p.base_url_after_login, p.public.as_ref()) {
                let used = public.final_url.as_deref().unwrap_or(&public.url);
                fnd = fnd.evidence(
                    "web.base.url after a test login",
                    format!("{after} (address used: {used})"),
                );
                if url_host(after) != url_host(used)
                    || after.starts_with("http://") != used.starts_with("http://")
                {
                    let c = match url_host(after) {
                        Some(h) if url_host(used).as_deref() != Some(h.as_str()) => {
                            base_url_consequence(f, &serving, &h)
                        }
                        _ => BaseUrlConsequence::BrokenLinks {
                            why: "only the scheme differs: links and prints use the wrong scheme"
                                .into(),
                        },
                    };
                    logs_out |= c.status() == Status::Fail;
                    fnd.worsen(c.status(), format!("After logging in, Odoo believes its address is {after}, but users reach it as {used}."));
                }
            }
        }
        let default = base_host
            .filter(|h| serving.contains(h))
            .or_else(|| serving.first().cloned());
        if fnd.status == Status::Ok {
            fnd.summary = format!(
                "Odoo is served as {} and web.base.url matches, frozen.",
                default.as_deref().unwrap_or("-")
            );
        } else {
            let several = serving.len() > 1 && !canonicalised;
            fnd = fnd
                .users_see(match (several, logs_out) {
                    (true, _) | (false, true) => "Logged in on one address, logged out on another; printing a PDF can end on the login page; emails link to a wrong address.",
                    (false, false) => "Emails and links point to a wrong address; printed PDFs can come out blank. Nobody is logged out by it.",
                })
                .why(if logs_out || several {
                    "Each host name gets its own cookie, so each is a separate login. Odoo 12–17 also print reports by calling web.base.url with the user's session; when dbfilter gives another database (or none) under that host, Odoo logs the user out."
                } else {
                    "Odoo builds links in emails and (12–17) the address it prints PDFs through from web.base.url. Here the database does not depend on the host name, so the session survives; only the address is wrong."
                })
                .fix(FixOffer {
                    title: "Redirect every other name to one canonical host and set web.base.url to it, frozen (reloads nginx, restarts Odoo)".into(),
                    choices: serving.iter().map(|n| Choice { value: n.clone(), label: n.clone(), warning: None }).collect(),
                    default,
                });
        }
        fnd
    })
}

/// `if ($host != name) { return 301 …; }` at server level: the canonical-host redirect we write.
pub fn has_host_redirect(s: &Server) -> bool {
    s.directive.children().iter().any(|d| {
        d.name == "if"
            && d.args.iter().any(|a| a.contains("$host"))
            && d.children().iter().any(|c| c.name == "return")
    })
}

/// `if ($scheme = http) { return 301 https://…; }` (or `$https`) at server level: plain requests
/// of a server that listens both ways are sent to HTTPS.
pub fn has_scheme_redirect(s: &Server) -> bool {
    s.directive.children().iter().any(|d| {
        d.name == "if"
            && d.args
                .iter()
                .any(|a| a.contains("$scheme") || a.contains("$https"))
            && d.children()
                .iter()
                .any(|c| c.name == "return" || c.name == "rewrite")
    })
}

/// Whether a `proxy_cookie_flags`/`proxy_cookie_path` cookie or path pattern matches `value`:
/// a literal (case-insensitive), or a regex after `~` (`~*`: case-insensitive); a bare `~` is
/// the empty regex and matches everything.
fn pattern_matches(pattern: &str, value: &str, literal_prefix: bool) -> bool {
    let (regex, insensitive) = if let Some(r) = pattern.strip_prefix("~*") {
        (Some(r), true)
    } else if let Some(r) = pattern.strip_prefix('~') {
        (Some(r), false)
    } else {
        (None, false)
    };
    match regex {
        Some(r) => regex::RegexBuilder::new(r.trim())
            .case_insensitive(insensitive)
            .build()
            .map(|re| re.is_match(value))
            .unwrap_or(false),
        None if literal_prefix => value.starts_with(pattern),
        None => pattern.eq_ignore_ascii_case(value),
    }
}

/// The directive that makes nginx mark Odoo's `session_id` cookie (set with `Path=/`) Secure in
/// this location: the first `proxy_cookie_flags` whose cookie matches it, when its flags include
/// `secure` (nginx applies the first match only); or a `proxy_cookie_path` whose replacement
/// appends `; Secure` to the path, the trick older guides publish.
pub fn secure_cookie_source<'a>(loc: &Location<'a>) -> Option<&'a Directive> {
    let flags = loc.effective_all("proxy_cookie_flags");
    let first = flags.directives.iter().find(|d| {
        d.arg(0)
            .is_some_and(|c| c != "off" && pattern_matches(c, "session_id", false))
    });
    if let Some(d) = first {
        if d.args
            .iter()
            .skip(1)
            .any(|a| a.eq_ignore_ascii_case("secure"))
        {
            return Some(d);
        }
    }
    let paths = loc.effective_all("proxy_cookie_path");
    let first = paths.directives.iter().find(|d| {
        d.arg(0)
            .is_some_and(|p| p != "off" && pattern_matches(p, "/", true))
    });
    first
        .filter(|d| {
            d.arg(1).is_some_and(|r| {
                r.split(';')
                    .skip(1)
                    .any(|part| part.trim().eq_ignore_ascii_case("secure"))
            })
        })
        .copied()
}

/// Where nginx marks the session cookie Secure on a server that answers plain HTTP.
#[derive(Debug, Clone)]
pub struct SecureOnPlain<'a> {
    pub server: usize,
    /// `server_name`s, for the evidence.
    pub names: String,
    /// The plain-HTTP ports of that server.
    pub plain_ports: Vec<u16>,
    /// The location to Odoo that sends the cookie.
    pub location: String,
    pub directive: &'a Directive,
    /// The level the directive is taken from (where an edit takes effect).
    pub level: Level,
    /// The same block also terminates TLS (`listen 80; listen 443 ssl;` in one server).
    pub mixed: bool,
    /// The directive also marks the cookie on an HTTPS server (set at http level, in a snippet
    /// both include, or in a block that listens both ways): removing `secure` there would remove
    /// it from HTTPS too.
    pub shared_with_https: bool,
}

fn same_directive(a: &Directive, b: &Directive) -> bool {
    a.file == b.file && a.span == b.span
}

/// Every location to Odoo's HTTP port served over plain HTTP where nginx marks the session
/// cookie Secure: browsers drop such a cookie on http://, so nobody stays logged in there.
pub fn secure_on_plain(fr: &Front) -> Vec<SecureOnPlain<'_>> {
    let servers = fr.config.servers();
    let routes = fr.config.routes_to(&fr.http);
    // Directives that mark the cookie on TLS-served routes.
    let mut on_tls: Vec<&Directive> = Vec::new();
    for route in &routes {
        let Some(s) = servers.iter().find(|s| s.index == route.server) else {
            continue;
        };
        if !s.is_ssl() || Front::redirects_all(s) {
            continue;
        }
        if let Some(d) = s
            .location(&route.location)
            .and_then(|l| secure_cookie_source(&l))
        {
            on_tls.push(d);
        }
    }
    let mut out: Vec<SecureOnPlain> = Vec::new();
    for s in fr.plain_serving() {
        for route in routes.iter().filter(|r| r.server == s.index) {
            let Some(loc) = s.location(&route.location) else {
                continue;
            };
            let Some(d) = secure_cookie_source(&loc) else {
                continue;
            };
            let level = loc.effective_all(&d.name).from;
            out.push(SecureOnPlain {
                server: s.index,
                names: s.server_names().join(" "),
                plain_ports: s
                    .listens()
                    .iter()
                    .filter(|l| !l.ssl)
                    .filter_map(|l| l.port)
                    .collect(),
                location: route.location.clone(),
                directive: d,
                level,
                mixed: s.is_ssl(),
                shared_with_https: on_tls.iter().any(|t| same_directive(t, d)),
            });
        }
    }
    out
}

/// The fix choices for [`secure_on_plain`] that the planner can apply safely.
pub const REDIRECT_PLAIN: &str = "redirect";
pub const DROP_SECURE: &str = "drop-secure";

/// Redirecting plain HTTP is plannable when HTTPS exists and every trap is a plain-only server
/// (the redirect fix adds `return 301` to exactly those; a block that also listens with TLS
/// cannot take it).
pub fn can_redirect_plain(fr: &Front, traps: &[SecureOnPlain]) -> bool {
    fr.has_https() && !traps.is_empty() && traps.iter().all(|t| !t.mixed)
}

/// The edits that remove `secure` where it marks the cookie on plain HTTP; `None` when one of
/// those directives also serves HTTPS (removing it there would weaken HTTPS: redirect instead,
/// or split the block by hand).
pub fn drop_secure_edits(traps: &[SecureOnPlain]) -> Option<Vec<(Selector, EditOp)>> {
    if traps.is_empty() || traps.iter().any(|t| t.shared_with_https) {
        return None;
    }
    let mut edits: Vec<(Selector, EditOp)> = Vec::new();
    let mut done: Vec<&Directive> = Vec::new();
    for t in traps {
        if done.iter().any(|d| same_directive(d, t.directive)) {
            continue;
        }
        done.push(t.directive);
        let d = t.directive;
        let args: Vec<String> = if d.name == "proxy_cookie_flags" {
            d.args
                .iter()
                .filter(|a| !a.eq_ignore_ascii_case("secure"))
                .cloned()
                .collect()
        } else {
            let replacement = d.arg(1).unwrap_or("/");
            let kept: Vec<&str> = replacement
                .split(';')
                .enumerate()
                .filter(|(i, part)| *i == 0 || !part.trim().eq_ignore_ascii_case("secure"))
                .map(|(_, p)| p)
                .collect();
            let mut args = d.args.clone();
            args[1] = kept.join(";");
            args
        };
        let sel = match &t.level {
            Level::Location(key) => Selector::Location {
                server: t.server,
                location: key.clone(),
            },
            Level::Http => Selector::Http,
            Level::Server | Level::Unset => Selector::Server(t.server),
        };
        let op = if d.name == "proxy_cookie_flags" && args.len() == 1 {
            // `proxy_cookie_flags session_id secure;` alone: nothing is left to set.
            EditOp::Remove {
                name: d.name.clone(),
                first_arg: d.arg(0).map(str::to_string),
            }
        } else {
            EditOp::ReplaceArgs {
                name: d.name.clone(),
                first_arg: d.arg(0).map(str::to_string),
                args,
            }
        };
        edits.push((sel, op));
    }
    Some(edits)
}

/// The choices offered for the Secure-cookie-on-plain-HTTP failure: only those the planner can
/// apply and that leave the check passing. With HTTPS, the redirect (dropping `secure` on the
/// plain server would leave HTTPS's Secure cookie next to a plain site, which browsers refuse
/// to overwrite from http://); without HTTPS, dropping `secure`.
pub fn secure_on_plain_choices(
    fr: &Front,
    traps: &[SecureOnPlain],
) -> (Vec<Choice>, Option<String>) {
    let mut choices = Vec::new();
    if can_redirect_plain(fr, traps) {
        choices.push(Choice {
            value: REDIRECT_PLAIN.into(),
            label: "Redirect plain HTTP to HTTPS, so the cookie is only ever used over HTTPS (recommended)".into(),
            warning: None,
        });
    }
    if !fr.has_https() && drop_secure_edits(traps).is_some() {
        choices.push(Choice {
            value: DROP_SECURE.into(),
            label: "Remove secure from the session cookie's flags on the plain-HTTP server".into(),
            warning: Some("Over plain HTTP the session cookie crosses the network unencrypted; HTTPS with a redirect is the safer fix.".into()),
        });
    }
    let default = choices.first().map(|c| c.value.clone());
    (choices, default)
}

pub fn cookie_flags(f: &Facts, fnd: Finding) -> Finding {
    let fnd = fnd
        .refs(&[gh("odoo/odoo", 107160), gh("odoo/odoo", 63226), deploy_docs()])
        .note("Odoo 12–19 all set session_id with HttpOnly and Path=/ only: Secure and SameSite can only come from the proxy (nginx 1.19.8 or later: proxy_cookie_flags).");
    with_front(f, fnd, |mut fnd, fr| {
        let traps = secure_on_plain(fr);
        if !traps.is_empty() {
            for t in &traps {
                let ports: Vec<String> = t.plain_ports.iter().map(u16::to_string).collect();
                fnd = fnd.evidence(
                    format!("{}:{}", t.directive.file, t.directive.line),
                    format!(
                        "{} {} — marks the session cookie Secure in location {} of server {}, which serves Odoo over plain HTTP (port {}{})",
                        t.directive.name,
                        t.directive.args.join(" "),
                        t.location,
                        if t.names.is_empty() { "(no server_name)" } else { t.names.as_str() },
                        ports.join(", "),
                        if t.mixed { ", in the same block as HTTPS" } else { "" },
                    ),
                );
            }
            fnd.worsen(
                Status::Fail,
                "The session cookie is marked Secure on a plain-HTTP address: browsers drop it there, so nobody stays logged in over http://.",
            );
            let (choices, default) = secure_on_plain_choices(fr, &traps);
            let by_hand = if fr.has_https() {
                "Send plain HTTP to HTTPS (a server on port 80 that only redirects), or remove secure from the flags the plain-HTTP server uses."
            } else {
                "Remove secure from the flags the plain-HTTP server uses, or set up HTTPS (it needs a certificate) and redirect HTTP to it."
            };
            fnd = fnd
                .users_see("On http:// every login ends on the login page again, or \"Session Expired\" right after logging in: the browser refuses the session cookie.")
                .why(format!("nginx adds Secure to Odoo's session cookie on a server that answers plain HTTP. A browser only keeps and sends a Secure cookie over HTTPS, so on http:// it throws the cookie away and every request arrives without a session. {by_hand}"));
            if !choices.is_empty() {
                fnd = fnd.fix(FixOffer {
                    title: "Stop marking the cookie Secure where Odoo is served over plain HTTP (reloads nginx)".into(),
                    choices,
                    default,
                });
            }
            return fnd;
        }
        if !fr.has_https() {
            return fnd.status(
                Status::Skip,
                "Secure/SameSite need HTTPS first (see proxy.https-redirect).",
            );
        }
        let plain = !fr.plain_proxying().is_empty();
        let mut without = 0;
        let servers = fr.config.servers();
        for route in fr.config.routes_to(&fr.http) {
            let Some(server) = servers.iter().find(|s| s.index == route.server) else {
                continue;
            };
            if !server.is_ssl() || Front::redirects_all(server) {
                continue;
            }
            let Some(loc) = server.location(&route.location) else {
                continue;
            };
            // proxy_cookie_flags (a rule naming session_id, or a regex matching it), or the
            // older `proxy_cookie_path / "/; secure; …"` trick.
            match secure_cookie_source(&loc) {
                Some(d) => {
                    fnd = fnd.evidence(
                        format!("{}:{}", d.file, d.line),
                        format!("{} {}", d.name, d.args.join(" ")),
                    );
                    if plain {
                        fnd.worsen(Status::Fail, "The cookie is marked Secure but plain HTTP still serves Odoo: there people are logged out.");
                    }
                }
                None => {
                    without += 1;
                    fnd = fnd.evidence(
                        format!("{}:{}", loc.directive.file, loc.directive.line),
                        format!(
                            "location {}: no proxy_cookie_flags session_id … secure",
                            route.location
                        ),
                    );
                }
            }
        }
        // Observed through the public URL with a test login: beats the configuration.
        if let Some(c) = f
            .probe
            .as_ref()
            .and_then(|p| p.public.as_ref())
            .and_then(|o| o.cookie.as_ref().map(|c| (o.url.clone(), c.clone())))
        {
            let (url, cookie) = c;
            fnd = fnd.evidence(
                format!("login through {url}"),
                format!("Set-Cookie: {}", cookie.header),
            );
            if url.starts_with("https://") && !cookie.secure {
                without += 1;
            } else if cookie.secure && without > 0 {
                without = 0; // the proxy does add the flags (e.g. from an include we could not read)
            }
        }
        if without > 0 {
            fnd.worsen(
                Status::Warn,
                "The session cookie is sent without Secure and SameSite.",
            );
            fnd = fnd
                .why("Odoo sets session_id with HttpOnly only. Behind HTTPS the proxy can add Secure (never sent over plain HTTP) and SameSite=Lax. Odoo embedded in another site's iframe needs SameSite=None; Secure instead.")
                .fix(FixOffer {
                    title: "Add proxy_cookie_flags session_id samesite=lax secure; (reloads nginx)".into(),
                    choices: vec![
                        Choice { value: "lax".into(), label: "SameSite=Lax (recommended)".into(), warning: None },
                        Choice { value: "none".into(), label: "SameSite=None (Odoo inside another site's iframe)".into(), warning: Some("Lets other sites send the cookie; use only for iframe embedding.".into()) },
                    ],
                    default: Some("lax".into()),
                });
        } else if fnd.status == Status::Ok {
            fnd.summary = "The session cookie gets Secure and SameSite at the proxy.".into();
        }
        fnd
    })
}

pub fn sticky(f: &Facts, fnd: Finding) -> Finding {
    let fnd = fnd.refs(&[gh("odoo/docker", 506)]);
    let store_module = f.db.seen().is_some_and(|d| {
        d.databases.iter().any(|db| {
            db.modules
                .iter()
                .any(|(m, s)| (m == "session_redis" || m == "session_db") && s == "installed")
        })
    }) || f.odoo.env.contains_key("SESSION_DB_URI");
    with_front(f, fnd, |mut fnd, fr| {
        let mut several = false;
        for name in upstreams_to(fr) {
            let Some(up) = fr.config.upstream(&name) else {
                continue;
            };
            if up.servers.len() < 2 {
                continue;
            }
            several = true;
            let place = format!("{}:{}", up.directive.file, up.directive.line);
            let list: Vec<&str> = up.servers.iter().map(|s| s.address.as_str()).collect();
            if up.is_sticky() {
                fnd = fnd.evidence(
                    place,
                    format!("upstream {name}: {} with sticky routing", list.join(", ")),
                );
            } else if store_module {
                fnd = fnd.evidence(
                    place,
                    format!(
                        "upstream {name}: {} sharing sessions through a session-store module",
                        list.join(", ")
                    ),
                );
            } else {
                fnd = fnd.evidence(
                    place,
                    format!(
                        "upstream {name}: {} — round robin, no shared session store",
                        list.join(", ")
                    ),
                );
                fnd.worsen(
                    Status::Fail,
                    format!(
                        "nginx spreads requests over {} Odoo servers that do not share sessions.",
                        up.servers.len()
                    ),
                );
            }
        }
        if let Some(public) = f
            .probe
            .as_ref()
            .and_then(|p| p.public.as_ref())
            .filter(|o| o.error.is_none())
        {
            let direct_ok = f
                .probe
                .as_ref()
                .and_then(|p| p.direct.as_ref())
                .map_or(true, |d| d.session_holds);
            fnd = fnd.evidence(
                format!("test login through {}", public.url),
                format!(
                    "the session {} over {} follow-up requests",
                    if public.session_holds {
                        "held"
                    } else {
                        "was lost"
                    },
                    public.checks_made
                ),
            );
            if !public.session_holds && direct_ok {
                fnd.worsen(
                    Status::Fail,
                    "A test login through the proxy lost its session within a few requests.",
                );
            }
        }
        if fnd.status == Status::Fail {
            fnd.users_see("\"Session Expired\" at random moments, several times a day, for everybody.")
                .why("Each Odoo server keeps sessions in its own folder. When a request lands on a server that never saw the login, the user is a stranger there. Either send each user to the same server (ip_hash) or share one sessions folder or store.")
                .fix(FixOffer { title: "Route each client to one server (ip_hash; reloads nginx)".into(), choices: vec![], default: None })
        } else {
            fnd.summary = if several {
                "Several Odoo servers, with sticky routing or a shared store."
            } else {
                "One Odoo server behind the proxy."
            }
            .into();
            fnd
        }
    })
}

/// Upstream blocks through which requests reach this Odoo's HTTP port.
pub fn upstreams_to(fr: &Front) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for r in fr.config.routes_to(&fr.http) {
        if let Some(u) = r.upstream {
            if !names.contains(&u) {
                names.push(u);
            }
        }
    }
    names
}
