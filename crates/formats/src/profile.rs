//! Training profiles, in the two forms expost reads: a Bamboo profiling
//! run folder (`reconfig.csv`, `loop_times_0.csv`, `async-checkpoint_0.csv`
//! and `load_times_0.csv`, read as the notebook reads them, and
//! `exp-info.json`; [`read_run`]) or a small TOML file ([`parse_toml`]).
//! [`read`] takes either.

use expost_model::profile::{default_batch, Profile};
use expost_model::Diagnostics;
use std::collections::BTreeMap;
use std::io::BufRead;
use std::path::Path;

/// Why a profile could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    /// A file is missing or unreadable.
    #[error("{file}: could not read: {source}")]
    Io {
        /// The file.
        file: String,
        /// The cause.
        source: std::io::Error,
    },
    /// A line is malformed.
    #[error("{file}:{line}: {message}")]
    Line {
        /// The file.
        file: String,
        /// The 1-based line.
        line: u64,
        /// What was wrong.
        message: String,
    },
    /// The profile as a whole is unusable.
    #[error("{file}: {message}")]
    Invalid {
        /// The file (or folder).
        file: String,
        /// What was wrong.
        message: String,
    },
}

/// Reads a profile: a profiling run folder, or a TOML file.
///
/// # Errors
/// A [`ProfileError`] naming the file (and line) that cannot be used.
pub fn read(path: &Path, diags: &mut Diagnostics) -> Result<Profile, ProfileError> {
    if path.is_dir() {
        return read_run(path, diags);
    }
    let file = path.display().to_string();
    let f = std::fs::File::open(path).map_err(|source| ProfileError::Io {
        file: file.clone(),
        source,
    })?;
    diags.set_file(file);
    parse_toml(std::io::BufReader::new(f), diags)
}

/// Reads a TOML profile: `reconfiguration_s`, `checkpoint_save_s`,
/// `checkpoint_load_s`, `global_batch`, `pipeline_depth` and
/// `[iteration_s]` with one `"world size" = seconds` a line. Errors name
/// the file `diags` reports for.
///
/// # Errors
/// A [`ProfileError`] when it cannot be read or its values cannot be used.
pub fn parse_toml(
    mut reader: impl BufRead,
    diags: &mut Diagnostics,
) -> Result<Profile, ProfileError> {
    let file = diags.file().to_string();
    let mut text = String::new();
    reader
        .read_to_string(&mut text)
        .map_err(|source| ProfileError::Io {
            file: file.clone(),
            source,
        })?;
    let profile: Profile = toml::from_str(&text).map_err(|e| ProfileError::Invalid {
        file: file.clone(),
        message: e.to_string().trim().replace('\n', " "),
    })?;
    validated(profile, &file)
}

/// Reads a Bamboo profiling run folder as the notebook does: the mean
/// of `reconfig.csv`'s elapsed column without its first row, the mean
/// train time of `loop_times_0.csv` per world size, and the means of
/// `async-checkpoint_0.csv` and `load_times_0.csv`. `exp-info.json`, if
/// present, gives the global batch and pipeline depth.
pub fn read_run(dir: &Path, diags: &mut Diagnostics) -> Result<Profile, ProfileError> {
    let read = |name: &str| -> Result<(String, String), ProfileError> {
        let path = dir.join(name);
        let file = path.display().to_string();
        std::fs::read_to_string(&path)
            .map(|t| (file.clone(), t))
            .map_err(|source| ProfileError::Io { file, source })
    };
    let (f, text) = read("reconfig.csv")?;
    let reconfig = columns(&f, &text, 4)?;
    if reconfig.len() < 2 {
        return Err(invalid(
            &f,
            "needs at least 2 rows (the notebook drops the first)",
        ));
    }
    diags.set_file(f.clone());
    diags.note(
        Some(1),
        "first reconfiguration dropped, as the notebook does (start-up)",
    );
    let reconfiguration_s = mean(reconfig[1..].iter().map(|r| r.1[3]));

    let (f, text) = read("loop_times_0.csv")?;
    let loops = columns(&f, &text, 7)?;
    let mut sums: BTreeMap<u32, (f64, usize)> = BTreeMap::new();
    for (line, row) in &loops {
        let ws = row[0];
        if ws.fract() != 0.0 || ws < 1.0 {
            return Err(line_error(
                &f,
                *line,
                format!("world size {ws} is not a whole number ≥ 1"),
            ));
        }
        let e = sums.entry(ws as u32).or_insert((0.0, 0));
        e.0 += row[4];
        e.1 += 1;
    }
    let iteration_s: BTreeMap<u32, f64> = sums
        .into_iter()
        .map(|(k, (s, n))| (k, s / n as f64))
        .collect();

    let (f, text) = read("async-checkpoint_0.csv")?;
    let ckpt = columns(&f, &text, 1)?;
    let (f2, text) = read("load_times_0.csv")?;
    let load = columns(&f2, &text, 3)?;
    if ckpt.is_empty() {
        return Err(invalid(&f, "no rows"));
    }
    if load.is_empty() {
        return Err(invalid(&f2, "no rows"));
    }
    let (global_batch, pipeline_depth) = exp_info(dir, diags)?;
    let profile = Profile {
        reconfiguration_s,
        checkpoint_save_s: mean(ckpt.iter().map(|r| r.1[0])),
        checkpoint_load_s: mean(load.iter().map(|r| r.1[2])),
        iteration_s,
        global_batch,
        pipeline_depth,
    };
    validated(profile, &dir.join("loop_times_0.csv").display().to_string())
}

