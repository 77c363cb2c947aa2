//! What a VALID verdict rests on, tried as an attacker would: planted setup parameters, a model
//! changed around an honest proof, bundles with extra or malformed fields.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use circuits::qgraph::{QLinear, QOp, QRescale};
use circuits::setup::srs::{self, SrsRef};
use circuits::ModelFile;
use common::{compile, fixture, json, ok, prove, s, text, write_json, zkinfer, zkinfer_in};

fn zkinfer_verify(args: &[&str]) -> Output {
    let mut all = vec!["verify"];
    all.extend_from_slice(args);
    zkinfer(&all)
}

/// An SRS file for `k` made from another τ (known to whoever planted it), claiming the development
/// SRS's τ·G2: commitments under it would bind nothing.
fn planted_srs(k: u32) -> Vec<u8> {
    use halo2_proofs::halo2curves::bn256::{Bn256, G2Affine};
    use halo2_proofs::poly::commitment::ParamsProver;
    use halo2_proofs::poly::kzg::commitment::ParamsKZG;
    use rand_core::SeedableRng;
    let other = ParamsKZG::<Bn256>::setup(k, rand_chacha::ChaCha20Rng::from_seed([7; 32]));
    let tau_g2 = SrsRef::dev().tau_g2().unwrap();
    let g2 = <G2Affine as group::prime::PrimeCurveAffine>::generator();
    let planted = other.from_parts(k, other.get_g().to_vec(), None, g2, tau_g2);
    srs::params_bytes(&planted)
}

#[test]
fn planted_srs_and_key_files_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let model_path = dir.path().join("m.zkm");
    compile("digits_mlp.onnx", &[], &model_path);
    let model = ModelFile::read(&model_path).unwrap();
    let cache = tempfile::tempdir().unwrap();
    let prove_in_cache = |out: &str| {
        let input = fixture("digits/input_0.json");
        let out = dir.path().join(out);
        zkinfer_in(
            cache.path(),
            &[
                "prove",
                "-m",
                s(&model_path),
                "-i",
                s(&input),
                "-o",
                s(&out),
            ],
        )
    };
    // A planted development-SRS file: the prover checks it, says why it is not that SRS, makes the
    // file again, and the proof verifies.
    let srs_file = circuits::setup::store::params_path(&SrsRef::dev(), model.k)
        .unwrap()
        .strip_prefix(circuits::setup::store::cache_dir().unwrap())
        .unwrap()
        .to_path_buf();
    let srs_file = cache.path().join(srs_file);
    std::fs::create_dir_all(srs_file.parent().unwrap()).unwrap();
    std::fs::write(&srs_file, planted_srs(model.k)).unwrap();
    let o = prove_in_cache("p.zkp");
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("successive powers"), "{}", text(&o));
    assert_ne!(std::fs::read(&srs_file).unwrap(), planted_srs(model.k));
    let proof = dir.path().join("p.zkp");
    ok(zkinfer_verify(&[s(&proof), "-m", s(&model_path)]));

    // A planted proving key (not the digest the model pins): made again and replaced.
    let key = cache
        .path()
        .join("keys")
        .join(format!("{}.pk", model.digest));
    assert!(key.exists(), "the proving key is cached by the first prove");
    let honest_key = std::fs::read(&key).unwrap();
    let mut planted_key = honest_key.clone();
    let mid = planted_key.len() / 2;
    planted_key[mid] ^= 1;
    std::fs::write(&key, &planted_key).unwrap();
    let o = prove_in_cache("q.zkp");
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(std::fs::read(&key).unwrap(), honest_key);
    ok(zkinfer_verify(&[
        s(&dir.path().join("q.zkp")),
        "-m",
        s(&model_path),
    ]));
}

#[test]
fn development_srs_proofs_are_refused_without_the_flag_and_known_srs_points_are_pinned() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("m.zkm");
    compile("digits_mlp.onnx", &[], &model);
    let proof = dir.path().join("p.zkp");
    ok(prove(&model, "digits/input_0.json", &proof, &[]));
    let strict = Command::new(env!("CARGO_BIN_EXE_zkinfer"))
        .args(["verify", s(&proof), "-m", s(&model)])
        .env("ZKINFER_CACHE_DIR", common::shared_cache())
        .env_remove("ZKINFER_ALLOW_DEV_SRS")
        .output()
        .unwrap();
    assert_eq!(strict.status.code(), Some(1), "{}", text(&strict));
    assert!(
        text(&strict).contains("development SRS"),
        "{}",
        text(&strict)
    );
    let allowed = Command::new(env!("CARGO_BIN_EXE_zkinfer"))
        .args(["verify", s(&proof), "-m", s(&model), "--allow-dev-srs"])
        .env_remove("ZKINFER_ALLOW_DEV_SRS")
        .output()
        .unwrap();
    assert!(allowed.status.success(), "{}", text(&allowed));

    // A model that names the Hermez SRS with another τ·G2 (re-sealed) is refused as malformed.
    let mut m = ModelFile::read(&model).unwrap();
    m.proof_system.srs.as_mut().unwrap().name = "hermez".into();
    let m = m.seal();
    let renamed = dir.path().join("renamed.zkm");
    std::fs::write(&renamed, m.to_json()).unwrap();
    let o = zkinfer_verify(&[s(&proof), "-m", s(&renamed)]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("not that SRS's"), "{}", text(&o));

    // `--rebuild-key` audits the stored verifying key: the honest one passes, a swapped one fails.
    ok(zkinfer_verify(&[
        s(&proof),
        "-m",
        s(&model),
        "--rebuild-key",
    ]));
    // The key of the same model with one weight changed, sealed into the model file.
    let mut swapped = ModelFile::read(&model).unwrap();
    let mut other = swapped.graph.clone();
    if let Some(QOp::Linear(QLinear { weight, .. })) =
        other.layers.iter_mut().map(|l| &mut l.op).next()
    {
        weight[0] += 1;
    }
    let params = circuits::proof::ProofParams::Kzg(srs::dev_params(swapped.k));
    let vk = circuits::keys::make_vk(&params, &other, swapped.visibility, swapped.shape).unwrap();
    swapped
        .proof_system
        .set_verifying_key(&circuits::keys::vk_bytes(&vk));
    let swapped = swapped.seal();
    let swapped_path = dir.path().join("swapped.zkm");
    std::fs::write(&swapped_path, swapped.to_json()).unwrap();
    let o = zkinfer_verify(&[s(&proof), "-m", s(&swapped_path), "--rebuild-key"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("verifying key"), "{}", text(&o));
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

/// `edit` applied to a model file, its keys made again and re-sealed (a new digest), written beside
/// it: what anyone can do with a model file.
fn resealed(model: &Path, name: &str, edit: impl FnOnce(&mut ModelFile)) -> PathBuf {
    let mut m = ModelFile::read(model).unwrap();
    edit(&mut m);
    let m = if m.stripped {
        m.seal()
    } else {
        prover::compile::with_keys(m, Some(&SrsRef::dev())).unwrap()
    };
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
                QOp::Rescale(QRescale { relu, .. }) if *relu => Some(relu),
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
