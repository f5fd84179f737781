//! Fixes in the nginx configuration, planned on the effective config from `nginx -T` and written
//! as minimal, format-preserving edits of the files that define it. Every edit goes where nginx's
//! inheritance makes it take effect (facts §4): headers are added at the level whose
//! `proxy_set_header` array a location really uses, never in a way that drops inherited ones.

use super::workspace::Workspace;
use super::{FileKind, ParamChange, ServiceAction};
use crate::checks::CheckId;
use crate::error::EngineError;
use crate::facts::{Facts, NginxFacts};
use crate::nginx::front::{self, Front, FORWARDED};
use crate::nginx::{
    redact_file, EditOp, Level, Location, NewDirective, NginxDump, NginxError, Selector,
};
use std::sync::Arc;

/// The running configuration with this plan's edits so far applied: the one parsed with the
/// facts until a file changes.
fn current(ws: &mut Workspace, facts: &Facts) -> Result<Front, EngineError> {
    let n = facts.nginx.seen().ok_or_else(|| EngineError::Unreadable {
        place: ws.files().place().to_string(),
        path: "the nginx configuration".into(),
        why: "was not read (is nginx running?)".into(),
    })?;
    let invalid = |e: &NginxError| EngineError::UnsafeEdit {
        path: format!("{}:{}", e.file, e.line),
        reason: format!("cannot be read as nginx configuration: {}", e.message),
    };
    let mut dump = NginxDump::parse(n.dump());
    let mut changed = false;
    let paths: Vec<String> = dump.files().iter().map(|f| f.path.clone()).collect();
    for p in paths {
        let redacted = n.redacted_files().contains(&p);
        if redacted && ws.edited(&p).is_none() {
            // The facts hide this file's secrets: edits must be made to the file itself, with its
            // real values. Unreadable, it stays as dumped (and `edit` reports it if it must change).
            let _ = ws.text(&p, FileKind::Nginx);
        }
        let Some(text) = ws.edited(&p) else {
            continue;
        };
        let dumped = dump.file(&p).map(|f| f.text.clone()).unwrap_or_default();
        // A file changed on disk since nginx loaded it stays as nginx runs it (`edit` refuses it).
        let running = !redacted || ws.original(&p).is_some_and(|o| redact_file(o).0 == dumped);
        if running && text != dumped {
            dump.replace_file(&p, text);
            changed = true;
        }
    }
    let config = if changed {
        Arc::new(dump.config().map_err(|e| invalid(&e))?)
    } else {
        n.config().map_err(invalid)?.clone()
    };
    Ok(Front::new(
        config,
        facts.odoo.http_port(),
        facts.odoo.gevent_port(),
    ))
}

/// Applies one edit to the workspace, refusing when the file on disk is not what nginx runs.
fn edit(
    ws: &mut Workspace,
    facts: &Facts,
    check: CheckId,
    sel: &Selector,
    op: &EditOp,
) -> Result<(), EngineError> {
    let fr = current(ws, facts)?;
    let edits = fr
        .config
        .edit(sel, op)
        .map_err(|e| EngineError::UnsafeEdit {
            path: "the nginx configuration".into(),
            reason: format!("cannot be edited here: {e}"),
        })?;
    for e in edits {
        let on_disk = ws.text(&e.path, FileKind::Nginx)?;
        if on_disk != e.before {
            return Err(EngineError::UnsafeEdit {
                path: e.path,
                reason: "differs from the configuration nginx is running: it was edited without a reload. Reload nginx (or undo that edit) and plan again.".into(),
            });
        }
        ws.put(&e.path, e.after, check);
    }
    Ok(())
}

fn header(name: &str, value: &str) -> NewDirective {
    NewDirective::new("proxy_set_header", [name, value])
}

