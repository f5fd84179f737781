//! The Ansible export (issue 14): one [`ChangeSet`] and the [`Facts`] it was planned from, as a
//! standalone playbook that makes exactly that change on hosts like this one, for people whose
//! servers change only through Ansible.
//!
//! What each part of the change set becomes, and why:
//!
//! - **odoo.conf**: one `lineinfile` per changed `[options]` key, carrying the key's line as our
//!   planner wrote it (so a file we fixed ourselves is already "ok"), `backup: yes`, and a
//!   `validate` that reads the candidate with Python's `configparser.RawConfigParser` — what Odoo
//!   itself reads odoo.conf with — and refuses a file without `[options]`. Never a copy of the
//!   whole file: the playbook must not carry `admin_passwd` or `db_password`. Its content guard
//!   (before anything is written) checks on the host that every key to change holds the planned
//!   old value or the new one, and a last check that all hold the new value.
//! - **nginx and cron files**: a `copy` of the after-image, guarded by the file's SHA-256 (it
//!   must hold the planned before-image, or already the after-image: the plan saw this file, not
//!   another). nginx cannot check one site file alone (`nginx -t -c site.conf` reads it as a whole
//!   configuration and fails on `server` outside `http`), so the candidate is put in place and
//!   the whole configuration tested with the same `nginx -t -c nginx.conf` our own apply runs; a
//!   rejected candidate is restored from its backup in the block's `rescue` and the play fails,
//!   before the reload handler could run. Until the reload the running nginx keeps serving the
//!   old configuration, so the candidate is only live once it passed. The backup is made into
//!   `osd_backup_dir` rather than with `backup: yes`: `backup: yes` leaves `site.conf.1234.…~`
//!   beside the file, and an `include sites-enabled/*;` would load it as a second server.
//! - **system parameters**: a `command` running the same Python writer our own apply runs on the
//!   host ([`super::onhost::PARAMS_PY`]), with the instance's own interpreter as Odoo's user,
//!   connecting exactly as Odoo does (odoo.conf's `db_*` read on the host at run time, so no
//!   database credential is in the playbook). The changes go to it on stdin as JSON and reach
//!   SQL as query parameters, never spliced. A row holding neither the planned old nor the new
//!   value fails the play (someone else changed it). `community.postgresql` is not used: it would
//!   need the database credentials in the playbook or a login Odoo does not use.
//! - **services**: handlers from the change set's [`ServiceAction`]s, in its order (the test and
//!   reload of nginx; Odoo's restart through the service manager discovery found), then a health
//!   wait on Odoo's port and, when the change sets `sessions.max_inactivity_seconds`, an assert
//!   that a fresh `/web/login` answers with a `session_id` cookie of that `Max-Age`.
//!
//! Check mode (`--check --diff`) writes nothing: the copies and line edits show their diffs, the
//! parameter writer runs with `dry` (it says what it would write, in a transaction it rolls back)
//! and the handlers, health wait and assert are skipped. A second run changes nothing.
//!
//! The playbook does not record a change set in our format on the host, so `odoo-session-doctor
//! rollback` and `history` do not know about it: a record needs the before-image of odoo.conf,
//! secrets included, which this playbook is not allowed to carry. Undo is the playbook's backups
//! plus the old values it lists; the header says how.

use super::{ChangeSet, FileChange, FileKind, ServiceAction};
use crate::error::EngineError;
use crate::facts::Facts;
use crate::odoo_conf::{is_secret_key, OdooConf};
use serde_json::{json, Value};

/// Where the nginx and cron before-images go on the host (the variable `osd_backup_dir`).
pub const BACKUP_DIR: &str = "/var/lib/odoo-session-doctor/ansible-backups";

/// Reads an odoo.conf as Odoo does (`configparser.RawConfigParser`): the `validate` of the
/// `lineinfile` edits. Double quotes only: it sits in single quotes in the validate command.
const CONF_VALIDATE_PY: &str = r#"import configparser, sys; p = configparser.RawConfigParser(); p.read_file(open(sys.argv[1])); sys.exit(0 if p.has_section("options") else "no [options] section")"#;

