//! Checks on the sessions themselves: lifetime, where they are stored, who deletes them.

use super::{gh, pr, Choice, Finding, FixOffer, Status};
use crate::facts::{CleanerKind, Facts, Observed};
use crate::version::{human_duration, OdooVersion, DEFAULT_LIFETIME};
use std::time::Duration;

pub use crate::facts::LIFETIME_KEY;

/// Odoo's reading of the parameter: `int(value)`, the default on anything else.
pub fn lifetime_secs(raw: Option<&str>) -> u64 {
    raw.and_then(|v| v.trim().parse::<i64>().ok())
        .filter(|v| *v > 0)
        .map(|v| v as u64)
        .unwrap_or(DEFAULT_LIFETIME.as_secs())
}

/// The lifetime each database this instance serves asks for: (database, seconds, raw value).
pub fn lifetimes(f: &Facts) -> Vec<(String, u64, Option<String>)> {
    let Some(db) = f.db.seen() else {
        return Vec::new();
    };
    db.databases
        .iter()
        .map(|d| {
            let raw = d.params.get(LIFETIME_KEY).cloned();
            (d.name.clone(), lifetime_secs(raw.as_deref()), raw)
        })
        .collect()
}

/// The same for databases this instance does not serve whose cleanup still runs on its
/// sessions folder (its prefork cron visits every database of its role: see `db_scope`).
pub fn cleanup_only_lifetimes(f: &Facts) -> Vec<(String, u64, Option<String>)> {
    let Some(db) = f.db.seen() else {
        return Vec::new();
    };
    db.cleanup_only
        .iter()
        .map(|(name, raw)| (name.clone(), lifetime_secs(raw.as_deref()), raw.clone()))
        .collect()
}

/// The choices offered for the lifetime, with the version's warning on the short ones.
pub fn lifetime_choices(version: Option<OdooVersion>) -> Vec<Choice> {
    let safe = version
        .map(|v| v.shortest_safe_lifetime())
        .unwrap_or(Duration::from_secs(86_400));
    [
        (28_800, "8 hours (a working day)"),
        (86_400, "1 day"),
        (604_800, "7 days (Odoo's default)"),
    ]
    .into_iter()
    .map(|(secs, label)| Choice {
        value: secs.to_string(),
        label: label.to_string(),
        warning: lifetime_warning(Duration::from_secs(secs), safe),
    })
    .collect()
}

pub fn lifetime_warning(chosen: Duration, safe: Duration) -> Option<String> {
    (chosen < safe).then(|| {
        format!(
            "{} is shorter than {} — on this version people who are actively working can be logged out at the next daily cleanup, because Odoo only records activity on some requests.",
            human_duration(chosen),
            human_duration(safe)
        )
    })
}

/// The lifetime the running server uses when it demonstrably differs from the database's value
/// (written without a restart). 16.0 and older 17 builds send a fixed 7-day `Max-Age` whatever
/// the parameter, so a 7-day cookie proves nothing; any other value is the server's own.
pub fn running_lifetime_mismatch(f: &Facts) -> Option<u64> {
    let observed = f
        .server
        .seen()?
        .login_page_cookie
        .as_ref()?
        .max_age
        .filter(|m| *m > 0)? as u64;
    let lts = lifetimes(f);
    let [(_, db_value, _)] = lts.as_slice() else {
        return None;
    };
    let proves = observed != DEFAULT_LIFETIME.as_secs() || *db_value == DEFAULT_LIFETIME.as_secs();
    (proves && observed != *db_value && f.odoo.version.is_some_and(|v| v.has_lifetime_parameter()))
        .then_some(observed)
}

