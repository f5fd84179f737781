//! Checks on the reverse proxy (nginx) in front of Odoo. Placeholder until the nginx model lands.
use super::{Finding, Status};
use crate::facts::{Facts, NginxFacts};
macro_rules! todo_check { ($name:ident, $id:literal, $title:literal) => {
    pub fn $name(_f: &Facts) -> Finding { Finding::new($id, $title).status(Status::Unknown, "not checked yet") }
}}
todo_check!(mode, "proxy.mode", "proxy_mode matches the proxy in front");
todo_check!(headers, "proxy.headers", "The proxy tells Odoo the real address");
todo_check!(websocket, "proxy.websocket", "The live connection reaches Odoo");
todo_check!(https_redirect, "proxy.https-redirect", "HTTP redirects to HTTPS");
todo_check!(canonical_host, "proxy.canonical-host", "One address for Odoo");
todo_check!(cookie_flags, "proxy.cookie-flags", "Session cookie flags");
todo_check!(sticky, "proxy.sticky", "Several Odoo servers share sessions");
pub fn server_names(_n: &NginxFacts, _port: u16) -> Vec<String> { vec![] }
pub fn public_urls(_n: &NginxFacts, _port: u16) -> Vec<String> { vec![] }