/// The block that holds the `proxy_set_header` array a location uses.
fn level_selector(level: &Level, server: usize) -> Selector {
    match level {
        Level::Location(key) => Selector::Location {
            server,
            location: key.clone(),
        },
        Level::Http => Selector::Http,
        Level::Server | Level::Unset => Selector::Server(server),
    }
}

/// The first location that proxies to Odoo (its HTTP or gevent port, in a server that does not
/// redirect everything) where `pick` finds something: its server, the level its
/// `proxy_set_header` array comes from, and what was found.
fn first_odoo_location<T>(
    fr: &Front,
    pick: impl Fn(&Location) -> Option<T>,
) -> Option<(usize, Level, T)> {
    let servers = fr.config.servers();
    for addr in [&fr.http, &fr.gevent] {
        for route in fr.config.routes_to(addr) {
            let s = servers.iter().find(|s| s.index == route.server)?;
            if Front::redirects_all(s) {
                continue;
            }
            let Some(loc) = s.location(&route.location) else {
                continue;
            };
            if let Some(found) = pick(&loc) {
                return Some((route.server, loc.proxy_set_headers().1, found));
            }
        }
    }
    None
}

/// The first (server, location level, missing header) among routes to Odoo, after edits so far.
fn next_missing_header(fr: &Front) -> Option<(usize, Level, &'static str, &'static str)> {
    first_odoo_location(fr, |loc| {
        FORWARDED
            .iter()
            .find(|(h, _)| loc.header(h).is_none())
            .copied()
    })
    .map(|(server, level, (h, v))| (server, level, h, v))
}

/// The first (server, location level) among routes to Odoo whose X-Forwarded-Host is `$host`
/// (which drops a non-default port), after edits so far.
fn next_host_without_port(fr: &Front) -> Option<(usize, Level)> {
    first_odoo_location(fr, |loc| {
        (loc.header("X-Forwarded-Host") == Some("$host")).then_some(())
    })
    .map(|(server, level, ())| (server, level))
}

pub(crate) fn headers(
    ws: &mut Workspace,
    facts: &Facts,
    _: Option<&str>,
) -> Result<(), EngineError> {
    let mut replaced = 0;
    for _ in 0..64 {
        let fr = current(ws, facts)?;
        let Some((server, level)) = next_host_without_port(&fr) else {
            break;
        };
        edit(
            ws,
            facts,
            CheckId::ProxyHeaders,
            &level_selector(&level, server),
            &EditOp::ReplaceArgs {
                name: "proxy_set_header".into(),
                first_arg: Some("X-Forwarded-Host".into()),
                args: vec!["X-Forwarded-Host".into(), "$http_host".into()],
            },
        )?;
        replaced += 1;
    }
    if replaced > 0 {
        ws.reason(CheckId::ProxyHeaders, "Sends X-Forwarded-Host $http_host instead of $host, so Odoo sees the port users type and builds its redirects and URLs with it.");
    }
    let mut added = Vec::new();
    // Each edit can change what the next location inherits: recompute after every one.
    for _ in 0..64 {
        let fr = current(ws, facts)?;
        let Some((server, level, name, value)) = next_missing_header(&fr) else {
            break;
        };
        let sel = level_selector(&level, server);
        edit(
            ws,
            facts,
            CheckId::ProxyHeaders,
            &sel,
            &EditOp::InsertAtEnd {
                directive: header(name, value),
            },
        )?;
        // one line per header in the reason, however many places it went to
        let line = format!("{name} {value}");
        if !added.contains(&line) {
            added.push(line);
        }
    }
    if !added.is_empty() {
        ws.reason(CheckId::ProxyHeaders, format!(
            "Adds proxy_set_header {} where the locations to Odoo take their headers from, so every request tells Odoo the real host, scheme and client.",
            added.join("; ")
        ));
    }
    Ok(())
}