pub fn lifetime(f: &Facts, fnd: Finding) -> Finding {
    let base = fnd.refs(&[
        gh("odoo/odoo", 29906),
        pr("odoo/odoo", 122888),
        pr("odoo/odoo", 154051),
    ]);
    let Some(version) = f.odoo.version else {
        return base.status(
            Status::Unknown,
            "The Odoo version is unknown, so the lifetime rules that apply are unknown.",
        );
    };
    let mut fnd = base.note(format!(
        "Odoo {version}: {}.",
        version.cookie_lifetime_note()
    ));
    if !version.has_lifetime_parameter() {
        fnd = fnd.status(
            Status::Ok,
            "Odoo before 16 keeps idle sessions 7 days; this cannot be changed without a module.",
        );
        for (db, _, raw) in lifetimes(f) {
            if let Some(raw) = raw {
                fnd = fnd.evidence(
                    format!("ir_config_parameter in {db}"),
                    format!("{LIFETIME_KEY} = {raw} (ignored before Odoo 16)"),
                );
            }
        }
        return fnd;
    }
    let lts = lifetimes(f);
    if lts.is_empty() {
        return fnd.status(
            Status::Unknown,
            format!(
                "Could not read {LIFETIME_KEY}: {}",
                f.db.why_unknown().unwrap_or("no Odoo database found")
            ),
        );
    }
    let safe = version.shortest_safe_lifetime();
    let others = cleanup_only_lifetimes(f);
    let (min_db, min_secs, _) = lts
        .iter()
        .chain(&others)
        .min_by_key(|(_, s, _)| *s)
        .cloned()
        .unwrap();
    for (db, secs, raw) in lts.iter().chain(&others) {
        let served = lts.iter().any(|(d, _, _)| d == db);
        let shown = match raw {
            Some(r) if r.trim().parse::<i64>().map_or(true, |v| v <= 0) => {
                format!("{LIFETIME_KEY} = {r:?}: not a positive integer, so Odoo uses the default of 7 days")
            }
            Some(r) => format!(
                "{LIFETIME_KEY} = {r} ({})",
                human_duration(Duration::from_secs(*secs))
            ),
            None => format!("{LIFETIME_KEY} is not set: Odoo's default, 7 days"),
        };
        let source = if served {
            format!("ir_config_parameter in database {db}")
        } else {
            format!("ir_config_parameter in database {db} (not served by this instance; its cleanup still runs on this instance's sessions folder)")
        };
        fnd = fnd.evidence(source, shown);
    }
    fnd = fnd.fix(FixOffer {
        title: format!("Set {LIFETIME_KEY} (then restart Odoo so it takes effect)"),
        choices: lifetime_choices(Some(version)),
        default: Some(
            if min_secs < safe.as_secs() {
                safe.as_secs().max(86_400)
            } else {
                min_secs
            }
            .to_string(),
        ),
    });
    // What the running server really uses beats what the database says (it caches the value).
    let observed = f
        .server
        .seen()
        .and_then(|s| s.login_page_cookie.as_ref())
        .and_then(|c| c.max_age)
        .filter(|m| *m > 0)
        .map(|m| m as u64);
    if let Some(m) = observed {
        fnd = fnd.evidence(
            "the running server (GET /web/login on Odoo's port)",
            format!("Set-Cookie: session_id=…; Max-Age={m}"),
        );
    }
    let lt = Duration::from_secs(min_secs);
    if let Some(m) = running_lifetime_mismatch(f) {
        return fnd
            .status(
                Status::Fail,
                format!(
                    "The database says {} but the running server still uses {}: Odoo was not restarted after the value was written.",
                    human_duration(lt),
                    human_duration(Duration::from_secs(m))
                ),
            )
            .users_see("Sessions still end as before: the new setting is not in force.")
            .why("Odoo reads sessions.max_inactivity_seconds once, when it starts, and keeps it in memory. A value written straight into the database (SQL, a script) only takes effect after a restart; set through Odoo's own settings it applies at once.");
    }
    let from_other = others.iter().any(|(d, _, _)| *d == min_db);
    let shared = if from_other {
        format!(" This instance's scheduled cleanup also runs in database {min_db}, which it does not serve (with workers, Odoo's cron visits every database of its PostgreSQL role unless db_name lists them), and that database's shorter value empties this instance's sessions folder. Change it there, or set db_name so the cron visits only this instance's databases.")
    } else if lts.len() + others.len() > 1 {
        format!(" Several databases clean one sessions folder, so the shortest value (database {min_db}) applies to everybody.")
    } else {
        String::new()
    };
    if lt < safe {
        fnd.status(
            Status::Fail,
            format!("Idle sessions are deleted after {}: too short for Odoo {version}.", human_duration(lt)),
        )
        .users_see("People are sent to the login page with \"Session Expired\" — even while they are working — and lose what they were typing.")
        .why(format!(
            "Odoo deletes every session that has not been recorded as active for {}. Odoo {version} records activity only when a page is loaded or the live connection reconnects, not on every click, so a lifetime this short also removes the sessions of people who are busy.{shared}",
            human_duration(lt)
        ))
    } else {
        fnd.status(Status::Ok, format!("Idle sessions live {}.{shared}", human_duration(lt)))
            .why("A lifetime of a day or more keeps working people logged in; shorter is a security choice that costs convenience.")
    }
}

