//! Checks on the running service: found and restartable, worker memory, database filter.

use super::{gh, Finding, Status};
use crate::facts::{Facts, Observed};
use crate::nginx::front::FrontState;

pub fn service_found(f: &Facts, fnd: Finding) -> Finding {
    let o = &f.odoo;
    let mut fnd = fnd.evidence(
        match o.pid {
            Some(pid) => format!("pid {pid} (user {})", o.user),
            None => format!("{} (user {})", o.service.describe(), o.user),
        },
        o.command.clone(),
    );
    if !o.state.is_running() {
        fnd = fnd
            .evidence(o.service.describe(), o.state.describe(o.pid))
            .users_see("The Odoo site does not load at all (the proxy answers 502 Bad Gateway), or it comes and goes while the service manager restarts it.")
            .why("The Odoo service is set up on this server but its program is not running: it stops while starting, so nothing answers users. Every other finding here is read from files and the database; the server itself could not be asked.");
        if let Some(e) = o.state.last_error() {
            fnd = fnd.evidence("the last start attempt ended with", e.to_string());
        }
        let crash = matches!(o.state, crate::facts::InstanceState::CrashLoop { .. });
        return fnd.status(
            Status::Fail,
            format!(
                "Odoo is not running: {}{}",
                if crash {
                    "it fails every time it starts"
                } else {
                    "it is stopped"
                },
                o.state
                    .last_error()
                    .map(|e| format!(" ({e})"))
                    .unwrap_or_default()
            ),
        );
    }
    // A process that does not answer on its own port serves nobody, whatever its manager says.
    if let Some(why) = f
        .server
        .why_unknown()
        .filter(|w| w.contains("did not answer"))
    {
        fnd = fnd
            .evidence(format!("HTTP on port {}", o.http_port()), why.to_string())
            .users_see("Pages do not load (the proxy answers 502 or times out), or only some do.")
            .why("Odoo's process runs, but nothing answers on the port its config names: it is stuck, still loading, or listening elsewhere than the proxy expects.");
        // Refused or reset: nothing serves. Timed out: something does, too slowly to judge.
        let slow = why.to_ascii_lowercase().contains("timed out");
        fnd.worsen(
            if slow { Status::Warn } else { Status::Fail },
            if slow {
                format!(
                    "Odoo runs ({}) but did not answer on port {} in time: it is overloaded or stuck.",
                    o.state.describe(o.pid),
                    o.http_port()
                )
            } else {
                format!(
                    "Odoo runs ({}) but does not answer on port {}.",
                    o.state.describe(o.pid),
                    o.http_port()
                )
            },
        );
    }
    let version = match (o.version, o.version_source) {
        (Some(v), Some(src)) => format!(
            "Odoo {v} (from {})",
            match src {
                crate::version::VersionSource::RunningServer => "the running server",
                crate::version::VersionSource::ReleaseFile => "release.py",
            }
        ),
        _ => {
            fnd.worsen(
                Status::Warn,
                "The Odoo version could not be determined: version-specific advice is held back.",
            );
            "version unknown".into()
        }
    };
    match &o.config {
        Some(c) => fnd = fnd.evidence("config file in effect", c.path.clone()),
        None => fnd.worsen(
            Status::Warn,
            "No config file is in effect: Odoo runs on defaults and command-line options only.",
        ),
    }
    let explicit = crate::facts::cli_option(&o.args, "config").is_some();
    if !explicit && !o.rc_files.is_empty() {
        fnd = fnd.evidence(
            "started without -c",
            format!("Odoo reads {}", o.rc_files.join(", ")),
        );
        fnd.worsen(
            Status::Warn,
            "Odoo is started without -c, so it reads the service user's ~/.odoorc: edits to another odoo.conf do nothing.",
        );
    }
    match o.service.restart_command() {
        Some(cmd) => {
            fnd = fnd.evidence(o.service.describe(), format!("restart: {}", cmd.join(" ")))
        }
        None => fnd.worsen(
            Status::Warn,
            "Odoo was started by hand: nothing restarts it after a change or a reboot.",
        ),
    }
    if f.instances.len() > 1 {
        fnd = fnd.evidence(
            "other Odoo instances on this host",
            format!(
                "{} instances in all; diagnosing the one on port {}",
                f.instances.len(),
                o.http_port()
            ),
        );
    }
    if fnd.status == Status::Ok {
        fnd.summary = format!(
            "{version}, run by {}, config {}.",
            o.service.describe(),
            o.config.as_ref().map(|c| c.path.as_str()).unwrap_or("-")
        );
    }
    fnd
}

