//! A small reader for OpenSSH client config files (`~/.ssh/config`), enough to resolve a `Host`
//! alias the way `ssh` does: `HostName`, `User`, `Port`, `IdentityFile`.
//!
//! Semantics follow ssh_config(5): the file is read top to bottom; for each keyword the **first**
//! value obtained wins (so `Host *` defaults go last), except `IdentityFile`, which accumulates.
//! `Host` lines take several patterns with `*` and `?` wildcards and `!` negation; `Include`
//! (with `~`, relative paths under `~/.ssh/`, and globs in the file name) is followed, also
//! inside a `Host` block (conditional inclusion). `Match` blocks are not evaluated: their
//! contents are skipped. Keywords we do not use are ignored; ones that change how to reach the
//! host and that we do not support (`ProxyJump`, `ProxyCommand`) are reported in
//! [`HostConfig::unsupported`] so the caller can warn.
//!
//! Why our own: the crates that parse this format are young 0.x releases with changing APIs, and
//! the part we need is about two hundred lines that are easy to test on fixture files.

use std::path::{Path, PathBuf};

use crate::RemoteError;

/// What the config says about one host name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HostConfig {
    pub hostname: Option<String>,
    pub user: Option<String>,
    pub port: Option<u16>,
    /// In order of appearance, `~` and `%d %u %h %r %%` expanded.
    pub identity_files: Vec<PathBuf>,
    /// Keywords present for this host that we cannot honour (e.g. `ProxyJump`).
    pub unsupported: Vec<String>,
}

/// A parsed config file (includes already inlined).
#[derive(Debug, Clone, Default)]
pub struct SshConfig {
    lines: Vec<Directive>,
}

#[derive(Debug, Clone)]
enum Directive {
    Host(Vec<String>),
    Match,
    Set {
        key: String,
        value: String,
        path: PathBuf,
        line: usize,
    },
}

/// Where `~` and relative `Include`s point.
#[derive(Debug, Clone)]
pub struct Context {
    pub home: PathBuf,
    pub local_user: String,
}

impl Context {
    pub fn from_env() -> Self {
        Context {
            home: dirs::home_dir().unwrap_or_else(|| PathBuf::from("/")),
            local_user: crate::target::local_user(),
        }
    }
}

const MAX_INCLUDE_DEPTH: usize = 16;

impl SshConfig {
    /// Reads a config file; a missing file is an empty config.
    pub fn load(path: &Path, ctx: &Context) -> Result<SshConfig, RemoteError> {
        let mut config = SshConfig::default();
        config.read_file(path, ctx, 0, false)?;
        Ok(config)
    }

    /// Parses config text (tests, or a config held in memory). `path` names it in errors and
    /// anchors nothing: relative includes resolve under `~/.ssh/`, as in ssh.
    pub fn parse(text: &str, path: &Path, ctx: &Context) -> Result<SshConfig, RemoteError> {
        let mut config = SshConfig::default();
        config.read_text(text, path, ctx, 0)?;
        Ok(config)
    }

