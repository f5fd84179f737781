//! The effective configuration: every file of the dump parsed and `include`s resolved into one
//! tree, with the questions asked of the whole (servers, upstreams, maps, where a `proxy_pass`
//! leads).

use std::collections::BTreeMap;

use serde::Serialize;

use super::views::{same_host, split_host_port};
use super::{
    parse_file, Backend, Directive, Location, MapBlock, NginxDump, NginxError, ProxyRoute,
    ProxyTarget, Selector, Server, Upstream,
};

#[cfg(test)]
thread_local! {
    /// Effective configurations built on this thread: tests count parses with it.
    pub(crate) static BUILDS: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// A parsed file of the dump.
#[derive(Debug, Clone, Serialize)]
pub struct ParsedFile {
    pub path: String,
    pub text: String,
    pub directives: Vec<Directive>,
}

/// An `include` whose pattern matched no file of the dump.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UnresolvedInclude {
    pub file: String,
    pub line: usize,
    pub pattern: String,
}

/// Every file parsed, includes resolved into one tree (each node keeps its own file and line).
#[derive(Debug, Clone, Serialize)]
pub struct NginxConfig {
    files: Vec<ParsedFile>,
    root: Vec<Directive>,
    conf_dir: String,
    unresolved: Vec<UnresolvedInclude>,
    /// `upstream` name → its position among the `http` block's children: every `proxy_pass` is
    /// resolved through it, and hosting panels write one upstream per site (1,000 sites made
    /// the checks quadratic without it).
    #[serde(skip)]
    upstream_at: std::collections::HashMap<String, usize>,
    /// Where each asked address's routes are (server, location index, upstream): the first
    /// question walks every location of every server, the checks' many later ones do not.
    #[serde(skip)]
    routes_memo: RouteMemo,
}

/// address → (server index, index in that server's locations, upstream).
#[derive(Debug, Default)]
struct RouteMemo(
    std::sync::Mutex<std::collections::HashMap<String, Vec<(usize, usize, Option<String>)>>>,
);

impl Clone for RouteMemo {
    fn clone(&self) -> Self {
        RouteMemo(std::sync::Mutex::new(
            self.0.lock().map(|m| m.clone()).unwrap_or_default(),
        ))
    }
}

fn dirname(path: &str) -> &str {
    match path.rfind('/') {
        Some(0) => "/",
        Some(i) => &path[..i],
        None => ".",
    }
}

fn absolutize(pattern: &str, conf_dir: &str) -> String {
    if pattern.starts_with('/') {
        pattern.to_string()
    } else if conf_dir.ends_with('/') {
        format!("{conf_dir}{pattern}")
    } else {
        format!("{conf_dir}/{pattern}")
    }
}

/// glob(3) matching of one path: `*`, `?`, `[...]` never cross `/` nor match a leading `.` of a
/// path component.
pub fn glob_match(pattern: &str, path: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let s: Vec<char> = path.chars().collect();
    glob_rec(&p, &s, 0, 0)
}

fn glob_rec(p: &[char], s: &[char], pi: usize, si: usize) -> bool {
    let at_component_start = |i: usize| i == 0 || s[i - 1] == '/';
    if pi == p.len() {
        return si == s.len();
    }
    match p[pi] {
        '*' => {
            // Try every length up to the next '/'.
            let mut k = si;
            loop {
                if glob_rec(p, s, pi + 1, k) {
                    return true;
                }
                if k >= s.len() || s[k] == '/' || (s[k] == '.' && k == si && at_component_start(si))
                {
                    return false;
                }
                k += 1;
            }
        }
        '?' => {
            si < s.len()
                && s[si] != '/'
                && !(s[si] == '.' && at_component_start(si))
                && glob_rec(p, s, pi + 1, si + 1)
        }
        '[' => {
            let Some(close_rel) = p[pi + 1..].iter().skip(1).position(|c| *c == ']') else {
                return si < s.len() && s[si] == '[' && glob_rec(p, s, pi + 1, si + 1);
            };
            let close = pi + 2 + close_rel;
            if si >= s.len() || s[si] == '/' || (s[si] == '.' && at_component_start(si)) {
                return false;
            }
            let mut class = &p[pi + 1..close];
            let negate = matches!(class.first(), Some('!') | Some('^'));
            if negate {
                class = &class[1..];
            }
            let c = s[si];
            let mut hit = false;
            let mut k = 0;
            while k < class.len() {
                if k + 2 < class.len() && class[k + 1] == '-' {
                    if class[k] <= c && c <= class[k + 2] {
                        hit = true;
                    }
                    k += 3;
                } else {
                    if class[k] == c {
                        hit = true;
                    }
                    k += 1;
                }
            }
            hit != negate && glob_rec(p, s, close + 1, si + 1)
        }
        c => si < s.len() && s[si] == c && glob_rec(p, s, pi + 1, si + 1),
    }
}

