//! ONNX → compiled model (`.zkm`): import, calibrate and quantize, plan the layout, make the keys
//! (the verifying key goes into the model file; the proving key into the cache).

use std::path::{Path, PathBuf};

use thiserror::Error;

use circuits::artifacts::input::{parse_samples, InputError};
use circuits::artifacts::model_file::{Commitment, MODEL_FORMAT};
use circuits::import::{import_model, ImportError, Imported};
use circuits::keys::KeyError;
use circuits::plan::Plan;
use circuits::quantize::{compile_graph, compile_int8, LayoutRequest, PipelineError};
use circuits::setup::srs::{SrsError, SrsRef};
use circuits::setup::store;
use circuits::{ModelFile, Visibilities};

/// Default calibration when none is given: this many deterministic samples uniform in [0, 1].
pub const DEFAULT_CALIBRATION_SAMPLES: usize = 32;

/// What to compile, and how.
#[derive(Clone, Debug)]
pub struct CompileOptions {
    /// The ONNX model.
    pub onnx: PathBuf,
    /// A calibration file (`{"samples": [...]}` or one input); `None`: uniform samples in [0, 1].
    pub calibration: Option<PathBuf>,
    /// What proofs of the model will reveal of its input, output and weights.
    pub visibility: Visibilities,
    /// What is asked of the layout (row shape, least table precision); the rest is chosen.
    pub layout: LayoutRequest,
    /// The SRS the model is proven with (KZG; ignored in IPA mode).
    pub srs: SrsRef,
    /// The commitment scheme: KZG (default) or IPA (transparent).
    pub commitment: Commitment,
}

