//! Checks on the reverse proxy (nginx) in front of Odoo: proxy_mode, forwarded headers (and the
//! inheritance trap), the real-time channel, HTTPS, one canonical host, cookie flags, stickiness,
//! and caches (nginx's own and a CDN the probe sees) between users and Odoo's per-user pages.
//! All read the effective configuration from `nginx -T`, as nginx itself would apply it.

use super::{deploy_docs, gh, CheckId, Choice, Finding, FixOffer, Reference, Status};
use crate::facts::Facts;
use crate::nginx::front::{
    cache_aggravations, cache_in_effect, cookie_rewrites_off, has_host_redirect, hides_set_cookie,
    location_path, secure_cookie_source, secure_on_plain, secure_on_plain_fixes, serves_dynamic,
    url_host, usable_name, Front, FrontState, SecureOnPlain, DROP_SECURE, FORWARDED,
    REDIRECT_PLAIN,
};

/// Runs `body` when nginx is in front of Odoo; otherwise a skip/unknown finding.
fn with_front(f: &Facts, fnd: Finding, body: impl FnOnce(Finding, &Front) -> Finding) -> Finding {
    match f.front() {
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
    match f.front() {
        FrontState::Front(fr) => {
            let fnd = fnd.evidence("nginx", format!("{} {} to Odoo on {}", crate::words::count(fr.odoo_servers().len(), "server block", "server blocks"), crate::words::form(fr.odoo_servers().len(), "proxies", "proxy"), fr.http));
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
        let serving = fr.serving_names();
        let (base, frozen) = f.base_url();
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

/// The choices offered for the Secure-cookie-on-plain-HTTP failure: only those the planner can
/// apply and that leave the check passing ([`secure_on_plain_fixes`]), in its order.
pub fn secure_on_plain_choices(
    fr: &Front,
    traps: &[SecureOnPlain],
) -> (Vec<Choice>, Option<String>) {
    let choices: Vec<Choice> = secure_on_plain_fixes(fr, traps)
        .into_iter()
        .map(|value| match value {
            REDIRECT_PLAIN => Choice {
                value: REDIRECT_PLAIN.into(),
                label: "Redirect plain HTTP to HTTPS, so the cookie is only ever used over HTTPS (recommended)".into(),
                warning: None,
            },
            _ => Choice {
                value: DROP_SECURE.into(),
                label: "Remove secure from the session cookie's flags on the plain-HTTP server".into(),
                warning: Some("Over plain HTTP the session cookie crosses the network unencrypted; HTTPS with a redirect is the safer fix.".into()),
            },
        })
        .collect();
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
                format!(
                    "Secure/SameSite need HTTPS first (see {}).",
                    CheckId::ProxyHttpsRedirect.mention()
                ),
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
        for name in fr.upstreams_to() {
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

/// Where to look in a CDN's settings, in words for people: what must bypass its cache.
pub const CDN_BYPASS: &str = "in the CDN's settings, bypass the cache (no caching, no edge TTL) for /web, /web/session, /json, /jsonrpc, /websocket and /longpolling, and for every request that carries a session_id cookie; caching /web/static and /web/assets there is fine";

/// The cache headers the test login through the public address saw (`name: value`), but an
/// `X-Cache` nginx adds itself (`add_header X-Cache $upstream_cache_status`, published configs).
pub fn cdn_seen(f: &Facts) -> Vec<String> {
    let own_x_cache = match f.front() {
        FrontState::Front(fr) => fr
            .config
            .files()
            .iter()
            .any(|x| x.text.to_ascii_lowercase().contains("add_header x-cache")),
        _ => false,
    };
    f.probe
        .as_ref()
        .and_then(|p| p.public.as_ref())
        .map(|o| {
            o.cache_headers
                .iter()
                .filter(|(n, _)| !(own_x_cache && n == "x-cache"))
                .map(|(n, v)| format!("{n}: {v}"))
                .collect()
        })
        .unwrap_or_default()
}

pub fn cache(f: &Facts, fnd: Finding) -> Finding {
    let mut fnd = fnd
        .refs(&[
            Reference {
                label: "nginx docs: proxy_cache, proxy_ignore_headers, proxy_cache_key".into(),
                url: "https://nginx.org/en/docs/http/ngx_http_proxy_module.html#proxy_cache".into(),
            },
            deploy_docs(),
        ])
        .note("All versions 12–19: Odoo answers /web, /web/session/*, /json(rpc) and the live connection per user and sets session_id on them; only /web/static and /web/assets (and /web/content with a hash) are the same for everybody.");
    let mut nginx_said = None;
    match f.front() {
        FrontState::Front(fr) => {
            let names = fr.serving_names();
            let servers = fr.config.servers();
            let mut cached = 0;
            let mut handed_out = false;
            let mut rewrites = 0;
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
                    let place = format!("{}:{}", loc.directive.file, loc.directive.line);
                    for (d, why) in cookie_rewrites_off(&loc, &names) {
                        rewrites += 1;
                        fnd = fnd.evidence(
                            format!("{}:{}", d.file, d.line),
                            format!(
                                "location {}: {} {} {why}",
                                route.location,
                                d.name,
                                d.args.join(" ")
                            ),
                        );
                    }
                    if !serves_dynamic(&loc) {
                        if let Some(c) = cache_in_effect(&loc) {
                            fnd = fnd.evidence(
                                place,
                                format!(
                                    "location {} caches Odoo's static files (proxy_cache {} at {}:{}): the same for everybody, fine",
                                    route.location,
                                    c.args.join(" "),
                                    c.file,
                                    c.line
                                ),
                            );
                        }
                        continue;
                    }
                    let cache = cache_in_effect(&loc);
                    let hidden = hides_set_cookie(&loc);
                    if cache.is_none() && hidden.is_none() {
                        continue;
                    }
                    let worse: Vec<String> = match cache {
                        Some(_) => cache_aggravations(&loc),
                        None => hidden
                            .iter()
                            .map(|(d, _)| (Some(*d), "hides Odoo's Set-Cookie: the browser never gets its session cookie".to_string()))
                            .collect(),
                    }
                    .into_iter()
                    .map(|(d, why)| match d {
                        Some(d) => format!("{why} ({} at {}:{})", d.name, d.file, d.line),
                        None => why,
                    })
                    .collect();
                    handed_out |= worse
                        .iter()
                        .any(|w| w.contains("Set-Cookie") || w.contains("session cookie"));
                    let what = match cache {
                        Some(c) => {
                            cached += 1;
                            format!(
                                "location {} (Odoo's per-user pages) is cached by proxy_cache {} ({}:{})",
                                route.location,
                                c.args.join(" "),
                                c.file,
                                c.line
                            )
                        }
                        None => format!("location {} (Odoo's per-user pages)", route.location),
                    };
                    fnd = fnd.evidence(
                        place,
                        if worse.is_empty() {
                            what
                        } else {
                            format!("{what}; it {}", worse.join("; "))
                        },
                    );
                    fnd.worsen(
                        Status::Fail,
                        if handed_out {
                            "nginx caches Odoo's per-user pages with their session cookies: one person's session can be handed to another, or a login lost."
                        } else {
                            "nginx caches responses of Odoo's per-user pages: people can get someone else's page or lose their session."
                        },
                    );
                }
            }
            if rewrites > 0 {
                fnd.worsen(
                    Status::Warn,
                    "nginx rewrites the session cookie's domain or path so that it does not fit the address users type.",
                );
            }
            nginx_said = Some(cached);
        }
        FrontState::Broken(why) => {
            fnd = fnd.status(
                Status::Unknown,
                format!("The nginx configuration could not be read: {why}"),
            );
        }
        _ => {}
    }
    // What a test login through the public address saw: a cache or CDN nginx does not show.
    let seen = cdn_seen(f);
    if let Some(public) = f.probe.as_ref().and_then(|p| p.public.as_ref()) {
        if !seen.is_empty() {
            fnd = fnd.evidence(
                format!("test login through {}", public.url),
                seen.join(", "),
            );
            fnd.worsen(
                Status::Warn,
                "A CDN or cache sits in front of this server: it must not cache Odoo's per-user pages or its cookies.",
            );
            fnd = fnd.fix(FixOffer {
                title: format!("In the CDN (the app cannot change it): {CDN_BYPASS}"),
                choices: vec![],
                default: None,
            });
        }
    }
    match fnd.status {
        Status::Fail => fnd
            .users_see("\"Session Expired\" or the login page at random; sometimes another person's name, menus or data on the screen.")
            .why("A shared cache answers the next person with a stored copy of what Odoo sent someone else. A stored response with a Set-Cookie hands that person's session to everybody who gets the copy (or overwrites their own, which logs them out); an ignored Cache-Control stores pages Odoo marked private. Odoo's static files are the same for everybody and can stay cached.")
            .fix(FixOffer {
                title: "Turn the cache off (proxy_cache off;) where nginx serves Odoo's per-user pages, and stop ignoring or hiding its cookies there; /web/static and /web/assets keep their cache (reloads nginx)".into(),
                choices: vec![],
                default: None,
            }),
        Status::Warn => fnd
            .users_see("Logged out after a while, or logged in on one address and not on another, depending on the page.")
            .why(format!("A browser only keeps a cookie whose domain is the address it visited, and only sends it for paths under the cookie's path; a CDN that caches Odoo's pages replays one person's answer to others. Fix it where it is configured; for a CDN: {CDN_BYPASS}.")),
        Status::Ok => fnd.status(
            Status::Ok,
            match nginx_said {
                Some(_) => "No cache stores Odoo's per-user pages (static files may be cached).",
                None => "No nginx cache in front of Odoo and no CDN seen.",
            },
        ),
        _ => fnd,
    }
}

#[cfg(test)]
mod tests {
    use crate::discover::{instances_of, inventory::Inventory, sections::Sections};
    use crate::facts::*;
    use crate::nginx::BUILDS;

    const SECRET: &str = "b2RvbzpzM2NyZXQ=";

    /// A Debian-package Odoo (captured discovery) behind the official nginx example, whose
    /// `location /` also sends a credential upstream.
    fn facts() -> Facts {
        let inv = Inventory::parse(&Sections::parse(include_str!(
            "../../tests/fixtures/discovery/debian-systemd.txt"
        )));
        let (summary, odoo) = instances_of(&inv).remove(0);
        let dump = include_str!("../../tests/fixtures/nginx/odoo_official.dump").replace(
            "    proxy_redirect off;\n",
            &format!(
                "    proxy_redirect off;\n    proxy_set_header Authorization \"Basic {SECRET}\";\n"
            ),
        );
        assert!(dump.contains(SECRET));
        Facts {
            schema: crate::facts::FACTS_SCHEMA,
            host: HostFacts {
                name: "odoo.example.com".into(),
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
                None,
                "/usr/sbin/nginx -T".into(),
                &dump,
            )),
            log: Observed::Unknown("not needed here".into()),
            db: Observed::Unknown("not needed here".into()),
            db_scope: None,
            server: Observed::Unknown("not needed here".into()),
            probe: None,
            cost: Cost::default(),
        }
    }

    fn proxy_findings(f: &Facts) -> String {
        let findings: Vec<_> = crate::registry::run_all(f)
            .into_iter()
            .filter(|x| x.id.as_str().starts_with("proxy."))
            .collect();
        assert_eq!(findings.len(), 8);
        serde_json::to_string_pretty(&findings).unwrap()
    }

    #[test]
    fn the_dump_is_parsed_once_per_diagnosis_and_again_only_from_a_document() {
        BUILDS.with(|b| b.set(0));
        let f = facts();
        assert_eq!(
            BUILDS.with(|b| b.get()),
            1,
            "parsed when the facts are made"
        );
        let live = proxy_findings(&f);
        assert!(live.contains("\"status\": \"ok\""), "{live}");
        assert_eq!(BUILDS.with(|b| b.get()), 1, "every check reads that parse");

        let Observed::Seen(n) = &f.nginx else {
            unreachable!()
        };
        let doc = serde_json::to_string(n).unwrap();
        let mut read = f.clone();
        read.nginx = Observed::Seen(serde_json::from_str(&doc).unwrap());
        assert_eq!(
            BUILDS.with(|b| b.get()),
            2,
            "a document is parsed when read"
        );
        assert_eq!(
            proxy_findings(&read),
            live,
            "the same findings from the document"
        );
        assert_eq!(BUILDS.with(|b| b.get()), 2);
    }

    #[test]
    fn a_secret_header_value_never_reaches_serialized_facts() {
        let f = facts();
        let json = serde_json::to_string(&f).unwrap();
        assert!(!json.contains(SECRET), "the credential is in the facts");
        assert!(
            json.contains(r#"proxy_set_header Authorization \"<redacted>\";"#),
            "the dump says what was redacted"
        );
        let Observed::Seen(n) = &f.nginx else {
            unreachable!()
        };
        assert_eq!(n.redacted_files(), ["/etc/nginx/sites-enabled/odoo"]);
        assert_eq!(n.files.len(), 3, "{:?}", n.files);
    }
}
