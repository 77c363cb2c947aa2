//! The quantization report: what quantization costs in faithfulness, layer by layer.

use serde::{Deserialize, Serialize};

/// One layer's row of the quantization report.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LayerReport {
    /// Name of the layer (the ONNX node it came from; `.rescale` appended for an inserted rescale).
    pub name: String,
    /// Op kind (`linear`, `rescale+relu`, or the table function's name).
    pub kind: String,
    /// The layer's output shape (absent in files made before it was recorded).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub shape: Vec<usize>,
    /// Fractional bits of the layer's output.
    pub out_scale: u32,
    /// Fractional bits of the weights, for Linear and Conv.
    pub weight_scale: Option<u32>,
    /// Bits the rescale drops, for rescales.
    pub shift: Option<u32>,
    /// Largest |float value| of this layer's output over the calibration set.
    pub float_max_abs: f64,
    /// Largest |dequantized - float| of this layer's output over the calibration set.
    pub max_abs_error: f64,
}

/// The quantization report: scales chosen and the error against the float model, layer by layer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct QuantReport {
    /// Calibration samples the scales were chosen on.
    pub samples: usize,
    /// Where they came from (a file name, or the default).
    pub calibration: String,
    /// Fractional bits of the model's input.
    pub input_scale: u32,
    /// One row per quantized layer, in order.
    pub layers: Vec<LayerReport>,
    /// Largest |dequantized - float| of the model output over the calibration set.
    pub output_max_abs_error: f64,
    /// Fraction of samples whose quantized argmax equals float's (outputs with more than one value).
    pub top1_agreement: Option<f64>,
    /// Trailing ONNX ops not proven (Softmax, ArgMax): outputs are the scores before them. Absent
    /// when empty (so files without it keep their digest).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unproven_tail: Vec<String>,
}

impl QuantReport {
    /// The calibrated table of a model quantized from float.
    fn fmt_float(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "quantization report ({} calibration samples from {}; input scale 2^{})",
            self.samples, self.calibration, self.input_scale
        )?;
        writeln!(
            f,
            "  {:<24} {:<13} {:<14} {:>6} {:>7} {:>6} {:>12} {:>12}",
            "layer", "kind", "shape", "scale", "w-scale", "shift", "float max", "max error"
        )?;
        for l in &self.layers {
            let opt = |v: Option<u32>| v.map(|v| v.to_string()).unwrap_or_else(|| "-".into());
            writeln!(
                f,
                "  {:<24} {:<13} {:<14} {:>6} {:>7} {:>6} {:>12.5} {:>12.6}",
                short(&l.name, 60),
                l.kind,
                crate::ir::Shape(l.shape.clone()).to_string(),
                l.out_scale,
                opt(l.weight_scale),
                opt(l.shift),
                l.float_max_abs,
                l.max_abs_error
            )?;
        }
        write!(
            f,
            "  output max abs error vs float: {:.6}",
            self.output_max_abs_error
        )?;
        if let Some(a) = self.top1_agreement {
            write!(f, "; top-1 agreement with float: {:.2}%", a * 100.0)?;
        }
        Ok(())
    }

    /// The report of an int8 model: its own quantization, nothing calibrated, no float reference.
    pub fn int8(graph: &crate::qgraph::QuantGraph, unproven_tail: Vec<String>) -> Self {
        QuantReport {
            samples: 0,
            calibration: "none: an int8 model keeps its own quantization (the runtime's integers)"
                .into(),
            input_scale: 0,
            layers: graph
                .layers
                .iter()
                .map(|l| LayerReport {
                    name: l.name.clone(),
                    kind: l.op.kind().into(),
                    shape: l.out_shape.0.clone(),
                    out_scale: 0,
                    weight_scale: None,
                    shift: None,
                    float_max_abs: 0.0,
                    max_abs_error: 0.0,
                })
                .collect(),
            output_max_abs_error: 0.0,
            top1_agreement: None,
            unproven_tail,
        }
    }
}

/// A layer name cut to `width` characters for a table (TFLite names join many tensors with `;`).
fn short(name: &str, width: usize) -> String {
    match name.chars().count() > width {
        true => {
            let head: String = name.chars().take(width - 1).collect();
            format!("{head}…")
        }
        false => name.to_string(),
    }
}

impl std::fmt::Display for QuantReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.samples == 0 && self.input_scale == 0 {
            // An int8 model: nothing was quantized, so there is no error to report.
            writeln!(f, "quantization: {}", self.calibration)?;
            writeln!(f, "  {:<40} {:<15} {:<14}", "layer", "kind", "shape")?;
            for l in &self.layers {
                let shape = crate::ir::Shape(l.shape.clone()).to_string();
                writeln!(
                    f,
                    "  {:<40} {:<15} {:<14}",
                    short(&l.name, 40),
                    l.kind,
                    shape
                )?;
            }
            write!(
                f,
                "  outputs are the model's own integers (int8; uint8 held as int8)"
            )?;
        } else {
            self.fmt_float(f)?;
        }
        if !self.unproven_tail.is_empty() {
            write!(
                f,
                "\n  note: the model's final {} is not proven (it does not change the top class): \
                 outputs are the scores before it",
                self.unproven_tail.join(" + ")
            )?;
        }
        Ok(())
    }
}
