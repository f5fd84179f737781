//! Verification, the stage after the restart: what was written is still there, the running
//! server honours it (a fresh diagnosis passes every fixed check, a fresh session's cookie carries
//! the new lifetime), and a session made before the restart survived it. Also the rollback's own
//! check that every before-image is back.
//!
//! Each verification is a typed value (which check, what was looked at, what was seen); the host's
//! record keeps them as rows ([`record::Verification`]) so records stay readable by older builds.

use super::record;
use super::{ChangeSet, ParamChange};
use crate::checks::{CheckId, Finding, Status};
use crate::error::EngineError;
use crate::facts::Facts;
use crate::probe::{self, ProbeOptions};
use crate::{diagnose, DiagnoseOptions, Diagnosis};
use osd_remote::{Host, Secret};
use serde::Serialize;

/// What one verification looked at, and what it saw there.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Evidence {
    /// A file the change set wrote, compared with what was written.
    File { path: String, as_written: bool },
    /// A system parameter read back from its database (`None`: the row is absent).
    Param {
        db: String,
        key: String,
        now: Option<String>,
    },
    /// The check judged again on a fresh diagnosis of the running server.
    Judged {
        before: Option<Status>,
        after: Status,
        summary: String,
    },
    /// The Max-Age of the cookie the running server gives a fresh visitor on `/web/login`.
    Cookie { max_age: Option<i64> },
    /// A session made before the restart, asked again after it.
    Continuity { alive: bool },
}

impl Evidence {
    /// In words, as the record and the faces show it.
    pub fn detail(&self) -> String {
        match self {
            Evidence::File { path, as_written } => format!(
                "{path} {}",
                if *as_written {
                    "is as written"
                } else {
                    "differs from what was written"
                }
            ),
            Evidence::Param { db, key, now } => {
                format!("{key} in {db} = {}", now.as_deref().unwrap_or("(absent)"))
            }
            Evidence::Judged { after, summary, .. } => {
                format!("after the restart: {} — {summary}", after.as_str())
            }
            Evidence::Cookie { max_age } => format!(
                "a fresh session's cookie has Max-Age={}",
                max_age.map_or_else(|| "(none)".into(), |m| m.to_string())
            ),
            Evidence::Continuity { alive } => format!(
                "a session made before the restart is {} after it",
                if *alive { "still valid" } else { "gone" }
            ),
        }
    }
}

/// The title people read for the `session.continuity` verification (it is no check of the list).
pub const CONTINUITY_TITLE: &str = "Sessions survive the restart";

/// One thing verified for one check.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Verification {
    /// The check it verifies; `None` for the change as a whole (a session surviving the
    /// restart), which the record names `session.continuity`.
    pub check: Option<CheckId>,
    pub ok: bool,
    pub evidence: Evidence,
}

impl Verification {
    /// The check's stable name, as records and messages show it.
    pub fn check_name(&self) -> &'static str {
        self.check.map_or("session.continuity", CheckId::as_str)
    }

    /// The row the host's record keeps.
    pub fn row(&self) -> record::Verification {
        record::Verification {
            check: self.check_name().into(),
            persisted: self.ok,
            detail: self.evidence.detail(),
        }
    }

    /// The error that makes the apply roll back.
    pub fn failure(&self) -> EngineError {
        EngineError::VerificationFailed {
            // for people: the check's title (the record row above keeps the stable id)
            check: self
                .check
                .map_or_else(|| format!("“{CONTINUITY_TITLE}”"), CheckId::mention),
            detail: self.evidence.detail(),
        }
    }
}

/// Everything verified after the restart, and the fresh diagnosis it judged.
#[derive(Debug, Clone)]
pub struct VerifyReport {
    pub verifications: Vec<Verification>,
    pub after: Diagnosis,
}

impl VerifyReport {
    /// The first verification that did not hold, if any.
    pub fn first_failure(&self) -> Option<&Verification> {
        self.verifications.iter().find(|v| !v.ok)
    }

    pub fn rows(&self) -> Vec<record::Verification> {
        self.verifications.iter().map(Verification::row).collect()
    }
}

/// A session made before the restart: the base URL it lives on and its id.
pub type SessionBefore = (String, Secret);

