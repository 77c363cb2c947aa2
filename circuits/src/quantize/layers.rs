//! The quantized layers as calibration builds them: each layer, the float node it is measured
//! against, and its row of the report; the tensor the next layer reads.

use crate::ir::Shape;
use crate::qgraph::{QConv, QFunction, QLayer, QLinear, QOp, QRescale, QRescaleLeaky};
use crate::quantize::calibrate::CalibrationError;
use crate::quantize::report::LayerReport;

/// The quantized layers being built, each with the float node it is measured against and its row of
/// the report.
pub(super) struct Layers {
    pub(super) limb_bits: u32,
    /// The quantized tensor the next layer reads (0: the input, `k + 1`: layer k's output).
    pub(super) current: usize,
    pub(super) layers: Vec<QLayer>,
    /// The float node each layer is measured against (none for a rescale of the input).
    pub(super) float_ref: Vec<Option<usize>>,
    pub(super) reports: Vec<LayerReport>,
}

impl Layers {
    pub(super) fn new(limb_bits: u32) -> Self {
        Layers {
            limb_bits,
            current: 0,
            layers: Vec::new(),
            float_ref: Vec::new(),
            reports: Vec::new(),
        }
    }

    /// Push a layer reading the current tensor; it becomes the current one.
    pub(super) fn push(
        &mut self,
        name: &str,
        op: QOp,
        out_scale: u32,
        shape: &Shape,
        float_idx: usize,
    ) {
        let inputs = match self.current == self.layers.len() {
            true => vec![],
            false => vec![self.current],
        };
        self.push_reading(name, op, out_scale, shape, Some(float_idx), inputs);
    }

    /// Push a layer reading `inputs` (empty: the previous layer's output); it becomes the current
    /// tensor.
    pub(super) fn push_reading(
        &mut self,
        name: &str,
        op: QOp,
        out_scale: u32,
        shape: &Shape,
        float_idx: Option<usize>,
        inputs: Vec<usize>,
    ) {
        let (weight_scale, shift) = match &op {
            QOp::Linear(QLinear { weight_scale, .. }) | QOp::Conv(QConv { weight_scale, .. }) => {
                (Some(*weight_scale), None)
            }
            QOp::Rescale(QRescale { shift, .. })
            | QOp::RescaleLeaky(QRescaleLeaky { shift, .. }) => (None, Some(*shift)),
            _ => (None, None),
        };
        let kind = match &op {
            QOp::Function(QFunction { func, .. }) => func.clone(),
            op => op.kind().to_string(),
        };
        self.reports.push(LayerReport {
            name: name.into(),
            kind,
            shape: Vec::new(),
            out_scale,
            weight_scale,
            shift,
            float_max_abs: 0.0,
            max_abs_error: 0.0,
        });
        self.layers.push(QLayer {
            name: name.into(),
            op,
            out_scale,
            out_shape: shape.clone(),
            inputs,
        });
        self.float_ref.push(float_idx);
        self.current = self.layers.len();
    }

    /// A rescale from `acc_scale` down to `out_scale` (at most the limb bits); returns the scale reached.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn rescale(
        &mut self,
        name: &str,
        float_idx: impl Into<Option<usize>>,
        acc_scale: u32,
        out_scale: u32,
        relu: bool,
        shape: &Shape,
    ) -> Result<u32, CalibrationError> {
        let out_scale = out_scale.min(acc_scale);
        let shift = acc_scale - out_scale;
        if shift > self.limb_bits {
            return Err(CalibrationError::Range {
                node: name.into(),
                limb_bits: self.limb_bits,
            });
        }
        let inputs = match self.current == self.layers.len() {
            true => vec![],
            false => vec![self.current],
        };
        let op = QOp::Rescale(QRescale { shift, relu });
        self.push_reading(name, op, out_scale, shape, float_idx.into(), inputs);
        Ok(out_scale)
    }
}
