//! TFLite's int8 HARD_SWISH (`reference_ops::HardSwish` with the parameters `HardSwishPrepare`
//! derives), as the 256-entry table of its outputs.
//!
//! The kernel works in int16 fixed point: the input, less its zero point, scaled up by 128
//! (`hires`); `hires` times the output multiplier (`pre_out`); a "reluish" factor
//! `relu6(x + 3) / 6` in Q15 from `hires` times the reluish multiplier, saturated to `[-1, 1]` and
//! mapped to `[0, 1]`; their product, shifted by the output exponent, plus the output zero point.
//! Every step below is the kernel's, with gemmlowp's rounding rules.

use crate::qgraph::requant::{quantize_multiplier, AffineQuant};

/// The kernel's parameters: int16 multipliers and their exponents.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct HardSwishParams {
    input_zero_point: i64,
    output_zero_point: i64,
    reluish_multiplier: i32,
    reluish_exponent: i32,
    output_multiplier: i32,
    output_exponent: i32,
}

/// `DownScaleInt32ToInt16Multiplier`: the top 16 bits of a 31-bit multiplier, rounded.
fn downscale(q: i32) -> i32 {
    match q as i64 >= (1i64 << 31) - 1 - (1 << 15) {
        true => i16::MAX as i32,
        false => (q + (1 << 15)) >> 16,
    }
}

/// gemmlowp's int16 `SaturatingRoundingDoublingHighMul`: `a b / 2^15`, rounded half away from
/// zero (C division truncates toward zero after the nudge).
fn srdhm16(a: i32, b: i32) -> i32 {
    if a == i16::MIN as i32 && b == i16::MIN as i32 {
        return i16::MAX as i32;
    }
    let ab = a * b;
    let nudge = if ab >= 0 { 1 << 14 } else { 1 - (1 << 14) };
    (ab + nudge) / (1 << 15)
}

/// gemmlowp's int16 `SaturatingDoublingHighMul` without rounding: `a b / 2^15`, truncated.
fn sdhm16(a: i32, b: i32) -> i32 {
    (a * b) / (1 << 15)
}

/// `SaturatingLeftShift` on int16.
fn saturating_shl16(v: i32, s: i32) -> i32 {
    (v << s).clamp(i16::MIN as i32, i16::MAX as i32)
}

/// gemmlowp's `RoundingDivideByPOT`: round half away from zero.
fn rounding_divide_by_pot(v: i32, e: i32) -> i32 {
    let mask = (1 << e) - 1;
    let remainder = v & mask;
    let threshold = (mask >> 1) + (v < 0) as i32;
    (v >> e) + (remainder > threshold) as i32
}

impl HardSwishParams {
    /// `HardSwishPrepare`: the multipliers from the input and output scales, in float32 as the
    /// kernel computes them (`hires_input_scale = input_scale / 128`, the reluish scale `3 / 2^15`).
    pub(super) fn new(input: AffineQuant, output: AffineQuant) -> Result<Self, String> {
        let hires = (1.0f32 / 128.0) * input.scale as f32;
        let reluish_scale = 3.0f32 / 32768.0;
        let output_real = (hires / output.scale as f32) as f64;
        let reluish_real = (hires / reluish_scale) as f64;
        let (rq, reluish_exponent) = quantize_multiplier(reluish_real);
        let (oq, output_exponent) = quantize_multiplier(output_real);
        if output_exponent > 0 {
            return Err(format!(
                "the output scale {} is too small for the input scale {} (output exponent \
                 {output_exponent} > 0, which TFLite refuses too)",
                output.scale, input.scale
            ));
        }
        if output_exponent < -15 {
            return Err(format!(
                "the output scale {} is too large for the input scale {}",
                output.scale, input.scale
            ));
        }
        Ok(HardSwishParams {
            input_zero_point: input.zero_point,
            output_zero_point: output.zero_point,
            reluish_multiplier: downscale(rq),
            reluish_exponent,
            output_multiplier: downscale(oq),
            output_exponent,
        })
    }

    /// The kernel's output for int8 input `q`.
    pub(super) fn apply(&self, q: i64) -> i64 {
        let hires = ((q - self.input_zero_point) * 128) as i32;
        let pre_out = srdhm16(hires, self.output_multiplier);
        let mut r = hires;
        if self.reluish_exponent > 0 {
            r = saturating_shl16(r, self.reluish_exponent - 1);
        }
        r = srdhm16(r, self.reluish_multiplier);
        if self.reluish_exponent > 0 {
            r = saturating_shl16(r, 1);
        }
        if self.reluish_exponent < 0 {
            r = rounding_divide_by_pot(r, -self.reluish_exponent);
        }
        let r = (r + (1 << 15)) >> 1;
        let y = rounding_divide_by_pot(sdhm16(r, pre_out), -self.output_exponent);
        (y as i64 + self.output_zero_point).clamp(-128, 127)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// LiteRT's reference-kernel tables at 14 quantizations (reluish exponents -2 to 7, output
    /// exponents -7 to -2; `fixtures/make_tflite_ops_int8.py`): every entry equal.
    #[test]
    fn tables_equal_litert_s_reference_kernel() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures/tflite_ops_int8/");
        let read = |f: &str| -> serde_json::Value {
            serde_json::from_str(&std::fs::read_to_string(format!("{dir}{f}")).unwrap()).unwrap()
        };
        let mut tables: Vec<serde_json::Value> = read("hard_swish_tables.json")["tables"]
            .as_array()
            .unwrap()
            .clone();
        for model in ["hard_swish.json", "hard_swish_standalone.json"] {
            tables.extend(read(model)["hard_swish_table"].as_array().unwrap().clone());
        }
        assert_eq!(tables.len(), 14);
        for t in &tables {
            let q = |s: &str, z: &str| AffineQuant {
                scale: t[s].as_f64().unwrap(),
                zero_point: t[z].as_i64().unwrap(),
            };
            let p = HardSwishParams::new(
                q("input_scale", "input_zero_point"),
                q("output_scale", "output_zero_point"),
            )
            .unwrap();
            if let Some(m) = t["reluish_multiplier_fixedpoint_int16"].as_i64() {
                assert_eq!(p.reluish_multiplier as i64, m);
                assert_eq!(
                    p.output_multiplier as i64,
                    t["output_multiplier_fixedpoint_int16"].as_i64().unwrap()
                );
            }
            let want: Vec<i64> = t["table"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_i64().unwrap())
                .collect();
            let got: Vec<i64> = (-128..128).map(|v| p.apply(v)).collect();
            assert_eq!(got, want, "{t:?}");
        }
    }
}
