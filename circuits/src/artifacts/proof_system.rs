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
    /// The verifying key: hex of halo2's raw encoding (see [`crate::keys`]).
    pub verifying_key: String,
    /// BLAKE2b-256 of the proving key's bytes (see [`crate::keys::key_digest`]): a cached proving key
    /// is used only when it has this digest.
    pub proving_key_digest: String,
}

impl ProofSystem {
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
            proving_key_digest: "0".repeat(64),
        }
    }
}

/// Largest verifying key a model file may hold (hex digits). halo2's key stores its compressed
/// selectors' assignments, one bit per row per selector: at k = 20 with a dozen selectors that is
/// 1.5 MiB, 3 MiB of hex.
pub const MAX_VK_HEX: usize = 16 << 20;
