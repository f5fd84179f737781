//! Secrets out of an `nginx -T` dump before it becomes facts: a facts document travels (an admin
//! sends it to a consultant), so it must not carry a credential.
//!
//! Replaced by `<redacted>`, in directives and in comments alike (a commented-out line often keeps
//! an old credential):
//! - the value of a header or parameter whose name looks secret (`Authorization`,
//!   `Proxy-Authorization`, `Cookie`, any name with `auth`, `token`, `secret`, `passw`,
//!   `credential`, `apikey`, or a `key` part) set by `proxy_set_header`, `grpc_set_header`,
//!   `add_header`, `add_trailer`, `fastcgi_param`, `uwsgi_param`, `scgi_param`,
//!   `more_set_headers` or `more_set_input_headers`, unless the value is only variables
//!   (`$http_authorization` passes a header on, it holds no secret);
//! - the value of `set $variable …` when the variable's name looks secret;
//! - the expressions of `secure_link_secret` and `secure_link_md5` (they embed the secret);
//! - keys written inline (`ssl_certificate_key data:…` and the like);
//! - the password of a URL with credentials (`https://user:password@host`), in any argument.
//!
//! Everything else stays byte-identical, and a replaced value keeps its quotes and its line
//! breaks, so the redacted dump parses (or fails) exactly as the real one and every `file:line`
//! still points at the real file. Redacting twice gives the same text. Not recognised: secrets in
//! `map` entries or under harmless-looking names.

use std::ops::Range;

use super::dump::file_spans;
use super::syntax::{scan, Tok};

/// What a secret value becomes.
pub const REDACTED: &str = "<redacted>";

/// Directives whose first argument names a header or parameter and second sets its value.
const NAME_VALUE: &[&str] = &[
    "proxy_set_header",
    "grpc_set_header",
    "add_header",
    "add_trailer",
    "fastcgi_param",
    "uwsgi_param",
    "scgi_param",
];

/// Directives whose arguments are `Name: value` headers (headers-more module).
const HEADER_LINES: &[&str] = &["more_set_headers", "more_set_input_headers"];

/// `nginx -T` output with secrets redacted, and the paths of the files that had any.
pub fn redact_dump(t_output: &str) -> (String, Vec<String>) {
    let mut out = String::with_capacity(t_output.len());
    let mut files = Vec::new();
    let mut pos = 0;
    for (path, range) in file_spans(t_output) {
        out.push_str(&t_output[pos..range.start]);
        let (text, found) = redact_file(&t_output[range.clone()]);
        out.push_str(&text);
        if found {
            files.push(path);
        }
        pos = range.end;
    }
    out.push_str(&t_output[pos..]);
    (out, files)
}

/// One file's text with secrets redacted, and whether it had any.
pub fn redact_file(text: &str) -> (String, bool) {
    let (mut edits, comments) = secrets_in(text, 0);
    for (start, end) in comments {
        // What follows `#` read as directives: `# proxy_set_header Authorization "Basic …";`.
        edits.extend(secrets_in(&text[start + 1..end], start + 1).0);
    }
    if edits.is_empty() {
        return (text.to_string(), false);
    }
    edits.sort_by_key(|(r, _)| std::cmp::Reverse(r.start));
    let mut out = text.to_string();
    for (range, replacement) in edits {
        out.replace_range(range, &replacement);
    }
    (out, true)
}

/// Byte ranges to replace, and their replacements.
type Edits = Vec<(Range<usize>, String)>;

/// The words of `text` to replace (byte ranges shifted by `offset`), and the comments of `text`.
fn secrets_in(text: &str, offset: usize) -> (Edits, Vec<(usize, usize)>) {
    // Lenient: the scan goes on past syntax errors.
    let (toks, comments) = scan("", text, false).unwrap_or_default();
    let mut out = Vec::new();
    let mut words: Vec<(String, usize, usize)> = Vec::new();
    let mut statement = |words: &mut Vec<(String, usize, usize)>| {
        for (i, value) in secret_values(words) {
            let (_, start, end) = &words[i];
            let raw = &text[*start..*end];
            out.push((offset + start..offset + end, rewrite(raw, &value)));
        }
        words.clear();
    };
    for tok in toks {
        match tok {
            Tok::Word {
                value, start, end, ..
            } => words.push((value, start, end)),
            Tok::Semi { .. } | Tok::Open { .. } | Tok::Close { .. } => statement(&mut words),
        }
    }
    statement(&mut words);
    (out, comments)
}

