//! Parses the inventory script's sections: host, Odoo processes grouped into instances, their
//! config files, nginx dumps and file deleters. Pure: tested on captured outputs.

pub use super::process::{odoo_program, ProcDetails};
use super::sections::Sections;
use crate::facts::{Cleaner, CleanerKind, Service};
use base64::Engine as _;
use std::collections::BTreeMap;

#[derive(Debug, Clone)]
pub struct PsLine {
    pub pid: u32,
    pub ppid: u32,
    pub user: String,
    pub args: String,
}

/// `ps -eo pid=,ppid=,user:32=,args=` lines.
pub fn parse_ps(text: &str) -> Vec<PsLine> {
    text.lines()
        .filter_map(|l| {
            let mut it = l.split_whitespace();
            let pid = it.next()?.parse().ok()?;
            let ppid = it.next()?.parse().ok()?;
            let user = it.next()?.to_string();
            let rest: Vec<&str> = it.collect();
            (!rest.is_empty()).then(|| PsLine {
                pid,
                ppid,
                user,
                args: rest.join(" "),
            })
        })
        .collect()
}

#[derive(Debug, Clone)]
pub struct NginxDumpRaw {
    pub pid: u32,
    pub command: String,
    pub master_args: String,
    pub dump: String,
    pub stderr: String,
}

#[derive(Debug, Default)]
pub struct Inventory {
    pub os: String,
    pub kernel: String,
    pub cpus: u32,
    pub mem_total_bytes: u64,
    pub ps: Vec<PsLine>,
    pub procs: BTreeMap<u32, ProcDetails>,
    pub nginx: Vec<NginxDumpRaw>,
    pub cleaners: Vec<Cleaner>,
    /// Supervisor programs and systemd units that run Odoo, running or not.
    pub services: Vec<super::services::ServiceDef>,
    /// Config files those definitions name, path → bytes.
    pub def_files: BTreeMap<String, Vec<u8>>,
    /// Home directories of the users those definitions name.
    pub homes: BTreeMap<String, String>,
    /// Odoo program path → the version its release.py says.
    pub releases: BTreeMap<String, crate::version::OdooVersion>,
}

impl Inventory {
    pub fn parse(s: &Sections) -> Inventory {
        let mut inv = Inventory {
            os: s
                .get("os")
                .and_then(|t| {
                    t.lines()
                        .find_map(|l| l.strip_prefix("PRETTY_NAME="))
                        .map(|v| v.trim_matches('"').to_string())
                })
                .unwrap_or_default(),
            kernel: s.get("uname").unwrap_or("").trim().to_string(),
            cpus: s
                .get("cpus")
                .and_then(|t| t.trim().parse().ok())
                .unwrap_or(0),
            mem_total_bytes: s
                .get("meminfo")
                .and_then(|t| t.lines().find(|l| l.starts_with("MemTotal:")))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
                .map(|kb| kb * 1024)
                .unwrap_or(0),
            ps: parse_ps(s.get("ps").unwrap_or("")),
            ..Default::default()
        };
        for (rest, body) in s.with_prefix("proc ") {
            let (pid, what) = match rest.split_once(' ') {
                Some((p, w)) => match p.parse::<u32>() {
                    Ok(pid) => (pid, w),
                    Err(_) => continue,
                },
                None => continue,
            };
            let d = inv.procs.entry(pid).or_insert_with(|| ProcDetails {
                pid,
                ..Default::default()
            });
            if what == "cmdline" {
                d.argv = body
                    .lines()
                    .filter(|l| !l.is_empty())
                    .map(String::from)
                    .collect();
            } else if what == "environ" {
                d.environ = body
                    .lines()
                    .filter_map(|l| {
                        l.split_once('=')
                            .map(|(k, v)| (k.to_string(), v.to_string()))
                    })
                    .collect();
            } else if what == "cgroup" {
                d.cgroup = body.to_string();
            } else if what == "cwd" {
                d.cwd = body.trim().to_string();
            } else if let Some(path) = what.strip_prefix("file ") {
                if let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(body.trim()) {
                    d.files.push((path.to_string(), bytes));
                }
            } else if what == "home-dir" {
                d.home_dir = Some(body.trim().to_string()).filter(|h| !h.is_empty());
            } else if what == "passwd-home" {
                d.passwd_home = Some(body.trim().to_string()).filter(|h| !h.is_empty());
            } else if what.starts_with("unit ") {
                d.unit_lines = body.lines().map(String::from).collect();
            } else if what == "parent" {
                d.parent_args = Some(body.trim().to_string());
            }
        }
        let mut nginx: BTreeMap<u32, NginxDumpRaw> = BTreeMap::new();
        for (rest, body) in s.with_prefix("nginx ") {
            let Some((pid, what)) = rest.split_once(' ') else {
                continue;
            };
            let Ok(pid) = pid.parse::<u32>() else {
                continue;
            };
            let n = nginx.entry(pid).or_insert_with(|| NginxDumpRaw {
                pid,
                command: String::new(),
                master_args: String::new(),
                dump: String::new(),
                stderr: String::new(),
            });
            match what {
                "command" => {
                    let mut lines = body.lines();
                    n.command = lines.next().unwrap_or("").to_string();
                    n.master_args = lines.next().unwrap_or("").to_string();
                }
                "dump" => n.dump = body.to_string(),
                "stderr" => n.stderr = body.to_string(),
                _ => {}
            }
        }
        inv.nginx = nginx.into_values().collect();
        inv.cleaners = parse_cleaners(s);
        inv.services = super::services::parse(s);
        inv.def_files = super::services::def_files(s);
        inv.homes = super::services::homes(s);
        inv.releases = super::services::releases(s);
        inv
    }
}

