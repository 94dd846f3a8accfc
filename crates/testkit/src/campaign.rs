//! Temporary campaigns for end-to-end tests: a folder laid out file by
//! file, or made of real runs copied under new names, then damaged on
//! purpose.
//!
//! ```
//! use expost_testkit::campaign::TempCampaign;
//! let campaign = TempCampaign::new()
//!     .file("exp_a/exp_a_1/event_log.json", "[]")
//!     .file("exp_a/exp_a_1/iperf/client_1.json", "{");
//! assert!(campaign.path().join("exp_a/exp_a_1/iperf").is_dir());
//! ```

use std::fs;
use std::path::{Path, PathBuf};

/// A campaign folder in a temporary directory, removed when dropped.
#[derive(Debug)]
pub struct TempCampaign {
    dir: tempfile::TempDir,
}

impl Default for TempCampaign {
    fn default() -> Self {
        Self::new()
    }
}

impl TempCampaign {
    /// An empty campaign folder.
    ///
    /// # Panics
    /// When no temporary folder can be made (a test cannot go on).
    pub fn new() -> TempCampaign {
        TempCampaign {
            dir: tempfile::tempdir().expect("a temporary folder"),
        }
    }

    /// The campaign folder.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// The campaign folder as text, for command lines.
    pub fn arg(&self) -> String {
        self.path().to_string_lossy().into_owned()
    }

    /// Writes `contents` to `rel` (folders made as needed; an existing
    /// file is replaced).
    ///
    /// # Panics
    /// When the file cannot be written.
    pub fn file(self, rel: &str, contents: impl AsRef<[u8]>) -> TempCampaign {
        let path = self.path().join(rel);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).expect("folders of a campaign file");
        }
        fs::write(&path, contents).expect("a campaign file");
        self
    }

    /// Copies the folder `from` (e.g. a real run) to `rel`, recursively.
    ///
    /// # Panics
    /// When `from` cannot be read or the copy written.
    pub fn copy(self, from: &Path, rel: &str) -> TempCampaign {
        copy_tree(from, &self.path().join(rel));
        self
    }

    /// Removes the file or folder `rel`.
    ///
    /// # Panics
    /// When it does not exist.
    pub fn remove(self, rel: &str) -> TempCampaign {
        let path = self.path().join(rel);
        if path.is_dir() {
            fs::remove_dir_all(&path).expect("a campaign folder to remove");
        } else {
            fs::remove_file(&path).expect("a campaign file to remove");
        }
        self
    }

    /// Cuts the file `rel` to its first `bytes` bytes (a run that was
    /// killed while writing).
    ///
    /// # Panics
    /// When the file cannot be read or written.
    pub fn truncate(self, rel: &str, bytes: usize) -> TempCampaign {
        let path = self.path().join(rel);
        let mut contents = fs::read(&path).expect("a campaign file to cut");
        contents.truncate(bytes);
        fs::write(&path, contents).expect("the cut file");
        self
    }
}

/// Copies the folder tree `from` to `to`.
fn copy_tree(from: &Path, to: &Path) {
    fs::create_dir_all(to).expect("a folder of the copy");
    let entries = fs::read_dir(from).unwrap_or_else(|e| panic!("{}: {e}", from.display()));
    for entry in entries.flatten() {
        let target: PathBuf = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), &target).expect("a copied file");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lays_out_copies_damages_and_removes() {
        let source = TempCampaign::new()
            .file("run/a.txt", "abcdef")
            .file("run/sub/b.txt", "b");
        let campaign = TempCampaign::new()
            .copy(&source.path().join("run"), "x/x_1")
            .truncate("x/x_1/a.txt", 3)
            .remove("x/x_1/sub")
            .file("x/x_2/a.txt", "z");
        let read = |rel: &str| fs::read_to_string(campaign.path().join(rel)).unwrap();
        assert_eq!(read("x/x_1/a.txt"), "abc");
        assert_eq!(read("x/x_2/a.txt"), "z");
        assert!(!campaign.path().join("x/x_1/sub").exists());
    }
}
