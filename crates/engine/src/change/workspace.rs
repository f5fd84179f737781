//! What planning reads and writes: a read-only view of the host's files ([`FileView`], which the
//! live [`Host`] and an in-memory [`MemFiles`] both are) and the [`Workspace`] a plan edits, so
//! every fix planner is a pure function of facts plus files, testable without a server.

use super::{FileKind, ParamChange, Reason};
use crate::checks::CheckId;
use crate::error::EngineError;
use crate::facts::Facts;
use crate::odoo_conf::OdooConf;
use osd_remote::{FileStat, Host};
use std::collections::BTreeMap;

/// The files a plan may read: the host itself, or a captured copy of them.
pub trait FileView {
    /// Where the files are, for messages ("db1.example.com").
    fn place(&self) -> &str;
    fn read(&self, path: &str) -> Result<Vec<u8>, EngineError>;
    /// `None` when the path does not exist.
    fn stat(&self, path: &str) -> Result<Option<FileStat>, EngineError>;
}

impl FileView for Host {
    fn place(&self) -> &str {
        self.name()
    }
    fn read(&self, path: &str) -> Result<Vec<u8>, EngineError> {
        Ok(self.read_file(path)?)
    }
    fn stat(&self, path: &str) -> Result<Option<FileStat>, EngineError> {
        Ok(Host::stat(self, path)?)
    }
}

/// Files held in memory (tests, and planning over a facts document): every file is owned by
/// `root:root` with mode 0644 unless given otherwise.
#[derive(Debug, Clone, Default)]
pub struct MemFiles {
    pub name: String,
    pub files: BTreeMap<String, (Vec<u8>, FileStat)>,
}

impl MemFiles {
    pub fn new(name: impl Into<String>) -> MemFiles {
        MemFiles {
            name: name.into(),
            files: BTreeMap::new(),
        }
    }

    pub fn insert(&mut self, path: &str, text: impl Into<Vec<u8>>) {
        let bytes = text.into();
        let stat = FileStat {
            path: path.into(),
            real_path: path.into(),
            kind: osd_remote::FileKind::File,
            owner: "root".into(),
            group: "root".into(),
            uid: 0,
            gid: 0,
            mode: 0o644,
            size: bytes.len() as u64,
            mtime: 0,
            sha256: Some(super::sha256_hex(&bytes)),
        };
        self.files.insert(path.into(), (bytes, stat));
    }

    /// The files a facts document carries: odoo.conf (as redacted at gathering), every file of
    /// the nginx dump, and each cron file that deletes things with its line where the facts say it
    /// is (the rest of such a file is not gathered: blank lines stand in for it). Enough to plan
    /// every fix as a dry run; the real plan reads the host.
    pub fn from_facts(facts: &Facts) -> MemFiles {
        let mut m = MemFiles::new(facts.host.name.clone());
        if let Some(c) = &facts.odoo.config {
            m.insert(&c.path, c.doc.to_string());
        }
        if let Some(n) = facts.nginx.seen() {
            for f in crate::nginx::NginxDump::parse(n.dump()).files() {
                m.insert(&f.path, f.text.clone());
            }
        }
        for c in &facts.cleaners {
            let mut text = match m.files.get(&c.file) {
                Some((b, _)) => String::from_utf8_lossy(b).into_owned(),
                None => String::new(),
            };
            let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
            let at = c.line.saturating_sub(1) as usize;
            if lines.len() <= at {
                lines.resize(at + 1, String::new());
            }
            lines[at] = c.text.clone();
            text = lines.join("\n");
            text.push('\n');
            m.insert(&c.file, text);
        }
        m
    }
}

impl FileView for MemFiles {
    fn place(&self) -> &str {
        &self.name
    }
    fn read(&self, path: &str) -> Result<Vec<u8>, EngineError> {
        self.files
            .get(path)
            .map(|(b, _)| b.clone())
            .ok_or_else(|| EngineError::Unreadable {
                place: self.name.clone(),
                path: path.into(),
                why: "is not among the captured files".into(),
            })
    }
    fn stat(&self, path: &str) -> Result<Option<FileStat>, EngineError> {
        Ok(self.files.get(path).map(|(_, s)| s.clone()))
    }
}

/// One file being edited: its kind, the text read, the text now, and the checks that edited it.
pub(crate) struct Edit {
    pub kind: FileKind,
    pub before: String,
    pub after: String,
    pub checks: Vec<CheckId>,
}

/// Files being edited, as text, before and after, plus the parameters, reasons and notes a plan
/// gathers.
pub struct Workspace<'v> {
    files: &'v dyn FileView,
    pub(crate) edits: BTreeMap<String, Edit>,
    pub params: Vec<ParamChange>,
    pub reasons: Vec<Reason>,
    pub notes: Vec<Reason>,
    /// Odoo must restart even though no file or parameter changes (a value not yet in force).
    pub restart: bool,
}

impl<'v> Workspace<'v> {
    pub fn new(files: &'v dyn FileView) -> Workspace<'v> {
        Workspace {
            files,
            edits: BTreeMap::new(),
            params: Vec::new(),
            reasons: Vec::new(),
            notes: Vec::new(),
            restart: false,
        }
    }

    pub fn files(&self) -> &'v dyn FileView {
        self.files
    }

    /// The current text of `path` (read once, then the edited copy).
    pub fn text(&mut self, path: &str, kind: FileKind) -> Result<String, EngineError> {
        if let Some(e) = self.edits.get(path) {
            return Ok(e.after.clone());
        }
        let bytes = self.files.read(path)?;
        let text = String::from_utf8(bytes).map_err(|_| EngineError::Unreadable {
            place: self.files.place().to_string(),
            path: path.into(),
            why: "is not UTF-8 text; it is left alone".into(),
        })?;
        self.edits.insert(
            path.to_string(),
            Edit {
                kind,
                before: text.clone(),
                after: text.clone(),
                checks: Vec::new(),
            },
        );
        Ok(text)
    }

    /// The text of `path` as read, if this plan has read it.
    pub fn original(&self, path: &str) -> Option<&str> {
        self.edits.get(path).map(|e| e.before.as_str())
    }

    /// The edited text of `path`, if this plan has read it.
    pub fn edited(&self, path: &str) -> Option<String> {
        self.edits.get(path).map(|e| e.after.clone())
    }

    pub fn put(&mut self, path: &str, text: String, check: CheckId) {
        if let Some(e) = self.edits.get_mut(path) {
            e.after = text;
            if !e.checks.contains(&check) {
                e.checks.push(check);
            }
        }
    }

    pub fn reason(&mut self, check: CheckId, text: impl Into<String>) {
        self.reasons.push(Reason {
            check,
            text: text.into(),
        });
    }

    pub fn note(&mut self, check: CheckId, text: impl Into<String>) {
        self.notes.push(Reason {
            check,
            text: text.into(),
        });
    }

    /// Edits odoo.conf through its format-preserving document.
    pub fn edit_conf(
        &mut self,
        facts: &Facts,
        check: CheckId,
        edit: impl FnOnce(&mut OdooConf) -> Result<bool, EngineError>,
    ) -> Result<bool, EngineError> {
        let Some(conf) = &facts.odoo.config else {
            self.note(check, "No odoo.conf is in effect, so there is nothing to edit; pass options with -c <file> first.");
            return Ok(false);
        };
        let path = conf.path.clone();
        let text = self.text(&path, FileKind::OdooConf)?;
        let mut doc = OdooConf::parse(&text);
        let changed = edit(&mut doc)?;
        if changed {
            self.put(&path, doc.to_string(), check);
        }
        Ok(changed)
    }
}
