//! IPA setup parameters: deterministic (no trusted setup), but slow to make, so made once per k and
//! cached on disk, written atomically. In the browser (wasm32, no disk) they are made in memory and
//! kept for the page's lifetime.

#[cfg(not(target_arch = "wasm32"))]
use std::fs;
#[cfg(not(target_arch = "wasm32"))]
use std::io::{BufReader, BufWriter, Write};
use std::path::PathBuf;

use halo2_proofs::{pasta::EqAffine, poly::commitment::Params};
use thiserror::Error;

#[derive(Debug, Error)]
pub enum ParamsError {
    #[error("setup parameters cache {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "cached setup parameters {path} hold k = {found}, expected {expected}; delete the file"
    )]
    WrongK {
        path: PathBuf,
        found: u32,
        expected: u32,
    },
}

#[cfg(not(target_arch = "wasm32"))]
/// `$ZKINFER_CACHE_DIR`, else `$XDG_CACHE_HOME/zkinfer`, else `$HOME/.cache/zkinfer`, else a temp dir.
pub fn cache_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("ZKINFER_CACHE_DIR") {
        return PathBuf::from(d);
    }
    if let Some(d) = std::env::var_os("XDG_CACHE_HOME") {
        return PathBuf::from(d).join("zkinfer");
    }
    if let Some(h) = std::env::var_os("HOME") {
        return PathBuf::from(h).join(".cache").join("zkinfer");
    }
    std::env::temp_dir().join("zkinfer-cache")
}

#[cfg(not(target_arch = "wasm32"))]
pub fn params_path(k: u32) -> PathBuf {
    cache_dir().join(format!("ipa-pasta-k{k}.params"))
}

/// Where the parameters came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParamsSource {
    Cache,
    Created,
}

#[cfg(not(target_arch = "wasm32"))]
/// Load the parameters for `k` from the cache, or make them (calling `on_create` first) and cache them.
pub fn load_or_create(
    k: u32,
    on_create: impl FnOnce(u32, &PathBuf),
) -> Result<(Params<EqAffine>, ParamsSource), ParamsError> {
    let path = params_path(k);
    let io = |source| ParamsError::Io {
        path: path.clone(),
        source,
    };
    if let Ok(file) = fs::File::open(&path) {
        let params = Params::<EqAffine>::read(&mut BufReader::new(file)).map_err(io)?;
        if params.k() != k {
            return Err(ParamsError::WrongK {
                path,
                found: params.k(),
                expected: k,
            });
        }
        return Ok((params, ParamsSource::Cache));
    }
    on_create(k, &path);
    let params = Params::<EqAffine>::new(k);
    let dir = cache_dir();
    fs::create_dir_all(&dir).map_err(io)?;
    let tmp = tempfile::NamedTempFile::new_in(&dir).map_err(io)?;
    {
        let mut w = BufWriter::new(tmp.as_file());
        params.write(&mut w).map_err(io)?;
        w.flush().map_err(io)?;
    }
    tmp.persist(&path).map_err(|e| io(e.error))?;
    Ok((params, ParamsSource::Created))
}

/// The parameters for `k`, however this target keeps them: the disk cache natively.
#[cfg(not(target_arch = "wasm32"))]
pub fn params(k: u32) -> Result<Params<EqAffine>, ParamsError> {
    load_or_create(k, |_, _| {}).map(|(params, _)| params)
}

/// The parameters for `k`, however this target keeps them: in memory in the browser, made on first use.
#[cfg(target_arch = "wasm32")]
pub fn params(k: u32) -> Result<Params<EqAffine>, ParamsError> {
    use std::cell::RefCell;
    use std::collections::HashMap;
    thread_local! {
        static MADE: RefCell<HashMap<u32, Params<EqAffine>>> = RefCell::new(HashMap::new());
    }
    Ok(MADE.with(|m| {
        m.borrow_mut()
            .entry(k)
            .or_insert_with(|| Params::new(k))
            .clone()
    }))
}