const MIB: u64 = 1024 * 1024;

pub fn workers_memory(f: &Facts, mut fnd: Finding) -> Finding {
    let o = &f.odoo;
    let workers = o.workers();
    if workers == 0 {
        return fnd.status(
            Status::Skip,
            "workers = 0: Odoo runs threaded, without worker memory limits.",
        );
    }
    let soft = o.option_u64("limit_memory_soft").unwrap_or(2048 * MIB);
    let hard = o.option_u64("limit_memory_hard").unwrap_or(2560 * MIB);
    let ram = f.host.mem_total_bytes;
    fnd = fnd.evidence(
        o.option_source("workers").unwrap_or_else(|| "odoo.conf".into()),
        format!("workers = {workers}, limit_memory_soft = {} MiB, limit_memory_hard = {} MiB, RAM {} MiB, {}", soft / MIB, hard / MIB, ram / MIB, crate::words::units(f.host.cpus as u64, "CPU")),
    );
    if hard < soft {
        fnd.worsen(Status::Fail, "limit_memory_hard is below limit_memory_soft: workers are killed mid-request before they can be recycled.");
    }
    if soft < 256 * MIB {
        fnd.worsen(Status::Warn, format!("limit_memory_soft is only {} MiB: almost every request pushes a worker over it, so workers are recycled constantly.", soft / MIB));
    }
    if ram > 0 && (workers + 1) * hard > ram * 2 {
        fnd.worsen(Status::Warn, "The workers' hard memory limits add up to far more than the RAM: under load the system kills Odoo.");
    }
    if let Observed::Seen(log) = &f.log {
        fnd = recycles_from_log(log, o, workers, fnd);
    }
    if fnd.status != Status::Ok {
        fnd = fnd
            .users_see("Pages are slow or fail now and then, and the live connection (chat, notifications) drops. Sessions survive recycling; requests in flight do not.")
            .why("A worker over limit_memory_soft finishes its request and is replaced; one over limit_memory_hard is killed on the spot. Limits far below what a worker needs turn that into a constant churn.");
    } else {
        fnd.summary = format!(
            "{workers} workers with {} MiB soft / {} MiB hard limits fit {} MiB of RAM{}.",
            soft / MIB,
            hard / MIB,
            ram / MIB,
            match &f.log {
                Observed::Seen(l) if l.window_from.is_some() =>
                    format!("; no worker recycled or killed {}", window_words(l)),
                _ => String::new(),
            }
        );
    }
    fnd
}

/// A soft-limit recycle rate above this many per worker per hour is churn. Why one: Odoo's
/// default limit_memory_soft (2 GiB) is there to catch leaks, so a healthy worker lives for hours
/// or days; each recycle forks a fresh worker whose next requests reload the registry and caches
/// (seconds of latency). More than one an hour per worker means the limit sits below what the
/// workers need, and users feel it as slow pages, though no request is lost (the worker finishes
/// its request before it goes).
const CHURN_PER_WORKER_HOUR: f64 = 1.0;

/// "in the last 24 h", "since Odoo started 2 h ago", "in the 3 h the log covers".
fn window_words(l: &crate::facts::LogFacts) -> String {
    let span = span_words(l.window_hours * 3600.0);
    if l.window_truncated {
        format!(
            "in the {span} the log covers (since {} UTC)",
            l.window_from.as_deref().unwrap_or("?")
        )
    } else if l.window_since_start {
        format!("since Odoo started {span} ago")
    } else {
        format!("in the last {span}")
    }
}

/// Seconds for people, rounded: "39 minutes", "5 h", "24 h", "12 seconds".
fn span_words(secs: f64) -> String {
    let s = secs.max(0.0).round() as u64;
    if s >= 2 * 3600 {
        format!("{} h", (secs / 3600.0).round() as u64)
    } else if s >= 120 {
        crate::words::units((secs / 60.0).round() as u64, "minute")
    } else {
        crate::words::units(s, "second")
    }
}

