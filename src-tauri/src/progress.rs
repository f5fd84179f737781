//! Typed progress events sent to the UI over a `tauri::ipc::Channel<ProgressEvent>`.
//!
//! The UI creates a `Channel`, passes it as the `onProgress` argument of a long command and gets
//! one message per step, each `{event: "...", data: {...}}` (adjacently tagged, so the TypeScript
//! side is a discriminated union). The engine will report through a sink of its own; the shell
//! only forwards those reports here. The wizard (apply, restart output, verification) adds
//! variants; the UI must ignore variants it does not know.
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
#[serde(tag = "event", content = "data", rename_all = "camelCase")]
pub enum ProgressEvent {
    /// A step began; `message` is the words to show next to the progress indicator.
    #[serde(rename_all = "camelCase")]
    Step { step: Step, message: String },
    /// The long task finished (successfully or not: the command's result says which).
    Finished,
}

#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub enum Step {
    /// TCP, SSH handshake, host key check, login.
    Connecting,
    /// Logged in; reading who the server is.
    Identifying,
}

/// Where a command reports progress: the UI's channel in the app, nothing in tests.
pub trait ProgressSink: Send + 'static {
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
