//! The error a parser returns when a file cannot be used at all.

use thiserror::Error;

/// Why a whole file could not be read. Problems with single lines are
/// reported as diagnostics instead, and parsing goes on.
#[derive(Debug, Error)]
pub enum ParseError {
    /// The file could not be read.
    #[error("could not read: {0}")]
    Io(#[from] std::io::Error),
    /// The file is empty (or only whitespace).
    #[error("file is empty")]
    Empty,
    /// The file is not in the expected format.
    #[error("{message}")]
    Format {
        /// The 1-based line where the problem was found, if known.
        line: Option<u64>,
        /// What was expected and what was found.
        message: String,
    },
    /// The file is another program's output, not this format at all (a
    /// study reading a folder may ignore it rather than fail).
    #[error("{message}")]
    Foreign {
        /// The 1-based line where that was clear, if known.
        line: Option<u64>,
        /// What was found instead.
        message: String,
    },
}

impl ParseError {
    /// A format error at an optional line.
    pub fn format(line: Option<u64>, message: impl Into<String>) -> Self {
        ParseError::Format {
            line,
            message: message.into(),
        }
    }

    /// The file is not in this format at all, at an optional line.
    pub fn foreign(line: Option<u64>, message: impl Into<String>) -> Self {
        ParseError::Foreign {
            line,
            message: message.into(),
        }
    }

    /// True when the file is another program's output, not a broken file of this format.
    pub fn is_foreign(&self) -> bool {
        matches!(self, ParseError::Foreign { .. })
    }

    /// The line the error refers to, if any.
    pub fn line(&self) -> Option<u64> {
        match self {
            ParseError::Format { line, .. } | ParseError::Foreign { line, .. } => *line,
            _ => None,
        }
    }
}
