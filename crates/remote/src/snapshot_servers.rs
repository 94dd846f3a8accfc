//! Local `influxd` servers over InfluxDB 1.x data tarballs (snapshots of a
//! server's data folder), shared where one snapshot holds another.
//!
//! Each tarball is served by its own private [`Influxd`] (unpacked into a
//! temp folder, started on a free 127.0.0.1 port, stopped when done) —
//! unless [`SnapshotServers::share`] finds that a later snapshot of the
//! same InfluxDB still holds every shard group of an earlier one (told by
//! each tarball's `meta/meta.db`: same cluster id, later index; see
//! [`MetaSnapshot::holds`]). Then one server over the later snapshot
//! answers for both: started by the first user that needs it, stopped when
//! the last one is done (or by [`SnapshotServers::stop_all`], or when the
//! servers are dropped).

use crate::influx_meta::MetaSnapshot;
use crate::influxd::{Influxd, InfluxdError, Options};
use rayon::prelude::*;
use std::collections::{BTreeMap, HashMap};
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Duration;
use thiserror::Error;

/// Why no server answers for a tarball.
#[derive(Debug, Error)]
pub enum ServeError {
    /// Its own server could not be started.
    #[error(transparent)]
    Start(#[from] InfluxdError),
    /// The shared server could not be started (told to every user of it).
    #[error("{0}")]
    Shared(String),
    /// The shared server was stopped already.
    #[error("the shared server was already stopped")]
    Stopped,
}

/// A later snapshot whose server answers for earlier ones.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sharing {
    /// The tarball served.
    pub host: PathBuf,
    /// The earlier snapshots it answers for.
    pub served: Vec<PathBuf>,
}

/// The servers answering for a set of tarballs.
#[derive(Debug)]
pub struct SnapshotServers {
    program: OsString,
    ready_timeout: Duration,
    /// The most a tarball may unpack to, bytes.
    max_unpacked: u64,
    /// Tarball → the later snapshot serving it (absent: its own server).
    served_by: HashMap<PathBuf, PathBuf>,
    /// The servers shared by several users, by the tarball they serve.
    shared: HashMap<PathBuf, SharedServer>,
}

/// A server answering for a tarball, held while it is used: an own server
/// is stopped (killed by pid, its temp folder removed) when the lease is
/// dropped; a shared one once its last lease is.
#[derive(Debug)]
pub struct Lease<'a> {
    url: String,
    // Held for what dropping them does.
    _own: Option<Influxd>,
    _shared: Option<DoneGuard<'a>>,
}

impl Lease<'_> {
    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> &str {
        &self.url
    }
}

impl SnapshotServers {
    /// Servers run with `program`, each given `ready_timeout` to answer `/ping`.
    pub fn new(program: OsString, ready_timeout: Duration) -> SnapshotServers {
        SnapshotServers {
            program,
            ready_timeout,
            max_unpacked: crate::influxd::DEFAULT_MAX_UNPACKED,
            served_by: HashMap::new(),
            shared: HashMap::new(),
        }
    }

    /// Refuses tarballs that unpack to more than `bytes` (default
    /// [`crate::influxd::DEFAULT_MAX_UNPACKED`]).
    pub fn with_max_unpacked(mut self, bytes: u64) -> SnapshotServers {
        self.max_unpacked = bytes;
        self
    }

    /// Decides which tarballs one server answers for, reading every
    /// tarball's `meta/meta.db` in parallel (those whose meta cannot be
    /// read keep their own server, which tells why it cannot start).
    /// `tarballs` lists one per user: a shared server stops once that many
    /// leases of it were dropped. Returns each shared server with the
    /// earlier snapshots it answers for (for `database`).
    pub fn share(&mut self, tarballs: &[PathBuf], database: &str) -> Vec<Sharing> {
        let mut distinct = tarballs.to_vec();
        distinct.sort();
        distinct.dedup();
        let max_unpacked = self.max_unpacked;
        let snapshots: Vec<(PathBuf, MetaSnapshot)> = distinct
            .into_par_iter()
            .filter_map(|t| Some((t.clone(), MetaSnapshot::of_tarball(&t, max_unpacked).ok()?)))
            .collect();
        let sharings = shared_snapshots(snapshots, database);
        for sharing in &sharings {
            self.served_by
                .insert(sharing.host.clone(), sharing.host.clone());
            for t in &sharing.served {
                self.served_by.insert(t.clone(), sharing.host.clone());
            }
        }
        let mut users: HashMap<&PathBuf, usize> = HashMap::new();
        for host in tarballs.iter().filter_map(|t| self.served_by.get(t)) {
            *users.entry(host).or_default() += 1;
        }
        self.shared = users
            .into_iter()
            .map(|(host, n)| (host.clone(), SharedServer::new(n)))
            .collect();
        sharings
    }

