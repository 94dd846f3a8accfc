//! A private, local InfluxDB 1.x server (`influxd`, Debian's `influxdb`
//! package) over a data folder (`meta/`, `data/`, `wal/`): started on free
//! 127.0.0.1 ports with its config and log in a temp folder, ready once it
//! answers `/ping`, and killed by pid (then the temp folder removed) when
//! its guard is dropped.
//!
//! [`unpack_data_dir`] restores a data folder saved as a tarball (as
//! ombt-orchestrator saves `influxdb-data.tar.gz`) with the system `tar`;
//! [`Influxd::start_over_tarball`] serves one.

use crate::influx::InfluxClient;
use crate::tar_cmd::{kind_of, open_regular, Tar};
use std::ffi::{OsStr, OsString};
use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use thiserror::Error;

/// The folders an InfluxDB 1.x data directory holds.
pub const DATA_DIR_PARTS: [&str; 3] = ["meta", "data", "wal"];

/// Why a local `influxd` could not be started, or a data folder restored.
#[derive(Debug, Error)]
pub enum InfluxdError {
    /// A file or folder could not be made or read.
    #[error("{what} '{path}': {source}")]
    Io {
        /// What was being done.
        what: &'static str,
        /// The file or folder.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The program could not be run.
    #[error("cannot run '{program}' (install Debian's influxdb package, or set EXPOST_INFLUXD): {source}")]
    Spawn {
        /// The program.
        program: String,
        /// The cause.
        source: std::io::Error,
    },
    /// `influxd` exited before answering `/ping`.
    #[error("influxd exited ({status}) before answering /ping; its log ends with:\n{log}")]
    Exited {
        /// Its exit status.
        status: String,
        /// The end of its log.
        log: String,
    },
    /// `influxd` did not answer `/ping` in time.
    #[error("influxd did not answer /ping on 127.0.0.1:{port} within {seconds} s; its log ends with:\n{log}")]
    NotReady {
        /// Its HTTP port.
        port: u16,
        /// The time allowed.
        seconds: f64,
        /// The end of its log.
        log: String,
    },
    /// The start was given up because the work was interrupted.
    #[error("interrupted before influxd was ready")]
    Interrupted,
    /// `influxd` did not stop after SIGTERM (it is then killed).
    #[error("influxd (pid {pid}) did not stop within {seconds} s of SIGTERM")]
    NotStopped {
        /// Its pid.
        pid: u32,
        /// The time allowed.
        seconds: f64,
    },
    /// `tar` failed on the tarball.
    #[error("'{tarball}' could not be unpacked: {message}")]
    Unpack {
        /// The tarball.
        tarball: PathBuf,
        /// What `tar` said.
        message: String,
    },
    /// The tarball holds no InfluxDB data directory.
    #[error("'{tarball}' is not an InfluxDB data directory: {found} (expected meta/, data/ and wal/, at its top or in one folder)")]
    NotADataDir {
        /// The tarball.
        tarball: PathBuf,
        /// What it holds instead.
        found: String,
    },
    /// The tarball holds an entry that is not a regular file or folder
    /// (a link, a device, a FIFO, a socket): it could make the server use
    /// files outside its temp folder, so nothing of it is served.
    #[error("'{tarball}' holds {kind} '{entry}': only regular files and folders are served")]
    NotPlain {
        /// The tarball.
        tarball: PathBuf,
        /// The entry, as named in the tarball (or in the unpacked folder).
        entry: String,
        /// What it is.
        kind: String,
    },
    /// The tarball's `meta/meta.db` is larger than
    /// [`crate::influx_meta::META_LIMIT`] (a real one is a few KB).
    #[error("'{tarball}' holds '{entry}' of {size} bytes, more than {} MiB: not InfluxDB's meta data", crate::influx_meta::META_LIMIT >> 20)]
    MetaTooLarge {
        /// The tarball.
        tarball: PathBuf,
        /// The entry.
        entry: String,
        /// Its size, bytes.
        size: u64,
    },
    /// The tarball would unpack to more than the limit.
    #[error("'{tarball}' unpacks to more than {} GiB (the limit; reached at '{entry}')", gib(*.limit))]
    TooLarge {
        /// The tarball.
        tarball: PathBuf,
        /// The limit, bytes.
        limit: u64,
        /// The entry at which the limit was passed.
        entry: String,
    },
}

/// `bytes` in GiB, as short as exact enough.
fn gib(bytes: u64) -> String {
    let g = bytes as f64 / (1u64 << 30) as f64;
    let s = format!("{g:.3}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// The most a tarball may unpack to unless told otherwise: 4 GiB.
pub const DEFAULT_MAX_UNPACKED: u64 = 4 << 30;

/// How to start `influxd`.
#[derive(Debug, Clone)]
pub struct Options<'a> {
    /// The program (default: `$EXPOST_INFLUXD`, else `influxd`).
    pub program: OsString,
    /// How long to wait for `/ping` to answer.
    pub ready_timeout: Duration,
    /// When set (e.g. by a Ctrl-C handler), waiting is given up.
    pub interrupted: Option<&'a AtomicBool>,
    /// The most a tarball may unpack to, bytes (see [`unpack_data_dir`]).
    pub max_unpacked: u64,
}

impl Default for Options<'_> {
    fn default() -> Self {
        Options {
            program: program(),
            ready_timeout: Duration::from_secs(20),
            interrupted: None,
            max_unpacked: DEFAULT_MAX_UNPACKED,
        }
    }
}

/// `$EXPOST_INFLUXD`, else `influxd`.
pub fn program() -> OsString {
    std::env::var_os("EXPOST_INFLUXD").unwrap_or_else(|| "influxd".into())
}

/// Whether `program version` runs and succeeds.
pub fn available(program: &OsString) -> bool {
    Command::new(program)
        .arg("version")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// A free TCP port on 127.0.0.1 (free when asked; see the retry in [`Influxd::start_in`]).
pub fn free_port() -> std::io::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// A running `influxd`; killed (by pid) and its temp folder removed when dropped.
#[derive(Debug)]
pub struct Influxd {
    child: Child,
    port: u16,
    // Dropped after the process is killed (fields drop after `drop`);
    // `None` only while a failed start hands it back for a retry.
    dir: Option<tempfile::TempDir>,
}

/// The name prefix of every server's temp folder.
const TEMP_PREFIX: &str = "expost-influxd-";

/// A new temp folder for a server, named `expost-influxd-{pid}-…` after
/// this process, so that a later run can tell the folders of a killed
/// expost (see [`remove_stale_dirs`]) from those of one still running.
pub fn temp_dir() -> Result<tempfile::TempDir, InfluxdError> {
    tempfile::Builder::new()
        .prefix(&format!("{TEMP_PREFIX}{}-", std::process::id()))
        .tempdir()
        .map_err(|source| InfluxdError::Io {
            what: "cannot create a temp folder in",
            path: std::env::temp_dir(),
            source,
        })
}

/// Removes the server temp folders that expost processes now dead left in
/// the temp folder (a run killed with SIGKILL cannot remove its own; its
/// servers died with it, see [`Influxd::start_in`]), and returns them.
/// Only folders named after a process that `/proc` proves gone and owned
/// by this user are removed; anything else is kept.
///
/// # Errors
/// When a stale folder cannot be removed (the temp folder that cannot be
/// listed holds nothing to remove).
pub fn remove_stale_dirs() -> Result<Vec<PathBuf>, InfluxdError> {
    remove_stale_dirs_in(&std::env::temp_dir())
}

fn remove_stale_dirs_in(temp: &Path) -> Result<Vec<PathBuf>, InfluxdError> {
    let Ok(entries) = std::fs::read_dir(temp) else {
        return Ok(Vec::new());
    };
    let mut removed = Vec::new();
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name.to_str().and_then(owner_pid) else {
            continue;
        };
        let path = entry.path();
        if pid == std::process::id() || !is_dead(pid) || !is_own_folder(&path) {
            continue;
        }
        match std::fs::remove_dir_all(&path) {
            Ok(()) => removed.push(path),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(source) => {
                return Err(InfluxdError::Io {
                    what: "cannot remove the stale server folder",
                    path,
                    source,
                })
            }
        }
    }
    removed.sort();
    Ok(removed)
}

/// The pid a server temp folder is named after (`expost-influxd-{pid}-…`).
fn owner_pid(name: &str) -> Option<u32> {
    let (pid, _) = name.strip_prefix(TEMP_PREFIX)?.split_once('-')?;
    pid.parse().ok()
}

/// Whether process `pid` is provably gone: only where `/proc` lists the
/// live processes; elsewhere nothing can be proved.
fn is_dead(pid: u32) -> bool {
    Path::new("/proc/self").exists() && !Path::new(&format!("/proc/{pid}")).exists()
}

/// Whether `path` is a folder (not a link to one) of this user.
fn is_own_folder(path: &Path) -> bool {
    let Ok(meta) = std::fs::symlink_metadata(path) else {
        return false;
    };
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::fs::MetadataExt;
        // SAFETY: getuid cannot fail.
        meta.is_dir() && meta.uid() == unsafe { libc::getuid() }
    }
    #[cfg(not(target_os = "linux"))]
    {
        meta.is_dir()
    }
}

