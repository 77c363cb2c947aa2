//! int8 ONNX models (onnxruntime's `quantize_static`, QDQ or QOperator form) → [`QuantGraph`], keeping
//! the model's own integers and onnxruntime's arithmetic.
//!
//! Both forms become the same layers. QOperator nodes (QLinearConv, QGemm, QLinearMatMul,
//! QLinearAdd, QLinearAveragePool, QLinearGlobalAveragePool, QLinearConcat, QLinearLeakyRelu,
//! QLinearSigmoid, QLinearMul) are read as they are; in
//! the QDQ form a float node whose data inputs are DequantizeLinear outputs and whose output goes
//! into a QuantizeLinear is read as the QOperator node onnxruntime fuses it into (at its default
//! optimization level it fuses such groups, but leaves one float where a DequantizeLinear has two
//! readers; the proof is about the fused arithmetic). Tensors stay NCHW, as in the file.
//!
//! uint8 tensors are held as int8: `v - 128`, with the zero point moved the same way, which leaves
//! every `v - zero_point` (all the arithmetic sees) unchanged; [`Int8Io::unsigned`] records it so
//! that inputs and outputs are shown as the model's own bytes.
//!
//! onnxruntime requantizes in float32 ([`crate::qgraph::requant::ort_requantize`]); those maps are
//! proven through their thresholds ([`crate::qgraph::threshold`]), exactly.

mod layout;
mod maps;
mod mul;
mod ops;
mod tables;

use std::collections::HashMap;

use tract_onnx::pb::{self, NodeProto};

use super::errors::list_nodes;
use super::{load_tensor, value_shape, OnnxError, UnsupportedNode, UNPROVEN_TAIL_OPS};
use crate::import::tflite::int8::Int8Model;
use crate::ir::Shape;
use crate::qgraph::requant::{ort_quantize_linear, AffineQuant, REQUANT_LIMB_BITS};
use crate::qgraph::{InputRounding, Int8Io, QLayer, QOp, QPick, QRemap, QTable, QuantGraph};

/// The ops an int8 ONNX model may use: quantization and QOperator ops first, then the float ops
/// the QDQ form wraps.
pub const INT8_SUPPORTED_OPS: &[&str] = &[
    "QuantizeLinear",
    "DequantizeLinear",
    "QLinearConv",
    "QLinearMatMul",
    "QGemm",
    "QLinearAdd",
    "QLinearAveragePool",
    "QLinearGlobalAveragePool",
    "QLinearConcat",
    "QLinearLeakyRelu",
    "QLinearSigmoid",
    "QLinearMul",
    "Conv",
    "Gemm",
    "MatMul",
    "Add",
    "Mul",
    "AveragePool",
    "GlobalAveragePool",
    "MaxPool",
    "Concat",
    "Relu",
    "LeakyRelu",
    "Sigmoid",
    "Clip",
    "Flatten",
    "Reshape",
    "Transpose",
    "Squeeze",
    "Unsqueeze",
    "Pad",
    "Identity",
];

/// Whether the graph is an int8 model (it quantizes or dequantizes somewhere).
pub fn is_quantized(graph: &pb::GraphProto) -> bool {
    // Dynamic quantization's integer ops mark a model too (and are refused).
    graph.node.iter().any(|n| {
        let op = n.op_type.as_str();
        op.starts_with("QLinear")
            || matches!(
                op,
                "QGemm" | "QuantizeLinear" | "DequantizeLinear" | "ConvInteger" | "MatMulInteger"
            )
    })
}

type NodeResult<T> = Result<T, String>;

/// A constant of the file, as stored (integers exact in f64).
#[derive(Clone, Debug)]
pub(super) struct Tensor {
    pub(super) shape: Vec<usize>,
    pub(super) data: Vec<f64>,
    /// ONNX element type (2 uint8, 3 int8, 6 int32, 7 int64, ...).
    pub(super) elem: i32,
}

const UINT8: i32 = 2;
const INT8: i32 = 3;
const INT32: i32 = 6;
const INT64: i32 = 7;

/// An int8 activation as the graph holds it (signed; see the module docs).
#[derive(Clone, Copy, Debug)]
pub(super) struct Flow {
    /// Graph tensor id.
    pub(super) id: usize,
    /// Its scale (float32, as the file has it) and zero point (signed).
    pub(super) scale: f32,
    pub(super) zero_point: i64,
}

impl Flow {
    fn quant(&self) -> AffineQuant {
        AffineQuant {
            scale: self.scale as f64,
            zero_point: self.zero_point,
        }
    }
}

