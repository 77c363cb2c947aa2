//! The integer arithmetic of the semantics: exact sums, round-half-up rescales, the activation
//! range, and the float <-> integer maps at a power-of-two scale.

/// `bias + sum_i w[i] * x[i]`, exactly.
pub fn linear_acc(bias: i64, weights: &[i64], x: &[i64]) -> i128 {
    weights.iter().zip(x).fold(bias as i128, |acc, (w, v)| {
        acc + (*w as i128) * (*v as i128)
    })
}

/// Round-half-up division by `2^shift`.
pub fn rescale(acc: i64, shift: u32) -> i64 {
    if shift == 0 {
        return acc;
    }
    (acc + (1i64 << (shift - 1))).div_euclid(1i64 << shift)
}

/// Range `[min, max)` of a rescaled activation with limbs of `limb_bits` bits: a low limb in
/// `[0, 2^L)` and a signed high limb in `[-2^(L-1), 2^L)`.
pub fn activation_range(limb_bits: u32) -> (i64, i64) {
    (-(1i64 << (2 * limb_bits - 1)), 1i64 << (2 * limb_bits))
}

/// Quantize a float at a power-of-two scale.
pub fn quantize(x: f64, scale: u32) -> i64 {
    (x * (1u64 << scale) as f64).round() as i64
}

/// The float a quantized integer stands for.
pub fn dequantize(v: i64, scale: u32) -> f64 {
    v as f64 / (1u64 << scale) as f64
}
