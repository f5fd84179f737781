//! The I/O thread: after login, the only code that touches the libssh2 session.
//!
//! One thread per connection owns the [`Session`], every [`Channel`] opened on it (exec
//! channels, tunnel channels, channels being closed) and every tunnel's listener and accepted
//! sockets. Callers never see a channel: [`Handle::send`] hands a [`Request`] over a std channel
//! and wakes the thread through a socket pair; the exec caller then blocks on its own reply
//! channel, the tunnel's clients only ever talk to the loopback sockets. The thread runs a poll
//! loop: take new requests, step every task once (each step makes only non-blocking calls),
//! and when nothing moved, poll(2) the session's socket, the wake socket, the listeners and the
//! tunnel sockets until something can move or the next deadline.
//!
//! # The invariant
//!
//! libssh2 keeps ONE outgoing packet per session. When a call that sends returns EAGAIN with part
//! of its packet written, libssh2's contract is that the same call, with the same arguments, is
//! repeated until it completes, before anything else is sent: another call would either be told
//! EAGAIN forever (its data pointer differs from the pending one: a wedged session) or, when the
//! pointers happen to match (`channel_send_eof` builds its packet on the stack, so two channels'
//! EOFs from the same call site look identical), have the old packet completed on its behalf and
//! its own packet silently dropped. Reads send too (window adjustments, replies to requests),
//! and channel open, exec, EOF and close all send. Hence, enforced by [`Link::call`], the one
//! function every libssh2 call goes through:
//!
//! > **No libssh2 call returns to the scheduler while the session holds a partly sent packet.**
//! > A call that ends in EAGAIN with the session blocked outbound is repeated at once — the same
//! > closure from the same stack frame, so even stack-built packets have the same address —
//! > after waiting for the socket to take more, until the packet is out.
//!
//! Since only this thread calls libssh2 and every call leaves no packet half sent, no call can
//! ever find someone else's packet pending, and libssh2's per-session state is never seen
//! half-changed by another caller. Three more rules keep libssh2's other session-wide state
//! unambiguous:
//!
//! - Channel opens (`open_state`, `direct_state` live in the session) run one at a time; an open
//!   abandoned at its deadline is carried on to its end before the next one starts (its reply
//!   would otherwise be taken by the next open), and a channel it yields is closed.
//! - A channel write is attempted only with a non-zero window: libssh2's zero-window branch
//!   overwrites the session's block directions, which would hide a packet left half sent by a
//!   reply sent while it drained the transport.
//! - A channel is dropped (`libssh2_channel_free`) only on this thread, and only once its close
//!   has been sent (or the connection is gone): freeing an open channel sends a CLOSE from
//!   inside `Drop`, where nobody could repeat it. The `ssh2` crate's `Drop` for a channel does
//!   not even take the session lock; the old design dropped channels on exec and tunnel pump
//!   threads while other threads were inside libssh2, so two threads built packets in the one
//!   output buffer. OpenSSH then reports `Bad packet length` / `Connection corrupted` (as in the
//!   field), or `channel_input_data: … unexpected bytes remain after decoding` (as the lab's
//!   sshd did under `crates/remote/tests/load.rs`), and drops the connection.
//!
//! Waiting: data for every channel arrives on the one socket and only a libssh2 call reads it.
//! When the socket is readable the loop makes at least one reading call (a zero-length read, or
//! a close in progress) before polling again; with no channel and no open in progress the socket
//! is left out of the poll (nothing would take its bytes). A read made for one task can take
//! another task's packets off the socket after that task's step: before sleeping, the loop asks
//! libssh2 whether any running task already has data, EOF or window waiting (and goes round again
//! if so), and while tasks wait on the server it never sleeps longer than [`QUEUED_SLICE`].

