//! Ansible inventories, read for what a fleet run needs: hosts, groups (with `children`), and the
//! connection variables `ansible_host`, `ansible_port`, `ansible_user`,
//! `ansible_ssh_private_key_file`, plus ours: `odoo_instance` (an HTTP port or a config path, for
//! a host with several instances) and `odoo_state_dir` (where our change-set records are).
//!
//! Why our own INI reader: the format is Ansible's own (not a standard INI: host lines carry
//! `key=value` words, sections have `:vars`/`:children` suffixes, names expand `[01:03]` ranges)
//! and no crate reads it; it is small. YAML goes through serde_norway (the maintained fork of
//! serde_yaml) into a tree we walk.
//!
//! Variables follow Ansible's precedence: `all`, then groups from the least to the most nested
//! (by name among equals), then the host's own line.

use crate::error::EngineError;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// One host of the fleet as the inventory names it, with how to reach it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FleetTarget {
    /// The inventory's name for it (also what `--limit` matches).
    pub name: String,
    /// `ansible_host`: the address to connect to (default: the name).
    pub address: Option<String>,
    pub port: Option<u16>,
    pub user: Option<String>,
    /// `ansible_ssh_private_key_file`.
    pub key_file: Option<PathBuf>,
    /// `odoo_instance`: the instance to diagnose when the host runs several.
    pub instance: Option<String>,
    /// `odoo_state_dir`: where this tool keeps its change-set records on the host.
    pub state_dir: Option<String>,
    /// Its groups, the ones containing them included (`all` last).
    pub groups: Vec<String>,
}

impl FleetTarget {
    /// A target named on the command line (a saved server, an ssh alias, `user@host`).
    pub fn named(name: &str) -> FleetTarget {
        FleetTarget {
            name: name.to_string(),
            address: None,
            port: None,
            user: None,
            key_file: None,
            instance: None,
            state_dir: None,
            groups: vec!["all".into()],
        }
    }

    /// What to connect to, as the CLI's TARGET: `ssh://user@address:port` when the inventory gives
    /// any of them, else the name itself (an ssh alias, a saved server, `user@host`).
    pub fn target(&self) -> String {
        if self.address.is_none() && self.port.is_none() && self.user.is_none() {
            return self.name.clone();
        }
        let host = self.address.as_deref().unwrap_or(&self.name);
        // An IPv6 address needs brackets before a port.
        let host = if host.contains(':') && !host.starts_with('[') {
            format!("[{host}]")
        } else {
            host.to_string()
        };
        let user = self
            .user
            .as_ref()
            .map(|u| format!("{u}@"))
            .unwrap_or_default();
        let port = self.port.map(|p| format!(":{p}")).unwrap_or_default();
        format!("ssh://{user}{host}{port}")
    }

    fn from_vars(
        name: &str,
        vars: &BTreeMap<String, String>,
        groups: Vec<String>,
    ) -> Result<FleetTarget, EngineError> {
        let port = match vars.get("ansible_port").or(vars.get("ansible_ssh_port")) {
            Some(p) => Some(p.parse::<u16>().map_err(|_| {
                EngineError::Invalid(format!(
                    "inventory host {name}: ansible_port={p} is not a port number"
                ))
            })?),
            None => None,
        };
        let non_empty = |k: &str| vars.get(k).filter(|v| !v.is_empty()).cloned();
        Ok(FleetTarget {
            name: name.to_string(),
            address: non_empty("ansible_host").or(non_empty("ansible_ssh_host")),
            port,
            user: non_empty("ansible_user").or(non_empty("ansible_ssh_user")),
            key_file: non_empty("ansible_ssh_private_key_file")
                .or(non_empty("ansible_private_key_file"))
                .map(|k| expand_tilde(&k)),
            instance: non_empty("odoo_instance"),
            state_dir: non_empty("odoo_state_dir"),
            groups,
        })
    }
}

fn expand_tilde(path: &str) -> PathBuf {
    match path.strip_prefix("~/") {
        Some(rest) => std::env::var_os("HOME")
            .map(|h| PathBuf::from(h).join(rest))
            .unwrap_or_else(|| PathBuf::from(path)),
        None => PathBuf::from(path),
    }
}

/// Hosts in inventory order, and the groups (for `--limit`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Inventory {
    pub hosts: Vec<FleetTarget>,
    /// Every group name with its hosts (the nested groups' included), `all` and `ungrouped` too.
    pub groups: BTreeMap<String, Vec<String>>,
}

