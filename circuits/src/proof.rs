//! Making and checking proofs, with a Blake2b transcript: KZG over BN254 with SHPLONK multi-opening
//! (the default), or IPA over BN254's G1 (the transparent mode).

use halo2_proofs::{
    halo2curves::bn256::{Bn256, Fr, G1Affine},
    plonk::{create_proof, verify_proof, ConstraintSystem},
    poly::{
        commitment::ParamsProver,
        ipa::{
            commitment::IPACommitmentScheme,
            multiopen::{ProverIPA, VerifierIPA},
            strategy as ipa_strategy,
        },
        kzg::{
            commitment::KZGCommitmentScheme,
            multiopen::{ProverSHPLONK, VerifierSHPLONK},
            strategy as kzg_strategy,
        },
        VerificationStrategy,
    },
    transcript::{
        Blake2bRead, Blake2bWrite, Challenge255, TranscriptReadBuffer, TranscriptWriterBuffer,
    },
};

use crate::circuit::{with_shape, InferenceCircuit};
use crate::disclosure::instance::spread;
use crate::keys::{ProvingKey, VerifyingKey};
use crate::setup::{ipa, srs};

/// The parameters of a model's commitment scheme: a KZG SRS (all of it for a prover, three points
/// for a verifier) or IPA generators.
pub enum ProofParams {
    /// KZG over BN254.
    Kzg(srs::Params),
    /// IPA over BN254's G1.
    Ipa(ipa::Params),
}

/// Why a proof could not be made.
#[derive(Debug, thiserror::Error)]
pub enum ProofError {
    /// The witness does not fit the circuit (the reason the circuit recorded).
    #[error("the witness does not fit the circuit: {0}")]
    Witness(crate::circuit::failure::SynthesisFailure),
    /// halo2 failed otherwise.
    #[error("halo2: {0}")]
    Halo2(halo2_proofs::plonk::Error),
}

/// Why a proof is not accepted.
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    /// halo2's check fails (a wrong proof, other public values, another model's key).
    #[error("the proof does not verify ({0:?})")]
    Invalid(halo2_proofs::plonk::Error),
    /// Bytes follow the ones the verifier reads.
    #[error("{0} bytes follow the proof: a proof file carries the proof alone")]
    TrailingBytes(usize),
}

/// The instance columns as halo2 takes them.
fn slices(columns: &[Vec<Fr>]) -> Vec<&[Fr]> {
    columns.iter().map(Vec::as_slice).collect()
}

/// Prove `circuit` (with its witness) against `instance`; returns the proof's bytes.
pub fn prove(
    params: &ProofParams,
    pk: &ProvingKey,
    circuit: InferenceCircuit<'_>,
    shape: crate::CircuitShape,
    instance: &[Fr],
) -> Result<Vec<u8>, ProofError> {
    crate::circuit::failure::take();
    let mut transcript = Blake2bWrite::<_, G1Affine, Challenge255<_>>::init(vec![]);
    let columns = spread(instance, pk.get_vk().cs().num_instance_columns());
    let columns = slices(&columns);
    let (circuits, instances) = (&[circuit], &[&columns[..]]);
    let rng = rand_core::OsRng;
    with_shape(shape, || match params {
        ProofParams::Kzg(p) => create_proof::<
            KZGCommitmentScheme<Bn256>,
            ProverSHPLONK<'_, Bn256>,
            _,
            _,
            _,
            _,
        >(p, pk, circuits, instances, rng, &mut transcript),
        ProofParams::Ipa(p) => create_proof::<
            IPACommitmentScheme<G1Affine>,
            ProverIPA<'_, G1Affine>,
            _,
            _,
            _,
            _,
        >(p, pk, circuits, instances, rng, &mut transcript),
    })
    .map_err(|e| match (&e, crate::circuit::failure::take()) {
        (halo2_proofs::plonk::Error::Synthesis, Some(why)) => ProofError::Witness(why),
        _ => ProofError::Halo2(e),
    })?;
    Ok(transcript.finalize())
}

/// Check one proof; a proof with bytes after the ones the verifier reads is refused.
pub fn verify(
    params: &ProofParams,
    vk: &VerifyingKey,
    instance: &[Fr],
    proof: &[u8],
) -> Result<(), VerifyError> {
    let mut rest = proof;
    let mut transcript = Blake2bRead::<_, G1Affine, Challenge255<_>>::init(&mut rest);
    let columns = spread(instance, vk.cs().num_instance_columns());
    let columns = slices(&columns);
    let instances = &[&columns[..]];
    match params {
        ProofParams::Kzg(p) => {
            let p = p.verifier_params();
            verify_proof::<KZGCommitmentScheme<Bn256>, VerifierSHPLONK<'_, Bn256>, _, _, _>(
                p,
                vk,
                kzg_strategy::SingleStrategy::new(p),
                instances,
                &mut transcript,
            )
        }
        ProofParams::Ipa(p) => {
            let p = p.verifier_params();
            verify_proof::<IPACommitmentScheme<G1Affine>, VerifierIPA<'_, G1Affine>, _, _, _>(
                p,
                vk,
                ipa_strategy::SingleStrategy::new(p),
                instances,
                &mut transcript,
            )
            .map(|_| ())
        }
    }
    .map_err(VerifyError::Invalid)?;
    match rest.len() {
        0 => Ok(()),
        n => Err(VerifyError::TrailingBytes(n)),
    }
}

/// Check many proofs with one combined check (a random linear combination). `true` when all of them
/// verify; `false` says only that one at least does not (check each with [`verify`] to name it).
/// Trailing bytes are not checked here.
pub fn verify_all(params: &ProofParams, vk: &VerifyingKey, proofs: &[(&[Fr], &[u8])]) -> bool {
    match params {
        ProofParams::Kzg(p) => {
            let p = p.verifier_params();
            let mut strategy = kzg_strategy::AccumulatorStrategy::new(p);
            for (instance, proof) in proofs {
                let columns = spread(instance, vk.cs().num_instance_columns());
                let columns = slices(&columns);
                let mut transcript = Blake2bRead::<_, G1Affine, Challenge255<_>>::init(*proof);
                match verify_proof::<KZGCommitmentScheme<Bn256>, VerifierSHPLONK<'_, Bn256>, _, _, _>(
                    p,
                    vk,
                    strategy,
                    &[&columns[..]],
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
        ProofParams::Ipa(p) => {
            let p = p.verifier_params();
            let mut strategy = ipa_strategy::AccumulatorStrategy::new(p);
            for (instance, proof) in proofs {
                let columns = spread(instance, vk.cs().num_instance_columns());
                let columns = slices(&columns);
                let mut transcript = Blake2bRead::<_, G1Affine, Challenge255<_>>::init(*proof);
                match verify_proof::<
                    IPACommitmentScheme<G1Affine>,
                    VerifierIPA<'_, G1Affine>,
                    _,
                    _,
                    _,
                >(p, vk, strategy, &[&columns[..]], &mut transcript)
                {
                    Ok(s) => strategy = s,
                    Err(_) => return false,
                }
            }
            VerificationStrategy::<'_, IPACommitmentScheme<G1Affine>, VerifierIPA<'_, G1Affine>>::finalize(
                strategy,
            )
        }
    }
}

/// The size in bytes of a KZG (SHPLONK) proof of a circuit with this constraint system (compressed
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
