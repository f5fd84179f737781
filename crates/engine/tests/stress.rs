//! The connection holds under load (issue 9 part 5).
//!
//! The product shares one SSH session between things that run at once: a diagnosis runs its
//! second script, the database tunnel and the HTTP tunnel concurrently, and the app keeps one
//! connection for many diagnoses. A client that lets two users of the session interleave libssh2
//! calls corrupts its own stream; a real OpenSSH sshd then logs `Bad packet length …` /
//! `ssh_dispatch_run_fatal: … Connection corrupted` and drops the connection. So this test leans
//! on that sharing against the lab's real sshd:
//!
//! - [`DIAGNOSES`] diagnoses of a healthy lab from [`THREADS`] threads sharing ONE connection;
//! - at the same time, [`ROUND_TRIPS`] apply → rollback round trips, split over [`FIX_LABS`]
//!   more labs, each lab's share on one connection (each apply restarts Odoo, verifies after the
//!   restart, and each rollback does it again, with their own tunnels and diagnoses inside);
//!
//! and then requires zero errors, zero lost connections, every diagnosis all ok (a healthy lab:
//! nothing `unknown`, in particular not for a closed connection), every round trip applied,
//! verified and undone, and no line of either lab's sshd log saying the stream was corrupted.
//! Failures are counted, not fatal at once (a lost connection is replaced by a new one and
//! counted), so one run gives the numbers; the assertions come at the end.
//!
//! Run alone: `cargo test -p osd-engine --test stress -- --nocapture` (needs root, like the lab).

mod support;

use std::fmt::Write as _;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use osd_engine::change::apply::{self, ApplyOptions, Outcome, Progress};
use osd_engine::change::plan::{plan, FixRequest};
use osd_engine::change::record::RecordStatus;
use osd_engine::checks::Status;
use osd_engine::{diagnose, Diagnosis};
use osd_remote::Host;
use osd_testlab::Lab;
use support::*;

/// Diagnoses of the healthy lab, in all.
const DIAGNOSES: usize = 300;
/// Threads diagnosing at once over one shared connection.
const THREADS: usize = 4;
/// Apply → rollback round trips in all.
const ROUND_TRIPS: usize = 30;
/// Labs the round trips are split over (each restart waits for Odoo; two labs overlap that).
const FIX_LABS: usize = 2;

/// A count, overridable from the environment for experiments (`OSD_STRESS_DIAGNOSES=3000`).
fn count(var: &str, default: usize) -> usize {
    std::env::var(var)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn sshd_log(lab: &Lab) -> String {
    std::fs::read_to_string(lab.dir().join("log").join("sshd.log")).unwrap_or_default()
}

/// A connection shared by several threads, replaced (and counted) when it is lost.
struct Shared<'a> {
    lab: &'a Lab,
    host: Mutex<Arc<Host>>,
    reconnects: Mutex<usize>,
}

impl<'a> Shared<'a> {
    fn new(lab: &'a Lab) -> Self {
        Shared {
            lab,
            host: Mutex::new(Arc::new(connect(lab))),
            reconnects: Mutex::new(0),
        }
    }

    fn get(&self) -> Arc<Host> {
        Arc::clone(&self.host.lock().unwrap())
    }

    /// Replaces `broken` with a fresh connection unless another thread already did.
    fn replace(&self, broken: &Arc<Host>) {
        let mut h = self.host.lock().unwrap();
        if Arc::ptr_eq(&h, broken) {
            *h = Arc::new(connect(self.lab));
            *self.reconnects.lock().unwrap() += 1;
        }
    }

    fn reconnects(&self) -> usize {
        *self.reconnects.lock().unwrap()
    }
}

/// Whether the connection still runs a command (a diagnosis that failed because the session was
/// lost leaves it unusable).
fn alive(host: &Host) -> bool {
    host.run(&osd_remote::Cmd::new("true")).is_ok()
}

/// What went wrong with one diagnosis, if anything.
fn problems(d: &Diagnosis) -> Option<String> {
    let bad: Vec<String> = d
        .checks
        .iter()
        .filter(|c| !matches!(c.status, Status::Ok | Status::Skip))
        .map(|c| {
            // The evidence says whether the connection or the server was at fault.
            let evidence: Vec<String> = c
                .evidence
                .iter()
                .map(|e| format!("{}: {}", e.source, e.excerpt))
                .collect();
            format!(
                "{} {}: {} [{}]",
                c.status.as_str(),
                c.id,
                c.summary,
                evidence.join(" | ")
            )
        })
        .collect();
    (!bad.is_empty()).then(|| bad.join("; "))
}

#[derive(Default)]
struct Tally {
    done: usize,
    errors: Vec<String>,
}

fn diagnose_many(shared: &Shared<'_>, count: usize, tally: &Mutex<Tally>) {
    let opts = options(shared.lab);
    for _ in 0..count {
        let host = shared.get();
        let failure = match diagnose(&host, &opts) {
            Ok(d) => problems(&d),
            Err(e) => Some(format!("error: {e}")),
        };
        let mut t = tally.lock().unwrap();
        t.done += 1;
        if let Some(f) = failure {
            t.errors.push(f);
            drop(t);
            if !alive(&host) {
                shared.replace(&host);
            }
        }
    }
}

fn quiet(_: &Progress) {}

