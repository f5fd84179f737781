//! [`Host`]: what the engine talks to. Built once on top of [`Transport::exec`], so files, stat,
//! atomic writes and sudo behave the same over SSH and locally.
//!
//! Every file operation is one exec: a short `/bin/sh` script with every path shell-quoted and
//! file content on stdin. Scripts report "needs root" with a reserved exit status *before*
//! changing anything; the operation is then repeated through sudo when this login has it, and
//! otherwise fails with [`RemoteError::PrivilegeMissing`] naming the command.

use std::borrow::Cow;
use std::fmt;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use sha2::{Digest, Sha256};

use crate::secret::{Ask, Prompt, Secret};
use crate::ssh::hostkey::HostKeyInfo;
use crate::transport::{ExecOutput, Transport, Tunnel};
use crate::{ConnectOptions, RemoteError};

/// Default time limit of a command.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

// Exit statuses our scripts reserve (chosen to clash with no common tool's).
const EXIT_ABSENT: i32 = 90;
const EXIT_NEEDS_ROOT: i32 = 91;
const EXIT_NOT_REGULAR: i32 = 92;
const EXIT_NO_DIR: i32 = 94;

/// `hidden DIR`: true when DIR cannot be seen by this login because an ancestor is not
/// searchable (a 0700 directory of root's, say): the nearest ancestor that exists decides, so
/// a folder deep inside one is "needs root", not "does not exist".
const HIDDEN: &str = r#"hidden() { a=$1; while [ "$a" != / ] && [ "$a" != . ] && [ ! -e "$a" ]; do a=$(dirname -- "$a"); done; [ ! -x "$a" ]; }"#;

/// Shell-quotes one word for `/bin/sh` (`'...'` with embedded quotes escaped).
pub fn quote(word: &str) -> Cow<'_, str> {
    if word.is_empty() {
        return Cow::Borrowed("''");
    }
    shell_escape::unix::escape(Cow::Borrowed(word))
}

/// How much power this login has on the host. Detected once, at connect.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Privilege {
    /// Logged in as root: commands run as they are.
    Root,
    /// A user with sudo; privileged commands go through `sudo -n`, or `sudo -S` with the
    /// password (checked at connect) when sudo wants one.
    Sudo { password_needed: bool },
    /// No way to become root.
    None,
}

/// How this host gets root, with what `Privilege` does not show.
enum SudoMode {
    AsIs,
    NoPassword,
    Password(Secret),
    Missing { hint: String },
}

/// A command to run: a program and its arguments, each quoted, or a shell snippet as is.
#[derive(Clone)]
pub struct Cmd {
    program: String,
    args: Vec<String>,
    raw: bool,
    privileged: bool,
    stdin: Option<Vec<u8>>,
    timeout: Duration,
}

impl Cmd {
    /// `program` with arguments added by [`Cmd::arg`]; everything is shell-quoted.
    pub fn new(program: impl Into<String>) -> Self {
        Cmd {
            program: program.into(),
            args: Vec::new(),
            raw: false,
            privileged: false,
            stdin: None,
            timeout: DEFAULT_TIMEOUT,
        }
    }

    /// A `/bin/sh` snippet used verbatim (pipes, redirections). Quote any value you put in it
    /// with [`quote`].
    pub fn shell(script: impl Into<String>) -> Self {
        Cmd {
            raw: true,
            ..Cmd::new(script)
        }
    }

    pub fn arg(mut self, arg: impl Into<String>) -> Self {
        self.args.push(arg.into());
        self
    }

    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    /// Run as root (directly, or through sudo).
    pub fn privileged(mut self) -> Self {
        self.privileged = true;
        self
    }

    pub fn privileged_if(mut self, yes: bool) -> Self {
        self.privileged = yes;
        self
    }

    pub fn stdin(mut self, input: impl Into<Vec<u8>>) -> Self {
        self.stdin = Some(input.into());
        self
    }

    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The command line as sent to `/bin/sh` (without any sudo prefix).
    pub fn command_line(&self) -> String {
        if self.raw {
            return self.program.clone();
        }
        let mut line = quote(&self.program).into_owned();
        for a in &self.args {
            line.push(' ');
            line.push_str(&quote(a));
        }
        line
    }
}

