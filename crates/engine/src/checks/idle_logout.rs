//! The check on modules that log people out on purpose after a delay without activity (OCA
//! `auth_session_timeout` and the auto-logout apps): which are installed, the delay each uses, and
//! how it combines with Odoo's own idle lifetime. What each module stores and how it decides was
//! read from its source; a module whose settings were not read is named, never guessed at.

use super::session::lifetimes;
use super::{Choice, Finding, FixOffer, Reference, Status};
use crate::facts::{DbParams, Facts};
use crate::version::{human_duration, DEFAULT_LIFETIME};
use std::time::Duration;

/// OCA `auth_session_timeout`: the delay in seconds (`int(get_param(key, 7200))`, ≤ 0 switches
/// the check off).
pub const DELAY_KEY: &str = "inactive_session_time_out_delay";
/// Its paths that neither trigger the check's touch nor count as activity (comma-separated,
/// compared with the request path exactly).
pub const IGNORED_KEY: &str = "inactive_session_time_out_ignored_url";
/// OCA `web_session_auto_close` (18.0): the browser's timer in seconds (default 600).
pub const AUTO_CLOSE_KEY: &str = "web_session_auto_close.timeout";

/// Below this a delay logs people out during an ordinary pause (a meeting, lunch, a phone call)
/// and they come back to "Session Expired" with their typing lost.
pub const SHORTEST_SENSIBLE: Duration = Duration::from_secs(3600);

/// Where a module decides that a session ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// On the server, at the next request after the delay.
    Server,
    /// In the browser, by a timer.
    Browser,
}

/// A module known to log people out after a delay without activity.
pub struct Known {
    pub module: &'static str,
    pub side: Side,
    /// The system parameter holding its delay in seconds, and the delay it uses when the
    /// parameter is absent (or not positive, for the browser timer); `None` when it keeps the
    /// delay elsewhere.
    pub param: Option<(&'static str, u64)>,
    /// How it works, in a sentence for people.
    pub how: &'static str,
    pub reference: (&'static str, &'static str),
}

pub static KNOWN: &[Known] = &[
    Known {
        module: "auth_session_timeout",
        side: Side::Server,
        param: Some((DELAY_KEY, 7200)),
        how: "OCA's Inactive Sessions Timeout: on every request of a logged-in user the server compares the session file's modification time with now minus the delay; older means it logs the session out, otherwise it touches the file (except on the paths listed in inactive_session_time_out_ignored_url, by default /calendar/notify and /websocket). So the first request after the delay without a request ends the session.",
        reference: ("OCA/server-auth: auth_session_timeout", "https://github.com/OCA/server-auth/tree/17.0/auth_session_timeout"),
    },
    Known {
        module: "web_session_auto_close",
        side: Side::Browser,
        param: Some((AUTO_CLOSE_KEY, 600)),
        how: "OCA's Web Session Auto Close: a timer in the browser tab, reset by mouse moves and key presses in any tab of that browser, calls /web/session/destroy when the delay passes without either (it is a Settings field, stored as web_session_auto_close.timeout).",
        reference: ("OCA/web: web_session_auto_close", "https://github.com/OCA/web/tree/18.0/web_session_auto_close"),
    },
    Known {
        module: "auto_logout_idle_user_odoo",
        side: Side::Browser,
        param: None,
        how: "Cybrosys' Auto Logout Idle User (Odoo Apps store): a countdown in the browser with a delay in minutes set per user on the user form (Enable Idle, Idle Time); this check does not read users' settings.",
        reference: ("Odoo Apps store: search auto_logout_idle_user_odoo", "https://apps.odoo.com/apps/modules/browse?search=auto_logout_idle_user_odoo"),
    },
    Known {
        module: "auto_web_session_timeout",
        side: Side::Browser,
        param: None,
        how: "An Odoo Apps store auto-logout module (a timer in the browser); where it keeps its delay was not read, so this check cannot say it.",
        reference: ("Odoo Apps store: search auto_web_session_timeout", "https://apps.odoo.com/apps/modules/browse?search=auto_web_session_timeout"),
    },
];

/// The known module called `name`.
pub fn known(name: &str) -> Option<&'static Known> {
    KNOWN.iter().find(|k| k.module == name)
}

/// What one installed module does in one database: the delay (seconds) and the raw value read.
pub struct Installed<'a> {
    pub db: &'a str,
    pub known: &'static Known,
    /// `Ok(Some(secs))` a delay, `Ok(None)` switched off, `Err(raw)` a value it cannot read;
    /// `None` when the module keeps its delay where this check does not look.
    pub delay: Option<Result<Option<u64>, String>>,
    pub raw: Option<String>,
}

