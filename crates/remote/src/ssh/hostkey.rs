//! Host-key verification: fingerprints as `ssh-keygen -lf` prints them, lookups in known_hosts
//! files (plain, hashed and `[host]:port` entries, via libssh2's `KnownHosts`), the host-key
//! algorithm order to ask the server for, and storing an accepted key in the app's file.
//!
//! Each known_hosts line is checked on its own so that we can say which file and line holds the
//! key that no longer matches, and so that a line libssh2 cannot parse (a `@cert-authority`
//! marker, a key type it does not know) skips that line instead of the whole file. Key types are
//! compared like OpenSSH: a server key only "changed" if a line for this host has a different
//! key *of the same type*; a host known only under other types is unknown for this type, and we
//! ask the server for a known type first so that this is rare.

use std::io::Write;
use std::path::{Path, PathBuf};

use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
use base64::Engine;
use sha2::{Digest, Sha256};
use ssh2::{CheckResult, HostKeyType, KnownHostFileKind, Session};

use crate::RemoteError;

/// The server's host key, as shown to a person and as stored in known_hosts.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct HostKeyInfo {
    /// Algorithm name as in known_hosts: `ssh-ed25519`, `ecdsa-sha2-nistp256`, `ssh-rsa`, ...
    pub key_type: String,
    /// `SHA256:` + unpadded base64 of sha256(key blob): what `ssh-keygen -lf` prints.
    pub fingerprint: String,
    /// The key blob in base64, as in a known_hosts line.
    pub key: String,
}

impl HostKeyInfo {
    pub fn from_blob(key_type: &str, blob: &[u8]) -> Self {
        HostKeyInfo {
            key_type: key_type.to_string(),
            fingerprint: fingerprint(blob),
            key: STANDARD.encode(blob),
        }
    }
}

/// `SHA256:...` fingerprint of a key blob, in `ssh-keygen -lf` form.
pub fn fingerprint(blob: &[u8]) -> String {
    format!("SHA256:{}", STANDARD_NO_PAD.encode(Sha256::digest(blob)))
}

pub(crate) fn key_type_name(kind: HostKeyType) -> &'static str {
    match kind {
        HostKeyType::Rsa => "ssh-rsa",
        HostKeyType::Dss => "ssh-dss",
        HostKeyType::Ecdsa256 => "ecdsa-sha2-nistp256",
        HostKeyType::Ecdsa384 => "ecdsa-sha2-nistp384",
        HostKeyType::Ecdsa521 => "ecdsa-sha2-nistp521",
        HostKeyType::Ed25519 => "ssh-ed25519",
        _ => "unknown",
    }
}

/// How known_hosts names a host: plain for port 22, `[host]:port` otherwise (as OpenSSH does;
/// libssh2's own port handling would also accept a plain entry for another port).
pub fn known_hosts_name(host: &str, port: u16) -> String {
    if port == 22 {
        host.to_string()
    } else {
        format!("[{host}]:{port}")
    }
}

/// One known_hosts line that names our host.
#[derive(Debug, Clone)]
pub(crate) struct KnownLine {
    pub file: PathBuf,
    pub line: usize,
    pub key_type: String,
    pub key: String,
    pub matches_key: bool,
}

/// Every line in `files` that names `host:port`, checked against `blob` (pass any bytes to just
/// find the lines). Missing files are skipped; unreadable ones are an error.
pub(crate) fn lines_for_host(
    sess: &Session,
    files: &[PathBuf],
    host: &str,
    port: u16,
    blob: &[u8],
) -> Result<Vec<KnownLine>, RemoteError> {
    let name = known_hosts_name(host, port);
    let mut found = Vec::new();
    for file in files {
        let text = match std::fs::read_to_string(file) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => {
                return Err(RemoteError::KnownHosts {
                    path: file.clone(),
                    reason: e.to_string(),
                })
            }
        };
        for (index, raw) in text.lines().enumerate() {
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') || line.starts_with('@') {
                continue;
            }
            let mut fields = line.split_whitespace();
            let (Some(_hosts), Some(key_type), Some(key)) =
                (fields.next(), fields.next(), fields.next())
            else {
                continue;
            };
            let Ok(mut kh) = sess.known_hosts() else {
                continue;
            };
            if kh.read_str(line, KnownHostFileKind::OpenSSH).is_err() {
                continue;
            }
            let verdict = kh.check(&name, blob);
            if matches!(verdict, CheckResult::Match | CheckResult::Mismatch) {
                found.push(KnownLine {
                    file: file.clone(),
                    line: index + 1,
                    key_type: key_type.to_string(),
                    key: key.to_string(),
                    matches_key: matches!(verdict, CheckResult::Match),
                });
            }
        }
    }
    Ok(found)
}

