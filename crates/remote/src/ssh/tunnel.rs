//! A loopback TCP listener whose connections are forwarded to `host:port` as the SSH server sees
//! it (direct-tcpip channels). One pump thread per tunnel serves every connection, moving bytes
//! both ways with the session in non-blocking mode; the `Tunnel` handle stops it on drop.
//!
//! The first channel is opened before `tunnel()` returns, so a port the server cannot reach is
//! reported there and then, not as a mysterious reset at the first query; that channel serves
//! the first connection.

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::os::unix::io::AsRawFd;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use ssh2::Channel;

use super::io::{is_eagain, retry, wait_socket, POLL_SLICE};
use super::{close_quietly, finish_pending_write, Shared};
use crate::transport::Tunnel;
use crate::RemoteError;

const OPEN_TIMEOUT: Duration = Duration::from_secs(20);
const CHUNK: usize = 32 * 1024;

pub(crate) fn start(shared: Arc<Shared>, host: &str, port: u16) -> Result<Tunnel, RemoteError> {
    let first = open_channel(&shared, host, port)?;
    let listener = TcpListener::bind(("127.0.0.1", 0))
        .map_err(|e| RemoteError::io("cannot open a loopback port for the tunnel", e))?;
    listener
        .set_nonblocking(true)
        .map_err(|e| RemoteError::io("cannot set up the tunnel listener", e))?;
    let addr = listener
        .local_addr()
        .map_err(|e| RemoteError::io("cannot set up the tunnel listener", e))?;
    let stop = Arc::new(AtomicBool::new(false));
    let pump = Pump {
        shared,
        listener,
        host: host.to_string(),
        port,
        spare: Some(first),
        conns: Vec::new(),
        stop: Arc::clone(&stop),
    };
    let handle = thread::Builder::new()
        .name(format!("osd-tunnel-{host}:{port}"))
        .spawn(move || pump.run())
        .map_err(|e| RemoteError::io("cannot start the tunnel thread", e))?;
    Ok(Tunnel::served(
        addr,
        Box::new(move || {
            stop.store(true, Ordering::SeqCst);
            // Wake the pump if it is waiting in poll.
            let _ = TcpStream::connect_timeout(&addr, Duration::from_millis(200));
            let _ = handle.join();
        }),
    ))
}

fn open_channel(shared: &Shared, host: &str, port: u16) -> Result<Channel, RemoteError> {
    let deadline = Instant::now() + OPEN_TIMEOUT;
    let _opening = shared.lock_open();
    retry(&shared.sess, shared.fd, deadline, || {
        shared.sess.channel_direct_tcpip(host, port, None)
    })
    .map_err(|e| RemoteError::Unreachable {
        host: host.to_string(),
        port,
        reason: match e {
            Some(e) => format!(
                "{} cannot open a connection to it ({})",
                shared.name,
                e.message()
            ),
            None => format!("{} did not open a connection to it in time", shared.name),
        },
    })
}

struct Conn {
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
    fn done(&self) -> bool {
        self.failed
            || (self.sock_eof && self.eof_sent && self.ch_eof && self.to_local.is_empty())
            || (self.ch_eof && self.to_local.is_empty() && self.local_shut && self.sock_eof)
    }

