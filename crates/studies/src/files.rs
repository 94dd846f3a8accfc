//! Reading input files defensively: only regular files are opened (a FIFO
//! named like an input would block, a link to a device never end), and
//! whole-file reads stop at a bound that names the kind of file expected.

use std::fs::File;
use std::io::Read;
use std::path::Path;

/// Opens `path` for reading if it is (or links to) a regular file: a FIFO
/// named like an input would block, a link to a device never end.
///
/// # Errors
/// The open's error, or an [`std::io::ErrorKind::InvalidInput`] one saying
/// what the path is instead (e.g. "not a regular file (a FIFO)").
pub fn open_regular(path: &Path) -> std::io::Result<File> {
    let not_regular = |t: std::fs::FileType| {
        let what = if t.is_dir() {
            "a folder"
        } else {
            #[cfg(unix)]
            {
                use std::os::unix::fs::FileTypeExt;
                if t.is_fifo() {
                    "a FIFO"
                } else if t.is_char_device() {
                    "a character device"
                } else if t.is_block_device() {
                    "a block device"
                } else if t.is_socket() {
                    "a socket"
                } else {
                    "of another kind"
                }
            }
            #[cfg(not(unix))]
            "of another kind"
        };
        std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("not a regular file ({what})"),
        )
    };
    let meta = std::fs::metadata(path)?;
    if !meta.is_file() {
        return Err(not_regular(meta.file_type()));
    }
    let file = File::open(path)?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(not_regular(meta.file_type()));
    }
    Ok(file)
}

/// Reads the rest of `reader` after `read` (bytes already read from it),
/// at most `limit` bytes in all.
///
/// # Errors
/// The read's error, or an [`std::io::ErrorKind::InvalidData`] one saying
/// the file is larger than `limit`, so not `what` (e.g. "an ombt
/// controller log").
pub fn read_at_most(
    reader: impl Read,
    mut read: Vec<u8>,
    limit: u64,
    what: &str,
) -> std::io::Result<Vec<u8>> {
    let room = (limit + 1).saturating_sub(read.len() as u64);
    reader.take(room).read_to_end(&mut read)?;
    if read.len() as u64 > limit {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("larger than {} MiB, the most read of {what}", limit >> 20),
        ));
    }
    Ok(read)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_over_the_limit_is_refused_and_one_at_it_is_read() {
        let at = read_at_most(&b"cdef"[..], b"ab".to_vec(), 6, "x").unwrap();
        assert_eq!(at, b"abcdef");
        let e = read_at_most(&b"cdefg"[..], b"ab".to_vec(), 6, "a log").unwrap_err();
        assert_eq!(e.kind(), std::io::ErrorKind::InvalidData);
        assert!(e.to_string().contains("the most read of a log"), "{e}");
    }

    #[test]
    fn an_endless_device_is_refused_before_any_read() {
        let e = open_regular(Path::new("/dev/zero")).unwrap_err();
        assert!(e.to_string().contains("a character device"), "{e}");
    }
}
