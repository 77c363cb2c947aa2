//! Integer requantization as int8 runtimes compute it, in one exact form the circuit proves.
//!
//! Every int8 rescale this project meets (TFLite's `MultiplyByQuantizedMultiplier` after a
//! convolution, the rounding division of an average pool) is, on the accumulators it can see,
//!
//! ```text
//! q = floor((mul * acc + add - [acc < 0] * neg_add) / 2^(5L))          L = REQUANT_LIMB_BITS
//! y = out_min + clamp(q - q_min, 0, span)
//! ```
//!
//! [`RequantStep`] holds these six integers; the constructors below derive them from a runtime's
//! parameters and say why the two agree. The unit tests compare them with the runtime's rules written
//! out step by step ([`tflite_multiply_by_quantized_multiplier`], [`tflite_average`]).

use serde::{Deserialize, Serialize};

mod onnxruntime;
pub use onnxruntime::{mlas_logistic, mlas_qlinear_mul, ort_quantize_linear, ort_requantize};

/// Bits per limb of a requantization: its table covers `[-2^11, 2^12)`.
pub const REQUANT_LIMB_BITS: u32 = 12;
/// The requantization divides by `2^REQUANT_SHIFT` (five limbs of the remainder).
pub const REQUANT_SHIFT: u32 = 5 * REQUANT_LIMB_BITS;
/// Accumulators a requantization reads lie in `[-2^(3L-1), 2^(3L))` (three limbs, the top one
/// signed).
pub const REQUANT_ACC_RANGE: (i64, i64) = (
    -(1i64 << (3 * REQUANT_LIMB_BITS - 1)),
    1i64 << (3 * REQUANT_LIMB_BITS),
);

/// The integers of one requantization (see the module docs).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequantStep {
    /// Multiplier of the accumulator.
    pub mul: i128,
    /// Added before the division.
    pub add: i128,
    /// Subtracted as well when the accumulator is negative (a sign-dependent rounding).
    pub neg_add: i128,
    /// `q` at which the output reaches `out_min` (the lower clamp, in `q` units).
    pub q_min: i64,
    /// Width of the output range: outputs lie in `[out_min, out_min + span]`.
    pub span: i64,
    /// Smallest output.
    pub out_min: i64,
}

/// Why a requantization cannot be expressed exactly.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequantError(pub String);

impl std::fmt::Display for RequantError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Where a requantized value fails the circuit's ranges.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RequantRange {
    /// The accumulator is outside [`REQUANT_ACC_RANGE`].
    Accumulator(i64),
    /// `q` is too far outside the output range for the high limb (`q - q_min` over `span + 1`
    /// must lie in `[-2^(L-1), 2^L)`).
    Quotient(i64),
}

impl RequantStep {
    /// TFLite's `MultiplyByQuantizedMultiplier(acc, multiplier, shift)` plus the output zero point,
    /// clamped to `[act_min, act_max]` (convolutions, fully connected layers, and the last step of
    /// ADD). With `ls = max(shift, 0)` and `rs = max(-shift, 0)` the runtime computes
    ///
    /// ```text
    /// y1 = SaturatingRoundingDoublingHighMul(acc * 2^ls, M)
    ///    = trunc((P + nudge) / 2^31),  P = acc * 2^ls * M,  nudge = P >= 0 ? 2^30 : 1 - 2^30
    ///    = floor((P + 2^30) / 2^31)                       (both signs: trunc of a negative is ceil)
    /// y2 = RoundingDivideByPOT(y1, rs)
    ///    = floor((y1 + 2^(rs-1) - [y1 < 0]) / 2^rs)      (ties away from zero; y2 = y1 when rs = 0)
    /// ```
    ///
    /// Nested floors merge (`floor((floor(a / b) + c) / d) = floor((a + c b) / (b d))`), so
    /// `y2 = floor((P + 2^30 + (2^(rs-1) - [y1 < 0]) 2^31) / 2^(31+rs))`, multiplied through to the
    /// divisor `2^(5L)`. `[y1 < 0]` is `[acc < 0]` but for `acc = -1, M * 2^ls = 2^30`, where
    /// `y1 = 0` is not a tie and either sign gives the same `y2`.
    pub fn tflite(
        multiplier: i32,
        shift: i32,
        zero_point: i64,
        act_min: i64,
        act_max: i64,
    ) -> Result<Self, RequantError> {
        positive(multiplier)?;
        let ls = shift.max(0) as u32;
        let rs = (-shift).max(0) as u32;
        if 31 + rs > REQUANT_SHIFT {
            return Err(RequantError(format!(
                "output shift {shift} divides by more than 2^{REQUANT_SHIFT}"
            )));
        }
        if ls > 30 {
            return Err(RequantError(format!("output shift {shift} is too large")));
        }
        let mult = 1i128 << (REQUANT_SHIFT - 31 - rs);
        let add = match rs {
            0 => 1i128 << 30,
            _ => (1i128 << 30) + (1i128 << (30 + rs)),
        };
        let neg_add = match rs {
            0 => 0,
            _ => 1i128 << 31,
        };
        Self::clamped(
            mult * ((multiplier as i128) << ls),
            mult * add,
            mult * neg_add,
            act_min - zero_point,
            (act_min, act_max),
        )
    }

