//! The quantized graph and its reference evaluator.
//!
//! **The reference evaluator defines the semantics; the circuit proves exactly it.** Every value is an
//! integer at a power-of-two scale: a float `x` is represented by `round(x * 2^scale)`.

use serde::{Deserialize, Serialize};

use crate::ir::geom::ConvGeom;
use crate::ir::Shape;

mod acc_range;
mod arith;
mod eval;
pub mod ops;
pub mod packed;
pub mod requant;
pub mod threshold;

pub use arith::{activation_range, dequantize, linear_acc, quantize, rescale};
pub use eval::{EvalError, Trace, ACC_LIMIT};
pub use ops::{
    QAdd, QClip, QConv, QFunction, QLinear, QMaxPool, QOp, QRemap, QRequant, QRescale,
    QRescaleLeaky, QTable, QTableSum, QThreshold, MAX_SUM_COEFF, MAX_TABLE_SUM_VALUE,
};
pub use requant::{AffineQuant, RequantStep};
pub use threshold::ThresholdMap;

/// A layer of the quantized graph.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct QLayer {
    /// The ONNX node(s) it came from, for messages and reports.
    pub name: String,
    /// What the layer computes from the previous tensor.
    pub op: QOp,
    /// Scale (fractional bits) of this layer's output.
    pub out_scale: u32,
    /// Shape of the layer's output tensor.
    pub out_shape: Shape,
    /// The tensors the layer reads, in order (ids: 0 is the graph input, `k + 1` the output of layer
    /// `k`; each earlier than the layer). The op reads their concatenation. Empty means the previous
    /// tensor alone (a chain), and is not written, so chain models keep their digests.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub inputs: Vec<usize>,
}

impl QLayer {
    /// A layer that reads the previous tensor (a chain), at power-of-two scale `out_scale`.
    pub fn new(name: &str, op: QOp, out_scale: u32, shape: Vec<usize>) -> Self {
        QLayer {
            name: name.to_string(),
            op,
            out_scale,
            out_shape: Shape(shape),
            inputs: vec![],
        }
    }

    /// A layer of an int8 model (no power-of-two scale: the output scale is 0).
    pub fn int8(name: &str, op: QOp, shape: Vec<usize>, inputs: Vec<usize>) -> Self {
        QLayer {
            name: name.to_string(),
            op,
            out_scale: 0,
            out_shape: Shape(shape),
            inputs,
        }
    }
}

/// The remap that pads the input of a window op (`geom`, channel-first) by its padding with the
/// constant `value` (an int8 model's zero point): the op, its output shape, and the geometry over
/// the padded tensor (no padding). `None` when there is no padding.
pub fn padding_layer(geom: ConvGeom, value: i64) -> Option<(QOp, Vec<usize>, ConvGeom)> {
    let [top, left, bottom, right] = geom.pads;
    if top + left + bottom + right == 0 {
        return None;
    }
    let (c, h, w) = (geom.in_c, geom.in_h, geom.in_w);
    let (ph, pw) = (h + top + bottom, w + left + right);
    let mut map = Vec::with_capacity(c * ph * pw);
    for ch in 0..c {
        for y in 0..ph {
            for x in 0..pw {
                let inside = (top..top + h).contains(&y) && (left..left + w).contains(&x);
                map.push(match inside {
                    true => QPick::Input((ch * h + y - top) * w + x - left),
                    false => QPick::Const(value),
                });
            }
        }
    }
    let padded = ConvGeom {
        in_h: ph,
        in_w: pw,
        pads: [0; 4],
        ..geom
    };
    Some((QOp::Remap(QRemap::new(map)), vec![1, c, ph, pw], padded))
}

/// A quantized model: the integer semantics the circuit proves, one input tensor through a chain of
/// layers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuantGraph {
    /// Shape of the model's input tensor.
    pub input_shape: Shape,
    /// Fractional bits of the input: a float `x` is fed as `round(x * 2^input_scale)`.
    pub input_scale: u32,
    /// Bits per limb of the range tables: activations after a rescale lie in
    /// `[-2^(2L-1), 2^(2L))`, and a rescale shifts by at most `L` bits.
    pub limb_bits: u32,
    /// The layers, in order: layer `i` reads the output of layer `i - 1` (layer 0 the input).
    pub layers: Vec<QLayer>,
    /// An int8 model's own quantization of its input and output (the scales above are then 0):
    /// inputs are int8, outputs the model's int8 output tensor. Absent for a model quantized from
    /// float, and not written then, so those files keep their digests.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub int8: Option<Int8Io>,
}

