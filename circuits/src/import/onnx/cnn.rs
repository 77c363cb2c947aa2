//! ONNX convolution-family ops: Conv, AveragePool, GlobalAveragePool, BatchNormalization.

use tract_onnx::pb::NodeProto;

use super::{Importer, NodeResult};
use crate::ir::geom::ConvGeom;
use crate::ir::{Conv, Op, Shape};

/// `[C, H, W]` of a `[1, C, H, W]` or `[1, C, L]` tensor (a 1-D one has `H = 1`).
pub(super) fn chw(s: &Shape) -> NodeResult<(usize, usize, usize, bool)> {
    match s.0.as_slice() {
        [1, c, h, w] => Ok((*c, *h, *w, false)),
        [1, c, l] => Ok((*c, 1, *l, true)),
        _ => Err(format!(
            "input has shape {s}; expected [1, C, H, W] or [1, C, L] (batch 1)"
        )),
    }
}

pub(super) fn ints(node: &NodeProto, name: &str) -> NodeResult<Option<Vec<usize>>> {
    let v = node
        .get_attr_opt_vec::<i64>(name)
        .map_err(|e| e.to_string())?;
    v.map(|v| {
        v.into_iter()
            .map(|x| {
                usize::try_from(x).map_err(|_| format!("attribute {name} has a negative value"))
            })
            .collect()
    })
    .transpose()
}

/// 2-D per-axis attribute: 1-D models give one value (the width axis; height gets `dflt`).
pub(super) fn pair(
    v: Option<Vec<usize>>,
    one_d: bool,
    dflt: usize,
    name: &str,
) -> NodeResult<[usize; 2]> {
    match (v.as_deref(), one_d) {
        (None, _) => Ok([dflt, dflt]),
        (Some([a, b]), false) => Ok([*a, *b]),
        // A 1-D window is a 2-D one of height 1: kernel, stride and dilation 1 on that axis.
        (Some([a]), true) => Ok([1, *a]),
        (Some(v), _) => Err(format!("attribute {name} has {} values", v.len())),
    }
}

/// Geometry of a convolution or pooling window from the ONNX attributes.
pub(super) fn window_geom(
    node: &NodeProto,
    (c, h, w, one_d): (usize, usize, usize, bool),
    kernel: [usize; 2],
    out_c: usize,
    groups: usize,
) -> NodeResult<ConvGeom> {
    let stride = pair(ints(node, "strides")?, one_d, 1, "strides")?;
    let dilation = pair(ints(node, "dilations")?, one_d, 1, "dilations")?;
    let auto_pad = node
        .get_attr_opt::<String>("auto_pad")
        .map_err(|e| e.to_string())?
        .unwrap_or_else(|| "NOTSET".into());
    let pads = match auto_pad.as_str() {
        "NOTSET" => match (ints(node, "pads")?.as_deref(), one_d) {
            (None, _) => [0; 4],
            (Some([t, l, b, r]), false) => [*t, *l, *b, *r],
            (Some([l, r]), true) => [0, *l, 0, *r],
            (Some(p), _) => return Err(format!("attribute pads has {} values", p.len())),
        },
        "VALID" => [0; 4],
        "SAME_UPPER" | "SAME_LOWER" => {
            let total = |n: usize, k: usize, s: usize, d: usize| {
                let out = n.div_ceil(s);
                ((out - 1) * s + (k - 1) * d + 1).saturating_sub(n)
            };
            let (th, tw) = (
                total(h, kernel[0], stride[0], dilation[0]),
                total(w, kernel[1], stride[1], dilation[1]),
            );
            if auto_pad == "SAME_UPPER" {
                [th / 2, tw / 2, th - th / 2, tw - tw / 2]
            } else {
                [th - th / 2, tw - tw / 2, th / 2, tw / 2]
            }
        }
        other => return Err(format!("auto_pad {other} is not an ONNX value")),
    };
    let out_h = ConvGeom::out_len(h, kernel[0], stride[0], pads[0], pads[2], dilation[0]);
    let out_w = ConvGeom::out_len(w, kernel[1], stride[1], pads[1], pads[3], dilation[1]);
    let (Some(out_h), Some(out_w)) = (out_h, out_w) else {
        return Err("the kernel is larger than the padded input".into());
    };
    let geom = ConvGeom {
        in_c: c,
        in_h: h,
        in_w: w,
        out_c,
        out_h,
        out_w,
        kernel,
        stride,
        pads,
        dilation,
        groups,
        input_dilation: [1, 1],
    };
    geom.validate()?;
    Ok(geom)
}

