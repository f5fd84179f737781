//! Typed progress events sent to the UI over a `tauri::ipc::Channel<ProgressEvent>`.
//!
//! The UI creates a `Channel`, passes it as the `onProgress` argument of a long command and gets
//! one message per step, each `{event: "...", data: {...}}` (adjacently tagged, so the TypeScript
//! side is a discriminated union; ui/types/bindings.d.ts is generated from these types). The
//! steps are the engine's own ([`osd_engine::progress::Step`]): the engine reports through its
//! sink and the shell forwards each report, adding only the words to show and whether Cancel
//! still works. The UI must ignore variants it does not know.
use osd_engine::progress::{Progress, Step};
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
    /// The server waits this long for the app's confirmation, then undoes the change by itself:
    /// the screen counts it down while the app verifies.
    #[serde(rename_all = "camelCase")]
    Guard { seconds: u64 },
    /// "Diagnose all": this server's diagnosis began.
    #[serde(rename_all = "camelCase")]
    ServerStarted { server_id: String },
    /// "Diagnose all": this server's result (its verdict, or why it could not be diagnosed).
    #[serde(rename_all = "camelCase")]
    ServerFinished {
        server_id: String,
        result: crate::fleet::LastResult,
    },
    /// The long task finished (successfully or not: the command's result says which).
    Finished,
}

/// The engine's report as the UI's event. `cancellable` is the caller's knowledge (see
/// [`Step::ends_cancel`]), passed in so one apply's events agree with each other.
pub fn from_engine(progress: &Progress, cancellable: bool) -> ProgressEvent {
    match progress {
        Progress::Step { step, detail } => ProgressEvent::Step {
            step: *step,
            message: format!("{}…", step.words()),
            detail: detail.clone(),
            cancellable,
        },
        Progress::Output { line } => ProgressEvent::Output { line: line.clone() },
        Progress::Guard { seconds } => ProgressEvent::Guard { seconds: *seconds },
    }
}

/// A step the shell itself takes (connecting), with words of its own.
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
                step: Step::RestartOdoo,
                detail: "supervisorctl restart odoo".into(),
            },
            false,
        );
        assert_eq!(
            serde_json::to_value(&e).unwrap(),
            serde_json::json!({"event": "step", "data": {"step": "restart_odoo", "message": "Restarting Odoo…", "detail": "supervisorctl restart odoo", "cancellable": false}})
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
}
