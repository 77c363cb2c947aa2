//! ONNX → [`Graph`]. ONNX is known in this module only.
//!
//! tract-onnx decodes the protobuf and loads the tensors; this module interprets the nodes as a chain of
//! [`Op`]s, folding constant sub-graphs (shape arithmetic such as PyTorch's flatten pattern) on the way.
//! Every unsupported node is reported at once, before anything else happens.

mod cnn;
mod deconv;
mod errors;
mod fold;
pub mod int8;
mod io;
mod join;
mod linear;
mod remap;
mod select;
mod shapes;

use std::collections::HashMap;
use std::path::Path;

use tract_onnx::pb::{self, type_proto, NodeProto, TensorProto};
use tract_onnx::prelude::Framework;

use crate::ir::{Func, Graph, Node, Op, Shape};
pub use errors::{OnnxError, UnsupportedNode, SUPPORTED_OPS, UNPROVEN_TAIL_OPS};
use shapes::{norm_axis, reshape_target, squeeze, unsqueeze};

/// A constant tensor (numbers kept as f64; integer shape tensors are exact).
#[derive(Clone, Debug)]
pub(crate) struct Const {
    pub(super) shape: Vec<usize>,
    pub(super) data: Vec<f64>,
}

#[derive(Clone, Debug)]
pub(super) enum Val {
    Const(Const),
    /// A data tensor (computed from the input), with its shape and its tensor id in the graph (0: the
    /// input, `k + 1`: node k's output).
    Flow(Shape, usize),
}

pub(super) type NodeResult<T> = Result<T, String>;

/// How to read a model.
#[derive(Clone, Copy, Debug, Default)]
pub struct ImportOptions {
    /// Treat the input's first dimension as a batch of 1 whatever the file says (one inference per
    /// proof; used to prove each element of a batched test case).
    pub batch_one: bool,
}

/// Import an ONNX file.
pub fn import(path: &Path) -> Result<Graph, OnnxError> {
    import_with(path, ImportOptions::default())
}

/// An ONNX file as zkinfer reads it.
#[derive(Debug)]
pub enum OnnxModel {
    /// A float model.
    Float(Graph),
    /// An int8 model (onnxruntime's QDQ or QOperator form).
    Int8(crate::import::tflite::int8::Int8Model),
}

/// Import a float or int8 ONNX file.
pub fn import_model(path: &Path) -> Result<OnnxModel, OnnxError> {
    let (p, model) = read_model(path)?;
    let graph = graph_of(&model, &p)?;
    if !int8::is_quantized(graph) {
        return Ok(OnnxModel::Float(import(path)?));
    }
    let dir = path.parent().and_then(|d| d.to_str());
    Ok(OnnxModel::Int8(int8::import(&p, dir, graph)?))
}

/// The file's path as messages give it, and its decoded protobuf.
fn read_model(path: &Path) -> Result<(String, pb::ModelProto), OnnxError> {
    let p = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|source| OnnxError::Io {
        path: p.clone(),
        source,
    })?;
    let model = tract_onnx::onnx()
        .proto_model_for_read(&mut bytes.as_slice())
        .map_err(|e| OnnxError::NotOnnx {
            path: p.clone(),
            reason: format!("{e:#}"),
        })?;
    Ok((p, model))
}

fn graph_of<'m>(model: &'m pb::ModelProto, p: &str) -> Result<&'m pb::GraphProto, OnnxError> {
    model.graph.as_ref().ok_or_else(|| OnnxError::NotOnnx {
        path: p.into(),
        reason: "the file holds no graph".into(),
    })
}

/// A constant tensor of the file: its shape and values (integers exact in f64).
pub(super) fn load_tensor(
    t: &TensorProto,
    dir: Option<&str>,
) -> NodeResult<(Vec<usize>, Vec<f64>)> {
    let tensor =
        tract_onnx::tensor::load_tensor(&tract_onnx::data_resolver::MmapDataResolver, t, dir)
            .map_err(|e| format!("{e:#}"))?;
    let shape = tensor.shape().to_vec();
    let cast = tensor.cast_to::<f64>().map_err(|e| format!("{e:#}"))?;
    let view = cast.try_as_plain_ram().map_err(|e| format!("{e:#}"))?;
    let data = view
        .as_slice::<f64>()
        .map_err(|e| format!("{e:#}"))?
        .to_vec();
    Ok((shape, data))
}

