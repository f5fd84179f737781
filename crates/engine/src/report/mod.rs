//! Reports: the per-server checklist report a manager can read and an engineer can trust
//! (issue 6), and the fleet summary across servers.
//!
//! One value, [`ReportModel`], is built from a [`crate::Diagnosis`] (optionally the diagnosis
//! from before a fix, and the host's change-set [`crate::change::record::Record`]s); three formats
//! render it:
//!
//! - **HTML**: one self-contained file (inline CSS and SVG, no script, no external asset) that
//!   prints cleanly to PDF and reads on a phone;
//! - **Markdown**: for tickets;
//! - **JSON**: the model itself, documented in `docs/report-json.md`, and read back by `--from`.
//!
//! HTML and Markdown come from templates (`templates/`, MiniJinja, HTML auto-escaped), not from
//! concatenated strings. The GUI's export and the CLI's `report` call [`render`] with the same
//! model, so both write the same files.

pub mod chart;
pub mod fleet;
pub mod model;
pub mod text;

pub use fleet::{fleet, Fleet};
pub use model::{CheckStatus, Inputs, Meta, ReportModel, SCHEMA};

use minijinja::value::Serde;
use minijinja::{context, AutoEscape, Environment};
use std::str::FromStr;

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("the report template failed: {0:#}")]
    Template(#[from] minijinja::Error),
    #[error("not a report in JSON: {0}")]
    Json(serde_json::Error),
    #[error("this is a report of schema '{0}'; this version reads '{SCHEMA}'")]
    Schema(String),
    #[error("unknown report format '{0}' (expected html, md or json)")]
    Format(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Html,
    Markdown,
    Json,
}

impl Format {
    /// The usual file extension.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Html => "html",
            Format::Markdown => "md",
            Format::Json => "json",
        }
    }
}

impl FromStr for Format {
    type Err = ReportError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "html" | "htm" => Ok(Format::Html),
            "md" | "markdown" => Ok(Format::Markdown),
            "json" => Ok(Format::Json),
            other => Err(ReportError::Format(other.to_string())),
        }
    }
}

const TEMPLATES: &[(&str, &str)] = &[
    ("report.html", include_str!("templates/report.html")),
    ("report.md", include_str!("templates/report.md")),
    ("fleet.html", include_str!("templates/fleet.html")),
    ("fleet.md", include_str!("templates/fleet.md")),
    ("style.css", include_str!("templates/style.css")),
    ("macros.html", include_str!("templates/macros.html")),
];

fn status(s: &str) -> CheckStatus {
    serde_json::from_value(serde_json::Value::String(s.to_string())).unwrap_or(CheckStatus::Unknown)
}

fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_auto_escape_callback(|name| {
        if name.ends_with(".html") {
            AutoEscape::Html
        } else {
            AutoEscape::None
        }
    });
    env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
    env.set_syntax(
        minijinja::syntax::SyntaxConfig::builder()
            .trim_blocks(true)
            .lstrip_blocks(true)
            .build()
            .expect("syntax"),
    );
    for (name, src) in TEMPLATES {
        env.add_template(name, src)
            .unwrap_or_else(|e| panic!("report template {name}: {e:#}"));
    }
    env.add_filter("mark", |s: &str| status(s).mark());
    env.add_filter("word", |s: &str| status(s).word());
    env.add_filter("bytes", |n: u64| text::bytes(n));
    // `{{ n|units("CPU") }}` → "1 CPU", "2 CPUs"
    env.add_filter("units", |n: u64, unit: &str| crate::words::units(n, unit));
    env.add_filter("age", |n: u64| text::age(n));
    env.add_filter("md", |s: &str| text::md(s));
    env.add_filter("code", |s: &str| text::md_code(s));
    env.add_filter("block", |s: &str, info: Option<&str>| {
        text::md_block(s, info.unwrap_or(""))
    });
    env.add_filter("short_host", |s: &str| -> String {
        // "odoo-prod-1.example.com" → "odoo-prod-1"; addresses stay whole.
        let host = s.rsplit('@').next().unwrap_or(s);
        if host.chars().next().is_some_and(|c| c.is_ascii_alphabetic()) {
            host.split(['.', ':']).next().unwrap_or(host).to_string()
        } else {
            host.to_string()
        }
    });
    env.add_filter("diff_lines", |s: &str| -> Vec<(String, String)> {
        s.lines()
            .map(|l| {
                let class = if l.starts_with("+++") || l.starts_with("---") {
                    "file"
                } else if l.starts_with("@@") {
                    "hunk"
                } else if l.starts_with('+') {
                    "add"
                } else if l.starts_with('-') {
                    "del"
                } else {
                    "ctx"
                };
                (class.to_string(), l.to_string())
            })
            .collect()
    });
    env
}

/// Renders one server's report.
pub fn render(model: &ReportModel, format: Format) -> Result<String, ReportError> {
    let chart = match &model.sessions {
        model::Sessions::Seen(v) => Some(chart::chart(v)),
        model::Sessions::Unknown { .. } => None,
    };
    let name = match format {
        Format::Json => return Ok(model.to_json()),
        Format::Html => "report.html",
        Format::Markdown => "report.md",
    };
    let env = environment();
    let out = env.get_template(name)?.render(context! {
        r => Serde(model),
        chart => Serde(&chart),
        mask => text::MASK,
        cli => model::CLI,
    })?;
    Ok(finish(out))
}

/// Renders the fleet summary of several servers' reports.
pub fn render_fleet(models: &[ReportModel], format: Format) -> Result<String, ReportError> {
    let f = fleet(models);
    let name = match format {
        Format::Json => {
            let mut s = serde_json::to_string_pretty(&f).expect("the fleet serializes");
            s.push('\n');
            return Ok(s);
        }
        Format::Html => "fleet.html",
        Format::Markdown => "fleet.md",
    };
    let product = models
        .first()
        .map(|m| m.meta.product_version.clone())
        .unwrap_or_else(|| env!("CARGO_PKG_VERSION").to_string());
    let env = environment();
    let out = env
        .get_template(name)?
        .render(context! { f => Serde(&f), product_version => product })?;
    Ok(finish(out))
}

/// Exactly one trailing newline (lines are left alone: a diff's context line may be a lone space).
fn finish(out: String) -> String {
    let mut s = out;
    while s.ends_with('\n') {
        s.pop();
    }
    s.push('\n');
    s
}
