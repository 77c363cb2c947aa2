//! A proof too large for the memory at hand is refused before it starts (exit 2), unless forced; the
//! proving-key cache keeps to its size limit.

mod common;

use std::path::Path;
use std::process::{Command, Output};

use common::{compile, fixture, s, shared_cache, text};

/// `zkinfer args...` with `cache` as its cache and `available` as the memory it may count on.
fn zkinfer_with_memory(cache: &Path, available: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_zkinfer"))
        .args(args)
        .env("ZKINFER_CACHE_DIR", cache)
        .env("ZKINFER_MEMORY_AVAILABLE", available)
        .output()
        .unwrap()
}

#[test]
fn a_proof_over_the_available_memory_is_refused_before_it_starts() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("m.zkm");
    compile("digits_mlp.onnx", &[], &model);
    let proof = dir.path().join("p.zkp");
    let input = fixture("digits/input_0.json");
    let prove = |available: &str, extra: &[&str]| {
        let mut args = vec!["prove", "-m", s(&model), "-i", s(&input), "-o", s(&proof)];
        args.extend_from_slice(extra);
        zkinfer_with_memory(&shared_cache(), available, &args)
    };
    let o = prove("1M", &[]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let msg = text(&o);
    assert!(msg.contains("GiB (the plan's peak at k = "), "{msg}");
    assert!(msg.contains("--force"), "{msg}");
    assert!(!proof.exists(), "nothing written");

    let o = prove("1M", &["--force"]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(proof.exists());
    std::fs::remove_file(&proof).unwrap();
    let o = prove("64G", &[]);
    assert!(o.status.success(), "{}", text(&o));
    let o = prove("lots", &[]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        text(&o).contains("ZKINFER_MEMORY_AVAILABLE=lots"),
        "{}",
        text(&o)
    );
}

/// Key generation is weighed too: `compile` refuses before making keys (nothing written, no key
/// cached), and `prove` of a model whose proving key is not cached counts key generation's peak.
#[test]
fn keys_over_the_available_memory_are_refused_before_they_are_made() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let model = dir.path().join("m.zkm");
    let (onnx, calibration) = (
        fixture("digits_mlp.onnx"),
        fixture("digits/calibration.json"),
    );
    let compile = |available: &str, extra: &[&str]| {
        let mut args = vec!["compile", s(&onnx), "--calibration", s(&calibration)];
        args.extend_from_slice(&["--srs", "dev", "-o", s(&model)]);
        args.extend_from_slice(extra);
        zkinfer_with_memory(&cache, available, &args)
    };
    let o = compile("1M", &[]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let msg = text(&o);
    assert!(
        msg.contains("making the keys of") && msg.contains("key-generation peak at k = "),
        "{msg}"
    );
    assert!(msg.contains("--force"), "{msg}");
    assert!(!model.exists(), "no model written");
    let keys = cache.join("keys");
    let cached = || {
        std::fs::read_dir(&keys).map_or(0, |d| {
            d.filter(|e| e.as_ref().unwrap().path().extension() == Some("pk".as_ref()))
                .count()
        })
    };
    assert_eq!(cached(), 0, "no key cached");

    let o = compile("1M", &["--force"]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(model.exists());
    assert_eq!(cached(), 1, "one proving key, nothing left half-written");

    // Another machine (an empty cache): its first prove makes the proving key.
    let proof = dir.path().join("p.zkp");
    let input = fixture("digits/input_0.json");
    let args = ["prove", "-m", s(&model), "-i", s(&input), "-o", s(&proof)];
    let o = zkinfer_with_memory(&dir.path().join("elsewhere"), "1M", &args);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        text(&o).contains("the larger of the plan's key-generation and proving peaks"),
        "{}",
        text(&o)
    );
    assert!(!proof.exists());
}

/// `zkinfer args...` with `cache` as its cache and `limit` as `ZKINFER_KEY_CACHE_GIB`.
fn zkinfer_with_key_limit(cache: &Path, limit: Option<&str>, args: &[&str]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_zkinfer"));
    c.args(args)
        .env("ZKINFER_CACHE_DIR", cache)
        .env("ZKINFER_SRS", "dev")
        .env("ZKINFER_ALLOW_DEV_SRS", "1")
        .env_remove("ZKINFER_KEY_CACHE_GIB");
    if let Some(l) = limit {
        c.env("ZKINFER_KEY_CACHE_GIB", l);
    }
    c.output().unwrap()
}

/// Keys are listed with their models; a compile under a limit removes the least recently used other
/// keys (never its own), `keys remove` and `keys prune` remove what they name, and a prove makes a
/// removed key again. A bad limit is refused before any work.
#[test]
fn the_key_cache_keeps_to_its_limit() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let run = |limit: Option<&str>, args: &[&str]| zkinfer_with_key_limit(&cache, limit, args);
    let listed = |limit: Option<&str>| {
        let o = run(limit, &["keys", "list", "--json"]);
        assert!(o.status.success(), "{}", text(&o));
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        let keys = v["keys"].as_array().unwrap().clone();
        keys.iter()
            .map(|k| k["model"].as_str().unwrap_or("?").to_string())
            .collect::<Vec<_>>()
    };
    let calibration = fixture("digits/calibration.json");
    let compile_in = |onnx: &str, out: &Path, limit: Option<&str>| {
        let onnx = fixture(onnx);
        let args = [
            "compile",
            s(&onnx),
            "--calibration",
            s(&calibration),
            "-o",
            s(out),
        ];
        run(limit, &args)
    };
    let (mlp, cnn) = (dir.path().join("mlp.zkm"), dir.path().join("cnn.zkm"));
    let o = run(None, &["keys", "list"]);
    assert!(
        o.status.success() && text(&o).contains("none"),
        "{}",
        text(&o)
    );

    let o = compile_in("digits_mlp.onnx", &mlp, None);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(listed(None), ["digits_mlp"]);
    let o = run(None, &["keys", "list"]);
    let t = text(&o);
    assert!(t.contains("digits_mlp") && t.contains("1 key,"), "{t}");
    assert!(t.contains("limit 16.00 GiB (the default"), "{t}");

    // A bad limit: refused before the compile does anything.
    let o = compile_in("digits_cnn.onnx", &cnn, Some("lots"));
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        text(&o).contains("ZKINFER_KEY_CACHE_GIB=lots"),
        "{}",
        text(&o)
    );
    assert!(!cnn.exists());

    // A limit of 0: the new key stays, the other goes, and stderr says so.
    let o = compile_in("digits_cnn.onnx", &cnn, Some("0"));
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains(
            "key cache: removed 1 least recently used proving key and 0 unfinished writes"
        ),
        "{}",
        text(&o)
    );
    assert_eq!(listed(None), ["digits_cnn"]);

    // The MLP's first prove makes its key again; a cached key is marked used by a prove.
    let proof = dir.path().join("p.zkp");
    let input = fixture("digits/input_0.json");
    let prove = ["prove", "-m", s(&mlp), "-i", s(&input), "-o", s(&proof)];
    let o = run(None, &prove);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(listed(None), ["digits_mlp", "digits_cnn"]);

    // Remove by model file; an unknown argument is refused before anything is removed.
    let o = run(None, &["keys", "remove", s(&cnn), "no-such-model"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        text(&o).contains("no-such-model is neither"),
        "{}",
        text(&o)
    );
    assert_eq!(listed(None).len(), 2);
    let o = run(None, &["keys", "remove", s(&cnn)]);
    assert!(
        o.status.success() && text(&o).contains("removed"),
        "{}",
        text(&o)
    );
    assert_eq!(listed(None), ["digits_mlp"]);

    let o = run(None, &["keys", "prune", "--max-gib", "0", "--json"]);
    assert!(o.status.success(), "{}", text(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["removed"].as_array().unwrap().len(), 1);
    assert_eq!(v["kept_bytes"], 0);
    assert!(listed(None).is_empty());

    // A cache that cannot be written (here a file where its folder goes; a full disk alike) costs
    // the next prove its key generation, not this prove its proof.
    std::fs::remove_dir(cache.join("keys")).unwrap();
    std::fs::write(cache.join("keys"), b"in the way").unwrap();
    std::fs::remove_file(&proof).unwrap();
    let o = run(None, &prove);
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains("warning: the proving key could not be cached in"),
        "{}",
        text(&o)
    );
    assert!(proof.exists());
}

