//! The session checklist's vocabulary: [`CheckId`], [`Finding`], [`Status`], the verdict. The
//! judges live in the submodules, one pure function from [`Facts`](crate::facts::Facts) to a
//! [`Finding`] each; the
//! list itself (order, titles, fixes) is [`crate::registry`].
//!
//! A finding speaks to a non-expert first (what users see, why, in plain words) and to an engineer
//! second (evidence with file:line or command output, version notes, references).

pub mod conf;
pub mod idle_logout;
pub mod proxy;
pub mod revoked;
pub mod runtime;
pub mod session;

use serde::{Deserialize, Serialize};

/// A check's identity. The string names (serde, `Display`, `FromStr`) are the stable ids people
/// type (`--fix session.lifetime`), reports print and change records store; the order of the
/// variants is nothing — the checklist order is [`crate::registry::REGISTRY`]'s.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    strum::Display,
    strum::EnumString,
    strum::IntoStaticStr,
    strum::EnumIter,
    strum::EnumMessage,
)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum CheckId {
    #[serde(rename = "service.found")]
    #[strum(serialize = "service.found", message = "Odoo found and understood")]
    ServiceFound,
    #[serde(rename = "session.lifetime")]
    #[strum(
        serialize = "session.lifetime",
        message = "How long an idle session lives"
    )]
    SessionLifetime,
    #[serde(rename = "session.store")]
    #[strum(serialize = "session.store", message = "Where sessions are kept")]
    SessionStore,
    #[serde(rename = "session.external-cleanup")]
    #[strum(
        serialize = "session.external-cleanup",
        message = "Nothing but Odoo deletes session files"
    )]
    SessionExternalCleanup,
    #[serde(rename = "session.cleanup-runs")]
    #[strum(
        serialize = "session.cleanup-runs",
        message = "Odoo's own cleanup of old sessions runs"
    )]
    SessionCleanupRuns,
    #[serde(rename = "session.idle-logout")]
    #[strum(
        serialize = "session.idle-logout",
        message = "No module logs people out too soon"
    )]
    SessionIdleLogout,
    #[serde(rename = "session.revoked")]
    #[strum(
        serialize = "session.revoked",
        message = "Sessions ended on purpose (devices revoked)"
    )]
    SessionRevoked,
    #[serde(rename = "conf.folklore")]
    #[strum(
        serialize = "conf.folklore",
        message = "Settings that do nothing (folklore)"
    )]
    ConfFolklore,
    #[serde(rename = "conf.syntax")]
    #[strum(serialize = "conf.syntax", message = "odoo.conf says what it means")]
    ConfSyntax,
    #[serde(rename = "proxy.mode")]
    #[strum(
        serialize = "proxy.mode",
        message = "proxy_mode matches the proxy in front"
    )]
    ProxyMode,
    #[serde(rename = "proxy.headers")]
    #[strum(
        serialize = "proxy.headers",
        message = "The proxy tells Odoo the real address"
    )]
    ProxyHeaders,
    #[serde(rename = "proxy.websocket")]
    #[strum(
        serialize = "proxy.websocket",
        message = "The live connection reaches Odoo"
    )]
    ProxyWebsocket,
    #[serde(rename = "proxy.https-redirect")]
    #[strum(
        serialize = "proxy.https-redirect",
        message = "HTTP redirects to HTTPS"
    )]
    ProxyHttpsRedirect,
    #[serde(rename = "proxy.canonical-host")]
    #[strum(serialize = "proxy.canonical-host", message = "One address for Odoo")]
    ProxyCanonicalHost,
    #[serde(rename = "proxy.cookie-flags")]
    #[strum(serialize = "proxy.cookie-flags", message = "Session cookie flags")]
    ProxyCookieFlags,
    #[serde(rename = "proxy.sticky")]
    #[strum(
        serialize = "proxy.sticky",
        message = "Several Odoo servers share sessions"
    )]
    ProxySticky,
    #[serde(rename = "proxy.cache")]
    #[strum(serialize = "proxy.cache", message = "No cache between users and Odoo")]
    ProxyCache,
    #[serde(rename = "workers.memory")]
    #[strum(
        serialize = "workers.memory",
        message = "Worker memory limits fit the server"
    )]
    WorkersMemory,
    #[serde(rename = "db.filter")]
    #[strum(serialize = "db.filter", message = "The database filter lets users in")]
    DbFilter,
}

impl CheckId {
    /// The stable id, e.g. `"session.lifetime"`.
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// What the check looks at, in words for people (the checklist item's name).
    pub fn title(self) -> &'static str {
        strum::EnumMessage::get_message(&self).expect("every check has a title")
    }

    /// How a sentence for people names this check: its title in quotes, never the id (the app
    /// links a quoted title to its checklist item).
    pub fn mention(self) -> String {
        format!("“{}”", self.title())
    }
}