    fn read_file(
        &mut self,
        path: &Path,
        ctx: &Context,
        depth: usize,
        missing_ok_silently: bool,
    ) -> Result<(), RemoteError> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let _ = missing_ok_silently;
                return Ok(());
            }
            Err(e) => {
                return Err(RemoteError::SshConfig {
                    path: path.to_path_buf(),
                    line: 0,
                    reason: e.to_string(),
                })
            }
        };
        self.read_text(&text, path, ctx, depth)
    }

    fn read_text(
        &mut self,
        text: &str,
        path: &Path,
        ctx: &Context,
        depth: usize,
    ) -> Result<(), RemoteError> {
        for (index, raw) in text.lines().enumerate() {
            let line_no = index + 1;
            let Some((key, args)) = split_line(raw) else {
                continue;
            };
            let bad = |reason: String| RemoteError::SshConfig {
                path: path.to_path_buf(),
                line: line_no,
                reason,
            };
            match key.as_str() {
                "host" => {
                    if args.is_empty() {
                        return Err(bad("`Host` needs at least one pattern".into()));
                    }
                    self.lines.push(Directive::Host(args));
                }
                "match" => self.lines.push(Directive::Match),
                "include" => {
                    if depth >= MAX_INCLUDE_DEPTH {
                        return Err(bad("too many nested `Include`s".into()));
                    }
                    for arg in args {
                        for file in expand_include(&arg, ctx) {
                            self.read_file(&file, ctx, depth + 1, true)?;
                        }
                    }
                }
                _ => {
                    let Some(value) = args.into_iter().next() else {
                        return Err(bad(format!("`{key}` has no value")));
                    };
                    self.lines.push(Directive::Set {
                        key,
                        value,
                        path: path.to_path_buf(),
                        line: line_no,
                    });
                }
            }
        }
        Ok(())
    }

    /// The host names `Host` lines give literally (no `*`/`?` wildcards, no `!` negations), in
    /// file order, each once: the aliases a person can connect to (a fleet's "ssh config" hosts).
    pub fn aliases(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for d in &self.lines {
            if let Directive::Host(patterns) = d {
                for p in patterns {
                    if !p.contains(['*', '?', '!']) && !out.contains(p) {
                        out.push(p.clone());
                    }
                }
            }
        }
        out
    }

    /// What applies to `host` (the name as typed: an alias or a real host name).
    pub fn resolve(&self, host: &str, ctx: &Context) -> Result<HostConfig, RemoteError> {
        let mut out = HostConfig::default();
        let mut active = true; // lines before the first Host apply to every host
        let mut identity_raw: Vec<String> = Vec::new();
        for directive in &self.lines {
            match directive {
                Directive::Host(patterns) => active = host_matches(host, patterns),
                Directive::Match => active = false,
                Directive::Set {
                    key,
                    value,
                    path,
                    line,
                } if active => match key.as_str() {
                    "hostname" if out.hostname.is_none() => out.hostname = Some(value.clone()),
                    "user" if out.user.is_none() => out.user = Some(value.clone()),
                    "port" if out.port.is_none() => {
                        let port =
                            value
                                .parse::<u16>()
                                .ok()
                                .filter(|p| *p != 0)
                                .ok_or_else(|| RemoteError::SshConfig {
                                    path: path.clone(),
                                    line: *line,
                                    reason: format!("`Port {value}` is not a port number"),
                                })?;
                        out.port = Some(port);
                    }
                    "identityfile" if !identity_raw.contains(value) => {
                        identity_raw.push(value.clone())
                    }
                    "proxyjump" | "proxycommand"
                        if !value.eq_ignore_ascii_case("none")
                            && !out.unsupported.iter().any(|u| u.eq_ignore_ascii_case(key)) =>
                    {
                        out.unsupported.push(canonical_key(key).to_string());
                    }
                    _ => {}
                },
                Directive::Set { .. } => {}
            }
        }
        if let Some(name) = &out.hostname {
            out.hostname = Some(expand_tokens(name, host, None, ctx));
        }
        let remote_user = out.user.clone().unwrap_or_else(|| ctx.local_user.clone());
        out.identity_files = identity_raw
            .iter()
            .filter(|v| !v.eq_ignore_ascii_case("none"))
            .map(|v| {
                PathBuf::from(expand_tilde(
                    &expand_tokens(v, host, Some(&remote_user), ctx),
                    ctx,
                ))
            })
            .collect();
        Ok(out)
    }
}

fn canonical_key(key: &str) -> &'static str {
    match key {
        "proxyjump" => "ProxyJump",
        "proxycommand" => "ProxyCommand",
        _ => "?",
    }
}