impl Inventory {
    /// Names given on the command line, each its own host (in group `all`).
    pub fn from_names<S: AsRef<str>>(names: &[S]) -> Inventory {
        let hosts: Vec<FleetTarget> = names
            .iter()
            .map(|n| FleetTarget::named(n.as_ref()))
            .collect();
        let mut groups = BTreeMap::new();
        groups.insert(
            "all".to_string(),
            hosts.iter().map(|h| h.name.clone()).collect(),
        );
        Inventory { hosts, groups }
    }

    /// Hosts already built elsewhere (saved servers, ssh aliases); groups from their `groups`.
    pub fn from_targets(hosts: Vec<FleetTarget>) -> Inventory {
        let mut groups: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for h in &hosts {
            for g in &h.groups {
                groups.entry(g.clone()).or_default().push(h.name.clone());
            }
        }
        Inventory { hosts, groups }
    }
}

/// Reads an inventory file: YAML when its name ends in `.yml`/`.yaml` or its text starts like
/// YAML (`---` or a `key:` line), else Ansible INI.
pub fn load_inventory(path: &Path) -> Result<Inventory, EngineError> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        EngineError::Invalid(format!("cannot read the inventory {}: {e}", path.display()))
    })?;
    let yaml_name = matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("yml" | "yaml")
    );
    let first = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with('#') && !l.starts_with(';'))
        .unwrap_or("");
    let looks_yaml = first == "---" || (first.ends_with(':') && !first.starts_with('['));
    let parsed = if yaml_name || looks_yaml {
        parse_yaml(&text)
    } else {
        parse_ini(&text)
    };
    parsed.map_err(|e| match e {
        EngineError::Invalid(m) => EngineError::Invalid(format!("{}: {m}", path.display())),
        other => other,
    })
}

/// What both formats fill before variables are resolved.
#[derive(Default)]
struct Raw {
    /// Host name → its own variables, in first-seen order.
    hosts: Vec<(String, BTreeMap<String, String>)>,
    groups: BTreeMap<String, Group>,
}

#[derive(Default)]
struct Group {
    hosts: Vec<String>,
    vars: BTreeMap<String, String>,
    children: Vec<String>,
}

impl Raw {
    fn group(&mut self, name: &str) -> &mut Group {
        self.groups.entry(name.to_string()).or_default()
    }

    fn add_host(&mut self, name: &str, vars: BTreeMap<String, String>, group: Option<&str>) {
        match self.hosts.iter_mut().find(|(n, _)| n == name) {
            Some((_, v)) => v.extend(vars),
            None => self.hosts.push((name.to_string(), vars)),
        }
        if let Some(g) = group {
            let g = self.group(g);
            if !g.hosts.iter().any(|h| h == name) {
                g.hosts.push(name.to_string());
            }
        }
    }