/// Why a model could not be compiled.
#[derive(Debug, Error)]
pub enum CompileError {
    /// The model file (ONNX or TFLite) could not be imported.
    #[error(transparent)]
    Import(#[from] ImportError),
    /// The calibration file is not an input or a list of samples.
    #[error("calibration file {path}: {source}")]
    CalibrationFile {
        /// Path of the calibration file.
        path: String,
        /// What the parser reported.
        source: InputError,
    },
    /// The calibration file could not be read.
    #[error("cannot read calibration file {path}: {source}")]
    CalibrationIo {
        /// Path of the calibration file.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// Quantization or layout failed.
    #[error("{path}: {source}")]
    Compile {
        /// Path of the ONNX file.
        path: String,
        /// What the quantizer or the planner reported.
        source: PipelineError,
    },
    /// The weights could not be hashed (a weight outside the activation range).
    #[error("{path}: the weights cannot be hashed: {source}")]
    WeightsHash {
        /// Path of the ONNX file.
        path: String,
        /// What the hashing reported.
        source: circuits::disclosure::hashing::HashError,
    },
    /// The SRS is unknown, missing or not what it claims to be.
    #[error(transparent)]
    Srs(#[from] SrsError),
    /// The keys could not be made.
    #[error(transparent)]
    Key(#[from] KeyError),
}

fn default_samples(n_in: usize) -> Vec<Vec<f32>> {
    // A fixed linear congruential sequence: reproducible, no RNG dependency.
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    (0..DEFAULT_CALIBRATION_SAMPLES)
        .map(|_| {
            (0..n_in)
                .map(|_| {
                    state = state
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407);
                    (state >> 40) as f32 / (1u64 << 24) as f32
                })
                .collect()
        })
        .collect()
}

fn load_calibration(path: &Path) -> Result<Vec<Vec<f32>>, CompileError> {
    let p = path.display().to_string();
    let text = circuits::artifacts::input::read_limited(path).map_err(|source| {
        CompileError::CalibrationIo {
            path: p.clone(),
            source,
        }
    })?;
    let samples =
        parse_samples(&text).map_err(|source| CompileError::CalibrationFile { path: p, source })?;
    Ok(samples
        .into_iter()
        .map(|s| s.into_iter().map(|v| v as f32).collect())
        .collect())
}

/// Compile an ONNX model. Nothing is written; the caller saves the returned model.
pub fn compile_model(opts: &CompileOptions) -> Result<(ModelFile, Plan), CompileError> {
    let (model, layout) = quantize_model(opts)?;
    make_keys(model, layout, opts)
}

/// The step of [`compile_model`] after [`quantize_model`]: make the keys of `model` (planned as
/// `layout`; its estimate's `keygen_peak_mib` is this step's memory) and seal it.
pub fn make_keys(
    model: ModelFile,
    mut layout: Plan,
    opts: &CompileOptions,
) -> Result<(ModelFile, Plan), CompileError> {
    let srs = (opts.commitment == Commitment::Kzg).then_some(&opts.srs);
    let model = with_keys(model, srs)?;
    if opts.commitment == Commitment::Kzg {
        layout.estimate.proof_bytes = circuits::keys::proof_bytes(&model.verifying_key()?);
    }
    Ok((model, layout))
}

/// The steps of [`compile_model`] before the keys: import, calibrate, quantize and plan. The model
/// is not sealed and has no keys; the plan's proof size is the planner's upper bound.
pub fn quantize_model(opts: &CompileOptions) -> Result<(ModelFile, Plan), CompileError> {
    let path = opts.onnx.display().to_string();
    let request = LayoutRequest {
        visibility: opts.visibility,
        ..opts.layout
    };
    let compiled = match import_model(&opts.onnx)? {
        // An int8 model keeps its own integers: nothing to calibrate.
        Imported::Int8(m) => compile_int8(m.graph, m.unproven_tail, request),
        Imported::Float(graph) => {
            let (samples, calibration_name) = match &opts.calibration {
                Some(c) => (load_calibration(c)?, file_name(c)),
                None => (
                    default_samples(graph.input_shape.numel()),
                    format!(
                        "{DEFAULT_CALIBRATION_SAMPLES} uniform samples in [0, 1] (no --calibration \
                         given)"
                    ),
                ),
            };
            compile_graph(&graph, &samples, &calibration_name, request)
        }
    };
    let (qgraph, report, layout) = compiled.map_err(|source| CompileError::Compile {
        path: path.clone(),
        source,
    })?;
    let weights_hash = match opts.visibility.weights.is_hashed() {
        true => {
            let p = qgraph.params();
            let h = circuits::disclosure::hashing::weights_hash(
                qgraph.limb_bits,
                &p.weights,
                &p.biases,
            )
            .map_err(|source| CompileError::WeightsHash { path, source })?;
            Some(circuits::disclosure::hashing::to_hex(h))
        }
        _ => None,
    };
    let model = ModelFile {
        format: MODEL_FORMAT.into(),
        name: opts
            .onnx
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "model".into()),
        source: file_name(&opts.onnx),
        visibility: opts.visibility.with_packed_input(layout.shape.packed_input),
        graph: qgraph,
        shape: layout.shape,
        k: layout.k,
        report,
        weights_hash,
        stripped: false,
        proof_system: circuits::artifacts::model_file::ProofSystem::placeholder(),
        digest: String::new(),
    };
    Ok((model, layout))
}

/// Make a model's keys, KZG on `srs` (its file for the model's k, checked) or IPA when `srs` is
/// `None`, put the verifying key into the model and seal it; the proving key is cached, so that the
/// first prove does not make it.
pub fn with_keys(mut model: ModelFile, srs: Option<&SrsRef>) -> Result<ModelFile, CompileError> {
    let params = match srs {
        Some(srs) => circuits::proof::ProofParams::Kzg(store::load(srs, model.k)?.0),
        None => circuits::proof::ProofParams::Ipa(circuits::setup::ipa::load(model.k)?.0),
    };
    // The proving key goes straight to a temporary file in the key cache, named once the model's
    // digest (which covers the key's) is known.
    let dir = crate::prove::pk_dir()?;
    let cache_error = |source| KeyError::Cache {
        path: dir.clone(),
        source,
    };
    let mut tmp = store::temporary_in(&dir).map_err(cache_error)?;
    let written = circuits::keys::attach_keys(&mut model, srs.cloned(), &params, tmp.as_file_mut());
    written.map_err(|e| match e {
        KeyError::Write { source } => cache_error(source),
        e => e,
    })?;
    let model = model.seal();
    let path = crate::prove::pk_path(&model)?;
    tmp.persist(&path).map_err(|e| KeyError::Cache {
        path,
        source: e.error,
    })?;
    let label = crate::key_cache::KeyLabel {
        model: model.name.clone(),
        k: model.k,
    };
    // Best effort: a key without its label is listed without its model's name.
    let _ = crate::key_cache::KeyCache::at(dir).write_label(&model.digest, &label);
    Ok(model)
}

fn file_name(p: &Path) -> String {
    p.file_name()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| p.display().to_string())
}
