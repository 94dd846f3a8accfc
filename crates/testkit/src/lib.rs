//! Test support for expost, never published: seeded generators of
//! realistic inputs for tests, benchmarks and the bundled examples.
//!
//! - [`campaign`]: temporary campaign folders, laid out file by file or
//!   copied from real runs, then damaged on purpose.
//! - [`provision`]: Batch Shipyard pools, as the perf events their nodes
//!   write, with the generator's own record of what each node did.

pub mod campaign;
pub mod provision;
