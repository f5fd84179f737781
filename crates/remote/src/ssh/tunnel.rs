//! A loopback TCP listener whose connections are forwarded to `host:port` as the SSH server sees
//! it (direct-tcpip channels). The listener, its connections and their channels belong to the
//! connection's I/O thread (see [`super::io`]), which moves the bytes both ways; the `Tunnel`
//! handle asks it to stop them on drop and waits until the listener is closed.
//!
//! The first channel is opened before `tunnel()` returns, so a port the server cannot reach is
//! reported there and then, not as a mysterious reset at the first query; that channel serves
//! the first connection.

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::os::unix::io::AsRawFd;
use std::sync::mpsc::{self, SyncSender};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ssh2::Channel;

use super::io::{Handle, Link, Open, OpenKind, Opens, Purpose, Request, SshResult};
use crate::transport::Tunnel;
use crate::RemoteError;

pub(crate) const OPEN_TIMEOUT: Duration = Duration::from_secs(20);

/// A tunnel asked for: its listener, where it goes, and who waits for the first channel.
pub(crate) struct OpenTunnel {
    pub listener: TcpListener,
    pub host: String,
    pub port: u16,
    pub reply: SyncSender<Result<u64, RemoteError>>,
}

impl OpenTunnel {
    pub fn unreachable(&self, link: &Link, e: Option<ssh2::Error>) -> RemoteError {
        let reason = match (e, link.lost()) {
            (_, Some(lost)) => format!("{} lost the connection ({lost})", link.name),
            (Some(e), None) => format!(
                "{} cannot open a connection to it ({})",
                link.name,
                e.message()
            ),
            (None, None) => format!("{} did not open a connection to it in time", link.name),
        };
        RemoteError::Unreachable {
            host: self.host.clone(),
            port: self.port,
            reason,
        }
    }
}

pub(crate) fn start(io: &Arc<Handle>, host: &str, port: u16) -> Result<Tunnel, RemoteError> {
    let listener = TcpListener::bind(("127.0.0.1", 0))
        .map_err(|e| RemoteError::io("cannot open a loopback port for the tunnel", e))?;
    listener
        .set_nonblocking(true)
        .map_err(|e| RemoteError::io("cannot set up the tunnel listener", e))?;
    let addr: SocketAddr = listener
        .local_addr()
        .map_err(|e| RemoteError::io("cannot set up the tunnel listener", e))?;
    let gone = || RemoteError::Unreachable {
        host: host.to_string(),
        port,
        reason: format!("the SSH connection {} is closed", io.name),
    };
    let (reply, answer) = mpsc::sync_channel(1);
    let req = Request::OpenTunnel(OpenTunnel {
        listener,
        host: host.to_string(),
        port,
        reply,
    });
    if !io.send(req) {
        return Err(gone());
    }
    let id = answer.recv().map_err(|_| gone())??;
    let io = Arc::clone(io);
    Ok(Tunnel::served(
        addr,
        Box::new(move || {
            let (done, wait) = mpsc::sync_channel(1);
            if io.send(Request::CloseTunnel { id, done }) {
                let _ = wait.recv();
            }
        }),
    ))
}

/// A tunnel as the I/O thread keeps it.
pub(crate) struct TunnelState {
    pub id: u64,
    pub host: String,
    pub port: u16,
    listener: TcpListener,
    /// Opened ahead (the first one, by `tunnel()`), for the next connection.
    spare: Option<Channel>,
    pub conns: Vec<Conn>,
}

impl TunnelState {
    pub fn new(id: u64, t: OpenTunnel, first: Channel) -> TunnelState {
        TunnelState {
            id,
            host: t.host,
            port: t.port,
            listener: t.listener,
            spare: Some(first),
            conns: Vec::new(),
        }
    }

    /// Closes the listener and every connection; their channels go to `closing`.
    pub fn stop(mut self, closing: &mut Vec<Channel>) {
        for conn in self.conns.drain(..) {
            let _ = conn.sock.shutdown(Shutdown::Both);
            closing.push(conn.ch);
        }
        closing.extend(self.spare.take());
        // The listener closes when `self` is dropped, here.
    }

    /// The connection is gone: drop the channels (libssh2 sends nothing on a dead socket).
    pub fn drop_channels(&mut self) {
        for conn in self.conns.drain(..) {
            let _ = conn.sock.shutdown(Shutdown::Both);
        }
        self.spare = None;
    }

    /// With the connection gone, new clients are refused (accepted and closed).
    pub fn refuse(&mut self) -> bool {
        let mut any = false;
        while let Ok((sock, _)) = self.listener.accept() {
            drop(sock);
            any = true;
        }
        any
    }

    /// Whether a step would move something now (see `IoLoop::wait`).
    pub fn ready(&self) -> bool {
        self.conns.iter().any(Conn::ready)
    }

    pub fn has_channels(&self) -> bool {
        self.spare.is_some() || !self.conns.is_empty()
    }

    pub fn channels(&mut self) -> impl Iterator<Item = &mut Channel> {
        self.spare
            .iter_mut()
            .chain(self.conns.iter_mut().map(|c| &mut c.ch))
    }

    pub fn poll_fds(&self, fds: &mut Vec<libc::pollfd>) {
        fds.push(super::io::pollfd(self.listener.as_raw_fd(), libc::POLLIN));
        for c in &self.conns {
            let mut ev = 0;
            if c.to_remote.is_empty() && !c.sock_eof {
                ev |= libc::POLLIN;
            }
            if !c.to_local.is_empty() {
                ev |= libc::POLLOUT;
            }
            if ev != 0 {
                fds.push(super::io::pollfd(c.sock.as_raw_fd(), ev));
            }
        }
    }

