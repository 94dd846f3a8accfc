//! `--shard auto`: the shard an array job's task runs, taken from the
//! variables its scheduler sets: Slurm's `SLURM_ARRAY_TASK_ID`,
//! `SLURM_ARRAY_TASK_COUNT` (and `SLURM_ARRAY_TASK_MIN`,
//! `SLURM_ARRAY_TASK_STEP` when set), or a Kubernetes Indexed Job's
//! `JOB_COMPLETION_INDEX` (0-based) with the shard count given as
//! `--shards N`.

use expost_sim::sweep::Shard;
use serde::Serialize;

/// Slurm: this task's id within its array.
pub const SLURM_TASK_ID: &str = "SLURM_ARRAY_TASK_ID";
/// Slurm: how many tasks the array has.
pub const SLURM_TASK_COUNT: &str = "SLURM_ARRAY_TASK_COUNT";
/// Slurm: the array's lowest task id (`--array=0-3` starts at 0).
pub const SLURM_TASK_MIN: &str = "SLURM_ARRAY_TASK_MIN";
/// Slurm: the step between task ids (`--array=1-7:2`).
pub const SLURM_TASK_STEP: &str = "SLURM_ARRAY_TASK_STEP";
/// Kubernetes Indexed Jobs: this pod's completion index, 0-based.
pub const K8S_INDEX: &str = "JOB_COMPLETION_INDEX";

/// The shard `--shard auto` took, and from what.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AutoShard {
    /// The shard.
    pub shard: Shard,
    /// `slurm` or `kubernetes`.
    pub scheduler: &'static str,
    /// The variables read, as `NAME=value`, and `--shards N` when it was used.
    pub from: Vec<String>,
}

impl AutoShard {
    /// `shard 3/4 (from SLURM_ARRAY_TASK_ID=2, …)`, for diagnostics.
    pub fn describe(&self) -> String {
        format!(
            "shard {} taken by --shard auto from {}",
            self.shard,
            self.from.join(", ")
        )
    }
}

/// The shard of this array-job task; `var` reads an environment variable
/// (`None`: unset), `shards` is `--shards N`.
///
/// # Errors
/// Which variables are missing, not whole numbers or inconsistent.
pub fn from_env(
    var: &dyn Fn(&str) -> Option<String>,
    shards: Option<u32>,
) -> Result<AutoShard, String> {
    if shards == Some(0) {
        return Err("--shards must be at least 1".into());
    }
    let slurm = var(SLURM_TASK_ID);
    let kubernetes = var(K8S_INDEX);
    match (slurm, kubernetes) {
        (Some(_), Some(_)) => Err(format!(
            "--shard auto: both {SLURM_TASK_ID} (Slurm) and {K8S_INDEX} (Kubernetes) are set; \
             unset the one that does not belong to this job, or give --shard I/N"
        )),
        (Some(id), None) => slurm_shard(&id, var, shards),
        (None, Some(index)) => kubernetes_shard(&index, shards),
        (None, None) => Err(format!(
            "--shard auto needs a Slurm array task ({SLURM_TASK_ID} and {SLURM_TASK_COUNT}, \
             set by sbatch --array) or a Kubernetes Indexed Job ({K8S_INDEX}, with --shards N); \
             none of them is set"
        )),
    }
}

/// A variable's value as a whole number.
fn whole(name: &str, value: &str) -> Result<u32, String> {
    value
        .trim()
        .parse()
        .map_err(|_| format!("--shard auto: {name}={value:?} is not a whole number"))
}

fn slurm_shard(
    id_text: &str,
    var: &dyn Fn(&str) -> Option<String>,
    shards: Option<u32>,
) -> Result<AutoShard, String> {
    let id = whole(SLURM_TASK_ID, id_text)?;
    let mut from = vec![format!("{SLURM_TASK_ID}={id}")];
    let count_text = var(SLURM_TASK_COUNT).ok_or_else(|| {
        format!(
            "--shard auto: {SLURM_TASK_ID} is set but {SLURM_TASK_COUNT} is not \
             (Slurm sets both in an array job: sbatch --array=1-N)"
        )
    })?;
    let count = whole(SLURM_TASK_COUNT, &count_text)?;
    from.push(format!("{SLURM_TASK_COUNT}={count}"));
    if count == 0 {
        return Err(format!("--shard auto: {SLURM_TASK_COUNT}=0"));
    }
    if let Some(n) = shards.filter(|n| *n != count) {
        return Err(format!(
            "--shard auto: --shards {n} but the array has {SLURM_TASK_COUNT}={count} tasks"
        ));
    }
    // Without SLURM_ARRAY_TASK_MIN, ids are taken to start at 1 (as in
    // --array=1-N), and the diagnostic says so.
    let min = match var(SLURM_TASK_MIN) {
        Some(text) => {
            let min = whole(SLURM_TASK_MIN, &text)?;
            from.push(format!("{SLURM_TASK_MIN}={min}"));
            min
        }
        None => {
            from.push(format!("{SLURM_TASK_MIN} unset, taken as 1"));
            1
        }
    };
    let step = match var(SLURM_TASK_STEP) {
        Some(text) => {
            let step = whole(SLURM_TASK_STEP, &text)?;
            if step == 0 {
                return Err(format!("--shard auto: {SLURM_TASK_STEP}=0"));
            }
            if step != 1 {
                from.push(format!("{SLURM_TASK_STEP}={step}"));
            }
            step
        }
        None => 1,
    };
    let offset = id
        .checked_sub(min)
        .filter(|o| o % step == 0)
        .ok_or_else(|| {
            format!(
                "--shard auto: {SLURM_TASK_ID}={id} is not one of the array's ids \
             (from {SLURM_TASK_MIN}={min} in steps of {step})"
            )
        })?;
    let index = offset / step + 1;
    if index > count {
        return Err(format!(
            "--shard auto: {SLURM_TASK_ID}={id} is task {index} of the array, but \
             {SLURM_TASK_COUNT}={count}: the array's ids must be one range, as --array=1-{count}"
        ));
    }
    Ok(AutoShard {
        shard: Shard { index, count },
        scheduler: "slurm",
        from,
    })
}

