//! int8 elementwise ops as TFLite's reference kernels compute them: ADD and SUB (`AddElementwise`,
//! `SubElementwise`: inputs shifted left by 20 bits and requantized, the sum or difference
//! requantized), MUL (`(x1 - zp1)(x2 - zp2)` requantized), and the unary ops whose int8 output is a
//! function of the 256 input values (a standalone RELU / RELU6 / RELU_N1_TO_1, `ReluX`; a QUANTIZE
//! from int8 to int8, `Requantize`; LOGISTIC and TANH, LiteRT's float32 table; HARD_SWISH, see
//! [`super::hard_swish`]), each a table.

use tract_tflite::tflite;

use super::hard_swish::HardSwishParams;
use super::ops::{activation_range, tflite_step};
use super::{Flow, Int8Importer, OpResult};
use crate::qgraph::requant::{
    quantize_multiplier, tflite_multiply_by_quantized_multiplier, AffineQuant,
};
use crate::qgraph::{QOp, QPick, QRemap, QTable, QTableSum};

/// One entry of LiteRT's int8 LOGISTIC / TANH table (`LUTPopulate`, in float32 as the kernel
/// computes it): `x` dequantized, the function applied, divided by the output scale, rounded half
/// away from zero, plus the output zero point, saturated. The float32 `exp` and `tanh` are the C
/// library's, as the runtime's.
fn lut_value(v: i64, input: AffineQuant, output: AffineQuant, logistic: bool) -> i64 {
    let dequantized = input.scale as f32 * (v - input.zero_point) as f32;
    let transformed = match logistic {
        true => 1.0f32 / (1.0f32 + (-dequantized).exp()),
        false => dequantized.tanh(),
    };
    let rescaled = (transformed * (1.0f32 / output.scale as f32)).round();
    ((rescaled + output.zero_point as f32) as i64).clamp(-128, 127)
}

/// `MultiplyByQuantizedMultiplier(x, quantize_multiplier(real))`.
fn scaled(x: i64, real: f64) -> i64 {
    let (m, shift) = quantize_multiplier(real);
    tflite_multiply_by_quantized_multiplier(x as i32, m, shift) as i64
}

/// Two operands (flow and graph id each) and whether they are held channel-first.
type Pair = ((Flow, usize), (Flow, usize), bool);

