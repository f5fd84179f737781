//! Talking HTTP to Odoo: the version question discovery asks, and (with a test login) the live
//! probe whose observations beat anything read from files (facts §7). Nothing is stored; the
//! session id is never shown.

use crate::facts::{CookieAttrs, Facts, LoginObservation, ProbeFacts};
use crate::nginx::front::FrontState;
use osd_remote::{Host, Secret};
use serde_json::{json, Value};
use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::Arc;
use std::time::Duration;

/// A test login for the live probe.
#[derive(Debug, Clone)]
pub struct ProbeOptions {
    pub login: String,
    pub password: Secret,
    /// The public URL users type; derived from nginx or web.base.url when absent.
    pub public_url: Option<String>,
    /// Host names to reach at a given address (like curl's --resolve), for names without DNS.
    pub resolve: Vec<(String, SocketAddr)>,
}

/// One TLS connector for the whole process: building one loads and parses the system's CA store,
/// which was half the client's CPU per diagnosis (and per host of a fleet) when built per request.
fn tls() -> Arc<native_tls::TlsConnector> {
    static TLS: std::sync::OnceLock<Arc<native_tls::TlsConnector>> = std::sync::OnceLock::new();
    TLS.get_or_init(|| {
        Arc::new(
            native_tls::TlsConnector::builder()
                // The probe observes; a self-signed or mismatched certificate is reported
                // elsewhere, not fatal here.
                .danger_accept_invalid_certs(true)
                .danger_accept_invalid_hostnames(true)
                .build()
                .expect("TLS connector"),
        )
    })
    .clone()
}

fn agent(resolve: &[(String, SocketAddr)]) -> ureq::Agent {
    let table = resolve.to_vec();
    ureq::AgentBuilder::new()
        .timeout(Duration::from_secs(15))
        .redirects(0)
        .tls_connector(tls())
        .resolver(move |netloc: &str| -> std::io::Result<Vec<SocketAddr>> {
            let host = netloc.rsplit_once(':').map(|(h, _)| h).unwrap_or(netloc);
            if let Some((_, addr)) = table.iter().find(|(name, _)| name == host) {
                let port = netloc
                    .rsplit_once(':')
                    .and_then(|(_, p)| p.parse().ok())
                    .unwrap_or(addr.port());
                return Ok(vec![SocketAddr::new(addr.ip(), port)]);
            }
            netloc.to_socket_addrs().map(|a| a.collect())
        })
        .build()
}

fn rpc_body(params: Value) -> String {
    json!({"jsonrpc": "2.0", "method": "call", "params": params, "id": 1}).to_string()
}

/// JSON-RPC 2.0 call; returns the `result`, or the `error` message as text.
pub fn json_rpc(base: &str, path: &str, params: Value) -> Result<Value, String> {
    rpc_result(send_rpc(base, path, params).map_err(|e| e.to_string())?)
}

fn send_rpc(base: &str, path: &str, params: Value) -> Result<ureq::Response, ureq::Error> {
    agent(&[])
        .post(&format!("{base}{path}"))
        .set("Content-Type", "application/json")
        .send_string(&rpc_body(params))
}

fn rpc_result(resp: ureq::Response) -> Result<Value, String> {
    let v: Value = resp.into_json().map_err(|e| format!("not JSON: {e}"))?;
    match (v.get("result"), v.get("error")) {
        (Some(r), _) => Ok(r.clone()),
        (None, Some(e)) => Err(e
            .get("message")
            .and_then(Value::as_str)
            .unwrap_or("error")
            .to_string()),
        _ => Err("no result".into()),
    }
}

/// `server_version` from `/web/webclient/version_info` (no login needed).
pub fn version_info(base: &str) -> Result<String, String> {
    // A read that changes nothing is asked once more when the connection broke before any answer
    // (through an SSH tunnel under load, about 1 in 300 did): one hiccup must not turn a check
    // into "unknown". An answer, even an error, is not asked again.
    let ask = || send_rpc(base, "/web/webclient/version_info", json!({}));
    let resp = match ask() {
        Err(ureq::Error::Transport(_)) => ask(),
        r => r,
    }
    .map_err(|e| e.to_string())?;
    let r = rpc_result(resp)?;
    r.get("server_version")
        .and_then(Value::as_str)
        .map(String::from)
        .ok_or_else(|| "version_info has no server_version".into())
}

/// Whether Odoo answers its health check (`/web/health`, else version_info on older versions).
pub fn healthy(base: &str) -> bool {
    match agent(&[]).get(&format!("{base}/web/health")).call() {
        Ok(r) => r.status() == 200,
        Err(ureq::Error::Status(404, _)) => version_info(base).is_ok(),
        Err(_) => false,
    }
}

/// Headers by which a cache or CDN in front shows itself (Cloudflare, Varnish/CloudFront/Fastly,
/// any HTTP cache, any proxy that says so).
pub const CACHE_HEADERS: &[&str] = &["cf-cache-status", "x-cache", "age", "via"];

