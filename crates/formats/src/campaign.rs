//! Campaign layout: which folders under a root are runs, and what each
//! run's parameters are, read from its path.
//!
//! The default is the Flightplan layout `<exp>_<config>/<exp>_<config>_<trial>`
//! (e.g. `fec_udp_failover_020/fec_udp_failover_020_3`). A user pattern such
//! as `{study}/fec_udp_failover_{poll_ms}/{_}_{trial}` names the parts of the
//! path relative to the root: `{name}` captures one path segment's text
//! (greedily), `{_}` matches without capturing, and `{trial}` is the trial.

use expost_model::Params;
use regex::Regex;
use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

/// A run folder found under a campaign root.
#[derive(Debug, Clone, PartialEq)]
pub struct RunDir {
    /// The folder, as reachable from the working directory.
    pub path: PathBuf,
    /// The folder relative to the root, with `/` separators.
    pub rel: String,
    /// The folder's own name.
    pub name: String,
}

/// Where the symbolic link `path` leads when that is outside the folder
/// `inside` (given canonical): links within a campaign are followed, links
/// out of it are not, since a campaign found under a folder must not
/// read, or be changed by, what lies elsewhere. `None` for anything else.
pub fn link_out_of(inside: &Path, path: &Path) -> Option<PathBuf> {
    if !path.symlink_metadata().ok()?.file_type().is_symlink() {
        return None;
    }
    match path.canonicalize() {
        Ok(target) if target.starts_with(inside) => None,
        Ok(target) => Some(target),
        // A dangling link: the walk reports it as one.
        Err(_) => None,
    }
}

/// The message for a link [`link_out_of`] found.
pub fn link_out_message(target: &Path) -> String {
    format!(
        "a symbolic link out of the folder being read (to '{}'): not followed; give its target to read it",
        target.display()
    )
}

/// A walk of `root` following the links that stay inside it; those that
/// leave it are errors (see [`link_out_of`]), as are folders that cannot
/// be listed. `on_entry` sees every other entry and says whether a
/// folder is walked into.
fn walk_inside(
    root: &Path,
    errors: &mut Vec<FolderError>,
    mut on_entry: impl FnMut(&walkdir::DirEntry) -> Walk,
) {
    let inside = root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
    let mut walker = walkdir::WalkDir::new(root)
        .follow_links(true)
        .sort_by_file_name()
        .into_iter();
    while let Some(entry) = walker.next() {
        let entry = match entry {
            Ok(entry) => entry,
            Err(e) => {
                let path = e
                    .path()
                    .map(Path::to_path_buf)
                    .unwrap_or_else(|| root.to_path_buf());
                let message = match std::fs::read_link(&path) {
                    Ok(target) if !path.exists() => format!(
                        "a symbolic link to '{}', which does not exist",
                        target.display()
                    ),
                    _ => format!("could not list folder: {e}"),
                };
                errors.push((path, message));
                continue;
            }
        };
        if entry.depth() > 0 && entry.path_is_symlink() {
            if let Some(target) = link_out_of(&inside, entry.path()) {
                errors.push((entry.path().to_path_buf(), link_out_message(&target)));
                if entry.file_type().is_dir() {
                    walker.skip_current_dir();
                }
                continue;
            }
        }
        if on_entry(&entry) == Walk::Skip && entry.file_type().is_dir() {
            walker.skip_current_dir();
        }
    }
}

/// Whether a walk goes into a folder.
#[derive(PartialEq)]
enum Walk {
    Into,
    Skip,
}

/// Finds run folders under `root`: folders for which `is_run` holds,
/// without looking inside them. Sorted by relative path, so every listing
/// of the same tree is the same. Unreadable folders, and links out of
/// `root`, are returned as errors beside the runs, never dropped.
pub fn discover(
    root: &Path,
    is_run: impl Fn(&Path) -> bool,
) -> (Vec<RunDir>, Vec<(PathBuf, String)>) {
    let mut runs = Vec::new();
    let mut errors = Vec::new();
    walk_inside(root, &mut errors, |entry| {
        if !entry.file_type().is_dir() || !is_run(entry.path()) {
            return Walk::Into;
        }
        let rel = entry
            .path()
            .strip_prefix(root)
            .unwrap_or(entry.path())
            .components()
            .map(|c| c.as_os_str().to_string_lossy())
            .collect::<Vec<_>>()
            .join("/");
        let name = entry.file_name().to_string_lossy().into_owned();
        runs.push(RunDir {
            path: entry.path().to_path_buf(),
            rel: if rel.is_empty() { ".".into() } else { rel },
            name,
        });
        Walk::Skip
    });
    runs.sort_by(|a, b| a.rel.cmp(&b.rel));
    (runs, errors)
}

