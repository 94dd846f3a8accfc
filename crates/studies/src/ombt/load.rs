//! Finding an ombt campaign's runs: its `params.json` files and, per run,
//! the `backup_dir` folder and the controller's results file in it.

use expost_formats::ombt_controller::{sniff, ControllerKind};
use expost_formats::ombt_params::{self, RunEntry};
use expost_model::{Diagnostic, Diagnostics, Severity};
use std::io::Read;
use std::path::{Path, PathBuf};

/// One run listed in a `params.json`.
#[derive(Debug, Clone)]
pub struct CampaignRun {
    /// The `params.json` that lists it.
    pub params_file: PathBuf,
    /// Its entry there.
    pub entry: RunEntry,
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

/// A path as shown in messages (forward slashes).
pub fn display(path: &Path) -> String {
    path.to_string_lossy().replace('\\', "/")
}

/// The `params.json` files of a campaign: `root` itself when it is a
/// file, else `root/params.json`, else every `root/*/params.json`.
fn params_files(root: &Path) -> Vec<PathBuf> {
    if root.is_file() {
        return vec![root.to_path_buf()];
    }
    let direct = root.join("params.json");
    if direct.is_file() {
        return vec![direct];
    }
    let mut found: Vec<PathBuf> = std::fs::read_dir(root)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path().join("params.json"))
        .filter(|p| p.is_file())
        .collect();
    found.sort();
    found
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
        for entry in entries {
            runs.push(locate(&file, &folder, &base, entry));
        }
    }
    (runs, problems)
}

fn locate(file: &Path, folder: &Path, base: &Path, entry: RunEntry) -> CampaignRun {
    let mut problems = Diagnostics::for_file(display(file));
    let dir = match &entry.backup_dir {
        None => None,
        Some(b) => {
            let candidates = [folder.join(b), base.join(b)];
            let found = candidates.iter().find(|c| c.is_dir()).cloned();
            if found.is_none() {
                problems.error(
                    None,
                    format!(
                        "run {}: its backup_dir '{}' is not a folder (looked in '{}' and '{}')",
                        entry.index,
                        b,
                        display(folder),
                        display(base)
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
        entry,
        dir,
        problems,
    }
}

/// The controller's results file in `dir`: among the files named
/// `*controller*.log`, the one whose content is the JSON results (the
/// human-readable `*_docker.log` matches the same glob). Reports why when
/// there is none.
pub fn find_controller_log(dir: &Path, diags: &mut Diagnostics) -> Option<PathBuf> {
    diags.set_file(display(dir));
    let mut candidates: Vec<PathBuf> = match std::fs::read_dir(dir) {
        Ok(entries) => entries
            .flatten()
            .map(|e| e.path())
            .filter(|p| {
                p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.contains("controller") && n.ends_with(".log"))
            })
            .collect(),
        Err(e) => {
            diags.error(None, format!("cannot list the run folder: {e}"));
            return None;
        }
    };
    candidates.sort();
    let mut results = Vec::new();
    let mut text = 0;
    for path in candidates {
        let mut head = Vec::with_capacity(4096);
        let read = std::fs::File::open(&path).and_then(|f| f.take(4096).read_to_end(&mut head));
        if let Err(e) = read {
            diags.warn(None, format!("cannot read '{}': {e}", display(&path)));
            continue;
        }
        match sniff(&head) {
            Some(ControllerKind::Results) => results.push(path),
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
    if results.len() > 1 {
        diags.warn(
            None,
            format!(
                "{} controller results files; using '{}'",
                results.len(),
                display(&results[0])
            ),
        );
    }
    let found = results.into_iter().next();
    if found.is_none() {
        let why = if text > 0 {
            "only the controller's human-readable output (*controller*_docker.log) is here, not its JSON results"
        } else {
            "no controller results (*controller*.log) in the run folder"
        };
        diags.error(None, why);
    }
    found
}
