//! How a model's proofs are made and checked, as its model file records it: the commitment scheme,
//! the SRS (KZG), the verifying key and the proving key's digest.

use serde::{Deserialize, Serialize};

/// The polynomial commitment scheme of a model's proofs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Commitment {
    /// KZG over BN254 with SHPLONK multi-opening and a Blake2b transcript: proofs of about 3 KB,
    /// verified in milliseconds; needs a structured reference string.
    Kzg,
    /// IPA over BN254's G1 with a Blake2b transcript: the transparent mode (no trusted setup),
    /// slower to prove and verify (linear in the circuit's rows), larger proofs.
    Ipa,
}

impl std::fmt::Display for Commitment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Commitment::Kzg => "KZG (SHPLONK) over BN254",
            Commitment::Ipa => "IPA over BN254 (transparent: no trusted setup)",
        })
    }
}

/// How a model's proofs are made and checked.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProofSystem {
    /// The commitment scheme.
    pub commitment: Commitment,
    /// KZG: the structured reference string (its name and the point a verifier needs); IPA: none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub srs: Option<crate::setup::srs::SrsRef>,
    /// The verifying key: hex of halo2's raw encoding (see [`crate::keys`]), compressed as
    /// `verifying_key_encoding` says.
    pub verifying_key: String,
    /// How `verifying_key`'s bytes are stored (absent: raw, as model files written before it).
    #[serde(default, skip_serializing_if = "KeyEncoding::is_raw")]
    pub verifying_key_encoding: KeyEncoding,
    /// BLAKE2b-256 of the proving key's bytes (see [`crate::keys::key_digest`]): a cached proving key
    /// is used only when it has this digest.
    pub proving_key_digest: String,
}

/// How a model file stores its verifying key's bytes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum KeyEncoding {
    /// halo2's bytes as they are.
    #[default]
    Raw,
    /// halo2's bytes compressed with deflate (RFC 1951). Most of a large key is its selectors' bits,
    /// one per row per selector, in long periodic runs: a 1.3 MB key at k = 19 deflates to ~10 KB,
    /// which the verifier reads and hashes instead.
    Deflate,
}

impl KeyEncoding {
    fn is_raw(&self) -> bool {
        *self == KeyEncoding::Raw
    }
}

/// Deflate level of stored verifying keys (miniz's default: the keys are written once).
const DEFLATE_LEVEL: u8 = 6;

impl ProofSystem {
    /// Store the verifying key's bytes `raw` (compressed).
    pub fn set_verifying_key(&mut self, raw: &[u8]) {
        let packed = miniz_oxide::deflate::compress_to_vec(raw, DEFLATE_LEVEL);
        self.verifying_key = crate::artifacts::model_file::hex(&packed);
        self.verifying_key_encoding = KeyEncoding::Deflate;
    }

    /// The verifying key's bytes (halo2's raw encoding): decoded and, when compressed, inflated to
    /// at most [`MAX_VK_BYTES`].
    pub fn verifying_key_bytes(&self) -> Result<Vec<u8>, String> {
        let stored =
            crate::artifacts::model_file::from_hex_bytes(&self.verifying_key).ok_or("not hex")?;
        match self.verifying_key_encoding {
            KeyEncoding::Raw => Ok(stored),
            KeyEncoding::Deflate => {
                miniz_oxide::inflate::decompress_to_vec_with_limit(&stored, MAX_VK_BYTES).map_err(
                    |e| match e.status {
                        miniz_oxide::inflate::TINFLStatus::HasMoreOutput => {
                            format!("it inflates to over {MAX_VK_BYTES} bytes")
                        }
                        _ => "not a deflate stream".to_string(),
                    },
                )
            }
        }
    }

    /// Whether the model is proven with the development SRS (insecure).
    pub fn on_dev_srs(&self) -> bool {
        self.srs.as_ref().is_some_and(|s| s.is_dev())
    }

    /// No keys yet (well-formed, but no key): what a model holds before
    /// [`crate::keys::attach_keys`] fills it in.
    pub fn placeholder() -> Self {
        ProofSystem {
            commitment: Commitment::Kzg,
            srs: Some(crate::setup::srs::SrsRef::dev()),
            verifying_key: String::new(),
            verifying_key_encoding: KeyEncoding::Raw,
            proving_key_digest: "0".repeat(64),
        }
    }
}

/// Largest verifying key a model file may hold (hex digits). halo2's key stores its compressed
/// selectors' assignments, one bit per row per selector: at k = 20 with a dozen selectors that is
/// 1.5 MiB, 3 MiB of hex.
pub const MAX_VK_HEX: usize = 16 << 20;
/// Largest verifying key once decoded (and inflated).
pub const MAX_VK_BYTES: usize = MAX_VK_HEX / 2;
