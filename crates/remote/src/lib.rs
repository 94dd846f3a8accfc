//! Clients of the servers experiments leave their records in. Blocking
//! HTTP with timeouts, retries with backoff on server errors and broken
//! connections, and every page of a query followed.
//!
//! - [`azure_table`]: Azure Table storage (and Azurite), SharedKey and
//!   SharedKeyLite signing, credentials from connection strings or Batch
//!   Shipyard configuration files; query, create table, insert.
//! - [`influx`]: InfluxDB 1.x (`/query` with InfluxQL, chunked answers, `/write`).
//! - [`influx_meta`]: what an InfluxDB 1.x data folder's `meta.db` says
//!   (cluster id, shard groups), to tell snapshots of one server apart.
//! - [`influxd`]: a private local `influxd` over a data folder (or a restored
//!   tarball of one), stopped by pid when dropped.
//! - [`redact`]: credentials in URLs, split off for sending and hidden
//!   wherever a URL is shown or saved.
//! - [`snapshot_servers`]: local `influxd` servers over data tarballs, one
//!   shared by the snapshots of one InfluxDB that a later one still holds.

pub mod azure_table;
pub mod influx;
pub mod influx_meta;
pub mod influxd;
pub mod redact;
pub mod snapshot_servers;
mod tar_cmd;
