//! Full-integer int8 TFLite → [`QuantGraph`], keeping the model's own integers.
//!
//! No calibration and no re-quantization: weights, zero points, int32 biases and per-channel scales
//! are the file's, and every op computes what TFLite's reference kernels compute (see
//! [`crate::qgraph::requant`] for the requantization, [`ops`] for each op). As in the float importer,
//! 4-D activations are held channel-first inside the graph; the input and output keep TFLite's order.
//!
//! Zero points: a convolution's `Σ (x - zp) w` is `Σ x w - zp Σ w`, so the input's zero point moves
//! into the int32 bias; padding is done beforehand with the value `zp` (a row-free remap), which
//! the runtime's "skip the tap" equals once the zero point is subtracted.

mod elementwise;
mod hard_swish;
mod layout_ops;
mod ops;

pub use ops::INT8_SUPPORTED;

use std::collections::HashMap;

use tract_tflite::tflite;

use super::{nchw_to_nhwc, nhwc_to_nchw, tensor_data, TfliteError};
use crate::ir::{Pick, Shape};
use crate::qgraph::requant::{AffineQuant, REQUANT_LIMB_BITS};
use crate::qgraph::{Int8Io, QLayer, QOp, QPick, QRemap, QuantGraph};

/// An imported int8 model: the graph, and the trailing ops left out of the proof.
#[derive(Clone, Debug)]
pub struct Int8Model {
    /// The integer graph.
    pub graph: QuantGraph,
    /// Trailing ops not proven (a final SOFTMAX): the output is what goes into them.
    pub unproven_tail: Vec<String>,
    /// The input and output tensors' names.
    pub io_names: (String, String),
}

/// A tensor of the file: its type, shape, quantization and constant data.
#[derive(Clone, Debug)]
pub(super) struct TensorInfo {
    pub(super) ty: tflite::TensorType,
    pub(super) shape: Vec<usize>,
    pub(super) scales: Vec<f32>,
    pub(super) zero_points: Vec<i64>,
    pub(super) data: Option<Vec<u8>>,
}

/// An activation as the graph holds it.
#[derive(Clone, Copy, Debug)]
pub(super) struct Flow {
    /// Graph tensor id.
    pub(super) id: usize,
    /// Held channel-first (a 4-D tensor).
    pub(super) nchw: bool,
    /// Its quantization.
    pub(super) q: AffineQuant,
}

type OpResult<T> = Result<T, String>;

/// Whether a model is full-integer: an activation tensor (one no buffer fills) is int8, or uint8 (a
/// legacy all-uint8 model, or uint8 input and output around an int8 graph).
pub fn is_int8(model: &tflite::Model, subgraph: &tflite::SubGraph) -> bool {
    subgraph.tensors().is_some_and(|ts| {
        ts.iter().any(|t| {
            tensor_data(model, &t).is_none()
                && matches!(
                    t.type_(),
                    tflite::TensorType::INT8 | tflite::TensorType::UINT8
                )
        })
    })
}

/// Whether a model is a legacy all-uint8 one (TF1's quantization-aware training): its weights are
/// uint8 with zero points (a constant uint8 tensor), not int8.
fn is_legacy_uint8(tensors: &[TensorInfo]) -> bool {
    tensors
        .iter()
        .any(|t| t.data.is_some() && t.ty == tflite::TensorType::UINT8)
}

/// The int8 importer's state.
pub(super) struct Int8Importer<'a> {
    pub(super) path: &'a str,
    pub(super) names: Vec<String>,
    pub(super) tensors: Vec<TensorInfo>,
    pub(super) flows: HashMap<usize, Flow>,
    pub(super) layers: Vec<QLayer>,
    /// The graph input's shape (tensor 0).
    pub(super) input_shape: Vec<usize>,
    /// The model's input and output tensors when they are uint8 (held as int8: `v - 128`, zero
    /// point likewise); no other activation may be uint8, unless `legacy_uint8`.
    pub(super) uint8_io: Vec<usize>,
    /// A legacy all-uint8 model: every activation is uint8 (held as int8, `v - 128`), the weights
    /// uint8 with a zero point (held as `w - z`).
    pub(super) legacy_uint8: bool,
}

