//! Atomic output files: written to a temporary file in the destination
//! folder, then renamed over the destination, so a reader never sees half a
//! file and an interrupted run leaves the old file intact.

use std::io::{self, Write};
use std::path::Path;

/// Writes `bytes` to `path` atomically (temporary file + rename).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    write_atomic_with(path, |w| w.write_all(bytes))
}

/// Creates `path` atomically, letting `fill` write its content through a
/// buffered writer. If `fill` fails, the destination is left untouched.
pub fn write_atomic_with<F>(path: &Path, fill: F) -> io::Result<()>
where
    F: FnOnce(&mut io::BufWriter<&mut std::fs::File>) -> io::Result<()>,
{
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let prefix = temp_prefix();
    let mut builder = tempfile::Builder::new();
    builder.prefix(&prefix).suffix(".tmp");
    // Created as an ordinary file is (0666 less the umask), not as a
    // private temporary file (0600): the kernel applies the umask.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(std::fs::Permissions::from_mode(0o666));
    }
    let mut tmp = builder.tempfile_in(dir)?;
    {
        let mut buffered = io::BufWriter::with_capacity(1 << 16, tmp.as_file_mut());
        fill(&mut buffered)?;
        buffered.flush()?;
    }
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// The name prefix of this process's temporary files, `.expost-{pid}-`:
/// the pid lets a later run tell a killed writer's leftovers from the files
/// of a run still writing.
pub fn temp_prefix() -> String {
    format!(".expost-{}-", std::process::id())
}

/// The pid of the writer of temporary file `name` (`.expost-{pid}-….tmp`,
/// or the folder probe `.expost-probe-{pid}-…`), if it is one.
fn writer_of(name: &str) -> Option<u32> {
    let rest = name.strip_prefix(".expost-")?;
    let rest = rest.strip_prefix("probe-").unwrap_or(rest);
    let (pid, _) = rest.split_once('-')?;
    pid.parse().ok()
}

/// Whether process `pid` is provably gone: only where `/proc` lists the
/// live processes; elsewhere nothing can be proved and nothing is removed.
fn is_dead(pid: u32) -> bool {
    Path::new("/proc/self").exists() && !Path::new(&format!("/proc/{pid}")).exists()
}

/// Removes the temporary files in `dir` left by writers that are dead
/// (a run that was killed before it could clean up), and returns them.
/// Files of live writers, and files whose writer cannot be told, are kept.
///
/// # Errors
/// When `dir` cannot be listed, or a dead writer's file cannot be removed.
pub fn remove_stale_temps(dir: &Path) -> io::Result<Vec<std::path::PathBuf>> {
    let mut removed = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name();
        let Some(pid) = name.to_str().and_then(writer_of) else {
            continue;
        };
        if pid != std::process::id() && entry.file_type()?.is_file() && is_dead(pid) {
            match std::fs::remove_file(entry.path()) {
                Ok(()) => removed.push(entry.path()),
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
        }
    }
    removed.sort();
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failed_fill_leaves_old_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.csv");
        write_atomic(&path, b"old").unwrap();
        let err = write_atomic_with(&path, |w| {
            w.write_all(b"new")?;
            Err(io::Error::other("boom"))
        });
        assert!(err.is_err());
        assert_eq!(std::fs::read(&path).unwrap(), b"old");
        let leftovers: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(leftovers.len(), 1, "temporary file must be removed");
    }

    #[test]
    fn temp_files_of_dead_writers_are_removed_and_others_kept() {
        let dir = tempfile::tempdir().unwrap();
        // A child that has exited and been reaped: its pid is dead.
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let dead = child.id();
        child.wait().unwrap();
        let stale = dir.path().join(format!(".expost-{dead}-abc123.tmp"));
        let stale_probe = dir.path().join(format!(".expost-probe-{dead}-xyz"));
        let live = dir.path().join(format!("{}abc.tmp", temp_prefix()));
        let unknown = dir.path().join(".expost-abc123.tmp");
        let output = dir.path().join("series.csv");
        for f in [&stale, &stale_probe, &live, &unknown, &output] {
            std::fs::write(f, "x").unwrap();
        }
        let removed = remove_stale_temps(dir.path()).unwrap();
        if !is_dead(dead) {
            return; // no /proc, or the pid was reused at once: nothing provable
        }
        let mut expected = vec![stale.clone(), stale_probe.clone()];
        expected.sort();
        assert_eq!(removed, expected);
        assert!(!stale.exists() && !stale_probe.exists());
        assert!(live.exists() && unknown.exists() && output.exists());
    }
}
