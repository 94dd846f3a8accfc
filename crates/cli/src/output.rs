//! The output folder: created and checked for writing before any input is
//! read, so a bad `-o` fails in the first millisecond, not after the work.

use anyhow::{Context, Result};
use expost_render::table::{write_table, Csv, Parquet, Table, TableWriter};
use std::fs;
use std::path::{Path, PathBuf};

/// A checked, writable output folder.
#[derive(Debug, Clone)]
pub struct OutputDir {
    dir: PathBuf,
}

impl OutputDir {
    /// Creates `dir` if needed and proves it writable.
    pub fn prepare(dir: &Path) -> Result<OutputDir> {
        fs::create_dir_all(dir)
            .with_context(|| format!("could not create output folder '{}'", dir.display()))?;
        let probe = tempfile::Builder::new()
            .prefix(".expost-probe-")
            .tempfile_in(dir)
            .with_context(|| format!("output folder '{}' is not writable", dir.display()))?;
        drop(probe);
        Ok(OutputDir {
            dir: dir.to_path_buf(),
        })
    }

    /// The path of output file `name`.
    pub fn file(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// The folder.
    pub fn path(&self) -> &Path {
        &self.dir
    }

    /// Writes `table` as `<name>.csv`, and `<name>.parquet` too if `parquet`.
    pub fn write_tables(&self, name: &str, table: &Table, parquet: bool) -> Result<Vec<PathBuf>> {
        let writers: &[&dyn TableWriter] = if parquet { &[&Csv, &Parquet] } else { &[&Csv] };
        writers
            .iter()
            .map(|w| {
                let path = self.file(&format!("{name}.{}", w.extension()));
                write_table(table, &path, *w)
                    .with_context(|| format!("could not write '{}'", path.display()))?;
                Ok(path)
            })
            .collect()
    }
}

/// One output job: writes some files and returns their paths.
pub type Job<'a> = Box<dyn Fn() -> Result<Vec<PathBuf>> + Send + Sync + 'a>;

/// Runs output jobs in parallel, prints every failure, and (unless `quiet`)
/// how many files were written. Returns true when any job failed.
pub fn run_jobs(jobs: &[Job<'_>], dir: &OutputDir, quiet: bool) -> bool {
    use rayon::prelude::*;
    let results: Vec<Result<Vec<PathBuf>>> = jobs.par_iter().map(|job| job()).collect();
    let mut failed = false;
    let mut written = 0;
    for result in results {
        match result {
            Ok(paths) => written += paths.len(),
            Err(e) => {
                failed = true;
                eprintln!("error: {e:#}");
            }
        }
    }
    if !quiet {
        eprintln!("wrote {written} files to {}", dir.path().display());
    }
    failed
}

/// The command line this process was started with, quoted for a POSIX shell.
pub fn command_line() -> String {
    let quote = |arg: String| {
        let plain = !arg.is_empty()
            && arg
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c));
        if plain {
            arg
        } else {
            format!("'{}'", arg.replace('\'', "'\\''"))
        }
    };
    let mut args = std::env::args();
    let program = args.next().map(|p| {
        Path::new(&p)
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or(p)
    });
    program
        .into_iter()
        .chain(args.map(quote))
        .collect::<Vec<_>>()
        .join(" ")
}

/// How many diagnostics are errors, warnings and notes.
pub fn severity_counts<'a>(
    diagnostics: impl IntoIterator<Item = &'a expost_model::Diagnostic>,
) -> (usize, usize, usize) {
    use expost_model::Severity;
    diagnostics
        .into_iter()
        .fold((0, 0, 0), |(e, w, n), d| match d.severity {
            Severity::Error => (e + 1, w, n),
            Severity::Warning => (e, w + 1, n),
            Severity::Note => (e, w, n + 1),
        })
}

/// The diagnostics counted in words: `0 errors, 1 warning, 2 notes`.
pub fn counts_in_words<'a>(
    diagnostics: impl IntoIterator<Item = &'a expost_model::Diagnostic>,
) -> String {
    let (errors, warnings, notes) = severity_counts(diagnostics);
    let words = |n: usize, one: &str| format!("{n} {one}{}", if n == 1 { "" } else { "s" });
    format!(
        "{}, {}, {}",
        words(errors, "error"),
        words(warnings, "warning"),
        words(notes, "note")
    )
}

/// Prints the errors and warnings on stderr, at most 40 lines, then says
/// how many more there were and where they all are.
pub fn print_serious<'a>(
    diagnostics: impl IntoIterator<Item = &'a expost_model::Diagnostic>,
    all_in: &str,
) {
    const SHOWN: usize = 40;
    let serious: Vec<_> = diagnostics
        .into_iter()
        .filter(|d| d.severity >= expost_model::Severity::Warning)
        .collect();
    for d in serious.iter().take(SHOWN) {
        eprintln!("{d}");
    }
    if serious.len() > SHOWN {
        eprintln!("… and {} more (all in {all_in})", serious.len() - SHOWN);
    }
}

/// Diagnostics as a table: file, line, severity, message.
pub fn diagnostics_table<'a>(
    items: impl IntoIterator<Item = &'a expost_model::Diagnostic>,
) -> Table {
    use expost_render::table::{ColumnData, DictBuilder};
    let (mut file, mut severity, mut message) = (
        DictBuilder::default(),
        DictBuilder::default(),
        DictBuilder::default(),
    );
    let mut line = Vec::new();
    for d in items {
        file.push(&d.file);
        line.push(d.line.map(|l| l as i64));
        severity.push(d.severity.as_str());
        message.push(&d.message);
    }
    let mut table = Table::default();
    table.push("file", file.finish());
    table.push("line", ColumnData::Int(line));
    table.push("severity", severity.finish());
    table.push("message", message.finish());
    table
}

/// Prints `value` on stdout as pretty JSON and a newline, streamed through a
/// buffer on the locked stdout (a closed pipe is an error, not a panic).
pub fn print_json(value: &impl serde::Serialize) -> Result<()> {
    use std::io::Write;
    let mut out = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
    serde_json::to_writer_pretty(&mut out, value).context("could not write the JSON summary")?;
    out.write_all(b"\n")
        .and_then(|()| out.flush())
        .context("could not write the JSON summary")
}

#[cfg(test)]
mod tests {
    use super::*;
    use expost_model::Diagnostics;

    #[test]
    fn counts_are_said_in_words_with_their_plurals() {
        let mut diags = Diagnostics::for_file("f");
        assert_eq!(
            counts_in_words(diags.items()),
            "0 errors, 0 warnings, 0 notes"
        );
        diags.warn(Some(1), "w");
        diags.error(None, "e");
        diags.error(None, "e");
        diags.note(None, "n");
        assert_eq!(
            counts_in_words(diags.items()),
            "2 errors, 1 warning, 1 note"
        );
    }
}
