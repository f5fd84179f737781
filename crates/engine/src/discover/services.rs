//! Odoo instances as their service managers define them: supervisor programs and systemd units
//! whose command runs Odoo, with the manager's own word on their state. An Odoo that does not
//! start (a fatal odoo.conf line, a crash loop) has no process, so `ps` alone never finds the
//! instance that needs help most (issue 9). Pure: parsed from the inventory script's sections.

use super::process::{odoo_program, ProcDetails};
use super::sections::Sections;
use crate::facts::{InstanceState, Service};
use base64::Engine as _;
use std::collections::BTreeMap;

/// One service definition that runs Odoo.
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceDef {
    pub service: Service,
    /// The command it starts, split like a shell would for the simple lines these are.
    pub argv: Vec<String>,
    pub user: Option<String>,
    pub environ: BTreeMap<String, String>,
    pub cwd: Option<String>,
    /// The manager's state words (`FATAL`, `activating auto-restart`), and what they mean.
    pub manager_says: String,
    pub state: InstanceState,
    /// The main pid the manager reports, if any (systemd `MainPID`, supervisor `pid N`).
    pub main_pid: Option<u32>,
}

/// Everything the inventory printed about service definitions.
pub fn parse(s: &Sections) -> Vec<ServiceDef> {
    let mut defs = supervisor_defs(s);
    defs.extend(systemd_defs(s));
    defs
}

/// Config files named by definitions (`def-file <path>` sections), path → bytes.
pub fn def_files(s: &Sections) -> BTreeMap<String, Vec<u8>> {
    s.with_prefix("def-file ")
        .filter_map(|(path, body)| {
            base64::engine::general_purpose::STANDARD
                .decode(body.trim())
                .ok()
                .map(|b| (path.to_string(), b))
        })
        .collect()
}

/// Home directories of the users definitions name (`passwd <user>` sections).
pub fn homes(s: &Sections) -> BTreeMap<String, String> {
    s.with_prefix("passwd ")
        .filter_map(|(user, body)| {
            let home = body.trim().split(':').nth(5)?.to_string();
            Some((user.to_string(), home))
        })
        .collect()
}

/// `release <program>` sections: the version in release.py beside each Odoo program.
pub fn releases(s: &Sections) -> BTreeMap<String, crate::version::OdooVersion> {
    s.with_prefix("release ")
        .filter_map(|(prog, body)| {
            let v = crate::version::OdooVersion::parse(body.lines().find(|l| !l.is_empty())?)?;
            Some((prog.to_string(), v))
        })
        .collect()
}

impl ServiceDef {
    /// What discovery would know of a process, built from the definition instead: the files the
    /// definition names, HOME from its environment or the user's passwd entry.
    pub fn as_process(
        &self,
        files: &BTreeMap<String, Vec<u8>>,
        homes: &BTreeMap<String, String>,
    ) -> ProcDetails {
        let mut environ = self.environ.clone();
        let passwd_home = self.user.as_ref().and_then(|u| homes.get(u)).cloned();
        if !environ.contains_key("HOME") {
            if let Some(h) = &passwd_home {
                environ.insert("HOME".into(), h.clone());
            }
        }
        let conf = crate::facts::cli_option(&self.argv, "config");
        let home = environ.get("HOME").cloned();
        let wanted: Vec<String> = conf
            .into_iter()
            .chain(environ.get("ODOO_RC").cloned())
            .chain(
                home.iter()
                    .flat_map(|h| [format!("{h}/.odoorc"), format!("{h}/.openerp_serverrc")]),
            )
            .collect();
        ProcDetails {
            pid: 0,
            argv: self.argv.clone(),
            environ,
            cgroup: String::new(),
            cwd: self.cwd.clone().unwrap_or_else(|| "/".into()),
            files: wanted
                .iter()
                .filter_map(|p| files.get(p).map(|b| (p.clone(), b.clone())))
                .collect(),
            home_dir: home,
            passwd_home,
            unit_lines: Vec::new(),
            parent_args: None,
        }
    }
}

/// Splits a command line the way supervisor (shlex) and systemd do for plain lines: whitespace,
/// single and double quotes, backslash escapes.
pub fn split_command(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut has = false;
    let mut quote: Option<char> = None;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some('"'), '\\') | (None, '\\') => {
                if let Some(n) = chars.next() {
                    cur.push(n);
                }
            }
            (Some(_), c) => cur.push(c),
            (None, '"') | (None, '\'') => {
                quote = Some(c);
                has = true;
            }
            (None, c) if c.is_whitespace() => {
                if has || !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                    has = false;
                }
            }
            (None, c) => cur.push(c),
        }
    }
    if has || !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// `[section]` → key → value of an INI-like text (supervisor's dialect: `;`/`#` comments, `=` or
