#![warn(missing_docs)]
//! zkinfer's verifier: the proof-bundle format and its verification.
//!
//! Depends on the circuit definition only (not on tract, the quantizer or the prover): it rebuilds the
//! verifying key from the model file it is given and checks the proof against the public values.

pub mod bundle;
pub mod cli;
pub mod clock;
pub mod outputs;
pub mod report;
pub mod verify;

pub use bundle::{BundleError, ProofBundle, PROOF_FORMAT};
pub use verify::{
    verify_bundle, verify_bundle_with, verify_bytes, BatchOutcome, ModelVerifier, Unreadable,
    Verdict, VerifyError,
};
