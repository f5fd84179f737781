//! Views of the effective tree: servers, listens, redirects, locations with nginx's inheritance,
//! upstreams, maps and `proxy_pass` targets.

use std::fmt;
use std::time::Duration;

use serde::Serialize;

use super::Directive;

/// Which level an inherited array of directives comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "level", content = "location", rename_all = "snake_case")]
pub enum Level {
    /// Set nowhere on the way up.
    Unset,
    Http,
    Server,
    /// The location with this key (modifier and path, e.g. `/websocket` or `~* \.php$`).
    Location(String),
}

/// The directives of one name in effect at some level, and the level that defined them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Effective<'a> {
    pub directives: Vec<&'a Directive>,
    pub from: Level,
}

/// One `proxy_set_header name value;` in effect.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Header<'a> {
    pub name: &'a str,
    pub value: &'a str,
    pub directive: &'a Directive,
}

/// Levels from the innermost outwards: (level, block).
fn effective_in<'a>(chain: &[(Level, &'a Directive)], name: &str) -> Effective<'a> {
    for (level, block) in chain {
        let here: Vec<&'a Directive> = block.children().iter().filter(|d| d.name == name).collect();
        if !here.is_empty() {
            return Effective {
                directives: here,
                from: level.clone(),
            };
        }
    }
    Effective {
        directives: Vec::new(),
        from: Level::Unset,
    }
}

/// A `server { }` block.
#[derive(Debug, Clone, Copy)]
pub struct Server<'a> {
    pub index: usize,
    pub http: Option<&'a Directive>,
    pub directive: &'a Directive,
}

/// One `listen` of a server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Listen {
    /// The address part (`127.0.0.1`, `[::]`, `*`), when given.
    pub address: Option<String>,
    /// `None` for `unix:` sockets.
    pub port: Option<u16>,
    pub ssl: bool,
    pub default_server: bool,
    pub http2: bool,
    pub quic: bool,
    pub proxy_protocol: bool,
    /// No `listen` in the server: nginx listens on *:80.
    pub implicit: bool,
    pub file: String,
    pub line: usize,
}

impl Listen {
    pub fn parse(d: &Directive) -> Listen {
        let first = d.arg(0).unwrap_or("");
        let (address, port) = if first.starts_with("unix:") {
            (Some(first.to_string()), None)
        } else if let Some(rest) = first.strip_prefix('[') {
            match rest.split_once(']') {
                Some((a, tail)) => (
                    Some(format!("[{a}]")),
                    tail.strip_prefix(':')
                        .and_then(|p| p.parse().ok())
                        .or(Some(80)),
                ),
                None => (Some(first.to_string()), Some(80)),
            }
        } else if first.chars().all(|c| c.is_ascii_digit()) && !first.is_empty() {
            (None, first.parse().ok())
        } else if let Some((a, p)) = first.rsplit_once(':') {
            (Some(a.to_string()), p.parse().ok())
        } else {
            (Some(first.to_string()), Some(80))
        };
        let has = |f: &str| d.args.iter().skip(1).any(|a| a == f);
        Listen {
            address,
            port,
            ssl: has("ssl"),
            default_server: has("default_server") || has("default"),
            http2: has("http2"),
            quic: has("quic"),
            proxy_protocol: has("proxy_protocol"),
            implicit: false,
            file: d.file.clone(),
            line: d.line,
        }
    }
}

/// A `return` or `rewrite` that sends the browser elsewhere.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Redirect<'a> {
    pub directive: &'a Directive,
    /// Key of the enclosing location; `None` at server level.
    pub location: Option<String>,
    pub status: u16,
    pub target: String,
    /// `https`, `http`, `$scheme`…
    pub scheme: Option<String>,
    /// Literal host or the variable (`$host`, `$http_host`, `$server_name`).
    pub host: Option<String>,
}

