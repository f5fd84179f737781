//! nginx configuration as the checks and fixes need it: split an `nginx -T` dump into files, parse
//! each with nginx's own tokenizer rules, resolve `include`s into one effective tree whose every
//! node remembers its file and line, answer the questions the Odoo checks ask (servers, listens,
//! redirects, locations, upstreams, maps, inherited `proxy_set_header`…), and edit one file's text
//! while every byte outside the edit stays as it was.
//!
//! Tokenizer rules follow `ngx_conf_read_token()` (src/core/ngx_conf_file.c): words end at space,
//! tab, CR, LF, `;` or `{` (so `}` and `#` inside a word are literal); `#` starts a comment only at
//! a token start; quotes only open at a token start and must be followed by whitespace, `;`, `{` or
//! `)`; a backslash protects the next character; `${var}` does not open a block; `\"`, `\'`, `\\`,
//! `\t`, `\r`, `\n` are unescaped, any other backslash is kept (regexes keep `\.`). `map`, `types`
//! and friends are parsed like everything else: their entries are directives whose "name" is the
//! key (possibly `''`).
//!
//! Inheritance (the trap of facts §4): array-type directives (`proxy_set_header`, `add_header`,
//! `proxy_cookie_flags`, `proxy_cookie_path`, `ssl_certificate`, …) are inherited from the outer
//! level only when a level defines **none** of them; scalar ones (`proxy_read_timeout`) take the
//! nearest level that sets them. Levels: http → server → location → nested location. `if` blocks
//! are not treated as levels.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use serde::Serialize;

// ----- the dump --------------------------------------------------------------------------------

/// One file as `nginx -T` printed it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DumpFile {
    pub path: String,
    pub text: String,
}

/// The files of an `nginx -T` dump, in the order nginx read them (the main file first).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct NginxDump {
    files: Vec<DumpFile>,
}

const FILE_MARKER: &str = "# configuration file ";

impl NginxDump {
    /// Splits `nginx -T` output. Anything before the first `# configuration file <path>:` line (such
    /// as nginx's "syntax is ok" lines when stderr was merged) is ignored, as are trailing `nginx: `
    /// lines after the last file. nginx writes one extra line feed after each file's content; it is
    /// removed, so each file's text is byte-exact.
    pub fn parse(t_output: &str) -> NginxDump {
        let mut files: Vec<DumpFile> = Vec::new();
        let mut current: Option<(String, usize)> = None;
        let mut pos = 0;
        let bytes = t_output.as_bytes();
        let finish = |files: &mut Vec<DumpFile>, path: String, start: usize, end: usize| {
            let mut body = &t_output[start..end];
            // nginx's separator line feed; "\r\n" when the whole capture went through a CRLF
            // conversion (then the marker line ends with "\r\n" too).
            let crlf_capture = t_output[..start].ends_with(":\r\n");
            body = if crlf_capture {
                body.strip_suffix("\r\n")
            } else {
                None
            }
            .or_else(|| body.strip_suffix('\n'))
            .unwrap_or(body);
            files.push(DumpFile {
                path,
                text: body.to_string(),
            });
        };
        while pos < bytes.len() {
            let line_end = t_output[pos..]
                .find('\n')
                .map(|i| pos + i + 1)
                .unwrap_or(bytes.len());
            let line = t_output[pos..line_end].trim_end_matches(['\n', '\r']);
            if let Some(rest) = line.strip_prefix(FILE_MARKER) {
                if let Some(path) = rest.strip_suffix(':') {
                    if let Some((p, start)) = current.take() {
                        finish(&mut files, p, start, pos);
                    }
                    current = Some((path.to_string(), line_end));
                }
            }
            pos = line_end;
        }
        if let Some((p, start)) = current.take() {
            // Drop nginx's own messages if stderr was appended after the dump.
            let mut end = t_output.len();
            loop {
                let body = &t_output[start..end];
                let trimmed = body.strip_suffix('\n').unwrap_or(body);
                let last_start = trimmed.rfind('\n').map(|i| i + 1).unwrap_or(0);
                let last = &trimmed[last_start..];
                if last.starts_with("nginx: ") && start + last_start < end {
                    end = start + last_start;
                } else {
                    break;
                }
            }
            finish(&mut files, p, start, end);
        }
        NginxDump { files }
    }

