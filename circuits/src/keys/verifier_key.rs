//! A verifying key read for verifying only, in time independent of the circuit's size.
//!
//! halo2's `VerifyingKey::read` builds the prover's machinery too: FFT tables over 2^k, 2^(k+1) and
//! 2^(k+2) points (21 ms at k = 15, 0.7 s at k = 20) and, from the stored selector bits, the
//! compressed selector columns' values over all 2^k rows. A verifier uses neither: it needs the
//! domain's few constants (its roots of unity and the barycentric weight) and the constraint system
//! after selector compression. [`for_verifying`] computes exactly those and hands them to halo2's
//! own `VerifyingKey::from_parts`, so the key's transcript hash (over k, the domain's generator, the
//! constraint system and every commitment) is halo2's: a key rebuilt differently would not verify a
//! single proof, and the tests compare it with halo2's reader field by field.
//!
//! Selector compression depends only on each selector's degree (from the constraint system) and on
//! which pairs of selectors are ever enabled on the same row. The pairs are found on the packed bits
//! (64 rows per word), and compression runs on one synthetic row per conflicting pair, which yields
//! the same conflicts and so the same constraint system.

use std::collections::HashMap;

use ff::{Field, PrimeField, WithSmallOrderMulGroup};
use halo2_proofs::{
    halo2curves::{
        bn256::{Fr, G1Affine},
        CurveAffine,
    },
    plonk::{self, Circuit, ConstraintSystem},
    poly::EvaluationDomain,
    SerdeCurveAffine,
};

use super::{KeyError, VerifyingKey, FORMAT};
use crate::circuit::{CircuitShape, InferenceCircuit};

/// The version byte halo2-axiom writes first in a verifying key.
const VK_VERSION: u8 = 0x02;

/// The largest k a key may name: the extended domain (up to 2^(k+3) points for this project's
/// degrees) must fit in Fr's 2-adic subgroup of order 2^28.
const MAX_K: u32 = 25;

fn bad(why: impl Into<String>) -> KeyError {
    KeyError::Read {
        what: "verifying key",
        why: why.into(),
    }
}

/// A cursor over a key's bytes.
struct Bytes<'a>(&'a [u8]);

