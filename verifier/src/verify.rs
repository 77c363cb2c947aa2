//! Checking a bundle against a model: digest, public values, then the halo2 proof.

use std::time::Instant;

use halo2_proofs::{
    pasta::EqAffine,
    plonk::{keygen_vk, verify_proof, SingleVerifier},
    transcript::{Blake2bRead, Challenge255},
};
use serde::Serialize;
use thiserror::Error;

use circuits::params_cache::{self, ParamsError};
use circuits::quant::dequantize;
use circuits::threads::on_one_thread_if_small;
use circuits::{public_inputs, with_shape, InferenceCircuit, ModelFile};

use crate::bundle::{ProofBundle, PublicTensor};

/// The outcome of a verification that could be carried out.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Verdict {
    pub valid: bool,
    /// Why the proof is invalid (absent when valid).
    pub reason: Option<String>,
    pub model_digest: String,
    pub model_name: String,
    /// The dequantized outputs, recomputed from the public integers: one array per model output.
    pub outputs: Vec<Vec<f64>>,
    pub k: u32,
    pub proof_bytes: usize,
    /// Seconds spent: setup parameters, verifying key rebuild, proof check.
    pub params_s: f64,
    pub keygen_vk_s: f64,
    pub verify_s: f64,
}

/// Failures that prevent verification (unreadable input), as opposed to an invalid proof.
#[derive(Debug, Error)]
pub enum VerifyError {
    #[error(transparent)]
    Params(#[from] ParamsError),
    #[error("rebuilding the verifying key failed: {0}")]
    Keygen(String),
}

fn check_tensor(name: &str, t: &PublicTensor, len: usize, scale: u32) -> Result<(), String> {
    if t.quantized.len() != len {
        return Err(format!(
            "the public {name} has {} values, the model's has {len}",
            t.quantized.len()
        ));
    }
    if t.scale != scale {
        return Err(format!(
            "the public {name} is at scale 2^{}, the model's at 2^{scale}",
            t.scale
        ));
    }
    if t.values.len() != len
        || t.quantized
            .iter()
            .zip(&t.values)
            .any(|(q, v)| dequantize(*q, scale) != *v)
    {
        return Err(format!(
            "the public {name}'s float values do not match its quantized values"
        ));
    }
    Ok(())
}

/// Check the bundle's claims against the model; `Err` carries the reason the proof is invalid.
fn check_claims(bundle: &ProofBundle, model: &ModelFile) -> Result<(), String> {
    if bundle.model_digest != model.digest {
        return Err(format!(
            "the proof is about model {}, not the given model {} ({})",
            short(&bundle.model_digest),
            short(&model.digest),
            model.name
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
    let g = &model.graph;
    check_tensor("input", &bundle.public.input, g.input_len(), g.input_scale)?;
    check_tensor(
        "output",
        &bundle.public.output,
        g.output_len(),
        g.output_scale(),
    )?;
    Ok(())
}

fn short(digest: &str) -> &str {
    &digest[..digest.len().min(16)]
}

/// Verify `bundle` against `model`.
pub fn verify_bundle(bundle: &ProofBundle, model: &ModelFile) -> Result<Verdict, VerifyError> {
    let out = &bundle.public.output;
    let scale = model.graph.output_scale();
    let proof = bundle.proof_bytes().unwrap_or_default();
    let mut verdict = Verdict {
        valid: false,
        reason: None,
        model_digest: model.digest.clone(),
        model_name: model.name.clone(),
        outputs: vec![out
            .quantized
            .iter()
            .map(|q| dequantize(*q, scale))
            .collect()],
        k: model.k,
        proof_bytes: proof.len(),
        params_s: 0.0,
        keygen_vk_s: 0.0,
        verify_s: 0.0,
    };
    if let Err(reason) = check_claims(bundle, model) {
        verdict.reason = Some(reason);
        return Ok(verdict);
    }
    let t = Instant::now();
    let (params, _) = params_cache::load_or_create(model.k, |_, _| {})?;
    verdict.params_s = t.elapsed().as_secs_f64();

    let t = Instant::now();
    let circuit = InferenceCircuit::new(&model.graph, None);
    let rebuild = || with_shape(model.shape, || keygen_vk::<EqAffine, _>(&params, &circuit));
    let vk = on_one_thread_if_small(model.k, rebuild)
        .map_err(|e| VerifyError::Keygen(format!("{e:?}")))?;
    verdict.keygen_vk_s = t.elapsed().as_secs_f64();

    let t = Instant::now();
    let instance = public_inputs(&bundle.public.input.quantized, &out.quantized);
    let mut transcript = Blake2bRead::<_, EqAffine, Challenge255<_>>::init(&proof[..]);
    let strategy = SingleVerifier::new(&params);
    let result = on_one_thread_if_small(model.k, || {
        verify_proof(&params, &vk, strategy, &[&[&instance]], &mut transcript)
    });
    verdict.verify_s = t.elapsed().as_secs_f64();
    match result {
        Ok(()) => verdict.valid = true,
        Err(e) => verdict.reason = Some(format!("the proof does not verify ({e:?})")),
    }
    Ok(verdict)
}