/// The cache headers of one response, each once.
fn record_cache_headers(resp: &ureq::Response, seen: &mut Vec<(String, String)>) {
    for name in CACHE_HEADERS {
        if let Some(v) = resp.header(name) {
            if !seen.iter().any(|(n, _)| n == name) {
                seen.push((name.to_string(), v.to_string()));
            }
        }
    }
}

/// Follows redirects of GET `url` by hand, recording each hop (and the cache headers of the last
/// answer); returns the final URL's origin.
fn follow(
    agent: &ureq::Agent,
    url: &str,
    hops: &mut Vec<String>,
    cache: &mut Vec<(String, String)>,
) -> Result<String, String> {
    let mut current = url.to_string();
    for _ in 0..8 {
        let resp = match agent.get(&current).call() {
            Ok(r) => r,
            Err(ureq::Error::Status(_, r)) => r,
            Err(e) => return Err(format!("{current}: {e}")),
        };
        match (resp.status(), resp.header("Location")) {
            (301 | 302 | 303 | 307 | 308, Some(loc)) => {
                let next = absolute(&current, loc);
                hops.push(format!("{} {current} → {next}", resp.status()));
                current = next;
            }
            _ => {
                record_cache_headers(&resp, cache);
                return Ok(origin(&current));
            }
        }
    }
    Err(format!("more than 8 redirects from {url}"))
}

fn origin(url: &str) -> String {
    let after = url.find("://").map(|i| i + 3).unwrap_or(0);
    match url[after..].find('/') {
        Some(i) => url[..after + i].to_string(),
        None => url.to_string(),
    }
}

fn absolute(base: &str, loc: &str) -> String {
    if loc.contains("://") {
        loc.to_string()
    } else {
        format!("{}{}", origin(base), loc)
    }
}

/// Logs in at `base`, then checks the session holds over a few requests.
pub fn login_once(
    agent: &ureq::Agent,
    start_url: &str,
    db: &str,
    opts: &ProbeOptions,
) -> LoginObservation {
    let mut obs = LoginObservation {
        url: start_url.to_string(),
        final_url: None,
        redirects: Vec::new(),
        cookie: None,
        session_holds: false,
        checks_made: 0,
        error: None,
        cache_headers: Vec::new(),
        session_id: None,
    };
    let base = match follow(
        agent,
        &format!("{}/web/login", start_url.trim_end_matches('/')),
        &mut obs.redirects,
        &mut obs.cache_headers,
    ) {
        Ok(b) => {
            obs.final_url = Some(b.clone());
            b
        }
        Err(e) => {
            obs.error = Some(e);
            return obs;
        }
    };
    let resp = agent
        .post(&format!("{base}/web/session/authenticate"))
        .set("Content-Type", "application/json")
        .send_string(&rpc_body(
            json!({"db": db, "login": opts.login, "password": opts.password.expose()}),
        ));
    let resp = match resp {
        Ok(r) => r,
        Err(e) => {
            obs.error = Some(format!("login request failed: {e}"));
            return obs;
        }
    };
    record_cache_headers(&resp, &mut obs.cache_headers);
    let set_cookies: Vec<String> = resp
        .all("Set-Cookie")
        .into_iter()
        .map(String::from)
        .collect();
    obs.cookie = set_cookies.iter().find_map(|h| CookieAttrs::parse(h));
    let sid = set_cookies.iter().find_map(|h| {
        h.split(';')
            .next()?
            .strip_prefix("session_id=")
            .map(String::from)
    });
    if let Err(e) = rpc_result(resp) {
        // Odoo's message for a wrong login names no secret.
        obs.error = Some(format!("login refused: {e}"));
        return obs;
    }
    let Some(sid) = sid else {
        obs.error = Some("the login answer set no session_id cookie".into());
        return obs;
    };
    let mut holds = true;
    for _ in 0..3 {
        obs.checks_made += 1;
        holds &= session_has_uid(agent, &base, &sid);
    }
    obs.session_holds = holds;
    obs.session_id = Some(Secret::new(sid));
    obs
}

