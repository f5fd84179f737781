//! odoo.conf as a format-preserving document: parse it the way Odoo's `RawConfigParser` does,
//! answer questions about it, and edit single values while every other byte stays as it was.
//!
//! Why our own type: Odoo's own "save config" rewrites the whole file and drops comments, and no
//! maintained Rust INI crate keeps them (engineering practice 6). The model follows toml_edit: every
//! line keeps its raw text and line ending, an entry knows the byte span of its value, an edit
//! replaces only that span, and `parse(s).to_string() == s` for every input.
//!
//! Dialect (Python 3 `configparser.RawConfigParser` defaults, as Odoo 12–19 use it; the
//! ignored test `odoo_conf_vs_cpython` in tests/parsers.rs compares this parser with CPython on
//! 20,000 generated files, 0 differences with CPython 3.11):
//! - `key = value` or `key: value`; the key is the text before the *first* `=` or `:`,
//!   lowercased; whitespace around key and value is stripped;
//! - whole-line comments start with `#` or `;` (indented ones too); there are **no inline
//!   comments**: `limit_time_real = 120 ; note` has the value `120 ; note`;
//! - a line indented deeper than its entry continues the value (joined with `\n`); blank lines
//!   inside a value are kept, comment lines are skipped, trailing blank lines are dropped;
//! - `strict`: a duplicate key in a section or a duplicate section stops Odoo at start-up, as does a
//!   line without separator or any line before the first `[section]`;
//! - `[DEFAULT]` keys are visible in every section (Odoo's `p.items('options')` includes them);
//! - Python opens the file as UTF-8 without BOM handling, so a UTF-8 BOM glues itself to the first
//!   `[options]` and Odoo dies with `MissingSectionHeaderError`.
//!
//! Line breaks are `\n`, `\r\n` or a lone `\r` (Python's universal newlines).

use std::fmt;

use serde::Serialize;

use crate::odoo_options;

/// The line ending of one line, kept so edits never convert a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Eol {
    Lf,
    CrLf,
    Cr,
    /// The last line of a file that does not end with a line break.
    None,
}

impl Eol {
    pub fn as_str(self) -> &'static str {
        match self {
            Eol::Lf => "\n",
            Eol::CrLf => "\r\n",
            Eol::Cr => "\r",
            Eol::None => "",
        }
    }
}

/// What configparser makes of a line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum LineKind {
    Blank,
    Comment,
    Section {
        name: String,
    },
    /// `key = value`. Spans are byte offsets into the line's text.
    Entry {
        section: String,
        /// Lowercased, as configparser stores it.
        key: String,
        key_span: (usize, usize),
        separator: char,
        separator_at: usize,
        value_span: (usize, usize),
    },
    /// An indented line continuing the value of the entry on line `entry_line` (1-based).
    Continuation {
        entry_line: usize,
    },
    /// A line configparser rejects (see [`OdooConf::problems`]).
    Junk,
}

/// One physical line: its text without line ending, the ending, and its meaning.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    text: String,
    eol: Eol,
    kind: LineKind,
}

impl Line {
    pub fn text(&self) -> &str {
        &self.text
    }
    pub fn eol(&self) -> Eol {
        self.eol
    }
    pub fn kind(&self) -> &LineKind {
        &self.kind
    }
}

/// Whether a problem stops Odoo from starting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Odoo refuses to start with this file.
    Fatal,
    /// Odoo starts, but probably not the way the author meant.
    Warning,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ProblemKind {
    /// The file starts with a UTF-8 byte order mark.
    Bom,
    /// A non-blank, non-comment line before the first `[section]`.
    EntryBeforeSection,
    /// A line that is neither `[section]`, `key = value`, comment nor continuation.
    Unparsable,
    DuplicateSection {
        name: String,
        first_line: usize,
    },
    DuplicateKey {
        section: String,
        key: String,
        first_line: usize,
    },
    /// A value with ` ;` or ` #` in it: Odoo reads the "comment" as part of the value.
    InlineComment {
        section: String,
        key: String,
    },
    /// No `[options]` section: Odoo ignores the whole file.
    NoOptionsSection,
}

/// Something wrong with the file, at a 1-based line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    pub line: usize,
    pub severity: Severity,
    #[serde(flatten)]
    pub kind: ProblemKind,
    pub message: String,
}

/// An entry as [`OdooConf::entries`] reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Entry<'a> {
    /// Lowercased key.
    pub key: &'a str,
    /// The key as written.
    pub raw_key: &'a str,
    /// The value as configparser gives it (stripped, continuation lines joined with `\n`).
    pub value: &'a str,
    pub separator: char,
    /// 1-based line of the key.
    pub line: usize,
    /// 1-based last line of the value (the entry line itself without continuation).
    pub last_line: usize,
}

