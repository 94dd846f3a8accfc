//! Training on preemptible (spot) machines: trace statistics, preemption
//! models, and a fast discrete-event simulator of training strategies under
//! preemptions, with sweeps over parameters and seeds. It reads no file:
//! traces and profiles (`expost_model::{spot, profile}`) are read by
//! `expost-formats`.
//!
//! Data flows one way: [`trace_stats`] describes traces; [`model`] turns
//! traces or rates into node removals and additions; [`engine`] simulates
//! training under them (and [`tick`] reproduces the original notebook's
//! 5-second simulation exactly);
//! [`metrics`] defines what a simulation measured; [`sweep`] runs grids of
//! simulations deterministically in parallel. Times are seconds, rates are
//! per node-hour, prices are dollars per node-hour.

pub mod engine;
pub mod metrics;
pub mod model;
pub mod sweep;
pub mod tick;
pub mod trace_stats;
