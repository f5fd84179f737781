//! The progress line on stderr: a spinner with the engine's current step, shown only when stderr
//! is a terminal and only once a call has taken more than a second (a quick command stays
//! silent, a script's log stays clean). The steps come from the engine's progress sink
//! (`osd_engine::progress`); drawing is `indicatif`'s.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use osd_engine::progress::Progress;
use std::io::IsTerminal;
use std::sync::mpsc;
use std::time::Duration;

/// How long a call runs before its progress line appears.
const QUIET_FOR: Duration = Duration::from_secs(1);

pub struct Activity {
    bar: ProgressBar,
    /// Dropping it wakes the thread waiting to show the line: the call ended first.
    done: Option<mpsc::Sender<()>>,
    shower: Option<std::thread::JoinHandle<()>>,
}

impl Activity {
    /// Starts following a call; `what` is the first line (e.g. "Connecting to prod").
    pub fn start(what: impl Into<String>) -> Activity {
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::hidden());
        bar.set_style(
            ProgressStyle::with_template("{spinner} {msg} ({elapsed})").expect("a valid template"),
        );
        bar.set_message(what.into());
        let (done, wait) = mpsc::channel::<()>();
        let shower = std::io::stderr().is_terminal().then(|| {
            let bar = bar.clone();
            std::thread::spawn(move || {
                // A timeout means the call is still running after QUIET_FOR: show the line.
                if let Err(mpsc::RecvTimeoutError::Timeout) = wait.recv_timeout(QUIET_FOR) {
                    bar.set_draw_target(ProgressDrawTarget::stderr());
                    bar.enable_steady_tick(Duration::from_millis(120));
                }
            })
        });
        Activity {
            bar,
            done: Some(done),
            shower,
        }
    }

    /// Says what happens now.
    pub fn say(&self, what: impl Into<String>) {
        self.bar.set_message(what.into());
    }

    /// Follows the engine's progress (the sink its long calls take).
    pub fn follow(&self, p: &Progress) {
        if let Progress::Step { step, detail } = p {
            if detail.is_empty() {
                self.say(step.words());
            } else {
                self.say(format!("{}: {detail}", step.words()));
            }
        }
    }

    /// Prints a whole line on stderr without tearing the progress line.
    pub fn line(&self, text: &str) {
        self.bar.suspend(|| eprintln!("{text}"));
    }
}

impl Drop for Activity {
    fn drop(&mut self) {
        drop(self.done.take());
        if let Some(t) = self.shower.take() {
            let _ = t.join();
        }
        self.bar.finish_and_clear();
    }
}
