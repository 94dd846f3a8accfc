//! Time windows: the span in which all flows ran, and user windows such as
//! `--window 11:19`.

use std::fmt;
use std::str::FromStr;

/// A closed time window `[start, end]`, seconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TimeWindow {
    /// Start, seconds.
    pub start: f64,
    /// End, seconds.
    pub end: f64,
}

impl TimeWindow {
    /// True when `t` lies in the window (bounds included).
    pub fn contains(&self, t: f64) -> bool {
        t >= self.start && t <= self.end
    }

    /// Length of the window, seconds.
    pub fn len(&self) -> f64 {
        self.end - self.start
    }

    /// True when the window has no length.
    pub fn is_empty(&self) -> bool {
        self.end <= self.start
    }
}

impl fmt::Display for TimeWindow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.start, self.end)
    }
}

/// Why a window given as text could not be read.
#[derive(Debug, thiserror::Error, PartialEq)]
#[error("window {0:?} is not START:END in seconds with START < END (e.g. 11:19, -1:2.5)")]
pub struct WindowParseError(String);

impl FromStr for TimeWindow {
    type Err = WindowParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || WindowParseError(s.to_string());
        let (a, b) = s.split_once(':').ok_or_else(bad)?;
        let start: f64 = a.trim().parse().map_err(|_| bad())?;
        let end: f64 = b.trim().parse().map_err(|_| bad())?;
        if !(start.is_finite() && end.is_finite() && start < end) {
            return Err(bad());
        }
        Ok(TimeWindow { start, end })
    }
}

/// The window in which every span ran: from the latest start to the
/// earliest end. `None` when there are no spans or they do not overlap.
pub fn overlap(spans: &[TimeWindow]) -> Option<TimeWindow> {
    let start = spans.iter().map(|s| s.start).max_by(f64::total_cmp)?;
    let end = spans.iter().map(|s| s.end).min_by(f64::total_cmp)?;
    (start < end).then_some(TimeWindow { start, end })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_windows() {
        assert_eq!(
            "11:19".parse(),
            Ok(TimeWindow {
                start: 11.0,
                end: 19.0
            })
        );
        assert_eq!(
            "-1.5:2".parse(),
            Ok(TimeWindow {
                start: -1.5,
                end: 2.0
            })
        );
        assert!("19:11".parse::<TimeWindow>().is_err());
        assert!("11".parse::<TimeWindow>().is_err());
        assert!("a:b".parse::<TimeWindow>().is_err());
    }

    #[test]
    fn overlap_of_staggered_flows() {
        let spans = [
            TimeWindow {
                start: 0.1,
                end: 30.1,
            },
            TimeWindow {
                start: 0.4,
                end: 30.3,
            },
        ];
        assert_eq!(
            overlap(&spans),
            Some(TimeWindow {
                start: 0.4,
                end: 30.1
            })
        );
        assert_eq!(overlap(&[]), None);
        let apart = [
            TimeWindow {
                start: 0.0,
                end: 1.0,
            },
            TimeWindow {
                start: 2.0,
                end: 3.0,
            },
        ];
        assert_eq!(overlap(&apart), None);
    }
}
