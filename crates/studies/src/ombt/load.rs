//! Finding an ombt campaign's runs: its `params.json` files and, per run,
//! the `backup_dir` folder and the controller's results file in it.

use crate::files::{open_regular, read_at_most};
use expost_formats::detect;
use expost_formats::ombt_controller::{sniff, ControllerKind};
use expost_formats::ombt_params::{self, RunEntry};
use expost_model::{Diagnostic, Diagnostics, Severity};
use rayon::prelude::*;
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// One run listed in a `params.json`.
#[derive(Debug, Clone)]
pub struct CampaignRun {
    /// The `params.json` that lists it.
    pub params_file: PathBuf,
    /// Its entry there, shared: every result of the run holds a copy of
    /// its `CampaignRun`.
    pub entry: Arc<RunEntry>,
    /// Its name in tables, figures and diagnostics: the backup_dir, or
    /// `#N` (its position in the list) when it has none.
    pub name: String,
    /// Its `backup_dir`, resolved; `None` when it was not found.
    pub dir: Option<PathBuf>,
    /// Problems found while locating it.
    pub problems: Diagnostics,
}

impl CampaignRun {
    /// A short name for messages: the backup_dir, or the position in the list.
    pub fn label(&self) -> String {
        match &self.entry.backup_dir {
            Some(b) => format!("'{b}'"),
            None => format!("#{}", self.entry.index),
        }
    }
}

/// A run's name: its backup_dir, or `#N` when it has none.
pub fn name_of(entry: &RunEntry) -> String {
    entry
        .backup_dir
        .clone()
        .unwrap_or_else(|| format!("#{}", entry.index))
}

/// A path as shown in messages (forward slashes).
pub fn display(path: &Path) -> String {
    path.to_string_lossy().replace('\\', "/")
}

/// The `params.json` files of a campaign: `root` itself when it is a
/// file, else those [`detect::ombt_params_files`] finds in the folder.
fn params_files(root: &Path) -> Vec<PathBuf> {
    if root.is_file() {
        return vec![root.to_path_buf()];
    }
    detect::ombt_params_files(root)
}

/// Every run of the campaign under `root`, and problems with the campaign
/// itself (a `params.json` that could not be read). `backup_dir` is taken
/// relative to the folder of its `params.json`, else to `root` (as
/// ombt-orchestrator writes it, relative to the campaign's env folder).
pub fn find_campaign(root: &Path) -> (Vec<CampaignRun>, Vec<Diagnostic>) {
    let base = if root.is_file() {
        root.parent().map(Path::to_path_buf).unwrap_or_default()
    } else {
        root.to_path_buf()
    };
    let mut runs = Vec::new();
    let mut problems = Vec::new();
    for file in params_files(root) {
        let mut diags = Diagnostics::for_file(display(&file));
        let parsed = std::fs::File::open(&file)
            .map_err(expost_formats::ParseError::from)
            .and_then(|f| ombt_params::parse(std::io::BufReader::new(f), &mut diags));
        let entries = match parsed {
            Ok(entries) => entries,
            Err(e) => {
                problems.push(Diagnostic {
                    file: display(&file),
                    line: e.line(),
                    message: e.to_string(),
                    severity: Severity::Error,
                });
                continue;
            }
        };
        problems.extend(diags.into_items());
        let folder = file.parent().map(Path::to_path_buf).unwrap_or_default();
        // Looking each run's folder up on disk is most of the work: in parallel.
        runs.par_extend(
            entries
                .into_par_iter()
                .map(|entry| locate(&file, &folder, &base, entry)),
        );
    }
    (runs, problems)
}

fn locate(file: &Path, folder: &Path, base: &Path, entry: RunEntry) -> CampaignRun {
    let mut problems = Diagnostics::for_file(display(file));
    let dir = match &entry.backup_dir {
        None => None,
        Some(b) => {
            // The campaign's folder may also be the one above the
            // params.json's (`expost ombt campaign/test_case_1/params.json`).
            let mut places: Vec<&Path> = vec![folder, base];
            places.extend(folder.parent().filter(|p| !p.as_os_str().is_empty()));
            places.dedup();
            let found = places.iter().map(|p| p.join(b)).find(|c| c.is_dir());
            if found.is_none() {
                let looked: Vec<String> =
                    places.iter().map(|p| format!("'{}'", display(p))).collect();
                problems.error(
                    None,
                    format!(
                        "run {}: its backup_dir '{}' is not a folder (looked in {})",
                        entry.index,
                        b,
                        looked.join(", ")
                    ),
                );
            }
            found
        }
    };
    if entry.backup_dir.is_none() {
        problems.error(
            None,
            format!("run #{}: no backup_dir, cannot be read", entry.index),
        );
    }
    CampaignRun {
        params_file: file.to_path_buf(),
        name: name_of(&entry),
        entry: Arc::new(entry),
        dir,
        problems,
    }
}

/// How much of a `*controller*.log` file is read to tell what it holds.
const SNIFF_BYTES: u64 = 4096;

/// The controller's results file of a run, and its content.
#[derive(Debug)]
pub struct ControllerLog {
    /// Where it is.
    pub path: PathBuf,
    /// Its bytes, or why they could not all be read.
    pub content: std::io::Result<Vec<u8>>,
}

/// The controller's results file in `dir`: among the files named
/// `*controller*.log`, the one whose content is the JSON results (the
/// human-readable `*_docker.log` matches the same glob). Reports why when
/// there is none.
pub fn find_controller_log(dir: &Path, diags: &mut Diagnostics) -> Option<PathBuf> {
    read_controller_logs(dir, diags)
        .into_iter()
        .next()
        .map(|log| log.path)
}

