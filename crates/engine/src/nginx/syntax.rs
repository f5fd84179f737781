//! One file's syntax, with nginx's own tokenizer rules (see the module above): directives and
//! blocks that remember their file, line and byte spans.

use serde::Serialize;

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
pub(super) enum Tok {
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
    scan(path, text, true).map(|(toks, _)| toks)
}

/// Tokens, and the byte ranges of comments.
pub(super) type Scanned = (Vec<Tok>, Vec<(usize, usize)>);

/// The tokens of `text` and the byte ranges of its comments (from `#` to the end of the line).
/// `strict` stops at the first syntax error like nginx; otherwise the scan goes on to the end (an
/// unterminated quote runs to the end of the text), for reading what a broken file says.
pub(super) fn scan(path: &str, text: &str, strict: bool) -> Result<Scanned, NginxError> {
    let b = text.as_bytes();
    let err = |line: usize, message: String| NginxError {
        file: path.to_string(),
        line,
        message,
    };
    let mut toks = Vec::new();
    let mut comments = Vec::new();
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
                let start = i;
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
                comments.push((start, i));
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
                        if !strict {
                            break;
                        }
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
                i = (i + 1).min(b.len()); // closing quote
                toks.push(Tok::Word {
                    value: unescape(inner),
                    start,
                    end: i,
                    line: start_line,
                });
                // After a quoted word nginx wants a separator.
                match b.get(i) {
                    None | Some(b' ' | b'\t' | b'\r' | b'\n' | b';' | b'{' | b')') => {}
                    Some(&other) if strict => {
                        return Err(err(line, format!("unexpected \"{}\"", other as char)));
                    }
                    Some(_) => {}
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
    Ok((toks, comments))
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