/// Import a full-integer model whose operators are `operators` (named `names`).
pub(super) fn import(
    path: &str,
    model: &tflite::Model,
    subgraph: &tflite::SubGraph,
    operators: &[(tflite::Operator, String)],
) -> Result<Int8Model, TfliteError> {
    let mut imp = Int8Importer::new(path, model, subgraph)?;
    let inputs: Vec<i32> = subgraph
        .inputs()
        .map(|v| v.iter().collect())
        .unwrap_or_default();
    let outputs: Vec<i32> = subgraph
        .outputs()
        .map(|v| v.iter().collect())
        .unwrap_or_default();
    let ([input], [output]) = (&inputs[..], &outputs[..]) else {
        return Err(imp.structure("zkinfer models take one input and make one output"));
    };
    let (mut input, mut output) = (*input as usize, *output as usize);
    let mut ops: Vec<(usize, &tflite::Operator, &str)> = operators
        .iter()
        .enumerate()
        .map(|(i, (op, name))| (i, op, name.as_str()))
        .collect();
    // A float input quantized by a first QUANTIZE: the graph's input is its int8 output.
    if let Some(&(_, op, "QUANTIZE")) = ops.first() {
        let (ins, outs) = io_of(op);
        if ins.first() == Some(&input) && imp.tensors[input].ty == tflite::TensorType::FLOAT32 {
            input = outs[0];
            ops.remove(0);
        }
    }
    // A final DEQUANTIZE (shown dequantized anyway) and a final SOFTMAX are left out.
    let mut tail = Vec::new();
    while let Some(&(_, op, name)) = ops.last() {
        let (ins, outs) = io_of(op);
        if outs.first() != Some(&output) || !matches!(name, "DEQUANTIZE" | "SOFTMAX") {
            break;
        }
        if name == "SOFTMAX" {
            tail.insert(0, "Softmax".to_string());
        }
        output = ins[0];
        ops.pop();
    }
    // uint8 input and output (the converter's `inference_input_type = tf.uint8`): held as int8,
    // so the QUANTIZE ops between them and the int8 graph are int8 -> int8 (an identity when the
    // scales are equal, as the converter makes them).
    let is_u8 = |t: usize| imp.tensors[t].ty == tflite::TensorType::UINT8;
    let unsigned = is_u8(input);
    if unsigned != is_u8(output) {
        return Err(imp.structure(
            "its input and output must both be int8 or both uint8 (one of each is not supported)",
        ));
    }
    if unsigned {
        imp.uint8_io = vec![input, output];
    }
    let input_q = imp.bind_input(input)?;
    for (i, op, name) in ops {
        imp.operator(op, name).map_err(|reason| TfliteError::Op {
            path: path.into(),
            index: i,
            op: name.into(),
            reason,
        })?;
    }
    let output_q = imp.bind_output(output)?;
    let graph = QuantGraph {
        input_shape: Shape(imp.tensors[input].shape.clone()),
        input_scale: 0,
        limb_bits: REQUANT_LIMB_BITS,
        layers: imp.layers,
        int8: Some(Int8Io {
            input: input_q,
            output: output_q,
            rounding: Default::default(),
            unsigned,
        }),
    };
    Ok(Int8Model {
        graph,
        unproven_tail: tail,
        io_names: (imp.names[input].clone(), imp.names[output].clone()),
    })
}

/// An operator's input and output tensor indices (absent optional inputs, -1, left out of neither:
/// they map to `usize::MAX`).
pub(super) fn io_of(op: &tflite::Operator) -> (Vec<usize>, Vec<usize>) {
    let index = |t: i32| usize::try_from(t).unwrap_or(usize::MAX);
    let ins = op
        .inputs()
        .map(|v| v.iter().map(index).collect())
        .unwrap_or_default();
    let outs = op
        .outputs()
        .map(|v| v.iter().map(index).collect())
        .unwrap_or_default();
    (ins, outs)
}

