//! The transport trait: the only two things a connection to a host must do.
//!
//! Everything else — files, stat, atomic writes, sudo, quoting — is built once on top of `exec`
//! in [`crate::Host`], so SSH and the local machine behave identically and a third transport
//! (a container, a test double) costs two methods. What is deliberately left out: SFTP, PTYs,
//! environment setting, port forwarding from the host back to us. None is needed to diagnose and
//! fix an Odoo server, and each would be one more thing to keep equal between transports.

use std::net::SocketAddr;
use std::time::Duration;

use crate::RemoteError;

/// A way to run `/bin/sh` command strings on a host and to reach TCP ports as the host sees them.
pub trait Transport: Send + Sync {
    /// `root@127.0.0.1:2222` or `local`: names the host in error messages.
    fn describe(&self) -> &str;

    /// Runs `command` with `/bin/sh` on the host, feeding `stdin` (then end-of-file) and
    /// collecting both outputs. A non-zero exit is not an error here. After `timeout` the command
    /// is abandoned (killed where the transport can) and [`RemoteError::Timeout`] returned.
    fn exec(
        &self,
        command: &str,
        stdin: Option<&[u8]>,
        timeout: Duration,
    ) -> Result<ExecOutput, RemoteError>;

    /// A local TCP address that reaches `host:port` as seen from the host.
    fn tunnel(&self, host: &str, port: u16) -> Result<Tunnel, RemoteError>;
}

/// What a command produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecOutput {
    /// Exit status; 128 + signal number when the command was killed by a signal.
    pub status: i32,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
}

/// A TCP address on this machine that reaches a port on the host. For SSH it is a loopback
/// listener whose connections are forwarded over the session (direct-tcpip); dropping the
/// `Tunnel` stops the listener and closes its connections. For the local transport it is the
/// target address itself.
pub struct Tunnel {
    addr: SocketAddr,
    // In a Mutex only to make the handle Sync (it is taken once, in Drop).
    stop: std::sync::Mutex<Option<Box<dyn FnOnce() + Send>>>,
}

impl Tunnel {
    /// A "tunnel" that is just the address (local transport).
    pub fn direct(addr: SocketAddr) -> Self {
        Tunnel {
            addr,
            stop: std::sync::Mutex::new(None),
        }
    }

    /// A tunnel served by something that `stop` shuts down.
    pub fn served(addr: SocketAddr, stop: Box<dyn FnOnce() + Send>) -> Self {
        Tunnel {
            addr,
            stop: std::sync::Mutex::new(Some(stop)),
        }
    }

    /// Where to connect (e.g. give `host()`/`port()` of this to the `postgres` crate).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }
}

impl std::fmt::Debug for Tunnel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tunnel")
            .field("addr", &self.addr)
            .field(
                "served",
                &self.stop.lock().map(|s| s.is_some()).unwrap_or(false),
            )
            .finish()
    }
}

impl Drop for Tunnel {
    fn drop(&mut self) {
        let stop = match self.stop.get_mut() {
            Ok(s) => s.take(),
            Err(poisoned) => poisoned.into_inner().take(),
        };
        if let Some(stop) = stop {
            stop();
        }
    }
}