/// Why an edit was refused. The document is unchanged when an edit returns an error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfError {
    #[error("invalid odoo.conf key {0:?}: keys cannot be empty, contain '=', ':' or a line break, or start with '[', '#' or ';'")]
    InvalidKey(String),
    #[error("invalid value for {key}: values cannot contain line breaks or start/end with whitespace (configparser would strip it)")]
    InvalidValue { key: String },
    #[error("invalid section name {0:?}")]
    InvalidSection(String),
    #[error("no place in [{section}] where a new {key} line would not change other lines (indented junk around it); fix the problems first")]
    NoSafePlace { section: String, key: String },
    #[error("{key} appears {} times in [{section}] (lines {}); remove the duplicates first", lines.len(), join_lines(lines))]
    DuplicateKey {
        section: String,
        key: String,
        lines: Vec<usize>,
    },
}

fn join_lines(lines: &[usize]) -> String {
    lines
        .iter()
        .map(|l| l.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// How Odoo reads a boolean option's value (see [`odoo_bool`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OdooBool {
    True,
    False,
    /// Odoo 19 refuses to start ("invalid boolean value").
    Invalid,
}

/// How Odoo reads an integer option's value (see [`odoo_int`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OdooInt {
    Value(i64),
    /// `False` (and `None` in 19): the option keeps its default.
    Unset,
    /// Odoo refuses to start ("invalid integer value").
    Invalid,
}

#[derive(Debug, Clone)]
struct EntryInfo {
    section: String,
    key: String,
    /// Index into `lines`.
    line: usize,
    /// Indexes of continuation lines.
    continuation: Vec<usize>,
    value: String,
}

/// A parsed odoo.conf. `to_string()` gives back the exact input.
#[derive(Debug, Clone)]
pub struct OdooConf {
    lines: Vec<Line>,
    entries: Vec<EntryInfo>,
    problems: Vec<Problem>,
    has_bom: bool,
}

const BOM: char = '\u{feff}';

/// Python's `str.isspace()`: Unicode White_Space plus the ASCII separators 0x1c–0x1f.
fn py_space(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

/// Byte offsets of the text without surrounding Python whitespace.
fn py_strip_span(s: &str) -> (usize, usize) {
    let start = s.len() - s.trim_start_matches(py_space).len();
    let end = s.trim_end_matches(py_space).len();
    if end < start {
        (start, start)
    } else {
        (start, end)
    }
}

/// Splits into (text, eol) pairs the way Python's universal newlines do.
fn split_lines(input: &str) -> Vec<(String, Eol)> {
    let bytes = input.as_bytes();
    let mut out = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\n' => {
                out.push((input[start..i].to_string(), Eol::Lf));
                i += 1;
                start = i;
            }
            b'\r' => {
                if bytes.get(i + 1) == Some(&b'\n') {
                    out.push((input[start..i].to_string(), Eol::CrLf));
                    i += 2;
                } else {
                    out.push((input[start..i].to_string(), Eol::Cr));
                    i += 1;
                }
                start = i;
            }
            _ => i += 1,
        }
    }
    if start < bytes.len() {
        out.push((input[start..].to_string(), Eol::None));
    }
    out
}

/// `\[(?P<header>.+)\]` matched at the start of the stripped line: the header runs to the last `]`.
fn section_header(content: &str) -> Option<&str> {
    let rest = content.strip_prefix('[')?;
    let close = rest.rfind(']')?;
    if close == 0 {
        return None;
    }
    Some(&rest[..close])
}

/// Spans of `(?P<option>.*?)\s*(?P<vi>=|:)\s*(?P<value>.*)$` inside `content` (already stripped),
/// as offsets into `content`: (key start, key end, separator index, value start, value end).
fn option_spans(content: &str) -> Option<(usize, usize, usize, usize, usize)> {
    let sep = content.find(['=', ':'])?;
    let key_end = content[..sep].trim_end_matches(py_space).len();
    let after = &content[sep + 1..];
    let value_start = sep + 1 + (after.len() - after.trim_start_matches(py_space).len());
    Some((0, key_end, sep, value_start, content.len()))
}

fn leading_indent_chars(s: &str) -> usize {
    s.chars().take_while(|c| py_space(*c)).count()
}

/// The secret-bearing keys whose values never appear in reports or diffs.
pub fn is_secret_key(key: &str) -> bool {
    let k = key.trim().to_lowercase();
    matches!(k.as_str(), "admin_passwd" | "db_password" | "smtp_password")
        || ["passw", "secret", "token", "key"]
            .iter()
            .any(|w| k.contains(w))
}

/// What Odoo `major` makes of a boolean option's value (facts: `odoo/tools/config.py`).
///
/// 12–18 (`configmanager.load()`): only `True`/`true` and `False`/`false` are converted; any other
/// string is kept and used as a Python truth value, so `0`, `no`, `off` and `None` mean **on** and
/// only an empty value means off. 19 (`_check_bool`): `1 yes true on` / `0 no false off` in any
/// case, `None` = default (off), anything else stops Odoo.
pub fn odoo_bool(value: &str, major: u8) -> OdooBool {
    if major >= 19 {
        if value == "None" {
            return OdooBool::False;
        }
        match value.to_lowercase().as_str() {
            "1" | "yes" | "true" | "on" => OdooBool::True,
            "0" | "no" | "false" | "off" => OdooBool::False,
            _ => OdooBool::Invalid,
        }
    } else {
        match value {
            "True" | "true" => OdooBool::True,
            "False" | "false" | "" => OdooBool::False,
            _ => OdooBool::True,
        }
    }
}

