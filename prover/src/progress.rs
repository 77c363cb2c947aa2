//! Progress on a terminal for long steps; silent in pipes (indicatif hides when stderr is no terminal).

use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

/// A spinner with a message, for a step whose length is unknown. Finish it with `done`.
pub fn spinner(quiet: bool, msg: impl Into<String>) -> ProgressBar {
    if quiet {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new_spinner();
    bar.set_style(
        ProgressStyle::with_template("{spinner} {msg} {elapsed}").expect("valid template"),
    );
    bar.set_message(msg.into());
    bar.enable_steady_tick(Duration::from_millis(100));
    bar
}