/// Ids compare with their stable names, so tests and faces can write `f.id == "proxy.mode"`.
impl PartialEq<&str> for CheckId {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

// Deserialize: the app keeps each server's last verdict in a small JSON file (its Fleet screen).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Ok,
    Skip,
    Unknown,
    Warn,
    Fail,
}

impl Status {
    pub fn mark(self) -> &'static str {
        match self {
            Status::Ok => "✓",
            Status::Warn => "!",
            Status::Fail => "✗",
            Status::Skip => "-",
            Status::Unknown => "?",
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Warn => "warn",
            Status::Fail => "fail",
            Status::Skip => "skip",
            Status::Unknown => "unknown",
        }
    }
}

/// Where a finding's claim can be checked: a file and line, or a command and what it printed.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Evidence {
    pub source: String,
    pub excerpt: String,
}

impl Evidence {
    pub fn new(source: impl Into<String>, excerpt: impl Into<String>) -> Self {
        Evidence {
            source: source.into(),
            excerpt: excerpt.into(),
        }
    }
}

#[derive(Debug, Clone, Serialize, PartialEq)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Reference {
    pub label: String,
    pub url: String,
}

/// A fix the engine can plan, with the choices a person makes (e.g. a lifetime).
#[derive(Debug, Clone, Serialize, PartialEq)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct FixOffer {
    pub title: String,
    pub choices: Vec<Choice>,
    /// The value used when the person picks nothing.
    pub default: Option<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Choice {
    pub value: String,
    pub label: String,
    /// Set when this choice has a cost the person must know (e.g. too short for this version).
    pub warning: Option<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Finding {
    pub id: CheckId,
    pub status: Status,
    pub title: String,
    /// One line: what is the case here.
    pub summary: String,
    pub users_see: String,
    pub why: String,
    pub evidence: Vec<Evidence>,
    pub version_note: Option<String>,
    pub references: Vec<Reference>,
    pub fixes: Vec<FixOffer>,
    /// Whether the app can fix this here, decided after judging by planning this check alone
    /// over the facts (see [`crate::change::remedy`]): the faces offer a fix only for `here`.
    pub remedy: Remedy,
}

/// Who fixes a finding: nobody (it is fine), the app on this host, or a person.
#[derive(Debug, Clone, Serialize, PartialEq, Default)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Remedy {
    /// Nothing to fix: ok or skipped, or a finding that only informs (e.g. sessions a person
    /// ended on purpose, [`crate::registry::INFORM_ONLY`]).
    #[default]
    None,
    /// Planning this check alone changes something here; `also` are the other checks that plan
    /// fixes with it (a fix that does nothing without them pulls them in).
    Here { also: Vec<CheckId> },
    /// The app will not fix it here: why, and the steps a person takes.
    NeedsYou { why: String, steps: Vec<String> },
}

impl Remedy {
    pub fn is_here(&self) -> bool {
        matches!(self, Remedy::Here { .. })
    }
}

impl Finding {
    pub fn new(id: CheckId, title: &str) -> Finding {
        Finding {
            id,
            status: Status::Ok,
            title: title.to_string(),
            summary: String::new(),
            users_see: String::new(),
            why: String::new(),
            evidence: Vec::new(),
            version_note: None,
            references: Vec::new(),
            fixes: Vec::new(),
            remedy: Remedy::None,
        }
    }
    pub fn status(mut self, s: Status, summary: impl Into<String>) -> Self {
        self.status = s;
        self.summary = summary.into();
        self
    }
    pub fn users_see(mut self, t: impl Into<String>) -> Self {
        self.users_see = t.into();
        self
    }
    pub fn why(mut self, t: impl Into<String>) -> Self {
        self.why = t.into();
        self
    }
    pub fn evidence(mut self, source: impl Into<String>, excerpt: impl Into<String>) -> Self {
        self.evidence.push(Evidence::new(source, excerpt));
        self
    }
    pub fn note(mut self, t: impl Into<String>) -> Self {
        self.version_note = Some(t.into());
        self
    }
    pub fn refs(mut self, refs: &[Reference]) -> Self {
        self.references.extend(refs.iter().cloned());
        self
    }
    pub fn fix(mut self, f: FixOffer) -> Self {
        self.fixes.push(f);
        self
    }
    /// Keeps the worse of the current status and `s`, with `summary` when `s` is worse.
    pub fn worsen(&mut self, s: Status, summary: impl Into<String>) {
        if s > self.status {
            self.status = s;
            self.summary = summary.into();
        }
    }
}

/// A public issue as a reference (facts §8).
pub(crate) fn gh(repo: &str, n: u32) -> Reference {
    Reference {
        label: format!("{repo}#{n}"),
        url: format!("https://github.com/{repo}/issues/{n}"),
    }
}