/// `grep -Hn` lines (`file:line:text`) from the cron, systemd, tmpfiles and tmpreaper sections.
fn parse_cleaners(s: &Sections) -> Vec<Cleaner> {
    let mut out = Vec::new();
    for (section, kind) in [
        ("cron", CleanerKind::Cron),
        ("systemd", CleanerKind::SystemdUnit),
        ("tmpfiles", CleanerKind::Tmpfiles),
        ("tmpreaper", CleanerKind::Tmpreaper),
    ] {
        for l in s.get(section).unwrap_or("").lines() {
            let mut parts = l.splitn(3, ':');
            let (Some(file), Some(line), Some(text)) = (parts.next(), parts.next(), parts.next())
            else {
                continue;
            };
            let Ok(line) = line.parse() else { continue };
            out.push(Cleaner {
                kind: kind.clone(),
                file: file.to_string(),
                line,
                text: text.trim().to_string(),
            });
        }
    }
    out
}

/// How the process is run and restarted, from its environment, cgroup and parent.
pub fn service_of(d: &ProcDetails) -> Service {
    if let Some(name) = d.environ.get("SUPERVISOR_PROCESS_NAME") {
        let group = d
            .environ
            .get("SUPERVISOR_GROUP_NAME")
            .cloned()
            .unwrap_or_else(|| name.clone());
        let program = if &group == name {
            name.clone()
        } else {
            format!("{group}:{name}")
        };
        let conf = d.parent_args.as_deref().and_then(|a| {
            let words: Vec<&str> = a.split_whitespace().collect();
            words
                .windows(2)
                .find(|w| w[0] == "-c" || w[0] == "--configuration")
                .map(|w| w[1].to_string())
        });
        return Service::Supervisor { conf, program };
    }
    for line in d.cgroup.lines() {
        let path = line.rsplit(':').next().unwrap_or("");
        if let Some(id) = path
            .rsplit('/')
            .next()
            .and_then(|leaf| {
                leaf.strip_prefix("docker-")
                    .and_then(|r| r.strip_suffix(".scope"))
            })
            .or_else(|| {
                path.split("/docker/")
                    .nth(1)
                    .map(|r| r.split('/').next().unwrap_or(r))
            })
        {
            return Service::Docker {
                container: id.chars().take(12).collect(),
            };
        }
        if let Some(unit) = path.rsplit('/').next().filter(|u| u.ends_with(".service")) {
            if !unit.starts_with("user@") && !path.contains("/user.slice/") {
                return Service::Systemd {
                    unit: unit.to_string(),
                };
            }
        }
    }
    Service::Manual
}

