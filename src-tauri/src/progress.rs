//! Typed progress events sent to the UI over a `tauri::ipc::Channel<ProgressEvent>`.
//!
//! The UI creates a `Channel`, passes it as the `onProgress` argument of a long command and gets
//! one message per step, each `{event: "...", data: {...}}` (adjacently tagged, so the TypeScript
//! side is a discriminated union; ui/types/bindings.d.ts is generated from this file). The
//! engine reports through a sink of its own (`osd_engine::change::apply::Progress`); the shell
//! maps those reports here, one for one. The UI must ignore variants it does not know.
use osd_engine::change::apply::{Progress, Step as EngineStep};
use serde::Serialize;
use ts_rs::TS;

#[derive(Debug, Clone, Serialize, PartialEq, Eq, TS)]
#[serde(tag = "event", content = "data", rename_all = "camelCase")]
pub enum ProgressEvent {
    /// A step began; `message` is the words to show next to the progress indicator, `detail`
    /// what exactly happens (the engine's words: a path, a command), possibly empty.
    /// `cancellable` is false from the moment cancelling would no longer stop the change
    /// (the reload or restart has started).
    #[serde(rename_all = "camelCase")]
    Step {
        step: Step,
        message: String,
        detail: String,
        cancellable: bool,
    },
    /// A line a service command printed (the restart's output), streamed as it comes.
    #[serde(rename_all = "camelCase")]
    Output { line: String },
    /// The long task finished (successfully or not: the command's result says which).
    Finished,
}

#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq, TS)]
#[serde(rename_all = "camelCase")]
pub enum Step {
    /// TCP, SSH handshake, host key check, login.
    Connecting,
    /// Logged in; reading who the server is and whether root is reachable.
    Identifying,
    /// Reading Odoo's processes, config, nginx, the session store, the database.
    Discovering,
    /// Logging in to Odoo with the test account to watch a real session.
    Probing,
    /// Working out the exact edits of a fix.
    Planning,
    // The apply and rollback steps, as the engine reports them:
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

impl From<EngineStep> for Step {
    fn from(step: EngineStep) -> Self {
        // Exhaustive on purpose: a step added to the engine does not compile until it has a name here.
        match step {
            EngineStep::Lock => Step::Lock,
            EngineStep::CheckUnchanged => Step::CheckUnchanged,
            EngineStep::Record => Step::Record,
            EngineStep::WriteFiles => Step::WriteFiles,
            EngineStep::Validate => Step::Validate,
            EngineStep::WriteParams => Step::WriteParams,
            EngineStep::ReloadNginx => Step::ReloadNginx,
            EngineStep::RestartOdoo => Step::RestartOdoo,
            EngineStep::WaitHealth => Step::WaitHealth,
            EngineStep::Verify => Step::Verify,
            EngineStep::RollBack => Step::RollBack,
            EngineStep::Done => Step::Done,
        }
    }
}

impl Step {
    /// The plain-words lead of an engine step; the engine's own detail follows it.
    fn words(self) -> &'static str {
        match self {
            Step::Connecting => "Connecting",
            Step::Identifying => "Checking the login",
            Step::Discovering => "Reading the server's setup",
            Step::Probing => "Testing a real login",
            Step::Planning => "Preparing the changes",
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

    /// Cancelling still stops the change before this step, and no longer from it on: the
    /// engine honours its cancel flag until the restart starts.
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

/// The engine's report as the UI's event. `cancellable` is the caller's knowledge (see
/// [`Step::ends_cancel`]), passed in so one apply's events agree with each other.
pub fn from_engine(progress: &Progress, cancellable: bool) -> ProgressEvent {
    match progress {
        Progress::Step { step, detail } => {
            let step = Step::from(*step);
            ProgressEvent::Step {
                step,
                message: format!("{}…", step.words()),
                detail: detail.clone(),
                cancellable,
            }
        }
        Progress::Output { line } => ProgressEvent::Output { line: line.clone() },
    }
}

pub fn step(step: Step, message: impl Into<String>) -> ProgressEvent {
    ProgressEvent::Step {
        step,
        message: message.into(),
        detail: String::new(),
        cancellable: false,
    }
}

/// Where a command reports progress: the UI's channel in the app, a vector in tests.
pub trait ProgressSink: Send + Sync + 'static {
    fn report(&self, event: ProgressEvent);
}

impl ProgressSink for tauri::ipc::Channel<ProgressEvent> {
    fn report(&self, event: ProgressEvent) {
        // The UI may have gone away (window closed): progress is best-effort by design.
        let _ = self.send(event);
    }
}

impl ProgressSink for () {
    fn report(&self, _event: ProgressEvent) {}
}

impl ProgressSink for std::sync::Mutex<Vec<ProgressEvent>> {
    fn report(&self, event: ProgressEvent) {
        self.lock().unwrap().push(event);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn engine_steps_become_typed_events_with_words() {
        let e = from_engine(
            &Progress::Step {
                step: EngineStep::RestartOdoo,
                detail: "supervisorctl restart odoo".into(),
            },
            false,
        );
        assert_eq!(
            serde_json::to_value(&e).unwrap(),
            serde_json::json!({"event": "step", "data": {"step": "restartOdoo", "message": "Restarting Odoo…", "detail": "supervisorctl restart odoo", "cancellable": false}})
        );
        let e = from_engine(
            &Progress::Output {
                line: "odoo: started".into(),
            },
            true,
        );
        assert_eq!(
            serde_json::to_value(&e).unwrap(),
            serde_json::json!({"event": "output", "data": {"line": "odoo: started"}})
        );
        assert_eq!(
            serde_json::to_value(ProgressEvent::Finished).unwrap(),
            serde_json::json!({"event": "finished"})
        );
    }

    #[test]
    fn cancel_ends_at_the_first_service_action() {
        assert!(!Step::WriteParams.ends_cancel());
        assert!(!Step::Validate.ends_cancel());
        assert!(Step::ReloadNginx.ends_cancel());
        assert!(Step::RestartOdoo.ends_cancel());
    }
}
