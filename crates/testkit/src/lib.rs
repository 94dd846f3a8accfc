//! Test support for expost, never published: seeded generators of
//! realistic inputs for tests, benchmarks and the bundled examples.
//!
//! - [`provision`]: Batch Shipyard pools, as the perf events their nodes
//!   write, with the generator's own record of what each node did.

pub mod provision;
