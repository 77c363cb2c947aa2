//! QLinearMul (com.microsoft), and Mul between DequantizeLinear and QuantizeLinear (which
//! onnxruntime fuses into it): the elementwise product of two int8 tensors, with numpy
//! broadcasting (a squeeze-and-excitation gate `[1, C, 1, 1]` times `[1, C, H, W]`), either operand
//! possibly a constant.
//!
//! onnxruntime's x86-64 kernel ([`mlas_qlinear_mul`]) multiplies `p = (a - z_a)(b - z_b)` exactly,
//! then computes `float(p) * ratio + float(z_c)` in float32 with two roundings, rounds half to even
//! and saturates: a non-decreasing function of the integer product, proven by its thresholds. An
//! int8 QDQ Mul whose input has a second reader is not fused by onnxruntime (its int8-to-uint8
//! rewrite skips it) and runs as float32 `DQ(a) * DQ(b)` then QuantizeLinear, which can round the
//! other way next to a tie: the proof is about the fused kernel, as for the other unfused groups.
//! Each operand is centred first (`v - z`, a table of its 256 values, or the constant's centred
//! values), then broadcast by a row-free remap.

use tract_onnx::pb::NodeProto;

use super::super::join::{broadcast_picks, broadcast_shape};
use super::maps::RANGE;
use super::{Flow, Int8OnnxImporter, NodeResult, Tensor, Val, INT8, UINT8};
use crate::ir::Shape;
use crate::qgraph::requant::mlas_qlinear_mul;
use crate::qgraph::threshold::ThresholdMap;
use crate::qgraph::{QOp, QPick, QRemap, QTable};

/// One factor of a product: an int8 activation, or a constant (its held values and shape).
pub(super) enum Factor {
    Flow(Flow),
    Const {
        values: Vec<i64>,
        shape: Vec<usize>,
        zero_point: i64,
    },
}

impl Factor {
    /// A constant operand from the file (int8 or uint8, held as int8) with its held zero point.
    pub(super) fn constant(t: &Tensor, zero_point: i64) -> NodeResult<Self> {
        let shift = match t.elem {
            INT8 => 0,
            UINT8 => 128,
            e => {
                return Err(format!(
                    "a constant operand of element type {e} (int8 or uint8)"
                ))
            }
        };
        Ok(Factor::Const {
            values: t.data.iter().map(|v| *v as i64 - shift).collect(),
            shape: t.shape.clone(),
            zero_point,
        })
    }
}

impl Int8OnnxImporter<'_> {
    /// The product of `a` and `b`, quantized by `yq`; `kernel_offset` is 128 where onnxruntime runs
    /// its uint8 kernel (uint8 tensors, and on x86-64 every QDQ group).
    pub(super) fn mul(
        &mut self,
        (a, b): (Factor, Factor),
        scales: (f32, f32),
        (yq, kernel_offset): ((f32, i64), i64),
        label: &str,
    ) -> NodeResult<Flow> {
        let shape_of = |f: &Factor, me: &Self| match f {
            Factor::Flow(x) => me.shape_of(x.id),
            Factor::Const { shape, .. } => shape.clone(),
        };
        let (sa, sb) = (shape_of(&a, self), shape_of(&b, self));
        let out = broadcast_shape(&Shape(sa.clone()), &Shape(sb.clone()))?.0;
        let anchor = match (&a, &b) {
            (Factor::Flow(x), _) | (_, Factor::Flow(x)) => x.id,
            _ => return Err("a product of two constants".into()),
        };
        let mut factors = Vec::with_capacity(2);
        for (k, (f, from)) in [(a, sa), (b, sb)].into_iter().enumerate() {
            let name = format!("{label}.in{k}");
            let id = match f {
                Factor::Flow(x) => {
                    let table = (-128..128).map(|v| v - x.zero_point).collect();
                    let op = QOp::Table(QTable { lo: -128, table });
                    let centred = self.push(&name, op, from.clone(), vec![x.id]);
                    self.broadcast(centred, &from, &out, &format!("{name}.broadcast"))
                }
                Factor::Const {
                    values, zero_point, ..
                } => {
                    let map = broadcast_picks(&Shape(from), &Shape(out.clone()))
                        .into_iter()
                        .map(|i| QPick::Const(values[i] - zero_point))
                        .collect();
                    self.push(
                        &name,
                        QOp::Remap(QRemap::new(map)),
                        out.clone(),
                        vec![anchor],
                    )
                }
            };
            factors.push(id);
        }
        let ratio = scales.0 * scales.1 / yq.0;
        let k = kernel_offset;
        let zc = yq.1 + k;
        let kernel = move |p: i64| mlas_qlinear_mul(p, ratio, zc, (RANGE.0 + k, RANGE.1 + k)) - k;
        let map = ThresholdMap::from_fn(&kernel, RANGE);
        let n = out.iter().product();
        Ok(self.with_maps((QOp::Mul, factors, out), (vec![map], n, None), yq, label))
    }
}

impl Int8OnnxImporter<'_> {
    /// A QLinearMul node: `A, A_scale, A_zero_point, B, B_scale, B_zero_point, C_scale,
    /// C_zero_point`; an operand is an int8 activation or an int8 / uint8 constant.
    pub(super) fn qlinear_mul(&mut self, node: &NodeProto, label: &str) -> NodeResult<Flow> {
        let operand = |me: &Self, i: usize| -> NodeResult<(Factor, f32)> {
            let (scale, zero_point, _) = me.quant_params(node, i + 1)?;
            match me.val(node, i)? {
                Some(Val::Flow(f)) => Ok((
                    Factor::Flow(Flow {
                        scale,
                        zero_point,
                        ..f
                    }),
                    scale,
                )),
                Some(Val::Const(t)) => Ok((Factor::constant(&t, zero_point)?, scale)),
                _ => Err(format!(
                    "input {i} must be an int8 tensor computed from the input, or a constant"
                )),
            }
        };
        let (a, sa) = operand(self, 0)?;
        let (b, sb) = operand(self, 3)?;
        let (ys, yz, unsigned) = self.quant_params(node, 6)?;
        self.mul((a, b), (sa, sb), ((ys, yz), 128 * unsigned as i64), label)
    }

    /// Mul between DequantizeLinear and QuantizeLinear (onnxruntime's QLinearMul, run in uint8 on
    /// x86-64): each input a dequantized activation or a dequantized constant (one scale).
    pub(super) fn qdq_mul(
        &mut self,
        node: &NodeProto,
        yq: (f32, i64),
        label: &str,
    ) -> NodeResult<Flow> {
        let operand = |me: &Self, i: usize| -> NodeResult<(Factor, f32)> {
            match me.val(node, i)? {
                Some(Val::Deq(f)) => Ok((Factor::Flow(f), f.scale)),
                Some(Val::DeqConst(t, s, z)) if s.len() == 1 => Ok((
                    Factor::Const {
                        values: t.data.iter().map(|v| *v as i64).collect(),
                        shape: t.shape.clone(),
                        zero_point: z.first().copied().unwrap_or(0),
                    },
                    s[0],
                )),
                _ => Err(format!(
                    "input {i} must be a dequantized int8 tensor or constant (one scale)"
                )),
            }
        };
        let (a, sa) = operand(self, 0)?;
        let (b, sb) = operand(self, 1)?;
        self.mul((a, b), (sa, sb), (yq, 128), label)
    }
}