/// The odoo.conf guard: stdin `{"keys": {key: [allowed values]}}` (null = absent); fails naming
/// the keys that hold something else. Prints no value (only key names).
const CONF_GUARD_PY: &str = r#"import configparser, json, sys
spec = json.load(sys.stdin)
p = configparser.RawConfigParser()
p.read_file(open(sys.argv[1]))
bad = []
for key, allowed in sorted(spec["keys"].items()):
    cur = p.get("options", key) if p.has_option("options", key) else None
    if cur not in allowed:
        bad.append(key)
if bad:
    sys.exit("%s in %s: %s" % (", ".join(bad), sys.argv[1], spec["why"]))
print("ok")
"#;

/// Runs the parameter writer with the instance's own Python (the interpreter of its program, as
/// `run.sh` does), from `/` (Odoo's user may not read root's working directory).
const PARAMS_SH: &str = r#"py=$(sed -n '1s/^#![[:space:]]*//p' "$1" 2>/dev/null); cd / && exec ${py:-python3} -c "$2" apply "" "$3""#;

const LIFETIME_KEY: &str = "sessions.max_inactivity_seconds";

/// The playbook for `cs` as YAML text. Refuses (`EngineError::Invalid`) a change set with nothing
/// to change, an odoo.conf edit it cannot express key by key without carrying secrets, and files
/// that are not text.
pub fn playbook(cs: &ChangeSet, facts: &Facts) -> Result<String, EngineError> {
    if cs.is_empty() {
        return Err(EngineError::Invalid(
            "nothing to change: there is no playbook to export".into(),
        ));
    }
    let o = &facts.odoo;
    let port = o.http_port();
    let interface = o
        .option("http_interface")
        .filter(|i| !i.trim().is_empty() && i.trim() != "0.0.0.0" && i.trim() != "::")
        .unwrap_or_else(|| "127.0.0.1".into());
    let checks: Vec<&str> = cs.checks.iter().map(|c| c.as_str()).collect();
    let restart_handler = "restart odoo";
    let reload_handler = "reload nginx";
    let has_restart = cs
        .services
        .iter()
        .any(|s| matches!(s, ServiceAction::RestartOdoo { .. }));
    let has_reload = cs
        .services
        .iter()
        .any(|s| matches!(s, ServiceAction::ReloadNginx { .. }));
    let notify = |kind: FileKind| -> Option<&str> {
        match kind {
            FileKind::Nginx if has_reload => Some(reload_handler),
            FileKind::OdooConf if has_restart => Some(restart_handler),
            _ => None,
        }
    };

    let mut vars = serde_json::Map::new();
    vars.insert(
        "osd_odoo_url".into(),
        json!(format!("http://{}:{port}", host_in_url(&interface))),
    );
    vars.insert("osd_backup_dir".into(), json!(BACKUP_DIR));
    let mut tasks: Vec<Value> = Vec::new();

    // odoo.conf: guard, line edits, final check.
    for f in cs.files.iter().filter(|f| f.kind == FileKind::OdooConf) {
        tasks.extend(conf_tasks(f, notify(f.kind), &mut vars)?);
    }

    // nginx and cron files: guard, backup, copy; nginx tested as a whole once all are in place.
    let copies: Vec<&FileChange> = cs
        .files
        .iter()
        .filter(|f| f.kind != FileKind::OdooConf)
        .collect();
    if !copies.is_empty() {
        let mut block = Vec::new();
        let mut rescue = Vec::new();
        for (i, f) in copies.iter().enumerate() {
            let (pre, put, undo) = copy_tasks(i, f, notify(f.kind))?;
            tasks.extend(pre);
            block.extend(put);
            rescue.push(undo);
        }
        let nginx_vars: Vec<String> = copies
            .iter()
            .enumerate()
            .filter(|(_, f)| f.kind == FileKind::Nginx)
            .map(|(i, _)| format!("osd_file_{i} is changed"))
            .collect();
        if let Some(ServiceAction::ReloadNginx { test, .. }) = cs
            .services
            .iter()
            .find(|s| matches!(s, ServiceAction::ReloadNginx { .. }))
        {
            if !nginx_vars.is_empty() {
                block.push(json!({
                    "name": format!("nginx accepts the whole configuration with the edit in place ({})", test.join(" ")),
                    "ansible.builtin.command": {"argv": test},
                    "changed_when": false,
                    "when": nginx_vars.join(" or "),
                }));
            }
        }
        rescue.push(json!({
            "name": "stop: the edited files were restored from their backups",
            "ansible.builtin.fail": {"msg": "The edit was refused ({{ ansible_failed_result.msg | default(ansible_failed_result.stderr | default('see above')) }}); the files are back as they were and nothing was reloaded."},
        }));
        tasks.push(json!({
            "name": "put the edited files in place and test them",
            "block": block,
            "rescue": rescue,
        }));
    }

    // System parameters.
    if !cs.params.is_empty() {
        let params: Value = serde_json::from_slice(&super::onhost::params_json(cs, facts))
            .expect("params.json is JSON");
        vars.insert("osd_params".into(), params);
        vars.insert("osd_params_py".into(), json!(super::onhost::PARAMS_PY));
        let user = if o.user.is_empty() {
            "root"
        } else {
            o.user.as_str()
        };
        let mut argv: Vec<String> = Vec::new();
        if user != "root" {
            argv.extend(["runuser", "-u", user, "--"].map(String::from));
        }
        argv.extend([
            "sh".into(),
            "-c".into(),
            PARAMS_SH.into(),
            "sh".into(),
            o.program.clone().unwrap_or_default(),
            "{{ osd_params_py }}".into(),
            "{{ 'dry' if ansible_check_mode else 'write' }}".into(),
        ]);
        let mut task = json!({
            "name": "system parameters (only rows that still hold the planned old value; as Odoo connects)",
            "ansible.builtin.command": {"argv": argv, "stdin": "{{ osd_params | to_json }}"},
            "check_mode": false,
            "register": "osd_params_out",
            "changed_when": "'wrote ' in osd_params_out.stdout or 'would write ' in osd_params_out.stdout",
        });
        if has_restart {
            task["notify"] = json!(restart_handler);
        }
        tasks.push(task);
        let shown: Vec<String> = cs
            .params
            .iter()
            .map(|p| {
                let show = |v: &Option<String>| v.clone().unwrap_or_else(|| "(absent)".into());
                format!(
                    "{} in database {}: {} -> {}",
                    p.key,
                    p.db,
                    show(&p.old),
                    show(&p.new)
                )
            })
            .collect();
        tasks.push(json!({
            "name": "system parameters planned",
            "ansible.builtin.debug": {"msg": shown},
            "when": "osd_params_out is changed",
        }));
    }

    // Services, then health and the observed lifetime.
    let mut handlers = Vec::new();
    for s in &cs.services {
        match s {
            ServiceAction::ReloadNginx { test, reload } => {
                handlers.push(json!({
                    "name": "test nginx before the reload",
                    "ansible.builtin.command": {"argv": test},
                    "changed_when": false,
                    "listen": reload_handler,
                }));
                handlers.push(json!({
                    "name": format!("reload nginx ({})", reload.join(" ")),
                    "ansible.builtin.command": {"argv": reload},
                    "listen": reload_handler,
                }));
            }
            ServiceAction::RestartOdoo {
                command, service, ..
            } => {
                handlers.push(json!({
                    "name": format!("restart Odoo ({service}: {})", command.join(" ")),
                    "ansible.builtin.command": {"argv": command},
                    "listen": restart_handler,
                }));
            }
        }
    }
    tasks.push(json!({"name": "reload and restart what changed", "ansible.builtin.meta": "flush_handlers"}));
    tasks.push(json!({
        "name": format!("Odoo listens on port {port}"),
        "ansible.builtin.wait_for": {"host": interface, "port": port, "timeout": 90},
        "when": "not ansible_check_mode",
    }));
    tasks.push(json!({
        "name": "Odoo answers /web/login",
        "ansible.builtin.uri": {"url": "{{ osd_odoo_url }}/web/login", "status_code": 200},
        "register": "osd_login",
        "until": "osd_login.status == 200",
        "retries": 45,
        "delay": 2,
        "when": "not ansible_check_mode",
    }));
    if let Some(max_age) = cs
        .params
        .iter()
        .filter(|p| p.key == LIFETIME_KEY)
        .find_map(|p| p.new.as_deref())
    {
        vars.insert("osd_expected_max_age".into(), json!(max_age));
        tasks.push(json!({
            "name": format!("a fresh session cookie lives {LIFETIME_KEY} ({max_age} s)"),
            "ansible.builtin.assert": {
                "that": ["('Max-Age=' ~ osd_expected_max_age ~ ';') in (osd_login.set_cookie | default(''))"],
                "fail_msg": "/web/login answered Set-Cookie {{ osd_login.set_cookie | default('(none)') }}: the session cookie does not carry Max-Age={{ osd_expected_max_age }}",
                "success_msg": "session_id carries Max-Age={{ osd_expected_max_age }}",
            },
            "when": "not ansible_check_mode",
        }));
    }

    let mut play = json!({
        "name": format!("Odoo Session Doctor: {} (planned on {})", checks.join(", "), facts.host.name),
        "hosts": "{{ osd_hosts | default('all') }}",
        "gather_facts": false,
        "vars": Value::Object(vars),
        "tasks": tasks,
    });
    if !handlers.is_empty() {
        play["handlers"] = json!(handlers);
    }
    let mut doc = serde_norway::to_value(json!([play]))
        .map_err(|e| EngineError::Invalid(format!("the playbook does not serialize: {e}")))?;
    mark_unsafe(&mut doc, false);
    let body = serde_norway::to_string(&doc)
        .map_err(|e| EngineError::Invalid(format!("the playbook does not serialize: {e}")))?;
    Ok(format!("{}{body}", header(cs, facts)))
}

