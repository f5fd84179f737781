//! The check that tells sessions a person ended on purpose from a fault: on Odoo 18 and later,
//! the devices revoked in Preferences → Devices (or on a user's form), per user, with counts and
//! dates read from `res_device_log` (never a session identifier). It informs; there is no fix.
//!
//! What was proved from Odoo 18's source (odoo/addons/base/models/res_device.py): `_revoke`
//! deletes the sessions from the store and writes `revoked = True` on every log row of those
//! sessions through the ORM (so `write_date` is when, `write_uid` who); `_update_device` inserts
//! rows with raw SQL and no `write_date`. A password change also ends a user's other sessions (the
//! session token is an HMAC over `id, login, password, active` and more, `_compute_session_token`
//! in res_users.py, compared on each request by `check_session` in odoo/service/security.py), but
//! Odoo records no date for it: this check says so instead of guessing from `res_users.write_date`,
//! which any change to the user moves.

use super::{Finding, Reference, Status};
use crate::facts::{Facts, RevokedDevices, REVOKED_WINDOW_DAYS};
use crate::words::count;

/// The first major version whose database keeps the device log this check reads.
pub const FIRST_MAJOR: u8 = 18;

fn reference() -> Reference {
    Reference {
        label: "odoo/odoo 18.0: res_device.py (revoke)".into(),
        url: "https://github.com/odoo/odoo/blob/18.0/odoo/addons/base/models/res_device.py".into(),
    }
}

const PASSWORD_NOTE: &str = "A password change ends a person's other sessions too, by design: Odoo 18 keeps in each session a token computed from the user's id, login, password and active flag (and the two-factor secret when it is on), recomputes it on every request and logs out a session whose token no longer matches. Odoo records no date for a password change (res_users.write_date moves on any change to the user), so this check cannot list them: if one person alone is logged out everywhere, ask whether they (or an admin) changed their password.";

/// One owner's line: counts and dates, who revoked them.
fn line(r: &RevokedDevices) -> String {
    let recent = if r.recent == 0 {
        format!("none in the last {REVOKED_WINDOW_DAYS} days")
    } else {
        let by = if r.by.is_empty() {
            String::new()
        } else if r.by == [r.user.clone()] {
            " (by themselves)".to_string()
        } else {
            format!(" (by {})", r.by.join(", "))
        };
        format!(
            "{} revoked in the last {REVOKED_WINDOW_DAYS} days{by}",
            count(r.recent as usize, "session", "sessions")
        )
    };
    format!(
        "{}: {recent}; {} in the log in all, the last on {} UTC",
        r.user, r.total, r.last
    )
}

pub fn judge(f: &Facts, fnd: Finding) -> Finding {
    let fnd = fnd.refs(&[reference()]);
    match f.odoo.version {
        Some(v) if v.major < FIRST_MAJOR => {
            return fnd
                .status(
                    Status::Skip,
                    format!("Odoo {v} keeps no device log to read revocations from."),
                )
                .note("Odoo 18 brought the device list (Preferences → Devices) whose \"Revoke\" ends a session at once; this check reads its log (res_device_log) on 18 and later.");
        }
        Some(_) => {}
        None => {
            return fnd.status(
                Status::Unknown,
                "Odoo's version is not known, so neither is whether it keeps a device log.",
            )
        }
    }
    let Some(db) = f.db.seen() else {
        return fnd.status(
            Status::Unknown,
            format!(
                "Could not read the device log: {}",
                f.db.why_unknown().unwrap_or("no Odoo database found")
            ),
        );
    };
    let mut fnd = fnd
        .note("Devices and their revocation exist from Odoo 18 (res.device, res.device.log). On 19 Odoo's own cleanup also marks devices revoked when their session is gone; those rows are Odoo's (written by __system__) and not counted here.")
        .why(format!(
            "Revoking a device in Preferences → Devices (or an admin doing it on the user's form) deletes that session on the server and marks its rows in the device log revoked; the person is logged out at their next click, on purpose. {PASSWORD_NOTE}"
        ));
    let mut read = 0;
    let mut recent: Vec<(&str, &RevokedDevices)> = Vec::new();
    for d in &db.databases {
        let source = format!("res_device_log in database {}", d.name);
        let Some(list) = &d.revoked_devices else {
            fnd = fnd.evidence(source, "not read: the database has no device log");
            continue;
        };
        read += 1;
        let mut list: Vec<&RevokedDevices> = list.iter().collect();
        list.sort_by(|a, b| b.last.cmp(&a.last).then(a.user.cmp(&b.user)));
        let excerpt = if list.is_empty() {
            "no device revoked".to_string()
        } else {
            list.iter().map(|r| line(r)).collect::<Vec<_>>().join("\n")
        };
        fnd = fnd.evidence(source, excerpt);
        recent.extend(
            list.into_iter()
                .filter(|r| r.recent > 0)
                .map(|r| (d.name.as_str(), r)),
        );
    }
    if read == 0 {
        return fnd.status(
            Status::Unknown,
            "No database of this Odoo has a device log to read revocations from.",
        );
    }
    if recent.is_empty() {
        return fnd.status(
            Status::Ok,
            format!("No device was revoked in the last {REVOKED_WINDOW_DAYS} days."),
        );
    }
    recent.sort_by(|a, b| b.1.last.cmp(&a.1.last));
    let several = db.databases.len() > 1;
    let who: Vec<String> = recent
        .iter()
        .map(|(db, r)| {
            let whose = if several {
                format!("{} in {db}", r.user)
            } else {
                r.user.clone()
            };
            format!(
                "{} of {whose} (last {} UTC)",
                count(r.recent as usize, "session", "sessions"),
                r.last
            )
        })
        .collect();
    fnd.status(
        Status::Warn,
        format!(
            "Sessions were ended on purpose in the last {REVOKED_WINDOW_DAYS} days: {}.",
            who.join(", ")
        ),
    )
    .users_see("Those people were logged out on the revoked devices at once: their next click showed the login page. Someone chose that; it is not a fault. Nothing to fix — this is here so a complaint from these people at these times can be told apart from a real problem.")
}