fn redirect_of(d: &Directive) -> Option<(u16, String)> {
    let is_url =
        |s: &str| s.starts_with("http://") || s.starts_with("https://") || s.starts_with("$scheme");
    match d.name.as_str() {
        "return" => {
            let first = d.arg(0)?;
            if let Ok(code) = first.parse::<u16>() {
                if matches!(code, 301 | 302 | 303 | 307 | 308) {
                    return Some((code, d.arg(1).unwrap_or("").to_string()));
                }
                None
            } else if is_url(first) {
                Some((302, first.to_string()))
            } else {
                None
            }
        }
        "rewrite" => {
            let replacement = d.arg(1)?;
            match d.arg(2) {
                Some("permanent") => Some((301, replacement.to_string())),
                Some("redirect") => Some((302, replacement.to_string())),
                _ if is_url(replacement) => Some((302, replacement.to_string())),
                _ => None,
            }
        }
        _ => None,
    }
}

/// Scheme and host of a redirect target such as `https://$host$request_uri`.
pub fn scheme_and_host(target: &str) -> (Option<String>, Option<String>) {
    let Some((scheme, rest)) = target.split_once("://") else {
        return (None, None);
    };
    let host = if let Some(v) = rest.strip_prefix("${") {
        v.find('}').map(|i| format!("${{{}}}", &v[..i]))
    } else if let Some(v) = rest.strip_prefix('$') {
        let n = v
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .count();
        Some(format!("${}", &v[..n]))
    } else {
        let n = rest.find(['/', '?', '$']).unwrap_or(rest.len());
        Some(rest[..n].to_string())
    };
    (Some(scheme.to_string()), host.filter(|h| !h.is_empty()))
}

impl<'a> Server<'a> {
    fn chain(&self) -> Vec<(Level, &'a Directive)> {
        let mut c = vec![(Level::Server, self.directive)];
        if let Some(h) = self.http {
            c.push((Level::Http, h));
        }
        c
    }

    /// The `listen`s, or the implicit `*:80` when there is none.
    pub fn listens(&self) -> Vec<Listen> {
        let v: Vec<Listen> = self
            .directive
            .all("listen")
            .into_iter()
            .map(Listen::parse)
            .collect();
        if v.is_empty() {
            return vec![Listen {
                address: None,
                port: Some(80),
                ssl: false,
                default_server: false,
                http2: false,
                quic: false,
                proxy_protocol: false,
                implicit: true,
                file: self.directive.file.clone(),
                line: self.directive.line,
            }];
        }
        v
    }

    /// True when the server terminates TLS (`listen … ssl` or the old `ssl on;`).
    pub fn is_ssl(&self) -> bool {
        self.listens().iter().any(|l| l.ssl)
            || self
                .directive
                .get("ssl")
                .is_some_and(|d| d.arg(0) == Some("on"))
    }

    pub fn server_names(&self) -> Vec<&'a str> {
        self.directive
            .all("server_name")
            .into_iter()
            .flat_map(|d| d.args.iter().map(|s| s.as_str()))
            .collect()
    }

    /// Array-type directive in effect at server level (server, else http).
    pub fn effective_all(&self, name: &str) -> Effective<'a> {
        effective_in(&self.chain(), name)
    }

    /// Scalar directive in effect at server level (the last one of the nearest level that sets it).
    pub fn effective(&self, name: &str) -> Option<&'a Directive> {
        self.effective_all(name).directives.last().copied()
    }

    pub fn ssl_certificates(&self) -> Vec<&'a str> {
        self.effective_all("ssl_certificate")
            .directives
            .iter()
            .filter_map(|d| d.arg(0))
            .collect()
    }

    /// Every location, nested ones included, depth-first in file order.
    pub fn locations(&self) -> Vec<Location<'a>> {
        let mut out = Vec::new();
        let base = self.chain();
        collect_locations(self.index, self.directive, &base, &mut out);
        out
    }

    /// The first location whose key (`/websocket`, `= /x`, `~* \.php$`) or bare path matches.
    pub fn location(&self, key: &str) -> Option<Location<'a>> {
        let key = key.trim();
        let locs = self.locations();
        let exact = locs.iter().position(|l| l.key() == key);
        let idx = exact.or_else(|| locs.iter().position(|l| l.path() == key))?;
        locs.into_iter().nth(idx)
    }

    /// Redirects at server level, inside `if` blocks and inside locations.
    pub fn redirects(&self) -> Vec<Redirect<'a>> {
        let mut out = Vec::new();
        collect_redirects(self.directive, None, &mut out);
        out
    }
}

