//! A sweep's `sweep-spec.json` and `expost sweep merge`: what each shard
//! records about the sweep it ran (its grid, seeds and settings, which
//! shard it is, the expost version, the profile's values), and the checks
//! that the shards given make one whole sweep, each once.

use super::{SweepResult, SweepStudy};
use expost_model::profile::Profile;
use expost_model::Diagnostics;
use expost_sim::sweep::{self, Shard, SweepRecord, SweepSpec};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};

/// What `sweep-spec.json` holds: the sweep's spec, with what
/// `expost sweep merge` checks and needs beside it. The keys after the
/// spec's own are absent from the files of older versions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SpecFile {
    /// The grid, seeds and settings.
    #[serde(flatten)]
    pub spec: SweepSpec,
    /// Which shard wrote the file (`1/1`: a whole sweep).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<Shard>,
    /// The version of expost that ran it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expost_version: Option<String>,
    /// The profile it ran with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<ProfileUsed>,
}

/// The profile a sweep ran with: where it was read, and its values as
/// used (rounded with `--rounded`), which draw the Young/Daly intervals.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProfileUsed {
    /// As given to `--profile`.
    pub path: PathBuf,
    /// The values.
    pub values: Profile,
}

impl SpecFile {
    /// What `result` writes as `sweep-spec.json`.
    pub fn of(result: &SweepResult) -> SpecFile {
        SpecFile {
            spec: result.spec.clone(),
            shard: Some(result.shard),
            expost_version: Some(env!("CARGO_PKG_VERSION").into()),
            profile: Some(ProfileUsed {
                path: result.profile_path.clone(),
                values: result.profile.clone(),
            }),
        }
    }

    /// What two shards of one sweep have in common: everything but which
    /// shard it is and where the profile was read.
    fn common_part(&self) -> Value {
        let mut value = serde_json::to_value(self).unwrap_or(Value::Null);
        if let Some(map) = value.as_object_mut() {
            map.remove("shard");
            if let Some(profile) = map.get_mut("profile").and_then(Value::as_object_mut) {
                profile.remove("path");
            }
        }
        value
    }
}

