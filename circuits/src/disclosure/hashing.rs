//! Tensor hashes: what a `hashed` tensor reveals instead of its values.
//!
//! A tensor of `n` quantized values is hashed with Poseidon over BN254's scalar field, with the
//! parameters of circomlib (width 3, two inputs; see [`super::poseidon`]), as a chain of two-to-one
//! hashes, so that other tools (circomlib, light-poseidon) recompute the same hash:
//!
//! ```text
//! h_0 = prefix(n, B),   h_{i+1} = poseidon([h_i, e_i]),   hash = h_m
//! ```
//!
//! - **Packed** tensors (inputs): every value `v` lies in the activation range `[-2^(2L-1), 2^(2L))`
//!   (the circuit range-checks it with the rescale limbs), so `u = v + 2^(2L-1)` has `B = 2L + 1`
//!   bits, and `⌊253 / B⌋` of them are packed per element: `e = Σ u_j 2^(B (c - 1 - j))` over a chunk
//!   of `c` values (the first value most significant). Packing is injective because each `u` is
//!   range-checked and the packed value stays below the field's modulus.
//! - **Table-packed** tensors (a long public int8 input, packed into instance cells, never hashed):
//!   every value `v` lies in `[-2^(L-1), 2^(L-1))` (one range-table lookup each), so `u = v + 2^(L-1)`
//!   has `B = L` bits, packed as above, `⌊253 / L⌋` per element.
//! - **Plain** tensors (outputs, which need not lie in the activation range): one value per element,
//!   `e_i = v_i` as a field element (`B = 0` in the prefix).
//!
//! The prefix binds the length and the packing: `prefix = TAG * 2^64 + B * 2^48 + n`.

use ff::PrimeField;
use thiserror::Error;

use crate::field::{fp, Fr};
use crate::qgraph::activation_range;

/// Domain tag of zkinfer's tensor hashes ("zkinfer" with a version byte).
const TAG: u128 = 0x7a6b_696e_6665_7201;
/// Largest bit count a packed element holds (BN254's scalar field modulus is a little above 2^253).
const ELEMENT_BITS: u32 = 253;

/// Why a tensor could not be hashed, or a hash not read.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum HashError {
    /// A value to pack lies outside the activation range `[min, max)` the packing holds.
    #[error(
        "value {value} at index {index} is outside [{min}, {max}), the range the circuit's input rows hold"
    )]
    OutOfRange {
        /// Flat index of the value.
        index: usize,
        /// The value.
        value: i64,
        /// Inclusive lower bound of the activation range.
        min: i64,
        /// Exclusive upper bound of the activation range.
        max: i64,
    },
    /// A hash is not 64 lowercase hexadecimal digits of a field element of BN254 (the text, escaped
    /// and cut).
    #[error(
        "'{0}' is not a hash: expected 64 lowercase hexadecimal digits (a field element of BN254)"
    )]
    BadHex(String),
}

/// How a tensor's values become field elements before hashing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Packing {
    /// Several range-checked values per element, for limb bits `L`.
    Packed {
        /// `L`: values lie in `[-2^(2L-1), 2^(2L))` and take `2L + 1` bits each.
        limb_bits: u32,
    },
    /// Several values per element, each range-checked by one lookup of the range table.
    Table {
        /// `L`: values lie in `[-2^(L-1), 2^(L-1))` and take `L` bits each.
        limb_bits: u32,
    },
    /// One value per element.
    Plain,
}

impl Packing {
    /// Bits per packed value (0 for plain).
    pub fn value_bits(self) -> u32 {
        match self {
            Packing::Packed { limb_bits } => 2 * limb_bits + 1,
            Packing::Table { limb_bits } => limb_bits,
            Packing::Plain => 0,
        }
    }

    /// Values per element.
    pub fn per_element(self) -> usize {
        match self {
            Packing::Packed { .. } | Packing::Table { .. } => {
                (ELEMENT_BITS / self.value_bits()) as usize
            }
            Packing::Plain => 1,
        }
    }

    /// The offset added to a value before packing.
    pub fn offset(self) -> i64 {
        match self {
            Packing::Packed { limb_bits } => -activation_range(limb_bits).0,
            Packing::Table { limb_bits } => 1 << (limb_bits - 1),
            Packing::Plain => 0,
        }
    }

    /// The values a packing holds, `[min, max)` (`None`: any).
    pub fn range(self) -> Option<(i64, i64)> {
        match self {
            Packing::Packed { limb_bits } => Some(activation_range(limb_bits)),
            Packing::Table { limb_bits } => Some((-(1 << (limb_bits - 1)), 1 << (limb_bits - 1))),
            Packing::Plain => None,
        }
    }

    /// Elements of a tensor of `n` values.
    pub fn elements(self, n: usize) -> usize {
        n.div_ceil(self.per_element())
    }

