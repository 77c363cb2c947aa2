//! Calibration: choose a power-of-two scale per tensor from sample inputs, quantize the weights, and
//! measure what quantization costs against the float model ([`QuantReport`]).
//!
//! Scales: every rescaled activation gets the largest scale whose calibrated range, with a 2x headroom,
//! fits the circuit's activation range. A hidden layer's weights then get as many fractional bits as a
//! rescale of at most `L` bits allows; the last layer (no rescale) gets [`MAX_WEIGHT_SCALE`]. The input
//! scale balances input and weight precision of the first layer.

use thiserror::Error;

use crate::ir::{Func, Graph, Op, Pick, Shape};
use crate::qgraph::{
    dequantize, quantize, EvalError, QClip, QConv, QFunction, QLinear, QMaxPool, QOp, QPick,
    QRemap, QRescaleLeaky, QuantGraph,
};
use crate::quantize::graph_walk::{
    feeds_output, join, materialize, read_by_one_single_input_node, rescale_target, TensorState,
};
use crate::quantize::layers::Layers;
use crate::quantize::report::{LayerReport, QuantReport};

/// Largest weight scale (fractional bits).
pub const MAX_WEIGHT_SCALE: u32 = 14;
/// Fewest fractional bits a hidden layer's weights get when its input scale can be lowered for them.
pub const MIN_WEIGHT_SCALE: u32 = 6;
/// Largest activation scale.
pub const MAX_ACT_SCALE: u32 = 16;
/// Most fractional bits of a table function's output (Sigmoid, Tanh): at most this, and at most what
/// keeps outputs in [-1, 1] inside the activation range (`2L - 2`).
pub const FUNCTION_OUT_SCALE: u32 = 14;
/// Fractional bits of leaky ReLU slopes (the activation's output gains them).
pub const SLOPE_BITS: u32 = 8;
/// Calibrated ranges are widened by this factor before choosing a scale.
pub const HEADROOM: f64 = 2.0;

/// How to quantize a graph.
#[derive(Clone, Debug)]
pub struct QuantOptions {
    /// Bits per range-table limb (the table has 1.5 * 2^L rows).
    pub limb_bits: u32,
    /// Where the calibration samples came from (for the report).
    pub calibration_name: String,
    /// Hashed weights: every weight must lie in the activation range (they are range-checked like
    /// activations before packing), which may cost a weight scale fewer fractional bits.
    pub hidden_weights: bool,
}

impl Default for QuantOptions {
    fn default() -> Self {
        QuantOptions {
            limb_bits: 8,
            calibration_name: "default".into(),
            hidden_weights: false,
        }
    }
}

/// Why a graph could not be quantized.
#[derive(Debug, Error)]
pub enum CalibrationError {
    /// A calibration sample's length differs from the model input's.
    #[error(
        "calibration sample {index} has {got} values, the model input {shape} needs {expected}"
    )]
    SampleLength {
        /// Index of the sample in the calibration set.
        index: usize,
        /// Values in the sample.
        got: usize,
        /// Values the model input holds.
        expected: usize,
        /// The model's input shape.
        shape: Shape,
    },
    /// A node the quantizer cannot express (a product of three tensors, a multi-input op other than
    /// Add, Mul or Concat).
    #[error("node '{node}': {reason}")]
    Structure {
        /// The node.
        node: String,
        /// What is wrong.
        reason: String,
    },
    /// The calibration set is empty.
    #[error("no calibration samples")]
    NoSamples,
    /// A rescale would have to drop more than `limb_bits` bits to bring a node's values into the
    /// activation range.
    #[error("node '{node}': its values span too wide a range to rescale within {limb_bits} bits")]
    Range {
        /// The node (or its `.rescale`) that needs the rescale.
        node: String,
        /// Bits per range-table limb: the largest shift a rescale may make.
        limb_bits: u32,
    },
    /// The quantized graph rejects a calibration sample (an activation out of range, an overflow).
    #[error("calibration sample {index}: {source}")]
    Eval {
        /// Index of the sample in the calibration set.
        index: usize,
        /// What the reference evaluator reported.
        source: EvalError,
    },
}

/// Half the domain of a function table: the table has `2 * domain` rows, as many as the range table.
pub fn function_domain(limb_bits: u32) -> i64 {
    3 << (limb_bits - 2)
}

