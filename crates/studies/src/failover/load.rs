//! Reading one failover run folder: the Shremote event log and, per flow,
//! the client's iperf3 JSON and the server's iperf3 output (text or JSON).
//! Parsing only: nothing here aggregates.

use expost_formats::iperf3_json::{self, IperfTest};
use expost_formats::iperf3_text::{self, TextLog, TextOptions};
use expost_formats::shremote::{self, EventLog};
use expost_formats::ParseError;
use expost_model::Diagnostics;
use std::collections::BTreeMap;
use std::fs;
use std::io::BufReader;
use std::path::{Path, PathBuf};

/// The server side of one flow, as whichever file the run has.
#[derive(Debug, Clone)]
pub enum ServerOutput {
    /// `server_N.out`: iperf3 text, usually with a time prefix.
    Text(TextLog),
    /// `server_N.json`: iperf3 `-J` on the server.
    Json(Box<IperfTest>),
}

/// The files of one flow, parsed.
#[derive(Debug, Clone, Default)]
pub struct FlowFiles {
    /// The flow number from the file names (`client_3.json` → 3).
    pub number: u32,
    /// The client's JSON, if present and readable.
    pub client: Option<IperfTest>,
    /// Path of the client file, as reachable.
    pub client_path: Option<PathBuf>,
    /// The server's output, if present and readable.
    pub server: Option<ServerOutput>,
    /// Path of the server file, as reachable.
    pub server_path: Option<PathBuf>,
    /// The `--metric` fields of the client's intervals (only when asked for).
    pub fields: Option<super::fields::ClientFields>,
}

/// Everything read from one run folder.
#[derive(Debug, Clone, Default)]
pub struct RunFiles {
    /// The event log, when it could be read.
    pub events: Option<EventLog>,
    /// The flows, by number.
    pub flows: Vec<FlowFiles>,
    /// The `--overlay` series read: name, file (as shown), series.
    pub overlays: Vec<(String, String, expost_formats::timeseries::Series)>,
}

/// True when `dir` looks like a failover run: it holds `event_log.json`
/// or an `iperf/` folder (a folder with only one of them is still a run,
/// reported as broken).
pub fn is_run_dir(dir: &Path) -> bool {
    expost_formats::detect::is_failover_run(dir)
}

/// Reads a run folder, reporting every problem into `diags` (file names as
/// reachable from the working directory). Files that cannot be read at all
/// are reported as errors and left out; the rest is returned.
pub fn read_run(dir: &Path, text_options: &TextOptions, diags: &mut Diagnostics) -> RunFiles {
    let mut run = RunFiles::default();
    let log_path = dir.join("event_log.json");
    diags.set_file(display(&log_path));
    match not_a_regular_file(&log_path) {
        None => run.events = read_with(&log_path, diags, shremote::parse),
        Some(NotRegular::Missing) => diags.error(
            None,
            "no event_log.json in the run folder: the run cannot be aligned",
        ),
        Some(other) => diags.error(
            None,
            format!("event_log.json is {other}, not a file: the run cannot be aligned"),
        ),
    }
    let iperf_dir = dir.join("iperf");
    diags.set_file(display(&iperf_dir));
    let entries = match fs::read_dir(&iperf_dir) {
        Ok(entries) => entries,
        Err(e) => {
            diags.error(
                None,
                format!("run folder has no readable iperf/ folder: {e}"),
            );
            return run;
        }
    };
    let mut names: Vec<String> = entries
        .filter_map(|e| e.ok())
        .filter(|e| !e.file_type().is_ok_and(|t| t.is_dir()))
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    // Only regular files (or links to one) are read: a FIFO would hang the
    // read, a device never end it.
    names.retain(|name| {
        let path = iperf_dir.join(name);
        match not_a_regular_file(&path) {
            None => true,
            Some(kind) => {
                diags.set_file(display(&path));
                diags.warn(None, format!("{kind}, not a file; left out"));
                false
            }
        }
    });
    let mut flows: BTreeMap<u32, FlowFiles> = BTreeMap::new();
    for name in names {
        let path = iperf_dir.join(&name);
        diags.set_file(display(&path));
        match classify(&name) {
            Some((Side::Client, number)) => {
                let flow = flows.entry(number).or_insert_with(|| FlowFiles {
                    number,
                    ..FlowFiles::default()
                });
                flow.client = read_json(&path, diags);
                flow.client_path = Some(path);
            }
            Some((Side::ServerText, number)) | Some((Side::ServerJson, number)) => {
                let flow = flows.entry(number).or_insert_with(|| FlowFiles {
                    number,
                    ..FlowFiles::default()
                });
                if flow.server.is_some() {
                    diags.warn(
                        None,
                        format!("a second server file for flow {number}; this one is ignored"),
                    );
                    continue;
                }
                flow.server = if name.ends_with(".json") {
                    read_json(&path, diags).map(|t| ServerOutput::Json(Box::new(t)))
                } else {
                    read_text(&path, text_options, diags).map(ServerOutput::Text)
                };
                flow.server_path = Some(path);
            }
            None => diags.note(
                None,
                "not a client_N.json or server_N.out/.json file; ignored",
            ),
        }
    }
    run.flows = flows.into_values().collect();
    run
}

