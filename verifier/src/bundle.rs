//! The proof bundle `.zkp`: versioned JSON carrying everything a verifier needs besides the model.

use std::path::Path;

use base64::Engine;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use circuits::artifacts::model_file::json_format;
use circuits::circuit::TensorClaim;
use circuits::disclosure::hashing;
use circuits::ir::Shape;
use circuits::Visibilities;

/// The `"format"` string of the proof bundles this version reads and writes.
pub const PROOF_FORMAT: &str = "zkinfer-proof/1";
/// Largest bundle we read: proofs are a few KB, public values at most a few MB.
pub const MAX_BUNDLE_BYTES: u64 = 64 << 20;

/// What a proof reveals of one tensor: its quantized integers and the floats they stand for when it
/// is public, its Poseidon hash when it is hashed, nothing but its shape when it is private.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PublicTensor {
    /// The tensor's shape, as the model declares it.
    pub shape: Vec<usize>,
    /// Fractional bits: `value = quantized / 2^scale`.
    pub scale: u32,
    /// Its quantized integers when public (empty otherwise): the instance column's values.
    pub quantized: Vec<i64>,
    /// The floats they stand for (`quantized / 2^scale`), for reading; checked against `quantized`.
    pub values: Vec<f64>,
    /// The tensor's hash (64 hexadecimal digits, see `circuits::disclosure::hashing`) when it is hashed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hash: Option<String>,
}

impl PublicTensor {
    /// What a bundle shows of a tensor of `shape` and `scale` about which a proof claims `claim`;
    /// `real` gives the value an integer stands for (the model's quantization of the tensor).
    pub fn claiming(
        shape: &Shape,
        scale: u32,
        claim: &TensorClaim,
        real: &dyn Fn(i64) -> f64,
    ) -> Self {
        let (quantized, hash) = match claim {
            TensorClaim::Values(q) | TensorClaim::Packed { values: q, .. } => (q.clone(), None),
            TensorClaim::Hash(h) => (vec![], Some(hashing::to_hex(*h))),
            TensorClaim::Hidden => (vec![], None),
        };
        PublicTensor {
            shape: shape.0.clone(),
            scale,
            values: quantized.iter().map(|v| real(*v)).collect(),
            quantized,
            hash,
        }
    }
}

/// What a proof states publicly: the claims about the input, the output and the weights.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PublicValues {
    /// The claim about the model's input.
    pub input: PublicTensor,
    /// The claim about the model's output.
    pub output: PublicTensor,
    /// Hashed weights: the weights' hash the proof is about (the model's `weights_hash`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weights_hash: Option<String>,
}

/// Information about how the proof was made (not security-relevant).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProverInfo {
    /// The program that made the proof (`zkinfer`).
    pub tool: String,
    /// Its version.
    pub version: String,
    /// Threads it proved with.
    pub threads: usize,
    /// Seconds to load and check the SRS.
    pub params_s: f64,
    /// Seconds to generate the keys.
    pub keygen_s: f64,
    /// Seconds to compute the witness (the reference evaluation).
    pub witness_s: f64,
    /// Seconds to make the proof.
    pub prove_s: f64,
    /// Seconds since the Unix epoch.
    pub created_unix: u64,
}

/// A proof file (`.zkp`): the proof, the model it is about, and the public values it is checked
/// against.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProofBundle {
    /// Always [`PROOF_FORMAT`].
    pub format: String,
    /// Digest of the model the proof is about (64 lowercase hexadecimal digits, its `digest`).
    pub model_digest: String,
    /// The model's name, for display.
    pub model_name: String,
    /// The circuit has `2^k` rows (must equal the model's k).
    pub k: u32,
    /// What the proof reveals of input, output and weights (must equal the model's).
    pub visibility: Visibilities,
    /// The public claims the proof is checked against.
    pub public: PublicValues,
    /// The halo2 proof, base64.
    pub proof: String,
    /// How the proof was made (not checked).
    pub prover: ProverInfo,
}