pub fn store(f: &Facts, fnd: Finding) -> Finding {
    let fnd = fnd
        .refs(&[gh("odoo/docker", 506)])
        .note(match f.odoo.version.map(|v| v.major) {
            Some(0..=15) => "Odoo 12–15: one file per session, sessions/werkzeug_<id>.sess (pickle).",
            Some(16 | 17) => "Odoo 16–17: sessions/<first 2 chars>/<id> (pickle); old flat files are moved on first read.",
            Some(_) => "Odoo 18+: sessions/<first 2 chars>/<84-char id> (JSON). Upgrading to 18 logs everybody out once.",
            None => "Sessions are files in <data_dir>/sessions in every version 12–19; core has no database or Redis store.",
        })
        .evidence(format!("data_dir ({})", f.odoo.data_dir_source), f.odoo.data_dir.clone());
    let store = match &f.sessions {
        Observed::Seen(s) => s,
        Observed::Unknown(why) => return fnd.status(Status::Unknown, why.clone()),
    };
    let mut fnd = fnd;
    if !store.exists {
        fnd.worsen(
            Status::Warn,
            format!("The sessions folder {} does not exist: this Odoo keeps its sessions somewhere else than its config says, or has not served anyone yet.", store.path),
        );
        return fnd.why("Odoo creates the folder at its first request. If it is missing while people use Odoo, the process was started with another data_dir or HOME.");
    }
    fnd = fnd.evidence(
        format!("stat {}", store.path),
        format!(
            "owner {} group {} mode {:o}, filesystem {}, {} files, {} bytes",
            store.owner.as_deref().unwrap_or("?"),
            store.group.as_deref().unwrap_or("?"),
            store.mode.unwrap_or(0),
            store.fs_type.as_deref().unwrap_or("?"),
            store.files,
            store.bytes
        ),
    );
    if let Some(sp) = store.space {
        fnd = fnd.evidence(
            format!("df {}", store.mount_point.as_deref().unwrap_or(&store.path)),
            space_words(&sp),
        );
    }
    if !store.mount_options.is_empty() {
        fnd = fnd.evidence(
            format!(
                "/proc/mounts, mount point {}",
                store.mount_point.as_deref().unwrap_or("?")
            ),
            store.mount_options.join(","),
        );
    }
    let problems = store_problems(f);
    if let Some(first) = problems.first() {
        fnd.worsen(Status::Fail, first.summary.clone());
        fnd = fnd.users_see(first.users_see.clone()).why(
            problems
                .iter()
                .map(|p| p.why.as_str())
                .collect::<Vec<_>>()
                .join(" "),
        );
    }
    if f.odoo.option("data_dir").is_none() && fnd.status == Status::Ok {
        fnd.worsen(
            Status::Warn,
            "odoo.conf sets no data_dir, so where sessions live depends on the HOME of whoever starts Odoo.",
        );
        fnd = fnd.why("Started by the service, sessions go to one folder; started by hand as another user, to another — and everybody seems logged out. Setting data_dir makes every start use the same folder.");
    }
    if fnd.status == Status::Ok {
        fnd.summary = format!(
            "Sessions are kept on disk in {}, writable by {}.",
            store.path, f.odoo.user
        );
    }
    fnd
}

/// Below this much free space a filesystem cannot be trusted to save the next logins: each
/// session is a file of its own (a block, 4 KiB, however small it is), and the filestore and the
/// logs of the same filesystem grow too.
pub const MIN_FREE_BYTES: u64 = 10 * 1024 * 1024;

