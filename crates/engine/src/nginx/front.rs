//! The nginx in front of one Odoo, as nginx applies its configuration: which server blocks proxy
//! to Odoo's ports, which serve users and under which names and URLs, where the session cookie is
//! marked Secure, and the edits that would change that. A view, not a judgement: the checks judge
//! it, discovery and the live probe read names and URLs from it, the fixes plan on it.

use std::sync::Arc;

use super::{Directive, EditOp, Level, Location, NginxConfig, Selector, Server};

/// The headers Odoo needs from its proxy (facts §4), with the official values.
pub const FORWARDED: &[(&str, &str)] = &[
    ("X-Forwarded-Host", "$http_host"),
    ("X-Forwarded-Proto", "$scheme"),
    ("X-Forwarded-For", "$proxy_add_x_forwarded_for"),
];

/// The proxy in front of this Odoo, as nginx applies it.
#[derive(Debug, Clone)]
pub struct Front {
    /// The effective configuration, parsed once with the facts (shared, never re-parsed).
    pub config: Arc<NginxConfig>,
    /// `127.0.0.1:<http_port>` and `127.0.0.1:<gevent_port>`.
    pub http: String,
    pub gevent: String,
}

impl Front {
    pub fn new(config: Arc<NginxConfig>, http_port: u16, gevent_port: u16) -> Front {
        Front {
            config,
            http: format!("127.0.0.1:{http_port}"),
            gevent: format!("127.0.0.1:{gevent_port}"),
        }
    }

    /// Servers with a location proxying to Odoo's HTTP port (the gevent port aside).
    fn http_servers(&self) -> Vec<Server<'_>> {
        let routes: Vec<usize> = self
            .config
            .routes_to(&self.http)
            .iter()
            .map(|r| r.server)
            .collect();
        self.config
            .servers()
            .into_iter()
            .filter(|s| routes.contains(&s.index))
            .collect()
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

    /// Host names the proxy serves this Odoo under (servers proxying to its HTTP port).
    pub fn server_names(&self) -> Vec<String> {
        usable_names(&self.http_servers())
    }

    /// URLs users may type, HTTPS first.
    pub fn public_urls(&self) -> Vec<String> {
        let mut servers = self.http_servers();
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

    /// Names under which Odoo is really served (not just redirected from), in config order.
    pub fn serving_names(&self) -> Vec<String> {
        usable_names(&self.serving())
    }

    /// Upstream blocks through which requests reach this Odoo's HTTP port.
    pub fn upstreams_to(&self) -> Vec<String> {
        let mut names: Vec<String> = Vec::new();
        for r in self.config.routes_to(&self.http) {
            if let Some(u) = r.upstream {
                if !names.contains(&u) {
                    names.push(u);
                }
            }
        }
        names
    }
}

/// Whether an nginx proxies to this Odoo, and its view when it does.
#[derive(Debug, Clone)]
pub enum FrontState {
    /// No nginx was observed (why).
    NoNginx(String),
    /// Its configuration does not parse (`file:line: message`).
    Broken(String),
    /// nginx runs but no location proxies to this Odoo.
    NotInFront,
    Front(Front),
}

pub fn usable_name(n: &str) -> bool {
    !n.is_empty() && n != "_" && !n.starts_with('~') && !n.contains('*')
}

/// The usable names of `servers`, each once, in config order.
fn usable_names(servers: &[Server]) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for s in servers {
        for n in s.server_names().into_iter().filter(|n| usable_name(n)) {
            if !names.iter().any(|x| x == n) {
                names.push(n.to_string());
            }
        }
    }
    names
}

