//! The verifying key read for verifying only ([`circuits::keys::verifier_key`]) is halo2's key: on
//! every committed model file it has the same transcript hash, pinned form and domain constants as
//! halo2's reader gives, and malformed bytes are refused with an error, never a panic.

use std::path::{Path, PathBuf};

use circuits::keys::verifier_key::for_verifying;
use circuits::ModelFile;

fn seed_models() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/seeds/model_reader");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("seed models")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "zkm"))
        .collect();
    paths.sort();
    assert!(paths.len() >= 5, "seed models in {}", dir.display());
    paths
}

fn vk_bytes(model: &ModelFile) -> Vec<u8> {
    model.verifying_key_bytes().expect("hex verifying key")
}

#[test]
fn equals_halo2s_reader_on_every_committed_model() {
    for path in seed_models() {
        let model = ModelFile::read(&path).expect("model file");
        let full = model.verifying_key().expect("halo2's reader");
        let light = model.verifier_key().expect("verifier reader");
        let name = path.display();
        assert_eq!(full.transcript_repr(), light.transcript_repr(), "{name}");
        assert_eq!(
            format!("{:?}", full.pinned()),
            format!("{:?}", light.pinned()),
            "{name}"
        );
        let (f, l) = (full.get_domain(), light.get_domain());
        assert_eq!(
            (f.extended_k, f.barycentric_weight, &f.t_evaluations),
            (l.extended_k, l.barycentric_weight, &l.t_evaluations),
            "{name}"
        );
        assert_eq!(full.cs().degree(), light.cs().degree(), "{name}");
        assert!(light.get_domain().fft_data.is_empty(), "{name}");
    }
}

#[test]
fn malformed_keys_are_refused_without_panicking() {
    let path = &seed_models()[0];
    let model = ModelFile::read(path).expect("model file");
    let bytes = vk_bytes(&model);
    for cut in (0..bytes.len()).step_by(7) {
        let err = for_verifying(&bytes[..cut], model.shape).expect_err("a truncated key");
        assert!(err.to_string().contains("verifying key"), "{err}");
    }
    let mut longer = bytes.clone();
    longer.push(0);
    let err = for_verifying(&longer, model.shape).expect_err("a trailing byte");
    assert!(err.to_string().contains("1 bytes follow it"), "{err}");
    let mut version = bytes.clone();
    version[0] = 3;
    assert!(for_verifying(&version, model.shape)
        .expect_err("a wrong version")
        .to_string()
        .contains("version byte"));
    let mut huge_k = bytes.clone();
    huge_k[1..5].copy_from_slice(&40u32.to_le_bytes());
    assert!(for_verifying(&huge_k, model.shape)
        .expect_err("k = 40")
        .to_string()
        .contains("k = 40"));
    let mut flag = bytes.clone();
    flag[5] = 7;
    assert!(for_verifying(&flag, model.shape).is_err());
    let mut point = bytes;
    point[10] ^= 0x55; // inside the first fixed commitment: off the curve
    assert!(for_verifying(&point, model.shape)
        .expect_err("an altered commitment")
        .to_string()
        .contains("not on the curve"));
}
