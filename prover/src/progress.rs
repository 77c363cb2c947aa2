//! Progress of the long steps of proving, reported to whoever drives the prover: the library says
//! what it is doing, the binary decides how to show it (spinners on a terminal, nothing in pipes).

use std::path::PathBuf;

/// A long step of proving.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    /// Making the parameters for `k` that zkinfer derives itself (the development SRS, IPA
    /// generators) on first use of this k, or for a cached file that failed its check, to be cached
    /// at `path`.
    MakingParams {
        /// What is made: `the development SRS` or `the IPA parameters`.
        what: &'static str,
        /// The circuit size.
        k: u32,
        /// Where they will be cached.
        path: PathBuf,
    },
    /// Generating the verifying and proving keys for a circuit of size `k`.
    Keygen {
        /// The circuit size.
        k: u32,
    },
    /// Proving one inference.
    Proving,
}

/// Receives the steps of proving as they start and end. Every method does nothing by default.
pub trait Progress {
    /// `step` starts.
    fn start(&self, _step: &Step) {}
    /// `step` is done.
    fn finish(&self, _step: &Step) {}
}

/// Progress that shows nothing (libraries, tests, benches).
pub struct Silent;

impl Progress for Silent {}