/// A folder that could not be listed, and why.
pub type FolderError = (PathBuf, String);

/// Every file under `root` (following the links that stay inside it,
/// hidden entries left out) with its path relative to `root` (`/`
/// separators), sorted by that path; a `root` that is a file is the one
/// file, named by its file name. Unreadable folders, and links out of
/// `root`, are returned as errors beside the files.
pub fn files(root: &Path) -> (Vec<(PathBuf, String)>, Vec<FolderError>) {
    let (mut files, mut errors) = (Vec::new(), Vec::new());
    let hidden =
        |e: &walkdir::DirEntry| e.depth() > 0 && e.file_name().to_string_lossy().starts_with('.');
    walk_inside(root, &mut errors, |e| {
        if hidden(e) {
            return Walk::Skip;
        }
        if e.file_type().is_file() {
            let rel = match e.path().strip_prefix(root) {
                Ok(rel) if e.depth() > 0 => rel
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy())
                    .collect::<Vec<_>>()
                    .join("/"),
                _ => e.file_name().to_string_lossy().into_owned(),
            };
            files.push((e.path().to_path_buf(), rel));
        }
        Walk::Into
    });
    files.sort_by(|a, b| a.1.cmp(&b.1));
    (files, errors)
}

/// What a run's path says about it.
#[derive(Debug, Clone, PartialEq)]
pub struct PathParams {
    /// The configuration's parameters (everything but the trial).
    pub params: Params,
    /// The trial, which tells runs of one configuration apart.
    pub trial: String,
}

/// Why a run's path does not give its parameters.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LayoutError {
    /// A Flightplan run folder directly under the campaign folder.
    #[error(
        "run folder {rel:?} has no parent folder: expected <exp>_<config>/<exp>_<config>_<trial>"
    )]
    NoParent {
        /// The run folder, relative to the campaign folder.
        rel: String,
    },
    /// A Flightplan run folder not named after its parent.
    #[error("{name:?} is not <parent>_<trial> with parent {parent:?} (expected <exp>_<config>/<exp>_<config>_<trial>; give a path pattern for other layouts)")]
    NotTrialOfParent {
        /// The run folder's name.
        name: String,
        /// Its parent folder's name.
        parent: String,
    },
    /// A path the user's pattern does not match.
    #[error("path {rel:?} does not match the path pattern {pattern:?}")]
    NoMatch {
        /// The run folder, relative to the campaign folder.
        rel: String,
        /// The pattern.
        pattern: String,
    },
}

/// Why a path pattern cannot be used.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PatternError {
    /// A `{` that is never closed.
    #[error("pattern {0:?}: '{{' without '}}'")]
    Unclosed(String),
    /// A `}` that was never opened.
    #[error("pattern {0:?}: '}}' without '{{'")]
    Unopened(String),
    /// A name that is not letters, digits and `_`.
    #[error("pattern {pattern:?}: {{{name}}} is not a name of letters, digits and '_'")]
    BadName {
        /// The pattern.
        pattern: String,
        /// The name inside the braces.
        name: String,
    },
    /// A name used twice.
    #[error("pattern {pattern:?}: {{{name}}} appears twice")]
    Twice {
        /// The pattern.
        pattern: String,
        /// The repeated name.
        name: String,
    },
    /// A pattern too large to match with.
    #[error("pattern {pattern:?}: {message}")]
    TooLarge {
        /// The pattern.
        pattern: String,
        /// What the matcher said.
        message: String,
    },
}

/// How parameters are read from paths.
#[derive(Debug, Clone)]
pub enum Layout {
    /// `<exp>_<config>/<exp>_<config>_<trial>`, giving `exp`, `config`, `trial`.
    Flightplan,
    /// A user pattern.
    Pattern(PathPattern),
}

impl Layout {
    /// Reads the parameters of `run`; `Err` says why the path does not fit.
    pub fn params(&self, run: &RunDir) -> Result<PathParams, LayoutError> {
        match self {
            Layout::Flightplan => flightplan_params(run),
            Layout::Pattern(pattern) => pattern.params(&run.rel),
        }
    }
}