fn gevent_target(fr: &Front) -> String {
    for u in fr.config.upstreams() {
        if u.servers.iter().any(|s| {
            s.address
                .ends_with(&format!(":{}", fr.gevent.rsplit(':').next().unwrap_or("")))
        }) {
            return format!("http://{}", u.name);
        }
    }
    format!("http://{}", fr.gevent)
}

pub(crate) fn websocket(
    ws: &mut Workspace,
    facts: &Facts,
    _: Option<&str>,
) -> Result<(), EngineError> {
    let path = facts
        .odoo
        .version
        .map(|v| v.realtime_path())
        .unwrap_or("/websocket")
        .to_string();
    let fr = current(ws, facts)?;
    let connection = if fr.config.map_for("$connection_upgrade").is_some() {
        "$connection_upgrade"
    } else {
        "upgrade"
    };
    let target = gevent_target(&fr);
    let to_gevent = fr.config.routes_to(&fr.gevent);
    let mut todo: Vec<(usize, Option<String>)> = Vec::new();
    for s in fr.serving() {
        match to_gevent
            .iter()
            .find(|r| r.server == s.index && front::location_path(&r.location) == path)
        {
            None => todo.push((s.index, None)),
            Some(r) => todo.push((s.index, Some(r.location.clone()))),
        }
    }
    drop(fr);
    for (server, existing) in todo {
        match existing {
            None => {
                let mut children = vec![NewDirective::new("proxy_pass", [target.as_str()])];
                if path == "/websocket" {
                    children.push(header("Upgrade", "$http_upgrade"));
                    children.push(header("Connection", connection));
                }
                children.extend(FORWARDED.iter().map(|(h, v)| header(h, v)));
                children.push(header("X-Real-IP", "$remote_addr"));
                let block = NewDirective::block("location", [path.as_str()], children);
                edit(
                    ws,
                    facts,
                    CheckId::ProxyWebsocket,
                    &Selector::Server(server),
                    &EditOp::InsertAtEnd { directive: block },
                )?;
                ws.reason(CheckId::ProxyWebsocket, format!("Adds location {path} that sends the live connection to Odoo's gevent port ({target}) with the upgrade and forwarded headers."));
            }
            Some(key) if path == "/websocket" => {
                let fr = current(ws, facts)?;
                let servers = fr.config.servers();
                let Some(loc) = servers
                    .iter()
                    .find(|s| s.index == server)
                    .and_then(|s| s.location(&key))
                else {
                    continue;
                };
                let (inherited, level) = loc.proxy_set_headers();
                let own = level == Level::Location(key.clone());
                let mut wanted: Vec<NewDirective> = Vec::new();
                if !own {
                    // Setting any header here drops the inherited ones: carry them over.
                    wanted.extend(inherited.iter().map(|h| header(h.name, h.value)));
                }
                for (h, v) in [("Upgrade", "$http_upgrade"), ("Connection", connection)] {
                    if loc.header(h).is_none() {
                        wanted.push(header(h, v));
                    }
                }
                for (h, v) in FORWARDED {
                    if loc.header(h).is_none() && !wanted.iter().any(|d| d.args[0] == *h) {
                        wanted.push(header(h, v));
                    }
                }
                drop(servers);
                drop(fr);
                let sel = Selector::Location {
                    server,
                    location: key.clone(),
                };
                for d in wanted {
                    edit(
                        ws,
                        facts,
                        CheckId::ProxyWebsocket,
                        &sel,
                        &EditOp::InsertAtEnd { directive: d },
                    )?;
                }
                ws.reason(CheckId::ProxyWebsocket, format!("Completes location {key} with the WebSocket upgrade headers (and the forwarded ones it would otherwise lose)."));
            }
            Some(_) => {}
        }
    }
    Ok(())
}

/// `https://$host[:port]$request_uri` for the HTTPS port Odoo is served on.
fn https_port_suffix(fr: &Front) -> String {
    let port = fr
        .odoo_servers()
        .iter()
        .filter(|s| s.is_ssl())
        .flat_map(|s| s.listens())
        .find(|l| l.ssl)
        .and_then(|l| l.port)
        .unwrap_or(443);
    if port == 443 {
        String::new()
    } else {
        format!(":{port}")
    }
}

