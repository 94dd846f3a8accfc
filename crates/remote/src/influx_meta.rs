//! What an InfluxDB 1.x data folder's `meta/meta.db` says about the data it
//! holds: the server's cluster id, the meta store's index (it grows with
//! every change, so of two snapshots of one server the later has the larger
//! index), and per database and retention policy the shard groups (one per
//! stretch of time holding points).
//!
//! `meta.db` is the server's meta `Data` message in protobuf (the
//! `services/meta/internal/meta.proto` of InfluxDB 1.x); only the fields
//! read here are declared, the others are skipped.
//!
//! Used to tell whether one run's `influxdb-data.tar.gz` is a later
//! snapshot of the same server as another's that still holds all of its
//! data ([`MetaSnapshot::holds`]), so one `influxd` can answer for both.

use crate::tar_cmd::open_regular;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};

/// The most of a `meta/meta.db` read: 16 MiB (a real one is a few KB;
/// tarballs' meta data are read in parallel, so each is bounded).
pub const META_LIMIT: u64 = 16 << 20;
use thiserror::Error;

/// Why a snapshot's meta data could not be read.
#[derive(Debug, Error)]
pub enum MetaError {
    /// `tar` could not be run, or failed on the tarball.
    #[error("cannot read meta/meta.db from {}: {message}", .tarball.display())]
    Tar {
        /// The tarball.
        tarball: PathBuf,
        /// What `tar` said.
        message: String,
    },
    /// `meta/meta.db` is larger than [`META_LIMIT`] (a real one is a few KB).
    #[error("cannot read meta/meta.db from {}: it is larger than {} MiB, so not InfluxDB's meta data", .tarball.display(), .limit >> 20)]
    TooLarge {
        /// The tarball.
        tarball: PathBuf,
        /// The limit, bytes.
        limit: u64,
    },
    /// The bytes are not InfluxDB's meta data.
    #[error("meta.db of {what} is not InfluxDB 1.x meta data: {message}")]
    Decode {
        /// Which file.
        what: String,
        /// The decoder's message.
        message: String,
    },
}

/// The meta data of one snapshot of an InfluxDB 1.x server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetaSnapshot {
    /// The meta store's index: larger in later snapshots of one server.
    pub index: u64,
    /// Random at the server's first start, then kept: same server, same id.
    pub cluster_id: u64,
    /// Its databases.
    pub databases: Vec<DatabaseMeta>,
}

/// A database's retention policies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatabaseMeta {
    /// The database's name.
    pub name: String,
    /// Its retention policies.
    pub retention_policies: Vec<RetentionPolicyMeta>,
}

/// A retention policy's shard groups.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetentionPolicyMeta {
    /// The policy's name (e.g. `autogen`).
    pub name: String,
    /// How long points are kept, ns (0: forever).
    pub duration_ns: i64,
    /// Its shard groups.
    pub shard_groups: Vec<ShardGroupMeta>,
}

/// One shard group: the points of one stretch of time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShardGroupMeta {
    /// Its id, unique in the server.
    pub id: u64,
    /// Start of its time range, epoch ns.
    pub start_ns: i64,
    /// End of its time range, epoch ns.
    pub end_ns: i64,
    /// When it was deleted, epoch ns (0: it was not).
    pub deleted_at_ns: i64,
}

impl MetaSnapshot {
    /// Decodes the content of a `meta.db`; `what` names it in errors.
    ///
    /// # Errors
    /// [`MetaError::Decode`] when the bytes are not the meta data message
    /// (or carry no cluster id: every server writes one).
    pub fn decode(bytes: &[u8], what: &str) -> Result<MetaSnapshot, MetaError> {
        let decode_error = |message: String| MetaError::Decode {
            what: what.to_string(),
            message,
        };
        let data =
            <pb::Data as prost::Message>::decode(bytes).map_err(|e| decode_error(e.to_string()))?;
        if data.cluster_id == 0 {
            return Err(decode_error("no cluster id".into()));
        }
        Ok(MetaSnapshot {
            index: data.index,
            cluster_id: data.cluster_id,
            databases: data.databases.into_iter().map(DatabaseMeta::from).collect(),
        })
    }

