//! Splits a discovery script's output into its tagged sections (`==> name <==`).

/// Sections in the order printed; a name may repeat (e.g. one per process), so lookups return all.
#[derive(Debug, Default)]
pub struct Sections {
    items: Vec<(String, String)>,
}

impl Sections {
    pub fn parse(output: &str) -> Sections {
        let mut items: Vec<(String, String)> = Vec::new();
        for line in output.split_inclusive('\n') {
            let bare = line.trim_end_matches(['\n', '\r']);
            if let Some(name) = bare
                .strip_prefix("==> ")
                .and_then(|r| r.strip_suffix(" <=="))
            {
                items.push((name.to_string(), String::new()));
            } else if let Some((_, body)) = items.last_mut() {
                body.push_str(line);
            }
        }
        // Each tag is printed after a newline of its own: take exactly that one off the body before
        // it, so a body is byte-exact whether or not its content ended with a newline.
        let last = items.len().saturating_sub(1);
        for (_, body) in items.iter_mut().take(last) {
            if body.ends_with('\n') {
                body.pop();
            }
        }
        Sections { items }
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.items
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, b)| b.as_str())
    }

    /// Sections whose name starts with `prefix`, with the rest of the name.
    pub fn with_prefix<'a>(
        &'a self,
        prefix: &'a str,
    ) -> impl Iterator<Item = (&'a str, &'a str)> + 'a {
        self.items
            .iter()
            .filter_map(move |(n, b)| n.strip_prefix(prefix).map(|rest| (rest, b.as_str())))
    }

    /// Whether the script ran to its last section (a cut-off output is not silently half-read).
    pub fn complete(&self) -> bool {
        self.items.iter().any(|(n, _)| n == "end")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_tagged_sections_and_keeps_bodies_exact() {
        let out = "\n==> os <==\nPRETTY_NAME=\"Debian\"\n\n==> proc 12 file /etc/odoo.conf <==\n[options]\nx = 1\n==> proc 13 cwd <==\n/\n\n==> end <==\n";
        let s = Sections::parse(out);
        assert_eq!(s.get("os"), Some("PRETTY_NAME=\"Debian\"\n"));
        assert_eq!(
            s.get("proc 12 file /etc/odoo.conf"),
            Some("[options]\nx = 1")
        );
        let procs: Vec<_> = s.with_prefix("proc ").map(|(n, _)| n.to_string()).collect();
        assert_eq!(procs, vec!["12 file /etc/odoo.conf", "13 cwd"]);
        assert!(s.complete());
        assert!(!Sections::parse("==> os <==\nx\n").complete());
    }
}