    /// The single-rounding form of the same multiplication (TFLite's `TFLITE_SINGLE_ROUNDING`
    /// variant, `(acc * M + 2^(30 - shift)) >> (31 - shift)`: round half up, once), plus the zero
    /// point, clamped. LiteRT's reference FULLY_CONNECTED computes this one (measured: the
    /// double-rounding form disagrees with it on about 0.3% of outputs, this form on none, see
    /// `tests/tflite_int8.rs`), while its convolutions and ADD use [`Self::tflite`].
    pub fn tflite_single_rounding(
        multiplier: i32,
        shift: i32,
        zero_point: i64,
        act_min: i64,
        act_max: i64,
    ) -> Result<Self, RequantError> {
        positive(multiplier)?;
        let total = 31 - shift;
        if !(1..=REQUANT_SHIFT as i32).contains(&total) {
            return Err(RequantError(format!(
                "output shift {shift} is out of range"
            )));
        }
        let mult = 1i128 << (REQUANT_SHIFT as i32 - total);
        Self::clamped(
            mult * multiplier as i128,
            mult << (total - 1),
            0,
            act_min - zero_point,
            (act_min, act_max),
        )
    }

    /// TFLite's int8 average: the sum `acc` of `count` window elements, rounded half away from zero
    /// (`acc > 0 ? (acc + count/2) / count : (acc - count/2) / count`, C division), clamped to
    /// `[act_min, act_max]`. As a floor: `floor((acc + h) / count)` for `acc >= 0` and
    /// `floor((acc + count - 1 - h) / count)` below, `h = count / 2`. Offsetting by `128 * count`
    /// makes the numerator non-negative for every sum of int8 values, where a multiplier
    /// `m = ceil(2^(5L) / count)` divides exactly (`n * (m * count - 2^(5L)) < 2^(5L)` for every such
    /// `n`); the offset comes back out through `q_min`.
    pub fn average(count: usize, act_min: i64, act_max: i64) -> Result<Self, RequantError> {
        Self::window_average(count, act_min, act_max, true)
    }

    /// TFLite's legacy uint8 average, on values held as int8 (`u - 128`): the uint8 kernel rounds
    /// `(acc_u + count/2) / count` with `acc_u >= 0`, which on the held sum `acc = acc_u - 128 count`
    /// is `floor((acc + h) / count)` for every sign (half up), `h = count / 2`.
    pub fn average_half_up(count: usize, act_min: i64, act_max: i64) -> Result<Self, RequantError> {
        Self::window_average(count, act_min, act_max, false)
    }

    /// [`Self::average`] (`away_from_zero`) or [`Self::average_half_up`].
    fn window_average(
        count: usize,
        act_min: i64,
        act_max: i64,
        away_from_zero: bool,
    ) -> Result<Self, RequantError> {
        if count == 0 || count > 1 << 20 {
            return Err(RequantError(format!("a window of {count} elements")));
        }
        let c = count as i128;
        let m = ((1i128 << REQUANT_SHIFT) + c - 1) / c;
        let h = c / 2;
        const K: i128 = 128;
        Self::clamped(
            m,
            m * (h + K * c),
            m * (2 * h - c + 1) * away_from_zero as i128,
            act_min + K as i64,
            (act_min, act_max),
        )
    }

