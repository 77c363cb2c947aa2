use super::*;

/// A small deterministic generator (xorshift), so the tests need no dependency.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + (self.next() % (hi - lo) as u64) as i64
    }
}

fn tflite_output(acc: i32, m: i32, shift: i32, zp: i32, lo: i32, hi: i32) -> i64 {
    (tflite_multiply_by_quantized_multiplier(acc, m, shift) + zp).clamp(lo, hi) as i64
}

#[test]
fn tflite_requant_matches_the_reference_code() {
    let mut rng = Rng(0x9e3779b97f4a7c15);
    // Multipliers as QuantizeMultiplier makes them, right shifts 0..=28, small left shifts.
    for _ in 0..400 {
        let m = rng.range(1 << 30, (1i64 << 31) - 1) as i32;
        let shift = rng.range(-28, 4) as i32;
        let zp = rng.range(-128, 128) as i32;
        let (lo, hi) = match rng.next() % 3 {
            0 => (-128, 127),
            1 => (zp.max(-128), 127),
            _ => (zp.max(-128), (zp + 40).min(127)),
        };
        let step = RequantStep::tflite(m, shift, zp as i64, lo as i64, hi as i64).unwrap();
        let ls = shift.max(0);
        let bound = (1i64 << (30 - ls)).min(1 << 24);
        for _ in 0..200 {
            let acc = rng.range(-bound, bound) as i32;
            let want = tflite_output(acc, m, shift, zp, lo, hi);
            match step.apply(acc as i64) {
                // Only values thousands of output ranges away are out of the limbs' reach.
                Err(RequantRange::Quotient(_)) => {
                    let raw = tflite_multiply_by_quantized_multiplier(acc, m, shift) + zp;
                    let far = 2047 * (step.span + 1);
                    assert!(raw as i64 - hi as i64 > far || (lo as i64 - raw as i64) > far);
                }
                got => assert_eq!(got, Ok(want), "acc {acc} m {m} shift {shift}"),
            }
        }
        // Ties of the second rounding: y1 = (2j + 1) 2^(rs - 1), both signs.
        let rs = (-shift).max(0);
        if rs >= 1 && ls == 0 {
            for j in -3i64..3 {
                let y1 = (2 * j + 1) << (rs - 1);
                // The smallest acc whose first rounding gives y1.
                let acc = ((y1 as i128 * (1 << 31) - (1 << 30)) as f64 / m as f64).ceil() as i64;
                for a in acc - 2..acc + 3 {
                    let want = tflite_output(a as i32, m, shift, zp, lo, hi);
                    assert_eq!(step.apply(a), Ok(want), "tie acc {a} m {m} shift {shift}");
                }
            }
        }
    }
}

#[test]
fn a_power_of_two_multiplier_rounds_minus_one_as_tflite() {
    // M = 2^30 with no left shift: acc = -1 gives y1 = 0 (not negative).
    for shift in [-1, -2, -5, 0] {
        let step = RequantStep::tflite(1 << 30, shift, 0, -128, 127).unwrap();
        for acc in -70..70 {
            let want = tflite_output(acc, 1 << 30, shift, 0, -128, 127);
            assert_eq!(step.apply(acc as i64), Ok(want), "acc {acc} shift {shift}");
        }
    }
}

#[test]
fn average_matches_the_reference_code_on_every_sum() {
    for count in [1usize, 2, 3, 4, 9, 16, 25, 64, 125, 1000] {
        for (lo, hi) in [(-128, 127), (-20, 127), (-128, 0)] {
            let step = RequantStep::average(count, lo, hi).unwrap();
            let c = count as i64;
            for acc in -128 * c..=127 * c {
                let want = tflite_average(acc as i32, count as i32, lo as i32, hi as i32) as i64;
                assert_eq!(step.apply(acc), Ok(want), "count {count} acc {acc}");
            }
        }
    }
}

#[test]
fn the_legacy_uint8_average_matches_the_uint8_reference_code_on_every_sum() {
    // reference_ops::AveragePool (uint8): `(acc + count / 2) / count` over bytes, then clamped;
    // the step sees the held sum (every byte less 128).
    for count in [1usize, 2, 3, 4, 9, 16, 25, 64, 125, 1000] {
        for (lo, hi) in [(-128, 127), (-20, 127), (-128, 0)] {
            let step = RequantStep::average_half_up(count, lo, hi).unwrap();
            let c = count as i64;
            for acc_u in 0..=255 * c {
                let want = ((acc_u + c / 2) / c).clamp(lo + 128, hi + 128) - 128;
                assert_eq!(
                    step.apply(acc_u - 128 * c),
                    Ok(want),
                    "count {count} acc {acc_u}"
                );
            }
        }
    }
}

#[test]
fn quantize_multiplier_as_tflite() {
    assert_eq!(quantize_multiplier(0.5), (1 << 30, 0));
    assert_eq!(quantize_multiplier(1.0), (1 << 30, 1));
    assert_eq!(quantize_multiplier(0.25), (1 << 30, -1));
    assert_eq!(quantize_multiplier(0.75), (3 << 29, 0));
    assert_eq!(quantize_multiplier(0.0), (0, 0));
    // Rounds to 2^31: halved, shift incremented.
    assert_eq!(quantize_multiplier(1.0 - 1e-12), (1 << 30, 1));
    let (m, s) = quantize_multiplier(0.0123);
    let back = m as f64 * 2f64.powi(s - 31);
    assert!((back - 0.0123).abs() < 1e-10 && (1 << 30..i32::MAX).contains(&m));
}

