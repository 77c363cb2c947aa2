//! What a VALID verdict rests on, tried as an attacker would: planted setup parameters, a model
//! changed around an honest proof, bundles with extra or malformed fields.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use halo2_proofs::{
    pasta::{
        group::{Curve, CurveAffine, GroupEncoding},
        EqAffine, Fp,
    },
    plonk::{create_proof, keygen_pk, keygen_vk, verify_proof, SingleVerifier, VerifyingKey},
    poly::commitment::Params,
    transcript::{Blake2bRead, Blake2bWrite, Challenge255},
};
use serde_json::Value;

use circuits::qgraph::QOp;
use circuits::{public_inputs, with_shape, InferenceCircuit, ModelFile};
use common::{compile, fixture, json, ok, prove, s, text, write_json, zkinfer, zkinfer_in};

fn zkinfer_verify(args: &[&str]) -> Output {
    let mut all = vec!["verify"];
    all.extend_from_slice(args);
    zkinfer(&all)
}

fn top_class(v: &[i64]) -> usize {
    (0..v.len()).max_by_key(|i| v[*i]).unwrap()
}

/// Setup parameters whose generators have known discrete logs: every Lagrange-basis generator is
/// the group generator G (so a commitment is the sum of the committed values times G), and the
/// coefficient basis is consistent with it (n·G, then the identity). Blinding generators stay honest.
fn planted_params(k: u32) -> Vec<u8> {
    let n = 1u64 << k;
    let mut honest = Vec::new();
    Params::<EqAffine>::new(k).write(&mut honest).unwrap();
    let g = EqAffine::generator();
    let ng = (g * Fp::from(n)).to_affine();
    let mut bytes = k.to_le_bytes().to_vec();
    bytes.extend_from_slice(ng.to_bytes().as_ref());
    for _ in 1..n {
        bytes.extend_from_slice(EqAffine::identity().to_bytes().as_ref());
    }
    for _ in 0..n {
        bytes.extend_from_slice(g.to_bytes().as_ref());
    }
    bytes.extend_from_slice(&honest[honest.len() - 64..]);
    assert_eq!(bytes.len(), honest.len());
    bytes
}

fn vk_of(params: &Params<EqAffine>, m: &ModelFile) -> VerifyingKey<EqAffine> {
    let circuit = InferenceCircuit::with_visibility(&m.graph, m.visibility, None);
    with_shape(m.shape, || keygen_vk(params, &circuit)).unwrap()
}

