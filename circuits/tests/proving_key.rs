//! The proving key is written and read as a stream ([`circuits::keys::write_pk`],
//! [`circuits::keys::read_pk`]): the bytes written are the key's, their digest is the one the model
//! pins, and a key file with another digest is refused before it is parsed; both keys made in one
//! pass are those made one after the other.

use std::io::Cursor;
use std::path::Path;

use circuits::keys::{key_digest, make_keys, make_pk, read_pk, vk_bytes, write_pk, KeyError};
use circuits::ModelFile;

#[test]
fn a_streamed_key_has_the_pinned_digest_and_a_changed_one_is_refused() {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/seeds/model_reader/digits_mlp.zkm");
    let model = ModelFile::read(&path).expect("model file");
    let (params, _) =
        circuits::setup::store::load_params(&model.proof_system, model.k).expect("the SRS");
    let vk = model.verifying_key().expect("verifying key");
    let pk = make_pk(&params, vk, &model.graph, model.visibility, model.shape).expect("key");
    let mut bytes = Vec::new();
    let digest = write_pk(&pk, &mut bytes).expect("written");
    assert_eq!(digest, key_digest(&bytes));
    assert_eq!(digest, model.proof_system.proving_key_digest);

    let read = read_pk(Cursor::new(&bytes), model.shape, &digest).expect("read back");
    let mut again = Vec::new();
    assert_eq!(write_pk(&read, &mut again).expect("written"), digest);
    assert_eq!(again, bytes);

    let mut changed = bytes.clone();
    let mid = changed.len() / 2;
    changed[mid] ^= 1;
    match read_pk(Cursor::new(&changed), model.shape, &digest) {
        Err(KeyError::Read { why, .. }) => assert!(why.contains("the model pins"), "{why}"),
        other => panic!(
            "a changed key must be refused by its digest: {:?}",
            other.err()
        ),
    }
    // Both keys in one pass (as compile makes them): the same keys as the verifying key first.
    let both = make_keys(&params, &model.graph, model.visibility, model.shape).expect("keys");
    assert_eq!(
        vk_bytes(both.get_vk()),
        model.verifying_key_bytes().expect("stored key")
    );
    let mut one_pass = Vec::new();
    assert_eq!(write_pk(&both, &mut one_pass).expect("written"), digest);

    // Truncated: refused by its digest too, never parsed.
    let cut = read_pk(Cursor::new(&bytes[..mid]), model.shape, &digest);
    assert!(cut.is_err());
}
