//! One command on the I/O thread: open a session channel (in turn with other opens), start the
//! command, stream stdin while collecting stdout and stderr, wait for the exit status, reply.
//! Every libssh2 call goes through [`Link::call`] (see [`super::io`]).

use std::io::{ErrorKind, Read, Write};
use std::sync::mpsc::SyncSender;
use std::time::{Duration, Instant};

use ssh2::Channel;

use super::io::{Link, SshResult};
use crate::transport::ExecOutput;
use crate::RemoteError;

/// After the command's EOF, its exit status may arrive this long past the deadline.
const CLOSE_GRACE: Duration = Duration::from_secs(5);

/// What the caller of `exec` hands over.
pub(crate) struct Job {
    pub command: String,
    pub stdin: Vec<u8>,
    pub timeout: Duration,
    pub started: Instant,
    pub reply: SyncSender<Result<ExecOutput, RemoteError>>,
}

impl Job {
    pub fn deadline(&self) -> Instant {
        self.started + self.timeout
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Waiting for its channel (opens run one at a time).
    Open,
    /// The exec request is sent, its answer awaited.
    Start,
    /// Streaming stdin, collecting output until the command's EOF.
    Run,
    /// EOF seen: waiting for the server to close the channel (the exit status comes first).
    WaitClose,
    /// Replied.
    Done,
}

pub(crate) struct Exec {
    pub id: u64,
    job: Job,
    deadline: Instant,
    close_deadline: Instant,
    phase: Phase,
    ch: Option<Channel>,
    written: usize,
    eof_sent: bool,
    stdout: Vec<u8>,
    stderr: Vec<u8>,
}

impl Exec {
    pub fn new(id: u64, job: Job) -> Exec {
        let deadline = job.deadline();
        Exec {
            id,
            job,
            deadline,
            close_deadline: deadline,
            phase: Phase::Open,
            ch: None,
            written: 0,
            eof_sent: false,
            stdout: Vec::new(),
            stderr: Vec::new(),
        }
    }

    pub fn opening(&self) -> bool {
        self.phase == Phase::Open
    }

    pub fn finished(&self) -> bool {
        self.phase == Phase::Done
    }

    pub fn channel(&mut self) -> Option<&mut Channel> {
        self.ch.as_mut()
    }

    /// The channel, to be closed, once the exec is finished.
    pub fn into_channel(self) -> Option<Channel> {
        self.ch
    }

    /// Whether a step would move something now (data or EOF already queued in libssh2, or
    /// stdin that the window lets through).
    pub fn ready(&self) -> bool {
        match (&self.ch, self.phase) {
            (Some(ch), Phase::Run) => {
                ch.read_window().available > 0
                    || ch.eof()
                    || (self.written < self.job.stdin.len() && ch.write_window().remaining > 0)
            }
            _ => false,
        }
    }

    pub fn next_deadline(&self) -> Instant {
        match self.phase {
            Phase::WaitClose => self.close_deadline,
            _ => self.deadline,
        }
    }

    fn reply(&mut self, r: Result<ExecOutput, RemoteError>) {
        let _ = self.job.reply.send(r);
        self.phase = Phase::Done;
    }

    fn timed_out(&mut self, link: &Link) {
        let e = RemoteError::Timeout {
            host: link.name.clone(),
            command: self.job.command.clone(),
            after: self.job.timeout,
        };
        self.reply(Err(e));
    }

    fn fail_with(&mut self, link: &Link, action: &str, e: Option<ssh2::Error>) {
        let e = link.error(format!("{action} `{}`", self.job.command), e);
        self.reply(Err(e));
    }

    /// The connection is gone: reply with that.
    pub fn fail(mut self, link: &Link) {
        if self.phase == Phase::Done {
            return;
        }
        let action = match self.phase {
            Phase::Open => "opening a channel for",
            Phase::Start => "starting",
            Phase::Run => "reading the output of",
            Phase::WaitClose | Phase::Done => "finishing",
        };
        let e = link.lost_error(format!("{action} `{}`", self.job.command));
        self.reply(Err(e));
    }

