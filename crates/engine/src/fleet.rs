//! Many servers at once: the inventory (Ansible INI or YAML, or names), `--limit` patterns, the
//! bounded concurrent runner both faces use to diagnose a fleet (each host's result reported the
//! moment it finishes; a host that fails is a result, never a stop), and drift against a saved
//! fleet result.
//!
//! The public API, for the CLI (`fleet diagnose`) and the app's Fleet screen:
//! - [`load_inventory`] / [`parse_ini`] / [`parse_yaml`] → [`Inventory`]; [`Inventory::from_names`];
//! - [`Inventory::limit`] (Ansible patterns: `web*`, `a:b`, `a:&b`, `a:!b`) → [`FleetTarget`]s;
//! - [`diagnose_fleet`] (with the caller's `connect`) → [`FleetHost`] per target;
//! - [`read_results`] (a saved `--json` run) and [`drift`] / [`add_drift`] → [`Drift`].

mod inventory;
mod pattern;
mod results;

pub use inventory::{load_inventory, parse_ini, parse_yaml, FleetTarget, Inventory};
pub use results::{
    add_drift, diagnose_fleet, diagnose_host, drift, exit_code, read_results, CheckDrift, Drift,
    EditDrift, FleetHost, HostReport, DEFAULT_FORKS,
};

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

/// Runs `work` on every item with at most `forks` at a time (like Ansible's `--forks`), calls
/// `done` with each result as soon as it is there (in finishing order), and returns the results
/// in the items' order.
pub fn run_bounded<T, R>(
    items: &[T],
    forks: usize,
    work: impl Fn(usize, &T) -> R + Sync,
    done: impl Fn(usize, &R) + Sync,
) -> Vec<R>
where
    T: Sync,
    R: Send,
{
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<R>>> = Mutex::new((0..items.len()).map(|_| None).collect());
    std::thread::scope(|s| {
        for _ in 0..forks.clamp(1, items.len().max(1)) {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                let Some(item) = items.get(i) else { break };
                let r = work(i, item);
                done(i, &r);
                results.lock().unwrap()[i] = Some(r);
            });
        }
    });
    results
        .into_inner()
        .unwrap()
        .into_iter()
        .map(|r| r.expect("every item ran"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exactly_forks_at_once_and_results_in_item_order() {
        let running = AtomicUsize::new(0);
        let peak = AtomicUsize::new(0);
        let finished = Mutex::new(Vec::new());
        // The first three meet inside `work`: three run at once (else this never returns).
        let meet = std::sync::Barrier::new(3);
        let items: Vec<usize> = (0..9).collect();
        let out = run_bounded(
            &items,
            3,
            |_, &n| {
                let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                peak.fetch_max(now, Ordering::SeqCst);
                if n < 3 {
                    meet.wait();
                }
                running.fetch_sub(1, Ordering::SeqCst);
                n * 10
            },
            |i, _| finished.lock().unwrap().push(i),
        );
        assert_eq!(out, (0..9).map(|n| n * 10).collect::<Vec<_>>());
        assert_eq!(peak.load(Ordering::SeqCst), 3);
        let mut f = finished.into_inner().unwrap();
        f.sort();
        assert_eq!(f, (0..9).collect::<Vec<_>>());
    }
}