/// Why a proof file could not be read.
#[derive(Debug, Error)]
pub enum BundleError {
    /// The file could not be read.
    #[error("cannot read proof file {path}: {source}")]
    Io {
        /// Path of the file.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is larger than [`MAX_BUNDLE_BYTES`].
    #[error("proof file {path} is {size} bytes, over the {MAX_BUNDLE_BYTES}-byte limit")]
    TooLarge {
        /// Path of the file.
        path: String,
        /// Its size in bytes.
        size: u64,
    },
    /// The file is not JSON, has no `"format": "zkinfer-proof/1"`, does not match the format, its
    /// proof is not base64, or a digest, hash or label is not in its canonical form.
    #[error("{path} is not a zkinfer proof file: {reason}")]
    Parse {
        /// Path of the file.
        path: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The file is in another `zkinfer-proof/` format than [`PROOF_FORMAT`].
    #[error("{path} was made by a newer zkinfer: format {found}, this one reads {PROOF_FORMAT}")]
    Version {
        /// Path of the file.
        path: String,
        /// The format the file declares.
        found: String,
    },
}

impl ProofBundle {
    /// The halo2 proof's bytes, decoded from base64.
    pub fn proof_bytes(&self) -> Result<Vec<u8>, base64::DecodeError> {
        base64::engine::general_purpose::STANDARD.decode(&self.proof)
    }

    /// Base64 of a halo2 proof, as [`ProofBundle::proof`] holds it.
    pub fn encode_proof(bytes: &[u8]) -> String {
        base64::engine::general_purpose::STANDARD.encode(bytes)
    }

    /// The bundle as pretty-printed JSON with a final newline, as written to disk.
    pub fn to_json_pretty(&self) -> Vec<u8> {
        let mut v = serde_json::to_vec_pretty(self).expect("bundle serializes");
        v.push(b'\n');
        v
    }

    /// Read and parse a proof file of at most [`MAX_BUNDLE_BYTES`].
    pub fn read(path: &Path) -> Result<Self, BundleError> {
        let p = path.display().to_string();
        let io = |source| BundleError::Io {
            path: p.clone(),
            source,
        };
        let size = std::fs::metadata(path).map_err(io)?.len();
        if size > MAX_BUNDLE_BYTES {
            return Err(BundleError::TooLarge { path: p, size });
        }
        let bytes = std::fs::read(path).map_err(io)?;
        Self::from_bytes(&bytes, &p)
    }

    /// Parse a bundle's bytes (`path` names it in errors).
    pub fn from_bytes(bytes: &[u8], path: &str) -> Result<Self, BundleError> {
        if bytes.len() as u64 > MAX_BUNDLE_BYTES {
            return Err(BundleError::TooLarge {
                path: path.into(),
                size: bytes.len() as u64,
            });
        }
        let parse = |reason: String| BundleError::Parse {
            path: path.into(),
            reason,
        };
        let format = json_format(bytes).map_err(|e| parse(e.to_string()))?;
        match format.as_deref() {
            Some(PROOF_FORMAT) => {}
            Some(f) if f.starts_with("zkinfer-proof/") => {
                return Err(BundleError::Version {
                    path: path.into(),
                    found: f.into(),
                })
            }
            _ => return Err(parse(format!("no \"format\": \"{PROOF_FORMAT}\" field"))),
        }
        let bundle: ProofBundle =
            serde_json::from_slice(bytes).map_err(|e| parse(e.to_string()))?;
        bundle
            .proof_bytes()
            .map_err(|e| parse(format!("proof is not base64: {e}")))?;
        bundle.check_canonical().map_err(parse)?;
        Ok(bundle)
    }

    /// Digests and hashes in their canonical form only (64 lowercase hexadecimal digits), and the
    /// prover's free-text fields short: a verifier shows nothing it has not checked the form of.
    fn check_canonical(&self) -> Result<(), String> {
        if !hashing::is_canonical_hex(&self.model_digest) {
            return Err("model_digest is not 64 lowercase hexadecimal digits".into());
        }
        let hashes = [
            ("input hash", &self.public.input.hash),
            ("output hash", &self.public.output.hash),
            ("weights hash", &self.public.weights_hash),
        ];
        for (what, h) in hashes {
            if let Some(h) = h {
                hashing::from_hex(h).map_err(|e| format!("{what}: {e}"))?;
            }
        }
        for (what, text) in [
            ("prover.tool", &self.prover.tool),
            ("prover.version", &self.prover.version),
        ] {
            if text.chars().count() > MAX_LABEL_CHARS {
                return Err(format!("{what} is over {MAX_LABEL_CHARS} characters"));
            }
        }
        Ok(())
    }
}

/// Longest free-text label (prover tool and version) a bundle may carry.
pub const MAX_LABEL_CHARS: usize = 64;

/// A label from a file, safe to print on a terminal or a page: control and other invisible
/// characters escaped (`\u{202e}`), at most [`MAX_LABEL_CHARS`] characters kept.
pub fn printable(label: &str) -> String {
    label
        .chars()
        .take(MAX_LABEL_CHARS)
        .flat_map(char::escape_debug)
        .collect()
}