    /// The tarball whose server answers for `tarball`: a later snapshot
    /// holding it, or itself.
    pub fn host_of<'a>(&'a self, tarball: &'a Path) -> &'a Path {
        self.served_by
            .get(tarball)
            .map_or(tarball, PathBuf::as_path)
    }

    /// A server answering for `tarball`: the shared one (started if no one
    /// did yet), else its own, started now. Waiting for a server to start
    /// is given up once `interrupted` is set.
    ///
    /// # Errors
    /// [`ServeError`]; a shared server that failed to start fails every
    /// lease of it with the same message.
    pub fn serve(
        &self,
        tarball: &Path,
        interrupted: Option<&AtomicBool>,
    ) -> Result<Lease<'_>, ServeError> {
        let options = Options {
            program: self.program.clone(),
            ready_timeout: self.ready_timeout,
            interrupted,
            max_unpacked: self.max_unpacked,
        };
        if let Some((host, shared)) = self
            .served_by
            .get(tarball)
            .and_then(|h| Some((h, self.shared.get(h)?)))
        {
            // Counts this use as done however it ends, failures included.
            let guard = DoneGuard(shared);
            let url = shared.url(|| Influxd::start_over_tarball(host, &options))?;
            return Ok(Lease {
                url,
                _own: None,
                _shared: Some(guard),
            });
        }
        let server = Influxd::start_over_tarball(tarball, &options)?;
        Ok(Lease {
            url: server.url(),
            _own: Some(server),
            _shared: None,
        })
    }

    /// Stops every shared server still running (e.g. one whose users
    /// stopped before asking for it).
    pub fn stop_all(&self) {
        for shared in self.shared.values() {
            shared.stop();
        }
    }
}

/// Which snapshots one server can answer for: per InfluxDB server (cluster
/// id), from its latest snapshot down, the earlier snapshots that one holds
/// ([`MetaSnapshot::holds`]); the rest again the same way. Returns each
/// serving tarball with the others it answers for (only where there are
/// others).
pub fn shared_snapshots(snapshots: Vec<(PathBuf, MetaSnapshot)>, database: &str) -> Vec<Sharing> {
    let mut by_server: BTreeMap<u64, Vec<(PathBuf, MetaSnapshot)>> = BTreeMap::new();
    for snapshot in snapshots {
        by_server
            .entry(snapshot.1.cluster_id)
            .or_default()
            .push(snapshot);
    }
    let mut shared = Vec::new();
    for (_, mut group) in by_server {
        // Latest first; equal indexes by path, for a stable choice.
        group.sort_by(|a, b| b.1.index.cmp(&a.1.index).then_with(|| b.0.cmp(&a.0)));
        while group.len() >= 2 {
            let host = group.remove(0);
            let (held, rest): (Vec<_>, Vec<_>) = group
                .into_iter()
                .partition(|s| host.1.holds(&s.1, database));
            if !held.is_empty() {
                shared.push(Sharing {
                    host: host.0,
                    served: held.into_iter().map(|s| s.0).collect(),
                });
            }
            group = rest;
        }
    }
    shared
}

/// A local `influxd` answering for several users: started by the first
/// that needs it, stopped when the last is done.
#[derive(Debug)]
struct SharedServer {
    state: Mutex<ServerState>,
    /// Users still to be served.
    remaining: AtomicUsize,
}

#[derive(Debug)]
enum ServerState {
    NotStarted,
    Running(Influxd),
    Failed(String),
    Stopped,
}

impl SharedServer {
    fn new(users: usize) -> Self {
        SharedServer {
            state: Mutex::new(ServerState::NotStarted),
            remaining: AtomicUsize::new(users),
        }
    }

    /// The server's URL, starting it with `start` if no one did yet.
    fn url(
        &self,
        start: impl FnOnce() -> Result<Influxd, InfluxdError>,
    ) -> Result<String, ServeError> {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        if matches!(*state, ServerState::NotStarted) {
            *state = match start() {
                Ok(server) => ServerState::Running(server),
                Err(e) => ServerState::Failed(e.to_string()),
            };
        }
        match &*state {
            ServerState::Running(server) => Ok(server.url()),
            ServerState::Failed(e) => Err(ServeError::Shared(e.clone())),
            ServerState::NotStarted | ServerState::Stopped => Err(ServeError::Stopped),
        }
    }