/// `:` separators, continuation lines indented). Later files override earlier ones.
fn ini_sections(texts: &[&str]) -> Vec<(String, BTreeMap<String, String>)> {
    let mut out: Vec<(String, BTreeMap<String, String>)> = Vec::new();
    for text in texts {
        let mut current: Option<usize> = None;
        let mut last_key: Option<String> = None;
        for raw in text.lines() {
            let line = raw.trim_end();
            let trimmed = line.trim_start();
            if trimmed.is_empty() || trimmed.starts_with(';') || trimmed.starts_with('#') {
                continue;
            }
            if let Some(name) = trimmed.strip_prefix('[').and_then(|r| r.strip_suffix(']')) {
                let name = name.trim().to_string();
                current = Some(match out.iter().position(|(n, _)| *n == name) {
                    Some(i) => i,
                    None => {
                        out.push((name, BTreeMap::new()));
                        out.len() - 1
                    }
                });
                last_key = None;
                continue;
            }
            let Some(i) = current else { continue };
            if line.starts_with(char::is_whitespace) {
                if let Some(k) = &last_key {
                    let v = out[i].1.entry(k.clone()).or_default();
                    v.push(' ');
                    v.push_str(trimmed);
                }
                continue;
            }
            let sep = trimmed.find(['=', ':']);
            if let Some(p) = sep {
                let key = trimmed[..p].trim().to_ascii_lowercase();
                // supervisor strips an inline comment introduced by " ;".
                let mut value = trimmed[p + 1..].trim().to_string();
                if let Some(c) = value.find(" ;") {
                    value.truncate(c);
                    value = value.trim_end().to_string();
                }
                out[i].1.insert(key.clone(), value);
                last_key = Some(key);
            }
        }
    }
    out
}

/// supervisor's `environment=KEY="val",KEY2=val2`.
fn supervisor_environment(v: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut rest = v.trim();
    while !rest.is_empty() {
        let Some(eq) = rest.find('=') else { break };
        let key = rest[..eq].trim().trim_start_matches(',').trim().to_string();
        rest = &rest[eq + 1..];
        let (value, after) = if let Some(r) = rest.strip_prefix('"') {
            match r.find('"') {
                Some(e) => (r[..e].to_string(), &r[e + 1..]),
                None => (r.to_string(), ""),
            }
        } else {
            match rest.find(',') {
                Some(e) => (rest[..e].trim().to_string(), &rest[e..]),
                None => (rest.trim().to_string(), ""),
            }
        };
        if !key.is_empty() {
            out.insert(key, value);
        }
        rest = after.trim_start_matches(',').trim_start();
    }
    out
}

fn supervisor_defs(s: &Sections) -> Vec<ServiceDef> {
    // Sections: `supervisor <pid> conf <path>`, `supervisor <pid> include <path>`, `… status`.
    let mut by_pid: BTreeMap<u32, (Option<String>, Vec<&str>, &str)> = BTreeMap::new();
    for (rest, body) in s.with_prefix("supervisor ") {
        let mut w = rest.splitn(3, ' ');
        let (Some(pid), Some(what)) = (w.next().and_then(|p| p.parse::<u32>().ok()), w.next())
        else {
            continue;
        };
        let e = by_pid.entry(pid).or_insert((None, Vec::new(), ""));
        match what {
            "conf" => {
                e.0 = w.next().map(String::from);
                e.1.insert(0, body);
            }
            "include" => e.1.push(body),
            "status" => e.2 = body,
            _ => {}
        }
    }
    let mut out = Vec::new();
    for (_, (conf, texts, status)) in by_pid {
        let statuses = parse_supervisor_status(status);
        for (section, kv) in ini_sections(&texts) {
            let Some(program) = section.strip_prefix("program:") else {
                continue;
            };
            let Some(command) = kv.get("command") else {
                continue;
            };
            let argv = split_command(command);
            if odoo_program(&argv).is_none() {
                continue;
            }
            let (manager_says, state, main_pid) = match statuses.get(program) {
                Some((st, detail)) => {
                    let pid = detail
                        .strip_prefix("pid ")
                        .and_then(|r| r.split(',').next())
                        .and_then(|p| p.trim().parse().ok());
                    let says = format!(
                        "supervisor: {st}{}",
                        if detail.is_empty() {
                            String::new()
                        } else {
                            format!(" ({detail})")
                        }
                    );
                    (says.clone(), supervisor_state(st, says), pid)
                }
                None => {
                    let says = "supervisor does not list it (not loaded: `supervisorctl reread`?)"
                        .to_string();
                    (
                        says.clone(),
                        InstanceState::Stopped {
                            manager_says: says,
                            last_error: None,
                        },
                        None,
                    )
                }
            };
            out.push(ServiceDef {
                service: Service::Supervisor {
                    conf: conf.clone(),
                    program: program.to_string(),
                },
                argv,
                user: kv.get("user").cloned(),
                environ: kv
                    .get("environment")
                    .map(|e| supervisor_environment(e))
                    .unwrap_or_default(),
                cwd: kv.get("directory").cloned(),
                manager_says,
                state,
                main_pid,
            });
        }
    }
    out
}