/// Splits a config line into a lower-case keyword and its arguments (quotes removed).
/// `Key value`, `Key=value` and `Key = value` are all accepted. Comments and blanks give `None`.
fn split_line(raw: &str) -> Option<(String, Vec<String>)> {
    let line = raw.trim();
    if line.is_empty() || line.starts_with('#') {
        return None;
    }
    let key_end = line
        .find(|c: char| c.is_whitespace() || c == '=')
        .unwrap_or(line.len());
    let key = line[..key_end].to_ascii_lowercase();
    let mut rest = line[key_end..].trim_start();
    if let Some(r) = rest.strip_prefix('=') {
        rest = r.trim_start();
    }
    Some((key, split_args(rest)))
}

/// Whitespace-separated words; double quotes group words with spaces.
fn split_args(s: &str) -> Vec<String> {
    let mut args = Vec::new();
    let mut cur = String::new();
    let mut in_quotes = false;
    let mut has = false;
    for c in s.chars() {
        match c {
            '"' => {
                in_quotes = !in_quotes;
                has = true;
            }
            c if c.is_whitespace() && !in_quotes => {
                if has {
                    args.push(std::mem::take(&mut cur));
                    has = false;
                }
            }
            c => {
                cur.push(c);
                has = true;
            }
        }
    }
    if has {
        args.push(cur);
    }
    args
}

/// ssh's rule: a host matches a `Host` line when some pattern matches it and no negated one does.
pub fn host_matches(host: &str, patterns: &[String]) -> bool {
    let mut matched = false;
    for pattern in patterns {
        if let Some(negated) = pattern.strip_prefix('!') {
            if wildcard_match(negated, host) {
                return false;
            }
        } else if wildcard_match(pattern, host) {
            matched = true;
        }
    }
    matched
}

/// `*` any run, `?` one character; ASCII case-insensitive like ssh's host matching.
pub fn wildcard_match(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.to_ascii_lowercase().chars().collect();
    let t: Vec<char> = text.to_ascii_lowercase().chars().collect();
    let (mut pi, mut ti) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == '*' {
        pi += 1;
    }
    pi == p.len()
}

fn expand_tokens(value: &str, host: &str, remote_user: Option<&str>, ctx: &Context) -> String {
    let mut out = String::new();
    let mut chars = value.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('%') => out.push('%'),
            Some('h') => out.push_str(host),
            Some('d') => out.push_str(&ctx.home.to_string_lossy()),
            Some('u') => out.push_str(&ctx.local_user),
            Some('r') => out.push_str(remote_user.unwrap_or(&ctx.local_user)),
            Some(other) => {
                out.push('%');
                out.push(other);
            }
            None => out.push('%'),
        }
    }
    out
}

/// `~` and `~/x` become the home directory.
pub fn expand_tilde(value: &str, ctx: &Context) -> String {
    if value == "~" {
        ctx.home.to_string_lossy().into_owned()
    } else if let Some(rest) = value.strip_prefix("~/") {
        ctx.home.join(rest).to_string_lossy().into_owned()
    } else {
        value.to_string()
    }
}

/// Files an `Include` argument names: absolute, `~/...`, or relative to `~/.ssh/`; a glob in the
/// last component is expanded (sorted, like glob(3)).
fn expand_include(arg: &str, ctx: &Context) -> Vec<PathBuf> {
    let expanded = expand_tilde(arg, ctx);
    let path = if Path::new(&expanded).is_absolute() {
        PathBuf::from(expanded)
    } else {
        ctx.home.join(".ssh").join(expanded)
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    if !name.contains(['*', '?']) {
        return vec![path];
    }
    let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let mut found: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok())
                .filter(|e| {
                    let n = e.file_name().to_string_lossy().into_owned();
                    // Globs do not match dot files unless the pattern starts with a dot.
                    (!n.starts_with('.') || name.starts_with('.')) && glob_match_case(&name, &n)
                })
                .map(|e| e.path())
                .filter(|p| p.is_file())
                .collect()
        })
        .unwrap_or_default();
    found.sort();
    found
}