/// One reason the sessions folder cannot keep sessions, with what a person does about it. The
/// app fixes none of them itself: freeing space is the admin's call, and a remount, a move of
/// data_dir or a chown are commands the apply machinery does not run (it writes files and
/// parameters and restarts services, each with a before-image to roll back).
#[derive(Debug, Clone)]
pub struct StoreProblem {
    pub summary: String,
    pub users_see: String,
    pub why: String,
    /// Exact commands, in order, as sentences.
    pub steps: Vec<String>,
}

fn pct(part: u64, whole: u64) -> String {
    if whole == 0 {
        return "?%".into();
    }
    let p = part as f64 * 100.0 / whole as f64;
    if p < 10.0 {
        format!("{p:.1}%")
    } else {
        format!("{p:.0}%")
    }
}

/// "12 MiB free of 7.9 GiB (0.1%); 53 of 64 inodes free (83%)".
pub fn space_words(sp: &crate::facts::FsSpace) -> String {
    use crate::report::text::bytes;
    let mut out = format!(
        "{} free of {} ({})",
        bytes(sp.bytes_free),
        bytes(sp.bytes_total),
        pct(sp.bytes_free, sp.bytes_total)
    );
    if sp.inodes_total > 0 {
        out.push_str(&format!(
            "; {} of {} inodes free ({})",
            sp.inodes_free,
            sp.inodes_total,
            pct(sp.inodes_free, sp.inodes_total)
        ));
    }
    out
}

