//! Checks on odoo.conf and system parameters: folklore that does nothing, and syntax Odoo misreads.

use super::{Finding, FixOffer, Status};
use crate::facts::Facts;
use crate::odoo_conf::Severity;
use crate::odoo_options::{
    addon_option, folklore as folklore_entry, option_status, FolkloreKind, OptionStatus,
};

pub fn folklore(f: &Facts) -> Finding {
    let mut fnd = Finding::new("conf.folklore", "Settings that do nothing (folklore)");
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
    fnd.status(Status::Warn, format!("{found} setting(s) that Odoo never reads: they give a false sense that the problem is handled."))
        .users_see("Nothing changes for users: these settings are ignored, so the logouts they were meant to stop go on.")
        .why("Advice found online mixes real Odoo settings with names from other frameworks (Django) or old add-ons. Odoo silently ignores what it does not know.")
        .fix(FixOffer { title: "Remove them (and set the real lifetime under session.lifetime)".into(), choices: vec![], default: None })
}

pub fn syntax(f: &Facts) -> Finding {
    let fnd = Finding::new("conf.syntax", "odoo.conf says what it means");
    let Some(conf) = &f.odoo.config else {
        return fnd.status(
            Status::Unknown,
            "The config file in effect could not be read.",
        );
    };
    let mut fnd = fnd;
    for p in conf.doc.problems() {
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