    /// Resolves groups (nesting, depth) and each host's variables.
    fn finish(mut self) -> Result<Inventory, EngineError> {
        for (name, g) in &self.groups {
            for c in &g.children {
                if !self.groups.contains_key(c) {
                    return Err(EngineError::Invalid(format!(
                        "group {name} names {c} among its children, but no group {c} exists"
                    )));
                }
            }
        }
        // Hosts that no group lists are `ungrouped`, as in Ansible.
        let listed: Vec<String> = self
            .groups
            .iter()
            .filter(|(name, _)| name.as_str() != "all")
            .flat_map(|(_, g)| g.hosts.clone())
            .collect();
        let ungrouped: Vec<String> = self
            .hosts
            .iter()
            .map(|(n, _)| n.clone())
            .filter(|n| !listed.contains(n))
            .collect();
        self.group("ungrouped").hosts.extend(ungrouped);
        let all_vars = self
            .groups
            .remove("all")
            .map(|g| g.vars)
            .unwrap_or_default();

        // Parents of each group, and depth (a top-level group is 1).
        let mut parents: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for (name, g) in &self.groups {
            for c in &g.children {
                parents.entry(c.as_str()).or_default().push(name.as_str());
            }
        }
        fn depth<'a>(
            g: &'a str,
            parents: &BTreeMap<&'a str, Vec<&'a str>>,
            seen: &mut Vec<&'a str>,
        ) -> Result<usize, EngineError> {
            if seen.contains(&g) {
                return Err(EngineError::Invalid(format!(
                    "group {g} contains itself (through its children)"
                )));
            }
            seen.push(g);
            let mut d = 1;
            for p in parents.get(g).into_iter().flatten() {
                d = d.max(depth(p, parents, seen)? + 1);
            }
            seen.pop();
            Ok(d)
        }
        // Groups a group belongs to, itself included.
        fn ancestors<'a>(
            g: &'a str,
            parents: &BTreeMap<&'a str, Vec<&'a str>>,
            out: &mut Vec<&'a str>,
        ) {
            if out.contains(&g) {
                return;
            }
            out.push(g);
            for p in parents.get(g).into_iter().flatten() {
                ancestors(p, parents, out);
            }
        }

        let mut hosts = Vec::new();
        let mut members: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (name, own) in &self.hosts {
            let mut groups: Vec<&str> = Vec::new();
            for (gname, g) in &self.groups {
                if g.hosts.iter().any(|h| h == name) {
                    ancestors(gname, &parents, &mut groups);
                }
            }
            let mut ordered = Vec::new();
            for g in &groups {
                ordered.push((depth(g, &parents, &mut Vec::new())?, *g));
            }
            ordered.sort();
            let mut vars = all_vars.clone();
            for (_, g) in &ordered {
                vars.extend(self.groups[*g].vars.clone());
            }
            vars.extend(own.clone());
            let mut group_names: Vec<String> = ordered.iter().map(|(_, g)| g.to_string()).collect();
            group_names.push("all".into());
            for g in &group_names {
                members.entry(g.clone()).or_default().push(name.clone());
            }
            hosts.push(FleetTarget::from_vars(name, &vars, group_names)?);
        }
        // Empty groups still exist for `--limit` (it then says they match nothing).
        for g in self.groups.keys() {
            members.entry(g.clone()).or_default();
        }
        members.entry("all".into()).or_default();
        Ok(Inventory {
            hosts,
            groups: members,
        })
    }
}