/// Texts taken from the host or from our own scripts (file contents, odoo.conf lines, parameter
/// values, the Python) are data, not Jinja: tagged `!unsafe` so Ansible never templates them (an
/// nginx file may hold `{{`, a parameter value `{%`).
fn mark_unsafe(v: &mut serde_norway::Value, inside: bool) {
    use serde_norway::value::{Tag, TaggedValue, Value as Y};
    const DATA: &[&str] = &["content", "line", "osd_params_py", "osd_params"];
    match v {
        Y::String(s) if inside => {
            *v = Y::Tagged(Box::new(TaggedValue {
                tag: Tag::new("unsafe"),
                value: Y::String(std::mem::take(s)),
            }))
        }
        Y::Mapping(m) => {
            // A task reads best with its name first (serde_json sorted the keys).
            if let Some(name) = m.remove("name") {
                let rest = std::mem::take(m);
                m.insert("name".into(), name);
                m.extend(rest);
            }
            for (k, val) in m.iter_mut() {
                let data = k
                    .as_str()
                    .is_some_and(|k| DATA.contains(&k) || k.starts_with("osd_conf_"));
                mark_unsafe(val, inside || data);
            }
        }
        Y::Sequence(items) => items.iter_mut().for_each(|i| mark_unsafe(i, inside)),
        _ => {}
    }
}