fn kubernetes_shard(index_text: &str, shards: Option<u32>) -> Result<AutoShard, String> {
    let index = whole(K8S_INDEX, index_text)?;
    let count = shards.ok_or_else(|| {
        format!(
            "--shard auto: {K8S_INDEX}={index} is set, but not how many shards there are: \
             give --shards N (the Job's completions)"
        )
    })?;
    if index >= count {
        return Err(format!(
            "--shard auto: {K8S_INDEX}={index} but --shards {count} (indexes run from 0 to {})",
            count - 1
        ));
    }
    Ok(AutoShard {
        shard: Shard {
            index: index + 1,
            count,
        },
        scheduler: "kubernetes",
        from: vec![format!("{K8S_INDEX}={index}"), format!("--shards {count}")],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_string())
        }
    }

    fn shard(pairs: &[(&str, &str)], shards: Option<u32>) -> Result<Shard, String> {
        from_env(&env(pairs), shards).map(|a| a.shard)
    }

    #[test]
    fn slurm_ids_count_from_the_arrays_min() {
        let zero_based = [
            (SLURM_TASK_ID, "0"),
            (SLURM_TASK_COUNT, "4"),
            (SLURM_TASK_MIN, "0"),
        ];
        assert_eq!(shard(&zero_based, None), Ok(Shard { index: 1, count: 4 }));
        let one_based = [
            (SLURM_TASK_ID, "4"),
            (SLURM_TASK_COUNT, "4"),
            (SLURM_TASK_MIN, "1"),
        ];
        assert_eq!(shard(&one_based, None), Ok(Shard { index: 4, count: 4 }));
        let from_ten = [
            (SLURM_TASK_ID, "12"),
            (SLURM_TASK_COUNT, "4"),
            (SLURM_TASK_MIN, "10"),
            (SLURM_TASK_STEP, "1"),
        ];
        assert_eq!(shard(&from_ten, Some(4)), Ok(Shard { index: 3, count: 4 }));
        let stepped = [
            (SLURM_TASK_ID, "5"),
            (SLURM_TASK_COUNT, "4"),
            (SLURM_TASK_MIN, "1"),
            (SLURM_TASK_STEP, "2"),
        ];
        assert_eq!(shard(&stepped, None), Ok(Shard { index: 3, count: 4 }));
    }

    #[test]
    fn the_diagnostic_names_the_variables_read() {
        let a = from_env(&env(&[(SLURM_TASK_ID, "2"), (SLURM_TASK_COUNT, "3")]), None).unwrap();
        assert_eq!(a.shard, Shard { index: 2, count: 3 });
        assert_eq!(a.scheduler, "slurm");
        assert_eq!(
            a.describe(),
            "shard 2/3 taken by --shard auto from SLURM_ARRAY_TASK_ID=2, \
             SLURM_ARRAY_TASK_COUNT=3, SLURM_ARRAY_TASK_MIN unset, taken as 1"
        );
        let k = from_env(&env(&[(K8S_INDEX, "0")]), Some(5)).unwrap();
        assert_eq!(k.shard, Shard { index: 1, count: 5 });
        assert_eq!(k.from, ["JOB_COMPLETION_INDEX=0", "--shards 5"]);
    }

    #[test]
    fn missing_or_inconsistent_variables_are_named() {
        let err = |pairs: &[(&str, &str)], shards| shard(pairs, shards).unwrap_err();
        assert!(err(&[], None).contains("none of them is set"));
        assert!(err(&[(SLURM_TASK_ID, "1")], None).contains(SLURM_TASK_COUNT));
        assert!(err(&[(SLURM_TASK_ID, "x"), (SLURM_TASK_COUNT, "2")], None)
            .contains("SLURM_ARRAY_TASK_ID=\"x\" is not a whole number"));
        let e = err(&[(SLURM_TASK_ID, "0"), (SLURM_TASK_COUNT, "4")], None);
        assert!(e.contains("SLURM_ARRAY_TASK_ID=0 is not one of"), "{e}");
        let e = err(
            &[
                (SLURM_TASK_ID, "9"),
                (SLURM_TASK_COUNT, "3"),
                (SLURM_TASK_MIN, "1"),
            ],
            None,
        );
        assert!(
            e.contains("task 9 of the array") && e.contains("--array=1-3"),
            "{e}"
        );
        let e = err(&[(SLURM_TASK_ID, "1"), (SLURM_TASK_COUNT, "4")], Some(3));
        assert!(
            e.contains("--shards 3") && e.contains("SLURM_ARRAY_TASK_COUNT=4"),
            "{e}"
        );
        assert!(err(&[(K8S_INDEX, "2")], None).contains("--shards N"));
        assert!(err(&[(K8S_INDEX, "2")], Some(2)).contains("from 0 to 1"));
        assert!(err(&[(K8S_INDEX, "0"), (SLURM_TASK_ID, "1")], Some(2)).contains("both"));
        assert!(err(&[(K8S_INDEX, "0")], Some(0)).contains("at least 1"));
        let zero_step = [
            (SLURM_TASK_ID, "1"),
            (SLURM_TASK_COUNT, "2"),
            (SLURM_TASK_STEP, "0"),
        ];
        assert!(err(&zero_step, None).contains("SLURM_ARRAY_TASK_STEP=0"));
    }
}
