//! `expost run expost.toml`: reruns a study with the options it was saved
//! with (`--save-study`).
//!
//! A study file is TOML: `version = 1` and one table named after the study
//! (`[failover]`, `[ombt]` or `[provision]`), holding the same options as the command line
//! (long names, `-` written as `_`). Paths in it are relative to the file's
//! folder.
//!
//! ```toml
//! version = 1
//!
//! [failover]
//! root = "../examples/failover"
//! output = "."
//! window = "3:6"
//! band = "mean"
//! ```

use super::{failover, ombt, provision};
use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Examples shown at the end of `expost run --help`.
pub const EXAMPLES: &str = "\
Examples:
  expost failover examples/failover -o out/ --window 3:6 --save-study   # writes out/expost.toml
  expost run out/expost.toml
  expost run out/expost.toml --json
  expost ombt campaign/ -o out-ombt/ --telemetry tarball --save-study

The file: `version = 1`, then one table named after the study, [failover],
[ombt] or [provision], with the command's long options as keys: for failover
root, output, pattern, anchor, bin, window, rolling, band, tcp_threshold,
include_omitted, text_utc_offset, timestamp_format, size; for ombt root,
output, lp, influx, telemetry, influxd_per_run, database, timeout, query (a
list), measurement (a list), no_telemetry, size; for provision from,
configdir, credentials, config, pool, account, key_env, endpoint, table,
partition, shared_key_lite, concurrency, timeout, attempts, straggler_mads,
output (never a key: it comes from the environment). Unknown keys are
errors. Paths are relative to the file's folder. An --influx URL is saved as
given (with any credentials in it).";

/// The study file version this expost reads and writes.
pub const VERSION: u32 = 1;

/// Arguments of `expost run`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The study file written by --save-study.
    pub file: PathBuf,
    /// Print the JSON summary on stdout (and nothing else there).
    #[arg(long)]
    pub json: bool,
    /// No progress bar and no tables (diagnostics are still printed).
    #[arg(short, long)]
    pub quiet: bool,
}

/// A saved study.
#[derive(Debug, Clone)]
pub enum Study {
    /// `expost failover` with its options.
    Failover(failover::Args),
    /// `expost ombt` with its options.
    Ombt(ombt::Args),
    /// `expost provision` with its options.
    Provision(provision::Args),
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct StudyFile {
    version: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    failover: Option<failover::Args>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    ombt: Option<ombt::Args>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    provision: Option<provision::Args>,
}

/// Where `--save-study` writes: the given file, or `expost.toml` in the
/// output folder (else in the current folder) when none was given.
pub fn study_path(given: Option<&Path>, output: Option<&Path>) -> PathBuf {
    match given {
        Some(path) => path.to_path_buf(),
        None => output.unwrap_or(Path::new(".")).join("expost.toml"),
    }
}

/// `--save-study [FILE]` of a study command: when `asked`, writes the study
/// `make` gives to FILE (default: expost.toml in `output`, else here) and,
/// unless `quiet`, says how to rerun it.
pub fn save_if_asked(
    asked: Option<&Option<PathBuf>>,
    output: Option<&Path>,
    quiet: bool,
    make: impl FnOnce() -> Study,
) -> Result<()> {
    let Some(given) = asked else {
        return Ok(());
    };
    let path = study_path(given.as_deref(), output);
    save(&path, &make())?;
    if !quiet {
        eprintln!(
            "saved the study to {}; rerun it with: expost run {}",
            path.display(),
            path.display()
        );
    }
    Ok(())
}

/// Writes `study` to `path`, with its paths made relative to the file's folder.
pub fn save(path: &Path, study: &Study) -> Result<()> {
    let base = folder_of(path)?;
    let relative = |p: &Option<PathBuf>| p.as_deref().map(|p| relative_to(p, &base)).transpose();
    let mut file = StudyFile {
        version: VERSION,
        ..StudyFile::default()
    };
    match study {
        Study::Failover(args) => {
            let mut args = args.clone();
            args.root = relative_to(&args.root, &base)?;
            args.output = relative(&args.output)?;
            file.failover = Some(args);
        }
        Study::Ombt(args) => {
            let mut args = args.clone();
            args.root = relative_to(&args.root, &base)?;
            args.output = relative(&args.output)?;
            args.lp = relative(&args.lp)?;
            file.ombt = Some(args);
        }
        Study::Provision(args) => {
            let mut args = args.clone();
            args.from = relative(&args.from)?;
            args.configdir = relative(&args.configdir)?;
            args.credentials = relative(&args.credentials)?;
            args.config = relative(&args.config)?;
            args.pool = relative(&args.pool)?;
            args.output = relative(&args.output)?;
            file.provision = Some(args);
        }
    }
    let body = toml::to_string_pretty(&file).context("could not write the study as TOML")?;
    let text = format!(
        "# expost study file: rerun with `expost run {}`\n# Paths are relative to this file's folder.\n{body}",
        path.file_name().map(|n| n.to_string_lossy()).unwrap_or_default()
    );
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("could not create '{}'", parent.display()))?;
    }
    expost_render::atomic::write_atomic(path, text.as_bytes())
        .with_context(|| format!("could not write study file '{}'", path.display()))
}

