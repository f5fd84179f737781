//! Non-blocking use of one libssh2 session from several threads.
//!
//! After login the session is switched to non-blocking mode for good: every libssh2 call then
//! returns at once (EAGAIN when it would wait) and releases the session lock, so an exec and a
//! tunnel's pump thread can share the session without one blocking the other. Waiting is done
//! with poll(2) on the socket, capped at a few milliseconds because another thread may consume
//! the bytes we were waiting for (libssh2 queues them for our channel all the same).

use std::os::unix::io::RawFd;
use std::time::{Duration, Instant};

use ssh2::{BlockDirections, ErrorCode, Session};

/// libssh2's "would block".
const LIBSSH2_ERROR_EAGAIN: i32 = -37;

/// Longest single wait: bounds the delay when another thread took our data off the socket.
pub(crate) const POLL_SLICE: Duration = Duration::from_millis(10);

pub(crate) fn is_eagain(e: &ssh2::Error) -> bool {
    e.code() == ErrorCode::Session(LIBSSH2_ERROR_EAGAIN)
}

/// Waits until the session's socket is ready in the direction libssh2 needs, or `max` passes.
pub(crate) fn wait_socket(sess: &Session, fd: RawFd, extra: &[(RawFd, i16)], max: Duration) {
    let mut events: i16 = libc::POLLIN;
    if matches!(
        sess.block_directions(),
        BlockDirections::Outbound | BlockDirections::Both
    ) {
        events |= libc::POLLOUT;
    }
    let mut fds: Vec<libc::pollfd> = vec![libc::pollfd {
        fd,
        events,
        revents: 0,
    }];
    fds.extend(extra.iter().map(|&(fd, events)| libc::pollfd {
        fd,
        events,
        revents: 0,
    }));
    let ms = max.as_millis().clamp(0, i32::MAX as u128) as i32;
    // SAFETY: fds is a valid array of pollfd for the duration of the call.
    unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, ms) };
}

/// Repeats a non-blocking libssh2 call until it stops saying EAGAIN, or the deadline passes
/// (`Err(None)`); other errors come back as `Err(Some(e))`.
pub(crate) fn retry<T>(
    sess: &Session,
    fd: RawFd,
    deadline: Instant,
    mut call: impl FnMut() -> Result<T, ssh2::Error>,
) -> Result<T, Option<ssh2::Error>> {
    loop {
        match call() {
            Ok(v) => return Ok(v),
            Err(e) if is_eagain(&e) => {
                let now = Instant::now();
                if now >= deadline {
                    return Err(None);
                }
                wait_socket(sess, fd, &[], POLL_SLICE.min(deadline - now));
            }
            Err(e) => return Err(Some(e)),
        }
    }
}