    /// One user is done; the last one stops the server.
    fn done_one(&self) {
        if self.remaining.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.stop();
        }
    }

    /// Stops the server (killed by pid, its temp folder removed).
    fn stop(&self) {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        *state = ServerState::Stopped;
    }
}

/// Calls [`SharedServer::done_one`] when dropped, whatever way the use ends.
#[derive(Debug)]
struct DoneGuard<'a>(&'a SharedServer);

impl Drop for DoneGuard<'_> {
    fn drop(&mut self) {
        self.0.done_one();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::influx_meta::{DatabaseMeta, RetentionPolicyMeta, ShardGroupMeta};

    fn snapshot(
        name: &str,
        cluster_id: u64,
        index: u64,
        groups: &[u64],
    ) -> (PathBuf, MetaSnapshot) {
        let shard_groups = groups
            .iter()
            .map(|&id| ShardGroupMeta {
                id,
                start_ns: 0,
                end_ns: 1,
                deleted_at_ns: 0,
            })
            .collect();
        let meta = MetaSnapshot {
            index,
            cluster_id,
            databases: vec![DatabaseMeta {
                name: "telegraf".into(),
                retention_policies: vec![RetentionPolicyMeta {
                    name: "autogen".into(),
                    duration_ns: 0,
                    shard_groups,
                }],
            }],
        };
        (PathBuf::from(name), meta)
    }

    fn sharing(host: &str, served: &[&str]) -> Sharing {
        Sharing {
            host: host.into(),
            served: served.iter().map(PathBuf::from).collect(),
        }
    }

    #[test]
    fn the_latest_snapshot_of_a_server_answers_for_the_earlier_ones_it_holds() {
        let shared = shared_snapshots(
            vec![
                snapshot("a1", 1, 3, &[1]),
                snapshot("b1", 2, 4, &[1]),
                snapshot("a3", 1, 9, &[1, 2]),
                snapshot("a2", 1, 6, &[1, 2]),
                snapshot("b2", 2, 2, &[5]),
            ],
            "telegraf",
        );
        assert_eq!(
            shared,
            vec![sharing("a3", &["a2", "a1"])],
            "server 2's snapshots hold different shard groups: each its own"
        );
        assert!(shared_snapshots(vec![snapshot("a1", 1, 3, &[1])], "telegraf").is_empty());
        assert!(shared_snapshots(
            vec![snapshot("a1", 1, 3, &[1]), snapshot("a2", 1, 6, &[1])],
            "other"
        )
        .is_empty());
    }

    #[test]
    fn a_snapshot_not_held_by_the_latest_may_serve_older_ones() {
        // a3 lost shard group 1 (retention), so a2 serves a1 and a3 is alone.
        let shared = shared_snapshots(
            vec![
                snapshot("a1", 1, 3, &[1]),
                snapshot("a2", 1, 6, &[1, 2]),
                snapshot("a3", 1, 9, &[2, 3]),
            ],
            "telegraf",
        );
        assert_eq!(shared, vec![sharing("a2", &["a1"])]);
    }

    #[test]
    fn a_shared_server_stops_after_its_last_user_and_a_failed_start_is_told_to_all() {
        let shared = SharedServer::new(2);
        let err = shared
            .url(|| Err(InfluxdError::Interrupted))
            .unwrap_err()
            .to_string();
        // The second user does not start it again: it gets the same error.
        let again = shared.url(|| panic!("started twice")).unwrap_err();
        assert_eq!(err, again.to_string());
        shared.done_one();
        assert!(!matches!(
            *shared.state.lock().unwrap(),
            ServerState::Stopped
        ));
        shared.done_one();
        assert!(matches!(
            *shared.state.lock().unwrap(),
            ServerState::Stopped
        ));
    }

    #[test]
    fn tarballs_without_readable_meta_keep_their_own_server() {
        let mut servers = SnapshotServers::new("influxd".into(), Duration::from_secs(1));
        let tarballs = [PathBuf::from("/nonexistent/a.tar.gz")];
        assert!(servers.share(&tarballs, "telegraf").is_empty());
        assert_eq!(servers.host_of(&tarballs[0]), tarballs[0].as_path());
        servers.stop_all();
    }
}
