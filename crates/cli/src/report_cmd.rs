//! `report`: the per-server checklist report (issue 6). Owned by the report work; stub until then.

use clap::Args;

#[derive(Args, Clone)]
pub struct ReportArgs {}

pub fn run(_args: &ReportArgs) -> i32 {
    eprintln!("report: not implemented yet");
    3
}
