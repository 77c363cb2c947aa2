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

/// onnxruntime's `MlasComputeLogistic` for one value, as its x86-64 FMA3 kernel computes it (the
/// rational approximation MLAS shares with Eigen): the input clamped to `[-18, 18]`, odd and even
/// polynomials in `v^2` by fused multiply-adds, `p / q + 1/2` clamped to `[0, 1]`. QLinearSigmoid
/// builds its 256-entry table with it.
pub fn mlas_logistic(x: f32) -> f32 {
    // MLAS's constants, as written there (each rounds to the same float32 as in C++).
    #[allow(clippy::excessive_precision)]
    const ALPHA: [f32; 5] = [
        4.37031012579801e-11,
        1.15627324459942e-07,
        6.08574864600143e-05,
        8.51377133304701e-03,
        2.48287947061529e-01,
    ];
    #[allow(clippy::excessive_precision)]
    const BETA: [f32; 6] = [
        6.10247389755681e-13,
        5.76102136993427e-09,
        6.29106785017040e-06,
        1.70198817374094e-03,
        1.16817656904453e-01,
        9.93151921023180e-01,
    ];
    // NaN stays NaN (no int8 input dequantizes to one).
    let v = x.clamp(-18.0, 18.0);
    let v2 = v * v;
    let p = ALPHA[1..]
        .iter()
        .fold(ALPHA[0], |acc, c| acc.mul_add(v2, *c))
        * v;
    let q = BETA[1..].iter().fold(BETA[0], |acc, c| acc.mul_add(v2, *c));
    (p / q + 0.5).clamp(0.0, 1.0)
}

/// onnxruntime's QLinearMul on x86-64 (`MlasQLinearMul`, SSE2) for the exact integer product
/// `p = (a - z_a)(b - z_b)`: `float(p) * ratio + float(zero_point)` in float32 with two roundings
/// (`ratio` is `(s_a * s_b) / s_c` in float32), rounded half to even, saturated to `[lo, hi]`.
pub fn mlas_qlinear_mul(p: i64, ratio: f32, zero_point: i64, (lo, hi): (i64, i64)) -> i64 {
    let v = (p as f32 * ratio + zero_point as f32).round_ties_even();
    v.clamp(lo as f32, hi as f32) as i64
}
