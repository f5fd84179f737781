//! `--limit`: Ansible's host patterns over an inventory. Terms are separated by `:` (or `,`);
//! a plain term adds hosts (union), `&term` keeps only hosts also in it (intersection), `!term`
//! removes its hosts (exclusion), applied in that order as Ansible does. A term is a group or a
//! host name, or a glob (`web*`, `db-?`, `[ab]*`) matched against both.

use super::inventory::{FleetTarget, Inventory};
use crate::error::EngineError;
use globset::Glob;

impl Inventory {
    /// The hosts `pattern` selects, in inventory order. A term that matches nothing is an error
    /// naming it (a typo must not silently diagnose fewer servers).
    pub fn limit(&self, pattern: &str) -> Result<Vec<FleetTarget>, EngineError> {
        let mut union: Vec<&str> = Vec::new();
        let mut inter: Vec<&str> = Vec::new();
        let mut excl: Vec<&str> = Vec::new();
        for term in pattern
            .split([':', ','])
            .map(str::trim)
            .filter(|t| !t.is_empty())
        {
            if let Some(t) = term.strip_prefix('&') {
                inter.push(t);
            } else if let Some(t) = term.strip_prefix('!') {
                excl.push(t);
            } else {
                union.push(term);
            }
        }
        if union.is_empty() && inter.is_empty() && excl.is_empty() {
            return Err(EngineError::Invalid(format!(
                "--limit '{pattern}' names no host or group"
            )));
        }
        let mut selected: Vec<bool> = vec![union.is_empty(); self.hosts.len()];
        for t in &union {
            let m = self.matching(t)?;
            for (s, hit) in selected.iter_mut().zip(m) {
                *s |= hit;
            }
        }
        for t in &inter {
            let m = self.matching(t)?;
            for (s, hit) in selected.iter_mut().zip(m) {
                *s &= hit;
            }
        }
        for t in &excl {
            let m = self.matching(t)?;
            for (s, hit) in selected.iter_mut().zip(m) {
                *s &= !hit;
            }
        }
        Ok(self
            .hosts
            .iter()
            .zip(selected)
            .filter(|(_, s)| *s)
            .map(|(h, _)| h.clone())
            .collect())
    }

    /// For each host, whether `term` names it: the host itself, a group of it, or a glob over
    /// host and group names.
    fn matching(&self, term: &str) -> Result<Vec<bool>, EngineError> {
        let is_glob = term.contains(['*', '?', '[']);
        let glob = if is_glob {
            Some(
                Glob::new(term)
                    .map_err(|e| EngineError::Invalid(format!("--limit term '{term}': {e}")))?
                    .compile_matcher(),
            )
        } else {
            None
        };
        let names = |n: &str| match &glob {
            Some(g) => g.is_match(n),
            None => n == term,
        };
        let groups: Vec<&String> = self.groups.keys().filter(|g| names(g)).collect();
        let out: Vec<bool> = self
            .hosts
            .iter()
            .map(|h| {
                names(&h.name)
                    || groups
                        .iter()
                        .any(|g| self.groups[*g].iter().any(|m| *m == h.name))
            })
            .collect();
        if !out.contains(&true) {
            let mut known: Vec<&str> = self.groups.keys().map(String::as_str).collect();
            known.retain(|g| *g != "ungrouped" || !self.groups[*g].is_empty());
            return Err(EngineError::Invalid(format!(
                "--limit term '{term}' matches no host or group of the inventory (groups: {})",
                known.join(", ")
            )));
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use crate::fleet::parse_ini;

    const INV: &str =
        "[web]\nweb1\nweb2\nweb3\n[db]\ndb1\n[eu]\nweb1\ndb1\n[prod:children]\nweb\ndb\n";

    fn names(pattern: &str) -> Vec<String> {
        parse_ini(INV)
            .unwrap()
            .limit(pattern)
            .unwrap()
            .into_iter()
            .map(|h| h.name)
            .collect()
    }

    #[test]
    fn union_intersection_exclusion_and_globs() {
        assert_eq!(names("web"), ["web1", "web2", "web3"]);
        assert_eq!(names("db1:web2"), ["web2", "db1"], "inventory order");
        assert_eq!(names("web,db"), ["web1", "web2", "web3", "db1"]);
        assert_eq!(names("prod:&eu"), ["web1", "db1"]);
        assert_eq!(names("prod:!eu"), ["web2", "web3"]);
        assert_eq!(names("all:!web"), ["db1"]);
        assert_eq!(names("web*:!web3"), ["web1", "web2"]);
        assert_eq!(
            names("!db"),
            ["web1", "web2", "web3"],
            "only exclusions start from all"
        );
        assert_eq!(
            names("pro?"),
            ["web1", "web2", "web3", "db1"],
            "a glob matches groups too"
        );
    }

    #[test]
    fn a_term_matching_nothing_is_an_error_naming_it() {
        let inv = parse_ini(INV).unwrap();
        let e = inv.limit("web:!wbe").unwrap_err().to_string();
        assert!(e.contains("'wbe'") && e.contains("groups: "), "{e}");
        assert!(inv.limit("").is_err());
    }
}
