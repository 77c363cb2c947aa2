//! CLI round trips of whole models: the digits CNN, the sigmoid MLP, the graph models (Concat, SiLU,
//! `x·x + x`, a reduced ResNet), a float TFLite model, and `plan` on a model file before compiling.

mod common;

use std::path::Path;
use std::process::Output;

use common::{fixture, s, zkinfer};
use serde_json::Value;

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// `zkinfer compile fixtures/NAME -o OUT` with the model's own calibration set
/// (`fixtures/NAME/calibration.json`) when it has one, else the digits set; must succeed.
fn compile_fixture(name: &str, out: &Path) {
    compile_fixture_with(name, out, &[]);
}

/// [`compile_fixture`] with more `compile` arguments.
fn compile_fixture_with(name: &str, out: &Path, extra: &[&str]) {
    let own = fixture(&format!(
        "{}/calibration.json",
        name.trim_end_matches(".onnx")
    ));
    let calibration = match own.exists() {
        true => own,
        false => fixture("digits/calibration.json"),
    };
    let source = fixture(name);
    let args = [
        "compile",
        s(&source),
        "-o",
        s(out),
        "--calibration",
        s(&calibration),
    ];
    let o = zkinfer(&[&args[..], extra].concat());
    assert!(o.status.success(), "{}", stderr(&o));
}

#[test]
fn the_digits_cnn_proves_and_verifies_with_the_expected_top_class() {
    round_trip_top_class("digits_cnn");
}

#[test]
fn the_sigmoid_mlp_proves_and_verifies_with_the_expected_top_class() {
    round_trip_top_class("sigmoid_mlp");
}

#[test]
fn graph_models_prove_and_verify_with_the_expected_top_class() {
    for name in ["concat_branches", "silu_mlp", "square_cnn"] {
        round_trip_top_class(name);
    }
}

#[test]
fn the_reduced_resnet_proves_and_verifies_with_the_expected_top_class() {
    round_trip_top_class("resnet_small");
}