/// Every reason the sessions folder of `f` cannot keep sessions (empty when it can, or when the
/// folder is unknown or missing). Shared by the check and its planner, so the finding and the
/// remedy's steps say the same.
pub fn store_problems(f: &Facts) -> Vec<StoreProblem> {
    let Observed::Seen(store) = &f.sessions else {
        return Vec::new();
    };
    if !store.exists {
        return Vec::new();
    }
    let user = &f.odoo.user;
    let dir = &store.path;
    let mount = store.mount_point.clone().unwrap_or_else(|| dir.clone());
    let mut out = Vec::new();
    let read_only = store.mount_options.iter().any(|o| o == "ro");
    if read_only {
        out.push(StoreProblem {
            summary: format!("The sessions folder {dir} is on a read-only filesystem (mount point {mount}, options {}): no login can be saved.", store.mount_options.join(",")),
            users_see: "Logging in seems to work, then the next click says \"Session Expired\"; nobody stays logged in.".into(),
            why: format!("Odoo saves every session as a file in {dir}; on a read-only mount each save fails. The kernel remounts a filesystem read-only after disk errors, or a mount (fstab, a bind mount, a container volume) was made read-only."),
            steps: vec![
                format!("Find why {mount} is read-only: `dmesg | grep -iE 'remount|I/O error|EXT4-fs error'` (disk errors), `grep -w '{mount}' /etc/fstab` and `findmnt {mount}` (a read-only mount option)."),
                format!("After the cause is settled (a filesystem check after disk errors, or the mount option changed), make it writable: `mount -o remount,rw {mount}`, then restart Odoo."),
            ],
        });
    }
    if let Some(sp) = store.space.filter(|_| !read_only) {
        let low_bytes = sp.bytes_total > 0
            && (sp.bytes_free < MIN_FREE_BYTES
                || sp.bytes_free.saturating_mul(100) < sp.bytes_total);
        let low_inodes =
            sp.inodes_total > 0 && sp.inodes_free.saturating_mul(100) < sp.inodes_total;
        if low_bytes || low_inodes {
            let what = match (low_bytes, low_inodes) {
                (true, true) => "full (space and inodes)",
                (true, false) => "full",
                _ => "out of inodes (files)",
            };
            let inode_hint = if low_inodes {
                format!(" With inodes it is the number of files, not their size: `find {mount} -xdev -type f | cut -d/ -f1-4 | sort | uniq -c | sort -n | tail` shows where they are.")
            } else {
                String::new()
            };
            out.push(StoreProblem {
                summary: format!("The filesystem of the sessions folder ({mount}) is {what}: {}.", space_words(&sp)),
                users_see: "New logins and session updates cannot be saved: people are sent back to the login page with \"Session Expired\".".into(),
                why: format!("Odoo writes each session to its own file in {dir}; with no room left the write fails and the session is lost. What to delete is your call, not the app's: the filestore ({}/filestore), logs and backups usually fill it.{inode_hint}", f.odoo.data_dir),
                steps: vec![
                    format!("Look at what uses the space: `du -xsh {}/* | sort -h | tail` (as root).", mount.trim_end_matches('/')),
                    format!("Free space on {mount} (old backups, rotated logs), or grow the filesystem; keep at least {} and 1% free.{inode_hint}", crate::report::text::bytes(MIN_FREE_BYTES)),
                    ],
            });
        }
    }
    let fs = store.fs_type.as_deref().unwrap_or("");
    if fs == "tmpfs" || fs == "ramfs" {
        let data_dir = f.odoo.data_dir.trim_end_matches('/').to_string();
        let mounted_for_odoo = mount.trim_end_matches('/') == dir.trim_end_matches('/')
            || mount.starts_with(&format!("{data_dir}/"))
            || mount.trim_end_matches('/') == data_dir;
        let steps = if mounted_for_odoo {
            vec![
                format!("Stop Odoo, then remove the memory filesystem mounted on {mount}: `umount {mount}`, and delete its line in /etc/fstab (`grep -n '{mount}' /etc/fstab`) or its systemd mount unit, so it does not come back at the next boot."),
                format!("Give the folder back to Odoo: `install -d -m 700 {dir} && chown {user}: {dir}`, then start Odoo. Everybody logs in once more."),
            ]
        } else {
            vec![
                format!("Make a persistent data_dir: `install -d -m 750 /var/lib/odoo && chown {user}: /var/lib/odoo` (or another folder on a disk)."),
                format!("Stop Odoo and copy everything of the old data_dir, the filestore (attachments) too: `cp -a {data_dir}/. /var/lib/odoo/`."),
                "Set `data_dir = /var/lib/odoo` in the [options] section of odoo.conf, then start Odoo. Everybody logs in once more.".into(),
            ]
        };
        out.push(StoreProblem {
            summary: format!("Sessions are kept in memory ({fs} mounted on {mount}): every reboot logs everybody out."),
            users_see: "Everybody is logged out after each server reboot.".into(),
            why: format!("A {fs} lives in RAM and is empty after every boot, so every session in {dir} is lost with it; the app does not move sessions itself, because a data_dir move also moves the filestore and needs Odoo stopped."),
            steps,
        });
    }
    if matches!(f.odoo.service, crate::facts::Service::Docker { .. })
        && (fs == "overlayfs" || fs == "overlay")
    {
        out.push(StoreProblem {
            summary: "Sessions live inside the container, not on a volume: recreating the container logs everybody out.".into(),
            users_see: "Everybody is logged out after each container update or recreation.".into(),
            why: "A container's own filesystem is thrown away when it is recreated; only a volume outlives it.".into(),
            steps: vec![
                format!("Mount a volume on {} (for example `-v odoo-data:{}` or a `volumes:` entry in docker-compose), then recreate the container.", f.odoo.data_dir, f.odoo.data_dir),
            ],
        });
    }
    let foreign: Vec<(&String, &u64)> = store.owners.iter().filter(|(o, _)| **o != *user).collect();
    let cannot_write = store.writable_by_service_user == Some(false) && !read_only;
    if cannot_write || !foreign.is_empty() {
        let chown = format!("Give the sessions back to the Odoo user: `chown -R {user}: {dir}` (as root; Odoo may keep running).");
        let never = "Start Odoo only through its service from now on, never by hand as root: a root start writes root-owned session files again.".to_string();
        if cannot_write {
            out.push(StoreProblem {
                summary: format!("The Odoo user {user} cannot write to {dir} (owner {}, mode {:o}): new logins cannot be saved.", store.owner.as_deref().unwrap_or("?"), store.mode.unwrap_or(0)),
                users_see: "Logging in seems to work, then the next click says \"Session Expired\".".into(),
                why: format!("Odoo runs as {user} and must create files in {dir}."),
                steps: vec![chown.clone(), format!("If the mode is the cause: `chmod u+rwx {dir}`.")],
            });
        }
        if !foreign.is_empty() {
            let n: u64 = foreign.iter().map(|(_, n)| **n).sum();
            let who: Vec<String> = foreign
                .iter()
                .map(|(o, n)| {
                    format!(
                        "{} owned by {o}",
                        crate::words::count(**n as usize, "file", "files")
                    )
                })
                .collect();
            out.push(StoreProblem {
                summary: format!(
                    "{} of {} in the sessions folder {} not owned by the Odoo user {user}: {}.",
                    crate::words::count(n as usize, "session file", "session files"),
                    store.files,
                    crate::words::form(n as usize, "is", "are"),
                    who.join(", ")
                ),
                users_see: "The people whose sessions are in those files are logged out at their next click, and cannot stay logged in.".into(),
                why: format!("Odoo was started once as another user (often root, by hand): the sessions it wrote belong to that user, and the service, running as {user}, cannot update or even read them."),
                steps: vec![chown, never],
            });
        }
    }
    out
}