fn log_tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(20)..].join("\n")
}

impl Influxd {
    /// Starts `influxd` on an empty data folder inside a new temp folder.
    ///
    /// # Errors
    /// As [`Influxd::start_in`].
    pub fn start(options: &Options) -> Result<Influxd, InfluxdError> {
        let dir = temp_dir()?;
        let data = dir.path().join("influxdb-data");
        Influxd::start_in(dir, &data, options)
    }

    /// Starts `influxd` over the data folder `data` (`meta/`, `data/`,
    /// `wal/`; usually inside `dir`), with its config and log in `dir`,
    /// which it then owns (removed when the server is dropped, also on an
    /// error). Returns once `/ping` answers. Ports taken between being
    /// found free and being bound are retried (3 attempts).
    ///
    /// # Errors
    /// [`InfluxdError::Spawn`], [`InfluxdError::Exited`],
    /// [`InfluxdError::NotReady`], [`InfluxdError::Interrupted`],
    /// [`InfluxdError::Io`].
    pub fn start_in(
        dir: tempfile::TempDir,
        data: &Path,
        options: &Options,
    ) -> Result<Influxd, InfluxdError> {
        let mut dir = dir;
        let mut attempt = 0;
        loop {
            attempt += 1;
            match Influxd::try_start(dir, data, options) {
                Ok(server) => return Ok(server),
                Err((InfluxdError::Exited { log, .. }, Some(d)))
                    if attempt < 3 && log.contains("address already in use") =>
                {
                    dir = d;
                }
                Err((e, _)) => return Err(e),
            }
        }
    }