    /// A dump made of given files (the first is the main file).
    pub fn from_files<P: Into<String>, T: Into<String>>(
        files: impl IntoIterator<Item = (P, T)>,
    ) -> NginxDump {
        NginxDump {
            files: files
                .into_iter()
                .map(|(p, t)| DumpFile {
                    path: p.into(),
                    text: t.into(),
                })
                .collect(),
        }
    }

    pub fn files(&self) -> &[DumpFile] {
        &self.files
    }

    pub fn file(&self, path: &str) -> Option<&DumpFile> {
        self.files.iter().find(|f| f.path == path)
    }

    /// The main configuration file (the first one nginx dumped).
    pub fn main_path(&self) -> Option<&str> {
        self.files.first().map(|f| f.path.as_str())
    }

    /// Replaces one file's text (after an edit); returns false when the file is not in the dump.
    pub fn replace_file(&mut self, path: &str, text: String) -> bool {
        match self.files.iter_mut().find(|f| f.path == path) {
            Some(f) => {
                f.text = text;
                true
            }
            None => false,
        }
    }

    /// Applies edits produced by [`NginxConfig::edit`].
    pub fn apply(&mut self, edits: &[FileEdit]) {
        for e in edits {
            self.replace_file(&e.path, e.after.clone());
        }
    }

    /// Parses every file and resolves includes into the effective tree.
    pub fn config(&self) -> Result<NginxConfig, NginxError> {
        NginxConfig::build(self)
    }
}

// ----- syntax ----------------------------------------------------------------------------------

/// A syntax error, with the file and 1-based line, worded like nginx's own messages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("{file}:{line}: {message}")]
pub struct NginxError {
    pub file: String,
    pub line: usize,
    pub message: String,
}

/// A directive (`name args;`) or block (`name args { … }`) with where it comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Directive {
    pub name: String,
    /// Arguments after unescaping (quotes removed).
    pub args: Vec<String>,
    /// File the directive is written in.
    pub file: String,
    /// 1-based line of its name.
    pub line: usize,
    /// Byte span in its file: from the name to the `;` or `}` included.
    pub span: (usize, usize),
    pub name_span: (usize, usize),
    /// From the first argument's first byte to the last argument's last byte (quotes included).
    pub args_span: Option<(usize, usize)>,
    pub block: Option<Block>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Block {
    /// Byte offset of `{` in the directive's file.
    pub open: usize,
    /// Byte offset of `}` in the directive's file.
    pub close: usize,
    pub children: Vec<Directive>,
}

impl Directive {
    pub fn children(&self) -> &[Directive] {
        self.block
            .as_ref()
            .map(|b| b.children.as_slice())
            .unwrap_or(&[])
    }

    /// Direct children named `name`.
    pub fn all(&self, name: &str) -> Vec<&Directive> {
        self.children().iter().filter(|d| d.name == name).collect()
    }

    /// The last direct child named `name` (nginx keeps the last value of a scalar directive… or
    /// refuses duplicates; either way the last one is what the reader sees last).
    pub fn get(&self, name: &str) -> Option<&Directive> {
        self.children().iter().rev().find(|d| d.name == name)
    }

    pub fn arg(&self, i: usize) -> Option<&str> {
        self.args.get(i).map(|s| s.as_str())
    }

    /// `file:line`, for evidence.
    pub fn location(&self) -> String {
        format!("{}:{}", self.file, self.line)
    }
}

#[derive(Debug, Clone)]
enum Tok {
    Word {
        value: String,
        start: usize,
        end: usize,
        line: usize,
    },
    Semi {
        at: usize,
        line: usize,
    },
    Open {
        at: usize,
        line: usize,
    },
    Close {
        at: usize,
        line: usize,
    },
}

