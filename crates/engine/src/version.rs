//! Odoo versions and the session behaviour that differs between them (facts §1, §2, §4).
//!
//! Version numbers only set expectations; where the running server can be observed (the
//! `Set-Cookie` of a login), the observation wins — stable branches get backports.

use serde::{Deserialize, Serialize};
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct OdooVersion {
    pub major: u8,
    pub minor: u8,
}

/// Where a version number came from, strongest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VersionSource {
    /// `/web/webclient/version_info` answered by the running server.
    RunningServer,
    /// `odoo/release.py` beside the running program.
    ReleaseFile,
}

/// The default of `sessions.max_inactivity_seconds` (and the hard-coded threshold before 16).
pub const DEFAULT_LIFETIME: Duration = Duration::from_secs(604_800);

impl OdooVersion {
    pub fn new(major: u8, minor: u8) -> Self {
        OdooVersion { major, minor }
    }

    /// Parses "17.0", "saas~17.2", "17.0+e", "16.0-20231010" or a release.py line
    /// `version_info = (17, 0, 0, FINAL, 0, '')`.
    pub fn parse(text: &str) -> Option<OdooVersion> {
        let t = text.trim();
        let t = t.strip_prefix("saas~").unwrap_or(t);
        let digits: Vec<u8> = t
            .split(|c: char| !c.is_ascii_digit())
            .filter(|s| !s.is_empty())
            .take(2)
            .filter_map(|s| s.parse().ok())
            .collect();
        match digits.as_slice() {
            [major, minor, ..] if (8..=30).contains(major) => {
                Some(OdooVersion::new(*major, *minor))
            }
            [major] if (8..=30).contains(major) => Some(OdooVersion::new(*major, 0)),
            _ => None,
        }
    }

    /// 16.0 introduced `sessions.max_inactivity_seconds`; before it the threshold is fixed at 7 days.
    pub fn has_lifetime_parameter(self) -> bool {
        self.major >= 16
    }

    /// Below this lifetime, users who are actively working get logged out at the next cleanup,
    /// because the session file's mtime only moves on some requests (facts §2).
    pub fn shortest_safe_lifetime(self) -> Duration {
        if self.major >= 18 {
            Duration::from_secs(3600)
        } else {
            Duration::from_secs(86_400)
        }
    }

    /// The real-time channel's path behind the gevent port.
    pub fn realtime_path(self) -> &'static str {
        if self.major >= 16 {
            "/websocket"
        } else {
            "/longpolling"
        }
    }

    /// The odoo.conf key of the gevent port for this version.
    pub fn gevent_port_key(self) -> &'static str {
        if self.major >= 16 {
            "gevent_port"
        } else {
            "longpolling_port"
        }
    }

    /// What the session cookie's lifetime is, as far as the version alone tells.
    pub fn cookie_lifetime_note(self) -> &'static str {
        match self.major {
            0..=15 => "the cookie lives 90 days; the server deletes sessions idle for 7 days (fixed)",
            16 | 17 => "the cookie's Max-Age is 7 days on older builds and follows sessions.max_inactivity_seconds on recent ones; the server deletes sessions idle longer than the parameter",
            _ => "the cookie's Max-Age follows sessions.max_inactivity_seconds; the server deletes sessions idle longer than it",
        }
    }
}

impl std::fmt::Display for OdooVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

/// "7 days", "8 hours", "10 minutes", "90 seconds": lifetimes for people.
pub fn human_duration(d: Duration) -> String {
    let s = d.as_secs();
    let (n, unit) = if s >= 86_400 && s % 86_400 == 0 {
        (s / 86_400, "day")
    } else if s >= 3600 && s % 3600 == 0 {
        (s / 3600, "hour")
    } else if s >= 60 && s % 60 == 0 {
        (s / 60, "minute")
    } else {
        (s, "second")
    };
    crate::words::units(n, unit)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_shapes_versions_come_in() {
        assert_eq!(OdooVersion::parse("17.0"), Some(OdooVersion::new(17, 0)));
        assert_eq!(
            OdooVersion::parse("saas~17.2"),
            Some(OdooVersion::new(17, 2))
        );
        assert_eq!(OdooVersion::parse("16.0+e"), Some(OdooVersion::new(16, 0)));
        assert_eq!(
            OdooVersion::parse("version_info = (12, 0, 0, FINAL, 0, '')"),
            Some(OdooVersion::new(12, 0))
        );
        assert_eq!(OdooVersion::parse("garbage"), None);
    }

    #[test]
    fn safe_lifetimes_follow_the_facts() {
        assert_eq!(
            OdooVersion::new(17, 0).shortest_safe_lifetime().as_secs(),
            86_400
        );
        assert_eq!(
            OdooVersion::new(18, 0).shortest_safe_lifetime().as_secs(),
            3600
        );
        assert!(!OdooVersion::new(15, 0).has_lifetime_parameter());
        assert_eq!(OdooVersion::new(15, 0).realtime_path(), "/longpolling");
    }

    #[test]
    fn durations_read_like_people_say_them() {
        assert_eq!(human_duration(Duration::from_secs(604_800)), "7 days");
        assert_eq!(human_duration(Duration::from_secs(28_800)), "8 hours");
        assert_eq!(human_duration(Duration::from_secs(600)), "10 minutes");
        assert_eq!(human_duration(Duration::from_secs(1)), "1 second");
    }
}
