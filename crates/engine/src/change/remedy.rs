//! Whether the app can fix a finding here: each not-ok check is planned alone, as a dry run over
//! the files the facts carry ([`MemFiles::from_facts`], no host), and the outcome decides its
//! [`Remedy`]. A change to make is `here`; nothing to change, a refusal, or an Odoo nothing can
//! restart is `needs_you`, with the steps a person takes. The faces offer only what is `here`, so
//! no wizard item ever ends in "nothing to change".

use super::plan::{plan_with, FixRequest};
use super::workspace::MemFiles;
use super::ChangeSet;
use crate::checks::{CheckId, Finding, Remedy, Status};
use crate::error::EngineError;
use crate::facts::Facts;
use crate::nginx::front::FrontState;
use crate::Diagnosis;

/// The remedy of every finding of `d`, in the order of `d.checks`.
pub fn decide_all(d: &Diagnosis) -> Vec<Remedy> {
    let files = MemFiles::from_facts(&d.facts);
    d.checks.iter().map(|f| decide(&files, d, f)).collect()
}

/// The remedy of one finding: planning its check alone over `files` decides.
pub fn decide(files: &MemFiles, d: &Diagnosis, f: &Finding) -> Remedy {
    // An inform-only finding is news, not a fault: no fix, and no "needs you" steps to invent.
    if matches!(f.status, Status::Ok | Status::Skip) || crate::registry::INFORM_ONLY.contains(&f.id)
    {
        return Remedy::None;
    }
    if !crate::registry::check(f.id).fixable() {
        return by_hand(f);
    }
    let req = FixRequest {
        checks: vec![f.id],
        values: Default::default(),
    };
    match plan_with(files, d, &req) {
        Ok((cs, true)) => hand_restart(&d.facts, &cs),
        Ok((cs, false)) if !cs.is_empty() => Remedy::Here {
            also: cs.checks.iter().copied().filter(|c| *c != f.id).collect(),
        },
        Ok((cs, false)) => nothing_planned(&d.facts, f.id, &cs),
        Err(EngineError::NoServiceManager) => hand_restart(&d.facts, &ChangeSet::default()),
        Err(EngineError::CannotPlan { why, .. }) => Remedy::NeedsYou {
            why: sentence(&why),
            steps: vec![again()],
        },
        Err(EngineError::UnsafeEdit { path, reason }) => Remedy::NeedsYou {
            why: sentence(&format!("{path} {reason}")),
            steps: vec![
                format!("Look at {path} on the server and settle what the message says."),
                again(),
            ],
        },
        Err(e) => Remedy::NeedsYou {
            why: sentence(&format!("the fix cannot be prepared here: {e}")),
            steps: vec![again()],
        },
    }
}

fn again() -> String {
    "Then diagnose again: the app checks it (and offers the fix it can make).".into()
}

fn sentence(text: &str) -> String {
    let t = text.trim().trim_end_matches('.');
    let mut c = t.chars();
    match c.next() {
        Some(first) => format!("{}{}.", first.to_uppercase(), c.as_str()),
        None => String::new(),
    }
}

/// A check without an automatic fix: what its finding says to do.
fn by_hand(f: &Finding) -> Remedy {
    let mut steps: Vec<String> = f.fixes.iter().map(|x| x.title.clone()).collect();
    if steps.is_empty() {
        steps.push(if f.why.is_empty() {
            format!(
                "Correct it on the server as the finding says: {}",
                f.summary
            )
        } else {
            format!("Correct it on the server: {}", f.why)
        });
    }
    steps.push("Then diagnose again to check.".into());
    Remedy::NeedsYou {
        why: "The app has no automatic fix for this; it needs a decision on the server.".into(),
        steps,
    }
}

/// The fix changes Odoo's configuration, but Odoo was started by hand: nothing can restart it
/// safely, so a person puts the change in force.
fn hand_restart(facts: &Facts, cs: &ChangeSet) -> Remedy {
    let mut steps: Vec<String> = cs
        .reasons
        .iter()
        .map(|r| format!("Make the change by hand: {}", r.text))
        .collect();
    let command = facts.odoo.command.trim();
    steps.push(match (facts.odoo.pid, command.is_empty()) {
        (Some(pid), false) => format!("Restart Odoo yourself: stop process {pid} and start it again with the same command line: {command}"),
        _ => "Restart Odoo yourself, the way it was started.".into(),
    });
    steps.push("Better: run Odoo under a service manager (a systemd unit or a supervisor program), then diagnose again: the app makes this change and restarts Odoo safely.".into());
    Remedy::NeedsYou {
        why: "Odoo was started by hand (no service manager), so the app cannot restart it safely to put this change in force.".into(),
        steps,
    }
}