fn host_in_url(interface: &str) -> String {
    if interface.contains(':') {
        format!("[{interface}]")
    } else {
        interface.to_string()
    }
}

fn header(cs: &ChangeSet, facts: &Facts) -> String {
    let mut h = String::new();
    h.push_str("# Exported by odoo-session-doctor plan --ansible: makes exactly the planned change below on\n");
    h.push_str(&format!(
        "# hosts like {} (same paths, service names and port).\n#\n",
        facts.host.name
    ));
    for line in cs.preview().lines() {
        if line.starts_with("---")
            || line.starts_with("+++")
            || line.starts_with("@@")
            || line.starts_with('+')
            || line.starts_with('-')
            || line.starts_with(' ')
        {
            continue;
        }
        h.push_str(&format!("#   {line}\n"));
    }
    h.push_str("#\n# Preview: ansible-playbook -i HOST, -u root THIS.yml --check --diff\n");
    h.push_str("# Apply:   ansible-playbook -i HOST, -u root THIS.yml   (a second run changes nothing)\n#\n");
    h.push_str("# Undo: this run is not recorded as an odoo-session-doctor change set, so `rollback` does not\n");
    h.push_str("# know it. odoo.conf is backed up beside itself (odoo.conf.<pid>.<date>~), the other files\n");
    h.push_str(&format!(
        "# into {BACKUP_DIR}; the old parameter values are listed above.\n"
    ));
    h
}

