//! Checking bundles against a model: digest and public values, then the halo2 proof. A
//! [`ModelVerifier`] reads the verifying key the model file holds (no key generation) and the SRS's
//! three points a KZG verifier needs (no file), and checks any number of proofs, one by one or as a
//! batch.

use serde::Serialize;
use thiserror::Error;

use circuits::artifacts::model_file::ModelFileError;
use circuits::circuit::{instance_with_weights, TensorClaim};
use circuits::disclosure::hashing::{self, Packing};
use circuits::disclosure::Disclosure;
use circuits::field::Fr;
use circuits::ir::Shape;
use circuits::keys::{KeyError, VerifyingKey};
use circuits::proof::ProofParams;
use circuits::setup::srs::SrsError;
use circuits::setup::threads::on_one_thread_if_small;
use circuits::{ModelFile, Visibility};

use crate::bundle::{BundleError, ProofBundle, PublicTensor};
use crate::clock::Stopwatch;

/// The outcome of a verification that could be carried out.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Verdict {
    /// Whether the proof verifies and its claims match the model.
    pub valid: bool,
    /// Why the proof is invalid (absent when valid).
    pub reason: Option<String>,
    /// Digest of the model the proof was checked against.
    pub model_digest: String,
    /// Name of that model.
    pub model_name: String,
    /// The dequantized outputs, recomputed from the public integers: one array per model output.
    pub outputs: Vec<Vec<f64>>,
    /// The input's hash, when the input is hashed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub input_hash: Option<String>,
    /// The output's hash, when the output is hashed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output_hash: Option<String>,
    /// The weights' hash, when the weights are hashed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub weights_hash: Option<String>,
    /// The circuit has `2^k` rows.
    pub k: u32,
    /// Size of the decoded proof, in bytes (0 when it is not base64).
    pub proof_bytes: usize,
    /// Seconds spent making the SRS's verifier part.
    pub params_s: f64,
    /// Seconds spent reading the verifying key from the model file (or rebuilding it, when asked).
    pub keygen_vk_s: f64,
    /// Seconds spent checking the proof (for a batch, its share of the batch's time).
    pub verify_s: f64,
}

