//! Shared test support: connect to a lab over real SSH and diagnose its Odoo.
#![allow(dead_code)] // each test binary uses a different part of the shared support

use osd_engine::discover::DiscoverOptions;
use osd_engine::{diagnose, DiagnoseOptions, Diagnosis};
use osd_remote::{ConnectOptions, Host, NoAsk, Target};
use osd_testlab::Lab;

/// Logs in to the lab as root with its ed25519 key, verifying its host key.
pub fn connect(lab: &Lab) -> Host {
    connect_as(lab, "root")
}

pub fn connect_as(lab: &Lab, login: &str) -> Host {
    let mut opts = ConnectOptions::bare();
    opts.identity_files = vec![lab.info.keys.ed25519.clone().into()];
    opts.known_hosts_files = vec![lab.known_hosts_file().to_path_buf()];
    opts.app_known_hosts_file = lab.dir().join("app_known_hosts");
    let target = Target::Ssh {
        user: Some(login.into()),
        host: lab.info.ssh.host.clone(),
        port: Some(lab.info.ssh.port),
    };
    Host::connect(&target, &opts, &NoAsk).expect("connect to the lab over SSH")
}

/// Several labs may run at once, so the instance is always named by its config file.
pub fn options(lab: &Lab) -> DiagnoseOptions {
    DiagnoseOptions {
        discover: DiscoverOptions {
            instance: Some(lab.info.odoo.conf.to_string_lossy().into_owned()),
            databases: Vec::new(),
        },
        probe: None,
    }
}

pub fn diagnose_lab(lab: &Lab) -> Diagnosis {
    let host = connect(lab);
    diagnose(&host, &options(lab)).expect("diagnose the lab")
}

/// The check ids that are not `ok` (skip counts as ok: not applicable).
pub fn not_ok(d: &Diagnosis) -> Vec<&'static str> {
    use osd_engine::checks::Status;
    d.checks
        .iter()
        .filter(|c| !matches!(c.status, Status::Ok | Status::Skip))
        .map(|c| c.id.as_str())
        .collect()
}