    /// The step whose `q` is `g(acc)` for every `acc` in `domain` (a non-decreasing map that a
    /// runtime computes in several rounding stages), clamped to `[act_min, act_max]`; `None` when no
    /// multiplier within a few units of `ratio * 2^60` fits. Every accumulator of the domain is
    /// checked, so the step is exact there; the domain is every sum the op can see (its inputs are
    /// int8).
    pub fn fit(
        domain: (i64, i64),
        g: &dyn Fn(i64) -> i64,
        ratio: f64,
        (act_min, act_max, zero_point): (i64, i64, i64),
    ) -> Option<Self> {
        let unit = 1i128 << REQUANT_SHIFT;
        let centre = (ratio * unit as f64).round() as i128;
        // The offsets `add` allowed for a multiplier over accumulators of one sign: an interval.
        let offsets = |mul: i128, accs: &mut dyn Iterator<Item = i64>| {
            let (mut lo, mut hi) = (i128::MIN, i128::MAX);
            for a in accs {
                let q = g(a) as i128;
                lo = lo.max(q * unit - mul * a as i128);
                hi = hi.min((q + 1) * unit - mul * a as i128);
            }
            (lo < hi).then_some(lo)
        };
        for d in (0..=64i128).flat_map(|d| [d, -d]) {
            let mul = centre + d;
            if mul <= 0 {
                continue;
            }
            let Some(add) = offsets(mul, &mut (domain.0.max(0)..=domain.1)) else {
                continue;
            };
            let neg = match domain.0 < 0 {
                true => offsets(mul, &mut (domain.0..=domain.1.min(-1))),
                false => Some(add),
            };
            if let Some(add_neg) = neg {
                let step = Self::clamped(
                    mul,
                    add,
                    add - add_neg,
                    act_min - zero_point,
                    (act_min, act_max),
                )
                .ok()?;
                return Some(step);
            }
        }
        None
    }

    fn clamped(
        mul: i128,
        add: i128,
        neg_add: i128,
        q_min: i64,
        (act_min, act_max): (i64, i64),
    ) -> Result<Self, RequantError> {
        if act_min > act_max || act_max - act_min >= 1 << REQUANT_LIMB_BITS {
            return Err(RequantError(format!(
                "output range [{act_min}, {act_max}] is empty or wider than 2^{REQUANT_LIMB_BITS}"
            )));
        }
        Ok(RequantStep {
            mul,
            add,
            neg_add,
            q_min,
            span: act_max - act_min,
            out_min: act_min,
        })
    }

    /// The numerator `mul * acc + add - [acc < 0] * neg_add`.
    pub fn numerator(&self, acc: i64) -> i128 {
        self.mul * acc as i128 + self.add - (acc < 0) as i128 * self.neg_add
    }

    /// `q` for an accumulator (no range checks).
    pub fn quotient(&self, acc: i64) -> i128 {
        self.numerator(acc).div_euclid(1i128 << REQUANT_SHIFT)
    }

    /// The output for any accumulator, without the circuit's ranges: `out_min + clamp(q - q_min, 0,
    /// span)`, the runtime's saturation.
    pub fn saturated(&self, acc: i64) -> i64 {
        let t = self.quotient(acc) - self.q_min as i128;
        self.out_min + t.clamp(0, self.span as i128) as i64
    }

    /// Whether [`Self::saturated`] never decreases as the accumulator grows, and its numerator stays
    /// within `i128` for every accumulator below `2^36` in magnitude: a positive `mul` below `2^90`,
    /// and a non-negative `neg_add` (from `acc = -1` to `0` the numerator grows by `mul + neg_add`).
    /// Every step TFLite's multipliers give has it.
    pub fn is_monotone(&self) -> bool {
        let bound = 1i128 << 90;
        (1..bound).contains(&self.mul)
            && (0..bound).contains(&self.neg_add)
            && self.add.abs() < bound
    }

    /// The output for `acc`, or which of the circuit's ranges it leaves.
    pub fn apply(&self, acc: i64) -> Result<i64, RequantRange> {
        if acc < REQUANT_ACC_RANGE.0 || acc >= REQUANT_ACC_RANGE.1 {
            return Err(RequantRange::Accumulator(acc));
        }
        let q = self.quotient(acc);
        let t = q - self.q_min as i128;
        let hi = t.div_euclid(self.span as i128 + 1);
        let limit = 1i128 << (REQUANT_LIMB_BITS - 1);
        if hi < -limit || hi >= 2 * limit {
            return Err(RequantRange::Quotient(
                q.clamp(i64::MIN as i128, i64::MAX as i128) as i64,
            ));
        }
        Ok(self.out_min + t.clamp(0, self.span as i128) as i64)
    }
}

/// A multiplier from TFLite's `QuantizeMultiplier` is positive (zero only for a zero scale).
fn positive(multiplier: i32) -> Result<(), RequantError> {
    match multiplier > 0 {
        true => Ok(()),
        false => Err(RequantError(format!(
            "output multiplier {multiplier} is not positive"
        ))),
    }
}

