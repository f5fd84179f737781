//! The change set's own program on the host: it applies the change set there, guards it, and is
//! the one way it is undone — so a client that disappears mid-apply changes nothing about the
//! outcome.
//!
//! Why on the host (issue 13): a laptop on hotel Wi-Fi is exactly the client that vanishes
//! between writing odoo.conf and restarting Odoo. A watchdog beside a client-driven apply would
//! have to race the client (both writing the same files); a program that owns the whole change
//! set from the first write to the end cannot race anyone. The client uploads the change set
//! (the record with its before/after images, see [`super::record`]), starts this program detached
//! from the SSH session (`systemd-run` where systemd is PID 1, else `setsid`), follows its events,
//! verifies what only it can verify (the live probe through the public URL, the diagnosis after
//! the restart) and then confirms. Without a confirmation within the guard's deadline, or on the
//! client's abort, the program restores the before-state itself.
//!
//! One restore path: [`program`]'s `restore` function is what the host runs on a failed step, on
//! a missed deadline, on the client's abort and on `rollback` (`run.sh restore`). It restores the
//! files byte for byte with their owner and mode, the parameters (only rows that still hold our
//! value, in one transaction per database, connecting exactly as Odoo does: odoo.conf's
//! settings, as Odoo's user, with Odoo's own Python and psycopg2), reloads and restarts what the
//! change set did, and waits for Odoo to answer.
//!
//! On the host, in the record's directory: `run.sh` (this program), `params.json` (the parameter
//! changes: keys and values, never a secret), `events` (one line per step: unix time, step,
//! detail — the client's progress and the audit trail), `status` (the record's status as the
//! host last set it, see [`super::record::load`]), `confirm` / `abort` (written by the client),
//! `run.lock` (held with `flock` while the program runs, so two never run at once and the client
//! can tell a live program from a dead one). Everything is POSIX `sh` plus coreutils,
//! util-linux (`flock`, `setsid`, `runuser`) and the instance's Python: nothing to install, and
//! nothing keeps running once the change set is settled.

use super::{ChangeSet, ServiceAction};
use crate::facts::Facts;
use osd_remote::quote;
use serde::Serialize;

/// How long the host waits for the client's confirmation after it has applied and Odoo answers.
pub const DEFAULT_GUARD_SECS: u64 = 300;

/// What `params.json` holds: the odoo.conf to connect with, and the changes.
#[derive(Serialize)]
struct ParamsFile<'a> {
    config: Option<&'a str>,
    changes: Vec<ParamRow<'a>>,
}

#[derive(Serialize)]
struct ParamRow<'a> {
    db: &'a str,
    key: &'a str,
    old: Option<&'a str>,
    new: Option<&'a str>,
}

/// `params.json` for the change set.
pub fn params_json(cs: &ChangeSet, facts: &Facts) -> Vec<u8> {
    let file = ParamsFile {
        config: facts.odoo.config.as_ref().map(|c| c.path.as_str()),
        changes: cs
            .params
            .iter()
            .map(|p| ParamRow {
                db: &p.db,
                key: &p.key,
                old: p.old.as_deref(),
                new: p.new.as_deref(),
            })
            .collect(),
    };
    serde_json::to_vec_pretty(&file).expect("params serialize")
}

fn argv(words: &[String]) -> String {
    words.iter().map(|w| quote(w)).collect::<Vec<_>>().join(" ")
}