/// Import an ONNX file with options.
pub fn import_with(path: &Path, opts: ImportOptions) -> Result<Graph, OnnxError> {
    let (p, model) = read_model(path)?;
    let graph = graph_of(&model, &p)?;
    let dir = path.parent().and_then(|d| d.to_str());
    Importer::new(&p, dir, opts).run(graph)
}

pub(super) struct Importer<'a> {
    path: &'a str,
    dir: Option<&'a str>,
    opts: ImportOptions,
    vals: HashMap<String, Val>,
    pub(super) nodes: Vec<Node>,
    /// How many times each tensor name is read (by nodes, and once more for a graph output).
    reads: HashMap<String, usize>,
    /// The batch size when the input has a leading dimension N > 1 (imported per sample).
    pub(super) batch: Option<usize>,
}

impl<'a> Importer<'a> {
    fn new(path: &'a str, dir: Option<&'a str>, opts: ImportOptions) -> Self {
        Importer {
            path,
            dir,
            opts,
            vals: HashMap::new(),
            nodes: Vec::new(),
            reads: HashMap::new(),
            batch: None,
        }
    }

    fn structure(&self, reason: impl Into<String>) -> OnnxError {
        OnnxError::Structure {
            path: self.path.into(),
            reason: reason.into(),
        }
    }

    fn run(mut self, graph: &pb::GraphProto) -> Result<Graph, OnnxError> {
        let unsupported: Vec<UnsupportedNode> = graph
            .node
            .iter()
            .filter(|n| {
                !(n.domain.is_empty() || n.domain == "ai.onnx")
                    || !SUPPORTED_OPS.contains(&n.op_type.as_str())
            })
            .map(|n| UnsupportedNode {
                name: n.name.clone(),
                op_type: n.op_type.clone(),
            })
            .collect();
        if !unsupported.is_empty() {
            return Err(OnnxError::Unsupported {
                path: self.path.into(),
                nodes: unsupported,
            });
        }
        for init in &graph.initializer {
            let c = self.load(init).map_err(|reason| {
                self.structure(format!("initializer '{}': {reason}", init.name))
            })?;
            self.vals.insert(init.name.clone(), Val::Const(c));
        }
        let inputs: Vec<&pb::ValueInfoProto> = graph
            .input
            .iter()
            .filter(|i| !self.vals.contains_key(&i.name))
            .collect();
        let bound = self.bind_inputs(&inputs)?;
        let batch = self.batch;
        for name in graph.node.iter().flat_map(|n| &n.input) {
            *self.reads.entry(name.clone()).or_default() += 1;
        }
        for o in &graph.output {
            *self.reads.entry(o.name.clone()).or_default() += 1;
        }

        // The classifier tail is set aside only for a model with one output.
        let tail = match graph.output.len() {
            1 => unproven_tail(graph),
            _ => vec![],
        };
        let mut output_name = graph
            .output
            .first()
            .map(|o| o.name.clone())
            .unwrap_or_default();
        for node in &graph.node {
            if let Some(t) = tail
                .iter()
                .find(|t| t.name == node.name && t.op_type == node.op_type)
            {
                output_name = t.input.clone();
                continue;
            }
            self.node(node).map_err(|reason| OnnxError::Node {
                path: self.path.into(),
                node: node.name.clone(),
                op: node.op_type.clone(),
                reason,
            })?;
        }
        let output_names: Vec<String> = match graph.output.len() {
            1 => vec![output_name],
            _ => graph.output.iter().map(|o| o.name.clone()).collect(),
        };
        self.bind_outputs(&output_names)?;
        let graph = Graph {
            input_name: bound.name,
            input_shape: bound.shape,
            input_parts: bound.parts,
            output_name: graph
                .output
                .iter()
                .map(|o| o.name.as_str())
                .collect::<Vec<_>>()
                .join("+"),
            nodes: self.nodes,
            unproven_tail: tail.iter().map(|t| t.op_type.clone()).collect(),
        };
        let Some(n) = batch else {
            return Ok(graph);
        };
        // Each sample's computation must stay within its sample: no node may grow the batch axis.
        if let Some(node) = graph
            .nodes
            .iter()
            .find(|n| n.out_shape.0.first() != Some(&1))
        {
            return Err(OnnxError::Node {
                path: self.path.into(),
                node: node.name.clone(),
                op: node.op_type.clone(),
                reason: format!(
                    "it moves data across the batch of {n} (output {} per sample);                      only models that compute each batch element on its own are supported",
                    node.out_shape
                ),
            });
        }
        Ok(graph.batched(n))
    }

