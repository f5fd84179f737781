//! The SSH transport (libssh2 through the `ssh2` crate).
//!
//! Connect: TCP with a timeout → key exchange offering host-key types already known for this
//! host first → host key checked against every known-hosts file (unknown and changed keys stop
//! here, before any credential is sent) → login (agent, key files, password). All of that runs
//! on the caller's thread in blocking mode.
//!
//! Then the session goes non-blocking and moves into its own **I/O thread** (module `io`) for
//! the rest of its life: that thread owns the `Session` and every `Channel`, and is the only
//! code that calls libssh2. `exec` sends its command (and stdin) to it over a std channel and
//! waits for the reply; `tunnel` hands it a loopback listener, whose connections it pumps. One
//! session serves an exec, the database tunnel and the HTTP tunnel at once (a diagnosis does
//! exactly that) without two callers ever interleaving libssh2 calls: libssh2 keeps one partly
//! sent packet per session, and the thread never lets a call return while one is pending (the
//! invariant is spelled out in module `io`). Dropping the transport and its last tunnel ends
//! the thread, which says goodbye to the server and frees the session.

mod auth;
mod exec;
pub mod hostkey;
mod io;
mod tunnel;

use std::net::{TcpStream, ToSocketAddrs};
use std::os::unix::io::AsRawFd;
use std::path::PathBuf;
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use ssh2::Session;

use crate::secret::Ask;
use crate::transport::{ExecOutput, Transport, Tunnel};
use crate::{ConnectOptions, RemoteError};
use hostkey::{HostKeyInfo, Verdict};

/// Where and as whom to log in (already resolved through the SSH config).
#[derive(Debug, Clone)]
pub struct SshSpec {
    pub host: String,
    pub port: u16,
    pub user: String,
    /// Key files named by the SSH config for this host.
    pub config_identity_files: Vec<PathBuf>,
}

/// A logged-in SSH session.
pub struct SshTransport {
    io: Arc<io::Handle>,
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
        let io = io::spawn(sess, fd, name)?;
        Ok(SshTransport {
            io: Arc::new(io),
            host_key,
        })
    }

    /// The server's host key (already verified).
    pub fn host_key(&self) -> &HostKeyInfo {
        &self.host_key
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
        &self.io.name
    }

    fn exec(
        &self,
        command: &str,
        stdin: Option<&[u8]>,
        timeout: Duration,
    ) -> Result<ExecOutput, RemoteError> {
        let gone = || RemoteError::Ssh {
            host: self.io.name.clone(),
            action: format!("running `{command}`"),
            reason: "the connection is closed".into(),
        };
        let (reply, answer) = mpsc::sync_channel(1);
        let job = exec::Job {
            command: command.to_string(),
            stdin: stdin.map(<[u8]>::to_vec).unwrap_or_default(),
            timeout,
            started: Instant::now(),
            reply,
        };
        if !self.io.send(io::Request::Exec(job)) {
            return Err(gone());
        }
        answer.recv().unwrap_or_else(|_| Err(gone()))
    }

    fn tunnel(&self, host: &str, port: u16) -> Result<Tunnel, RemoteError> {
        tunnel::start(&self.io, host, port)
    }
}