    /// Reads `meta/meta.db` out of an `influxdb-data.tar.gz` (at any depth)
    /// in one pass that stops at it, without unpacking anything: a `meta/`
    /// stored before `data/` is read at once. The look stops as soon as
    /// the entries before it (their sizes and 512-byte headers) pass
    /// `max_unpacked` bytes, so a tarball with no meta data behind a huge
    /// file, or behind millions of empty ones, costs next to nothing.
    ///
    /// # Errors
    /// [`MetaError::Tar`] when the tarball cannot be read, has no
    /// `meta/meta.db`, or passes `max_unpacked` before it;
    /// [`MetaError::TooLarge`] when it is larger than [`META_LIMIT`];
    /// [`MetaError::Decode`] as [`MetaSnapshot::decode`].
    pub fn of_tarball(tarball: &Path, max_unpacked: u64) -> Result<MetaSnapshot, MetaError> {
        let tar_error = |message: String| MetaError::Tar {
            tarball: tarball.to_path_buf(),
            message,
        };
        let file = open_regular(tarball).map_err(|e| tar_error(e.to_string()))?;
        let gunzipped = flate2::read::MultiGzDecoder::new(BufReader::with_capacity(1 << 16, file));
        let mut archive = tar::Archive::new(gunzipped);
        let entries = archive
            .entries()
            .map_err(|e| tar_error(format!("not a gzipped tarball: {e}")))?;
        let mut declared: u64 = 0;
        for entry in entries {
            let entry =
                entry.map_err(|e| tar_error(format!("not a readable gzipped tarball: {e}")))?;
            let size = entry.header().entry_size().unwrap_or(u64::MAX);
            // Each header counts as its 512 bytes: a stream of empty
            // entries is bounded too.
            declared = declared.saturating_add(size).saturating_add(512);
            if declared > max_unpacked {
                return Err(tar_error(format!(
                    "not found before the entries pass {max_unpacked} bytes (the limit)"
                )));
            }
            let path = entry.path_bytes();
            let is_meta = path.as_ref() == b"meta/meta.db" || path.ends_with(b"/meta/meta.db");
            if !is_meta || !entry.header().entry_type().is_file() {
                continue;
            }
            if size > META_LIMIT {
                return Err(MetaError::TooLarge {
                    tarball: tarball.to_path_buf(),
                    limit: META_LIMIT,
                });
            }
            let mut bytes = Vec::new();
            entry
                .take(META_LIMIT)
                .read_to_end(&mut bytes)
                .map_err(|e| tar_error(format!("cannot read meta/meta.db: {e}")))?;
            return MetaSnapshot::decode(&bytes, &tarball.display().to_string());
        }
        Err(tar_error("no meta/meta.db in it".into()))
    }

    /// The database named `name`.
    pub fn database(&self, name: &str) -> Option<&DatabaseMeta> {
        self.databases.iter().find(|d| d.name == name)
    }

    /// Whether this snapshot holds every point of `database` that
    /// `earlier` holds: both come from the same server (cluster id), this
    /// one is not older (meta index), and each shard group of the database
    /// live in `earlier` is still there (same id and time range), not
    /// deleted. It may hold more (points written after `earlier` was taken).
    pub fn holds(&self, earlier: &MetaSnapshot, database: &str) -> bool {
        if self.cluster_id != earlier.cluster_id || self.index < earlier.index {
            return false;
        }
        let (Some(mine), Some(theirs)) = (self.database(database), earlier.database(database))
        else {
            return false;
        };
        theirs.retention_policies.iter().all(|policy| {
            let Some(kept) = mine
                .retention_policies
                .iter()
                .find(|p| p.name == policy.name)
            else {
                return false;
            };
            policy
                .shard_groups
                .iter()
                .filter(|g| g.deleted_at_ns == 0)
                .all(|g| {
                    kept.shard_groups.iter().any(|k| {
                        (k.id, k.start_ns, k.end_ns) == (g.id, g.start_ns, g.end_ns)
                            && k.deleted_at_ns == 0
                    })
                })
        })
    }
}