/// Where the fastest layout's keys do not fit the memory at hand, `compile` (and `plan`) take the
/// fastest layout whose keys and proofs do, and say so; `--force` keeps the fastest; a given row
/// shape is refused.
#[test]
fn compile_takes_the_fastest_layout_that_fits_the_memory() {
    let dir = tempfile::tempdir().unwrap();
    let (onnx, calibration) = (
        fixture("digits_cnn.onnx"),
        fixture("digits/calibration.json"),
    );
    let plan = |extra: &[&str]| {
        let mut args = vec!["plan", s(&onnx), "--calibration", s(&calibration), "--json"];
        args.extend_from_slice(extra);
        let o = zkinfer_with_memory(&shared_cache(), "64G", &args);
        assert!(o.status.success(), "{}", text(&o));
        serde_json::from_slice::<serde_json::Value>(&o.stdout).unwrap()
    };
    let mib = |p: &serde_json::Value, what: &str| p["estimate"][what].as_f64().unwrap();
    let peak = |p: &serde_json::Value| mib(p, "keygen_peak_mib").max(mib(p, "peak_mib"));
    let fastest = plan(&[]);
    let fastest_layout = fastest["shape"]["width"].clone();
    // The least peak of a few other row shapes: the memory is set between it and the fastest's.
    let least = [("1", "8"), ("1", "6"), ("2", "6"), ("4", "16")]
        .iter()
        .map(|(p, w)| peak(&plan(&["--inputs-per-row", p, "--width", w])))
        .fold(f64::INFINITY, f64::min);
    let need = mib(&fastest, "keygen_peak_mib");
    assert!(
        least < need,
        "a row shape with less memory: {least} against {need} MiB"
    );
    let available = format!("{}", (((least + need) / 2.0) * (1 << 20) as f64) as u64);

    let model = dir.path().join("m.zkm");
    let compile = |extra: &[&str]| {
        let mut args = vec!["compile", s(&onnx), "--calibration", s(&calibration)];
        args.extend_from_slice(&["--srs", "dev", "-o", s(&model), "--json"]);
        args.extend_from_slice(extra);
        zkinfer_with_memory(&shared_cache(), &available, &args)
    };
    let o = compile(&[]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains("memory: the fastest layout") && text(&o).contains("--force keeps"),
        "{}",
        text(&o)
    );
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(peak(&v["plan"]) <= (least + need) / 2.0, "{}", v["plan"]);
    assert_ne!(
        (&v["plan"]["shape"]["width"], &v["plan"]["k"]),
        (&fastest_layout, &fastest["k"])
    );
    // `plan` on this machine shows the layout compile takes.
    let args = ["plan", s(&onnx), "--calibration", s(&calibration), "--json"];
    let o = zkinfer_with_memory(&shared_cache(), &available, &args);
    assert!(o.status.success(), "{}", text(&o));
    let planned: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(planned["shape"], v["plan"]["shape"]);
    assert!(text(&o).contains("compile --force keeps"), "{}", text(&o));
    // The model proves and verifies as any other.
    let proof = dir.path().join("p.zkp");
    let input = fixture("digits/input_0.json");
    let args = ["prove", "-m", s(&model), "-i", s(&input), "-o", s(&proof)];
    let o = zkinfer_with_memory(&shared_cache(), "64G", &args);
    assert!(o.status.success(), "{}", text(&o));

    // --force keeps the fastest layout; a row shape given is kept, and refused.
    let o = compile(&["--force"]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        !text(&o).contains("memory: the fastest layout"),
        "{}",
        text(&o)
    );
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["plan"]["k"], fastest["k"]);
    let (p, w) = (
        fastest["shape"]["inputs_per_row"].to_string(),
        fastest["shape"]["width"].to_string(),
    );
    let o = compile(&["--inputs-per-row", &p, "--width", &w]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("--force"), "{}", text(&o));
}
