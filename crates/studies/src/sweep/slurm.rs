//! `expost sweep slurm`: a shell script that submits a sweep to Slurm as an
//! array job (one shard per task, `--shard auto`) and a job that merges the
//! shards once every task has succeeded (`--dependency=afterok`).

/// What the script submits.
#[derive(Debug, Clone)]
pub struct ArrayJob {
    /// The expost binary the tasks run (absolute).
    pub expost: String,
    /// The `expost sweep` options every task shares (no `--shard`, no `-o`).
    pub sweep_args: Vec<String>,
    /// The folder of the shards (`shard-I`), the merge (`merged`) and the logs (`logs`).
    pub out_dir: String,
    /// How many shards (array tasks).
    pub shards: u32,
    /// The array job's name; the merge job's is it with `-merge`.
    pub job_name: String,
    /// Options for both `sbatch` calls, each one word (`--partition=debug`).
    pub sbatch_options: Vec<String>,
    /// The merge's own options (those of the merged figures), each one word.
    pub merge_args: Vec<String>,
    /// `--quiet` for the merge too.
    pub quiet: bool,
}

/// `word` as one POSIX shell word: as is when it has only characters no
/// shell treats specially, else in single quotes (a `'` inside as `'\''`).
pub fn quote(word: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "_@%+=:,./-".contains(c);
    let looks_like_assignment = word
        .split_once('=')
        .is_some_and(|(name, _)| !name.is_empty() && !name.starts_with('-'));
    if !word.is_empty() && word.chars().all(plain) && !looks_like_assignment {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

/// `words` as one shell command line.
fn command_line<S: AsRef<str>>(words: &[S]) -> String {
    let quoted: Vec<String> = words.iter().map(|w| quote(w.as_ref())).collect();
    quoted.join(" ")
}

/// A path for sbatch's `--output`, whose `%` starts a replacement symbol.
fn slurm_file_pattern(path: &str) -> String {
    path.replace('%', "%%")
}

/// The script: `sh` runs it where `sbatch` works.
pub fn script(job: &ArrayJob) -> String {
    let out = job.out_dir.trim_end_matches('/');
    let out = if out.is_empty() { "/" } else { out };
    let mut task: Vec<&str> = vec![&job.expost, "sweep"];
    task.extend(job.sweep_args.iter().map(String::as_str));
    task.extend(["--shard", "auto", "-o"]);
    // The shard folder's name ends with the task id, expanded in each task.
    let task = format!(
        "{} {}/shard-\"$SLURM_ARRAY_TASK_ID\"",
        command_line(&task),
        quote(out)
    );
    let mut merge = format!(
        "{} sweep merge {}/shard-* -o {}/merged",
        quote(&job.expost),
        quote(out),
        quote(out)
    );
    for word in &job.merge_args {
        merge.push(' ');
        merge.push_str(&quote(word));
    }
    if job.quiet {
        merge.push_str(" --quiet");
    }
    let options = command_line(&job.sbatch_options);
    let options = if options.is_empty() {
        String::new()
    } else {
        format!(" {options}")
    };
    let n = job.shards;
    let lines = [
        "#!/bin/sh".to_string(),
        format!("# An expost sweep as a Slurm array job of {n} tasks, one shard each (--shard auto),"),
        "# then a job that merges the shards once every task has succeeded.".into(),
        "# Written by `expost sweep slurm`; submit it with: sh THIS-FILE".into(),
        "set -eu".into(),
        format!("out={}", quote(out)),
        format!("logs={}", quote(&slurm_file_pattern(&format!("{out}/logs")))),
        "mkdir -p \"$out/logs\"".into(),
        format!("task={}", quote(&task)),
        format!("merge={}", quote(&merge)),
        format!(
            "array_job=$(sbatch --parsable --array=1-{n} --job-name={}{options} --output=\"$logs/shard-%a.log\" --wrap=\"$task\")",
            quote(&job.job_name)
        ),
        "array_job=${array_job%%;*}".into(),
        format!(
            "merge_job=$(sbatch --parsable --dependency=afterok:\"$array_job\" --job-name={}{options} --output=\"$logs/merge.log\" --wrap=\"$merge\")",
            quote(&format!("{}-merge", job.job_name))
        ),
        "merge_job=${merge_job%%;*}".into(),
        format!("echo \"array job $array_job ({n} shards in $out/shard-I), merge job $merge_job (into $out/merged); logs in $out/logs\""),
    ];
    let mut text = lines.join("\n");
    text.push('\n');
    text
}

/// Checks a `--time` value: minutes, `M:S`, `H:M:S`, `D-H`, `D-H:M` or `D-H:M:S`.
///
/// # Errors
/// When it is none of these.
pub fn check_time(time: &str) -> Result<(), String> {
    let numbers = |s: &str| {
        let parts: Vec<&str> = s.split(':').collect();
        let digits = parts
            .iter()
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()));
        digits.then_some(parts.len())
    };
    let fits = match time.split_once('-') {
        Some((days, rest)) => numbers(days) == Some(1) && matches!(numbers(rest), Some(1..=3)),
        None => matches!(numbers(time), Some(1..=3)),
    };
    if fits {
        Ok(())
    } else {
        Err(format!(
            "--time {time:?}: Slurm takes minutes, MM:SS, HH:MM:SS, D-HH, D-HH:MM or D-HH:MM:SS"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    /// What `sh` makes of `line`: its words, one per line of `printf`.
    fn words_by_sh(line: &str) -> Vec<String> {
        let out = Command::new("sh")
            .arg("-c")
            .arg(format!("printf '%s\\n' {line}"))
            .output()
            .unwrap();
        assert!(out.status.success());
        String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .map(String::from)
            .collect()
    }

    #[test]
    fn quoted_words_reach_the_command_as_they_were() {
        let words = [
            "plain",
            "--rates=0.1,0.5",
            "with space",
            "it's",
            "\"double\"",
            "$HOME",
            "`date`",
            "a*b?",
            "~user",
            "semi;colon&and|pipe",
            "back\\slash",
            "",
            "FOO=bar",
            "ümlaut",
        ];
        assert_eq!(words_by_sh(&command_line(&words)), words);
        assert_eq!(quote("--profile=/p/run-86"), "--profile=/p/run-86");
        assert_eq!(quote("FOO=bar"), "'FOO=bar'");
        assert_eq!(quote("it's"), r"'it'\''s'");
    }

    fn job(out_dir: &str, profile: &str) -> ArrayJob {
        ArrayJob {
            expost: "/opt/my tools/expost".into(),
            sweep_args: vec![format!("--profile={profile}"), "--seeds=2".into()],
            merge_args: vec!["--label=strategy=redundant:Bamboo".into()],
            out_dir: out_dir.into(),
            shards: 4,
            job_name: "expost-sweep".into(),
            sbatch_options: vec!["--partition=debug".into(), "--time=0:10:00".into()],
            quiet: true,
        }
    }

    #[test]
    fn the_script_submits_an_array_then_a_merge_after_it() {
        let text = script(&job("/data/sweep", "/p/run-86"));
        assert!(text.contains("sbatch --parsable --array=1-4 --job-name=expost-sweep --partition=debug --time=0:10:00 --output=\"$logs/shard-%a.log\" --wrap=\"$task\""), "{text}");
        assert!(
            text.contains("--dependency=afterok:\"$array_job\" --job-name=expost-sweep-merge"),
            "{text}"
        );
        assert!(text.contains("merge=''\\''/opt/my tools/expost'\\'' sweep merge /data/sweep/shard-* -o /data/sweep/merged --label=strategy=redundant:Bamboo --quiet'"), "{text}");
    }

    /// Runs the script with a stand-in `sbatch` that prints its `--wrap`
    /// command's words as `sh` would split them (the task id set to 3).
    #[test]
    fn names_with_spaces_and_quotes_survive_both_levels_of_quoting() {
        let dir = tempfile::tempdir().unwrap();
        let sbatch = dir.path().join("sbatch");
        std::fs::write(
            &sbatch,
            "#!/bin/sh\nfor a; do case $a in --wrap=*) SLURM_ARRAY_TASK_ID=3; eval \"set -- ${a#--wrap=}\"; printf '[%s]' \"$@\" >&2; echo >&2;; esac; done\necho 42\n",
        )
        .unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&sbatch, std::fs::Permissions::from_mode(0o755)).unwrap();
        let out_dir = dir.path().join("it's a \"sweep\" $HOME 100%");
        let mut hostile = job(out_dir.to_str().unwrap(), "/p/run 86's");
        hostile.merge_args = vec![r#"--label=strategy=redundant:Bamboo's "run""#.into()];
        let text = script(&hostile);
        let out = Command::new("sh")
            .arg("-c")
            .arg(&text)
            .env("PATH", format!("{}:/usr/bin:/bin", dir.path().display()))
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{stderr}");
        let o = out_dir.display();
        let lines: Vec<&str> = stderr.lines().collect();
        assert_eq!(
            lines[0],
            format!("[/opt/my tools/expost][sweep][--profile=/p/run 86's][--seeds=2][--shard][auto][-o][{o}/shard-3]")
        );
        assert_eq!(
            lines[1],
            format!(
                r#"[/opt/my tools/expost][sweep][merge][{o}/shard-*][-o][{o}/merged][--label=strategy=redundant:Bamboo's "run"][--quiet]"#
            )
        );
        assert!(out_dir.join("logs").is_dir());
        assert!(String::from_utf8_lossy(&out.stdout).contains("array job 42 (4 shards"));
    }

    #[test]
    fn times_take_slurms_forms() {
        for ok in ["30", "10:00", "01:30:00", "2-0", "2-12:00", "2-12:00:00"] {
            assert_eq!(check_time(ok), Ok(()), "{ok}");
        }
        for bad in ["", "1h", "1:2:3:4", "-5", "2-", "a-1", "1:-2"] {
            assert!(check_time(bad).is_err(), "{bad}");
        }
    }
}
