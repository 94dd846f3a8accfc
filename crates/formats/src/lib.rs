//! Parsers for the files experiments leave behind, one module per format.
//!
//! Every parser takes an `impl BufRead` and a `&mut Diagnostics`. It never
//! aggregates: it turns bytes into the typed records of its format, reports
//! every line it skipped, repaired or guessed, and returns a
//! [`ParseError`] only when nothing usable could be read.

pub mod campaign;
pub mod detect;
pub mod error;
pub mod iperf3_json;
pub mod iperf3_text;
pub mod line_protocol;
pub mod ombt_controller;
pub mod ombt_params;
pub mod profile;
pub mod shipyard;
pub mod shremote;
pub mod spot_trace;
mod text_units;
pub mod timeseries;

pub use error::ParseError;