    /// Restores the data folder saved in `tarball` (see [`unpack_data_dir`])
    /// into a new temp folder and starts `influxd` over it; the folder is
    /// removed when the server is dropped (or the start fails). Gives up
    /// when `options.interrupted` is set once the tarball is unpacked.
    ///
    /// # Errors
    /// As [`unpack_data_dir`] and [`Influxd::start_in`].
    pub fn start_over_tarball(tarball: &Path, options: &Options) -> Result<Influxd, InfluxdError> {
        let dir = temp_dir()?;
        let unpacked = dir.path().join("unpacked");
        std::fs::create_dir(&unpacked).map_err(|source| InfluxdError::Io {
            what: "cannot create",
            path: unpacked.clone(),
            source,
        })?;
        let data = unpack_data_dir(tarball, &unpacked, options.max_unpacked)?;
        if options
            .interrupted
            .is_some_and(|f| f.load(Ordering::SeqCst))
        {
            return Err(InfluxdError::Interrupted);
        }
        Influxd::start_in(dir, &data, options)
    }

    fn try_start(
        dir: tempfile::TempDir,
        data: &Path,
        options: &Options,
    ) -> Result<Influxd, (InfluxdError, Option<tempfile::TempDir>)> {
        let io = |what: &'static str, path: &Path| {
            let path = path.to_path_buf();
            move |source| InfluxdError::Io { what, path, source }
        };
        let ports = free_port().and_then(|a| Ok((a, free_port()?)));
        let (http, bind) = match ports {
            Ok(p) => p,
            Err(e) => {
                return Err((
                    io("cannot find a free port on", Path::new("127.0.0.1"))(e),
                    None,
                ))
            }
        };
        let config = dir.path().join("influxd.conf");
        let toml_path = |p: PathBuf| p.to_string_lossy().replace('\\', "/").replace('"', "\\\"");
        let text = format!(
            "reporting-disabled = true\n\
             bind-address = \"127.0.0.1:{bind}\"\n\
             [meta]\n  dir = \"{}\"\n\
             [data]\n  dir = \"{}\"\n  wal-dir = \"{}\"\n  query-log-enabled = false\n\
             [monitor]\n  store-enabled = false\n\
             [http]\n  bind-address = \"127.0.0.1:{http}\"\n  log-enabled = false\n\
             [logging]\n  level = \"warn\"\n",
            toml_path(data.join("meta")),
            toml_path(data.join("data")),
            toml_path(data.join("wal")),
        );
        if let Err(e) = std::fs::write(&config, text) {
            return Err((io("cannot write", &config)(e), None));
        }
        let log_path = dir.path().join("influxd.log");
        let log = match std::fs::File::create(&log_path).and_then(|f| Ok((f.try_clone()?, f))) {
            Ok(l) => l,
            Err(e) => return Err((io("cannot create", &log_path)(e), None)),
        };
        let mut command = Command::new(&options.program);
        command
            .arg("-config")
            .arg(&config)
            .stdin(Stdio::null())
            .stdout(log.0)
            .stderr(log.1);
        die_with_parent(&mut command);
        let child = match command.spawn() {
            Ok(c) => c,
            Err(source) => {
                return Err((
                    InfluxdError::Spawn {
                        program: options.program.to_string_lossy().into_owned(),
                        source,
                    },
                    None,
                ))
            }
        };
        let mut server = Influxd {
            child,
            port: http,
            dir: Some(dir),
        };
        let client = InfluxClient::new(&server.url(), Duration::from_millis(500));
        let deadline = Instant::now() + options.ready_timeout;
        while client.ping().is_err() {
            if options
                .interrupted
                .is_some_and(|f| f.load(Ordering::SeqCst))
            {
                return Err((InfluxdError::Interrupted, None));
            }
            if let Ok(Some(status)) = server.child.try_wait() {
                let log = log_tail(&log_path);
                // Hand the folder back for a retry; the process has exited.
                let dir = server.dir.take();
                return Err((
                    InfluxdError::Exited {
                        status: status.to_string(),
                        log,
                    },
                    dir,
                ));
            }
            if Instant::now() >= deadline {
                return Err((
                    InfluxdError::NotReady {
                        port: http,
                        seconds: options.ready_timeout.as_secs_f64(),
                        log: log_tail(&log_path),
                    },
                    None,
                ));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(server)
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Its HTTP port on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Its pid.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// A client with a 10 s timeout.
    pub fn client(&self) -> InfluxClient {
        InfluxClient::new(&self.url(), Duration::from_secs(10))
    }

    /// The folder holding the config, the log and (for [`Influxd::start`]) the data.
    pub fn dir(&self) -> &Path {
        self.dir.as_ref().map_or(Path::new(""), |d| d.path())
    }

    /// Stops the server as a service manager does (SIGTERM to its pid,
    /// waiting up to `timeout` for it to exit), so its files are complete.
    ///
    /// # Errors
    /// [`InfluxdError::NotStopped`] (the server is then still killed when dropped).
    pub fn terminate(&mut self, timeout: Duration) -> Result<(), InfluxdError> {
        let pid = self.child.id();
        let not_stopped = InfluxdError::NotStopped {
            pid,
            seconds: timeout.as_secs_f64(),
        };
        if matches!(self.child.try_wait(), Ok(Some(_))) {
            return Ok(());
        }
        let sent = Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .stdin(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !sent {
            return Err(not_stopped);
        }
        let deadline = Instant::now() + timeout;
        while !matches!(self.child.try_wait(), Ok(Some(_))) {
            if Instant::now() >= deadline {
                return Err(not_stopped);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(())
    }

    /// What influxd printed.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir().join("influxd.log")).unwrap_or_default()
    }
}

impl Drop for Influxd {
    fn drop(&mut self) {
        // Child::kill sends SIGKILL to this child's pid only.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Restores the data folder in `tarball` (a `.tar.gz`) into `into` with
/// the system `tar`, and returns the folder holding `meta/`, `data/` and
/// `wal/`: `into` itself or its only subfolder (e.g. `influxdb-data/`).
///
/// Nothing but regular files and folders is accepted: the tarball's
/// listing is checked before anything is unpacked (no link, device, FIFO
/// or socket; at most `max_unpacked` bytes in all), and the unpacked tree
/// is walked again (links not followed) before it is handed out, so a
/// server over it only ever uses files inside `into`. The tarball is given
/// to `tar` on its stdin, so its path is never taken for a remote archive
/// or an option.
///
/// # Errors
/// [`InfluxdError::Unpack`] when `tar` fails (or the tarball is not a
/// regular file), [`InfluxdError::NotPlain`] for an entry that is not a
/// regular file or folder, [`InfluxdError::TooLarge`] past `max_unpacked`,
/// [`InfluxdError::MetaTooLarge`] for a `meta/meta.db` no server wrote,
/// [`InfluxdError::NotADataDir`] when the folders are not there.
pub fn unpack_data_dir(
    tarball: &Path,
    into: &Path,
    max_unpacked: u64,
) -> Result<PathBuf, InfluxdError> {
    check_listing(tarball, max_unpacked)?;
    let unpack_error = |message: String| InfluxdError::Unpack {
        tarball: tarball.to_path_buf(),
        message,
    };
    let file = open_regular(tarball).map_err(|e| unpack_error(e.to_string()))?;
    let tar = Tar::spawn(
        &[OsStr::new("--no-same-owner"), OsStr::new("-x")],
        file,
        Some(into),
        stream_limit(max_unpacked),
    )
    .map_err(|e| unpack_error(format!("cannot run tar: {e}")))?;
    let finished = tar
        .wait()
        .map_err(|e| unpack_error(format!("cannot run tar: {e}")))?;
    if let Some(failure) = finished.failure(stream_limit(max_unpacked)) {
        return Err(unpack_error(failure));
    }
    check_tree(tarball, into)?;
    let is_data_dir = |p: &Path| DATA_DIR_PARTS.iter().all(|s| p.join(s).is_dir());
    if is_data_dir(into) {
        return Ok(into.to_path_buf());
    }
    let mut top: Vec<String> = std::fs::read_dir(into)
        .map_err(|source| InfluxdError::Io {
            what: "cannot list",
            path: into.to_path_buf(),
            source,
        })?
        .flatten()
        .map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            if e.path().is_dir() {
                format!("{name}/")
            } else {
                name
            }
        })
        .collect();
    top.sort();
    if let [only] = top.as_slice() {
        let sub = into.join(only.trim_end_matches('/'));
        if is_data_dir(&sub) {
            return Ok(sub);
        }
        if sub.is_dir() {
            let missing: Vec<&str> = DATA_DIR_PARTS
                .iter()
                .copied()
                .filter(|s| !sub.join(s).is_dir())
                .collect();
            return Err(InfluxdError::NotADataDir {
                tarball: tarball.to_path_buf(),
                found: format!("{only} has no {}/", missing.join("/, ")),
            });
        }
    }
    const SHOWN: usize = 5;
    let found = if top.is_empty() {
        "it is empty".to_string()
    } else {
        let more = if top.len() > SHOWN {
            format!(" and {} more", top.len() - SHOWN)
        } else {
            String::new()
        };
        format!("it holds {}{more}", top[..top.len().min(SHOWN)].join(", "))
    };
    Err(InfluxdError::NotADataDir {
        tarball: tarball.to_path_buf(),
        found,
    })
}

/// Checks `tar -tv`'s listing of `tarball` (read as it comes, nothing
/// unpacked): only regular files and folders, at most `max_unpacked`
/// bytes in all.
fn check_listing(tarball: &Path, max_unpacked: u64) -> Result<(), InfluxdError> {
    let unpack_error = |message: String| InfluxdError::Unpack {
        tarball: tarball.to_path_buf(),
        message,
    };
    let file = open_regular(tarball).map_err(|e| unpack_error(e.to_string()))?;
    let mut tar = Tar::spawn(
        &[OsStr::new("--numeric-owner"), OsStr::new("-tv")],
        file,
        None,
        stream_limit(max_unpacked),
    )
    .map_err(|e| unpack_error(format!("cannot run tar: {e}")))?;
    let Some(stdout) = tar.stdout() else {
        return Err(unpack_error("cannot read tar's listing".into()));
    };
    let mut total: u64 = 0;
    let mut refused = None;
    let mut last_entry = String::new();
    for line in BufReader::new(stdout).split(b'\n') {
        let Ok(line) = line else { break };
        let line = String::from_utf8_lossy(&line);
        let Some(entry) = ListedEntry::parse(&line) else {
            continue;
        };
        entry.name.clone_into(&mut last_entry);
        let kind = match entry.kind {
            '-' | 'd' => None,
            'l' => Some("a symbolic link"),
            'h' => Some("a hard link"),
            'c' => Some("a character device"),
            'b' => Some("a block device"),
            'p' => Some("a FIFO"),
            's' => Some("a socket"),
            _ => Some("an entry of an unusual type"),
        };
        if let Some(kind) = kind {
            refused = Some(InfluxdError::NotPlain {
                tarball: tarball.to_path_buf(),
                entry: entry.name.to_string(),
                kind: kind.to_string(),
            });
            break;
        }
        if entry.kind == '-'
            && (entry.name == "meta/meta.db" || entry.name.ends_with("/meta/meta.db"))
            && entry.size > crate::influx_meta::META_LIMIT
        {
            refused = Some(InfluxdError::MetaTooLarge {
                tarball: tarball.to_path_buf(),
                entry: entry.name.to_string(),
                size: entry.size,
            });
            break;
        }
        total = total.saturating_add(entry.size);
        if total > max_unpacked {
            refused = Some(InfluxdError::TooLarge {
                tarball: tarball.to_path_buf(),
                limit: max_unpacked,
                entry: entry.name.to_string(),
            });
            break;
        }
    }
    if let Some(e) = refused {
        tar.kill();
        return Err(e);
    }
    let finished = tar
        .wait()
        .map_err(|e| unpack_error(format!("cannot run tar: {e}")))?;
    if finished.fed.over_limit {
        // Many entries, or data the sizes do not declare: the stream itself.
        return Err(InfluxdError::TooLarge {
            tarball: tarball.to_path_buf(),
            limit: max_unpacked,
            entry: last_entry,
        });
    }
    if let Some(failure) = finished.failure(stream_limit(max_unpacked)) {
        return Err(unpack_error(failure));
    }
    Ok(())
}

/// The most of a tarball's tar stream decompressed when it may unpack to
/// `max_unpacked` bytes: its files plus room for their headers and padding
/// (an eighth more, and 1 MiB). It also bounds the number of entries.
pub fn stream_limit(max_unpacked: u64) -> u64 {
    max_unpacked
        .saturating_add(max_unpacked / 8)
        .saturating_add(1 << 20)
}

/// One line of `tar -tv --numeric-owner`: `MODE UID/GID SIZE DATE TIME NAME[ -> TARGET| link to TARGET]`.
struct ListedEntry<'a> {
    kind: char,
    size: u64,
    name: &'a str,
}

impl<'a> ListedEntry<'a> {
    fn parse(line: &'a str) -> Option<ListedEntry<'a>> {
        let mut rest = line;
        let mut fields = [""; 5];
        for field in &mut fields {
            rest = rest.trim_start_matches(' ');
            let end = rest.find(' ')?;
            *field = &rest[..end];
            rest = &rest[end..];
        }
        let name = rest.strip_prefix(' ').unwrap_or(rest);
        let kind = fields[0].chars().next()?;
        let name = match kind {
            'l' => name.split(" -> ").next().unwrap_or(name),
            'h' => name.split(" link to ").next().unwrap_or(name),
            _ => name,
        };
        Some(ListedEntry {
            kind,
            // A device's "MAJOR,MINOR" is no size (and is refused anyway).
            size: fields[2].parse().unwrap_or(0),
            name,
        })
    }
}

/// Walks the unpacked tree (links not followed): anything but folders and
/// regular files with one name (no hard link) is refused.
fn check_tree(tarball: &Path, into: &Path) -> Result<(), InfluxdError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| InfluxdError::Io {
            what: "cannot read",
            path,
            source,
        }
    };
    let mut folders = vec![into.to_path_buf()];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).map_err(io(&folder))? {
            let entry = entry.map_err(io(&folder))?;
            let path = entry.path();
            let file_type = entry.file_type().map_err(io(&path))?;
            let refuse = |kind: &str| InfluxdError::NotPlain {
                tarball: tarball.to_path_buf(),
                entry: path
                    .strip_prefix(into)
                    .unwrap_or(&path)
                    .to_string_lossy()
                    .into_owned(),
                kind: kind.to_string(),
            };
            if file_type.is_dir() {
                folders.push(path);
            } else if file_type.is_file() {
                #[cfg(unix)]
                {
                    use std::os::unix::fs::MetadataExt;
                    let meta = std::fs::symlink_metadata(&path).map_err(io(&path))?;
                    if meta.nlink() > 1 {
                        return Err(refuse("a hard link"));
                    }
                }
            } else {
                return Err(refuse(kind_of(file_type)));
            }
        }
    }
    Ok(())
}