pub(crate) fn https_redirect(
    ws: &mut Workspace,
    facts: &Facts,
    _: Option<&str>,
) -> Result<(), EngineError> {
    redirect_plain(ws, facts, CheckId::ProxyHttpsRedirect)
}

/// `return 301 https://…` at the start of every server that proxies to Odoo over plain HTTP.
fn redirect_plain(ws: &mut Workspace, facts: &Facts, check: CheckId) -> Result<(), EngineError> {
    let fr = current(ws, facts)?;
    if !fr.has_https() {
        ws.note(check, "HTTPS is not set up: that needs a certificate (e.g. certbot --nginx), so it is not done automatically.");
        return Ok(());
    }
    let suffix = https_port_suffix(&fr);
    let plain: Vec<usize> = fr.plain_proxying().iter().map(|s| s.index).collect();
    drop(fr);
    for server in plain {
        let ret = NewDirective::new(
            "return",
            [
                "301".to_string(),
                format!("https://$host{suffix}$request_uri"),
            ],
        );
        edit(
            ws,
            facts,
            check,
            &Selector::Server(server),
            &EditOp::InsertAtStart { directive: ret },
        )?;
        ws.reason(check, "Makes plain HTTP answer with a permanent redirect to HTTPS, so everybody uses one scheme and one cookie.");
    }
    Ok(())
}

pub(crate) fn canonical_host(
    ws: &mut Workspace,
    facts: &Facts,
    value: Option<&str>,
) -> Result<(), EngineError> {
    let id = CheckId::ProxyCanonicalHost;
    let fr = current(ws, facts)?;
    let names = fr.serving_names();
    let (base, _) = facts.base_url();
    let name = match value {
        Some(v) => v.trim().to_string(),
        None => base
            .as_deref()
            .and_then(front::url_host)
            .filter(|h| names.contains(h))
            .or_else(|| names.first().cloned())
            .ok_or_else(|| EngineError::CannotPlan {
                check: id,
                why: "no host name is served; choose one with --set proxy.canonical-host=<name>"
                    .into(),
            })?,
    };
    if !names.contains(&name) {
        return Err(EngineError::BadChoice {
            check: id,
            value: name,
            expected: format!(
                "not a name nginx serves Odoo under ({}); add it to server_name first",
                names.join(", ")
            ),
        });
    }
    let https = fr.has_https();
    let scheme = if https { "https" } else { "http" };
    let todo: Vec<(usize, String)> = fr
        .serving()
        .iter()
        .filter(|s| {
            s.server_names().iter().any(|n| *n == name)
                && s.server_names().len() > 1
                && !front::has_host_redirect(s)
        })
        .map(|s| {
            let port = s
                .listens()
                .iter()
                .find(|l| l.ssl == https)
                .and_then(|l| l.port)
                .unwrap_or(if https { 443 } else { 80 });
            let default = if https { 443 } else { 80 };
            (
                s.index,
                if port == default {
                    String::new()
                } else {
                    format!(":{port}")
                },
            )
        })
        .collect();
    let port_suffix = todo.first().map(|(_, p)| p.clone()).unwrap_or_else(|| {
        if https {
            https_port_suffix(&fr)
        } else {
            String::new()
        }
    });
    drop(fr);
    for (server, suffix) in &todo {
        let redirect = NewDirective::block(
            "if",
            [format!("($host"), "!=".to_string(), format!("{name})")],
            vec![NewDirective::new(
                "return",
                [
                    "301".to_string(),
                    format!("{scheme}://{name}{suffix}$request_uri"),
                ],
            )],
        );
        edit(
            ws,
            facts,
            id,
            &Selector::Server(*server),
            &EditOp::InsertAtStart {
                directive: redirect,
            },
        )?;
        ws.reason(id, format!("Redirects every other host name to {name}, so each user has one address and one session."));
    }
    let url = format!("{scheme}://{name}{port_suffix}");
    if let Some(db) = facts.db.seen() {
        for d in &db.databases {
            for (key, new) in [
                ("web.base.url", url.as_str()),
                ("web.base.url.freeze", "True"),
            ] {
                let old = d.params.get(key).cloned();
                if old.as_deref() != Some(new) {
                    ws.params.push(ParamChange {
                        db: d.name.clone(),
                        key: key.into(),
                        old,
                        new: Some(new.into()),
                        check: id,
                    });
                }
            }
        }
        ws.reason(id, format!("Sets web.base.url = {url} and freezes it, so links and PDF printing use the address users use."));
    }
    Ok(())
}