/// Reads the `--metric` fields `names` of each flow's client file into
/// `run` (files that could not be parsed were reported already).
pub fn read_fields(
    run: &mut RunFiles,
    names: &[String],
    include_omitted: bool,
    diags: &mut Diagnostics,
) {
    for flow in run.flows.iter_mut().filter(|f| f.client.is_some()) {
        let Some(path) = flow.client_path.as_deref() else {
            continue;
        };
        let read = fs::read(path)
            .map_err(|e| e.to_string())
            .and_then(|bytes| super::fields::read_client_fields(&bytes, names, include_omitted));
        match read {
            Ok(found) => flow.fields = Some(found),
            Err(e) => {
                diags.set_file(display(path));
                diags.warn(None, format!("--metric fields not read: {e}"));
            }
        }
    }
}

/// What a path is when it is not a regular file (links followed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum NotRegular {
    Missing,
    Folder,
    Fifo,
    Device,
    Socket,
    Other,
}

impl std::fmt::Display for NotRegular {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            NotRegular::Missing => "missing (or a broken link)",
            NotRegular::Folder => "a folder",
            NotRegular::Fifo => "a FIFO",
            NotRegular::Device => "a device",
            NotRegular::Socket => "a socket",
            NotRegular::Other => "neither a file nor a folder",
        })
    }
}

/// `None` when `path` is a regular file, or a link to one; else what it is.
fn not_a_regular_file(path: &Path) -> Option<NotRegular> {
    let Ok(meta) = fs::metadata(path) else {
        return Some(NotRegular::Missing);
    };
    let kind = meta.file_type();
    if kind.is_file() {
        return None;
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if kind.is_fifo() {
            return Some(NotRegular::Fifo);
        }
        if kind.is_block_device() || kind.is_char_device() {
            return Some(NotRegular::Device);
        }
        if kind.is_socket() {
            return Some(NotRegular::Socket);
        }
    }
    Some(if kind.is_dir() {
        NotRegular::Folder
    } else {
        NotRegular::Other
    })
}

enum Side {
    Client,
    ServerText,
    ServerJson,
}

/// `client_3.json` → (Client, 3); `server_3.out` / `.txt` / `.log` → ServerText; `server_3.json` → ServerJson.
fn classify(name: &str) -> Option<(Side, u32)> {
    let (stem, ext) = name.rsplit_once('.')?;
    let (role, number) = stem.rsplit_once('_')?;
    let number: u32 = number.parse().ok()?;
    match (role, ext) {
        ("client", "json") => Some((Side::Client, number)),
        ("server", "json") => Some((Side::ServerJson, number)),
        ("server", "out" | "txt" | "log") => Some((Side::ServerText, number)),
        _ => None,
    }
}

fn read_json(path: &Path, diags: &mut Diagnostics) -> Option<IperfTest> {
    match fs::read(path) {
        Ok(bytes) => report(iperf3_json::parse_bytes(&bytes, diags), diags),
        Err(e) => {
            diags.error(None, format!("could not read: {e}"));
            None
        }
    }
}

/// Reads a server text log with one allocation (the file's size) and parses it.
fn read_text(path: &Path, options: &TextOptions, diags: &mut Diagnostics) -> Option<TextLog> {
    match fs::read(path) {
        Ok(bytes) => report(iperf3_text::parse_bytes(&bytes, options, diags), diags),
        Err(e) => {
            diags.error(None, format!("could not open: {e}"));
            None
        }
    }
}

fn read_with<T>(
    path: &Path,
    diags: &mut Diagnostics,
    parse: impl FnOnce(BufReader<fs::File>, &mut Diagnostics) -> Result<T, ParseError>,
) -> Option<T> {
    match fs::File::open(path) {
        Ok(file) => report(parse(BufReader::new(file), diags), diags),
        Err(e) => {
            diags.error(None, format!("could not open: {e}"));
            None
        }
    }
}

fn report<T>(result: Result<T, ParseError>, diags: &mut Diagnostics) -> Option<T> {
    match result {
        Ok(value) => Some(value),
        Err(e) => {
            diags.error(e.line(), e.to_string());
            None
        }
    }
}

/// A path as the user would type it, with `/` separators.
pub fn display(path: &Path) -> String {
    path.to_string_lossy().replace('\\', "/")
}