/// What the log says of the workers in its window: recycles at the soft limit (rate per worker),
/// and kills that lose the request in flight (hard limit, limit_time_cpu, limit_time_real).
fn recycles_from_log(
    log: &crate::facts::LogFacts,
    o: &crate::facts::OdooFacts,
    workers: u64,
    mut fnd: Finding,
) -> Finding {
    let window = window_words(log);
    let time_cpu = o.option_u64("limit_time_cpu").unwrap_or(60);
    let time_real = o.option_u64("limit_time_real").unwrap_or(120);
    let lost = log.memory_kills + log.cpu_limit_kills + log.worker_timeouts;
    if log.memory_recycles + lost + log.cron_timeouts == 0 {
        if log.window_from.is_some() {
            fnd = fnd.evidence(
                log.source.clone(),
                format!("no worker recycled or killed {window}"),
            );
        }
        return fnd;
    }
    fnd = fnd.evidence(
        format!("{} ({window})", log.source),
        format!(
            "{} at limit_memory_soft, {} at limit_memory_hard (MemoryError), {} at limit_time_cpu = {time_cpu} s, {} at limit_time_real = {time_real} s, {}",
            crate::words::count(log.memory_recycles as usize, "recycle", "recycles"),
            crate::words::count(log.memory_kills as usize, "request failed", "requests failed"),
            crate::words::count(log.cpu_limit_kills as usize, "request stopped", "requests stopped"),
            crate::words::count(log.worker_timeouts as usize, "worker killed", "workers killed"),
            crate::words::count(log.cron_timeouts as usize, "cron worker killed", "cron workers killed"),
        ),
    );
    for s in log
        .samples
        .iter()
        .filter(|s| {
            s.contains("virtual memory limit")
                || s.starts_with("MemoryError")
                || s.contains("timeout after")
                || s.contains("CPU time limit")
        })
        .take(4)
    {
        fnd = fnd.evidence(log.source.clone(), s.clone());
    }
    if lost > 0 {
        fnd.worsen(
            Status::Fail,
            format!(
                "{} {window} lost the request in flight: {}.",
                crate::words::count(lost as usize, "worker stop", "worker stops"),
                [
                    (log.memory_kills, "at the hard memory limit"),
                    (log.cpu_limit_kills, "at limit_time_cpu"),
                    (log.worker_timeouts, "at limit_time_real"),
                ]
                .iter()
                .filter(|(n, _)| *n > 0)
                .map(|(n, what)| format!("{n} {what}"))
                .collect::<Vec<_>>()
                .join(", ")
            ),
        );
    }
    if log.memory_recycles > 0 {
        let hours = log.window_hours.max(1.0 / 60.0);
        let per_worker_hour = log.memory_recycles as f64 / workers.max(1) as f64 / hours;
        let every = span_words(hours * 3600.0 / log.memory_recycles as f64);
        let words = format!(
            "{} {window} across {}: about one every {every}",
            crate::words::count(
                log.memory_recycles as usize,
                "memory recycle",
                "memory recycles"
            ),
            crate::words::units(workers, "worker"),
        );
        // A short window (Odoo just started) says little about a rate: only counts over an hour
        // or more are judged as churn.
        fnd = fnd.evidence("recycling rate", words.clone());
        if per_worker_hour > CHURN_PER_WORKER_HOUR && log.window_hours >= 1.0 {
            fnd.worsen(
                Status::Warn,
                format!("{words}, more than one per worker per hour."),
            );
        }
    }
    if log.cron_timeouts > 0 {
        fnd.worsen(
            Status::Warn,
            format!(
                "{} {window} at limit_time_real (the cron's limit_time_real_cron or limit_time_real): the scheduled jobs they ran did not finish.",
                crate::words::count(log.cron_timeouts as usize, "cron worker was killed", "cron workers were killed")
            ),
        );
    }
    fnd
}

/// The databases Odoo offers for a host name under `dbfilter` (odoo/http.py `db_filter`).
pub use crate::db_scope::dbfilter_allows;

