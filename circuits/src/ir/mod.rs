//! The float intermediate representation: what an ONNX model means, independent of ONNX.
//!
//! A [`Graph`] is a DAG of nodes over one input tensor: each node names the tensors it reads
//! (residual Add, Concat, products). Shapes are explicit; the data of every tensor is kept flat in
//! row-major order.

mod batch;
pub mod geom;

use serde::{Deserialize, Serialize};

use crate::ir::geom::ConvGeom;

/// A tensor shape (row-major, batch dimension included when the model has one).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shape(pub Vec<usize>);

impl Shape {
    /// Number of elements: the product of the dimensions.
    pub fn numel(&self) -> usize {
        self.0.iter().product()
    }

    /// The element count, or `None` when it overflows (a hostile file).
    pub fn checked_numel(&self) -> Option<usize> {
        self.0.iter().try_fold(1usize, |n, d| n.checked_mul(*d))
    }
}

impl std::fmt::Display for Shape {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let dims: Vec<String> = self.0.iter().map(|d| d.to_string()).collect();
        write!(f, "[{}]", dims.join("x"))
    }
}

/// A dense (fully connected) layer: `y[o] = bias[o] + sum_i weight[o][i] * x[i]`.
#[derive(Clone, Debug, PartialEq)]
pub struct Dense {
    /// Input vector length.
    pub in_features: usize,
    /// Output vector length.
    pub out_features: usize,
    /// Row-major `[out_features][in_features]`.
    pub weight: Vec<f32>,
    /// One per output.
    pub bias: Vec<f32>,
}

impl Dense {
    /// A dense layer without bias; `weight` is row-major `[out_features][in_features]`.
    pub fn unbiased(in_features: usize, out_features: usize, weight: Vec<f32>) -> Self {
        Dense {
            in_features,
            out_features,
            weight,
            bias: vec![0.0; out_features],
        }
    }

    /// Float evaluation on one input vector (sums in f64).
    pub fn apply(&self, x: &[f32]) -> Vec<f32> {
        (0..self.out_features)
            .map(|o| {
                let row = &self.weight[o * self.in_features..(o + 1) * self.in_features];
                let dot: f64 = row.iter().zip(x).map(|(w, v)| *w as f64 * *v as f64).sum();
                (dot + self.bias[o] as f64) as f32
            })
            .collect()
    }
}

/// A convolution (2-D, or 1-D with height 1); average pooling is one with constant weights.
#[derive(Clone, Debug, PartialEq)]
pub struct Conv {
    /// Channels, sizes, kernel, stride, padding, dilation and groups.
    pub geom: ConvGeom,
    /// `[out_c][in_c / groups][kh][kw]`.
    pub weight: Vec<f32>,
    /// One per output channel.
    pub bias: Vec<f32>,
}

impl Conv {
    /// Float evaluation on a row-major `[C, H, W]` input (sums in f64).
    pub fn apply(&self, x: &[f32]) -> Vec<f32> {
        let f = |v: &[f32]| v.iter().map(|x| *x as f64).collect::<Vec<f64>>();
        let y = self.geom.apply(&f(x), &f(&self.weight), &f(&self.bias));
        y.into_iter().map(|v| v as f32).collect()
    }
}

fn max_pool(g: &ConvGeom, x: &[f32]) -> Vec<f32> {
    let mut out = vec![0.0; g.out_len_total()];
    for c in 0..g.out_c {
        for oy in 0..g.out_h {
            for ox in 0..g.out_w {
                let m = g
                    .patch(c, oy, ox)
                    .iter()
                    .map(|(i, _)| x[*i])
                    .fold(f32::NEG_INFINITY, f32::max);
                out[g.out_index(c, oy, ox)] = m;
            }
        }
    }
    out
}