fn collect_locations<'a>(
    server_index: usize,
    block: &'a Directive,
    chain: &[(Level, &'a Directive)],
    out: &mut Vec<Location<'a>>,
) {
    for d in block
        .children()
        .iter()
        .filter(|d| d.name == "location" && d.block.is_some())
    {
        let key = d.args.join(" ");
        let mut c = vec![(Level::Location(key), d)];
        c.extend(chain.iter().cloned());
        out.push(Location {
            server_index,
            directive: d,
            chain: c.clone(),
        });
        collect_locations(server_index, d, &c, out);
    }
}

fn collect_redirects<'a>(
    block: &'a Directive,
    location: Option<String>,
    out: &mut Vec<Redirect<'a>>,
) {
    for d in block.children() {
        if let Some((status, target)) = redirect_of(d) {
            let (scheme, host) = scheme_and_host(&target);
            out.push(Redirect {
                directive: d,
                location: location.clone(),
                status,
                target,
                scheme,
                host,
            });
        }
        if d.block.is_some() {
            match d.name.as_str() {
                "location" => collect_redirects(d, Some(d.args.join(" ")), out),
                "if" | "limit_except" => collect_redirects(d, location.clone(), out),
                _ => {}
            }
        }
    }
}

/// A `location` with its enclosing levels.
#[derive(Debug, Clone)]
pub struct Location<'a> {
    pub server_index: usize,
    pub directive: &'a Directive,
    /// Innermost first: this location, outer locations, server, http.
    chain: Vec<(Level, &'a Directive)>,
}

impl<'a> Location<'a> {
    /// `=`, `~`, `~*`, `^~` or `@name`-less modifier, when present.
    pub fn modifier(&self) -> Option<&'a str> {
        if self.directive.args.len() > 1 {
            self.directive.arg(0)
        } else {
            None
        }
    }

    pub fn path(&self) -> &'a str {
        self.directive.args.last().map(|s| s.as_str()).unwrap_or("")
    }

    /// Modifier and path as written, e.g. `= /websocket` or `/`.
    pub fn key(&self) -> String {
        self.directive.args.join(" ")
    }

    /// Nesting depth: 0 for a location directly in the server.
    pub fn depth(&self) -> usize {
        self.chain
            .len()
            .saturating_sub(if self.chain.iter().any(|(l, _)| *l == Level::Http) {
                3
            } else {
                2
            })
    }

    pub fn proxy_pass(&self) -> Option<&'a str> {
        self.directive.get("proxy_pass").and_then(|d| d.arg(0))
    }

    /// Array-type directive in effect here, with nginx's all-or-nothing inheritance.
    pub fn effective_all(&self, name: &str) -> Effective<'a> {
        effective_in(&self.chain, name)
    }

    /// Scalar directive in effect here (the nearest level that sets it; its last occurrence).
    pub fn effective(&self, name: &str) -> Option<&'a Directive> {
        self.effective_all(name).directives.last().copied()
    }

    /// The `proxy_set_header`s in effect for requests this location proxies.
    pub fn proxy_set_headers(&self) -> (Vec<Header<'a>>, Level) {
        let e = self.effective_all("proxy_set_header");
        let headers = e
            .directives
            .iter()
            .map(|d| Header {
                name: d.arg(0).unwrap_or(""),
                value: d.arg(1).unwrap_or(""),
                directive: d,
            })
            .collect();
        (headers, e.from)
    }

    /// The value of one effective `proxy_set_header` (header names compared case-insensitively).
    pub fn header(&self, name: &str) -> Option<&'a str> {
        let (headers, _) = self.proxy_set_headers();
        headers
            .into_iter()
            .rev()
            .find(|h| h.name.eq_ignore_ascii_case(name))
            .map(|h| h.value)
    }

    /// Headers set at an outer level that this location silently drops because it sets its own
    /// `proxy_set_header`s (the trap of facts §4).
    pub fn dropped_headers(&self) -> Vec<Header<'a>> {
        let own = self.effective_all("proxy_set_header");
        if own.from != Level::Location(self.key()) {
            return Vec::new();
        }
        let outer = effective_in(&self.chain[1..], "proxy_set_header");
        outer
            .directives
            .iter()
            .filter(|o| {
                let n = o.arg(0).unwrap_or("");
                !own.directives
                    .iter()
                    .any(|d| d.arg(0).unwrap_or("").eq_ignore_ascii_case(n))
            })
            .map(|d| Header {
                name: d.arg(0).unwrap_or(""),
                value: d.arg(1).unwrap_or(""),
                directive: d,
            })
            .collect()
    }
}