    /// The chain's starting value for a tensor of `n` values.
    pub fn prefix(self, n: usize) -> Fr {
        Fr::from_u128((TAG << 64) | ((self.value_bits() as u128) << 48) | n as u128)
    }

    /// Every value must lie in the range the circuit's pack rows check (any value, for plain).
    pub fn check_range(self, values: &[i64]) -> Result<(), HashError> {
        let Some((min, max)) = self.range() else {
            return Ok(());
        };
        match values
            .iter()
            .enumerate()
            .find(|(_, v)| !(min..max).contains(*v))
        {
            Some((index, &value)) => Err(HashError::OutOfRange {
                index,
                value,
                min,
                max,
            }),
            None => Ok(()),
        }
    }

    /// The running Horner sums of the pack rows, one per value, restarting at each chunk: the last
    /// sum of a chunk is its packed element.
    pub fn running_sums(self, values: &[i64]) -> Vec<Fr> {
        let base = Fr::from_u128(1u128 << self.value_bits());
        let per = self.per_element();
        let mut z = Fr::zero();
        values
            .iter()
            .enumerate()
            .map(|(i, v)| {
                let u = fp(v + self.offset());
                z = if i % per == 0 { u } else { z * base + u };
                z
            })
            .collect()
    }

    /// The field elements the chain absorbs.
    pub fn elements_of(self, values: &[i64]) -> Result<Vec<Fr>, HashError> {
        self.check_range(values)?;
        let sums = self.running_sums(values);
        Ok(sums
            .chunks(self.per_element())
            .filter_map(|chunk| chunk.last().copied())
            .collect())
    }

    /// The hash of a tensor.
    pub fn hash(self, values: &[i64]) -> Result<Fr, HashError> {
        Ok(chain(self.prefix(values.len()), &self.elements_of(values)?))
    }

    /// The chain's starting value for a salted tensor of `n` values (its own domain tag).
    pub fn salted_prefix(self, n: usize) -> Fr {
        Fr::from_u128((SALTED_TAG << 64) | ((self.value_bits() as u128) << 48) | n as u128)
    }

    /// The hash of a tensor with a salt: the salt is the chain's first element, then the values'
    /// elements, from [`Packing::salted_prefix`]. Without the salt, candidates for a low-entropy tensor
    /// cannot be hashed and compared.
    pub fn salted_hash(self, salt: Fr, values: &[i64]) -> Result<Fr, HashError> {
        let mut elements = vec![salt];
        elements.extend(self.elements_of(values)?);
        Ok(chain(self.salted_prefix(values.len()), &elements))
    }
}

/// Domain tag of salted tensor hashes.
const SALTED_TAG: u128 = 0x7a6b_696e_6665_7203;

/// A salt as [`to_hex`] writes it: a field element below 2^248 from 31 bytes of `random`.
pub fn salt_from_bytes(random: [u8; 31]) -> Fr {
    let mut repr = [0u8; 32];
    repr[..31].copy_from_slice(&random);
    Fr::from_repr(repr).expect("below 2^248, so below the modulus")
}

/// Domain tag of a model's weights hash.
const WEIGHTS_TAG: u128 = 0x7a6b_696e_6665_7202;
/// Most weights, and most biases, a weights hash can count.
pub const MAX_PARAMS: usize = 1 << 28;

/// A model's weights hash (hashed weights): the same chain over the weights, packed like an input
/// (each weight range-checked to the activation range of limb bits `L`), followed by the biases, one
/// per element (they are accumulator-sized):
///
/// ```text
/// prefix = WEIGHTS_TAG * 2^64 + B * 2^56 + n_biases * 2^28 + n_weights
/// ```
pub fn weights_prefix(limb_bits: u32, n_weights: usize, n_biases: usize) -> Fr {
    assert!(n_weights < MAX_PARAMS && n_biases < MAX_PARAMS);
    let b = Packing::Packed { limb_bits }.value_bits() as u128;
    Fr::from_u128((WEIGHTS_TAG << 64) | (b << 56) | ((n_biases as u128) << 28) | n_weights as u128)
}

/// The hash of a model's weights and biases (see [`weights_prefix`]).
pub fn weights_hash(limb_bits: u32, weights: &[i64], biases: &[i64]) -> Result<Fr, HashError> {
    let mut elements = Packing::Packed { limb_bits }.elements_of(weights)?;
    elements.extend(biases.iter().map(|b| fp(*b)));
    Ok(chain(
        weights_prefix(limb_bits, weights.len(), biases.len()),
        &elements,
    ))
}

/// `h_{i+1} = Poseidon(h_i, e_i)` from `prefix`.
pub fn chain(prefix: Fr, elements: &[Fr]) -> Fr {
    elements
        .iter()
        .fold(prefix, |h, e| super::poseidon::hash2(h, *e))
}

