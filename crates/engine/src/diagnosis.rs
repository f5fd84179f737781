//! A whole diagnosis of one host: the facts, the findings and the verdict — the value the CLI
//! prints, the GUI shows and the report renders.

use crate::checks::{self, Finding, Verdict};
use crate::discover::probe::{self, ProbeOptions};
use crate::discover::{discover_with_progress, DiscoverOptions};
use crate::error::EngineError;
use crate::facts::Facts;
use crate::progress::{self, Sink, Step};
use osd_remote::Host;
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct Diagnosis {
    pub host: String,
    pub facts: Facts,
    pub checks: Vec<Finding>,
    pub verdict: Verdict,
}

impl Diagnosis {
    pub fn from_facts(facts: Facts) -> Diagnosis {
        let findings = crate::registry::run_all(&facts);
        let verdict = checks::verdict(&findings);
        let mut d = Diagnosis {
            host: facts.host.name.clone(),
            facts,
            checks: findings,
            verdict,
        };
        // Whether each problem can be fixed here: its fix planned alone over the facts' files
        // (pure, milliseconds), so the faces never offer a fix the app would then refuse.
        let remedies = crate::change::remedy::decide_all(&d);
        for (f, r) in d.checks.iter_mut().zip(remedies) {
            f.remedy = r;
        }
        d
    }

    pub fn exit_code(&self) -> i32 {
        checks::exit_code(&self.checks)
    }

    /// The finding of a check, by [`CheckId`](crate::checks::CheckId) or by its stable name.
    pub fn finding<I: Copy>(&self, id: I) -> Option<&Finding>
    where
        crate::checks::CheckId: PartialEq<I>,
    {
        self.checks.iter().find(|f| f.id == id)
    }
}

#[derive(Debug, Clone, Default)]
pub struct DiagnoseOptions {
    pub discover: DiscoverOptions,
    /// A test login for the live probe; nothing is stored.
    pub probe: Option<ProbeOptions>,
}

/// Discovery, the optional live probe, then every check, without reporting progress.
pub fn diagnose(host: &Host, opts: &DiagnoseOptions) -> Result<Diagnosis, EngineError> {
    diagnose_with_progress(host, opts, &progress::quiet)
}

/// [`diagnose`], reporting each stage to `p` as it begins (the sink apply takes).
pub fn diagnose_with_progress(
    host: &Host,
    opts: &DiagnoseOptions,
    p: Sink,
) -> Result<Diagnosis, EngineError> {
    let mut facts = discover_with_progress(host, &opts.discover, p)?;
    if let Some(po) = &opts.probe {
        progress::step(p, Step::Probe, format!("as {}", po.login));
        facts.probe = Some(probe::live_probe(host, &facts, po));
    }
    progress::step(p, Step::Judging, "");
    Ok(Diagnosis::from_facts(facts))
}