/// One `server` line of an upstream.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UpstreamServer {
    pub address: String,
    pub params: Vec<String>,
    pub line: usize,
}

/// How an upstream picks a server for a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "method", content = "args", rename_all = "snake_case")]
pub enum Balancing {
    IpHash,
    Hash(Vec<String>),
    /// nginx Plus `sticky` (or the third-party sticky module).
    Sticky(Vec<String>),
    LeastConn,
    LeastTime(Vec<String>),
    Random(Vec<String>),
}

#[derive(Debug, Clone, Serialize)]
pub struct Upstream<'a> {
    pub name: &'a str,
    pub servers: Vec<UpstreamServer>,
    pub balancing: Vec<Balancing>,
    #[serde(skip)]
    pub directive: &'a Directive,
}

impl<'a> Upstream<'a> {
    pub(super) fn of(d: &'a Directive) -> Upstream<'a> {
        let mut servers = Vec::new();
        let mut balancing = Vec::new();
        for c in d.children() {
            let rest = || c.args.clone();
            match c.name.as_str() {
                "server" => servers.push(UpstreamServer {
                    address: c.arg(0).unwrap_or("").to_string(),
                    params: c.args.iter().skip(1).cloned().collect(),
                    line: c.line,
                }),
                "ip_hash" => balancing.push(Balancing::IpHash),
                "hash" => balancing.push(Balancing::Hash(rest())),
                "sticky" => balancing.push(Balancing::Sticky(rest())),
                "least_conn" => balancing.push(Balancing::LeastConn),
                "least_time" => balancing.push(Balancing::LeastTime(rest())),
                "random" => balancing.push(Balancing::Random(rest())),
                _ => {}
            }
        }
        Upstream {
            name: d.arg(0).unwrap_or(""),
            servers,
            balancing,
            directive: d,
        }
    }

    /// True when one client keeps going to the same server (what several Odoo nodes without
    /// shared sessions need, facts §1).
    pub fn is_sticky(&self) -> bool {
        self.balancing.iter().any(|b| {
            matches!(
                b,
                Balancing::IpHash | Balancing::Hash(_) | Balancing::Sticky(_)
            )
        })
    }
}

/// A `map $source $variable { … }` block.
#[derive(Debug, Clone, Serialize)]
pub struct MapBlock<'a> {
    pub source: &'a str,
    pub variable: &'a str,
    /// (key, value) in order; `default`, `hostnames` and `volatile` are not entries.
    pub entries: Vec<(String, String)>,
    pub default: Option<String>,
    #[serde(skip)]
    pub directive: &'a Directive,
}

impl<'a> MapBlock<'a> {
    pub(super) fn of(d: &'a Directive) -> MapBlock<'a> {
        let mut entries = Vec::new();
        let mut default = None;
        for c in d.children() {
            match c.name.as_str() {
                "default" => default = c.arg(0).map(str::to_string),
                "hostnames" | "volatile" => {}
                _ => entries.push((c.name.clone(), c.arg(0).unwrap_or("").to_string())),
            }
        }
        MapBlock {
            source: d.arg(0).unwrap_or(""),
            variable: d.arg(1).unwrap_or(""),
            entries,
            default,
            directive: d,
        }
    }

    /// The value for an exact key (no regex or hostname matching).
    pub fn value_for(&self, key: &str) -> Option<&str> {
        self.entries
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .or(self.default.as_deref())
    }
}

/// Where a `proxy_pass` points, parsed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProxyTarget {
    pub scheme: String,
    pub host: String,
    pub port: Option<u16>,
    /// The URI part (`/` in `http://odoo/`), which changes how nginx rewrites the path.
    pub uri: Option<String>,
}