fn flightplan_params(run: &RunDir) -> Result<PathParams, LayoutError> {
    let parent = run
        .rel
        .rsplit_once('/')
        .map(|(p, _)| p.rsplit('/').next().unwrap_or(p));
    let parent = parent.ok_or_else(|| LayoutError::NoParent {
        rel: run.rel.clone(),
    })?;
    let trial = run
        .name
        .strip_prefix(parent)
        .and_then(|rest| rest.strip_prefix('_'))
        .filter(|t| !t.is_empty() && !t.contains('_'))
        .ok_or_else(|| LayoutError::NotTrialOfParent {
            name: run.name.clone(),
            parent: parent.to_string(),
        })?;
    let (exp, config) = parent.rsplit_once('_').unwrap_or((parent, ""));
    let mut params = Params::new();
    params.insert("exp".into(), exp.to_string());
    if !config.is_empty() {
        params.insert("config".into(), config.to_string());
    }
    Ok(PathParams {
        params,
        trial: trial.to_string(),
    })
}

/// A path pattern such as `{study}/fec_udp_failover_{poll_ms}/{_}_{trial}`.
#[derive(Debug, Clone)]
pub struct PathPattern {
    text: String,
    regex: Regex,
    names: Vec<String>,
}

impl fmt::Display for PathPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl FromStr for PathPattern {
    type Err = PatternError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let mut regex = String::from("^");
        let mut names: Vec<String> = Vec::new();
        let mut rest = text.trim_matches('/');
        while let Some(open) = rest.find('{') {
            regex.push_str(&regex::escape(&rest[..open]));
            let close = rest[open..]
                .find('}')
                .map(|c| open + c)
                .ok_or_else(|| PatternError::Unclosed(text.into()))?;
            let name = &rest[open + 1..close];
            let valid =
                !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            if !valid {
                return Err(PatternError::BadName {
                    pattern: text.into(),
                    name: name.into(),
                });
            }
            if name == "_" {
                regex.push_str("[^/]+");
            } else {
                if names.iter().any(|n| n == name) {
                    return Err(PatternError::Twice {
                        pattern: text.into(),
                        name: name.into(),
                    });
                }
                regex.push_str(&format!("(?P<{name}>[^/]+)"));
                names.push(name.to_string());
            }
            rest = &rest[close + 1..];
        }
        if rest.contains('}') {
            return Err(PatternError::Unopened(text.into()));
        }
        regex.push_str(&regex::escape(rest));
        regex.push('$');
        let regex = Regex::new(&regex).map_err(|e| PatternError::TooLarge {
            pattern: text.into(),
            message: e.to_string(),
        })?;
        Ok(PathPattern {
            text: text.to_string(),
            regex,
            names,
        })
    }
}