/// The cookie is marked Secure where Odoo is served over plain HTTP: redirect that HTTP to HTTPS,
/// or remove `secure` there — only what [`front::secure_on_plain_fixes`] allows (the check offers
/// the same).
fn secure_on_plain(
    ws: &mut Workspace,
    facts: &Facts,
    value: Option<&str>,
) -> Result<(), EngineError> {
    let id = CheckId::ProxyCookieFlags;
    let fr = current(ws, facts)?;
    let traps = front::secure_on_plain(&fr);
    let fixes = front::secure_on_plain_fixes(&fr, &traps);
    let wanted = match value {
        Some(v) if v == front::REDIRECT_PLAIN || v == front::DROP_SECURE => v.to_string(),
        // A SameSite choice (or none) while the cookie breaks plain HTTP: the safe default first.
        _ => match fixes.first() {
            Some(d) => d.to_string(),
            None => {
                ws.note(id, "The Secure cookie is set in a server block that also serves HTTPS: split it by hand into a port-80 server that only redirects and an HTTPS one, then plan again.");
                return Ok(());
            }
        },
    };
    if !fixes.contains(&wanted.as_str()) {
        return Err(EngineError::BadChoice {
            check: id,
            value: wanted,
            expected: format!(
                "cannot be applied safely here; choose {}",
                fixes.join(" or ")
            ),
        });
    }
    if wanted == front::REDIRECT_PLAIN {
        drop(fr);
        redirect_plain(ws, facts, id)?;
        // HTTPS alone serves Odoo now: give its cookie Secure and SameSite where it lacks them.
        return add_secure_flags(ws, facts, Some("lax"));
    }
    let edits = front::drop_secure_edits(&traps).unwrap_or_default();
    drop(traps);
    drop(fr);
    for (sel, op) in &edits {
        edit(ws, facts, id, sel, op)?;
    }
    ws.reason(id, "Removes secure from the session cookie's flags on the plain-HTTP server, so browsers keep the cookie on http:// (once HTTPS is set up, redirect HTTP to it and mark the cookie Secure there).");
    Ok(())
}

pub(crate) fn cookie_flags(
    ws: &mut Workspace,
    facts: &Facts,
    value: Option<&str>,
) -> Result<(), EngineError> {
    if !front::secure_on_plain(&current(ws, facts)?).is_empty() {
        return secure_on_plain(ws, facts, value);
    }
    add_secure_flags(ws, facts, value)
}

