//! Studies: each one a short composition of parsers (`expost-formats`),
//! operations (`expost-ops`) and the model, returning typed results that
//! the command line renders.

pub mod campaign;
pub mod choice;
pub mod failover;
pub mod files;
pub mod inspect;
pub mod iperf3;
pub mod ombt;
pub mod provision;
pub mod readers;
pub mod simulate;
pub mod study;
pub mod sweep;
mod table_builder;
pub mod traces;