impl NginxConfig {
    pub(super) fn build(dump: &NginxDump) -> Result<NginxConfig, NginxError> {
        #[cfg(test)]
        BUILDS.with(|b| b.set(b.get() + 1));
        let mut files = Vec::new();
        for f in dump.files() {
            files.push(ParsedFile {
                path: f.path.clone(),
                text: f.text.clone(),
                directives: parse_file(&f.path, &f.text)?,
            });
        }
        let conf_dir = files
            .first()
            .map(|f| dirname(&f.path).to_string())
            .unwrap_or_else(|| "/etc/nginx".into());
        let by_path: BTreeMap<&str, &ParsedFile> =
            files.iter().map(|f| (f.path.as_str(), f)).collect();
        let mut unresolved = Vec::new();
        let root = match files.first() {
            Some(main) => {
                let mut stack = vec![main.path.clone()];
                resolve(
                    &main.directives,
                    &by_path,
                    &conf_dir,
                    &mut stack,
                    &mut unresolved,
                )
            }
            None => Vec::new(),
        };
        let mut config = NginxConfig {
            files,
            root,
            conf_dir,
            unresolved,
            upstream_at: Default::default(),
            routes_memo: Default::default(),
        };
        if let Some(http) = config.http() {
            let mut at = std::collections::HashMap::new();
            for (i, d) in http.children().iter().enumerate() {
                if d.name == "upstream" && d.block.is_some() {
                    // nginx refuses a duplicate name; the first is the one it would use.
                    at.entry(d.arg(0).unwrap_or("").to_string()).or_insert(i);
                }
            }
            config.upstream_at = at;
        }
        Ok(config)
    }

    /// Top-level directives of the effective tree (the main file with includes spliced in).
    pub fn root(&self) -> &[Directive] {
        &self.root
    }

    pub fn files(&self) -> &[ParsedFile] {
        &self.files
    }

    pub fn file_text(&self, path: &str) -> Option<&str> {
        self.files
            .iter()
            .find(|f| f.path == path)
            .map(|f| f.text.as_str())
    }

    /// Directory relative include paths are resolved against (the main file's directory).
    pub fn conf_dir(&self) -> &str {
        &self.conf_dir
    }

    pub fn unresolved_includes(&self) -> &[UnresolvedInclude] {
        &self.unresolved
    }

    /// The `http { }` block.
    pub fn http(&self) -> Option<&Directive> {
        self.root
            .iter()
            .find(|d| d.name == "http" && d.block.is_some())
    }

    /// Every `server { }` of the `http` block, in order; the index is what [`Selector::Server`] takes.
    pub fn servers(&self) -> Vec<Server<'_>> {
        let Some(http) = self.http() else {
            return Vec::new();
        };
        http.children()
            .iter()
            .filter(|d| d.name == "server" && d.block.is_some())
            .enumerate()
            .map(|(index, d)| Server {
                index,
                http: Some(http),
                directive: d,
            })
            .collect()
    }

    /// Every `upstream name { }` of the `http` block.
    pub fn upstreams(&self) -> Vec<Upstream<'_>> {
        let Some(http) = self.http() else {
            return Vec::new();
        };
        http.children()
            .iter()
            .filter(|d| d.name == "upstream" && d.block.is_some())
            .map(Upstream::of)
            .collect()
    }

    pub fn upstream(&self, name: &str) -> Option<Upstream<'_>> {
        let i = *self.upstream_at.get(name)?;
        Some(Upstream::of(&self.http()?.children()[i]))
    }

    /// Every `map $source $variable { }` of the `http` block.
    pub fn maps(&self) -> Vec<MapBlock<'_>> {
        let Some(http) = self.http() else {
            return Vec::new();
        };
        http.children()
            .iter()
            .filter(|d| d.name == "map" && d.block.is_some())
            .map(MapBlock::of)
            .collect()
    }

    /// The map that defines `$variable` (with or without the `$`).
    pub fn map_for(&self, variable: &str) -> Option<MapBlock<'_>> {
        let v = variable.trim_start_matches('$');
        self.maps()
            .into_iter()
            .find(|m| m.variable.trim_start_matches('$') == v)
    }

    /// The backends a `proxy_pass` URL reaches: an upstream's servers when the host names an
    /// upstream, else the host and port themselves. Empty when the URL uses variables.
    pub fn backends_of(&self, proxy_pass: &str) -> Vec<Backend> {
        let Some(t) = ProxyTarget::parse(proxy_pass) else {
            return Vec::new();
        };
        if t.host.contains('$') {
            return Vec::new();
        }
        if t.port.is_none() {
            if let Some(u) = self.upstream(&t.host) {
                return u
                    .servers
                    .iter()
                    .filter_map(|s| split_host_port(&s.address, 80))
                    .map(|(host, port)| Backend {
                        host,
                        port,
                        upstream: Some(u.name.to_string()),
                    })
                    .collect();
            }
        }
        let default = if t.scheme == "https" { 443 } else { 80 };
        vec![Backend {
            host: t.host.clone(),
            port: t.port.unwrap_or(default),
            upstream: None,
        }]
    }

    /// Every location (in every server) whose `proxy_pass` reaches `address` (`host:port`), with
    /// `localhost`, `127.0.0.1` and `::1` treated as the same host.
    pub fn routes_to(&self, address: &str) -> Vec<ProxyRoute<'_>> {
        let known = self
            .routes_memo
            .0
            .lock()
            .ok()
            .and_then(|m| m.get(address).cloned());
        let at = match known {
            Some(at) => at,
            None => {
                let at = self.find_routes(address);
                if let Ok(mut m) = self.routes_memo.0.lock() {
                    m.insert(address.to_string(), at.clone());
                }
                at
            }
        };
        let servers = self.servers();
        let mut out = Vec::new();
        let mut locs: Option<(usize, Vec<Location<'_>>)> = None;
        for (si, li, upstream) in at {
            if locs.as_ref().map(|(s, _)| *s) != Some(si) {
                locs = Some((si, servers[si].locations()));
            }
            let loc = &locs.as_ref().expect("set above").1[li];
            out.push(ProxyRoute {
                server: si,
                location: loc.key(),
                proxy_pass: loc.proxy_pass().unwrap_or("").to_string(),
                upstream,
                directive: loc.directive,
            });
        }
        out
    }

    /// Every location whose `proxy_pass` reaches `address`: (server, location index, upstream).
    fn find_routes(&self, address: &str) -> Vec<(usize, usize, Option<String>)> {
        let Some((host, port)) = split_host_port(address, 80) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for server in self.servers() {
            for (li, loc) in server.locations().iter().enumerate() {
                let Some(pp) = loc.proxy_pass() else { continue };
                if let Some(b) = self
                    .backends_of(pp)
                    .into_iter()
                    .find(|b| b.port == port && same_host(&b.host, &host))
                {
                    out.push((server.index, li, b.upstream));
                }
            }
        }
        out
    }

    /// The block a selector designates (`None` for [`Selector::FileTop`], which is a file, not a block).
    pub fn select(&self, sel: &Selector) -> Option<&Directive> {
        match sel {
            Selector::FileTop(_) => None,
            Selector::Http => self.http(),
            Selector::Server(i) => self.servers().get(*i).map(|s| s.directive),
            Selector::Location { server, location } => {
                let s = self.servers().into_iter().nth(*server)?;
                s.location(location).map(|l| l.directive)
            }
            Selector::Upstream(name) => self.upstream(name).map(|u| u.directive),
            Selector::Map(var) => self.map_for(var).map(|m| m.directive),
        }
    }
}

