//! `zkinfer srs`: importing a ceremony's file (a snarkjs .ptau made by `fixtures/make_ptau.sh`'s
//! steps), proving with it, planted SRS files, and downloads checked against their pinned digest
//! (from an HTTP server on the loopback address).

mod common;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::process::Output;

use common::{fixture, ok, s, text, zkinfer_in};

/// An HTTP server on the loopback address that answers every request with `body`; its base URL.
fn serve(body: Vec<u8>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for mut stream in listener.incoming().flatten() {
            let mut request = [0u8; 4096];
            let _ = stream.read(&mut request);
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = stream.write_all(head.as_bytes());
            let _ = stream.write_all(&body);
        }
    });
    format!("http://127.0.0.1:{port}")
}

fn compile_with(cache: &std::path::Path, srs: &str, out: &std::path::Path) -> Output {
    let (onnx, calibration) = (
        fixture("digits_mlp.onnx"),
        fixture("digits/calibration.json"),
    );
    zkinfer_in(
        cache,
        &[
            "compile",
            s(&onnx),
            "--calibration",
            s(&calibration),
            "--srs",
            srs,
            "-o",
            s(out),
        ],
    )
}

#[test]
fn an_imported_ceremony_srs_proves_and_verifies_and_a_planted_file_is_refused() {
    let cache = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let ptau = fixture("ptau/pot8_contributed.ptau");
    // Not a known SRS: it needs a name.
    let o = zkinfer_in(cache.path(), &["srs", "import", s(&ptau)]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("--name"), "{}", text(&o));
    let o = zkinfer_in(
        cache.path(),
        &["srs", "import", s(&ptau), "--name", "hermez"],
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    ok(zkinfer_in(
        cache.path(),
        &["srs", "import", s(&ptau), "--name", "fixture8"],
    ));
    let list = ok(zkinfer_in(cache.path(), &["srs", "list"]));
    assert!(
        list.contains("fixture8") && list.contains("k = 4..8"),
        "{list}"
    );

    // A model on it: proven and verified with no development-SRS flag.
    let model = dir.path().join("m.zkm");
    ok(compile_with(cache.path(), "fixture8", &model));
    let m = circuits::ModelFile::read(&model).unwrap();
    assert_eq!(m.proof_system.srs.as_ref().unwrap().name, "fixture8");
    let proof = dir.path().join("p.zkp");
    let input = fixture("digits/input_0.json");
    let prove = || {
        zkinfer_in(
            cache.path(),
            &["prove", "-m", s(&model), "-i", s(&input), "-o", s(&proof)],
        )
    };
    ok(prove());
    let strict = std::process::Command::new(env!("CARGO_BIN_EXE_zkinfer"))
        .args(["verify", s(&proof), "-m", s(&model)])
        .env("ZKINFER_CACHE_DIR", cache.path())
        .output()
        .unwrap();
    assert!(strict.status.success(), "{}", text(&strict));
    assert!(
        text(&strict).contains("not one zkinfer knows"),
        "{}",
        text(&strict)
    );

    // A planted file in its place (the development SRS's powers for that k): refused, not remade.
    let srs_file = cache
        .path()
        .join("srs")
        .join(format!(
            "fixture8-{}",
            m.proof_system.srs.as_ref().unwrap().id()
        ))
        .join(format!("k{}.params", m.k));
    let planted = circuits::setup::srs::params_bytes(&circuits::setup::srs::dev_params(m.k));
    std::fs::write(&srs_file, &planted).unwrap();
    std::fs::remove_dir_all(cache.path().join("keys")).unwrap();
    let o = prove();
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        text(&o).contains("is not the SRS 'fixture8'"),
        "{}",
        text(&o)
    );
    assert_eq!(std::fs::read(&srs_file).unwrap(), planted);

    // A missing SRS names the commands.
    let o = compile_with(cache.path(), "hermez", &dir.path().join("h.zkm"));
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        text(&o).contains("zkinfer srs import") && text(&o).contains("zkinfer srs get"),
        "{}",
        text(&o)
    );
    let o = compile_with(cache.path(), "nosuch", &dir.path().join("n.zkm"));
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
}

#[test]
fn a_download_that_is_not_the_pinned_file_is_not_kept() {
    let cache = tempfile::tempdir().unwrap();
    let base = serve(std::fs::read(fixture("ptau/pot8_contributed.ptau")).unwrap());
    let o = zkinfer_in(cache.path(), &["srs", "get", "--k", "10", "--from", &base]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        text(&o).contains("is not the published file"),
        "{}",
        text(&o)
    );
    let kept: Vec<_> = std::fs::read_dir(cache.path().join("downloads"))
        .map(|d| d.flatten().collect())
        .unwrap_or_default();
    assert!(kept.is_empty(), "a refused download is deleted: {kept:?}");
    assert!(!cache.path().join("srs").exists());
    let o = zkinfer_in(cache.path(), &["srs", "get", "--k", "21"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
}

#[test]
fn a_download_with_the_pinned_digest_is_kept() {
    let bytes = std::fs::read(fixture("ptau/pot8_contributed.ptau")).unwrap();
    let pin: String = blake2b_simd::Params::new()
        .hash_length(64)
        .hash(&bytes)
        .as_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let base = serve(bytes.clone());
    let dir = tempfile::tempdir().unwrap();
    let url = format!("{base}/pot8.ptau");
    let file = prover::srs_get::fetch_pinned(&url, &pin, bytes.len() as u64, dir.path()).unwrap();
    assert_eq!(std::fs::read(file.path()).unwrap(), bytes);
    let short = prover::srs_get::fetch_pinned(&url, &pin, 100, dir.path());
    assert!(short.is_err(), "a download longer than expected is cut off");
}
