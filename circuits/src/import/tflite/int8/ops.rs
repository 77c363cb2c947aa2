//! int8 TFLite operators as quantized layers, with TFLite's reference-kernel semantics:
//! CONV_2D and DEPTHWISE_CONV_2D (`reference_integer_ops::ConvPerChannel`, `DepthwiseConvPerChannel`),
//! FULLY_CONNECTED, ADD (`AddElementwise`: both inputs shifted left by 20 bits and requantized, the
//! sum requantized) and RESHAPE; pools, PAD and CONCATENATION are in [`super::layout_ops`].

use tract_tflite::tflite;

use super::super::nhwc_to_nchw;
use super::super::ops::conv_layout;
use super::{io_of, remap_picks, Flow, Int8Importer, OpResult};
use crate::qgraph::requant::{quantize_multiplier, AffineQuant, RequantStep};
use crate::qgraph::{QConv, QLinear, QOp, QRemap, QRequant};

/// The int8 operators this importer reads (besides a leading QUANTIZE and trailing SOFTMAX or
/// DEQUANTIZE, which stay outside the proof).
pub const INT8_SUPPORTED: &[&str] = &[
    "CONV_2D",
    "DEPTHWISE_CONV_2D",
    "FULLY_CONNECTED",
    "ADD",
    "SUB",
    "MUL",
    "RELU",
    "RELU6",
    "RELU_N1_TO_1",
    "LOGISTIC",
    "TANH",
    "HARD_SWISH",
    "AVERAGE_POOL_2D",
    "MAX_POOL_2D",
    "RESHAPE",
    "PAD",
    "CONCATENATION",
    "MEAN",
];

/// The operators a legacy all-uint8 model may hold: those whose uint8 reference kernels are checked
/// against LiteRT (`fixtures/make_tflite_uint8_legacy.py`), and the layout ops (no arithmetic).
pub const LEGACY_UINT8_SUPPORTED: &[&str] = &[
    "CONV_2D",
    "DEPTHWISE_CONV_2D",
    "FULLY_CONNECTED",
    "AVERAGE_POOL_2D",
    "MAX_POOL_2D",
    "RESHAPE",
    "PAD",
];

/// TFLite's `CalculateActivationRangeQuantized` for an int8 output quantized by `q`.
pub(super) fn activation_range(
    act: tflite::ActivationFunctionType,
    q: AffineQuant,
) -> OpResult<(i64, i64)> {
    use tflite::ActivationFunctionType as A;
    // `zero_point + round(f / scale)`, in float as the runtime computes it.
    let quantize = |f: f32| q.zero_point + (f / q.scale as f32).round() as i64;
    let (lo, hi) = match act {
        A::NONE => (-128, 127),
        A::RELU => (quantize(0.0).max(-128), 127),
        A::RELU6 => (quantize(0.0).max(-128), quantize(6.0).min(127)),
        A::RELU_N1_TO_1 => (quantize(-1.0).max(-128), quantize(1.0).min(127)),
        other => {
            return Err(format!(
                "fused activation {} is not supported on int8",
                other.variant_name().unwrap_or("?")
            ))
        }
    };
    if lo > hi {
        return Err(format!("an empty activation range [{lo}, {hi}]"));
    }
    Ok((lo, hi))
}

/// A requantization step from a real multiplier (TFLite's `QuantizeMultiplier`).
pub(super) fn tflite_step(
    real: f64,
    zero_point: i64,
    (lo, hi): (i64, i64),
) -> OpResult<RequantStep> {
    let (m, shift) = quantize_multiplier(real);
    RequantStep::tflite(m, shift, zero_point, lo, hi).map_err(|e| e.to_string())
}