impl<'a> Bytes<'a> {
    fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8], KeyError> {
        if self.0.len() < n {
            return Err(bad(format!("it ends inside the {what}")));
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }

    fn u32(&mut self, what: &str) -> Result<u32, KeyError> {
        let b = self.take(4, what)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn points(&mut self, n: usize, what: &str) -> Result<Vec<G1Affine>, KeyError> {
        (0..n)
            .map(|i| {
                let p = G1Affine::read(&mut self.0, FORMAT)
                    .map_err(|e| bad(format!("{what} {i} of {n}: {e}")))?;
                // halo2's raw reader checks the coordinates' range only.
                if bool::from(p.is_on_curve()) {
                    Ok(p)
                } else {
                    Err(bad(format!("{what} {i} of {n} is not on the curve")))
                }
            })
            .collect()
    }
}

/// A model's verifying key from its stored bytes (all of them), for verifying proofs only: no FFT
/// tables and no selector columns (the key cannot make a proving key; [`super::vk_from_bytes`] can).
pub fn for_verifying(bytes: &[u8], shape: CircuitShape) -> Result<VerifyingKey, KeyError> {
    let mut r = Bytes(bytes);
    let version = r.take(1, "version byte")?[0];
    if version != VK_VERSION {
        return Err(bad(format!(
            "version byte {version:#04x}, expected {VK_VERSION:#04x}"
        )));
    }
    let k = r.u32("k")?;
    if !(1..=MAX_K).contains(&k) {
        return Err(bad(format!("k = {k} is outside 1..={MAX_K}")));
    }
    let compressed = match r.take(1, "selector flag")?[0] {
        0 => false,
        1 => true,
        other => return Err(bad(format!("selector flag {other} is not 0 or 1"))),
    };
    let mut cs = ConstraintSystem::<Fr>::default();
    let _ = InferenceCircuit::configure_with_params(&mut cs, shape);
    let domain = domain_constants(cs.degree() as u32, k);
    let n_fixed = r.u32("number of fixed columns")? as usize;
    if n_fixed > r.0.len() / 64 {
        return Err(bad(format!(
            "it ends inside the fixed commitments ({n_fixed} named, {} bytes left)",
            r.0.len()
        )));
    }
    let fixed = r.points(n_fixed, "fixed commitment")?;
    let sigmas = r.points(
        cs.permutation().get_columns().len(),
        "permutation commitment",
    )?;
    let permutation = plonk::permutation::VerifyingKey::from_commitments(sigmas);
    let cs = if compressed {
        let row_bytes = 1usize << k.saturating_sub(3);
        let bits: Vec<&[u8]> = (0..cs.num_selectors())
            .map(|s| r.take(row_bytes, &format!("selector {s}")))
            .collect::<Result<_, _>>()?;
        cs.compress_selectors(conflict_rows(&bits)).0
    } else {
        let fake = vec![vec![false]; cs.num_selectors()];
        cs.directly_convert_selectors_to_fixed(fake).0
    };
    if !r.0.is_empty() {
        return Err(bad(format!("{} bytes follow it", r.0.len())));
    }
    Ok(VerifyingKey::from_parts(
        domain,
        fixed,
        permutation,
        cs,
        Vec::new(),
        compressed,
    ))
}

/// Selector activations with the same pairwise conflicts as `bits` (selector `i`'s rows, packed 8 to
/// a byte): one row per pair of selectors enabled together somewhere, where exactly those two are.
fn conflict_rows(bits: &[&[u8]]) -> Vec<Vec<bool>> {
    let words: Vec<Vec<u64>> = bits
        .iter()
        .map(|b| {
            b.chunks(8)
                .map(|c| {
                    let mut w = [0u8; 8];
                    w[..c.len()].copy_from_slice(c);
                    u64::from_le_bytes(w)
                })
                .collect()
        })
        .collect();
    let mut pairs = Vec::new();
    for i in 0..words.len() {
        for j in 0..i {
            if words[i].iter().zip(&words[j]).any(|(a, b)| a & b != 0) {
                pairs.push((i, j));
            }
        }
    }
    let rows = pairs.len().max(1);
    let mut active = vec![vec![false; rows]; words.len()];
    for (row, &(i, j)) in pairs.iter().enumerate() {
        active[i][row] = true;
        active[j][row] = true;
    }
    active
}

/// The evaluation domain of 2^k rows for constraints of degree `degree`, with every constant halo2's
/// `EvaluationDomain::new` computes except the FFT tables (which only a prover uses).
pub(crate) fn domain_constants(degree: u32, k: u32) -> EvaluationDomain<Fr> {
    let n = 1u64 << k;
    let quotient_poly_degree = u64::from(degree.max(2) - 1);
    let extended_k = (k..)
        .find(|e| (1u64 << e) >= n * quotient_poly_degree)
        .unwrap_or(k);
    // The 2^e-th root of unity: Fr's generator of order 2^S, squared S - e times.
    let root = |e: u32| (e..Fr::S).fold(Fr::ROOT_OF_UNITY, |w, _| w.square());
    let extended_omega = root(extended_k);
    let omega = root(k);
    let invert = |x: Fr| Option::<Fr>::from(x.invert()).expect("nonzero");
    let zeta = <Fr as WithSmallOrderMulGroup<3>>::ZETA;
    // t(X) = X^n - 1 on the coset zeta * <extended_omega> repeats with period 2^(extended_k - k);
    // stored inverted.
    let step = extended_omega.pow_vartime([n]);
    let mut t = zeta.pow_vartime([n]);
    let t_evaluations = (0..1u64 << (extended_k - k))
        .map(|_| {
            let v = invert(t - Fr::ONE);
            t *= step;
            v
        })
        .collect();
    EvaluationDomain {
        n,
        k,
        extended_k,
        omega,
        omega_inv: invert(omega),
        extended_omega,
        extended_omega_inv: invert(extended_omega),
        g_coset: zeta,
        g_coset_inv: zeta.square(),
        quotient_poly_degree,
        ifft_divisor: invert(Fr::from(n)),
        extended_ifft_divisor: invert(Fr::from(1u64 << extended_k)),
        t_evaluations,
        barycentric_weight: invert(Fr::from(n)),
        fft_data: HashMap::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every constant equals halo2's own domain's, for the degrees and sizes circuits use.
    #[test]
    fn domain_constants_equal_halo2s() {
        for degree in 3..=9u32 {
            for k in [4u32, 7, 11, 12] {
                let ours = domain_constants(degree, k);
                let theirs = EvaluationDomain::<Fr>::new(degree, k);
                let key = |d: &EvaluationDomain<Fr>| {
                    (
                        (d.n, d.k, d.extended_k, d.quotient_poly_degree),
                        [d.omega, d.omega_inv, d.extended_omega, d.extended_omega_inv],
                        [
                            d.g_coset,
                            d.g_coset_inv,
                            d.ifft_divisor,
                            d.extended_ifft_divisor,
                        ],
                        d.barycentric_weight,
                        d.t_evaluations.clone(),
                    )
                };
                assert_eq!(key(&ours), key(&theirs), "degree {degree}, k = {k}");
                assert!(ours.fft_data.is_empty());
            }
        }
    }

    /// Conflicts found on packed bits, whatever the byte or word they fall in.
    #[test]
    fn conflict_rows_keep_exactly_the_conflicting_pairs() {
        let mut a = vec![0u8; 24];
        let mut b = vec![0u8; 24];
        let mut c = vec![0u8; 24];
        a[17] = 0b0100_0000;
        b[17] = 0b0100_0001; // shares a row with a
        c[17] = 0b0000_0010;
        c[3] = 0b1000_0000; // shares none
        let rows = conflict_rows(&[&a, &b, &c]);
        assert_eq!(rows, vec![vec![true], vec![true], vec![false]]);
        let none = conflict_rows(&[&c, &a]);
        assert_eq!(none, vec![vec![false], vec![false]]);
    }
}