/// The module's reading of its parameter, as its source does it.
fn delay_of(k: &Known, raw: Option<&str>) -> Option<Result<Option<u64>, String>> {
    let (_, default) = k.param?;
    let Some(raw) = raw else {
        return Some(Ok(Some(default)));
    };
    Some(match (raw.trim().parse::<i64>(), k.side) {
        // auth_session_timeout: a delay ≤ 0 returns no deadline, so nobody is logged out.
        (Ok(v), Side::Server) if v <= 0 => Ok(None),
        // web_session_auto_close: `parseInt(timeout) || 600000` — 0 falls back to the default.
        (Ok(v), Side::Browser) if v <= 0 => Ok(Some(default)),
        (Ok(v), _) => Ok(Some(v as u64)),
        // Both call int() on the value: a non-number raises on every request that reads it.
        (Err(_), _) => Err(raw.to_string()),
    })
}

/// Every known module installed in a database this instance serves.
pub fn installed(f: &Facts) -> Vec<Installed<'_>> {
    let Some(db) = f.db.seen() else {
        return Vec::new();
    };
    db.databases
        .iter()
        .flat_map(|d: &DbParams| {
            d.modules
                .iter()
                .filter(|(_, state)| state.as_str() == "installed")
                .filter_map(move |(m, _)| {
                    let k = known(m)?;
                    let raw = k.param.and_then(|(key, _)| d.params.get(key).cloned());
                    Some(Installed {
                        db: &d.name,
                        known: k,
                        delay: delay_of(k, raw.as_deref()),
                        raw,
                    })
                })
        })
        .collect()
}

/// The choices offered for the delay: all long enough for an ordinary pause.
pub fn delay_choices() -> Vec<Choice> {
    [
        (14_400, "4 hours (half a working day)"),
        (28_800, "8 hours (a working day)"),
        (86_400, "1 day"),
    ]
    .into_iter()
    .map(|(secs, label)| Choice {
        value: secs.to_string(),
        label: label.to_string(),
        warning: None,
    })
    .collect()
}

/// The delay the fix sets when the person picks nothing.
pub const DEFAULT_CHOICE: u64 = 28_800;

fn words(secs: u64) -> String {
    human_duration(Duration::from_secs(secs))
}