impl fmt::Debug for Cmd {
    // stdin may be a config file with passwords in it: show only its size.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Cmd")
            .field("command", &self.command_line())
            .field("privileged", &self.privileged)
            .field("stdin_bytes", &self.stdin.as_ref().map(Vec::len))
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// What a command produced. A non-zero status is not an error by itself.
#[derive(Clone, PartialEq, Eq)]
pub struct Output {
    pub status: i32,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
}

impl Output {
    pub fn ok(&self) -> bool {
        self.status == 0
    }
    pub fn stdout_str(&self) -> Cow<'_, str> {
        String::from_utf8_lossy(&self.stdout)
    }
    pub fn stderr_str(&self) -> Cow<'_, str> {
        String::from_utf8_lossy(&self.stderr)
    }
}

impl fmt::Debug for Output {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Output")
            .field("status", &self.status)
            .field("stdout", &self.stdout_str())
            .field("stderr", &self.stderr_str())
            .finish()
    }
}

impl From<ExecOutput> for Output {
    fn from(o: ExecOutput) -> Self {
        Output {
            status: o.status,
            stdout: o.stdout,
            stderr: o.stderr,
        }
    }
}

/// What kind of thing a path is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum FileKind {
    File,
    Dir,
    Other,
}

/// `stat` of a path (symbolic links followed).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FileStat {
    /// The path asked about.
    pub path: String,
    /// The same path with symbolic links resolved.
    pub real_path: String,
    pub kind: FileKind,
    pub owner: String,
    pub group: String,
    pub uid: u32,
    pub gid: u32,
    /// Permission bits, e.g. `0o640` (with setuid/setgid/sticky when set).
    pub mode: u32,
    pub size: u64,
    /// Modification time, Unix seconds.
    pub mtime: i64,
    /// Hex SHA-256 of the content; `None` for anything but a regular file.
    pub sha256: Option<String>,
}

/// Owner, group and mode for a file that [`Host::write_atomic`] creates. An existing file keeps
/// its own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewFileMode {
    /// User name or uid; `None`: the user doing the write (root when privileged).
    pub owner: Option<String>,
    /// Group name or gid; `None`: that user's primary group.
    pub group: Option<String>,
    pub mode: u32,
}

impl Default for NewFileMode {
    fn default() -> Self {
        NewFileMode {
            owner: None,
            group: None,
            mode: 0o644,
        }
    }
}

impl NewFileMode {
    pub fn new(owner: Option<&str>, group: Option<&str>, mode: u32) -> Self {
        NewFileMode {
            owner: owner.map(Into::into),
            group: group.map(Into::into),
            mode,
        }
    }
}

/// A host to diagnose and fix.
pub struct Host {
    transport: Box<dyn Transport>,
    name: String,
    user: String,
    privilege: Privilege,
    sudo: SudoMode,
    host_key: Option<HostKeyInfo>,
    execs: AtomicU64,
}

impl fmt::Debug for Host {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Host")
            .field("name", &self.name)
            .field("user", &self.user)
            .field("privilege", &self.privilege)
            .finish()
    }
}

impl Host {
    /// Connects to `target` (SSH or local) and detects its privilege.
    pub fn connect(
        target: &crate::Target,
        opts: &ConnectOptions,
        ask: &dyn Ask,
    ) -> Result<Host, RemoteError> {
        match crate::resolve_target(target, opts)? {
            None => Host::from_transport(Box::new(crate::LocalTransport::new()), None, opts, ask),
            Some(spec) => {
                let transport = crate::SshTransport::connect(&spec, opts, ask)?;
                let key = transport.host_key().clone();
                Host::from_transport(Box::new(transport), Some(key), opts, ask)
            }
        }
    }