/// `= /websocket`, `^~ /websocket` and `/websocket` all name the path `/websocket`.
pub fn location_path(key: &str) -> &str {
    key.rsplit(' ').next().unwrap_or(key)
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

/// The fixes for [`secure_on_plain`] that can be planned safely (see [`secure_on_plain_fixes`]).
pub const REDIRECT_PLAIN: &str = "redirect";
pub const DROP_SECURE: &str = "drop-secure";

/// Redirecting plain HTTP is plannable when HTTPS exists and every trap is a plain-only server
/// (the redirect fix adds `return 301` to exactly those; a block that also listens with TLS
/// cannot take it).
fn can_redirect_plain(fr: &Front, traps: &[SecureOnPlain]) -> bool {
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

/// The fixes of a Secure cookie on plain HTTP that can be applied safely and leave it fixed, best
/// first. With HTTPS, the redirect (dropping `secure` on the plain server would leave HTTPS's
/// Secure cookie next to a plain site, which browsers refuse to overwrite from http://); without
/// HTTPS, dropping `secure`, unless the directive also serves HTTPS.
pub fn secure_on_plain_fixes(fr: &Front, traps: &[SecureOnPlain]) -> Vec<&'static str> {
    let mut fixes = Vec::new();
    if can_redirect_plain(fr, traps) {
        fixes.push(REDIRECT_PLAIN);
    }
    if !fr.has_https() && drop_secure_edits(traps).is_some() {
        fixes.push(DROP_SECURE);
    }
    fixes
}

/// Requests Odoo answers per user (its web client, session routes, RPC, the live connection):
/// what a location serving one of them passes to Odoo must never come from a shared cache.
const DYNAMIC_SAMPLES: &[&str] = &[
    "/",
    "/web",
    "/web/login",
    "/web/session/authenticate",
    "/web/dataset/call_kw",
    "/websocket",
    "/json",
    "/jsonrpc",
    "/longpolling/poll",
];

/// Prefixes of Odoo's static files and asset bundles: the same for everybody, safe to cache.
pub const STATIC_PREFIXES: &[&str] = &["/web/static", "/web/assets"];

/// Whether a location answers some of Odoo's per-user paths (`/`, `/web`, `/web/session/*`,
/// `/websocket`, `/json`, `/jsonrpc`, `/longpolling`) — as nginx matches it: exactly, by prefix,
/// or by regex. A location for `/web/static` or `/web/assets` only (or for file extensions)
/// does not; a named location (`@odoo`, a fallback) serves whatever reaches it, so it does.
pub fn serves_dynamic(loc: &Location) -> bool {
    let path = loc.path();
    if path.starts_with('@') {
        return true;
    }
    if STATIC_PREFIXES.iter().any(|s| path.starts_with(s)) {
        return false;
    }
    match loc.modifier() {
        Some("=") => {
            path == "/"
                || ["/web", "/json", "/websocket", "/longpolling"]
                    .iter()
                    .any(|d| path.starts_with(d))
        }
        Some(m @ ("~" | "~*")) => {
            if STATIC_PREFIXES.iter().any(|s| path.contains(s)) {
                return false;
            }
            regex::RegexBuilder::new(path)
                .case_insensitive(m == "~*")
                .build()
                .map(|re| DYNAMIC_SAMPLES.iter().any(|q| re.is_match(q)))
                .unwrap_or(true) // nginx (PCRE) accepted it: assume the worst
        }
        _ => DYNAMIC_SAMPLES.iter().any(|q| q.starts_with(path)),
    }
}

/// The `proxy_cache` that caches this location's responses (inherited from server or http when
/// the location sets none, as nginx merges it), unless it is `off` or a constant
/// `proxy_no_cache` (e.g. `1`) keeps every response out of the cache.
pub fn cache_in_effect<'a>(loc: &Location<'a>) -> Option<&'a Directive> {
    let cache = loc.effective("proxy_cache")?;
    if cache.arg(0).is_none_or(|z| z == "off") {
        return None;
    }
    let never_stored = loc
        .effective_all("proxy_no_cache")
        .directives
        .iter()
        .any(|d| {
            d.args
                .iter()
                .any(|a| !a.contains('$') && !a.is_empty() && a != "0")
        });
    (!never_stored).then_some(cache)
}

