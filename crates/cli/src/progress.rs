//! Progress bars on long work: drawn on stderr when it is a terminal and
//! `--quiet` was not given, invisible otherwise.

use expost_studies::provision::FetchProgress;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// A bar of `total` steps labelled `what`.
pub fn bar(total: u64, what: &str, quiet: bool) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
    if quiet {
        bar.set_draw_target(ProgressDrawTarget::hidden());
    }
    let style = ProgressStyle::with_template("{msg:>10} [{bar:30}] {pos}/{len} {elapsed}")
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ");
    bar.set_style(style);
    bar.set_message(what.to_string());
    bar
}

/// A counter of things fetched (the total unknown until the end), cleared
/// when done.
pub struct Counter(ProgressBar);

impl Counter {
    /// A counter of `what`.
    pub fn new(what: &str, quiet: bool) -> Counter {
        if quiet {
            return Counter(ProgressBar::hidden());
        }
        let bar = ProgressBar::new_spinner();
        bar.set_message(what.to_string());
        if let Ok(style) = ProgressStyle::with_template("{spinner} {pos} {msg} {elapsed}") {
            bar.set_style(style);
        }
        Counter(bar)
    }
}

impl FetchProgress for Counter {
    fn fetched(&self, entities: usize) {
        self.0.set_position(entities as u64);
    }

    fn done(&self) {
        self.0.finish_and_clear();
    }
}