/// A public pull request as a reference (facts §8).
pub(crate) fn pr(repo: &str, n: u32) -> Reference {
    Reference {
        label: format!("{repo} PR #{n}"),
        url: format!("https://github.com/{repo}/pull/{n}"),
    }
}

/// The official deployment documentation (nginx shape of facts §4).
pub(crate) fn deploy_docs() -> Reference {
    Reference {
        label: "Odoo docs: deploying, https and proxy".into(),
        url: "https://www.odoo.com/documentation/17.0/administration/on_premise/deploy.html".into(),
    }
}

#[derive(Debug, Clone, Serialize, PartialEq)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Verdict {
    pub status: Status,
    pub line: String,
}

/// The check to start with: the first problem, else the first thing to improve (checklist order).
pub fn start_with(findings: &[Finding]) -> Option<&Finding> {
    [Status::Fail, Status::Warn]
        .iter()
        .find_map(|s| findings.iter().find(|f| f.status == *s))
}

/// The one line a manager reads first.
pub fn verdict(findings: &[Finding]) -> Verdict {
    let count = |s| findings.iter().filter(|f| f.status == s).count();
    let (fail, warn, unknown) = (
        count(Status::Fail),
        count(Status::Warn),
        count(Status::Unknown),
    );
    let status = if fail > 0 {
        Status::Fail
    } else if warn > 0 {
        Status::Warn
    } else {
        Status::Ok
    };
    use crate::words::{count as plural, form};
    // An Odoo that does not run is the first thing anyone must hear, whatever else is wrong.
    let down = findings
        .iter()
        .find(|x| x.id == CheckId::ServiceFound && x.status == Status::Fail);
    let line = match (fail, warn) {
        _ if down.is_some() => {
            let down = down.expect("checked");
            let others = fail - 1;
            let start = findings
                .iter()
                .find(|x| x.status == Status::Fail && x.id != CheckId::ServiceFound)
                .map(|x| format!(" Start with: {}.", x.title))
                .unwrap_or_default();
            if others == 0 {
                format!("{}.", down.summary.trim_end_matches('.'))
            } else {
                format!(
                    "{}. {others} more {}.{start}",
                    down.summary.trim_end_matches('.'),
                    form(others, "problem", "problems")
                )
            }
        }
        (0, 0) if unknown == 0 => "Healthy: nothing here logs users out.".to_string(),
        (0, 0) => format!(
            "No problem found, but {} could not be made.",
            plural(unknown, "check", "checks")
        ),
        (0, w) => format!(
            "No cause of lost sessions found; {} to improve.",
            plural(w, "thing", "things")
        ),
        (f, w) => {
            let first = findings
                .iter()
                .find(|x| x.status == Status::Fail)
                .map(|x| x.title.as_str())
                .unwrap_or("");
            let more = if w > 0 {
                format!(" (and {} to improve)", plural(w, "thing", "things"))
            } else {
                String::new()
            };
            format!(
                "{} {} users out or will{more}. Start with: {first}.",
                plural(f, "problem", "problems"),
                form(f, "logs", "log")
            )
        }
    };
    Verdict { status, line }
}

/// Exit code of `diagnose`: 0 all ok, 1 warnings, 2 failures.
pub fn exit_code(findings: &[Finding]) -> i32 {
    match findings.iter().map(|f| f.status).max() {
        Some(Status::Fail) => 2,
        Some(Status::Warn) => 1,
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(id: CheckId, status: Status, title: &str) -> Finding {
        Finding::new(id, title).status(status, format!("{title}: summary."))
    }

    /// The verdict counts in one grammar (`crate::words`): singular for one, plural otherwise,
    /// and the verb agrees.
    #[test]
    fn verdict_counts_agree_with_their_nouns() {
        let fail = |id| finding(id, Status::Fail, "A");
        let warn = |id| finding(id, Status::Warn, "W");
        let one = verdict(&[fail(CheckId::SessionLifetime)]);
        assert_eq!(one.line, "1 problem logs users out or will. Start with: A.");
        let many = verdict(&[
            fail(CheckId::SessionLifetime),
            fail(CheckId::SessionStore),
            warn(CheckId::ProxyMode),
        ]);
        assert_eq!(
            many.line,
            "2 problems log users out or will (and 1 thing to improve). Start with: A."
        );
        let warns = verdict(&[warn(CheckId::ProxyMode), warn(CheckId::SessionStore)]);
        assert_eq!(
            warns.line,
            "No cause of lost sessions found; 2 things to improve."
        );
        let down = verdict(&[
            finding(CheckId::ServiceFound, Status::Fail, "Down"),
            fail(CheckId::SessionLifetime),
            fail(CheckId::SessionStore),
        ]);
        assert_eq!(down.line, "Down: summary. 2 more problems. Start with: A.");
    }
}
