#![warn(missing_docs)]
//! zkinfer's prover: compiling ONNX to a `.zkm`, key generation, witness generation and proving.
//! The `zkinfer` binary is a thin clap layer over this library.

pub mod atomic;
pub mod compile;
pub mod key_cache;
pub mod machine_speed;
pub mod memory;
pub mod progress;
pub mod prove;
pub mod salt;
pub mod srs_get;

pub use compile::{compile_model, CompileError, CompileOptions};
pub use prove::{ProveError, Prover};
