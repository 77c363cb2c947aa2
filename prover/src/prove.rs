//! Proving. A [`Prover`] loads the SRS and the proving key once (the key is made on first use and
//! cached, pinned by the digest the model file records) and proves many inputs with them.

use std::time::{Instant, SystemTime, UNIX_EPOCH};

use thiserror::Error;

use circuits::artifacts::input::ModelInput;
use circuits::circuit::{instance_with_weights, TensorClaim};
use circuits::disclosure::hashing::HashError;
use circuits::disclosure::Disclosure;
use circuits::field::Fr;
use circuits::keys::{KeyError, ProvingKey};
use circuits::proof::ProofParams;
use circuits::qgraph::EvalError;
use circuits::setup::srs::SrsError;
use circuits::setup::store::{self, ParamsSource};
use circuits::{InferenceCircuit, ModelFile, Trace};
use verifier::bundle::{ProverInfo, PublicTensor, PublicValues};
use verifier::{ProofBundle, PROOF_FORMAT};

use crate::key_cache::{KeyCache, KeyLabel};
use crate::progress::{Progress, Silent, Step};

/// Why keys could not be made or an input not proven.
#[derive(Debug, Error)]
pub enum ProveError {
    /// The SRS could not be loaded or made.
    #[error(transparent)]
    Srs(#[from] SrsError),
    /// The proving key could not be made, read or cached.
    #[error(transparent)]
    Key(#[from] KeyError),
    /// The input is rejected by the reference evaluator (length, magnitude, or an activation out of
    /// range).
    #[error("input: {0}")]
    Input(#[from] EvalError),
    /// The input could not be hashed (a value outside the activation range).
    #[error("input: {0}")]
    Hash(#[from] HashError),
    /// halo2 could not create the proof.
    #[error("proving failed: {0}")]
    Proof(#[from] circuits::proof::ProofError),
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
    params: ProofParams,
    pk: ProvingKey,
    /// Where the SRS came from.
    pub params_source: ParamsSource,
    /// Where the proving key came from.
    pub key_source: KeySource,
    /// Seconds spent loading (or making) and checking the SRS.
    pub params_s: f64,
    /// Seconds spent loading or generating the proving key (a cached key is read while the SRS is
    /// loaded: the two overlap).
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

/// Run the model's reference evaluator on an input (no proof).
pub fn infer(model: &ModelFile, input: &ModelInput) -> Result<Inference, EvalError> {
    let g = &model.graph;
    let q = g.input_values(input)?;
    let trace = g.eval(&q)?;
    let outputs = trace
        .output()
        .iter()
        .map(|v| g.dequantize_output(*v))
        .collect();
    Ok(Inference {
        input: q,
        trace,
        outputs,
    })
}

impl<'m> Prover<'m> {
    /// Load the SRS (checked) and the proving key (made and cached when missing), silently.
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
        let making = match store::derived_params_path(&model.proof_system, model.k)? {
            Some((what, path)) if !path.exists() => Some(Step::MakingParams {
                what,
                k: model.k,
                path,
            }),
            _ => None,
        };
        if let Some(step) = &making {
            progress.start(step);
        }
        // A cached proving key is read (hashed, then parsed: one thread) while the SRS is loaded
        // and checked (multi-exponentiations on every thread): the two overlap.
        let path = pk_path(model)?;
        let (loaded, params_s, cached) = std::thread::scope(|s| {
            let cached = s.spawn(|| read_cached_pk(model, &path));
            let loaded = store::load_params(&model.proof_system, model.k);
            let params_s = t.elapsed().as_secs_f64();
            let cached = cached
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            (loaded, params_s, cached)
        });
        if let Some(step) = &making {
            progress.finish(step);
        }
        let (params, params_source) = loaded?;
        let (pk, key_source, keygen_s) = match cached {
            Some((pk, read_s)) => {
                KeyCache::at(pk_dir()?).touch(&model.digest);
                (pk, KeySource::Cache, read_s)
            }
            None => {
                let t = Instant::now();
                let (pk, source) = make_and_cache_pk(model, &params, &path, progress)?;
                (pk, source, t.elapsed().as_secs_f64())
            }
        };
        Ok(Prover {
            model,
            params,
            pk,
            params_source,
            key_source,
            params_s,
            keygen_s,
            threads: rayon::current_num_threads(),
            progress,
        })
    }

    /// Prove one inference on a float input.
    pub fn prove(&self, input: &[f64]) -> Result<ProofBundle, ProveError> {
        self.prove_salted(&ModelInput::Floats(input.to_vec()), None)
    }

    /// Prove one inference on a float input; `salt` salts the input's hash (a model compiled with
    /// `--salt` needs one, any other refuses one).
    pub fn prove_salted(
        &self,
        input: &ModelInput,
        salt: Option<Fr>,
    ) -> Result<ProofBundle, ProveError> {
        let name = || self.model.name.clone();
        match (self.model.visibility.input.salted(), salt) {
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
        let disclosure = Disclosure::new(g, vis);
        let (in_packing, out_packing) = (disclosure.input_packing, disclosure.output_packing);
        let input_claim = match salt {
            Some(salt) => TensorClaim::salted(in_packing, salt, &inf.input)?,
            None => TensorClaim::of(vis.input.kind(), in_packing, &inf.input)?,
        };
        if vis.input == circuits::InputVisibility::Private {
            // Private inputs pass through the same range-checked rows as hashed ones.
            in_packing.check_range(&inf.input)?;
        }
        let output_claim = TensorClaim::of(vis.output.kind(), out_packing, inf.trace.output())?;
        let instance =
            instance_with_weights(&input_claim, &output_claim, self.model.weights_hash());
        let mut circuit = InferenceCircuit::with_visibility(g, vis, Some(&inf.trace));
        circuit.salt = salt;
        self.progress.start(&Step::Proving);
        let proved =
            circuits::proof::prove(&self.params, &self.pk, circuit, self.model.shape, &instance);
        self.progress.finish(&Step::Proving);
        let proof = proved.map_err(ProveError::Proof)?;
        let prove_s = t.elapsed().as_secs_f64();

        Ok(ProofBundle {
            format: PROOF_FORMAT.into(),
            model_digest: self.model.digest.clone(),
            model_name: self.model.name.clone(),
            k: self.model.k,
            visibility: self.model.visibility,
            public: PublicValues {
                input: PublicTensor::claiming(&g.input_shape, g.input_scale, &input_claim, &|q| {
                    g.dequantize_input(q)
                }),
                output: PublicTensor::claiming(
                    g.output_shape(),
                    g.output_scale(),
                    &output_claim,
                    &|q| g.dequantize_output(q),
                ),
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

/// Where a prover's proving key came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeySource {
    /// The cached file, which had the digest the model pins.
    Cache,
    /// Made now (no cached file, or one without the pinned digest) and cached.
    Made,
    /// Made now, but it could not be cached (why: a full disk, say); the proofs are unaffected, the
    /// next prover makes it again.
    MadeNotCached(String),
}

/// The folder of cached proving keys: `keys` in the cache directory.
pub fn pk_dir() -> Result<std::path::PathBuf, SrsError> {
    Ok(store::cache_dir()?.join("keys"))
}

/// The cache file of a model's proving key: `keys/<model digest>.pk` in the cache directory.
pub fn pk_path(model: &ModelFile) -> Result<std::path::PathBuf, SrsError> {
    Ok(pk_dir()?.join(format!("{}.pk", model.digest)))
}

/// The model's cached proving key, when its file at `path` has the digest the model pins, and the
/// seconds its reading took.
fn read_cached_pk(model: &ModelFile, path: &std::path::Path) -> Option<(ProvingKey, f64)> {
    let t = Instant::now();
    let file = std::fs::File::open(path).ok()?;
    let pinned = &model.proof_system.proving_key_digest;
    let pk = circuits::keys::read_pk(file, model.shape, pinned).ok()?;
    Some((pk, t.elapsed().as_secs_f64()))
}

/// The model's proving key made again from the model (no usable cached file), checked against the
/// digest the model pins, and cached at `path` where the cache can be written.
fn make_and_cache_pk(
    model: &ModelFile,
    params: &ProofParams,
    path: &std::path::Path,
    progress: &dyn Progress,
) -> Result<(ProvingKey, KeySource), ProveError> {
    let pinned = &model.proof_system.proving_key_digest;
    let keygen = Step::Keygen { k: model.k };
    progress.start(&keygen);
    // Both keys in one pass, as compile makes them; the digest check below covers the verifying key
    // inside (the model pins the key compile made).
    let made = circuits::keys::make_keys(params, &model.graph, model.visibility, model.shape);
    progress.finish(&keygen);
    let pk = made?;
    // Written to the cache as it is serialized (not held twice in memory), named once checked. A
    // cache that cannot be written (a full disk) costs the next prover a key generation, not this
    // one its proofs: the key is then serialized into a hash alone, for the same check.
    let written = store::temporary_in(&pk_dir()?).and_then(|mut tmp| {
        let digest = circuits::keys::write_pk(&pk, tmp.as_file_mut())?;
        Ok((tmp, digest))
    });
    let (tmp, digest) = match written {
        Ok((tmp, digest)) => (Ok(tmp), digest),
        Err(e) => {
            let digest = circuits::keys::write_pk(&pk, std::io::sink())
                .map_err(|source| KeyError::Write { source })?;
            let why = format!(
                "the proving key could not be cached in {}: {e}",
                path.display()
            );
            (Err(why), digest)
        }
    };
    if &digest != pinned {
        return Err(KeyError::Read {
            what: "proving key",
            why: format!(
                "the key made from this model and its SRS has digest {digest}, the model pins \
                 {pinned}: the model file was not compiled with this SRS"
            ),
        }
        .into());
    }
    let persisted = tmp.and_then(|tmp| {
        tmp.persist(path).map(drop).map_err(|e| {
            let error = e.error;
            format!(
                "the proving key could not be cached as {}: {error}",
                path.display()
            )
        })
    });
    match persisted {
        Ok(()) => {
            let label = KeyLabel {
                model: model.name.clone(),
                k: model.k,
            };
            // Best effort: a key without its label is listed without its model's name.
            let _ = KeyCache::at(pk_dir()?).write_label(&model.digest, &label);
            Ok((pk, KeySource::Made))
        }
        Err(why) => Ok((pk, KeySource::MadeNotCached(why))),
    }
}