    pub(super) fn load(&self, t: &TensorProto) -> NodeResult<Const> {
        let (shape, data) = load_tensor(t, self.dir)?;
        Ok(Const { shape, data })
    }

    pub(super) fn input(&self, node: &NodeProto, i: usize) -> NodeResult<Option<&Val>> {
        match node.input.get(i) {
            None => Ok(None),
            Some(name) if name.is_empty() => Ok(None),
            Some(name) => self
                .vals
                .get(name)
                .map(Some)
                .ok_or_else(|| format!("reads '{name}', which no earlier node makes")),
        }
    }

    pub(super) fn const_input(&self, node: &NodeProto, i: usize) -> NodeResult<Option<Const>> {
        match self.input(node, i)? {
            None => Ok(None),
            Some(Val::Const(c)) => Ok(Some(c.clone())),
            Some(Val::Flow(..)) => Err(format!("input {i} must be a constant (an initializer)")),
        }
    }

    /// The shape of data tensor input `i`.
    pub(super) fn flow_input(&self, node: &NodeProto, i: usize) -> NodeResult<Shape> {
        match self.input(node, i)? {
            Some(Val::Flow(s, _)) => Ok(s.clone()),
            _ => Err(format!("input {i} must be the data tensor")),
        }
    }

    /// Whether input `i` of `node` is the newest node's output and read by `node` alone, so that
    /// `node` may fold into that node (a BatchNormalization into its Conv).
    pub(super) fn may_fold_into_last(&self, node: &NodeProto, i: usize) -> bool {
        let only_reader = node
            .input
            .get(i)
            .is_some_and(|name| self.reads.get(name) == Some(&1));
        let last = matches!(self.input(node, i), Ok(Some(Val::Flow(_, id))) if *id == self.nodes.len() && *id > 0);
        only_reader && last
    }

    /// `node`'s output is its data input's tensor under another name (Identity, a folded node).
    pub(super) fn alias(&mut self, node: &NodeProto, shape: Shape) -> NodeResult<()> {
        let id = (0..node.input.len())
            .find_map(|i| match self.input(node, i) {
                Ok(Some(Val::Flow(_, id))) => Some(*id),
                _ => None,
            })
            .ok_or("has no data input")?;
        let out = node.output.first().ok_or("has no output")?;
        self.vals.insert(out.clone(), Val::Flow(shape, id));
        Ok(())
    }

    /// Push a node computing `op` from `node`'s data inputs (in order).
    pub(super) fn push(&mut self, node: &NodeProto, op: Op, shape: Shape) -> NodeResult<()> {
        let inputs = (0..node.input.len())
            .filter_map(|i| match self.input(node, i) {
                Ok(Some(Val::Flow(_, id))) => Some(*id),
                _ => None,
            })
            .collect();
        self.push_reading(node, op, shape, inputs)
    }

    /// Push a node computing `op` from the tensors `inputs`, named as `node`'s output.
    pub(super) fn push_reading(
        &mut self,
        node: &NodeProto,
        op: Op,
        shape: Shape,
        inputs: Vec<usize>,
    ) -> NodeResult<()> {
        let id = self.push_node(&node.name, &node.op_type, op, shape.clone(), inputs);
        let out = node.output.first().ok_or("has no output")?;
        self.vals.insert(out.clone(), Val::Flow(shape, id));
        Ok(())
    }

    /// Push a node; returns its output's tensor id.
    pub(super) fn push_node(
        &mut self,
        name: &str,
        op_type: &str,
        op: Op,
        shape: Shape,
        inputs: Vec<usize>,
    ) -> usize {
        self.nodes.push(Node::new(name, op_type, op, shape, inputs));
        self.nodes.len()
    }