    /// This machine, as the current user; sudo only if it needs no password.
    pub fn local() -> Host {
        let opts = ConnectOptions::bare();
        match Host::from_transport(
            Box::new(crate::LocalTransport::new()),
            None,
            &opts,
            &crate::NoAsk,
        ) {
            Ok(host) => host,
            Err(e) => {
                log::warn!("cannot detect privileges on this machine: {e}");
                Host::assemble(
                    Box::new(crate::LocalTransport::new()),
                    None,
                    crate::target::local_user(),
                    SudoMode::Missing {
                        hint: format!("privilege detection failed: {e}"),
                    },
                )
            }
        }
    }

    /// Wraps any transport (also a test double) and detects the privilege of its login.
    pub fn from_transport(
        transport: Box<dyn Transport>,
        host_key: Option<HostKeyInfo>,
        opts: &ConnectOptions,
        ask: &dyn Ask,
    ) -> Result<Host, RemoteError> {
        let mut host = Host::assemble(
            transport,
            host_key,
            String::new(),
            SudoMode::Missing {
                hint: String::new(),
            },
        );
        host.detect_privilege(opts, ask)?;
        Ok(host)
    }

    fn assemble(
        transport: Box<dyn Transport>,
        host_key: Option<HostKeyInfo>,
        user: String,
        sudo: SudoMode,
    ) -> Host {
        let name = transport.describe().to_string();
        let privilege = privilege_of(&sudo);
        Host {
            transport,
            name,
            user,
            privilege,
            sudo,
            host_key,
            execs: AtomicU64::new(0),
        }
    }

    fn detect_privilege(
        &mut self,
        opts: &ConnectOptions,
        ask: &dyn Ask,
    ) -> Result<(), RemoteError> {
        const PROBE: &str = r#"u=$(id -u); echo "uid=$u"; echo "user=$(id -un)"
if [ "$u" = 0 ]; then exit 0; fi
if ! command -v sudo >/dev/null 2>&1; then echo "sudo=absent"; exit 0; fi
if out=$(sudo -n true 2>&1 </dev/null); then echo "sudo=nopasswd"; else echo "sudo=failed"; printf '%s\n' "$out" | head -n 3 | sed 's/^/msg=/'; fi"#;
        let out = self.exec(PROBE, None, DEFAULT_TIMEOUT)?;
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let field = |k: &str| {
            text.lines()
                .find_map(|l| l.strip_prefix(k))
                .map(str::to_string)
        };
        let (Some(uid), Some(user)) = (field("uid="), field("user=")) else {
            return Err(RemoteError::UnexpectedOutput {
                host: self.name.clone(),
                command: "id -u; id -un; sudo -n true".into(),
                detail: format!("{text}{}", String::from_utf8_lossy(&out.stderr)),
            });
        };
        self.user = user.clone();
        let messages: Vec<String> = text
            .lines()
            .filter_map(|l| l.strip_prefix("msg="))
            .map(str::to_string)
            .collect();
        self.sudo = if uid.trim() == "0" {
            SudoMode::AsIs
        } else {
            match field("sudo=").as_deref() {
                Some("nopasswd") => SudoMode::NoPassword,
                Some("absent") => SudoMode::Missing { hint: format!("sudo is not installed; connect as root or install sudo and give {user} sudo rights") },
                _ if messages.iter().any(|m| m.contains("password is required")) => self.sudo_with_password(&user, opts, ask)?,
                _ => SudoMode::Missing { hint: format!("sudo refused ({}); connect as root or give {user} sudo rights", messages.join(" ").trim()) },
            }
        };
        self.privilege = privilege_of(&self.sudo);
        Ok(())
    }