impl From<pb::Database> for DatabaseMeta {
    fn from(db: pb::Database) -> Self {
        DatabaseMeta {
            name: db.name,
            retention_policies: db
                .retention_policies
                .into_iter()
                .map(|p| RetentionPolicyMeta {
                    name: p.name,
                    duration_ns: p.duration,
                    shard_groups: p
                        .shard_groups
                        .into_iter()
                        .map(|g| ShardGroupMeta {
                            id: g.id,
                            start_ns: g.start_time,
                            end_ns: g.end_time,
                            deleted_at_ns: g.deleted_at,
                        })
                        .collect(),
                })
                .collect(),
        }
    }
}

/// The messages of InfluxDB 1.x's `meta.proto` (proto2), only the fields read.
mod pb {
    /// `meta.Data`.
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Data {
        #[prost(uint64, required, tag = "2")]
        pub index: u64,
        #[prost(uint64, required, tag = "3")]
        pub cluster_id: u64,
        #[prost(message, repeated, tag = "5")]
        pub databases: Vec<Database>,
    }

    /// `meta.DatabaseInfo`.
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Database {
        #[prost(string, required, tag = "1")]
        pub name: String,
        #[prost(message, repeated, tag = "3")]
        pub retention_policies: Vec<RetentionPolicy>,
    }

    /// `meta.RetentionPolicyInfo`.
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct RetentionPolicy {
        #[prost(string, required, tag = "1")]
        pub name: String,
        #[prost(int64, required, tag = "2")]
        pub duration: i64,
        #[prost(message, repeated, tag = "5")]
        pub shard_groups: Vec<ShardGroup>,
    }