    fn node(&mut self, node: &NodeProto) -> NodeResult<()> {
        let any_flow =
            (0..node.input.len()).any(|i| matches!(self.input(node, i), Ok(Some(Val::Flow(..)))));
        if !any_flow && node.op_type != "Shape" {
            let c = self.fold(node)?;
            let out = node.output.first().ok_or("has no output")?;
            self.vals.insert(out.clone(), Val::Const(c));
            return Ok(());
        }
        match node.op_type.as_str() {
            "Gemm" => self.gemm(node),
            "MatMul" => self.matmul(node),
            "Add" | "Sub" | "Mul" | "Div" if self.flow_inputs(node) > 1 => self.join(node),
            "Add" | "Sub" | "Mul" | "Div" => self.arith(node),
            "Concat" => self.concat(node),
            "Neg" => {
                let s = self.flow_input(node, 0)?;
                let op = Op::Add { coeffs: vec![-1.0] };
                self.push(node, op, s)
            }
            "Slice" => self.slice(node),
            "Gather" => self.gather(node),
            "Split" => self.split(node),
            "ReduceMean" | "ReduceSum" => self.reduce(node),
            "HardSwish" => self.hard_swish(node),
            "Conv" => self.conv(node),
            "ConvTranspose" => self.conv_transpose(node),
            "Pad" => self.pad(node),
            "HardSigmoid" => self.hard_sigmoid(node),
            "Sigmoid" | "Tanh" | "Elu" | "Selu" | "Softplus" => {
                let s = self.flow_input(node, 0)?;
                let attr = |name: &str, default: f32| -> NodeResult<f32> {
                    let v = node.get_attr_opt::<f32>(name).map_err(|e| e.to_string())?;
                    Ok(v.unwrap_or(default))
                };
                let f = match node.op_type.as_str() {
                    "Sigmoid" => Func::Sigmoid,
                    "Tanh" => Func::Tanh,
                    "Elu" => Func::Elu {
                        alpha: attr("alpha", 1.0)?,
                    },
                    // ONNX's defaults: the self-normalizing constants.
                    "Selu" => Func::Selu {
                        alpha: attr("alpha", 1.673_263_2)?,
                        gamma: attr("gamma", 1.050_701)?,
                    },
                    _ => Func::Softplus,
                };
                self.push(node, Op::Func(f), s)
            }
            "Clip" => {
                let s = self.flow_input(node, 0)?;
                let bound = |attr: &str, input: usize| -> NodeResult<Option<f32>> {
                    if let Some(v) = node.get_attr_opt::<f32>(attr).map_err(|e| e.to_string())? {
                        return Ok(Some(v));
                    }
                    Ok(self
                        .const_input(node, input)?
                        .and_then(|c| c.data.first().map(|v| *v as f32)))
                };
                let (lo, hi) = (bound("min", 1)?, bound("max", 2)?);
                self.push(node, Op::Clip { lo, hi }, s)
            }
            "Transpose" => self.transpose(node),
            "LeakyRelu" => {
                let s = self.flow_input(node, 0)?;
                let alpha = node
                    .get_attr_opt::<f32>("alpha")
                    .map_err(|e| e.to_string())?
                    .unwrap_or(0.01);
                let op = Op::Leaky {
                    slopes: vec![alpha],
                    channel_len: s.numel(),
                };
                self.push(node, op, s)
            }
            "PRelu" => {
                let s = self.flow_input(node, 0)?;
                let slope = self.const_input(node, 1)?.ok_or("needs a constant slope")?;
                let channels = s.0.get(1).copied().unwrap_or(1);
                let per = match slope.data.len() {
                    1 => s.numel(),
                    n if n == channels && s.0.len() >= 2 => s.numel() / channels,
                    n => {
                        return Err(format!(
                            "{n} slopes for input {s}: one, or one per channel, is supported"
                        ))
                    }
                };
                let op = Op::Leaky {
                    slopes: slope.data.iter().map(|v| *v as f32).collect(),
                    channel_len: per,
                };
                self.push(node, op, s)
            }
            "AveragePool" => self.average_pool(node, false),
            "GlobalAveragePool" => self.average_pool(node, true),
            "MaxPool" => self.max_pool(node),
            "BatchNormalization" => self.batch_norm(node),
            "Relu" => {
                let s = self.flow_input(node, 0)?;
                self.push(node, Op::Relu, s)
            }
            "Identity" | "Dropout" => {
                let s = self.flow_input(node, 0)?;
                self.alias(node, s)
            }
            "Flatten" => {
                let s = self.flow_input(node, 0)?;
                let axis = node
                    .get_attr_opt::<i64>("axis")
                    .map_err(|e| e.to_string())?
                    .unwrap_or(1);
                let axis = norm_axis(axis, s.0.len() + 1)?;
                let shape = Shape(vec![
                    s.0[..axis].iter().product(),
                    s.0[axis..].iter().product(),
                ]);
                self.push(node, Op::Reshape, shape)
            }
            "Reshape" => {
                let s = self.flow_input(node, 0)?;
                let target = self
                    .const_input(node, 1)?
                    .ok_or("needs a constant shape input")?;
                let shape = reshape_target(&s, &target.data)?;
                self.push(node, Op::Reshape, shape)
            }
            "Squeeze" | "Unsqueeze" => {
                let s = self.flow_input(node, 0)?;
                let axes = self.axes(node)?;
                let shape = if node.op_type == "Squeeze" {
                    squeeze(&s.0, &axes)?
                } else {
                    unsqueeze(&s.0, &axes)?
                };
                self.push(node, Op::Reshape, Shape(shape))
            }
            "Shape" => {
                let s = match self.input(node, 0)? {
                    Some(Val::Flow(s, _)) => s.0.clone(),
                    Some(Val::Const(c)) => c.shape.clone(),
                    None => return Err("needs an input".into()),
                };
                let out = node.output.first().ok_or("has no output")?;
                let data = s.iter().map(|d| *d as f64).collect();
                self.vals.insert(
                    out.clone(),
                    Val::Const(Const {
                        shape: vec![s.len()],
                        data,
                    }),
                );
                Ok(())
            }
            op => Err(format!("{op} on the data tensor is not supported yet")),
        }
    }

