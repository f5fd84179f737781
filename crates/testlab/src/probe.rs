//! A tiny HTTP/1.1 client over `std::net::TcpStream` for talking to a lab's Odoo stand-in and to
//! nginx's plain-HTTP port in tests: one request per connection (`Connection: close`), the raw
//! response kept (status, headers in order, body), JSON-RPC helpers, and a poll-with-deadline.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

/// A parsed HTTP response.
#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    /// Headers in the order received, names as sent.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    /// First header with this name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Every header with this name (case-insensitive), e.g. all `Set-Cookie` lines.
    pub fn headers_named(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect()
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }

    /// The `session_id` Set-Cookie line, if any.
    pub fn session_cookie(&self) -> Option<SetCookie> {
        self.headers_named("Set-Cookie")
            .into_iter()
            .filter_map(SetCookie::parse)
            .find(|c| c.name == "session_id")
    }
}

/// A parsed `Set-Cookie` header, attributes kept in order.
#[derive(Debug, Clone, PartialEq)]
pub struct SetCookie {
    pub name: String,
    pub value: String,
    /// `(attribute, value)`; flags such as `HttpOnly` have an empty value.
    pub attributes: Vec<(String, String)>,
    pub raw: String,
}

impl SetCookie {
    pub fn parse(raw: &str) -> Option<SetCookie> {
        let mut parts = raw.split(';');
        let (name, value) = parts.next()?.trim().split_once('=')?;
        let attributes = parts
            .map(|p| {
                let p = p.trim();
                match p.split_once('=') {
                    Some((k, v)) => (k.to_string(), v.to_string()),
                    None => (p.to_string(), String::new()),
                }
            })
            .collect();
        Some(SetCookie {
            name: name.to_string(),
            value: value.to_string(),
            attributes,
            raw: raw.to_string(),
        })
    }

    pub fn attribute(&self, name: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn has(&self, name: &str) -> bool {
        self.attribute(name).is_some()
    }

    pub fn max_age(&self) -> Option<u64> {
        self.attribute("Max-Age").and_then(|v| v.parse().ok())
    }
}

/// Sends one request to `127.0.0.1:port`. `headers` may override `Host`.
pub fn request(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&[u8]>,
) -> std::io::Result<Response> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(20)))?;
    stream.set_write_timeout(Some(Duration::from_secs(20)))?;
    let mut req = format!("{method} {path} HTTP/1.1\r\n");
    if !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("host")) {
        req.push_str(&format!("Host: 127.0.0.1:{port}\r\n"));
    }
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("Connection: close\r\n");
    if let Some(b) = body {
        req.push_str(&format!("Content-Length: {}\r\n", b.len()));
    }
    req.push_str("\r\n");
    let mut bytes = req.into_bytes();
    if let Some(b) = body {
        bytes.extend_from_slice(b);
    }
    stream.write_all(&bytes)?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw)?;
    parse_response(&raw)
        .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::InvalidData, "bad HTTP response"))
}

/// Reads only the status line and headers (for responses that keep the connection open, such as
/// a websocket upgrade), then drops the connection.
pub fn request_head(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
) -> std::io::Result<Response> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(20)))?;
    let mut req = format!("{method} {path} HTTP/1.1\r\n");
    if !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("host")) {
        req.push_str(&format!("Host: 127.0.0.1:{port}\r\n"));
    }
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    stream.write_all(req.as_bytes())?;
    let mut raw = Vec::new();
    let mut buf = [0u8; 4096];
    while !raw.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = stream.read(&mut buf)?;
        if n == 0 {
            break;
        }
        raw.extend_from_slice(&buf[..n]);
    }
    parse_response(&raw)
        .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::InvalidData, "bad HTTP response"))
}

fn parse_response(raw: &[u8]) -> Option<Response> {
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = String::from_utf8_lossy(&raw[..split]);
    let mut lines = head.split("\r\n");
    let status: u16 = lines.next()?.split(' ').nth(1)?.parse().ok()?;
    let headers = lines
        .filter_map(|l| {
            l.split_once(':')
                .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        })
        .collect();
    Some(Response {
        status,
        headers,
        body: raw[split + 4..].to_vec(),
    })
}

/// `GET path`.
pub fn get(port: u16, path: &str, headers: &[(&str, &str)]) -> std::io::Result<Response> {
    request(port, "GET", path, headers, None)
}

/// A JSON-RPC 2.0 call (`{"jsonrpc":"2.0","method":"call","params":...}`), optionally with a
/// `session_id` cookie and extra headers.
pub fn json_rpc(
    port: u16,
    path: &str,
    params: serde_json::Value,
    session_id: Option<&str>,
    headers: &[(&str, &str)],
) -> std::io::Result<Response> {
    let body = serde_json::json!({"jsonrpc": "2.0", "method": "call", "params": params, "id": 1})
        .to_string();
    let cookie = session_id.map(|s| format!("session_id={s}"));
    let mut h: Vec<(&str, &str)> = vec![("Content-Type", "application/json")];
    if let Some(c) = &cookie {
        h.push(("Cookie", c.as_str()));
    }
    h.extend_from_slice(headers);
    request(port, "POST", path, &h, Some(body.as_bytes()))
}

/// Logs in through `/web/session/authenticate`; returns the response (cookie in it).
pub fn authenticate(
    port: u16,
    db: &str,
    login: &str,
    password: &str,
    headers: &[(&str, &str)],
) -> std::io::Result<Response> {
    json_rpc(
        port,
        "/web/session/authenticate",
        serde_json::json!({"db": db, "login": login, "password": password}),
        None,
        headers,
    )
}

/// Polls `f` until it returns true or `timeout` passes; `Some(elapsed)` on success.
pub fn wait_for(timeout: Duration, mut f: impl FnMut() -> bool) -> Option<Duration> {
    let start = Instant::now();
    loop {
        if f() {
            return Some(start.elapsed());
        }
        if start.elapsed() > timeout {
            return None;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}