/// Elementwise functions proven by table lookup.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Func {
    /// `1 / (1 + e^-x)`.
    Sigmoid,
    /// `tanh(x)`.
    Tanh,
    /// `x` for `x > 0`, else `alpha * (e^x - 1)`.
    Elu {
        /// Factor of the negative side.
        alpha: f32,
    },
    /// `gamma * elu_alpha(x)`.
    Selu {
        /// ELU factor of the negative side.
        alpha: f32,
        /// Factor applied to the whole ELU.
        gamma: f32,
    },
    /// `ln(1 + e^x)`.
    Softplus,
}

impl Func {
    /// The function's value at `x`.
    pub fn apply(&self, x: f64) -> f64 {
        let elu = |alpha: f32| {
            if x > 0.0 {
                x
            } else {
                alpha as f64 * x.exp_m1()
            }
        };
        match *self {
            Func::Sigmoid => 1.0 / (1.0 + (-x).exp()),
            Func::Tanh => x.tanh(),
            Func::Elu { alpha } => elu(alpha),
            Func::Selu { alpha, gamma } => gamma as f64 * elu(alpha),
            Func::Softplus => x.max(0.0) + (-x.abs()).exp().ln_1p(),
        }
    }

    /// For a bounded function, beyond `±saturation` it is constant within 3.4e-4 (the table's
    /// domain). Unbounded ones (linear for large inputs) have none: their table spans the
    /// calibrated input range instead.
    pub fn saturation(&self) -> Option<f64> {
        match self {
            Func::Sigmoid => Some(8.0),
            Func::Tanh => Some(4.5),
            Func::Elu { .. } | Func::Selu { .. } | Func::Softplus => None,
        }
    }

    /// Lower-case name, used as the layer kind in quantization reports.
    pub fn name(&self) -> &'static str {
        match self {
            Func::Sigmoid => "sigmoid",
            Func::Tanh => "tanh",
            Func::Elu { .. } => "elu",
            Func::Selu { .. } => "selu",
            Func::Softplus => "softplus",
        }
    }
}

/// Where an element of a remapped tensor comes from.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Pick {
    /// The input element at this flat (row-major) index.
    Input(usize),
    /// A constant (Pad's value).
    Const(f32),
}

/// The operations the circuit compiler understands.
#[derive(Clone, Debug, PartialEq)]
pub enum Op {
    /// A fully connected layer: Gemm or MatMul (per-channel Add, Mul, ... after it folded in), or a
    /// per-channel affine map of a 2-D tensor.
    Dense(Dense),
    /// A convolution: Conv, ConvTranspose, average pooling, or a per-channel affine map
    /// (BatchNormalization) of a `[C, H, W]` tensor.
    Conv(Conv),
    /// Per-channel window maximum (`groups == out_c`, weights unused).
    MaxPool(ConvGeom),
    /// Each output element is an input element or a constant: Pad, Transpose (no arithmetic).
    Remap(Vec<Pick>),
    /// An elementwise function proven by table lookup.
    Func(Func),
    /// `y = min(max(x, lo), hi)` (either bound optional).
    Clip {
        /// Lower bound, if any.
        lo: Option<f32>,
        /// Upper bound, if any.
        hi: Option<f32>,
    },
    /// `y = x` for `x >= 0`, else `slope * x`: one slope, or one per channel of `channel_len` elements.
    Leaky {
        /// Slopes of the negative side: one, or one per channel.
        slopes: Vec<f32>,
        /// Elements per channel: element `i` takes slope `i / channel_len`.
        channel_len: usize,
    },
    /// `y = max(x, 0)`.
    Relu,
    /// Flatten, Reshape, Identity: data unchanged, shape changed.
    Reshape,
    /// The elementwise sum `y = Σ_k coeffs[k] * x_k` of the node's inputs, all of the output's shape
    /// (Add, Sub of two activations).
    Add {
        /// One coefficient per input (1 or -1).
        coeffs: Vec<f32>,
    },
    /// The elementwise product `y = x_0 * x_1` of the node's two inputs (Mul of two activations).
    Mul,
}

