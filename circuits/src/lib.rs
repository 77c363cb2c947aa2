//! zkinfer's circuit compiler: float IR, quantized graph and reference evaluator, halo2 chips,
//! layout planning, the model circuit, and the compiled-model file format.
//!
//! With the `compiler` feature (default) it also imports ONNX and quantizes; the verifier builds
//! without it.

pub mod blocks;
pub mod chips;
pub mod circuit;
pub mod field;
pub mod geom;
pub mod hashing;
mod hidden;
pub mod input;
pub mod instance;
pub mod ir;
pub mod layout;
pub mod model_file;
mod pack_rows;
pub mod params_cache;
pub mod quant;
pub mod report;
pub mod threads;

#[cfg(feature = "compiler")]
pub mod compiler;

pub use circuit::{public_inputs, with_shape, CircuitShape, InferenceCircuit};
pub use model_file::{ModelFile, Visibilities, Visibility};
pub use quant::{QuantGraph, Trace};