    /// sudo wants a password: get it (options, then the user), check it once.
    fn sudo_with_password(
        &self,
        user: &str,
        opts: &ConnectOptions,
        ask: &dyn Ask,
    ) -> Result<SudoMode, RemoteError> {
        let host_label = self.host_label();
        let Some(password) = opts.sudo_password.clone().or_else(|| {
            ask.secret(&Prompt::SudoPassword {
                user: user.to_string(),
                host: host_label.clone(),
            })
        }) else {
            return Ok(SudoMode::Missing {
                hint: format!("sudo on {host_label} wants {user}'s password and none was given; connect again and give it, connect as root, or give {user} passwordless sudo"),
            });
        };
        let mut input = password.expose().as_bytes().to_vec();
        input.push(b'\n');
        let out = self.exec("sudo -k -S -p '' -- true", Some(&input), DEFAULT_TIMEOUT);
        input.iter_mut().for_each(|b| *b = 0);
        let out = out?;
        if out.status == 0 {
            return Ok(SudoMode::Password(password));
        }
        let err = String::from_utf8_lossy(&out.stderr);
        if err.contains("not in the sudoers")
            || err.contains("is not allowed")
            || err.contains("may not run sudo")
        {
            return Ok(SudoMode::Missing {
                hint: format!(
                    "{user} is not allowed to use sudo; connect as root or give {user} sudo rights"
                ),
            });
        }
        Err(RemoteError::SudoPasswordRejected {
            host: host_label,
            user: user.to_string(),
        })
    }

    /// The server as prompts name it: `host`, or `host:port` off the standard port.
    fn host_label(&self) -> String {
        let at = match self.name.rsplit_once('@') {
            Some((_, h)) => h,
            None => &self.name,
        };
        at.strip_suffix(":22").unwrap_or(at).to_string()
    }

    /// `user@host:port` or `local`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The login's user name on the host.
    pub fn user(&self) -> &str {
        &self.user
    }

    pub fn privilege(&self) -> Privilege {
        self.privilege
    }

    /// The verified SSH host key (`None` for the local host).
    pub fn host_key(&self) -> Option<HostKeyInfo> {
        self.host_key.clone()
    }

    /// How many commands have been sent to the host so far (each is one round trip).
    pub fn exec_count(&self) -> u64 {
        self.execs.load(Ordering::Relaxed)
    }

    fn exec(
        &self,
        command: &str,
        stdin: Option<&[u8]>,
        timeout: Duration,
    ) -> Result<ExecOutput, RemoteError> {
        self.execs.fetch_add(1, Ordering::Relaxed);
        log::debug!("{}: {}", self.name, command);
        self.transport.exec(command, stdin, timeout)
    }

    /// Runs `command` (a `/bin/sh` string) as root via this host's privilege. `shown` names it
    /// in errors.
    fn exec_privileged(
        &self,
        command: &str,
        stdin: Option<&[u8]>,
        timeout: Duration,
        shown: &str,
    ) -> Result<ExecOutput, RemoteError> {
        match &self.sudo {
            SudoMode::AsIs => self.exec(command, stdin, timeout),
            SudoMode::NoPassword => self.exec(
                &format!("sudo -n -- sh -c {}", quote(command)),
                stdin,
                timeout,
            ),
            SudoMode::Password(password) => {
                // The password is the first line of stdin, read by sudo itself; never in the command.
                let mut input =
                    Vec::with_capacity(password.expose().len() + 1 + stdin.map_or(0, <[u8]>::len));
                input.extend_from_slice(password.expose().as_bytes());
                input.push(b'\n');
                input.extend_from_slice(stdin.unwrap_or(&[]));
                let out = self.exec(
                    &format!("sudo -k -S -p '' -- sh -c {}", quote(command)),
                    Some(&input),
                    timeout,
                );
                input.iter_mut().for_each(|b| *b = 0);
                out
            }
            SudoMode::Missing { hint } => Err(RemoteError::PrivilegeMissing {
                host: self.name.clone(),
                command: shown.to_string(),
                hint: hint.clone(),
            }),
        }
    }

    fn can_escalate(&self) -> bool {
        matches!(self.sudo, SudoMode::NoPassword | SudoMode::Password(_))
    }

