//! Hostile files: the fuzz targets' seeds, every input the fuzzers found (`fuzz/regressions/`) and
//! hand-made hostile inputs go through the fuzz targets' own checks (`fuzz/src/checks.rs`, included
//! here so that this runs on stable): each reader returns Ok or Err, never panics, and refuses what
//! it must with a specific message.

#[path = "../../fuzz/src/checks.rs"]
mod checks;

use std::path::{Path, PathBuf};

use circuits::artifacts::input::{parse_input, parse_samples, InputError};
use circuits::artifacts::model_file::ModelFile;
use serde_json::{json, Value};
use verifier::verify::claims_verdict;
use verifier::ProofBundle;

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz")
}

/// Every file under `fuzz/<kind>/<target>/` (a target without regressions has no folder).
fn files(kind: &str, target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let dir = fuzz_dir().join(kind).join(target);
    if kind == "regressions" && !dir.exists() {
        return Vec::new();
    }
    let mut out: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .map(|p| {
            let bytes = std::fs::read(&p).unwrap();
            (p, bytes)
        })
        .collect();
    out.sort();
    out
}

#[test]
fn seeds_read_and_pass_the_checks() {
    for (path, bytes) in files("seeds", "model_reader") {
        ModelFile::from_bytes(&bytes, "seed").unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        checks::model(&bytes);
    }
    for (path, bytes) in files("seeds", "bundle_reader") {
        ProofBundle::from_bytes(&bytes, "seed")
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        checks::bundle(&bytes);
    }
    for (path, bytes) in files("seeds", "input_reader") {
        let text = std::str::from_utf8(&bytes).unwrap();
        assert!(parse_samples(text).is_ok(), "{}", path.display());
        checks::input(&bytes);
    }
}

#[test]
fn fuzzer_findings_stay_fixed() {
    type Check = fn(&[u8]);
    let targets: [(&str, Check); 3] = [
        ("model_reader", checks::model),
        ("bundle_reader", checks::bundle),
        ("input_reader", checks::input),
    ];
    for (target, check) in targets {
        for (path, bytes) in files("regressions", target) {
            eprintln!("{}", path.display());
            check(&bytes);
        }
    }
}