impl PathPattern {
    /// Reads the parameters from a path relative to the root.
    pub fn params(&self, rel: &str) -> Result<PathParams, LayoutError> {
        let caps = self
            .regex
            .captures(rel)
            .ok_or_else(|| LayoutError::NoMatch {
                rel: rel.into(),
                pattern: self.text.clone(),
            })?;
        let mut params = Params::new();
        let mut trial = None;
        for name in &self.names {
            let value = caps
                .name(name)
                .map(|m| m.as_str().to_string())
                .unwrap_or_default();
            if name == "trial" {
                trial = Some(value);
            } else {
                params.insert(name.clone(), value);
            }
        }
        let trial = trial.unwrap_or_else(|| rel.rsplit('/').next().unwrap_or(rel).to_string());
        Ok(PathParams { params, trial })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(rel: &str) -> RunDir {
        RunDir {
            path: PathBuf::from(rel),
            rel: rel.into(),
            name: rel.rsplit('/').next().unwrap().into(),
        }
    }

    #[test]
    fn flightplan_layout() {
        let p = Layout::Flightplan
            .params(&run("fec/fec_udp_failover_020/fec_udp_failover_020_3"))
            .unwrap();
        assert_eq!(p.trial, "3");
        assert_eq!(p.params["exp"], "fec_udp_failover");
        assert_eq!(p.params["config"], "020");
        let err = Layout::Flightplan
            .params(&run("a/b/other_name"))
            .unwrap_err();
        assert!(matches!(err, LayoutError::NotTrialOfParent { .. }), "{err}");
        assert!(err.to_string().contains("path pattern"), "{err}");
        assert!(Layout::Flightplan.params(&run("lonely_1")).is_err());
    }

    #[test]
    fn user_pattern() {
        let pattern: PathPattern = "{study}/fec_udp_failover_{poll_ms}/{_}_{trial}"
            .parse()
            .unwrap();
        let p = pattern
            .params("fec/fec_udp_failover_020/fec_udp_failover_020_1")
            .unwrap();
        assert_eq!(p.params["study"], "fec");
        assert_eq!(p.params["poll_ms"], "020");
        assert_eq!(p.trial, "1");
        assert!(pattern.params("fec/other_020/x_1").is_err());
        assert!(matches!(
            "{a}/{a}".parse::<PathPattern>(),
            Err(PatternError::Twice { .. })
        ));
        assert!(matches!(
            "{a b}".parse::<PathPattern>(),
            Err(PatternError::BadName { .. })
        ));
        assert!(matches!(
            "{open".parse::<PathPattern>(),
            Err(PatternError::Unclosed(_))
        ));
        assert!(matches!(
            "open}".parse::<PathPattern>(),
            Err(PatternError::Unopened(_))
        ));
    }

    #[test]
    fn files_are_sorted_relative_and_hidden_ones_left_out() {
        let dir = tempfile::tempdir().unwrap();
        for rel in [
            "b/x.json",
            "a/c/y.out",
            ".git/config",
            "a/.hidden.log",
            "z.txt",
        ] {
            let path = dir.path().join(rel);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, "").unwrap();
        }
        let (found, errors) = files(dir.path());
        assert!(errors.is_empty());
        let rels: Vec<_> = found.iter().map(|(_, r)| r.as_str()).collect();
        assert_eq!(rels, ["a/c/y.out", "b/x.json", "z.txt"]);
        let (one, _) = files(&dir.path().join("z.txt"));
        assert_eq!(one[0].1, "z.txt");
    }

    #[test]
    fn discovery_is_sorted_and_stops_at_runs() {
        let dir = tempfile::tempdir().unwrap();
        for rel in [
            "x_2/x_2_1/iperf",
            "x_1/x_1_2/iperf",
            "x_1/x_1_1/iperf",
            "x_1/x_1_1/iperf/nested/iperf",
        ] {
            std::fs::create_dir_all(dir.path().join(rel)).unwrap();
        }
        let (runs, errors) = discover(dir.path(), |p| p.join("iperf").is_dir());
        assert!(errors.is_empty());
        let rels: Vec<_> = runs.iter().map(|r| r.rel.as_str()).collect();
        assert_eq!(rels, ["x_1/x_1_1", "x_1/x_1_2", "x_2/x_2_1"]);
    }

    #[test]
    fn links_inside_the_campaign_are_followed_and_links_out_of_it_are_errors() {
        let work = tempfile::tempdir().unwrap();
        let root = work.path().join("campaign");
        let outside = work.path().join("elsewhere/x_001/x_001_1");
        std::fs::create_dir_all(&outside).unwrap();
        std::fs::create_dir_all(root.join("x_002/x_002_1")).unwrap();
        std::fs::write(outside.join("event_log.json"), "[]").unwrap();
        std::fs::write(root.join("x_002/x_002_1/event_log.json"), "[]").unwrap();
        std::os::unix::fs::symlink(work.path().join("elsewhere/x_001"), root.join("x_001"))
            .unwrap();
        std::os::unix::fs::symlink("x_002", root.join("x_003")).unwrap();
        std::os::unix::fs::symlink("/nowhere", root.join("dangling")).unwrap();
        let is_run = |d: &Path| d.join("event_log.json").is_file();

        let (runs, errors) = discover(&root, is_run);

        let rels: Vec<&str> = runs.iter().map(|r| r.rel.as_str()).collect();
        assert_eq!(rels, ["x_002/x_002_1", "x_003/x_002_1"]);
        let named: Vec<String> = errors
            .iter()
            .map(|(p, m)| format!("{} {m}", p.file_name().unwrap().to_string_lossy()))
            .collect();
        assert_eq!(named.len(), 2, "{named:?}");
        assert_eq!(
            named[0],
            "dangling a symbolic link to '/nowhere', which does not exist"
        );
        assert!(named[1].starts_with("x_001 a symbolic link out of the folder being read"));
        assert!(named[1].contains("elsewhere"), "{named:?}");

        let (files, errors) = files(&root);
        assert_eq!(files.len(), 2, "{files:?}");
        assert_eq!(errors.len(), 2, "{errors:?}");
    }
}