    /// Runs a command. A non-zero exit is returned in [`Output::status`], not as an error.
    pub fn run(&self, cmd: &Cmd) -> Result<Output, RemoteError> {
        let line = cmd.command_line();
        let out = if cmd.privileged {
            self.exec_privileged(&line, cmd.stdin.as_deref(), cmd.timeout, &line)?
        } else {
            self.exec(&line, cmd.stdin.as_deref(), cmd.timeout)?
        };
        Ok(out.into())
    }

    /// Like [`Host::run`], but a non-zero exit is [`RemoteError::CommandFailed`].
    pub fn run_checked(&self, cmd: &Cmd) -> Result<Output, RemoteError> {
        let out = self.run(cmd)?;
        if out.ok() {
            Ok(out)
        } else {
            Err(RemoteError::CommandFailed {
                host: self.name.clone(),
                command: cmd.command_line(),
                status: out.status,
                stderr: out.stderr_str().into_owned(),
            })
        }
    }

    /// Sends `script` on stdin to `sh -s`: any amount of shell in one round trip.
    pub fn run_script(
        &self,
        script: &str,
        privileged: bool,
        timeout: Duration,
    ) -> Result<Output, RemoteError> {
        let out = if privileged {
            self.exec_privileged(
                "sh -s",
                Some(script.as_bytes()),
                timeout,
                "sh -s (a script on stdin)",
            )?
        } else {
            self.exec("sh -s", Some(script.as_bytes()), timeout)?
        };
        Ok(out.into())
    }

    /// Runs a file-operation script as the login user; if it reports "needs root" (before
    /// changing anything), again with privilege.
    fn file_op(
        &self,
        script: &str,
        stdin: Option<&[u8]>,
        shown: &str,
    ) -> Result<ExecOutput, RemoteError> {
        let out = self.exec(script, stdin, DEFAULT_TIMEOUT)?;
        if out.status != EXIT_NEEDS_ROOT || matches!(self.sudo, SudoMode::AsIs) {
            return Ok(out);
        }
        if !self.can_escalate() {
            let hint = match &self.sudo {
                SudoMode::Missing { hint } => hint.clone(),
                _ => String::new(),
            };
            return Err(RemoteError::PrivilegeMissing {
                host: self.name.clone(),
                command: shown.to_string(),
                hint,
            });
        }
        self.exec_privileged(script, stdin, DEFAULT_TIMEOUT, shown)
    }