/// The odoo.conf tasks: guard, one `lineinfile` per changed key, the check that all took.
fn conf_tasks(
    f: &FileChange,
    notify: Option<&str>,
    vars: &mut serde_json::Map<String, Value>,
) -> Result<Vec<Value>, EngineError> {
    let text = |b: &[u8]| {
        String::from_utf8(b.to_vec()).map_err(|_| {
            EngineError::Invalid(format!(
                "{} is not UTF-8 text: it cannot be exported",
                f.path
            ))
        })
    };
    let (before, after) = (
        OdooConf::parse(&text(&f.before)?),
        OdooConf::parse(&text(&f.after)?),
    );
    let refuse = |why: String| {
        Err(EngineError::Invalid(format!(
            "{}: {why}; the Ansible export edits odoo.conf key by key — apply it with `odoo-session-doctor apply` instead",
            f.path
        )))
    };
    for s in before.sections().iter().chain(after.sections().iter()) {
        if *s != "options"
            && before
                .entries(s)
                .iter()
                .map(|e| (e.key, e.value))
                .ne(after.entries(s).iter().map(|e| (e.key, e.value)))
        {
            return refuse(format!("the change touches section [{s}]"));
        }
    }
    let mut keys: Vec<&str> = before
        .entries("options")
        .iter()
        .chain(after.entries("options").iter())
        .map(|e| e.key)
        .collect();
    keys.sort();
    keys.dedup();
    let mut edits = Vec::new();
    let mut allowed = serde_json::Map::new();
    let mut want = serde_json::Map::new();
    for key in keys {
        let (b, a) = (before.get("options", key), after.get("options", key));
        if b == a {
            continue;
        }
        if is_secret_key(key) {
            return refuse(format!("the change sets the secret option {key}"));
        }
        for doc in [&before, &after] {
            let es: Vec<_> = doc
                .entries("options")
                .into_iter()
                .filter(|e| e.key == key)
                .collect();
            if es.len() > 1 {
                return refuse(format!("{key} appears more than once"));
            }
            if es.iter().any(|e| e.last_line > e.line) {
                return refuse(format!("{key} has a value on several lines"));
            }
        }
        allowed.insert(key.into(), json!([b, a]));
        want.insert(key.into(), json!([a]));
        // configparser keys are case-insensitive; the key may be followed by blanks, then = or :.
        let regexp = format!(r"(?i)^\s*{}\s*[=:]", regex::escape(key));
        let mut task = match a {
            Some(value) => {
                let e = after
                    .entries("options")
                    .into_iter()
                    .find(|e| e.key == key)
                    .expect("a key with a value has an entry");
                let line = after.lines()[e.line - 1].text().to_string();
                let shown = format!("{key} = {value}");
                json!({
                    "name": format!("odoo.conf: {shown}"),
                    "ansible.builtin.lineinfile": {
                        "path": f.path,
                        "regexp": regexp,
                        "line": line,
                        "insertafter": r"^\[options\]\s*$",
                        "backup": true,
                        "validate": format!("python3 -c '{CONF_VALIDATE_PY}' %s"),
                    },
                })
            }
            None => json!({
                "name": format!("odoo.conf: remove {key}"),
                "ansible.builtin.lineinfile": {
                    "path": f.path,
                    "regexp": regexp,
                    "state": "absent",
                    "backup": true,
                    "validate": format!("python3 -c '{CONF_VALIDATE_PY}' %s"),
                },
            }),
        };
        if let Some(n) = notify {
            task["notify"] = json!(n);
        }
        edits.push(task);
    }
    let mut guard =
        |name: &str, keys: serde_json::Map<String, Value>, why: &str, when: Option<&str>| {
            // The expected values live in a variable (marked as data, see [`mark_unsafe`]).
            let var = format!("osd_conf_{}", vars.len());
            vars.insert(var.clone(), json!({"keys": keys, "why": why}));
            let mut t = json!({
                "name": name,
                "ansible.builtin.command": {
                    "argv": ["python3", "-c", CONF_GUARD_PY, f.path],
                    "stdin": format!("{{{{ {var} | to_json }}}}"),
                },
                "check_mode": false,
                "changed_when": false,
            });
            if let Some(w) = when {
                t["when"] = json!(w);
            }
            t
        };
    let mut tasks = vec![guard(
        &format!(
            "{} holds the planned values (before or already after)",
            f.path
        ),
        allowed,
        "changed by someone else since the plan; nothing was written — plan again",
        None,
    )];
    tasks.extend(edits);
    tasks.push(guard(
        &format!("{} now holds the new values", f.path),
        want,
        "does not hold the planned values after the edit",
        Some("not ansible_check_mode"),
    ));
    Ok(tasks)
}

