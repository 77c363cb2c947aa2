//! zkbench: median timings of compile, key generation, prove and verify on a model.
//!
//! ```text
//! cargo run --release -p zkinfer-benches --bin zkbench -- [--threads N] [--runs R] [--layout P,W] [--precision BITS] [--input VIS] [--output VIS] [--commitment kzg|ipa] [MODEL.onnx CALIBRATION.json INPUT.json]
//! ```
//! Defaults to the bundled digits MLP, on the development SRS (made once if absent, not counted).
//! `compile_s` includes key generation; `load_s` is a prover's start (SRS file read and checked,
//! proving key read from the cache); verify is measured as a user runs it: model and proof read from
//! disk, verifying key read from the model, proof checked.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result};
use circuits::{ModelFile, Visibilities, Visibility};
use prover::{compile_model, CompileOptions, Prover};
use verifier::{verify_bundle_with, ProofBundle};

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).expect("no NaN"));
    v[v.len() / 2]
}

fn time<T>(f: impl FnOnce() -> Result<T>) -> Result<(T, f64)> {
    let t = Instant::now();
    let r = f()?;
    Ok((r, t.elapsed().as_secs_f64()))
}

const USAGE: &str =
    "zkbench: median timings of compile, key generation, prove and verify on a model

usage: zkbench [--threads N] [--runs R] [--layout P,W] [--precision BITS]
               [--input public|hashed|private] [--output public|hashed] [--commitment kzg|ipa]
               [MODEL.onnx CALIBRATION.json INPUT.json]

Without a model: the bundled digits MLP. Runs on the development SRS (made once if absent).
Prints one JSON object (medians of R runs, default 5).

example: cargo run --release -p zkinfer-benches --bin zkbench -- --runs 3 --layout 5,16 \\
           fixtures/lenet5.onnx fixtures/lenet5/calibration.json fixtures/lenet5/input_0.json";

const FLAGS: &[&str] = &[
    "--threads",
    "--runs",
    "--layout",
    "--precision",
    "--input",
    "--output",
    "--commitment",
];

fn main() -> Result<()> {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    zkinfer_benches::check_args(&args, FLAGS, USAGE);
    let mut take = |flag: &str| -> Option<String> {
        let i = args.iter().position(|a| a == flag)?;
        args.remove(i);
        if i == args.len() {
            eprintln!("error: {flag} needs a value\n\n{USAGE}");
            std::process::exit(2);
        }
        Some(args.remove(i))
    };
    let threads: Option<usize> = take("--threads").map(|v| v.parse()).transpose()?;
    let runs: usize = take("--runs").map(|v| v.parse()).transpose()?.unwrap_or(5);
    let shape: Option<(usize, usize)> = match take("--layout") {
        Some(v) => {
            let (p, w) = v.split_once(',').context("--layout P,W")?;
            Some((p.parse()?, w.parse()?))
        }
        None => None,
    };
    let precision: Option<u32> = take("--precision").map(|v| v.parse()).transpose()?;
    let commitment = match take("--commitment").as_deref() {
        None | Some("kzg") => circuits::artifacts::model_file::Commitment::Kzg,
        Some("ipa") => circuits::artifacts::model_file::Commitment::Ipa,
        Some(other) => anyhow::bail!("--commitment '{other}': kzg or ipa"),
    };
    let vis_of = |v: Option<String>| -> Result<Visibility> {
        Ok(match v.as_deref() {
            None | Some("public") => Visibility::Public,
            Some("hashed") => Visibility::Hashed,
            Some("private") => Visibility::Private,
            Some(other) => anyhow::bail!("visibility '{other}': public, hashed or private"),
        })
    };
    let visibility = Visibilities::new(
        vis_of(take("--input"))?,
        vis_of(take("--output"))?,
        Visibility::Public,
        false,
    )?;
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fixtures");
    let (onnx, calibration, input) = match args.as_slice() {
        [m, c, i] => (PathBuf::from(m), PathBuf::from(c), PathBuf::from(i)),
        [] => (
            root.join("digits_mlp.onnx"),
            root.join("digits/calibration.json"),
            root.join("digits/input_0.json"),
        ),
        _ => {
            eprintln!("error: expected a model, its calibration and an input, or none\n\n{USAGE}");
            std::process::exit(2);
        }
    };
    if let Some(n) = threads {
        rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .build_global()?;
    }
    let threads = rayon::current_num_threads();
    let x = circuits::artifacts::input::parse_input(&std::fs::read_to_string(&input)?)?;
    let opts = CompileOptions {
        srs: circuits::setup::srs::SrsRef::dev(),
        commitment,
        onnx: onnx.clone(),
        calibration: Some(calibration),
        visibility,
        layout: circuits::quantize::LayoutRequest {
            shape,
            min_limb_bits: precision,
            ..Default::default()
        },
    };
    // Warm-up: the SRS file is made and cached by the first compile.
    let (model, plan) = compile_model(&opts)?;
    let dir = tempfile_dir()?;
    let model_path = dir.join("model.zkm");
    let proof_path = dir.join("proof.zkp");
    std::fs::write(&model_path, model.to_json())?;

    let (mut compile, mut load, mut prove, mut total, mut verify) =
        (vec![], vec![], vec![], vec![], vec![]);
    let mut proof_len = 0;
    for _ in 0..runs {
        compile.push(time(|| Ok(compile_model(&opts)?))?.1);
        let (prover, lt) = time(|| Ok(Prover::new(&model)?))?;
        let (bundle, pt) = time(|| Ok(prover.prove(&x)?))?;
        load.push(lt);
        prove.push(pt);
        total.push(lt + pt);
        proof_len = bundle.proof_bytes()?.len();
        std::fs::write(&proof_path, bundle.to_json_pretty())?;
        let (valid, vt) = time(|| {
            let m = ModelFile::read(&model_path)?;
            let b = ProofBundle::read(&proof_path)?;
            Ok(verify_bundle_with(&b, &m, true)?.valid)
        })?;
        anyhow::ensure!(valid, "proof did not verify");
        verify.push(vt);
    }
    let report = serde_json::json!({
        "model": onnx.file_name().map(|s| s.to_string_lossy().into_owned()),
        "threads": threads, "runs": runs, "k": model.k, "rows": plan.rows, "shape": plan.shape, "estimate": plan.estimate,
        "commitment": format!("{commitment:?}"), "advice_cells_per_mac": plan.advice_cells_per_mac, "proof_bytes": proof_len,
        "compile_s": median(compile), "load_s": median(load), "prove_s": median(prove),
        "load_plus_prove_s": median(total), "verify_s": median(verify),
    });
    println!("{}", serde_json::to_string_pretty(&report)?);
    std::fs::remove_dir_all(&dir).ok();
    Ok(())
}

fn tempfile_dir() -> Result<PathBuf> {
    let d = std::env::temp_dir().join(format!("zkbench-{}", std::process::id()));
    std::fs::create_dir_all(&d).context("temp dir")?;
    Ok(d)
}