/// A hash as 64 hexadecimal digits (big-endian, as people read numbers).
pub fn to_hex(h: Fr) -> String {
    let mut bytes = h.to_repr();
    bytes.reverse();
    crate::artifacts::model_file::hex(&bytes)
}

/// Whether `s` is a digest or hash in its canonical form: 64 lowercase hexadecimal digits, nothing
/// else (no prefix, no whitespace).
pub fn is_canonical_hex(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// Parse [`to_hex`]'s form, and only it: a field element as 64 lowercase hexadecimal digits.
pub fn from_hex(s: &str) -> Result<Fr, HashError> {
    let bad = || HashError::BadHex(s.chars().take(80).flat_map(char::escape_debug).collect());
    if !is_canonical_hex(s) {
        return Err(bad());
    }
    let mut repr = [0u8; 32];
    for (i, byte) in repr.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).map_err(|_| bad())?;
    }
    repr.reverse();
    Option::from(Fr::from_repr(repr)).ok_or_else(bad)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packing_is_horner_with_offset() {
        let p = Packing::Packed { limb_bits: 6 };
        assert_eq!(p.value_bits(), 13);
        assert_eq!(p.per_element(), 19);
        let e = p.elements_of(&[1, -2, 3]).unwrap();
        let off = 1 << 11;
        let base = 1u128 << 13;
        let want = ((1 + off) as u128 * base + (off - 2) as u128) * base + (3 + off) as u128;
        assert_eq!(e, vec![Fr::from_u128(want)]);
        assert_eq!(p.elements(19), 1);
        assert_eq!(p.elements(20), 2);
    }

    #[test]
    fn table_packing_holds_l_bits_per_value_around_zero() {
        let p = Packing::Table { limb_bits: 12 };
        assert_eq!(
            (p.value_bits(), p.per_element(), p.offset()),
            (12, 21, 2048)
        );
        assert_eq!(p.range(), Some((-2048, 2048)));
        let e = p.elements_of(&[-128, 127]).unwrap();
        assert_eq!(e, vec![Fr::from_u128(1920 * 4096 + 2175)]);
        assert!(p.check_range(&[-2048, 2047]).is_ok());
        assert!(p.check_range(&[2048]).is_err());
        assert!(p.check_range(&[-2049]).is_err());
        assert_eq!(p.elements(3072), 147);
    }

    #[test]
    fn out_of_range_values_are_refused() {
        let p = Packing::Packed { limb_bits: 6 };
        assert!(p.hash(&[1 << 12]).is_err());
        assert!(p.hash(&[-(1 << 11) - 1]).is_err());
        assert!(p.hash(&[(1 << 12) - 1, -(1 << 11)]).is_ok());
    }

    #[test]
    fn hashes_differ_by_value_length_and_packing() {
        let p = Packing::Packed { limb_bits: 6 };
        let a = p.hash(&[1, 2, 3]).unwrap();
        assert_ne!(a, p.hash(&[1, 2, 4]).unwrap());
        assert_ne!(a, p.hash(&[1, 2, 3, 0]).unwrap());
        assert_ne!(a, Packing::Plain.hash(&[1, 2, 3]).unwrap());
        assert_ne!(
            Packing::Plain.hash(&[0]).unwrap(),
            Packing::Plain.hash(&[]).unwrap()
        );
    }

    #[test]
    fn salted_hashes_differ_by_salt_and_from_unsalted() {
        let p = Packing::Packed { limb_bits: 6 };
        let (a, b) = (salt_from_bytes([1; 31]), salt_from_bytes([2; 31]));
        let h = p.salted_hash(a, &[1, 2, 3]).unwrap();
        assert_ne!(h, p.salted_hash(b, &[1, 2, 3]).unwrap());
        assert_ne!(h, p.salted_hash(a, &[1, 2, 4]).unwrap());
        assert_ne!(h, p.hash(&[1, 2, 3]).unwrap());
        // The same chain as an unsalted one would be only with the unsalted prefix.
        let mut elements = vec![a];
        elements.extend(p.elements_of(&[1, 2, 3]).unwrap());
        assert_eq!(h, chain(p.salted_prefix(3), &elements));
        assert_ne!(p.salted_prefix(3), p.prefix(3));
    }

    #[test]
    fn hex_round_trips_and_rejects_junk() {
        let h = Packing::Plain.hash(&[5, -7]).unwrap();
        let s = to_hex(h);
        assert_eq!(s.len(), 64);
        assert_eq!(from_hex(&s).unwrap(), h);
        for other in [
            format!("0x{s}"),
            s.to_uppercase(),
            format!(" {s}"),
            format!("{s}\n"),
            format!("0x0x{s}"),
        ] {
            assert!(from_hex(&other).is_err(), "{other:?} is not canonical");
        }
        assert!(from_hex("12").is_err());
        assert!(from_hex(&"g".repeat(64)).is_err());
        assert!(from_hex(&"f".repeat(64)).is_err(), "above the modulus");
    }
}