/// Verifies `cs` on the running server after its restart. `before` is the diagnosis the change
/// set was planned from; `session_before` a session made before the restart (with `probe`).
pub fn after_restart(
    host: &Host,
    before: &Diagnosis,
    cs: &ChangeSet,
    diagnose_opts: &DiagnoseOptions,
    continuity: Option<(&SessionBefore, &ProbeOptions)>,
) -> Result<VerifyReport, EngineError> {
    let facts = &before.facts;
    let lifetime = cs
        .params
        .iter()
        .find(|pc| pc.key == crate::checks::session::LIFETIME_KEY);
    // Four independent observations, each waiting on the network: asked at once (the fresh
    // diagnosis is the longest; the others fit inside it).
    let (stored, after, cookie, alive) = std::thread::scope(|s| {
        let stored = s.spawn(|| -> Result<Vec<Verification>, EngineError> {
            let mut v = Vec::new();
            for f in &cs.files {
                let sha = host.stat(&f.path)?.and_then(|s| s.sha256);
                let as_written = sha.as_deref() == Some(f.after_sha256.as_str());
                for &check in &f.checks {
                    v.push(Verification {
                        check: Some(check),
                        ok: as_written,
                        evidence: Evidence::File {
                            path: f.path.clone(),
                            as_written,
                        },
                    });
                }
            }
            for (pc, now) in cs
                .params
                .iter()
                .zip(current_params(host, facts, &cs.params)?)
            {
                v.push(Verification {
                    check: Some(pc.check),
                    ok: now.as_deref() == pc.new.as_deref(),
                    evidence: Evidence::Param {
                        db: pc.db.clone(),
                        key: pc.key.clone(),
                        now,
                    },
                });
            }
            Ok(v)
        });
        // The running server, observed: a fresh diagnosis must pass every fixed check.
        let after = s.spawn(|| diagnose(host, diagnose_opts));
        let cookie = s.spawn(|| lifetime.and_then(|_| observe_cookie(host, facts)));
        let alive =
            s.spawn(|| continuity.map(|((base, sid), po)| probe::session_alive(po, base, sid)));
        (
            stored.join().expect("stored values"),
            after.join().expect("diagnosis"),
            cookie.join().expect("cookie"),
            alive.join().expect("continuity"),
        )
    });
    let mut verifications = stored?;
    let after = after?;
    verifications.extend(judged(cs, &before.checks, &after.checks));
    if let (Some(lt), Some(max_age)) = (lifetime, cookie) {
        verifications.push(Verification {
            check: Some(lt.check),
            ok: max_age.map(|m| m.to_string()) == lt.new,
            evidence: Evidence::Cookie { max_age },
        });
    }
    if let Some(alive) = alive {
        verifications.push(Verification {
            check: None,
            ok: alive,
            evidence: Evidence::Continuity { alive },
        });
    }
    Ok(VerifyReport {
        verifications,
        after,
    })
}

/// Each check the change set was asked to fix, judged again: it must now pass (or not apply),
/// unless its plan held only notes (nothing was changed for it, so nothing is expected of it).
pub fn judged(cs: &ChangeSet, before: &[Finding], after: &[Finding]) -> Vec<Verification> {
    cs.checks
        .iter()
        .filter_map(|&id| {
            let now = after.iter().find(|f| f.id == id)?;
            Some(Verification {
                check: Some(id),
                ok: matches!(now.status, Status::Ok | Status::Skip) || notes_only(cs, id),
                evidence: Evidence::Judged {
                    before: before.iter().find(|f| f.id == id).map(|f| f.status),
                    after: now.status,
                    summary: now.summary.clone(),
                },
            })
        })
        .collect()
}

/// A check whose plan held only notes (nothing to change) is not expected to turn ok.
fn notes_only(cs: &ChangeSet, id: CheckId) -> bool {
    !cs.files.iter().any(|f| f.checks.contains(&id)) && !cs.params.iter().any(|p| p.check == id)
}

/// The current values of the parameters a change set touches, in its order.
pub fn current_params(
    host: &Host,
    facts: &Facts,
    params: &[ParamChange],
) -> Result<Vec<Option<String>>, EngineError> {
    let wanted: Vec<(&str, &str)> = params
        .iter()
        .map(|p| (p.db.as_str(), p.key.as_str()))
        .collect();
    crate::discover::db::read_params(host, &facts.odoo, &wanted)
}

/// The Max-Age of the cookie a fresh visitor gets on `/web/login`, if the server sets one
/// (`None` when the page could not be fetched: nothing observed, nothing verified).
fn observe_cookie(host: &Host, facts: &Facts) -> Option<Option<i64>> {
    let t = host.tunnel("127.0.0.1", facts.odoo.http_port()).ok()?;
    Some(probe::login_page_cookie(&format!("http://{}", t.local_addr()))?.max_age)
}

