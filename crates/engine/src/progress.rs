//! Progress of the engine's long calls (diagnose, apply, rollback), reported as it happens
//! through a sink the caller passes: the CLI prints it on stderr, the app forwards it to the UI
//! over a typed channel. One list of steps for every face, so none of them re-declares it.
use serde::Serialize;

/// A stage of a long call, in the order a session meets them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum Step {
    // Connecting: the faces open the connection (osd-remote) and report these two themselves.
    /// TCP, SSH handshake, host key check, login.
    Connecting,
    /// Logged in; reading who the server is and whether root is reachable.
    Identifying,
    // Diagnosis (discovery, the live probe, the checks):
    /// Odoo's processes and services, nginx, the cleaners: the first script.
    Inventory,
    /// The chosen instance's files, session store and logs: the second script.
    Config,
    /// The databases the instance serves (runs while the config is read).
    Database,
    /// Asking the running Odoo who it is (runs while the config is read).
    Server,
    /// Logging in to Odoo with the test account to watch a real session.
    Probe,
    /// Turning the facts into findings.
    Judging,
    // Apply and rollback:
    Lock,
    CheckUnchanged,
    Record,
    WriteFiles,
    Validate,
    WriteParams,
    ReloadNginx,
    RestartOdoo,
    WaitHealth,
    Verify,
    RollBack,
    Done,
}

impl Step {
    /// The plain-words lead of a step; the engine's own detail (a path, a command) follows it.
    pub fn words(self) -> &'static str {
        match self {
            Step::Connecting => "Connecting",
            Step::Identifying => "Checking the login",
            Step::Inventory => "Looking for Odoo's processes, services and nginx",
            Step::Config => "Reading the Odoo server's config, sessions and logs",
            Step::Database => "Reading Odoo's settings in its databases",
            Step::Server => "Asking the running Odoo what it is",
            Step::Probe => "Testing a real login",
            Step::Judging => "Checking every item of the checklist",
            Step::Lock => "Making sure no one else is changing this server",
            Step::CheckUnchanged => "Checking nothing changed since the preview",
            Step::Record => "Backing up the files and settings",
            Step::WriteFiles => "Writing the new files",
            Step::Validate => "Validating the new configuration",
            Step::WriteParams => "Writing Odoo's settings",
            Step::ReloadNginx => "Reloading nginx",
            Step::RestartOdoo => "Restarting Odoo",
            Step::WaitHealth => "Waiting for Odoo to answer again",
            Step::Verify => "Verifying the fix",
            Step::RollBack => "Putting everything back",
            Step::Done => "Done",
        }
    }

    /// An apply's cancel flag is honoured before this step and no longer from it on: the
    /// reload or restart has started, so the apply finishes and verifies or rolls back itself.
    pub fn ends_cancel(self) -> bool {
        matches!(
            self,
            Step::ReloadNginx
                | Step::RestartOdoo
                | Step::WaitHealth
                | Step::Verify
                | Step::RollBack
                | Step::Done
        )
    }
}

/// One report, streamed as it happens.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(tag = "event", content = "data", rename_all = "snake_case")]
pub enum Progress {
    /// A step began; `detail` says what exactly happens (a path, a command), possibly empty.
    Step { step: Step, detail: String },
    /// A line printed by a service command (the restart's output).
    Output { line: String },
    /// The change is applied and Odoo answers; the server now waits `seconds` for the client's
    /// confirmation (after its verification) and undoes the change by itself without it.
    Guard { seconds: u64 },
}

/// Where progress goes. `Sync`: discovery reports from the threads that read in parallel.
pub type Sink<'a> = &'a (dyn Fn(&Progress) + Sync);

/// A sink for callers that do not follow progress.
pub fn quiet(_: &Progress) {}

pub(crate) fn step(p: Sink, step: Step, detail: impl Into<String>) {
    p(&Progress::Step {
        step,
        detail: detail.into(),
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cancel_ends_at_the_first_service_action() {
        assert!(!Step::WriteParams.ends_cancel());
        assert!(!Step::Validate.ends_cancel());
        assert!(Step::ReloadNginx.ends_cancel());
        assert!(Step::RestartOdoo.ends_cancel());
    }
}
