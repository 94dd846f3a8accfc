//! Clients of the servers experiments leave their records in. Blocking
//! HTTP with timeouts, retries with backoff on server errors and broken
//! connections, and every page of a query followed.
//!
//! - [`azure_table`]: Azure Table storage (and Azurite), SharedKey and
//!   SharedKeyLite signing, credentials from connection strings or Batch
//!   Shipyard configuration files; query, create table, insert.
//! - [`influx`]: InfluxDB 1.x (`/query` with InfluxQL, chunked answers, `/write`).

pub mod azure_table;
pub mod influx;