/// A boolean as Odoo 12–18 read it (the versions most servers run). Prefer [`odoo_bool`] with the
/// server's version when it is known: `proxy_mode = 0` is on in 12–18 and off in 19.
pub fn parse_bool(value: &str) -> bool {
    odoo_bool(value.trim(), 18) == OdooBool::True
}

/// Python's `int()` on an already stripped string: sign, digits, single `_` between digits.
fn python_int(s: &str) -> Option<i64> {
    let (neg, digits) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    if digits.is_empty()
        || digits.starts_with('_')
        || digits.ends_with('_')
        || digits.contains("__")
    {
        return None;
    }
    let mut n: i64 = 0;
    for c in digits.chars() {
        if c == '_' {
            continue;
        }
        let d = c.to_digit(10)? as i64;
        n = n.checked_mul(10)?.checked_add(d)?;
    }
    Some(if neg { -n } else { n })
}

/// What Odoo `major` makes of an integer option's value. 12–18 keep `False` as "unset" and turn
/// `True` into 1; everything else goes through `int()`, and a failure stops Odoo. 19 treats
/// `None` and `False` as "unset".
pub fn odoo_int(value: &str, major: u8) -> OdooInt {
    match value {
        "False" | "false" => return OdooInt::Unset,
        "None" if major >= 19 => return OdooInt::Unset,
        "True" | "true" if major < 19 => return OdooInt::Value(1),
        _ => {}
    }
    match python_int(value) {
        Some(n) => OdooInt::Value(n),
        None => OdooInt::Invalid,
    }
}

/// True when a value contains what its author probably meant as a comment.
fn looks_like_inline_comment(value: &str) -> bool {
    if value.starts_with(['#', ';']) {
        return true;
    }
    let mut prev_space = false;
    for c in value.chars() {
        if (c == '#' || c == ';') && prev_space {
            return true;
        }
        prev_space = py_space(c);
    }
    false
}

