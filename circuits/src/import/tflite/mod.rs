//! TFLite → [`Graph`]. TFLite is known in this module only.
//!
//! The flatbuffer is decoded with the TFLite schema as tract-tflite generates it (`tract_tflite::tflite`);
//! this module interprets the first subgraph's operators. TFLite's 4-D activations are NHWC; the IR's
//! convolutions are `[C, H, W]`, so a 4-D tensor is kept channel-first inside the graph, and row-free
//! remaps convert at the edges (the input, a RESHAPE or FULLY_CONNECTED that reads the NHWC order, the
//! output). The input and output keep TFLite's own order, so input files are what the device reads.
//! Float32 models only; a full-integer model is refused (its integer semantics are a separate step).

pub mod int8;
mod layout_ops;
mod ops;

use std::collections::HashMap;
use std::path::Path;

use thiserror::Error;
use tract_tflite::tflite;

use crate::ir::{Graph, Node, Op, Pick, Shape};

/// Why a TFLite file could not be imported.
#[derive(Debug, Error)]
pub enum TfliteError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// Path of the file.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file does not decode as a TFLite flatbuffer, or holds no subgraph.
    #[error("{path} is not a TFLite model: {reason}")]
    NotTflite {
        /// Path of the file.
        path: String,
        /// What the decoder reported.
        reason: String,
    },
    /// Operators outside the supported list (all of them, grouped by op with a count).
    #[error("{path}: unsupported operator(s): {ops}. Supported: {supported}")]
    Unsupported {
        /// Path of the file.
        path: String,
        /// `OP (operator i)` or `OP xN (first operator i)`, comma-separated.
        ops: String,
        /// The operators supported for this kind of model (float or int8).
        supported: String,
    },
    /// A supported operator could not be interpreted.
    #[error("{path}: operator {index} ({op}): {reason}")]
    Op {
        /// Path of the file.
        path: String,
        /// Index of the operator in the subgraph.
        index: usize,
        /// Its builtin op name.
        op: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The model as a whole is not one zkinfer proves (several subgraphs' inputs, an integer model).
    #[error("{path}: {reason}")]
    Structure {
        /// Path of the file.
        path: String,
        /// What is wrong.
        reason: String,
    },
}

/// The TFLite builtin operators this importer understands (float32).
pub const SUPPORTED: &[&str] = &[
    "CONV_2D",
    "DEPTHWISE_CONV_2D",
    "FULLY_CONNECTED",
    "ADD",
    "SUB",
    "MUL",
    "AVERAGE_POOL_2D",
    "MAX_POOL_2D",
    "MEAN",
    "PAD",
    "CONCATENATION",
    "RESHAPE",
    "LOGISTIC",
    "TANH",
    "RELU",
    "RELU6",
    "SOFTMAX",
];

/// Operators an int8 model may have at its edges, outside the proof: a QUANTIZE of a float input, a
/// final SOFTMAX or DEQUANTIZE.
pub const INT8_EDGE_OPS: &[&str] = &["QUANTIZE", "DEQUANTIZE", "SOFTMAX"];

/// The constant data of tensor `t` (`None` for an activation: no buffer, or an empty one).
pub(super) fn tensor_data<'a>(
    model: &tflite::Model<'a>,
    t: &tflite::Tensor<'_>,
) -> Option<&'a [u8]> {
    let buffers = model.buffers()?;
    let i = t.buffer() as usize;
    let d = (i < buffers.len()).then(|| buffers.get(i))?.data()?;
    (!d.is_empty()).then(|| d.bytes())
}

/// Whether `bytes` look like a TFLite flatbuffer (file identifier `TFL3`).
pub fn is_tflite(bytes: &[u8]) -> bool {
    bytes.get(4..8) == Some(b"TFL3")
}

/// A TFLite tensor as the importer sees it.
#[derive(Clone, Debug)]
pub(super) enum Val {
    /// A constant: its TFLite shape and values.
    Const(Vec<usize>, Vec<f32>),
    /// A data tensor: its TFLite shape (NHWC for 4-D), its graph tensor id, and whether the graph
    /// holds it channel-first (a 4-D tensor).
    Flow {
        tfl_shape: Vec<usize>,
        id: usize,
        nchw: bool,
    },
}

type OpResult<T> = Result<T, String>;

/// A TFLite model as imported: a float graph for the quantizer, or a full-integer model's own
/// integers.
#[derive(Debug)]
pub enum TfliteModel {
    /// A float32 model.
    Float(Graph),
    /// A full-integer int8 model.
    Int8(int8::Int8Model),
}

