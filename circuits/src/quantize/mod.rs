//! Quantization: the float graph becomes the quantized graph ([`crate::qgraph::QuantGraph`]), with
//! power-of-two scales chosen by calibration and a report of the error against float; the layout's
//! limb bits are chosen with it.

#[cfg(feature = "compiler")]
pub mod calibrate;
#[cfg(feature = "compiler")]
mod graph_walk;
#[cfg(feature = "compiler")]
mod layers;
#[cfg(feature = "compiler")]
pub mod pipeline;
pub mod report;

#[cfg(feature = "compiler")]
pub use calibrate::{quantize_graph, CalibrationError, QuantOptions};
#[cfg(feature = "compiler")]
pub use pipeline::{compile_graph, compile_int8, LayoutRequest, PipelineError};