fn resolve(
    dirs: &[Directive],
    files: &BTreeMap<&str, &ParsedFile>,
    conf_dir: &str,
    stack: &mut Vec<String>,
    unresolved: &mut Vec<UnresolvedInclude>,
) -> Vec<Directive> {
    let mut out = Vec::new();
    for d in dirs {
        if d.name == "include" && d.block.is_none() && d.args.len() == 1 {
            let pattern = absolutize(&d.args[0], conf_dir);
            let has_glob = pattern.contains(['*', '?', '[']);
            let matched: Vec<&str> = files
                .keys()
                .copied()
                .filter(|p| {
                    if has_glob {
                        glob_match(&pattern, p)
                    } else {
                        *p == pattern
                    }
                })
                .collect(); // BTreeMap keys: sorted, as glob(3) returns them
            if matched.is_empty() {
                unresolved.push(UnresolvedInclude {
                    file: d.file.clone(),
                    line: d.line,
                    pattern,
                });
            }
            for p in matched {
                // nginx would loop forever on a self-include; we stop at the cycle.
                if stack.iter().any(|s| s == p) || stack.len() > 32 {
                    continue;
                }
                stack.push(p.to_string());
                out.extend(resolve(
                    &files[p].directives,
                    files,
                    conf_dir,
                    stack,
                    unresolved,
                ));
                stack.pop();
            }
            continue;
        }
        let mut d2 = d.clone();
        if let Some(b) = &mut d2.block {
            b.children = resolve(d.children(), files, conf_dir, stack, unresolved);
        }
        out.push(d2);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glob_follows_glob3() {
        assert!(glob_match(
            "/etc/nginx/sites-enabled/*",
            "/etc/nginx/sites-enabled/odoo"
        ));
        assert!(!glob_match(
            "/etc/nginx/sites-enabled/*",
            "/etc/nginx/sites-enabled/.hidden"
        ));
        assert!(!glob_match("/etc/nginx/*", "/etc/nginx/sites-enabled/odoo"));
        assert!(glob_match(
            "/etc/nginx/conf.d/*.conf",
            "/etc/nginx/conf.d/a.conf"
        ));
        assert!(!glob_match(
            "/etc/nginx/conf.d/*.conf",
            "/etc/nginx/conf.d/a.conf.bak"
        ));
        assert!(glob_match("/x/[a-c]?.conf", "/x/b1.conf"));
        assert!(!glob_match("/x/[!a-c]?.conf", "/x/b1.conf"));
    }
}
