#![warn(missing_docs)]
//! zkinfer's circuit compiler, one folder per stage of the pipeline:
//!
//! ```text
//! import (ONNX) ─▶ ir (float graph) ─▶ quantize ─▶ qgraph (integer semantics) ─▶ lower (blocks)
//!   ─▶ plan (rows, columns, k) ─▶ circuit (chips, model circuit) ; disclosure (what a proof reveals)
//!   artifacts (model file, inputs) ; setup (parameters, threads)
//! ```
//!
//! With the `compiler` feature (default) it also imports ONNX and quantizes; the verifier builds
//! without it.

pub mod artifacts;
pub mod circuit;
pub mod disclosure;
pub mod field;
#[cfg(feature = "compiler")]
pub mod import;
pub mod ir;
pub mod keys;
pub mod lower;
pub mod plan;
pub mod proof;
pub mod qgraph;
pub mod quantize;
pub mod setup;

pub use artifacts::model_file::{ModelFile, Visibilities, Visibility};
pub use artifacts::visibility::{InputVisibility, Revealed, VisibilityError};
pub use circuit::{public_inputs, with_shape, CircuitShape, InferenceCircuit};
pub use qgraph::{QuantGraph, Trace};
