//! Operations on the typed model: align runs on an anchor, estimate when
//! each flow started, cut windows, bin into epochs, combine flows, take
//! bands across trials, rolling sums and outage detection.
//!
//! Operations never read files: they take what the parsers produced.

pub mod align;
pub mod band;
pub mod bin;
pub mod outage;
pub mod rolling;
pub mod tcp_disruption;
pub mod traffic;

// Shared with every study: they live in the model, and are re-exported here
// under their former paths.
pub use expost_model::{histogram, stats, window};