#[test]
fn a_float_tflite_model_compiles_proves_and_verifies_with_litert_s_top_class() {
    let dir = tempfile::tempdir().unwrap();
    let data: Value = serde_json::from_str(
        &std::fs::read_to_string(fixture("tflite/kws_dscnn16/float.json")).unwrap(),
    )
    .unwrap();
    let cases = data["cases"].as_array().unwrap();
    let samples: Vec<&Value> = cases.iter().map(|c| &c["input"]).collect();
    let calibration = dir.path().join("calibration.json");
    std::fs::write(
        &calibration,
        serde_json::json!({ "samples": samples }).to_string(),
    )
    .unwrap();
    let input = dir.path().join("input.json");
    std::fs::write(
        &input,
        serde_json::json!({ "input_data": [samples[0]] }).to_string(),
    )
    .unwrap();
    let model = dir.path().join("kws.zkm");
    let tflite = fixture("tflite/kws_dscnn16_f32.tflite");
    let o = zkinfer(&[
        "compile",
        s(&tflite),
        "-o",
        s(&model),
        "--calibration",
        s(&calibration),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let proof = dir.path().join("kws.zkp");
    let o = zkinfer(&["prove", "-m", s(&model), "-i", s(&input), "-o", s(&proof)]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = zkinfer(&["verify", s(&proof), "-m", s(&model), "--json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    let top = |xs: Vec<f64>| {
        xs.iter()
            .enumerate()
            .fold(0, |b, (i, x)| if *x > xs[b] { i } else { b })
    };
    let got: Vec<f64> = v["outputs"][0]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect();
    let want: Vec<f64> = cases[0]["output_ref"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect();
    // The proven outputs are the logits before the model's final SOFTMAX.
    assert_eq!(top(got), top(want));
}

#[test]
fn an_int8_tflite_model_proves_litert_s_exact_output_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let json = |p: &str| -> Value {
        serde_json::from_str(&std::fs::read_to_string(fixture(p)).unwrap()).unwrap()
    };
    let data = json("tflite/kws_dscnn16/int8.json");
    let logits = json("tflite/kws_dscnn16/int8_logits.json");
    let model = dir.path().join("kws8.zkm");
    let o = zkinfer(&[
        "compile",
        s(&fixture("tflite/kws_dscnn16_int8.tflite")),
        "-o",
        s(&model),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    // The device's int8 input as it is, and the float input quantized by the model: one proof each.
    let case = &data["cases"][1];
    let inputs = [
        serde_json::json!({ "input_int8": case["input_int8"] }),
        serde_json::json!({ "input_data": [case["input_float"]] }),
    ];
    for (k, input) in inputs.iter().enumerate() {
        let path = dir.path().join(format!("input{k}.json"));
        std::fs::write(&path, input.to_string()).unwrap();
        let proof = dir.path().join(format!("input{k}.zkp"));
        let o = zkinfer(&["prove", "-m", s(&model), "-i", s(&path), "-o", s(&proof)]);
        assert!(o.status.success(), "{}", stderr(&o));
        let bundle: Value =
            serde_json::from_str(&std::fs::read_to_string(&proof).unwrap()).unwrap();
        assert_eq!(
            bundle["public"]["output"]["quantized"], logits["cases"][1]["logits_int8_ref"],
            "input {k}: the proven int8 logits are LiteRT's"
        );
        let o = zkinfer(&["verify", s(&proof), "-m", s(&model), "--json"]);
        assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    }
    // `run` reads the int8 input too; a model quantized from float refuses one.
    let int8_input = dir.path().join("input0.json");
    let o = zkinfer(&["run", "-m", s(&model), "-i", s(&int8_input)]);
    assert!(o.status.success(), "{}", stderr(&o));
    let float_model = dir.path().join("digits.zkm");
    let o = zkinfer(&[
        "compile",
        s(&fixture("digits_mlp.onnx")),
        "-o",
        s(&float_model),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = zkinfer(&["run", "-m", s(&float_model), "-i", s(&int8_input)]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("input_int8"), "{}", stderr(&o));
}

/// MobileNetV1 (32×32) int8 from the TFLite converter: its threshold table (a map per output
/// channel) in banks, each a lookup argument of its own, so that the circuit's rows set k; the
/// proof's logits are LiteRT's, and it verifies.
#[test]
fn a_banked_threshold_table_proves_litert_s_exact_logits() {
    let dir = tempfile::tempdir().unwrap();
    let json = |p: &str| -> Value {
        serde_json::from_str(&std::fs::read_to_string(fixture(p)).unwrap()).unwrap()
    };
    let (data, logits) = (
        json("tflite/vww_mbnet32/int8.json"),
        json("tflite/vww_mbnet32/int8_logits.json"),
    );
    let model = dir.path().join("vww8.zkm");
    let source = fixture("tflite/vww_mbnet32_int8.tflite");
    let o = zkinfer(&["compile", s(&source), "-o", s(&model)]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = zkinfer(&["plan", s(&model), "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let plan: Value = serde_json::from_str(&stdout(&o)).unwrap();
    let banks = plan["shape"]["threshold_banks"].as_u64().unwrap_or(1);
    assert!(banks >= 2, "{plan}");
    let o = zkinfer(&["plan", s(&model)]);
    assert!(
        stdout(&o).contains(&format!("their table in {banks} banks")),
        "{}",
        stdout(&o)
    );
    let case = 3;
    let input = dir.path().join("input.json");
    let bytes = serde_json::json!({ "input_int8": data["cases"][case]["input_int8"] });
    std::fs::write(&input, bytes.to_string()).unwrap();
    let proof = dir.path().join("vww8.zkp");
    let o = zkinfer(&["prove", "-m", s(&model), "-i", s(&input), "-o", s(&proof)]);
    assert!(o.status.success(), "{}", stderr(&o));
    let bundle: Value = serde_json::from_str(&std::fs::read_to_string(&proof).unwrap()).unwrap();
    assert_eq!(
        bundle["public"]["output"]["quantized"], logits["cases"][case]["logits_int8_ref"],
        "the proven int8 logits are LiteRT's"
    );
    let o = zkinfer(&["verify", s(&proof), "-m", s(&model), "--json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
}

/// A per-channel int8 ONNX model whose threshold table, not its rows, sets k: `plan` says so and
/// what would shrink the table; a model whose rows set k gets no such note.
#[test]
fn plan_names_a_table_that_sets_k() {
    let o = zkinfer(&["plan", s(&fixture("mlperf_onnx/ad_full_int8.onnx"))]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    // Its 453,191 threshold table rows (1,672 per-channel maps) would set k = 19 in one table; in
    // seven banks they set k = 16, one above the circuit's rows.
    assert!(
        out.contains(
            "k = 16 is set by the largest lookup table (61185 rows, a bank of the threshold \
             table's 7)"
        ),
        "{out}"
    );
    assert!(out.contains("rows alone fit k = 15"), "{out}");
    assert!(out.contains("their table in 7 banks"), "{out}");
    assert!(out.contains("per_channel=False"), "{out}");
    let o = zkinfer(&[
        "plan",
        s(&fixture("resnet_small.onnx")),
        "--calibration",
        s(&fixture("resnet_small/calibration.json")),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        !stdout(&o).contains("is set by the largest lookup table"),
        "{}",
        stdout(&o)
    );
}

#[test]
fn plan_reads_an_onnx_model_without_compiling_it() {
    let o = zkinfer(&[
        "plan",
        s(&fixture("resnet_small.onnx")),
        "--calibration",
        s(&fixture("resnet_small/calibration.json")),
        "--json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert!(v["k"].as_u64().unwrap() >= 10);
    assert!(v["macs"].as_u64().unwrap() > 400_000);
    let kinds: Vec<&str> = v["layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["kind"].as_str().unwrap())
        .collect();
    assert!(kinds.contains(&"add+relu"), "{kinds:?}");
    // A compiled model keeps its scales: --calibration is refused there.
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("digits.zkm");
    compile_fixture("digits_mlp.onnx", &model);
    let o = zkinfer(&[
        "plan",
        s(&model),
        "--calibration",
        s(&fixture("digits/calibration.json")),
    ]);
    assert_eq!(o.status.code(), Some(2));
    // ... and its layout: --inputs-per-row / --width are refused there, and planned for a source.
    let layout = ["--inputs-per-row", "2", "--width", "6"];
    let o = zkinfer(&[&["plan", s(&model)][..], &layout].concat());
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("keeps its own layout"),
        "{}",
        stderr(&o)
    );
    let mlp = fixture("digits_mlp.onnx");
    let cal = fixture("digits/calibration.json");
    let source = ["plan", s(&mlp), "--calibration", s(&cal), "--json"];
    let o = zkinfer(&[&source[..], &layout].concat());
    assert!(o.status.success(), "{}", stderr(&o));
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["shape"]["inputs_per_row"], 2);
    assert_eq!(v["shape"]["width"], 6);
    assert_eq!(v["shape"]["window_tiles"], true);
    // The instance columns likewise: planned for a source, refused for a compiled model, bounded.
    let o = zkinfer(&[&source[..], &["--instance-columns", "3"]].concat());
    assert!(o.status.success(), "{}", stderr(&o));
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["shape"]["instance_columns"], 3);
    let o = zkinfer(&["plan", s(&model), "--instance-columns", "3"]);
    assert_eq!(o.status.code(), Some(2));
    let o = zkinfer(&[&source[..], &["--instance-columns", "0"]].concat());
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("instance columns"), "{}", stderr(&o));
}

/// `compile --instance-columns`: the public values spread over 3 columns, proved and verified (the
/// lean verifier too), and the proof refused against another output.
#[test]
fn a_model_compiled_with_several_instance_columns_proves_and_verifies() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("model.zkm");
    compile_fixture_with("digits_mlp.onnx", &model, &["--instance-columns", "3"]);
    let m: Value = serde_json::from_slice(&std::fs::read(&model).unwrap()).unwrap();
    assert_eq!(m["shape"]["instance_columns"], 3);
    let proof = dir.path().join("proof.zkp");
    let input = fixture("digits/input_0.json");
    let o = zkinfer(&["prove", "-m", s(&model), "-i", s(&input), "-o", s(&proof)]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = zkinfer(&["verify", s(&proof), "-m", s(&model), "--json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    // Two outputs swapped in the bundle (integers and floats alike, so the claim is consistent):
    // the proof no longer verifies.
    let mut bundle: Value = serde_json::from_slice(&std::fs::read(&proof).unwrap()).unwrap();
    for key in ["quantized", "values"] {
        bundle["public"]["output"][key]
            .as_array_mut()
            .unwrap()
            .swap(0, 2);
    }
    let forged = dir.path().join("forged.zkp");
    std::fs::write(&forged, serde_json::to_vec_pretty(&bundle).unwrap()).unwrap();
    let o = zkinfer(&["verify", s(&forged), "-m", s(&model)]);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
}

/// `compile --max-proof-bytes`: the fastest layout whose proof fits, proved and verified, its proof
/// within the limit; a limit no layout meets is refused before any key is made, naming the smallest
/// proof; the flag is refused for a compiled model and for IPA.
#[test]
fn a_proof_size_limit_picks_a_layout_whose_proofs_fit_or_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("model.zkm");
    compile_fixture_with("digits_mlp.onnx", &model, &["--max-proof-bytes", "2600"]);
    let proof = dir.path().join("proof.zkp");
    let input = fixture("digits/input_0.json");
    let o = zkinfer(&["prove", "-m", s(&model), "-i", s(&input), "-o", s(&proof)]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = zkinfer(&["inspect", s(&proof), "--json"]);
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    let bytes = v["proof_bytes"].as_u64().unwrap();
    assert!(bytes <= 2600, "{bytes} bytes");
    let o = zkinfer(&["verify", s(&proof), "-m", s(&model)]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));

    let small = dir.path().join("small.zkm");
    let (onnx, cal) = (
        fixture("digits_mlp.onnx"),
        fixture("digits/calibration.json"),
    );
    let source = ["compile", s(&onnx), "--calibration", s(&cal)];
    let o = zkinfer(&[&source[..], &["--max-proof-bytes", "1000", "-o", s(&small)]].concat());
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("no layout gives a proof of at most 1000 bytes") && err.contains("layout"),
        "{err}"
    );
    assert!(!small.exists(), "nothing written");
    let o = zkinfer(&["plan", s(&model), "--max-proof-bytes", "3000"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let ipa = [
        &source[..],
        &["--max-proof-bytes", "3000", "--commitment", "ipa"],
    ]
    .concat();
    let o = zkinfer(&ipa);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("KZG"), "{}", stderr(&o));
}

/// `zkinfer` with its own cache and 2 rayon threads (the machine-speed log is per thread count).
fn zkinfer_pinned(cache: &Path, args: &[&str]) -> Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_zkinfer"))
        .args(args)
        .env("ZKINFER_CACHE_DIR", cache)
        .env("ZKINFER_ALLOW_DEV_SRS", "1")
        .env("ZKINFER_SRS", "dev")
        .env("RAYON_NUM_THREADS", "2")
        .output()
        .expect("zkinfer runs")
}

/// `plan` shows this machine's times from the proofs it has recorded: the median ratio of measured
/// to estimated proof time, per thread count; a proof records its own.
#[test]
fn plan_scales_its_times_by_the_machines_recorded_proofs() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    std::fs::create_dir_all(&cache).unwrap();
    let log = cache.join("machine-speed-2-threads.json");
    std::fs::write(&log, r#"{"ratios":[2.0,3.0,2.0]}"#).unwrap();
    let (onnx, cal) = (
        fixture("digits_mlp.onnx"),
        fixture("digits/calibration.json"),
    );
    let plan = ["plan", s(&onnx), "--calibration", s(&cal)];
    let o = zkinfer_pinned(&cache, &[&plan[..], &["--json"]].concat());
    assert!(o.status.success(), "{}", stderr(&o));
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["machine"]["factor"], 2.0);
    assert_eq!(v["machine"]["proofs"], 3);
    let (reference, here) = (&v["estimate"], &v["machine"]["estimate"]);
    for key in ["prove_s", "keygen_s"] {
        let (r, h) = (
            reference[key].as_f64().unwrap(),
            here[key].as_f64().unwrap(),
        );
        assert!((h - 2.0 * r).abs() < 1e-9, "{key}: {h} vs {r}");
    }
    assert_eq!(here["peak_mib"], reference["peak_mib"]);
    let text = stdout(&zkinfer_pinned(&cache, &plan));
    assert!(
        text.contains("on this machine (2 threads; its last 3 proofs"),
        "{text}"
    );

    // A proof estimated at 0.25 s or more records its ratio (12-bit limbs: k = 13).
    let model = dir.path().join("m.zkm");
    let compile = [
        "compile",
        s(&onnx),
        "--calibration",
        s(&cal),
        "--precision",
        "12",
    ];
    let o = zkinfer_pinned(&cache, &[&compile[..], &["-o", s(&model)]].concat());
    assert!(o.status.success(), "{}", stderr(&o));
    let (input, proof) = (fixture("digits/input_0.json"), dir.path().join("p.zkp"));
    let prove = ["prove", "-m", s(&model), "-i", s(&input), "-o", s(&proof)];
    let o = zkinfer_pinned(&cache, &[&prove[..], &["--threads", "2"]].concat());
    assert!(o.status.success(), "{}", stderr(&o));
    let v: Value = serde_json::from_slice(&std::fs::read(&log).unwrap()).unwrap();
    assert_eq!(v["ratios"].as_array().unwrap().len(), 4, "{v}");
}

/// Compile `fixtures/NAME.onnx`, prove `fixtures/NAME/input_0.json`, verify, and compare the top class
/// with onnxruntime's.
fn round_trip_top_class(name: &str) {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("model.zkm");
    compile_fixture(&format!("{name}.onnx"), &model);
    let proof = dir.path().join("proof.zkp");
    let input = fixture(&format!("{name}/input_0.json"));
    let o = zkinfer(&["prove", "-m", s(&model), "-i", s(&input), "-o", s(&proof)]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = zkinfer(&["verify", s(&proof), "-m", s(&model), "--json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    let out: Vec<f64> = v["outputs"][0]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect();
    let expected: Value = serde_json::from_str(
        &std::fs::read_to_string(fixture(&format!("{name}/expected_0.json"))).unwrap(),
    )
    .unwrap();
    let top = out
        .iter()
        .enumerate()
        .fold(0, |b, (i, x)| if *x > out[b] { i } else { b });
    assert_eq!(top as u64, expected["float_top1"].as_u64().unwrap());
}

#[test]
fn an_int8_onnx_model_proves_onnxruntime_s_exact_output_bytes() {
    // QDQ form (onnxruntime's quantize_static), uint8 activations: the device's bytes as input.
    int8_onnx_round_trip("onnx_int8/digits_cnn_qdq_u8");
    // A broadcast QLinearAdd (its sum's coefficients need 25 bits: the model file's checks take
    // what the importer makes).
    int8_onnx_round_trip("onnx_int8_ops/bcast_add_cnn_qdq_u8");
}

/// compile, inspect, run (onnxruntime's bytes), prove and verify a uint8 ONNX fixture.
fn int8_onnx_round_trip(rel: &str) {
    let data: Value =
        serde_json::from_str(&std::fs::read_to_string(fixture(&format!("{rel}.json"))).unwrap())
            .unwrap();
    let case = &data["cases"][2];
    int8_round_trip(
        &fixture(&format!("{rel}.onnx")),
        &case["input_q"],
        &case["output_q"],
    );
}

/// Compile `source` (a uint8 model), check `inspect` says so, run it on the model's own `bytes` and
/// get the runtime's `expected` output bytes, then prove and verify.
fn int8_round_trip(source: &Path, bytes: &Value, expected: &Value) {
    let dir = tempfile::tempdir().unwrap();
    let name = source.display();
    let model = dir.path().join("m8.zkm");
    let o = zkinfer(&["compile", s(source), "-o", s(&model)]);
    assert!(o.status.success(), "{name}: {}", stderr(&o));
    let o = zkinfer(&["inspect", s(&model)]);
    assert!(stdout(&o).contains("uint8"), "{}", stdout(&o));
    let input = dir.path().join("input.json");
    std::fs::write(
        &input,
        serde_json::json!({ "input_int8": bytes }).to_string(),
    )
    .unwrap();
    let o = zkinfer(&["run", "-m", s(&model), "-i", s(&input), "--json"]);
    assert!(o.status.success(), "{name}: {}", stderr(&o));
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(&v["quantized"][0], expected, "{name}: the runtime's bytes");
    let proof = dir.path().join("m8.zkp");
    let o = zkinfer(&["prove", "-m", s(&model), "-i", s(&input), "-o", s(&proof)]);
    assert!(o.status.success(), "{name}: {}", stderr(&o));
    let o = zkinfer(&["verify", s(&proof), "-m", s(&model), "--json"]);
    assert_eq!(o.status.code(), Some(0), "{name}: {}", stdout(&o));
}

#[test]
fn a_uint8_io_tflite_model_proves_litert_s_exact_output_bytes() {
    let data: Value = serde_json::from_str(
        &std::fs::read_to_string(fixture("tflite_uint8/cnn_u8io.json")).unwrap(),
    )
    .unwrap();
    let case = &data["cases"][3];
    int8_round_trip(
        &fixture("tflite_uint8/cnn_u8io.tflite"),
        &case["input_uint8"],
        &case["output_uint8_ref"],
    );
}

#[test]
fn a_legacy_all_uint8_tflite_model_proves_litert_s_exact_output_bytes() {
    let data: Value = serde_json::from_str(
        &std::fs::read_to_string(fixture("tflite_uint8_legacy/legacy_cnn.json")).unwrap(),
    )
    .unwrap();
    // The last case: the input bytes 0 and 255.
    let case = &data["cases"][3];
    int8_round_trip(
        &fixture("tflite_uint8_legacy/legacy_cnn.tflite"),
        &case["input_uint8"],
        &case["output_uint8_ref"],
    );
}
