//! What each fuzz target does with one input. Every function must return, whatever the input, without
//! panicking and in time and memory bounded by the input's size and the readers' own limits; the
//! assertions are properties every input that reads must have.

use std::sync::OnceLock;

use circuits::artifacts::input::{parse_input, parse_samples};
use circuits::artifacts::model_file::{ModelFile, ModelFileError};
use circuits::circuit::TensorClaim;
use circuits::disclosure::Disclosure;
use circuits::plan;
use circuits::qgraph::{QOp, QuantGraph};
use verifier::bundle::{ProofBundle, ProverInfo, PublicTensor, PublicValues, PROOF_FORMAT};
use verifier::report::{render, ReportFormat, ReportPaths};
use verifier::verify::claims_verdict;

/// Largest tensor, and most multiply-accumulates, for which the checks go on to run inference (so
/// that one execution stays fast).
const SMALL: usize = 1 << 16;

/// The digits MLP (a committed seed): bundles are checked against it and inputs run through it.
pub fn digits_model() -> &'static ModelFile {
    static MODEL: OnceLock<ModelFile> = OnceLock::new();
    MODEL.get_or_init(|| {
        let bytes = include_bytes!("../seeds/model_reader/digits_mlp.zkm");
        ModelFile::from_bytes(bytes, "digits_mlp.zkm").expect("the seed model reads")
    })
}

/// A proof file: read it; one that reads must survive a write and read, then its claims are checked
/// against the digits model and a report is rendered (what `zkinfer verify` and `zkinfer report` do
/// before the proof itself is checked).
pub fn bundle(data: &[u8]) {
    let Ok(b) = ProofBundle::from_bytes(data, "fuzz.zkp") else {
        return;
    };
    assert!(
        b.proof_bytes().is_ok(),
        "a bundle that reads has a base64 proof"
    );
    let again = ProofBundle::from_bytes(&b.to_json_pretty(), "again.zkp");
    assert_eq!(
        again.ok().as_ref(),
        Some(&b),
        "a bundle reads back as written"
    );
    let model = digits_model();
    let (verdict, _) = claims_verdict(&b, model);
    let paths = ReportPaths {
        proof: "fuzz.zkp",
        model: "digits_mlp.zkm",
    };
    for format in [ReportFormat::Html, ReportFormat::Markdown] {
        render(&b, model, &verdict, &paths, b.prover.created_unix, format);
    }
}

/// A model file: read it. Validation comes before the digest check, and anyone can recompute a
/// digest, so a model refused only for its digest is treated as if its author had sealed it: its
/// sizes are read, a zero input is quantized (and, for a small model, run), and a bundle claiming
/// those public values must pass the verifier's claims check.
pub fn model(data: &[u8]) {
    let m = match ModelFile::from_bytes(data, "fuzz.zkm") {
        Ok(m) => m,
        Err(ModelFileError::Digest { .. }) => {
            serde_json::from_slice(data).expect("a model refused for its digest parses")
        }
        Err(_) => return,
    };
    // The verifier's key reader refuses a hostile key with an error (it panics on none).
    let _ = m.verifier_key();
    let g = &m.graph;
    let _ = (g.function_table().len(), m.report.to_string());
    if g.input_len() > SMALL || g.output_len() > SMALL {
        return;
    }
    let input = g
        .quantize_input(&vec![0.0; g.input_len()])
        .expect("zero is a valid input value");
    let output = match small(g) {
        true => {
            rows_bound_holds(&m);
            g.eval(&input).ok().map(|t| t.output().to_vec())
        }
        false => None,
    };
    let output = output.unwrap_or_else(|| vec![0; g.output_len()]);
    let b = claiming(&m, &input, &output);
    let (verdict, proof) = claims_verdict(&b, &m);
    assert_eq!(
        verdict.reason, None,
        "consistent public values pass the claims"
    );
    assert!(proof.is_some());
}

/// The rows validation counts before lowering are at most the rows of the layout.
fn rows_bound_holds(m: &ModelFile) {
    let g = &m.graph;
    let plan = plan::plan_with(g, m.shape.inputs_per_row, m.shape.width);
    let plan = plan.expect("a valid model has a layout");
    let mut prev: Option<&QOp> = None;
    let mut bound = 0;
    for l in &g.layers {
        // As the model check counts: a requantization after a sum takes its link rows (a table
        // sum's, its own row).
        let fused = prev.is_some_and(|p| p.is_sum());
        bound += plan::min_rows(&l.op, l.out_shape.numel(), fused);
        prev = Some(&l.op);
    }
    assert!(
        bound <= plan.rows,
        "{bound} rows counted, {} laid out",
        plan.rows
    );
}

/// Whether inference on `g` is cheap enough to run on every execution.
fn small(g: &QuantGraph) -> bool {
    let elements = g.layers.iter().map(|l| l.out_shape.numel());
    g.input_len() <= SMALL && elements.sum::<usize>() <= SMALL && g.macs() <= SMALL
}

/// A bundle for `m` claiming `input` and `output` (and a proof that is not checked).
fn claiming(m: &ModelFile, input: &[i64], output: &[i64]) -> ProofBundle {
    let g = &m.graph;
    let disclosure = Disclosure::new(g, m.visibility);
    let (in_packing, out_packing) = (disclosure.input_packing, disclosure.output_packing);
    let claim = |vis, packing, values: &[i64]| {
        TensorClaim::of(vis, packing, values).expect("zero inputs and plain outputs hash")
    };
    let input = claim(m.visibility.input.kind(), in_packing, input);
    let output = claim(m.visibility.output.kind(), out_packing, output);
    ProofBundle {
        format: PROOF_FORMAT.into(),
        model_digest: m.digest.clone(),
        model_name: m.name.clone(),
        k: m.k,
        visibility: m.visibility,
        public: PublicValues {
            input: PublicTensor::claiming(&g.input_shape, g.input_scale, &input, &|q| {
                g.dequantize_input(q)
            }),
            output: PublicTensor::claiming(g.output_shape(), g.output_scale(), &output, &|q| {
                g.dequantize_output(q)
            }),
            weights_hash: m.weights_hash.clone(),
        },
        proof: String::new(),
        prover: ProverInfo {
            tool: "fuzz".into(),
            version: String::new(),
            threads: 1,
            params_s: 0.0,
            keygen_s: 0.0,
            witness_s: 0.0,
            prove_s: 0.0,
            created_unix: 0,
        },
    }
}

/// An input or calibration file: parse it both ways; what parses is finite and non-empty, and is
/// quantized for and run through the digits model (what `zkinfer run` does first).
pub fn input(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let g = &digits_model().graph;
    if let Ok(x) = parse_input(text) {
        run(g, &x);
    }
    if let Ok(samples) = parse_samples(text) {
        assert!(!samples.is_empty(), "a calibration set has samples");
        for s in &samples {
            run(g, s);
        }
    }
}

fn run(g: &QuantGraph, x: &[f64]) {
    assert!(!x.is_empty(), "an input has values");
    assert!(x.iter().all(|v| v.is_finite()), "input values are finite");
    if let Ok(q) = g.quantize_input(x) {
        let _ = g.eval(&q);
    }
}
