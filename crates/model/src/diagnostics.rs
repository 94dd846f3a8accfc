//! Diagnostics: every line or record that was skipped, repaired or guessed,
//! with the file, the line and the reason. Nothing is dropped silently.

use serde::Serialize;
use std::collections::HashMap;
use std::fmt;

/// How many line numbers a collapsed diagnostic lists before `…`.
pub const REPEAT_LINES: usize = 5;

/// How serious a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
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
            // Of no file (an option, the campaign as a whole).
            None if self.file.is_empty() => write!(f, "{level}: {}", self.message),
            None => write!(f, "{level}: {}: {}", self.file, self.message),
        }
    }
}

/// A collector of diagnostics for one file at a time.
///
/// Parsers receive a `&mut Diagnostics` and report into it; the file name is
/// set by whoever opened the file, so parsers never need to know it.
///
/// Problems that can recur once per line (junk lines, unreadable records)
/// are reported with [`Diagnostics::repeated`]: all reports of one kind in
/// one file collapse into a single diagnostic with a count and the first
/// [`REPEAT_LINES`] line numbers, so memory stays bounded however many
/// lines are bad.
#[derive(Debug, Clone, Default)]
pub struct Diagnostics {
    file: String,
    items: Vec<Diagnostic>,
    repeats: HashMap<(Severity, &'static str), Vec<Repeat>>,
}

/// The state of one collapsed diagnostic: which item it is, how many
/// reports it stands for and the first few of their lines.
#[derive(Debug, Clone)]
struct Repeat {
    file: String,
    item: usize,
    count: u64,
    lines: Vec<u64>,
    first: String,
}

impl Repeat {
    /// The collapsed message: `{count} {kind} (lines 1, 2, …; first: {first})`.
    fn message(&self, kind: &str) -> String {
        let mut lines: Vec<String> = self.lines.iter().map(u64::to_string).collect();
        if self.count > self.lines.len() as u64 && !lines.is_empty() {
            lines.push("…".to_string());
        }
        if lines.is_empty() {
            format!("{} {kind} (first: {})", self.count, self.first)
        } else {
            format!(
                "{} {kind} (lines {}; first: {})",
                self.count,
                lines.join(", "),
                self.first
            )
        }
    }
}

impl Diagnostics {
    /// A collector whose reports name `file`.
    pub fn for_file(file: impl Into<String>) -> Self {
        Diagnostics {
            file: file.into(),
            items: Vec::new(),
            repeats: HashMap::new(),
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

    /// Reports a problem that may recur on many lines of one file.
    ///
    /// `kind` names the problem in the plural, as a count reads it
    /// (`"lines before the JSON skipped"`); `message` is this occurrence's
    /// own text. The first report of a kind in a file is kept as it is; from
    /// the second on, it becomes one diagnostic reading
    /// `{count} {kind} (lines a, b, c, d, e, …; first: {message})`, keeping
    /// the first occurrence's text and line, and [`REPEAT_LINES`] line numbers.
    pub fn repeated(
        &mut self,
        severity: Severity,
        kind: &'static str,
        line: Option<u64>,
        message: impl Into<String>,
    ) {
        let entries = self.repeats.entry((severity, kind)).or_default();
        if let Some(repeat) = entries.iter_mut().rev().find(|r| r.file == self.file) {
            repeat.count += 1;
            if let Some(line) = line {
                if repeat.lines.len() < REPEAT_LINES {
                    repeat.lines.push(line);
                }
            }
            let message = repeat.message(kind);
            self.items[repeat.item].message = message;
            return;
        }
        let message = message.into();
        entries.push(Repeat {
            file: self.file.clone(),
            item: self.items.len(),
            count: 1,
            lines: line.into_iter().collect(),
            first: message.clone(),
        });
        self.push(severity, line, message);
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
    ///
    /// Reports already collapsed in `other` stay collapsed; later repeats
    /// reported here start a count of their own.
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

    #[test]
    fn repeated_reports_collapse_into_one_with_count_and_first_lines() {
        let mut d = Diagnostics::for_file("client_1.json");
        let kind = "lines before the JSON skipped";
        d.repeated(
            Severity::Warning,
            kind,
            Some(1),
            "line before the JSON skipped: \"a\"",
        );
        assert_eq!(d.items()[0].message, "line before the JSON skipped: \"a\"");
        for line in 2..=200_000 {
            d.repeated(Severity::Warning, kind, Some(line), format!("junk {line}"));
        }
        assert_eq!(d.len(), 1);
        assert_eq!(d.items()[0].line, Some(1));
        assert_eq!(
            d.items()[0].message,
            "200000 lines before the JSON skipped (lines 1, 2, 3, 4, 5, …; \
             first: line before the JSON skipped: \"a\")"
        );
        assert_eq!(
            d.repeats[&(Severity::Warning, kind)][0].lines.len(),
            REPEAT_LINES
        );
    }

    #[test]
    fn repeated_reports_collapse_per_file_and_per_severity() {
        let mut d = Diagnostics::for_file("a");
        d.repeated(Severity::Warning, "bad lines", Some(3), "bad");
        d.repeated(Severity::Warning, "bad lines", Some(4), "bad");
        d.repeated(Severity::Note, "bad lines", Some(5), "bad");
        d.set_file("b");
        d.repeated(Severity::Warning, "bad lines", None, "bad");
        let texts: Vec<String> = d.items().iter().map(ToString::to_string).collect();
        assert_eq!(
            texts,
            [
                "warning: a:3: 2 bad lines (lines 3, 4; first: bad)",
                "note: a:5: bad",
                "warning: b: bad",
            ]
        );
    }
}
