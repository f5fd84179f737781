//! The `nginx -T` dump: split into the files nginx read, each byte-exact, in reading order.

use std::ops::Range;

use serde::Serialize;

use super::{FileEdit, NginxConfig, NginxError};

/// One file as `nginx -T` printed it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DumpFile {
    pub path: String,
    pub text: String,
}

/// The files of an `nginx -T` dump, in the order nginx read them (the main file first).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct NginxDump {
    files: Vec<DumpFile>,
}

const FILE_MARKER: &str = "# configuration file ";

impl NginxDump {
    /// Splits `nginx -T` output. Anything before the first `# configuration file <path>:` line (such
    /// as nginx's "syntax is ok" lines when stderr was merged) is ignored, as are trailing `nginx: `
    /// lines after the last file. nginx writes one extra line feed after each file's content; it is
    /// removed, so each file's text is byte-exact.
    pub fn parse(t_output: &str) -> NginxDump {
        NginxDump {
            files: file_spans(t_output)
                .into_iter()
                .map(|(path, range)| DumpFile {
                    path,
                    text: t_output[range].to_string(),
                })
                .collect(),
        }
    }

    /// A dump made of given files (the first is the main file).
    pub fn from_files<P: Into<String>, T: Into<String>>(
        files: impl IntoIterator<Item = (P, T)>,
    ) -> NginxDump {
        NginxDump {
            files: files
                .into_iter()
                .map(|(p, t)| DumpFile {
                    path: p.into(),
                    text: t.into(),
                })
                .collect(),
        }
    }

    pub fn files(&self) -> &[DumpFile] {
        &self.files
    }

    pub fn file(&self, path: &str) -> Option<&DumpFile> {
        self.files.iter().find(|f| f.path == path)
    }

    /// The main configuration file (the first one nginx dumped).
    pub fn main_path(&self) -> Option<&str> {
        self.files.first().map(|f| f.path.as_str())
    }

    /// Replaces one file's text (after an edit); returns false when the file is not in the dump.
    pub fn replace_file(&mut self, path: &str, text: String) -> bool {
        match self.files.iter_mut().find(|f| f.path == path) {
            Some(f) => {
                f.text = text;
                true
            }
            None => false,
        }
    }

    /// Applies edits produced by [`NginxConfig::edit`].
    pub fn apply(&mut self, edits: &[FileEdit]) {
        for e in edits {
            self.replace_file(&e.path, e.after.clone());
        }
    }

    /// Parses every file and resolves includes into the effective tree.
    pub fn config(&self) -> Result<NginxConfig, NginxError> {
        NginxConfig::build(self)
    }
}

/// Where each file's text lies in `nginx -T` output (see [`NginxDump::parse`]): its path and
/// byte range, in the dump's order.
pub(super) fn file_spans(t_output: &str) -> Vec<(String, Range<usize>)> {
    let mut files: Vec<(String, Range<usize>)> = Vec::new();
    let mut current: Option<(String, usize)> = None;
    let mut pos = 0;
    let bytes = t_output.as_bytes();
    let finish =
        |files: &mut Vec<(String, Range<usize>)>, path: String, start: usize, end: usize| {
            let mut body = &t_output[start..end];
            // nginx's separator line feed; "\r\n" when the whole capture went through a CRLF
            // conversion (then the marker line ends with "\r\n" too).
            let crlf_capture = t_output[..start].ends_with(":\r\n");
            body = if crlf_capture {
                body.strip_suffix("\r\n")
            } else {
                None
            }
            .or_else(|| body.strip_suffix('\n'))
            .unwrap_or(body);
            files.push((path, start..start + body.len()));
        };
    while pos < bytes.len() {
        let line_end = t_output[pos..]
            .find('\n')
            .map(|i| pos + i + 1)
            .unwrap_or(bytes.len());
        let line = t_output[pos..line_end].trim_end_matches(['\n', '\r']);
        if let Some(rest) = line.strip_prefix(FILE_MARKER) {
            if let Some(path) = rest.strip_suffix(':') {
                if let Some((p, start)) = current.take() {
                    finish(&mut files, p, start, pos);
                }
                current = Some((path.to_string(), line_end));
            }
        }
        pos = line_end;
    }
    if let Some((p, start)) = current.take() {
        // Drop nginx's own messages if stderr was appended after the dump.
        let mut end = t_output.len();
        loop {
            let body = &t_output[start..end];
            let trimmed = body.strip_suffix('\n').unwrap_or(body);
            let last_start = trimmed.rfind('\n').map(|i| i + 1).unwrap_or(0);
            let last = &trimmed[last_start..];
            if last.starts_with("nginx: ") && start + last_start < end {
                end = start + last_start;
            } else {
                break;
            }
        }
        finish(&mut files, p, start, end);
    }
    files
}