/// The input scale of a table function: its non-saturated range spans the table's domain, or, for an
/// unbounded function, its calibrated input range (`in_max`, with headroom) does.
pub(super) fn function_in_scale(f: Func, in_max: f64, limb_bits: u32) -> u32 {
    let d = function_domain(limb_bits) as f64;
    let span = match f.saturation() {
        Some(s) => s,
        None => in_max * HEADROOM,
    };
    (d / span).log2().floor().clamp(0.0, MAX_ACT_SCALE as f64) as u32
}

/// Largest scale at which `max_abs` (with headroom) fits the signed activation range.
pub(super) fn range_scale(max_abs: f64, limb_bits: u32) -> u32 {
    let limit = (1u64 << (2 * limb_bits - 1)) as f64;
    (0..=MAX_ACT_SCALE)
        .rev()
        .find(|s| max_abs * HEADROOM * (1u64 << s) as f64 <= limit)
        .unwrap_or(0)
}

fn max_abs(values: impl Iterator<Item = f32>) -> f64 {
    values.fold(0.0f64, |m, v| m.max((v as f64).abs()))
}

/// Quantize `graph` with scales calibrated on `samples`.
pub fn quantize_graph(
    graph: &Graph,
    samples: &[Vec<f32>],
    opts: &QuantOptions,
) -> Result<(QuantGraph, QuantReport), CalibrationError> {
    let l = opts.limb_bits;
    if samples.is_empty() {
        return Err(CalibrationError::NoSamples);
    }
    let n_in = graph.input_shape.numel();
    for (index, s) in samples.iter().enumerate() {
        if s.len() != n_in {
            return Err(CalibrationError::SampleLength {
                index,
                got: s.len(),
                expected: n_in,
                shape: graph.input_shape.clone(),
            });
        }
    }
    let float_outs: Vec<Vec<Vec<f32>>> = samples.iter().map(|s| graph.eval(s)).collect();
    let node_max: Vec<f64> = (0..graph.nodes.len())
        .map(|i| max_abs(float_outs.iter().flat_map(|o| o[i].iter().copied())))
        .collect();
    let input_max = max_abs(samples.iter().flatten().copied());
    let input_scale = choose_input_scale(graph, samples, &node_max, input_max, l);

    let mut b = Layers::new(l);
    // Per float tensor (0: the input, `i + 1`: node i's output): its quantized tensor and scale.
    let mut states: Vec<Option<TensorState>> = vec![None; graph.nodes.len() + 1];
    states[0] = Some(TensorState {
        q: 0,
        scale: input_scale,
        pending: None,
        shape: graph.input_shape.clone(),
    });
    let uses = graph.uses();

    for (i, node) in graph.nodes.iter().enumerate() {
        if node.inputs.len() != 1 || matches!(node.op, Op::Add { .. } | Op::Mul) {
            let out = join(graph, i, &mut b, &mut states, &node_max)?;
            states[i + 1] = Some(out);
            continue;
        }
        // A tensor read more than once is rescaled once, before its first reader.
        let t = node.inputs[0];
        if uses[t] > 1 {
            materialize(graph, t, &mut b, &mut states, &node_max)?;
        }
        let st = states[t]
            .clone()
            .expect("tensors are made before they are read");
        b.current = st.q;
        let mut cur_scale = st.scale;
        // A Linear whose accumulator still waits for its rescale: (float node index, accumulator scale).
        let mut pending = st.pending;
        let mut shape = st.shape;
        match &node.op {
            Op::Add { .. } | Op::Mul => unreachable!("joins are handled above"),
            Op::Reshape => {
                shape = node.out_shape.clone();
                if b.current == b.layers.len() && b.current > 0 {
                    if let Some(last) = b.layers.last_mut() {
                        last.out_shape = shape.clone();
                    }
                } else if b.current > 0 {
                    // Not the newest tensor (a branch): a row-free identity remap with the new shape.
                    let scale = pending.map(|(_, acc)| acc).unwrap_or(cur_scale);
                    let map = (0..shape.numel()).map(QPick::Input).collect();
                    b.push(&node.name, QOp::Remap(QRemap::new(map)), scale, &shape, i);
                }
            }
            Op::Relu => {
                let (acc_scale, out_scale) = match pending.take() {
                    Some((d, acc)) => (acc, range_scale(node_max[d], l)),
                    None => (cur_scale, cur_scale),
                };
                cur_scale = b.rescale(&node.name, i, acc_scale, out_scale, true, &shape)?;
            }
            Op::Func(f) => {
                // Rescale to the scale at which the table's domain [-d, d) covers the function's
                // non-saturated range, then clamp and look up.
                let d = function_domain(l);
                let (acc_scale, from) = match pending.take() {
                    Some((p, acc)) => (acc, p),
                    None => (cur_scale, i),
                };
                let in_max = match t {
                    0 => input_max,
                    t => node_max[t - 1],
                };
                let in_scale = function_in_scale(*f, in_max, l).min(acc_scale);
                let name = format!("{}.rescale", node.name);
                let in_scale = b.rescale(&name, from, acc_scale, in_scale, false, &shape)?;
                // A bounded function's outputs are small: a fixed fine scale. An unbounded one's reach
                // its inputs' magnitude: they keep the input scale (at most that fine).
                let out_scale = match f.saturation() {
                    Some(_) => FUNCTION_OUT_SCALE.min(2 * l - 2),
                    None => in_scale.min(FUNCTION_OUT_SCALE),
                };
                let table = (-d..d)
                    .map(|x| quantize(f.apply(dequantize(x, in_scale)), out_scale))
                    .collect();
                cur_scale = out_scale;
                let op = QOp::Function(QFunction {
                    func: f.name().into(),
                    domain: d,
                    in_scale,
                    out_scale,
                    table,
                });
                b.push(&node.name, op, cur_scale, &shape, i);
            }
            Op::Clip { lo, hi } => {
                if let Some((p, acc)) = pending.take() {
                    let name = format!("{}.rescale", graph.nodes[p].name);
                    let out = range_scale(node_max[p], l);
                    cur_scale = b.rescale(&name, p, acc, out, false, &shape)?;
                }
                let q = |v: &Option<f32>| v.map(|v| quantize(v as f64, cur_scale));
                b.push(
                    &node.name,
                    QOp::Clip(QClip {
                        lo: q(lo),
                        hi: q(hi),
                    }),
                    cur_scale,
                    &shape,
                    i,
                );
            }
            Op::Remap(map) => {
                // No arithmetic: constants take the scale of the tensor they join (an accumulator's
                // while its rescale is pending, whose range then is this node's).
                let scale = pending.map(|(_, acc)| acc).unwrap_or(cur_scale);
                pending = pending.map(|(_, acc)| (i, acc));
                shape = node.out_shape.clone();
                let map = map
                    .iter()
                    .map(|p| match p {
                        Pick::Input(i) => QPick::Input(*i),
                        Pick::Const(c) => QPick::Const(quantize(*c as f64, scale)),
                    })
                    .collect();
                b.push(&node.name, QOp::Remap(QRemap::new(map)), scale, &shape, i);
            }
            Op::Leaky {
                slopes,
                channel_len,
            } => {
                let (acc_scale, out_scale) = match pending.take() {
                    Some((d, acc)) => (acc, range_scale(node_max[d], l)),
                    None => (cur_scale, cur_scale),
                };
                let out_scale = out_scale.min(acc_scale);
                let shift = acc_scale - out_scale;
                if shift > l {
                    return Err(CalibrationError::Range {
                        node: node.name.clone(),
                        limb_bits: l,
                    });
                }
                cur_scale = out_scale + SLOPE_BITS;
                let op = QOp::RescaleLeaky(QRescaleLeaky {
                    shift,
                    slope_bits: SLOPE_BITS,
                    slopes: slopes
                        .iter()
                        .map(|a| quantize(*a as f64, SLOPE_BITS))
                        .collect(),
                    channel_len: *channel_len,
                });
                b.push(&node.name, op, cur_scale, &shape, i);
            }
            Op::MaxPool(geom) => {
                if let Some((p, acc)) = pending.take() {
                    let name = format!("{}.rescale", graph.nodes[p].name);
                    cur_scale =
                        b.rescale(&name, p, acc, range_scale(node_max[p], l), false, &shape)?;
                }
                shape = node.out_shape.clone();
                b.push(
                    &node.name,
                    QOp::MaxPool(QMaxPool { geom: *geom }),
                    cur_scale,
                    &shape,
                    i,
                );
            }
            Op::Dense(_) | Op::Conv(_) => {
                let is_last = feeds_output(graph, i + 1);
                let target = rescale_target(graph, i, &node_max, l);
                // The input keeps at most the scale that leaves the weights MIN_WEIGHT_SCALE bits
                // within the next rescale's budget (a coarse target: a table function's input).
                let cap = match is_last {
                    true => MAX_ACT_SCALE,
                    false => (l + target).saturating_sub(MIN_WEIGHT_SCALE),
                };
                if let Some((p, acc)) = pending.take() {
                    let name = format!("{}.rescale", graph.nodes[p].name);
                    let out = range_scale(node_max[p], l)
                        .min(cap)
                        .max(acc.saturating_sub(l));
                    cur_scale = b.rescale(&name, p, acc, out, false, &shape)?;
                } else if cur_scale > cap {
                    let name = format!("{}.input", node.name);
                    let out = cur_scale.saturating_sub(l).max(cap);
                    let from = (t > 0).then(|| t - 1);
                    cur_scale = b.rescale(&name, from, cur_scale, out, false, &shape)?;
                }
                let weight_scale = if is_last {
                    MAX_WEIGHT_SCALE
                } else {
                    (l + target).saturating_sub(cur_scale).min(MAX_WEIGHT_SCALE)
                };
                let weight_scale = match (&node.op, opts.hidden_weights) {
                    (Op::Dense(d), true) => hidden_weight_scale(&d.weight, weight_scale, l),
                    (Op::Conv(c), true) => hidden_weight_scale(&c.weight, weight_scale, l),
                    _ => weight_scale,
                };
                let acc_scale = cur_scale + weight_scale;
                shape = node.out_shape.clone();
                let qw = |w: &[f32]| {
                    w.iter()
                        .map(|v| quantize(*v as f64, weight_scale))
                        .collect()
                };
                let qb = |b: &[f32]| b.iter().map(|v| quantize(*v as f64, acc_scale)).collect();
                let op = match &node.op {
                    Op::Dense(d) => QOp::Linear(QLinear {
                        in_features: d.in_features,
                        out_features: d.out_features,
                        weight_scale,
                        weight: qw(&d.weight),
                        bias: qb(&d.bias),
                    }),
                    Op::Conv(c) => QOp::Conv(QConv {
                        geom: c.geom,
                        weight_scale,
                        weight: qw(&c.weight),
                        bias: qb(&c.bias),
                    }),
                    _ => unreachable!("matched above"),
                };
                b.push(&node.name, op, acc_scale, &shape, i);
                pending = Some((i, acc_scale));
            }
        }
        states[i + 1] = Some(TensorState {
            q: b.current,
            scale: cur_scale,
            pending,
            shape,
        });
        // An accumulator that a join reads, or several nodes do, is rescaled right away: next to
        // its Linear or Conv, the rescale is fused into that layer's rows.
        if pending.is_some() && !read_by_one_single_input_node(graph, i + 1) {
            materialize(graph, i + 1, &mut b, &mut states, &node_max)?;
        }
    }
    // The output must be the last layer's (it is, unless the graph ends on a reshape of an older
    // tensor).
    let out = states[graph.nodes.len()].clone().expect("output made");
    if out.q != b.layers.len() || b.layers.is_empty() {
        b.current = out.q;
        let scale = out.pending.map(|(_, acc)| acc).unwrap_or(out.scale);
        let map = (0..out.shape.numel()).map(QPick::Input).collect();
        let name = format!("{}.output", graph.output_name);
        b.push(
            &name,
            QOp::Remap(QRemap::new(map)),
            scale,
            &out.shape,
            graph.nodes.len() - 1,
        );
    }

    let Layers {
        layers,
        float_ref,
        mut reports,
        ..
    } = b;
    let qgraph = QuantGraph {
        input_shape: graph.input_shape.clone(),
        input_scale,
        limb_bits: l,
        int8: None,
        layers,
    };
    for (r, l) in reports.iter_mut().zip(&qgraph.layers) {
        r.shape = l.out_shape.0.clone();
    }
    let mut report = measure(&qgraph, samples, &float_outs, &float_ref, reports, opts)?;
    report.unproven_tail = graph.unproven_tail.clone();
    Ok((qgraph, report))
}