    /// The open this exec waited for is done.
    pub fn opened(&mut self, link: &Link, r: Result<Channel, Option<ssh2::Error>>) {
        match r {
            Ok(ch) => {
                self.ch = Some(ch);
                self.phase = Phase::Start;
            }
            Err(None) => self.timed_out(link),
            Err(e) => self.fail_with(link, "opening a channel for", e),
        }
    }

    /// Moves what can move without waiting; returns whether anything did.
    pub fn step(&mut self, link: &Link, buf: &mut [u8], now: Instant) -> bool {
        let progressed = match self.phase {
            Phase::Open | Phase::Done => false,
            Phase::Start => self.start(link),
            Phase::Run => self.run(link, buf, now),
            Phase::WaitClose => self.wait_close(link),
        };
        match self.phase {
            Phase::Open | Phase::Start | Phase::Run if now >= self.deadline => {
                self.timed_out(link);
                true
            }
            Phase::WaitClose if now >= self.close_deadline => {
                self.timed_out(link);
                true
            }
            _ => progressed,
        }
    }

    fn start(&mut self, link: &Link) -> bool {
        let ch = self.ch.as_mut().expect("a channel to start on");
        let command = &self.job.command;
        match link.call(|| ch.exec(command)) {
            Ok(()) => {
                self.phase = Phase::Run;
                true
            }
            Err(e) if e.would_block() => false,
            Err(e) => {
                self.fail_with(link, "starting", Some(e));
                true
            }
        }
    }

    fn run(&mut self, link: &Link, buf: &mut [u8], now: Instant) -> bool {
        let ch = self.ch.as_mut().expect("a running channel");
        let input = &self.job.stdin;
        let mut progressed = false;
        // Only into an open window: see the module doc of `io`.
        if self.written < input.len() && ch.write_window().remaining > 0 {
            let rest = &input[self.written..];
            match link.call(|| ch.write(rest)) {
                Ok(n) => {
                    self.written += n;
                    progressed |= n > 0;
                }
                Err(e) if e.would_block() => {}
                // The command closed its input (exited early): the rest is not wanted.
                Err(_) => self.written = input.len(),
            }
        }
        if self.written >= input.len() && !self.eof_sent {
            match link.call(|| ch.send_eof()) {
                Ok(()) => {
                    self.eof_sent = true;
                    progressed = true;
                }
                Err(e) if e.would_block() => {}
                Err(_) => self.eof_sent = true,
            }
        }
        for is_err in [false, true] {
            loop {
                let r = if is_err {
                    link.call(|| ch.stderr().read(buf))
                } else {
                    link.call(|| ch.read(buf))
                };
                match r {
                    Ok(0) => break,
                    Ok(n) => {
                        let out = if is_err {
                            &mut self.stderr
                        } else {
                            &mut self.stdout
                        };
                        out.extend_from_slice(&buf[..n]);
                        progressed = true;
                    }
                    Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                    Err(e) => {
                        let e = RemoteError::Ssh {
                            host: link.name.clone(),
                            action: format!("reading the output of `{}`", self.job.command),
                            reason: e.to_string(),
                        };
                        self.reply(Err(e));
                        return true;
                    }
                }
            }
        }
        if ch.eof() {
            // The exit status follows right behind the EOF; allow a little past the deadline.
            self.close_deadline = self.deadline.max(now + CLOSE_GRACE);
            self.phase = Phase::WaitClose;
            progressed = true;
        }
        progressed
    }

    fn wait_close(&mut self, link: &Link) -> bool {
        let ch = self.ch.as_mut().expect("a channel to finish");
        match link.call(|| ch.wait_close()) {
            Ok(()) => {}
            Err(e) if e.would_block() => return false,
            Err(e) => {
                self.fail_with(link, "finishing", Some(e));
                return true;
            }
        }
        let mut status = ch.exit_status().unwrap_or(-1);
        if let Ok(sig) = ch.exit_signal() {
            if let Some(name) = sig.exit_signal {
                status = 128 + signal_number(&name);
            }
        }
        let out = ExecOutput {
            status,
            stdout: std::mem::take(&mut self.stdout),
            stderr: std::mem::take(&mut self.stderr),
        };
        self.reply(Ok(out));
        true
    }
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
        "USR2" => 12,
        "SEGV" => 11,
        "PIPE" => 13,
        "ALRM" => 14,
        "TERM" => 15,
        _ => 0,
    }
}
