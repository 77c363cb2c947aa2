//! The compiler front: ONNX import and calibration-driven quantization.

pub mod calibrate;
pub mod onnx;
mod onnx_cnn;
mod onnx_deconv;
mod onnx_fold;
mod onnx_linear;
mod onnx_remap;
mod onnx_shapes;
pub mod pipeline;

pub use calibrate::{quantize_graph, CalibrationError, QuantOptions};
pub use onnx::{import, import_with, ImportOptions, OnnxError};
pub use pipeline::{compile_graph, LayoutRequest, PipelineError};