impl<'a> Int8Importer<'a> {
    fn new(
        path: &'a str,
        model: &tflite::Model,
        subgraph: &tflite::SubGraph,
    ) -> Result<Self, TfliteError> {
        let structure = |reason: String| TfliteError::Structure {
            path: path.into(),
            reason,
        };
        let ts = subgraph
            .tensors()
            .ok_or_else(|| structure("the subgraph has no tensors".into()))?;
        let mut tensors = Vec::with_capacity(ts.len());
        let mut names = Vec::with_capacity(ts.len());
        for t in ts.iter() {
            names.push(t.name().unwrap_or("").to_string());
            let q = t.quantization();
            let scales: Vec<f32> = q
                .and_then(|q| q.scale())
                .map(|s| s.iter().collect())
                .unwrap_or_default();
            let zero_points: Vec<i64> = q
                .and_then(|q| q.zero_point())
                .map(|z| z.iter().collect())
                .unwrap_or_default();
            if let Some(s) = scales.iter().find(|s| !(s.is_finite() && **s > 0.0)) {
                return Err(structure(format!(
                    "tensor '{}' has scale {s}",
                    t.name().unwrap_or("")
                )));
            }
            let data = tensor_data(model, &t).map(<[u8]>::to_vec);
            tensors.push(TensorInfo {
                ty: t.type_(),
                shape: t
                    .shape()
                    .map(|s| s.iter().map(|d| d.max(1) as usize).collect())
                    .unwrap_or_default(),
                scales,
                zero_points,
                data,
            });
        }
        Ok(Int8Importer {
            path,
            names,
            legacy_uint8: is_legacy_uint8(&tensors),
            tensors,
            flows: HashMap::new(),
            layers: Vec::new(),
            input_shape: Vec::new(),
            uint8_io: Vec::new(),
        })
    }

    fn structure(&self, reason: impl Into<String>) -> TfliteError {
        TfliteError::Structure {
            path: self.path.into(),
            reason: reason.into(),
        }
    }

    /// Tensor `t`'s per-tensor quantization (an int8 activation).
    pub(super) fn quant(&self, t: usize) -> OpResult<AffineQuant> {
        let info = self.tensors.get(t).ok_or(format!("no tensor {t}"))?;
        // A uint8 input or output is held as int8 (`v - 128`): its zero point too.
        let held = match info.ty {
            tflite::TensorType::INT8 => 0,
            tflite::TensorType::UINT8 if self.legacy_uint8 || self.uint8_io.contains(&t) => 128,
            ty => {
                return Err(format!(
                    "tensor '{}' is {}, not int8{}",
                    self.names[t],
                    ty.variant_name().unwrap_or("?"),
                    match ty {
                        tflite::TensorType::UINT8 =>
                            " (in a model with int8 weights, uint8 is read at the input and output only)",
                        _ => "",
                    }
                ))
            }
        };
        match (&info.scales[..], &info.zero_points[..]) {
            ([s], [z]) => Ok(AffineQuant {
                scale: *s as f64,
                zero_point: *z - held,
            }),
            _ => Err(format!(
                "tensor '{}' is not quantized per tensor",
                self.names[t]
            )),
        }
    }

    /// The graph's input: int8, a 4-D one remapped channel-first.
    fn bind_input(&mut self, t: usize) -> Result<AffineQuant, TfliteError> {
        let q = self
            .quant(t)
            .map_err(|r| self.structure(format!("the input: {r}")))?;
        let shape = self.tensors[t].shape.clone();
        self.input_shape = shape.clone();
        let (id, nchw) = match shape[..] {
            [1, h, w, c] => {
                let picks = remap_picks(&nhwc_to_nchw(h, w, c));
                let id = self.push(
                    "input.nchw",
                    QOp::Remap(QRemap::new(picks)),
                    vec![1, c, h, w],
                    vec![0],
                );
                (id, true)
            }
            [_, _, _, _] => return Err(self.structure("a 4-D input must have batch 1")),
            _ => (0, false),
        };
        self.flows.insert(t, Flow { id, nchw, q });
        Ok(q)
    }