/// A whole-file copy: the guard and backup (before the block), the copy (in the block) and its
/// restore (in the rescue).
fn copy_tasks(
    i: usize,
    f: &FileChange,
    notify: Option<&str>,
) -> Result<(Vec<Value>, Vec<Value>, Value), EngineError> {
    let content = String::from_utf8(f.after.clone()).map_err(|_| {
        EngineError::Invalid(format!(
            "{} is not UTF-8 text: it cannot be exported",
            f.path
        ))
    })?;
    let stat = format!("osd_stat_{i}");
    let base = f.path.rsplit('/').next().unwrap_or("file");
    let backup = format!("{{{{ osd_backup_dir }}}}/{base}.{}", &f.before_sha256[..16]);
    let pre = vec![
        json!({
            "name": format!("read {}", f.path),
            "ansible.builtin.stat": {"path": f.path, "follow": true, "get_checksum": true, "checksum_algorithm": "sha256"},
            "register": stat,
        }),
        json!({
            "name": format!("{} is as planned (or already edited)", f.path),
            "ansible.builtin.assert": {
                "that": [format!("{stat}.stat.exists"), format!("{stat}.stat.checksum in ['{}', '{}']", f.before_sha256, f.after_sha256)],
                "fail_msg": format!("{} was changed by someone else since the plan; nothing was written — plan again", f.path),
                "quiet": true,
            },
        }),
        json!({
            "name": format!("backup directory {BACKUP_DIR}"),
            "ansible.builtin.file": {"path": "{{ osd_backup_dir }}", "state": "directory", "mode": "0700"},
            "when": format!("{stat}.stat.checksum == '{}'", f.before_sha256),
        }),
        json!({
            "name": format!("back up {}", f.path),
            "ansible.builtin.copy": {"src": f.path, "remote_src": true, "dest": backup, "force": false, "mode": "0600"},
            // In check mode the directory was not made: nothing to copy into, nothing to show.
            "when": format!("{stat}.stat.checksum == '{}' and not ansible_check_mode", f.before_sha256),
        }),
    ];
    let mut put = json!({
        "name": format!("edit {}", f.path),
        "ansible.builtin.copy": {
            "dest": f.path,
            "content": content,
            "owner": f.owner,
            "group": f.group,
            "mode": format!("{:04o}", f.mode & 0o7777),
            "follow": true,
        },
        "register": format!("osd_file_{i}"),
    });
    if let Some(n) = notify {
        put["notify"] = json!(n);
    }
    let undo = json!({
        "name": format!("restore {}", f.path),
        "ansible.builtin.copy": {
            "src": backup,
            "remote_src": true,
            "dest": f.path,
            "owner": f.owner,
            "group": f.group,
            "mode": format!("{:04o}", f.mode & 0o7777),
            "follow": true,
        },
        "when": format!("osd_file_{i} is defined and osd_file_{i} is changed"),
    });
    Ok((pre, vec![put], undo))
}
