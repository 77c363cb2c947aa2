//! IPA setup parameters: deterministic (no trusted setup), but slow to make, so made once per k and
//! cached on disk, written atomically. In the browser (wasm32, no disk) they are made in memory and
//! kept for the page's lifetime.
//!
//! A cached file is trusted for nothing: parameters whose generators have known discrete logs let a
//! proof of another model verify. Every file is checked against the BLAKE2b digest pinned for its k in
//! [`PINNED`] (computed from `Params::new(k)` by `cargo run -p zkinfer-circuits --example
//! params_pins`) before it is parsed; a file that does not match is rebuilt from the deterministic
//! recipe and replaced.

#[cfg(not(target_arch = "wasm32"))]
use std::fs;
#[cfg(not(target_arch = "wasm32"))]
use std::io::{BufWriter, Read, Write};
use std::path::PathBuf;

use halo2_proofs::{pasta::EqAffine, poly::commitment::Params};
use thiserror::Error;

/// BLAKE2b-256 (personal `zkinfer-params`) of the file `Params::<EqAffine>::new(k).write` writes, for
/// every k the planner may choose.
pub const PINNED: [(u32, &str); 17] = [
    (
        4,
        "25f82c7fa8710390991ab04e6ea079692e33a55e43736dc30b68df46687f14c3",
    ),
    (
        5,
        "32b3b8e950ca3c92c222ba607873ad4da9c6c83c14290f5d1e2d7b1c6abc3367",
    ),
    (
        6,
        "042845f52dbc52fc29115ff4d206d4fe9fece97e70db1c30ea5987d1ecbff290",
    ),
    (
        7,
        "c1a07d013a630ee5ac747ad1968e04192f6ed1a196908f7b1f30e263b927ae93",
    ),
    (
        8,
        "02ad5f4200958efc2b32e4139ec1f42a78f13fce0c9a46d06827ac0605d6f655",
    ),
    (
        9,
        "ec248e16ab456e004e78e209c2acc90c1fa4076998a62595880b2c36cb30bbbd",
    ),
    (
        10,
        "b2c2b791003ebc8c475572256c327323957ca5fa3c7e86a635be4a7203813cb8",
    ),
    (
        11,
        "50c680b44047089774bfabf95ce34782036628bbf5297ec57c3eb4d232936737",
    ),
    (
        12,
        "8ad30e58687f53e08f0b70c5d4c9a76af2cd40b7313558f248569a8388b401db",
    ),
    (
        13,
        "0274b79774676a9bf641f3f82401eb50aaa54d1fe9b5fd1f2e1c1ecf31775841",
    ),
    (
        14,
        "87e05a37223899e7a6720f34285dc5e2e31d59cc085ac1092b3ddc5bbacd24af",
    ),
    (
        15,
        "4b3afeba6b784feaf38e71bce865dfbdd10ed6bd1bba30d54cdfa73102cd1cb7",
    ),
    (
        16,
        "f12e21b69fe862ef523269c37297af825f9df8b6247e36fe9f50b29f3865b23f",
    ),
    (
        17,
        "4a652fd83093e4eb4635255e6a1ac0cc21e125f9b71371459b66313bdda4db73",
    ),
    (
        18,
        "42fe11b788ca23399f209d61576e2d3612beaadc97e00254823b805f958a9cb6",
    ),
    (
        19,
        "2d93e6a4519183d38d5846b479bb74c0c6bf75295d931af5f3c8d867480ebca2",
    ),
    (
        20,
        "d67080bf2090c0c75964818214ebb6450e9697e9726d2aa5752f5ec79d2aea44",
    ),
];

/// Why the setup parameters could not be loaded or made.
#[derive(Debug, Error)]
pub enum ParamsError {
    /// The cache file or directory could not be read or written.
    #[error("setup parameters cache {path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// No digest is pinned for this k (outside the range this build proves and verifies).
    #[error("no setup parameters are pinned for k = {0}: this zkinfer proves and verifies k = {min}..={max}", min = PINNED[0].0, max = PINNED[PINNED.len() - 1].0)]
    Unpinned(u32),
    /// Parameters made from the recipe do not match their pinned digest: this build is broken.
    #[error(
        "the setup parameters made for k = {k} do not match their pinned digest (this build of \
         zkinfer is broken: made {made}, pinned {pinned})"
    )]
    Recipe {
        /// The k the parameters were made for.
        k: u32,
        /// Digest of the parameters made.
        made: String,
        /// Digest pinned for this k.
        pinned: &'static str,
    },
    /// No cache directory: neither `ZKINFER_CACHE_DIR`, `XDG_CACHE_HOME` nor `HOME` is set.
    #[error(
        "no cache directory for setup parameters: HOME is not set; set ZKINFER_CACHE_DIR to a \
         directory of your own"
    )]
    NoCacheDir,
}