/// The program for this change set, to be saved as `<record dir>/run.sh`.
pub fn program(
    cs: &ChangeSet,
    facts: &Facts,
    dir: &str,
    root: &str,
    id: &str,
    health_secs: u64,
) -> String {
    let o = &facts.odoo;
    let mut head = String::new();
    let set = |head: &mut String, k: &str, v: &str| head.push_str(&format!("{k}={}\n", quote(v)));
    set(&mut head, "DIR", dir);
    set(&mut head, "ROOT", root);
    set(&mut head, "ID", id);
    set(&mut head, "PORT", &o.http_port().to_string());
    set(&mut head, "HEALTH", &health_secs.to_string());
    set(
        &mut head,
        "SVCUSER",
        if o.user.is_empty() { "root" } else { &o.user },
    );
    set(&mut head, "PROGRAM", o.program.as_deref().unwrap_or(""));
    set(&mut head, "NPARAMS", &cs.params.len().to_string());

    // The files, in order; restore walks them backwards.
    let mut files_check = String::new();
    let mut files_apply = String::new();
    let mut files_restore_check = String::new();
    let mut files_restore = String::new();
    for (i, f) in cs.files.iter().enumerate() {
        let args = format!(
            "{i} {} {} {} {:o} {} {}",
            quote(&f.path),
            quote(&f.owner),
            quote(&f.group),
            f.mode & 0o7777,
            f.before_sha256,
            f.after_sha256
        );
        files_check.push_str(&format!("  check_unchanged {args} || return 1\n"));
        files_apply.push_str(&format!("  put_after {args} || return 1\n"));
        files_restore_check.insert_str(0, &format!("  check_ours {args} || return 3\n"));
        files_restore.insert_str(0, &format!("  put_before {args} || return 1\n"));
    }

    let mut validate = String::from("  ev validate \"checking what was written\"\n");
    let mut forward = String::new();
    let mut backward = String::new();
    for s in &cs.services {
        match s {
            ServiceAction::ReloadNginx { test, reload } => {
                validate.push_str(&format!(
                    "  ev validate {q}\n  out=$({t} 9>&- 2>&1) || {{ fail \"{tw} rejected the edited configuration: $out\"; return 1; }}\n",
                    q = quote(&test.join(" ")),
                    t = argv(test),
                    tw = test.join(" ").replace('"', "'"),
                ));
                let step = format!(
                    "  ev reload_nginx {q}\n  out=$({t} 9>&- 2>&1) || {{ fail \"{tw} failed: $out\"; return 1; }}\n  out=$({r} 9>&- 2>&1) || {{ fail \"{rw} failed: $out\"; return 1; }}\n",
                    q = quote(&reload.join(" ")),
                    t = argv(test),
                    tw = test.join(" ").replace('"', "'"),
                    r = argv(reload),
                    rw = reload.join(" ").replace('"', "'"),
                );
                forward.push_str(&step);
                backward.push_str(&step);
            }
            ServiceAction::RestartOdoo {
                command,
                service,
                was_running,
            } => {
                forward.push_str(&format!(
                    "  ev restart_odoo {q}\n  out=$({c} 9>&- 2>&1) || {{ fail \"{cw} failed: $out\"; return 1; }}\n  ev wait_health \"waiting up to ${{HEALTH}}s for Odoo to answer\"\n  healthy || {{ fail \"Odoo did not come back within ${{HEALTH}}s after the restart (port $PORT); see its log\"; return 1; }}\n",
                    q = quote(&format!("restarting {service}: {}", command.join(" "))),
                    c = argv(command),
                    cw = command.join(" ").replace('"', "'"),
                ));
                if *was_running {
                    backward.push_str(&format!(
                        "  ev restart_odoo {q}\n  out=$({c} 9>&- 2>&1) || {{ fail \"{cw} failed: $out\"; return 1; }}\n  healthy || {{ fail \"Odoo did not answer on port $PORT within ${{HEALTH}}s after the restore\"; return 1; }}\n",
                        q = quote(&format!("restarting {service}: {}", command.join(" "))),
                        c = argv(command),
                        cw = command.join(" ").replace('"', "'"),
                    ));
                } else {
                    // Odoo did not run before the change (a crash loop it fixed): the running
                    // process holds the fixed config, so it is restarted onto the restored one,
                    // which fails as before — back to how it was, not expected to answer.
                    let restart = o.service.restart_command().unwrap_or(command.clone());
                    backward.push_str(&format!(
                        "  ev restart_odoo {q}\n  {c} 9>&- >/dev/null 2>&1 || :\n",
                        q = quote(&format!(
                            "restarting {service} onto the restored configuration: {}",
                            restart.join(" ")
                        )),
                        c = argv(&restart),
                    ));
                }
            }
        }
    }

    format!(
        "#!/bin/sh\n# Odoo Session Doctor: change set {id}. Applies it, guards it, undoes it (see the product's\n# change/onhost.rs). Usage: run.sh apply GUARD_SECONDS | run.sh restore [--force]\n{head}\
files_check() {{\n:\n{files_check}}}\nfiles_apply() {{\n:\n{files_apply}}}\n\
files_restore_check() {{\n:\n{files_restore_check}}}\nfiles_restore() {{\n:\n{files_restore}}}\n\
validate() {{\n:\n{validate}}}\nforward() {{\n:\n{forward}}}\nbackward() {{\n:\n{backward}}}\n{body}",
        body = BODY.replace("@PARAMS_PY@", PARAMS_PY)
    )
}

