//! The compiled model file `.zkm`: versioned JSON holding the quantized graph, scales, visibility,
//! layout and the quantization report, with a digest over all of it (the model's identity).

use std::path::Path;

use serde::{Deserialize, Serialize};
use thiserror::Error;

pub use super::proof_system::{Commitment, KeyEncoding, ProofSystem, MAX_VK_BYTES, MAX_VK_HEX};
pub use super::visibility::{InputVisibility, Revealed, Visibilities, Visibility, VisibilityError};
use crate::circuit::CircuitShape;
use crate::qgraph::QuantGraph;
use crate::quantize::report::QuantReport;

/// The `"format"` string of the model files this version writes: `zkinfer-model/3`'s fields, and a
/// circuit shape that may split the threshold table into banks
/// ([`crate::circuit::CircuitShape::threshold_banks`]), so that a zkinfer that does not know banks
/// says the file is newer instead of failing at its key. (`/3`: `/2`'s fields, integer lists packed
/// ([`crate::qgraph::packed`]).)
pub const MODEL_FORMAT: &str = "zkinfer-model/4";
/// The formats this version reads: its own, `zkinfer-model/3` (no banks), and `zkinfer-model/2`
/// (lists as JSON arrays, or packed by the zkinfer that first packed them and still wrote `/2`).
pub const READ_MODEL_FORMATS: [&str; 3] = [MODEL_FORMAT, "zkinfer-model/3", "zkinfer-model/2"];
/// Largest tensor (elements) a model file may declare.
pub const MAX_ELEMENTS: usize = 1 << 24;
/// Largest total work (multiply-accumulates and elementwise operations) a model file may declare: what
/// k = 20 holds at the planner's widest rows (4 inputs x 16 accumulators). Lowering copies a weight
/// per multiply-accumulate, so this also bounds what a small file can make the verifier allocate.
pub const MAX_WORK: usize = 1 << 26;
/// Most tensors one layer reads (a Concat of many branches).
pub const MAX_LAYER_INPUTS: usize = 64;
/// Largest model file we read (a LeNet-size model is well under 10 MiB).
pub const MAX_MODEL_BYTES: u64 = 256 << 20;
/// Largest scale (fractional bits) of a tensor: `2^scale` must fit (de)quantization's 64 bits.
pub const MAX_SCALE: u32 = 62;

/// A compiled model (`.zkm`): everything a prover or verifier needs to rebuild the circuit, sealed
/// by its digest.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModelFile {
    /// Always [`MODEL_FORMAT`].
    pub format: String,
    /// The model's name (the ONNX file's stem).
    pub name: String,
    /// The ONNX file it was compiled from.
    pub source: String,
    /// The quantized graph: the semantics the circuit proves.
    pub graph: QuantGraph,
    /// What a proof reveals of the input, output and weights.
    pub visibility: Visibilities,
    /// The circuit's column shape.
    pub shape: CircuitShape,
    /// The circuit has `2^k` rows (and needs the SRS for this k).
    pub k: u32,
    /// Scales and error against the float model, from compilation.
    pub report: QuantReport,
    /// Hashed weights: the Poseidon hash of the weights and biases (hex, see
    /// [`crate::disclosure::hashing::weights_hash`]), the instance row a proof is checked against. Absent
    /// otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weights_hash: Option<String>,
    /// Whether the weights were removed (`zkinfer strip`): such a file verifies proofs but cannot
    /// make them. Its weights and biases read as zeros.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub stripped: bool,
    /// How proofs of this model are made and checked: commitment scheme, SRS, verifying key.
    pub proof_system: ProofSystem,
    /// Hex BLAKE2b-256 over the file's canonical JSON with this field empty. With hashed weights,
    /// over the file with its weights zeroed and `stripped` unset: the weights enter through
    /// `weights_hash`, so a model and its stripped copy share their digest.
    pub digest: String,
}

