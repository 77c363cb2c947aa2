//! Making and checking proofs: KZG over BN254, SHPLONK multi-opening, Blake2b transcript.

use halo2_proofs::{
    halo2curves::bn256::{Bn256, Fr, G1Affine},
    plonk::{create_proof, verify_proof},
    poly::{
        commitment::ParamsProver,
        kzg::{
            commitment::KZGCommitmentScheme,
            multiopen::{ProverSHPLONK, VerifierSHPLONK},
            strategy::{AccumulatorStrategy, SingleStrategy},
        },
        VerificationStrategy,
    },
    transcript::{
        Blake2bRead, Blake2bWrite, Challenge255, TranscriptReadBuffer, TranscriptWriterBuffer,
    },
};

use halo2_proofs::plonk::ConstraintSystem;

use crate::circuit::{with_shape, InferenceCircuit};
use crate::keys::{ProvingKey, VerifyingKey};
use crate::setup::srs::Params;

/// Prove `circuit` (with its witness) against `instance`; returns the proof's bytes.
pub fn prove(
    params: &Params,
    pk: &ProvingKey,
    circuit: InferenceCircuit<'_>,
    shape: crate::CircuitShape,
    instance: &[Fr],
) -> Result<Vec<u8>, String> {
    let mut transcript = Blake2bWrite::<_, G1Affine, Challenge255<_>>::init(vec![]);
    with_shape(shape, || {
        create_proof::<KZGCommitmentScheme<Bn256>, ProverSHPLONK<'_, Bn256>, _, _, _, _>(
            params,
            pk,
            &[circuit],
            &[&[instance]],
            rand_core::OsRng,
            &mut transcript,
        )
    })
    .map_err(|e| format!("{e:?}"))?;
    Ok(transcript.finalize())
}

/// Check one proof; a proof with bytes after the ones the verifier reads is refused.
pub fn verify(
    params: &Params,
    vk: &VerifyingKey,
    instance: &[Fr],
    proof: &[u8],
) -> Result<(), String> {
    let mut rest = proof;
    let mut transcript = Blake2bRead::<_, G1Affine, Challenge255<_>>::init(&mut rest);
    let params = params.verifier_params();
    verify_proof::<KZGCommitmentScheme<Bn256>, VerifierSHPLONK<'_, Bn256>, _, _, _>(
        params,
        vk,
        SingleStrategy::new(params),
        &[&[instance]],
        &mut transcript,
    )
    .map_err(|e| format!("the proof does not verify ({e:?})"))?;
    match rest.len() {
        0 => Ok(()),
        n => Err(format!(
            "{n} bytes follow the proof: a proof file carries the proof alone"
        )),
    }
}

/// Check many proofs with one pairing check (a random linear combination of their openings). `true`
/// when all of them verify; `false` says only that one at least does not (check each with [`verify`]
/// to name it). Trailing bytes are not checked here.
pub fn verify_all(params: &Params, vk: &VerifyingKey, proofs: &[(&[Fr], &[u8])]) -> bool {
    let params = params.verifier_params();
    let mut strategy = AccumulatorStrategy::new(params);
    for (instance, proof) in proofs {
        let mut transcript = Blake2bRead::<_, G1Affine, Challenge255<_>>::init(*proof);
        match verify_proof::<KZGCommitmentScheme<Bn256>, VerifierSHPLONK<'_, Bn256>, _, _, _>(
            params,
            vk,
            strategy,
            &[&[instance]],
            &mut transcript,
        ) {
            Ok(s) => strategy = s,
            Err(_) => return false,
        }
    }
    VerificationStrategy::<'_, KZGCommitmentScheme<Bn256>, VerifierSHPLONK<'_, Bn256>>::finalize(
        strategy,
    )
}

/// The size in bytes of a proof of a circuit with this constraint system (SHPLONK, compressed
/// points and 32-byte scalars): the advice, lookup, permutation and quotient commitments, every
/// queried evaluation, and the two points of the multi-opening. It does not depend on k.
pub fn proof_bytes(cs: &ConstraintSystem<Fr>) -> usize {
    let degree = cs.degree();
    let lookups = cs.lookups().len();
    let permuted = cs.permutation().get_columns().len();
    let products = permuted.div_ceil(degree - 2);
    let commitments = cs.num_advice_columns()
        + 3 * lookups
        + products
        + 1 // the vanishing argument's random polynomial
        + (degree - 1); // the quotient's pieces
    let evaluations = cs.advice_queries().len()
        + cs.fixed_queries().len()
        + 1 // the random polynomial
        + permuted
        + (3 * products).saturating_sub(1)
        + 5 * lookups;
    32 * (commitments + evaluations + 2)
}