/// Arguments with secret values replaced, for display (`-w secret`, `--db_password=secret`).
pub fn redact_args(argv: &[String]) -> Vec<String> {
    let secretish = |flag: &str| {
        let f = flag.trim_start_matches('-').to_ascii_lowercase();
        f == "w" || f.contains("passw") || f.contains("secret") || f.contains("token")
    };
    let mut out = Vec::with_capacity(argv.len());
    let mut hide_next = false;
    for a in argv {
        if hide_next {
            out.push("********".to_string());
            hide_next = false;
        } else if let Some((flag, _)) = a
            .split_once('=')
            .filter(|(f, _)| f.starts_with('-') && secretish(f))
        {
            out.push(format!("{flag}=********"));
        } else if a.starts_with('-') && secretish(a) {
            out.push(a.clone());
            hide_next = true;
        } else {
            out.push(a.clone());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn recognises_odoo_programs_of_every_deployment_shape() {
        assert_eq!(
            odoo_program(&argv(
                "/usr/bin/python3 /usr/bin/odoo --config /etc/odoo/odoo.conf"
            )),
            Some("/usr/bin/odoo")
        );
        assert_eq!(
            odoo_program(&argv(
                "/opt/odoo/venv/bin/python3 /opt/odoo/odoo-bin -c /etc/odoo.conf"
            )),
            Some("/opt/odoo/odoo-bin")
        );
        assert_eq!(
            odoo_program(&argv("./odoo-bin -c odoo.conf")),
            Some("./odoo-bin")
        );
        assert_eq!(
            odoo_program(&argv("python2.7 /opt/openerp/openerp-server -c x")),
            Some("/opt/openerp/openerp-server")
        );
        assert_eq!(odoo_program(&argv("tail -f /var/log/odoo/odoo.log")), None);
        assert_eq!(
            odoo_program(&argv(
                "/usr/bin/python3 /usr/bin/supervisord -c /etc/odoo.conf"
            )),
            None
        );
    }

    #[test]
    fn services_come_from_environment_cgroup_and_parent() {
        let mut d = ProcDetails::default();
        d.cgroup = "0::/system.slice/odoo.service\n".into();
        assert_eq!(
            service_of(&d),
            Service::Systemd {
                unit: "odoo.service".into()
            }
        );
        d.cgroup = "0::/system.slice/docker-3f2a1b9c8d7e6f5a4b3c.scope\n".into();
        assert_eq!(
            service_of(&d),
            Service::Docker {
                container: "3f2a1b9c8d7e".into()
            }
        );
        d.cgroup = "0::/user.slice/user-1000.slice/session-3.scope\n".into();
        assert_eq!(service_of(&d), Service::Manual);
        d.environ
            .insert("SUPERVISOR_PROCESS_NAME".into(), "odoo".into());
        d.environ
            .insert("SUPERVISOR_GROUP_NAME".into(), "odoo".into());
        d.parent_args = Some(
            "/usr/bin/python3 /usr/bin/supervisord -c /etc/supervisor/supervisord.conf".into(),
        );
        assert_eq!(
            service_of(&d),
            Service::Supervisor {
                conf: Some("/etc/supervisor/supervisord.conf".into()),
                program: "odoo".into()
            }
        );
    }

    #[test]
    fn secrets_on_the_command_line_are_redacted() {
        let red = redact_args(&argv(
            "odoo-bin -c x -w hunter2 --db_password=hunter3 --admin-passwd s3 -p 8069",
        ));
        let joined = red.join(" ");
        assert!(
            !joined.contains("hunter") && !joined.contains("s3 "),
            "{joined}"
        );
        assert!(joined.contains("-p 8069"));
    }

    #[test]
    fn ps_lines_keep_the_whole_command() {
        let ps = parse_ps(
            "  812     1 odoo      /usr/bin/python3 /usr/bin/odoo --config /etc/odoo/odoo.conf\n",
        );
        assert_eq!(ps[0].pid, 812);
        assert_eq!(ps[0].user, "odoo");
        assert_eq!(
            ps[0].args,
            "/usr/bin/python3 /usr/bin/odoo --config /etc/odoo/odoo.conf"
        );
    }
}
