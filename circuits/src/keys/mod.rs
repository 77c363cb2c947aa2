//! Verifying and proving keys: made once per model (at compile time), stored, and read back without
//! key generation. The verifying key lives in the model file (covered by its digest); the proving key
//! is cached by the prover, pinned by the digest of its bytes that the model file records.

use halo2_proofs::{
    halo2curves::bn256::G1Affine,
    plonk::{self, keygen_pk, keygen_pk2, keygen_vk_custom},
    SerdeFormat,
};
use std::io::Write;
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
    /// The proving key could not be written out (before its cache file is named).
    #[error("writing the proving key: {source}")]
    Write {
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

/// Run halo2's key generation `make` on the model's circuit (no witness) with its shape set, naming
/// `key` in its error.
fn keygen<T>(
    (graph, visibility, shape): (&QuantGraph, Visibilities, CircuitShape),
    key: KeyKind,
    make: impl FnOnce(&InferenceCircuit<'_>) -> Result<T, plonk::Error>,
) -> Result<T, KeyError> {
    let c = InferenceCircuit::with_visibility(graph, visibility, None);
    with_shape(shape, || make(&c)).map_err(|source| KeyError::Keygen { key, source })
}

/// The verifying key of a model's circuit (selectors compressed into fixed columns, as the column
/// estimates of [`crate::plan`] assume).
pub fn make_vk(
    params: &ProofParams,
    graph: &QuantGraph,
    visibility: Visibilities,
    shape: CircuitShape,
) -> Result<VerifyingKey, KeyError> {
    keygen(
        (graph, visibility, shape),
        KeyKind::Verifying,
        |c| match params {
            ProofParams::Kzg(p) => keygen_vk_custom(p, c, true),
            ProofParams::Ipa(p) => keygen_vk_custom(p, c, true),
        },
    )
}

/// The proving key of a model's circuit, from its verifying key.
pub fn make_pk(
    params: &ProofParams,
    vk: VerifyingKey,
    graph: &QuantGraph,
    visibility: Visibilities,
    shape: CircuitShape,
) -> Result<ProvingKey, KeyError> {
    keygen(
        (graph, visibility, shape),
        KeyKind::Proving,
        |c| match params {
            ProofParams::Kzg(p) => keygen_pk(p, vk, c),
            ProofParams::Ipa(p) => keygen_pk(p, vk, c),
        },
    )
}

/// Both keys of a model's circuit in one pass (the proving key holds the verifying key: see
/// [`ProvingKey::get_vk`]): one synthesis and one evaluation domain, where [`make_vk`] then
/// [`make_pk`] take two of each. The same keys, bit for bit.
pub fn make_keys(
    params: &ProofParams,
    graph: &QuantGraph,
    visibility: Visibilities,
    shape: CircuitShape,
) -> Result<ProvingKey, KeyError> {
    keygen(
        (graph, visibility, shape),
        KeyKind::Proving,
        |c| match params {
            ProofParams::Kzg(p) => keygen_pk2(p, c, true),
            ProofParams::Ipa(p) => keygen_pk2(p, c, true),
        },
    )
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

/// A writer that hashes what passes through it, as [`key_digest`] hashes a key's bytes.
struct Digesting<W> {
    inner: W,
    state: blake2b_simd::State,
}

impl<W: Write> Write for Digesting<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.state.update(&buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// Write a proving key's stored bytes (what [`read_pk`] reads) to `out` and return their digest
/// ([`key_digest`]), without holding them in memory: a large model's key is gigabytes, as much
/// again as the key itself.
pub fn write_pk<W: Write>(pk: &ProvingKey, out: W) -> std::io::Result<String> {
    let mut w = std::io::BufWriter::with_capacity(
        1 << 20,
        Digesting {
            inner: out,
            state: digest_params().to_state(),
        },
    );
    pk.write(&mut w, FORMAT)?;
    let d = w.into_inner().map_err(|e| e.into_error())?;
    Ok(hex(d.state.finalize().as_bytes()))
}

/// A proving key from its stored file, whose bytes must have the digest `pinned`: hashed in one pass
/// and parsed in a second over the same open file (checked before they are parsed: halo2's reader
/// panics on malformed keys; the cache only ever replaces a key file by renaming a new one over it,
/// which leaves an open file as it was). Streamed, so the key is not held twice in memory.
pub fn read_pk<F: std::io::Read + std::io::Seek>(
    mut file: F,
    shape: CircuitShape,
    pinned: &str,
) -> Result<ProvingKey, KeyError> {
    let io_error = |e: std::io::Error| KeyError::Read {
        what: "proving key",
        why: e.to_string(),
    };
    let mut hashing = Digesting {
        inner: std::io::sink(),
        state: digest_params().to_state(),
    };
    file.rewind().map_err(io_error)?;
    std::io::copy(
        &mut std::io::BufReader::with_capacity(1 << 20, &mut file),
        &mut hashing,
    )
    .map_err(io_error)?;
    let digest = hex(hashing.state.finalize().as_bytes());
    if digest != pinned {
        return Err(KeyError::Read {
            what: "proving key",
            why: format!("its digest is {digest}, the model pins {pinned}"),
        });
    }
    file.rewind().map_err(io_error)?;
    let mut reader = std::io::BufReader::with_capacity(1 << 20, file);
    ProvingKey::read::<_, InferenceCircuit<'_>>(&mut reader, FORMAT, shape).map_err(io_error)
}

/// BLAKE2b-256 (personal `zkinfer-key`) of a key's bytes.
pub fn key_digest(bytes: &[u8]) -> String {
    hex(digest_params().hash(bytes).as_bytes())
}

fn digest_params() -> blake2b_simd::Params {
    let mut p = blake2b_simd::Params::new();
    p.hash_length(32).personal(b"zkinfer-key\0\0\0\0\0");
    p
}

/// Make a model's keys with `params` (for the model's k: the SRS `srs` for KZG, none for IPA), record
/// the verifying key and the proving key's digest in the model (before it is sealed), and write the
/// proving key's bytes (what a prover caches) to `pk_out`.
pub fn attach_keys<W: Write>(
    model: &mut crate::ModelFile,
    srs: Option<crate::setup::srs::SrsRef>,
    params: &ProofParams,
    pk_out: W,
) -> Result<(), KeyError> {
    let pk = make_keys(params, &model.graph, model.visibility, model.shape)?;
    let vk_raw = vk_bytes(pk.get_vk());
    let proving_key_digest = write_pk(&pk, pk_out).map_err(|source| KeyError::Write { source })?;
    drop(pk);
    let commitment = match params {
        ProofParams::Kzg(_) => crate::artifacts::model_file::Commitment::Kzg,
        ProofParams::Ipa(_) => crate::artifacts::model_file::Commitment::Ipa,
    };
    let mut proof_system = crate::artifacts::model_file::ProofSystem {
        commitment,
        srs,
        verifying_key: String::new(),
        verifying_key_encoding: Default::default(),
        proving_key_digest,
    };
    proof_system.set_verifying_key(&vk_raw);
    model.proof_system = proof_system;
    Ok(())
}

/// The size in bytes of every KZG proof made with this verifying key.
pub fn proof_bytes(vk: &VerifyingKey) -> usize {
    crate::proof::proof_bytes(vk.cs())
}