/// The parameter writer (Python, run with the instance's own interpreter as Odoo's user; the
/// changes come as `params.json` on stdin, never in its text): `apply|restore`, `force` or
/// empty, and optionally `dry`. Connects as Odoo does (odoo.conf's `db_*` read on the host), one
/// transaction per database; a row holding neither the old nor the new value is a conflict
/// (exit 3, nothing written in that database). Also used by the Ansible export
/// ([`super::ansible`]). It has no single quote: `run.sh` holds it in one.
pub(crate) const PARAMS_PY: &str = concat!(
    include_str!("../odoo_connect.py"),
    r#"import json, sys
mode, force = sys.argv[1], sys.argv[2] == "force"
# "dry": say what would be written and write nothing (check mode of the Ansible export).
dry = len(sys.argv) > 3 and sys.argv[3] == "dry"
spec = json.load(sys.stdin)
dbs = []
for c in spec["changes"]:
    if c["db"] not in dbs:
        dbs.append(c["db"])
conflict = False
for db in dbs:
    conn = odoo_connect(spec.get("config"), db)
    with conn:
        with conn.cursor() as cr:
            writes = []
            for c in [c for c in spec["changes"] if c["db"] == db]:
                cr.execute("SELECT value FROM ir_config_parameter WHERE key = %s FOR UPDATE", (c["key"],))
                row = cr.fetchone()
                cur = row[0] if row else None
                want, keep = (c["new"], c["old"]) if mode == "apply" else (c["old"], c["new"])
                if cur == want:
                    continue
                if cur != keep and not force:
                    print("conflict %s in %s holds a value written by someone else" % (c["key"], db))
                    conflict = True
                    continue
                writes.append((c["key"], want))
            if conflict:
                conn.rollback()
                break
            if dry:
                for key, v in writes:
                    print("would write %s in %s" % (key, db))
                conn.rollback()
                continue
            for key, v in writes:
                if v is None:
                    cr.execute("DELETE FROM ir_config_parameter WHERE key = %s", (key,))
                else:
                    cr.execute("INSERT INTO ir_config_parameter (key, value, create_uid, create_date, write_uid, write_date) "
                               "VALUES (%s, %s, 1, now() at time zone %s, 1, now() at time zone %s) "
                               "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, write_uid = 1, write_date = now() at time zone %s",
                               (key, v, "UTC", "UTC", "UTC"))
                print("wrote %s in %s" % (key, db))
    conn.close()
sys.exit(3 if conflict else 0)
"#
);

/// The fixed part of `run.sh`: the steps, the guard, the restore.
const BODY: &str = r#"
export LC_ALL=C PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
umask 077
REASON=
ev() { printf '%s\t%s\t%s\n' "$(date +%s.%N)" "$1" "$(printf '%s' "$2" | tr '\n\t' '  ')" >> "$DIR/events"; }
setstatus() { printf '%s\n' "$1" > "$DIR/status.tmp" && mv -f "$DIR/status.tmp" "$DIR/status"; }
fail() { REASON=$1; ev failed "$1"; }
sha() { sha256sum -- "$1" 2>/dev/null | cut -d' ' -f1; }
real() { if [ -L "$1" ]; then readlink -f -- "$1"; else printf '%s\n' "$1"; fi; }

# put N PATH OWNER GROUP MODE IMAGE SHA: replaces PATH atomically with image N (mktemp in its
# directory, owner, mode, fsync, rename), then checks what landed.
put() {
  p=$(real "$2"); d=$(dirname -- "$p"); b=$(basename -- "$p")
  t=$(mktemp -- "$d/.$b.osd-tmp.XXXXXX") || { fail "cannot create a file in $d"; return 1; }
  if cat -- "$DIR/$6/$1" > "$t" && chown -- "$3:$4" "$t" && chmod -- "$5" "$t" && { sync -- "$t" 2>/dev/null || sync; } && mv -f -- "$t" "$p"; then
    sync -- "$d" 2>/dev/null || :
    [ "$(sha "$p")" = "$7" ] || { fail "$2 does not hold what was written"; return 1; }
  else
    rm -f -- "$t"; fail "cannot write $2"; return 1
  fi
}
check_unchanged() { # N PATH OWNER GROUP MODE BEFORE AFTER
  cur=$(sha "$(real "$2")")
  [ "$cur" = "$6" ] || [ "$cur" = "$7" ] || { fail "$2 was changed by someone else since the plan"; return 1; }
}
put_after() {
  [ "$(sha "$(real "$2")")" = "$7" ] && return 0
  ev write_files "writing $2"; put "$1" "$2" "$3" "$4" "$5" after "$7"
}
check_ours() { # a file restore may overwrite: ours, or already back, or --force
  cur=$(sha "$(real "$2")")
  [ "$cur" = "$6" ] || [ "$cur" = "$7" ] || [ "$FORCE" = 1 ] || { echo "edited $2"; return 3; }
}
put_before() {
  [ "$(sha "$(real "$2")")" = "$6" ] && return 0
  ev roll_back "restoring $2"; put "$1" "$2" "$3" "$4" "$5" before "$6" && CHANGED=1
}