impl ProxyTarget {
    pub fn parse(url: &str) -> Option<ProxyTarget> {
        let (scheme, rest) = url.split_once("://")?;
        let (authority, uri) = match rest.find('/') {
            Some(i) => (&rest[..i], Some(rest[i..].to_string())),
            None => (rest, None),
        };
        let (host, port) = if let Some(r) = authority.strip_prefix('[') {
            let (h, tail) = r.split_once(']')?;
            (
                format!("[{h}]"),
                tail.strip_prefix(':').and_then(|p| p.parse().ok()),
            )
        } else {
            match authority.rsplit_once(':') {
                Some((h, p)) if p.chars().all(|c| c.is_ascii_digit()) && !p.is_empty() => {
                    (h.to_string(), p.parse().ok())
                }
                _ => (authority.to_string(), None),
            }
        };
        Some(ProxyTarget {
            scheme: scheme.to_string(),
            host,
            port,
            uri,
        })
    }
}

/// A host and port requests end up at.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Backend {
    pub host: String,
    pub port: u16,
    /// The upstream it was reached through.
    pub upstream: Option<String>,
}

/// A location that proxies to an address.
#[derive(Debug, Clone, Serialize)]
pub struct ProxyRoute<'a> {
    pub server: usize,
    pub location: String,
    pub proxy_pass: String,
    pub upstream: Option<String>,
    #[serde(skip)]
    pub directive: &'a Directive,
}

pub(super) fn split_host_port(addr: &str, default_port: u16) -> Option<(String, u16)> {
    let addr = addr.trim();
    let addr = addr.strip_prefix("http://").unwrap_or(addr);
    if addr.is_empty() || addr.starts_with("unix:") {
        return None;
    }
    if let Some(r) = addr.strip_prefix('[') {
        let (h, tail) = r.split_once(']')?;
        let port = match tail.strip_prefix(':') {
            Some(p) => p.parse().ok()?,
            None => default_port,
        };
        return Some((h.to_string(), port));
    }
    match addr.rsplit_once(':') {
        Some((h, p)) if !h.contains(':') => Some((h.to_string(), p.parse().ok()?)),
        Some(_) => Some((addr.to_string(), default_port)), // bare IPv6
        None => Some((addr.to_string(), default_port)),
    }
}

pub(super) fn same_host(a: &str, b: &str) -> bool {
    let norm = |h: &str| {
        let h = h
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_ascii_lowercase();
        if matches!(
            h.as_str(),
            "localhost" | "127.0.0.1" | "::1" | "ip6-localhost" | "localhost.localdomain"
        ) {
            "loopback".to_string()
        } else {
            h
        }
    };
    norm(a) == norm(b)
}

/// nginx time syntax (`720s`, `1h 30m`, `90`, `500ms`) as a duration; `None` when invalid.
pub fn parse_duration(value: &str) -> Option<Duration> {
    let mut total_ms: u64 = 0;
    let mut any = false;
    for part in value.split_whitespace() {
        let digits: String = part.chars().take_while(|c| c.is_ascii_digit()).collect();
        let unit = &part[digits.len()..];
        let n: u64 = digits.parse().ok()?;
        let ms = match unit {
            "ms" => 1,
            "" | "s" => 1000,
            "m" => 60_000,
            "h" => 3_600_000,
            "d" => 86_400_000,
            "w" => 604_800_000,
            "M" => 2_592_000_000,
            "y" => 31_536_000_000,
            _ => return None,
        };
        total_ms = total_ms.checked_add(n.checked_mul(ms)?)?;
        any = true;
    }
    any.then(|| Duration::from_millis(total_ms))
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Level::Unset => f.write_str("nowhere"),
            Level::Http => f.write_str("http"),
            Level::Server => f.write_str("server"),
            Level::Location(k) => write!(f, "location {k}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("720s"), Some(Duration::from_secs(720)));
        assert_eq!(parse_duration("1h 30m"), Some(Duration::from_secs(5400)));
        assert_eq!(parse_duration("60"), Some(Duration::from_secs(60)));
        assert_eq!(parse_duration("500ms"), Some(Duration::from_millis(500)));
        assert_eq!(parse_duration("12x"), None);
    }

    #[test]
    fn host_port_and_loopback() {
        assert_eq!(
            split_host_port("127.0.0.1:8069", 80),
            Some(("127.0.0.1".into(), 8069))
        );
        assert_eq!(
            split_host_port("[::1]:8072", 80),
            Some(("::1".into(), 8072))
        );
        assert_eq!(split_host_port("odoo", 80), Some(("odoo".into(), 80)));
        assert!(same_host("localhost", "[::1]"));
        assert!(!same_host("10.0.0.2", "localhost"));
    }
}
