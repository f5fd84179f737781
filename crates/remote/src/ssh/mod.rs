//! The SSH transport (libssh2 through the `ssh2` crate).
//!
//! Connect: TCP with a timeout → key exchange offering host-key types already known for this
//! host first → host key checked against every known-hosts file (unknown and changed keys stop
//! here, before any credential is sent) → login (agent, key files, password) → the session goes
//! non-blocking for the rest of its life (see [`io`]) so execs and tunnels can share it.

mod auth;
pub mod hostkey;
mod io;
mod tunnel;

use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::os::unix::io::{AsRawFd, RawFd};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ssh2::Session;

use crate::secret::Ask;
use crate::transport::{ExecOutput, Transport, Tunnel};
use crate::{ConnectOptions, RemoteError};
use hostkey::{HostKeyInfo, Verdict};
use io::{is_eagain, retry, wait_socket, POLL_SLICE};

/// Where and as whom to log in (already resolved through the SSH config).
#[derive(Debug, Clone)]
pub struct SshSpec {
    pub host: String,
    pub port: u16,
    pub user: String,
    /// Key files named by the SSH config for this host.
    pub config_identity_files: Vec<PathBuf>,
}

/// State shared by the transport and its tunnels' pump threads.
pub(crate) struct Shared {
    pub sess: Session,
    pub fd: RawFd,
    pub name: String,
    /// libssh2 keeps the state of a channel being opened in the *session* (`open_state`,
    /// `direct_state`), and while waiting for the reply to a channel request (exec) it takes
    /// any CHANNEL_SUCCESS it reads for its own, so in non-blocking mode two threads opening or
    /// starting channels at once would mix them up. Opening and starting are serialised with
    /// this lock; the rest (read, write, EOF, close) has per-channel state and runs concurrently.
    pub open_lock: std::sync::Mutex<()>,
}

impl Shared {
    pub fn lock_open(&self) -> std::sync::MutexGuard<'_, ()> {
        self.open_lock
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Drop for Shared {
    fn drop(&mut self) {
        // Last user gone: say goodbye in blocking mode, briefly, so libssh2 frees cleanly.
        self.sess.set_blocking(true);
        self.sess.set_timeout(1000);
        let _ = self.sess.disconnect(None, "bye", None);
    }
}

/// A logged-in SSH session.
pub struct SshTransport {
    shared: Arc<Shared>,
    host_key: HostKeyInfo,
}

impl SshTransport {
    pub fn connect(
        spec: &SshSpec,
        opts: &ConnectOptions,
        ask: &dyn Ask,
    ) -> Result<SshTransport, RemoteError> {
        let SshSpec {
            host, port, user, ..
        } = spec;
        let port = *port;
        let bracketed = if host.contains(':') {
            format!("[{host}]")
        } else {
            host.clone()
        };
        let name = format!("{user}@{bracketed}:{port}");
        // How prompts name the server: "host" on the standard port, "host:port" otherwise.
        let label = if port == 22 {
            bracketed.clone()
        } else {
            format!("{bracketed}:{port}")
        };
        let unreachable = |reason: String| RemoteError::Unreachable {
            host: host.clone(),
            port,
            reason,
        };

        let addrs: Vec<_> = (host.as_str(), port)
            .to_socket_addrs()
            .map_err(|e| unreachable(format!("the name does not resolve ({e})")))?
            .collect();
        let mut last_err = "the name resolves to no address".to_string();
        let mut stream = None;
        for addr in addrs {
            match TcpStream::connect_timeout(&addr, opts.connect_timeout) {
                Ok(s) => {
                    stream = Some(s);
                    break;
                }
                Err(e) => last_err = describe_connect_error(&e, opts.connect_timeout),
            }
        }
        let stream = stream.ok_or_else(|| unreachable(last_err))?;
        let _ = stream.set_nodelay(true);
        let fd = stream.as_raw_fd();

        let mut sess = Session::new().map_err(|e| RemoteError::Handshake {
            host: host.clone(),
            port,
            reason: e.to_string(),
        })?;
        sess.set_timeout(opts.connect_timeout.as_millis().clamp(1, u32::MAX as u128) as u32);
        sess.set_tcp_stream(stream);

        let known_files = opts.all_known_hosts_files();
        let prefs = hostkey::algorithm_preference(&sess, &known_files, host, port)?;
        if !prefs.is_empty() {
            let _ = sess.method_pref(ssh2::MethodType::HostKey, &prefs);
        }
        sess.handshake().map_err(|e| {
            let reason = if e.code() == ssh2::ErrorCode::Session(-9) {
                format!(
                    "no SSH answer within {}s",
                    opts.connect_timeout.as_secs_f64()
                )
            } else {
                e.message().to_string()
            };
            RemoteError::Handshake {
                host: host.clone(),
                port,
                reason,
            }
        })?;

        // Host key: decided before anything about the user is sent.
        let (blob, kind) = sess.host_key().ok_or_else(|| RemoteError::Handshake {
            host: host.clone(),
            port,
            reason: "the server sent no host key".into(),
        })?;
        let key_type = hostkey::key_type_name(kind).to_string();
        let blob = blob.to_vec();
        let host_key = HostKeyInfo::from_blob(&key_type, &blob);
        match hostkey::verify(&sess, &known_files, host, port, &key_type, &blob)? {
            Verdict::Known => {}
            Verdict::Changed(line) => {
                return Err(RemoteError::HostKeyChanged {
                    host: host.clone(),
                    port,
                    key_type,
                    expected_fingerprint: hostkey::fingerprint_of_b64(&line.key),
                    actual_fingerprint: host_key.fingerprint,
                    known_hosts_file: line.file,
                    line: line.line,
                })
            }
            Verdict::Unknown if opts.accept_new_host_key => {
                hostkey::accept_host_key(
                    &opts.app_known_hosts_file,
                    host,
                    port,
                    &key_type,
                    &host_key.key,
                )?;
                log::info!(
                    "stored the new {key_type} host key of {host}:{port} ({}) in {}",
                    host_key.fingerprint,
                    opts.app_known_hosts_file.display()
                );
            }
            Verdict::Unknown => {
                return Err(RemoteError::UnknownHostKey {
                    host: host.clone(),
                    port,
                    key_type,
                    fingerprint: host_key.fingerprint,
                    key: host_key.key,
                })
            }
        }

        auth::authenticate(&auth::AuthRequest {
            sess: &sess,
            user,
            host,
            label: &label,
            opts,
            ask,
            config_identities: &spec.config_identity_files,
        })?;
        log::debug!("logged in to {name}");

        sess.set_blocking(false);
        Ok(SshTransport {
            shared: Arc::new(Shared {
                sess,
                fd,
                name,
                open_lock: std::sync::Mutex::new(()),
            }),
            host_key,
        })
    }

