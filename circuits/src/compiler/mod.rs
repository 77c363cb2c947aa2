//! The compiler front: ONNX import and calibration-driven quantization.

pub mod calibrate;
pub mod onnx;

pub use calibrate::{quantize_graph, CalibrationError, QuantOptions};
pub use onnx::{import, OnnxError};