/// Whether a file-deleting line (cron, timer, tmpfiles, tmpreaper) reaches into `sessions`.
pub fn deletes_sessions(kind: &CleanerKind, text: &str, sessions: &str) -> bool {
    // A path reaches the sessions when it is the folder, an ancestor of it, or inside it
    // (`…/sessions/*`); a glob counts from the folder it starts in.
    let covers = |p: &str| {
        let p = p.trim_matches(|c| c == '"' || c == '\'');
        let p = match p.find(['*', '?', '[']) {
            Some(i) => p[..i].rsplit_once('/').map(|(dir, _)| dir).unwrap_or(""),
            None => p,
        };
        let p = p.trim_end_matches("/.").trim_end_matches('/');
        p.len() > 1
            && p.starts_with('/')
            && (sessions == p
                || sessions.starts_with(&format!("{p}/"))
                || p.starts_with(&format!("{sessions}/")))
    };
    match kind {
        CleanerKind::Tmpfiles => {
            // type path mode user group age: only types that age out contents, with an age.
            let w: Vec<&str> = text.split_whitespace().collect();
            let ages_out = matches!(
                w.first().map(|t| t.trim_end_matches(['!', '-', '='])),
                Some("d" | "D" | "e" | "v" | "q" | "Q")
            );
            ages_out && w.get(5).is_some_and(|a| *a != "-") && w.get(1).is_some_and(|p| covers(p))
        }
        CleanerKind::Tmpreaper => text
            .split_once('=')
            .map(|(_, v)| {
                v.split(|c: char| c.is_whitespace() || c == '"' || c == '\'')
                    .any(covers)
            })
            .unwrap_or(false),
        CleanerKind::Cron | CleanerKind::SystemdUnit => {
            let deletes = text.contains("-delete")
                || text.contains("rm ")
                || text.contains("tmpreaper")
                || text.contains("tmpwatch")
                || text.contains("unlink");
            let words: Vec<&str> = text
                .split(|c: char| c.is_whitespace() || c == ';' || c == '|')
                .collect();
            // `find … -name '*.log' -delete` only deletes what the pattern matches: session files
            // are named by their id (16+) or werkzeug_<id>.sess (12–15).
            let spares_sessions = words.windows(2).any(|w| {
                matches!(w[0], "-name" | "-iname") && {
                    let pat = w[1].trim_matches(|c| c == '"' || c == '\'');
                    ![
                        "0d6f1c8a9b2e4f3a5c7d9e1f0a2b4c6d8e0f1a2b",
                        "werkzeug_0d6f1c8a9b2e4f3a.sess",
                    ]
                    .iter()
                    .any(|name| crate::nginx::glob_match(pat, name))
                }
            });
            deletes && !spares_sessions && words.iter().any(|w| covers(w))
        }
    }
}

pub fn external_cleanup(f: &Facts, fnd: Finding) -> Finding {
    let mut fnd = fnd.refs(&[gh("coopdevs/odoo-role", 110)]);
    let sessions = match &f.sessions {
        Observed::Seen(s) => s.path.clone(),
        Observed::Unknown(why) => return fnd.status(Status::Unknown, why.clone()),
    };
    let hits: Vec<_> = f
        .cleaners
        .iter()
        .filter(|c| deletes_sessions(&c.kind, &c.text, &sessions))
        .collect();
    if hits.is_empty() {
        return fnd.status(
            Status::Ok,
            "No cron job, timer, tmpfiles rule or tmpreaper setting deletes files in the sessions folder.",
        );
    }
    for c in &hits {
        fnd = fnd.evidence(format!("{}:{}", c.file, c.line), c.text.clone());
    }
    fnd.status(
        Status::Fail,
        format!("{} outside Odoo {} session files.", crate::words::count(hits.len(), "job", "jobs"), crate::words::form(hits.len(), "deletes", "delete")),
    )
    .users_see("Everybody is logged out at the same moment, at the time the job runs.")
    .why("A session is a file. When a cleanup job deletes it, Odoo no longer knows the person and hands them a new, empty session: they land on the login page. Odoo already cleans old sessions itself.")
    .fix(FixOffer {
        title: "Disable the line (it is kept, commented out, so it can be restored)".into(),
        choices: vec![],
        default: None,
    })
}