/// Import a float32 TFLite file (a full-integer model is refused: see [`import_model`]).
pub fn import(path: &Path) -> Result<Graph, TfliteError> {
    match import_model(path)? {
        TfliteModel::Float(g) => Ok(g),
        TfliteModel::Int8(_) => Err(TfliteError::Structure {
            path: path.display().to_string(),
            reason: "a full-integer int8 model: import it with import_model".into(),
        }),
    }
}

/// Import a TFLite file: float32, or full-integer int8 (told apart by its activations' type).
pub fn import_model(path: &Path) -> Result<TfliteModel, TfliteError> {
    let p = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|source| TfliteError::Io {
        path: p.clone(),
        source,
    })?;
    let not = |reason: String| TfliteError::NotTflite {
        path: p.clone(),
        reason,
    };
    let model = tflite::root_as_model(&bytes).map_err(|e| not(e.to_string()))?;
    let subgraph = model
        .subgraphs()
        .and_then(|s| (!s.is_empty()).then(|| s.get(0)))
        .ok_or_else(|| not("the file holds no subgraph".into()))?;
    let codes: Vec<tflite::BuiltinOperator> = model
        .operator_codes()
        .map(|c| c.iter().map(builtin).collect())
        .unwrap_or_default();
    let operators: Vec<tflite::Operator> = subgraph
        .operators()
        .map(|o| o.iter().collect())
        .unwrap_or_default();
    let name_of = |op: &tflite::Operator| -> String {
        let code = codes
            .get(op.opcode_index() as usize)
            .copied()
            .unwrap_or(tflite::BuiltinOperator(-1));
        code.variant_name()
            .map(str::to_string)
            .unwrap_or_else(|| format!("builtin {}", code.0))
    };
    let full_integer = int8::is_int8(&model, &subgraph);
    let supported = |name: &str| match full_integer {
        true => int8::INT8_SUPPORTED.contains(&name) || INT8_EDGE_OPS.contains(&name),
        false => SUPPORTED.contains(&name),
    };
    // Every unsupported operator at once, grouped by op.
    let mut groups: Vec<(String, usize, usize)> = Vec::new();
    for (i, op) in operators.iter().enumerate() {
        let name = name_of(op);
        if !supported(&name) {
            match groups.iter_mut().find(|g| g.0 == name) {
                Some(g) => g.1 += 1,
                None => groups.push((name, 1, i)),
            }
        }
    }
    if !groups.is_empty() {
        let ops: Vec<String> = groups
            .iter()
            .map(|(op, n, first)| match n {
                1 => format!("{op} (operator {first})"),
                _ => format!("{op} x{n} (first operator {first})"),
            })
            .collect();
        return Err(TfliteError::Unsupported {
            path: p,
            ops: ops.join(", "),
            supported: match full_integer {
                true => format!(
                    "{} (int8), a leading QUANTIZE, a final SOFTMAX or DEQUANTIZE",
                    int8::INT8_SUPPORTED.join(", ")
                ),
                false => SUPPORTED.join(", "),
            },
        });
    }
    if full_integer {
        let named: Vec<(tflite::Operator, String)> =
            operators.iter().map(|op| (*op, name_of(op))).collect();
        return Ok(TfliteModel::Int8(int8::import(
            &p, &model, &subgraph, &named,
        )?));
    }
    let mut imp = TfliteImporter::new(&p, &model, &subgraph)?;
    let inputs = subgraph.inputs().map(|v| v.iter().collect::<Vec<i32>>());
    let outputs = subgraph.outputs().map(|v| v.iter().collect::<Vec<i32>>());
    let (Some([input]), Some([output])) = (inputs.as_deref(), outputs.as_deref()) else {
        return Err(imp.structure("zkinfer models take one input and make one output"));
    };
    let input_shape = imp.bind_input(*input as usize)?;
    // A final SOFTMAX is left out of the proof (it does not change the top class).
    let mut output = *output as usize;
    let mut tail = Vec::new();
    let last = operators.len().checked_sub(1);
    for (i, op) in operators.iter().enumerate() {
        let name = name_of(op);
        let outs: Vec<i32> = op.outputs().map(|v| v.iter().collect()).unwrap_or_default();
        if Some(i) == last && name == "SOFTMAX" && outs.first() == Some(&(output as i32)) {
            output = op.inputs().and_then(|v| v.iter().next()).unwrap_or(-1) as usize;
            tail.push("Softmax".to_string());
            continue;
        }
        imp.operator(op, &name).map_err(|reason| TfliteError::Op {
            path: p.clone(),
            index: i,
            op: name.clone(),
            reason,
        })?;
    }
    imp.bind_output(output)?;
    let tensor_name = |t: usize| {
        subgraph
            .tensors()
            .and_then(|ts| (t < ts.len()).then(|| ts.get(t)))
            .and_then(|t| t.name())
            .unwrap_or("")
            .to_string()
    };
    Ok(TfliteModel::Float(Graph {
        input_name: tensor_name(*input as usize),
        input_shape,
        input_parts: vec![],
        output_name: tensor_name(output),
        nodes: imp.nodes,
        unproven_tail: tail,
    }))
}

