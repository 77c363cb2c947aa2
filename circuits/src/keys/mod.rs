//! Verifying and proving keys: made once per model (at compile time), stored, and read back without
//! key generation. The verifying key lives in the model file (covered by its digest); the proving key
//! is cached by the prover, pinned by the digest of its bytes that the model file records.

use halo2_proofs::{
    halo2curves::bn256::G1Affine,
    plonk::{self, keygen_pk, keygen_vk_custom},
    SerdeFormat,
};
use thiserror::Error;

use crate::artifacts::model_file::{hex, Visibilities};
use crate::circuit::{with_shape, CircuitShape, InferenceCircuit};
use crate::proof::ProofParams;
use crate::qgraph::QuantGraph;

pub mod verifier_key;

/// A model's verifying key (KZG over BN254).
pub type VerifyingKey = plonk::VerifyingKey<G1Affine>;
/// A model's proving key (KZG over BN254).
pub type ProvingKey = plonk::ProvingKey<G1Affine>;

/// Which of a model's two keys.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyKind {
    /// The verifying key (in the model file).
    Verifying,
    /// The proving key (in the prover's cache).
    Proving,
}

impl std::fmt::Display for KeyKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            KeyKind::Verifying => "verifying key",
            KeyKind::Proving => "proving key",
        })
    }
}

/// How keys are stored: uncompressed points, checked to lie on the curve when read.
const FORMAT: SerdeFormat = SerdeFormat::RawBytes;

/// Why a key could not be made or read.
#[derive(Debug, Error)]
pub enum KeyError {
    /// halo2's key generation failed (the circuit does not fit its k, or is malformed).
    #[error("{key} generation failed: {source}")]
    Keygen {
        /// Which key.
        key: KeyKind,
        /// halo2's error.
        source: plonk::Error,
    },
    /// The proving key could not be cached.
    #[error("proving key cache {path}: {source}")]
    Cache {
        /// The file.
        path: std::path::PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// Stored key bytes are not a key of this circuit.
    #[error("the stored {what} is not a key of this circuit: {why}")]
    Read {
        /// `verifying key` or `proving key`.
        what: &'static str,
        /// What the reader reported.
        why: String,
    },
}

/// The circuit a model's keys are made for (no witness).
fn circuit(graph: &QuantGraph, visibility: Visibilities) -> InferenceCircuit<'_> {
    InferenceCircuit::with_visibility(graph, visibility, None)
}

/// The verifying key of a model's circuit (selectors compressed into fixed columns, as the column
/// estimates of [`crate::plan`] assume).
pub fn make_vk(
    params: &ProofParams,
    graph: &QuantGraph,
    visibility: Visibilities,
    shape: CircuitShape,
) -> Result<VerifyingKey, KeyError> {
    let c = circuit(graph, visibility);
    with_shape(shape, || match params {
        ProofParams::Kzg(p) => keygen_vk_custom(p, &c, true),
        ProofParams::Ipa(p) => keygen_vk_custom(p, &c, true),
    })
    .map_err(|source| KeyError::Keygen {
        key: KeyKind::Verifying,
        source,
    })
}

/// The proving key of a model's circuit, from its verifying key.
pub fn make_pk(
    params: &ProofParams,
    vk: VerifyingKey,
    graph: &QuantGraph,
    visibility: Visibilities,
    shape: CircuitShape,
) -> Result<ProvingKey, KeyError> {
    let c = circuit(graph, visibility);
    with_shape(shape, || match params {
        ProofParams::Kzg(p) => keygen_pk(p, vk, &c),
        ProofParams::Ipa(p) => keygen_pk(p, vk, &c),
    })
    .map_err(|source| KeyError::Keygen {
        key: KeyKind::Proving,
        source,
    })
}

/// A verifying key's stored bytes.
pub fn vk_bytes(vk: &VerifyingKey) -> Vec<u8> {
    vk.to_bytes(FORMAT)
}

/// A verifying key from its stored bytes (all of them) for a circuit of this shape.
pub fn vk_from_bytes(bytes: &[u8], shape: CircuitShape) -> Result<VerifyingKey, KeyError> {
    let mut rest = bytes;
    let vk =
        VerifyingKey::read::<_, InferenceCircuit<'_>>(&mut rest, FORMAT, shape).map_err(|e| {
            KeyError::Read {
                what: "verifying key",
                why: e.to_string(),
            }
        })?;
    if !rest.is_empty() {
        return Err(KeyError::Read {
            what: "verifying key",
            why: format!("{} bytes follow it", rest.len()),
        });
    }
    Ok(vk)
}

/// A proving key's stored bytes.
pub fn pk_bytes(pk: &ProvingKey) -> Vec<u8> {
    pk.to_bytes(FORMAT)
}

/// A proving key from its stored bytes, which must have the digest `pinned` (checked before they are
/// parsed: halo2's reader panics on malformed keys).
pub fn pk_from_bytes(
    bytes: &[u8],
    shape: CircuitShape,
    pinned: &str,
) -> Result<ProvingKey, KeyError> {
    let digest = key_digest(bytes);
    if digest != pinned {
        return Err(KeyError::Read {
            what: "proving key",
            why: format!("its digest is {digest}, the model pins {pinned}"),
        });
    }
    let mut rest = bytes;
    ProvingKey::read::<_, InferenceCircuit<'_>>(&mut rest, FORMAT, shape).map_err(|e| {
        KeyError::Read {
            what: "proving key",
            why: e.to_string(),
        }
    })
}

/// BLAKE2b-256 (personal `zkinfer-key`) of a key's bytes.
pub fn key_digest(bytes: &[u8]) -> String {
    hex(blake2b_simd::Params::new()
        .hash_length(32)
        .personal(b"zkinfer-key\0\0\0\0\0")
        .hash(bytes)
        .as_bytes())
}

/// Make a model's keys with `params` (for the model's k: the SRS `srs` for KZG, none for IPA), record
/// the verifying key and the proving key's digest in the model (before it is sealed), and return the
/// proving key's bytes (what a prover caches).
pub fn attach_keys(
    model: &mut crate::ModelFile,
    srs: Option<crate::setup::srs::SrsRef>,
    params: &ProofParams,
) -> Result<Vec<u8>, KeyError> {
    let vk = make_vk(params, &model.graph, model.visibility, model.shape)?;
    let vk_raw = vk_bytes(&vk);
    let pk = pk_bytes(&make_pk(
        params,
        vk,
        &model.graph,
        model.visibility,
        model.shape,
    )?);
    let commitment = match params {
        ProofParams::Kzg(_) => crate::artifacts::model_file::Commitment::Kzg,
        ProofParams::Ipa(_) => crate::artifacts::model_file::Commitment::Ipa,
    };
    let mut proof_system = crate::artifacts::model_file::ProofSystem {
        commitment,
        srs,
        verifying_key: String::new(),
        verifying_key_encoding: Default::default(),
        proving_key_digest: key_digest(&pk),
    };
    proof_system.set_verifying_key(&vk_raw);
    model.proof_system = proof_system;
    Ok(pk)
}

/// The size in bytes of every KZG proof made with this verifying key.
pub fn proof_bytes(vk: &VerifyingKey) -> usize {
    crate::proof::proof_bytes(vk.cs())
}
