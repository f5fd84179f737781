//! osd-engine: everything Odoo Session Doctor knows and does, free of any GUI.
//!
//! Data flows one way, each arrow a value that can be printed, serialized and tested on its own:
//! **facts → findings → plan → change set → apply → verification → report.**
//!
//! - [`discover`] gathers [`facts::Facts`] from a host in two command executions plus database
//!   queries and HTTP (the live probe included); the facts are a document (`facts --out`) that
//!   judges like the host;
//! - [`registry`] is the checklist: each check's id, title, judge and fix planner;
//! - [`checks`] turns facts into findings (pure functions, tested on data);
//! - [`db_scope`] decides, by Odoo's rules, which databases an instance serves: the only ones read
//!   for verdicts or written;
//! - [`progress`] is the one list of steps every long call reports through a caller's sink;
//! - [`change`] plans over a read-only file view (the host or captured files), applies, verifies
//!   and records;
//! - the parsers ([`odoo_conf`], [`nginx`]) read and edit config files without losing a byte;
//! - [`words`] says counts in words ("1 problem", "5 problems") for every text above.

pub mod change;
pub mod checks;
pub mod db_scope;
pub mod diagnosis;
pub mod discover;
pub mod error;
pub mod facts;
pub mod fleet;
pub mod nginx;
pub mod odoo_conf;
pub mod odoo_options;
pub mod progress;
pub mod registry;
pub mod report;
pub mod sessions;
pub mod version;
pub mod who;
pub mod words;

pub use diagnosis::{diagnose, diagnose_with_progress, DiagnoseOptions, Diagnosis};
/// The live probe belongs to discovery; `osd_engine::probe` stays its public path.
pub use discover::probe;
pub use error::EngineError;