#[test]
fn planted_setup_parameters_are_refused_and_the_forged_proof_fails() {
    let dir = tempfile::tempdir().unwrap();
    let real_path = dir.path().join("real.zkm");
    compile("digits_mlp.onnx", &[], &real_path);
    let real = ModelFile::read(&real_path).unwrap();
    let input = prover::prove::infer(&real, &read_input("digits/input_0.json")).unwrap();
    let honest_class = top_class(input.trace.output());

    // The forger's model: two output biases moved by +d and -d, so that the bias column's sum (all
    // that a planted commitment binds) is unchanged, and the top class changes.
    let last = real
        .graph
        .layers
        .iter()
        .rposition(|l| matches!(l.op, QOp::Linear { .. }))
        .unwrap();
    let other = (honest_class + 1) % 10;
    let (forged, trace) = (4..40)
        .find_map(|bits| {
            let mut m = real.clone();
            if let QOp::Linear { bias, .. } = &mut m.graph.layers[last].op {
                bias[other] += 1 << bits;
                bias[honest_class] -= 1 << bits;
            }
            let trace = m.graph.eval(&input.input).ok()?;
            (top_class(trace.output()) == other).then_some((m.seal(), trace))
        })
        .expect("a bias shift that changes the top class");

    // With the planted parameters both models have the same verifying key, so an honest proof of
    // the forger's model verifies against the real one: the attack the pin stops.
    let planted_bytes = planted_params(real.k);
    let planted = Params::<EqAffine>::read(&mut &planted_bytes[..]).unwrap();
    let vk_real = vk_of(&planted, &real);
    assert_eq!(
        format!("{:?}", vk_real.pinned()),
        format!("{:?}", vk_of(&planted, &forged).pinned())
    );
    let instance = public_inputs(&input.input, trace.output());
    let circuit = InferenceCircuit::with_visibility(&forged.graph, forged.visibility, Some(&trace));
    let proof = with_shape(forged.shape, || {
        let vk = keygen_vk(&planted, &circuit).unwrap();
        let pk = keygen_pk(&planted, vk, &circuit).unwrap();
        let mut transcript = Blake2bWrite::<_, EqAffine, Challenge255<_>>::init(vec![]);
        let rng = rand_core::UnwrapErr(rand::rngs::SysRng);
        create_proof(
            &planted,
            &pk,
            &[circuit],
            &[&[&instance]],
            rng,
            &mut transcript,
        )
        .unwrap();
        transcript.finalize()
    });
    let mut transcript = Blake2bRead::<_, EqAffine, Challenge255<_>>::init(&proof[..]);
    verify_proof(
        &planted,
        &vk_real,
        SingleVerifier::new(&planted),
        &[&[&instance]],
        &mut transcript,
    )
    .expect("under planted parameters the forged proof verifies against the real model");

    // The forged bundle: an honest bundle of the real model with the forger's outputs and proof.
    let honest = dir.path().join("honest.zkp");
    ok(prove(&real_path, "digits/input_0.json", &honest, &[]));
    let mut bundle = json(&honest);
    let out_scale = real.graph.output_scale();
    let outputs = trace.output();
    bundle["public"]["output"]["quantized"] = serde_json::json!(outputs);
    bundle["public"]["output"]["values"] = serde_json::json!(outputs
        .iter()
        .map(|q| circuits::qgraph::dequantize(*q, out_scale))
        .collect::<Vec<_>>());
    bundle["proof"] = Value::String(verifier::ProofBundle::encode_proof(&proof));
    let forged_path = dir.path().join("forged.zkp");
    write_json(&forged_path, &bundle);

    // `zkinfer verify` with the planted file in its cache: the file is not the pinned one, so it is
    // made again (and replaced), and the forged proof is invalid.
    let cache = tempfile::tempdir().unwrap();
    let file = cache.path().join(format!("ipa-pasta-k{}.params", real.k));
    std::fs::write(&file, &planted_bytes).unwrap();
    let o = zkinfer_in(
        cache.path(),
        &["verify", s(&forged_path), "-m", s(&real_path)],
    );
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("INVALID"), "{}", text(&o));
    assert!(text(&o).contains("not the pinned ones"), "{}", text(&o));
    let replaced = std::fs::read(&file).unwrap();
    assert_eq!(
        circuits::setup::params_cache::digest(&replaced),
        circuits::setup::params_cache::pinned(real.k).unwrap()
    );
    // And the honest proof still verifies with the replaced file.
    ok(zkinfer_in(
        cache.path(),
        &["verify", s(&honest), "-m", s(&real_path)],
    ));

    // The prover does not use a planted file either.
    std::fs::write(&file, &planted_bytes).unwrap();
    let o = zkinfer_in(
        cache.path(),
        &[
            "prove",
            "-m",
            s(&real_path),
            "-i",
            s(&fixture("digits/input_0.json")),
            "-o",
            s(&dir.path().join("again.zkp")),
        ],
    );
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("not the pinned ones"), "{}", text(&o));
    assert_eq!(std::fs::read(&file).unwrap(), replaced);
}

fn read_input(rel: &str) -> Vec<f64> {
    let text = std::fs::read_to_string(fixture(rel)).unwrap();
    circuits::artifacts::input::parse_input(&text).unwrap()
}

#[test]
fn without_home_a_cache_directory_must_be_named_and_it_is_owner_only() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("m.zkm");
    compile("digits_mlp.onnx", &[], &model);
    // `zkinfer prove` without HOME (nor XDG_CACHE_HOME), with `cache` as ZKINFER_CACHE_DIR if any.
    let proof = dir.path().join("p.zkp");
    let prove_without_home = |cache: Option<&Path>| {
        let input = fixture("digits/input_0.json");
        let mut c = Command::new(env!("CARGO_BIN_EXE_zkinfer"));
        c.args(["prove", "-m", s(&model), "-i", s(&input), "-o", s(&proof)])
            .env_remove("HOME")
            .env_remove("XDG_CACHE_HOME");
        match cache {
            Some(dir) => c.env("ZKINFER_CACHE_DIR", dir),
            None => c.env_remove("ZKINFER_CACHE_DIR"),
        };
        c.output().unwrap()
    };
    let o = prove_without_home(None);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("ZKINFER_CACHE_DIR"), "{}", text(&o));
    assert!(!proof.exists());

    let cache = dir.path().join("new").join("cache");
    let o = prove_without_home(Some(&cache));
    assert!(o.status.success(), "{}", text(&o));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&cache).unwrap().permissions().mode();
        assert_eq!(
            mode & 0o077,
            0,
            "the cache directory is owner-only: {mode:o}"
        );
    }
}