/// Splits a line into words as Ansible's INI reader does: blanks separate, quotes group (and are
/// removed), a word starting with `#` or `;` begins a comment.
fn words(line: &str, line_no: usize) -> Result<Vec<String>, EngineError> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut quote: Option<char> = None;
    for ch in line.chars() {
        match quote {
            Some(q) if ch == q => quote = None,
            Some(_) => cur.push(ch),
            None if ch == '"' || ch == '\'' => {
                quote = Some(ch);
                in_word = true;
            }
            None if ch.is_whitespace() => {
                if in_word {
                    out.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            None if !in_word && (ch == '#' || ch == ';') => break,
            None => {
                cur.push(ch);
                in_word = true;
            }
        }
    }
    if quote.is_some() {
        return Err(EngineError::Invalid(format!(
            "line {line_no}: a quote is not closed"
        )));
    }
    if in_word {
        out.push(cur);
    }
    Ok(out)
}

/// `web[01:03].example.com` → web01, web02, web03 (letters too: `[a:c]`; a step: `[1:9:2]`).
fn expand_range(name: &str, line_no: usize) -> Result<Vec<String>, EngineError> {
    let (Some(open), Some(close)) = (name.find('['), name.find(']')) else {
        return Ok(vec![name.to_string()]);
    };
    let bad = || {
        EngineError::Invalid(format!(
            "line {line_no}: {name}: a host range is [start:end] or [start:end:step]"
        ))
    };
    if close < open {
        return Err(bad());
    }
    let (head, inner, tail) = (&name[..open], &name[open + 1..close], &name[close + 1..]);
    let parts: Vec<&str> = inner.split(':').collect();
    let (start, end, step) = match parts.as_slice() {
        [a, b] => (*a, *b, 1usize),
        [a, b, s] => (*a, *b, s.parse().map_err(|_| bad())?),
        _ => return Err(bad()),
    };
    if step == 0 {
        return Err(bad());
    }
    let mut out = Vec::new();
    if let (Ok(a), Ok(b)) = (start.parse::<u64>(), end.parse::<u64>()) {
        // A leading zero keeps the width: [01:10] gives 01 … 10.
        let width = if start.starts_with('0') {
            start.len()
        } else {
            0
        };
        for n in (a..=b).step_by(step) {
            for rest in expand_range(tail, line_no)? {
                out.push(format!("{head}{n:0width$}{rest}"));
            }
        }
    } else if let ([a], [b]) = (start.as_bytes(), end.as_bytes()) {
        for c in (*a..=*b).step_by(step) {
            for rest in expand_range(tail, line_no)? {
                out.push(format!("{head}{}{rest}", c as char));
            }
        }
    } else {
        return Err(bad());
    }
    if out.is_empty() {
        return Err(bad());
    }
    Ok(out)
}

fn key_value(word: &str, line_no: usize) -> Result<(String, String), EngineError> {
    match word.split_once('=') {
        Some((k, v)) if !k.is_empty() => Ok((k.to_string(), v.to_string())),
        _ => Err(EngineError::Invalid(format!(
            "line {line_no}: '{word}' is not key=value"
        ))),
    }
}

/// Ansible's INI inventory: `[group]` host lines (`name [key=value …]`, `name:port` too),
/// `[group:vars]` (`key=value`), `[group:children]` (group names); hosts before any section are
/// ungrouped; `#` and `;` start comments.
pub fn parse_ini(text: &str) -> Result<Inventory, EngineError> {
    enum Section {
        Hosts(Option<String>),
        Vars(String),
        Children(String),
    }
    let mut raw = Raw::default();
    let mut section = Section::Hosts(None);
    for (i, line) in text.lines().enumerate() {
        let line_no = i + 1;
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') || trimmed.starts_with(';') {
            continue;
        }
        if let Some(inner) = trimmed.strip_prefix('[') {
            let Some(inner) = inner.split_once(']').map(|(a, _)| a.trim()) else {
                return Err(EngineError::Invalid(format!(
                    "line {line_no}: a section header needs its closing ]"
                )));
            };
            section = match inner.split_once(':') {
                Some((g, "vars")) => Section::Vars(g.to_string()),
                Some((g, "children")) => Section::Children(g.to_string()),
                Some((_, other)) => {
                    return Err(EngineError::Invalid(format!(
                        "line {line_no}: [{inner}]: a section is [group], [group:vars] or [group:children], not :{other}"
                    )))
                }
                None => Section::Hosts(Some(inner.to_string())),
            };
            if inner.is_empty() || inner.contains(char::is_whitespace) {
                return Err(EngineError::Invalid(format!(
                    "line {line_no}: [{inner}] is not a group name"
                )));
            }
            let name = match &section {
                Section::Hosts(Some(g)) | Section::Vars(g) | Section::Children(g) => g.clone(),
                Section::Hosts(None) => unreachable!(),
            };
            raw.group(&name);
            continue;
        }
        let w = words(trimmed, line_no)?;
        let Some(first) = w.first() else { continue };
        match &section {
            Section::Hosts(group) => {
                let mut vars = BTreeMap::new();
                for word in &w[1..] {
                    let (k, v) = key_value(word, line_no)?;
                    vars.insert(k, v);
                }
                // `host:2222` is a port, unless it is an IPv6 address (several colons).
                let (name, port) = match first.rsplit_once(':') {
                    Some((h, p)) if !h.contains(':') && !p.contains(']') => {
                        (h.to_string(), Some(p.to_string()))
                    }
                    _ => (first.clone(), None),
                };
                if let Some(p) = port {
                    vars.entry("ansible_port".into()).or_insert(p);
                }
                for host in expand_range(&name, line_no)? {
                    raw.add_host(&host, vars.clone(), group.as_deref());
                }
            }
            Section::Vars(group) => {
                // `key=value` or `key = value`.
                let joined = w.join(" ");
                let (k, v) = key_value(&joined, line_no)?;
                raw.group(group)
                    .vars
                    .insert(k.trim().to_string(), v.trim().to_string());
            }
            Section::Children(group) => {
                let child = first.clone();
                let g = raw.group(group);
                if !g.children.contains(&child) {
                    g.children.push(child.clone());
                }
                raw.group(&child);
            }
        }
    }
    raw.finish()
}

