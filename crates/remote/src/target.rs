//! What the user typed to name a host: `ssh://user@host[:port]`, `user@host[:port]`,
//! `host`, an `~/.ssh/config` alias, or `local`. IPv6 addresses go in brackets: `root@[::1]:22`.
//! Parsing is purely syntactic; the config lookup happens at connect time.

use std::fmt;
use std::str::FromStr;

use crate::RemoteError;

/// A host to connect to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// This machine, without SSH.
    Local,
    /// A host reached over SSH. `host` may be an alias from the SSH config.
    Ssh {
        user: Option<String>,
        host: String,
        port: Option<u16>,
    },
}

impl Target {
    pub fn parse(input: &str) -> Result<Target, RemoteError> {
        let shown = redact_userinfo(input);
        let bad = |reason: &str| RemoteError::BadTarget {
            target: shown.clone(),
            reason: reason.to_string(),
        };
        let s = input.trim();
        if s.is_empty() {
            return Err(bad("it is empty"));
        }
        if s.eq_ignore_ascii_case("local") {
            return Ok(Target::Local);
        }
        let rest = match s.split_once("://") {
            Some((scheme, rest)) if scheme.eq_ignore_ascii_case("ssh") => {
                rest.trim_end_matches('/')
            }
            Some((scheme, _)) => {
                return Err(bad(&format!("only ssh:// is supported, not {scheme}://")))
            }
            None => s,
        };
        let (user, hostport) = match rest.rsplit_once('@') {
            Some(("", _)) => return Err(bad("the user name before @ is empty")),
            Some((u, h)) => (Some(u.to_string()), h),
            None => (None, rest),
        };
        if let Some(u) = &user {
            if u.contains([':', '/', ' ']) {
                return Err(bad("the user name contains ':', '/' or a space (passwords do not go in the target)"));
            }
        }
        let (host, port) = if let Some(inner) = hostport.strip_prefix('[') {
            let (h, after) = inner
                .split_once(']')
                .ok_or_else(|| bad("a '[' without its ']'"))?;
            let port = match after {
                "" => None,
                p => Some(
                    parse_port(p.strip_prefix(':').ok_or_else(|| bad("junk after ']'"))?)
                        .ok_or_else(|| bad("the port is not a number from 1 to 65535"))?,
                ),
            };
            (h.to_string(), port)
        } else if hostport.matches(':').count() > 1 {
            return Err(bad(
                "an IPv6 address must be written in brackets, like [::1]:22",
            ));
        } else if let Some((h, p)) = hostport.split_once(':') {
            (
                h.to_string(),
                Some(parse_port(p).ok_or_else(|| bad("the port is not a number from 1 to 65535"))?),
            )
        } else {
            (hostport.to_string(), None)
        };
        if host.is_empty() {
            return Err(bad("the host name is empty"));
        }
        if host.contains(['/', ' ', '@']) {
            return Err(bad("the host name contains '/', '@' or a space"));
        }
        Ok(Target::Ssh { user, host, port })
    }
}

/// `user:password@host` is how URLs carry passwords; never echo one back.
fn redact_userinfo(input: &str) -> String {
    let scheme_end = input.find("://").map(|i| i + 3).unwrap_or(0);
    match input[scheme_end..].rfind('@') {
        Some(at) => {
            let userinfo = &input[scheme_end..scheme_end + at];
            match userinfo.split_once(':') {
                Some((user, _)) => format!(
                    "{}{}:<redacted>{}",
                    &input[..scheme_end],
                    user,
                    &input[scheme_end + at..]
                ),
                None => input.to_string(),
            }
        }
        None => input.to_string(),
    }
}

fn parse_port(p: &str) -> Option<u16> {
    p.parse::<u16>().ok().filter(|p| *p != 0)
}

impl FromStr for Target {
    type Err = RemoteError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Target::parse(s)
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Local => f.write_str("local"),
            Target::Ssh { user, host, port } => {
                if let Some(u) = user {
                    write!(f, "{u}@")?;
                }
                if host.contains(':') {
                    write!(f, "[{host}]")?;
                } else {
                    f.write_str(host)?;
                }
                if let Some(p) = port {
                    write!(f, ":{p}")?;
                }
                Ok(())
            }
        }
    }
}

/// The name of the user running this program (the default SSH login, as with `ssh`).
pub(crate) fn local_user() -> String {
    // SAFETY: getpwuid returns a pointer into static storage or NULL; we copy the name at once.
    let from_passwd = unsafe {
        let pw = libc::getpwuid(libc::geteuid());
        if pw.is_null() || (*pw).pw_name.is_null() {
            None
        } else {
            Some(
                std::ffi::CStr::from_ptr((*pw).pw_name)
                    .to_string_lossy()
                    .into_owned(),
            )
        }
    };
    from_passwd
        .or_else(|| std::env::var("USER").ok())
        .unwrap_or_else(|| "root".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ssh(user: Option<&str>, host: &str, port: Option<u16>) -> Target {
        Target::Ssh {
            user: user.map(Into::into),
            host: host.into(),
            port,
        }
    }

    #[test]
    fn forms() {
        assert_eq!(Target::parse("local").unwrap(), Target::Local);
        assert_eq!(
            Target::parse("ssh://root@10.0.0.5:2222").unwrap(),
            ssh(Some("root"), "10.0.0.5", Some(2222))
        );
        assert_eq!(
            Target::parse("ssh://root@10.0.0.5/").unwrap(),
            ssh(Some("root"), "10.0.0.5", None)
        );
        assert_eq!(
            Target::parse("deploy@odoo.example.com").unwrap(),
            ssh(Some("deploy"), "odoo.example.com", None)
        );
        assert_eq!(Target::parse("prod").unwrap(), ssh(None, "prod", None));
        assert_eq!(
            Target::parse("prod:2200").unwrap(),
            ssh(None, "prod", Some(2200))
        );
        assert_eq!(
            Target::parse("root@[::1]:22").unwrap(),
            ssh(Some("root"), "::1", Some(22))
        );
        assert_eq!(
            Target::parse(" [fe80::1] ").unwrap(),
            ssh(None, "fe80::1", None)
        );
    }

    #[test]
    fn display_round_trips() {
        for s in ["local", "root@10.0.0.5:2222", "prod", "root@[::1]:22"] {
            assert_eq!(Target::parse(s).unwrap().to_string(), s);
        }
    }

    #[test]
    fn rejects() {
        for s in [
            "",
            "http://x",
            "@x",
            "root@",
            "x:0",
            "x:99999",
            "x:abc",
            "::1",
            "a b",
            "user:pw@host",
            "[::1",
        ] {
            let err = Target::parse(s).unwrap_err();
            assert!(matches!(err, RemoteError::BadTarget { .. }), "{s}: {err}");
        }
    }

    #[test]
    fn error_does_not_echo_a_password_typed_as_user_pw() {
        let err = Target::parse("ssh://user:s3cret@host")
            .unwrap_err()
            .to_string();
        assert!(err.contains("passwords do not go in the target"), "{err}");
        assert!(!err.contains("s3cret"), "{err}");
        assert!(err.contains("ssh://user:<redacted>@host"), "{err}");
    }
}