/// `proxy_cookie_flags session_id samesite=… secure;` where HTTPS serves Odoo without it.
fn add_secure_flags(
    ws: &mut Workspace,
    facts: &Facts,
    value: Option<&str>,
) -> Result<(), EngineError> {
    let id = CheckId::ProxyCookieFlags;
    let samesite = match value.unwrap_or("lax") {
        "lax" | "Lax" => "lax",
        "none" | "None" => "none",
        "strict" | "Strict" => "strict",
        other => {
            return Err(EngineError::BadChoice {
                check: id,
                value: other.to_string(),
                expected: "choose lax (recommended) or none (iframe embedding)".into(),
            })
        }
    };
    let fr = current(ws, facts)?;
    if !fr.has_https() {
        ws.note(id, "Secure cookies need HTTPS first.");
        return Ok(());
    }
    if !fr.plain_proxying().is_empty() {
        ws.note(id, format!("Plain HTTP still serves Odoo: fix {} first, or Secure cookies would log people out there.", CheckId::ProxyHttpsRedirect.mention()));
        return Ok(());
    }
    let mut targets: Vec<Selector> = Vec::new();
    let servers = fr.config.servers();
    for route in fr.config.routes_to(&fr.http) {
        let Some(s) = servers.iter().find(|s| s.index == route.server) else {
            continue;
        };
        if !s.is_ssl() || Front::redirects_all(s) {
            continue;
        }
        let Some(loc) = s.location(&route.location) else {
            continue;
        };
        let flags = loc.effective_all("proxy_cookie_flags");
        if flags
            .directives
            .iter()
            .any(|d| d.arg(0) == Some("session_id"))
        {
            continue;
        }
        let sel = level_selector(&flags.from, s.index);
        if !targets.contains(&sel) {
            targets.push(sel);
        }
    }
    drop(servers);
    drop(fr);
    let directive = NewDirective::new(
        "proxy_cookie_flags",
        [
            "session_id".to_string(),
            format!("samesite={samesite}"),
            "secure".to_string(),
        ],
    );
    for sel in &targets {
        edit(
            ws,
            facts,
            id,
            sel,
            &EditOp::InsertAtEnd {
                directive: directive.clone(),
            },
        )?;
    }
    if !targets.is_empty() {
        ws.reason(id, format!("Marks the session cookie Secure and SameSite={samesite} at the proxy (Odoo cannot set these itself)."));
    }
    Ok(())
}

pub(crate) fn sticky(
    ws: &mut Workspace,
    facts: &Facts,
    _: Option<&str>,
) -> Result<(), EngineError> {
    let fr = current(ws, facts)?;
    let todo: Vec<String> = fr
        .upstreams_to()
        .into_iter()
        .filter(|u| {
            fr.config
                .upstream(u)
                .is_some_and(|up| up.servers.len() > 1 && !up.is_sticky())
        })
        .collect();
    drop(fr);
    for name in todo {
        edit(
            ws,
            facts,
            CheckId::ProxySticky,
            &Selector::Upstream(name.clone()),
            &EditOp::InsertAtStart {
                directive: NewDirective::new("ip_hash", Vec::<String>::new()),
            },
        )?;
        ws.reason(CheckId::ProxySticky, format!("ip_hash in upstream {name} sends each client to the same Odoo server, so its session is always found."));
    }
    Ok(())
}

/// `nginx -t` then `nginx -s reload`, with the binary and config the running master uses.
pub fn reload_action(n: &NginxFacts) -> ServiceAction {
    let bin = n
        .dump_command
        .split_whitespace()
        .next()
        .unwrap_or("nginx")
        .to_string();
    ServiceAction::ReloadNginx {
        test: vec![
            bin.clone(),
            "-t".into(),
            "-q".into(),
            "-c".into(),
            n.conf_path.clone(),
        ],
        reload: vec![
            bin,
            "-s".into(),
            "reload".into(),
            "-c".into(),
            n.conf_path.clone(),
        ],
    }
}

