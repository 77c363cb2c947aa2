//! The `zkinfer` binary as a user runs it: round trips, exit codes, messages, no half-written files.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use serde_json::Value;

fn fixture(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures")
        .join(rel)
}

/// Setup parameters shared by the tests (made once; writes are atomic, so sharing is safe).
fn shared_cache() -> PathBuf {
    std::env::temp_dir().join("zkinfer-test-cache")
}

fn zkinfer_in(cache: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_zkinfer"))
        .args(args)
        .env("ZKINFER_ALLOW_DEV_SRS", "1")
        .env("ZKINFER_SRS", "dev")
        .env("ZKINFER_CACHE_DIR", cache)
        .output()
        .expect("zkinfer runs")
}

fn zkinfer(args: &[&str]) -> Output {
    zkinfer_in(&shared_cache(), args)
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// `zkinfer compile fixtures/NAME -o OUT` with the digits calibration set; must succeed.
fn compile_fixture(name: &str, out: &Path) {
    let o = zkinfer(&[
        "compile",
        s(&fixture(name)),
        "-o",
        s(out),
        "--calibration",
        s(&fixture("digits/calibration.json")),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
}

/// A compiled digits MLP and one proof of it, made once for the tests that only read them.
struct Fixture {
    _dir: tempfile::TempDir,
    model: PathBuf,
    proof: PathBuf,
}

fn compiled() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let model = dir.path().join("digits.zkm");
        compile_fixture("digits_mlp.onnx", &model);
        let proof = dir.path().join("input_0.zkp");
        let o = zkinfer(&[
            "prove",
            "-m",
            s(&model),
            "-i",
            s(&fixture("digits/input_0.json")),
            "-o",
            s(&proof),
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
        Fixture {
            _dir: dir,
            model,
            proof,
        }
    })
}

fn edited_proof(edit: impl FnOnce(&mut Value)) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let mut bundle: Value =
        serde_json::from_slice(&std::fs::read(&compiled().proof).unwrap()).unwrap();
    edit(&mut bundle);
    let p = dir.path().join("edited.zkp");
    std::fs::write(&p, serde_json::to_vec(&bundle).unwrap()).unwrap();
    (dir, p)
}

#[test]
fn compile_prove_verify_round_trip_with_json() {
    let f = compiled();
    let o = zkinfer(&["verify", s(&f.proof), "-m", s(&f.model)]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    assert!(stdout(&o).starts_with("VALID"), "{}", stdout(&o));
    assert_eq!(stdout(&o).lines().count(), 1);

    let o = zkinfer(&["verify", s(&f.proof), "-m", s(&f.model), "--json"]);
    assert_eq!(o.status.code(), Some(0));
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["valid"], true);
    assert_eq!(v["model_digest"].as_str().unwrap().len(), 64);
    let outputs = v["outputs"].as_array().unwrap();
    assert_eq!(outputs.len(), 1);
    assert_eq!(outputs[0].as_array().unwrap().len(), 10);

    // `run --json` prints the same outputs in the same shape.
    let o = zkinfer(&[
        "run",
        "-m",
        s(&f.model),
        "-i",
        s(&fixture("digits/input_0.json")),
        "--json",
    ]);
    assert!(o.status.success());
    let r: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(r["outputs"], v["outputs"]);

    // The proven outputs are close to onnxruntime's float outputs, with the same top class.
    let expected: Value =
        serde_json::from_str(&std::fs::read_to_string(fixture("digits/expected_0.json")).unwrap())
            .unwrap();
    let exp: Vec<f64> = expected["output_data"][0]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect();
    let got: Vec<f64> = outputs[0]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect();
    let argmax = |v: &[f64]| {
        v.iter()
            .enumerate()
            .fold(0, |b, (i, x)| if *x > v[b] { i } else { b })
    };
    assert_eq!(argmax(&got), argmax(&exp));
    assert!(
        got.iter().zip(&exp).all(|(a, b)| (a - b).abs() < 0.1),
        "{got:?} vs {exp:?}"
    );
}

#[test]
fn plan_and_inspect_describe_the_files() {
    let f = compiled();
    let o = zkinfer(&["plan", s(&f.model), "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let p: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert!(p["advice_cells_per_mac"].as_f64().unwrap() <= 1.3);
    assert!(p["k"].as_u64().unwrap() <= 8, "{p}");
    let o = zkinfer(&["plan", s(&f.model)]);
    assert!(stdout(&o).contains("estimate"), "{}", stdout(&o));
    for file in [&f.model, &f.proof] {
        let o = zkinfer(&["inspect", s(file)]);
        assert!(o.status.success(), "{}", stderr(&o));
        assert!(stdout(&o).contains("digest"));
        let o = zkinfer(&["inspect", s(file), "--json"]);
        let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
        assert!(v["kind"] == "model" || v["kind"] == "proof");
    }
}

#[test]
fn tampered_proof_bytes_fail_with_exit_1() {
    let (_d, p) = edited_proof(|b| {
        let mut proof = b["proof"].as_str().unwrap().to_string();
        // Change one base64 character in the middle of the proof (still valid base64).
        let mid = proof.len() / 2;
        let c = proof.as_bytes()[mid];
        let repl = if c == b'A' { "B" } else { "A" };
        proof.replace_range(mid..mid + 1, repl);
        b["proof"] = Value::String(proof);
    });
    let o = zkinfer(&["verify", s(&p), "-m", s(&compiled().model)]);
    assert_eq!(o.status.code(), Some(1), "{}{}", stdout(&o), stderr(&o));
    assert!(stdout(&o).starts_with("INVALID"));
}

#[test]
fn a_swapped_or_altered_output_value_fails_with_exit_1() {
    let swap = |b: &mut Value| {
        for key in ["quantized", "values"] {
            let arr = b["public"]["output"][key].as_array_mut().unwrap();
            arr.swap(0, 2);
        }
    };
    let (_d, p) = edited_proof(swap);
    let o = zkinfer(&["verify", s(&p), "-m", s(&compiled().model), "--json"]);
    assert_eq!(o.status.code(), Some(1), "{}{}", stdout(&o), stderr(&o));
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["valid"], false);

    // Only the float changed: the claim no longer matches the integers.
    let (_d, p) = edited_proof(|b| b["public"]["output"]["values"][0] = Value::from(99.0));
    let o = zkinfer(&["verify", s(&p), "-m", s(&compiled().model)]);
    assert_eq!(o.status.code(), Some(1));
}

#[test]
fn a_proof_checked_against_another_model_fails_with_exit_1() {
    let dir = tempfile::tempdir().unwrap();
    let other = dir.path().join("other.zkm");
    compile_fixture("digits_mlp_other.onnx", &other);
    let o = zkinfer(&["verify", s(&compiled().proof), "-m", s(&other)]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).contains("not the given model"), "{}", stdout(&o));

    // Even with the digest claim rewritten to the other model's, the proof fails.
    let digest =
        serde_json::from_slice::<Value>(&std::fs::read(&other).unwrap()).unwrap()["digest"].clone();
    let (_d, p) = edited_proof(|b| b["model_digest"] = digest);
    let o = zkinfer(&["verify", s(&p), "-m", s(&other)]);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    assert!(stdout(&o).contains("does not verify"), "{}", stdout(&o));
}

/// Run a command that must fail with exit 2, one line of error, and leave `out` absent.
fn assert_bad_input(args: &[&str], out: &Path, expect: &str) {
    let o = zkinfer(args);
    assert_eq!(
        o.status.code(),
        Some(2),
        "{args:?}: {}{}",
        stdout(&o),
        stderr(&o)
    );
    let err = stderr(&o);
    assert!(
        err.contains(expect),
        "{args:?}: expected {expect:?} in {err:?}"
    );
    assert_eq!(err.trim().lines().count(), 1, "one clear message: {err:?}");
    assert!(!out.exists(), "{} was left behind", out.display());
}

#[test]
fn bad_inputs_exit_2_with_one_message_and_no_output_file() {
    let f = compiled();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let out_zkm = d.join("out.zkm");
    let out_zkp = d.join("out.zkp");

    assert_bad_input(
        &["compile", s(&d.join("missing.onnx")), "-o", s(&out_zkm)],
        &out_zkm,
        "missing.onnx",
    );
    let not_onnx = d.join("notes.onnx");
    std::fs::write(&not_onnx, "this is not a protobuf model\n").unwrap();
    assert_bad_input(
        &["compile", s(&not_onnx), "-o", s(&out_zkm)],
        &out_zkm,
        "is not an ONNX model",
    );
    assert_bad_input(
        &[
            "compile",
            s(&fixture("unsupported_op.onnx")),
            "-o",
            s(&out_zkm),
        ],
        &out_zkm,
        "Cos (node 'weird_cos')",
    );

    let write = |name: &str, text: &str| {
        let p = d.join(name);
        std::fs::write(&p, text).unwrap();
        p
    };
    let cases = [
        (
            write("short.json", r#"{"input_data": [[0.5, 0.25]]}"#),
            "the model expects 64",
        ),
        (write("nan.json", r#"{"input_data": [[NaN, 1.0]]}"#), "NaN"),
        (
            write("string.json", r#"{"input_data": [[0.5, "zero"]]}"#),
            "is the string \"zero\"",
        ),
        (d.join("absent.json"), "absent.json"),
    ];
    for (input, expect) in &cases {
        assert_bad_input(
            &[
                "prove",
                "-m",
                s(&f.model),
                "-i",
                s(input),
                "-o",
                s(&out_zkp),
            ],
            &out_zkp,
            expect,
        );
    }

    let full = std::fs::read(&f.proof).unwrap();
    let truncated = write(
        "truncated.zkp",
        std::str::from_utf8(&full[..full.len() / 2]).unwrap(),
    );
    let o = zkinfer(&["verify", s(&truncated), "-m", s(&f.model)]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("is not a zkinfer proof file"),
        "{}",
        stderr(&o)
    );

    // A model file modified by hand is refused before anything else.
    let mut m: Value = serde_json::from_slice(&std::fs::read(&f.model).unwrap()).unwrap();
    m["name"] = Value::from("renamed");
    let edited = write("edited.zkm", &m.to_string());
    let o = zkinfer(&["verify", s(&f.proof), "-m", s(&edited)]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("was modified"), "{}", stderr(&o));
}

#[test]
fn setup_parameters_are_made_once_then_loaded_from_the_cache() {
    let cache = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let f = compiled();
    let k =
        serde_json::from_slice::<Value>(&std::fs::read(&f.model).unwrap()).unwrap()["k"].clone();
    let first = zkinfer_in(
        cache.path(),
        &[
            "prove",
            "-m",
            s(&f.model),
            "-i",
            s(&fixture("digits/input_1.json")),
            "-o",
            s(&dir.path().join("a.zkp")),
        ],
    );
    assert!(first.status.success(), "{}", stderr(&first));
    assert!(
        stderr(&first).contains(&format!("making the development SRS for k = {k}")),
        "{}",
        stderr(&first)
    );
    let second = zkinfer_in(
        cache.path(),
        &[
            "prove",
            "-m",
            s(&f.model),
            "-i",
            s(&fixture("digits/input_1.json")),
            "-o",
            s(&dir.path().join("b.zkp")),
        ],
    );
    assert!(second.status.success());
    assert!(!stderr(&second).contains("making"), "{}", stderr(&second));
    let srs = circuits::setup::srs::SrsRef::dev();
    let srs_dir = format!("srs/dev-{}/k{k}.params", srs.id());
    assert!(cache.path().join(srs_dir).exists());
}

#[test]
fn default_output_paths_sit_next_to_the_input() {
    let dir = tempfile::tempdir().unwrap();
    let onnx = dir.path().join("net.onnx");
    std::fs::copy(fixture("digits_mlp.onnx"), &onnx).unwrap();
    let input = dir.path().join("x.json");
    std::fs::copy(fixture("digits/input_2.json"), &input).unwrap();
    assert!(zkinfer(&["compile", s(&onnx), "--json"]).status.success());
    assert!(dir.path().join("net.zkm").exists());
    let o = zkinfer(&[
        "prove",
        "-m",
        s(&dir.path().join("net.zkm")),
        "-i",
        s(&input),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(dir.path().join("x.zkp").exists());
}

/// Three proofs of the digits MLP (inputs 0..3) in `dir`.
fn three_proofs(dir: &Path) -> Vec<PathBuf> {
    (0..3)
        .map(|i| {
            let p = dir.join(format!("p{i}.zkp"));
            let input = fixture(&format!("digits/input_{i}.json"));
            let o = zkinfer(&[
                "prove",
                "-m",
                s(&compiled().model),
                "-i",
                s(&input),
                "-o",
                s(&p),
            ]);
            assert!(o.status.success(), "{}", stderr(&o));
            p
        })
        .collect()
}

#[test]
fn a_batch_verifies_together_and_names_a_tampered_proof() {
    let dir = tempfile::tempdir().unwrap();
    let proofs = three_proofs(dir.path());
    let mut args: Vec<&str> = vec!["verify"];
    args.extend(proofs.iter().map(|p| s(p)));
    args.extend(["-m", s(&compiled().model)]);
    let o = zkinfer(&args);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    assert!(
        stdout(&o).contains("3 proofs of model digits_mlp: 3 valid, 0 invalid"),
        "{}",
        stdout(&o)
    );

    // Swap two output values of the middle proof: the batch fails, and that proof is named.
    let mut b: Value = serde_json::from_slice(&std::fs::read(&proofs[1]).unwrap()).unwrap();
    for key in ["quantized", "values"] {
        b["public"]["output"][key]
            .as_array_mut()
            .unwrap()
            .swap(0, 1);
    }
    std::fs::write(&proofs[1], serde_json::to_vec(&b).unwrap()).unwrap();
    let mut json_args = args.clone();
    json_args.push("--json");
    let o = zkinfer(&json_args);
    assert_eq!(o.status.code(), Some(1), "{}{}", stdout(&o), stderr(&o));
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["valid"], false);
    assert_eq!(v["valid_count"], 2);
    assert_eq!(v["invalid"].as_array().unwrap().len(), 1);
    assert!(v["invalid"][0].as_str().unwrap().ends_with("p1.zkp"));
    assert_eq!(v["checked_one_by_one"], true);
    let o = zkinfer(&args);
    assert!(
        stdout(&o).contains("INVALID:") && stdout(&o).contains("p1.zkp"),
        "{}",
        stdout(&o)
    );
}

#[test]
fn precision_raises_the_table_limbs_and_lowers_the_quantization_error() {
    let dir = tempfile::tempdir().unwrap();
    let compile = |extra: &[&str], out: &Path| {
        let mut args = vec![
            "compile",
            s(&fixture("digits_mlp.onnx")).to_string().leak() as &str,
            "--calibration",
        ];
        args.push(s(&fixture("digits/calibration.json")).to_string().leak());
        args.extend(["-o", s(out).to_string().leak()]);
        args.extend(extra);
        args.push("--json");
        zkinfer(&args)
    };
    let auto = compile(&[], &dir.path().join("a.zkm"));
    let precise = compile(&["--precision", "8"], &dir.path().join("p.zkm"));
    assert!(
        auto.status.success() && precise.status.success(),
        "{}",
        stderr(&precise)
    );
    let (a, p): (Value, Value) = (
        serde_json::from_str(&stdout(&auto)).unwrap(),
        serde_json::from_str(&stdout(&precise)).unwrap(),
    );
    assert!(p["plan"]["shape"]["limb_bits"].as_u64().unwrap() >= 8);
    let err = |v: &Value| v["report"]["output_max_abs_error"].as_f64().unwrap();
    assert!(err(&p) < err(&a), "{} vs {}", err(&p), err(&a));
    let bad = compile(&["--precision", "20"], &dir.path().join("b.zkm"));
    assert_eq!(bad.status.code(), Some(2));
    assert!(
        stderr(&bad).contains("precision 20 is out of range"),
        "{}",
        stderr(&bad)
    );
    assert!(!dir.path().join("b.zkm").exists());
}

#[test]
fn report_pages_show_the_verdict_outputs_and_the_recheck_command() {
    let f = compiled();
    let dir = tempfile::tempdir().unwrap();
    let html = dir.path().join("r.html");
    let o = zkinfer(&["report", s(&f.proof), "-m", s(&f.model), "-o", s(&html)]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let page = std::fs::read_to_string(&html).unwrap();
    let digest = serde_json::from_slice::<Value>(&std::fs::read(&f.model).unwrap()).unwrap()
        ["digest"]
        .as_str()
        .unwrap()
        .to_string();
    for needle in [
        ">VALID<",
        digest.as_str(),
        "(top class)",
        "zkinfer verify",
        "Quantization",
        "class=\"bar",
    ] {
        assert!(
            page.contains(needle),
            "{needle} missing from the HTML report"
        );
    }
    assert!(!page.contains("http"), "the page must be self-contained");

    let md = dir.path().join("r.md");
    let o = zkinfer(&[
        "report",
        s(&f.proof),
        "-m",
        s(&f.model),
        "--format",
        "md",
        "-o",
        s(&md),
    ]);
    assert_eq!(o.status.code(), Some(0));
    let text = std::fs::read_to_string(&md).unwrap();
    assert!(
        text.contains("| Verdict | VALID |") && text.contains("**(top class)**"),
        "{text}"
    );

    // An invalid proof still gets its report, which says so, and exit 1.
    let (_d, bad) = edited_proof(|b| b["public"]["output"]["values"][0] = Value::from(2.5));
    let out = dir.path().join("bad.html");
    let o = zkinfer(&["report", s(&bad), "-m", s(&f.model), "-o", s(&out)]);
    assert_eq!(o.status.code(), Some(1));
    assert!(std::fs::read_to_string(&out).unwrap().contains(">INVALID<"));
}