/// Host-key algorithms to offer, types already known for this host first (so the server shows
/// the key we can check), then ed25519, ECDSA, RSA.
pub(crate) fn algorithm_preference(
    sess: &Session,
    files: &[PathBuf],
    host: &str,
    port: u16,
) -> Result<String, RemoteError> {
    let known = lines_for_host(sess, files, host, port, b"\0probe")?;
    let mut order: Vec<&str> = Vec::new();
    let expand = |t: &str| -> Vec<&'static str> {
        match t {
            "ssh-ed25519" => vec!["ssh-ed25519"],
            "ecdsa-sha2-nistp256" => vec!["ecdsa-sha2-nistp256"],
            "ecdsa-sha2-nistp384" => vec!["ecdsa-sha2-nistp384"],
            "ecdsa-sha2-nistp521" => vec!["ecdsa-sha2-nistp521"],
            "ssh-rsa" => vec!["rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"],
            _ => vec![],
        }
    };
    for line in &known {
        for alg in expand(&line.key_type) {
            if !order.contains(&alg) {
                order.push(alg);
            }
        }
    }
    for alg in [
        "ssh-ed25519",
        "ecdsa-sha2-nistp256",
        "ecdsa-sha2-nistp384",
        "ecdsa-sha2-nistp521",
        "rsa-sha2-512",
        "rsa-sha2-256",
        "ssh-rsa",
    ] {
        if !order.contains(&alg) {
            order.push(alg);
        }
    }
    let supported = sess
        .supported_algs(ssh2::MethodType::HostKey)
        .unwrap_or_default();
    let order: Vec<&str> = order
        .into_iter()
        .filter(|a| supported.is_empty() || supported.contains(a))
        .collect();
    Ok(order.join(","))
}

/// The outcome of checking the server's key.
pub(crate) enum Verdict {
    Known,
    Unknown,
    Changed(KnownLine),
}

pub(crate) fn verify(
    sess: &Session,
    files: &[PathBuf],
    host: &str,
    port: u16,
    key_type: &str,
    blob: &[u8],
) -> Result<Verdict, RemoteError> {
    let lines = lines_for_host(sess, files, host, port, blob)?;
    if lines.iter().any(|l| l.matches_key) {
        return Ok(Verdict::Known);
    }
    match lines.into_iter().find(|l| l.key_type == key_type) {
        Some(line) => Ok(Verdict::Changed(line)),
        None => Ok(Verdict::Unknown),
    }
}

/// The fingerprint of a known_hosts key field (base64 blob).
pub(crate) fn fingerprint_of_b64(key: &str) -> String {
    match STANDARD.decode(key) {
        Ok(blob) => fingerprint(&blob),
        Err(_) => format!("(unreadable key {key})"),
    }
}

/// Stores a host key in a known-hosts file (normally the app's own, see
/// [`crate::ConnectOptions::app_known_hosts_file`]), creating the file (mode 600) and its
/// directory (mode 700) if needed. The next connect to `host:port` then accepts this key.
pub fn accept_host_key(
    known_hosts_file: &Path,
    host: &str,
    port: u16,
    key_type: &str,
    key_base64: &str,
) -> Result<(), RemoteError> {
    let err = |reason: String| RemoteError::KnownHosts {
        path: known_hosts_file.to_path_buf(),
        reason,
    };
    if STANDARD.decode(key_base64).is_err()
        || key_type.is_empty()
        || key_type.contains(char::is_whitespace)
    {
        return Err(err("the key to store is not a valid key".into()));
    }
    if let Some(dir) = known_hosts_file.parent() {
        if !dir.as_os_str().is_empty() && !dir.exists() {
            std::fs::create_dir_all(dir)
                .map_err(|e| err(format!("cannot create its directory: {e}")))?;
            use std::os::unix::fs::PermissionsExt;
            let _ = std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700));
        }
    }
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .open(known_hosts_file)
        .map_err(|e| err(e.to_string()))?;
    // Start on a fresh line even if the file's last line lacks its newline.
    let needs_newline = std::fs::read(known_hosts_file)
        .map(|b| !b.is_empty() && !b.ends_with(b"\n"))
        .unwrap_or(false);
    let line = format!(
        "{}{} {} {}\n",
        if needs_newline { "\n" } else { "" },
        known_hosts_name(host, port),
        key_type,
        key_base64
    );
    file.write_all(line.as_bytes())
        .and_then(|_| file.sync_all())
        .map_err(|e| err(e.to_string()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprint_matches_ssh_keygen_form() {
        // Blob of a fixed ed25519 public key; ssh-keygen -lf prints this fingerprint for it.
        let blob = STANDARD
            .decode("AAAAC3NzaC1lZDI1NTE5AAAAIOskHW4s2Hld11NN3yBOUh+7qBawB+0O6qc/DLOQd1b1")
            .unwrap();
        assert_eq!(
            fingerprint(&blob),
            "SHA256:WBYGjlRavRcl884IRC7BAPrwEolWZK1/EBkCtYm/sR4"
        );
        assert!(!fingerprint(&blob).ends_with('='));
    }

    #[test]
    fn known_hosts_names() {
        assert_eq!(known_hosts_name("example.com", 22), "example.com");
        assert_eq!(known_hosts_name("127.0.0.1", 2222), "[127.0.0.1]:2222");
    }
}