impl Op {
    /// `y = a[c] * x + b[c]` per channel of a `[1, C]` tensor (a diagonal dense layer) or a
    /// `[1, C, H, W]` / `[1, C, L]` one (a depthwise 1x1 convolution).
    pub fn channel_affine(shape: &Shape, a: &[f64], b: &[f64]) -> Result<Op, String> {
        let c = a.len();
        let f32s = |v: &[f64]| v.iter().map(|x| *x as f32).collect::<Vec<f32>>();
        let depthwise = |h: usize, w: usize| {
            Op::Conv(Conv {
                geom: ConvGeom::depthwise(c, h, w, [1, 1]),
                weight: f32s(a),
                bias: f32s(b),
            })
        };
        match shape.0[..] {
            [1, n] if n == c => {
                let mut weight = vec![0.0f32; c * c];
                for i in 0..c {
                    weight[i * c + i] = a[i] as f32;
                }
                Ok(Op::Dense(Dense {
                    in_features: c,
                    out_features: c,
                    weight,
                    bias: f32s(b),
                }))
            }
            [1, n, l] if n == c => Ok(depthwise(1, l)),
            [1, n, h, w] if n == c => Ok(depthwise(h, w)),
            _ => Err(format!(
                "{c} per-channel parameters for a tensor of shape {shape}"
            )),
        }
    }
}

/// One node of the graph, with the ONNX name and op type it came from (for messages and reports).
#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    /// The ONNX node's name.
    pub name: String,
    /// The ONNX op type (`Gemm`, `Conv`, ...).
    pub op_type: String,
    /// What the node computes.
    pub op: Op,
    /// Shape of the node's output.
    pub out_shape: Shape,
    /// The tensors it reads: 0 is the graph input, `k + 1` the output of node `k` (always an
    /// earlier one). Its op reads their concatenation (a Remap's picks index it: Concat).
    pub inputs: Vec<usize>,
}

impl Node {
    /// A node named `name` (of op type `op_type`) computing `op` from the tensors `inputs`.
    pub fn new(name: &str, op_type: &str, op: Op, out_shape: Shape, inputs: Vec<usize>) -> Self {
        Node {
            name: name.into(),
            op_type: op_type.into(),
            op,
            out_shape,
            inputs,
        }
    }
}

/// A model as a float graph of nodes on one input tensor (a DAG in topological order; the last node
/// makes the output): what the ONNX file means.
#[derive(Clone, Debug, PartialEq)]
pub struct Graph {
    /// Name of the ONNX graph input.
    pub input_name: String,
    /// Shape of the input tensor: the one input's, or `[total]` for several concatenated.
    pub input_shape: Shape,
    /// Each input's shape when the model has several (empty for one); the first nodes split them.
    pub input_parts: Vec<Shape>,
    /// Name of the ONNX graph output.
    pub output_name: String,
    /// The nodes, in topological order (see [`Node::inputs`]); the last one makes the output.
    pub nodes: Vec<Node>,
    /// Trailing ops of the ONNX model left out of the circuit (Softmax, ArgMax): the proven output is
    /// the tensor before them.
    pub unproven_tail: Vec<String>,
}

impl Graph {
    /// Shape of the last node's output (the input's when there are no nodes).
    pub fn output_shape(&self) -> &Shape {
        self.nodes
            .last()
            .map(|n| &n.out_shape)
            .unwrap_or(&self.input_shape)
    }