/// After a rollback: every file is byte-identical to its before-image with its owner and mode,
/// and every parameter that may have been written holds its old value again.
pub fn restored(
    host: &Host,
    facts: &Facts,
    cs: &ChangeSet,
    params_written: bool,
) -> Result<(), EngineError> {
    for f in &cs.files {
        let st = host
            .stat(&f.path)?
            .ok_or_else(|| EngineError::NotRestored {
                what: format!("{} is missing", f.path),
            })?;
        if st.sha256.as_deref() != Some(f.before_sha256.as_str())
            || st.mode != f.mode
            || st.owner != f.owner
        {
            return Err(EngineError::NotRestored {
                what: format!("{} is not byte-identical to its before-image", f.path),
            });
        }
    }
    let params = if params_written { &cs.params[..] } else { &[] };
    for (pc, now) in params.iter().zip(current_params(host, facts, params)?) {
        if now != pc.old {
            return Err(EngineError::NotRestored {
                what: format!(
                    "system parameter {} in {} did not return to its old value",
                    pc.key, pc.db
                ),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::change::{FileChange, FileKind, Reason};

    fn finding(id: &'static str, status: Status) -> Finding {
        let mut f = Finding::new(id.parse().unwrap(), id);
        f.status = status;
        f.summary = format!("{id} is {}", status.as_str());
        f
    }

    fn change_set() -> ChangeSet {
        ChangeSet {
            checks: vec![
                "proxy.mode".parse().unwrap(),
                "session.lifetime".parse().unwrap(),
                "session.cleanup-runs".parse().unwrap(),
            ],
            files: vec![FileChange {
                path: "/etc/odoo/odoo.conf".into(),
                kind: FileKind::OdooConf,
                checks: vec![CheckId::ProxyMode],
                owner: "odoo".into(),
                group: "odoo".into(),
                mode: 0o640,
                before_sha256: String::new(),
                after_sha256: String::new(),
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
            notes: vec![Reason {
                check: CheckId::SessionCleanupRuns,
                text: "cannot be fixed automatically".into(),
            }],
            ..Default::default()
        }
    }

    #[test]
    fn a_fixed_check_must_pass_after_the_restart() {
        let cs = change_set();
        let before = [
            finding("proxy.mode", Status::Fail),
            finding("session.lifetime", Status::Warn),
        ];
        let after = [
            finding("proxy.mode", Status::Ok),
            finding("session.lifetime", Status::Warn),
        ];
        let v = judged(&cs, &before, &after);
        assert_eq!(v.len(), 2, "a check absent after the restart is not judged");
        assert!(v[0].ok);
        assert_eq!(
            v[0].evidence,
            Evidence::Judged {
                before: Some(Status::Fail),
                after: Status::Ok,
                summary: "proxy.mode is ok".into()
            }
        );
        assert!(!v[1].ok, "a lifetime still warning was not fixed");
        assert_eq!(
            v[1].failure().to_string(),
            "verification failed for “How long an idle session lives”: after the restart: warn — session.lifetime is warn"
        );
    }

    #[test]
    fn skip_passes_and_a_check_with_only_notes_is_not_held_to_pass() {
        let cs = change_set();
        let after = [
            finding("proxy.mode", Status::Skip),
            finding("session.cleanup-runs", Status::Fail),
        ];
        let v = judged(&cs, &[], &after);
        assert!(v.iter().all(|v| v.ok), "{v:#?}");
        assert!(matches!(
            v[1].evidence,
            Evidence::Judged { before: None, .. }
        ));
    }

    #[test]
    fn rows_keep_the_record_format() {
        let v = Verification {
            check: Some(CheckId::SessionLifetime),
            ok: true,
            evidence: Evidence::Cookie {
                max_age: Some(172_800),
            },
        };
        assert_eq!(
            v.row(),
            record::Verification {
                check: "session.lifetime".into(),
                persisted: true,
                detail: "a fresh session's cookie has Max-Age=172800".into(),
            }
        );
        let absent = Verification {
            ok: false,
            evidence: Evidence::Param {
                db: "odoo".into(),
                key: "sessions.max_inactivity_seconds".into(),
                now: None,
            },
            ..v
        };
        assert_eq!(
            absent.failure().to_string(),
            "verification failed for “How long an idle session lives”: sessions.max_inactivity_seconds in odoo = (absent)"
        );
    }
}