/// `profile` if its values can be used.
fn validated(profile: Profile, file: &str) -> Result<Profile, ProfileError> {
    profile.check().map_err(|message| invalid(file, &message))?;
    Ok(profile)
}

fn invalid(file: &str, message: &str) -> ProfileError {
    ProfileError::Invalid {
        file: file.to_string(),
        message: message.to_string(),
    }
}

fn line_error(file: &str, line: u64, message: String) -> ProfileError {
    ProfileError::Line {
        file: file.to_string(),
        line,
        message,
    }
}

fn mean(values: impl Iterator<Item = f64>) -> f64 {
    let (s, n) = values.fold((0.0, 0usize), |(s, n), v| (s + v, n + 1));
    s / n as f64
}

/// Numeric rows of a header-less CSV with at least `width` columns.
fn columns(file: &str, text: &str, width: usize) -> Result<Vec<(u64, Vec<f64>)>, ProfileError> {
    let mut rows = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = i as u64 + 1;
        let raw = raw.trim_end_matches('\r');
        if raw.trim().is_empty() {
            continue;
        }
        let values: Vec<f64> = raw
            .split(',')
            .map(|f| f.trim().parse::<f64>())
            .collect::<Result<_, _>>()
            .map_err(|_| {
                line_error(
                    file,
                    line,
                    format!("expected {width} numbers separated by commas, found {raw:?}"),
                )
            })?;
        if values.len() < width || values.iter().any(|v| !v.is_finite()) {
            return Err(line_error(
                file,
                line,
                format!("expected {width} finite numbers, found {}", values.len()),
            ));
        }
        rows.push((line, values));
    }
    Ok(rows)
}

/// Global batch and pipeline depth from `exp-info.json`, if present.
fn exp_info(dir: &Path, diags: &mut Diagnostics) -> Result<(u32, Option<u32>), ProfileError> {
    let path = dir.join("exp-info.json");
    let file = path.display().to_string();
    let Ok(text) = std::fs::read_to_string(&path) else {
        diags.set_file(file);
        diags.note(
            None,
            "no exp-info.json: global batch taken as 288 (Bamboo run-86)",
        );
        return Ok((default_batch(), None));
    };
    let value: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| line_error(&file, e.line() as u64, e.to_string()))?;
    let get = |key: &str| {
        value
            .get(key)
            .and_then(serde_json::Value::as_u64)
            .map(|v| v as u32)
    };
    let batch = value
        .get("deepspeed-config")
        .and_then(|c| c.get("train_batch_size"))
        .and_then(serde_json::Value::as_u64)
        .map(|v| v as u32);
    Ok((batch.unwrap_or_else(default_batch), get("pipe-depth")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn notebook() -> Profile {
        Profile {
            reconfiguration_s: 88.0,
            checkpoint_save_s: 89.0,
            checkpoint_load_s: 47.0,
            iteration_s: [(16, 18.0), (32, 11.0), (48, 9.0), (64, 8.0)]
                .into_iter()
                .collect(),
            global_batch: 288,
            pipeline_depth: Some(16),
        }
    }

    fn toml_profile(text: &str) -> Result<Profile, ProfileError> {
        parse_toml(text.as_bytes(), &mut Diagnostics::for_file("p.toml"))
    }

    #[test]
    fn toml_profile_round_trips_and_rejects_empty_tables() {
        let text = toml::to_string(&notebook()).unwrap();
        assert_eq!(toml_profile(&text).unwrap(), notebook());
        let empty = "reconfiguration_s = 88\ncheckpoint_save_s = 89\ncheckpoint_load_s = 47\n[iteration_s]\n";
        let err = toml_profile(empty).unwrap_err().to_string();
        assert!(
            err.contains("no iteration time for any world size"),
            "{err}"
        );
    }
}
