//! onnxruntime's int8 arithmetic, written out as its CPU kernels compute it (x86-64, MLAS).
//!
//! These are float32 formulas, not integer ones: the product's rounding to 24 significant bits
//! moves some outputs off every straight line (on random multipliers between 2^-12 and 2^-11,
//! about half of the output ranges admit no [`super::RequantStep`]), so an ONNX int8 model's
//! requantizations are proven through their thresholds ([`crate::qgraph::threshold`]).

/// onnxruntime's `MlasRequantizeOutput` for one accumulator (bias already added): the float32
/// product `float(acc) * scale`, rounded half to even, plus `zero_point`, saturated to
/// `[lo, hi]` (clamping the float before rounding, as the kernel does, gives the same integer).
pub fn ort_requantize(acc: i64, scale: f32, zero_point: i64, (lo, hi): (i64, i64)) -> i64 {
    let v = (acc as f32 * scale).round_ties_even();
    // Clamp in float first: the product may be far outside i64 for absurd scales.
    let v = v.clamp((lo - zero_point) as f32, (hi - zero_point) as f32) as i64;
    v + zero_point
}

/// onnxruntime's QuantizeLinear (`MlasQuantizeLinear`): the float32 quotient `x / scale`, rounded
/// half to even, plus the zero point, saturated to `[lo, hi]`.
pub fn ort_quantize_linear(x: f32, scale: f32, zero_point: i64, (lo, hi): (i64, i64)) -> i64 {
    let v = (x / scale).clamp((lo - zero_point) as f32, (hi - zero_point) as f32);
    v.round_ties_even() as i64 + zero_point
}