/// A hashed-weights model, its stripped copy, and an honest proof: what the owner publishes.
struct Published {
    dir: tempfile::TempDir,
    full: PathBuf,
    stripped: PathBuf,
    proof: PathBuf,
    digest: String,
    weights_hash: String,
}

fn published() -> Published {
    let dir = tempfile::tempdir().unwrap();
    let full = dir.path().join("m.zkm");
    compile(
        "digits_mlp.onnx",
        &["--input", "hashed", "--weights", "hashed"],
        &full,
    );
    let stripped = dir.path().join("m.pub.zkm");
    ok(zkinfer(&["strip", s(&full), "-o", s(&stripped)]));
    let proof = dir.path().join("p.zkp");
    ok(prove(&full, "digits/input_0.json", &proof, &[]));
    let m = json(&stripped);
    Published {
        digest: m["digest"].as_str().unwrap().into(),
        weights_hash: m["weights_hash"].as_str().unwrap().into(),
        dir,
        full,
        stripped,
        proof,
    }
}

/// `edit` applied to a model file, re-sealed (a new digest), written beside it.
fn resealed(model: &Path, name: &str, edit: impl FnOnce(&mut ModelFile)) -> PathBuf {
    let mut m = ModelFile::read(model).unwrap();
    edit(&mut m);
    let m = m.seal();
    let path = model.with_file_name(name);
    std::fs::write(&path, m.to_json()).unwrap();
    path
}

