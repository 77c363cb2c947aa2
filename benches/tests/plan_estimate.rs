//! `zkinfer plan`'s estimates (key generation, proving, verification time, peak memory) checked against
//! measurements on the bundled models, with generous bounds: the estimate may be off by a few times
//! (machines and loads differ), but it must never drift silently by an order of magnitude.
//!
//! The bounds hold on the reference machine kind (2 cores) and on larger ones; times are medians of
//! three, taken in this one test so that nothing else runs in the process meanwhile.

use std::path::PathBuf;
use std::time::Instant;

use circuits::plan::{Estimate, Plan};
use circuits::{ModelFile, Visibilities};
use prover::{compile_model, CompileOptions, Prover};
use verifier::verify_bundle_with;

/// How far a measured time may lie from its estimate, either way.
const TIME_FACTOR: f64 = 6.0;
/// How far the measured peak memory may lie from its estimate, either way (the process's own
/// baseline and allocator slack included).
const MEMORY_FACTOR: f64 = 3.0;

fn fixture(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures")
        .join(rel)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).expect("no NaN"));
    v[v.len() / 2]
}

/// The process's peak resident memory so far, in MiB (Linux).
fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

struct Measured {
    keygen_s: f64,
    prove_s: f64,
    verify_s: f64,
}

fn compile(onnx: &str, calibration: &str) -> (ModelFile, Plan) {
    let opts = CompileOptions {
        srs: circuits::setup::srs::SrsRef::dev(),
        commitment: circuits::artifacts::model_file::Commitment::Kzg,
        onnx: fixture(onnx),
        calibration: Some(fixture(calibration)),
        visibility: Visibilities::default(),
        layout: Default::default(),
    };
    compile_model(&opts).expect("the fixture compiles")
}

fn measure(model: &ModelFile, input: &str, runs: usize) -> Measured {
    let text = std::fs::read_to_string(fixture(input)).expect("input fixture");
    let x = circuits::artifacts::input::parse_input(&text).expect("input parses");
    // The SRS comes from the cache, as in the estimate (made by compile, outside the timing).
    let (params, _) =
        circuits::setup::store::load_params(&model.proof_system, model.k).expect("the SRS");
    let (mut keygen, mut prove, mut verify) = (vec![], vec![], vec![]);
    for _ in 0..runs {
        // Key generation, as compile runs it.
        let t = Instant::now();
        let (g, vis, shape) = (&model.graph, model.visibility, model.shape);
        drop(circuits::keys::make_keys(&params, g, vis, shape).expect("keys"));
        keygen.push(t.elapsed().as_secs_f64());
        let prover = Prover::new(model).expect("keys");
        let t = Instant::now();
        let bundle = prover.prove(&x).expect("proof");
        prove.push(t.elapsed().as_secs_f64());
        drop(prover);
        let t = Instant::now();
        let verdict = verify_bundle_with(&bundle, model, true).expect("verifiable");
        verify.push(t.elapsed().as_secs_f64());
        assert!(verdict.valid, "{:?}", verdict.reason);
    }
    Measured {
        keygen_s: median(keygen),
        prove_s: median(prove),
        verify_s: median(verify),
    }
}

fn within(what: &str, measured: f64, estimated: f64, factor: f64) {
    let ratio = measured / estimated;
    println!("{what}: measured {measured:.3}, estimated {estimated:.3} (x{ratio:.2})");
    assert!(
        (1.0 / factor..=factor).contains(&ratio),
        "{what}: measured {measured:.3}, estimated {estimated:.3}: off by more than {factor}x"
    );
}

fn check_times(name: &str, e: &Estimate, m: &Measured) {
    within(
        &format!("{name} keygen s"),
        m.keygen_s,
        e.keygen_s,
        TIME_FACTOR,
    );
    within(
        &format!("{name} prove s"),
        m.prove_s,
        e.prove_s,
        TIME_FACTOR,
    );
    within(
        &format!("{name} verify s"),
        m.verify_s,
        e.verify_s,
        TIME_FACTOR,
    );
}

#[test]
fn plan_estimates_match_measurements() {
    // LeNet-5 last: the largest, so the process's peak memory is its proof's.
    let models = [
        (
            "digits MLP",
            "digits_mlp.onnx",
            "digits/calibration.json",
            "digits/input_0.json",
            3,
        ),
        (
            "digits CNN",
            "digits_cnn.onnx",
            "digits/calibration.json",
            "digits_cnn/input_0.json",
            3,
        ),
        (
            "LeNet-5",
            "lenet5.onnx",
            "lenet5/calibration.json",
            "lenet5/input_0.json",
            1,
        ),
    ];
    let mut last = None;
    for (name, onnx, calibration, input, runs) in models {
        let (model, plan) = compile(onnx, calibration);
        check_times(name, &plan.estimate, &measure(&model, input, runs));
        last = Some((name, plan));
    }
    let (name, plan) = last.expect("models listed");
    // Its keys are made in this process too: the peak is the larger of key generation's and
    // proving's.
    let e = &plan.estimate;
    if let Some(peak) = peak_rss_mib() {
        within(
            &format!("{name} peak MiB"),
            peak,
            e.peak_mib.max(e.keygen_peak_mib),
            MEMORY_FACTOR,
        );
    }
}