    fn failed(&self, shown: &str, out: &ExecOutput) -> RemoteError {
        RemoteError::CommandFailed {
            host: self.name.clone(),
            command: shown.to_string(),
            status: out.status,
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// The content of a file (read through sudo when the login user cannot).
    pub fn read_file(&self, path: &str) -> Result<Vec<u8>, RemoteError> {
        let q = quote(path);
        let script = format!(
            r#"p={q}
{HIDDEN}
if [ ! -e "$p" ]; then if [ "$(id -u)" != 0 ] && hidden "$(dirname -- "$p")"; then exit {EXIT_NEEDS_ROOT}; fi; exit {EXIT_ABSENT}; fi
if [ -d "$p" ]; then exit {EXIT_NOT_REGULAR}; fi
if [ ! -r "$p" ]; then exit {EXIT_NEEDS_ROOT}; fi
exec cat -- "$p""#
        );
        let shown = format!("cat -- {q}");
        let out = self.file_op(&script, None, &shown)?;
        match out.status {
            0 => Ok(out.stdout),
            EXIT_ABSENT => Err(RemoteError::NotFound {
                host: self.name.clone(),
                path: path.to_string(),
            }),
            EXIT_NOT_REGULAR => Err(RemoteError::NotRegularFile {
                host: self.name.clone(),
                path: path.to_string(),
            }),
            _ => Err(self.failed(&shown, &out)),
        }
    }

    /// Owner, group, mode, size, mtime and SHA-256 of a path; `None` if it does not exist.
    pub fn stat(&self, path: &str) -> Result<Option<FileStat>, RemoteError> {
        let q = quote(path);
        let script = format!(
            r#"p={q}
{HIDDEN}
if [ ! -e "$p" ]; then if [ "$(id -u)" != 0 ] && hidden "$(dirname -- "$p")"; then exit {EXIT_NEEDS_ROOT}; fi; exit {EXIT_ABSENT}; fi
if [ -f "$p" ] && [ ! -r "$p" ]; then exit {EXIT_NEEDS_ROOT}; fi
{STAT_LINES}"#
        );
        let shown = format!("stat -L -- {q}");
        let out = self.file_op(&script, None, &shown)?;
        match out.status {
            0 => parse_stat(path, &out.stdout).map(Some).map_err(|detail| {
                RemoteError::UnexpectedOutput {
                    host: self.name.clone(),
                    command: shown,
                    detail,
                }
            }),
            EXIT_ABSENT => Ok(None),
            _ => Err(self.failed(&shown, &out)),
        }
    }

    /// Replaces (or creates) a file atomically: the content goes to a temp file in the same
    /// directory, gets the original's owner, group and mode (or `new_file`'s for a new file), is
    /// fsynced and renamed over the target. A symbolic link is followed: the file it points to
    /// is replaced and the link stays. On any failure the original is untouched and the temp
    /// file removed. One exec, content on stdin.
    pub fn write_atomic(
        &self,
        path: &str,
        content: &[u8],
        new_file: &NewFileMode,
    ) -> Result<FileStat, RemoteError> {
        let q = quote(path);
        let new_owner = quote(new_file.owner.as_deref().unwrap_or(""));
        let new_group = quote(new_file.group.as_deref().unwrap_or(""));
        let new_mode = format!("{:o}", new_file.mode & 0o7777);
        let script = format!(
            r#"p={q}; no={new_owner}; ng={new_group}; nm={new_mode}
if [ -L "$p" ]; then r=$(readlink -f -- "$p") && [ -n "$r" ] || {{ echo "cannot resolve the symbolic link $p" >&2; exit 1; }}; p=$r; fi
d=$(dirname -- "$p"); b=$(basename -- "$p")
{HIDDEN}
if [ ! -d "$d" ]; then if [ "$(id -u)" != 0 ] && hidden "$d"; then exit {EXIT_NEEDS_ROOT}; fi; exit {EXIT_NO_DIR}; fi
if [ -e "$p" ]; then
  [ -f "$p" ] || exit {EXIT_NOT_REGULAR}
  own=$(stat -c '%u:%g' -- "$p") && mode=$(stat -c '%a' -- "$p") || exit 1
else
  mode=$nm
  if [ -n "$no" ]; then own=$no; else own=$(id -u); fi
  if [ -n "$ng" ]; then own="$own:$ng"; else own="$own:$(id -g)"; fi
fi
if [ "$(id -u)" != 0 ]; then
  if [ ! -w "$d" ] || [ ! -x "$d" ]; then exit {EXIT_NEEDS_ROOT}; fi
  case "${{own%%:*}}" in "$(id -u)"|"$(id -un)") ;; *) exit {EXIT_NEEDS_ROOT};; esac
  g=${{own#*:}}; mine=no
  for x in $(id -G) $(id -Gn); do [ "$x" = "$g" ] && mine=yes; done
  [ $mine = yes ] || exit {EXIT_NEEDS_ROOT}
fi
t=$(mktemp -- "$d/.$b.osd-tmp.XXXXXX") || exit 1
trap 'rm -f -- "$t"' EXIT
trap 'exit 129' HUP; trap 'exit 130' INT; trap 'exit 143' TERM; trap 'exit 141' PIPE
cat > "$t" || exit 1
chown -- "$own" "$t" || exit 1
chmod -- "$mode" "$t" || exit 1
sync -- "$t" 2>/dev/null || sync
mv -f -- "$t" "$p" || exit 1
trap - EXIT
sync -- "$d" 2>/dev/null || :
{STAT_LINES}"#
        );
        let shown =
            format!("replace {q} atomically (mktemp, chown, chmod, fsync, mv in its directory)");
        let out = self.file_op(&script, Some(content), &shown)?;
        match out.status {
            0 => {
                let stat = parse_stat(path, &out.stdout).map_err(|detail| {
                    RemoteError::UnexpectedOutput {
                        host: self.name.clone(),
                        command: shown.clone(),
                        detail,
                    }
                })?;
                let expected = hex(&Sha256::digest(content));
                if stat.sha256.as_deref() != Some(expected.as_str()) {
                    return Err(RemoteError::UnexpectedOutput {
                        host: self.name.clone(),
                        command: shown,
                        detail: format!(
                            "the file's SHA-256 after writing is {:?}, expected {expected}",
                            stat.sha256
                        ),
                    });
                }
                Ok(stat)
            }
            EXIT_NO_DIR => Err(RemoteError::NotFound {
                host: self.name.clone(),
                path: parent_of(path),
            }),
            EXIT_NOT_REGULAR => Err(RemoteError::NotRegularFile {
                host: self.name.clone(),
                path: path.to_string(),
            }),
            _ => Err(self.failed(&shown, &out)),
        }
    }

    /// Removes a file (not a directory); absent already is fine.
    pub fn remove_file(&self, path: &str) -> Result<(), RemoteError> {
        let q = quote(path);
        let script = format!(
            r#"p={q}
if [ ! -e "$p" ] && [ ! -L "$p" ]; then d=$(dirname -- "$p"); if [ "$(id -u)" != 0 ] && [ -d "$d" ] && [ ! -x "$d" ]; then exit {EXIT_NEEDS_ROOT}; fi; exit 0; fi
if [ -d "$p" ] && [ ! -L "$p" ]; then exit {EXIT_NOT_REGULAR}; fi
d=$(dirname -- "$p")
if [ "$(id -u)" != 0 ] && {{ [ ! -w "$d" ] || [ ! -x "$d" ]; }}; then exit {EXIT_NEEDS_ROOT}; fi
rm -f -- "$p""#
        );
        let shown = format!("rm -f -- {q}");
        let out = self.file_op(&script, None, &shown)?;
        match out.status {
            0 => Ok(()),
            EXIT_NOT_REGULAR => Err(RemoteError::NotRegularFile {
                host: self.name.clone(),
                path: path.to_string(),
            }),
            _ => Err(self.failed(&shown, &out)),
        }
    }

    /// Creates a directory and its parents; `mode` applies to the last one when it is created.
    pub fn mkdir_p(&self, path: &str, mode: u32) -> Result<(), RemoteError> {
        let q = quote(path);
        let m = format!("{:o}", mode & 0o7777);
        let script = format!(
            r#"p={q}
if [ -d "$p" ]; then exit 0; fi
a=$p; while [ ! -e "$a" ] && [ ! -L "$a" ]; do a=$(dirname -- "$a"); done
[ -d "$a" ] || {{ echo "$a is not a directory" >&2; exit 1; }}
if [ "$(id -u)" != 0 ] && {{ [ ! -w "$a" ] || [ ! -x "$a" ]; }}; then exit {EXIT_NEEDS_ROOT}; fi
mkdir -p -m {m} -- "$p""#
        );
        let shown = format!("mkdir -p -m {m} -- {q}");
        let out = self.file_op(&script, None, &shown)?;
        if out.status == 0 {
            Ok(())
        } else {
            Err(self.failed(&shown, &out))
        }
    }

    /// A local address that reaches `host:port` as the host sees it (e.g. its PostgreSQL).
    pub fn tunnel(&self, host: &str, port: u16) -> Result<Tunnel, RemoteError> {
        self.transport.tunnel(host, port)
    }
}

fn privilege_of(sudo: &SudoMode) -> Privilege {
    match sudo {
        SudoMode::AsIs => Privilege::Root,
        SudoMode::NoPassword => Privilege::Sudo {
            password_needed: false,
        },
        SudoMode::Password(_) => Privilege::Sudo {
            password_needed: true,
        },
        SudoMode::Missing { .. } => Privilege::None,
    }
}

/// Prints: `uid|gid|owner|group|mode|size|mtime|type` / sha256 or `-` / real path.
const STAT_LINES: &str = r#"stat -L -c '%u|%g|%U|%G|%a|%s|%Y|%F' -- "$p" || exit 1
if [ -f "$p" ]; then s=$(sha256sum < "$p") || exit 1; printf '%.64s\n' "$s"; else echo -; fi
readlink -f -- "$p" || echo "$p""#;

fn parse_stat(path: &str, stdout: &[u8]) -> Result<FileStat, String> {
    let text = String::from_utf8_lossy(stdout);
    let mut parts = text.splitn(3, '\n');
    let (Some(fields), Some(sha), Some(real)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(format!("expected three lines, got {text:?}"));
    };
    let f: Vec<&str> = fields.split('|').collect();
    if f.len() != 8 {
        return Err(format!("expected 8 fields in {fields:?}"));
    }
    let num = |s: &str, what: &str| s.parse::<u64>().map_err(|_| format!("bad {what} {s:?}"));
    let kind = if f[7].starts_with("regular") {
        FileKind::File
    } else if f[7] == "directory" {
        FileKind::Dir
    } else {
        FileKind::Other
    };
    let sha = sha.trim();
    Ok(FileStat {
        path: path.to_string(),
        real_path: real.strip_suffix('\n').unwrap_or(real).to_string(),
        kind,
        uid: num(f[0], "uid")? as u32,
        gid: num(f[1], "gid")? as u32,
        owner: f[2].to_string(),
        group: f[3].to_string(),
        mode: u32::from_str_radix(f[4], 8).map_err(|_| format!("bad mode {:?}", f[4]))?,
        size: num(f[5], "size")?,
        mtime: f[6]
            .parse::<i64>()
            .map_err(|_| format!("bad mtime {:?}", f[6]))?,
        sha256: if sha == "-" || sha.is_empty() {
            None
        } else {
            Some(sha.to_string())
        },
    })
}

fn parent_of(path: &str) -> String {
    match Path::new(path).parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_string_lossy().into_owned(),
        _ => ".".to_string(),
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting() {
        assert_eq!(quote("plain"), "plain");
        assert_eq!(quote(""), "''");
        assert_eq!(quote("a b"), "'a b'");
        assert_eq!(quote("it's"), "'it'\\''s'");
        assert_eq!(
            Cmd::new("nginx")
                .arg("-t")
                .arg("/etc/my conf")
                .command_line(),
            "nginx -t '/etc/my conf'"
        );
        assert_eq!(Cmd::shell("a | b").arg("ignored?").command_line(), "a | b");
    }

    #[test]
    fn cmd_debug_hides_stdin() {
        let c = Cmd::new("cat").stdin(b"db_password = hunter2".to_vec());
        let d = format!("{c:?}");
        assert!(!d.contains("hunter2"), "{d}");
        assert!(d.contains("stdin_bytes: Some(21)"), "{d}");
    }

    #[test]
    fn stat_output_parses() {
        let s = parse_stat(
            "/etc/x",
            b"0|104|root|odoo|640|12|1700000000|regular file\nabc\n/etc/real x\n",
        )
        .unwrap();
        assert_eq!(
            (
                s.uid,
                s.gid,
                s.owner.as_str(),
                s.group.as_str(),
                s.mode,
                s.size,
                s.mtime
            ),
            (0, 104, "root", "odoo", 0o640, 12, 1700000000)
        );
        assert_eq!(s.kind, FileKind::File);
        assert_eq!(s.sha256.as_deref(), Some("abc"));
        assert_eq!(s.real_path, "/etc/real x");
        let d = parse_stat("/etc", b"0|0|root|root|755|4096|1|directory\n-\n/etc\n").unwrap();
        assert_eq!((d.kind, d.sha256), (FileKind::Dir, None));
        let e = parse_stat(
            "/e",
            b"0|0|root|root|644|0|1|regular empty file\ne3b0\n/e\n",
        )
        .unwrap();
        assert_eq!(e.kind, FileKind::File);
        assert!(parse_stat("/x", b"garbage").is_err());
    }
}
