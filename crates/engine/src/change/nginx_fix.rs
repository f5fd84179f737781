//! nginx fixes (filled in with the nginx model).
use super::plan::Workspace;
use super::ServiceAction;
use crate::error::EngineError;
use crate::facts::{Facts, NginxFacts};

pub(crate) fn fix(ws: &mut Workspace, _facts: &Facts, id: &str, _value: Option<&str>) -> Result<(), EngineError> {
    ws.note(id, "not implemented yet");
    Ok(())
}

pub fn reload_action(n: &NginxFacts) -> ServiceAction {
    let bin = n.dump_command.split_whitespace().next().unwrap_or("nginx").to_string();
    ServiceAction::ReloadNginx {
        test: vec![bin.clone(), "-t".into(), "-c".into(), n.conf_path.clone()],
        reload: vec![bin, "-s".into(), "reload".into(), "-c".into(), n.conf_path.clone()],
    }
}
