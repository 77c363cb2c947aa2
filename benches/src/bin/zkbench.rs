//! zkbench: median timings of compile, key generation, prove and verify on a model.
//!
//! ```text
//! cargo run --release -p zkinfer-benches --bin zkbench -- [--threads N] [--runs R] [--layout P,W] [--precision BITS] [--input VIS] [--output VIS] [MODEL.onnx CALIBRATION.json INPUT.json]
//! ```
//! Defaults to the bundled digits MLP. Setup parameters come from the on-disk cache (made once if
//! absent, not counted). Verify is measured as a user runs it: model and proof read from disk,
//! parameters loaded, verifying key rebuilt, proof checked.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result};
use halo2_proofs::{pasta::EqAffine, plonk::keygen_vk};

use circuits::setup::params_cache;
use circuits::{with_shape, InferenceCircuit, ModelFile, Visibilities, Visibility};
use prover::{compile_model, CompileOptions, Prover};
use verifier::{verify_bundle, ProofBundle};

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).expect("no NaN"));
    v[v.len() / 2]
}

fn time<T>(f: impl FnOnce() -> Result<T>) -> Result<(T, f64)> {
    let t = Instant::now();
    let r = f()?;
    Ok((r, t.elapsed().as_secs_f64()))
}

fn main() -> Result<()> {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let mut take = |flag: &str| -> Option<String> {
        let i = args.iter().position(|a| a == flag)?;
        args.remove(i);
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
    let vis_of = |v: Option<String>| -> Result<Visibility> {
        Ok(match v.as_deref() {
            None | Some("public") => Visibility::Public,
            Some("hashed") => Visibility::Hashed,
            Some("private") => Visibility::Private,
            Some(other) => anyhow::bail!("visibility '{other}': public, hashed or private"),
        })
    };
    let visibility = Visibilities {
        input: vis_of(take("--input"))?,
        output: vis_of(take("--output"))?,
        weights: Visibility::Public,
        input_salted: false,
    };
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fixtures");
    let (onnx, calibration, input) = match args.as_slice() {
        [m, c, i] => (PathBuf::from(m), PathBuf::from(c), PathBuf::from(i)),
        [] => (
            root.join("digits_mlp.onnx"),
            root.join("digits/calibration.json"),
            root.join("digits/input_0.json"),
        ),
        _ => anyhow::bail!(
            "usage: zkbench [--threads N] [--runs R] [--layout P,W] [--precision BITS] [--input public|hashed|private] [--output public|hashed] [MODEL.onnx CALIBRATION.json INPUT.json]"
        ),
    };
    if let Some(n) = threads {
        rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .build_global()?;
    }
    let threads = rayon::current_num_threads();
    let x = circuits::artifacts::input::parse_input(&std::fs::read_to_string(&input)?)?;
    let opts = CompileOptions {
        onnx: onnx.clone(),
        calibration: Some(calibration),
        visibility,
        layout: circuits::quantize::LayoutRequest {
            shape,
            min_limb_bits: precision,
            ..Default::default()
        },
    };
    // Warm-up: make sure the setup parameters are cached.
    let (model, plan) = compile_model(&opts)?;
    params_cache::load_or_create(model.k, |_, _| {})?;
    let dir = tempfile_dir()?;
    let model_path = dir.join("model.zkm");
    let proof_path = dir.join("proof.zkp");
    std::fs::write(&model_path, model.to_json())?;

    let (mut compile, mut keygen, mut prove, mut total, mut verify, mut vk) =
        (vec![], vec![], vec![], vec![], vec![], vec![]);
    let mut vk1 = vec![];
    let mut proof_len = 0;
    for _ in 0..runs {
        compile.push(time(|| Ok(compile_model(&opts)?))?.1);
        let (prover, kt) = time(|| Ok(Prover::new(&model)?))?;
        let (bundle, pt) = time(|| Ok(prover.prove(&x)?))?;
        keygen.push(kt);
        prove.push(pt);
        total.push(kt + pt);
        proof_len = bundle.proof_bytes()?.len();
        std::fs::write(&proof_path, bundle.to_json_pretty())?;
        let (valid, vt) = time(|| {
            let m = ModelFile::read(&model_path)?;
            let b = ProofBundle::read(&proof_path)?;
            Ok(verify_bundle(&b, &m)?.valid)
        })?;
        anyhow::ensure!(valid, "proof did not verify");
        verify.push(vt);
        let (params, _) = params_cache::load_or_create(model.k, |_, _| {})?;
        let circuit = InferenceCircuit::with_visibility(&model.graph, model.visibility, None);
        let rebuild_vk = || {
            with_shape(model.shape, || keygen_vk::<EqAffine, _>(&params, &circuit))
                .map_err(|e| anyhow::anyhow!("{e:?}"))
        };
        vk.push(time(rebuild_vk)?.1);
        let pool1 = rayon::ThreadPoolBuilder::new().num_threads(1).build()?;
        vk1.push(time(|| pool1.install(rebuild_vk))?.1);
    }
    let report = serde_json::json!({
        "model": onnx.file_name().map(|s| s.to_string_lossy().into_owned()),
        "threads": threads, "runs": runs, "k": model.k, "rows": plan.rows, "shape": plan.shape, "estimate": plan.estimate,
        "advice_cells_per_mac": plan.advice_cells_per_mac, "proof_bytes": proof_len,
        "compile_s": median(compile), "keygen_s": median(keygen), "prove_s": median(prove),
        "keygen_plus_prove_s": median(total), "verify_s": median(verify), "keygen_vk_s": median(vk), "keygen_vk_1thread_s": median(vk1),
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
