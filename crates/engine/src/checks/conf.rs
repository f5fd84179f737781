//! Checks on odoo.conf and system parameters: folklore that does nothing, and syntax Odoo misreads.

use super::{CheckId, Finding, FixOffer, Status};
use crate::facts::Facts;
use crate::odoo_conf::Severity;
use crate::odoo_options::{
    accepted_value, addon_option, folklore as folklore_entry, option_status, value_error,
    FolkloreKind, OptionStatus,
};

pub fn folklore(f: &Facts, mut fnd: Finding) -> Finding {
    let mut found = 0;
    if let Some(conf) = &f.odoo.config {
        for e in conf.doc.entries("options") {
            if let Some(fl) = folklore_entry(FolkloreKind::ConfKey, &e.key) {
                found += 1;
                fnd = fnd.evidence(
                    format!("{}:{}", conf.path, e.line),
                    format!(
                        "{} {} {} — {} Instead: {}.",
                        e.raw_key, e.separator, e.value, fl.truth, fl.instead
                    ),
                );
            }
        }
    }
    if let Some(db) = f.db.seen() {
        for d in &db.databases {
            for (k, v) in &d.params {
                if let Some(fl) = folklore_entry(FolkloreKind::SystemParameter, k) {
                    found += 1;
                    fnd = fnd.evidence(
                        format!("ir_config_parameter in database {}", d.name),
                        format!("{k} = {v} — {} Instead: {}.", fl.truth, fl.instead),
                    );
                }
            }
            for (m, state) in &d.modules {
                if let Some(fl) = folklore_entry(FolkloreKind::Module, m) {
                    if state == "installed" {
                        found += 1;
                        fnd = fnd.evidence(
                            format!("ir_module_module in database {}", d.name),
                            format!("{m} ({state}) — {} Instead: {}.", fl.truth, fl.instead),
                        );
                    }
                }
            }
        }
    }
    if found == 0 {
        return fnd.status(Status::Ok, "No folklore settings found.");
    }
    fnd.status(Status::Warn, format!("{} that Odoo never reads: {} a false sense that the problem is handled.", crate::words::count(found, "setting", "settings"), crate::words::form(found, "it gives", "they give")))
        .users_see("Nothing changes for users: these settings are ignored, so the logouts they were meant to stop go on.")
        .why("Advice found online mixes real Odoo settings with names from other frameworks (Django) or old add-ons. Odoo silently ignores what it does not know.")
        .fix(FixOffer { title: format!("Comment them out with a dated note (and set the real lifetime under {})", CheckId::SessionLifetime.mention()), choices: vec![], default: None })
}

/// A value `major` refuses at start, and what Odoo would accept instead when that is plain.
#[derive(Debug, Clone, PartialEq)]
pub struct RefusedValue {
    pub line: usize,
    pub key: String,
    pub value: String,
    pub error: String,
    /// The accepted value and the inline "comment" to keep on its own line.
    pub fixed: Option<(String, Option<String>)>,
}

pub fn refused_values(doc: &crate::odoo_conf::OdooConf, major: u8) -> Vec<RefusedValue> {
    doc.entries("options")
        .iter()
        .filter_map(|e| {
            let error = value_error(major, e.key, e.value)?;
            Some(RefusedValue {
                line: e.line,
                key: e.key.to_string(),
                value: e.value.to_string(),
                error,
                fixed: accepted_value(major, e.key, e.value),
            })
        })
        .collect()
}

