//! The local transport: the app running on the Odoo server itself. Commands run as `sh -c` in
//! their own process group, so a timeout kills the whole pipeline, not just the shell.

use std::io::{Read, Write};
use std::net::{SocketAddr, ToSocketAddrs};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use crate::transport::{ExecOutput, Transport, Tunnel};
use crate::RemoteError;

/// Runs commands on this machine.
#[derive(Debug, Default)]
pub struct LocalTransport {
    _private: (),
}

impl LocalTransport {
    pub fn new() -> Self {
        LocalTransport { _private: () }
    }
}

impl Transport for LocalTransport {
    fn describe(&self) -> &str {
        "local"
    }

    fn exec(
        &self,
        command: &str,
        stdin: Option<&[u8]>,
        timeout: Duration,
    ) -> Result<ExecOutput, RemoteError> {
        let mut child = Command::new("/bin/sh")
            .arg("-c")
            .arg(command)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0)
            .spawn()
            .map_err(|e| RemoteError::io(format!("cannot start /bin/sh for `{command}`"), e))?;
        let pid = child.id() as i32;

        let mut child_stdin = child.stdin.take().expect("piped stdin");
        let input = stdin.map(|s| s.to_vec()).unwrap_or_default();
        // Writing, reading stdout and reading stderr each get a thread so none can block another.
        let writer = thread::spawn(move || {
            // A command that exits without reading its input gives EPIPE: not our error.
            let _ = child_stdin.write_all(&input);
        });
        let mut out = child.stdout.take().expect("piped stdout");
        let mut err = child.stderr.take().expect("piped stderr");
        let out_reader = thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = out.read_to_end(&mut buf);
            buf
        });
        let err_reader = thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = err.read_to_end(&mut buf);
            buf
        });

        let (tx, rx) = mpsc::channel();
        let waiter = thread::spawn(move || {
            let status = child.wait();
            let _ = tx.send(());
            status
        });
        let timed_out = match rx.recv_timeout(timeout) {
            Ok(()) => false,
            Err(_) => {
                // SAFETY: plain kill(2) on the process group we created.
                unsafe { libc::kill(-pid, libc::SIGKILL) };
                true
            }
        };
        let status = waiter.join().expect("waiter thread");
        if timed_out {
            // Leftover grandchildren were in the group too; the pipes close and readers end.
            let _ = writer.join();
            let _ = out_reader.join();
            let _ = err_reader.join();
            return Err(RemoteError::Timeout {
                host: "local".into(),
                command: command.to_string(),
                after: timeout,
            });
        }
        let status = status.map_err(|e| RemoteError::io(format!("waiting for `{command}`"), e))?;
        // The shell has exited; a background process it left may still hold the pipes open.
        // Kill the rest of its group so reading ends (a daemon that wants to outlive us uses setsid).
        unsafe { libc::kill(-pid, libc::SIGKILL) };
        let _ = writer.join();
        let stdout = out_reader.join().unwrap_or_default();
        let stderr = err_reader.join().unwrap_or_default();
        let status = match (status.code(), status.signal()) {
            (Some(code), _) => code,
            (None, Some(sig)) => 128 + sig,
            (None, None) => -1,
        };
        Ok(ExecOutput {
            status,
            stdout,
            stderr,
        })
    }

    fn tunnel(&self, host: &str, port: u16) -> Result<Tunnel, RemoteError> {
        let addr: SocketAddr = (host, port)
            .to_socket_addrs()
            .map_err(|e| RemoteError::io(format!("cannot resolve {host}:{port}"), e))?
            .next()
            .ok_or_else(|| RemoteError::Unreachable {
                host: host.to_string(),
                port,
                reason: "the name resolves to no address".into(),
            })?;
        Ok(Tunnel::direct(addr))
    }
}
