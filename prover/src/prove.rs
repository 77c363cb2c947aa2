//! Key generation and proving. A [`Prover`] makes the keys once and proves many inputs with them.

use std::time::{Instant, SystemTime, UNIX_EPOCH};

use halo2_proofs::{
    pasta::{EqAffine, Fp},
    plonk::{create_proof, keygen_pk, keygen_vk, ProvingKey},
    poly::commitment::Params,
    transcript::{Blake2bWrite, Challenge255},
};
use thiserror::Error;

use circuits::circuit::{instance_with_weights, packings, TensorClaim};
use circuits::disclosure::hashing::HashError;
use circuits::qgraph::{dequantize, EvalError};
use circuits::setup::params_cache::{self, ParamsError, ParamsSource};
use circuits::setup::threads::on_one_thread_if_small;
use circuits::{with_shape, InferenceCircuit, ModelFile, Trace, Visibility};
use verifier::bundle::{ProverInfo, PublicTensor, PublicValues};
use verifier::{ProofBundle, PROOF_FORMAT};

use crate::progress::{Progress, Silent, Step};

/// Why keys could not be made or an input not proven.
#[derive(Debug, Error)]
pub enum ProveError {
    /// The setup parameters could not be loaded or made.
    #[error(transparent)]
    Params(#[from] ParamsError),
    /// Key generation failed.
    #[error("key generation failed: {0}")]
    Keygen(String),
    /// The input is rejected by the reference evaluator (length, magnitude, or an activation out of
    /// range).
    #[error("input: {0}")]
    Input(#[from] EvalError),
    /// The input could not be hashed (a value outside the activation range).
    #[error("input: {0}")]
    Hash(#[from] HashError),
    /// halo2 could not create the proof.
    #[error("proving failed: {0}")]
    Proof(String),
    /// The model salts its input's hash, but no salt was given (the model's name).
    #[error(
        "model {0} salts its input's hash: give the salt (prove --salt-file), or let zkinfer make one"
    )]
    NoSalt(String),
    /// A salt was given, but the model does not salt its input's hash (the model's name).
    #[error("model {0} does not salt its input's hash (compile it with --input hashed --salt)")]
    UnsaltedModel(String),
    /// The model is stripped (no weights), so it cannot prove (the model's name).
    #[error(
        "model {0} is stripped (it has no weights): it can verify proofs, not make them; prove \
         with the model file it was stripped from"
    )]
    Stripped(String),
}

/// Keys for one model, reusable across inputs.
pub struct Prover<'m> {
    /// The model the keys are for.
    pub model: &'m ModelFile,
    params: Params<EqAffine>,
    pk: ProvingKey<EqAffine>,
    /// Where the setup parameters came from.
    pub params_source: ParamsSource,
    /// Seconds spent loading or making the setup parameters.
    pub params_s: f64,
    /// Seconds spent generating the keys.
    pub keygen_s: f64,
    threads: usize,
    progress: &'m dyn Progress,
}

/// A quantized inference: the trace and the float outputs it stands for.
pub struct Inference {
    /// The quantized input (at the model's input scale).
    pub input: Vec<i64>,
    /// Every tensor's integer values: the witness.
    pub trace: Trace,
    /// The model's output as floats (`quantized / 2^output_scale`).
    pub outputs: Vec<f64>,
}

/// Run the model's reference evaluator on a float input (no proof).
pub fn infer(model: &ModelFile, input: &[f64]) -> Result<Inference, EvalError> {
    let g = &model.graph;
    let q = g.quantize_input(input)?;
    let trace = g.eval(&q)?;
    let outputs = trace
        .output()
        .iter()
        .map(|v| dequantize(*v, g.output_scale()))
        .collect();
    Ok(Inference {
        input: q,
        trace,
        outputs,
    })
}

impl<'m> Prover<'m> {
    /// Load (or make and cache) the setup parameters and generate the keys, silently.
    pub fn new(model: &'m ModelFile) -> Result<Self, ProveError> {
        Self::with_progress(model, &Silent)
    }