/// In one statement (name then arguments): which arguments are secret, and their redacted value.
fn secret_values(words: &[(String, usize, usize)]) -> Vec<(usize, String)> {
    let Some((name, _, _)) = words.first() else {
        return Vec::new();
    };
    let arg = |i: usize| words.get(i).map(|w| w.0.as_str());
    let mut out: Vec<(usize, String)> = Vec::new();
    let name = name.as_str();
    if NAME_VALUE.contains(&name) || name == "set" {
        if let (Some(key), Some(value)) = (arg(1), arg(2)) {
            if secret_name(key) && has_literal(value) {
                out.push((2, REDACTED.into()));
            }
        }
    } else if HEADER_LINES.contains(&name) {
        for (i, (value, _, _)) in words.iter().enumerate().skip(1) {
            if let Some((header, v)) = value.split_once(':') {
                if secret_name(header) && has_literal(v) {
                    out.push((i, format!("{header}: {REDACTED}")));
                }
            }
        }
    } else if name == "secure_link_secret" || name == "secure_link_md5" {
        if arg(1).is_some() {
            out.push((1, REDACTED.into()));
        }
    } else if name.ends_with("_key") || name.contains("password") {
        for (i, (value, _, _)) in words.iter().enumerate().skip(1) {
            if value.starts_with("data:") {
                out.push((i, format!("data:{REDACTED}")));
            }
        }
    }
    for (i, (value, _, _)) in words.iter().enumerate().skip(1) {
        if out.iter().any(|(j, _)| *j == i) {
            continue;
        }
        if let Some(hidden) = url_without_password(value) {
            out.push((i, hidden));
        }
    }
    out
}

/// A header, parameter or variable name that looks like it holds a secret.
fn secret_name(name: &str) -> bool {
    let n = name.trim().trim_start_matches('$').to_ascii_lowercase();
    [
        "auth",
        "token",
        "secret",
        "passw",
        "credential",
        "apikey",
        "cookie",
    ]
    .iter()
    .any(|w| n.contains(w))
        || n.split(['-', '_']).any(|part| part == "key")
}

/// Whether a value has text of its own besides `$variables` (`Basic $b64` does, `$http_x` not).
fn has_literal(value: &str) -> bool {
    let b = value.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'$' {
            i += 1;
            if b.get(i) == Some(&b'{') {
                while i < b.len() && b[i] != b'}' {
                    i += 1;
                }
                i += 1;
            } else {
                while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                    i += 1;
                }
            }
        } else if b[i].is_ascii_whitespace() {
            i += 1;
        } else {
            return true;
        }
    }
    false
}

/// `scheme://user:password@host…` with the password redacted; `None` when there is none.
fn url_without_password(value: &str) -> Option<String> {
    let (scheme, rest) = value.split_once("://")?;
    let authority = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
    let (userinfo, _) = authority.rsplit_once('@')?;
    let (user, _) = userinfo.split_once(':')?;
    let host_and_path = &rest[userinfo.len()..];
    Some(format!("{scheme}://{user}:{REDACTED}{host_and_path}"))
}