pub fn db_filter(f: &Facts, fnd: Finding) -> Finding {
    let mut fnd = fnd.refs(&[
        gh("odoo/odoo", 11740),
        gh("odoo/odoo", 15102),
        gh("odoo/odoo", 92043),
    ]);
    let filter = f.odoo.option("dbfilter").filter(|s| !s.is_empty());
    if let Observed::Seen(log) = &f.log {
        if log.dbfilter_rejects > 0 {
            fnd = fnd.evidence(
                format!("{} (last {} lines)", log.source, log.lines_scanned),
                format!(
                    "{} times: \"dbfilter rejects it; logging session out\"",
                    log.dbfilter_rejects
                ),
            );
            for s in log
                .samples
                .iter()
                .filter(|s| s.contains("dbfilter rejects"))
                .take(2)
            {
                fnd = fnd.evidence(log.source.clone(), s.clone());
            }
            fnd.worsen(Status::Fail, format!("Odoo logged people out {} because the database filter rejected their database for the host name they used.", crate::words::count(log.dbfilter_rejects as usize, "time", "times")));
            fnd = fnd
                .users_see("Logged out right after logging in, or when printing a PDF, depending on the address used.")
                .why("dbfilter picks the database from the host name in the address. When someone reaches Odoo under a name the filter does not match (an IP, a short name, the URL Odoo uses to print), their session's database is rejected and Odoo logs them out.");
        }
    }
    let Some(filter) = filter else {
        if fnd.status == Status::Ok {
            fnd.summary = "No dbfilter is set.".into();
        }
        return fnd;
    };
    fnd = fnd.evidence(
        f.odoo.option_source("dbfilter").unwrap_or_default(),
        format!("dbfilter = {filter}"),
    );
    if let (Some(db), Observed::Seen(_)) = (f.db.seen(), &f.nginx) {
        let names = match f.front() {
            FrontState::Front(fr) => fr.server_names(),
            _ => Vec::new(),
        };
        for name in names {
            let allowed: Vec<&str> = db
                .databases
                .iter()
                .map(|d| d.name.as_str())
                .filter(|d| dbfilter_allows(&filter, &name, d))
                .collect();
            if allowed.is_empty() {
                fnd = fnd.evidence(format!("host name {name}"), "no database matches dbfilter");
                fnd.worsen(
                    Status::Fail,
                    format!("Under the host name {name}, dbfilter matches no database."),
                );
            }
        }
    }
    let by_host = filter.contains("%h") || filter.contains("%d");
    if let Some(scope) = f.db_scope.as_ref().filter(|s| by_host && s.any_host) {
        fnd = fnd.evidence(
            "the nginx in front",
            format!(
                "a server block proxying to this Odoo accepts any host name (no server_name, \"_\", a wildcard or default_server){}",
                if scope.host_names.is_empty() {
                    String::new()
                } else {
                    format!("; named: {}", scope.host_names.join(", "))
                }
            ),
        );
        fnd.worsen(
            Status::Fail,
            format!("dbfilter {filter} picks the database from the host name, but the proxy accepts any name: people who use another address (the IP, a short name) get another database or the database selector."),
        );
        fnd = fnd
            .users_see("Depending on the address typed, the login page shows the database selector or another database, and a session made under one address is logged out under another.")
            .why("With %h or %d, Odoo chooses the database from the host name of each request. A catch-all server block hands Odoo every name anyone types, so the database it picks depends on the address, not on the user.")
            .note("Give the Odoo server block the exact server_name users should type (and redirect the others to it), or replace %h/%d by the database's name.");
    }
    if fnd.status == Status::Ok {
        fnd.summary = format!("dbfilter {filter} matches a database for every host name served.");
    }
    fnd
}

#[cfg(test)]
mod tests {
    use super::dbfilter_allows;

    #[test]
    fn dbfilter_substitutes_host_and_domain_like_odoo() {
        assert!(dbfilter_allows("^%d$", "erp.example.com", "erp"));
        assert!(!dbfilter_allows("^%d$", "10.0.0.5", "erp"));
        assert!(dbfilter_allows(
            "^%h$",
            "www.erp.example.com:8069",
            "erp.example.com"
        ));
        assert!(dbfilter_allows("prod", "anything", "prod_2024"));
        assert!(!dbfilter_allows("prod$", "anything", "staging"));
    }
}