/// Why a model file could not be read.
#[derive(Debug, Error)]
pub enum ModelFileError {
    /// The file could not be read.
    #[error("cannot read model file {path}: {source}")]
    Io {
        /// Path of the file.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is larger than [`MAX_MODEL_BYTES`].
    #[error("model file {path} is {size} bytes, over the {MAX_MODEL_BYTES}-byte limit")]
    TooLarge {
        /// Path of the file.
        path: String,
        /// Its size in bytes.
        size: u64,
    },
    /// The file is not JSON, has no `"format": "zkinfer-model/1"`, or does not match the format.
    #[error("{path} is not a zkinfer model file: {reason}")]
    Parse {
        /// Path of the file.
        path: String,
        /// What the parser reported.
        reason: String,
    },
    /// The file is in a `zkinfer-model/` format outside [`READ_MODEL_FORMATS`].
    #[error(
        "{path} is in format {found}, this zkinfer reads {}, {} and {}: {}",
        READ_MODEL_FORMATS[0],
        READ_MODEL_FORMATS[1],
        READ_MODEL_FORMATS[2],
        version_advice(.found)
    )]
    Version {
        /// Path of the file.
        path: String,
        /// The format the file declares.
        found: String,
    },
    /// The file parses but fails [`ModelFile::validate`] (sizes, scales, shape, weights hash).
    #[error("model file {path} is inconsistent: {reason}")]
    Invalid {
        /// Path of the file.
        path: String,
        /// The check that failed.
        reason: String,
    },
    /// The file's digest does not match its content.
    #[error("model file {path} was modified: its digest does not match its content")]
    Digest {
        /// Path of the file.
        path: String,
    },
}

impl ModelFile {
    /// Fill in the digest.
    pub fn seal(mut self) -> Self {
        self.digest = self.compute_digest();
        self
    }

    /// The digest hashes this struct's JSON serialization. A field added to the format later must be
    /// `#[serde(default, skip_serializing_if = ...)]` at its default, so that files written before it
    /// existed keep their digest.
    pub fn compute_digest(&self) -> String {
        let mut unsealed = self.clone();
        unsealed.digest.clear();
        if self.visibility.weights.is_hashed() {
            unsealed.graph.zero_params();
            unsealed.stripped = false;
        }
        let bytes = serde_json::to_vec(&unsealed).expect("model serializes");
        hex(digest_params().hash(&bytes).as_bytes())
    }

    /// Whether the model's `digest` is its content's. A file as [`Self::to_json`] writes it ends in
    /// `,"digest":"<64 hex digits>"}`, and the digest is the hash of exactly those bytes with the
    /// digits removed ([`raw_digest`]): checked on the bytes read, without serializing the model
    /// again (a large model's JSON takes longer to write than to hash). Any other file (another
    /// layout of the same JSON, hashed weights, whose digest zeroes them) is checked by
    /// [`Self::compute_digest`]. Both bind every byte the model was read from.
    fn digest_matches(&self, bytes: &[u8]) -> bool {
        let raw = (!self.visibility.weights.is_hashed())
            .then(|| raw_digest(bytes))
            .flatten();
        raw.as_deref() == Some(self.digest.as_str()) || self.compute_digest() == self.digest
    }

    /// The model without its weights and biases (hashed weights only): what a verifier needs.
    pub fn strip(&self) -> Result<ModelFile, String> {
        if !self.visibility.weights.is_hashed() {
            return Err(format!(
                "its weights are {}: only a model compiled with --weights hashed can be stripped \
                 (a proof of any other model is checked against the weights themselves)",
                self.visibility.weights
            ));
        }
        let mut stripped = self.clone();
        stripped.graph.zero_params();
        stripped.stripped = true;
        Ok(stripped)
    }

    /// The weights hash as a field element (hashed weights).
    pub fn weights_hash(&self) -> Option<halo2_proofs::halo2curves::bn256::Fr> {
        self.weights_hash
            .as_deref()
            .and_then(|h| crate::disclosure::hashing::from_hex(h).ok())
    }