    /// The server's host key (already verified).
    pub fn host_key(&self) -> &HostKeyInfo {
        &self.host_key
    }

    fn ssh_err(&self, action: &str, e: Option<ssh2::Error>) -> RemoteError {
        RemoteError::Ssh {
            host: self.shared.name.clone(),
            action: action.to_string(),
            reason: e
                .map(|e| e.message().to_string())
                .unwrap_or_else(|| "no answer in time".into()),
        }
    }
}

fn describe_connect_error(e: &std::io::Error, timeout: Duration) -> String {
    use std::io::ErrorKind::*;
    match e.kind() {
        ConnectionRefused => "connection refused".into(),
        TimedOut | WouldBlock => format!("no answer within {}s", timeout.as_secs_f64()),
        _ => match e.raw_os_error() {
            Some(libc::EHOSTUNREACH) => "no route to host".into(),
            Some(libc::ENETUNREACH) => "network unreachable".into(),
            _ => e.to_string(),
        },
    }
}

impl Transport for SshTransport {
    fn describe(&self) -> &str {
        &self.shared.name
    }

    fn exec(
        &self,
        command: &str,
        stdin: Option<&[u8]>,
        timeout: Duration,
    ) -> Result<ExecOutput, RemoteError> {
        let sh = &*self.shared;
        let (sess, fd) = (&sh.sess, sh.fd);
        let started = Instant::now();
        let deadline = started + timeout;
        let timed_out = || RemoteError::Timeout {
            host: sh.name.clone(),
            command: command.to_string(),
            after: timeout,
        };

        // Open and start under the lock: see `Shared::open_lock`.
        let mut ch = {
            let _opening = sh.lock_open();
            let mut ch = match retry(sess, fd, deadline, || sess.channel_session()) {
                Ok(ch) => ch,
                Err(None) => return Err(timed_out()),
                Err(e) => {
                    return Err(self.ssh_err(&format!("opening a channel for `{command}`"), e))
                }
            };
            match retry(sess, fd, deadline, || ch.exec(command)) {
                Ok(()) => {}
                Err(None) => return Err(timed_out()),
                Err(e) => return Err(self.ssh_err(&format!("starting `{command}`"), e)),
            }
            ch
        };

        let input = stdin.unwrap_or(&[]);
        let mut written = 0usize;
        let mut eof_sent = false;
        let mut stdout = Vec::new();
        let mut stderr = Vec::new();
        let mut buf = vec![0u8; 32 * 1024];
        let mut err_stream = ch.stderr();
        let mut write_blocked = false;
        loop {
            let mut progressed = false;
            if written < input.len() {
                write_blocked = false;
                match ch.write(&input[written..]) {
                    Ok(n) => {
                        written += n;
                        progressed |= n > 0;
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => write_blocked = true,
                    // The command closed its input (exited early): the rest is not wanted.
                    Err(_) => written = input.len(),
                }
            }
            if written >= input.len() && !eof_sent {
                match ch.send_eof() {
                    Ok(()) => {
                        eof_sent = true;
                        progressed = true;
                    }
                    Err(e) if is_eagain(&e) => {}
                    Err(_) => eof_sent = true,
                }
            }
            for (stream_out, is_err) in [(&mut stdout, false), (&mut stderr, true)] {
                loop {
                    let r = if is_err {
                        err_stream.read(&mut buf)
                    } else {
                        ch.read(&mut buf)
                    };
                    match r {
                        Ok(0) => break,
                        Ok(n) => {
                            stream_out.extend_from_slice(&buf[..n]);
                            progressed = true;
                        }
                        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                        Err(e) => {
                            return Err(RemoteError::Ssh {
                                host: sh.name.clone(),
                                action: format!("reading the output of `{command}`"),
                                reason: e.to_string(),
                            })
                        }
                    }
                }
            }
            if ch.eof() {
                // Unread input is not wanted by a command that has finished, but a packet
                // libssh2 already began sending must be completed first.
                if write_blocked {
                    finish_pending_write(sess, fd, &mut ch, &input[written..]);
                }
                break;
            }
            if !progressed {
                let now = Instant::now();
                if now >= deadline {
                    if write_blocked {
                        finish_pending_write(sess, fd, &mut ch, &input[written..]);
                    }
                    close_quietly(sess, fd, &mut ch);
                    return Err(timed_out());
                }
                wait_socket(sess, fd, &[], POLL_SLICE.min(deadline - now));
            }
        }
        // EOF seen: the exit status follows right behind it. Allow a little past the deadline.
        let close_deadline = deadline.max(Instant::now() + Duration::from_secs(5));
        match retry(sess, fd, close_deadline, || ch.wait_close()) {
            Ok(()) => {}
            Err(None) => return Err(timed_out()),
            Err(e) => return Err(self.ssh_err(&format!("finishing `{command}`"), e)),
        }
        let mut status = ch.exit_status().unwrap_or(-1);
        if let Ok(sig) = ch.exit_signal() {
            if let Some(name) = sig.exit_signal {
                status = 128 + signal_number(&name);
            }
        }
        Ok(ExecOutput {
            status,
            stdout,
            stderr,
        })
    }

    fn tunnel(&self, host: &str, port: u16) -> Result<Tunnel, RemoteError> {
        tunnel::start(Arc::clone(&self.shared), host, port)
    }
}

/// libssh2 sends a channel's data packet over several calls when the socket is full, and until
/// that packet is complete every other send on the session gets EAGAIN. So a channel whose write
/// was interrupted must be written again (same data) until the packet is out before it is
/// abandoned, or the whole session wedges. A write blocked only by a zero window has no packet
/// in flight and can be dropped.
pub(crate) fn finish_pending_write(sess: &Session, fd: RawFd, ch: &mut ssh2::Channel, data: &[u8]) {
    if data.is_empty() {
        return;
    }
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        match ch.write(data) {
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                if ch.write_window().remaining == 0 || Instant::now() >= deadline {
                    return;
                }
                wait_socket(sess, fd, &[], POLL_SLICE);
            }
            _ => return,
        }
    }
}

/// Closes a channel without waiting long (used on timeout).
pub(crate) fn close_quietly(sess: &Session, fd: RawFd, ch: &mut ssh2::Channel) {
    let deadline = Instant::now() + Duration::from_millis(500);
    let _ = retry(sess, fd, deadline, || ch.close());
}

fn signal_number(name: &str) -> i32 {
    match name.trim_start_matches("SIG") {
        "HUP" => 1,
        "INT" => 2,
        "QUIT" => 3,
        "ILL" => 4,
        "ABRT" => 6,
        "FPE" => 8,
        "KILL" => 9,
        "USR1" => 10,
        "SEGV" => 11,
        "USR2" => 12,
        "PIPE" => 13,
        "ALRM" => 14,
        "TERM" => 15,
        _ => 0,
    }
}