/// Failures that prevent verification (unreadable input), as opposed to an invalid proof.
#[derive(Debug, Error)]
pub enum VerifyError {
    /// The model's SRS is not usable (a known name with another point).
    #[error(transparent)]
    Srs(#[from] SrsError),
    /// The verifying key the model holds could not be read.
    #[error(transparent)]
    Key(#[from] KeyError),
}

/// Check a tensor's claim against the model; returns what the instance column holds of it.
fn check_tensor(
    name: &str,
    t: &PublicTensor,
    (vis, packing): (Visibility, Packing),
    shape: &Shape,
    scale: u32,
    real: &dyn Fn(i64) -> f64,
) -> Result<TensorClaim, String> {
    let len = shape.numel();
    if t.shape != shape.0 {
        return Err(format!(
            "the {name} has shape {:?} in the proof file, the model's is {:?}",
            t.shape, shape.0
        ));
    }
    if t.scale != scale {
        return Err(format!(
            "the {name} is at scale 2^{} in the proof file, the model's at 2^{scale}",
            t.scale
        ));
    }
    if vis != Visibility::Public {
        if !t.quantized.is_empty() || !t.values.is_empty() {
            return Err(format!(
                "the {name} is {vis}, yet the proof file lists its values"
            ));
        }
        return match (vis, &t.hash) {
            (Visibility::Hashed, Some(h)) => hashing::from_hex(h)
                .map(TensorClaim::Hash)
                .map_err(|e| format!("the {name}'s hash is malformed: {e}")),
            (Visibility::Hashed, None) => Err(format!("the {name} is hashed but has no hash")),
            (_, Some(_)) => Err(format!("the {name} is {vis} but the proof file has a hash")),
            (_, None) => Ok(TensorClaim::Hidden),
        };
    }
    if t.hash.is_some() {
        return Err(format!(
            "the {name} is public but the proof file has a hash"
        ));
    }
    if t.quantized.len() != len {
        return Err(format!(
            "the public {name} has {} values, the model's has {len}",
            t.quantized.len()
        ));
    }
    if t.values.len() != len
        || t.quantized
            .iter()
            .zip(&t.values)
            .any(|(q, v)| real(*q) != *v)
    {
        return Err(format!(
            "the public {name}'s float values do not match its quantized values"
        ));
    }
    // Packed into instance cells when the model says so (a value outside the packing's range
    // cannot have been proven).
    TensorClaim::of(Visibility::Public, packing, &t.quantized)
        .map_err(|e| format!("the public {name} cannot be packed: {e}"))
}

/// Check the bundle's claims against the model; returns the instance column, or why the proof is
/// invalid.
fn check_claims(bundle: &ProofBundle, model: &ModelFile) -> Result<Vec<Fr>, String> {
    if bundle.model_digest != model.digest {
        return Err(format!(
            "the proof is about model {}, not the given model {} ({})",
            bundle.model_digest, model.digest, model.name
        ));
    }
    if bundle.k != model.k {
        return Err(format!(
            "the proof claims k = {}, the model's circuit has k = {}",
            bundle.k, model.k
        ));
    }
    if bundle.visibility != model.visibility {
        return Err("the proof's visibility settings differ from the model's".into());
    }
    if bundle.public.weights_hash != model.weights_hash {
        return Err(match &bundle.public.weights_hash {
            Some(h) => format!("the proof claims weights hash {h}, not the model's"),
            None => "the proof carries no weights hash, but the model's weights are hashed".into(),
        });
    }
    let g = &model.graph;
    let vis = model.visibility;
    // An int8 model's input is int8: a claim about other integers is not an inference of it.
    if g.int8.is_some()
        && bundle
            .public
            .input
            .quantized
            .iter()
            .any(|v| !(-128..=127).contains(v))
    {
        return Err("the public input of an int8 model holds a value outside [-128, 127]".into());
    }
    let disclosure = Disclosure::new(g, vis);
    let input = check_tensor(
        "input",
        &bundle.public.input,
        (vis.input.kind(), disclosure.input_packing),
        &g.input_shape,
        g.input_scale,
        &|q| g.dequantize_input(q),
    )?;
    let output = check_tensor(
        "output",
        &bundle.public.output,
        (vis.output.kind(), disclosure.output_packing),
        g.output_shape(),
        g.output_scale(),
        &|q| g.dequantize_output(q),
    )?;
    let weights = match vis.weights.is_hashed() {
        true => Some(
            model
                .weights_hash()
                .ok_or("the model's weights are hashed, but it carries no valid weights hash")?,
        ),
        false => None,
    };
    Ok(instance_with_weights(&input, &output, weights))
}

/// A verdict with the claims checked, before the proof itself is: invalid with a reason, or pending
/// (no reason) with the decoded proof and its instance column to check.
pub fn claims_verdict(bundle: &ProofBundle, model: &ModelFile) -> (Verdict, Option<Pending>) {
    let g = &model.graph;
    let proof = bundle.proof_bytes().ok();
    let mut v = Verdict {
        valid: false,
        reason: None,
        model_digest: model.digest.clone(),
        model_name: model.name.clone(),
        outputs: vec![bundle
            .public
            .output
            .quantized
            .iter()
            .map(|q| g.dequantize_output(*q))
            .collect()],
        k: model.k,
        input_hash: bundle.public.input.hash.clone(),
        output_hash: bundle.public.output.hash.clone(),
        weights_hash: model.weights_hash.clone(),
        proof_bytes: proof.as_ref().map_or(0, Vec::len),
        params_s: 0.0,
        keygen_vk_s: 0.0,
        verify_s: 0.0,
    };
    match (check_claims(bundle, model), proof) {
        (Err(reason), _) => {
            v.reason = Some(reason);
            (v, None)
        }
        (Ok(_), None) => {
            v.reason = Some("the proof is not base64".into());
            (v, None)
        }
        (Ok(instance), Some(p)) => (v, Some(Pending { proof: p, instance })),
    }
}

/// A proof whose claims check out, and its instance column.
pub struct Pending {
    /// The halo2 proof's bytes.
    pub proof: Vec<u8>,
    /// The instance column it is checked against (the claims as field elements).
    pub instance: Vec<Fr>,
}

/// A model's verifying key and SRS points, read once for any number of proofs.
pub struct ModelVerifier<'m> {
    /// The model the proofs are checked against.
    pub model: &'m ModelFile,
    params: ProofParams,
    vk: VerifyingKey,
    /// Whether proofs made with the development SRS (insecure) are accepted.
    pub allow_dev_srs: bool,
    /// What a user should be told about the parameters (IPA: a cached file that was not the pinned
    /// one, made again).
    pub params_warning: Option<String>,
    /// Seconds spent making the SRS's verifier part.
    pub params_s: f64,
    /// Seconds spent reading the verifying key.
    pub keygen_vk_s: f64,
}

/// The verdicts of a batch, in the order given.
#[derive(Clone, Debug, Serialize)]
pub struct BatchOutcome {
    /// One verdict per bundle, in the order given.
    pub verdicts: Vec<Verdict>,
    /// Seconds for the combined check (and the single checks after it, if it failed).
    pub batch_s: f64,
    /// Whether the combined check failed and each proof was then checked on its own.
    pub checked_one_by_one: bool,
}

/// Why a proof made with the development SRS is refused.
pub const DEV_SRS_REFUSED: &str =
    "the model is proven with the development SRS, which is insecure \
    (its secret is public, so anyone can forge a proof): pass --allow-dev-srs (or set \
    ZKINFER_ALLOW_DEV_SRS=1) to accept such proofs for testing";

impl<'m> ModelVerifier<'m> {
    /// Read the model's verifying key and its SRS's verifier points. Proofs of a model on the
    /// development SRS are refused unless `allow_dev_srs`.
    pub fn new(model: &'m ModelFile) -> Result<Self, VerifyError> {
        Self::with_options(model, false)
    }