/// Why the shards of a sweep could not be merged.
#[derive(Debug, thiserror::Error)]
pub enum ShardsError {
    /// A shard's file could not be read.
    #[error("could not read '{path}': {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
    /// A shard's file is not what `expost sweep -o` writes.
    #[error("{path}: {message}")]
    Format {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// The profile could not be read.
    #[error(transparent)]
    Profile(#[from] expost_formats::profile::ProfileError),
    /// The shards' spec files do not have the profile, and `--profile` was not given.
    #[error("{0}: the spec does not record the profile's values (written by an older expost); give --profile")]
    NoProfile(PathBuf),
    /// Two shards ran different sweeps.
    #[error("'{other}' is not a shard of the same sweep as '{first}' (their sweep-spec.json differ: {})", .fields.join("; "))]
    Different {
        /// The first shard's folder.
        first: PathBuf,
        /// The shard that differs from it.
        other: PathBuf,
        /// What differs, as `key: first value ≠ its value`.
        fields: Vec<String>,
    },
    /// Two shards split the sweep in different numbers of shards.
    #[error("'{other}' is shard {other_shard} but '{first}' is shard {first_shard}: shards of one sweep have the same count")]
    Count {
        /// The first shard's folder.
        first: PathBuf,
        /// Its shard.
        first_shard: Shard,
        /// The shard that differs from it.
        other: PathBuf,
        /// Its shard.
        other_shard: Shard,
    },
    /// A shard given twice.
    #[error("shard {shard} is given twice: '{first}' and '{second}'")]
    Duplicate {
        /// The shard.
        shard: Shard,
        /// Its first folder.
        first: PathBuf,
        /// Its second folder.
        second: PathBuf,
    },
    /// Shards not given.
    #[error("{} of {count} shards missing: {}{} (each of the {count} shards must be given once)", .total, list(.first), if *.total as usize > .first.len() { ", …" } else { "" })]
    Missing {
        /// The first missing shards' indexes, 1-based (at most 10).
        first: Vec<u32>,
        /// How many are missing.
        total: u32,
        /// How many shards the sweep has.
        count: u32,
    },
    /// The records do not make one whole sweep.
    #[error(transparent)]
    Merge(#[from] sweep::MergeError),
}

impl ShardsError {
    /// Whether the command line is at fault (exit 2) rather than the shards (exit 1).
    pub fn is_usage(&self) -> bool {
        matches!(self, ShardsError::NoProfile(_))
    }
}

/// `1, 3, 4`.
fn list(indexes: &[u32]) -> String {
    let texts: Vec<String> = indexes.iter().map(u32::to_string).collect();
    texts.join(", ")
}

/// The profile `expost sweep merge` draws the Young/Daly intervals with.
#[derive(Debug, Clone, Copy)]
pub enum MergeProfile<'a> {
    /// The one the shards' spec files record.
    FromShards,
    /// `--profile`, read again.
    Given(&'a Path),
}

/// One shard folder, read.
struct ShardDir {
    dir: PathBuf,
    spec: SpecFile,
    records: Vec<SweepRecord>,
}

/// Reads the shards written by `expost sweep --shard i/n -o DIR` (each
/// folder's `sweep-spec.json` and `sweep.csv`), checks that they are the
/// shards of one sweep, each once, and that every simulation is there
/// once, and gives the study and result the whole sweep would have given.
///
/// # Errors
/// A shard that cannot be read, or shards that do not make one sweep.
pub fn read_shards(
    shards: &[PathBuf],
    profile: MergeProfile<'_>,
) -> Result<(SweepStudy, SweepResult), ShardsError> {
    let mut diags = Diagnostics::default();
    let read: Vec<ShardDir> = shards
        .iter()
        .map(|dir| read_shard(dir))
        .collect::<Result<_, _>>()?;
    let Some(first) = read.first() else {
        return Err(ShardsError::Missing {
            first: Vec::new(),
            total: 0,
            count: 0,
        });
    };
    check_same_sweep(&read)?;
    check_each_shard_once(&read, &mut diags)?;
    let (profile_path, profile) = merge_profile(first, profile, &mut diags)?;
    let specs: Vec<SweepSpec> = read.iter().map(|s| s.spec.spec.clone()).collect();
    let spec = specs[0].clone();
    let records = sweep::merge(
        &specs,
        read.into_iter().map(|s| s.records).collect(),
        &profile,
    )?;
    let study = SweepStudy::merged(&spec, profile_path.clone());
    let result = SweepResult::new(
        spec,
        profile,
        profile_path,
        Shard::default(),
        records,
        diags.into_items(),
    );
    Ok((study, result))
}

fn read_shard(dir: &Path) -> Result<ShardDir, ShardsError> {
    let read = |path: PathBuf| {
        std::fs::read(&path)
            .map(|bytes| (path.clone(), bytes))
            .map_err(|source| ShardsError::Read { path, source })
    };
    let (path, bytes) = read(dir.join("sweep-spec.json"))?;
    let spec = serde_json::from_slice::<SpecFile>(&bytes).map_err(|e| ShardsError::Format {
        path,
        message: format!("not a sweep spec: {e}"),
    })?;
    let (path, bytes) = read(dir.join("sweep.csv"))?;
    let records = sweep::read_csv(bytes.as_slice())
        .map_err(|message| ShardsError::Format { path, message })?;
    Ok(ShardDir {
        dir: dir.to_path_buf(),
        spec,
        records,
    })
}

/// Every shard's spec (grid, seeds, settings, expost version, profile
/// values) is the first's.
fn check_same_sweep(shards: &[ShardDir]) -> Result<(), ShardsError> {
    let first = &shards[0];
    let expected = first.spec.common_part();
    for other in &shards[1..] {
        let mut fields = Vec::new();
        differences("", &expected, &other.spec.common_part(), &mut fields);
        if !fields.is_empty() {
            return Err(ShardsError::Different {
                first: first.dir.clone(),
                other: other.dir.clone(),
                fields,
            });
        }
    }
    Ok(())
}

/// Where `a` and `b` differ, as `key.path: a ≠ b` (at most 5, then how many more).
fn differences(at: &str, a: &Value, b: &Value, out: &mut Vec<String>) {
    const SHOWN: usize = 5;
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let keys: std::collections::BTreeSet<&String> = x.keys().chain(y.keys()).collect();
            for key in keys {
                let path = if at.is_empty() {
                    key.clone()
                } else {
                    format!("{at}.{key}")
                };
                let (u, v) = (
                    x.get(key).unwrap_or(&Value::Null),
                    y.get(key).unwrap_or(&Value::Null),
                );
                differences(&path, u, v, out);
            }
        }
        _ if a == b => {}
        _ => {
            if out.len() < SHOWN {
                out.push(format!("{at}: {a} ≠ {b}"));
            } else if out.len() == SHOWN {
                out.push("and more".into());
            }
        }
    }
}

/// The shards are `1..=n` of one `n`, each once; spec files of older
/// versions (no `shard` key) leave the check to the records, and say so.
fn check_each_shard_once(shards: &[ShardDir], diags: &mut Diagnostics) -> Result<(), ShardsError> {
    let unknown: Vec<&ShardDir> = shards.iter().filter(|s| s.spec.shard.is_none()).collect();
    if !unknown.is_empty() {
        for s in unknown {
            diags.warn(
                None,
                format!(
                    "{}: its sweep-spec.json does not say which shard it is (written by an older expost); \
                     only its simulations are checked",
                    s.dir.display()
                ),
            );
        }
        return Ok(());
    }
    let shard_of = |s: &ShardDir| s.spec.shard.unwrap_or_default();
    let first = &shards[0];
    let count = shard_of(first).count;
    let mut seen: BTreeMap<u32, &ShardDir> = BTreeMap::new();
    for s in shards {
        let shard = shard_of(s);
        if shard.count != count {
            return Err(ShardsError::Count {
                first: first.dir.clone(),
                first_shard: shard_of(first),
                other: s.dir.clone(),
                other_shard: shard,
            });
        }
        if let Some(earlier) = seen.insert(shard.index, s) {
            return Err(ShardsError::Duplicate {
                shard,
                first: earlier.dir.clone(),
                second: s.dir.clone(),
            });
        }
    }
    let total = count - seen.len() as u32;
    if total == 0 {
        return Ok(());
    }
    let first = (1..=count)
        .filter(|i| !seen.contains_key(i))
        .take(10)
        .collect();
    Err(ShardsError::Missing {
        first,
        total,
        count,
    })
}

/// The profile path and values to merge with: `--profile` when given
/// (a note, or a warning when its values differ from the shards'), else
/// the shards'.
fn merge_profile(
    first: &ShardDir,
    asked: MergeProfile<'_>,
    diags: &mut Diagnostics,
) -> Result<(PathBuf, Profile), ShardsError> {
    let recorded = first.spec.profile.as_ref();
    match (asked, recorded) {
        (MergeProfile::FromShards, Some(used)) => Ok((used.path.clone(), used.values.clone())),
        (MergeProfile::FromShards, None) => {
            Err(ShardsError::NoProfile(first.dir.join("sweep-spec.json")))
        }
        (MergeProfile::Given(path), recorded) => {
            let profile = expost_formats::profile::read(path, diags)?;
            match recorded {
                Some(used) if used.values != profile => diags.warn(
                    None,
                    format!(
                        "--profile {}: its values differ from those the shards ran with ({}); \
                         the grid's automatic intervals and Young/Daly are drawn with --profile's",
                        path.display(),
                        used.path.display()
                    ),
                ),
                Some(_) => diags.note(
                    None,
                    format!(
                        "--profile {}: the same values as the shards' profile",
                        path.display()
                    ),
                ),
                None => {}
            }
            Ok((path.to_path_buf(), profile))
        }
    }
}
