//! One Odoo process as the inventory script saw it (arguments, environment, config files it may
//! read) and how to tell an Odoo program from any other: shared by the inventory and the service
//! definitions, which both describe processes.

use std::collections::BTreeMap;

/// Program names an Odoo server runs as (odoo-bin from source, `odoo` from the Debian package and
/// the docker image, `openerp-server` up to 9).
const ODOO_PROGRAMS: &[&str] = &[
    "odoo-bin",
    "odoo",
    "odoo.py",
    "openerp-server",
    "odoo-server",
];

/// The Odoo program in an argument vector: argv[0], or argv[1] when argv[0] is a Python interpreter.
pub fn odoo_program(argv: &[String]) -> Option<&str> {
    let base = |s: &str| s.rsplit('/').next().unwrap_or(s).to_string();
    let first = argv.first()?;
    let candidate = if base(first).starts_with("python") {
        argv.get(1)?
    } else {
        first
    };
    ODOO_PROGRAMS
        .contains(&base(candidate).as_str())
        .then_some(candidate.as_str())
}

/// One process's details from the `proc <pid> …` sections.
#[derive(Debug, Clone, Default)]
pub struct ProcDetails {
    pub pid: u32,
    pub argv: Vec<String>,
    pub environ: BTreeMap<String, String>,
    pub cgroup: String,
    pub cwd: String,
    /// Config files the process may read, path → raw bytes, in the order the script printed them.
    pub files: Vec<(String, Vec<u8>)>,
    /// HOME, if that directory exists.
    pub home_dir: Option<String>,
    pub passwd_home: Option<String>,
    pub unit_lines: Vec<String>,
    pub parent_args: Option<String>,
}
