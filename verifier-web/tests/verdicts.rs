//! The browser verifier's verdicts, natively: the same JSON the page gets from the WebAssembly build.

mod common;

use serde_json::Value;
use verifier_web::verdict_json;

#[test]
fn valid_invalid_and_unreadable_verdicts() {
    let f = common::digits_mlp();
    let v = verdict_json("p.zkp", &f.proof, "m.zkm", &f.model, true);
    assert_eq!(v["verdict"], "valid", "{v}");
    assert_eq!(v["model_name"], "digits_mlp");
    assert_eq!(v["outputs"][0].as_array().unwrap().len(), 10);
    assert_eq!(v["reason"], Value::Null);

    let v = verdict_json("bad.zkp", &f.tampered, "m.zkm", &f.model, true);
    assert_eq!(v["verdict"], "invalid", "{v}");
    assert!(v["reason"].as_str().unwrap().contains("does not verify"));

    let v = verdict_json("junk.zkp", b"not json", "m.zkm", &f.model, true);
    assert_eq!(v["verdict"], "unreadable");
    assert!(v["reason"].as_str().unwrap().contains("junk.zkp"), "{v}");

    // The two files swapped: the model is not a proof.
    let v = verdict_json("m.zkm", &f.model, "p.zkp", &f.proof, true);
    assert_eq!(v["verdict"], "unreadable", "{v}");

    // A modified model is refused before any proof is checked.
    let text = String::from_utf8(f.model.clone()).unwrap();
    let edited = text.replacen("digits_mlp", "digits_mlq", 1);
    let v = verdict_json("p.zkp", &f.proof, "m.zkm", edited.as_bytes(), true);
    assert_eq!(v["verdict"], "unreadable", "{v}");
    assert!(v["reason"].as_str().unwrap().contains("digest"), "{v}");
}

#[test]
fn the_wasm_export_returns_the_same_json() {
    let s = verifier_web::verify("junk.zkp", b"{}", "m.zkm", b"{}", false);
    let v: Value = serde_json::from_str(&s).unwrap();
    assert_eq!(v["verdict"], "unreadable");
    assert!(!verifier_web::version().is_empty());
}
