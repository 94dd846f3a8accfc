//! The typed model shared by every part of expost: diagnostics, events,
//! tidy samples and spans, time windows, mergeable histograms, summary
//! statistics, units, spot-instance traces and training profiles. This
//! crate does no I/O.
//!
//! Times are `f64` seconds. Absolute times are UTC epoch seconds; once a run
//! is aligned, times are seconds relative to the run's anchor event.

pub mod diagnostics;
pub mod event;
pub mod histogram;
pub mod profile;
pub mod series;
pub mod spot;
pub mod stats;
pub mod units;
pub mod window;

pub use diagnostics::{Diagnostic, Diagnostics, Severity};
pub use event::Event;
pub use series::{Params, Sample, Span, Tags};
pub use stats::Summary;
pub use units::Unit;
pub use window::TimeWindow;
