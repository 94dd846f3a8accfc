//! Running the system `tar` on a tarball safely: the tarball is opened
//! here (only if it is a regular file, so a FIFO named like one cannot
//! block) and given to `tar` on its stdin, so no path is ever read by
//! `tar` as a remote archive (`host:file`) or as an option (`-x…`);
//! `--force-local` is passed as well. `tar`'s stderr is read on its own
//! thread (so it cannot fill its pipe) and kept up to a bound.

use std::fs::File;
use std::io::Read;
use std::path::Path;
use std::process::{Child, ChildStdout, Command, ExitStatus, Stdio};
use std::thread::JoinHandle;

/// The most of `tar`'s stderr kept.
const STDERR_KEPT: u64 = 64 * 1024;

/// What a file that is not a regular file is, for messages.
pub(crate) fn kind_of(file_type: std::fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if file_type.is_fifo() {
            return "a FIFO";
        }
        if file_type.is_socket() {
            return "a socket";
        }
        if file_type.is_char_device() {
            return "a character device";
        }
        if file_type.is_block_device() {
            return "a block device";
        }
    }
    if file_type.is_symlink() {
        "a symbolic link"
    } else if file_type.is_dir() {
        "a folder"
    } else if file_type.is_file() {
        "a regular file"
    } else {
        "not a regular file"
    }
}

/// Opens `path` for reading if it is (or links to) a regular file.
///
/// # Errors
/// The open's error, or an [`std::io::ErrorKind::InvalidInput`] one
/// naming what the path is instead.
pub(crate) fn open_regular(path: &Path) -> std::io::Result<File> {
    let meta = std::fs::metadata(path)?;
    if !meta.is_file() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("not a regular file ({})", kind_of(meta.file_type())),
        ));
    }
    let file = File::open(path)?;
    // Checked again on the open file: the path may have been swapped.
    if !file.metadata()?.is_file() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "not a regular file",
        ));
    }
    Ok(file)
}

/// A running `tar` reading a tarball on its stdin.
pub(crate) struct Tar {
    child: Child,
    stderr: Option<JoinHandle<String>>,
}

impl Tar {
    /// Runs `tar --force-local ARGS` (`ARGS` ending with `-f -` or naming
    /// `-` as the archive) with `tarball`'s content on its stdin and its
    /// stdout piped, in the folder `cwd` (if given: where it unpacks, so
    /// its command line names no folder).
    pub(crate) fn spawn(
        args: &[&std::ffi::OsStr],
        tarball: File,
        cwd: Option<&Path>,
    ) -> std::io::Result<Tar> {
        let mut command = Command::new("tar");
        if let Some(cwd) = cwd {
            command.current_dir(cwd);
        }
        let mut child = command
            .arg("--force-local")
            .args(args)
            .stdin(Stdio::from(tarball))
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()?;
        let stderr = child.stderr.take().map(|mut e| {
            std::thread::spawn(move || {
                let mut kept = Vec::new();
                let _ = (&mut e).take(STDERR_KEPT).read_to_end(&mut kept);
                // Drains the rest so tar never blocks on a full pipe.
                let _ = std::io::copy(&mut e, &mut std::io::sink());
                String::from_utf8_lossy(&kept).trim().to_string()
            })
        });
        Ok(Tar { child, stderr })
    }

    /// Its stdout (once).
    pub(crate) fn stdout(&mut self) -> Option<ChildStdout> {
        self.child.stdout.take()
    }

    /// Waits for it to end: its status and what it said on stderr.
    pub(crate) fn wait(mut self) -> std::io::Result<(ExitStatus, String)> {
        drop(self.child.stdout.take());
        let status = self.child.wait()?;
        let said = self
            .stderr
            .take()
            .and_then(|h| h.join().ok())
            .unwrap_or_default();
        Ok((status, said))
    }

    /// Kills it (by its pid) and waits for it.
    pub(crate) fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if let Some(h) = self.stderr.take() {
            let _ = h.join();
        }
    }
}

impl Drop for Tar {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