    /// Accepts new clients, moves bytes, retires finished connections.
    pub fn step(
        &mut self,
        link: &Link,
        buf: &mut [u8],
        opens: &mut Opens,
        closing: &mut Vec<Channel>,
    ) -> bool {
        let mut progressed = false;
        // The channel opened ahead may have been closed by the far end (e.g. PostgreSQL's
        // authentication_timeout) while nobody used it.
        if self.spare.as_ref().is_some_and(|ch| ch.eof()) {
            closing.extend(self.spare.take());
            progressed = true;
        }
        loop {
            match self.listener.accept() {
                Ok((sock, _peer)) => {
                    progressed = true;
                    if sock.set_nonblocking(true).is_err() {
                        continue;
                    }
                    let _ = sock.set_nodelay(true);
                    match self.spare.take() {
                        Some(ch) => self.conns.push(Conn::new(sock, ch)),
                        None => opens.push(Open {
                            kind: OpenKind::Direct {
                                host: self.host.clone(),
                                port: self.port,
                            },
                            purpose: Some(Purpose::Conn {
                                tunnel: self.id,
                                sock,
                            }),
                            deadline: Instant::now() + OPEN_TIMEOUT,
                        }),
                    }
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(_) => break,
            }
        }
        for conn in &mut self.conns {
            progressed |= conn.pump(link, buf);
        }
        let mut i = 0;
        while i < self.conns.len() {
            if self.conns[i].done() {
                let conn = self.conns.swap_remove(i);
                let _ = conn.sock.shutdown(Shutdown::Both);
                closing.push(conn.ch);
                progressed = true;
            } else {
                i += 1;
            }
        }
        progressed
    }
}

/// One forwarded connection: a local socket and its channel.
pub(crate) struct Conn {
    sock: TcpStream,
    ch: Channel,
    to_remote: Vec<u8>,
    to_local: Vec<u8>,
    sock_eof: bool,
    eof_sent: bool,
    ch_eof: bool,
    local_shut: bool,
    failed: bool,
}

impl Conn {
    pub fn new(sock: TcpStream, ch: Channel) -> Conn {
        Conn {
            sock,
            ch,
            to_remote: Vec::new(),
            to_local: Vec::new(),
            sock_eof: false,
            eof_sent: false,
            ch_eof: false,
            local_shut: false,
            failed: false,
        }
    }

    fn ready(&self) -> bool {
        (self.to_local.is_empty()
            && !self.ch_eof
            && (self.ch.read_window().available > 0 || self.ch.eof()))
            || (!self.to_remote.is_empty() && self.ch.write_window().remaining > 0)
    }

    fn done(&self) -> bool {
        self.failed
            || (self.sock_eof && self.eof_sent && self.ch_eof && self.to_local.is_empty())
            || (self.ch_eof && self.to_local.is_empty() && self.local_shut && self.sock_eof)
    }

    /// Moves what can move without waiting; returns whether anything did.
    fn pump(&mut self, link: &Link, buf: &mut [u8]) -> bool {
        let mut progressed = false;
        let ch = &mut self.ch;
        // local → remote
        if self.to_remote.is_empty() && !self.sock_eof {
            match self.sock.read(buf) {
                Ok(0) => {
                    self.sock_eof = true;
                    progressed = true;
                }
                Ok(n) => {
                    self.to_remote.extend_from_slice(&buf[..n]);
                    progressed = true;
                }
                Err(e)
                    if e.kind() == ErrorKind::WouldBlock || e.kind() == ErrorKind::Interrupted => {}
                Err(_) => {
                    self.failed = true;
                    return true;
                }
            }
        }
        // Only into an open window: see the module doc of `io`.
        if !self.to_remote.is_empty() && ch.write_window().remaining > 0 {
            let data = &self.to_remote;
            match link.call(|| ch.write(data)) {
                Ok(n) => {
                    self.to_remote.drain(..n);
                    progressed |= n > 0;
                }
                Err(e) if e.would_block() => {}
                Err(_) => {
                    self.failed = true;
                    return true;
                }
            }
        }
        if self.sock_eof && self.to_remote.is_empty() && !self.eof_sent {
            match link.call(|| ch.send_eof()) {
                Ok(()) => {
                    self.eof_sent = true;
                    progressed = true;
                }
                Err(e) if e.would_block() => {}
                Err(_) => self.eof_sent = true,
            }
        }
        // remote → local
        if self.to_local.is_empty() && !self.ch_eof {
            match link.call(|| ch.read(buf)) {
                Ok(0) => {
                    if ch.eof() {
                        self.ch_eof = true;
                        progressed = true;
                    }
                }
                Ok(n) => {
                    self.to_local.extend_from_slice(&buf[..n]);
                    progressed = true;
                }
                Err(e) if e.would_block() => {
                    if ch.eof() {
                        self.ch_eof = true;
                        progressed = true;
                    }
                }
                Err(_) => {
                    self.failed = true;
                    return true;
                }
            }
        }
        if !self.to_local.is_empty() {
            match self.sock.write(&self.to_local) {
                Ok(n) => {
                    self.to_local.drain(..n);
                    progressed |= n > 0;
                }
                Err(e)
                    if e.kind() == ErrorKind::WouldBlock || e.kind() == ErrorKind::Interrupted => {}
                Err(_) => {
                    self.failed = true;
                    return true;
                }
            }
        }
        if self.ch_eof && self.to_local.is_empty() && !self.local_shut {
            let _ = self.sock.shutdown(Shutdown::Write);
            self.local_shut = true;
            progressed = true;
        }
        progressed
    }
}
