//! The TypeScript declarations of every type that crosses the bridge, generated with ts-rs (from
//! the app's types and from the engine's and osd-servers' own, behind their `ts` feature) into
//! `ui/types/bindings.d.ts` and committed. The test `bindings_are_up_to_date` fails when the
//! committed file differs from what the Rust types say; regenerate with
//! `UPDATE_BINDINGS=1 cargo test -p odoo-session-doctor-app bindings`.
use ts_rs::{Config, TS};

use osd_engine::change::{self as ch, apply, effect, record};
use osd_engine::checks as ck;
use osd_engine::sessions as ss;

use crate::{error, fleet, progress, servers, session, views};

pub const PATH: &str = "ui/types/bindings.d.ts";

/// Every declaration, in a stable order (dependencies need not come first in TypeScript).
pub fn typescript() -> String {
    // Counts and sizes fit a JS number comfortably; `bigint` would not survive JSON.
    let cfg = Config::new().with_large_int("number");
    let decls = [
        // the app's own types
        views::AppInfo::decl(&cfg),
        error::AppError::decl(&cfg),
        error::ErrorDetails::decl(&cfg),
        error::InstanceChoice::decl(&cfg),
        error::InstanceRunState::decl(&cfg),
        session::SecretKind::decl(&cfg),
        session::ConnectSecrets::decl(&cfg),
        session::ProbeInput::decl(&cfg),
        session::FixInput::decl(&cfg),
        servers::AuthMethod::decl(&cfg),
        servers::ServerKind::decl(&cfg),
        servers::ServerEntry::decl(&cfg),
        servers::ServerInput::decl(&cfg),
        servers::SshConfigHost::decl(&cfg),
        progress::ProgressEvent::decl(&cfg),
        osd_engine::progress::Step::decl(&cfg),
        views::Power::decl(&cfg),
        views::Connected::decl(&cfg),
        views::OdooSummary::decl(&cfg),
        views::DatabaseScope::decl(&cfg),
        views::DiagnosisView::decl(&cfg),
        views::PlanView::decl(&cfg),
        views::ApplyView::decl(&cfg),
        views::RollbackView::decl(&cfg),
        views::ExportedReport::decl(&cfg),
        views::ReportFormat::decl(&cfg),
        fleet::CheckMark::decl(&cfg),
        fleet::FleetError::decl(&cfg),
        fleet::LastResult::decl(&cfg),
        fleet::FleetRow::decl(&cfg),
        // the engine's values, declared by the engine's own types (its `ts` feature)
        ck::CheckId::decl(&cfg),
        ck::Status::decl(&cfg),
        ck::Evidence::decl(&cfg),
        ck::Reference::decl(&cfg),
        ck::Choice::decl(&cfg),
        ck::FixOffer::decl(&cfg),
        ck::Remedy::decl(&cfg),
        ck::Finding::decl(&cfg),
        ck::Verdict::decl(&cfg),
        ch::FileKind::decl(&cfg),
        ch::FileChange::decl(&cfg),
        ch::ParamChange::decl(&cfg),
        ch::ServiceAction::decl(&cfg),
        ch::Reason::decl(&cfg),
        ch::ChangeSet::decl(&cfg),
        record::Verification::decl(&cfg),
        apply::Outcome::decl(&cfg),
        apply::ApplyResult::decl(&cfg),
        record::RecordStatus::decl(&cfg),
        record::Unsettled::decl(&cfg),
        record::Record::decl(&cfg),
        apply::RollbackResult::decl(&cfg),
        record::InstanceRef::decl(&cfg),
        record::Stamp::decl(&cfg),
        effect::ItemState::decl(&cfg),
        effect::EffectState::decl(&cfg),
        effect::ChangedBy::decl(&cfg),
        effect::FileEffect::decl(&cfg),
        effect::ParamEffect::decl(&cfg),
        effect::Effect::decl(&cfg),
        record::ActionRecord::decl(&cfg),
        ss::Device::decl(&cfg),
        ss::SessionRow::decl(&cfg),
        ss::UserSessions::decl(&cfg),
        ss::DbSessions::decl(&cfg),
        ss::BadFile::decl(&cfg),
        ss::OtherDb::decl(&cfg),
        ss::Surviving::decl(&cfg),
        ss::SessionsReport::decl(&cfg),
        ss::Who::decl(&cfg),
        ss::LoggedOutUser::decl(&cfg),
        ss::LogoutPreview::decl(&cfg),
        ss::LogoutProof::decl(&cfg),
        ss::LogoutOutcome::decl(&cfg),
    ];
    let mut out = String::from(
        "// GENERATED from the Rust types in src-tauri/src and the engine crates (ts-rs); do not edit by hand.\n\
         // Regenerate: UPDATE_BINDINGS=1 cargo test -p odoo-session-doctor-app bindings\n\n",
    );
    for decl in decls {
        out.push_str("export ");
        out.push_str(decl.trim());
        out.push_str("\n\n");
    }
    out.truncate(out.trim_end().len());
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bindings_are_up_to_date() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("..")
            .join(PATH);
        let fresh = typescript();
        if std::env::var_os("UPDATE_BINDINGS").is_some() {
            std::fs::write(&path, &fresh).unwrap();
            return;
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == fresh,
            "{PATH} is stale: the Rust types changed. Regenerate it with `UPDATE_BINDINGS=1 cargo test -p odoo-session-doctor-app bindings` and commit it."
        );
    }
}