use std::cell::RefCell;
use std::collections::VecDeque;
use std::io::{ErrorKind, Read, Write};
use std::os::unix::io::{AsRawFd, RawFd};
use std::os::unix::net::UnixStream;
use std::sync::mpsc::{self, Receiver, Sender, TryRecvError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use ssh2::{BlockDirections, Channel, ErrorCode, Session};

use super::exec::{Exec, Job};
use super::tunnel::{Conn, OpenTunnel, TunnelState};
use crate::RemoteError;

/// libssh2's "would block".
const LIBSSH2_ERROR_EAGAIN: i32 = -37;

/// libssh2 errors after which the connection is gone for good (socket and crypto failures).
const FATAL: &[i32] = &[
    -4,  // INVALID_MAC
    -7,  // SOCKET_SEND
    -12, // DECRYPT
    -13, // SOCKET_DISCONNECT
    -43, // SOCKET_RECV
    -44, // ENCRYPT
    -45, // BAD_SOCKET
    -52, // MAC_FAILURE
];

/// How long a half-sent packet may wait for the socket to take more before the connection is
/// given up (nothing else can be sent meanwhile).
const STALL_LIMIT: Duration = Duration::from_secs(30);
/// Longest single poll: only a safety net, every wake-up has a file descriptor behind it.
const MAX_POLL: Duration = Duration::from_millis(500);
/// Longest poll while a task waits for the server (see `IoLoop::wait`).
const QUEUED_SLICE: Duration = Duration::from_millis(10);
/// Closing channels at shutdown get this long to be confirmed by the server.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(1);

/// What callers ask of the I/O thread.
pub(crate) enum Request {
    Exec(Job),
    OpenTunnel(OpenTunnel),
    CloseTunnel { id: u64, done: mpsc::SyncSender<()> },
}

/// The callers' side: shared by the transport and its tunnels; the last one dropped ends the
/// thread (it says goodbye to the server and frees the session).
pub(crate) struct Handle {
    pub name: String,
    tx: Option<Sender<Request>>,
    waker: UnixStream,
    thread: Option<JoinHandle<()>>,
}

impl Handle {
    /// Hands a request to the I/O thread; false when it is gone.
    pub fn send(&self, req: Request) -> bool {
        let sent = self.tx.as_ref().is_some_and(|tx| tx.send(req).is_ok());
        if sent {
            self.wake();
        }
        sent
    }

    fn wake(&self) {
        // Non-blocking: a full buffer already holds a wake-up.
        let _ = (&self.waker).write(&[1]);
    }
}

impl Drop for Handle {
    fn drop(&mut self) {
        drop(self.tx.take()); // the thread sees the request channel disconnected
        self.wake();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Starts the I/O thread for a logged-in session (already non-blocking).
pub(crate) fn spawn(sess: Session, fd: RawFd, name: String) -> Result<Handle, RemoteError> {
    let (waker, wake_rx) = UnixStream::pair()
        .map_err(|e| RemoteError::io("cannot set up the SSH connection's I/O thread", e))?;
    for s in [&waker, &wake_rx] {
        s.set_nonblocking(true)
            .map_err(|e| RemoteError::io("cannot set up the SSH connection's I/O thread", e))?;
    }
    let (tx, rx) = mpsc::channel();
    let io = IoLoop {
        link: Link {
            sess,
            fd,
            name: name.clone(),
            lost: RefCell::new(None),
        },
        requests: rx,
        wake_rx,
        execs: Vec::new(),
        tunnels: Vec::new(),
        opens: Opens::default(),
        closing: Vec::new(),
        buf: vec![0u8; 32 * 1024],
        next_id: 1,
        ssh_readable: true,
    };
    let thread = std::thread::Builder::new()
        .name(format!("osd-ssh-{name}"))
        .spawn(move || io.run())
        .map_err(|e| RemoteError::io("cannot start the SSH connection's I/O thread", e))?;
    Ok(Handle {
        name,
        tx: Some(tx),
        waker,
        thread: Some(thread),
    })
}

/// The session and the one way to call it.
pub(crate) struct Link {
    pub sess: Session,
    fd: RawFd,
    pub name: String,
    /// Why the connection is gone, once it is.
    lost: RefCell<Option<String>>,
}

/// A libssh2 result: EAGAIN or not, and whether the error ends the connection.
pub(crate) trait SshResult {
    fn would_block(&self) -> bool;
    /// The libssh2 error code, when there is one to read.
    fn code(&self, sess: &Session) -> Option<i32>;
}

impl SshResult for ssh2::Error {
    fn would_block(&self) -> bool {
        self.code() == ErrorCode::Session(LIBSSH2_ERROR_EAGAIN)
    }
    fn code(&self, _: &Session) -> Option<i32> {
        match self.code() {
            ErrorCode::Session(c) => Some(c),
            ErrorCode::SFTP(_) => None,
        }
    }
}

impl SshResult for std::io::Error {
    fn would_block(&self) -> bool {
        self.kind() == ErrorKind::WouldBlock
    }
    fn code(&self, sess: &Session) -> Option<i32> {
        // ssh2 keeps only the message in an io::Error; the session remembers the code.
        match ssh2::Error::last_session_error(sess)?.code() {
            ErrorCode::Session(c) => Some(c),
            ErrorCode::SFTP(_) => None,
        }
    }
}

impl Link {
    /// Every libssh2 call on the session goes through here (see the module doc): a call that
    /// would block with a packet half sent is repeated, same closure, same frame, until the
    /// packet is out. A fatal error marks the connection lost.
    pub fn call<T, E: SshResult>(&self, mut f: impl FnMut() -> Result<T, E>) -> Result<T, E> {
        let mut since: Option<Instant> = None;
        loop {
            let r = f();
            match &r {
                Ok(_) => return r,
                Err(e) if e.would_block() => {
                    if !self.half_sent() {
                        return r;
                    }
                }
                Err(e) => {
                    if let Some(c) = e.code(&self.sess).filter(|c| FATAL.contains(c)) {
                        let msg = ssh2::Error::last_session_error(&self.sess)
                            .map(|e| e.message().to_string())
                            .unwrap_or_else(|| format!("libssh2 error {c}"));
                        self.set_lost(msg);
                    }
                    return r;
                }
            }
            let since = *since.get_or_insert_with(Instant::now);
            let waited = since.elapsed();
            if waited >= STALL_LIMIT {
                self.set_lost(format!(
                    "the server took no data for {}s",
                    STALL_LIMIT.as_secs()
                ));
                return r;
            }
            poll(&mut [pollfd(self.fd, libc::POLLOUT)], STALL_LIMIT - waited);
        }
    }

    /// Whether libssh2 holds a packet it could not finish sending.
    fn half_sent(&self) -> bool {
        matches!(
            self.sess.block_directions(),
            BlockDirections::Outbound | BlockDirections::Both
        )
    }

    fn set_lost(&self, why: String) {
        let mut lost = self.lost.borrow_mut();
        if lost.is_none() {
            log::debug!("SSH connection {} lost: {why}", self.name);
            *lost = Some(why);
        }
    }

    pub fn lost(&self) -> Option<String> {
        self.lost.borrow().clone()
    }

    /// An error for `action` from a libssh2 error (`None`: no answer in time).
    pub fn error(&self, action: String, e: Option<ssh2::Error>) -> RemoteError {
        RemoteError::Ssh {
            host: self.name.clone(),
            action,
            reason: e
                .map(|e| e.message().to_string())
                .unwrap_or_else(|| "no answer in time".into()),
        }
    }

    /// The error every task gets once the connection is gone.
    pub fn lost_error(&self, action: String) -> RemoteError {
        RemoteError::Ssh {
            host: self.name.clone(),
            action,
            reason: self
                .lost()
                .unwrap_or_else(|| "the connection is closed".into()),
        }
    }
}

/// What an open channel is for.
pub(crate) enum Purpose {
    Exec(u64),
    Tunnel(OpenTunnel),
    Conn {
        tunnel: u64,
        sock: std::net::TcpStream,
    },
}

pub(crate) enum OpenKind {
    Session,
    Direct { host: String, port: u16 },
}

pub(crate) struct Open {
    pub kind: OpenKind,
    /// `None` once abandoned: the open still runs to its end, and its channel is closed.
    pub purpose: Option<Purpose>,
    pub deadline: Instant,
}

/// Channel opens, one at a time.
#[derive(Default)]
pub(crate) struct Opens {
    current: Option<Open>,
    queue: VecDeque<Open>,
}

impl Opens {
    pub fn push(&mut self, open: Open) {
        self.queue.push_back(open);
    }
}

struct IoLoop {
    link: Link,
    requests: Receiver<Request>,
    wake_rx: UnixStream,
    execs: Vec<Exec>,
    tunnels: Vec<TunnelState>,
    opens: Opens,
    /// Channels whose close is under way; dropped once it completes.
    closing: Vec<Channel>,
    buf: Vec<u8>,
    next_id: u64,
    /// The session's socket had bytes (or an error) at the last poll.
    ssh_readable: bool,
}

impl IoLoop {
    fn run(mut self) {
        let mut shutting_down = false;
        let mut grace: Option<Instant> = None;
        loop {
            let mut progressed = false;
            if !shutting_down {
                loop {
                    match self.requests.try_recv() {
                        Ok(req) => {
                            progressed = true;
                            self.take(req);
                        }
                        Err(TryRecvError::Empty) => break,
                        Err(TryRecvError::Disconnected) => {
                            shutting_down = true;
                            break;
                        }
                    }
                }
            }
            if shutting_down {
                let until = *grace.get_or_insert_with(|| Instant::now() + SHUTDOWN_GRACE);
                let busy = !self.closing.is_empty() || self.opens.current.is_some();
                if !busy || Instant::now() >= until || self.link.lost().is_some() {
                    break;
                }
            }
            if self.link.lost().is_none() {
                if self.ssh_readable {
                    self.drain();
                }
                progressed |= self.step();
            }
            if self.link.lost().is_some() {
                self.fail_all();
                for t in &mut self.tunnels {
                    progressed |= t.refuse();
                }
            }
            if !progressed {
                self.wait(grace);
            }
        }
        self.finish();
    }

    fn take(&mut self, req: Request) {
        match req {
            Request::Exec(job) => {
                let id = self.next_id;
                self.next_id += 1;
                if self.link.lost().is_some() {
                    let e = self
                        .link
                        .lost_error(format!("opening a channel for `{}`", job.command));
                    let _ = job.reply.send(Err(e));
                    return;
                }
                let deadline = job.deadline();
                self.opens.push(Open {
                    kind: OpenKind::Session,
                    purpose: Some(Purpose::Exec(id)),
                    deadline,
                });
                self.execs.push(Exec::new(id, job));
            }
            Request::OpenTunnel(t) => {
                if self.link.lost().is_some() {
                    let e = t.unreachable(&self.link, None);
                    let _ = t.reply.send(Err(e));
                    return;
                }
                self.opens.push(Open {
                    kind: OpenKind::Direct {
                        host: t.host.clone(),
                        port: t.port,
                    },
                    deadline: Instant::now() + super::tunnel::OPEN_TIMEOUT,
                    purpose: Some(Purpose::Tunnel(t)),
                });
            }
            Request::CloseTunnel { id, done } => {
                if let Some(i) = self.tunnels.iter().position(|t| t.id == id) {
                    let t = self.tunnels.swap_remove(i);
                    t.stop(&mut self.closing);
                }
                let _ = done.send(());
            }
        }
    }

    /// Steps every task once; returns whether anything moved.
    fn step(&mut self) -> bool {
        let now = Instant::now();
        let mut progressed = self.step_open(now);
        let link = &self.link;
        for e in &mut self.execs {
            progressed |= e.step(link, &mut self.buf, now);
        }
        let mut i = 0;
        while i < self.execs.len() {
            if self.execs[i].finished() {
                let e = self.execs.swap_remove(i);
                self.closing.extend(e.into_channel());
            } else {
                i += 1;
            }
        }
        for t in &mut self.tunnels {
            progressed |= t.step(link, &mut self.buf, &mut self.opens, &mut self.closing);
        }
        progressed |= self.step_closing();
        progressed
    }

    fn step_open(&mut self, now: Instant) -> bool {
        if self.opens.current.is_none() {
            while let Some(open) = self.opens.queue.pop_front() {
                if self.wanted(&open) {
                    self.opens.current = Some(open);
                    break;
                }
                self.deliver(open.purpose, Err(None));
            }
        }
        let link = &self.link;
        let Some(open) = self.opens.current.as_mut() else {
            return false;
        };
        let r = match &open.kind {
            OpenKind::Session => link.call(|| link.sess.channel_session()),
            OpenKind::Direct { host, port } => {
                link.call(|| link.sess.channel_direct_tcpip(host, *port, None))
            }
        };
        match r {
            Err(e) if e.would_block() => {
                if now >= open.deadline && open.purpose.is_some() {
                    // Abandoned; it still runs to its end (see the module doc).
                    let purpose = open.purpose.take();
                    self.deliver(purpose, Err(None));
                    return true;
                }
                false
            }
            r => {
                let open = self.opens.current.take().expect("an open in progress");
                self.deliver(open.purpose, r.map_err(Some));
                true
            }
        }
    }

    /// Whether a queued open is still wanted (an exec may have timed out while it waited).
    fn wanted(&self, open: &Open) -> bool {
        match &open.purpose {
            Some(Purpose::Exec(id)) => self.execs.iter().any(|e| e.id == *id && e.opening()),
            Some(_) => open.deadline > Instant::now(),
            None => false,
        }
    }

    /// Gives an opened channel (or why there is none) to what it was opened for.
    fn deliver(&mut self, purpose: Option<Purpose>, r: Result<Channel, Option<ssh2::Error>>) {
        match purpose {
            None => self.closing.extend(r.ok()),
            Some(Purpose::Exec(id)) => {
                match self.execs.iter_mut().find(|e| e.id == id && e.opening()) {
                    Some(e) => e.opened(&self.link, r),
                    None => self.closing.extend(r.ok()),
                }
            }
            Some(Purpose::Tunnel(t)) => match r {
                Ok(ch) => {
                    let id = self.next_id;
                    self.next_id += 1;
                    let reply = t.reply.clone();
                    let state = TunnelState::new(id, t, ch);
                    if reply.send(Ok(id)).is_ok() {
                        self.tunnels.push(state);
                    } else {
                        state.stop(&mut self.closing);
                    }
                }
                Err(e) => {
                    let err = t.unreachable(&self.link, e);
                    let _ = t.reply.send(Err(err));
                }
            },
            Some(Purpose::Conn { tunnel, sock }) => {
                match (self.tunnels.iter_mut().find(|t| t.id == tunnel), r) {
                    (Some(t), Ok(ch)) => t.conns.push(Conn::new(sock, ch)),
                    (None, Ok(ch)) => self.closing.push(ch),
                    (t, Err(e)) => {
                        if let Some(t) = t {
                            let reason = e
                                .map(|e| e.message().to_string())
                                .unwrap_or_else(|| "no answer in time".into());
                            log::warn!(
                                "tunnel to {}:{}: {} cannot open a connection to it ({reason})",
                                t.host,
                                t.port,
                                self.link.name
                            );
                        }
                        drop(sock); // refuses this connection
                    }
                }
            }
        }
    }

    fn step_closing(&mut self) -> bool {
        let link = &self.link;
        let before = self.closing.len();
        self.closing
            .retain_mut(|ch| match link.call(|| ch.close()) {
                Err(e) if e.would_block() => true,
                _ => false, // closed (or failed: the connection is gone); freed on drop
            });
        self.closing.len() != before
    }

    /// One reading call so that bytes waiting on the socket get taken in, whoever they are for.
    fn drain(&mut self) {
        self.ssh_readable = false;
        let link = &self.link;
        let channels = self
            .execs
            .iter_mut()
            .filter_map(|e| e.channel())
            .chain(self.tunnels.iter_mut().flat_map(|t| t.channels()))
            .chain(self.closing.iter_mut());
        for ch in channels {
            if !ch.eof() {
                let _ = link.call(|| ch.read(&mut [0u8; 0]));
                return;
            }
            if link.call(|| ch.wait_close()).is_ok() {
                continue; // already closed: try another to be sure the socket was read
            }
            return;
        }
    }

    /// Once the connection is gone: every waiting caller gets an error, every channel is let go.
    fn fail_all(&mut self) {
        let link = &self.link;
        for e in self.execs.drain(..) {
            e.fail(link);
        }
        if let Some(open) = self.opens.current.take() {
            self.opens.queue.push_front(open);
        }
        while let Some(open) = self.opens.queue.pop_front() {
            match open.purpose {
                Some(Purpose::Tunnel(t)) => {
                    let err = t.unreachable(link, None);
                    let _ = t.reply.send(Err(err));
                }
                Some(Purpose::Conn { sock, .. }) => drop(sock),
                Some(Purpose::Exec(_)) | None => {}
            }
        }
        for t in &mut self.tunnels {
            t.drop_channels();
        }
        // With the socket gone libssh2 frees channels without sending anything.
        self.closing.clear();
    }

    fn wait(&mut self, grace: Option<Instant>) {
        // A reading call made for one task may have taken another task's bytes off the socket
        // after that task's step: they then wait in libssh2's queue, where poll cannot see them.
        if self.link.lost().is_none()
            && (self.execs.iter().any(Exec::ready) || self.tunnels.iter().any(TunnelState::ready))
        {
            return;
        }
        let now = Instant::now();
        let mut until = now + MAX_POLL;
        // Other news taken off the socket that way (an EOF, a close, the answer to an open or
        // an exec request) is found by looking again soon. (Channels being closed can wait: a
        // late confirmation only frees them later.)
        if self.opens.current.is_some()
            || !self.execs.is_empty()
            || self.tunnels.iter().any(|t| !t.conns.is_empty())
        {
            until = until.min(now + QUEUED_SLICE);
        }
        for e in &self.execs {
            until = until.min(e.next_deadline());
        }
        if let Some(o) = &self.opens.current {
            if o.purpose.is_some() {
                until = until.min(o.deadline);
            }
        }
        if let Some(g) = grace {
            until = until.min(g);
        }
        let mut fds = vec![pollfd(self.wake_rx.as_raw_fd(), libc::POLLIN)];
        let ssh_needed = self.link.lost().is_none()
            && (self.opens.current.is_some()
                || !self.execs.is_empty()
                || !self.closing.is_empty()
                || self.tunnels.iter().any(|t| t.has_channels()));
        if ssh_needed {
            fds.push(pollfd(self.link.fd, libc::POLLIN));
        }
        for t in &self.tunnels {
            t.poll_fds(&mut fds);
        }
        poll(&mut fds, until.saturating_duration_since(now));
        if fds[0].revents != 0 {
            let mut sink = [0u8; 64];
            while matches!((&self.wake_rx).read(&mut sink), Ok(n) if n > 0) {}
        }
        if ssh_needed && fds[1].revents != 0 {
            self.ssh_readable = true;
        }
    }

    /// Last user gone: close what is still open, say goodbye, free the session.
    fn finish(mut self) {
        for t in self.tunnels.drain(..) {
            t.stop(&mut self.closing);
        }
        for e in self.execs.drain(..) {
            e.fail(&self.link);
        }
        self.opens = Opens::default();
        self.closing.clear();
        // In blocking mode, briefly, so libssh2 frees cleanly.
        if self.link.lost().is_none() {
            self.link.sess.set_blocking(true);
            self.link.sess.set_timeout(1000);
            let _ = self.link.sess.disconnect(None, "bye", None);
        }
    }
}

pub(crate) fn pollfd(fd: RawFd, events: i16) -> libc::pollfd {
    libc::pollfd {
        fd,
        events,
        revents: 0,
    }
}

/// poll(2) for at most `max`.
pub(crate) fn poll(fds: &mut [libc::pollfd], max: Duration) {
    let ms = max.as_millis().clamp(0, i32::MAX as u128) as i32;
    // SAFETY: fds is a valid array of pollfd for the duration of the call.
    unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, ms) };
}