/// `supervisorctl status` lines: `name   STATE   detail`.
fn parse_supervisor_status(text: &str) -> BTreeMap<String, (String, String)> {
    text.lines()
        .filter_map(|l| {
            let mut w = l.split_whitespace();
            let name = w.next()?.to_string();
            let state = w.next()?.to_string();
            if !state.chars().all(|c| c.is_ascii_uppercase()) {
                return None;
            }
            let detail = w.collect::<Vec<_>>().join(" ");
            // A program in a group is listed as `group:program`; a lone one as `program`.
            let key = name.rsplit(':').next().unwrap_or(&name).to_string();
            Some((key, (state, detail)))
        })
        .collect()
}

fn supervisor_state(st: &str, says: String) -> InstanceState {
    match st {
        "RUNNING" => InstanceState::Running,
        "STARTING" => InstanceState::Starting { manager_says: says },
        "BACKOFF" | "FATAL" => InstanceState::CrashLoop {
            manager_says: says,
            last_error: None,
        },
        _ => InstanceState::Stopped {
            manager_says: says,
            last_error: None,
        },
    }
}

fn systemd_defs(s: &Sections) -> Vec<ServiceDef> {
    let mut units: BTreeMap<&str, (BTreeMap<String, String>, &str)> = BTreeMap::new();
    for (rest, body) in s.with_prefix("unit ") {
        let Some((unit, what)) = rest.rsplit_once(' ') else {
            continue;
        };
        let e = units.entry(unit).or_insert((BTreeMap::new(), ""));
        match what {
            "show" => {
                e.0 = body
                    .lines()
                    .filter_map(|l| {
                        l.split_once('=')
                            .map(|(k, v)| (k.to_string(), v.to_string()))
                    })
                    .collect()
            }
            "cat" => e.1 = body,
            _ => {}
        }
    }
    let mut out = Vec::new();
    for (unit, (show, cat)) in units {
        let mut exec = None;
        let mut user = None;
        let mut cwd = None;
        let mut environ = BTreeMap::new();
        for l in cat.lines().map(str::trim) {
            if let Some(v) = l.strip_prefix("ExecStart=") {
                // An empty ExecStart= in a drop-in resets the list; the last one wins.
                exec = Some(v.trim_start_matches(['-', '@', '+', '!', ':']).to_string())
                    .filter(|v| !v.is_empty());
            } else if let Some(v) = l.strip_prefix("User=") {
                user = Some(v.trim().to_string());
            } else if let Some(v) = l.strip_prefix("WorkingDirectory=") {
                cwd = Some(v.trim().trim_start_matches('-').to_string());
            } else if let Some(v) = l.strip_prefix("Environment=") {
                for kv in split_command(v) {
                    if let Some((k, v)) = kv.split_once('=') {
                        environ.insert(k.to_string(), v.to_string());
                    }
                }
            }
        }
        let Some(exec) = exec else { continue };
        let argv = split_command(&exec);
        if odoo_program(&argv).is_none() {
            continue;
        }
        let get = |k: &str| show.get(k).map(String::as_str).unwrap_or("");
        let (active, sub, result) = (get("ActiveState"), get("SubState"), get("Result"));
        let restarts = get("NRestarts");
        let mut says = format!("systemd: {active} ({sub})");
        if !result.is_empty() && result != "success" {
            says.push_str(&format!(", result {result}"));
        }
        if !restarts.is_empty() && restarts != "0" {
            says.push_str(&format!(", restarted {restarts} times"));
        }
        let state = match (active, sub) {
            ("active", _) | ("reloading", _) => InstanceState::Running,
            ("activating", "auto-restart") | ("failed", _) => InstanceState::CrashLoop {
                manager_says: says.clone(),
                last_error: None,
            },
            ("activating", _) => InstanceState::Starting {
                manager_says: says.clone(),
            },
            _ => InstanceState::Stopped {
                manager_says: says.clone(),
                last_error: None,
            },
        };
        out.push(ServiceDef {
            service: Service::Systemd {
                unit: unit.to_string(),
            },
            argv,
            user,
            environ,
            cwd,
            manager_says: says,
            state,
            main_pid: get("MainPID").parse().ok().filter(|&p: &u32| p > 0),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sections(text: &str) -> Sections {
        Sections::parse(text)
    }

    #[test]
    fn supervisor_programs_that_run_odoo_with_their_state() {
        let s = sections(
            "\n==> supervisor 40 conf /etc/supervisor/supervisord.conf <==\n\
             [supervisord]\nlogfile=/var/log/supervisor/supervisord.log\n\
             [include]\nfiles = /etc/supervisor/conf.d/*.conf\n\
             \n==> supervisor 40 include /etc/supervisor/conf.d/odoo.conf <==\n\
             [program:odoo]\n; production\ncommand=/opt/odoo/venv/bin/python3 /opt/odoo/odoo-bin -c /etc/odoo.conf\n\
             user=odoo\nenvironment=HOME=\"/opt/odoo\",LANG=C.UTF-8\ndirectory=/opt/odoo\n\
             [program:celery]\ncommand=/usr/bin/celery worker\n\
             \n==> supervisor 40 status <==\n\
             celery                           RUNNING   pid 77, uptime 1:00:00\n\
             odoo                             FATAL     Exited too quickly (process log may have details)\n\
             \n==> end <==\n",
        );
        let defs = parse(&s);
        assert_eq!(defs.len(), 1, "{defs:?}");
        let d = &defs[0];
        assert_eq!(
            d.service,
            Service::Supervisor {
                conf: Some("/etc/supervisor/supervisord.conf".into()),
                program: "odoo".into()
            }
        );
        assert_eq!(d.user.as_deref(), Some("odoo"));
        assert_eq!(d.environ.get("HOME").map(String::as_str), Some("/opt/odoo"));
        assert_eq!(d.environ.get("LANG").map(String::as_str), Some("C.UTF-8"));
        assert!(
            matches!(d.state, InstanceState::CrashLoop { .. }),
            "{:?}",
            d.state
        );
        assert!(d.manager_says.contains("FATAL"));
        assert_eq!(
            crate::facts::cli_option(&d.argv, "config").as_deref(),
            Some("/etc/odoo.conf")
        );
    }

    #[test]
    fn systemd_units_in_a_crash_loop_and_stopped() {
        let s = sections(
            "\n==> unit odoo.service show <==\nActiveState=activating\nSubState=auto-restart\nMainPID=0\nNRestarts=14\nResult=exit-code\n\
             \n==> unit odoo.service cat <==\n# /lib/systemd/system/odoo.service\n[Service]\nType=simple\nUser=odoo\n\
             ExecStart=/usr/bin/odoo --config /etc/odoo/odoo.conf --logfile /var/log/odoo/odoo-server.log\n\
             \n==> unit odoo-staging.service show <==\nActiveState=inactive\nSubState=dead\nMainPID=0\nNRestarts=0\nResult=success\n\
             \n==> unit odoo-staging.service cat <==\n[Service]\nExecStart=\nExecStart=/opt/staging/odoo-bin -c \"/etc/odoo staging.conf\"\nEnvironment=\"HOME=/opt/staging\" ODOO_SKIP_GC_SESSIONS=1\n\
             \n==> end <==\n",
        );
        let defs = parse(&s);
        assert_eq!(defs.len(), 2);
        let prod = defs
            .iter()
            .find(|d| {
                d.service
                    == Service::Systemd {
                        unit: "odoo.service".into(),
                    }
            })
            .unwrap();
        assert!(matches!(prod.state, InstanceState::CrashLoop { .. }));
        assert!(
            prod.manager_says.contains("auto-restart") && prod.manager_says.contains("14 times")
        );
        let staging = defs
            .iter()
            .find(|d| {
                d.service
                    == Service::Systemd {
                        unit: "odoo-staging.service".into(),
                    }
            })
            .unwrap();
        assert!(matches!(staging.state, InstanceState::Stopped { .. }));
        assert_eq!(
            crate::facts::cli_option(&staging.argv, "config").as_deref(),
            Some("/etc/odoo staging.conf")
        );
        assert_eq!(
            staging.environ.get("HOME").map(String::as_str),
            Some("/opt/staging")
        );
    }

    #[test]
    fn commands_split_like_a_shell() {
        assert_eq!(
            split_command(
                r#"/usr/bin/python3 "/opt/my odoo/odoo-bin" -c '/etc/a b.conf' --x=y\ z"#
            ),
            vec![
                "/usr/bin/python3",
                "/opt/my odoo/odoo-bin",
                "-c",
                "/etc/a b.conf",
                "--x=y z"
            ]
        );
    }
}