/// Pools with `ceil_mode = 1` (a partial last window) are not supported yet.
pub(super) fn no_ceil_mode(node: &NodeProto) -> NodeResult<()> {
    let ceil = node
        .get_attr_opt::<i64>("ceil_mode")
        .map_err(|e| e.to_string())?;
    match ceil {
        Some(c) if c != 0 => {
            Err("ceil_mode = 1 is not supported yet (export with ceil_mode = False)".into())
        }
        _ => Ok(()),
    }
}

/// An average pool divides every window by its full size: with padding that needs
/// `count_include_pad = 1` (each border window divided by its own count is not supported yet).
pub(super) fn divides_by_window(node: &NodeProto, geom: &ConvGeom) -> NodeResult<()> {
    let include_pad = node
        .get_attr_opt::<i64>("count_include_pad")
        .map_err(|e| e.to_string())?
        .unwrap_or(0)
        != 0;
    match geom.pads.iter().any(|p| *p > 0) && !include_pad {
        true => Err(
            "count_include_pad = 0 with padding divides each border window differently; not \
             supported yet (export with count_include_pad = True)"
                .into(),
        ),
        false => Ok(()),
    }
}

/// Fold `y = a[o] * x + b[o]` into the rows (`row_len` weights each) and biases of a linear layer.
fn fold_affine(weight: &mut [f32], bias: &mut [f32], row_len: usize, a: &[f64], b: &[f64]) {
    for (o, (a, b)) in a.iter().zip(b).enumerate() {
        for w in &mut weight[o * row_len..(o + 1) * row_len] {
            *w = (*w as f64 * a) as f32;
        }
        bias[o] = (bias[o] as f64 * a + b) as f32;
    }
}

pub(super) fn out_shape(g: &ConvGeom, one_d: bool) -> Shape {
    if one_d {
        Shape(vec![1, g.out_c, g.out_w])
    } else {
        Shape(vec![1, g.out_c, g.out_h, g.out_w])
    }
}

/// The `group` attribute (1 when absent).
pub(super) fn groups(node: &NodeProto) -> NodeResult<usize> {
    let groups = node
        .get_attr_opt::<i64>("group")
        .map_err(|e| e.to_string())?
        .unwrap_or(1);
    usize::try_from(groups).map_err(|_| "group must be positive".into())
}