    /// Make tensor `t` the output, in TFLite's order, as the last layer.
    fn bind_output(&mut self, t: usize) -> Result<AffineQuant, TfliteError> {
        let flow = self
            .flow(t)
            .map_err(|r| self.structure(format!("the output: {r}")))?;
        let id = self
            .plain(t)
            .map_err(|r| self.structure(format!("the output: {r}")))?;
        if id != self.layers.len() || id == 0 {
            let n = self.tensors[t].shape.iter().product::<usize>();
            let map = (0..n).map(QPick::Input).collect();
            let shape = self.tensors[t].shape.clone();
            self.push("output", QOp::Remap(QRemap::new(map)), shape, vec![id]);
        }
        Ok(flow.q)
    }

    /// Push a layer; returns its tensor id.
    pub(super) fn push(
        &mut self,
        name: &str,
        op: QOp,
        shape: Vec<usize>,
        inputs: Vec<usize>,
    ) -> usize {
        self.layers.push(QLayer::int8(name, op, shape, inputs));
        self.layers.len()
    }

    /// Activation `t` as the graph holds it.
    pub(super) fn flow(&self, t: usize) -> OpResult<Flow> {
        self.flows
            .get(&t)
            .copied()
            .ok_or_else(|| match self.tensors.get(t) {
                Some(info) if info.data.is_some() => {
                    format!("tensor {t} must be data, not a constant")
                }
                Some(_) => format!("reads tensor {t} before any operator makes it"),
                None => format!("reads tensor {t}, which does not exist"),
            })
    }

    /// Activation `t` in TFLite's (NHWC, row-major) order: its graph id, a remap when it is held
    /// channel-first.
    pub(super) fn plain(&mut self, t: usize) -> OpResult<usize> {
        let flow = self.flow(t)?;
        if !flow.nchw {
            return Ok(flow.id);
        }
        let shape = self.tensors[t].shape.clone();
        let [_, h, w, c] = shape[..] else {
            return Err("a channel-first tensor that is not 4-D".into());
        };
        let map = remap_picks(&nchw_to_nhwc(h, w, c));
        let name = format!("{}.nhwc", self.names[t]);
        Ok(self.push(&name, QOp::Remap(QRemap::new(map)), shape, vec![flow.id]))
    }

    /// The weights of filter `f` as the kernels multiply them: int8 values (zero point 0), or a
    /// legacy model's uint8 values less their per-tensor zero point (`w - z`, in [-255, 255]).
    pub(super) fn filter_values(&self, f: usize) -> OpResult<Vec<i64>> {
        match self.tensors.get(f) {
            Some(TensorInfo {
                ty: tflite::TensorType::UINT8,
                data: Some(d),
                zero_points,
                ..
            }) if self.legacy_uint8 => match zero_points[..] {
                [z] => Ok(d.iter().map(|b| *b as i64 - z).collect()),
                _ => Err(format!(
                    "uint8 filter '{}' is not quantized per tensor",
                    self.names[f]
                )),
            },
            _ => self.int8_const(f),
        }
    }

    /// Constant int8 tensor `t`: its values.
    pub(super) fn int8_const(&self, t: usize) -> OpResult<Vec<i64>> {
        match self.tensors.get(t) {
            Some(TensorInfo {
                ty: tflite::TensorType::INT8,
                data: Some(d),
                ..
            }) => Ok(d.iter().map(|b| *b as i8 as i64).collect()),
            _ => Err(format!("tensor {t} must be an int8 constant")),
        }
    }

    /// Constant int32 tensor `t` (a bias): its values.
    pub(super) fn int32_const(&self, t: usize) -> OpResult<Vec<i64>> {
        match self.tensors.get(t) {
            Some(TensorInfo {
                ty: tflite::TensorType::INT32,
                data: Some(d),
                ..
            }) => Ok(d
                .chunks_exact(4)
                .map(|c| i32::from_le_bytes([c[0], c[1], c[2], c[3]]) as i64)
                .collect()),
            _ => Err(format!("tensor {t} must be an int32 constant")),
        }
    }
}

/// A layout remap's picks (all of them inputs) as quantized picks.
fn remap_picks(picks: &[Pick]) -> Vec<QPick> {
    picks
        .iter()
        .map(|p| match p {
            Pick::Input(i) => QPick::Input(*i),
            Pick::Const(_) => unreachable!("layout remaps pick inputs only"),
        })
        .collect()
}