/// The largest scale at most `scale` at which every weight lies in the activation range of limb
/// bits `l` (hashed weights are range-checked there).
fn hidden_weight_scale(weights: &[f32], scale: u32, l: u32) -> u32 {
    let bound = 1i64 << (2 * l - 1);
    (0..=scale)
        .rev()
        .find(|s| {
            weights
                .iter()
                .all(|w| quantize(*w as f64, *s).abs() < bound)
        })
        .unwrap_or(0)
}

/// The input scale: the split of the first layer's product precision between input and weights that
/// minimizes `mean|w| * 2^-s_in + mean|x| * 2^-s_w`, within the input's range.
fn choose_input_scale(
    graph: &Graph,
    samples: &[Vec<f32>],
    node_max: &[f64],
    input_max: f64,
    l: u32,
) -> u32 {
    let cap = range_scale(input_max, l);
    // The first node that computes (reshapes and remaps only move the input: a batch's samples).
    let first = graph
        .nodes
        .iter()
        .position(|n| !matches!(n.op, Op::Reshape | Op::Remap(_)));
    let Some(i) = first else { return cap };
    let weights: &[f32] = match &graph.nodes[i].op {
        Op::Dense(d) => &d.weight,
        Op::Conv(c) => &c.weight,
        // A table function on the input: the input at the table's own scale.
        Op::Func(f) => return cap.min(function_in_scale(*f, input_max, l)),
        _ => return cap,
    };
    let mean = |v: &mut dyn Iterator<Item = f32>| {
        let (s, n) = v.fold((0.0f64, 0usize), |(s, n), x| (s + (x as f64).abs(), n + 1));
        if n == 0 {
            0.0
        } else {
            s / n as f64
        }
    };
    let mean_w = mean(&mut weights.iter().copied());
    let mean_x = mean(&mut samples.iter().flatten().copied());
    if mean_w <= 0.0 || mean_x <= 0.0 {
        return cap;
    }
    let product_bits = (l + rescale_target(graph, i, node_max, l)) as f64;
    let best = ((product_bits - (mean_x / mean_w).log2()) / 2.0).round();
    (best.max(0.0) as u32).min(cap)
}