pub fn judge(f: &Facts, fnd: Finding) -> Finding {
    let Some(db) = f.db.seen() else {
        return fnd.status(
            Status::Unknown,
            format!(
                "Could not see which modules are installed: {}",
                f.db.why_unknown().unwrap_or("no Odoo database found")
            ),
        );
    };
    let found = installed(f);
    if found.is_empty() {
        let names: Vec<&str> = KNOWN.iter().map(|k| k.module).collect();
        return fnd
            .status(Status::Ok, "No module logs people out on purpose.")
            .evidence(
                format!(
                    "ir_module_module in {}",
                    crate::words::count(db.databases.len(), "database", "databases")
                ),
                format!("none of {} is installed", names.join(", ")),
            );
    }
    let mut fnd = fnd.note(
        "auth_session_timeout exists for Odoo 9 to 19 (OCA server-tools up to 10, server-auth from 11) and works only with sessions kept as files; on 17 it caches the delay, so a value written straight into the database takes effect after a restart. web_session_auto_close is an OCA module for 18.",
    );
    let mut refs: Vec<Reference> = Vec::new();
    for i in &found {
        let (label, url) = i.known.reference;
        if !refs.iter().any(|r| r.url == url) {
            refs.push(Reference {
                label: label.into(),
                url: url.into(),
            });
        }
    }
    fnd = fnd.refs(&refs);
    // Odoo's own lifetime per database: it deletes idle sessions too, so the shorter one wins.
    let lifetime_of = |name: &str| {
        lifetimes(f)
            .into_iter()
            .find(|(d, _, _)| d == name)
            .map(|(_, s, _)| s)
            .filter(|_| f.odoo.version.map_or(true, |v| v.has_lifetime_parameter()))
            .unwrap_or(DEFAULT_LIFETIME.as_secs())
    };
    let stores: Vec<String> = db
        .databases
        .iter()
        .flat_map(|d| d.modules.iter())
        .filter(|(m, s)| (*m == "session_redis" || *m == "session_db") && *s == "installed")
        .map(|(m, _)| m.clone())
        .collect();
    let mut shortest: Option<(u64, &Installed)> = None;
    let mut unread = Vec::new();
    let mut broken = Vec::new();
    let mut how = Vec::new();
    for i in &found {
        if !how.contains(&i.known.how) {
            how.push(i.known.how);
        }
        let source = format!("database {}", i.db);
        let lifetime = lifetime_of(i.db);
        match (&i.delay, i.known.param) {
            (None, _) | (_, None) => {
                unread.push(i.known.module);
                fnd = fnd.evidence(
                    format!("ir_module_module in {source}"),
                    format!("{} is installed (a browser timer; its delay is kept where this check does not look)", i.known.module),
                );
            }
            (Some(Err(raw)), Some((key, _))) => {
                broken.push(format!("{key} = {raw:?} in {source}"));
                fnd = fnd.evidence(
                    format!("ir_config_parameter in {source}"),
                    format!(
                        "{} is installed; {key} = {raw:?} is not a whole number of seconds",
                        i.known.module
                    ),
                );
            }
            (Some(Ok(None)), Some((key, _))) => {
                fnd = fnd.evidence(
                    format!("ir_config_parameter in {source}"),
                    format!(
                        "{} is installed; {key} = {}: 0 or less switches its logout off",
                        i.known.module,
                        i.raw.as_deref().unwrap_or("")
                    ),
                );
            }
            (Some(Ok(Some(secs))), Some((key, default))) => {
                let value = match &i.raw {
                    Some(r) => format!("{key} = {r}"),
                    None => format!("{key} is not set: the module's default, {default}"),
                };
                let wins = if *secs < lifetime {
                    format!(
                        "shorter than Odoo's idle lifetime here ({}), so this delay is the one that logs idle people out",
                        words(lifetime)
                    )
                } else {
                    format!(
                        "not shorter than Odoo's idle lifetime here ({}), which deletes idle sessions first",
                        words(lifetime)
                    )
                };
                fnd = fnd.evidence(
                    format!("ir_config_parameter in {source}"),
                    format!(
                        "{} is installed; {value} ({}): {wins}",
                        i.known.module,
                        words(*secs)
                    ),
                );
                if *secs < lifetime && shortest.map_or(true, |(s, _)| *secs < s) {
                    shortest = Some((*secs, i));
                }
            }
        }
        if i.known.side == Side::Server && !stores.is_empty() {
            broken.push(format!(
                "{} with {} in database {}",
                i.known.module,
                stores.join(", "),
                i.db
            ));
        }
    }
    let offer = found.iter().any(|i| i.known.param.is_some());
    if offer {
        fnd = fnd.fix(FixOffer {
            title: "Set the module's idle delay (then restart Odoo so it takes effect)".into(),
            choices: delay_choices(),
            default: Some(DEFAULT_CHOICE.to_string()),
        });
    }
    let mut why = format!(
        "{} Odoo itself also deletes sessions idle longer than sessions.max_inactivity_seconds (see {}); a session ends at whichever of the two comes first, so the shorter wins.",
        how.join(" "),
        super::CheckId::SessionLifetime.mention()
    );
    if !stores.is_empty() && found.iter().any(|i| i.known.side == Side::Server) {
        why.push_str(" auth_session_timeout reads the session's file on disk; with sessions kept in Redis or PostgreSQL (session_redis, session_db) there is no such file, and the module cannot work.");
    }
    let fnd = fnd.why(why);
    if !broken.is_empty() {
        return fnd
            .status(
                Status::Fail,
                format!(
                    "A logout module cannot work as set up: {}.",
                    broken.join("; ")
                ),
            )
            .users_see("People are logged out or see errors on any request, whatever they do.");
    }
    if let Some((secs, i)) = shortest {
        if secs < SHORTEST_SENSIBLE.as_secs() {
            let users = match i.known.side {
                Side::Server => "After a pause of {d} (a meeting, a call, lunch) the next click shows \"Session Expired\" or the login page, and what they were typing is lost. This is the module doing its job: a policy, set too tight.",
                Side::Browser => "After {d} without moving the mouse or typing, the page reloads to the login page — even while someone is reading. This is the module doing its job: a policy, set too tight.",
            };
            return fnd
                .status(
                    Status::Fail,
                    format!(
                        "{} logs people out after {} without activity: shorter than an ordinary pause.",
                        i.known.module,
                        words(secs)
                    ),
                )
                .users_see(users.replace("{d}", &words(secs)));
        }
        return fnd
            .status(
                Status::Ok,
                format!(
                    "{} logs people out after {} without activity: this is a policy, not a bug.",
                    i.known.module,
                    words(secs)
                ),
            )
            .users_see(format!("People who leave Odoo alone for {} are logged out and sign in again; that is what the module was installed for.", words(secs)));
    }
    if !unread.is_empty() {
        return fnd
            .status(
                Status::Warn,
                format!(
                    "{} {} installed: it logs people out on purpose after a delay this check cannot read.",
                    unread.join(", "),
                    crate::words::form(unread.len(), "is", "are")
                ),
            )
            .users_see("People are logged out after a while without activity, by design. If they complain, look at the module's delay first.");
    }
    fnd.status(
        Status::Ok,
        "An idle-logout module is installed, but Odoo's own idle lifetime ends sessions first (or the module is switched off): this is a policy, not a bug.",
    )
}