/// Every controller results file in `dir`, read: a sharded run (several
/// control buses) has one controller, and one results file, per shard, each
/// for its own agents. Each candidate is opened once, its first bytes tell
/// what it holds, and a results file is then read to its end from the same
/// handle. Empty (reported) when there is none.
pub fn read_controller_logs(dir: &Path, diags: &mut Diagnostics) -> Vec<ControllerLog> {
    diags.set_file(display(dir));
    let Some(mut candidates) = controller_logs(dir, diags) else {
        return Vec::new();
    };
    candidates.sort();
    let mut logs = Vec::new();
    let mut text = 0;
    for path in candidates {
        let (file, head) = match read_head(&path) {
            Ok(read) => read,
            Err(e) => {
                diags.warn(None, format!("cannot read '{}': {e}", display(&path)));
                continue;
            }
        };
        match sniff(&head) {
            Some(ControllerKind::Results) => logs.push(ControllerLog {
                path,
                content: read_rest(file, head),
            }),
            Some(ControllerKind::Text) => text += 1,
            None => diags.note(
                None,
                format!(
                    "'{}' is neither the controller's results nor its output: ignored",
                    display(&path)
                ),
            ),
        }
    }
    if logs.is_empty() {
        let why = if text > 0 {
            "only the controller's human-readable output (*controller*_docker.log) is here, not its JSON results"
        } else {
            "no controller results (*controller*.log) in the run folder"
        };
        diags.error(None, why);
    }
    logs
}

/// The files of `dir` named `*controller*.log`; `None` (reported) when
/// `dir` cannot be listed.
fn controller_logs(dir: &Path, diags: &mut Diagnostics) -> Option<Vec<PathBuf>> {
    match std::fs::read_dir(dir) {
        Ok(entries) => Some(
            entries
                .flatten()
                .filter(|e| {
                    e.file_name()
                        .to_str()
                        .is_some_and(|n| n.contains("controller") && n.ends_with(".log"))
                })
                .map(|e| e.path())
                .collect(),
        ),
        Err(e) => {
            diags.error(None, format!("cannot list the run folder: {e}"));
            None
        }
    }
}

/// Opens `path` (a regular file only: see [`open_regular`]) and reads its
/// first [`SNIFF_BYTES`] bytes (all of it when it is shorter).
fn read_head(path: &Path) -> std::io::Result<(File, Vec<u8>)> {
    let mut file = open_regular(path)?;
    let mut head = Vec::with_capacity(SNIFF_BYTES as usize);
    (&mut file).take(SNIFF_BYTES).read_to_end(&mut head)?;
    Ok((file, head))
}

/// The whole file, from its `head` as [`read_head`] read it and the rest,
/// up to [`CONTROLLER_LIMIT`].
fn read_rest(file: File, head: Vec<u8>) -> std::io::Result<Vec<u8>> {
    // A shorter head means the end of the file was reached.
    if (head.len() as u64) < SNIFF_BYTES {
        return Ok(head);
    }
    read_at_most(file, head, CONTROLLER_LIMIT, "an ombt controller log")
}

/// The most of a controller log read: 256 MiB (a real one holds a few
/// lines per agent: kilobytes, megabytes for thousands of agents).
const CONTROLLER_LIMIT: u64 = 256 << 20;

#[cfg(test)]
mod tests {
    use super::*;

    /// One controller results line with `agents` agents (about 150 bytes each).
    fn results_line(agents: usize) -> String {
        let agent = r#"{"msgs_ok": 1, "msgs_fail": 0, "latency": {"min": 1, "max": 1, "total": 1, "count": 1, "sum_of_squares": 1, "distribution": {"0": [0,1,0,0,0,0,0,0,0,0]}}}"#;
        let items: Vec<String> = (0..agents).map(|i| format!("\"a{i}\": {agent}")).collect();
        format!("{{{}}}\n", items.join(", "))
    }

    #[test]
    fn reads_every_results_file_whole_past_the_sniffed_head() {
        let dir = tempfile::tempdir().unwrap();
        let long = results_line(60).repeat(2);
        assert!(long.len() as u64 > 2 * SNIFF_BYTES);
        std::fs::write(dir.path().join("a-controller.log"), &long).unwrap();
        std::fs::write(dir.path().join("b-controller.log"), results_line(1)).unwrap();
        std::fs::write(
            dir.path().join("a-controller_docker.log"),
            "RPC call test results\n",
        )
        .unwrap();
        let mut diags = Diagnostics::default();
        let logs = read_controller_logs(dir.path(), &mut diags);
        let names: Vec<_> = logs.iter().map(|l| l.path.file_name().unwrap()).collect();
        assert_eq!(names, ["a-controller.log", "b-controller.log"]);
        let [a, b] = <[ControllerLog; 2]>::try_from(logs).unwrap();
        assert_eq!(a.content.unwrap(), long.as_bytes());
        assert_eq!(b.content.unwrap(), results_line(1).as_bytes());
        assert!(diags.is_empty(), "{:?}", diags.items());
    }

    #[test]
    fn a_short_results_file_is_read_whole() {
        let dir = tempfile::tempdir().unwrap();
        let short = results_line(1).repeat(2);
        std::fs::write(dir.path().join("ombt-controller.log"), &short).unwrap();
        let mut diags = Diagnostics::default();
        let log = read_controller_logs(dir.path(), &mut diags).remove(0);
        assert_eq!(log.content.unwrap(), short.as_bytes());
        assert!(diags.is_empty(), "{:?}", diags.items());
    }

    #[test]
    fn only_the_human_readable_output_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("ombt-controller_docker.log"),
            "RPC call test results\n",
        )
        .unwrap();
        let mut diags = Diagnostics::default();
        assert!(read_controller_logs(dir.path(), &mut diags).is_empty());
        assert!(diags.items()[0].message.contains("human-readable"));
    }
}