/// The quantization of an int8 model's input and output tensors.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Int8Io {
    /// The input tensor's scale and zero point.
    pub input: AffineQuant,
    /// The output tensor's scale and zero point.
    pub output: AffineQuant,
    /// How the runtime rounds a float input to int8. Absent: TFLite's.
    #[serde(default, skip_serializing_if = "InputRounding::is_tflite")]
    pub rounding: InputRounding,
    /// The model's tensors are uint8, held as int8 (`v - 128`; zero points likewise): its inputs and
    /// outputs are read and shown as uint8. Absent means int8.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub unsigned: bool,
}

/// How a float input is quantized (outside the proof: the proven input is the int8 tensor).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum InputRounding {
    /// TFLite's QUANTIZE: float32 `x / scale` rounded half away from zero.
    #[default]
    HalfAwayFromZero,
    /// onnxruntime's QuantizeLinear: float32 `x / scale` rounded half to even.
    HalfToEven,
}

impl InputRounding {
    fn is_tflite(&self) -> bool {
        *self == InputRounding::HalfAwayFromZero
    }
}

impl Int8Io {
    /// A float input value as the model's own input quantization makes it (held signed).
    pub fn quantize(&self, x: f64) -> i64 {
        match self.rounding {
            InputRounding::HalfAwayFromZero => self.input.quantize_int8(x),
            InputRounding::HalfToEven => requant::ort_quantize_linear(
                x as f32,
                self.input.scale as f32,
                self.input.zero_point,
                (-128, 127),
            ),
        }
    }

    /// The offset from the held (signed) value to the model's own byte: 128 for uint8.
    pub fn byte_offset(&self) -> i64 {
        128 * self.unsigned as i64
    }
}

/// Where an element of a remapped tensor comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum QPick {
    /// The input element at this flat (row-major) index.
    Input(usize),
    /// A constant, already at the tensor's scale (padding).
    Const(i64),
}

/// A graph's weights and biases (see [`QuantGraph::params`]).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Params {
    /// Every Linear and Conv weight, layer by layer.
    pub weights: Vec<i64>,
    /// Every Linear and Conv bias, layer by layer.
    pub biases: Vec<i64>,
}

impl QuantGraph {
    /// Fractional bits of the model's output (the last layer's, or the input's when there are
    /// none).
    pub fn output_scale(&self) -> u32 {
        self.layers
            .last()
            .map(|l| l.out_scale)
            .unwrap_or(self.input_scale)
    }

    /// Shape of the model's output tensor.
    pub fn output_shape(&self) -> &Shape {
        self.layers
            .last()
            .map(|l| &l.out_shape)
            .unwrap_or(&self.input_shape)
    }

    /// The real value an output integer stands for (the int8 output's own quantization, or the
    /// output's power-of-two scale).
    pub fn dequantize_output(&self, q: i64) -> f64 {
        match &self.int8 {
            Some(io) => io.output.dequantize(q),
            None => dequantize(q, self.output_scale()),
        }
    }

    /// The real value an input integer stands for.
    pub fn dequantize_input(&self, q: i64) -> f64 {
        match &self.int8 {
            Some(io) => io.input.dequantize(q),
            None => dequantize(q, self.input_scale),
        }
    }

    /// Number of input elements.
    pub fn input_len(&self) -> usize {
        self.input_shape.numel()
    }

    /// Number of output elements.
    pub fn output_len(&self) -> usize {
        self.output_shape().numel()
    }

    /// The tensor ids layer `i` reads (see [`QLayer::inputs`]).
    pub fn layer_inputs(&self, i: usize) -> Vec<usize> {
        match self.layers.get(i) {
            Some(l) if !l.inputs.is_empty() => l.inputs.clone(),
            _ => vec![i],
        }
    }

    /// Elements of tensor `t` (0: the input, `k + 1`: layer `k`'s output).
    pub fn tensor_len(&self, t: usize) -> usize {
        match t {
            0 => self.input_len(),
            t => self.layers[t - 1].out_shape.numel(),
        }
    }

    /// Multiply-accumulates of all Linear and Conv layers.
    pub fn macs(&self) -> usize {
        self.layers.iter().map(|l| l.op.macs()).sum()
    }

    /// The model's parameters, in the order hashed weights are hashed: every Linear and Conv
    /// weight in layer order, then every bias in layer order.
    pub fn params(&self) -> Params {
        let mut p = Params::default();
        for (weight, bias) in self.layers.iter().filter_map(|l| l.op.params()) {
            p.weights.extend_from_slice(weight);
            p.biases.extend_from_slice(bias);
        }
        p
    }

