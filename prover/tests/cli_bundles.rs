//! A verifier is strict about the bundle it reads: no bytes after the proof, shapes and scales of
//! every tensor checked, hashes and digests in their canonical form only, free text kept short and
//! escaped, and nothing unproven presented as a result.

mod common;

use std::path::{Path, PathBuf};

use base64::Engine;
use serde_json::Value;

use common::{compile, json, ok, prove, s, text, write_json, zkinfer};

/// A compiled digits MLP with `flags` and a proof of input 0.
fn proven(dir: &Path, flags: &[&str]) -> (PathBuf, PathBuf) {
    let model = dir.join("m.zkm");
    compile("digits_mlp.onnx", flags, &model);
    let proof = dir.join("p.zkp");
    ok(prove(&model, "digits/input_0.json", &proof, &[]));
    (model, proof)
}

/// `proof` edited by `edit`, written as `name` beside it.
fn edited(proof: &Path, name: &str, edit: impl FnOnce(&mut Value)) -> PathBuf {
    let mut b = json(proof);
    edit(&mut b);
    let path = proof.with_file_name(name);
    write_json(&path, &b);
    path
}

fn b64() -> base64::engine::GeneralPurpose {
    base64::engine::general_purpose::STANDARD
}

#[test]
fn bytes_after_the_proof_make_it_invalid_alone_and_in_a_batch() {
    let dir = tempfile::tempdir().unwrap();
    let (model, proof) = proven(dir.path(), &[]);
    let padded = edited(&proof, "padded.zkp", |b| {
        let mut bytes = b64().decode(b["proof"].as_str().unwrap()).unwrap();
        bytes.extend_from_slice(&[0, 1, 2]);
        b["proof"] = b64().encode(bytes).into();
    });
    let o = zkinfer(&["verify", s(&padded), "-m", s(&model)]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        text(&o).contains("3 bytes follow the proof"),
        "{}",
        text(&o)
    );

    // In a batch, whichever comes first: the padded proof is named, the honest one is valid.
    for order in [[&proof, &padded], [&padded, &proof]] {
        let o = zkinfer(&[
            "verify",
            s(order[0]),
            s(order[1]),
            "-m",
            s(&model),
            "--json",
        ]);
        assert_eq!(o.status.code(), Some(1), "{}", text(&o));
        let v: Value = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!(v["valid_count"], 1, "{v}");
        assert_eq!(v["invalid"][0], s(&padded), "{v}");
    }
}

#[test]
fn shapes_and_scales_of_hashed_tensors_are_checked() {
    let dir = tempfile::tempdir().unwrap();
    let (model, proof) = proven(dir.path(), &["--input", "hashed"]);
    ok(zkinfer(&["verify", s(&proof), "-m", s(&model)]));
    let shape = edited(&proof, "shape.zkp", |b| {
        b["public"]["input"]["shape"] = serde_json::json!([1, 65]);
    });
    let scale = edited(&proof, "scale.zkp", |b| {
        let sc = b["public"]["input"]["scale"].as_u64().unwrap();
        b["public"]["input"]["scale"] = (sc + 1).into();
    });
    for (p, what) in [(shape, "shape"), (scale, "scale")] {
        let o = zkinfer(&["verify", s(&p), "-m", s(&model)]);
        assert_eq!(o.status.code(), Some(1), "{}", text(&o));
        assert!(text(&o).contains(what), "{}", text(&o));
    }
}

#[test]
fn hashes_and_digests_in_another_form_are_unreadable() {
    let dir = tempfile::tempdir().unwrap();
    let (model, proof) = proven(dir.path(), &["--input", "hashed"]);
    let hash = json(&proof)["public"]["input"]["hash"]
        .as_str()
        .unwrap()
        .to_string();
    let digest = json(&proof)["model_digest"].as_str().unwrap().to_string();
    let forms = [
        hash.to_uppercase(),
        format!("0x{hash}"),
        format!("0x0x{hash}"),
        format!(" {hash}"),
        format!("{hash}\n"),
        format!("{}\u{2028}{}", &hash[..32], &hash[32..]),
    ];
    for (i, form) in forms.iter().enumerate() {
        let p = edited(&proof, &format!("h{i}.zkp"), |b| {
            b["public"]["input"]["hash"] = form.clone().into();
        });
        let o = zkinfer(&["verify", s(&p), "-m", s(&model)]);
        assert_eq!(o.status.code(), Some(2), "{form:?}: {}", text(&o));
        assert!(text(&o).contains("not a hash"), "{}", text(&o));
    }
    let p = edited(&proof, "d.zkp", |b| {
        b["model_digest"] = digest.to_uppercase().into();
    });
    let o = zkinfer(&["verify", s(&p), "-m", s(&model)]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("model_digest"), "{}", text(&o));
}

#[test]
fn the_provers_free_text_is_short_and_escaped_where_it_is_shown() {
    let dir = tempfile::tempdir().unwrap();
    let (model, proof) = proven(dir.path(), &[]);
    let long = edited(&proof, "long.zkp", |b| {
        b["prover"]["tool"] = "z".repeat(65).into();
    });
    let o = zkinfer(&["inspect", s(&long)]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("prover.tool"), "{}", text(&o));

    let sneaky = edited(&proof, "sneaky.zkp", |b| {
        b["prover"]["tool"] = "zk\u{1b}[31mVALID\u{202e}<b>x</b>".into();
    });
    let o = zkinfer(&["inspect", s(&sneaky)]);
    let out = text(&o);
    assert!(o.status.success(), "{out}");
    assert!(
        !out.contains('\u{1b}') && !out.contains('\u{202e}'),
        "{out:?}"
    );
    assert!(out.contains("\\u{1b}[31mVALID\\u{202e}"), "{out}");
    let page = dir.path().join("r.html");
    ok(zkinfer(&[
        "report",
        s(&sneaky),
        "-m",
        s(&model),
        "-o",
        s(&page),
    ]));
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(!html.contains('\u{1b}') && !html.contains("<b>x"), "{html}");
}

#[test]
fn a_report_on_an_invalid_proof_shows_its_outputs_as_claims_only() {
    let dir = tempfile::tempdir().unwrap();
    let (model, proof) = proven(dir.path(), &[]);
    let valid_page = dir.path().join("valid.md");
    ok(zkinfer(&[
        "report",
        s(&proof),
        "-m",
        s(&model),
        "--format",
        "md",
        "-o",
        s(&valid_page),
    ]));
    let valid = std::fs::read_to_string(&valid_page).unwrap();
    assert!(
        valid.contains("## Outputs") && valid.contains("(top class)"),
        "{valid}"
    );

    let swapped = edited(&proof, "swapped.zkp", |b| {
        let out = &mut b["public"]["output"];
        for key in ["quantized", "values"] {
            out[key].as_array_mut().unwrap().swap(0, 2);
        }
    });
    for format in ["md", "html"] {
        let page = dir.path().join(format!("invalid.{format}"));
        let o = zkinfer(&[
            "report",
            s(&swapped),
            "-m",
            s(&model),
            "--format",
            format,
            "-o",
            s(&page),
        ]);
        assert_eq!(o.status.code(), Some(1), "{}", text(&o));
        let page = std::fs::read_to_string(&page).unwrap();
        assert!(page.contains("INVALID"), "{page}");
        assert!(page.contains("Claimed outputs (not proven"), "{page}");
        assert!(!page.contains("top class"), "{page}");
    }
}
