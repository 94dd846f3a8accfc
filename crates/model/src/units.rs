//! Units of the values in series.

use serde::Serialize;
use std::fmt;

/// The unit of a series value, as written in tidy outputs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum Unit {
    /// Bits per second.
    BitsPerSecond,
    /// A fraction between 0 and 1.
    Fraction,
    /// Milliseconds.
    Milliseconds,
    /// A count of things (packets, retransmits).
    Count,
    /// Bytes.
    Bytes,
}

impl Unit {
    /// The short name used in CSV and Parquet outputs.
    pub fn as_str(self) -> &'static str {
        match self {
            Unit::BitsPerSecond => "bit/s",
            Unit::Fraction => "fraction",
            Unit::Milliseconds => "ms",
            Unit::Count => "count",
            Unit::Bytes => "B",
        }
    }
}

impl fmt::Display for Unit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