/// Planning changed nothing: the planner's notes say why; for HTTPS, the certificate comes first.
fn nothing_planned(facts: &Facts, id: CheckId, cs: &ChangeSet) -> Remedy {
    if id == CheckId::ProxyHttpsRedirect || id == CheckId::ProxyCookieFlags {
        if let FrontState::Front(fr) = facts.front() {
            if !fr.has_https() {
                return https_first(&fr.serving_names());
            }
        }
    }
    let notes: Vec<String> = cs
        .notes
        .iter()
        .filter(|n| n.check == id)
        .map(|n| n.text.clone())
        .collect();
    // One note is the why and the step; several are a why followed by the steps to take.
    let (why, mut steps) = match notes.as_slice() {
        [] => (
            "There is nothing the app can change here for this; the finding says what to look at."
                .to_string(),
            Vec::new(),
        ),
        [one] => (one.clone(), notes.clone()),
        [first, rest @ ..] => (first.clone(), rest.to_vec()),
    };
    steps.push(again());
    Remedy::NeedsYou { why, steps }
}

/// Whether Let's Encrypt can check a name: a dotted name under a public top-level domain, not an
/// address and not one of the names reserved for private use or tests (RFC 2606, 6761, 6762).
pub fn public_name(name: &str) -> bool {
    const PRIVATE: &[&str] = &[
        "test",
        "example",
        "invalid",
        "localhost",
        "local",
        "lan",
        "internal",
        "intranet",
        "corp",
        "home",
        "localdomain",
        "arpa",
    ];
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    if name.parse::<std::net::IpAddr>().is_ok() || !name.contains('.') {
        return false;
    }
    let tld = name.rsplit('.').next().unwrap_or("");
    !PRIVATE.contains(&tld) && !tld.chars().all(|c| c.is_ascii_digit())
}

/// No HTTPS yet: the certificate options, with the names nginx really serves, then the way back.
fn https_first(names: &[String]) -> Remedy {
    let shown = if names.is_empty() {
        "<your Odoo address>".to_string()
    } else {
        names.join(", ")
    };
    let domains: String = if names.is_empty() {
        "-d <your Odoo address>".into()
    } else {
        names
            .iter()
            .map(|n| format!("-d {n}"))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let private: Vec<&String> = names.iter().filter(|n| !public_name(n)).collect();
    let lets_encrypt = if private.is_empty() {
        format!("Let's Encrypt (free, renews itself) when {shown} is reachable from the internet: run `sudo certbot --nginx {domains}` on the server; certbot adds the HTTPS server block to nginx.")
    } else {
        format!(
            "Let's Encrypt (free, renews itself) needs a name the internet reaches: `sudo certbot --nginx {domains}` — but {} is not a public name, so Let's Encrypt cannot check it; use one of the other options.",
            private.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
        )
    };
    Remedy::NeedsYou {
        why: format!("Odoo is served over plain HTTP only ({shown}): a redirect to HTTPS needs HTTPS first, and HTTPS needs a certificate, which only you can get for your name."),
        steps: vec![
            lets_encrypt,
            format!("A certificate from your provider or your company's certificate authority for {shown}: add to the nginx server block that serves Odoo `listen 443 ssl;`, `ssl_certificate /path/to/fullchain.pem;` and `ssl_certificate_key /path/to/privkey.pem;`, then `sudo nginx -t && sudo systemctl reload nginx`."),
            "A self-signed certificate only for an internal test server: browsers warn about it on every visit, so never for people's daily work.".into(),
            "Then diagnose again: the app adds the redirect from HTTP to HTTPS (and the Secure cookie flags).".into(),
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::public_name;

    #[test]
    fn public_names_are_told_from_private_ones() {
        for n in ["odoo.acme.org", "erp.acme.de", "shop.co.uk"] {
            assert!(public_name(n), "{n}");
        }
        for n in [
            "odoo.lab.test",
            "odoo",
            "10.0.0.5",
            "erp.local",
            "odoo.corp",
            "::1",
            "x.example",
        ] {
            assert!(!public_name(n), "{n}");
        }
    }
}