/// An operator code's builtin op (the deprecated byte for old files).
fn builtin(code: tflite::OperatorCode) -> tflite::BuiltinOperator {
    let deprecated = code.deprecated_builtin_code() as i32;
    let current = code.builtin_code();
    tflite::BuiltinOperator(current.0.max(deprecated))
}

/// The importer's state: every TFLite tensor's value, and the nodes made so far.
pub(super) struct TfliteImporter<'a> {
    path: &'a str,
    /// Every tensor's name (operators are named after the tensor they make).
    pub(super) names: Vec<String>,
    vals: HashMap<usize, Val>,
    nodes: Vec<Node>,
}

impl<'a> TfliteImporter<'a> {
    fn new(
        path: &'a str,
        model: &tflite::Model,
        subgraph: &tflite::SubGraph,
    ) -> Result<Self, TfliteError> {
        let mut imp = TfliteImporter {
            path,
            names: Vec::new(),
            vals: HashMap::new(),
            nodes: Vec::new(),
        };
        let tensors = subgraph
            .tensors()
            .ok_or_else(|| imp.structure("the subgraph has no tensors"))?;
        imp.names = tensors
            .iter()
            .map(|t| t.name().unwrap_or("").to_string())
            .collect();
        for (i, t) in tensors.iter().enumerate() {
            let shape: Vec<usize> = t
                .shape()
                .map(|s| s.iter().map(|d| d.max(1) as usize).collect())
                .unwrap_or_default();
            let data = tensor_data(model, &t);
            // An integer activation (or weight) means a quantized model.
            let not_float = |ty: tflite::TensorType| {
                imp.structure(format!(
                    "tensor {i} ('{}') is {}: this version reads float32 TFLite models \
                     (full-integer int8 models are not supported yet)",
                    t.name().unwrap_or(""),
                    ty.variant_name().unwrap_or("of an unknown type")
                ))
            };
            let bytes = data;
            let val = match (bytes, t.type_()) {
                (None, tflite::TensorType::FLOAT32) => Val::Flow {
                    tfl_shape: shape,
                    // Made by no operator yet.
                    id: usize::MAX,
                    nchw: false,
                },
                (None, ty) => return Err(not_float(ty)),
                (Some(b), tflite::TensorType::FLOAT32) => {
                    let v = b
                        .chunks_exact(4)
                        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]));
                    Val::Const(shape, v.collect())
                }
                (Some(b), tflite::TensorType::INT32) => {
                    let v = b
                        .chunks_exact(4)
                        .map(|c| i32::from_le_bytes([c[0], c[1], c[2], c[3]]));
                    Val::Const(shape, v.map(|x| x as f32).collect())
                }
                (Some(b), tflite::TensorType::INT64) => {
                    let v = b
                        .chunks_exact(8)
                        .map(|c| i64::from_le_bytes(c.try_into().expect("8 bytes")));
                    Val::Const(shape, v.map(|x| x as f32).collect())
                }
                (Some(_), ty) => return Err(not_float(ty)),
            };
            imp.vals.insert(i, val);
        }
        Ok(imp)
    }

    fn structure(&self, reason: impl Into<String>) -> TfliteError {
        TfliteError::Structure {
            path: self.path.into(),
            reason: reason.into(),
        }
    }

    /// Bind the graph input (tensor `t`): the graph's input shape is TFLite's; a 4-D input is
    /// remapped channel-first.
    fn bind_input(&mut self, t: usize) -> Result<Shape, TfliteError> {
        let Some(Val::Flow { tfl_shape, .. }) = self.vals.get(&t).cloned() else {
            return Err(self.structure("the input is a constant"));
        };
        let shape = Shape(tfl_shape.clone());
        let (id, nchw) = match tfl_shape.as_slice() {
            [1, h, w, c] => {
                let picks = nhwc_to_nchw(*h, *w, *c);
                let id = self.push(
                    "input.nchw",
                    "Transpose",
                    Op::Remap(picks),
                    vec![1, *c, *h, *w],
                    vec![0],
                );
                (id, true)
            }
            [_, _, _, _] => return Err(self.structure(format!("input {shape}: batch 1 only"))),
            _ => (0, false),
        };
        self.vals.insert(
            t,
            Val::Flow {
                tfl_shape,
                id,
                nchw,
            },
        );
        Ok(shape)
    }

    /// Make tensor `t` the graph's output, in TFLite's order.
    fn bind_output(&mut self, t: usize) -> Result<(), TfliteError> {
        let (tfl_shape, id) = self
            .plain(t)
            .map_err(|r| self.structure(format!("the output: {r}")))?;
        if id == self.nodes.len() && id > 0 {
            return Ok(());
        }
        self.push("output", "Identity", Op::Reshape, tfl_shape, vec![id]);
        Ok(())
    }

    /// Push a node; returns its tensor id.
    pub(super) fn push(
        &mut self,
        name: &str,
        op_type: &str,
        op: Op,
        shape: Vec<usize>,
        inputs: Vec<usize>,
    ) -> usize {
        self.nodes
            .push(Node::new(name, op_type, op, Shape(shape), inputs));
        self.nodes.len()
    }

    /// Data tensor `t`: its TFLite shape, graph id and layout.
    pub(super) fn flow(&self, t: usize) -> OpResult<(Vec<usize>, usize, bool)> {
        match self.vals.get(&t) {
            Some(Val::Flow {
                tfl_shape,
                id,
                nchw,
            }) if *id != usize::MAX => Ok((tfl_shape.clone(), *id, *nchw)),
            Some(Val::Flow { .. }) => Err(format!("reads tensor {t} before any operator makes it")),
            Some(Val::Const(..)) => Err(format!("tensor {t} must be data, not a constant")),
            None => Err(format!("reads tensor {t}, which does not exist")),
        }
    }

    /// Constant tensor `t`: its shape and values.
    pub(super) fn constant(&self, t: i32) -> OpResult<(Vec<usize>, Vec<f32>)> {
        match self.vals.get(&(t as usize)) {
            Some(Val::Const(s, v)) if t >= 0 => Ok((s.clone(), v.clone())),
            _ => Err(format!("tensor {t} must be a constant")),
        }
    }

    /// Data tensor `t` in TFLite's (row-major, NHWC) order: a remap when the graph holds it
    /// channel-first.
    pub(super) fn plain(&mut self, t: usize) -> OpResult<(Vec<usize>, usize)> {
        let (shape, id, nchw) = self.flow(t)?;
        if !nchw {
            return Ok((shape, id));
        }
        let [_, h, w, c] = shape[..] else {
            return Err("a channel-first tensor that is not 4-D".into());
        };
        let picks = nchw_to_nhwc(h, w, c);
        let id = self.push(
            &format!("tensor{t}.nhwc"),
            "Transpose",
            Op::Remap(picks),
            shape.clone(),
            vec![id],
        );
        Ok((shape, id))
    }

    /// Record tensor `t` as graph tensor `id` (channel-first when `nchw`).
    pub(super) fn set(&mut self, t: usize, tfl_shape: Vec<usize>, id: usize, nchw: bool) {
        self.vals.insert(
            t,
            Val::Flow {
                tfl_shape,
                id,
                nchw,
            },
        );
    }
}

