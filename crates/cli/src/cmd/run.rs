//! `expost run expost.toml`: reruns a study with the options it was saved
//! with (`--save-study`).
//!
//! A study file is TOML: `version = 1` and one table named after the study
//! (`[failover]`, `[ombt]`, `[provision]`, `[traces]`, `[simulate]`,
//! `[sweep]` or `[iperf3]`), holding the same options as the command line
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

use super::{failover, iperf3, ombt, provision, simulate, sweep, traces};
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
  expost sweep --profile run-86/ --seeds 1000 -o out-sweep/ --save-study

The file: `version = 1`, then one table named after the study, [failover],
[ombt], [provision], [traces], [simulate], [sweep] or [iperf3], with the command's
long options as keys: for failover root, output, pattern, anchor, bin,
window, rolling, band, tcp_threshold, include_omitted, text_utc_offset,
timestamp_format, size; for ombt root, output, lp, influx, telemetry,
influxd_per_run, max_unpacked, database, timeout, query (a list), measurement (a list),
no_telemetry, size; for provision from, configdir, credentials, config,
pool, account, key_env, endpoint, table, partition, shared_key_lite,
concurrency, timeout, attempts, straggler_mads, output (never a key: it
comes from the environment); for traces files (a list), output, step_unit;
for simulate and sweep profile, hours, nodes, max_instances, pipeline_depth,
prep, redundancy_overhead, degraded_slowdown, spot_price, on_demand_price,
rounded, output, then for simulate model, strategy, rate, replace_delay,
trace, offset, time_scale, checkpoint_interval, seed, and for sweep
strategies, rates, intervals (lists; an interval is \"auto\" or seconds),
seeds, seed, replace_delay, shard (\"i/n\"); for iperf3 root, output,
pattern, x, bin, band, timestamp_format, size. Unknown keys are errors. Paths
are relative to the file's folder. An --influx URL is saved as given (with
any credentials in it).";

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

/// A study command's arguments as a study file saves them.
pub trait SavedArgs: Clone + Serialize + serde::de::DeserializeOwned {
    /// Calls `visit` on every path option (for making them relative to the
    /// study file, and back).
    fn visit_paths(&mut self, visit: &mut dyn FnMut(&mut PathBuf));
    /// Sets `--json` and `--quiet`, which are never saved.
    fn set_output_flags(&mut self, json: bool, quiet: bool);
    /// Runs the command.
    fn run(self) -> Result<ExitCode>;
}

/// Calls `visit` on `path` when there is one.
pub fn visit_opt(path: &mut Option<PathBuf>, visit: &mut dyn FnMut(&mut PathBuf)) {
    if let Some(p) = path {
        visit(p);
    }
}

/// The registry of study commands a study file may hold: its table name
/// and the command's arguments. `expost run`, `--save-study` and the
/// error messages all read it.
macro_rules! registry {
    ($($key:ident => $variant:ident($args:ty)),* $(,)?) => {
        /// A saved study.
        #[derive(Debug, Clone)]
        pub enum SavedStudy {
            $(
                #[doc = concat!("`expost ", stringify!($key), "` with its options.")]
                $variant($args),
            )*
        }

        #[derive(Debug, Default, Serialize, Deserialize)]
        #[serde(deny_unknown_fields)]
        struct StudyFile {
            version: u32,
            $(
                #[serde(default, skip_serializing_if = "Option::is_none")]
                $key: Option<$args>,
            )*
        }

        /// The table names, in registry order.
        pub const STUDY_TABLES: &[&str] = &[$(stringify!($key)),*];

        impl StudyFile {
            fn of(study: SavedStudy) -> StudyFile {
                let mut file = StudyFile { version: VERSION, ..StudyFile::default() };
                match study {
                    $(SavedStudy::$variant(args) => file.$key = Some(args),)*
                }
                file
            }

            fn studies(self) -> Vec<SavedStudy> {
                let mut studies = Vec::new();
                $(if let Some(args) = self.$key { studies.push(SavedStudy::$variant(args)); })*
                studies
            }
        }

        impl SavedStudy {
            fn visit_paths(&mut self, visit: &mut dyn FnMut(&mut PathBuf)) {
                match self {
                    $(SavedStudy::$variant(args) => args.visit_paths(visit),)*
                }
            }

            fn run(self, json: bool, quiet: bool) -> Result<ExitCode> {
                match self {
                    $(SavedStudy::$variant(mut args) => {
                        args.set_output_flags(json, quiet);
                        args.run()
                    })*
                }
            }
        }
    };
}

registry! {
    failover => Failover(failover::Args),
    ombt => Ombt(ombt::Args),
    provision => Provision(provision::Args),
    traces => Traces(traces::Args),
    simulate => Simulate(simulate::Args),
    sweep => Sweep(sweep::RunArgs),
    iperf3 => Iperf3(iperf3::Args),
}

/// The table names as a message lists them: `[failover], [ombt], [provision] or [iperf3]`.
fn tables_in_words(joiner: &str) -> String {
    let names: Vec<String> = STUDY_TABLES.iter().map(|n| format!("[{n}]")).collect();
    match names.split_last() {
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} {joiner} {last}", rest.join(", ")),
        None => String::new(),
    }
}

