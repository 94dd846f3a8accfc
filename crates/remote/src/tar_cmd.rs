//! Running the system `tar` on a tarball safely: the tarball is opened
//! here (only if it is a regular file, so a FIFO named like one cannot
//! block) and given to `tar` on its stdin, so no path is ever read by
//! `tar` as a remote archive (`host:file`) or as an option (`-x…`);
//! `--force-local` is passed as well. The tarball is gunzipped here and
//! the tar stream fed to `tar` is counted: it stops at a bound, so a
//! decompression bomb costs no more than the bound, whatever `tar` is
//! asked to do (list, look for one file, unpack). `tar`'s stderr is read
//! on its own thread (so it cannot fill its pipe) and kept up to a bound.

use std::fs::File;
use std::io::{BufReader, Read, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, ChildStdout, Command, ExitStatus, Stdio};
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

/// A running `tar` reading a gzipped tarball's tar stream on its stdin.
pub(crate) struct Tar {
    child: Child,
    stderr: Option<JoinHandle<String>>,
    feeder: Option<JoinHandle<Fed>>,
}

/// How feeding the tar stream to `tar` ended.
#[derive(Debug, Default)]
pub(crate) struct Fed {
    /// The stream went past the bound and was cut there.
    pub(crate) over_limit: bool,
    /// The tarball could not be gunzipped: why.
    pub(crate) gzip_error: Option<String>,
}

/// What `tar` did: its status, what it said on stderr, and how its input ended.
pub(crate) struct Finished {
    pub(crate) status: ExitStatus,
    pub(crate) said: String,
    pub(crate) fed: Fed,
}

impl Tar {
    /// Runs `tar --force-local -f - ARGS` with `tarball` gunzipped on its
    /// stdin (at most `max_stream` bytes of tar stream) and its stdout
    /// piped, in the folder `cwd` (if given: where it unpacks, so its
    /// command line names no folder). `ARGS` must not ask `tar` to
    /// decompress.
    pub(crate) fn spawn(
        args: &[&std::ffi::OsStr],
        tarball: File,
        cwd: Option<&Path>,
        max_stream: u64,
    ) -> std::io::Result<Tar> {
        let mut command = Command::new("tar");
        if let Some(cwd) = cwd {
            command.current_dir(cwd);
        }
        let mut child = command
            .args(["--force-local", "-f", "-"])
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()?;
        let feeder = child
            .stdin
            .take()
            .map(|stdin| std::thread::spawn(move || feed(tarball, stdin, max_stream)));
        let stderr = child.stderr.take().map(|mut e| {
            std::thread::spawn(move || {
                let mut kept = Vec::new();
                let _ = (&mut e).take(STDERR_KEPT).read_to_end(&mut kept);
                // Drains the rest so tar never blocks on a full pipe.
                let _ = std::io::copy(&mut e, &mut std::io::sink());
                String::from_utf8_lossy(&kept).trim().to_string()
            })
        });
        Ok(Tar {
            child,
            stderr,
            feeder,
        })
    }

    /// Its stdout (once).
    pub(crate) fn stdout(&mut self) -> Option<ChildStdout> {
        self.child.stdout.take()
    }

    /// Waits for it to end: its status, what it said on stderr and how
    /// its input ended.
    pub(crate) fn wait(mut self) -> std::io::Result<Finished> {
        drop(self.child.stdout.take());
        let status = self.child.wait()?;
        let said = self
            .stderr
            .take()
            .and_then(|h| h.join().ok())
            .unwrap_or_default();
        let fed = self
            .feeder
            .take()
            .and_then(|h| h.join().ok())
            .unwrap_or_default();
        Ok(Finished { status, said, fed })
    }

    /// Kills it (by its pid) and waits for it.
    pub(crate) fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if let Some(h) = self.stderr.take() {
            let _ = h.join();
        }
        if let Some(h) = self.feeder.take() {
            let _ = h.join();
        }
    }
}

impl Finished {
    /// Why `tar` failed, in words: the gzip error or the cut stream first
    /// (`tar` then only says the archive ended early).
    pub(crate) fn failure(&self, limit: u64) -> Option<String> {
        if let Some(e) = &self.fed.gzip_error {
            return Some(format!("not a readable gzip file: {e}"));
        }
        if self.fed.over_limit {
            return Some(format!(
                "it decompresses to more than {limit} bytes, the limit"
            ));
        }
        (!self.status.success()).then(|| self.said.clone())
    }
}

/// Gunzips `tarball` into `tar`'s stdin, at most `max_stream` bytes; `tar`
/// closing its end early (it found what it looked for) is no error.
fn feed(tarball: File, mut stdin: ChildStdin, max_stream: u64) -> Fed {
    let decoder = flate2::read::MultiGzDecoder::new(BufReader::with_capacity(1 << 16, tarball));
    let mut limited = decoder.take(max_stream);
    let mut buffer = vec![0u8; 1 << 16];
    let mut fed = Fed::default();
    loop {
        let n = match limited.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => {
                fed.gzip_error = Some(e.to_string());
                return fed;
            }
        };
        if stdin.write_all(&buffer[..n]).is_err() {
            return fed;
        }
    }
    // At the bound: one more byte means the stream was cut.
    let mut decoder = limited.into_inner();
    fed.over_limit = matches!(decoder.read(&mut [0u8; 1]), Ok(1));
    fed
}

impl Drop for Tar {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