    /// The file's JSON bytes, as written to disk.
    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("model serializes")
    }

    /// Read, validate and check the digest of a model file.
    pub fn read(path: &Path) -> Result<Self, ModelFileError> {
        let (bytes, p) = Self::file_bytes(path)?;
        Self::from_bytes(&bytes, &p)
    }

    /// A model file's bytes (bounded by [`MAX_MODEL_BYTES`]) and its name for errors.
    fn file_bytes(path: &Path) -> Result<(Vec<u8>, String), ModelFileError> {
        let p = path.display().to_string();
        let io = |source| ModelFileError::Io {
            path: p.clone(),
            source,
        };
        let size = std::fs::metadata(path).map_err(io)?.len();
        if size > MAX_MODEL_BYTES {
            return Err(ModelFileError::TooLarge { path: p, size });
        }
        let bytes = std::fs::read(path).map_err(io)?;
        Ok((bytes, p))
    }

    /// [`Self::read`] for verifying only: every check but the layout's (see
    /// [`Self::validate_contents`]), which lowers the whole graph and which no verification reads.
    pub fn read_to_verify(path: &Path) -> Result<Self, ModelFileError> {
        let (bytes, p) = Self::file_bytes(path)?;
        Self::from_bytes_to_verify(&bytes, &p)
    }

    /// Parse, validate and check the digest of a model file's bytes (`path` names it in errors).
    pub fn from_bytes(bytes: &[u8], path: &str) -> Result<Self, ModelFileError> {
        Self::parse(bytes, path, true)
    }

    /// [`Self::from_bytes`] for verifying only, as [`Self::read_to_verify`].
    pub fn from_bytes_to_verify(bytes: &[u8], path: &str) -> Result<Self, ModelFileError> {
        Self::parse(bytes, path, false)
    }

    /// Parse and validate (the layout too when `check_layout`), then check the digest.
    fn parse(bytes: &[u8], path: &str, check_layout: bool) -> Result<Self, ModelFileError> {
        if bytes.len() as u64 > MAX_MODEL_BYTES {
            return Err(ModelFileError::TooLarge {
                path: path.into(),
                size: bytes.len() as u64,
            });
        }
        let parse = |e: serde_json::Error| ModelFileError::Parse {
            path: path.into(),
            reason: e.to_string(),
        };
        match json_format(bytes).map_err(parse)?.as_deref() {
            Some(f) if READ_MODEL_FORMATS.contains(&f) => {}
            Some(f) if f.starts_with("zkinfer-model/") => {
                return Err(ModelFileError::Version {
                    path: path.into(),
                    found: f.into(),
                })
            }
            _ => {
                return Err(ModelFileError::Parse {
                    path: path.into(),
                    reason: format!("no \"format\": \"{MODEL_FORMAT}\" field"),
                })
            }
        }
        let model: ModelFile = serde_json::from_slice(bytes).map_err(parse)?;
        let checked = match check_layout {
            true => model.validate(),
            false => model.validate_contents(),
        };
        checked.map_err(|reason| ModelFileError::Invalid {
            path: path.into(),
            reason,
        })?;
        if !model.digest_matches(bytes) {
            return Err(ModelFileError::Digest { path: path.into() });
        }
        Ok(model)
    }
}

/// What to do about a model file in format `found`, which this zkinfer does not read: upgrade for a
/// newer format, compile again for an older one.
fn version_advice(found: &str) -> &'static str {
    let version = |f: &str| {
        f.strip_prefix("zkinfer-model/")
            .and_then(|v| v.parse::<u32>().ok())
    };
    match (version(found), version(MODEL_FORMAT)) {
        (Some(v), Some(ours)) if v > ours => {
            "it was written by a newer zkinfer; upgrade to read it"
        }
        _ => "compile the model again with this zkinfer",
    }
}