impl OdooConf {
    /// Parses any text. Never fails and never panics: everything configparser would reject is a
    /// [`Problem`] with its line, so the product can show it and fix it.
    pub fn parse(text: &str) -> OdooConf {
        let raw = split_lines(text);
        let mut lines: Vec<Line> = Vec::with_capacity(raw.len());
        let mut entries: Vec<EntryInfo> = Vec::new();
        let mut problems: Vec<Problem> = Vec::new();
        let has_bom = text.starts_with(BOM);
        if has_bom {
            problems.push(Problem {
                line: 1,
                severity: Severity::Fatal,
                kind: ProblemKind::Bom,
                message: "the file starts with a UTF-8 byte order mark (BOM): Python reads it as part of \
                          the first line and Odoo stops with MissingSectionHeaderError; save the file \
                          as UTF-8 without BOM"
                    .into(),
            });
        }

        let mut cursect: Option<String> = None;
        // Index into `entries` of the option a deeper-indented line would continue.
        let mut cur_entry: Option<usize> = None;
        let mut indent_level: usize = 0;
        // Pieces of each entry's value, joined at the end as configparser does.
        let mut pieces: Vec<Vec<String>> = Vec::new();
        let mut seen_sections: Vec<(String, usize)> = Vec::new();
        let mut seen_keys: Vec<(String, String, usize)> = Vec::new();

        for (idx, (text_raw, eol)) in raw.into_iter().enumerate() {
            let lineno = idx + 1;
            // The BOM is modelled as absent (reported above) so the rest of the file is useful.
            let skip = if idx == 0 && has_bom {
                BOM.len_utf8()
            } else {
                0
            };
            let body = &text_raw[skip..];
            let (cs, ce) = py_strip_span(body);
            let content = &body[cs..ce];
            let kind = if content.starts_with('#') || content.starts_with(';') {
                LineKind::Comment
            } else if content.is_empty() {
                if let (Some(_), Some(e)) = (&cursect, cur_entry) {
                    pieces[e].push(String::new());
                }
                LineKind::Blank
            } else {
                let indent = leading_indent_chars(body);
                if let (Some(_), Some(e), true) = (&cursect, cur_entry, indent > indent_level) {
                    pieces[e].push(content.to_string());
                    entries[e].continuation.push(idx);
                    LineKind::Continuation {
                        entry_line: entries[e].line + 1,
                    }
                } else {
                    indent_level = indent;
                    if let Some(name) = section_header(content) {
                        let name = name.to_string();
                        if name != "DEFAULT" {
                            if let Some((_, first)) = seen_sections.iter().find(|(n, _)| *n == name)
                            {
                                problems.push(Problem {
                                    line: lineno,
                                    severity: Severity::Fatal,
                                    kind: ProblemKind::DuplicateSection {
                                        name: name.clone(),
                                        first_line: *first,
                                    },
                                    message: format!(
                                        "section [{name}] appears again (first on line {first}): Odoo stops \
                                         with DuplicateSectionError"
                                    ),
                                });
                            } else {
                                seen_sections.push((name.clone(), lineno));
                            }
                        }
                        cursect = Some(name.clone());
                        cur_entry = None;
                        LineKind::Section { name }
                    } else if cursect.is_none() {
                        problems.push(Problem {
                            line: lineno,
                            severity: Severity::Fatal,
                            kind: ProblemKind::EntryBeforeSection,
                            message:
                                "this line comes before any [section] header: Odoo stops with \
                                      MissingSectionHeaderError; put it under [options]"
                                    .into(),
                        });
                        LineKind::Junk
                    } else {
                        match option_spans(content) {
                            Some((_, ke, sep, vs, ve)) if ke > 0 => {
                                let section = cursect.clone().unwrap_or_default();
                                let key = content[..ke].to_lowercase();
                                if let Some((_, _, first)) = seen_keys
                                    .iter()
                                    .find(|(s, k, _)| *s == section && *k == key)
                                {
                                    problems.push(Problem {
                                        line: lineno,
                                        severity: Severity::Fatal,
                                        kind: ProblemKind::DuplicateKey {
                                            section: section.clone(),
                                            key: key.clone(),
                                            first_line: *first,
                                        },
                                        message: format!(
                                            "{key} is set twice in [{section}] (lines {first} and {lineno}): \
                                             Odoo stops with DuplicateOptionError"
                                        ),
                                    });
                                } else {
                                    seen_keys.push((section.clone(), key.clone(), lineno));
                                }
                                let off = skip + cs;
                                entries.push(EntryInfo {
                                    section: section.clone(),
                                    key: key.clone(),
                                    line: idx,
                                    continuation: Vec::new(),
                                    value: String::new(),
                                });
                                pieces.push(vec![content[vs..ve].to_string()]);
                                cur_entry = Some(entries.len() - 1);
                                LineKind::Entry {
                                    section,
                                    key,
                                    key_span: (off, off + ke),
                                    separator: content[sep..].chars().next().unwrap_or('='),
                                    separator_at: off + sep,
                                    value_span: (off + vs, off + ve),
                                }
                            }
                            _ => {
                                // configparser keeps the previous option current after a bad line.
                                problems.push(Problem {
                                    line: lineno,
                                    severity: Severity::Fatal,
                                    kind: ProblemKind::Unparsable,
                                    message: "Odoo cannot read this line (expected `key = value`, \
                                              `[section]` or a comment starting with # or ;): it stops \
                                              with ParsingError"
                                        .into(),
                                });
                                LineKind::Junk
                            }
                        }
                    }
                }
            };
            lines.push(Line {
                text: text_raw,
                eol,
                kind,
            });
        }

        for (e, p) in entries.iter_mut().zip(pieces) {
            e.value = p.join("\n").trim_end_matches(py_space).to_string();
        }
        for e in &entries {
            if looks_like_inline_comment(&e.value) {
                let shown = if is_secret_key(&e.key) {
                    String::new()
                } else {
                    format!(" is {:?}", e.value)
                };
                problems.push(Problem {
                    line: e.line + 1,
                    severity: Severity::Warning,
                    kind: ProblemKind::InlineComment { section: e.section.clone(), key: e.key.clone() },
                    message: format!(
                        "the value of {}{shown}: odoo.conf has no inline comments, so the text after ';' \
                         or '#' is part of the value; move the comment to its own line",
                        e.key
                    ),
                });
            }
        }
        if !seen_sections.iter().any(|(n, _)| n == "options") {
            problems.push(Problem {
                line: lines.len().max(1),
                severity: Severity::Warning,
                kind: ProblemKind::NoOptionsSection,
                message: "there is no [options] section: Odoo ignores every setting in this file"
                    .into(),
            });
        }
        problems.sort_by_key(|p| p.line);
        OdooConf {
            lines,
            entries,
            problems,
            has_bom,
        }
    }

    /// The lines, for callers that need to look at the raw layout.
    pub fn lines(&self) -> &[Line] {
        &self.lines
    }

    /// Everything configparser/Odoo would choke on or misread, sorted by line.
    pub fn problems(&self) -> &[Problem] {
        &self.problems
    }

    /// True when Odoo would refuse to start with this file.
    pub fn has_fatal_problems(&self) -> bool {
        self.problems.iter().any(|p| p.severity == Severity::Fatal)
    }

    pub fn has_bom(&self) -> bool {
        self.has_bom
    }

    /// Section names in file order, each once (`DEFAULT` included when present).
    pub fn sections(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for l in &self.lines {
            if let LineKind::Section { name } = &l.kind {
                if !out.contains(&name.as_str()) {
                    out.push(name);
                }
            }
        }
        out
    }

    fn entry_view<'a>(&'a self, e: &'a EntryInfo) -> Entry<'a> {
        let line = &self.lines[e.line];
        let (raw_key, separator) = match &line.kind {
            LineKind::Entry {
                key_span,
                separator,
                ..
            } => (&line.text[key_span.0..key_span.1], *separator),
            _ => ("", '='),
        };
        Entry {
            key: &e.key,
            raw_key,
            value: &e.value,
            separator,
            line: e.line + 1,
            last_line: e.continuation.last().copied().unwrap_or(e.line) + 1,
        }
    }

