//! Import: a model file becomes the float graph ([`crate::ir::Graph`]). Each format is known here
//! only: ONNX today (through tract-onnx's protobuf types).

pub mod onnx;

pub use onnx::{import, import_with, ImportOptions, OnnxError};