/// The top-level `"format"` string of a JSON object, read without building the rest of the file (it
/// is skipped), so that a file is then deserialized straight into its types: memory in proportion
/// to what it declares, never a tree of JSON values several times its size. `Ok(None)`: valid JSON,
/// but not an object with a string `format`. A file that starts as this project writes it
/// (`{"format":"...",`) is answered from that prefix alone; the typed parse checks the rest.
pub fn json_format(bytes: &[u8]) -> Result<Option<String>, serde_json::Error> {
    #[derive(Deserialize)]
    struct Header {
        format: Option<String>,
    }
    // As this project writes its files: the format first, read without scanning the rest (a
    // malformed rest fails the typed parse that follows, a second `format` key too).
    if let Some(rest) = bytes.strip_prefix(b"{\"format\":\"") {
        let end = rest.iter().position(|&c| c == b'"' || c == b'\\');
        if let Some(end) =
            end.filter(|&e| rest[e] == b'"' && matches!(rest.get(e + 1), Some(b',' | b'}')))
        {
            if let Ok(f) = std::str::from_utf8(&rest[..end]) {
                return Ok(Some(f.to_string()));
            }
        }
    }
    // serde also reads a struct from an array; a file must be an object.
    let object = bytes.trim_ascii_start().first() == Some(&b'{');
    match serde_json::from_slice::<Header>(bytes) {
        Ok(h) => Ok(h.format.filter(|_| object)),
        Err(e) if e.classify() == serde_json::error::Category::Data => Ok(None),
        Err(e) => Err(e),
    }
}

/// Lowercase hexadecimal, two digits per byte.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The digest's hash: BLAKE2b-256, personalized.
fn digest_params() -> blake2b_simd::Params {
    let mut p = blake2b_simd::Params::new();
    p.hash_length(32).personal(b"zkinfer-model\0\0\0");
    p
}

/// The digest of a model file's bytes as [`ModelFile::to_json`] writes them: the hash of the file
/// with its trailing digest's 64 hex digits removed, which is the serialization
/// [`ModelFile::compute_digest`] hashes. `None` when the bytes do not end that way.
pub fn raw_digest(bytes: &[u8]) -> Option<String> {
    const KEY: &[u8] = b",\"digest\":\"";
    const END: &[u8] = b"\"}";
    let digits_at = bytes.len().checked_sub(END.len() + 64)?;
    let (head, tail) = bytes.split_at(digits_at);
    if !head.ends_with(KEY) || &tail[64..] != END || !is_hex(std::str::from_utf8(&tail[..64]).ok()?)
    {
        return None;
    }
    let mut state = digest_params().to_state();
    state.update(head).update(END);
    Some(hex(state.finalize().as_bytes()))
}

/// Whether `s` is in [`hex`]'s form (lowercase, even length), checked without decoding it.
pub fn is_hex(s: &str) -> bool {
    s.len().is_multiple_of(2) && s.bytes().all(|c| matches!(c, b'0'..=b'9' | b'a'..=b'f'))
}

/// The bytes of [`hex`]'s form (lowercase, even length), or `None`.
pub fn from_hex_bytes(s: &str) -> Option<Vec<u8>> {
    fn nibble(c: u8) -> Option<u8> {
        match c {
            b'0'..=b'9' => Some(c - b'0'),
            b'a'..=b'f' => Some(c - b'a' + 10),
            _ => None,
        }
    }
    if !s.len().is_multiple_of(2) {
        return None;
    }
    s.as_bytes()
        .chunks_exact(2)
        .map(|p| Some(nibble(p[0])? << 4 | nibble(p[1])?))
        .collect()
}

impl ModelFile {
    /// The stored verifying key's bytes (halo2's raw encoding).
    pub fn verifying_key_bytes(&self) -> Result<Vec<u8>, crate::keys::KeyError> {
        self.proof_system
            .verifying_key_bytes()
            .map_err(|why| crate::keys::KeyError::Read {
                what: "verifying key",
                why,
            })
    }

    /// The verifying key the model file holds, for its circuit's shape (whole: it can make the
    /// proving key).
    pub fn verifying_key(&self) -> Result<crate::keys::VerifyingKey, crate::keys::KeyError> {
        crate::keys::vk_from_bytes(&self.verifying_key_bytes()?, self.shape)
    }

    /// The model's verifying key for verifying proofs only: read in time independent of k (no FFT
    /// tables, no selector columns; see [`crate::keys::verifier_key`]). It cannot make a proving key.
    pub fn verifier_key(&self) -> Result<crate::keys::VerifyingKey, crate::keys::KeyError> {
        crate::keys::verifier_key::for_verifying(&self.verifying_key_bytes()?, self.shape)
    }
}
