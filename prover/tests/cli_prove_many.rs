//! `zkinfer prove` with several inputs: files and folders, one key load, every input checked before
//! any proof is written.

mod common;

use common::{compile, fixture, ok, s, text, zkinfer};

#[test]
fn several_inputs_prove_with_one_key_load_and_a_bad_one_stops_all_before_any_proof() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("m.zkm");
    compile("digits_mlp.onnx", &[], &model);
    let inputs = dir.path().join("inputs");
    std::fs::create_dir(&inputs).unwrap();
    for i in [0, 1] {
        let name = format!("input_{i}.json");
        std::fs::copy(fixture(&format!("digits/{name}")), inputs.join(&name)).unwrap();
    }
    let third = fixture("digits/input_2.json");
    let proofs = dir.path().join("proofs");
    let o = ok(zkinfer(&[
        "prove",
        "-m",
        s(&model),
        "-i",
        s(&inputs),
        s(&third),
        "-o",
        s(&proofs),
    ]));
    assert!(o.contains("proved 3 inputs"), "{o}");
    let written: Vec<String> = ["input_0", "input_1", "input_2"]
        .iter()
        .map(|n| s(&proofs.join(format!("{n}.zkp"))).to_string())
        .collect();
    let mut args = vec!["verify"];
    args.extend(written.iter().map(|p| p.as_str()));
    args.extend(["-m", s(&model)]);
    let v = ok(zkinfer(&args));
    assert!(v.contains("3 valid, 0 invalid"), "{v}");

    // One unreadable input among several: exit 2, and no proof of the others is written.
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, "[1, 2").unwrap();
    let again = dir.path().join("again");
    let prove = |extra: &[&str]| {
        let mut args = vec!["prove", "-m", s(&model), "-i", s(&inputs)];
        args.extend_from_slice(extra);
        zkinfer(&args)
    };
    let o = prove(&[s(&bad), "-o", s(&again)]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("bad.json"), "{}", text(&o));
    let left: Vec<_> = std::fs::read_dir(&again)
        .map(|d| d.flatten().collect())
        .unwrap_or_default();
    assert!(left.is_empty(), "nothing half-written: {left:?}");

    // A salt file goes with one input only.
    let salt = dir.path().join("x.salt");
    std::fs::write(&salt, format!("{}\n", "0".repeat(64))).unwrap();
    let o = prove(&["--salt-file", s(&salt)]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("one input"), "{}", text(&o));
}