/// Ansible's YAML inventory: top-level groups (usually `all`), each with optional `hosts`
/// (name → variables or nothing), `vars` and `children` (name → a group of the same shape).
pub fn parse_yaml(text: &str) -> Result<Inventory, EngineError> {
    use serde_norway::Value;
    let doc: Value = serde_norway::from_str(text)
        .map_err(|e| EngineError::Invalid(format!("not a YAML inventory: {e}")))?;
    fn scalar(v: &Value) -> Option<String> {
        match v {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    }
    fn vars_of(v: Option<&Value>, whose: &str) -> Result<BTreeMap<String, String>, EngineError> {
        let mut out = BTreeMap::new();
        match v {
            None | Some(Value::Null) => {}
            Some(Value::Mapping(m)) => {
                for (k, val) in m {
                    let key = scalar(k).ok_or_else(|| {
                        EngineError::Invalid(format!("{whose}: a variable name must be a string"))
                    })?;
                    // Lists and maps are Ansible variables we do not use: skipped.
                    if let Some(s) = scalar(val) {
                        out.insert(key, s);
                    }
                }
            }
            Some(_) => {
                return Err(EngineError::Invalid(format!(
                    "{whose}: variables must be a mapping"
                )))
            }
        }
        Ok(out)
    }
    fn group(raw: &mut Raw, name: &str, v: &Value) -> Result<(), EngineError> {
        raw.group(name);
        let m = match v {
            Value::Null => return Ok(()),
            Value::Mapping(m) => m,
            _ => {
                return Err(EngineError::Invalid(format!(
                    "group {name}: expected hosts, vars or children under it"
                )))
            }
        };
        for (k, val) in m {
            match scalar(k).as_deref() {
                Some("hosts") => match val {
                    Value::Null => {}
                    Value::Mapping(hosts) => {
                        for (h, hv) in hosts {
                            let hname = scalar(h).ok_or_else(|| {
                                EngineError::Invalid(format!(
                                    "group {name}: a host name must be a string"
                                ))
                            })?;
                            let vars = vars_of(Some(hv), &format!("host {hname}"))?;
                            for host in expand_range(&hname, 0)? {
                                raw.add_host(&host, vars.clone(), Some(name));
                            }
                        }
                    }
                    _ => {
                        return Err(EngineError::Invalid(format!(
                            "group {name}: hosts must be a mapping (name: variables)"
                        )))
                    }
                },
                Some("vars") => {
                    let vars = vars_of(Some(val), &format!("group {name}"))?;
                    raw.group(name).vars.extend(vars);
                }
                Some("children") => match val {
                    Value::Null => {}
                    Value::Mapping(children) => {
                        for (c, cv) in children {
                            let cname = scalar(c).ok_or_else(|| {
                                EngineError::Invalid(format!(
                                    "group {name}: a child group name must be a string"
                                ))
                            })?;
                            let g = raw.group(name);
                            if !g.children.contains(&cname) {
                                g.children.push(cname.clone());
                            }
                            group(raw, &cname, cv)?;
                        }
                    }
                    _ => {
                        return Err(EngineError::Invalid(format!(
                            "group {name}: children must be a mapping (group: …)"
                        )))
                    }
                },
                other => {
                    return Err(EngineError::Invalid(format!(
                        "group {name}: unexpected key {}; a group has hosts, vars and children",
                        other.unwrap_or("(not a string)")
                    )))
                }
            }
        }
        Ok(())
    }
    let mut raw = Raw::default();
    match &doc {
        Value::Mapping(top) => {
            for (k, v) in top {
                let name = scalar(k)
                    .ok_or_else(|| EngineError::Invalid("a group name must be a string".into()))?;
                group(&mut raw, &name, v)?;
            }
        }
        Value::Null => {}
        _ => {
            return Err(EngineError::Invalid(
                "a YAML inventory is a mapping of groups (e.g. all: {hosts: …})".into(),
            ))
        }
    }
    // `all`'s children are top-level groups, not nested ones: drop the link so depths stay Ansible's.
    if let Some(all) = raw.groups.get_mut("all") {
        all.children.clear();
    }
    raw.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    const INI: &str = r#"
# the production fleet
lonely.example.com

[web]
web[01:03].example.com ansible_user=deploy
db.example.com:2222 ansible_host=10.0.0.9 odoo_instance="/etc/odoo/odoo 17.conf"  ; inline comment

[eu]
web01.example.com ansible_port=2200

[prod:children]
web
eu

[prod:vars]
ansible_user=admin
ansible_ssh_private_key_file=/keys/prod

[all:vars]
ansible_port = 22
"#;

    fn host<'a>(inv: &'a Inventory, name: &str) -> &'a FleetTarget {
        inv.hosts
            .iter()
            .find(|h| h.name == name)
            .unwrap_or_else(|| panic!("{name} in {inv:?}"))
    }

    #[test]
    fn ini_groups_children_vars_ranges_and_quotes() {
        let inv = parse_ini(INI).unwrap();
        let names: Vec<&str> = inv.hosts.iter().map(|h| h.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "lonely.example.com",
                "web01.example.com",
                "web02.example.com",
                "web03.example.com",
                "db.example.com"
            ]
        );
        // Host vars beat the nearer group (web: deploy) which beats its parent (prod: admin).
        let w1 = host(&inv, "web01.example.com");
        assert_eq!(w1.user.as_deref(), Some("deploy"));
        assert_eq!(w1.port, Some(2200), "eu's host line sets the port");
        assert_eq!(w1.key_file.as_deref(), Some(Path::new("/keys/prod")));
        assert_eq!(w1.target(), "ssh://deploy@web01.example.com:2200");
        assert!(w1.groups.contains(&"prod".to_string()) && w1.groups.contains(&"eu".to_string()));
        let db = host(&inv, "db.example.com");
        assert_eq!(db.port, Some(2222));
        assert_eq!(db.address.as_deref(), Some("10.0.0.9"));
        assert_eq!(db.instance.as_deref(), Some("/etc/odoo/odoo 17.conf"));
        assert_eq!(db.target(), "ssh://admin@10.0.0.9:2222");
        let lonely = host(&inv, "lonely.example.com");
        assert_eq!(
            lonely.user, None,
            "prod's vars do not reach an ungrouped host"
        );
        assert_eq!(lonely.port, Some(22), "all:vars do");
        assert_eq!(inv.groups["ungrouped"], ["lonely.example.com"]);
        assert_eq!(inv.groups["prod"].len(), 4);
        assert_eq!(inv.groups["all"].len(), 5);
    }

    #[test]
    fn ini_mistakes_are_named_with_their_line() {
        let e = parse_ini("[web]\nhost1 user\n").unwrap_err().to_string();
        assert!(e.contains("line 2") && e.contains("key=value"), "{e}");
        let e = parse_ini("[web:hosts]\n").unwrap_err().to_string();
        assert!(e.contains("line 1"), "{e}");
        let e = parse_ini("[a:children]\nb\n[b:children]\na\n[a]\nh\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("contains itself"), "{e}");
        let e = parse_ini("[web]\nh ansible_port=abc\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("not a port"), "{e}");
        let e = parse_ini("[web]\nh x=\"open\n").unwrap_err().to_string();
        assert!(e.contains("quote"), "{e}");
    }

    #[test]
    fn ranges_keep_width_and_take_letters() {
        assert_eq!(expand_range("w[08:10]", 1).unwrap(), ["w08", "w09", "w10"]);
        assert_eq!(
            expand_range("db-[a:c]", 1).unwrap(),
            ["db-a", "db-b", "db-c"]
        );
        assert_eq!(expand_range("n[1:5:2]x", 1).unwrap(), ["n1x", "n3x", "n5x"]);
        assert!(expand_range("n[5]", 1).is_err());
    }

    #[test]
    fn yaml_is_read_like_the_ini() {
        let yaml = r#"
all:
  vars:
    ansible_port: 22
  hosts:
    lonely.example.com:
  children:
    prod:
      vars:
        ansible_user: admin
        ansible_ssh_private_key_file: /keys/prod
      children:
        web:
          hosts:
            web[01:03].example.com: { ansible_user: deploy }
            db.example.com:
              ansible_host: 10.0.0.9
              ansible_port: 2222
              odoo_instance: /etc/odoo/odoo 17.conf
        eu:
          hosts:
            web01.example.com: { ansible_port: 2200 }
"#;
        let y = parse_yaml(yaml).unwrap();
        let i = parse_ini(INI).unwrap();
        let mut yh = y.hosts.clone();
        let mut ih = i.hosts.clone();
        for h in yh.iter_mut().chain(ih.iter_mut()) {
            h.groups.sort();
        }
        yh.sort_by(|a, b| a.name.cmp(&b.name));
        ih.sort_by(|a, b| a.name.cmp(&b.name));
        assert_eq!(yh, ih);
        assert_eq!(y.groups, i.groups);
        let e = parse_yaml("all:\n  host:\n    a:\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("unexpected key host"), "{e}");
    }

    #[test]
    fn names_are_targets_as_typed() {
        let inv = Inventory::from_names(&["prod", "root@10.0.0.5"]);
        assert_eq!(inv.hosts[1].target(), "root@10.0.0.5");
        assert_eq!(inv.groups["all"], ["prod", "root@10.0.0.5"]);
    }
}