/// What a tensor name stands for.
#[derive(Clone, Debug)]
pub(super) enum Val {
    Const(Tensor),
    /// An int8 activation.
    Flow(Flow),
    /// The dequantized view of an int8 activation (a DequantizeLinear of it).
    Deq(Flow),
    /// The dequantized view of a constant: its integers, scales and zero points (per `axis`).
    DeqConst(Tensor, Vec<f32>, Vec<i64>),
    /// The float output of node `k` (QDQ form), made integer by the QuantizeLinear that reads it.
    Pending(usize),
    /// The graph's float input, before its QuantizeLinear.
    FloatInput,
}

pub(super) struct Int8OnnxImporter<'a> {
    pub(super) dir: Option<&'a str>,
    pub(super) vals: HashMap<String, Val>,
    pub(super) layers: Vec<QLayer>,
    pub(super) input_shape: Vec<usize>,
    /// The graph's input quantization, once its QuantizeLinear is read.
    input: Option<(Flow, bool)>,
    nodes: &'a [NodeProto],
}

/// Import an int8 ONNX graph.
pub(super) fn import(
    path: &str,
    dir: Option<&str>,
    graph: &pb::GraphProto,
) -> Result<Int8Model, OnnxError> {
    let structure = |reason: String| OnnxError::Structure {
        path: path.into(),
        reason,
    };
    let unsupported: Vec<UnsupportedNode> = graph
        .node
        .iter()
        .filter(|n| {
            let tail = UNPROVEN_TAIL_OPS.contains(&n.op_type.as_str());
            !(INT8_SUPPORTED_OPS.contains(&n.op_type.as_str()) || tail)
                || !(n.domain.is_empty() || n.domain == "ai.onnx" || n.domain == "com.microsoft")
        })
        .map(|n| UnsupportedNode {
            name: n.name.clone(),
            op_type: n.op_type.clone(),
        })
        .collect();
    if !unsupported.is_empty() {
        return Err(structure(format!(
            "an int8 model with ops zkinfer does not prove: {}; int8 ONNX models may use {}, and a \
             final {}",
            list_nodes(&unsupported),
            INT8_SUPPORTED_OPS.join(", "),
            UNPROVEN_TAIL_OPS.join(" or ")
        )));
    }
    let mut imp = Int8OnnxImporter {
        dir,
        vals: HashMap::new(),
        layers: Vec::new(),
        input_shape: Vec::new(),
        input: None,
        nodes: &graph.node,
    };
    for init in &graph.initializer {
        let t = imp
            .load(init)
            .map_err(|r| structure(format!("initializer '{}': {r}", init.name)))?;
        imp.vals.insert(init.name.clone(), Val::Const(t));
    }
    let inputs: Vec<&pb::ValueInfoProto> = graph
        .input
        .iter()
        .filter(|i| !imp.vals.contains_key(&i.name))
        .collect();
    let ([input], [output]) = (&inputs[..], &graph.output[..]) else {
        return Err(structure(
            "zkinfer models take one input and make one output".into(),
        ));
    };
    let shape = value_shape(input).map_err(|r| structure(format!("the input: {r}")))?;
    imp.input_shape = match shape.0.as_slice() {
        [n, rest @ ..] if *n > 1 => {
            return Err(structure(format!(
                "the input has batch {n}; int8 models are proven with batch 1 ({rest:?} per sample)"
            )))
        }
        _ => shape.0.clone(),
    };
    imp.vals.insert(input.name.clone(), Val::FloatInput);
    // A final Softmax (after the last DequantizeLinear) is left out of the proof.
    let mut tail = Vec::new();
    let mut output_name = output.name.clone();
    let mut last = graph.node.len();
    while let Some(n) = graph.node[..last].last() {
        if n.output.first() != Some(&output_name)
            || !UNPROVEN_TAIL_OPS.contains(&n.op_type.as_str())
        {
            break;
        }
        tail.insert(0, n.op_type.clone());
        output_name = n.input.first().cloned().unwrap_or_default();
        last -= 1;
    }
    for (k, node) in graph.node[..last].iter().enumerate() {
        imp.node(k, node).map_err(|reason| OnnxError::Node {
            path: path.into(),
            node: node.name.clone(),
            op: node.op_type.clone(),
            reason,
        })?;
    }
    let (input_flow, unsigned) = imp.input.ok_or_else(|| {
        structure("the input is never quantized (no QuantizeLinear of it)".into())
    })?;
    let out = match imp.vals.get(&output_name) {
        Some(Val::Deq(f)) | Some(Val::Flow(f)) => *f,
        _ => {
            return Err(structure(format!(
            "the output '{output_name}' is not a dequantized int8 tensor computed from the input"
        )))
        }
    };
    if out.id != imp.layers.len() || out.id == 0 {
        let n: usize = imp.shape_of(out.id).iter().product();
        let map = (0..n).map(QPick::Input).collect();
        let shape = imp.shape_of(out.id);
        imp.push("output", QOp::Remap(QRemap::new(map)), shape, vec![out.id]);
    }
    let graph = QuantGraph {
        input_shape: Shape(imp.input_shape.clone()),
        input_scale: 0,
        limb_bits: REQUANT_LIMB_BITS,
        layers: imp.layers,
        int8: Some(Int8Io {
            input: input_flow.quant(),
            output: out.quant(),
            rounding: InputRounding::HalfToEven,
            unsigned,
        }),
    };
    Ok(Int8Model {
        graph,
        unproven_tail: tail,
        io_names: (input.name.clone(), output_name),
    })
}