/// `proxy_hide_header Set-Cookie` in effect here: the browser never receives Odoo's cookies.
pub fn hides_set_cookie<'a>(loc: &Location<'a>) -> Option<(&'a Directive, Level)> {
    let hidden = loc.effective_all("proxy_hide_header");
    let from = hidden.from.clone();
    hidden
        .directives
        .into_iter()
        .find(|d| {
            d.arg(0)
                .is_some_and(|h| h.eq_ignore_ascii_case("Set-Cookie"))
        })
        .map(|d| (d, from))
}

/// What makes a cache in this location hand out or drop sessions, each with its directive (or
/// `None` for nginx's default cache key) and in words.
pub fn cache_aggravations<'a>(loc: &Location<'a>) -> Vec<(Option<&'a Directive>, String)> {
    let mut out = Vec::new();
    if let Some(d) = loc.effective("proxy_ignore_headers") {
        let ignored = |h: &str| d.args.iter().any(|a| a.eq_ignore_ascii_case(h));
        if ignored("Set-Cookie") {
            out.push((Some(d), "stores responses that set a session cookie and replays that cookie to other people".to_string()));
        }
        let rules: Vec<&str> = ["Cache-Control", "Expires", "X-Accel-Expires"]
            .into_iter()
            .filter(|h| ignored(h))
            .collect();
        if !rules.is_empty() {
            out.push((
                Some(d),
                format!(
                    "ignores Odoo's {} (which say what must not be cached)",
                    rules.join("/")
                ),
            ));
        }
    }
    if let Some((d, _)) = hides_set_cookie(loc) {
        out.push((
            Some(d),
            "hides Odoo's Set-Cookie: the browser never gets its session cookie".into(),
        ));
    }
    match loc.effective("proxy_cache_key") {
        Some(d) => {
            let key = d.args.join(" ");
            if !key.contains("$cookie_session_id") && !key.contains("$http_cookie") {
                out.push((Some(d), format!("cache key {key} leaves out the session cookie: everybody gets the same cached page")));
            }
        }
        None => out.push((None, "the default cache key ($scheme$proxy_host$request_uri) leaves out the session cookie: everybody gets the same cached page".into())),
    }
    out
}

/// The session cookie's rewrites in this location that do not fit the names users type: a
/// `proxy_cookie_domain` to a domain none of `names` is in, a `proxy_cookie_path` that moves
/// Odoo's `Path=/` elsewhere. Each with why, in words.
pub fn cookie_rewrites_off<'a>(
    loc: &Location<'a>,
    names: &[String],
) -> Vec<(&'a Directive, String)> {
    let mut out = Vec::new();
    for d in loc.effective_all("proxy_cookie_domain").directives {
        let Some(to) = d.arg(1) else { continue };
        if d.arg(0) == Some("off") || to.contains('$') || names.is_empty() {
            continue;
        }
        let domain = to.trim_start_matches('.').to_ascii_lowercase();
        let fits = names.iter().any(|n| {
            let n = n.to_ascii_lowercase();
            n == domain || n.ends_with(&format!(".{domain}"))
        });
        if !fits {
            out.push((d, format!("gives the session cookie the domain {to}, which is not {} — browsers refuse it", names.join(", "))));
        }
    }
    let paths = loc.effective_all("proxy_cookie_path");
    let first = paths.directives.iter().find(|d| {
        d.arg(0)
            .is_some_and(|p| p != "off" && pattern_matches(p, "/", true))
    });
    if let Some(d) = first {
        if let Some(to) = d.arg(1) {
            let path = to.split(';').next().unwrap_or("").trim();
            if path != "/" && !path.contains('$') {
                out.push((d, format!("moves the session cookie from Path=/ to Path={path}: it is not sent for the rest of Odoo")));
            }
        }
    }
    out
}
