//! Small text helpers the report shares between its model and its formats: durations and sizes
//! for people, shell quoting for the commands it prints, Markdown escaping for tickets.

/// How every secret appears in a report (the same mask as the engine's redaction).
pub const MASK: &str = "********";

/// A word for a shell command line: quoted only when it must be (`user@host:port` stays bare,
/// as people type it).
pub fn shell_word(s: &str) -> String {
    let bare = |c: char| c.is_ascii_alphanumeric() || "@%+=:,./_-".contains(c);
    if !s.is_empty() && s.chars().all(bare) {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

pub fn shell_join(words: &[String]) -> String {
    words
        .iter()
        .map(|w| shell_word(w))
        .collect::<Vec<_>>()
        .join(" ")
}

/// "1 hour", "7 days", "90 days".
fn span(secs: u64) -> String {
    crate::version::human_duration(std::time::Duration::from_secs(secs))
}

/// "1h", "7d".
#[allow(unknown_lints, clippy::manual_is_multiple_of)] // `is_multiple_of` is newer than the MSRV (1.80)
fn span_abbrev(secs: u64) -> String {
    if secs >= 86_400 && secs % 86_400 == 0 {
        format!("{}d", secs / 86_400)
    } else if secs >= 3600 && secs % 3600 == 0 {
        format!("{}h", secs / 3600)
    } else if secs >= 60 && secs % 60 == 0 {
        format!("{}m", secs / 60)
    } else {
        format!("{secs}s")
    }
}

/// An age range in words: "under 1 hour", "1 hour – 1 day", "over 90 days".
pub fn span_label(from: u64, to: Option<u64>) -> String {
    match (from, to) {
        (0, Some(t)) => format!("under {}", span(t)),
        (f, None) => format!("over {}", span(f)),
        (f, Some(t)) => {
            let (a, b) = (span(f), span(t));
            // "1 – 7 days" rather than "1 day – 7 days" when the units agree.
            match (a.split_once(' '), b.split_once(' ')) {
                (Some((na, ua)), Some((nb, ub)))
                    if ua.trim_end_matches('s') == ub.trim_end_matches('s') =>
                {
                    format!("{na} – {nb} {ub}")
                }
                _ => format!("{a} – {b}"),
            }
        }
    }
}

/// The same range for a chart axis: "<1h", "1h–1d", ">90d".
pub fn span_short(from: u64, to: Option<u64>) -> String {
    match (from, to) {
        (0, Some(t)) => format!("<{}", span_abbrev(t)),
        (f, None) => format!(">{}", span_abbrev(f)),
        (f, Some(t)) => format!("{}–{}", span_abbrev(f), span_abbrev(t)),
    }
}

/// An age, roughly, in the largest whole unit: "3 days", "5 hours", "40 minutes".
pub fn age(secs: u64) -> String {
    let (n, unit) = if secs >= 86_400 {
        (secs / 86_400, "day")
    } else if secs >= 3600 {
        (secs / 3600, "hour")
    } else if secs >= 60 {
        (secs / 60, "minute")
    } else {
        (secs, "second")
    };
    crate::words::units(n, unit)
}

/// "1 check", "2 checks": the engine's one pluralising helper, here for the report's callers.
pub use crate::words::count;

/// What is open, in words: "1 problem, 2 things to improve", "no problem".
pub fn tally(fail: usize, warn: usize, unknown: usize) -> String {
    let mut parts = Vec::new();
    if fail > 0 {
        parts.push(count(fail, "problem", "problems"));
    }
    if warn > 0 {
        parts.push(count(warn, "thing to improve", "things to improve"));
    }
    if unknown > 0 {
        parts.push(count(
            unknown,
            "check that could not be made",
            "checks that could not be made",
        ));
    }
    match parts.len() {
        0 => "no problem".to_string(),
        1 => parts.remove(0),
        _ => {
            let last = parts.pop().unwrap();
            format!("{} and {last}", parts.join(", "))
        }
    }
}

/// "3.8 GiB", "412 KiB", "17 bytes".
pub fn bytes(n: u64) -> String {
    const UNITS: &[&str] = &["KiB", "MiB", "GiB", "TiB"];
    if n < 1024 {
        return format!("{n} bytes");
    }
    let mut v = n as f64 / 1024.0;
    let mut unit = UNITS[0];
    for u in &UNITS[1..] {
        if v < 1024.0 {
            break;
        }
        v /= 1024.0;
        unit = u;
    }
    if v < 10.0 {
        format!("{v:.1} {unit}")
    } else {
        format!("{v:.0} {unit}")
    }
}

/// Text for a Markdown paragraph or list item: characters that would start markup are escaped,
/// line breaks become spaces (a report's sentences are one paragraph each).
pub fn md(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '\\' | '`' | '*' | '[' | ']' | '<' | '>' | '|' => {
                out.push('\\');
                out.push(ch);
            }
            '\n' | '\r' => out.push(' '),
            _ => out.push(ch),
        }
    }
    // A line starting with '#', '-', '+' or "1." would become a heading or a list.
    if out.starts_with(['#', '-', '+']) {
        out.insert(0, '\\');
    }
    out
}