/// Where `--save-study` writes: the given file, or `expost.toml` in the
/// output folder (else in the current folder) when none was given.
pub fn study_path(given: Option<&Path>, output: Option<&Path>) -> PathBuf {
    match given {
        Some(path) => path.to_path_buf(),
        None => output.unwrap_or(Path::new(".")).join("expost.toml"),
    }
}

/// `--save-study [FILE]`: writes `study` to FILE (default: expost.toml in
/// `output`, else here) and, unless `quiet`, says how to rerun it.
pub fn save_to(
    given: Option<&Path>,
    output: Option<&Path>,
    quiet: bool,
    study: &SavedStudy,
) -> Result<()> {
    let path = study_path(given, output);
    save(&path, study)?;
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
pub fn save(path: &Path, study: &SavedStudy) -> Result<()> {
    let base = folder_of(path)?;
    let mut study = study.clone();
    let mut failed = None;
    study.visit_paths(&mut |p| match relative_to(p, &base) {
        Ok(relative) if relative.to_str().is_none() => {
            failed = Some(anyhow::anyhow!(
                "cannot save the study: the path '{}' is not valid UTF-8, which a study file (TOML) cannot hold; rename it, or run without --save-study",
                p.display()
            ))
        }
        Ok(relative) => *p = relative,
        Err(e) => failed = Some(e),
    });
    if let Some(e) = failed {
        return Err(e);
    }
    let body = toml::to_string_pretty(&StudyFile::of(study))
        .context("could not write the study as TOML")?;
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
pub fn load(path: &Path) -> Result<SavedStudy> {
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
    let mut studies = file.studies();
    if studies.len() > 1 {
        bail!(
            "{}: two studies in one file: keep one of {}",
            path.display(),
            tables_in_words("and")
        );
    }
    let Some(mut study) = studies.pop() else {
        bail!(
            "{}: no study in the file: expected a {} table",
            path.display(),
            tables_in_words("or")
        );
    };
    // Canonical where they exist, as they were saved: a rerun names its
    // inputs the same way from any folder (trace files, profiles and
    // diagnostics carry their paths into the outputs).
    study.visit_paths(&mut |p| {
        let joined = base.join(&*p);
        *p = std::fs::canonicalize(&joined).unwrap_or(joined);
    });
    Ok(study)
}

/// Reruns the study in `args.file`.
pub fn run(args: Args) -> Result<ExitCode> {
    load(&args.file)?.run(args.json, args.quiet)
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
            err.to_string().contains(
                "[failover], [ombt], [provision], [traces], [simulate], [sweep] or [iperf3]"
            ),
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
    fn simulation_studies_share_their_settings_keys_and_refuse_unknown_ones() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(
            dir.path(),
            "version = 1\n[sweep]\nprofile = \"p\"\nhours = 2\nintervals = [\"auto\", 600, 1800.5]\nshard = \"2/3\"\n",
        );
        let SavedStudy::Sweep(args) = load(&path).unwrap() else {
            panic!("not the sweep study");
        };
        assert_eq!(args.hours, 2.0);
        assert_eq!(args.seeds, 100, "defaults as on the command line");
        assert_eq!(
            args.intervals,
            [
                sweep::IntervalArg::Auto,
                sweep::IntervalArg::Seconds(600.0),
                sweep::IntervalArg::Seconds(1800.5)
            ]
        );
        assert_eq!(args.shard.map(|s| s.to_string()).as_deref(), Some("2/3"));
        for (table, needed, key) in [
            ("sweep", "profile = \"p\"", "hour"),
            ("simulate", "profile = \"p\"", "sim"),
            ("traces", "files = []", "format"),
        ] {
            let text = format!("version = 1\n[{table}]\n{needed}\n\n{key} = 1\n");
            let err = format!("{:#}", load(&write(dir.path(), &text)).unwrap_err());
            assert!(
                err.contains(key) && err.contains("line 5"),
                "{table}: {err}"
            );
        }
        let err = load(&write(
            dir.path(),
            "version = 1\n[sweep]\nprofile = \"p\"\nshard = \"4/3\"\n",
        ))
        .unwrap_err();
        assert!(format!("{err:#}").contains("1 ≤ i ≤ n"), "{err:#}");
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
            figures: Vec::new(),
            ylim: Vec::new(),
            legend: None,
            pattern: None,
            anchor: "iperf_client".into(),
            mark: Vec::new(),
            label: Vec::new(),
            only: Vec::new(),
            trials: Vec::new(),
            metric: Vec::new(),
            overlay: Vec::new(),
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
        save(&path, &SavedStudy::Failover(args)).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains("root = \"../campaign\""), "{text}");
        assert!(text.contains("window = \"3:6\""), "{text}");
        let SavedStudy::Failover(back) = load(&path).unwrap() else {
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