    /// Moves what can move without waiting; returns whether anything did.
    fn pump(&mut self, buf: &mut [u8]) -> bool {
        let mut progressed = false;
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
        if !self.to_remote.is_empty() {
            match self.ch.write(&self.to_remote) {
                Ok(n) => {
                    self.to_remote.drain(..n);
                    progressed |= n > 0;
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => {}
                Err(_) => {
                    self.failed = true;
                    return true;
                }
            }
        }
        if self.sock_eof && self.to_remote.is_empty() && !self.eof_sent {
            match self.ch.send_eof() {
                Ok(()) => {
                    self.eof_sent = true;
                    progressed = true;
                }
                Err(e) if is_eagain(&e) => {}
                Err(_) => self.eof_sent = true,
            }
        }
        // remote → local
        if self.to_local.is_empty() && !self.ch_eof {
            match self.ch.read(buf) {
                Ok(0) => {
                    if self.ch.eof() {
                        self.ch_eof = true;
                        progressed = true;
                    }
                }
                Ok(n) => {
                    self.to_local.extend_from_slice(&buf[..n]);
                    progressed = true;
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => {
                    if self.ch.eof() {
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

struct Pump {
    shared: Arc<Shared>,
    listener: TcpListener,
    host: String,
    port: u16,
    spare: Option<Channel>,
    conns: Vec<Conn>,
    stop: Arc<AtomicBool>,
}

impl Pump {
    fn run(mut self) {
        let mut buf = vec![0u8; CHUNK];
        while !self.stop.load(Ordering::SeqCst) {
            // The pre-opened channel may have been closed by the far end (e.g. PostgreSQL's
            // authentication_timeout) while nobody used it.
            if self.spare.as_ref().is_some_and(|ch| ch.eof()) {
                let mut ch = self.spare.take().unwrap();
                close_quietly(&self.shared.sess, self.shared.fd, &mut ch);
            }
            let mut progressed = self.accept();
            for conn in &mut self.conns {
                progressed |= conn.pump(&mut buf);
            }
            let (sess, fd) = (&self.shared.sess, self.shared.fd);
            let mut i = 0;
            while i < self.conns.len() {
                if self.conns[i].done() {
                    let mut conn = self.conns.swap_remove(i);
                    finish_pending_write(sess, fd, &mut conn.ch, &conn.to_remote);
                    close_quietly(sess, fd, &mut conn.ch);
                    let _ = conn.sock.shutdown(Shutdown::Both);
                    progressed = true;
                } else {
                    i += 1;
                }
            }
            if !progressed {
                let mut extra: Vec<(i32, i16)> = vec![(self.listener.as_raw_fd(), libc::POLLIN)];
                for c in &self.conns {
                    let mut ev = 0;
                    if c.to_remote.is_empty() && !c.sock_eof {
                        ev |= libc::POLLIN;
                    }
                    if !c.to_local.is_empty() {
                        ev |= libc::POLLOUT;
                    }
                    if ev != 0 {
                        extra.push((c.sock.as_raw_fd(), ev));
                    }
                }
                wait_socket(sess, fd, &extra, POLL_SLICE);
            }
        }
        let (sess, fd) = (&self.shared.sess, self.shared.fd);
        for conn in &mut self.conns {
            finish_pending_write(sess, fd, &mut conn.ch, &conn.to_remote);
            close_quietly(sess, fd, &mut conn.ch);
            let _ = conn.sock.shutdown(Shutdown::Both);
        }
        if let Some(mut ch) = self.spare.take() {
            close_quietly(sess, fd, &mut ch);
        }
    }

    fn accept(&mut self) -> bool {
        let mut progressed = false;
        loop {
            match self.listener.accept() {
                Ok((sock, _peer)) => {
                    progressed = true;
                    if self.stop.load(Ordering::SeqCst) {
                        return true;
                    }
                    if sock.set_nonblocking(true).is_err() {
                        continue;
                    }
                    let _ = sock.set_nodelay(true);
                    let ch = match self.spare.take() {
                        Some(ch) => ch,
                        None => match open_channel(&self.shared, &self.host, self.port) {
                            Ok(ch) => ch,
                            Err(e) => {
                                log::warn!("tunnel to {}:{}: {e}", self.host, self.port);
                                continue; // dropping the socket refuses this connection
                            }
                        },
                    };
                    self.conns.push(Conn {
                        sock,
                        ch,
                        to_remote: Vec::new(),
                        to_local: Vec::new(),
                        sock_eof: false,
                        eof_sent: false,
                        ch_eof: false,
                        local_shut: false,
                        failed: false,
                    });
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => return progressed,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(_) => return progressed,
            }
        }
    }
}