/// Makes the child get SIGKILL when the thread that started it ends, so a
/// killed expost (SIGKILL leaves no chance to stop servers) leaves no
/// `influxd` behind. Servers are started from threads that live as long as
/// the run (rayon's pool, or a test's own thread).
#[cfg(target_os = "linux")]
fn die_with_parent(command: &mut Command) {
    use std::os::unix::process::CommandExt;
    // SAFETY: the closure runs in the forked child before exec; it only
    // calls prctl, which is async-signal-safe, and allocates nothing.
    unsafe {
        command.pre_exec(|| {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) == -1 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
}

/// Elsewhere a killed expost can leave its server running.
#[cfg(not(target_os = "linux"))]
fn die_with_parent(_: &mut Command) {}

#[cfg(test)]
mod tests {
    use super::*;

    /// A tarball of `folders` (relative paths) made with the system `tar`.
    fn tarball(work: &Path, folders: &[&str]) -> PathBuf {
        let src = work.join("src");
        std::fs::create_dir_all(&src).unwrap();
        for f in folders {
            std::fs::create_dir_all(src.join(f)).unwrap();
        }
        let out = work.join("t.tar.gz");
        let status = Command::new("tar")
            .arg("-C")
            .arg(&src)
            .arg("-czf")
            .arg(&out)
            .arg(".")
            .status()
            .unwrap();
        assert!(status.success());
        out
    }

    fn unpack(folders: &[&str]) -> (tempfile::TempDir, Result<PathBuf, InfluxdError>) {
        let work = tempfile::tempdir().unwrap();
        let t = tarball(work.path(), folders);
        let into = work.path().join("into");
        std::fs::create_dir(&into).unwrap();
        let r = unpack_data_dir(&t, &into, DEFAULT_MAX_UNPACKED);
        (work, r)
    }

    #[test]
    fn the_data_folder_is_found_at_the_top_or_in_its_only_folder() {
        let (work, r) = unpack(&["meta", "data/telegraf", "wal"]);
        assert_eq!(r.unwrap(), work.path().join("into"));
        let (work, r) = unpack(&[
            "influxdb-data/meta",
            "influxdb-data/data",
            "influxdb-data/wal",
        ]);
        assert_eq!(r.unwrap(), work.path().join("into/influxdb-data"));
    }

    #[test]
    fn what_is_not_a_data_folder_is_described() {
        let (_w, r) = unpack(&["influxdb-data/meta", "influxdb-data/data"]);
        let e = r.unwrap_err().to_string();
        assert!(
            e.contains("is not an InfluxDB data directory: influxdb-data/ has no wal/"),
            "{e}"
        );
        let (_w, r) = unpack(&["a", "b", "meta"]);
        let e = r.unwrap_err().to_string();
        assert!(e.contains("it holds a/, b/, meta/"), "{e}");
        let (_w, r) = unpack(&[]);
        assert!(r.unwrap_err().to_string().contains("it is empty"));
    }

    /// A tarball of `src` (laid out by the caller) made with the system `tar`.
    fn tar_of(work: &Path, src: &Path) -> PathBuf {
        let out = work.join("t.tar.gz");
        let ok = Command::new("tar")
            .arg("-C")
            .arg(src)
            .arg("-czf")
            .arg(&out)
            .arg(".")
            .status()
            .unwrap()
            .success();
        assert!(ok);
        out
    }

    #[test]
    fn links_fifos_and_oversized_tarballs_are_refused_before_unpacking() {
        let work = tempfile::tempdir().unwrap();
        let outside = work.path().join("outside");
        for part in DATA_DIR_PARTS {
            std::fs::create_dir_all(outside.join(part)).unwrap();
        }
        type LayOut<'a> = &'a dyn Fn(&Path);
        let cases: [(&str, LayOut); 3] = [
            ("a symbolic link './influxdb-data'", &|src| {
                std::os::unix::fs::symlink(&outside, src.join("influxdb-data")).unwrap()
            }),
            ("a hard link './meta/", &|src| {
                for part in DATA_DIR_PARTS {
                    std::fs::create_dir_all(src.join(part)).unwrap();
                }
                std::fs::write(src.join("meta/a"), "x").unwrap();
                std::fs::hard_link(src.join("meta/a"), src.join("meta/b")).unwrap();
            }),
            ("a FIFO './meta/meta.db'", &|src| {
                for part in DATA_DIR_PARTS {
                    std::fs::create_dir_all(src.join(part)).unwrap();
                }
                let fifo = src.join("meta/meta.db");
                assert!(Command::new("mkfifo")
                    .arg(&fifo)
                    .status()
                    .unwrap()
                    .success());
            }),
        ];
        for (i, (said, lay_out)) in cases.iter().enumerate() {
            let case = work.path().join(format!("case{i}"));
            let src = case.join("src");
            std::fs::create_dir_all(&src).unwrap();
            lay_out(&src);
            let t = tar_of(&case, &src);
            let into = case.join("into");
            std::fs::create_dir(&into).unwrap();
            let e = unpack_data_dir(&t, &into, DEFAULT_MAX_UNPACKED).unwrap_err();
            assert!(matches!(e, InfluxdError::NotPlain { .. }), "{e:?}");
            assert!(e.to_string().contains(said), "{e}");
            assert_eq!(std::fs::read_dir(&into).unwrap().count(), 0, "{said}");
        }
        let src = work.path().join("big/src");
        for part in DATA_DIR_PARTS {
            std::fs::create_dir_all(src.join(part)).unwrap();
        }
        std::fs::File::create(src.join("data/shard"))
            .unwrap()
            .set_len(3 << 20)
            .unwrap();
        let into = work.path().join("big/into");
        std::fs::create_dir(&into).unwrap();
        let meta = src.join("meta/meta.db");
        std::fs::File::create(&meta)
            .unwrap()
            .set_len(crate::influx_meta::META_LIMIT + 1)
            .unwrap();
        let big_meta = tar_of(&work.path().join("big"), &src);
        let e = unpack_data_dir(&big_meta, &into, DEFAULT_MAX_UNPACKED).unwrap_err();
        assert!(
            e.to_string()
                .contains("holds './meta/meta.db' of 16777217 bytes, more than 16 MiB"),
            "{e}"
        );
        assert_eq!(std::fs::read_dir(&into).unwrap().count(), 0);
        std::fs::remove_file(&meta).unwrap();
        let t = tar_of(&work.path().join("big"), &src);
        let e = unpack_data_dir(&t, &into, 2 << 20).unwrap_err();
        assert!(
            e.to_string()
                .contains("unpacks to more than 0.002 GiB (the limit; reached at './data/shard')"),
            "{e}"
        );
        assert_eq!(std::fs::read_dir(&into).unwrap().count(), 0);
        assert!(unpack_data_dir(&t, &into, 4 << 20).is_ok());
    }

    #[test]
    fn a_link_left_in_the_unpacked_tree_is_refused() {
        let work = tempfile::tempdir().unwrap();
        for part in DATA_DIR_PARTS {
            std::fs::create_dir_all(work.path().join(part)).unwrap();
        }
        std::os::unix::fs::symlink("/", work.path().join("data/x")).unwrap();
        let e = check_tree(Path::new("t.tar.gz"), work.path()).unwrap_err();
        assert!(
            e.to_string().contains("holds a symbolic link 'data/x'"),
            "{e}"
        );
    }

    #[test]
    fn a_file_that_is_not_a_tarball_is_an_unpack_error() {
        let work = tempfile::tempdir().unwrap();
        let t = work.path().join("t.tar.gz");
        std::fs::write(&t, "not gzip").unwrap();
        let e = unpack_data_dir(&t, work.path(), DEFAULT_MAX_UNPACKED).unwrap_err();
        assert!(matches!(e, InfluxdError::Unpack { .. }), "{e:?}");
    }

    #[test]
    fn a_program_that_does_not_exist_is_a_spawn_error_and_leaves_no_folder() {
        let dir = temp_dir().unwrap();
        let path = dir.path().to_path_buf();
        let options = Options {
            program: "expost-no-such-influxd".into(),
            ..Options::default()
        };
        let e = Influxd::start_in(dir, &path.join("data"), &options).unwrap_err();
        assert!(matches!(e, InfluxdError::Spawn { .. }), "{e:?}");
        assert!(!path.exists());
    }

    #[test]
    fn only_the_folders_of_dead_processes_are_removed() {
        let temp = tempfile::tempdir().unwrap();
        // A child that has ended and been reaped: its pid is provably gone.
        let mut child = Command::new("true").spawn().unwrap();
        let dead = child.id();
        child.wait().unwrap();
        let stale = temp.path().join(format!("{TEMP_PREFIX}{dead}-Ab12"));
        std::fs::create_dir_all(stale.join("influxdb-data/meta")).unwrap();
        let live = temp
            .path()
            .join(format!("{TEMP_PREFIX}{}-Cd34", std::process::id()));
        let parent = temp.path().join(format!("{TEMP_PREFIX}1-Ef56"));
        let unnamed = temp.path().join(format!("{TEMP_PREFIX}Gh78"));
        let linked = temp.path().join(format!("{TEMP_PREFIX}{dead}-link"));
        for kept in [&live, &parent, &unnamed] {
            std::fs::create_dir(kept).unwrap();
        }
        let outside = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink(outside.path(), &linked).unwrap();

        let removed = remove_stale_dirs_in(temp.path()).unwrap();

        assert_eq!(removed, vec![stale.clone()]);
        assert!(!stale.exists());
        for kept in [&live, &parent, &unnamed, &linked] {
            assert!(kept.symlink_metadata().is_ok(), "{}", kept.display());
        }
        assert!(outside.path().exists());
    }

    #[test]
    fn a_tarball_of_many_empty_files_is_cut_at_the_stream_limit() {
        let work = tempfile::tempdir().unwrap();
        let src = work.path().join("src");
        for part in DATA_DIR_PARTS {
            std::fs::create_dir_all(src.join(part)).unwrap();
        }
        // 4,000 headers of 512 bytes: 2 MB of tar stream, no byte of data.
        for n in 0..4000 {
            std::fs::File::create(src.join(format!("data/{n}"))).unwrap();
        }
        let t = tar_of(work.path(), &src);
        let into = work.path().join("into");
        std::fs::create_dir(&into).unwrap();
        let e = unpack_data_dir(&t, &into, 0).unwrap_err();
        assert!(matches!(e, InfluxdError::TooLarge { .. }), "{e:?}");
        assert_eq!(std::fs::read_dir(&into).unwrap().count(), 0);
        assert!(unpack_data_dir(&t, &into, 4 << 20).is_ok());
    }
}