/// `proxy_cache off;` in every location that serves Odoo's per-user paths with a cache in effect
/// (the location's own `proxy_cache` turned off, or an `off` that overrides the inherited one),
/// without its own `proxy_ignore_headers`, and without `proxy_hide_header Set-Cookie` where that
/// location takes it from. Locations for /web/static and /web/assets keep their cache. A CDN or a
/// cookie rewrite that does not fit the names users type is the admin's: said, not changed.
pub(crate) fn cache(ws: &mut Workspace, facts: &Facts, _: Option<&str>) -> Result<(), EngineError> {
    let id = CheckId::ProxyCache;
    let fr = current(ws, facts)?;
    let names = fr.serving_names();
    let servers = fr.config.servers();
    let mut todo: Vec<(usize, String)> = Vec::new();
    let mut rewrites: Vec<String> = Vec::new();
    for addr in [&fr.http, &fr.gevent] {
        for route in fr.config.routes_to(addr) {
            let Some(s) = servers.iter().find(|s| s.index == route.server) else {
                continue;
            };
            let Some(loc) = s.location(&route.location) else {
                continue;
            };
            if Front::redirects_all(s) {
                continue;
            }
            for (d, why) in front::cookie_rewrites_off(&loc, &names) {
                let line = format!(
                    "{} {} at {}:{} {why}",
                    d.name,
                    d.args.join(" "),
                    d.file,
                    d.line
                );
                if !rewrites.contains(&line) {
                    rewrites.push(line);
                }
            }
            let flagged = front::serves_dynamic(&loc)
                && (front::cache_in_effect(&loc).is_some()
                    || front::hides_set_cookie(&loc).is_some());
            if flagged && !todo.contains(&(s.index, route.location.clone())) {
                todo.push((s.index, route.location.clone()));
            }
        }
    }
    drop(servers);
    drop(fr);
    let mut changed: Vec<String> = Vec::new();
    for (server, key) in todo {
        let sel = Selector::Location {
            server,
            location: key.clone(),
        };
        // Each step reads the configuration as the previous one left it.
        let step = |ws: &mut Workspace| -> Result<Option<(Selector, EditOp)>, EngineError> {
            let fr = current(ws, facts)?;
            let servers = fr.config.servers();
            let Some(loc) = servers
                .iter()
                .find(|s| s.index == server)
                .and_then(|s| s.location(&key))
            else {
                return Ok(None);
            };
            let own = |name: &str| loc.directive.children().iter().any(|d| d.name == name);
            Ok(if own("proxy_ignore_headers") {
                Some((
                    sel.clone(),
                    EditOp::Remove {
                        name: "proxy_ignore_headers".into(),
                        first_arg: None,
                    },
                ))
            } else if let Some((_, level)) = front::hides_set_cookie(&loc) {
                Some((
                    level_selector(&level, server),
                    EditOp::Remove {
                        name: "proxy_hide_header".into(),
                        first_arg: Some("Set-Cookie".into()),
                    },
                ))
            } else if front::cache_in_effect(&loc).is_some() {
                Some((
                    sel.clone(),
                    if own("proxy_cache") {
                        EditOp::ReplaceArgs {
                            name: "proxy_cache".into(),
                            first_arg: None,
                            args: vec!["off".into()],
                        }
                    } else {
                        EditOp::InsertAtEnd {
                            directive: NewDirective::new("proxy_cache", ["off"]),
                        }
                    },
                ))
            } else {
                None
            })
        };
        for _ in 0..8 {
            let Some((at, op)) = step(ws)? else { break };
            edit(ws, facts, id, &at, &op)?;
        }
        changed.push(key);
    }
    if !changed.is_empty() {
        ws.reason(id, format!("Turns nginx's cache off in location {} (Odoo's per-user pages) and lets Odoo's Set-Cookie and Cache-Control through there, so nobody gets another person's page or session; static files stay cached.", changed.join(", ")));
    }
    for r in rewrites {
        ws.note(id, format!("The session cookie's rewrite {r}: make it name the address users type (or remove it) in nginx yourself — which one is right is your call."));
    }
    let cdn = crate::checks::proxy::cdn_seen(facts);
    if !cdn.is_empty() {
        ws.note(id, format!("A CDN or cache in front answered the test login ({}); the app cannot change it: {}.", cdn.join(", "), crate::checks::proxy::CDN_BYPASS));
    }
    Ok(())
}