    /// Entries of a section in file order (duplicates included; sections that appear twice are
    /// merged, as a non-strict reader would).
    pub fn entries(&self, section: &str) -> Vec<Entry<'_>> {
        self.entries
            .iter()
            .filter(|e| e.section == section)
            .map(|e| self.entry_view(e))
            .collect()
    }

    fn find(&self, section: &str, key: &str) -> Option<&EntryInfo> {
        let key = key.trim().to_lowercase();
        let last_in = |s: &str| {
            self.entries
                .iter()
                .rev()
                .find(|e| e.section == s && e.key == key)
        };
        last_in(section).or_else(|| last_in("DEFAULT"))
    }

    /// The value configparser gives for `key` in `section` (key case-insensitive), falling back to
    /// `[DEFAULT]`. With a duplicate key (fatal, see problems) the last one is returned, as a
    /// non-strict reader would.
    pub fn get(&self, section: &str, key: &str) -> Option<&str> {
        self.find(section, key).map(|e| e.value.as_str())
    }

    /// 1-based line of the entry [`get`](Self::get) reads.
    pub fn line_of(&self, section: &str, key: &str) -> Option<usize> {
        self.find(section, key).map(|e| e.line + 1)
    }

    /// A boolean option as Odoo `major` reads it ([`odoo_bool`]).
    pub fn bool_value(&self, section: &str, key: &str, major: u8) -> Option<OdooBool> {
        self.get(section, key).map(|v| odoo_bool(v, major))
    }

    /// An integer option as Odoo `major` reads it ([`odoo_int`]).
    pub fn int_value(&self, section: &str, key: &str, major: u8) -> Option<OdooInt> {
        self.get(section, key).map(|v| odoo_int(v, major))
    }

    /// `[options]` keys (and `[DEFAULT]` ones, which Odoo reads as options) that Odoo `major` does
    /// not read, with their 1-based line. Folklore keys are among them.
    pub fn unknown_keys(&self, major: u8) -> Vec<(String, usize)> {
        self.entries
            .iter()
            .filter(|e| e.section == "options" || e.section == "DEFAULT")
            .filter(|e| !odoo_options::is_known_option(major, &e.key))
            .map(|e| (e.key.clone(), e.line + 1))
            .collect()
    }

    /// The document with every secret value (see [`is_secret_key`]) replaced by `********`,
    /// including commented-out ones and lines Odoo cannot parse. For diffs, logs and reports.
    pub fn redacted(&self) -> String {
        const MASK: &str = "********";
        let mut out = String::new();
        let mut secret_entry_lines: Vec<usize> = Vec::new();
        for e in &self.entries {
            if is_secret_key(&e.key) {
                secret_entry_lines.push(e.line);
            }
        }
        for (idx, l) in self.lines.iter().enumerate() {
            let text = &l.text;
            let masked = match &l.kind {
                LineKind::Entry {
                    value_span: (vs, ve),
                    ..
                } if secret_entry_lines.contains(&idx) && vs < ve => {
                    Some(format!("{}{MASK}{}", &text[..*vs], &text[*ve..]))
                }
                LineKind::Continuation { entry_line }
                    if secret_entry_lines.contains(&(entry_line - 1)) =>
                {
                    let (s, e) = py_strip_span(text);
                    Some(format!("{}{MASK}{}", &text[..s], &text[e..]))
                }
                LineKind::Comment | LineKind::Junk => mask_loose_secret(text, MASK),
                _ => None,
            };
            out.push_str(masked.as_deref().unwrap_or(text));
            out.push_str(l.eol.as_str());
        }
        out
    }

    // ----- edits -------------------------------------------------------------------------

    fn dominant_eol(&self) -> Eol {
        let (mut lf, mut crlf, mut cr) = (0, 0, 0);
        for l in &self.lines {
            match l.eol {
                Eol::Lf => lf += 1,
                Eol::CrLf => crlf += 1,
                Eol::Cr => cr += 1,
                Eol::None => {}
            }
        }
        if crlf > lf && crlf >= cr {
            Eol::CrLf
        } else if cr > lf && cr > crlf {
            Eol::Cr
        } else {
            Eol::Lf
        }
    }

    /// The most common `key = value` spacing of the file, each side reduced to "" or one space.
    fn dominant_separator(&self) -> String {
        let mut counts: Vec<(String, usize)> = Vec::new();
        for l in &self.lines {
            if let LineKind::Entry {
                key_span,
                separator_at,
                value_span,
                separator,
                ..
            } = &l.kind
            {
                if value_span.0 == value_span.1 {
                    continue;
                }
                let before = if key_span.1 < *separator_at { " " } else { "" };
                let after = if separator_at + 1 < value_span.0 {
                    " "
                } else {
                    ""
                };
                let style = format!("{before}{separator}{after}");
                match counts.iter_mut().find(|(s, _)| *s == style) {
                    Some((_, n)) => *n += 1,
                    None => counts.push((style, 1)),
                }
            }
        }
        let mut best: Option<(String, usize)> = None;
        for (s, n) in counts {
            if !matches!(&best, Some((_, b)) if n <= *b) {
                best = Some((s, n));
            }
        }
        best.map(|(s, _)| s).unwrap_or_else(|| " = ".into())
    }

    fn rebuild(&mut self, lines: Vec<(String, Eol)>) {
        let mut text = String::new();
        for (t, e) in &lines {
            text.push_str(t);
            text.push_str(e.as_str());
        }
        *self = OdooConf::parse(&text);
    }

    fn raw_lines(&self) -> Vec<(String, Eol)> {
        self.lines.iter().map(|l| (l.text.clone(), l.eol)).collect()
    }

    /// Sets `key` in `section` to `value`, touching nothing else.
    ///
    /// - Present once: only the value's bytes change; separator, spacing, trailing whitespace and
    ///   line ending stay; continuation lines of the old value are removed.
    /// - Absent: a `key = value` line (the file's dominant spacing, line ending and the anchor's
    ///   indentation) goes after the section's last entry, or right after its header; a missing
    ///   section is appended at the end of the file.
    /// - Present several times (fatal for Odoo): refused with [`ConfError::DuplicateKey`], so no
    ///   edit silently picks a winner; [`remove`](Self::remove) them first.
    pub fn set(&mut self, section: &str, key: &str, value: &str) -> Result<(), ConfError> {
        validate_section(section)?;
        validate_key(key)?;
        if value.contains(['\n', '\r']) || py_strip_span(value) != (0, value.len()) {
            return Err(ConfError::InvalidValue {
                key: key.to_string(),
            });
        }
        let lkey = key.to_lowercase();
        let found: Vec<&EntryInfo> = self
            .entries
            .iter()
            .filter(|e| e.section == section && e.key == lkey)
            .collect();
        if found.len() > 1 {
            return Err(ConfError::DuplicateKey {
                section: section.into(),
                key: lkey,
                lines: found.iter().map(|e| e.line + 1).collect(),
            });
        }
        let mut lines = self.raw_lines();
        if let Some(e) = found.first() {
            let (line_idx, cont) = (e.line, e.continuation.clone());
            let l = &self.lines[line_idx];
            if let LineKind::Entry {
                separator_at,
                value_span,
                key_span,
                ..
            } = &l.kind
            {
                let t = &l.text;
                let new_text = if value_span.0 < value_span.1 {
                    format!("{}{value}{}", &t[..value_span.0], &t[value_span.1..])
                } else {
                    // Empty value: keep the whitespace written after the separator (Odoo's own
                    // `--save` writes "key = "), or mirror the spacing before it.
                    let after = &t[separator_at + 1..];
                    let ws = if !after.is_empty() && after.chars().all(py_space) {
                        after.to_string()
                    } else if key_span.1 < *separator_at {
                        " ".into()
                    } else {
                        String::new()
                    };
                    format!("{}{ws}{value}", &t[..separator_at + 1])
                };
                lines[line_idx].0 = new_text;
            }
            remove_indexes(&mut lines, &cont);
            self.rebuild(lines);
            return Ok(());
        }

        let eol = self.dominant_eol();
        let sep = self.dominant_separator();
        let render = |indent: &str| {
            let l = format!("{indent}{key}{sep}{value}");
            l.trim_end_matches(py_space).to_string()
        };
        // Anchor: the last line of the section's last entry, else the section header.
        let anchor = self
            .entries
            .iter()
            .rfind(|e| e.section == section)
            .map(|e| (e.continuation.last().copied().unwrap_or(e.line), e.line))
            .or_else(|| {
                self.lines
                    .iter()
                    .position(|l| matches!(&l.kind, LineKind::Section { name } if name == section))
                    .map(|h| (h, usize::MAX))
            });
        // Candidate layouts, best first; the first one that reads back as intended wins.
        let mut candidates: Vec<Vec<(String, Eol)>> = Vec::new();
        let insert_at = |lines: &[(String, Eol)], at: usize, text: String| {
            let mut l = lines.to_vec();
            let new_eol = if l[at].1 == Eol::None {
                l[at].1 = eol;
                Eol::None
            } else {
                l[at].1
            };
            l.insert(at + 1, (text, new_eol));
            l
        };
        if let Some((at, entry_line)) = anchor {
            let indent = if entry_line == usize::MAX {
                String::new()
            } else {
                let t = &self.lines[entry_line].text;
                let skip = if entry_line == 0 && self.has_bom {
                    BOM.len_utf8()
                } else {
                    0
                };
                let body = &t[skip..];
                body[..body.len() - body.trim_start_matches(py_space).len()].to_string()
            };
            if !indent.is_empty() {
                candidates.push(insert_at(&lines, at, render(&indent)));
            }
            candidates.push(insert_at(&lines, at, render("")));
            // Indented junk right after the anchor would become our continuation: try just
            // before the next section header instead.
            if let Some(next) = (at + 1..self.lines.len())
                .find(|i| matches!(self.lines[*i].kind, LineKind::Section { .. }))
            {
                candidates.push(insert_at(&lines, next - 1, render("")));
            }
        } else {
            let mut l = lines.clone();
            let final_eol = match l.last_mut() {
                Some(last) if last.1 == Eol::None => {
                    last.1 = eol;
                    Eol::None
                }
                _ => eol,
            };
            if let Some(last) = l.last() {
                if !last.0.trim_matches(py_space).is_empty() {
                    l.push((String::new(), eol));
                }
            }
            l.push((format!("[{section}]"), eol));
            l.push((render(""), final_eol));
            candidates.push(l);
        }
        let others = |doc: &OdooConf| -> Vec<(String, String, String)> {
            doc.entries
                .iter()
                .filter(|e| !(e.section == section && e.key == lkey))
                .map(|e| (e.section.clone(), e.key.clone(), e.value.clone()))
                .collect()
        };
        let expected_others = others(self);
        for cand in candidates {
            let mut doc = self.clone();
            doc.rebuild(cand);
            let ours = doc
                .entries
                .iter()
                .any(|e| e.section == section && e.key == lkey && e.value == value);
            if ours && others(&doc) == expected_others {
                *self = doc;
                return Ok(());
            }
        }
        Err(ConfError::NoSafePlace {
            section: section.into(),
            key: lkey,
        })
    }

    /// Puts `# comment` on its own line right above `key` in `section` (where an inline "comment"
    /// that Odoo read as part of the value goes when the value is corrected). Refused when the key
    /// is absent or written more than once, or when the line would change how anything reads.
    pub fn comment_before(
        &mut self,
        section: &str,
        key: &str,
        comment: &str,
    ) -> Result<(), ConfError> {
        let lkey = key.trim().to_lowercase();
        if comment.contains(['\n', '\r']) {
            return Err(ConfError::InvalidValue { key: lkey });
        }
        let found: Vec<usize> = self
            .entries
            .iter()
            .filter(|e| e.section == section && e.key == lkey)
            .map(|e| e.line)
            .collect();
        let [at] = found[..] else {
            return Err(ConfError::DuplicateKey {
                section: section.into(),
                key: lkey,
                lines: found.iter().map(|l| l + 1).collect(),
            });
        };
        let mut lines = self.raw_lines();
        let eol = match lines[at].1 {
            Eol::None => self.dominant_eol(),
            e => e,
        };
        lines.insert(at, (format!("# {}", comment.trim()), eol));
        let before: Vec<_> = self
            .entries
            .iter()
            .map(|e| (e.section.clone(), e.key.clone(), e.value.clone()))
            .collect();
        let mut doc = self.clone();
        doc.rebuild(lines);
        let after: Vec<_> = doc
            .entries
            .iter()
            .map(|e| (e.section.clone(), e.key.clone(), e.value.clone()))
            .collect();
        if after != before {
            return Err(ConfError::NoSafePlace {
                section: section.into(),
                key: lkey,
            });
        }
        *self = doc;
        Ok(())
    }

    /// Removes every occurrence of `key` in `section` with its continuation lines; returns how many
    /// entries went. Removing all occurrences is the deterministic choice: it also cures a
    /// duplicate key. A file that did not end with a line break still does not.
    pub fn remove(&mut self, section: &str, key: &str) -> usize {
        let lkey = key.trim().to_lowercase();
        let mut idx: Vec<usize> = Vec::new();
        let mut n = 0;
        for e in self
            .entries
            .iter()
            .filter(|e| e.section == section && e.key == lkey)
        {
            n += 1;
            idx.push(e.line);
            idx.extend(&e.continuation);
        }
        if n == 0 {
            return 0;
        }
        let mut lines = self.raw_lines();
        remove_indexes(&mut lines, &idx);
        self.rebuild(lines);
        n
    }
}