fn round_trips(shared: &Shared<'_>, count: usize, tally: &Mutex<Tally>) {
    let lab = shared.lab;
    let opts = ApplyOptions {
        diagnose: options(lab),
        state_dir: Some(lab.dir().join("state").to_string_lossy().into_owned()),
        ..Default::default()
    };
    let req = FixRequest {
        checks: vec!["session.lifetime".parse().unwrap()],
        values: [("session.lifetime".parse().unwrap(), "86400".to_string())]
            .into_iter()
            .collect(),
    };
    for i in 0..count {
        let host = shared.get();
        let result = (|| -> Result<(), String> {
            let d0 = diagnose(&host, &opts.diagnose).map_err(|e| format!("diagnose: {e}"))?;
            if !not_ok(&d0).contains(&"session.lifetime") {
                return Err(format!(
                    "session.lifetime should fail before the fix: {:?}",
                    problems(&d0)
                ));
            }
            let cs = plan(&*host, &d0, &req).map_err(|e| format!("plan: {e}"))?;
            let r =
                apply::apply(&host, &d0, &cs, &opts, &quiet).map_err(|e| format!("apply: {e}"))?;
            if r.status != Outcome::Applied || !r.verification.iter().all(|v| v.persisted) {
                return Err(format!("apply: {:?} {:?}", r.status, r.error));
            }
            let after = r.after.as_ref().ok_or("apply: no diagnosis after")?;
            if not_ok(after).contains(&"session.lifetime") {
                return Err("apply: session.lifetime still not ok".into());
            }
            let facts = osd_engine::discover::discover(&host, &opts.diagnose.discover)
                .map_err(|e| format!("discover: {e}"))?;
            let rb = apply::rollback(&host, &facts, None, false, &opts, &quiet)
                .map_err(|e| format!("rollback: {e}"))?;
            if rb.status != RecordStatus::Undone {
                return Err(format!("rollback: {:?} {:?}", rb.status, rb.error));
            }
            Ok(())
        })();
        let mut t = tally.lock().unwrap();
        t.done += 1;
        if let Err(e) = result {
            t.errors
                .push(format!("round trip {i} on {}: {e}", lab.dir().display()));
            drop(t);
            if !alive(&host) {
                shared.replace(&host);
            }
        }
    }
}

#[test]
fn the_connection_holds_under_load() {
    let diagnoses_wanted = count("OSD_STRESS_DIAGNOSES", DIAGNOSES);
    let threads = count("OSD_STRESS_THREADS", THREADS).max(1);
    let trips_wanted = count("OSD_STRESS_ROUND_TRIPS", ROUND_TRIPS);
    let started = Instant::now();
    let healthy = Lab::up("healthy");
    let fixable: Vec<Lab> = (0..FIX_LABS).map(|_| Lab::up("short-lifetime")).collect();
    let diag_conn = Shared::new(&healthy);
    let apply_conns: Vec<Shared> = fixable.iter().map(Shared::new).collect();
    let diagnoses = Mutex::new(Tally::default());
    let trips = Mutex::new(Tally::default());
    let (mut diag_secs, mut trip_secs) = (0.0, 0.0);

    std::thread::scope(|s| {
        let trip_threads: Vec<_> = apply_conns
            .iter()
            .enumerate()
            .map(|(i, conn)| {
                let n = trips_wanted / FIX_LABS + usize::from(i < trips_wanted % FIX_LABS);
                let trips = &trips;
                s.spawn(move || {
                    let t0 = Instant::now();
                    round_trips(conn, n, trips);
                    t0.elapsed().as_secs_f64()
                })
            })
            .collect();
        let t0 = Instant::now();
        let workers: Vec<_> = (0..threads)
            .map(|t| {
                let n = diagnoses_wanted / threads + usize::from(t < diagnoses_wanted % threads);
                let (conn, tally) = (&diag_conn, &diagnoses);
                s.spawn(move || diagnose_many(conn, n, tally))
            })
            .collect();
        for w in workers {
            w.join().unwrap();
        }
        diag_secs = t0.elapsed().as_secs_f64();
        for t in trip_threads {
            trip_secs = f64::max(trip_secs, t.join().unwrap());
        }
    });

    let diagnoses = diagnoses.into_inner().unwrap();
    let trips = trips.into_inner().unwrap();
    let apply_reconnects: usize = apply_conns.iter().map(Shared::reconnects).sum();
    let corrupted: Vec<String> = std::iter::once(&healthy)
        .chain(&fixable)
        .flat_map(|lab| osd_testlab::sshd_corruption_lines(&sshd_log(lab)))
        .collect();

    let mut report = String::new();
    let _ = writeln!(
        report,
        "stress: {} diagnoses ({} failed) on one connection from {threads} threads in \
         {diag_secs:.0} s, {} reconnect(s); {} apply/rollback round trips ({} failed) in \
         {trip_secs:.0} s, {} reconnect(s); {} corruption line(s) in the sshd logs; {:.0} s in all",
        diagnoses.done,
        diagnoses.errors.len(),
        diag_conn.reconnects(),
        trips.done,
        trips.errors.len(),
        apply_reconnects,
        corrupted.len(),
        started.elapsed().as_secs_f64()
    );
    for e in diagnoses.errors.iter().chain(&trips.errors).take(20) {
        let _ = writeln!(report, "  {e}");
    }
    for l in corrupted.iter().take(10) {
        let _ = writeln!(report, "  sshd: {l}");
    }
    eprintln!("{report}");

    assert_eq!(diagnoses.done, diagnoses_wanted);
    assert_eq!(trips.done, trips_wanted);
    assert!(
        diagnoses.errors.is_empty()
            && trips.errors.is_empty()
            && corrupted.is_empty()
            && diag_conn.reconnects() == 0
            && apply_reconnects == 0,
        "{report}"
    );
}
