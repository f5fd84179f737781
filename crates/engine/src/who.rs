//! Who is at the keyboard: the local OS account and machine running the app or the CLI, as
//! change records and reports name them. The SSH login alone says little (most people log in as
//! root), so it is only ever added beside the local account.
//!
//! The account comes from the OS (`getpwuid` of the effective uid, through the `whoami` crate):
//! a desktop session started without `$USER` (a launcher, a systemd user unit) still has one.

/// The local account name, e.g. `alice`.
pub fn user() -> String {
    whoami::username()
        .ok()
        .filter(|u| !u.is_empty())
        .or_else(|| std::env::var("USER").ok().filter(|u| !u.is_empty()))
        .or_else(|| std::env::var("LOGNAME").ok().filter(|u| !u.is_empty()))
        .unwrap_or_else(|| "an unknown local user".to_string())
}

/// This machine's host name, e.g. `laptop`; `None` when the OS does not say.
pub fn machine() -> Option<String> {
    whoami::hostname()
        .ok()
        .or_else(|| {
            std::fs::read_to_string("/etc/hostname")
                .ok()
                .map(|s| s.trim().to_string())
        })
        .filter(|m| !m.is_empty())
}

/// `alice@laptop`: the local account and machine.
pub fn local() -> String {
    match machine() {
        Some(m) => format!("{}@{m}", user()),
        None => user(),
    }
}

/// `alice@laptop (ssh login root)`: the local account, with the SSH login when there is one.
pub fn with_login(ssh_login: Option<&str>) -> String {
    match ssh_login {
        Some(login) if !login.is_empty() => format!("{} (ssh login {login})", local()),
        _ => local(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_local_user_is_the_os_account_even_without_user_in_the_environment() {
        // SAFETY of the test: no other test of this binary reads $USER concurrently for meaning.
        let expected = whoami::username().unwrap();
        std::env::remove_var("USER");
        assert_eq!(super::user(), expected);
        assert!(super::with_login(Some("root")).ends_with("(ssh login root)"));
    }
}
