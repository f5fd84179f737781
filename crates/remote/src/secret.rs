//! Secrets (passwords, passphrases) and the callback that asks the user for them.
//!
//! A [`Secret`] cannot be printed by accident: `Debug` and `Display` both show `<redacted>`, and
//! its bytes are zeroed when it is dropped. Read it with [`Secret::expose`] at the one place that
//! hands it to libssh2 or to sudo's stdin.

use std::fmt;

/// A password or passphrase.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }
    /// The secret's text. Never log or format it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Secret(value)
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Secret(value.to_string())
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl Drop for Secret {
    fn drop(&mut self) {
        // SAFETY: zero bytes are valid UTF-8, so the String stays valid until it is freed.
        unsafe { self.0.as_mut_vec().iter_mut().for_each(|b| *b = 0) }
    }
}

/// What is being asked for, and for whom.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Prompt {
    /// The SSH login password of `user` on `host`.
    SshPassword { user: String, host: String },
    /// The passphrase of a private key file.
    KeyPassphrase { path: std::path::PathBuf },
    /// The password sudo wants for `user` on `host` (the user's own password).
    SudoPassword { user: String, host: String },
}

impl fmt::Display for Prompt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Prompt::SshPassword { user, host } => write!(f, "SSH password for {user}@{host}"),
            Prompt::KeyPassphrase { path } => {
                write!(f, "passphrase for the key {}", path.display())
            }
            Prompt::SudoPassword { user, host } => write!(f, "sudo password for {user} on {host}"),
        }
    }
}

/// Asks the person at the keyboard (a GUI dialog, a terminal prompt, a test's canned answers).
/// `None` means "not given": the method that needed it is skipped.
pub trait Ask {
    fn secret(&self, prompt: &Prompt) -> Option<Secret>;
}

/// Never answers; for scripts and for hosts that need no secrets.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoAsk;

impl Ask for NoAsk {
    fn secret(&self, _prompt: &Prompt) -> Option<Secret> {
        None
    }
}

impl<F: Fn(&Prompt) -> Option<Secret>> Ask for F {
    fn secret(&self, prompt: &Prompt) -> Option<Secret> {
        self(prompt)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_never_prints() {
        let s = Secret::new("hunter2");
        assert_eq!(format!("{s}"), "<redacted>");
        assert_eq!(format!("{s:?}"), "<redacted>");
        assert_eq!(
            format!("{:#?}", Some(s.clone())),
            "Some(\n    <redacted>,\n)"
        );
        assert_eq!(s.expose(), "hunter2");
    }

    #[test]
    fn secret_inside_a_derived_debug_stays_redacted() {
        #[derive(Debug)]
        #[allow(dead_code)]
        struct Options {
            password: Option<Secret>,
        }
        let text = format!(
            "{:?}",
            Options {
                password: Some("p@ss".into())
            }
        );
        assert!(!text.contains("p@ss"), "{text}");
        assert!(text.contains("<redacted>"));
    }

    #[test]
    fn closures_are_askers() {
        let ask = |p: &Prompt| match p {
            Prompt::SudoPassword { .. } => Some(Secret::new("x")),
            _ => None,
        };
        assert!(ask
            .secret(&Prompt::SudoPassword {
                user: "u".into(),
                host: "h".into()
            })
            .is_some());
        assert!(ask
            .secret(&Prompt::KeyPassphrase { path: "/k".into() })
            .is_none());
        assert!(NoAsk
            .secret(&Prompt::SshPassword {
                user: "u".into(),
                host: "h".into()
            })
            .is_none());
    }
}