impl OdooConf {
    /// Turns every occurrence of `key` in `section` (with its continuation lines) into comment
    /// lines under one `; note` line, instead of deleting it: whoever reads the file later sees
    /// what was there, when and why it went, and a comment block written above it still sits
    /// above something that explains it. Returns how many entries were commented out; refused
    /// when the result would change how any other key reads.
    pub fn comment_out(
        &mut self,
        section: &str,
        key: &str,
        note: &str,
    ) -> Result<usize, ConfError> {
        let lkey = key.trim().to_lowercase();
        if note.contains(['\n', '\r']) {
            return Err(ConfError::InvalidValue { key: lkey });
        }
        let hits: Vec<(usize, Vec<usize>)> = self
            .entries
            .iter()
            .filter(|e| e.section == section && e.key == lkey)
            .map(|e| (e.line, e.continuation.clone()))
            .collect();
        let Some(first) = hits.first().map(|h| h.0) else {
            return Ok(0);
        };
        let others = |doc: &OdooConf| -> Vec<(String, String, String)> {
            doc.entries
                .iter()
                .filter(|e| !(e.section == section && e.key == lkey))
                .map(|e| (e.section.clone(), e.key.clone(), e.value.clone()))
                .collect()
        };
        let mut lines = self.raw_lines();
        for (line, continuation) in &hits {
            for i in std::iter::once(line).chain(continuation) {
                lines[*i].0 = format!("; {}", lines[*i].0);
            }
        }
        let eol = match lines[first].1 {
            Eol::None => self.dominant_eol(),
            e => e,
        };
        lines.insert(first, (format!("; {}", note.trim()), eol));
        let mut doc = self.clone();
        doc.rebuild(lines);
        if others(&doc) != others(self)
            || doc
                .entries
                .iter()
                .any(|e| e.section == section && e.key == lkey)
        {
            return Err(ConfError::NoSafePlace {
                section: section.into(),
                key: lkey,
            });
        }
        *self = doc;
        Ok(hits.len())
    }
}

