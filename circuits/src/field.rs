//! The circuit's field, BN254's scalar field `Fr` (the same for KZG and IPA), and conversions from the
//! integers of the quantized model.

pub use halo2_proofs::halo2curves::bn256::Fr;

/// The field element of a signed integer (negative values wrap to r - |v|).
pub fn fp(v: i64) -> Fr {
    if v >= 0 {
        Fr::from(v as u64)
    } else {
        -Fr::from(v.unsigned_abs())
    }
}

/// Powers of two as field elements.
pub fn pow2(bits: u32) -> Fr {
    fp(1i64 << bits)
}