impl Int8OnnxImporter<'_> {
    fn load(&self, t: &pb::TensorProto) -> NodeResult<Tensor> {
        let (shape, data) = load_tensor(t, self.dir)?;
        Ok(Tensor {
            shape,
            data,
            elem: t.data_type,
        })
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

    /// The shape of graph tensor `id`.
    pub(super) fn shape_of(&self, id: usize) -> Vec<usize> {
        match id {
            0 => self.input_shape.clone(),
            id => self.layers[id - 1].out_shape.0.clone(),
        }
    }

    /// Input `i` of `node` (absent optional inputs: `None`).
    pub(super) fn val(&self, node: &NodeProto, i: usize) -> NodeResult<Option<Val>> {
        match node.input.get(i) {
            None => Ok(None),
            Some(n) if n.is_empty() => Ok(None),
            Some(n) => self
                .vals
                .get(n)
                .cloned()
                .map(Some)
                .ok_or_else(|| format!("reads '{n}', which no earlier node makes")),
        }
    }

    /// Constant input `i`.
    pub(super) fn constant(&self, node: &NodeProto, i: usize) -> NodeResult<Tensor> {
        match self.val(node, i)? {
            Some(Val::Const(t)) => Ok(t),
            _ => Err(format!("input {i} must be a constant (an initializer)")),
        }
    }

    /// The int8 activation input `i` (QOperator form).
    pub(super) fn flow(&self, node: &NodeProto, i: usize) -> NodeResult<Flow> {
        match self.val(node, i)? {
            Some(Val::Flow(f)) => Ok(f),
            _ => Err(format!(
                "input {i} must be an int8 tensor computed from the input"
            )),
        }
    }

    /// A scale and zero point given as inputs `i` and `i + 1`: the zero point held signed, and
    /// whether the tensor is uint8.
    pub(super) fn quant_params(&self, node: &NodeProto, i: usize) -> NodeResult<(f32, i64, bool)> {
        let s = self.constant(node, i)?;
        let [scale] = s.data[..] else {
            return Err(format!("input {i}: a scale per tensor is expected"));
        };
        let scale = scale as f32;
        if !(scale.is_finite() && scale > 0.0) {
            return Err(format!("scale {scale}"));
        }
        let (zp, unsigned) = match self.val(node, i + 1)? {
            // Absent: uint8 zero.
            None => (-128, true),
            Some(Val::Const(z)) => match (&z.data[..], z.elem) {
                ([v], UINT8) => (*v as i64 - 128, true),
                ([v], INT8) => (*v as i64, false),
                (_, UINT8 | INT8) => return Err("a zero point per tensor is expected".into()),
                (_, e) => {
                    return Err(format!(
                        "zero points of element type {e} (int8 or uint8 only)"
                    ))
                }
            },
            Some(_) => {
                return Err(format!(
                    "input {}: the zero point must be a constant",
                    i + 1
                ))
            }
        };
        Ok((scale, zp, unsigned))
    }

    fn node(&mut self, k: usize, node: &NodeProto) -> NodeResult<()> {
        let out = node.output.first().ok_or("has no output")?.clone();
        let label = match node.name.is_empty() {
            true => out.clone(),
            false => node.name.clone(),
        };
        let val = match node.op_type.as_str() {
            "QuantizeLinear" => self.quantize_linear(node, &label)?,
            "DequantizeLinear" => self.dequantize_linear(node)?,
            "Identity" => self.val(node, 0)?.ok_or("no input")?,
            "QLinearConv"
            | "QLinearMatMul"
            | "QGemm"
            | "QLinearAdd"
            | "QLinearAveragePool"
            | "QLinearGlobalAveragePool"
            | "QLinearLeakyRelu"
            | "QLinearSigmoid" => Val::Flow(self.qoperator(node, &label)?),
            "QLinearMul" => Val::Flow(self.qlinear_mul(node, &label)?),
            "QLinearConcat" => {
                // Y_scale, Y_zero_point, then (X, X_scale, X_zero_point) per input.
                let (ys, yz, _) = self.quant_params(node, 0)?;
                let parts = (2..node.input.len())
                    .step_by(3)
                    .map(|i| {
                        let f = self.flow(node, i)?;
                        let (s, z, _) = self.quant_params(node, i + 1)?;
                        Ok(Flow {
                            scale: s,
                            zero_point: z,
                            ..f
                        })
                    })
                    .collect::<NodeResult<Vec<Flow>>>()?;
                Val::Flow(self.concat(node, &parts, (ys, yz), &label)?)
            }
            "Flatten" | "Reshape" | "MaxPool" | "Transpose" | "Squeeze" | "Unsqueeze" | "Pad"
                if matches!(self.val(node, 0)?, Some(Val::Flow(_))) =>
            {
                let x = self.flow(node, 0)?;
                Val::Flow(self.layout_op(node, x, &label)?)
            }
            _ => {
                // QDQ form: a float node over dequantized tensors, done when its output is quantized.
                let reads_deq = (0..node.input.len())
                    .any(|i| matches!(self.val(node, i), Ok(Some(Val::Deq(_)))));
                if !reads_deq {
                    return Err("its data input is not a dequantized int8 tensor".into());
                }
                Val::Pending(k)
            }
        };
        self.vals.insert(out, val);
        Ok(())
    }

    fn quantize_linear(&mut self, node: &NodeProto, label: &str) -> NodeResult<Val> {
        let (scale, zp, unsigned) = self.quant_params(node, 1)?;
        match self.val(node, 0)?.ok_or("no input")? {
            Val::FloatInput => {
                if self.input.is_some() {
                    return Err("the input is quantized twice".into());
                }
                let f = Flow {
                    id: 0,
                    scale,
                    zero_point: zp,
                };
                self.input = Some((f, unsigned));
                Ok(Val::Flow(f))
            }
            Val::Pending(k) => {
                let float_node = &self.nodes[k];
                Ok(Val::Flow(self.qdq_node(
                    float_node,
                    ((scale, zp), unsigned),
                    label,
                )?))
            }
            Val::Deq(x) => Ok(Val::Flow(self.requantize(x, (scale, zp), label))),
            _ => Err("quantizes a tensor that is not computed from the input".into()),
        }
    }

    fn dequantize_linear(&mut self, node: &NodeProto) -> NodeResult<Val> {
        match self.val(node, 0)?.ok_or("no input")? {
            Val::Flow(f) => {
                let (scale, zp, _) = self.quant_params(node, 1)?;
                if scale != f.scale || zp != f.zero_point {
                    return Err("dequantizes with other parameters than the tensor's own".into());
                }
                Ok(Val::Deq(f))
            }
            Val::Const(q) => {
                let scales = self.constant(node, 1)?;
                let zps = match self.val(node, 2)? {
                    Some(Val::Const(z)) => z.data.iter().map(|v| *v as i64).collect(),
                    None => vec![0; scales.data.len()],
                    Some(_) => return Err("the zero point must be a constant".into()),
                };
                let scales = scales.data.iter().map(|v| *v as f32).collect();
                Ok(Val::DeqConst(q, scales, zps))
            }
            _ => Err("dequantizes a tensor that is neither int8 data nor a constant".into()),
        }
    }

    /// An int8 tensor re-quantized (a DequantizeLinear then a QuantizeLinear with other parameters):
    /// onnxruntime's float32 arithmetic on each of the 256 values, as a table.
    fn requantize(&mut self, x: Flow, (scale, zp): (f32, i64), label: &str) -> Flow {
        if (scale, zp) == (x.scale, x.zero_point) {
            return x;
        }
        let table = (-128..128)
            .map(|v| {
                let real = (v - x.zero_point) as f32 * x.scale;
                ort_quantize_linear(real, scale, zp, (-128, 127))
            })
            .collect();
        let shape = self.shape_of(x.id);
        let id = self.push(
            label,
            QOp::Table(QTable { lo: -128, table }),
            shape,
            vec![x.id],
        );
        Flow {
            id,
            scale,
            zero_point: zp,
        }
    }
}