    /// [`ModelVerifier::new`], accepting development-SRS proofs when `allow_dev_srs`.
    pub fn with_options(model: &'m ModelFile, allow_dev_srs: bool) -> Result<Self, VerifyError> {
        let t = Stopwatch::start();
        // KZG: three points of the SRS, no file; IPA: the pinned generators (cached, or made).
        let (params, params_warning) = match &model.proof_system.srs {
            Some(srs) => (ProofParams::Kzg(srs.verifier_params(model.k)?), None),
            None => {
                let (p, source) = circuits::setup::ipa::load(model.k)?;
                (ProofParams::Ipa(p), source.warning(model.k))
            }
        };
        let params_s = t.secs();
        let t = Stopwatch::start();
        let vk = model.verifier_key()?;
        Ok(ModelVerifier {
            model,
            params,
            vk,
            allow_dev_srs,
            params_warning,
            params_s,
            keygen_vk_s: t.secs(),
        })
    }

    /// Why no proof of this model is accepted (the development SRS, not allowed), if so.
    fn refusal(&self) -> Option<&'static str> {
        (self.model.proof_system.on_dev_srs() && !self.allow_dev_srs).then_some(DEV_SRS_REFUSED)
    }

    /// Check one proof on its own; a proof with bytes after the ones the verifier reads is invalid.
    fn check_proof(&self, p: &Pending) -> Result<(), String> {
        if let Some(why) = self.refusal() {
            return Err(why.into());
        }
        on_one_thread_if_small(self.model.k, || {
            circuits::proof::verify(&self.params, &self.vk, &p.instance, &p.proof)
                .map_err(|e| e.to_string())
        })
    }

    /// Verify one bundle.
    pub fn verify(&self, bundle: &ProofBundle) -> Verdict {
        let (mut v, proof) = claims_verdict(bundle, self.model);
        v.params_s = self.params_s;
        v.keygen_vk_s = self.keygen_vk_s;
        if let Some(pending) = proof {
            let t = Stopwatch::start();
            match self.check_proof(&pending) {
                Ok(()) => v.valid = true,
                Err(reason) => v.reason = Some(reason),
            }
            v.verify_s = t.secs();
        }
        v
    }