as_odoo() { if [ "$SVCUSER" = root ] || [ "$(id -un)" = "$SVCUSER" ]; then "$@"; else runuser -u "$SVCUSER" -- "$@"; fi; }

# params MODE [force]: one transaction per database, connected as Odoo connects (odoo.conf, as
# Odoo's user). apply writes rows that still hold the old value; restore writes back rows that
# still hold ours. Exit 3 when someone else changed a row (nothing written in its database).
params() {
  [ "$NPARAMS" -gt 0 ] || return 0
  out=$(as_odoo sh -c 'cd / && exec "$@"' sh $(python_cmd) -c "$PARAMS_PY" "$1" "${2:-}" < "$DIR/params.json" 2>&1)
  rc=$?
  [ -n "$out" ] && printf '%s\n' "$out" | while IFS= read -r l; do ev "$3" "$l"; done
  [ $rc = 0 ] && case "$out" in *wrote*) CHANGED=1 ;; esac
  return $rc
}
# The instance's own Python (the interpreter of its program), which has psycopg2.
python_cmd() {
  py=
  if [ -n "$PROGRAM" ] && [ -f "$PROGRAM" ]; then py=$(head -n1 -- "$PROGRAM" | sed -n 's/^#![[:space:]]*//p'); fi
  printf '%s\n' "${py:-python3}"
}
PARAMS_PY='@PARAMS_PY@'

# Odoo answers on its port: /web/health (16+), else version_info; curl or wget if no Python.
HEALTH_PY='
import json, sys, urllib.request, urllib.error
base = "http://127.0.0.1:%s" % sys.argv[1]
try:
    urllib.request.urlopen(base + "/web/health", timeout=3); sys.exit(0)
except urllib.error.HTTPError as e:
    if e.code != 404: sys.exit(1)
except Exception:
    sys.exit(1)
req = urllib.request.Request(base + "/web/webclient/version_info", data=b"{\"jsonrpc\":\"2.0\",\"method\":\"call\",\"params\":{}}", headers={"Content-Type": "application/json"})
try:
    urllib.request.urlopen(req, timeout=3); sys.exit(0)
except Exception:
    sys.exit(1)
'
healthy() {
  end=$(( $(date +%s) + HEALTH ))
  while :; do
    $(python_cmd) -c "$HEALTH_PY" "$PORT" 2>/dev/null && return 0
    [ "$(date +%s)" -ge "$end" ] && return 1
    # Odoo answers within a second of its port opening: a look every quarter second sees it.
    sleep 0.25 2>/dev/null || sleep 1
  done
}

# The client's abort (a cancel, a failed verification, a rollback) stops the steps between them.
not_aborted() { [ ! -e "$DIR/abort" ] || { fail "$(tail -n +2 "$DIR/abort")"; return 1; }; }

release_lock() { case "$(cat "$ROOT/lock/owner" 2>/dev/null)" in *"$ID"*) rm -rf -- "$ROOT/lock" ;; esac; }

# The one restore path. Checks every file first (never half-restores), then files backwards,
# parameters, services. Sets CHANGED when it wrote anything.
restore() {
  CHANGED=0
  r=$(files_restore_check) || { printf '%s\n' "$r"; fail "not restoring: $(printf '%s' "$r" | tr '\n' ' ')"; return 3; }
  files_restore || return 1
  # A rollback a person asked for puts the parameters back to their old values whoever changed
  # them since (its preview says so); an automatic one only undoes rows that still hold ours.
  params restore "$([ "$FORCE" = 1 ] || [ "$MANUAL" = 1 ] && echo force)" roll_back || { fail "the system parameters could not be restored"; return 1; }
  # Nothing was written: the running services never saw a change, so they are left alone.
  if [ "$CHANGED" = 1 ] || [ "$FORCE" = 1 ]; then backward || return 1; fi
  return 0
}

# Settles the change set as undone after `why`; a failed restore keeps the lock for a person.
undo() {
  final=$1 why=$2
  [ "$final" = undone ] && MANUAL=1
  ev roll_back "$why"
  if restore; then
    # The lock goes first: whoever sees the final status may start the next apply at once.
    printf '%s\n' "$why" > "$DIR/reason"; release_lock; setstatus "$final"; ev "$final" "$why"; return 0
  else
    rc=$?
    printf '%s — and the rollback failed too: %s\n' "$why" "$REASON" > "$DIR/reason"
    setstatus rollback_failed; ev rollback_failed "$REASON"; return $rc
  fi
}