    /// Float evaluation; returns the output of every node (index i = output of node i).
    pub fn eval(&self, input: &[f32]) -> Vec<Vec<f32>> {
        let mut outs: Vec<Vec<f32>> = Vec::with_capacity(self.nodes.len());
        for node in &self.nodes {
            let tensor = |t: usize| {
                if t == 0 {
                    input
                } else {
                    outs[t - 1].as_slice()
                }
            };
            let joined: Vec<f32>;
            let x: &[f32] = match node.inputs.as_slice() {
                [t] => tensor(*t),
                ts => {
                    joined = ts.iter().flat_map(|t| tensor(*t)).copied().collect();
                    &joined
                }
            };
            let n = node.out_shape.numel();
            let y = match &node.op {
                Op::Add { coeffs } => (0..n)
                    .map(|e| {
                        let s: f64 = coeffs
                            .iter()
                            .enumerate()
                            .map(|(k, c)| *c as f64 * x[k * n + e] as f64)
                            .sum();
                        s as f32
                    })
                    .collect(),
                Op::Mul => (0..n).map(|e| x[e] * x[n + e]).collect(),
                Op::Dense(d) => d.apply(x),
                Op::Conv(c) => c.apply(x),
                Op::MaxPool(g) => max_pool(g, x),
                Op::Leaky {
                    slopes,
                    channel_len,
                } => x
                    .iter()
                    .enumerate()
                    .map(|(i, v)| {
                        let c = (i / channel_len.max(&1)).min(slopes.len() - 1);
                        if *v >= 0.0 {
                            *v
                        } else {
                            v * slopes[c]
                        }
                    })
                    .collect(),
                Op::Relu => x.iter().map(|v| v.max(0.0)).collect(),
                Op::Reshape => x.to_vec(),
                Op::Func(f) => x.iter().map(|v| f.apply(*v as f64) as f32).collect(),
                Op::Clip { lo, hi } => x
                    .iter()
                    .map(|v| v.max(lo.unwrap_or(f32::MIN)).min(hi.unwrap_or(f32::MAX)))
                    .collect(),
                Op::Remap(map) => map
                    .iter()
                    .map(|p| match p {
                        Pick::Input(i) => x[*i],
                        Pick::Const(c) => *c,
                    })
                    .collect(),
            };
            outs.push(y);
        }
        outs
    }

    /// The nodes that read tensor `t` (0: the input, `k + 1`: node k's output), each once.
    pub fn readers(&self, t: usize) -> Vec<usize> {
        (0..self.nodes.len())
            .filter(|n| self.nodes[*n].inputs.contains(&t))
            .collect()
    }

    /// Per tensor, how many times it is read: by nodes (an input read twice counts twice), and once
    /// more for the output.
    pub fn uses(&self) -> Vec<usize> {
        let mut uses = vec![0; self.nodes.len() + 1];
        for n in &self.nodes {
            for t in &n.inputs {
                uses[*t] += 1;
            }
        }
        uses[self.nodes.len()] += 1;
        uses
    }

    /// Multiply-accumulates of all Dense and Conv nodes.
    pub fn macs(&self) -> usize {
        self.nodes
            .iter()
            .map(|n| match &n.op {
                Op::Dense(d) => d.in_features * d.out_features,
                Op::Conv(c) => c.geom.macs(),
                _ => 0,
            })
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::Func;

    #[test]
    fn unbounded_functions_match_their_definitions() {
        let selu = Func::Selu {
            alpha: 1.673_263_2,
            gamma: 1.050_701,
        };
        assert_eq!(Func::Elu { alpha: 0.5 }.apply(2.0), 2.0);
        assert!((Func::Elu { alpha: 0.5 }.apply(-1.0) - 0.5 * ((-1f64).exp() - 1.0)).abs() < 1e-12);
        assert!((selu.apply(-30.0) + 1.673_263_2 * 1.050_701).abs() < 1e-6);
        // Softplus without overflow at either end.
        assert!((Func::Softplus.apply(0.0) - 2f64.ln()).abs() < 1e-12);
        assert_eq!(Func::Softplus.apply(800.0), 800.0);
        assert!(Func::Softplus.apply(-800.0) >= 0.0);
        assert!(Func::Softplus.saturation().is_none() && Func::Tanh.saturation().is_some());
    }
}
