//! A model file's digest binds every byte it was read from: checked on the bytes as written (no
//! second serialization), or, for any other layout of the same JSON, on the model's canonical form.

use std::path::Path;

use circuits::artifacts::model_file::{raw_digest, ModelFile, ModelFileError};

fn seed(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/seeds/model_reader")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn the_digest_of_the_bytes_as_written_is_the_canonical_digest() {
    for name in ["digits_mlp.zkm", "digits_cnn.zkm", "maxpool2d.zkm"] {
        let bytes = seed(name);
        let model = ModelFile::from_bytes(&bytes, name).expect("seed reads");
        assert_eq!(
            raw_digest(&bytes).as_deref(),
            Some(model.digest.as_str()),
            "{name}"
        );
        assert_eq!(model.compute_digest(), model.digest, "{name}");
        // A model written again gives the same bytes, so the same digest.
        assert_eq!(model.to_json(), bytes, "{name}");
    }
}

#[test]
fn a_changed_byte_is_refused_whichever_way_the_digest_is_checked() {
    let bytes = seed("digits_mlp.zkm");
    let model = ModelFile::from_bytes(&bytes, "m").unwrap();
    // As written: one weight changed.
    let text = String::from_utf8(bytes.clone()).unwrap();
    let at = text.find("\"weight\":[").expect("a weight list") + "\"weight\":[".len();
    let mut changed = text.clone();
    let digit = changed.as_bytes()[at];
    let other = if digit == b'1' { "2" } else { "1" };
    changed.replace_range(at..at + 1, other);
    assert!(matches!(
        ModelFile::from_bytes(changed.as_bytes(), "m"),
        Err(ModelFileError::Digest { .. }) | Err(ModelFileError::Invalid { .. })
    ));
    // Laid out differently (pretty-printed): the bytes' digest does not apply, the canonical one does.
    let pretty = serde_json::to_vec_pretty(&model).unwrap();
    assert_eq!(raw_digest(&pretty), None);
    let read = ModelFile::from_bytes(&pretty, "pretty").expect("same model, other layout");
    assert_eq!(read.digest, model.digest);
    let mut edited = read.clone();
    edited.name.push('x');
    let pretty_edited = serde_json::to_vec_pretty(&edited).unwrap();
    assert!(matches!(
        ModelFile::from_bytes(&pretty_edited, "pretty"),
        Err(ModelFileError::Digest { .. })
    ));
    // The trailing digest itself changed: neither check accepts it.
    let mut wrong = bytes.clone();
    let n = wrong.len();
    wrong[n - 3] = if wrong[n - 3] == b'0' { b'1' } else { b'0' };
    assert!(matches!(
        ModelFile::from_bytes(&wrong, "m"),
        Err(ModelFileError::Digest { .. })
    ));
}

#[test]
fn bytes_that_do_not_end_in_a_digest_have_no_raw_digest() {
    for bytes in [
        &b""[..],
        b"{}",
        b"{\"digest\":\"\"}",
        b"{\"a\":1,\"digest\":\"0123456789abcdef0123456789abcdef0123456789abcdef0123456789ABCDEF\"}",
        b"{\"a\":1,\"digest\":\"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\"}\n",
    ] {
        assert_eq!(raw_digest(bytes), None, "{}", String::from_utf8_lossy(bytes));
    }
}