    /// Verify many bundles with one combined check; when it fails, check each on its own to name the
    /// invalid ones.
    pub fn verify_batch(&self, bundles: &[ProofBundle]) -> BatchOutcome {
        let t = Stopwatch::start();
        let mut pending = Vec::new();
        let mut verdicts: Vec<Verdict> = bundles
            .iter()
            .enumerate()
            .map(|(i, b)| {
                let (mut v, proof) = claims_verdict(b, self.model);
                v.params_s = self.params_s;
                v.keygen_vk_s = self.keygen_vk_s;
                if let Some(p) = proof {
                    pending.push((i, p));
                }
                v
            })
            .collect();
        let proofs: Vec<(&[Fr], &[u8])> = pending
            .iter()
            .map(|(_, p)| (&p.instance[..], &p.proof[..]))
            .collect();
        let all_ok = pending.is_empty()
            || (self.refusal().is_none()
                && circuits::proof::verify_all(&self.params, &self.vk, &proofs));
        // The combined check reads each transcript but not its end: one proof checked on its own
        // gives the length every proof of this key has, and a proof of another length is checked on
        // its own too (for its reason).
        let exact = match pending.first() {
            Some((_, first)) if all_ok => self.check_proof(first).ok().map(|_| first.proof.len()),
            _ => None,
        };
        for (i, p) in &pending {
            if exact == Some(p.proof.len()) {
                verdicts[*i].valid = true;
                continue;
            }
            match self.check_proof(p) {
                Ok(()) => verdicts[*i].valid = true,
                Err(reason) => verdicts[*i].reason = Some(reason),
            }
        }
        let batch_s = t.secs();
        for v in &mut verdicts {
            v.verify_s = batch_s / bundles.len().max(1) as f64;
        }
        BatchOutcome {
            verdicts,
            batch_s,
            checked_one_by_one: !all_ok,
        }
    }
}

/// Verify `bundle` against `model` (a proof for another model is refused before its key is read);
/// a proof on the development SRS is refused.
pub fn verify_bundle(bundle: &ProofBundle, model: &ModelFile) -> Result<Verdict, VerifyError> {
    verify_bundle_with(bundle, model, false)
}

/// [`verify_bundle`], accepting development-SRS proofs when `allow_dev_srs`.
pub fn verify_bundle_with(
    bundle: &ProofBundle,
    model: &ModelFile,
    allow_dev_srs: bool,
) -> Result<Verdict, VerifyError> {
    let (v, proof) = claims_verdict(bundle, model);
    if proof.is_none() {
        return Ok(v);
    }
    Ok(ModelVerifier::with_options(model, allow_dev_srs)?.verify(bundle))
}

/// Why a proof and a model given as bytes could not be verified at all (the CLI's exit code 2).
#[derive(Debug, Error)]
pub enum Unreadable {
    /// The proof file could not be read.
    #[error(transparent)]
    Bundle(#[from] BundleError),
    /// The model file could not be read.
    #[error(transparent)]
    Model(#[from] ModelFileError),
    /// The SRS points or the verifying key could not be read.
    #[error(transparent)]
    Verify(#[from] VerifyError),
}

/// Verify a `.zkp` against a `.zkm`, both given as bytes (a browser's files); the names label errors.
/// Development-SRS proofs are accepted only when `allow_dev_srs`.
pub fn verify_bytes(
    zkp: &[u8],
    zkp_name: &str,
    zkm: &[u8],
    zkm_name: &str,
    allow_dev_srs: bool,
) -> Result<Verdict, Unreadable> {
    let bundle = ProofBundle::from_bytes(zkp, zkp_name)?;
    let model = ModelFile::from_bytes_to_verify(zkm, zkm_name)?;
    Ok(verify_bundle_with(&bundle, &model, allow_dev_srs)?)
}

/// Make the model's verifying key again (from its graph and its SRS's file, as a prover has it) and
/// compare it with the one the model file holds; `Err` says why they differ or why it could not be
/// made. Not in the browser (no SRS file there).
#[cfg(target_arch = "wasm32")]
pub fn rebuild_key(_model: &ModelFile) -> Result<(), String> {
    Err("the verifying key cannot be rebuilt in the browser (it needs the SRS's file)".into())
}

/// Make the model's verifying key again (from its graph and its SRS's file, as a prover has it) and
/// compare it with the one the model file holds; `Err` says why they differ or why it could not be
/// made.
#[cfg(not(target_arch = "wasm32"))]
pub fn rebuild_key(model: &ModelFile) -> Result<(), String> {
    // A verifier reads the model without the layout check; key generation lays the graph out.
    model.validate_layout()?;
    let (params, _) = circuits::setup::store::load_params(&model.proof_system, model.k)
        .map_err(|e| e.to_string())?;
    let vk = circuits::keys::make_vk(&params, &model.graph, model.visibility, model.shape)
        .map_err(|e| e.to_string())?;
    let held = model
        .verifying_key_bytes()
        .map_err(|e| format!("the model file's verifying key: {e}"))?;
    if circuits::keys::vk_bytes(&vk) != held {
        return Err(
            "the verifying key the model file holds is not the one its model and SRS make".into(),
        );
    }
    Ok(())
}
