//! The HTML report as a browser shows it: headless Chromium renders the valid and the invalid report,
//! takes a screenshot of each, and its rendered DOM carries the verdict.
//!
//! Needs Debian's `chromium` (`.ci/run` installs it); run with
//! `cargo test -p zkinfer --test report_chromium -- --ignored`.

use std::path::{Path, PathBuf};
use std::process::Command;

fn fixture(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures")
        .join(rel)
}

fn zkinfer(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_zkinfer"))
        .args(args)
        .env("ZKINFER_ALLOW_DEV_SRS", "1")
        .env("ZKINFER_SRS", "dev")
        .env(
            "ZKINFER_CACHE_DIR",
            std::env::temp_dir().join("zkinfer-test-cache"),
        )
        .output()
        .unwrap()
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[path = "../../verifier/tests/support/headless_chromium.rs"]
mod headless;

/// Run headless Chromium on a local page, with a profile of its own per flag set.
fn chromium(dir: &Path, extra: &[&str], page: &Path) -> std::process::Output {
    let profile = dir.join(format!("profile-{}", extra.len()));
    headless::headless_chromium(&profile, extra, &format!("file://{}", page.display()))
        .output()
        .expect("chromium runs (install Debian's chromium package)")
}

/// Width and height from a PNG header.
fn png_size(bytes: &[u8]) -> (u32, u32) {
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "not a PNG");
    let be = |b: &[u8]| u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
    (be(&bytes[16..20]), be(&bytes[20..24]))
}

#[test]
#[ignore = "needs chromium: cargo test -p zkinfer --test report_chromium -- --ignored"]
fn chromium_renders_valid_and_invalid_reports() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (model, proof) = (d.join("m.zkm"), d.join("p.zkp"));
    let cal = fixture("digits/calibration.json");
    assert!(zkinfer(&[
        "compile",
        s(&fixture("digits_mlp.onnx")),
        "--calibration",
        s(&cal),
        "-o",
        s(&model)
    ])
    .status
    .success());
    assert!(zkinfer(&[
        "prove",
        "-m",
        s(&model),
        "-i",
        s(&fixture("digits/input_0.json")),
        "-o",
        s(&proof)
    ])
    .status
    .success());
    let mut bundle: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&proof).unwrap()).unwrap();
    bundle["public"]["output"]["values"][0] = serde_json::Value::from(2.5);
    let bad = d.join("bad.zkp");
    std::fs::write(&bad, serde_json::to_vec(&bundle).unwrap()).unwrap();

    let mut shots = Vec::new();
    for (p, verdict, code) in [(&proof, "VALID", 0), (&bad, "INVALID", 1)] {
        let page = d.join(format!("{verdict}.html"));
        let o = zkinfer(&["report", s(p), "-m", s(&model), "-o", s(&page)]);
        assert_eq!(o.status.code(), Some(code));
        let dom = chromium(d, &["--dump-dom"], &page);
        let dom = String::from_utf8_lossy(&dom.stdout);
        assert!(
            dom.contains(&format!(">{verdict}</p>")),
            "Chromium's DOM lacks the verdict:\n{dom}"
        );
        // An invalid proof's outputs are claims: no top class, and said so.
        assert_eq!(dom.contains("(top class)"), verdict == "VALID", "{dom}");
        assert_eq!(
            dom.contains("Claimed outputs (not proven"),
            verdict == "INVALID"
        );
        let png = d.join(format!("{verdict}.png"));
        let shot = format!("--screenshot={}", png.display());
        chromium(d, &[&shot, "--window-size=900,1000"], &page);
        let bytes = std::fs::read(&png).expect("Chromium wrote a screenshot");
        assert_eq!(png_size(&bytes), (900, 1000));
        shots.push(bytes);
    }
    assert_ne!(
        shots[0], shots[1],
        "the valid and invalid reports must look different"
    );
}
