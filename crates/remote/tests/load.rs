//! One SSH session under load from several threads at once (issue 9 part 5): short commands
//! that open and close channels all the time, commands streaming stdin and stdout, and bulk
//! traffic both ways through a tunnel, all on ONE connection to the lab's real OpenSSH sshd.
//! Everything must arrive intact, no call may fail, and sshd must not have seen a corrupted
//! stream (`Bad packet length`, `Corrupted MAC`, `Connection corrupted` in its log).
//!
//! `OSD_LOAD_ROUNDS` scales it (default 30 rounds, kept small for CI). The transport before the
//! I/O thread lost its connection in 2 of 3 runs here, within the first rounds of
//! `OSD_LOAD_ROUNDS=120` (sshd: `channel_input_data: channel 1: get data: unexpected bytes remain
//! after decoding`); it passed one run of 40.

mod support;

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use osd_remote::Cmd;
use support::lab;

fn rounds() -> usize {
    std::env::var("OSD_LOAD_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(30)
}

/// An echo server on the "remote" loopback (the lab runs on this machine).
fn echo_server() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { continue };
            std::thread::spawn(move || {
                let mut buf = [0u8; 65536];
                loop {
                    match conn.read(&mut buf) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => {
                            if conn.write_all(&buf[..n]).is_err() {
                                break;
                            }
                        }
                    }
                }
            });
        }
    });
    port
}

fn sshd_log() -> String {
    std::fs::read_to_string(lab().dir.join("log").join("sshd.log")).unwrap_or_default()
}

fn corruption_lines() -> Vec<String> {
    osd_testlab::sshd_corruption_lines(&sshd_log())
}

#[test]
fn one_session_carries_commands_stdin_and_tunnels_at_once() {
    let before = corruption_lines().len();
    let host = lab().root();
    let port = echo_server();
    let tunnel = host.tunnel("127.0.0.1", port).unwrap();
    let addr = tunnel.local_addr();
    let rounds = rounds();
    let failures = std::sync::Mutex::new(Vec::<String>::new());
    let fail = |what: String| failures.lock().unwrap().push(what);
    let done = AtomicUsize::new(0);

    std::thread::scope(|s| {
        // Short commands: a channel opened, started, read, closed, again and again.
        for t in 0..3 {
            let (host, fail, done) = (&host, &fail, &done);
            s.spawn(move || {
                for i in 0..rounds * 3 {
                    let want = format!("{t}-{i}\n");
                    match host.run(&Cmd::new("echo").arg(format!("{t}-{i}"))) {
                        Ok(out) if out.stdout_str() == want && out.status == 0 => {}
                        Ok(out) => fail(format!("echo {t}-{i}: {:?}", out.stdout_str())),
                        Err(e) => fail(format!("echo {t}-{i}: {e}")),
                    }
                    done.fetch_add(1, Ordering::Relaxed);
                }
            });
        }
        // Streaming stdin to a command while reading its output.
        {
            let (host, fail, done) = (&host, &fail, &done);
            s.spawn(move || {
                for i in 0..rounds {
                    let input: Vec<u8> = (0..300_000u32)
                        .map(|x| (x.wrapping_mul(7).wrapping_add(i as u32) % 251) as u8)
                        .collect();
                    match host.run(&Cmd::new("cat").stdin(input.clone())) {
                        Ok(out) if out.stdout == input => {}
                        Ok(out) => fail(format!("cat {i}: {} bytes back", out.stdout.len())),
                        Err(e) => fail(format!("cat {i}: {e}")),
                    }
                    done.fetch_add(1, Ordering::Relaxed);
                }
            });
        }
        // Bulk both ways through the tunnel, a new connection each round.
        for t in 0..2u8 {
            let (fail, done) = (&fail, &done);
            s.spawn(move || {
                for i in 0..rounds {
                    let data: Vec<u8> = (0..200_000u32).map(|x| (x % 256) as u8 ^ t).collect();
                    let result = (|| -> std::io::Result<Vec<u8>> {
                        let mut c = TcpStream::connect(addr)?;
                        c.set_read_timeout(Some(Duration::from_secs(60)))?;
                        let mut w = c.try_clone()?;
                        let d2 = data.clone();
                        let writer = std::thread::spawn(move || {
                            let r = w.write_all(&d2);
                            let _ = w.shutdown(Shutdown::Write);
                            r
                        });
                        let mut back = Vec::new();
                        c.read_to_end(&mut back)?;
                        writer.join().unwrap()?;
                        Ok(back)
                    })();
                    match result {
                        Ok(back) if back == data => {}
                        Ok(back) => fail(format!("tunnel {t}/{i}: {} bytes back", back.len())),
                        Err(e) => fail(format!("tunnel {t}/{i}: {e}")),
                    }
                    done.fetch_add(1, Ordering::Relaxed);
                }
            });
        }
    });
    drop(tunnel);

    let failures = failures.into_inner().unwrap();
    let corrupted: Vec<String> = corruption_lines().into_iter().skip(before).collect();
    let total = done.load(Ordering::Relaxed);
    eprintln!(
        "load: {total} operations on one session, {} failed, {} corruption line(s) in sshd's log",
        failures.len(),
        corrupted.len()
    );
    for f in failures.iter().take(10) {
        eprintln!("  {f}");
    }
    for l in corrupted.iter().take(5) {
        eprintln!("  sshd: {l}");
    }
    if !failures.is_empty() || !corrupted.is_empty() {
        let log = sshd_log();
        let lines: Vec<&str> = log.lines().collect();
        eprintln!("  the end of sshd's log:");
        for l in &lines[lines.len().saturating_sub(15)..] {
            eprintln!("    {l}");
        }
    }
    assert!(
        failures.is_empty() && corrupted.is_empty(),
        "{} failure(s), {} corruption line(s); first: {:?} {:?}",
        failures.len(),
        corrupted.len(),
        failures.first(),
        corrupted.first()
    );
    // And the session still works.
    assert_eq!(
        host.run(&Cmd::new("echo").arg("ok")).unwrap().stdout_str(),
        "ok\n"
    );
}