/// Removes lines by index; when the removed lines included an unterminated last line, the new
/// last line loses its line ending too, so "no final newline" files stay that way.
fn remove_indexes(lines: &mut Vec<(String, Eol)>, idx: &[usize]) {
    if idx.is_empty() {
        return;
    }
    let had_no_final_eol = lines.last().is_some_and(|l| l.1 == Eol::None);
    let removed_last = idx.contains(&(lines.len() - 1));
    let mut i = 0;
    lines.retain(|_| {
        let keep = !idx.contains(&i);
        i += 1;
        keep
    });
    if had_no_final_eol && removed_last {
        if let Some(last) = lines.last_mut() {
            last.1 = Eol::None;
        }
    }
}

/// Masks the value of a secret `key = value` found in a comment or an unparsable line.
fn mask_loose_secret(text: &str, mask: &str) -> Option<String> {
    let (cs, ce) = py_strip_span(text);
    let mut content = &text[cs..ce];
    let mut off = cs;
    // A commented-out entry: "# db_password = x" / ";admin_passwd=x".
    while let Some(rest) = content.strip_prefix(['#', ';']) {
        off += 1;
        content = rest;
    }
    let lead = content.len() - content.trim_start_matches(py_space).len();
    off += lead;
    let content = &content[lead..];
    let (_, ke, _, vs, ve) = option_spans(content)?;
    if ke == 0 || vs >= ve || !is_secret_key(&content[..ke]) {
        return None;
    }
    Some(format!("{}{mask}{}", &text[..off + vs], &text[off + ve..]))
}