/// Inline code: a backtick run longer than any inside, padded when the text touches a backtick.
pub fn md_code(s: &str) -> String {
    let s = s.replace(['\n', '\r'], " ");
    let ticks = "`".repeat(longest_run(&s, '`') + 1);
    if s.starts_with('`') || s.ends_with('`') {
        format!("{ticks} {s} {ticks}")
    } else {
        format!("{ticks}{s}{ticks}")
    }
}

/// A fenced code block (with an info string such as `diff`), fenced longer than any backtick run.
pub fn md_block(s: &str, info: &str) -> String {
    let fence = "`".repeat(3.max(longest_run(s, '`') + 1));
    let body = s.trim_end_matches(['\n', '\r']);
    format!("{fence}{info}\n{body}\n{fence}")
}

fn longest_run(s: &str, c: char) -> usize {
    let (mut best, mut cur) = (0, 0);
    for ch in s.chars() {
        if ch == c {
            cur += 1;
            best = best.max(cur);
        } else {
            cur = 0;
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_read_like_words() {
        assert_eq!(span_label(0, Some(3600)), "under 1 hour");
        assert_eq!(span_label(3600, Some(86_400)), "1 hour – 1 day");
        assert_eq!(span_label(86_400, Some(604_800)), "1 – 7 days");
        assert_eq!(span_label(604_800, Some(2_592_000)), "7 – 30 days");
        assert_eq!(span_label(7_776_000, None), "over 90 days");
        assert_eq!(span_short(0, Some(3600)), "<1h");
        assert_eq!(span_short(86_400, Some(604_800)), "1d–7d");
        assert_eq!(span_short(7_776_000, None), ">90d");
    }

    #[test]
    fn tallies_read_like_words() {
        assert_eq!(tally(0, 0, 0), "no problem");
        assert_eq!(tally(1, 0, 0), "1 problem");
        assert_eq!(tally(2, 1, 0), "2 problems and 1 thing to improve");
        assert_eq!(
            tally(1, 2, 3),
            "1 problem, 2 things to improve and 3 checks that could not be made"
        );
    }

    #[test]
    fn sizes_and_ages() {
        assert_eq!(bytes(17), "17 bytes");
        assert_eq!(bytes(4096), "4.0 KiB");
        assert_eq!(bytes(4_080_218_931), "3.8 GiB");
        assert_eq!(age(59), "59 seconds");
        assert_eq!(age(86_400 * 3 + 5), "3 days");
        assert_eq!(age(3600), "1 hour");
    }

    #[test]
    fn markdown_is_escaped_and_fenced() {
        assert_eq!(md("a *b* | <c>\nd"), "a \\*b\\* \\| \\<c\\> d");
        assert_eq!(md("# not a heading"), "\\# not a heading");
        assert_eq!(md_code("x`y"), "``x`y``");
        assert_eq!(md_block("a\n```\nb\n", "diff"), "````diff\na\n```\nb\n````");
    }

    #[test]
    fn shell_words_are_quoted_when_needed() {
        assert_eq!(shell_word("root@odoo.example.com"), "root@odoo.example.com");
        assert_eq!(shell_word("a b"), "'a b'");
        assert_eq!(shell_word("it's"), r"'it'\''s'");
    }
}