mode=${1:-}; FORCE=0; MANUAL=0
exec 9>>"$DIR/run.lock"
if ! flock -n 9; then echo "busy: the program of change set $ID is running"; exit 75; fi
case "$mode" in
apply)
  GUARD=${2:-300}
  rm -f -- "$DIR/confirm" "$DIR/abort"
  # Detached from the SSH session that started it: a transient systemd unit, or its own session.
  if [ -n "${INVOCATION_ID:-}" ]; then how="a transient systemd unit"; else how="its own session (setsid)"; fi
  setstatus applying; ev started "pid $$ in $how"
  if files_check && not_aborted && files_apply && validate && not_aborted \
     && { params apply "" write_params || { fail "the system parameters could not be written"; false; }; } \
     && not_aborted && forward; then
    ev awaiting "$GUARD"
    end=$(( $(date +%s) + GUARD ))
    while :; do
      if [ -e "$DIR/confirm" ]; then release_lock; setstatus applied; ev applied "confirmed by $(cat "$DIR/confirm")"; exit 0; fi
      if [ -e "$DIR/abort" ]; then undo "$(head -n1 "$DIR/abort")" "$(tail -n +2 "$DIR/abort")"; exit $?; fi
      if [ "$(date +%s)" -ge "$end" ]; then undo rolled_back "rolled back by the host guard: no confirmation within ${GUARD}s"; exit $?; fi
      # The client waits on our answer to its confirmation: look often (where sleep takes
      # fractions), it costs a test and a date per look, for the seconds a verification takes.
      sleep 0.05 2>/dev/null || sleep 1
    done
  fi
  if [ -e "$DIR/abort" ]; then undo "$(head -n1 "$DIR/abort")" "$(tail -n +2 "$DIR/abort")"; exit $?; fi
  undo rolled_back "$REASON"; exit $?
  ;;
restore)
  [ "${2:-}" = --force ] && FORCE=1
  undo undone "rolled back on request"; exit $?
  ;;
*) echo "usage: run.sh apply GUARD_SECONDS | run.sh restore [--force]" >&2; exit 2 ;;
esac
"#;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::change::{FileChange, FileKind, ParamChange};
    use crate::checks::CheckId;

    fn sample() -> (ChangeSet, Facts) {
        let facts = Facts::from_json(
            include_str!("../../tests/fixtures/facts/short-lifetime.json"),
            "short-lifetime.json",
        )
        .unwrap();
        let cs = ChangeSet {
            checks: vec![CheckId::SessionLifetime],
            files: vec![FileChange {
                path: "/etc/odoo/it's odoo.conf".into(),
                kind: FileKind::OdooConf,
                checks: vec![CheckId::SessionLifetime],
                owner: "odoo".into(),
                group: "odoo".into(),
                mode: 0o640,
                before_sha256: "a".repeat(64),
                after_sha256: "b".repeat(64),
                diff: String::new(),
                before: vec![],
                after: vec![],
            }],
            params: vec![ParamChange {
                db: "odoo".into(),
                key: "sessions.max_inactivity_seconds".into(),
                old: Some("600".into()),
                new: Some("86400".into()),
                check: CheckId::SessionLifetime,
            }],
            services: vec![ServiceAction::RestartOdoo {
                command: vec!["supervisorctl".into(), "restart".into(), "odoo".into()],
                service: "supervisor program odoo".into(),
                was_running: true,
            }],
            ..ChangeSet::default()
        };
        (cs, facts)
    }

    /// The program is valid POSIX sh (dash, Debian's /bin/sh, parses it), whatever the paths
    /// hold, and the parameter writer can sit in its single quotes.
    #[test]
    fn the_program_is_valid_sh_with_any_path() {
        let (cs, facts) = sample();
        let text = program(
            &cs,
            &facts,
            "/var/lib/x/changesets/1",
            "/var/lib/x",
            "1",
            90,
        );
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("run.sh");
        std::fs::write(&path, &text).unwrap();
        let out = std::process::Command::new("sh")
            .arg("-n")
            .arg(&path)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(!PARAMS_PY.contains('\''));
        assert!(
            text.contains("put_after 0 '/etc/odoo/it'\\''s odoo.conf' odoo odoo 640"),
            "{text}"
        );
        // Restore walks the files backwards and checks them all before writing any.
        assert!(
            text.find("files_restore_check()").unwrap() < text.find("files_restore()").unwrap()
        );
    }
}