fn validate_key(key: &str) -> Result<(), ConfError> {
    let bad = key.is_empty()
        || key.contains(['=', ':', '\n', '\r'])
        || key.starts_with(['[', '#', ';'])
        || py_strip_span(key) != (0, key.len());
    if bad {
        Err(ConfError::InvalidKey(key.to_string()))
    } else {
        Ok(())
    }
}

fn validate_section(section: &str) -> Result<(), ConfError> {
    if section.is_empty() || section.contains(['\n', '\r']) {
        Err(ConfError::InvalidSection(section.to_string()))
    } else {
        Ok(())
    }
}

impl fmt::Display for OdooConf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for l in &self.lines {
            f.write_str(&l.text)?;
            f.write_str(l.eol.as_str())?;
        }
        Ok(())
    }
}

impl std::str::FromStr for OdooConf {
    type Err = std::convert::Infallible;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(OdooConf::parse(s))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_like_universal_newlines() {
        let v = split_lines("a\r\nb\rc\nd");
        assert_eq!(
            v,
            vec![
                ("a".into(), Eol::CrLf),
                ("b".into(), Eol::Cr),
                ("c".into(), Eol::Lf),
                ("d".into(), Eol::None)
            ]
        );
        assert!(split_lines("").is_empty());
    }

    #[test]
    fn python_int_rules() {
        assert_eq!(python_int("1_000"), Some(1000));
        assert_eq!(python_int("-5"), Some(-5));
        assert_eq!(python_int("007"), Some(7));
        assert_eq!(python_int("1__0"), None);
        assert_eq!(python_int("_1"), None);
        assert_eq!(python_int(""), None);
        assert_eq!(python_int("12s"), None);
    }

    #[test]
    fn comment_out_keeps_the_key_visible_and_the_rest_as_it_reads() {
        let text = "[options]\r\n; raised after users complained (ticket 4711)\r\nsession_timeout = 86400\r\naddons_path = /a,\r\n   /b\r\nlimit_time_real = 1200";
        let mut doc = OdooConf::parse(text);
        assert_eq!(
            doc.comment_out("options", "session_timeout", "note: unused")
                .unwrap(),
            1
        );
        assert_eq!(
            doc.to_string(),
            "[options]\r\n; raised after users complained (ticket 4711)\r\n; note: unused\r\n; session_timeout = 86400\r\naddons_path = /a,\r\n   /b\r\nlimit_time_real = 1200"
        );
        assert_eq!(doc.get("options", "session_timeout"), None);
        assert_eq!(doc.get("options", "addons_path"), Some("/a,\n/b"));
        // a multi-line value goes whole: its continuation would otherwise join the key above
        let mut doc = OdooConf::parse("[options]\nsession_timeout = 1\n  2\nproxy_mode = True\n");
        assert_eq!(
            doc.comment_out("options", "session_timeout", "n").unwrap(),
            1
        );
        assert_eq!(
            doc.to_string(),
            "[options]\n; n\n; session_timeout = 1\n;   2\nproxy_mode = True\n"
        );
        assert_eq!(doc.comment_out("options", "absent", "n").unwrap(), 0);
        assert!(doc
            .comment_out("options", "proxy_mode", "two\nlines")
            .is_err());
    }

    #[test]
    fn section_header_takes_the_last_bracket() {
        assert_eq!(section_header("[options] junk"), Some("options"));
        assert_eq!(section_header("[a]b]"), Some("a]b"));
        assert_eq!(section_header("[]"), None);
        assert_eq!(section_header("[]]"), Some("]"));
    }
}