/// The live probe: a login through the public URL, then one on Odoo's own port (through the
/// tunnel) when that cannot change anything. An administrator's login rewrites `web.base.url`
/// to the address it came through unless it is frozen (facts §4): through the public URL that is
/// what every admin login does anyway; through our tunnel it would be wrong, so it is skipped.
pub fn live_probe(host: &Host, facts: &Facts, opts: &ProbeOptions) -> ProbeFacts {
    let db = facts
        .db
        .seen()
        .and_then(|d| d.databases.first().map(|d| d.name.clone()))
        .or_else(|| facts.odoo.option("db_name"))
        .unwrap_or_default();
    let agent = agent(&opts.resolve);
    let public_url = opts.public_url.clone().or_else(|| public_url_guess(facts));
    let public = public_url.map(|u| login_once(&agent, &u, &db, opts));
    // One connection for both: what an admin login may have rewritten, and whether it can.
    let keys = [
        (db.as_str(), "web.base.url"),
        (db.as_str(), "web.base.url.freeze"),
    ];
    let after = super::db::read_params(host, &facts.odoo, &keys).unwrap_or_default();
    let base_url_after_login = after.first().cloned().flatten();
    let frozen = after
        .get(1)
        .cloned()
        .flatten()
        .is_some_and(|v| !v.trim().is_empty() && v.trim() != "False");
    let (direct, direct_skipped) = if !frozen {
        (None, Some("web.base.url is not frozen: a login on Odoo's own port would rewrite it to the tunnel's address".to_string()))
    } else {
        match host.tunnel("127.0.0.1", facts.odoo.http_port()) {
            Ok(t) => (
                Some(login_once(
                    &agent,
                    &format!("http://{}", t.local_addr()),
                    &db,
                    opts,
                )),
                None,
            ),
            Err(e) => (None, Some(e.to_string())),
        }
    };
    ProbeFacts {
        direct,
        direct_skipped,
        public,
        base_url_after_login,
    }
}

/// A login for the continuity check of an apply, made where it changes nothing: through the
/// public URL (as users log in), or directly only when `web.base.url` is frozen.
pub fn continuity_login(facts: &Facts, opts: &ProbeOptions) -> Option<(String, Secret)> {
    let db = facts.db.seen()?.databases.first()?.name.clone();
    let agent = agent(&opts.resolve);
    let url = opts
        .public_url
        .clone()
        .or_else(|| public_url_guess(facts))?;
    let obs = login_once(&agent, &url, &db, opts);
    Some((obs.final_url?, obs.session_id?))
}

/// The URL users most likely type: web.base.url when it is frozen, else the first nginx server name.
pub fn public_url_guess(facts: &Facts) -> Option<String> {
    let db = facts.db.seen()?;
    let first = db.databases.first()?;
    let frozen = first
        .params
        .get("web.base.url.freeze")
        .is_some_and(|v| !v.is_empty() && v != "False");
    let base = first.params.get("web.base.url").cloned();
    if frozen {
        return base;
    }
    if let FrontState::Front(fr) = facts.front() {
        if let Some(u) = fr.public_urls().into_iter().next() {
            return Some(u);
        }
    }
    base
}

/// Whether Odoo still knows the session `sid` at `base` (get_session_info answers with a uid).
pub fn session_alive(opts: &ProbeOptions, base: &str, sid: &Secret) -> bool {
    session_has_uid(&agent(&opts.resolve), base, sid.expose())
}

/// `/web/session/get_session_info` with the cookie: a live session answers with a uid; a dead
/// one with code 100 "Odoo Session Expired" (facts §7).
fn session_has_uid(agent: &ureq::Agent, base: &str, sid: &str) -> bool {
    agent
        .post(&format!("{base}/web/session/get_session_info"))
        .set("Content-Type", "application/json")
        .set("Cookie", &format!("session_id={sid}"))
        .send_string(&rpc_body(json!({})))
        .map_err(|e| e.to_string())
        .and_then(rpc_result)
        .map(|v| v.get("uid").is_some_and(|u| !u.is_null()))
        .unwrap_or(false)
}

/// The session cookie a new visitor gets on `/web/login` (no credentials involved).
pub fn login_page_cookie(base: &str) -> Option<CookieAttrs> {
    let resp = match agent(&[]).get(&format!("{base}/web/login")).call() {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(_) => return None,
    };
    resp.all("Set-Cookie")
        .into_iter()
        .find_map(CookieAttrs::parse)
}

#[cfg(test)]
mod tests {
    use std::io::{Read, Write};
    use std::net::TcpListener;

    /// A server that drops its first connection unanswered, then answers like Odoo.
    fn flaky_server(drops: usize) -> (String, std::thread::JoinHandle<usize>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let handle = std::thread::spawn(move || {
            let mut seen = 0;
            for stream in listener.incoming() {
                let mut stream = stream.unwrap();
                seen += 1;
                let mut buf = [0u8; 4096];
                let _ = stream.read(&mut buf);
                if seen <= drops {
                    continue; // closed without a word: the client reads EOF
                }
                let body = r#"{"jsonrpc": "2.0", "id": 1, "result": {"server_version": "17.0"}}"#;
                let _ = write!(
                    stream,
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                break;
            }
            seen
        });
        (base, handle)
    }

    #[test]
    fn version_info_asks_again_once_when_the_connection_broke_before_an_answer() {
        let (base, server) = flaky_server(1);
        assert_eq!(super::version_info(&base).as_deref(), Ok("17.0"));
        assert_eq!(server.join().unwrap(), 2);
    }

    #[test]
    fn version_info_gives_up_after_the_second_broken_connection() {
        let (base, _server) = flaky_server(2);
        let e = super::version_info(&base).unwrap_err();
        assert!(
            e.to_lowercase().contains("eof") || e.contains("reset"),
            "{e}"
        );
    }
}