impl Int8Importer<'_> {
    /// The two operands of an elementwise op producing `out`, in one layout and at the output's
    /// shape: activations of that shape as they are; a smaller activation or a constant (numpy
    /// broadcasting, as TFLite's `BroadcastAdd4DSlow` / `BroadcastMul4DSlow` read them) through a
    /// row-free remap. Returns each operand's flow and graph id, and whether they are channel-first.
    fn pair(&mut self, a: usize, b: usize, out: usize) -> OpResult<Pair> {
        let shape = self.tensors[out].shape.clone();
        let same = |t: usize, me: &Self| me.tensors[t].shape == shape && me.flows.contains_key(&t);
        if same(a, self) && same(b, self) {
            let (fa, fb) = (self.flow(a)?, self.flow(b)?);
            return Ok(match (fa.nchw, fb.nchw) {
                (true, true) => ((fa, fa.id), (fb, fb.id), true),
                (false, false) => ((fa, fa.id), (fb, fb.id), false),
                _ => ((fa, self.plain(a)?), (fb, self.plain(b)?), false),
            });
        }
        let nchw = matches!(shape[..], [1, _, _, _]);
        let fa = self.broadcast(a, &shape, nchw)?;
        let fb = self.broadcast(b, &shape, nchw)?;
        Ok(((fa, fa.id), (fb, fb.id), nchw))
    }

    /// Operand `t` (an activation or an int8 constant) broadcast to `shape` (TFLite's order), held
    /// channel-first when `nchw`.
    fn broadcast(&mut self, t: usize, shape: &[usize], nchw: bool) -> OpResult<Flow> {
        let from = self.tensors[t].shape.clone();
        if from.len() > shape.len() {
            return Err(format!("operand {from:?} does not broadcast to {shape:?}"));
        }
        let lead = shape.len() - from.len();
        for (k, d) in from.iter().enumerate() {
            if *d != 1 && *d != shape[lead + k] {
                return Err(format!("operand {from:?} does not broadcast to {shape:?}"));
            }
        }
        // The operand's row-major index of each output element, in TFLite's order.
        let n: usize = shape.iter().product();
        let index = |flat: usize| {
            let (mut rest, mut idx, mut stride) = (flat, 0usize, 1usize);
            let mut coords = vec![0; shape.len()];
            for k in (0..shape.len()).rev() {
                coords[k] = rest % shape[k];
                rest /= shape[k];
            }
            for k in (0..from.len()).rev() {
                let c = if from[k] == 1 { 0 } else { coords[lead + k] };
                idx += c * stride;
                stride *= from[k];
            }
            idx
        };
        let order: Vec<usize> = match (nchw, shape) {
            (true, &[1, h, w, c]) => (0..c)
                .flat_map(|ch| (0..h * w).map(move |p| p * c + ch))
                .collect(),
            _ => (0..n).collect(),
        };
        let out_shape = match (nchw, shape) {
            (true, &[1, h, w, c]) => vec![1, c, h, w],
            _ => shape.to_vec(),
        };
        let name = format!("{}.broadcast", self.names[t]);
        let (map, q, input) = match self.flows.contains_key(&t) {
            true => {
                let q = self.flow(t)?.q;
                let id = self.plain(t)?;
                let map = order.iter().map(|f| QPick::Input(index(*f))).collect();
                (map, q, id)
            }
            false => {
                let values = self.int8_const(t)?;
                let q = self.quant(t)?;
                let map = order
                    .iter()
                    .map(|f| QPick::Const(values[index(*f)]))
                    .collect();
                (map, q, 0)
            }
        };
        let id = self.push(&name, QOp::Remap(QRemap::new(map)), out_shape, vec![input]);
        Ok(Flow { id, nchw, q })
    }

    /// A table over int8 tensor `id`: `y = f(x)` for the 256 values.
    fn table(&mut self, id: usize, f: &dyn Fn(i64) -> i64, label: &str) -> usize {
        let table = (-128i64..=127).map(f).collect();
        let shape = self.layer_shape(id);
        self.push(
            label,
            QOp::Table(QTable { lo: -128, table }),
            shape,
            vec![id],
        )
    }

    /// ADD or SUB of two int8 activations of one shape (TFLite's add.cc / sub.cc for int8: left
    /// shift 20; input multipliers `s_k / (2 max s)`; output multiplier `2 max s / (2^20 s_out)`).
    pub(super) fn add_sub(
        &mut self,
        op: &tflite::Operator,
        name: &str,
        (a, b): (usize, usize),
        out: usize,
        label: &str,
    ) -> OpResult<()> {
        let ((fa, ia), (fb, ib), nchw) = self.pair(a, b, out)?;
        let oq = self.quant(out)?;
        let act = match name {
            "SUB" => op
                .builtin_options_as_sub_options()
                .map(|o| o.fused_activation_function()),
            _ => op
                .builtin_options_as_add_options()
                .map(|o| o.fused_activation_function()),
        };
        let range = activation_range(act.unwrap_or(tflite::ActivationFunctionType::NONE), oq)?;
        const LEFT_SHIFT: i64 = 20;
        let twice_max = 2.0 * fa.q.scale.max(fb.q.scale);
        // Each input rescaled by its own table; a SUB's second table negated (the sum's sign).
        let sign = [1, if name == "SUB" { -1 } else { 1 }];
        let tables = [fa.q, fb.q]
            .into_iter()
            .zip(sign)
            .map(|(q, sign)| {
                (-128i64..=127)
                    .map(|v| sign * scaled((v - q.zero_point) << LEFT_SHIFT, q.scale / twice_max))
                    .collect::<Vec<i64>>()
            })
            .collect::<Vec<_>>();
        let tables: [Vec<i64>; 2] = tables.try_into().expect("two tables");
        let real_out = twice_max / ((1i64 << LEFT_SHIFT) as f64 * oq.scale);
        let step = tflite_step(real_out, oq.zero_point, range)?;
        let shape = self.layer_shape(ia);
        let n = shape.iter().product();
        let sum = QOp::TableSum(QTableSum {
            lo: -128,
            tables,
            product: false,
        });
        self.with_requant(
            (sum, vec![ia, ib]),
            shape,
            (vec![step], n),
            (out, nchw, oq),
            label,
        );
        Ok(())
    }

    /// MUL of two int8 activations of one shape: `(x1 - zp1)(x2 - zp2)` requantized by
    /// `s1 s2 / s_out`.
    pub(super) fn mul(
        &mut self,
        op: &tflite::Operator,
        (a, b): (usize, usize),
        out: usize,
        label: &str,
    ) -> OpResult<()> {
        let ((fa, ia), (fb, ib), nchw) = self.pair(a, b, out)?;
        let oq = self.quant(out)?;
        let act = op
            .builtin_options_as_mul_options()
            .map(|o| o.fused_activation_function())
            .unwrap_or(tflite::ActivationFunctionType::NONE);
        let range = activation_range(act, oq)?;
        // Each input less its zero point, by table, then multiplied.
        let centred = |zp: i64| (-128i64..=127).map(|v| v - zp).collect::<Vec<i64>>();
        let tables = [centred(fa.q.zero_point), centred(fb.q.zero_point)];
        let step = tflite_step(fa.q.scale * fb.q.scale / oq.scale, oq.zero_point, range)?;
        let shape = self.layer_shape(ia);
        let n = shape.iter().product();
        self.with_requant(
            (
                QOp::TableSum(QTableSum {
                    lo: -128,
                    tables,
                    product: true,
                }),
                vec![ia, ib],
            ),
            shape,
            (vec![step], n),
            (out, nchw, oq),
            label,
        );
        Ok(())
    }

    /// A standalone RELU, RELU6 or RELU_N1_TO_1 (`ReluX`: the input less its zero point, requantized
    /// by `s_in / s_out`, plus the output zero point, clamped) or an int8-to-int8 QUANTIZE
    /// (`Requantize`, the same without a clamp beyond int8): a table of the 256 int8 values.
    pub(super) fn unary(&mut self, name: &str, t: usize, out: usize, label: &str) -> OpResult<()> {
        use tflite::ActivationFunctionType as A;
        self.quant(t)?; // an int8 input (a QUANTIZE of float data mid-graph is refused here)
        let x = self.flow(t)?;
        let oq = self.quant(out)?;
        let f: Box<dyn Fn(i64) -> i64> = match name {
            "LOGISTIC" | "TANH" => {
                let logistic = name == "LOGISTIC";
                Box::new(move |v| lut_value(v, x.q, oq, logistic))
            }
            "HARD_SWISH" => {
                let params = HardSwishParams::new(x.q, oq)?;
                Box::new(move |v| params.apply(v))
            }
            _ => {
                let act = match name {
                    "RELU" => A::RELU,
                    "RELU6" => A::RELU6,
                    "RELU_N1_TO_1" => A::RELU_N1_TO_1,
                    _ => A::NONE,
                };
                let (lo, hi) = activation_range(act, oq)?;
                let real = x.q.scale / oq.scale;
                Box::new(move |v| (scaled(v - x.q.zero_point, real) + oq.zero_point).clamp(lo, hi))
            }
        };
        // A QUANTIZE between equal quantizations (a uint8 input or output's, held as int8) is the
        // identity: no layer.
        let identity = (-128..=127).all(|v| f(v) == v);
        let id = match name == "QUANTIZE" && identity {
            true => x.id,
            false => self.table(x.id, &*f, label),
        };
        let flow = Flow {
            id,
            nchw: x.nchw,
            q: oq,
        };
        self.flows.insert(out, flow);
        Ok(())
    }
}
