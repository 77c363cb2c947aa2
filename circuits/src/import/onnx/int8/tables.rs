//! Elementwise int8 ops as 256-entry tables, built with onnxruntime's float32 arithmetic: Relu,
//! LeakyRelu, Sigmoid and Clip between DequantizeLinear and QuantizeLinear (the QDQ form; Clip runs
//! there as a float Clip, no QLinear op replaces it), and the
//! QOperator nodes QLinearLeakyRelu and QLinearSigmoid (com.microsoft). onnxruntime's lookup-table
//! kernels (`QlinearBuildLookupTable`) dequantize each of the 256 inputs as
//! `x_scale * float(x - x_zero_point)`, apply the float function, and quantize the results with
//! `MlasQuantizeLinear`; a QDQ group runs the same float kernels one after the other, so both forms
//! give the same table.

use tract_onnx::pb::NodeProto;

use super::maps::RANGE;
use super::{Flow, Int8OnnxImporter, NodeResult};
use crate::qgraph::requant::{mlas_logistic, ort_quantize_linear};
use crate::qgraph::{QOp, QTable};

/// A float function onnxruntime applies to dequantized int8 values.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum Activation {
    /// `max(v, 0)`.
    Relu,
    /// `v` for `v >= 0`, else `alpha * v` (float32 product).
    LeakyRelu { alpha: f32 },
    /// MLAS's logistic approximation ([`mlas_logistic`]).
    Sigmoid,
    /// `min(max(v, lo), hi)` (either bound may be absent).
    Clip { lo: Option<f32>, hi: Option<f32> },
}

impl Activation {
    /// The activation of a Relu, LeakyRelu, Sigmoid, QLinearLeakyRelu or QLinearSigmoid node
    /// (`alpha` defaults to 0.01, as in ONNX and onnxruntime).
    pub(super) fn of(node: &NodeProto) -> NodeResult<Self> {
        match node.op_type.as_str() {
            "Relu" => Ok(Activation::Relu),
            "Sigmoid" | "QLinearSigmoid" => Ok(Activation::Sigmoid),
            "LeakyRelu" | "QLinearLeakyRelu" => {
                let alpha = node
                    .get_attr_opt::<f32>("alpha")
                    .map_err(|e| e.to_string())?
                    .unwrap_or(0.01);
                if !alpha.is_finite() {
                    return Err(format!("alpha {alpha}"));
                }
                Ok(Activation::LeakyRelu { alpha })
            }
            other => Err(format!("{other} is not an elementwise activation")),
        }
    }

    /// The function on one float32 value, as onnxruntime's CPU kernel computes it.
    pub(super) fn apply(&self, v: f32) -> f32 {
        match *self {
            Activation::Relu => v.max(0.0),
            Activation::LeakyRelu { alpha } => match v >= 0.0 {
                true => v,
                false => alpha * v,
            },
            Activation::Sigmoid => mlas_logistic(v),
            Activation::Clip { lo, hi } => {
                let v = lo.map_or(v, |lo| v.max(lo));
                hi.map_or(v, |hi| v.min(hi))
            }
        }
    }

    /// The 256-entry table from an int8 tensor quantized by `xq` to one quantized by `yq` (held
    /// values: uint8 as `byte - 128`, zero points moved alike, which leaves every quantity the
    /// kernels compute unchanged).
    pub(super) fn table(&self, xq: (f32, i64), yq: (f32, i64)) -> Vec<i64> {
        (-128..128)
            .map(|v| {
                let real = xq.0 * (v - xq.1) as f32;
                ort_quantize_linear(self.apply(real), yq.0, yq.1, RANGE)
            })
            .collect()
    }
}

impl Int8OnnxImporter<'_> {
    /// `act` of int8 tensor `x`, quantized by `yq`: a table layer.
    pub(super) fn activation(
        &mut self,
        act: Activation,
        x: Flow,
        yq: (f32, i64),
        label: &str,
    ) -> Flow {
        let table = act.table((x.scale, x.zero_point), yq);
        let shape = self.shape_of(x.id);
        let id = self.push(
            label,
            QOp::Table(QTable { lo: -128, table }),
            shape,
            vec![x.id],
        );
        Flow {
            id,
            scale: yq.0,
            zero_point: yq.1,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_follow_the_float_functions() {
        // x = (v + 3) / 16, y = 1/256 with zero point -128 (sigmoid) or y = x's quantization.
        let xq = (1.0 / 16.0, -3);
        let sig = Activation::Sigmoid.table(xq, (1.0 / 256.0, -128));
        assert!(sig.windows(2).all(|w| w[0] <= w[1]), "sigmoid is monotone");
        // sigmoid(0) = 1/2 -> 128 - 128 = 0 at v = -3.
        assert_eq!(sig[(-3 + 128) as usize], 0);
        assert_eq!(sig[0], -128);
        assert_eq!(sig[255], 127);
        let leaky = Activation::LeakyRelu { alpha: 0.25 }.table(xq, xq);
        // v = -3 - 8 (x = -0.5) -> -0.125 -> -2 + (-3) = -5; v = 13 (x = 1) stays.
        assert_eq!(leaky[(-11 + 128) as usize], -5);
        assert_eq!(leaky[(13 + 128) as usize], 13);
        let relu = Activation::Relu.table(xq, xq);
        assert_eq!(relu[0], -3);
        assert_eq!(relu[200], 200 - 128);
    }
}