/// The raw text of a word that reads as `value`: bare when nginx reads it so and the original
/// was bare, else quoted like the original, with the original's line breaks kept inside the
/// quotes so the following lines keep their numbers.
fn rewrite(raw: &str, value: &str) -> String {
    let newlines = raw.matches('\n').count();
    let quote = match raw.as_bytes().first() {
        Some(q @ (b'"' | b'\'')) => Some(*q as char),
        _ => None,
    };
    let plain = value
        .chars()
        .all(|c| !c.is_whitespace() && !matches!(c, ';' | '{' | '}' | '"' | '\'' | '\\' | '#'));
    if quote.is_none() && newlines == 0 && plain {
        return value.to_string();
    }
    let q = quote.unwrap_or('"');
    let mut s = String::from(q);
    for c in value.chars() {
        if c == q || c == '\\' {
            s.push('\\');
        }
        s.push(c);
    }
    s.extend(std::iter::repeat_n('\n', newlines));
    s.push(q);
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nginx::NginxDump;

    fn redact(text: &str) -> String {
        redact_file(text).0
    }

    #[test]
    fn header_values_that_look_secret() {
        let t = "location / {\n    proxy_set_header Authorization \"Basic b2RvbzpzM2NyZXQ=\";\n    proxy_set_header X-Forwarded-Host $http_host;\n    proxy_set_header Proxy-Authorization $http_proxy_authorization;\n    proxy_set_header X-Api-Key 0123abcd;\n    add_header X-Frame-Options SAMEORIGIN always;\n}\n";
        let r = redact(t);
        assert!(
            !r.contains("b2RvbzpzM2NyZXQ=") && !r.contains("0123abcd"),
            "{r}"
        );
        assert!(
            r.contains("proxy_set_header Authorization \"<redacted>\";"),
            "{r}"
        );
        assert!(r.contains("proxy_set_header X-Api-Key <redacted>;"), "{r}");
        // Variables only pass a header on; other headers are no secret.
        assert!(r.contains("$http_proxy_authorization;") && r.contains("SAMEORIGIN always;"));
        assert_eq!(r.lines().count(), t.lines().count());
    }

    #[test]
    fn comments_sets_links_keys_and_header_lines() {
        let t = "#proxy_set_header Authorization \"Bearer abc.def\";\nset $api_token s3cr3t;\nsecure_link_md5 \"$uri topsecret\";\nreturn 301 https://admin:hunter2@example.com/x;\nssl_certificate_key data:-----BEGIN-KEY-----;\nmore_set_input_headers \"Authorization: Basic Zm9vOmJhcg==\" \"X-Real: 1\";\n";
        let r = redact(t);
        for secret in [
            "abc.def",
            "s3cr3t",
            "topsecret",
            "hunter2",
            "BEGIN-KEY",
            "Zm9vOmJhcg==",
        ] {
            assert!(!r.contains(secret), "{secret} in {r}");
        }
        assert!(r.contains("https://admin:<redacted>@example.com/x;"), "{r}");
        assert!(
            r.contains("\"Authorization: <redacted>\" \"X-Real: 1\""),
            "{r}"
        );
    }

    #[test]
    fn line_numbers_parse_and_a_second_pass_are_kept() {
        let t = "http {\n  server {\n    proxy_set_header Cookie \"session_id=abc\nmore\";\n    listen 80;\n  }\n}\n";
        let r = redact(t);
        assert!(!r.contains("session_id=abc"), "{r}");
        let dirs = crate::nginx::parse_file("f", &r).unwrap();
        assert_eq!(dirs[0].children()[0].get("listen").unwrap().line, 5);
        assert_eq!(redact(&r), r, "redacting twice changes nothing");
        assert!(
            redact_file(&r).1,
            "a redacted file still says it had secrets"
        );
    }

    #[test]
    fn a_dump_keeps_its_layout_and_broken_files_stay_broken() {
        let dump = "nginx: the configuration file /etc/nginx/nginx.conf syntax is ok\n# configuration file /etc/nginx/nginx.conf:\nhttp { include /etc/nginx/conf.d/*.conf; }\n\n# configuration file /etc/nginx/conf.d/odoo.conf:\nserver { proxy_set_header Authorization \"Basic x\"y; }\n\n";
        let (r, files) = redact_dump(dump);
        assert_eq!(files, ["/etc/nginx/conf.d/odoo.conf"]);
        assert!(!r.contains("Basic x"), "{r}");
        let before = NginxDump::parse(dump).config().unwrap_err();
        let after = NginxDump::parse(&r).config().unwrap_err();
        assert_eq!((before.file, before.line), (after.file, after.line));
        assert_eq!(r.replace("\"<redacted>\"y", "\"Basic x\"y"), dump);
    }
}