impl Importer<'_> {
    /// A convolution's optional third input: one bias per output channel (zeros when absent).
    pub(super) fn conv_bias(&self, node: &NodeProto, out_c: usize) -> NodeResult<Vec<f32>> {
        match self.const_input(node, 2)? {
            Some(b) if b.data.len() == out_c => Ok(b.data.iter().map(|v| *v as f32).collect()),
            Some(b) => Err(format!(
                "bias has {} values for {out_c} channels",
                b.data.len()
            )),
            None => Ok(vec![0.0; out_c]),
        }
    }

    pub(super) fn conv(&mut self, node: &NodeProto) -> NodeResult<()> {
        let s = self.flow_input(node, 0)?;
        let dims = chw(&s)?;
        let w = self.const_input(node, 1)?.ok_or("needs constant weights")?;
        let groups = groups(node)?;
        let (out_c, kernel) = match (w.shape.as_slice(), dims.3) {
            ([m, _, kh, kw], false) => (*m, [*kh, *kw]),
            ([m, _, k], true) => (*m, [1, *k]),
            _ => return Err(format!("weights have shape {:?}", w.shape)),
        };
        if let Some(k) = ints(node, "kernel_shape")? {
            if pair(Some(k), dims.3, 1, "kernel_shape")? != kernel {
                return Err("kernel_shape disagrees with the weights".into());
            }
        }
        let geom = window_geom(node, dims, kernel, out_c, groups)?;
        if w.shape[1] != geom.in_per_group() {
            return Err(format!(
                "weights expect {} input channels per group, the input has {}",
                w.shape[1],
                geom.in_per_group()
            ));
        }
        let bias = self.conv_bias(node, out_c)?;
        let conv = Conv {
            geom,
            weight: w.data.iter().map(|v| *v as f32).collect(),
            bias,
        };
        self.push(node, Op::Conv(conv), out_shape(&geom, dims.3))
    }

    /// AveragePool and GlobalAveragePool: a depthwise convolution with weights `1 / window`.
    pub(super) fn average_pool(&mut self, node: &NodeProto, global: bool) -> NodeResult<()> {
        let s = self.flow_input(node, 0)?;
        let dims = chw(&s)?;
        let (c, h, w, one_d) = dims;
        let kernel = if global {
            [h, w]
        } else {
            let k = ints(node, "kernel_shape")?.ok_or("needs kernel_shape")?;
            pair(Some(k), one_d, 1, "kernel_shape")?
        };
        if !global {
            no_ceil_mode(node)?;
        }
        let geom = if global {
            ConvGeom::depthwise(c, h, w, kernel)
        } else {
            window_geom(node, dims, kernel, c, c)?
        };
        divides_by_window(node, &geom)?;
        let window = (kernel[0] * kernel[1]) as f32;
        let conv = Conv {
            geom,
            weight: vec![1.0 / window; geom.weight_len()],
            bias: vec![0.0; c],
        };
        self.push(node, Op::Conv(conv), out_shape(&geom, one_d))
    }

    /// MaxPool: a per-channel window maximum.
    pub(super) fn max_pool(&mut self, node: &NodeProto) -> NodeResult<()> {
        let s = self.flow_input(node, 0)?;
        let dims = chw(&s)?;
        let k = ints(node, "kernel_shape")?.ok_or("needs kernel_shape")?;
        let kernel = pair(Some(k), dims.3, 1, "kernel_shape")?;
        no_ceil_mode(node)?;
        if node.output.len() > 1 && !node.output[1].is_empty() {
            return Err("the Indices output is not supported".into());
        }
        let geom = window_geom(node, dims, kernel, dims.0, dims.0)?;
        self.push(node, Op::MaxPool(geom), out_shape(&geom, dims.3))
    }

    /// BatchNormalization (inference): folded into the preceding Conv or Gemm, or a per-channel affine.
    pub(super) fn batch_norm(&mut self, node: &NodeProto) -> NodeResult<()> {
        let s = self.flow_input(node, 0)?;
        let eps = node
            .get_attr_opt::<f32>("epsilon")
            .map_err(|e| e.to_string())?
            .unwrap_or(1e-5) as f64;
        let input = |i| {
            self.const_input(node, i)?
                .ok_or(format!("needs constant input {i}"))
        };
        let (scale, shift, mean, var) = (input(1)?, input(2)?, input(3)?, input(4)?);
        let c = scale.data.len();
        if [&shift, &mean, &var].iter().any(|t| t.data.len() != c) || s.0.get(1) != Some(&c) {
            return Err(format!(
                "parameters do not match the {} channels of the input {s}",
                s.0.get(1).unwrap_or(&0)
            ));
        }
        // y = a * x + b per channel.
        let a: Vec<f64> = (0..c)
            .map(|i| scale.data[i] / (var.data[i] + eps).sqrt())
            .collect();
        let b: Vec<f64> = (0..c)
            .map(|i| shift.data[i] - a[i] * mean.data[i])
            .collect();
        self.affine(node, s, &a, &b)
    }

    /// HardSigmoid: `clip(alpha * x + beta, 0, 1)`.
    pub(super) fn hard_sigmoid(&mut self, node: &NodeProto) -> NodeResult<()> {
        let s = self.flow_input(node, 0)?;
        let attr = |n: &str, d: f32| {
            node.get_attr_opt::<f32>(n)
                .map(|v| v.unwrap_or(d) as f64)
                .map_err(|e| e.to_string())
        };
        let (alpha, beta) = (attr("alpha", 0.2)?, attr("beta", 0.5)?);
        let c = if s.0.len() >= 2 { s.0[1] } else { s.numel() };
        self.affine(node, s.clone(), &vec![alpha; c], &vec![beta; c])?;
        // The clip reads the affine map's result, which now carries the node's output name.
        let out = node.output.first().ok_or("has no output")?;
        let Some(super::Val::Flow(_, id)) = self.vals.get(out) else {
            return Err("its affine map made no data tensor".into());
        };
        let clip = Op::Clip {
            lo: Some(0.0),
            hi: Some(1.0),
        };
        let id = *id;
        self.push_reading(node, clip, s, vec![id])
    }

    /// `y = a[c] * x + b[c]` per channel (axis 1): folded into the preceding Conv or Gemm when it
    /// produced `x`, otherwise a depthwise 1x1 convolution (or a diagonal dense layer for 2-D inputs).
    pub(super) fn affine(
        &mut self,
        node: &NodeProto,
        s: Shape,
        a: &[f64],
        b: &[f64],
    ) -> NodeResult<()> {
        let c = a.len();
        let data = (0..node.input.len())
            .find(|i| matches!(self.input(node, *i), Ok(Some(super::Val::Flow(..)))))
            .unwrap_or(0);
        let last_is_flow_producer = self.may_fold_into_last(node, data)
            && self.nodes.last().is_some_and(|n| n.out_shape == s);
        match self.nodes.last_mut().map(|n| &mut n.op) {
            Some(Op::Conv(conv)) if last_is_flow_producer && conv.geom.out_c == c => {
                let k = conv.geom.kernel_len();
                fold_affine(&mut conv.weight, &mut conv.bias, k, a, b);
                self.alias(node, s)
            }
            Some(Op::Dense(d)) if last_is_flow_producer && d.out_features == c => {
                fold_affine(&mut d.weight, &mut d.bias, d.in_features, a, b);
                self.alias(node, s)
            }
            _ => {
                let op = affine_op(&s, a, b)?;
                self.push(node, op, s)
            }
        }
    }

    /// HardSwish: `x * hardsigmoid(x)` with HardSigmoid's `alpha = 1/6, beta = 1/2`; `x` is read
    /// twice, so the affine map is a node of its own (never folded into `x`'s producer).
    pub(super) fn hard_swish(&mut self, node: &NodeProto) -> NodeResult<()> {
        let s = self.flow_input(node, 0)?;
        let Some(super::Val::Flow(_, x)) = self.input(node, 0)? else {
            return Err("input 0 must be the data tensor".into());
        };
        let x = *x;
        let c = if s.0.len() >= 2 { s.0[1] } else { s.numel() };
        let op = affine_op(&s, &vec![1.0 / 6.0; c], &vec![0.5; c])?;
        let name = |part: &str| format!("{}.{part}", node.name);
        let lin = self.push_node(&name("affine"), "HardSwish", op, s.clone(), vec![x]);
        let clip = Op::Clip {
            lo: Some(0.0),
            hi: Some(1.0),
        };
        let gate = self.push_node(
            &name("hardsigmoid"),
            "HardSwish",
            clip,
            s.clone(),
            vec![lin],
        );
        self.push_reading(node, Op::Mul, s, vec![x, gate])
    }
}

/// `y = a[c] * x + b[c]` per channel as a node of its own (see [`Op::channel_affine`]).
fn affine_op(s: &Shape, a: &[f64], b: &[f64]) -> NodeResult<Op> {
    Op::channel_affine(s, a, b)
}