fn measure(
    q: &QuantGraph,
    samples: &[Vec<f32>],
    float_outs: &[Vec<Vec<f32>>],
    float_ref: &[Option<usize>],
    mut reports: Vec<LayerReport>,
    opts: &QuantOptions,
) -> Result<QuantReport, CalibrationError> {
    let mut agree = 0usize;
    for (index, (sample, fouts)) in samples.iter().zip(float_outs).enumerate() {
        let x: Vec<i64> = sample
            .iter()
            .map(|v| quantize(*v as f64, q.input_scale))
            .collect();
        let trace = q
            .eval(&x)
            .map_err(|source| CalibrationError::Eval { index, source })?;
        for (li, layer) in q.layers.iter().enumerate() {
            let Some(f) = float_ref[li].map(|f| &fouts[f]) else {
                continue;
            };
            let r = &mut reports[li];
            for (qv, fv) in trace.tensors[li + 1].iter().zip(f) {
                r.float_max_abs = r.float_max_abs.max((*fv as f64).abs());
                r.max_abs_error = r
                    .max_abs_error
                    .max((dequantize(*qv, layer.out_scale) - *fv as f64).abs());
            }
        }
        let fout = fouts.last().expect("graph has nodes");
        if argmax_f(fout) == argmax_i(trace.output()) {
            agree += 1;
        }
    }
    let out_len = q.output_len();
    Ok(QuantReport {
        samples: samples.len(),
        calibration: opts.calibration_name.clone(),
        input_scale: q.input_scale,
        output_max_abs_error: reports.last().map(|r| r.max_abs_error).unwrap_or(0.0),
        layers: reports,
        top1_agreement: (out_len > 1).then(|| agree as f64 / samples.len() as f64),
        unproven_tail: Vec::new(),
    })
}

/// Index of the largest float (the first on ties).
pub fn argmax_f(v: &[f32]) -> usize {
    v.iter()
        .enumerate()
        .fold(0, |best, (i, x)| if *x > v[best] { i } else { best })
}

/// Index of the largest integer (the first on ties).
pub fn argmax_i(v: &[i64]) -> usize {
    v.iter()
        .enumerate()
        .fold(0, |best, (i, x)| if *x > v[best] { i } else { best })
}