    /// `meta.ShardGroupInfo`.
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct ShardGroup {
        #[prost(uint64, required, tag = "1")]
        pub id: u64,
        #[prost(int64, required, tag = "2")]
        pub start_time: i64,
        #[prost(int64, required, tag = "3")]
        pub end_time: i64,
        #[prost(int64, required, tag = "4")]
        pub deleted_at: i64,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use prost::Message;
    use std::process::Command;

    fn group(id: u64, deleted_at: i64) -> pb::ShardGroup {
        pb::ShardGroup {
            id,
            start_time: id as i64 * 1_000,
            end_time: id as i64 * 1_000 + 999,
            deleted_at,
        }
    }

    fn snapshot(index: u64, cluster_id: u64, groups: Vec<pb::ShardGroup>) -> MetaSnapshot {
        let data = pb::Data {
            index,
            cluster_id,
            databases: vec![pb::Database {
                name: "telegraf".into(),
                retention_policies: vec![pb::RetentionPolicy {
                    name: "autogen".into(),
                    duration: 0,
                    shard_groups: groups,
                }],
            }],
        };
        MetaSnapshot::decode(&data.encode_to_vec(), "test").unwrap()
    }

    #[test]
    fn a_later_snapshot_of_the_same_server_holds_an_earlier_one() {
        let early = snapshot(5, 42, vec![group(1, 0)]);
        let late = snapshot(9, 42, vec![group(1, 0), group(2, 0)]);
        assert!(late.holds(&early, "telegraf"));
        assert!(late.holds(&late, "telegraf"));
        assert!(!early.holds(&late, "telegraf"), "older");
        assert!(!late.holds(&early, "other"), "no such database");
        let other_server = snapshot(9, 7, vec![group(1, 0), group(2, 0)]);
        assert!(!other_server.holds(&early, "telegraf"));
    }

    #[test]
    fn a_shard_group_deleted_or_dropped_since_breaks_the_hold() {
        let early = snapshot(5, 42, vec![group(1, 0), group(2, 0)]);
        assert!(!snapshot(9, 42, vec![group(1, 77), group(2, 0)]).holds(&early, "telegraf"));
        assert!(!snapshot(9, 42, vec![group(2, 0)]).holds(&early, "telegraf"));
        // Already deleted in the earlier one: nothing of it to hold.
        let gone = snapshot(5, 42, vec![group(1, 77), group(2, 0)]);
        assert!(snapshot(9, 42, vec![group(2, 0)]).holds(&gone, "telegraf"));
    }

    #[test]
    fn bytes_that_are_not_meta_data_are_an_error_naming_the_file() {
        let err = MetaSnapshot::decode(b"\xff\xff\xff", "run_1/influxdb-data.tar.gz").unwrap_err();
        assert!(
            err.to_string().contains("run_1/influxdb-data.tar.gz"),
            "{err}"
        );
        let err = MetaSnapshot::decode(b"", "x").unwrap_err();
        assert!(err.to_string().contains("no cluster id"), "{err}");
    }

    /// The meta.db of a real influxd 1.6 (a fixture run's data folder).
    #[test]
    fn a_real_tarballs_meta_is_read() {
        let tarball = Path::new(env!("CARGO_MANIFEST_DIR")).join(
            "../../tests/fixtures/ombt/campaign/test_case_1/run_1_rpc-call_1c_1s/influxdb-data.tar.gz",
        );
        let meta = MetaSnapshot::of_tarball(&tarball, 1 << 30).unwrap();
        assert!(meta.index > 0);
        let telegraf = meta.database("telegraf").expect("telegraf database");
        assert_eq!(telegraf.retention_policies[0].name, "autogen");
        assert_eq!(telegraf.retention_policies[0].duration_ns, 0);
        assert!(!telegraf.retention_policies[0].shard_groups.is_empty());
        assert!(meta.holds(&meta, "telegraf"));
    }

    #[test]
    fn a_meta_db_over_the_limit_is_refused_without_reading_it_whole() {
        let dir = tempfile::tempdir().unwrap();
        let meta = dir.path().join("x/meta");
        std::fs::create_dir_all(&meta).unwrap();
        // Sparse: tar stores it as zeros, gzip shrinks them.
        std::fs::File::create(meta.join("meta.db"))
            .unwrap()
            .set_len(META_LIMIT + 4096)
            .unwrap();
        let tarball = dir.path().join("t.tar.gz");
        let ok = Command::new("tar")
            .arg("-C")
            .arg(dir.path())
            .arg("-czf")
            .arg(&tarball)
            .arg("x")
            .status()
            .unwrap()
            .success();
        assert!(ok);
        let err = MetaSnapshot::of_tarball(&tarball, 1 << 30).unwrap_err();
        assert!(matches!(err, MetaError::TooLarge { .. }), "{err:?}");
        assert!(err.to_string().contains("larger than 16 MiB"), "{err}");
    }

    #[test]
    fn a_fifo_named_like_a_tarball_is_refused_without_blocking() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("t.tar.gz");
        assert!(Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success());
        let err = MetaSnapshot::of_tarball(&fifo, 1 << 30).unwrap_err();
        assert!(
            err.to_string().contains("not a regular file (a FIFO)"),
            "{err}"
        );
    }

    #[test]
    fn a_tarball_without_meta_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("x")).unwrap();
        let tarball = dir.path().join("t.tar.gz");
        let ok = Command::new("tar")
            .arg("-C")
            .arg(dir.path())
            .arg("-czf")
            .arg(&tarball)
            .arg("x")
            .status()
            .unwrap()
            .success();
        assert!(ok);
        let err = MetaSnapshot::of_tarball(&tarball, 1 << 30).unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("t.tar.gz") && text.contains("no meta/meta.db"),
            "{text}"
        );
    }

    #[test]
    fn meta_data_stored_after_a_huge_file_is_looked_for_only_up_to_the_bound() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("x/data");
        std::fs::create_dir_all(&data).unwrap();
        // Sparse: 64 MiB of zeros that gzip shrinks to 64 KB.
        std::fs::File::create(data.join("huge"))
            .unwrap()
            .set_len(64 << 20)
            .unwrap();
        let tarball = dir.path().join("t.tar.gz");
        let ok = Command::new("tar")
            .arg("-C")
            .arg(dir.path())
            .arg("-czf")
            .arg(&tarball)
            .arg("x")
            .status()
            .unwrap()
            .success();
        assert!(ok);
        let err = MetaSnapshot::of_tarball(&tarball, 8 << 20).unwrap_err();
        assert!(
            err.to_string()
                .contains("not found before the entries pass 8388608 bytes (the limit)"),
            "{err}"
        );
    }
}
