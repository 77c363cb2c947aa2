//! Conversions between the integers of the quantized model and the circuit's field.

use halo2_proofs::pasta::Fp;

/// The field element of a signed integer (negative values wrap to p - |v|).
pub fn fp(v: i64) -> Fp {
    if v >= 0 {
        Fp::from(v as u64)
    } else {
        -Fp::from(v.unsigned_abs())
    }
}

/// Powers of two as field elements.
pub fn pow2(bits: u32) -> Fp {
    fp(1i64 << bits)
}