/// Glob match for file names: `*` and `?`, case-sensitive.
fn glob_match_case(pattern: &str, text: &str) -> bool {
    fn rec(p: &[char], t: &[char]) -> bool {
        match p.first() {
            None => t.is_empty(),
            Some('*') => (0..=t.len()).any(|i| rec(&p[1..], &t[i..])),
            Some('?') => !t.is_empty() && rec(&p[1..], &t[1..]),
            Some(c) => t.first() == Some(c) && rec(&p[1..], &t[1..]),
        }
    }
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    rec(&p, &t)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx() -> Context {
        Context {
            home: PathBuf::from("/home/ana"),
            local_user: "ana".into(),
        }
    }

    fn resolve(text: &str, host: &str) -> HostConfig {
        SshConfig::parse(text, Path::new("fixture"), &ctx())
            .unwrap()
            .resolve(host, &ctx())
            .unwrap()
    }

    const FIXTURE: &str = r#"
# A typical config: specific hosts first, defaults last.
Host prod odoo-prod
    HostName 10.0.0.5
    User deploy
    Port 2222
    IdentityFile ~/.ssh/prod_ed25519

Host staging
  HostName=staging.example.com
  IdentityFile "~/.ssh/key with space"

Host *.internal !bastion.internal
    User ops
    Port 2200

Host web-??
    HostName %h.example.com

Host *
    User fallback
    IdentityFile ~/.ssh/id_ed25519
    ServerAliveInterval 30
"#;

    #[test]
    fn alias_takes_hostname_user_port_and_identity() {
        let c = resolve(FIXTURE, "prod");
        assert_eq!(c.hostname.as_deref(), Some("10.0.0.5"));
        assert_eq!(c.user.as_deref(), Some("deploy"));
        assert_eq!(c.port, Some(2222));
        assert_eq!(
            c.identity_files,
            vec![
                PathBuf::from("/home/ana/.ssh/prod_ed25519"),
                PathBuf::from("/home/ana/.ssh/id_ed25519")
            ]
        );
        assert_eq!(
            resolve(FIXTURE, "odoo-prod").hostname.as_deref(),
            Some("10.0.0.5")
        );
    }

    #[test]
    fn host_star_supplies_defaults_only_for_what_is_unset() {
        let c = resolve(FIXTURE, "staging");
        assert_eq!(c.hostname.as_deref(), Some("staging.example.com"));
        assert_eq!(c.user.as_deref(), Some("fallback"));
        assert_eq!(c.port, None);
        assert_eq!(
            c.identity_files[0],
            PathBuf::from("/home/ana/.ssh/key with space")
        );
    }

    #[test]
    fn wildcards_and_negation() {
        let c = resolve(FIXTURE, "db.internal");
        assert_eq!((c.user.as_deref(), c.port), (Some("ops"), Some(2200)));
        let b = resolve(FIXTURE, "bastion.internal");
        assert_eq!((b.user.as_deref(), b.port), (Some("fallback"), None));
        assert_eq!(
            resolve(FIXTURE, "web-01").hostname.as_deref(),
            Some("web-01.example.com")
        );
        assert_eq!(resolve(FIXTURE, "web-001").hostname, None);
    }

    #[test]
    fn unknown_host_gets_only_star() {
        let c = resolve(FIXTURE, "10.1.1.1");
        assert_eq!(c.hostname, None);
        assert_eq!(c.user.as_deref(), Some("fallback"));
    }

    #[test]
    fn first_value_wins_and_keywords_are_case_insensitive() {
        let c = resolve(
            "HOST a\n  user one\n  USER two\nhost *\n  User three\n",
            "A",
        );
        assert_eq!(c.user.as_deref(), Some("one"));
    }

    #[test]
    fn lines_before_any_host_apply_to_all() {
        let c = resolve("User early\nHost x\n User late\n", "x");
        assert_eq!(c.user.as_deref(), Some("early"));
    }

    #[test]
    fn match_blocks_are_skipped() {
        let c = resolve("Match host x\n  User m\nHost x\n  User h\n", "x");
        assert_eq!(c.user.as_deref(), Some("h"));
    }

    #[test]
    fn proxy_jump_is_reported() {
        let c = resolve("Host x\n ProxyJump bastion\n", "x");
        assert_eq!(c.unsupported, vec!["ProxyJump".to_string()]);
        assert!(resolve("Host x\n ProxyCommand none\n", "x")
            .unsupported
            .is_empty());
    }

    #[test]
    fn tokens_expand_in_identity_file() {
        let c = resolve("Host x\n User bob\n IdentityFile %d/keys/%r@%h\n", "x");
        assert_eq!(
            c.identity_files,
            vec![PathBuf::from("/home/ana/keys/bob@x")]
        );
        assert!(resolve("Host x\n IdentityFile none\n", "x")
            .identity_files
            .is_empty());
    }

    #[test]
    fn bad_port_is_an_error_with_line() {
        let cfg = SshConfig::parse("Host x\n  Port nope\n", Path::new("cfg"), &ctx()).unwrap();
        let err = cfg.resolve("x", &ctx()).unwrap_err();
        assert!(
            matches!(err, RemoteError::SshConfig { line: 2, .. }),
            "{err}"
        );
        // Not evaluated for other hosts.
        assert!(cfg.resolve("y", &ctx()).is_ok());
    }

    #[test]
    fn include_with_glob_is_followed() {
        let dir = tempfile::tempdir().unwrap();
        let ssh = dir.path().join(".ssh");
        std::fs::create_dir_all(ssh.join("config.d")).unwrap();
        std::fs::write(
            ssh.join("config.d/10-a.conf"),
            "Host a\n  HostName a.example\n",
        )
        .unwrap();
        std::fs::write(
            ssh.join("config.d/20-b.conf"),
            "Host b\n  HostName b.example\n",
        )
        .unwrap();
        std::fs::write(ssh.join("config.d/.hidden"), "Host a\n  HostName wrong\n").unwrap();
        std::fs::write(
            ssh.join("config"),
            "Include config.d/*\nHost *\n  User star\n",
        )
        .unwrap();
        let ctx = Context {
            home: dir.path().to_path_buf(),
            local_user: "ana".into(),
        };
        let cfg = SshConfig::load(&ssh.join("config"), &ctx).unwrap();
        let a = cfg.resolve("a", &ctx).unwrap();
        assert_eq!(a.hostname.as_deref(), Some("a.example"));
        assert_eq!(a.user.as_deref(), Some("star"));
        assert_eq!(
            cfg.resolve("b", &ctx).unwrap().hostname.as_deref(),
            Some("b.example")
        );
    }

    #[test]
    fn missing_file_is_empty_config() {
        let cfg = SshConfig::load(Path::new("/nonexistent/config"), &ctx()).unwrap();
        assert_eq!(cfg.resolve("x", &ctx()).unwrap(), HostConfig::default());
    }

    #[test]
    fn wildcard_matcher() {
        assert!(wildcard_match("*", ""));
        assert!(wildcard_match("a*c", "abbbc"));
        assert!(wildcard_match("A?C", "abc"));
        assert!(!wildcard_match("a*c", "abcd"));
        assert!(wildcard_match("*.example.com", "x.example.com"));
        assert!(!wildcard_match("*.example.com", "example.com"));
        assert!(glob_match_case("*.conf", "A.conf"));
        assert!(!glob_match_case("*.Conf", "a.conf"));
    }

    #[test]
    fn aliases_are_the_literal_host_names_without_wildcards() {
        let text = "Host prod odoo-prod\n  HostName 10.0.0.5\nHost *.example.com staging !bad\n  User x\nHost prod\n  Port 2\nMatch all\n  User y\nHost *\n  User z\n";
        let cfg = SshConfig::parse(text, Path::new("fixture"), &ctx()).unwrap();
        assert_eq!(cfg.aliases(), ["prod", "odoo-prod", "staging"]);
    }
}
