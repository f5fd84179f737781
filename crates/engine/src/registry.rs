//! The checklist as one table: each check's id, title, judge and (when it has one) fix planner,
//! in the order of the well-known quick-fix checklist admins find online. Order, "fixable",
//! dispatch and the list the faces show all come from here: adding a check is one entry here
//! and one module with its judge (and planner).

use crate::change::workspace::Workspace;
use crate::change::{conf_fix, nginx_fix};
use crate::checks::{conf, idle_logout, proxy, revoked, runtime, session, CheckId, Finding};
use crate::error::EngineError;
use crate::facts::Facts;

/// Judges one check on the facts: it receives its finding with id and title set.
pub type Judge = fn(&Facts, Finding) -> Finding;

/// Plans one fix into the workspace, with the person's choice when the fix offers choices.
pub type Planner = fn(&mut Workspace, &Facts, Option<&str>) -> Result<(), EngineError>;

/// One check of the list.
pub struct Check {
    /// Its id; the title people read is [`CheckId::title`].
    pub id: CheckId,
    pub judge: Judge,
    /// `None`: no automatic fix; the finding says what a person does.
    pub fix: Option<Planner>,
}

#[rustfmt::skip]
pub static REGISTRY: &[Check] = &[
    Check { id: CheckId::ServiceFound, judge: runtime::service_found, fix: None },
    Check { id: CheckId::SessionLifetime, judge: session::lifetime, fix: Some(conf_fix::lifetime) },
    Check { id: CheckId::SessionStore, judge: session::store, fix: Some(conf_fix::store) },
    Check { id: CheckId::SessionExternalCleanup, judge: session::external_cleanup, fix: Some(conf_fix::external_cleanup) },
    Check { id: CheckId::SessionCleanupRuns, judge: session::cleanup_runs, fix: Some(conf_fix::cleanup_runs) },
    Check { id: CheckId::SessionIdleLogout, judge: idle_logout::judge, fix: Some(conf_fix::idle_logout) },
    Check { id: CheckId::SessionRevoked, judge: revoked::judge, fix: None },
    Check { id: CheckId::ConfFolklore, judge: conf::folklore, fix: Some(conf_fix::folklore) },
    Check { id: CheckId::ConfSyntax, judge: conf::syntax, fix: Some(conf_fix::syntax) },
    Check { id: CheckId::ProxyMode, judge: proxy::mode, fix: Some(conf_fix::proxy_mode) },
    Check { id: CheckId::ProxyHeaders, judge: proxy::headers, fix: Some(nginx_fix::headers) },
    Check { id: CheckId::ProxyWebsocket, judge: proxy::websocket, fix: Some(nginx_fix::websocket) },
    Check { id: CheckId::ProxyHttpsRedirect, judge: proxy::https_redirect, fix: Some(nginx_fix::https_redirect) },
    Check { id: CheckId::ProxyCanonicalHost, judge: proxy::canonical_host, fix: Some(nginx_fix::canonical_host) },
    Check { id: CheckId::ProxyCookieFlags, judge: proxy::cookie_flags, fix: Some(nginx_fix::cookie_flags) },
    Check { id: CheckId::ProxySticky, judge: proxy::sticky, fix: Some(nginx_fix::sticky) },
    Check { id: CheckId::ProxyCache, judge: proxy::cache, fix: Some(nginx_fix::cache) },
    Check { id: CheckId::WorkersMemory, judge: runtime::workers_memory, fix: Some(conf_fix::workers_memory) },
    Check { id: CheckId::DbFilter, judge: runtime::db_filter, fix: None },
];

/// Checks that only inform: their warning is something a person did on purpose (a device revoked),
/// not a fault, so there is nothing to fix and nothing to do by hand ([`Remedy::None`]).
///
/// [`Remedy::None`]: crate::checks::Remedy::None
pub const INFORM_ONLY: &[CheckId] = &[CheckId::SessionRevoked];

/// Fixes that change nothing without another one: planning the first also plans the second while
/// that one fails, and the change set says so (why, in words for people).
pub const PULLS: &[(CheckId, CheckId, &str)] = &[
    (
        CheckId::ProxyMode,
    CheckId::ProxyHeaders,
        "with proxy_mode on, Odoo uses the forwarded scheme and address only when the request also carries X-Forwarded-Host, so proxy_mode alone would change nothing users notice",
    ),
    (
        CheckId::ProxyCookieFlags,
        CheckId::ProxyHttpsRedirect,
        "a Secure session cookie is never sent over plain HTTP, so HTTP must redirect to HTTPS first or people who land on http:// are logged out",
    ),
];

/// The order the wizard walks failing fixes in: the well-known quick-fix checklist's (lifetime,
/// with an idle-logout module's delay beside it since the shorter of the two wins, canonical URL,
/// sticky/shared sessions, proxy_mode, worker memory, HTTPS redirect, external cleanup, proxy
/// headers and cookies, then the leftovers), after a config line that keeps Odoo from starting —
/// nothing else matters until that is fixed. Every fixable check is in it once.
pub const FIX_ORDER: &[CheckId] = &[
    CheckId::ConfSyntax,
    CheckId::SessionLifetime,
    CheckId::SessionIdleLogout,
    CheckId::ProxyCanonicalHost,
    CheckId::ProxySticky,
    CheckId::SessionStore,
    CheckId::ProxyMode,
    CheckId::WorkersMemory,
    CheckId::ProxyHttpsRedirect,
    CheckId::SessionExternalCleanup,
    CheckId::SessionCleanupRuns,
    CheckId::ProxyHeaders,
    CheckId::ProxyWebsocket,
    CheckId::ProxyCookieFlags,
    CheckId::ProxyCache,
    CheckId::ConfFolklore,
];

/// The registry entry of `id` (every id has exactly one: a unit test holds it).
pub fn check(id: CheckId) -> &'static Check {
    REGISTRY
        .iter()
        .find(|c| c.id == id)
        .expect("every CheckId is registered")
}

impl Check {
    /// This check's finding on the facts.
    pub fn judge(&self, facts: &Facts) -> Finding {
        (self.judge)(facts, Finding::new(self.id, self.id.title()))
    }
    pub fn fixable(&self) -> bool {
        self.fix.is_some()
    }
}

/// Every check, in checklist order.
pub fn run_all(facts: &Facts) -> Vec<Finding> {
    REGISTRY.iter().map(|c| c.judge(facts)).collect()
}

/// Checks with an automatic fix, in checklist order.
pub fn fixable() -> impl Iterator<Item = CheckId> {
    REGISTRY.iter().filter(|c| c.fixable()).map(|c| c.id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use strum::IntoEnumIterator;

    #[test]
    fn every_id_is_registered_once() {
        for id in CheckId::iter() {
            assert_eq!(REGISTRY.iter().filter(|c| c.id == id).count(), 1, "{id}");
        }
        assert_eq!(REGISTRY.len(), CheckId::iter().count());
    }

    #[test]
    fn the_fix_order_holds_every_fixable_check_once() {
        for id in fixable() {
            assert_eq!(FIX_ORDER.iter().filter(|x| **x == id).count(), 1, "{id}");
        }
        assert!(FIX_ORDER.iter().all(|id| check(*id).fixable()));
    }
}
