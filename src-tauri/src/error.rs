//! The one error the UI sees: `{code, message, hint}`.
//!
//! `code` is a stable machine word the UI may branch on (add one only when the UI uses it);
//! `message` says what happened in plain words; `hint` says what the person can do about it.
//! Engine errors are mapped here, never stringified inside the engine.
use serde::Serialize;

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct AppError {
    pub code: &'static str,
    pub message: String,
    pub hint: String,
}

impl AppError {
    pub fn new(code: &'static str, message: impl Into<String>, hint: impl Into<String>) -> Self {
        Self { code, message: message.into(), hint: hint.into() }
    }

    /// A background task died (a panic in the engine): never leave the UI waiting.
    pub fn internal(what: impl std::fmt::Display) -> Self {
        Self::new(
            "internal",
            format!("Something went wrong inside the app: {what}"),
            "Please try again. If it keeps happening, report it with the app's log.",
        )
    }
}

impl std::fmt::Display for AppError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({}) {}", self.message, self.code, self.hint)
    }
}

impl std::error::Error for AppError {}

pub type AppResult<T> = Result<T, AppError>;