    /// [`Prover::new`], reporting its long steps (and later each proof's) to `progress`.
    pub fn with_progress(
        model: &'m ModelFile,
        progress: &'m dyn Progress,
    ) -> Result<Self, ProveError> {
        if model.stripped {
            return Err(ProveError::Stripped(model.name.clone()));
        }
        let t = Instant::now();
        let mut making = None;
        let loaded = params_cache::load_or_create(model.k, |k, path| {
            let step = Step::MakingParams {
                k,
                path: path.clone(),
            };
            progress.start(&step);
            making = Some(step);
        });
        if let Some(step) = &making {
            progress.finish(step);
        }
        let (params, params_source) = loaded?;
        let params_s = t.elapsed().as_secs_f64();
        let keygen = Step::Keygen { k: model.k };
        progress.start(&keygen);
        let t = Instant::now();
        let circuit = InferenceCircuit::with_visibility(&model.graph, model.visibility, None);
        let pk = on_one_thread_if_small(model.k, || {
            with_shape(model.shape, || {
                let vk = keygen_vk(&params, &circuit)?;
                keygen_pk(&params, vk, &circuit)
            })
        })
        .map_err(|e| ProveError::Keygen(format!("{e:?}")));
        progress.finish(&keygen);
        let pk = pk?;
        Ok(Prover {
            model,
            params,
            pk,
            params_source,
            params_s,
            keygen_s: t.elapsed().as_secs_f64(),
            threads: rayon::current_num_threads(),
            progress,
        })
    }

    /// Prove one inference on a float input.
    pub fn prove(&self, input: &[f64]) -> Result<ProofBundle, ProveError> {
        self.prove_salted(input, None)
    }

    /// Prove one inference on a float input; `salt` salts the input's hash (a model compiled with
    /// `--salt` needs one, any other refuses one).
    pub fn prove_salted(&self, input: &[f64], salt: Option<Fp>) -> Result<ProofBundle, ProveError> {
        let name = || self.model.name.clone();
        match (self.model.visibility.input_salted, salt) {
            (true, None) => return Err(ProveError::NoSalt(name())),
            (false, Some(_)) => return Err(ProveError::UnsaltedModel(name())),
            _ => {}
        }
        let g = &self.model.graph;
        let t = Instant::now();
        let inf = infer(self.model, input)?;
        let witness_s = t.elapsed().as_secs_f64();

        let t = Instant::now();
        let vis = self.model.visibility;
        let (in_packing, out_packing) = packings(g);
        let input_claim = match salt {
            Some(salt) => TensorClaim::salted(in_packing, salt, &inf.input)?,
            None => TensorClaim::of(vis.input, in_packing, &inf.input)?,
        };
        if vis.input == Visibility::Private {
            // Private inputs pass through the same range-checked rows as hashed ones.
            in_packing.check_range(&inf.input)?;
        }
        let output_claim = TensorClaim::of(vis.output, out_packing, inf.trace.output())?;
        let instance =
            instance_with_weights(&input_claim, &output_claim, self.model.weights_hash());
        let mut circuit = InferenceCircuit::with_visibility(g, vis, Some(&inf.trace));
        circuit.salt = salt;
        let mut transcript = Blake2bWrite::<_, EqAffine, Challenge255<_>>::init(vec![]);
        let rng = rand_core::UnwrapErr(rand::rngs::SysRng);
        self.progress.start(&Step::Proving);
        let proved = with_shape(self.model.shape, || {
            create_proof(
                &self.params,
                &self.pk,
                &[circuit],
                &[&[&instance]],
                rng,
                &mut transcript,
            )
        });
        self.progress.finish(&Step::Proving);
        proved.map_err(|e| ProveError::Proof(format!("{e:?}")))?;
        let proof = transcript.finalize();
        let prove_s = t.elapsed().as_secs_f64();

        Ok(ProofBundle {
            format: PROOF_FORMAT.into(),
            model_digest: self.model.digest.clone(),
            model_name: self.model.name.clone(),
            k: self.model.k,
            visibility: self.model.visibility,
            public: PublicValues {
                input: PublicTensor::claiming(&g.input_shape, g.input_scale, &input_claim),
                output: PublicTensor::claiming(g.output_shape(), g.output_scale(), &output_claim),
                weights_hash: self.model.weights_hash.clone(),
            },
            proof: ProofBundle::encode_proof(&proof),
            prover: ProverInfo {
                tool: "zkinfer".into(),
                version: env!("CARGO_PKG_VERSION").into(),
                threads: self.threads,
                params_s: self.params_s,
                keygen_s: self.keygen_s,
                witness_s,
                prove_s,
                created_unix: SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .map(|d| d.as_secs())
                    .unwrap_or(0),
            },
        })
    }
}