fn unescape(raw: &[u8]) -> String {
    let mut out: Vec<u8> = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        if raw[i] == b'\\' && i + 1 < raw.len() {
            match raw[i + 1] {
                b'"' | b'\'' | b'\\' => {
                    out.push(raw[i + 1]);
                    i += 2;
                    continue;
                }
                b't' => {
                    out.push(b'\t');
                    i += 2;
                    continue;
                }
                b'r' => {
                    out.push(b'\r');
                    i += 2;
                    continue;
                }
                b'n' => {
                    out.push(b'\n');
                    i += 2;
                    continue;
                }
                _ => {}
            }
        }
        out.push(raw[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn tokenize(path: &str, text: &str) -> Result<Vec<Tok>, NginxError> {
    let b = text.as_bytes();
    let err = |line: usize, message: String| NginxError {
        file: path.to_string(),
        line,
        message,
    };
    let mut toks = Vec::new();
    let mut i = 0;
    let mut line = 1;
    while i < b.len() {
        let c = b[i];
        match c {
            b'\n' => {
                line += 1;
                i += 1;
            }
            b' ' | b'\t' | b'\r' => i += 1,
            b'#' => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            b';' => {
                toks.push(Tok::Semi { at: i, line });
                i += 1;
            }
            b'{' => {
                toks.push(Tok::Open { at: i, line });
                i += 1;
            }
            b'}' => {
                toks.push(Tok::Close { at: i, line });
                i += 1;
            }
            b'"' | b'\'' => {
                let (start, start_line) = (i, line);
                i += 1;
                loop {
                    if i >= b.len() {
                        return Err(err(
                            line,
                            "unexpected end of file, expecting \";\" or \"}\"".into(),
                        ));
                    }
                    match b[i] {
                        b'\\' => {
                            if b.get(i + 1) == Some(&b'\n') {
                                line += 1;
                            }
                            i += 2;
                        }
                        b'\n' => {
                            line += 1;
                            i += 1;
                        }
                        q if q == c => break,
                        _ => i += 1,
                    }
                }
                let inner = &b[start + 1..i.min(b.len())];
                i += 1; // closing quote
                toks.push(Tok::Word {
                    value: unescape(inner),
                    start,
                    end: i,
                    line: start_line,
                });
                // After a quoted word nginx wants a separator.
                match b.get(i) {
                    None | Some(b' ' | b'\t' | b'\r' | b'\n' | b';' | b'{' | b')') => {}
                    Some(&other) => {
                        return Err(err(line, format!("unexpected \"{}\"", other as char)));
                    }
                }
            }
            _ => {
                let (start, start_line) = (i, line);
                let mut variable = false;
                while i < b.len() {
                    let ch = b[i];
                    if ch == b'\\' {
                        if b.get(i + 1) == Some(&b'\n') {
                            line += 1;
                        }
                        i += 2;
                        variable = false;
                        continue;
                    }
                    if ch == b'{' && variable {
                        i += 1;
                        continue;
                    }
                    if matches!(ch, b' ' | b'\t' | b'\r' | b'\n' | b';' | b'{') {
                        break;
                    }
                    variable = ch == b'$';
                    i += 1;
                }
                let end = i.min(b.len());
                toks.push(Tok::Word {
                    value: unescape(&b[start..end]),
                    start,
                    end,
                    line: start_line,
                });
            }
        }
    }
    Ok(toks)
}

/// Parses one file's text into its top-level directives.
pub fn parse_file(path: &str, text: &str) -> Result<Vec<Directive>, NginxError> {
    let toks = tokenize(path, text)?;
    let last_line = text.split('\n').count();
    let mut pos = 0;
    let (dirs, _) = parse_block(path, &toks, &mut pos, 0, last_line)?;
    Ok(dirs)
}

fn parse_block(
    path: &str,
    toks: &[Tok],
    pos: &mut usize,
    depth: usize,
    last_line: usize,
) -> Result<(Vec<Directive>, Option<usize>), NginxError> {
    let err = |line: usize, message: &str| NginxError {
        file: path.to_string(),
        line,
        message: message.to_string(),
    };
    let mut out = Vec::new();
    let mut words: Vec<(String, usize, usize, usize)> = Vec::new();
    loop {
        let Some(tok) = toks.get(*pos) else {
            if !words.is_empty() {
                return Err(err(
                    last_line,
                    "unexpected end of file, expecting \";\" or \"}\"",
                ));
            }
            if depth > 0 {
                return Err(err(last_line, "unexpected end of file, expecting \"}\""));
            }
            return Ok((out, None));
        };
        *pos += 1;
        match tok {
            Tok::Word {
                value,
                start,
                end,
                line,
            } => words.push((value.clone(), *start, *end, *line)),
            Tok::Semi { at, line } => {
                if words.is_empty() {
                    return Err(err(*line, "unexpected \";\""));
                }
                out.push(make_directive(
                    path,
                    std::mem::take(&mut words),
                    *at + 1,
                    None,
                ));
            }
            Tok::Open { at, line } => {
                if words.is_empty() {
                    return Err(err(*line, "unexpected \"{\""));
                }
                if depth > 64 {
                    return Err(err(*line, "blocks nested too deeply"));
                }
                let (children, close) = parse_block(path, toks, pos, depth + 1, last_line)?;
                let close = close.unwrap_or(*at);
                let block = Block {
                    open: *at,
                    close,
                    children,
                };
                out.push(make_directive(
                    path,
                    std::mem::take(&mut words),
                    close + 1,
                    Some(block),
                ));
            }
            Tok::Close { at, line } => {
                if !words.is_empty() || depth == 0 {
                    return Err(err(*line, "unexpected \"}\""));
                }
                return Ok((out, Some(*at)));
            }
        }
    }
}

fn make_directive(
    path: &str,
    words: Vec<(String, usize, usize, usize)>,
    end: usize,
    block: Option<Block>,
) -> Directive {
    let mut it = words.into_iter();
    let (name, ns, ne, line) = it.next().unwrap_or_default();
    let rest: Vec<(String, usize, usize, usize)> = it.collect();
    let args_span = match (rest.first(), rest.last()) {
        (Some(f), Some(l)) => Some((f.1, l.2)),
        _ => None,
    };
    Directive {
        name,
        args: rest.into_iter().map(|w| w.0).collect(),
        file: path.to_string(),
        line,
        span: (ns, end),
        name_span: (ns, ne),
        args_span,
        block,
    }
}

// ----- the effective configuration -------------------------------------------------------------

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
    fn build(dump: &NginxDump) -> Result<NginxConfig, NginxError> {
        let mut files = Vec::new();
        for f in &dump.files {
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
        Ok(NginxConfig {
            files,
            root,
            conf_dir,
            unresolved,
        })
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
        self.upstreams().into_iter().find(|u| u.name == name)
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
        let Some((host, port)) = split_host_port(address, 80) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for server in self.servers() {
            for loc in server.locations() {
                let Some(pp) = loc.proxy_pass() else { continue };
                for b in self.backends_of(pp) {
                    if b.port == port && same_host(&b.host, &host) {
                        out.push(ProxyRoute {
                            server: server.index,
                            location: loc.key(),
                            proxy_pass: pp.to_string(),
                            upstream: b.upstream.clone(),
                            directive: loc.directive,
                        });
                        break;
                    }
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

// ----- views -----------------------------------------------------------------------------------

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
    fn of(d: &'a Directive) -> Upstream<'a> {
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
    fn of(d: &'a Directive) -> MapBlock<'a> {
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

fn split_host_port(addr: &str, default_port: u16) -> Option<(String, u16)> {
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

fn same_host(a: &str, b: &str) -> bool {
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

// ----- edits -----------------------------------------------------------------------------------

/// Which block an edit targets, by its place in the effective tree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "target", content = "at", rename_all = "snake_case")]
pub enum Selector {
    /// The top level of one file (e.g. a site file in sites-enabled).
    FileTop(String),
    Http,
    /// The n-th server of the http block ([`NginxConfig::servers`] order).
    Server(usize),
    /// A location of a server, by key (`/websocket`, `= /x`) or bare path.
    Location {
        server: usize,
        location: String,
    },
    Upstream(String),
    /// The map defining this variable.
    Map(String),
}

/// A directive to write: `name args;` or `name args { children }`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NewDirective {
    pub name: String,
    pub args: Vec<String>,
    pub children: Option<Vec<NewDirective>>,
}

impl NewDirective {
    pub fn new<S: Into<String>>(
        name: impl Into<String>,
        args: impl IntoIterator<Item = S>,
    ) -> NewDirective {
        NewDirective {
            name: name.into(),
            args: args.into_iter().map(Into::into).collect(),
            children: None,
        }
    }

    pub fn block<S: Into<String>>(
        name: impl Into<String>,
        args: impl IntoIterator<Item = S>,
        children: Vec<NewDirective>,
    ) -> NewDirective {
        NewDirective {
            name: name.into(),
            args: args.into_iter().map(Into::into).collect(),
            children: Some(children),
        }
    }

    fn head(&self) -> String {
        let mut s = quote_arg(&self.name);
        for a in &self.args {
            s.push(' ');
            s.push_str(&quote_arg(a));
        }
        s
    }

    /// Multi-line rendering; every line starts with `indent`, nested ones get `unit` more.
    fn render(&self, indent: &str, unit: &str, eol: &str) -> String {
        match &self.children {
            None => format!("{indent}{};", self.head()),
            Some(children) => {
                let mut s = format!("{indent}{} {{", self.head());
                let inner = format!("{indent}{unit}");
                for c in children {
                    s.push_str(eol);
                    s.push_str(&c.render(&inner, unit, eol));
                }
                s.push_str(eol);
                s.push_str(indent);
                s.push('}');
                s
            }
        }
    }

    /// One-line rendering for blocks written on one line.
    fn render_inline(&self) -> String {
        match &self.children {
            None => format!("{};", self.head()),
            Some(children) => {
                let inner: Vec<String> = children.iter().map(|c| c.render_inline()).collect();
                if inner.is_empty() {
                    format!("{} {{ }}", self.head())
                } else {
                    format!("{} {{ {} }}", self.head(), inner.join(" "))
                }
            }
        }
    }
}

/// Quotes an argument when nginx would otherwise split or misread it.
pub fn quote_arg(a: &str) -> String {
    let needs = a.is_empty()
        || a.starts_with(['#', '"', '\''])
        || a.chars()
            .any(|c| c.is_whitespace() || matches!(c, ';' | '{' | '}'));
    if !needs {
        return a.to_string();
    }
    let mut s = String::from("\"");
    for c in a.chars() {
        match c {
            '"' => s.push_str("\\\""),
            '\\' => s.push_str("\\\\"),
            _ => s.push(c),
        }
    }
    s.push('"');
    s
}

/// What to do in the selected block.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum EditOp {
    /// Add before the block's closing brace (or at the end of the file for [`Selector::FileTop`]).
    InsertAtEnd { directive: NewDirective },
    /// Add right after the block's opening brace (or at the start of the file).
    InsertAtStart { directive: NewDirective },
    /// Replace the arguments of the direct children named `name` (whose first argument equals
    /// `first_arg`, case-insensitively, when given), or of the selected block itself when `name`
    /// is empty.
    ReplaceArgs {
        name: String,
        first_arg: Option<String>,
        args: Vec<String>,
    },
    /// Remove the direct children named `name` (whose first argument equals `first_arg`,
    /// case-insensitively, when given).
    Remove {
        name: String,
        first_arg: Option<String>,
    },
}

/// One file's text before and after an edit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FileEdit {
    pub path: String,
    pub before: String,
    pub after: String,
}

impl FileEdit {
    /// Unified diff (3 lines of context) with the file's path in the headers.
    pub fn diff(&self) -> String {
        similar::TextDiff::from_lines(&self.before, &self.after)
            .unified_diff()
            .context_radius(3)
            .header(&self.path, &self.path)
            .to_string()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NginxEditError {
    #[error("no block matches {0}")]
    NotFound(String),
    #[error("no directive {0} to change in that block")]
    NoSuchDirective(String),
    #[error("file {0} is not in the dump")]
    UnknownFile(String),
    #[error("the edit would break the syntax of {}: {}", .0.file, .0)]
    WouldBreakSyntax(NginxError),
}

fn line_start(text: &str, pos: usize) -> usize {
    text[..pos].rfind('\n').map(|i| i + 1).unwrap_or(0)
}

/// Index of the line break ending the line containing `pos` (or the text's end).
fn line_end(text: &str, pos: usize) -> usize {
    let e = text[pos..]
        .find('\n')
        .map(|i| pos + i)
        .unwrap_or(text.len());
    if e > pos && text.as_bytes().get(e.wrapping_sub(1)) == Some(&b'\r') && e < text.len() {
        e - 1
    } else {
        e
    }
}

fn eol_len_at(text: &str, pos: usize) -> usize {
    if text[pos..].starts_with("\r\n") {
        2
    } else if text[pos..].starts_with('\n') {
        1
    } else {
        0
    }
}

fn file_eol(text: &str) -> &'static str {
    let crlf = text.matches("\r\n").count();
    let lf = text.matches('\n').count() - crlf;
    if crlf > lf {
        "\r\n"
    } else {
        "\n"
    }
}

fn leading_ws(text: &str, pos: usize) -> &str {
    let ls = line_start(text, pos);
    let line = &text[ls..];
    let n = line.len() - line.trim_start_matches([' ', '\t']).len();
    &line[..n]
}

/// Whitespace before `pos` on its line, when only whitespace precedes it.
fn indent_before(text: &str, pos: usize) -> Option<&str> {
    let ls = line_start(text, pos);
    let before = &text[ls..pos];
    before
        .chars()
        .all(|c| c == ' ' || c == '\t')
        .then_some(before)
}

/// The file's indentation unit: the most common step between a block and its children.
fn indent_unit(text: &str, dirs: &[Directive]) -> String {
    fn walk(text: &str, dirs: &[Directive], parent: &str, counts: &mut BTreeMap<String, usize>) {
        for d in dirs {
            if let Some(ind) = indent_before(text, d.span.0) {
                if let Some(step) = ind.strip_prefix(parent) {
                    if !step.is_empty() {
                        *counts.entry(step.to_string()).or_default() += 1;
                    }
                }
                if let Some(b) = &d.block {
                    walk(text, &b.children, ind, counts);
                }
            }
        }
    }
    let mut counts = BTreeMap::new();
    for d in dirs {
        if let (Some(ind), Some(b)) = (indent_before(text, d.span.0), &d.block) {
            walk(text, &b.children, ind, &mut counts);
        }
    }
    counts
        .into_iter()
        .max_by_key(|(s, n)| (*n, std::cmp::Reverse(s.len())))
        .map(|(s, _)| s)
        .unwrap_or_else(|| {
            if text.lines().any(|l| l.starts_with('\t')) {
                "\t".into()
            } else {
                "    ".into()
            }
        })
}

/// Inserts `new` into `block` (a directive of the file `text`) at its start or end, in the block's
/// own layout: one directive per line with the children's indentation, or inline for blocks
/// written on one line.
pub fn insert_in_block(
    text: &str,
    all: &[Directive],
    block: &Directive,
    at_end: bool,
    new: &NewDirective,
) -> String {
    let eol = file_eol(text);
    let unit = indent_unit(text, all);
    let Some(b) = &block.block else {
        return text.to_string();
    };
    let block_indent =
        indent_before(text, block.span.0).unwrap_or_else(|| leading_ws(text, block.span.0));
    let child_indent = b
        .children
        .iter()
        .filter(|c| c.file == block.file)
        .find_map(|c| indent_before(text, c.span.0))
        .map(str::to_string)
        .unwrap_or_else(|| format!("{block_indent}{unit}"));
    let mut out = String::with_capacity(text.len() + 64);
    if at_end {
        let ls = line_start(text, b.close);
        let closing_alone = text[ls..b.close].chars().all(|c| c == ' ' || c == '\t');
        let opened_here = line_start(text, b.open) == ls;
        if closing_alone && !opened_here {
            out.push_str(&text[..ls]);
            out.push_str(&new.render(&child_indent, &unit, eol));
            out.push_str(eol);
            out.push_str(&text[ls..]);
        } else {
            let before = &text[..b.close];
            out.push_str(before);
            if !before.ends_with([' ', '\t']) {
                out.push(' ');
            }
            out.push_str(&new.render_inline());
            out.push(' ');
            out.push_str(&text[b.close..]);
        }
    } else {
        let le = line_end(text, b.open + 1);
        let rest = text[b.open + 1..le].trim();
        let close_on_line = line_start(text, b.close) == line_start(text, b.open);
        if (rest.is_empty() || rest.starts_with('#')) && !close_on_line {
            let next = le + eol_len_at(text, le);
            out.push_str(&text[..next]);
            if next == le {
                out.push_str(eol);
            }
            out.push_str(&new.render(&child_indent, &unit, eol));
            out.push_str(eol);
            out.push_str(&text[next..]);
        } else {
            out.push_str(&text[..b.open + 1]);
            out.push(' ');
            out.push_str(&new.render_inline());
            if !text[b.open + 1..].starts_with([' ', '\t']) {
                out.push(' ');
            }
            out.push_str(&text[b.open + 1..]);
        }
    }
    out
}

/// Inserts `new` at the top level of a file, at its start or end.
pub fn insert_at_file_top(
    text: &str,
    all: &[Directive],
    at_end: bool,
    new: &NewDirective,
) -> String {
    let eol = file_eol(text);
    let unit = indent_unit(text, all);
    let rendered = new.render("", &unit, eol);
    if at_end {
        let mut out = text.to_string();
        if !out.is_empty() && !out.ends_with('\n') {
            out.push_str(eol);
        }
        let last_line_blank =
            out.trim_end_matches(['\r', '\n']).len() < out.len().saturating_sub(eol.len());
        if new.children.is_some() && !out.trim().is_empty() && !last_line_blank {
            out.push_str(eol);
        }
        out.push_str(&rendered);
        out.push_str(eol);
        out
    } else {
        format!("{rendered}{eol}{text}")
    }
}

/// Replaces a directive's arguments, keeping its name and everything around it.
pub fn replace_args(text: &str, d: &Directive, args: &[String]) -> String {
    let rendered: Vec<String> = args.iter().map(|a| quote_arg(a)).collect();
    let joined = rendered.join(" ");
    match d.args_span {
        Some((s, e)) if !joined.is_empty() => format!("{}{joined}{}", &text[..s], &text[e..]),
        Some((_, e)) => format!("{}{}", &text[..d.name_span.1], &text[e..]),
        None if joined.is_empty() => text.to_string(),
        None => format!(
            "{} {joined}{}",
            &text[..d.name_span.1],
            &text[d.name_span.1..]
        ),
    }
}

/// Removes a directive (a block with all its content). When it stands alone on its lines (a
/// trailing comment counts as its own), the whole lines go; else only the directive and the blanks
/// after it.
pub fn remove_directive(text: &str, d: &Directive) -> String {
    let (s, e) = d.span;
    let ls = line_start(text, s);
    let le = line_end(text, e);
    let before = &text[ls..s];
    let after = text[e..le].trim_start_matches([' ', '\t']);
    if before.chars().all(|c| c == ' ' || c == '\t') && (after.is_empty() || after.starts_with('#'))
    {
        let end = le + eol_len_at(text, le);
        format!("{}{}", &text[..ls], &text[end..])
    } else {
        let skip = text[e..le].len() - text[e..le].trim_start_matches([' ', '\t']).len();
        let end = if after.is_empty() { e } else { e + skip };
        format!("{}{}", &text[..s], &text[end..])
    }
}

impl NginxConfig {
    fn parsed(&self, path: &str) -> Result<&ParsedFile, NginxEditError> {
        self.files
            .iter()
            .find(|f| f.path == path)
            .ok_or_else(|| NginxEditError::UnknownFile(path.into()))
    }

    fn checked(&self, path: &str, before: &str, after: String) -> Result<FileEdit, NginxEditError> {
        parse_file(path, &after).map_err(NginxEditError::WouldBreakSyntax)?;
        Ok(FileEdit {
            path: path.to_string(),
            before: before.to_string(),
            after,
        })
    }

    /// Applies one edit to the block `sel` designates and returns the changed file(s). The
    /// returned texts re-parse (checked); everything outside the edit is byte-identical. Apply
    /// them with [`NginxDump::apply`] and call [`NginxDump::config`] again before the next edit.
    pub fn edit(&self, sel: &Selector, op: &EditOp) -> Result<Vec<FileEdit>, NginxEditError> {
        if let Selector::FileTop(path) = sel {
            let f = self.parsed(path)?;
            let after = match op {
                EditOp::InsertAtEnd { directive } => {
                    insert_at_file_top(&f.text, &f.directives, true, directive)
                }
                EditOp::InsertAtStart { directive } => {
                    insert_at_file_top(&f.text, &f.directives, false, directive)
                }
                EditOp::ReplaceArgs {
                    name,
                    first_arg,
                    args,
                } => {
                    let d = f
                        .directives
                        .iter()
                        .find(|d| matches_name(d, name, first_arg.as_deref()))
                        .ok_or_else(|| NginxEditError::NoSuchDirective(name.clone()))?;
                    replace_args(&f.text, d, args)
                }
                EditOp::Remove { name, first_arg } => {
                    let mut hits: Vec<&Directive> = f
                        .directives
                        .iter()
                        .filter(|d| matches_name(d, name, first_arg.as_deref()))
                        .collect();
                    if hits.is_empty() {
                        return Err(NginxEditError::NoSuchDirective(name.clone()));
                    }
                    hits.sort_by_key(|d| std::cmp::Reverse(d.span.0));
                    hits.iter()
                        .fold(f.text.clone(), |t, d| remove_directive(&t, d))
                }
            };
            return Ok(vec![self.checked(path, &f.text, after)?]);
        }
        let block = self
            .select(sel)
            .ok_or_else(|| NginxEditError::NotFound(format!("{sel:?}")))?;
        match op {
            EditOp::InsertAtEnd { directive } | EditOp::InsertAtStart { directive } => {
                let f = self.parsed(&block.file)?;
                let at_end = matches!(op, EditOp::InsertAtEnd { .. });
                let after = insert_in_block(&f.text, &f.directives, block, at_end, directive);
                Ok(vec![self.checked(&f.path, &f.text, after)?])
            }
            EditOp::ReplaceArgs {
                name,
                first_arg,
                args,
            } => {
                let targets: Vec<&Directive> = if name.is_empty() {
                    vec![block]
                } else {
                    block
                        .children()
                        .iter()
                        .filter(|d| matches_name(d, name, first_arg.as_deref()))
                        .collect()
                };
                if targets.is_empty() {
                    return Err(NginxEditError::NoSuchDirective(name.clone()));
                }
                self.per_file(&targets, |text, d| replace_args(text, d, args))
            }
            EditOp::Remove { name, first_arg } => {
                let targets: Vec<&Directive> = block
                    .children()
                    .iter()
                    .filter(|d| matches_name(d, name, first_arg.as_deref()))
                    .collect();
                if targets.is_empty() {
                    return Err(NginxEditError::NoSuchDirective(name.clone()));
                }
                self.per_file(&targets, remove_directive)
            }
        }
    }

    /// Applies a per-directive text change, grouped by file, last directive first so earlier
    /// spans stay valid.
    fn per_file(
        &self,
        targets: &[&Directive],
        f: impl Fn(&str, &Directive) -> String,
    ) -> Result<Vec<FileEdit>, NginxEditError> {
        let mut by_file: BTreeMap<&str, Vec<&Directive>> = BTreeMap::new();
        for d in targets {
            by_file.entry(d.file.as_str()).or_default().push(d);
        }
        let mut out = Vec::new();
        for (path, mut ds) in by_file {
            let file = self.parsed(path)?;
            ds.sort_by_key(|d| std::cmp::Reverse(d.span.0));
            ds.dedup_by_key(|d| d.span);
            let after = ds.iter().fold(file.text.clone(), |t, d| f(&t, d));
            out.push(self.checked(path, &file.text, after)?);
        }
        Ok(out)
    }
}

fn matches_name(d: &Directive, name: &str, first_arg: Option<&str>) -> bool {
    d.name == name
        && match first_arg {
            None => true,
            Some(a) => d.arg(0).is_some_and(|x| x.eq_ignore_ascii_case(a)),
        }
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

    #[test]
    fn durations() {
        assert_eq!(parse_duration("720s"), Some(Duration::from_secs(720)));
        assert_eq!(parse_duration("1h 30m"), Some(Duration::from_secs(5400)));
        assert_eq!(parse_duration("60"), Some(Duration::from_secs(60)));
        assert_eq!(parse_duration("500ms"), Some(Duration::from_millis(500)));
        assert_eq!(parse_duration("12x"), None);
    }

    #[test]
    fn tokenizer_edge_cases() {
        let t = "a \"x\\\"y\" 'b c' ${v}w d} e#f \\; g;";
        let d = parse_file("t", t).unwrap();
        assert_eq!(d[0].name, "a");
        assert_eq!(
            d[0].args,
            vec!["x\"y", "b c", "${v}w", "d}", "e#f", "\\;", "g"]
        );
        assert!(parse_file("t", "a \"x\"y;").is_err());
        assert!(parse_file("t", "a { b; ").is_err());
        assert!(parse_file("t", "}").is_err());
        assert!(parse_file("t", "; a;").is_err());
        assert!(parse_file("t", "a \"unterminated;").is_err());
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
