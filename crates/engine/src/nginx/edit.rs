//! Edits of one file's text at a block of the effective tree, keeping every byte outside the edit
//! and the file's own layout (indentation, line ends, one-line blocks).

use std::collections::BTreeMap;

use serde::Serialize;

use super::{parse_file, Directive, NginxConfig, NginxError, ParsedFile};

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
        self.files()
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