#[test]
fn a_pinned_model_digest_refuses_a_changed_output_scale_and_a_removed_relu() {
    let p = published();
    let (d, h) = (p.digest.as_str(), p.weights_hash.as_str());
    // The owner's digest: VALID, and printed in full.
    let o = zkinfer_verify(&[s(&p.proof), "-m", s(&p.stripped), "--model-digest", d]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains(d),
        "the full digest is shown: {}",
        text(&o)
    );

    // 1. The stripped model with a smaller output scale: the honest proof verifies with the right
    // weights hash (outputs 32x larger), but not against the published digest.
    let scaled = resealed(&p.stripped, "scaled.pub.zkm", |m| {
        let last = m.graph.layers.last_mut().unwrap();
        last.out_scale -= 5;
    });
    // The bundle names the model it is about, and its outputs' scale: the attacker names the
    // re-sealed model and its scale.
    let mut bundle = json(&p.proof);
    bundle["model_digest"] = json(&scaled)["digest"].clone();
    let scale = ModelFile::read(&scaled).unwrap().graph.output_scale();
    let out = &mut bundle["public"]["output"];
    let values: Vec<f64> = out["quantized"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| circuits::qgraph::dequantize(q.as_i64().unwrap(), scale))
        .collect();
    out["scale"] = scale.into();
    out["values"] = serde_json::json!(values);
    let proof = p.dir.path().join("scaled.zkp");
    write_json(&proof, &bundle);
    let o = zkinfer_verify(&[s(&proof), "-m", s(&scaled), "--weights-hash", h]);
    assert!(
        o.status.success(),
        "the weights hash alone does not see it: {}",
        text(&o)
    );
    let o = zkinfer_verify(&[s(&proof), "-m", s(&scaled), "--model-digest", d]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        text(&o).contains(&format!("not the expected {d}")),
        "{}",
        text(&o)
    );

    // 2. A model with a ReLU removed proves and verifies with the same weights hash, but not
    // against the published digest.
    let no_relu = |m: &mut ModelFile| {
        let relu = m
            .graph
            .layers
            .iter_mut()
            .find_map(|l| match &mut l.op {
                QOp::Rescale { relu, .. } if *relu => Some(relu),
                _ => None,
            })
            .expect("the MLP has a ReLU");
        *relu = false;
    };
    let full = resealed(&p.full, "norelu.zkm", no_relu);
    let stripped = p.dir.path().join("norelu.pub.zkm");
    ok(zkinfer(&["strip", s(&full), "-o", s(&stripped)]));
    let proof = p.dir.path().join("norelu.zkp");
    ok(prove(&full, "digits/input_0.json", &proof, &[]));
    ok(zkinfer_verify(&[
        s(&proof),
        "-m",
        s(&stripped),
        "--weights-hash",
        h,
    ]));
    let o = zkinfer_verify(&[s(&proof), "-m", s(&stripped), "--model-digest", d]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));

    // Malformed digests are bad usage; a digest given with 0x or in capitals is the same digest.
    let o = zkinfer_verify(&[s(&p.proof), "-m", s(&p.stripped), "--model-digest", "abc"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let upper = format!("0x{}", d.to_uppercase());
    ok(zkinfer_verify(&[
        s(&p.proof),
        "-m",
        s(&p.stripped),
        "--model-digest",
        &upper,
    ]));

    // `inspect` shows the digest to publish, in full.
    let o = Command::new(env!("CARGO_BIN_EXE_zkinfer"))
        .args(["inspect", s(&p.stripped)])
        .output()
        .unwrap();
    assert!(text(&o).contains(d), "inspect shows the full digest");
}

#[test]
fn a_salted_input_hash_is_recomputed_with_its_salt_only() {
    let dir = tempfile::tempdir().unwrap();
    let d = |name: &str| dir.path().join(name);
    let (model, unsalted) = (d("salted.zkm"), d("unsalted.zkm"));
    compile("digits_mlp.onnx", &["--input", "hashed", "--salt"], &model);
    compile("digits_mlp.onnx", &["--input", "hashed"], &unsalted);
    let o = zkinfer(&[
        "compile",
        s(&fixture("digits_mlp.onnx")),
        "--salt",
        "-o",
        s(&d("bad.zkm")),
    ]);
    assert_eq!(o.status.code(), Some(2), "--salt needs a hashed input");

    // No salt given: a new one is written beside the proof, owner-only.
    let proof = d("p.zkp");
    ok(prove(&model, "digits/input_0.json", &proof, &[]));
    let salt = d("p.salt");
    assert!(salt.exists());
    let claimed = json(&proof)["public"]["input"]["hash"]
        .as_str()
        .unwrap()
        .to_string();
    let input = fixture("digits/input_0.json");
    let hash = |extra: &[&str]| {
        let mut args = vec!["hash", s(&input), "-m", s(&model)];
        args.extend_from_slice(extra);
        zkinfer(&args)
    };
    assert_eq!(ok(hash(&["--salt-file", s(&salt)])), claimed);
    assert_eq!(
        hash(&[]).status.code(),
        Some(2),
        "a salted hash needs its salt"
    );
    let unsalted_hash = ok(zkinfer(&["hash", s(&input), "-m", s(&unsalted)]));
    assert_ne!(
        unsalted_hash, claimed,
        "the unsalted hash is not the proof's"
    );
    ok(zkinfer(&[
        "verify",
        s(&proof),
        "-m",
        s(&model),
        "--input-hash",
        &claimed,
    ]));
    let o = zkinfer(&[
        "verify",
        s(&proof),
        "-m",
        s(&model),
        "--input-hash",
        &unsalted_hash,
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));

    // The same salt again: the same public hash. A second proof to the same place would need a
    // new salt file there: refused, and the first salt is kept.
    let again = d("again.zkp");
    ok(prove(
        &model,
        "digits/input_0.json",
        &again,
        &["--salt-file", s(&salt)],
    ));
    assert_eq!(json(&again)["public"]["input"]["hash"], claimed.as_str());
    let before = std::fs::read(&salt).unwrap();
    let o = prove(&model, "digits/input_1.json", &proof, &[]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("exists already"), "{}", text(&o));
    assert_eq!(std::fs::read(&salt).unwrap(), before);
    // A salt for a model that takes none: refused.
    let o = prove(
        &unsalted,
        "digits/input_0.json",
        &d("u.zkp"),
        &["--salt-file", s(&salt)],
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
}
