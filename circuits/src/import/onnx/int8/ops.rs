//! int8 ONNX operators as quantized layers, with onnxruntime's CPU (x86-64) arithmetic:
//!
//! - QLinearConv, QGemm, QLinearMatMul: `Σ (x - zp) w + bias` in int32, then `MlasRequantizeOutput`
//!   with the float32 multiplier `(x_scale * w_scale[c]) / y_scale` (threshold maps, exact);
//! - QLinearGlobalAveragePool (and a pool whose window is the whole input): the window sum
//!   requantized the same way by `x_scale / (y_scale * N)`;
//! - QLinearAveragePool: dequantized float32 values added in row-major order, the mean divided by
//!   `y_scale`, plus the zero point, rounded half to even; exact away from ties, and at a possible tie
//!   both roundings accepted and onnxruntime's picked ([`super::maps::average_pool_map`]);
//! - QLinearAdd: the exact rounding of `(s_a (a - z_a) + s_b (b - z_b)) / s_y` (onnxruntime's AVX2
//!   kernel computes it in float32; a tie could differ, none did on the fixtures);
//! - MaxPool, Flatten, Reshape, Transpose, Squeeze, Unsqueeze, Pad on int8 data; Relu, LeakyRelu,
//!   Sigmoid as tables ([`super::tables`]).

use tract_onnx::pb::NodeProto;

use super::super::cnn::{chw, divides_by_window, groups, ints, no_ceil_mode, pair, window_geom};
use super::super::join::broadcast_shape;
use super::maps::{average_pool_map, dyadic, ort_map, round_ratio, tie_alternatives, RANGE};
use super::tables::Activation;
use super::{Flow, Int8OnnxImporter, NodeResult, Tensor, Val, INT32, INT8, UINT8};
use crate::ir::geom::ConvGeom;
use crate::ir::Shape;
use crate::qgraph::requant::ort_quantize_linear;
use crate::qgraph::threshold::{OrtAdd, OrtAveragePool, OrtFloat, ThresholdMap};
use crate::qgraph::{padding_layer, QAdd, QConv, QLinear, QOp, QThreshold, MAX_SUM_COEFF};

/// A weight tensor with its zero points subtracted (`w - zp`, int8 or uint8 in the file), and its
/// per-output-channel scales.
struct Weights {
    data: Vec<i64>,
    shape: Vec<usize>,
    scales: Vec<f32>,
}

impl Weights {
    /// The biases with the input's zero point folded in: `Σ (x - zp) w + b = Σ x w + (b - zp Σ w)`
    /// (padding carries the value zp).
    fn fold_zero_point(&self, bias: &[i64], zp: i64) -> Vec<i64> {
        let row = self.data.len() / bias.len().max(1);
        bias.iter()
            .enumerate()
            .map(|(o, b)| b - zp * self.data[o * row..(o + 1) * row].iter().sum::<i64>())
            .collect()
    }

    /// onnxruntime's requantization of each output channel: `(x_scale * w_scale) / y_scale`.
    fn maps(&self, x_scale: f32, yq: (f32, i64)) -> Vec<ThresholdMap> {
        self.scales
            .iter()
            .map(|s| ort_map(x_scale * s / yq.0, yq.1))
            .collect()
    }
}