/// Reads and validates a study file; paths come back as reachable from here.
pub fn load(path: &Path) -> Result<Study> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("could not read study file '{}'", path.display()))?;
    let file: StudyFile = toml::from_str(&text)
        .map_err(|e| anyhow::anyhow!("{}: {}", path.display(), e.to_string().trim_end()))?;
    if file.version != VERSION {
        bail!(
            "{}: version = {} is not a study file version this expost reads (it reads version {VERSION})",
            path.display(),
            file.version
        );
    }
    let base = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let from_here = |p: Option<PathBuf>| p.map(|p| base.join(p));
    match (file.failover, file.ombt, file.provision) {
        (Some(mut args), None, None) => {
            args.root = base.join(&args.root);
            args.output = from_here(args.output);
            Ok(Study::Failover(args))
        }
        (None, Some(mut args), None) => {
            args.root = base.join(&args.root);
            args.output = from_here(args.output);
            args.lp = from_here(args.lp);
            Ok(Study::Ombt(args))
        }
        (None, None, Some(mut args)) => {
            args.from = from_here(args.from);
            args.configdir = from_here(args.configdir);
            args.credentials = from_here(args.credentials);
            args.config = from_here(args.config);
            args.pool = from_here(args.pool);
            args.output = from_here(args.output);
            Ok(Study::Provision(args))
        }
        (None, None, None) => bail!(
            "{}: no study in the file: expected a [failover], [ombt] or [provision] table",
            path.display()
        ),
        _ => bail!(
            "{}: two studies in one file: keep one of [failover], [ombt] and [provision]",
            path.display()
        ),
    }
}

/// Reruns the study in `args.file`.
pub fn run(args: Args) -> Result<ExitCode> {
    match load(&args.file)? {
        Study::Failover(mut study) => {
            study.json = args.json;
            study.quiet = args.quiet;
            failover::run(study)
        }
        Study::Ombt(mut study) => {
            study.json = args.json;
            study.quiet = args.quiet;
            ombt::run(study)
        }
        Study::Provision(mut study) => {
            study.json = args.json;
            study.quiet = args.quiet;
            provision::run(study)
        }
    }
}

fn folder_of(path: &Path) -> Result<PathBuf> {
    let parent = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    resolved(parent)
}

/// An absolute form of `path`: canonical (no `..`, links resolved) when it
/// exists, else as `std::path::absolute` gives it.
fn resolved(path: &Path) -> Result<PathBuf> {
    match std::fs::canonicalize(path) {
        Ok(canonical) => Ok(canonical),
        Err(_) => std::path::absolute(path)
            .with_context(|| format!("could not resolve '{}'", path.display())),
    }
}

fn relative_to(path: &Path, base: &Path) -> Result<PathBuf> {
    let absolute = resolved(path)?;
    let relative = pathdiff::diff_paths(&absolute, base).unwrap_or(absolute);
    // The file's own folder: "." rather than an empty path.
    Ok(if relative.as_os_str().is_empty() {
        PathBuf::from(".")
    } else {
        relative
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, text: &str) -> PathBuf {
        let path = dir.join("expost.toml");
        std::fs::write(&path, text).unwrap();
        path
    }

    #[test]
    fn unknown_keys_and_versions_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let err = load(&write(
            dir.path(),
            "version = 1\n[failover]\nroot = \"x\"\nbins = 0.2\n",
        ))
        .unwrap_err();
        let message = format!("{err:#}");
        assert!(message.contains("bins"), "{message}");
        assert!(message.contains("line 4"), "{message}");
        let err = load(&write(
            dir.path(),
            "version = 2\n[failover]\nroot = \"x\"\n",
        ))
        .unwrap_err();
        assert!(err.to_string().contains("version = 2"), "{err}");
        let err = load(&write(dir.path(), "version = 1\n")).unwrap_err();
        assert!(
            err.to_string()
                .contains("[failover], [ombt] or [provision]"),
            "{err}"
        );
        let err = load(&write(
            dir.path(),
            "version = 1\n[failover]\nroot = \"x\"\n[ombt]\nroot = \"y\"\n",
        ))
        .unwrap_err();
        assert!(err.to_string().contains("two studies"), "{err}");
        let err = load(&write(
            dir.path(),
            "version = 1\n[failover]\nroot = \"x\"\nwindow = \"9:3\"\n",
        ))
        .unwrap_err();
        assert!(format!("{err:#}").contains("window"), "{err:#}");
    }

    #[test]
    fn saved_paths_are_relative_to_the_file_and_come_back() {
        let dir = tempfile::tempdir().unwrap();
        let campaign = dir.path().join("campaign");
        let out = dir.path().join("out");
        std::fs::create_dir_all(&campaign).unwrap();
        std::fs::create_dir_all(&out).unwrap();
        let args = failover::Args {
            root: campaign.clone(),
            output: Some(out.clone()),
            json: false,
            save_study: None,
            pattern: None,
            anchor: "iperf_client".into(),
            bin: 0.1,
            window: "3:6".parse().ok(),
            rolling: 2,
            per_flow: false,
            band: failover::BandArg::Mean,
            tcp_threshold: 0.5,
            include_omitted: false,
            text_utc_offset: 0.0,
            timestamp_format: None,
            size: failover::SizeArg::Column,
            quiet: false,
        };
        let path = out.join("expost.toml");
        save(&path, &Study::Failover(args)).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains("root = \"../campaign\""), "{text}");
        assert!(text.contains("window = \"3:6\""), "{text}");
        let Study::Failover(back) = load(&path).unwrap() else {
            panic!("not the failover study");
        };
        assert_eq!(
            back.root.canonicalize().unwrap(),
            campaign.canonicalize().unwrap()
        );
        assert_eq!(back.rolling, 2);
        assert!(matches!(back.band, failover::BandArg::Mean));
    }
}