#[test]
fn out_of_range_values_are_named() {
    let step = RequantStep::tflite(1 << 30, 0, 0, -128, 127).unwrap();
    assert_eq!(step.apply(1 << 40), Err(RequantRange::Accumulator(1 << 40)));
    // q = acc / 2 is far above the output range: its high limb leaves [-2^11, 2^12).
    assert!(matches!(
        step.apply(1 << 30),
        Err(RequantRange::Quotient(_))
    ));
    assert!(RequantStep::tflite(1 << 30, -40, 0, -128, 127).is_err());
    assert!(RequantStep::tflite(0, 0, 0, -128, 127).is_err());
    assert!(RequantStep::average(4, 10, 0).is_err());
}

#[test]
fn quantize_int8_rounds_half_away_and_saturates() {
    let q = AffineQuant {
        scale: 0.5,
        zero_point: -3,
    };
    assert_eq!(q.quantize_int8(0.25), -2);
    assert_eq!(q.quantize_int8(-0.25), -4);
    assert_eq!(q.quantize_int8(1000.0), 127);
    assert_eq!(q.quantize_int8(-1000.0), -128);
    assert_eq!(q.dequantize(-1), 1.0);
}

#[test]
fn single_rounding_matches_the_reference_code() {
    let mut rng = Rng(0x2545f4914f6cdd1d);
    for _ in 0..300 {
        let m = rng.range(1 << 30, (1i64 << 31) - 1) as i32;
        let shift = rng.range(-20, 3) as i32;
        let zp = rng.range(-128, 128);
        let step = RequantStep::tflite_single_rounding(m, shift, zp, -128, 127).unwrap();
        for _ in 0..200 {
            let acc = rng.range(-(1 << 22), 1 << 22) as i32;
            let want =
                (tflite_multiply_single_rounding(acc, m, shift) as i64 + zp).clamp(-128, 127);
            match step.apply(acc as i64) {
                Err(RequantRange::Quotient(_)) => {}
                got => assert_eq!(got, Ok(want), "acc {acc} m {m} shift {shift}"),
            }
        }
    }
}

#[test]
fn a_fitted_step_reproduces_a_mean_s_two_roundings() {
    // TFLite's int8 MEAN: MultiplyByQuantizedMultiplier, then a division by the count rounded half
    // away from zero, then the zero point.
    for (real, count, zp_in, zp_out) in [(3.7, 64, -128, -128), (0.27, 25, -3, 5), (1.0, 16, 0, 0)]
    {
        let (m, shift) = quantize_multiplier(real);
        let g = |acc: i64| {
            let y = tflite_multiply_by_quantized_multiplier(acc as i32, m, shift) as i64;
            let c = count as i64;
            match y > 0 {
                true => (y + c / 2) / c,
                false => (y - c / 2) / c,
            }
        };
        let domain = (count as i64 * (-128 - zp_in), count as i64 * (127 - zp_in));
        let step = RequantStep::fit(domain, &g, real / count as f64, (-128, 127, zp_out)).unwrap();
        for acc in domain.0..=domain.1 {
            assert_eq!(
                step.apply(acc),
                Ok((g(acc) + zp_out).clamp(-128, 127)),
                "acc {acc}"
            );
        }
    }
}

#[test]
fn onnxruntime_quantize_linear_rounds_half_to_even() {
    assert_eq!(ort_quantize_linear(0.5, 1.0, 0, (-128, 127)), 0);
    assert_eq!(ort_quantize_linear(1.5, 1.0, 0, (-128, 127)), 2);
    assert_eq!(ort_quantize_linear(-2.5, 1.0, 3, (-128, 127)), 1);
    assert_eq!(ort_quantize_linear(1000.0, 0.5, 0, (-128, 127)), 127);
}

#[test]
fn thresholds_of_a_step_give_its_outputs_everywhere() {
    use crate::qgraph::ops::QRequant;
    let mut rng = Rng(0x2545f4914f6cdd1d);
    let mut steps = vec![
        RequantStep::average(9, -128, 127).unwrap(),
        RequantStep::average_half_up(25, -20, 127).unwrap(),
        RequantStep::tflite(1 << 30, -3, 0, -128, 127).unwrap(),
    ];
    for _ in 0..60 {
        let m = rng.range(1 << 30, (1i64 << 31) - 1) as i32;
        let shift = rng.range(-20, 2) as i32;
        let zp = rng.range(-128, 128);
        let lo = match rng.next() % 2 {
            0 => -128,
            _ => zp.max(-128),
        };
        steps.push(RequantStep::tflite(m, shift, zp, lo, 127).unwrap());
        steps.push(RequantStep::tflite_single_rounding(m, shift, zp, lo, 127).unwrap());
    }
    for step in steps {
        let requant = QRequant {
            steps: vec![step],
            channel_len: 1,
        };
        let threshold = requant.as_threshold().expect("a monotone step");
        let map = &threshold.maps[0];
        map.validate().unwrap();
        // Both sides of every threshold, the sign change, and accumulators across int32.
        let mut accs: Vec<i64> = map
            .thresholds
            .iter()
            .flat_map(|t| [t - 2, t - 1, *t, t + 1])
            .chain(-3..3)
            .collect();
        accs.extend((0..2000).map(|_| rng.range(-(1 << 31), 1 << 31)));
        for acc in accs {
            assert_eq!(
                map.apply(acc),
                Some(step.saturated(acc)),
                "{step:?} acc {acc}"
            );
            if let Ok(y) = step.apply(acc) {
                assert_eq!(map.apply(acc), Some(y), "{step:?} acc {acc}");
            }
        }
    }
    // A step that decreases somewhere has no thresholds.
    let falling = RequantStep {
        mul: -(1 << 40),
        ..RequantStep::tflite(1 << 30, -3, 0, -128, 127).unwrap()
    };
    let requant = QRequant {
        steps: vec![falling],
        channel_len: 1,
    };
    assert!(requant.as_threshold().is_none());
}