pub fn syntax(f: &Facts, fnd: Finding) -> Finding {
    let Some(conf) = &f.odoo.config else {
        return fnd.status(
            Status::Unknown,
            "The config file in effect could not be read.",
        );
    };
    let mut fnd = fnd;
    // Values the version refuses at start (facts §6): before the softer problems of the same line.
    let major = f.odoo.version.map(|v| v.major).unwrap_or(17);
    let refused = refused_values(&conf.doc, major);
    let mut fixable = 0;
    for r in &refused {
        fnd = fnd.evidence(
            format!("{}:{}", conf.path, r.line),
            format!(
                "{} = {} — Odoo {} stops at start: {}",
                r.key,
                r.value,
                f.odoo
                    .version
                    .map(|v| v.to_string())
                    .unwrap_or_else(|| "12–18".into()),
                r.error
            ),
        );
        if r.fixed.is_some() {
            fixable += 1;
        }
        fnd.worsen(
            Status::Fail,
            format!(
                "{}:{} has a value Odoo refuses ({}): Odoo does not start{}.",
                conf.path,
                r.line,
                r.error,
                if f.odoo.state.is_running() {
                    " at its next restart"
                } else {
                    ", and this is why it is down"
                }
            ),
        );
    }
    if !refused.is_empty() {
        let fixes: Vec<String> = refused
            .iter()
            .filter_map(|r| {
                r.fixed.as_ref().map(|(v, c)| {
                    format!(
                        "{} = {v}{}",
                        r.key,
                        c.as_ref()
                            .map(|c| format!(" (the note \"{c}\" kept on its own line)"))
                            .unwrap_or_default()
                    )
                })
            })
            .collect();
        fnd = fnd
            .users_see(if f.odoo.state.is_running() {
                "Nothing yet; the next restart (an update, a reboot) takes the whole site down."
            } else {
                "The site does not load at all: Odoo stops while reading its config file."
            })
            .why("Odoo reads every number and list option of odoo.conf strictly: there are no comments after a value, so \"465   #25\" is not a number, and Odoo refuses to start rather than guess.");
        if fixable > 0 {
            fnd = fnd.fix(FixOffer {
                title: format!("Write the value Odoo accepts: {}", fixes.join("; ")),
                choices: vec![],
                default: None,
            });
        } else {
            fnd = fnd.note("Correct the value by hand (Odoo's message names what it accepts), then diagnose again.");
        }
    }
    for p in conf.doc.problems() {
        if refused.iter().any(|r| r.line == p.line) {
            continue; // already said, with its consequence
        }
        let fatal = p.severity == Severity::Fatal;
        let status = if fatal { Status::Fail } else { Status::Warn };
        fnd = fnd.evidence(format!("{}:{}", conf.path, p.line), p.message.clone());
        fnd.worsen(
            status,
            if fatal {
                "odoo.conf has an error that stops Odoo from starting at its next restart."
                    .to_string()
            } else {
                "odoo.conf has a line Odoo reads differently than it looks.".to_string()
            },
        );
    }
    if let Some(v) = f.odoo.version {
        for e in conf.doc.entries("options") {
            if folklore_entry(FolkloreKind::ConfKey, &e.key).is_some() {
                continue; // reported by conf.folklore
            }
            match option_status(v.major, &e.key) {
                OptionStatus::Known => {}
                OptionStatus::DeprecatedAlias { use_instead } => {
                    fnd = fnd.evidence(
                        format!("{}:{}", conf.path, e.line),
                        format!(
                            "{} is a deprecated name in Odoo {v}: use {use_instead}",
                            e.key
                        ),
                    );
                    fnd.worsen(
                        Status::Warn,
                        "odoo.conf uses option names this version of Odoo ignores or renamed.",
                    );
                }
                OptionStatus::Unknown { renamed_to } => {
                    if let Some(module) = addon_option(&e.key) {
                        let _ = module; // read by a known add-on: not unknown
                        continue;
                    }
                    let hint = renamed_to
                        .map(|n| format!(" (renamed {n})"))
                        .unwrap_or_default();
                    fnd = fnd.evidence(
                        format!("{}:{}", conf.path, e.line),
                        format!(
                            "{} is not an option of Odoo {v}{hint}: it is ignored",
                            e.key
                        ),
                    );
                    fnd.worsen(
                        Status::Warn,
                        "odoo.conf uses option names this version of Odoo ignores or renamed.",
                    );
                }
            }
        }
    }
    if fnd.status == Status::Ok {
        fnd.summary = format!("{} parses the way Odoo reads it.", conf.path);
    } else {
        fnd = fnd.why("Odoo reads odoo.conf with Python's configparser: a key written twice stops Odoo from starting, text after a value (\"; note\") becomes part of the value, and unknown names are silently ignored.");
    }
    fnd
}