    pub(super) fn axes(&self, node: &NodeProto) -> NodeResult<Vec<i64>> {
        if let Some(a) = node
            .get_attr_opt_vec::<i64>("axes")
            .map_err(|e| e.to_string())?
        {
            return Ok(a);
        }
        Ok(self
            .const_input(node, 1)?
            .map(|c| c.data.iter().map(|v| *v as i64).collect())
            .unwrap_or_default())
    }
}

/// A trailing node left out of the circuit.
struct TailNode {
    name: String,
    op_type: String,
    /// The tensor it reads (the proven output).
    input: String,
}

/// The chain of [`UNPROVEN_TAIL_OPS`] nodes that ends at the graph output, in graph order.
fn unproven_tail(graph: &pb::GraphProto) -> Vec<TailNode> {
    let mut tail = Vec::new();
    let Some(mut wanted) = graph.output.first().map(|o| o.name.clone()) else {
        return tail;
    };
    while let Some(n) = graph
        .node
        .iter()
        .find(|n| n.output.first() == Some(&wanted))
    {
        if !UNPROVEN_TAIL_OPS.contains(&n.op_type.as_str()) || n.input.is_empty() {
            break;
        }
        tail.push(TailNode {
            name: n.name.clone(),
            op_type: n.op_type.clone(),
            input: n.input[0].clone(),
        });
        wanted = n.input[0].clone();
    }
    tail.reverse();
    tail
}

pub(super) fn value_shape(v: &pb::ValueInfoProto) -> Result<Shape, String> {
    let Some(type_proto::Value::TensorType(t)) = v.r#type.as_ref().and_then(|t| t.value.as_ref())
    else {
        return Err("is not a tensor".into());
    };
    let dims = t.shape.as_ref().ok_or("has no shape")?;
    let shape = dims
        .dim
        .iter()
        .map(|d| match &d.value {
            Some(pb::tensor_shape_proto::dimension::Value::DimValue(v)) if *v > 0 => {
                Ok(*v as usize)
            }
            // A symbolic or unknown dimension is the batch: one inference per proof.
            _ => Ok(1),
        })
        .collect::<Result<Vec<_>, String>>()?;
    Ok(Shape(shape))
}