impl Int8OnnxImporter<'_> {
    /// Weights `[O, ...]` from an int8 or uint8 constant, its scales and zero points (one, or one
    /// per output channel): the integers `w - zp` the runtime multiplies by.
    fn weights(
        &self,
        t: &Tensor,
        scales: Vec<f32>,
        zps: &[i64],
        out_c: usize,
    ) -> NodeResult<Weights> {
        if !matches!(t.elem, INT8 | UINT8) {
            return Err(format!(
                "weights of element type {} (int8 or uint8 only)",
                t.elem
            ));
        }
        let scales = per_channel(scales, out_c, "scales")?;
        let zps = per_channel(zps.to_vec(), out_c, "zero points")?;
        let row = t.data.len() / out_c.max(1);
        let data = t
            .data
            .iter()
            .enumerate()
            .map(|(i, v)| *v as i64 - zps[i / row.max(1)])
            .collect();
        Ok(Weights {
            data,
            shape: t.shape.clone(),
            scales,
        })
    }

    /// An int32 bias of `n` values (zeros when absent).
    fn bias(&self, t: Option<Tensor>, n: usize) -> NodeResult<Vec<i64>> {
        match t {
            None => Ok(vec![0; n]),
            Some(t) if t.elem == INT32 && t.data.len() == n => {
                Ok(t.data.iter().map(|v| *v as i64).collect())
            }
            Some(t) => Err(format!(
                "the bias must be {n} int32 values (it has {} of element type {})",
                t.data.len(),
                t.elem
            )),
        }
    }

    /// The accumulator layer, then its threshold maps; returns the output.
    pub(super) fn with_maps(
        &mut self,
        (op, inputs, shape): (QOp, Vec<usize>, Vec<usize>),
        (maps, channel_len, ort): (Vec<ThresholdMap>, usize, Option<OrtFloat>),
        (scale, zero_point): (f32, i64),
        label: &str,
    ) -> Flow {
        let acc = self.push(&format!("{label}.acc"), op, shape.clone(), inputs);
        let maps = match maps.iter().all(|m| *m == maps[0]) {
            true => vec![maps[0].clone()],
            false => maps,
        };
        let op = QOp::Threshold(QThreshold {
            maps,
            channel_len,
            ort,
        });
        let id = self.push(label, op, shape, vec![acc]);
        Flow {
            id,
            scale,
            zero_point,
        }
    }

    /// Pad `x` (channel-first, under `geom`) with the value `zp`; the geometry over the result.
    fn pad_with(&mut self, x: usize, geom: ConvGeom, zp: i64, label: &str) -> (usize, ConvGeom) {
        match padding_layer(geom, zp) {
            None => (x, geom),
            Some((op, shape, padded)) => {
                let id = self.push(&format!("{label}.pad"), op, shape, vec![x]);
                (id, padded)
            }
        }
    }

    /// A convolution of `x` (quantized by `xq`) with `w` `[O, I/g, KH, KW]` and `bias`, requantized.
    fn conv(
        &mut self,
        node: &NodeProto,
        (x, xq): (Flow, (f32, i64)),
        w: Weights,
        bias: Vec<i64>,
        yq: (f32, i64),
        label: &str,
    ) -> NodeResult<Flow> {
        let dims = chw(&Shape(self.shape_of(x.id)))?;
        let [out_c, _, kh, kw] = w.shape[..] else {
            return Err(format!(
                "weights of shape {:?} (2-D convolutions only)",
                w.shape
            ));
        };
        let geom = window_geom(node, dims, [kh, kw], out_c, groups(node)?)?;
        if w.shape[1] != geom.in_per_group() {
            return Err("the weights do not match the input's channels".into());
        }
        let bias = w.fold_zero_point(&bias, xq.1);
        let (xid, geom) = self.pad_with(x.id, geom, xq.1, label);
        let maps = w.maps(xq.0, yq);
        let shape = vec![1, out_c, geom.out_h, geom.out_w];
        let conv = QOp::Conv(QConv {
            geom,
            weight_scale: 0,
            weight: w.data.into(),
            bias,
        });
        let per = geom.out_h * geom.out_w;
        Ok(self.with_maps((conv, vec![xid], shape), (maps, per, None), yq, label))
    }

    /// A dense layer `y = x W^T + b` (`w` is `[N, K]`), requantized.
    fn dense(
        &mut self,
        (x, xq): (Flow, (f32, i64)),
        w: Weights,
        bias: Vec<i64>,
        yq: (f32, i64),
        label: &str,
    ) -> NodeResult<Flow> {
        let [n_out, n_in] = w.shape[..] else {
            return Err(format!("weights of shape {:?}", w.shape));
        };
        let len: usize = self.shape_of(x.id).iter().product();
        if len != n_in {
            return Err(format!(
                "{len} inputs for weights [{n_out}, {n_in}] (batch 1)"
            ));
        }
        let bias = w.fold_zero_point(&bias, xq.1);
        let maps = w.maps(xq.0, yq);
        let linear = QOp::Linear(QLinear {
            in_features: n_in,
            out_features: n_out,
            weight_scale: 0,
            weight: w.data.into(),
            bias,
        });
        Ok(self.with_maps(
            (linear, vec![x.id], vec![1, n_out]),
            (maps, 1, None),
            yq,
            label,
        ))
    }

    /// A Gemm's (`transB`; `alpha` must be 1, `transA` 0) or a MatMul's (`[K, N]`) int8 weights
    /// as `[N, K]`.
    fn dense_weights(
        &self,
        node: &NodeProto,
        (wt, scales, zps): (&Tensor, Vec<f32>, &[i64]),
    ) -> NodeResult<Weights> {
        let attr = |n: &str| node.get_attr_opt::<i64>(n).map_err(|e| e.to_string());
        let gemm = matches!(node.op_type.as_str(), "QGemm" | "Gemm");
        if gemm {
            let alpha = node
                .get_attr_opt::<f32>("alpha")
                .map_err(|e| e.to_string())?;
            if alpha.is_some_and(|a| a != 1.0) || attr("transA")?.unwrap_or(0) != 0 {
                return Err("alpha other than 1 or transA = 1 is not supported".into());
            }
        }
        let trans_b = gemm && attr("transB")?.unwrap_or(0) != 0;
        match trans_b {
            true => self.weights(wt, scales, zps, wt.shape.first().copied().unwrap_or(0)),
            false => {
                let t = transposed(wt)?;
                self.weights(&t, scales, zps, t.shape[0])
            }
        }
    }

    /// Add of two int8 tensors of one shape: `Σ_k m_k x_k` with `m_k` the exact ratio of the
    /// input scales, then the threshold map of the exact `round_half_even(real / y_scale + z_y)`,
    /// with the other rounding accepted near a tie (onnxruntime adds in float32, [`OrtAdd`]).
    /// `kernel_offset`: 128 where onnxruntime runs its uint8 kernel.
    fn add(
        &mut self,
        (a, aq): (Flow, (f32, i64)),
        (b, bq): (Flow, (f32, i64)),
        (yq, kernel_offset): ((f32, i64), i64),
        label: &str,
    ) -> NodeResult<Flow> {
        // numpy broadcasting: a smaller operand is remapped to the output's shape (no rows).
        let (sa, sb) = (self.shape_of(a.id), self.shape_of(b.id));
        let shape = broadcast_shape(&Shape(sa.clone()), &Shape(sb.clone()))?.0;
        let a = Flow {
            id: self.broadcast(a.id, &sa, &shape, &format!("{label}.in0.broadcast")),
            ..a
        };
        let b = Flow {
            id: self.broadcast(b.id, &sb, &shape, &format!("{label}.in1.broadcast")),
            ..b
        };
        let ((ma, ea), (mb, eb)) = (dyadic(aq.0), dyadic(bq.0));
        let e = ea.min(eb);
        if (ea - eb).abs() > 40 {
            return Err(format!(
                "input scales {} and {} are too far apart",
                aq.0, bq.0
            ));
        }
        let (ca, cb) = (ma << (ea - e), mb << (eb - e));
        let twos = (ca | cb).trailing_zeros();
        let (ca, cb, e) = (ca >> twos, cb >> twos, e + twos as i32);
        if ca.max(cb) >= MAX_SUM_COEFF as i128 {
            return Err(format!(
                "input scales {} and {} are too far apart",
                aq.0, bq.0
            ));
        }
        let offset = -(ca * aq.1 as i128 + cb * bq.1 as i128);
        let (my, ey) = dyadic(yq.0);
        let out = |acc: i64| -> i64 {
            let y = round_ratio(acc as i128 + offset, e, my, ey, yq.1).unwrap_or(if acc < 0 {
                RANGE.0 as i128
            } else {
                RANGE.1 as i128
            });
            y.clamp(RANGE.0 as i128, RANGE.1 as i128) as i64
        };
        let mut map = ThresholdMap::from_fn(&out, RANGE);
        let (ra, rb) = (aq.0 / yq.0, bq.0 / yq.0);
        let u = 2f64.powi(-24);
        let pairs = (-128i64..128).flat_map(|x| (-128i64..128).map(move |z| (x, z)));
        let values = pairs.map(|(x, z)| {
            let acc = (ca * x as i128 + cb * z as i128) as i64;
            let v = (aq.0 as f64 * (x - aq.1) as f64 + bq.0 as f64 * (z - bq.1) as f64)
                / yq.0 as f64
                + yq.1 as f64;
            let eps = 8.0 * u * (256.0 * (ra + rb) as f64 + yq.1.abs() as f64 + v.abs() + 256.0);
            (acc, v, eps)
        });
        tie_alternatives(&mut map, values, RANGE, 0);
        let k = kernel_offset;
        let kernel = OrtAdd::new((ra, rb), (aq.1, bq.1, yq.1), k);
        let n = shape.iter().product();
        let sum = QOp::Add(QAdd {
            coeffs: vec![ca as i64, cb as i64],
        });
        Ok(self.with_maps(
            (sum, vec![a.id, b.id], shape),
            (vec![map], n, Some(OrtFloat::Add(kernel))),
            yq,
            label,
        ))
    }

    /// AveragePool (onnxruntime's float32 mean, see [`average_pool_map`]) and GlobalAveragePool
    /// (its requantization of the window sum).
    fn average_pool(
        &mut self,
        node: &NodeProto,
        global: bool,
        (x, xq): (Flow, (f32, i64)),
        (yq, unsigned): ((f32, i64), bool),
        label: &str,
    ) -> NodeResult<Flow> {
        let channels_last = node
            .get_attr_opt::<i64>("channels_last")
            .map_err(|e| e.to_string())?;
        if channels_last.unwrap_or(0) != 0 {
            return Err("channels_last pooling is not supported".into());
        }
        let dims = chw(&Shape(self.shape_of(x.id)))?;
        let (c, h, w, one_d) = dims;
        let geom = match global {
            true => ConvGeom::depthwise(c, h, w, [h, w]),
            false => {
                let k = ints(node, "kernel_shape")?.ok_or("needs kernel_shape")?;
                no_ceil_mode(node)?;
                window_geom(node, dims, pair(Some(k), one_d, 1, "kernel_shape")?, c, c)?
            }
        };
        divides_by_window(node, &geom)?;
        let count = geom.kernel[0] * geom.kernel[1];
        // A window over the whole unpadded input is computed as a global pool (onnxruntime's
        // `fallback_to_global`): MLAS requantizes the window sum by `x_scale / (y_scale * N)` as a
        // convolution's accumulator.
        let global = global || (geom.kernel == [h, w] && geom.pads == [0; 4]);
        let offset = 128 * unsigned as i64;
        let pool = OrtAveragePool {
            x_scale: xq.0,
            x_zero_point: xq.1,
            y_scale: yq.0,
            y_zero_point: yq.1 + offset,
            y_range: (RANGE.0 + offset, RANGE.1 + offset),
            offset,
        };
        let (map, pool) = match global {
            true => (ort_map(xq.0 / (yq.0 * count as f32), yq.1), None),
            false => (
                average_pool_map(&pool, count as i64)?,
                Some(OrtFloat::AveragePool(pool)),
            ),
        };
        let (xid, geom) = self.pad_with(x.id, geom, xq.1, label);
        let sum = QOp::Conv(QConv {
            geom,
            weight_scale: 0,
            weight: vec![1; geom.weight_len()].into(),
            bias: vec![-(count as i64) * xq.1; c],
        });
        let shape = vec![1, c, geom.out_h, geom.out_w];
        let n = shape.iter().product();
        Ok(self.with_maps((sum, vec![xid], shape), (vec![map], n, pool), yq, label))
    }

    /// A QOperator node.
    pub(super) fn qoperator(&mut self, node: &NodeProto, label: &str) -> NodeResult<Flow> {
        let x = self.flow(node, 0)?;
        let (xs, xz, _) = self.quant_params(node, 1)?;
        let xq = (xs, xz);
        match node.op_type.as_str() {
            "QLinearConv" => {
                let (ws, wz) = self.scales_and_zps(node, 4)?;
                let wt = self.constant(node, 3)?;
                let out_c = wt.shape.first().copied().unwrap_or(0);
                let w = self.weights(&wt, ws, &wz, out_c)?;
                let yq = self.quant_params(node, 6)?;
                let bias = self.bias(self.optional_const(node, 8)?, out_c)?;
                self.conv(node, (x, xq), w, bias, (yq.0, yq.1), label)
            }
            "QGemm" | "QLinearMatMul" => {
                let (ws, wz) = self.scales_and_zps(node, 4)?;
                let wt = self.constant(node, 3)?;
                let w = self.dense_weights(node, (&wt, ws, &wz))?;
                let (bias_at, y_at) = match node.op_type.as_str() {
                    "QGemm" => (Some(6), 7),
                    _ => (None, 6),
                };
                if node.input.get(y_at).is_none_or(|n| n.is_empty()) {
                    return Err("a float output (no output scale) is not supported".into());
                }
                let yq = self.quant_params(node, y_at)?;
                let n_out = w.shape[0];
                let bias = match bias_at {
                    Some(i) => self.bias(self.optional_const(node, i)?, n_out)?,
                    None => vec![0; n_out],
                };
                self.dense((x, xq), w, bias, (yq.0, yq.1), label)
            }
            "QLinearAdd" => {
                let b = self.flow(node, 3)?;
                let (bs, bz, _) = self.quant_params(node, 4)?;
                let (ys, yz, unsigned) = self.quant_params(node, 6)?;
                let k = 128 * unsigned as i64;
                self.add((x, xq), (b, (bs, bz)), ((ys, yz), k), label)
            }
            "QLinearAveragePool" | "QLinearGlobalAveragePool" => {
                let (ys, yz, unsigned) = self.quant_params(node, 3)?;
                let global = node.op_type == "QLinearGlobalAveragePool";
                self.average_pool(node, global, (x, xq), ((ys, yz), unsigned), label)
            }
            "QLinearLeakyRelu" | "QLinearSigmoid" => {
                let (ys, yz, _) = self.quant_params(node, 3)?;
                Ok(self.activation(Activation::of(node)?, x, (ys, yz), label))
            }
            other => Err(format!("{other} is not an int8 operator")),
        }
    }

    /// The float node `node` of the QDQ form, its output quantized by `yq`.
    pub(super) fn qdq_node(
        &mut self,
        node: &NodeProto,
        (yq, unsigned): ((f32, i64), bool),
        label: &str,
    ) -> NodeResult<Flow> {
        let deq = |i: usize| match self.val(node, i) {
            Ok(Some(Val::Deq(f))) => Ok(f),
            _ => Err(format!("input {i} must be a dequantized int8 tensor")),
        };
        let deq_const = |i: usize| match self.val(node, i) {
            Ok(Some(Val::DeqConst(t, s, z))) => Ok(Some((t, s, z))),
            Ok(None) => Ok(None),
            _ => Err(format!("input {i} must be a dequantized constant")),
        };
        match node.op_type.as_str() {
            "Conv" | "Gemm" | "MatMul" => {
                let x = deq(0)?;
                let (wt, ws, wz) = deq_const(1)?.ok_or("no weights")?;
                let bias = deq_const(2)?.map(|(b, _, _)| b);
                let xq = (x.scale, x.zero_point);
                match node.op_type.as_str() {
                    "Conv" => {
                        let out_c = wt.shape.first().copied().unwrap_or(0);
                        let w = self.weights(&wt, ws, &wz, out_c)?;
                        let bias = self.bias(bias, out_c)?;
                        self.conv(node, (x, xq), w, bias, yq, label)
                    }
                    _ => {
                        let w = self.dense_weights(node, (&wt, ws, &wz))?;
                        let bias = self.bias(bias, w.shape[0])?;
                        self.dense((x, xq), w, bias, yq, label)
                    }
                }
            }
            "Add" => {
                let (a, b) = (deq(0)?, deq(1)?);
                // On x86-64 onnxruntime runs a QDQ group's fused kernel in uint8 (`QDQS8ToU8`).
                self.add(
                    (a, (a.scale, a.zero_point)),
                    (b, (b.scale, b.zero_point)),
                    (yq, 128),
                    label,
                )
            }
            "Mul" => self.qdq_mul(node, yq, label),
            "AveragePool" | "GlobalAveragePool" => {
                let x = deq(0)?;
                let global = node.op_type == "GlobalAveragePool";
                let xq = (x.scale, x.zero_point);
                // On x86-64 onnxruntime turns an int8 QDQ group into uint8 before fusing it
                // (`QDQS8ToU8`): its pool adds the uint8 zero point in float32.
                let _ = unsigned;
                self.average_pool(node, global, (x, xq), (yq, true), label)
            }
            "Concat" => {
                let parts = (0..node.input.len())
                    .map(deq)
                    .collect::<NodeResult<Vec<Flow>>>()?;
                self.concat(node, &parts, yq, label)
            }
            "MaxPool" | "Flatten" | "Reshape" | "Transpose" | "Squeeze" | "Unsqueeze"
            | "Identity" => {
                let x = deq(0)?;
                let y = match node.op_type.as_str() {
                    "Identity" => x,
                    _ => self.layout_op(node, x, label)?,
                };
                Ok(self.requantize(y, yq, &format!("{label}.requant")))
            }
            "Pad" => {
                // Requantized first (elementwise, so it commutes with the move), then padded with
                // the float constant quantized by `yq`.
                let x = self.requantize(deq(0)?, yq, &format!("{label}.requant"));
                let value = match self.val(node, 2)? {
                    None => 0.0,
                    Some(Val::Const(t)) if t.data.len() == 1 => t.data[0] as f32,
                    Some(Val::DeqConst(t, s, z)) if t.data.len() == 1 && s.len() == 1 => {
                        s[0] * (t.data[0] as i64 - z.first().copied().unwrap_or(0)) as f32
                    }
                    Some(_) => return Err("the constant value must be one constant".into()),
                };
                let held = ort_quantize_linear(value, yq.0, yq.1, RANGE);
                self.layout_op_with(node, x, Some(held), label)
            }
            "Relu" | "LeakyRelu" | "Sigmoid" => {
                let x = deq(0)?;
                Ok(self.activation(Activation::of(node)?, x, yq, label))
            }
            "Clip" => {
                let x = deq(0)?;
                let act = self.clip_bounds(node)?;
                Ok(self.activation(act, x, yq, label))
            }
            other => Err(format!(
                "{other} between DequantizeLinear and QuantizeLinear is not supported"
            )),
        }
    }

    /// A Clip's bounds: float constants as inputs 1 and 2 (opset 11 on; either may be absent), or
    /// the `min` / `max` attributes (earlier opsets).
    fn clip_bounds(&self, node: &NodeProto) -> NodeResult<Activation> {
        let attr = |n: &str| node.get_attr_opt::<f32>(n).map_err(|e| e.to_string());
        let input = |i: usize| -> NodeResult<Option<f32>> {
            match self.val(node, i)? {
                None => Ok(None),
                Some(Val::Const(t)) if t.data.len() == 1 => Ok(Some(t.data[0] as f32)),
                Some(_) => Err(format!("input {i} must be one constant")),
            }
        };
        let (lo, hi) = match node.input.len() > 1 {
            true => (input(1)?, input(2)?),
            false => (attr("min")?, attr("max")?),
        };
        if lo.is_some_and(|v| v.is_nan()) || hi.is_some_and(|v| v.is_nan()) {
            return Err("a NaN bound".into());
        }
        Ok(Activation::Clip { lo, hi })
    }

    /// Scales (input `i`) and zero points (input `i + 1`, zeros when absent) of a constant.
    fn scales_and_zps(&self, node: &NodeProto, i: usize) -> NodeResult<(Vec<f32>, Vec<i64>)> {
        let s = self.constant(node, i)?;
        let scales: Vec<f32> = s.data.iter().map(|v| *v as f32).collect();
        let zps = match self.optional_const(node, i + 1)? {
            Some(z) => z.data.iter().map(|v| *v as i64).collect(),
            None => vec![0; scales.len()],
        };
        Ok((scales, zps))
    }

    fn optional_const(&self, node: &NodeProto, i: usize) -> NodeResult<Option<Tensor>> {
        match self.val(node, i)? {
            None => Ok(None),
            Some(Val::Const(t)) => Ok(Some(t)),
            Some(_) => Err(format!("input {i} must be a constant")),
        }
    }
}

/// One value per output channel, from one or `out_c` of them.
fn per_channel<T: Copy>(v: Vec<T>, out_c: usize, what: &str) -> NodeResult<Vec<T>> {
    match v.len() {
        1 => Ok(vec![v[0]; out_c]),
        n if n == out_c => Ok(v),
        n => Err(format!("{n} weight {what} for {out_c} output channels")),
    }
}

/// `[K, N]` weights as `[N, K]`.
fn transposed(t: &Tensor) -> NodeResult<Tensor> {
    let [k, n] = t.shape[..] else {
        return Err(format!("weights of shape {:?} (2-D expected)", t.shape));
    };
    let mut data = vec![0.0; k * n];
    for r in 0..k {
        for c in 0..n {
            data[c * k + r] = t.data[r * n + c];
        }
    }
    Ok(Tensor {
        data,
        shape: vec![n, k],
        elem: t.elem,
    })
}
