//! Diagnostics: every line or record that was skipped, repaired or guessed,
//! with the file, the line and the reason. Nothing is dropped silently.

use serde::Serialize;
use std::fmt;

/// How serious a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Something was noticed and kept (e.g. an `--omit` interval flagged).
    Note,
    /// Something was skipped, repaired or guessed; the result is still usable.
    Warning,
    /// Something could not be used at all (a file, or a whole run).
    Error,
}

impl Severity {
    /// `note`, `warning` or `error`, as outputs write it.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Note => "note",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

/// One reported problem: where it is and what was wrong.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Diagnostic {
    /// The file the problem is in, as the user named it (relative paths stay relative).
    pub file: String,
    /// The 1-based line number, where there is one.
    pub line: Option<u64>,
    /// What was wrong, and what was done about it.
    pub message: String,
    /// How serious it is.
    pub severity: Severity,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let level = self.severity.as_str();
        match self.line {
            Some(line) => write!(f, "{level}: {}:{line}: {}", self.file, self.message),
            None => write!(f, "{level}: {}: {}", self.file, self.message),
        }
    }
}

/// A collector of diagnostics for one file at a time.
///
/// Parsers receive a `&mut Diagnostics` and report into it; the file name is
/// set by whoever opened the file, so parsers never need to know it.
#[derive(Debug, Clone, Default)]
pub struct Diagnostics {
    file: String,
    items: Vec<Diagnostic>,
}

impl Diagnostics {
    /// A collector whose reports name `file`.
    pub fn for_file(file: impl Into<String>) -> Self {
        Diagnostics {
            file: file.into(),
            items: Vec::new(),
        }
    }

    /// Changes the file later reports name.
    pub fn set_file(&mut self, file: impl Into<String>) {
        self.file = file.into();
    }

    /// The file reports currently name.
    pub fn file(&self) -> &str {
        &self.file
    }

    /// Reports a problem at `line` (1-based) of the current file.
    pub fn push(&mut self, severity: Severity, line: Option<u64>, message: impl Into<String>) {
        self.items.push(Diagnostic {
            file: self.file.clone(),
            line,
            message: message.into(),
            severity,
        });
    }

    /// Reports a note (kept, but worth knowing).
    pub fn note(&mut self, line: Option<u64>, message: impl Into<String>) {
        self.push(Severity::Note, line, message);
    }

    /// Reports a warning (skipped, repaired or guessed).
    pub fn warn(&mut self, line: Option<u64>, message: impl Into<String>) {
        self.push(Severity::Warning, line, message);
    }

    /// Reports an error (could not be used).
    pub fn error(&mut self, line: Option<u64>, message: impl Into<String>) {
        self.push(Severity::Error, line, message);
    }

    /// Takes every diagnostic of `other`, keeping their file names.
    pub fn extend(&mut self, other: Diagnostics) {
        self.items.extend(other.items);
    }

    /// Adds one ready-made diagnostic.
    pub fn add(&mut self, diagnostic: Diagnostic) {
        self.items.push(diagnostic);
    }

    /// All diagnostics so far, in the order they were reported.
    pub fn items(&self) -> &[Diagnostic] {
        &self.items
    }

    /// Consumes the collector, returning its diagnostics.
    pub fn into_items(self) -> Vec<Diagnostic> {
        self.items
    }

    /// How many diagnostics were reported.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// True when nothing was reported.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// How many reports have at least `severity`.
    pub fn count_at_least(&self, severity: Severity) -> usize {
        self.items.iter().filter(|d| d.severity >= severity).count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_file_and_line() {
        let mut d = Diagnostics::for_file("iperf/server_1.out");
        d.warn(Some(12), "interval line cut short");
        d.error(None, "no interval lines");
        assert_eq!(
            d.items()[0].to_string(),
            "warning: iperf/server_1.out:12: interval line cut short"
        );
        assert_eq!(
            d.items()[1].to_string(),
            "error: iperf/server_1.out: no interval lines"
        );
        assert_eq!(d.count_at_least(Severity::Warning), 2);
        assert_eq!(d.count_at_least(Severity::Error), 1);
    }
}