impl Int8Importer<'_> {
    /// Interpret operator `op` (its builtin name `name`).
    pub(super) fn operator(&mut self, op: &tflite::Operator, name: &str) -> OpResult<()> {
        if self.legacy_uint8 && !LEGACY_UINT8_SUPPORTED.contains(&name) {
            return Err(format!(
                "not supported in a legacy all-uint8 model (uint8 weights) yet: its uint8 kernel \
                 is not checked against LiteRT's; supported there: {}",
                LEGACY_UINT8_SUPPORTED.join(", ")
            ));
        }
        let (ins, outs) = io_of(op);
        let [out] = outs[..] else {
            return Err(format!("{} outputs; one is supported", outs.len()));
        };
        let input = |k: usize| -> OpResult<usize> {
            ins.get(k)
                .copied()
                .filter(|t| *t != usize::MAX)
                .ok_or_else(|| format!("input {k} is missing"))
        };
        let label = match self.names.get(out).filter(|n| !n.is_empty()) {
            Some(n) => n.clone(),
            None => format!("{name}#{out}"),
        };
        match name {
            "CONV_2D" | "DEPTHWISE_CONV_2D" => self.conv(op, name, &ins, out, &label),
            "FULLY_CONNECTED" => self.fully_connected(op, &ins, out, &label),
            "AVERAGE_POOL_2D" | "MAX_POOL_2D" => self.pool(op, name, input(0)?, out, &label),
            "ADD" | "SUB" => self.add_sub(op, name, (input(0)?, input(1)?), out, &label),
            "MUL" => self.mul(op, (input(0)?, input(1)?), out, &label),
            "RELU" | "RELU6" | "RELU_N1_TO_1" | "QUANTIZE" | "LOGISTIC" | "TANH" | "HARD_SWISH" => {
                self.unary(name, input(0)?, out, &label)
            }
            "RESHAPE" => {
                let flow = self.flow(input(0)?)?;
                let id = self.plain(input(0)?)?;
                self.set_plain(out, id, flow.q, &label);
                Ok(())
            }
            "PAD" => self.pad(input(0)?, input(1)?, out, &label),
            "CONCATENATION" => self.concatenation(op, &ins, out, &label),
            "MEAN" => self.mean(op, &ins, out, &label),
            other => Err(format!(
                "int8 {other} is not supported; int8 models may use {}, and a final SOFTMAX or \
                 DEQUANTIZE",
                INT8_SUPPORTED.join(", ")
            )),
        }
    }

    /// Record tensor `out` made in TFLite's order as graph tensor `id` (a 4-D tensor is remapped
    /// channel-first).
    pub(super) fn set_plain(&mut self, out: usize, id: usize, q: AffineQuant, label: &str) {
        let shape = self.tensors[out].shape.clone();
        let flow = match shape[..] {
            [1, h, w, c] => {
                let map = remap_picks(&nhwc_to_nchw(h, w, c));
                let id = self.push(
                    &format!("{label}.nchw"),
                    QOp::Remap(QRemap::new(map)),
                    vec![1, c, h, w],
                    vec![id],
                );
                Flow { id, nchw: true, q }
            }
            _ => Flow { id, nchw: false, q },
        };
        self.flows.insert(out, flow);
    }

    /// The output's quantization, checked to be the input's (pools, PAD, RESHAPE keep it).
    pub(super) fn same_quant(&self, x: &Flow, out: usize) -> OpResult<AffineQuant> {
        let q = self.quant(out)?;
        if q != x.q {
            return Err(format!(
                "the output's quantization ({} , {}) differs from the input's ({}, {})",
                q.scale, q.zero_point, x.q.scale, x.q.zero_point
            ));
        }
        Ok(q)
    }

    /// A 4-D activation held channel-first: its flow and `(c, h, w)`.
    pub(super) fn image(&self, t: usize) -> OpResult<(Flow, (usize, usize, usize))> {
        let flow = self.flow(t)?;
        match self.tensors[t].shape[..] {
            [1, h, w, c] if flow.nchw => Ok((flow, (c, h, w))),
            ref s => Err(format!("input {s:?}: expected [1, H, W, C]")),
        }
    }

    /// The accumulator layer, then its requantization; records `out`.
    pub(super) fn with_requant(
        &mut self,
        (op, inputs): (QOp, Vec<usize>),
        shape: Vec<usize>,
        (steps, channel_len): (Vec<RequantStep>, usize),
        (out, nchw, q): (usize, bool, AffineQuant),
        label: &str,
    ) {
        let acc = self.push(&format!("{label}.acc"), op, shape.clone(), inputs);
        let steps = match steps.iter().all(|s| *s == steps[0]) {
            true => vec![steps[0]],
            false => steps,
        };
        let op = QOp::Requant(QRequant { steps, channel_len });
        let id = self.push(label, op, shape, vec![acc]);
        self.flows.insert(out, Flow { id, nchw, q });
    }

    /// The per-output-channel weight scales of filter `f` (`n` channels).
    fn filter_scales(&self, f: usize, n: usize) -> OpResult<Vec<f64>> {
        let info = &self.tensors[f];
        // A legacy uint8 filter's zero point is taken out of its values (`filter_values`).
        let unsigned = info.ty == tflite::TensorType::UINT8;
        if !unsigned && info.zero_points.iter().any(|z| *z != 0) {
            return Err("the filter has a non-zero zero point".into());
        }
        match info.scales.len() {
            1 => Ok(vec![info.scales[0] as f64; n]),
            k if k == n => Ok(info.scales.iter().map(|s| *s as f64).collect()),
            k => Err(format!("{k} filter scales for {n} output channels")),
        }
    }

    /// A convolution's real multiplier `s_in s_w / s_out`, as LiteRT computes it: in double, but for
    /// a legacy uint8 model, whose `GetQuantizedConvolutionMultipler` multiplies the two scales in
    /// float32 first (the sweep of `fixtures/make_tflite_uint8_legacy.py` tells them apart).
    fn conv_ratio(&self, s_in: f64, s_w: f64, s_out: f64) -> f64 {
        match self.legacy_uint8 {
            true => ((s_in as f32) * (s_w as f32)) as f64 / s_out,
            false => s_in * s_w / s_out,
        }
    }

    /// The int32 bias of `n` outputs (zeros when absent).
    fn bias_of(&self, t: Option<usize>, n: usize) -> OpResult<Vec<i64>> {
        match t.filter(|t| *t != usize::MAX) {
            Some(t) => {
                let b = self.int32_const(t)?;
                if b.len() != n {
                    return Err(format!("{} biases for {n} outputs", b.len()));
                }
                Ok(b)
            }
            None => Ok(vec![0; n]),
        }
    }

    /// CONV_2D (filter `[O, KH, KW, I]`) and DEPTHWISE_CONV_2D (filter `[1, KH, KW, C * M]`).
    fn conv(
        &mut self,
        op: &tflite::Operator,
        name: &str,
        ins: &[usize],
        out: usize,
        label: &str,
    ) -> OpResult<()> {
        let (x, (c, h, w)) = self.image(ins[0])?;
        let f = *ins.get(1).ok_or("no filter")?;
        let filter = self.filter_values(f)?;
        let fshape = self.tensors[f].shape.clone();
        let layout = conv_layout(op, name == "DEPTHWISE_CONV_2D", (c, h, w), &fshape)?;
        let (geom, act) = (layout.geom, layout.act);
        let out_c = geom.out_c;
        let weight: Vec<i64> = layout.src.iter().map(|i| filter[*i]).collect();
        let klen = geom.kernel_len();
        let zp = x.q.zero_point;
        // Σ (x - zp) w + b = Σ x w + (b - zp Σ w); padding carries the value zp.
        let bias: Vec<i64> = self
            .bias_of(ins.get(2).copied(), out_c)?
            .iter()
            .enumerate()
            .map(|(o, b)| b - zp * weight[o * klen..(o + 1) * klen].iter().sum::<i64>())
            .collect();
        let (xid, geom) = self.pad_with(x.id, geom, zp, label);
        let oq = self.quant(out)?;
        let range = activation_range(act, oq)?;
        let steps = self
            .filter_scales(f, out_c)?
            .iter()
            .map(|s| {
                tflite_step(
                    self.conv_ratio(x.q.scale, *s, oq.scale),
                    oq.zero_point,
                    range,
                )
            })
            .collect::<OpResult<Vec<_>>>()?;
        let shape = vec![1, out_c, geom.out_h, geom.out_w];
        let conv = QOp::Conv(QConv {
            geom,
            weight_scale: 0,
            weight: weight.into(),
            bias,
        });
        let n_pos = geom.out_h * geom.out_w;
        self.with_requant(
            (conv, vec![xid]),
            shape,
            (steps, n_pos),
            (out, true, oq),
            label,
        );
        Ok(())
    }

    /// FULLY_CONNECTED: weights `[out, in]` over the input read in TFLite's order.
    fn fully_connected(
        &mut self,
        op: &tflite::Operator,
        ins: &[usize],
        out: usize,
        label: &str,
    ) -> OpResult<()> {
        let x = self.flow(ins[0])?;
        let xid = self.plain(ins[0])?;
        let f = *ins.get(1).ok_or("no weights")?;
        let weight = self.filter_values(f)?;
        let [n_out, n_in] = self.tensors[f].shape[..] else {
            return Err("the weights are not 2-D".into());
        };
        let len: usize = self.tensors[ins[0]].shape.iter().product();
        if len != n_in {
            return Err(format!(
                "{len} inputs for weights [{n_out}, {n_in}] (batch 1 only)"
            ));
        }
        let o = op
            .builtin_options_as_fully_connected_options()
            .ok_or("no options")?;
        let zp = x.q.zero_point;
        let bias: Vec<i64> = self
            .bias_of(ins.get(2).copied(), n_out)?
            .iter()
            .enumerate()
            .map(|(r, b)| b - zp * weight[r * n_in..(r + 1) * n_in].iter().sum::<i64>())
            .collect();
        let oq = self.quant(out)?;
        let range = activation_range(o.fused_activation_function(), oq)?;
        // LiteRT's reference FULLY_CONNECTED rounds once (see `RequantStep::tflite_single_rounding`),
        // int8 and legacy uint8 alike (`fixtures/make_tflite_uint8_legacy.py`'s sweep).
        let steps = self
            .filter_scales(f, n_out)?
            .iter()
            .map(|s| {
                let (m, shift) = quantize_multiplier(x.q.scale * s / oq.scale);
                RequantStep::tflite_single_rounding(m, shift, oq.zero_point, range.0, range.1)
                    .map_err(|e| e.to_string())
            })
            .collect::<OpResult<Vec<_>>>()?;
        let linear = QOp::Linear(QLinear {
            in_features: n_in,
            out_features: n_out,
            weight_scale: 0,
            weight: weight.into(),
            bias,
        });
        let shape = self.tensors[out].shape.clone();
        if shape.iter().product::<usize>() != n_out {
            return Err(format!("output {shape:?} for {n_out} outputs"));
        }
        self.with_requant(
            (linear, vec![xid]),
            shape,
            (steps, 1),
            (out, false, oq),
            label,
        );
        Ok(())
    }

    /// The shape of graph tensor `id`.
    pub(super) fn layer_shape(&self, id: usize) -> Vec<usize> {
        match id {
            0 => self.input_shape.clone(),
            id => self.layers[id - 1].out_shape.0.clone(),
        }
    }
}
