//! How the binary shows the prover's progress: a line when the development SRS is made, a spinner for
//! key generation and proving on a terminal (indicatif hides it when stderr is no terminal), nothing
//! with `--json`.

use std::cell::RefCell;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};
use prover::progress::{Progress, Step};

/// The terminal's view of the prover's steps.
pub struct Terminal {
    quiet: bool,
    bar: RefCell<Option<ProgressBar>>,
}

impl Terminal {
    /// Progress on stderr, or none at all when `quiet`.
    pub fn new(quiet: bool) -> Self {
        Terminal {
            quiet,
            bar: RefCell::new(None),
        }
    }

    fn spin(&self, msg: String) {
        let bar = ProgressBar::new_spinner();
        bar.set_style(
            ProgressStyle::with_template("{spinner} {msg} {elapsed}").expect("valid template"),
        );
        bar.set_message(msg);
        bar.enable_steady_tick(Duration::from_millis(100));
        *self.bar.borrow_mut() = Some(bar);
    }
}

impl Progress for Terminal {
    fn start(&self, step: &Step) {
        if self.quiet {
            return;
        }
        match step {
            Step::MakingParams { what, k, path } => {
                eprintln!("making {what} for k = {k} (cached at {})", path.display())
            }
            Step::Keygen { k } => self.spin(format!("generating keys (k = {k})")),
            Step::Proving => self.spin("proving".into()),
        }
    }

    fn finish(&self, _step: &Step) {
        if let Some(bar) = self.bar.borrow_mut().take() {
            bar.finish_and_clear();
        }
    }
}