    /// Parameter counts `(weights, biases)` without copying them.
    pub fn param_counts(&self) -> (usize, usize) {
        self.layers
            .iter()
            .filter_map(|l| l.op.params())
            .fold((0, 0), |(w, b), (weight, bias)| {
                (w + weight.len(), b + bias.len())
            })
    }

    /// Set every weight and bias to zero (a stripped model keeps only their shapes).
    pub fn zero_params(&mut self) {
        for (weight, bias) in self.layers.iter_mut().filter_map(|l| l.op.params_mut()) {
            weight
                .iter_mut()
                .chain(bias.iter_mut())
                .for_each(|v| *v = 0);
        }
    }

    /// The function table of the circuit: `(tag, x, y)` for every table of every Function, Table
    /// and TableSum layer (two), tags from 1 in layer order (see [`crate::lower`]).
    pub fn function_table(&self) -> Vec<(i64, i64, i64)> {
        let mut rows = Vec::new();
        let functions = self.layers.iter().flat_map(|l| match &l.op {
            QOp::Function(QFunction { domain, table, .. }) => vec![(-*domain, table)],
            QOp::Table(QTable { lo, table }) => vec![(*lo, table)],
            QOp::TableSum(QTableSum { lo, tables, .. }) => {
                tables.iter().map(|t| (*lo, t)).collect()
            }
            _ => vec![],
        });
        for (tag, (lo, table)) in functions.enumerate() {
            for (i, y) in table.iter().enumerate() {
                rows.push((tag as i64 + 1, lo + i as i64, *y));
            }
        }
        rows
    }

    /// The tag of layer `i`'s (first) table in [`Self::function_table`] (a Function, Table or
    /// TableSum layer; a TableSum's second table has the next tag).
    pub fn function_tag(&self, i: usize) -> i64 {
        1 + self.layers[..i]
            .iter()
            .map(|l| l.op.function_tables())
            .sum::<usize>() as i64
    }

    /// Every threshold map of the graph, in layer order: map `t` has tag `t + 1` in
    /// [`Self::threshold_table`].
    pub fn threshold_maps(&self) -> Vec<&ThresholdMap> {
        self.layers
            .iter()
            .flat_map(|l| match &l.op {
                QOp::Threshold(QThreshold { maps, .. }) => maps.iter().collect(),
                _ => vec![],
            })
            .collect()
    }

    /// The threshold table of the circuit: `(tag, y, lo, hi)` for every interval of every map.
    pub fn threshold_table(&self) -> Vec<(i64, i64, i64, i64)> {
        let mut rows = Vec::new();
        for (t, map) in self.threshold_maps().into_iter().enumerate() {
            for (y, lo, hi) in map.table_rows() {
                rows.push((t as i64 + 1, y, lo, hi));
            }
        }
        rows
    }

    /// The tags of layer `i`'s elements (a Threshold layer) in [`Self::threshold_table`]: element
    /// `index` has tag `tags(index)`. The maps before the layer are counted once.
    pub fn threshold_tags(&self, i: usize) -> impl Fn(usize) -> i64 + '_ {
        let before: usize = self.layers[..i]
            .iter()
            .map(|l| match &l.op {
                QOp::Threshold(QThreshold { maps, .. }) => maps.len(),
                _ => 0,
            })
            .sum();
        let op = &self.layers[i].op;
        move |index| {
            let own = match op {
                QOp::Threshold(t) => t.map_index(index),
                _ => 0,
            };
            1 + (before + own) as i64
        }
    }

    /// Whether the graph has threshold maps (the circuit's threshold rows).
    pub fn has_threshold(&self) -> bool {
        self.layers
            .iter()
            .any(|l| matches!(l.op, QOp::Threshold(_)))
    }

    /// Whether the graph has int8 requantizations (the circuit's requant rows).
    pub fn has_requant(&self) -> bool {
        self.layers.iter().any(|l| matches!(l.op, QOp::Requant(_)))
    }

    /// The graph with every requantization as threshold maps ([`QRequant::as_threshold`]): the
    /// same outputs, proven by threshold rows instead of requant rows. `None` when it has no
    /// requantization or one that thresholds cannot express.
    pub fn requants_as_thresholds(&self) -> Option<QuantGraph> {
        if !self.has_requant() {
            return None;
        }
        let mut graph = self.clone();
        for layer in &mut graph.layers {
            if let QOp::Requant(r) = &layer.op {
                layer.op = QOp::Threshold(r.as_threshold()?);
            }
        }
        Some(graph)
    }

    /// Range `[min, max)` of a rescaled activation `q`.
    pub fn activation_range(&self) -> (i64, i64) {
        activation_range(self.limb_bits)
    }
}

#[cfg(test)]
pub(crate) mod tests;
