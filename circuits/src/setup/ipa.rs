//! IPA parameters over BN254's G1 (the transparent mode: no trusted setup). They are derived
//! deterministically (hash to curve), but slowly, so they are made once per k and cached; a cached
//! file is trusted for nothing: generators with known discrete logs would let a proof of another
//! model verify, so every file is checked against the BLAKE2b-256 digest pinned here for its k
//! ([`PINNED`], computed by `cargo run -p zkinfer-benches --example ipa_pins`) before it is read. In
//! the browser they are made in memory and checked the same way.

use halo2_proofs::{
    halo2curves::bn256::G1Affine,
    poly::{
        commitment::{Params as _, ParamsProver as _},
        ipa::commitment::ParamsIPA,
    },
};

use super::srs::SrsError;
use crate::artifacts::model_file::hex;

/// IPA parameters over BN254's G1.
pub type Params = ParamsIPA<G1Affine>;

/// The largest k with a pinned digest: IPA mode proves circuits of up to `2^MAX_K` rows.
pub const MAX_K: u32 = 16;

/// BLAKE2b-256 (personal `zkinfer-ipa`) of the file `ParamsIPA::<G1Affine>::new(k).write` writes.
pub const PINNED: [(u32, &str); 13] = [
    (
        4,
        "e46b1fa9a6868bd48489079a6c1caa131c5066b35f2bdddae509e5e9a8a91c2d",
    ),
    (
        5,
        "79336eb8cece82c439642ca6659a63e1a407ce09c271e39fd48948358b4c2344",
    ),
    (
        6,
        "d4bb1fced536b07fc4201ea12c1ba8a1558e707b5dd836d3c96c6d41700400df",
    ),
    (
        7,
        "2813414399faef30c543e255fe688e7d68f9fc889d8747ac3571460db9c1b631",
    ),
    (
        8,
        "bac3dbaed65e646c37e4591e3ee4dbe9a9eb46c04a9624b5ef7da99434d12cd2",
    ),
    (
        9,
        "f12a78a4d6d545b42a12e40d039a1b0fef20775a6df0a240d6dd9937a42fb494",
    ),
    (
        10,
        "58838558c354f9812eedef406c7131cf1b2a6c3bbbd745cea3a44459a67a4b19",
    ),
    (
        11,
        "ad6880ba06742a9ddf565202152a56e493850d66a232b9e12d201c7130187453",
    ),
    (
        12,
        "57dde2dbb1051e544534616a0028bf87b8c64fba835cfc7759be293d2e86095b",
    ),
    (
        13,
        "a6c7c1545585457fc6e35024b4ae85a35996afd4e042e92a344d9a369f33238a",
    ),
    (
        14,
        "2a56a1caaf003a9f222a1b3093716d4e6cc1d73033e56bbb90000d6bc5534881",
    ),
    (
        15,
        "5f00c99b6f393fdbdeaebee67b90064ed4dbd60800682af3c0481ec1c2b1052c",
    ),
    (
        16,
        "c846d4b6d6e3a54871eb337a44c6b2b1c897776dddbe8dcbae6a03774c1a55e2",
    ),
];

/// The digest of an IPA parameters file's bytes, as [`PINNED`] holds it.
pub fn digest(bytes: &[u8]) -> String {
    hex(blake2b_simd::Params::new()
        .hash_length(32)
        .personal(b"zkinfer-ipa\0\0\0\0\0")
        .hash(bytes)
        .as_bytes())
}

/// The digest pinned for `k`.
pub fn pinned(k: u32) -> Result<&'static str, SrsError> {
    PINNED
        .iter()
        .find(|(pk, _)| *pk == k)
        .map(|(_, d)| *d)
        .ok_or_else(|| {
            SrsError::BadRef(format!(
                "IPA mode proves circuits of up to 2^{MAX_K} rows; this one needs k = {k}"
            ))
        })
}

/// The bytes of IPA parameters.
pub fn params_bytes(params: &Params) -> Vec<u8> {
    let mut bytes = Vec::new();
    params.write(&mut bytes).expect("writing to memory");
    bytes
}

/// Make the parameters for `k` and check them against the pin.
pub fn make(k: u32) -> Result<(Params, Vec<u8>), SrsError> {
    let pin = pinned(k)?;
    let params = Params::new(k);
    let bytes = params_bytes(&params);
    let made = digest(&bytes);
    if made != pin {
        return Err(SrsError::BadRef(format!(
            "the IPA parameters made for k = {k} do not match their pinned digest (this build of \
             zkinfer is broken: made {made}, pinned {pin})"
        )));
    }
    Ok((params, bytes))
}

/// Parameters from bytes that must have the digest pinned for `k`; `Ok(Err(why))` when they do not.
pub fn from_pinned_bytes(bytes: &[u8], k: u32) -> Result<Result<Params, String>, SrsError> {
    let pin = pinned(k)?;
    if digest(bytes) != pin {
        return Ok(Err("its digest is not the one pinned for its k".into()));
    }
    Ok(Params::read(&mut &bytes[..]).map_err(|e| format!("it does not read ({e})")))
}

/// The cache file of the parameters for `k`: `ipa/k{k}.params` in the cache directory.
#[cfg(not(target_arch = "wasm32"))]
pub fn params_path(k: u32) -> Result<std::path::PathBuf, SrsError> {
    Ok(super::store::cache_dir()?
        .join("ipa")
        .join(format!("k{k}.params")))
}

/// The parameters for `k`: the cached file when it has the pinned digest, else made (and cached),
/// with a warning when a cached file was replaced.
#[cfg(not(target_arch = "wasm32"))]
pub fn load(k: u32) -> Result<(Params, super::srs::ParamsSource), SrsError> {
    use super::srs::ParamsSource;
    let path = params_path(k)?;
    let source = match std::fs::read(&path) {
        Ok(bytes) => match from_pinned_bytes(&bytes, k)? {
            Ok(params) => return Ok((params, ParamsSource::Cache)),
            Err(why) => ParamsSource::Rebuilt { why },
        },
        Err(_) => ParamsSource::Created,
    };
    let (params, bytes) = make(k)?;
    super::store::write_atomically(&path, &bytes)
        .map_err(|source| SrsError::Io { path, source })?;
    Ok((params, source))
}

/// The parameters for `k`, made in memory (the browser has no disk) and checked against the pin.
#[cfg(target_arch = "wasm32")]
pub fn load(k: u32) -> Result<(Params, super::srs::ParamsSource), SrsError> {
    Ok((make(k)?.0, super::srs::ParamsSource::Created))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_ks_match_their_pins_and_a_changed_file_does_not() {
        let (params, bytes) = make(5).unwrap();
        assert!(from_pinned_bytes(&bytes, 5).unwrap().is_ok());
        assert!(from_pinned_bytes(&bytes, 6).unwrap().is_err());
        let mut changed = bytes.clone();
        changed[40] ^= 1;
        assert!(from_pinned_bytes(&changed, 5).unwrap().is_err());
        assert_eq!(params.k(), 5);
        assert!(pinned(MAX_K + 1).is_err());
        let ks: Vec<u32> = PINNED.iter().map(|(k, _)| *k).collect();
        assert_eq!(ks, (crate::plan::MIN_K..=MAX_K).collect::<Vec<_>>());
    }
}