/// The digest pinned for `k`.
pub fn pinned(k: u32) -> Option<&'static str> {
    PINNED.iter().find(|(pk, _)| *pk == k).map(|(_, d)| *d)
}

/// The digest of a parameters file's bytes, as [`PINNED`] holds it.
pub fn digest(bytes: &[u8]) -> String {
    crate::artifacts::model_file::hex(
        blake2b_simd::Params::new()
            .hash_length(32)
            .personal(b"zkinfer-params\0\0")
            .hash(bytes)
            .as_bytes(),
    )
}

/// The size of the file that holds the parameters for `k`: k, 2 x 2^k points, w and u (32 bytes each).
pub fn file_len(k: u32) -> u64 {
    4 + 32 * (2 * (1u64 << k) + 2)
}

/// `Params::new(k)` as the bytes of its file, checked against the pin.
pub fn make(k: u32) -> Result<(Params<EqAffine>, Vec<u8>), ParamsError> {
    let pinned = pinned(k).ok_or(ParamsError::Unpinned(k))?;
    let params = Params::<EqAffine>::new(k);
    let mut bytes = Vec::with_capacity(file_len(k) as usize);
    params.write(&mut bytes).expect("writing to memory");
    let made = digest(&bytes);
    if made != pinned {
        return Err(ParamsError::Recipe { k, made, pinned });
    }
    Ok((params, bytes))
}

#[cfg(not(target_arch = "wasm32"))]
/// `$ZKINFER_CACHE_DIR`, else `$XDG_CACHE_HOME/zkinfer`, else `$HOME/.cache/zkinfer`; never a shared
/// directory such as /tmp, where others could plant files.
pub fn cache_dir() -> Result<PathBuf, ParamsError> {
    let nonempty = |name| std::env::var_os(name).filter(|v| !v.is_empty());
    if let Some(d) = nonempty("ZKINFER_CACHE_DIR") {
        return Ok(PathBuf::from(d));
    }
    if let Some(d) = nonempty("XDG_CACHE_HOME") {
        return Ok(PathBuf::from(d).join("zkinfer"));
    }
    if let Some(h) = nonempty("HOME") {
        return Ok(PathBuf::from(h).join(".cache").join("zkinfer"));
    }
    Err(ParamsError::NoCacheDir)
}

#[cfg(not(target_arch = "wasm32"))]
/// The cache file of the parameters for `k` (`ipa-pasta-k{k}.params` in [`cache_dir`]).
pub fn params_path(k: u32) -> Result<PathBuf, ParamsError> {
    Ok(cache_dir()?.join(format!("ipa-pasta-k{k}.params")))
}

/// Where the parameters came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ParamsSource {
    /// The cached file, which matched its pinned digest.
    Cache,
    /// Made now (no cached file) and cached.
    Created,
    /// The cached file did not match its pinned digest (`why`): made again and the file replaced.
    Rebuilt {
        /// What was wrong with the cached file.
        why: String,
    },
}

impl ParamsSource {
    /// What a user should be told about parameters for `k` from this source (a rebuilt file).
    pub fn warning(&self, k: u32) -> Option<String> {
        match self {
            ParamsSource::Rebuilt { why } => Some(format!(
                "the cached setup parameters for k = {k} were not the pinned ones ({why}); made \
                 again and replaced"
            )),
            _ => None,
        }
    }
}

#[cfg(not(target_arch = "wasm32"))]
/// The cached file's bytes when they are the pinned ones, else why not (`Ok(Err(why))`).
fn read_pinned(path: &PathBuf, k: u32) -> Result<Result<Params<EqAffine>, String>, ParamsError> {
    let io = |source| ParamsError::Io {
        path: path.clone(),
        source,
    };
    let pinned = pinned(k).ok_or(ParamsError::Unpinned(k))?;
    let file = fs::File::open(path).map_err(io)?;
    let len = file.metadata().map_err(io)?.len();
    if len != file_len(k) {
        return Ok(Err(format!(
            "it is {len} bytes, parameters for k = {k} are {}",
            file_len(k)
        )));
    }
    let mut bytes = Vec::with_capacity(len as usize);
    file.take(len).read_to_end(&mut bytes).map_err(io)?;
    if digest(&bytes) != pinned {
        return Ok(Err("its digest is not the one pinned for its k".into()));
    }
    Params::<EqAffine>::read(&mut &bytes[..])
        .map(Ok)
        .map_err(io)
}

