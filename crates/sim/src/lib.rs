//! Training on preemptible (spot) machines: trace readers and statistics,
//! training profiles, preemption models, and a fast discrete-event
//! simulator of training strategies under preemptions, with sweeps over
//! parameters and seeds.
//!
//! Data flows one way: [`trace`] and [`profile`] read files; [`trace_stats`]
//! describes traces; [`model`] turns traces or rates into node removals and
//! additions; [`engine`] simulates training under them (and [`tick`]
//! reproduces the original notebook's 5-second simulation exactly);
//! [`metrics`] defines what a simulation measured; [`sweep`] runs grids of
//! simulations deterministically in parallel. Times are seconds, rates are
//! per node-hour, prices are dollars per node-hour.

pub mod engine;
pub mod metrics;
pub mod model;
pub mod profile;
pub mod sweep;
pub mod tick;
pub mod trace;
pub mod trace_stats;