fn seed(target: &str, name: &str) -> Value {
    let bytes = std::fs::read(fuzz_dir().join("seeds").join(target).join(name)).unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

/// Check `model` as the fuzzer does, then return why the reader refuses it.
fn model_refusal(model: &Value) -> String {
    let bytes = serde_json::to_vec(model).unwrap();
    checks::model(&bytes);
    match ModelFile::from_bytes(&bytes, "hostile.zkm") {
        Ok(_) => panic!("a hostile model was accepted"),
        Err(e) => e.to_string(),
    }
}

/// The digits CNN with its first layer's geometry changed by `edit` (and the output shape made to
/// follow, so that only the geometry is wrong).
fn cnn_with_geometry(edit: impl Fn(&mut Value)) -> Value {
    let mut m = seed("model_reader", "digits_cnn.zkm");
    edit(&mut m["graph"]["layers"][0]["op"]["Conv"]["geom"]);
    m
}

#[test]
fn hostile_models_are_refused_with_a_reason() {
    let m = cnn_with_geometry(|g| g["groups"] = json!(0));
    assert!(model_refusal(&m).contains("zero or too large"));

    let m = cnn_with_geometry(|g| g["dilation"] = json!([0, 1]));
    assert!(model_refusal(&m).contains("stride, dilation or padding"));

    // Padding near 2^63 with a matching stride: index arithmetic would overflow.
    let m = cnn_with_geometry(|g| {
        g["pads"] = json!([1u64 << 63, 1, 1, 1]);
        g["stride"] = json!([1u64 << 48, 1]);
    });
    assert!(model_refusal(&m).contains("stride, dilation or padding"));

    let mut m = seed("model_reader", "digits_mlp.zkm");
    m["graph"]["input_scale"] = json!(64);
    assert!(model_refusal(&m).contains("input scale 2^64 out of range"));
    let mut m = seed("model_reader", "digits_mlp.zkm");
    m["graph"]["layers"][0]["out_scale"] = json!(u32::MAX);
    assert!(model_refusal(&m).contains("out of range"));

    // A max pool whose border windows cover padding only: 1x1 windows, padding 1.
    let mut m = seed("model_reader", "maxpool2d.zkm");
    let layer = &mut m["graph"]["layers"][0];
    let g = &mut layer["op"]["MaxPool"]["geom"];
    g["kernel"] = json!([1, 1]);
    g["stride"] = json!([1, 1]);
    g["out_h"] = json!(9);
    g["out_w"] = json!(9);
    layer["out_shape"] = json!([1, 3, 9, 9]);
    assert!(model_refusal(&m).contains("pooling window over padding only"));

    let mut m = seed("model_reader", "digits_mlp.zkm");
    m["graph"]["input_shape"] = json!([1u64 << 32, 1u64 << 32]);
    assert!(model_refusal(&m).contains("input shape is empty or too large"));

    let mut m = seed("model_reader", "digits_mlp.zkm");
    m["format"] = json!("zkinfer-model/5");
    assert!(model_refusal(&m).contains("newer zkinfer; upgrade"));
    m["format"] = json!("zkinfer-model/1");
    assert!(model_refusal(&m).contains("compile the model again"));
    let mut m = seed("model_reader", "digits_mlp.zkm");
    m["proof_system"]["srs"]["tau_g2"] = json!("00");
    assert!(model_refusal(&m).contains("not that SRS's"));
    m["proof_system"]["srs"]["name"] = json!("mine");
    assert!(model_refusal(&m).contains("not a G2 point"));
    let mut m = seed("model_reader", "digits_mlp.zkm");
    m["proof_system"]["verifying_key"] = json!("xyz");
    assert!(model_refusal(&m).contains("verifying key is not hex"));
}

#[test]
fn malformed_packed_lists_are_refused_while_the_file_is_read() {
    // The digits MLP's first weights, packed as this version writes them, then damaged.
    let mut m = seed("model_reader", "digits_mlp.zkm");
    let weights: circuits::qgraph::packed::PackedInts =
        serde_json::from_value(m["graph"]["layers"][0]["op"]["Linear"]["weight"].clone()).unwrap();
    let packed =
        serde_json::to_value(circuits::qgraph::packed::PackedInts::from(weights.to_vec())).unwrap();
    let text = packed.as_str().unwrap().to_string();
    let weight = |m: &mut Value, v: Value| m["graph"]["layers"][0]["op"]["Linear"]["weight"] = v;
    // Packed intact, the model reads (its digest then differs: refused for that alone).
    weight(&mut m, packed);
    assert!(model_refusal(&m).contains("was modified"));
    for (damaged, why) in [
        (format!("{text}!"), "packed integers"),
        ("gA==".to_string(), "truncated or over-long varint"),
        (
            "////////////Ag==".to_string(),
            "truncated or over-long varint",
        ),
    ] {
        weight(&mut m, json!(damaged));
        let reason = model_refusal(&m);
        assert!(reason.contains(why), "{reason}");
    }
}

/// The digits CNN with one layer: `op` on a `[1, c, h, w]` input, with output shape `out`.
fn one_layer(input: [usize; 4], op: Value, out: Value) -> Value {
    let mut m = seed("model_reader", "digits_cnn.zkm");
    m["graph"]["input_shape"] = json!(input);
    m["graph"]["layers"] = json!([{"name": "huge", "op": op, "out_scale": 0, "out_shape": out}]);
    m
}

fn geometry(c: usize, side: usize, kernel: usize) -> Value {
    let o = side + 1 - kernel;
    json!({"in_c": c, "in_h": side, "in_w": side, "out_c": c, "out_h": o, "out_w": o,
           "kernel": [kernel, kernel], "stride": [1, 1], "pads": [0, 0, 0, 0],
           "dilation": [1, 1], "groups": c})
}

#[test]
fn tiny_models_with_enormous_layouts_are_refused_before_lowering() {
    // 16 weights, 2045 x 2045 outputs: more link rows than k = 20 has.
    let conv = json!({"Conv": {"geom": geometry(1, 2048, 4), "weight_scale": 0,
                               "weight": vec![1; 16], "bias": [0]}});
    let m = one_layer([1, 1, 2048, 2048], conv, json!([1, 1, 2045, 2045]));
    // 8 x 8 windows over 1024 x 1024: 63 pairwise maxima (4 rows each) per output.
    let pool = json!({"MaxPool": {"geom": geometry(1, 1024, 8)}});
    let p = one_layer([1, 1, 1024, 1024], pool, json!([1, 1, 1017, 1017]));
    for m in [m, p] {
        let t = std::time::Instant::now();
        let reason = model_refusal(&m);
        assert!(
            reason.contains("needs at least") && reason.contains("rows"),
            "{reason}"
        );
        assert!(t.elapsed().as_secs() < 5, "took {:?}", t.elapsed());
    }
    // 4093 x 4093 outputs of 16 taps: over the work bound. Before both bounds, reading this 2 KB
    // file lowered the whole convolution: 18 s and 8.4 GB.
    let conv = json!({"Conv": {"geom": geometry(1, 4096, 4), "weight_scale": 0,
                               "weight": vec![1; 16], "bias": [0]}});
    let m = one_layer([1, 1, 4096, 4096], conv, json!([1, 1, 4093, 4093]));
    assert!(model_refusal(&m).contains("multiply-accumulates: too large"));
}

#[test]
fn many_distinct_remap_constants_lower_in_linear_time() {
    let n = 100_000;
    let mut m = seed("model_reader", "constant_pad2d.zkm");
    let map: Vec<Value> = (0..n).map(|i| json!({"Const": i})).collect();
    m["graph"]["input_shape"] = json!([1, 1]);
    m["graph"]["layers"] = json!([{
        "name": "consts", "op": {"Remap": {"map": map}}, "out_scale": 0, "out_shape": [1, n],
    }]);
    let t = std::time::Instant::now();
    // Refused: the file's k does not match the layout (validation lowers the whole graph first).
    assert!(model_refusal(&m).contains("layout needs"));
    assert!(t.elapsed().as_secs() < 10, "took {:?}", t.elapsed());
}

fn deeply_nested(depth: usize) -> String {
    format!("{}1{}", "[".repeat(depth), "]".repeat(depth))
}

#[test]
fn hostile_inputs_are_refused_with_a_reason() {
    let refused = |text: &str| {
        checks::input(text.as_bytes());
        parse_input(text).unwrap_err()
    };
    for text in ["", "[", "[1, 2", r#"{"input_data": [[1, 2]"#, "nul"] {
        assert!(matches!(refused(text), InputError::Json(_)), "{text}");
    }
    for text in ["[1, NaN]", "[Infinity]", "[-Infinity]"] {
        assert!(matches!(refused(text), InputError::NotFinite(_)), "{text}");
    }
    for text in ["[1e999]", "[-1e400]"] {
        assert!(refused(text).to_string().contains("out of range"), "{text}");
    }
    for text in [
        "null",
        "true",
        "\"1\"",
        "5",
        r#"{"input_data": 5}"#,
        r#"{"x": [1]}"#,
    ] {
        assert!(matches!(refused(text), InputError::Shape(_)), "{text}");
    }
    assert!(matches!(refused("[[], [[]]]"), InputError::Empty));
    assert!(matches!(
        refused(r#"[1, [2, {}]]"#),
        InputError::NotANumber { .. }
    ));
    // serde_json's recursion limit (128) stops deep nesting before our own recursion.
    let e = refused(&deeply_nested(100_000));
    assert!(e.to_string().contains("recursion limit"), "{e}");
    assert_eq!(parse_input(&deeply_nested(100)).unwrap(), vec![1.0]);
    for text in [
        r#"{"samples": []}"#,
        r#"{"samples": 3}"#,
        r#"{"samples": [[1], "x"]}"#,
    ] {
        checks::input(text.as_bytes());
        assert!(parse_samples(text).is_err(), "{text}");
    }
    // Finite but far too large for the model's input scale: refused when quantized.
    let big = format!("[{}]", vec!["1e300"; 64].join(","));
    checks::input(big.as_bytes());
    let digits = &checks::digits_model().graph;
    assert!(digits.quantize_input(&parse_input(&big).unwrap()).is_err());
    checks::input(&[0xff, 0xfe, b'[', b'1', b']']);
}

#[test]
fn hostile_bundles_are_refused_or_judged_invalid() {
    let model = checks::digits_model();
    let honest = seed("bundle_reader", "digits_mlp_0.zkp");
    let read = |b: &Value| {
        let bytes = serde_json::to_vec(b).unwrap();
        checks::bundle(&bytes);
        ProofBundle::from_bytes(&bytes, "hostile.zkp")
    };
    // A digest of multi-byte characters, or in capitals: not a digest, the bundle is unreadable.
    for digest in ["€".repeat(40), "AB".repeat(32)] {
        let mut b = honest.clone();
        b["model_digest"] = json!(digest);
        let e = read(&b).unwrap_err().to_string();
        assert!(e.contains("model_digest is not 64 lowercase"), "{e}");
    }
    // Another model's digest, in canonical form: judged invalid, both digests shown in full.
    let mut b = honest.clone();
    b["model_digest"] = json!("ab".repeat(32));
    let (v, proof) = claims_verdict(&read(&b).unwrap(), model);
    assert!(proof.is_none());
    let reason = v.reason.unwrap();
    assert!(
        reason.contains(&"ab".repeat(32)) && reason.contains(&model.digest),
        "{reason}"
    );

    let mut b = honest.clone();
    b["proof"] = json!("not base64!");
    assert!(read(&b).unwrap_err().to_string().contains("not base64"));

    // Extreme but well-typed values read, and are judged against the model.
    let mut b = honest.clone();
    b["k"] = json!(u32::MAX);
    b["prover"]["created_unix"] = json!(u64::MAX);
    b["prover"]["threads"] = json!(u64::MAX);
    b["public"]["output"]["quantized"] = json!(vec![i64::MIN; 1000]);
    b["public"]["output"]["values"] = json!(vec![-1e300; 1000]);
    let (v, _) = claims_verdict(&read(&b).unwrap(), model);
    assert!(v.reason.unwrap().contains("k = "));

    // Deep nesting where the reader skips values (beside the format field) and where it builds
    // them, truncation, an array in place of the object, bytes that are not UTF-8.
    let skipped = format!(
        r#"{{"format": "zkinfer-proof/1", "x": {}}}"#,
        deeply_nested(100_000)
    );
    let built = format!(
        r#"{{"format": "zkinfer-proof/1", "k": {}}}"#,
        deeply_nested(100_000)
    );
    for bytes in [
        deeply_nested(100_000).into_bytes(),
        skipped.into_bytes(),
        built.into_bytes(),
        b"{\"format\": \"zkinfer-proof/1\"".to_vec(),
        br#"["zkinfer-proof/1", "zkinfer-model/1"]"#.to_vec(),
        vec![0xff; 64],
    ] {
        checks::bundle(&bytes);
        checks::model(&bytes);
        assert!(ProofBundle::from_bytes(&bytes, "hostile.zkp").is_err());
        assert!(ModelFile::from_bytes(&bytes, "hostile.zkm").is_err());
    }
}

/// A model whose verifying key was tampered with (and whose digest was sealed again, as anyone can)
/// reads, but the verifier's key reader refuses the key with a reason, and no proof is checked.
#[test]
fn hostile_verifying_keys_are_refused_by_the_verifier_reader() {
    let seed_model = seed("model_reader", "digits_mlp.zkm");
    let vk = seed_model["proof_system"]["verifying_key"]
        .as_str()
        .unwrap()
        .to_string();
    let edits: [(&str, String); 4] = [
        ("it ends inside", vk[..vk.len() / 2].to_string()),
        ("version byte", format!("03{}", &vk[2..])),
        ("k = 40", format!("{}28000000{}", &vk[..2], &vk[10..])),
        ("bytes follow it", format!("{vk}00")),
    ];
    for (why, hex) in edits {
        let mut m = seed_model.clone();
        m["proof_system"]["verifying_key"] = json!(hex);
        let mut model: ModelFile = serde_json::from_value(m).unwrap();
        model.digest = model.compute_digest();
        let bytes = model.to_json();
        checks::model(&bytes);
        let read = ModelFile::from_bytes_to_verify(&bytes, "hostile.zkm").expect("it reads");
        let err = read.verifier_key().expect_err(why).to_string();
        assert!(err.contains(why), "{why}: {err}");
        assert!(verifier::verify::ModelVerifier::with_options(&read, true).is_err());
    }
}

/// A model whose verifying key is stored deflated: the same key as the raw one verifies nothing
/// differently, and a stream that is not deflate or inflates past the size limit is refused by the
/// key reader with a reason (never allocated in full).
#[test]
fn hostile_deflated_verifying_keys_are_refused() {
    use circuits::artifacts::model_file::{hex, KeyEncoding, MAX_VK_BYTES};
    let raw: ModelFile = serde_json::from_value(seed("model_reader", "digits_mlp.zkm")).unwrap();
    let key = raw.verifying_key_bytes().unwrap();
    let mut packed = raw.clone();
    packed.proof_system.set_verifying_key(&key);
    assert_eq!(
        packed.proof_system.verifying_key_encoding,
        KeyEncoding::Deflate
    );
    assert!(packed.proof_system.verifying_key.len() < raw.proof_system.verifying_key.len());
    assert_eq!(packed.verifying_key_bytes().unwrap(), key);
    let (a, b) = (raw.verifier_key().unwrap(), packed.verifier_key().unwrap());
    assert_eq!(a.transcript_repr(), b.transcript_repr());

    let bomb = miniz_oxide::deflate::compress_to_vec(&vec![0u8; MAX_VK_BYTES + 1], 6);
    let edits: [(&str, String); 3] = [
        ("not a deflate stream", "ff".repeat(64)),
        ("inflates to over", hex(&bomb)),
        ("not hex", "0".into()),
    ];
    for (why, stored) in edits {
        let mut m = packed.clone();
        m.proof_system.verifying_key = stored;
        let bytes = m.seal().to_json();
        checks::model(&bytes);
        let read = ModelFile::from_bytes_to_verify(&bytes, "hostile.zkm");
        let err = match read {
            Ok(read) => read.verifier_key().expect_err(why).to_string(),
            Err(e) => e.to_string(),
        };
        assert!(err.contains(why), "{why}: {err}");
    }
}