pub fn cleanup_runs(f: &Facts, fnd: Finding) -> Finding {
    let mut fnd = fnd.note(match f.odoo.version.map(|v| v.major) {
        Some(0..=15) => "Odoo 12–15: sessions idle 7 days are removed (ODOO_DISABLE_SESSION_GC=1 turns the random cleanup off in 14–15).",
        _ => "Odoo 16+: the daily \"Base: Auto-vacuum internal data\" job removes sessions idle longer than the lifetime; it needs max_cron_threads > 0 (ODOO_SKIP_GC_SESSIONS skips it).",
    });
    let version = f.odoo.version;
    if let Some(v) = f.odoo.option("max_cron_threads") {
        fnd = fnd.evidence(
            f.odoo.option_source("max_cron_threads").unwrap_or_default(),
            format!("max_cron_threads = {v}"),
        );
        if v.trim() == "0" {
            fnd.worsen(
                Status::Fail,
                "max_cron_threads = 0: Odoo's daily cleanup never runs, so old sessions are never removed.",
            );
            fnd = fnd.why("Odoo removes idle sessions in its daily \"Auto-vacuum internal data\" job, which needs at least one cron thread (or another Odoo process running crons). Without it the sessions folder only grows and the lifetime you set does nothing.");
        }
    }
    for key in ["ODOO_SKIP_GC_SESSIONS", "ODOO_DISABLE_SESSION_GC"] {
        if let Some(v) = f.odoo.env.get(key) {
            fnd = fnd.evidence(
                format!(
                    "environment of {}",
                    f.odoo
                        .pid
                        .map(|p| format!("pid {p}"))
                        .unwrap_or_else(|| f.odoo.service.describe())
                ),
                format!("{key}={v}"),
            );
            fnd.worsen(
                Status::Warn,
                format!("{key} is set: Odoo skips its session cleanup."),
            );
        }
    }
    if let Some(db) = f.db.seen() {
        for d in &db.databases {
            if d.autovacuum_cron_active == Some(false) {
                fnd = fnd.evidence(
                    format!("ir_cron in {}", d.name),
                    "Base: Auto-vacuum internal data — inactive",
                );
                fnd.worsen(
                    Status::Fail,
                    format!(
                        "The Auto-vacuum job is switched off in database {}.",
                        d.name
                    ),
                );
            }
        }
    }
    if let Observed::Seen(s) = &f.sessions {
        let threshold = super::session::lifetimes(f)
            .iter()
            .map(|(_, s, _)| *s)
            .min()
            .unwrap_or(DEFAULT_LIFETIME.as_secs());
        if let Some(oldest) = s.oldest_age_secs {
            // Files older than the threshold plus the daily cron's period plus a margin: the cleanup is not running.
            if version.is_some_and(|v| v.has_lifetime_parameter())
                && oldest > threshold + 3 * 86_400
            {
                fnd = fnd.evidence(
                    format!("find {}", s.path),
                    format!(
                        "{} files, the oldest untouched for {}",
                        s.files,
                        human_duration(Duration::from_secs(oldest - oldest % 3600))
                    ),
                );
                fnd.worsen(Status::Warn, "Session files older than the lifetime are still there: the cleanup does not seem to run.");
            }
        }
        if s.files > 200_000 {
            fnd.worsen(
                Status::Warn,
                format!("The sessions folder holds {} files.", s.files),
            );
        }
    }
    if fnd.status == Status::Ok {
        fnd.summary = "Odoo's daily cleanup can run.".into();
    }
    fnd
}