/// The affine quantization of an int8 tensor: `real = scale * (q - zero_point)`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct AffineQuant {
    /// Real value of one step.
    pub scale: f64,
    /// The integer that stands for 0.
    pub zero_point: i64,
}

// Scales are finite (the importer checks), so equality is an equivalence.
impl Eq for AffineQuant {}

impl AffineQuant {
    /// The real value of `q`.
    pub fn dequantize(&self, q: i64) -> f64 {
        self.scale * (q - self.zero_point) as f64
    }

    /// TFLite's QUANTIZE to int8 (`reference_ops::AffineQuantize`): the float32 quotient
    /// `x / scale` rounded half away from zero, plus the zero point, saturated. The division is in
    /// float32 as the kernel does it (float64 would round some ties the other way).
    pub fn quantize_int8(&self, x: f64) -> i64 {
        let q = ((x as f32) / (self.scale as f32)).round() as i64 + self.zero_point;
        q.clamp(-128, 127)
    }
}

/// TFLite's `MultiplyByQuantizedMultiplier` as its reference code writes it (for tests and tables):
/// `SaturatingRoundingDoublingHighMul` then `RoundingDivideByPOT`.
pub fn tflite_multiply_by_quantized_multiplier(x: i32, multiplier: i32, shift: i32) -> i32 {
    let ls = shift.max(0);
    let rs = (-shift).max(0);
    let a = x.wrapping_mul(1 << ls);
    let high = if a == i32::MIN && multiplier == i32::MIN {
        i32::MAX
    } else {
        let ab = a as i64 * multiplier as i64;
        let nudge: i64 = if ab >= 0 { 1 << 30 } else { 1 - (1 << 30) };
        ((ab + nudge) / (1i64 << 31)) as i32
    };
    rounding_divide_by_pot(high, rs)
}

/// The single-rounding `MultiplyByQuantizedMultiplier` (for tests).
pub fn tflite_multiply_single_rounding(x: i32, multiplier: i32, shift: i32) -> i32 {
    let total = 31 - shift as i64;
    ((x as i64 * multiplier as i64 + (1i64 << (total - 1))) >> total) as i32
}

/// gemmlowp's `RoundingDivideByPOT`: round half away from zero.
pub fn rounding_divide_by_pot(x: i32, exponent: i32) -> i32 {
    let mask = ((1i64 << exponent) - 1) as i32;
    let remainder = x & mask;
    let threshold = (mask >> 1) + (x < 0) as i32;
    (x >> exponent) + (remainder > threshold) as i32
}

/// TFLite's int8 average of a window sum (see [`RequantStep::average`]).
pub fn tflite_average(acc: i32, count: i32, act_min: i32, act_max: i32) -> i32 {
    let avg = if acc > 0 {
        (acc + count / 2) / count
    } else {
        (acc - count / 2) / count
    };
    avg.clamp(act_min, act_max)
}

/// TFLite's `QuantizeMultiplier`: a real multiplier as a 31-bit fixed-point `M` in `[2^30, 2^31)`
/// and a power-of-two `shift` (`real ≈ M * 2^(shift - 31)`); `(0, 0)` for zero or below `2^-32`.
pub fn quantize_multiplier(real: f64) -> (i32, i32) {
    if real == 0.0 || !real.is_finite() {
        return (0, 0);
    }
    let (q, mut shift) = frexp(real);
    let mut q_fixed = (q * (1i64 << 31) as f64).round() as i64;
    if q_fixed == 1i64 << 31 {
        q_fixed /= 2;
        shift += 1;
    }
    if shift < -31 {
        return (0, 0);
    }
    if shift > 30 {
        return (i32::MAX, 30);
    }
    (q_fixed as i32, shift)
}

/// C's `frexp` for a finite non-zero `x`: `x = f * 2^e` with `|f|` in `[0.5, 1)`, exactly.
fn frexp(x: f64) -> (f64, i32) {
    let bits = x.to_bits();
    let exp = ((bits >> 52) & 0x7ff) as i32;
    if exp == 0 {
        // Subnormal: scale into the normal range first.
        let (f, e) = frexp(x * 2f64.powi(64));
        return (f, e - 64);
    }
    let e = exp - 1022;
    let f = f64::from_bits((bits & !(0x7ffu64 << 52)) | (1022u64 << 52));
    (f, e)
}

#[cfg(test)]
mod tests;