#[cfg(not(target_arch = "wasm32"))]
/// Create the cache directory, readable and writable by its owner only.
fn create_private_dir(dir: &std::path::Path) -> std::io::Result<()> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

#[cfg(not(target_arch = "wasm32"))]
/// Load the parameters for `k` from the cache, or make them (calling `on_create` first) and cache them.
/// A cached file that is not the pinned one is made again and replaced.
pub fn load_or_create(
    k: u32,
    on_create: impl FnOnce(u32, &PathBuf),
) -> Result<(Params<EqAffine>, ParamsSource), ParamsError> {
    let path = params_path(k)?;
    let source = if path.exists() {
        match read_pinned(&path, k)? {
            Ok(params) => return Ok((params, ParamsSource::Cache)),
            Err(why) => ParamsSource::Rebuilt { why },
        }
    } else {
        ParamsSource::Created
    };
    on_create(k, &path);
    let (params, bytes) = make(k)?;
    let io = |source| ParamsError::Io {
        path: path.clone(),
        source,
    };
    let dir = path.parent().expect("a file in the cache directory");
    create_private_dir(dir).map_err(io)?;
    let tmp = tempfile::NamedTempFile::new_in(dir).map_err(io)?;
    {
        let mut w = BufWriter::new(tmp.as_file());
        w.write_all(&bytes).map_err(io)?;
        w.flush().map_err(io)?;
    }
    tmp.persist(&path).map_err(|e| io(e.error))?;
    Ok((params, source))
}

/// The parameters for `k`, however this target keeps them: the disk cache natively.
#[cfg(not(target_arch = "wasm32"))]
pub fn params(k: u32) -> Result<Params<EqAffine>, ParamsError> {
    params_with_source(k).map(|(params, _)| params)
}

/// The parameters for `k` and where they came from: the disk cache natively.
#[cfg(not(target_arch = "wasm32"))]
pub fn params_with_source(k: u32) -> Result<(Params<EqAffine>, ParamsSource), ParamsError> {
    load_or_create(k, |_, _| {})
}

/// The parameters for `k`, however this target keeps them: in memory in the browser, made on first use
/// (and checked against the pin like a cached file).
#[cfg(target_arch = "wasm32")]
pub fn params(k: u32) -> Result<Params<EqAffine>, ParamsError> {
    params_with_source(k).map(|(params, _)| params)
}

/// The parameters for `k` and where they came from: in memory in the browser.
#[cfg(target_arch = "wasm32")]
pub fn params_with_source(k: u32) -> Result<(Params<EqAffine>, ParamsSource), ParamsError> {
    use std::cell::RefCell;
    use std::collections::HashMap;
    thread_local! {
        static MADE: RefCell<HashMap<u32, Params<EqAffine>>> = RefCell::new(HashMap::new());
    }
    if let Some(p) = MADE.with(|m| m.borrow().get(&k).cloned()) {
        return Ok((p, ParamsSource::Cache));
    }
    let (params, _) = make(k)?;
    MADE.with(|m| m.borrow_mut().insert(k, params.clone()));
    Ok((params, ParamsSource::Created))
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    #[test]
    fn every_k_the_planner_may_choose_is_pinned_and_the_recipe_matches() {
        let ks: Vec<u32> = PINNED.iter().map(|(k, _)| *k).collect();
        let want: Vec<u32> = (crate::plan::MIN_K..=crate::plan::MAX_K).collect();
        assert_eq!(ks, want);
        assert!(PINNED
            .iter()
            .all(|(_, d)| crate::disclosure::hashing::is_canonical_hex(d)));
        for k in [4, 7] {
            let (_, bytes) = make(k).unwrap();
            assert_eq!(bytes.len() as u64, file_len(k));
        }
    }

    #[test]
    fn a_cached_file_is_used_only_when_it_is_the_pinned_one() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.params");
        let (_, bytes) = make(5).unwrap();
        std::fs::write(&path, &bytes).unwrap();
        assert!(read_pinned(&path, 5).unwrap().is_ok());
        // Another k's file, a truncated file, one changed byte: each refused with its reason.
        assert!(read_pinned(&path, 6)
            .unwrap()
            .unwrap_err()
            .contains("bytes"));
        std::fs::write(&path, &bytes[..bytes.len() - 1]).unwrap();
        assert!(read_pinned(&path, 5)
            .unwrap()
            .unwrap_err()
            .contains("bytes"));
        let mut changed = bytes.clone();
        changed[100] ^= 1;
        std::fs::write(&path, &changed).unwrap();
        let why = read_pinned(&path, 5).unwrap().unwrap_err();
        assert!(why.contains("not the one pinned"), "{why}");
        assert!(matches!(make(21), Err(ParamsError::Unpinned(21))));
    }
}