/// Picks of an NHWC tensor `[1, h, w, c]` read channel-first (`[1, c, h, w]`).
pub(super) fn nhwc_to_nchw(h: usize, w: usize, c: usize) -> Vec<Pick> {
    let mut picks = Vec::with_capacity(h * w * c);
    for ch in 0..c {
        for y in 0..h {
            for x in 0..w {
                picks.push(Pick::Input((y * w + x) * c + ch));
            }
        }
    }
    picks
}

/// Picks of a channel-first tensor `[1, c, h, w]` read in NHWC order.
pub(super) fn nchw_to_nhwc(h: usize, w: usize, c: usize) -> Vec<Pick> {
    let mut picks = Vec::with_capacity(h * w * c);
    for y in 0..h {
        for x in 0..w {
            for ch in 0..c {
                picks.push(Pick::Input((ch * h + y) * w + x));
            }
        }
    }
    picks
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_remaps_are_inverse() {
        let (h, w, c) = (2, 3, 4);
        let there = nhwc_to_nchw(h, w, c);
        let back = nchw_to_nhwc(h, w, c);
        for (i, p) in back.iter().enumerate() {
            let Pick::Input(j) = p else { panic!() };
            assert_eq!(there[*j], Pick::Input(i));
        }
        assert!(is_tflite(b"\x1c\0\0\0TFL3rest") && !is_tflite(b"\x08\x07\x12\x04"));
    }
}
