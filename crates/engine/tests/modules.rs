//! The engine's modules depend on each other one way only: no cycle between module files (a
//! module's use of its own parent or submodules is not counted: they are one piece of code), so
//! the data flow facts → findings → plan → change set → apply → verification → report reads top
//! to bottom.
//!
//! Dependencies are read from the source: every `crate::…` and `super::…` path (in `use` lines,
//! grouped `use crate::{…}` included, and inline paths) points at the deepest module file it
//! names.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Module name ("change/plan", "checks", "nginx") → its source text.
fn modules() -> BTreeMap<String, String> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut out = BTreeMap::new();
    let mut stack = vec![src.clone()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            if path.extension().and_then(|e| e.to_str()) != Some("rs") {
                continue;
            }
            let rel = path.strip_prefix(&src).unwrap().with_extension("");
            let rel = rel.to_string_lossy().replace('\\', "/");
            let name = rel
                .strip_suffix("/mod")
                .map(str::to_string)
                .unwrap_or(rel.clone());
            if name == "lib" {
                continue;
            }
            out.insert(name, std::fs::read_to_string(&path).unwrap());
        }
    }
    out
}

/// The paths after `crate::` / `super::` in `text`, with grouped imports expanded.
fn paths(text: &str, prefix: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find(prefix) {
        // Only a path start: not `foo_crate::` or `xsuper::`.
        let before = rest[..i].chars().last();
        rest = &rest[i + prefix.len()..];
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            continue;
        }
        out.extend(expand(rest));
    }
    out
}

/// `a::b::{c, d::e}` → ["a::b::c", "a::b::d::e"]; `a::b` → ["a::b"].
fn expand(s: &str) -> Vec<String> {
    let head: String = s
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
        .collect();
    let after = &s[head.len()..];
    if head.is_empty() || head.ends_with("::") {
        if let Some(group) = after.strip_prefix('{') {
            let mut depth = 1;
            let mut end = 0;
            for (i, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' => depth -= 1,
                    _ => {}
                }
                if depth == 0 {
                    end = i;
                    break;
                }
            }
            let mut items = Vec::new();
            let (mut depth, mut start) = (0, 0);
            let inner = &group[..end];
            for (i, c) in inner.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        items.push(&inner[start..i]);
                        start = i + 1;
                    }
                    _ => {}
                }
            }
            items.push(&inner[start..]);
            return items
                .iter()
                .flat_map(|item| expand(item.trim()))
                .map(|p| format!("{head}{p}"))
                .collect();
        }
    }
    vec![head.trim_end_matches("::").to_string()]
}

/// The deepest module named by `segments` (a path inside the crate).
fn resolve(segments: &[&str], known: &BTreeMap<String, String>) -> Option<String> {
    (1..=segments.len())
        .rev()
        .map(|n| segments[..n].join("/"))
        .find(|m| known.contains_key(m))
}

fn related(a: &str, b: &str) -> bool {
    a == b || a.starts_with(&format!("{b}/")) || b.starts_with(&format!("{a}/"))
}

fn edges() -> BTreeMap<String, BTreeSet<String>> {
    let known = modules();
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (name, text) in &known {
        // Test modules may reach anywhere; comments (doc links included) are not dependencies.
        let code: String = text
            .split("#[cfg(test)]")
            .next()
            .unwrap_or("")
            .lines()
            .filter(|l| !l.trim_start().starts_with("//"))
            .collect::<Vec<_>>()
            .join("\n");
        let text = code.as_str();
        let parent: Vec<&str> = {
            let mut p: Vec<&str> = name.split('/').collect();
            // `super` of a mod.rs-less file is its directory's module.
            p.pop();
            p
        };
        let mut targets = Vec::new();
        for p in paths(text, "crate::") {
            let segs: Vec<&str> = p.split("::").filter(|s| !s.is_empty()).collect();
            targets.extend(resolve(&segs, &known));
        }
        for p in paths(text, "super::") {
            let mut segs = parent.clone();
            segs.extend(p.split("::").filter(|s| !s.is_empty() && *s != "super"));
            targets.extend(resolve(&segs, &known));
        }
        for t in targets {
            if !related(name, &t) {
                graph.entry(name.clone()).or_default().insert(t);
            }
        }
    }
    graph
}

#[test]
fn no_module_cycle_inside_the_engine() {
    let g = edges();
    // Depth-first search for a back edge, reporting the cycle it closes.
    fn visit(
        n: &str,
        g: &BTreeMap<String, BTreeSet<String>>,
        state: &mut BTreeMap<String, u8>,
        path: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        state.insert(n.to_string(), 1);
        path.push(n.to_string());
        for m in g.get(n).into_iter().flatten() {
            match state.get(m.as_str()).copied().unwrap_or(0) {
                1 => {
                    let start = path.iter().position(|p| p == m).unwrap();
                    let mut cycle = path[start..].to_vec();
                    cycle.push(m.clone());
                    return Some(cycle);
                }
                0 => {
                    if let Some(c) = visit(m, g, state, path) {
                        return Some(c);
                    }
                }
                _ => {}
            }
        }
        path.pop();
        state.insert(n.to_string(), 2);
        None
    }
    let mut state = BTreeMap::new();
    for n in g.keys() {
        if state.get(n.as_str()).copied().unwrap_or(0) == 0 {
            let mut path = Vec::new();
            if let Some(cycle) = visit(n, &g, &mut state, &mut path) {
                panic!("module cycle: {}", cycle.join(" → "));
            }
        }
    }
}

#[test]
fn the_reader_sees_grouped_and_nested_imports() {
    assert_eq!(
        paths("use crate::{a::b, c::{d, e::f}};", "crate::"),
        ["a::b", "c::d", "c::e::f"]
    );
    assert_eq!(
        paths("x = crate::facts::Facts::new();", "crate::"),
        ["facts::Facts::new"]
    );
    assert!(paths("osd_crate::x", "crate::").is_empty());
}
